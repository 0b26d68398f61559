"""Who sees what on the dashboards: a role per municipality with row-level security, one regional role.

Created as code over Superset's REST API on every start (idempotent), from the municipality dimension of
the published warehouse, never from a typed list:

- `Gemeente <naam>` sees its own rows, the region's (gemeente_code `Twente`), the national figure (`NL`)
  and rows that belong to no municipality (regional offers); a Regular RLS filter on every dataset that
  has a `gemeente_code` column enforces it in every query Superset runs for that role.
- `Regio Twente` sees every published row.
- Both get read access to the published database only; people also get Superset's `Gamma` role (view
  dashboards and charts, no SQL Lab, no editing). The Public role has no permissions: nothing is anonymous.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from monitorlink.core.config import Settings
from monitorlink.dashboards import assets as dashboards
from monitorlink.dashboards.superset_api import SupersetClient
from monitorlink.dashboards.superset_service import SupersetError
from monitorlink.warehouse.build import connect_readonly

REGION_ROLE = "Regio Twente"
VIEWER_ROLE = "Gamma"
REGION_CODE = "Twente"
NATIONAL_CODE = "NL"
RLS_GROUP = "gemeente"
DATABASE_NAME = "monitorlink (published)"


@dataclass(frozen=True)
class Municipality:
    """A municipality of the dimension, and the role that stands for it."""

    code: str
    name: str

    @property
    def role(self) -> str:
        return f"Gemeente {self.name}"

    @property
    def clause(self) -> str:
        """Own rows, region and national aggregates, and rows of no municipality (regional offers)."""
        return (
            f"gemeente_code IN ('{self.code}', '{REGION_CODE}', '{NATIONAL_CODE}') OR gemeente_code IS NULL"
        )


def municipalities(settings: Settings) -> list[Municipality]:
    """Today's municipalities, from `published.dim_gemeente` of the published file."""
    with connect_readonly(settings, "published") as connection:
        rows = connection.execute(
            "select gemeente_code, gemeente_naam from published.dim_gemeente order by gemeente_code"
        ).fetchall()
    return [Municipality(code=str(code), name=str(name)) for code, name in rows]


def municipal_datasets() -> list[str]:
    """Datasets with municipality rows (a `gemeente_code` column): every one gets the RLS filter."""
    return sorted(
        str(data["table_name"])
        for path, data in dashboards.read_assets().items()
        if path.startswith("datasets/") and any(c["column_name"] == "gemeente_code" for c in data["columns"])
    )


def _rison_eq(column: str, value: object) -> str:
    quoted = f"'{value}'" if isinstance(value, str) else str(value)
    return f"(filters:!((col:{column},opr:eq,value:{quoted})),page_size:100)"


def _one(client: SupersetClient, path: str, column: str, value: object) -> dict[str, Any] | None:
    result = client.get(path, q=_rison_eq(column, value))["result"]
    return dict(result[0]) if result else None


def _role_id(client: SupersetClient, name: str) -> int:
    role = _one(client, "/api/v1/security/roles/", "name", name)
    if role is None:
        return int(client.post("/api/v1/security/roles/", {"name": name})["id"])
    return int(role["id"])


def _database_access(client: SupersetClient) -> int:
    """The permission-view id of `database_access` on the published database (created by the import)."""
    database = _one(client, "/api/v1/database/", "database_name", DATABASE_NAME)
    if database is None:
        raise SupersetError(
            f"Superset has no database {DATABASE_NAME!r}; run `monitorlink dashboards import`"
        )
    permission = _one(client, "/api/v1/security/permissions/", "name", "database_access")
    resource = _one(client, "/api/v1/security/resources/", "name", f"[{DATABASE_NAME}].(id:{database['id']})")
    if permission is None or resource is None:
        raise SupersetError("Superset has not created the database_access permission; run `superset init`")
    query = (
        f"(filters:!((col:permission,opr:rel_o_m,value:{permission['id']}),"
        f"(col:view_menu,opr:rel_o_m,value:{resource['id']})))"
    )
    return int(client.get("/api/v1/security/permissions-resources/", q=query)["result"][0]["id"])


def dataset_ids(client: SupersetClient) -> dict[str, int]:
    """This installation's id of every dataset, by name (ids differ per installation; names do not)."""
    found = client.get("/api/v1/dataset/", q="(columns:!(id,table_name),page_size:100)")["result"]
    return {str(row["table_name"]): int(row["id"]) for row in found}


def _dataset_ids(client: SupersetClient, names: list[str]) -> list[int]:
    ids = dataset_ids(client)
    missing = sorted(set(names) - set(ids))
    if missing:
        raise SupersetError(
            f"datasets missing in Superset: {', '.join(missing)}; run `monitorlink dashboards import`"
        )
    return [ids[name] for name in names]


def _upsert_rls(client: SupersetClient, name: str, role_id: int, tables: list[int], clause: str) -> None:
    body = {
        "name": name,
        "filter_type": "Regular",
        "tables": tables,
        "roles": [role_id],
        "clause": clause,
        "group_key": RLS_GROUP,
        "description": "monitorlink: own municipality, region and national rows (created on start)",
    }
    existing = _one(client, "/api/v1/rowlevelsecurity/", "name", name)
    if existing is None:
        client.post("/api/v1/rowlevelsecurity/", body)
    else:
        client.put(f"/api/v1/rowlevelsecurity/{existing['id']}", body)


def _grant(client: SupersetClient, role_id: int, permission_view: int) -> None:
    """Set the role's permissions to exactly this one (read the published database)."""
    client.post(
        f"/api/v1/security/roles/{role_id}/permissions", {"permission_view_menu_ids": [permission_view]}
    )


def apply(client: SupersetClient, settings: Settings) -> list[str]:
    """Create or update the regional role, every municipality's role and its RLS filter; returns roles."""
    access = _database_access(client)
    tables = _dataset_ids(client, municipal_datasets())
    roles = [REGION_ROLE]
    _grant(client, _role_id(client, REGION_ROLE), access)
    for municipality in municipalities(settings):
        role_id = _role_id(client, municipality.role)
        _grant(client, role_id, access)
        _upsert_rls(client, f"gemeente {municipality.code}", role_id, tables, municipality.clause)
        roles.append(municipality.role)
    return roles


def role_for(settings: Settings, who: str) -> str:
    """The data role for `who`: `regio`, a municipality code (GM0153) or name (Enschede)."""
    if who.lower() in ("regio", "twente", REGION_ROLE.lower()):
        return REGION_ROLE
    for municipality in municipalities(settings):
        if who.lower() in (municipality.code.lower(), municipality.name.lower()):
            return municipality.role
    raise ValueError(f"{who!r} is no municipality of the published warehouse, nor 'regio'")


def add_user(client: SupersetClient, username: str, data_role: str, password: str | None = None) -> str:
    """Create (or re-role) a dashboard user with Gamma plus one data role; returns the password set."""
    password = password or secrets.token_urlsafe(12)
    body = {
        "username": username,
        "first_name": username,
        "last_name": data_role,
        "email": f"{username}@monitorlink.invalid",
        "active": True,
        "password": password,
        "roles": [_role_id(client, VIEWER_ROLE), _role_id(client, data_role)],
    }
    existing = _one(client, "/api/v1/security/users/", "username", username)
    if existing is None:
        client.post("/api/v1/security/users/", body)
    else:
        client.put(f"/api/v1/security/users/{existing['id']}", body)
    return password
