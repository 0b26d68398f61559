"""Append-only logs of JSON records in the lake: the raw manifest, the delivery log, the alert history.

In a local folder a journal is one `.jsonl` file, appended to. Object storage has no append, and
rewriting one growing object for every record would be quadratic and lose records when two landers
write at once. There, each append is an object of its own beside where the file would be
(`deliveries.jsonl` → `deliveries/<time>-<random>.jsonl`), written whole by one PUT; reading lists the
objects and joins them in name order, which is time order. Nothing is ever overwritten but by
`rewrite`, which backfills use to replace records in place.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitorlink.core.object_store import is_object_store, write_atomic

if TYPE_CHECKING:
    from monitorlink.core.object_store import LakePath

Record = dict[str, Any]
#: The cursor's name for a journal file copied whole onto object storage (read once, before the objects).
_MIGRATED = "<file>"


@dataclass
class Cursor:
    """How far a journal was read: a byte offset in a file, or the objects already read."""

    offset: int = 0
    seen: set[str] = field(default_factory=set)


class Journal:
    """One append-only log; `path` is where the `.jsonl` file is (or would be, on object storage)."""

    def __init__(self, path: LakePath) -> None:
        self.path = path
        self.on_object_store = is_object_store(path)

    @property
    def folder(self) -> LakePath:
        """On object storage: the prefix holding one object per append."""
        return self.path.with_suffix("")

    def glob(self) -> str:
        """The address pattern of the journal's data for DuckDB, with `*` for the source folder."""
        return f"{self.folder}/*.jsonl" if self.on_object_store else str(self.path)

    def exists(self) -> bool:
        """Whether anything was ever appended."""
        return bool(self._objects()) if self.on_object_store else self.path.exists()

    def append(self, records: Iterable[Record], *, durable: bool = False) -> None:
        """Add records at the end; `durable` waits for the disk (an object store's PUT always does)."""
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        if not text:
            return
        if self.on_object_store:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            (self.folder / f"{stamp}-{uuid.uuid4().hex[:12]}.jsonl").write_bytes(text.encode("utf-8"))
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())

    def records(self) -> list[Record]:
        """Every record, oldest first."""
        return self.read_new(Cursor())[0]

    def read_new(self, cursor: Cursor) -> tuple[list[Record], Cursor]:
        """Records appended since `cursor` (by this or another process), and the cursor after them.

        A line still being written (no newline yet) is left for the next read; a file that shrank
        (restored, replaced) is read again whole.
        """
        if self.on_object_store:
            return self._read_new_objects(cursor)
        size = self.path.stat().st_size if self.path.exists() else 0
        offset = 0 if size < cursor.offset else cursor.offset
        records: list[Record] = []
        if size > offset:
            with self.path.open("rb") as handle:
                handle.seek(offset)
                for line in handle:
                    if not line.endswith(b"\n"):
                        break
                    offset += len(line)
                    if line.strip():
                        records.append(json.loads(line))
        return records, Cursor(offset=offset)

    def rewrite(self, change: Callable[[Record], Record]) -> None:
        """Replace records in place (`change` returns the record, changed or not), atomically per file
        or per object; the order and every other record stay as they were."""
        if not self.on_object_store:
            lines = [change(record) for record in self.records()]
            text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in lines)
            write_atomic(self.path, text.encode("utf-8"))
            return
        objects = [(self.folder / name, content) for name, content in self._read(self._objects())]
        if self.path.exists():
            objects.append((self.path, self.path.read_bytes()))
        for target, content in objects:
            old = _lines(content)
            new = [change(record) for record in old]
            if new != old:
                text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in new)
                target.write_bytes(text.encode("utf-8"))

    # object storage --------------------------------------------------------------------------------

    def _objects(self) -> list[str]:
        """Names of the journal's objects, in time order."""
        folder = str(self.folder.path)  # type: ignore[union-attr]  # an S3Path here
        names = [entry.rsplit("/", 1)[-1] for entry in self.folder.fs.find(folder)]  # type: ignore[union-attr]
        return sorted(name for name in names if name.endswith(".jsonl"))

    def _read(self, names: list[str]) -> list[tuple[str, bytes]]:
        """The objects' contents, fetched concurrently (s3fs's `cat` of many keys)."""
        if not names:
            return []
        folder = str(self.folder.path)  # type: ignore[union-attr]
        contents = self.folder.fs.cat([f"{folder}/{name}" for name in names])  # type: ignore[union-attr]
        return [(name, contents[f"{folder}/{name}"]) for name in names]

    def _read_new_objects(self, cursor: Cursor) -> tuple[list[Record], Cursor]:
        """New objects' records; a whole `.jsonl` object at the file's own name (a local lake copied
        to object storage) counts as the oldest records, so a migrated log is never read as empty."""
        records: list[Record] = []
        seen = set(cursor.seen)
        if _MIGRATED not in seen:  # looked for once per cursor: one request fewer per read after that
            if self.path.exists():
                records += _lines(self.path.read_bytes())
            seen.add(_MIGRATED)
        new = [name for name in self._objects() if name not in seen]
        records += [record for _, content in self._read(new) for record in _lines(content)]
        return records, Cursor(seen=seen | set(new))


def _lines(content: bytes) -> list[Record]:
    return [json.loads(line) for line in content.splitlines() if line.strip()]
