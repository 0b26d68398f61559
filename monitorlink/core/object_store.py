"""The lake on S3-compatible object storage (MinIO, Ceph, AWS): paths, credentials and DuckDB access.

The embedded default is a local folder. `MONITORLINK_LAKE_URI=s3://bucket/prefix` puts the lake on an
object store instead, reached with the usual variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_REGION`). Python reaches it through universal-pathlib and s3fs, so the
lake's code handles a local `Path` and an `S3Path` alike; DuckDB (dbt, the reports) reads it with the
httpfs extension, installed from PyPI (`duckdb-ext-httpfs`) and never downloaded at run time.

Object stores have no rename and no append: `monitorlink.core.lake` writes each object whole (a PUT is
atomic: a reader sees all of it or nothing) and keeps its logs as one object per record (a journal).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    import duckdb
    from upath import UPath

    #: A lake location: a local folder, or a prefix on object storage.
    LakePath = Path | UPath


@dataclass(frozen=True)
class S3Endpoint:
    """Where and as whom to reach the object store; empty fields fall back to the client's defaults."""

    url: str | None
    key_id: str | None
    secret: str | None
    region: str
    #: Temporary (STS) credentials come with a session token.
    token: str | None = None

    @classmethod
    def from_environment(cls) -> S3Endpoint:
        """The usual AWS variables (`AWS_ENDPOINT_URL_S3` before `AWS_ENDPOINT_URL`, as boto does)."""

        def read(*names: str) -> str | None:
            return next((os.environ[n].strip() for n in names if os.environ.get(n, "").strip()), None)

        return cls(
            url=read("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            key_id=read("AWS_ACCESS_KEY_ID"),
            secret=read("AWS_SECRET_ACCESS_KEY"),
            region=read("AWS_REGION", "AWS_DEFAULT_REGION") or "us-east-1",
            token=read("AWS_SESSION_TOKEN"),
        )

    def storage_options(self) -> dict[str, Any]:
        """s3fs's options. No listing cache: another process (a lander on another machine) may have
        added objects since this one last listed, and a stale listing would miss its batches."""
        options: dict[str, Any] = {"use_listings_cache": False, "client_kwargs": {"region_name": self.region}}
        if self.url:
            options["endpoint_url"] = self.url
        if self.key_id and self.secret:
            options |= {"key": self.key_id, "secret": self.secret}
        if self.token:
            options["token"] = self.token
        return options

    def own_endpoint(self) -> tuple[str, bool] | None:
        """DuckDB's view of the endpoint: its host:port and whether it speaks TLS; None for AWS itself.
        DuckDB reaches an own endpoint (MinIO, moto) in path style, AWS in virtual-host style."""
        if not self.url:
            return None
        parsed = urlparse(self.url)
        return parsed.netloc, parsed.scheme == "https"

    def duckdb_secret_sql(self) -> str:
        """`CREATE SECRET` for DuckDB's httpfs, in path style when an endpoint is given (MinIO, moto)."""
        parts = ["TYPE s3", f"REGION {sql_literal(self.region)}"]
        if self.key_id and self.secret:
            parts += [f"KEY_ID {sql_literal(self.key_id)}", f"SECRET {sql_literal(self.secret)}"]
        if self.token:
            parts.append(f"SESSION_TOKEN {sql_literal(self.token)}")
        endpoint = self.own_endpoint()
        if endpoint:
            host, tls = endpoint
            parts += [f"ENDPOINT {sql_literal(host)}", "URL_STYLE 'path'", f"USE_SSL {str(tls).lower()}"]
        return f"CREATE OR REPLACE SECRET monitorlink_s3 ({', '.join(parts)})"


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal (single quotes doubled), for statements that take no parameters."""
    return "'" + text.replace("'", "''") + "'"


def lake_location(uri: str, endpoint: S3Endpoint) -> UPath:
    """The lake's root on object storage for an `s3://bucket/prefix` URI."""
    from upath import UPath

    location: UPath = UPath(uri.rstrip("/"), **endpoint.storage_options())
    return location


def is_object_store(path: LakePath) -> bool:
    """True for a location on object storage (no rename, no append, no OS locks), False for a folder."""
    return not isinstance(path, Path)


def extension_directory() -> str:
    """The folder of DuckDB extensions the `duckdb-ext-*` packages installed (httpfs, ducklake, postgres)."""
    import duckdb_ext  # a namespace package of data files

    return str(Path(next(iter(duckdb_ext.__path__))) / "extensions")


def duckdb_config() -> dict[str, Any]:
    """DuckDB settings that load extensions from the installed packages and never download one."""
    return {
        "extension_directory": extension_directory(),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def connect(
    database: str = ":memory:", *, read_only: bool = False, lake: LakePath | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that can read the lake wherever it is (httpfs and the S3 secret when the lake
    is on object storage)."""
    import duckdb

    connection = duckdb.connect(database, read_only=read_only, config=duckdb_config())
    if lake is not None and is_object_store(lake):
        connection.execute("LOAD httpfs")
        connection.execute(S3Endpoint.from_environment().duckdb_secret_sql())
    return connection


def write_atomic(path: LakePath, content: bytes) -> None:
    """Write bytes so that `path` holds either its old content or all of the new, never a partial file.

    On object storage a PUT already is: the object appears whole when the upload completes.
    """
    if is_object_store(path):
        path.write_bytes(content)
        return
    assert isinstance(path, Path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable: without this a power loss can undo a completed os.replace."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
