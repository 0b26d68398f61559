"""A small client for Superset's REST API: log in once, then JSON calls with the CSRF token attached.

monitorlink never imports Superset (it lives in its own environment); everything it does to Superset —
importing the asset bundle, roles, users, row-level security, the tests' chart queries — goes through
this client, as an operator's script would.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class SupersetApiError(RuntimeError):
    """Superset refused a call; the message has the method, path, status and Superset's own words."""


class SupersetClient:
    """A logged-in session (database authentication) with Superset's API."""

    def __init__(self, base_url: str, username: str, password: str, timeout_s: float = 60) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout_s)
        token = self._call(
            "POST",
            "/api/v1/security/login",
            json={
                "username": username,
                "password": password,
                "provider": "db",
                "refresh": False,
            },
        )["access_token"]
        self._http.headers["Authorization"] = f"Bearer {token}"
        self._http.headers["X-CSRFToken"] = self._call("GET", "/api/v1/security/csrf_token/")["result"]
        self._http.headers["Referer"] = base_url

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise SupersetApiError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        """GET with query parameters (Superset's `q=` rison strings included)."""
        return self._call("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        """POST a JSON body."""
        return self._call("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        """PUT a JSON body."""
        return self._call("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        """DELETE a resource."""
        return self._call("DELETE", path)

    def upload(self, path: str, files: dict[str, tuple[str, bytes, str]], data: dict[str, str]) -> Any:
        """POST a multipart form (the asset-bundle import)."""
        return self._call("POST", path, files=files, data=data)

    def download(self, path: str, **params: Any) -> bytes:
        """GET a file (the asset-bundle export)."""
        response = self._http.get(path, params=params)
        if response.status_code >= 400:
            raise SupersetApiError(f"GET {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.content
