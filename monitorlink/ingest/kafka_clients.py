"""Kafka plumbing shared by every event feed: topics, a keyed JSON producer, and the consumer settings.

Works against any Kafka-protocol cluster. The settings here are chosen for the embedded `tansu` broker as
much as for production: a 6 s session timeout (the first group join takes about half of it, so the 45 s
default would stall every start), no reliance on end offsets (this broker misreports them), and topic
creation by the platform because a restarted in-memory broker has no topics at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitorlink.core.config import Settings

if TYPE_CHECKING:
    from kafka import KafkaConsumer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageRef:
    """Where one produced message sits, plus its checksum: enough to tell when exactly it has landed.

    The checksum matters because an in-memory broker that restarted hands out the same offsets again.
    """

    topic: str
    partition: int
    offset: int
    sha256: str


@dataclass(frozen=True)
class PublishReport:
    """What a publish did: every message the broker acknowledged."""

    topic: str
    messages: list[MessageRef]


def ensure_topic(settings: Settings, topic: str) -> None:
    """Create the topic if it is missing (an in-memory broker forgets topics on restart)."""
    from kafka import KafkaAdminClient  # the client loads only when a command talks to Kafka
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="monitorlink-admin")
    try:
        if topic in admin.list_topics():
            return
        admin.create_topics([NewTopic(topic, num_partitions=settings.topic_partitions, replication_factor=1)])
        log.info("created topic %s with %d partitions", topic, settings.topic_partitions)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def publish_events(
    settings: Settings, topic: str, events: Iterable[dict[str, Any]], key_field: str
) -> PublishReport:
    """Send events as UTF-8 JSON, keyed so that all events of one provider+offer stay in order."""
    from kafka import KafkaProducer

    ensure_topic(settings, topic)
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="monitorlink-producer",
        acks="all",
        linger_ms=5,
    )
    sent = []
    try:
        for event in events:
            value = event_bytes(event)
            key = event.get(key_field)
            future = producer.send(topic, key=None if key is None else str(key).encode("utf-8"), value=value)
            sent.append((future, hashlib.sha256(value).hexdigest()))
        producer.flush()
        # .get() raises if the broker refused an event: a loss is never reported as a success.
        acknowledged = [(future.get(timeout=30), digest) for future, digest in sent]
    finally:
        producer.close()
    return PublishReport(
        topic=topic,
        messages=[MessageRef(topic, meta.partition, meta.offset, digest) for meta, digest in acknowledged],
    )


def event_bytes(event: dict[str, Any]) -> bytes:
    """An event as UTF-8 JSON; text that UTF-8 cannot carry (a lone surrogate a supplier sent) goes
    escaped, so the event still travels and the ingester's `text_is_unicode` rule quarantines it."""
    try:
        return json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(event, default=str).encode("ascii")


def new_consumer(settings: Settings, topic: str) -> KafkaConsumer:
    """A group consumer that commits only when told to (after the lake write is durable)."""
    from kafka import KafkaConsumer

    ensure_topic(settings, topic)
    return KafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.consumer_group,
        client_id="monitorlink-ingester",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(500, settings.session_timeout_ms // 4),
        max_poll_records=settings.batch_max_records,
    )
