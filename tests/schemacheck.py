"""Validate ESI bodies against the spec's response schemas (a test helper).

`validate` checks with Draft 2020-12, resolves ``#/components/...`` references
against the spec itself, and checks the formats ESI uses (``date-time`` as
RFC 3339, ``date``, ``uuid``, and the ``int32``/``int64`` ranges). jsonschema
only checks ``date-time`` when the optional rfc3339-validator package is
installed, so the checker here registers its own.

The spec quirk of docs/esi.md §10: some ``oneOf`` unions (sovereignty claims,
project configuration, hub transport, freelance job parameters) list object
variants that each hold one property but require none, so any object matches
every variant and a strict ``oneOf`` always fails. Rather than weakening them
to ``anyOf`` (which would accept ``{}`` or a mix of variants), each such
variant is made to require its own property: a body then validates only when
exactly one variant's property is present, which is what ESI means.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import jsonschema

__all__ = ["fix_one_of", "format_checker", "response_schema", "validate"]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _RFC3339.match(instance):
        return False
    dt.datetime.fromisoformat(instance.upper())
    return True


def _date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _DATE.match(instance):
        return False
    dt.date.fromisoformat(instance)
    return True


def _int32(instance: object) -> bool:
    return not isinstance(instance, int) or -(2**31) <= instance < 2**31


def _int64(instance: object) -> bool:
    return not isinstance(instance, int) or -(2**63) <= instance < 2**63


def format_checker() -> jsonschema.FormatChecker:
    """The standard checker plus strict date-time, date and integer-width checks."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    checker.checks("date", raises=ValueError)(_date)
    checker.checks("int32")(_int32)
    checker.checks("int64")(_int64)
    return checker


def fix_one_of(schema: Any) -> Any:
    """A copy of `schema` whose requirement-less single-property oneOf variants require it."""
    if isinstance(schema, list):
        return [fix_one_of(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: fix_one_of(value) for key, value in schema.items()}
    variants = out.get("oneOf")
    if isinstance(variants, list):
        for variant in variants:
            props = variant.get("properties") if isinstance(variant, dict) else None
            if isinstance(props, dict) and len(props) == 1 and not variant.get("required"):
                variant["required"] = list(props)
    return out


_FIXED: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _fixed_components(spec: Mapping[str, Any]) -> Any:
    """The spec's components with the oneOf fix applied, built once per spec object."""
    hit = _FIXED.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = (spec, fix_one_of(spec["components"]))
        _FIXED[id(spec)] = hit
    return hit[1]


def validate(body: Any, schema: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `body` matches `schema` (refs into `spec`)."""
    root = {"components": _fixed_components(spec), **fix_one_of(dict(schema))}
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(root, format_checker=format_checker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise error


def response_schema(spec: Mapping[str, Any], operation_id: str) -> dict[str, Any]:
    """The application/json schema of the operation's 200 (or 201) response."""
    for item in spec["paths"].values():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") != operation_id:
                continue
            for code in ("200", "201"):
                content = op.get("responses", {}).get(code, {}).get("content", {})
                if "application/json" in content:
                    return dict(content["application/json"]["schema"])
            raise KeyError(f"{method.upper()} {operation_id} has no JSON 200/201 response")
    raise KeyError(f"no operation {operation_id!r} in the spec")
