"""Availability of youth-care providers: the published waiting-time snapshot → `availability.v1` events.

The snapshot format is the one the public Twente waiting-time overview publishes (`schemaVersion`,
`generatedAt`, `rows[]` with short keys). Each row becomes one event per target group, with the wording
read into weeks (`connectors.wait_wording`), the location mapped to a CBS municipality code where it
names exactly one municipality, and a deterministic `event_id` so that pulling the same snapshot twice
yields the same events (the ingester then recognises them as duplicates).

A snapshot is the overview's whole list at one moment, so it is a full-state source: its events name
the list (`full_state_feed`), and `withdrawals` turns an offer that is absent from the next list into an
explicit withdrawal event (contract v2).

The connector never rejects a row itself: it passes odd values through as they are so that the quality
gate, not this parser, decides and records why a row is quarantined.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from connectors.wait_wording import WaitKind, read_wait_wording
from monitorlink.core.config import PROJECT_ROOT
from monitorlink.core.contracts import load_contract

#: The feed's contract (`contracts/availability.v2.yaml`); the event schema below is derived from it.
CONTRACT = load_contract("availability.v2")
SOURCE_NAME = CONTRACT.name
SCHEMA_VERSION = CONTRACT.version
_EVENT_NAMESPACE = uuid.UUID("5d0f6c1e-7a55-4f38-9a51-6a3e0b6e2a10")

#: Arrow schema of one `availability.v1` event as it lands in the validated zone.
EVENT_SCHEMA = CONTRACT.arrow_schema()

_TARGET_GROUPS = {"jeugd": "jeugd", "volwassenen": "volwassenen", "wmo": "volwassenen"}
_REGION_WORDS = re.compile(r"twente|regio|alle 14|heel ")


class SnapshotFormatError(ValueError):
    """The input is not a waiting-time snapshot at all; names the source and what is missing."""


class SnapshotUnreachable(ValueError):
    """The snapshot's path or URL gave no bytes (missing file, HTTP error, time-out)."""


@dataclass(frozen=True)
class Snapshot:
    """One snapshot as received: the exact bytes (for the raw zone) and the parsed document."""

    source: str
    content: bytes
    generated_at: datetime
    rows: list[Any]

    @property
    def name(self) -> str:
        """The file name the raw zone stores the snapshot under."""
        return snapshot_name(self.source)


def snapshot_name(source: str) -> str:
    """The file name a snapshot from `source` (path or URL) is stored under in the raw zone."""
    return source.rstrip("/").rsplit("/", 1)[-1] or "snapshot.json"


def fetch_content(source: str, timeout_s: float = 30.0) -> bytes:
    """The bytes of a snapshot at a local path or an http(s) URL, exactly as received.

    Raises `SnapshotUnreachable` (one line, naming the source) when there is nothing to read.
    """
    import httpx  # loads when a snapshot is read, not with every command that knows the source

    try:
        if re.match(r"^https?://", source):
            response = httpx.get(source, timeout=timeout_s, follow_redirects=True)
            response.raise_for_status()
            return response.content
        return Path(source).read_bytes()
    except (OSError, httpx.HTTPError) as error:
        raise SnapshotUnreachable(f"{source}: could not be read ({error})") from error


def fetch_snapshot(source: str, timeout_s: float = 30.0) -> Snapshot:
    """Read and parse a snapshot from a local path or an http(s) URL."""
    return parse_snapshot(source, fetch_content(source, timeout_s))


