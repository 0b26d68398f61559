"""Simulated CBS StatLine tables and a loopback server that answers like the real OData endpoints.

- `03759ned` (population by age and region) over v3: `DataProperties` + `TypedDataSet`, `RegioS` padded
  to 10 characters, paging by `odata.nextLink`.
- `85098NED` (youths with youth care per municipality) over v4: `MeasureCodes` + `Observations`, with
  `ValueAttribute: Confidential` and a null value where CBS suppresses, paging by `@odata.nextLink`.
The youth-care counts are derived from the simulated TMSD trajectories, so the CBS benchmark and the
region's own figures tell one story; the national row (NL01) is scaled from a national rate.

`CbsServer` serves table files written by the simulator. Tests can make it fail the first N requests
(503) or answer slowly, to exercise the connector's retries and timeouts.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from monitorlink.simulator.population import FIRST_YEAR, LAST_YEAR, Municipality

V3_PREFIX = "/ODataApi/OData"
V4_PREFIX = "/odata/v1/CBS"
NATIONAL_YOUTHS = 3_450_000
NATIONAL_INHABITANTS = 17_900_000
NATIONAL_CARE_RATE = 0.098
CARE_KINDS = {
    "T001140": "Totaal",
    "A048437": "Jeugdhulp zonder verblijf",
    "A048438": "Jeugdhulp met verblijf",
}


def population_table(towns: list[Municipality]) -> dict[str, Any]:
    """03759ned as v3 serves it: DataProperties and TypedDataSet rows."""
    properties = [
        {
            "ID": 0,
            "Position": 0,
            "ParentID": None,
            "Type": "Dimension",
            "Key": "Geslacht",
            "Title": "Geslacht",
        },
        {
            "ID": 1,
            "Position": 1,
            "ParentID": None,
            "Type": "Dimension",
            "Key": "Leeftijd",
            "Title": "Leeftijd",
        },
        {
            "ID": 2,
            "Position": 2,
            "ParentID": None,
            "Type": "GeoDimension",
            "Key": "RegioS",
            "Title": "Regio's",
        },
        {
            "ID": 3,
            "Position": 3,
            "ParentID": None,
            "Type": "TimeDimension",
            "Key": "Perioden",
            "Title": "Perioden",
        },
        {
            "ID": 4,
            "Position": 4,
            "ParentID": None,
            "Type": "Topic",
            "Key": "BevolkingOp1Januari_1",
            "Title": "Bevolking op 1 januari",
            "Unit": "aantal",
            "Decimals": 0,
            "Datatype": "Long",
        },
    ]
    rows: list[dict[str, Any]] = []
    for (code, year), (everyone, youths) in _populations(towns).items():
        for age, value in (("10000", everyone), ("70100", youths)):
            rows.append(
                {
                    "ID": len(rows),
                    "Geslacht": "T001038",
                    "Leeftijd": age,
                    "RegioS": f"{code:<10}",
                    "Perioden": f"{year}JJ00",
                    "BevolkingOp1Januari_1": value,
                }
            )
    return {"api": "v3", "properties": properties, "rows": rows}


def _populations(towns: list[Municipality]) -> dict[tuple[str, int], tuple[int, int]]:
    """(code, year) → (inhabitants, youths 0–17) on 1 January, under the codes of that day.

    Before a merger or split a municipality's people are counted under its former parts, in their shares.
    """
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for town in towns:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for code, share in town.codes_on(date(year, 1, 1)):
                everyone, youths = out.get((code, year), (0, 0))
                out[(code, year)] = (
                    everyone + round(town.inhabitants * share),
                    youths + round(town.youths(year) * share),
                )
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        out[("NL01", year)] = (NATIONAL_INHABITANTS, NATIONAL_YOUTHS)
    return out


def youth_care_table(counts: dict[tuple[str, int, str], int]) -> dict[str, Any]:
    """85098NED as v4 serves it: youths with youth care per municipality, year and kind of care.

    `counts` maps (gm_code, year, care kind code) to distinct youths; below 10 CBS hides the figure.
    """
    measures = [
        {
            "Identifier": "M001179",
            "Title": "Jongeren met jeugdhulp",
            "Unit": "aantal",
            "DataType": "Long",
            "Decimals": 0,
        }
    ]
    rows: list[dict[str, Any]] = []
    national = round(NATIONAL_YOUTHS * NATIONAL_CARE_RATE)
    shares = {"T001140": 1.0, "A048437": 0.93, "A048438": 0.09}
    years = sorted({year for _, year, _ in counts})
    for year in years:
        for kind, share in shares.items():
            counts[("NL01", year, kind)] = round(national * share)
    for (region, year, kind), value in sorted(counts.items()):
        hidden = value < 10
        rows.append(
            {
                "Id": len(rows),
                "Measure": "M001179",
                "ValueAttribute": "Confidential" if hidden else "None",
                "Value": None if hidden else float(value),
                "StringValue": None,
                "SoortJeugdhulp": kind,
                "RegioS": region,
                "Perioden": f"{year}JJ00",
            }
        )
    return {"api": "v4", "properties": measures, "rows": rows}


def write_table(folder: Path, table: str, definition: dict[str, Any]) -> Path:
    """Keep a simulated table where the server finds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    return path


