"""Named locks that keep two processes from landing or announcing the same source at once.

A lake in a local folder keeps OS file locks beside it (`<lake>/ops/locks/`), released by the kernel
when their holder dies. A lake on object storage has no such thing: on one machine the locks stay local
files (`$MONITORLINK_HOME/run/locks/`); with landers on several machines, `MONITORLINK_LOCK_DSN` names
a PostgreSQL database whose session-level advisory locks serialise them. PostgreSQL releases those when
the holder's connection ends, so a killed lander never leaves one behind either.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitorlink.core.config import Settings
from monitorlink.core.object_store import is_object_store

log = logging.getLogger(__name__)


@contextmanager
def named_lock(settings: Settings, name: str) -> Iterator[None]:
    """Hold the lock `name` for the block, waiting while another process holds it."""
    if settings.lock_dsn:
        with advisory_lock(settings.lock_dsn, f"monitorlink:{name}"):
            yield
        return
    folder = (
        settings.lock_root if is_object_store(settings.lake_root) else settings.lake_root / "ops" / "locks"
    )
    assert isinstance(folder, Path)
    with file_lock(folder / f"{name}.lock"):
        yield


@contextmanager
def advisory_lock(dsn: str, key: str) -> Iterator[None]:
    """A PostgreSQL session advisory lock on `key` (hashed to the 64-bit number PostgreSQL locks on)."""
    import psycopg2

    # keepalives: a holder whose machine vanished is noticed within about a minute, not hours
    connection = psycopg2.connect(
        dsn, connect_timeout=10, keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (key,))
            if not (cursor.fetchone() or (False,))[0]:
                log.info("waiting for the lock %s: another process holds it", key)
                cursor.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (key,))
        yield
    finally:
        connection.close()  # ends the session, which releases the lock even if the unlock never ran


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; waits while another holds it.

    An OS lock, released by the kernel when its holder dies, so a crashed process never leaves one behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
