"""Superset's configuration for monitorlink (read by Superset through SUPERSET_CONFIG_PATH).

`monitorlink up` sets MONITORLINK_SUPERSET_HOME before it starts Superset and writes the secret key
there on first start; nothing secret lives in the repository. Every value below can be overridden
with the environment variable named beside it (the README's "Configuration" section).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_HOME = Path(os.environ["MONITORLINK_SUPERSET_HOME"])

# Signs sessions and encrypts stored connection passwords; generated at first start, kept in the home.
SECRET_KEY = (_HOME / "secret_key").read_text().strip()

# Metadata (users, roles, dashboards): SQLite in the home by default, Postgres in production.
SQLALCHEMY_DATABASE_URI = (
    os.environ.get("MONITORLINK_SUPERSET_METADATA_URI") or f"sqlite:///{_HOME / 'superset.db'}"
)

# Roles, users and row-level security are created as code over the REST API.
FAB_ADD_SECURITY_API = True

# No anonymous access: the Public role gets no permissions and guests do not exist.
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"

# Chart data is never cached: a publish must show at once, and the warehouse answers in milliseconds.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# Dashboards read the published warehouse only; SQL Lab may not write or upload into it.
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "ENABLE_TEMPLATE_PROCESSING": False}
SQLLAB_CTAS_NO_LIMIT = False

# The embedded default serves plain HTTP on 127.0.0.1 only; a production proxy adds TLS and headers.
TALISMAN_ENABLED = False
WTF_CSRF_ENABLED = True
SESSION_COOKIE_SAMESITE = "Lax"

# Dutch first: the dashboards are in Dutch.
BABEL_DEFAULT_LOCALE = "nl"
LANGUAGES = {"nl": {"flag": "nl", "name": "Nederlands"}, "en": {"flag": "us", "name": "English"}}

ROW_LIMIT = 50000
SQL_MAX_ROW = 100000


# With the DuckLake backend the published database is an in-memory DuckDB that attaches the published
# tier's DuckLake read-only whenever a connection opens; monitorlink prepares the statements
# (`superset_service.ducklake_statements`). Extensions load from this environment's duckdb-ext-*
# packages and are never downloaded.
_DUCKLAKE_SQL = os.environ.get("MONITORLINK_SUPERSET_DUCKLAKE_SQL")
if _DUCKLAKE_SQL:
    import duckdb_ext
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    _EXTENSIONS = Path(next(iter(duckdb_ext.__path__))) / "extensions"
    _STATEMENTS = [
        f"SET extension_directory = '{_EXTENSIONS}'",
        "SET autoinstall_known_extensions = false",
        *json.loads(_DUCKLAKE_SQL),
    ]

    @event.listens_for(Pool, "connect")
    def _attach_published_ducklake(connection: Any, _record: Any) -> None:
        """Only DuckDB connections (the metadata database is another engine)."""
        if "duckdb" in type(connection).__module__:
            for statement in _STATEMENTS:
                connection.execute(statement)
