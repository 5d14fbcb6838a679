"""Checking a request against its route: parameters, request bodies, the 400 it earns.

`bind` validates path and query parameters against their schemas (ESI answers 400 with a
``details`` list naming each bad one); `check` validates a JSON value, also request bodies.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from esiframe.sandbox.routes import PAGING_PARAMS, Route

__all__ = ["BadRequest", "Bound", "Invalid", "bind", "check", "coerce"]

_INTEGER = re.compile(r"[+-]?\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return [coerce(part, items) for part in raw.split(",")] if raw != "" else []
    if kind == "integer":
        if not _INTEGER.fullmatch(raw.strip()):
            raise Invalid(f"expected an integer, got {raw!r}")
        return int(raw)
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise Invalid(f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise Invalid(f"expected a finite number, got {raw!r}")
        return value
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise Invalid(f"expected true or false, got {raw!r}")
        return raw.lower() == "true"
    return raw


def check(value: Any, schema: Mapping[str, Any]) -> None:
    """Raise Invalid unless ``value`` satisfies the schema's type and constraints."""
    kind = schema.get("type")
    if kind == "array":
        _check_array(value, schema)
    elif kind == "object":
        _check_object(value, schema)
    elif kind == "integer":
        _check_integer(value, schema)
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Invalid(f"expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(f"expected a boolean, got {value!r}")
    elif kind == "string":
        _check_string(value, schema)
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(option) for option in schema["enum"])
        raise Invalid(f"expected one of {allowed}, got {value!r}")


def _check_array(value: Any, schema: Mapping[str, Any]) -> None:
    if not isinstance(value, list):
        raise Invalid("expected an array")
    if "minItems" in schema and len(value) < schema["minItems"]:
        raise Invalid(f"expected at least {schema['minItems']} items, got {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise Invalid(f"expected at most {schema['maxItems']} items, got {len(value)}")
    if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) != len(value):
        raise Invalid("expected unique items")
    for index, item in enumerate(value):
        try:
            check(item, schema.get("items", {}))
        except Invalid as error:
            raise Invalid(f"item {index}: {error.message}") from None


def _check_object(value: Any, schema: Mapping[str, Any]) -> None:
    """An object: required properties present, known ones valid, unknown ones refused."""
    if not isinstance(value, dict):
        raise Invalid(f"expected an object, got {value!r}")
    properties: Mapping[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in value]
    if missing:
        raise Invalid(f"missing required field(s) {', '.join(missing)}")
    unknown = sorted(set(value) - set(properties))
    if unknown and schema.get("additionalProperties") is not True:
        allowed = ", ".join(properties) or "none"
        raise Invalid(f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    for name, item in value.items():
        try:
            check(item, properties.get(name, {}))
        except Invalid as error:
            raise Invalid(f"{name}: {error.message}") from None


def _check_integer(value: Any, schema: Mapping[str, Any]) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"expected an integer, got {value!r}")
    low, high = _INT_RANGES.get(schema.get("format", "int64"), _INT_RANGES["int64"])
    low = max(low, schema.get("minimum", low))
    high = min(high, schema.get("maximum", high))
    if not low <= value <= high:
        raise Invalid(f"expected an integer between {low} and {high}, got {value}")


def _check_string(value: Any, schema: Mapping[str, Any]) -> None:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {value!r}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise Invalid(f"expected at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise Invalid(f"expected at most {schema['maxLength']} characters")
    if schema.get("format") == "uuid" and not _UUID.fullmatch(value):
        raise Invalid(f"expected a UUID, got {value!r}")


def canonical(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(canonical(item) for item in value)
    return str(value)


@dataclass
class Bound:
    """Validated parameters: ``data`` for the Dataset, ``paging`` the pagination values."""

    data: dict[str, str]
    paging: dict[str, Any]


def bind(route: Route, path_params: Mapping[str, str], query: Mapping[str, list[str]]) -> Bound:
    details = []
    data: dict[str, str] = {}
    paging: dict[str, Any] = {}
    for param in route.params:
        if param.location == "path":
            raw: str | None = path_params.get(param.name)
        else:
            values = query.get(param.name)
            raw = ",".join(values) if values and param.schema.get("type") == "array" else None
            if values and raw is None:
                raw = values[0]
        where = f"{param.location}.{param.name}"
        if raw is None:
            if param.required:
                details.append(
                    {"location": where, "message": "required parameter is missing", "value": None}
                )
            continue
        try:
            value = coerce(raw, param.schema)
            check(value, param.schema)
        except Invalid as error:
            details.append({"location": where, "message": error.message, "value": raw})
            continue
        if param.name in PAGING_PARAMS:
            paging[param.name] = value
        else:
            data[param.name] = canonical(value)
    if "before" in paging and "after" in paging:
        details.append(
            {
                "location": "query.before",
                "message": "'before' and 'after' are mutually exclusive",
                "value": paging["before"],
            }
        )
    if details:
        raise BadRequest(details)
    return Bound(data, paging)


class BadRequest(Exception):
    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(details)
        self.details = details

    def body(self) -> dict[str, Any]:
        summary = "; ".join(f"{d['location']}: {d['message']}" for d in self.details)
        return {"error": f"invalid request: {summary}", "status": 400, "details": self.details}