def parse_snapshot(source: str, content: bytes) -> Snapshot:
    """Check the envelope (not the rows: those go to the quality gate) and parse it."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except ValueError as error:  # not UTF-8, not JSON, or an integer past Python's digit limit
        raise SnapshotFormatError(f"{source}: not a JSON document ({str(error)[:200]})") from error
    except RecursionError as error:
        raise SnapshotFormatError(f"{source}: JSON nested deeper than the parser allows") from error
    if not isinstance(document, dict):
        raise SnapshotFormatError(
            f"{source}: expected a JSON object with 'rows', got {type(document).__name__}"
        )
    if document.get("schemaVersion") != 1:
        raise SnapshotFormatError(f"{source}: unsupported schemaVersion {document.get('schemaVersion')!r}")
    rows = document.get("rows")
    if not isinstance(rows, list):
        raise SnapshotFormatError(f"{source}: 'rows' is missing or not a list")
    generated_at = _parse_timestamp(document.get("generatedAt"))
    if generated_at is None:
        raise SnapshotFormatError(f"{source}: 'generatedAt' is missing or not an ISO timestamp")
    return Snapshot(source=source, content=content, generated_at=generated_at, rows=rows)


def snapshot_events(snapshot: Snapshot, feed: str | None = None) -> Iterator[dict[str, Any]]:
    """All figure events of a snapshot, in row order; one per row and target group.

    With `feed`, each event says it belongs to that full-state list (what a snapshot pull is); without,
    the events are direct ones, which never withdraw anything.
    """
    for index, row in enumerate(snapshot.rows):
        for event in row_events(row if isinstance(row, Mapping) else {}, snapshot, index):
            yield {**event, "full_state_feed": feed}


def withdrawals(
    earlier: list[dict[str, Any]], later: list[dict[str, Any]], later_snapshot: Snapshot, feed: str
) -> Iterator[dict[str, Any]]:
    """A withdrawal event for every offer of the `earlier` list's figures that the `later` list lacks.

    The event carries the offer's identity from its last figure, no figures, and the later list's
    publication time, so the history says when the offer left the list. Its id is deterministic: pulling
    the same pair again gives the same withdrawals, which the ingester recognises as already landed.
    """
    present = {event["offer_key"] for event in later}
    published_at = later_snapshot.generated_at.isoformat()
    gone: dict[str, dict[str, Any]] = {}
    for event in earlier:
        if event["offer_key"] not in present:
            gone.setdefault(event["offer_key"], event)
    for offer_key, last in gone.items():
        yield {
            **{name: None for name in EVENT_SCHEMA.names},
            **{name: last[name] for name in _IDENTITY},
            "event_id": str(uuid.uuid5(_EVENT_NAMESPACE, f"{offer_key}|{published_at}|withdrawal")),
            "schema_version": SCHEMA_VERSION,
            "event_type": "withdrawal",
            "full_state_feed": feed,
            "measured_at": published_at,
            "measured_at_precision": "time",
            "published_at": published_at,
            "note": f"no longer in the list {feed} of {published_at}",
            "source_name": later_snapshot.name,
        }


#: What identifies an offer in a withdrawal (copied from its last figure).
_IDENTITY = (
    "offer_key", "provider_agb", "provider_name", "offer", "product_category", "care_types", "is_crisis",
    "location", "gemeente_code", "location_gemeente_codes", "location_is_regional", "target_group",
    "contract", "source_url",
)  # fmt: skip


def upgrade_v1(event: dict[str, Any]) -> dict[str, Any]:
    """Read a v1 event as v2: a figure of no full-state feed (v1 had no withdrawals)."""
    return {**event, "event_type": "figure", "full_state_feed": None}


def full_state_events(snapshot: Snapshot, known: list[Snapshot], feed: str) -> list[dict[str, Any]]:
    """Everything one pulled list publishes: its figures, and the withdrawals on either side of it.

    `known` are all lists of the feed received so far (in any order). The list before this one (by
    `generatedAt`) loses the offers this one lacks; the list after it, if it arrived earlier (an
    out-of-order pull), loses the offers it lacks from this one. Withdrawals of other pairs were
    published when those lists were pulled; publishing one twice is harmless (same event id).
    """
    figures = list(snapshot_events(snapshot, feed))
    others = [s for s in known if s.generated_at != snapshot.generated_at]
    before = max((s for s in others if s.generated_at < snapshot.generated_at), key=_generated, default=None)
    after = min((s for s in others if s.generated_at > snapshot.generated_at), key=_generated, default=None)
    events = list(figures)
    if before is not None:
        events += withdrawals(list(snapshot_events(before, feed)), figures, snapshot, feed)
    if after is not None:
        events += withdrawals(figures, list(snapshot_events(after, feed)), after, feed)
    return events


def _generated(snapshot: Snapshot) -> datetime:
    return snapshot.generated_at


def row_events(row: Mapping[str, Any], snapshot: Snapshot, index: int) -> Iterator[dict[str, Any]]:
    """One event per target group the row is published for (a row "Jeugd + Volwassenen" serves both)."""
    provider = _text(row.get("p"))
    offer = _offer_label(row)
    location = _text(row.get("l"))
    codes, regional = map_location(location)
    measured_at, precision = _parse_measured_at(row.get("date"))
    intake_weeks, intake_kind = _wait(row.get("iText"), row.get("i"))
    treatment_weeks, treatment_kind = _wait(row.get("bText"), row.get("b"))
    care_types = _care_types(row.get("a"))
    for target_group in _target_groups(row.get("d")):
        offer_key = "/".join(_slug(part) for part in (provider, offer, location, target_group))
        yield {
            "event_id": str(uuid.uuid5(_EVENT_NAMESPACE, f"{offer_key}|{snapshot.generated_at.isoformat()}")),
            "schema_version": SCHEMA_VERSION,
            "event_type": "figure",
            "full_state_feed": None,
            "offer_key": offer_key,
            # AGB code, iJw product category, free places and waiting-list size are not in the published
            # snapshot format; providers that publish events directly fill them in.
            "provider_agb": None,
            "provider_name": provider,
            "offer": offer,
            "product_category": None,
            "care_types": care_types,
            "is_crisis": bool(row.get("cr")) or (isinstance(care_types, list) and "crisis" in care_types),
            "location": location,
            "gemeente_code": codes[0] if len(codes) == 1 else None,
            "location_gemeente_codes": codes,
            "location_is_regional": regional,
            "target_group": target_group,
            "contract": _text(row.get("c")),
            "free_places": None,
            "waitlist_size": None,
            "wait_weeks_intake": intake_weeks,
            "wait_weeks_treatment": treatment_weeks,
            "wait_text_intake": _text(row.get("iText")),
            "wait_text_treatment": _text(row.get("bText")),
            "wait_kind_intake": intake_kind,
            "wait_kind_treatment": treatment_kind,
            "quality": _text(row.get("k")) or "unknown",
            "note": _text(row.get("s")),
            "measured_at": measured_at,
            "measured_at_precision": precision,
            "published_at": snapshot.generated_at.isoformat(),
            "source_url": _text(row.get("u")),
            "source_name": snapshot.name,
            "source_row": index,
        }


def map_location(location: str | None) -> tuple[list[str], bool]:
    """Municipality codes named in a location text, and whether it (also) names the region as a whole.

    "Hengelo / Hof van Twente" names two municipalities; "Enschede / Twente" one plus the region;
    "Vriezenveen" is a place in Twenterand. Words that are neither ("ambulant thuis") are ignored.
    """
    if not location:
        return [], False
    places = _place_codes()
    codes: set[str] = set()
    regional = False
    for token in re.split(r"[/,;]| en ", location.lower()):
        name = re.sub(r"\(.*?\)|\b(regio|heel|gemeente)\b", "", token).strip()
        if name in places:
            codes.add(places[name])
        elif _REGION_WORDS.search(token):
            regional = True
    return sorted(codes), regional


@cache
def _place_codes() -> dict[str, str]:
    """Municipality and place names (lower case) → CBS code, from the dbt seeds (one source of truth)."""
    seeds = PROJECT_ROOT / "dbt" / "seeds"
    with (seeds / "twente_gemeenten.csv").open(encoding="utf-8") as handle:
        codes = {row["naam"].lower(): row["gm_code"] for row in csv.DictReader(handle)}
    with (seeds / "twente_woonplaatsen.csv").open(encoding="utf-8") as handle:
        codes.update({row["woonplaats"].lower(): row["gm_code"] for row in csv.DictReader(handle)})
    return codes


def _target_groups(value: Any) -> list[str | None]:
    """Jeugd/Volwassenen/Wmo → jeugd/volwassenen; an unknown value passes through for the gate to catch."""
    values = value if isinstance(value, list) else [value]
    groups: list[str | None] = []
    for raw in values:
        text = _text(raw)
        group = _TARGET_GROUPS.get(text.lower(), text.lower()) if text else None
        if group not in groups:
            groups.append(group)
    return groups or [None]


def _wait(text: Any, number: Any) -> tuple[Any, str | None]:
    """Weeks and kind: the wording wins where there is one, else the published number is taken as is."""
    reading = read_wait_wording(text if isinstance(text, str) else None)
    if reading is not None:
        return reading.weeks, reading.kind.value
    if number is None:
        return None, None
    if isinstance(number, bool) or not isinstance(number, int | float):
        return number, WaitKind.UNPARSEABLE.value
    return float(number), WaitKind.EXACT.value


def _offer_label(row: Mapping[str, Any]) -> str | None:
    """The offer's name; rows without one are told apart by the first clause of their note."""
    name = _text(row.get("w"))
    if name:
        return name
    note = _text(row.get("s"))
    if note:
        return re.split(r"[.;:]\s", note + " ", maxsplit=1)[0].strip()[:120]
    care = row.get("a")
    return " + ".join(str(a) for a in care) or None if isinstance(care, list) else _text(care)


def _care_types(value: Any) -> Any:
    """The care types, lower-cased; anything but a list (or nothing) goes through as it is, for the
    type rule to name."""
    if value is None:
        return []
    return [str(a).lower() for a in value] if isinstance(value, list) else value


def _parse_measured_at(value: Any) -> tuple[str | None, str | None]:
    text = _text(value)
    if text is None:
        return None, None
    for fmt, precision in (("%Y-%m-%d", "day"), ("%Y-%m", "month")):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).isoformat(), precision
        except ValueError:
            continue
    parsed = _parse_timestamp(text)
    return (parsed.isoformat(), "time") if parsed else (text, "unreadable")


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _slug(value: str | None) -> str:
    if not value:
        return "-"
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "-"
