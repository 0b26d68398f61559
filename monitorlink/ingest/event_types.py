"""An event's JSON values into its contract's Arrow types, and the text checks every event goes through.

JSON carries no types beyond number and string, so the stream ingester casts each value itself and names
what does not fit (a `type_<field>` failure) instead of letting Arrow raise on a whole batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from monitorlink.core.pseudonym import mask_bsns
from monitorlink.core.rules import RuleFailure


def coerce(
    events: list[dict[str, Any]], schema: pa.Schema
) -> tuple[list[dict[str, Any]], dict[int, list[RuleFailure]]]:
    """Cast each event to the contract's types; a value that does not fit becomes a `type_<field>` failure.

    JSON carries no types beyond number/string, so "12" for a count or "soon" for a timestamp arrive here;
    they must be named and quarantined, not crash the batch or be cast to something they are not.
    """
    typed: list[dict[str, Any]] = []
    failures: dict[int, list[RuleFailure]] = {}
    for index, event in enumerate(events):
        row: dict[str, Any] = {}
        for schema_field in schema:
            value = event.get(schema_field.name)
            try:
                row[schema_field.name] = _cast(value, schema_field.type)
            except (TypeError, ValueError, OverflowError):
                row[schema_field.name] = None
                reason = f"value does not fit the contract type {schema_field.type}"
                failures.setdefault(index, []).append(
                    RuleFailure(f"type_{schema_field.name}", reason, schema_field.name, value)
                )
        typed.append(row)
    return typed, failures


def masked(value: Any) -> Any:
    """An event with every citizen service number in its texts masked: a provider's note is free text."""
    if isinstance(value, str):
        return mask_bsns(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def has_lone_surrogate(value: Any) -> bool:
    """JSON may escape half of a surrogate pair (\\ud800) that no UTF-8 file can store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def _cast(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(arrow_type):
        if isinstance(value, dict | list):
            raise TypeError("expected text")
        return str(value)
    if pa.types.is_boolean(arrow_type):
        if not isinstance(value, bool):
            raise TypeError("expected true/false")
        return value
    if pa.types.is_integer(arrow_type):
        if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
            raise TypeError("expected a whole number")
        return int(value)
    if pa.types.is_floating(arrow_type):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        return float(value)
    if pa.types.is_timestamp(arrow_type):
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if pa.types.is_list(arrow_type):
        if not isinstance(value, list):
            raise TypeError("expected a list")
        return [_cast(item, arrow_type.value_type) for item in value]
    raise TypeError(f"no cast for {arrow_type}")
