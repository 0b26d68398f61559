"""Superset's configuration for monitorlink (read by Superset through SUPERSET_CONFIG_PATH).

`monitorlink up` sets MONITORLINK_SUPERSET_HOME before it starts Superset and writes the secret key
there on first start; nothing secret lives in the repository. Every value below can be overridden
with the environment variable named beside it (the README's "Configuration" section).
"""

from __future__ import annotations

import os
from pathlib import Path

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
