"""CBS StatLine reference tables over OData v3 and v4, in one long shape (`contracts/cbs.v1.yaml`).

- v3 (`opendata.cbs.nl/ODataApi/OData/<table>`): `DataProperties` says which keys are dimensions and which
  are topics (measures); `TypedDataSet` has one row per dimension combination with a column per topic.
  `RegioS` keys are padded to 10 characters, periods look like `2023JJ00`, suppressed values are `.`
  (UntypedDataSet) or null.
- v4 (`datasets.cbs.nl/odata/v1/CBS/<table>`): `MeasureCodes` describes measures; `Observations` has one
  row per measure with `Value` and `ValueAttribute` (`Confidential` when suppressed); pages follow
  `@odata.nextLink`.

`fetch` pulls a table with retries, back-off and timeouts into one *bundle* (all pages, as JSON with sorted
keys, nothing time-dependent), so an unchanged table gives identical bytes and the delivery processor
ignores it as a re-delivery. `parse` turns a bundle into rows of the contract.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import ParsedTable
from connectors.files import read_records, redact_text
from monitorlink.core.config import Settings
from monitorlink.core.contracts import Contract, load_contract, reference_values

if TYPE_CHECKING:
    import httpx

CONTRACT = load_contract("cbs.v1")
source = CONTRACT.name
contracts: tuple[Contract, ...] = (CONTRACT,)
log = logging.getLogger(__name__)

_V4_FIXED = {"Id", "Measure", "Value", "ValueAttribute", "StringValue", "RegioS", "Perioden"}
_RETRY_STATUS = {429, 500, 502, 503, 504}


class CbsError(RuntimeError):
    """A CBS endpoint kept failing or answered with something that is not OData JSON."""


def pull(settings: Settings) -> Iterator[tuple[str, bytes, str]]:
    """Each configured table for the Twente municipalities and the Netherlands (or every region CBS has,
    `MONITORLINK_CBS_REGIONS=all`), as one delivery each.

    A table that keeps failing raises `CbsError` (after retries), which names the table and the URL.
    """
    regions: tuple[str, ...] = ()
    if settings.cbs_regions == "twente":
        regions = (*sorted(reference_values("twente_gemeenten.gm_code")), "NL01")
    for table, api in settings.cbs_tables:
        base = settings.cbs_v3_url if api == "v3" else settings.cbs_v4_url
        content = fetch(table, api, base, regions, settings.http_timeout_s, settings.http_retries)
        yield bundle_name(table, api), content, f"{base}/{table}"


def bundle_name(table: str, api: str) -> str:
    """The delivery name of a fetched table, as the contract's file pattern expects."""
    return f"cbs_{table}_{api}_v1.json"