class CbsServer:
    """Serves the simulated tables on 127.0.0.1 like CBS's v3 and v4 OData endpoints."""

    def __init__(
        self, folder: Path, page_size: int = 1000, fail_first: int = 0, delay_s: float = 0.0
    ) -> None:
        self.folder, self.page_size, self.fail_first, self.delay_s = folder, page_size, fail_first, delay_s
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def v3_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{V3_PREFIX}"

    @property
    def v4_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{V4_PREFIX}"

    def __enter__(self) -> CbsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """(status, body) for one request; public so the routing is testable without sockets."""
        match = re.fullmatch(rf"({V3_PREFIX}|{V4_PREFIX})/(\w+)/(\w+)", path)
        if match is None:
            return 404, {"error": f"no such resource {path}"}
        prefix, table, resource = match.groups()
        file = self.folder / f"{table}.json"
        if not file.exists():
            return 404, {"error": f"table {table} not found"}
        definition = json.loads(file.read_text(encoding="utf-8"))
        api = "v3" if prefix == V3_PREFIX else "v4"
        if definition["api"] != api:
            return 404, {"error": f"{table} is not served over {api} here"}
        if resource in ("DataProperties", "MeasureCodes"):
            return 200, {"value": definition["properties"]}
        if resource not in ("TypedDataSet", "Observations"):
            return 404, {"error": f"no such resource {resource}"}
        rows = _filtered(definition["rows"], query.get("$filter", [""])[0])
        skip = int(query.get("$skip", ["0"])[0])
        body: dict[str, Any] = {"value": rows[skip : skip + self.page_size]}
        if skip + self.page_size < len(rows):
            next_query = {k: v[0] for k, v in query.items() if k != "$skip"} | {
                "$skip": skip + self.page_size
            }
            link = f"http://127.0.0.1:{self._server.server_port}{path}?{urlencode(next_query)}"
            body["odata.nextLink" if api == "v3" else "@odata.nextLink"] = link
        body["odata.metadata" if api == "v3" else "@odata.context"] = f"{prefix}/{table}/$metadata"
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if server.delay_s:
                    time.sleep(server.delay_s)
                if len(server.requests) <= server.fail_first:
                    status, body = 503, {"error": "temporarily unavailable"}
                else:
                    url = urlsplit(self.path)
                    status, body = server.answer(url.path, parse_qs(url.query))
                payload = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: requests are kept in `server.requests`."""

        return Handler


def _filtered(rows: list[dict[str, Any]], expression: str) -> list[dict[str, Any]]:
    """Honour `RegioS eq 'X' or …` filters, the only kind the connector sends."""
    wanted = re.findall(r"RegioS eq '([^']*)'", expression)
    return [row for row in rows if row["RegioS"] in wanted] if wanted else rows
