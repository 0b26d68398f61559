"""Raw zone keeps bytes with checksum and manifest; every write is whole or absent."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitorlink.core.lake import Lake
from monitorlink.core.object_store import write_atomic


def test_raw_bytes_are_kept_once_with_checksum_and_manifest(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    content = b'{"schemaVersion": 1}'
    record, is_new = lake.store_raw(
        "availability", "snap.json", content, origin="https://example.invalid/snap.json"
    )
    again, is_new_again = lake.store_raw("availability", "snap.json", content, origin="/elsewhere/snap.json")
    assert is_new and not is_new_again
    assert again == record
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert (tmp_path / record.path).read_bytes() == content
    assert lake.manifest("availability") == [record]
    changed, is_new_changed = lake.store_raw("availability", "snap.json", content + b" ", origin="x")
    assert is_new_changed and changed.path != record.path
    assert len(lake.manifest("availability")) == 2


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.bin"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.bin"]


def test_tables_land_in_ingest_date_partitions_and_are_listed(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    when = datetime(2026, 8, 14, 6, 0, tzinfo=UTC)
    path = lake.batch_path("validated", "availability", "batch-1", when)
    lake.write_table(path, pa.table({"event_id": ["a", "b"]}))
    assert path.parent.name == "ingest_date=2026-08-14"
    assert lake.parquet_files("validated", "availability") == [path]
    assert pq.read_table(path).column("event_id").to_pylist() == ["a", "b"]
    assert list(lake.read_columns("validated", "availability", ["event_id", "not_there"])) == [
        {"event_id": "a"},
        {"event_id": "b"},
    ]


def test_unknown_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown lake zone 'bronze'"):
        Lake(tmp_path).zone("bronze", "availability")


def test_a_redelivery_is_recognised_also_when_another_process_stored_the_first(tmp_path: Path) -> None:
    mine, theirs = Lake(tmp_path), Lake(tmp_path)  # two processes on one lake
    first, new = mine.store_raw("tmsd", "a.csv", b"one", "test")
    assert new
    again, new = mine.store_raw("tmsd", "a_copy.csv", b"one", "test")
    assert not new and again == first
    from_them, new = theirs.store_raw("tmsd", "b.csv", b"two", "test")  # appended behind my back
    assert new
    seen, new = mine.store_raw("tmsd", "b_copy.csv", b"two", "test")
    assert not new and seen == from_them
    assert [r.name for r in mine.manifest("tmsd")] == ["a.csv", "b.csv"]


def test_a_replaced_manifest_is_read_again(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.store_raw("tmsd", "a.csv", b"one", "test")
    manifest = tmp_path / "raw" / "tmsd" / "manifest.jsonl"
    manifest.write_text("", encoding="utf-8")  # e.g. restored from an older backup
    _, new = lake.store_raw("tmsd", "a.csv", b"one", "test")
    assert new, "a checksum no longer in the manifest is new again"