def fetch(
    table: str,
    api: str,
    base_url: str,
    regions: tuple[str, ...] = (),
    timeout_s: float = 30.0,
    retries: int = 3,
    backoff_s: float = 0.5,
) -> bytes:
    """Fetch one table (all pages) into a bundle; `regions` limits it to those RegioS codes."""
    import httpx  # loads when CBS is fetched, not with every command that knows the source

    with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
        getter = _Getter(client, retries, backoff_s)
        root = f"{base_url.rstrip('/')}/{table}"
        if api == "v3":
            padded = [f"{code:<10}" for code in regions]
            properties = getter.pages(f"{root}/DataProperties", {"$format": "json"})
            observations = getter.pages(f"{root}/TypedDataSet", {"$format": "json", **_filter(padded)})
        elif api == "v4":
            properties = getter.pages(f"{root}/MeasureCodes", {})
            observations = getter.pages(f"{root}/Observations", _filter(list(regions)))
        else:
            raise ValueError(f"unknown CBS OData version {api!r}; use v3 or v4")
    bundle = {"table": table, "api": api, "properties": properties, "observations": observations}
    try:
        return json.dumps(bundle, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a CBS text: escaped, it travels on to the gate
        return json.dumps(bundle, sort_keys=True).encode("ascii")


def _filter(keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    return {"$filter": " or ".join(f"RegioS eq '{key}'" for key in keys)}


class _Getter:
    """GET with retries on connection errors, timeouts and 429/5xx, with exponential back-off."""

    def __init__(self, client: httpx.Client, retries: int, backoff_s: float) -> None:
        self.client, self.retries, self.backoff_s = client, retries, backoff_s

    def pages(self, url: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """All `value` rows of a collection, following `@odata.nextLink` / `odata.nextLink`."""
        rows: list[dict[str, Any]] = []
        next_url: str | None = url
        query: Mapping[str, str] | None = params
        while next_url:
            document = self.get(next_url, query)
            rows.extend(document.get("value", []))
            next_url = document.get("@odata.nextLink") or document.get("odata.nextLink")
            if next_url is not None and not isinstance(next_url, str):
                raise CbsError(f"{url}: the next-page link is {next_url!r}, not a URL")
            query = None  # the next link carries its own query
        return rows

    def get(self, url: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        import httpx

        for attempt in range(self.retries + 1):
            try:
                response = self.client.get(url, params=params)
                if response.status_code not in _RETRY_STATUS:
                    response.raise_for_status()
                    document = response.json()
                    if not isinstance(document, dict) or not isinstance(document.get("value"), list):
                        raise CbsError(f"{url}: not an OData collection (no 'value' list)")
                    return document
                problem = f"HTTP {response.status_code}"
            except (httpx.TransportError, ValueError, RecursionError) as error:
                # not JSON, not UTF-8, or nested past the parser: retried like a broken transfer
                problem = f"{type(error).__name__}: {str(error)[:200]}"
            except httpx.HTTPStatusError as error:
                raise CbsError(f"{url}: {str(error).splitlines()[0]}") from error
            if attempt < self.retries:
                log.warning("CBS %s: %s; retry %d of %d", url, problem, attempt + 1, self.retries)
                time.sleep(self.backoff_s * 2**attempt)
        raise CbsError(f"{url}: still failing after {self.retries} retries ({problem})")


def parse(name: str, content: bytes) -> list[ParsedTable]:
    """The observations of a bundle in the contract's long shape."""
    try:
        bundle = json.loads(content)
        table, api = bundle["table"], bundle["api"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"not a CBS bundle ({error})") from error
    rows = _v3_rows(bundle) if api == "v3" else _v4_rows(bundle)
    return [read_records(({"table_id": table, "api_version": api, **row} for row in rows), CONTRACT)]


def _v3_rows(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    topics = {p["Key"]: p for p in bundle["properties"] if p.get("Type") == "Topic"}
    dimensions = [
        p["Key"]
        for p in bundle["properties"]
        if p.get("Type") in ("Dimension", "GeoDimension", "TimeDimension")
        and p["Key"] not in ("RegioS", "Perioden")
    ]
    rows = []
    for observation in bundle["observations"]:
        for key, topic in topics.items():
            raw = observation.get(key)
            suppressed = raw is None or (isinstance(raw, str) and raw.strip() == ".")
            rows.append(
                _row(
                    observation,
                    dimensions,
                    key,
                    topic.get("Title"),
                    topic.get("Unit"),
                    None if suppressed else raw,
                    "Confidential" if suppressed else "None",
                )
            )
    return rows


def _v4_rows(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    measures = {m["Identifier"]: m for m in bundle["properties"]}
    rows = []
    for observation in bundle["observations"]:
        measure = measures.get(observation["Measure"], {})
        dimensions = sorted(k for k in observation if k not in _V4_FIXED and not k.endswith("Id"))
        rows.append(
            _row(
                observation,
                dimensions,
                observation["Measure"],
                measure.get("Title"),
                measure.get("Unit"),
                observation.get("Value"),
                observation.get("ValueAttribute") or "None",
            )
        )
    return rows


def _row(
    observation: dict[str, Any],
    dimensions: list[str],
    measure: str,
    title: Any,
    unit: Any,
    value: Any,
    attribute: str,
) -> dict[str, Any]:
    region = str(observation.get("RegioS", "")).strip()
    period = str(observation.get("Perioden", "")).strip()
    return {
        "measure": measure,
        "measure_title": title,
        "unit": unit,
        "region_code": region,
        "period_code": period,
        "period_year": period[:4],
        "dimensions": json.dumps(
            {d: str(observation[d]).strip() for d in sorted(dimensions)}, sort_keys=True
        ),
        "value": value,
        "value_attribute": attribute,
        "is_suppressed": value is None and attribute in ("Confidential", "None"),
    }


def redact(content: bytes, replacements: Mapping[str, str]) -> bytes:
    """CBS tables are aggregates without identifiers; a number that got into a text is masked all the same."""
    return redact_text(content, replacements)
