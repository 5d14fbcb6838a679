"""What a frame's columns must look like, read from the spec independently of esiframe.frames.

Tests compare esiframe's frames against these expectations, so a mistake in the
frames module cannot hide behind itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

import esiframe as ef
from esiframe.spec import bundled_spec

SPEC = bundled_spec()


def expected_columns(schema: Mapping[str, Any], prefix: str = "") -> dict[str, Mapping[str, Any]]:
    """Column name -> the schema of its values, flattening nested objects as parent_child."""
    props: dict[str, Any] = dict(schema.get("properties", {}))
    for variant in schema.get("oneOf", []) + schema.get("anyOf", []):
        props.update(variant.get("properties", {}))
    columns: dict[str, Mapping[str, Any]] = {}
    for name, prop in props.items():
        if (prop.get("type") == "object" and "properties" in prop) or "oneOf" in prop:
            columns.update(expected_columns(prop, f"{prefix}{name}_"))
        else:
            columns[prefix + name] = prop
    return columns


def dtype_fits(dtype: Any, prop: Mapping[str, Any]) -> bool:
    kind, fmt = prop.get("type"), prop.get("format")
    if isinstance(kind, list):  # ["boolean", "null"]: the value's type, nullable
        kind = next(k for k in kind if k != "null")
    if kind == "integer":
        return pd.api.types.is_integer_dtype(dtype)
    if kind == "number":
        return pd.api.types.is_float_dtype(dtype)
    if kind == "boolean":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "string" and fmt == "date-time":
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if kind == "string" and fmt == "date":
        return pd.api.types.is_datetime64_dtype(dtype)
    if kind == "string" and "enum" in prop:
        return isinstance(dtype, pd.CategoricalDtype)
    if kind == "string":
        return pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
    return pd.api.types.is_object_dtype(dtype)  # lists and free-form maps stay Python objects


def record_schema(op_id: str) -> tuple[Mapping[str, Any], str | None]:
    op = SPEC.operation(op_id)
    schema = op.response_schema or {}
    if op.pagination == "cursor":
        listed = next(
            n for n, p in schema["properties"].items() if p.get("type") == "array" and n != "cursor"
        )
        return schema["properties"][listed]["items"], None
    if schema.get("type") == "array":
        item = schema["items"]
        if item.get("type") != "object":
            return item, ef.frames.scalar_column_name(op.path)
        return item, None
    if schema.get("type") in ("integer", "number"):
        return schema, op.path.rsplit("/", 1)[-1]
    return schema, None


def check_frame(df: pd.DataFrame, op_id: str) -> None:
    """Assert every column the schema promises is there with a fitting dtype."""
    assert isinstance(df.index, pd.RangeIndex)
    schema, scalar = record_schema(op_id)
    if scalar is not None:
        assert list(df.columns) == [scalar]
        assert dtype_fits(df[scalar].dtype, schema), (scalar, df[scalar].dtype)
        return
    for column, prop in expected_columns(schema).items():
        assert column in df.columns, (column, list(df.columns))
        assert dtype_fits(df[column].dtype, prop), (column, df[column].dtype, prop)
