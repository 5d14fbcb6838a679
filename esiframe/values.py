"""Checking one value against a JSON schema, the way a user hands it to esiframe.

Values come from Python, numpy and pandas alike: ``np.int64`` read from a
frame is an integer, ``np.bool_`` a boolean, ``pd.Timestamp`` or
``datetime.date`` a date. Each check returns the plain JSON value that is
sent, or raises :class:`ParameterError` naming the parameter and what is
allowed. Missing values (``None``, ``NaN``, ``pd.NA``, ``NaT``) are refused:
a request cannot send "nothing" for a value it was asked to send.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["check_value", "is_listlike", "is_missing", "plain"]

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
#: Plain Python scalars: single, present values (a fast path for big fan-outs and each= rows).
_PLAIN = frozenset({int, str, bool})


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; anything else unchanged."""
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else dt.datetime.fromisoformat(str(value)[:26])
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_missing(value: Any) -> bool:
    """``None``, ``NaN``, ``pd.NA`` and ``NaT``: the ways a frame says "no value"."""
    if type(value) in _PLAIN:
        return False
    value = plain(value)
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in {"NAType", "NaTType"}


def is_listlike(value: Any) -> bool:
    """A list, tuple, set, range, generator, numpy array or pandas Series/Index.

    Strings, bytes, mappings and numpy scalars (0-dimensional) are single values.
    """
    if type(value) in _PLAIN:
        return False
    if isinstance(value, str | bytes | Mapping | np.generic):
        return False
    if getattr(value, "ndim", 1) == 0:
        return False
    return isinstance(value, Iterable) or hasattr(value, "tolist")


def check_value(name: str, schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` as sent, checked against ``schema`` (objects and arrays recursively)."""
    kind = schema.get("type", "string")
    if type(value) in _PLAIN and kind not in {"array", "object"}:
        return _check_scalar(name, schema, kind, value)
    value = plain(value)
    if is_missing(value):
        raise ParameterError(f"{name} is missing ({value!r}); give a value")
    if kind == "object":
        return _check_object(name, schema, value)
    if kind == "array":
        if not is_listlike(value):
            raise ParameterError(f"{name} must be a list, got {value!r}")
        items = [check_value(f"{name} item", schema.get("items", {}), v) for v in value]
        if schema.get("uniqueItems"):
            items = list(dict.fromkeys(items)) if all(_hashable(v) for v in items) else items
        check_length(name, schema, items)
        return items
    return _check_scalar(name, schema, kind, value)


def _check_scalar(name: str, schema: Mapping[str, Any], kind: str, value: Any) -> Any:
    if kind == "integer":
        value = _integer(name, schema, value)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        value = float(value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ParameterError(f"{name} must be True or False, got {value!r}")
    else:
        value = _string(name, schema, value)
    enum = schema.get("enum")
    if enum and value not in enum:
        allowed = ", ".join(map(repr, enum))
        raise ParameterError(f"{name}={value!r} is not allowed; allowed values: {allowed}")
    return value


def _integer(name: str, schema: Mapping[str, Any], value: Any) -> int:
    if type(value) is not int and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral)
    ):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    number = int(value)
    low, high = _INT_RANGES.get(schema.get("format", ""), (None, None))
    low = schema.get("minimum", low)
    high = schema.get("maximum", high)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ParameterError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _string(name: str, schema: Mapping[str, Any], value: Any) -> str:
    """A string; for ``format: date``/``date-time`` also a date, datetime or Timestamp."""
    form = schema.get("format")
    if isinstance(value, str):
        text = str(value)
        if form == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise ParameterError(f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None
    elif form in {"date", "date-time"} and isinstance(value, dt.date):
        text = _iso(value, form)
    else:
        what = "a date or a string" if form in {"date", "date-time"} else "a string"
        raise ParameterError(f"{name} must be {what}, got {value!r}")
    check_length(name, schema, text, what="characters")
    return text


def _iso(value: dt.date, form: str) -> str:
    if form == "date":
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if value.tzinfo is None:  # ESI's times are UTC; a naive time is read as UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_object(name: str, schema: Mapping[str, Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(f"{name} must be a dict, got {value!r}")
    properties: Mapping[str, Any] = schema.get("properties", {})
    unknown = [key for key in value if key not in properties]
    if unknown and properties and not schema.get("additionalProperties"):
        allowed = ", ".join(properties)
        raise ParameterError(f"{name} has unknown field(s) {unknown}; allowed: {allowed}")
    missing = [key for key in schema.get("required", ()) if key not in value]
    if missing:
        raise ParameterError(f"{name} needs field(s) {', '.join(missing)}")
    return {
        key: check_value(f"{name}[{key!r}]", properties.get(key, {}), item)
        for key, item in value.items()
    }


def check_length(
    name: str, schema: Mapping[str, Any], value: Sequence[Any], what: str = "items"
) -> None:
    """Refuse a string or list outside the schema's min/max length."""
    key = "Length" if what == "characters" else "Items"
    low, high = schema.get(f"min{key}"), schema.get(f"max{key}")
    if low is not None and len(value) < low:
        raise ParameterError(f"{name} needs at least {low} {what}, got {len(value)}")
    if high is not None and len(value) > high:
        raise ParameterError(f"{name} allows at most {high} {what}, got {len(value)}")


def _hashable(value: Any) -> bool:
    return not isinstance(value, dict | list)
