"""JSON records + the response schema -> typed DataFrames.

Column dtypes come from the ESI response schema, never from guessing. Records
are converted to Arrow in one pass (``pa.array(records, type=struct)``), then
each field is finished with Arrow compute (timestamps, dates, enums) and handed
to pandas.

Types, ``dtype_backend="numpy_nullable"`` (default) / ``"pyarrow"``:

==================================  ========================  ==========================
schema                              numpy_nullable            pyarrow
==================================  ========================  ==========================
integer, required                   ``int64``                 ``int64[pyarrow]``
integer, optional or null seen      ``Int64``                 ``int64[pyarrow]``
number                              ``float64`` (NaN missing) ``double[pyarrow]``
boolean, required                   ``bool``                  ``bool[pyarrow]``
boolean, optional or null seen      ``boolean``               ``bool[pyarrow]``
string, format date-time            ``datetime64[us, UTC]``   ``timestamp[us, tz=UTC]``
string, format date                 ``datetime64[us]``        ``date32[day]``
string with enum                    ``category``              ``dictionary<int32, str>``
other strings (also uuid)           ``string``                ``string[pyarrow]``
array                               ``object`` (lists)        ``list<...>[pyarrow]``
object with additionalProperties    ``object`` (dicts)        ``map<string, ...>``
values that do not fit the schema   ``object`` (as sent)      ``string[pyarrow]`` (JSON)
date(-time) text that is no date    ``string``                ``string[pyarrow]``
==================================  ========================  ==========================

A field whose values do not fit its schema (text where it says integer, a
number where it says boolean, an object where it says string, 1.5 where it
says integer) is never refused and never coerced: the column holds what ESI
sent, text as text and other values as JSON text with pyarrow, and an
:class:`~esiframe.errors.EsiframeWarning` names the operation and the field.

Dates are naive ``datetime64[us]`` at midnight, the same unit as timestamps,
because microseconds survive a Parquet round trip (seconds come back as ms).
Enum categories are the spec's values followed by any other values seen
(sorted): ESI adds enum values without a new compatibility date, and an
unknown value must never turn into NaN.

Nested objects are flattened to ``parent_child`` columns; ``oneOf``/``anyOf``
objects contribute the union of their variants' properties, all optional.
Arrays inside records stay one list column. With numpy_nullable it is an
``object`` column holding the lists exactly as ESI sent them, which
``DataFrame.to_parquet``/``read_parquet`` round-trip (pandas cannot read back
Arrow list dtypes from its own Parquet metadata); the item schema is kept in
``df.attrs[LIST_SCHEMAS_ATTR]`` so :func:`explode` can type the children.
With pyarrow the list column is typed Arrow all the way down. Fields the schema
does not know are kept, typed by Arrow's inference.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import EsiframeWarning

#: The ``df.attrs`` key listing ESI ``date`` columns (see :func:`date_columns`).
DATE_COLUMNS_ATTR = "esiframe_date_columns"

__all__ = [
    "DATE_COLUMNS_ATTR",
    "LIST_SCHEMAS_ATTR",
    "DtypeBackend",
    "Misfit",
    "arrow_schema",
    "check_dtype_backend",
    "date_columns",
    "explode",
    "merge_languages",
    "scalar_column_name",
    "to_frame",
    "warn_misfits",
]

DtypeBackend = Literal["numpy_nullable", "pyarrow"]

#: ``df.attrs`` key holding ``{list column: item JSON schema}`` for numpy_nullable frames.
LIST_SCHEMAS_ATTR = "esiframe_list_schemas"

_Kind = Literal[
    "int",
    "float",
    "bool",
    "datetime",
    "date",
    "enum",
    "string",
    "object",
    "list",
    "map",
    "any",
    "mixed",
]
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_ENUM = pa.dictionary(pa.int32(), pa.string())
_SCALAR_TYPES: dict[str, _Kind] = {"integer": "int", "number": "float", "boolean": "bool"}


@dataclass(frozen=True)
class _Node:
    """One schema position: what it is, whether it must be present, its parts."""

    kind: _Kind
    required: bool
    enum: tuple[str, ...] = ()
    children: tuple[tuple[str, _Node], ...] = ()
    item: _Node | None = None
    inferred: pa.DataType | None = None
    schema: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def raw_type(self) -> pa.DataType:
        """The Arrow type JSON values are read into (dates and enums as text)."""
        if self.kind == "object":
            return pa.struct([pa.field(n, c.raw_type) for n, c in self.children])
        if self.kind == "list":
            return pa.list_(self._item.raw_type)
        if self.kind == "map":
            return pa.map_(pa.string(), self._item.raw_type)
        if self.kind in ("datetime", "date", "enum", "string", "mixed"):
            return pa.string()
        return self._leaf_type

    @cached_property
    def final_type(self) -> pa.DataType:
        """The Arrow type of the finished column."""
        if self.kind == "object":
            return pa.struct([pa.field(n, c.final_type) for n, c in self.children])
        if self.kind == "list":
            return pa.list_(self._item.final_type)
        if self.kind == "map":
            return pa.map_(pa.string(), self._item.final_type)
        return {"datetime": _TIMESTAMP, "date": pa.date32(), "enum": _ENUM}.get(
            self.kind, self._leaf_type
        )

    @cached_property
    def needs_data(self) -> bool:
        """Whether the data can add to this node (unknown fields, inferred types)."""
        if self.kind in ("object", "any"):
            return True
        return self.item is not None and self.item.needs_data

    @property
    def _item(self) -> _Node:
        assert self.item is not None
        return self.item

    @property
    def _leaf_type(self) -> pa.DataType:
        if self.kind == "int":
            return pa.int64()
        if self.kind == "float":
            return pa.float64()
        if self.kind == "bool":
            return pa.bool_()
        if self.kind in ("string", "mixed"):
            return pa.string()
        return self.inferred if self.inferred is not None else pa.null()


# -- schema -> nodes ---------------------------------------------------------------------


def _field(schema: Mapping[str, Any], required: bool) -> _Node:
    """A record's field; a free-form object field (no properties, e.g. a "manual" marker)
    is kept whole as one column rather than flattened into none."""
    free_form = (
        schema.get("type") == "object"
        and not schema.get("properties")
        and not isinstance(schema.get("additionalProperties"), Mapping)
        and not (schema.get("oneOf") or schema.get("anyOf"))
    )
    return _Node("any", required, schema=schema) if free_form else _node(schema, required)


def _node(schema: Mapping[str, Any], required: bool) -> _Node:
    if not isinstance(schema, Mapping):
        raise TypeError(f"a JSON schema must be a mapping, got {type(schema).__name__}")
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return _union(schema, variants, required)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        required = required and len(kinds) == len(kind)
        kind = kinds[0] if len(kinds) == 1 else None
    if schema.get("nullable"):
        required = False
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, Mapping):
            return _Node("map", required, item=_node(extra, False), schema=schema)
        needed = set(schema.get("required") or ())
        children = tuple((name, _field(sub, name in needed)) for name, sub in props.items())
        return _Node("object", required, children=children, schema=schema)
    if kind == "array":
        return _Node("list", required, item=_node(schema.get("items") or {}, True), schema=schema)
    if kind == "string":
        enum = schema.get("enum")
        if enum and all(isinstance(v, str) for v in enum):
            return _Node("enum", required, enum=tuple(enum), schema=schema)
        fmt = schema.get("format")
        kind_: _Kind = "datetime" if fmt == "date-time" else "date" if fmt == "date" else "string"
        return _Node(kind_, required, schema=schema)
    if kind in _SCALAR_TYPES:
        return _Node(_SCALAR_TYPES[kind], required, schema=schema)
    return _Node("any", required, schema=schema)


def _union(schema: Mapping[str, Any], variants: Sequence[Any], required: bool) -> _Node:
    """oneOf/anyOf: objects merge their properties (all optional); else one shared type."""
    nodes = [_node(v, False) for v in variants]
    if all(n.kind == "object" for n in nodes):
        merged: dict[str, _Node] = {}
        for n in nodes:
            for name, child in n.children:
                merged[name] = _merge(merged[name], child) if name in merged else child
        children = tuple((name, replace(c, required=False)) for name, c in merged.items())
        return _Node("object", required, children=children, schema=schema)
    kinds = {n.kind for n in nodes}
    if len(kinds) == 1 and nodes[0].kind not in ("object", "list", "map", "enum"):
        return replace(nodes[0], required=required)
    return _Node("any", required, schema=schema)


def _merge(a: _Node, b: _Node) -> _Node:
    if a.kind == "object" and b.kind == "object":
        merged = dict(a.children)
        for name, child in b.children:
            merged[name] = _merge(merged[name], child) if name in merged else child
        return replace(a, required=False, children=tuple(merged.items()))
    if a.kind == "enum" and b.kind == "enum":
        return replace(a, required=False, enum=tuple(dict.fromkeys(a.enum + b.enum)))
    return a if a.kind == b.kind else _Node("any", False)


def _from_arrow(dtype: pa.DataType, required: bool = False) -> _Node:
    """A node for data Arrow already typed (inferred fields, exploded Arrow lists)."""
    if pa.types.is_struct(dtype):
        children = tuple((f.name, _from_arrow(f.type)) for f in dtype)
        return _Node("object", required, children=children)
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return _Node("list", required, item=_from_arrow(dtype.value_type, True))
    return _Node("any", required, inferred=dtype)


# -- data -> nodes (unknown fields, inferred types) ---------------------------------------


def _fit(node: _Node, values: Sequence[Any], where: str, misfits: list[Misfit]) -> _Node:
    """Extend ``node`` with what only the data can tell: unknown fields and their types."""
    if node.kind == "any":
        return _inferred(node, values, where, misfits)
    if node.kind == "object":
        dicts = (
            values
            if all(type(v) is dict for v in values)
            else [v for v in values if isinstance(v, dict)]
        )
        known = dict(node.children)
        children = [
            (name, _fit(child, [d.get(name) for d in dicts], f"{where}{name}.", misfits))
            if child.needs_data
            else (name, child)
            for name, child in node.children
        ]
        extra = sorted(set().union(*dicts).difference(known)) if dicts else []
        for name in extra:
            column = [d.get(name) for d in dicts]
            children.append((name, _inferred(_Node("any", False), column, where + name, misfits)))
        return replace(node, children=tuple(children))
    if node.item is not None and node.item.needs_data:
        if node.kind == "list":
            items = [x for v in values if isinstance(v, list) for x in v]
        else:
            items = [x for v in values if isinstance(v, dict) for x in v.values()]
        return replace(node, item=_fit(node.item, items, f"{where}[].", misfits))
    return node


def _inferred(node: _Node, values: Sequence[Any], where: str, misfits: list[Misfit]) -> _Node:
    """A field the schema leaves open, typed by Arrow; values of several types stay mixed.

    A free-form schema field stays one column (kind "any"); a field the schema
    does not list (``node.schema`` empty) is typed like any Arrow data.
    """
    try:
        found = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        misfits.append(Misfit(where.rstrip("."), "one type", _example(values)))
        return _Node("mixed", node.required, schema=node.schema)
    return replace(node, inferred=found) if node.schema else _from_arrow(found)


# -- records -> Arrow ---------------------------------------------------------------------


@dataclass(frozen=True)
class Misfit:
    """A field whose values do not fit the response schema, and one value that does not."""

    field: str
    expected: str
    example: Any

    def message(self, operation: str | None) -> str:
        where = f"{operation}: " if operation else ""
        return (
            f"{where}field {self.field or 'value'!r} does not fit the response schema "
            f"({self.expected}); the column keeps the values as ESI sent them, "
            f"e.g. {self.example!r:.80}"
        )


_NOTHING: Any = object()
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "int": (int, np.integer),
    "float": (int, float, np.integer, np.floating),
    "bool": (bool, np.bool_),
    "string": (str,),
    "datetime": (str,),
    "date": (str,),
    "enum": (str,),
}


def _odd_value(values: Sequence[Any], node: _Node) -> Any:
    """The first value of a type ``node`` does not take, else ``_NOTHING``.

    Arrow would silently truncate 1.5 into an integer column or read ``true``
    as 1.0 into a number column, so the Python types are checked first.
    """
    accepts = _ACCEPTS.get(node.kind)
    if accepts is None:
        return _NOTHING
    numeric = node.kind in ("int", "float")
    for kind in set(map(type, values)):
        if kind is type(None):
            continue
        if not issubclass(kind, accepts) or (numeric and issubclass(kind, (bool, np.bool_))):
            return next(v for v in values if type(v) is kind)
    return _NOTHING


def _example(values: Sequence[Any]) -> Any:
    """A value showing why ``values`` have no one type: the first of a second kind."""
    first = next((v for v in values if v is not None), None)
    return next((v for v in values if v is not None and type(v) is not type(first)), first)


def _expected(node: _Node) -> str:
    fmt = node.schema.get("format")
    kind = node.schema.get("type", node.kind)
    return f"{kind}, format {fmt}" if fmt else str(kind)


def _mixed(values: Sequence[Any]) -> pa.Array:
    """Values of any JSON type as text: strings as they are, everything else as JSON."""
    return pa.array(
        [v if v is None or isinstance(v, str) else json.dumps(v, default=str) for v in values],
        pa.string(),
    )


def _ingest(
    values: Sequence[Any], node: _Node, where: str, misfits: list[Misfit]
) -> tuple[pa.Array, _Node]:
    """Values -> an array of ``node.raw_type``; a field that does not fit becomes "mixed"."""
    if node.kind == "object" and node.children:
        return _ingest_object(values, node, where, misfits)
    odd = _odd_value(values, node)
    if odd is _NOTHING:
        try:
            return pa.array(values, type=node.raw_type), node
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            odd = _example(values)
    misfits.append(Misfit(where.rstrip("."), _expected(node), odd))
    return _mixed(values), _Node("mixed", node.required, schema=node.schema)


def _ingest_object(
    values: Sequence[Any], node: _Node, where: str, misfits: list[Misfit]
) -> tuple[pa.Array, _Node]:
    """An object position. Arrow infers the types of all fields in one pass; a field whose
    inferred type is not its schema's is then ingested alone, so one bad field does not
    spoil the others (and ints never pass through a float column or the reverse)."""
    odd = next((v for v in values if v is not None and not isinstance(v, dict)), _NOTHING)
    if odd is not _NOTHING:
        misfits.append(Misfit(where.rstrip("."), "object", odd))
        return _mixed(values), _Node("mixed", node.required, schema=node.schema)
    try:
        inferred: pa.Array | None = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        inferred = None
    if inferred is not None and not pa.types.is_struct(inferred.type):
        inferred = None  # e.g. all None
    parts: list[pa.Array] = []
    children: list[tuple[str, _Node]] = []
    for name, child in node.children:
        part = None
        if inferred is not None:
            index = inferred.type.get_field_index(name)
            part = (
                pa.nulls(len(values), child.raw_type)
                if index < 0
                else _adopt(inferred.field(index), child)
            )
        if part is None:
            column = [v.get(name) if v is not None else None for v in values]
            part, child = _ingest(column, child, f"{where}{name}.", misfits)
        parts.append(part)
        children.append((name, child))
    nulls = [v is None for v in values]
    mask = pa.array(nulls, pa.bool_()) if any(nulls) else None
    fields = [pa.field(n, p.type) for (n, _), p in zip(children, parts, strict=True)]
    array = pa.StructArray.from_arrays(parts, fields=fields, mask=mask)
    return array, replace(node, children=tuple(children))


def _adopt(arr: pa.Array, node: _Node) -> pa.Array | None:
    """An array Arrow inferred, as ``node.raw_type`` if its values fit exactly, else None."""
    target = node.raw_type
    if arr.type == target:
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), target)
    if node.kind == "float" and pa.types.is_integer(arr.type):
        return arr.cast(pa.float64())  # JSON 1 in a number field is 1.0, as pa.array does
    mask = arr.is_null() if arr.null_count else None
    if node.kind == "list" and pa.types.is_list(arr.type):
        assert isinstance(arr, pa.ListArray)
        values = _adopt(arr.values, node._item)
        return None if values is None else pa.ListArray.from_arrays(arr.offsets, values, mask=mask)
    if node.kind != "object" or not pa.types.is_struct(arr.type):
        return None
    assert isinstance(arr, pa.StructArray)
    known = {name for name, _ in node.children}
    if any(f.name not in known for f in arr.type):
        return None
    parts = []
    for name, child in node.children:
        index = arr.type.get_field_index(name)
        part = pa.nulls(len(arr), child.raw_type) if index < 0 else _adopt(arr.field(index), child)
        if part is None:
            return None
        parts.append(part)
    fields = [pa.field(n, p.type) for (n, _), p in zip(node.children, parts, strict=True)]
    return pa.StructArray.from_arrays(parts, fields=fields, mask=mask)


def _finish(
    arr: pa.Array, node: _Node, where: str, misfits: list[Misfit]
) -> tuple[pa.Array, _Node]:
    """Turn an array of ``node.raw_type`` into ``node.final_type``.

    Text that is not the date the schema promises stays text (a "string" node).
    """
    if node.raw_type == node.final_type:
        return arr, node
    mask = arr.is_null() if arr.null_count else None
    if node.kind == "object":
        assert isinstance(arr, pa.StructArray)
        done = [  # flatten(): children of a null parent are null, not filler
            _finish(part, c, f"{where}{n}.", misfits)
            for part, (n, c) in zip(arr.flatten(), node.children, strict=True)
        ]
        children = tuple((n, c) for (n, _), (_, c) in zip(node.children, done, strict=True))
        fields = [pa.field(n, p.type) for (n, _), (p, _) in zip(children, done, strict=True)]
        parts = [p for p, _ in done]
        struct = pa.StructArray.from_arrays(parts, fields=fields, mask=mask)
        return struct, replace(node, children=children)
    if node.kind in ("list", "map"):
        return _finish_nested(arr, node, where, misfits, mask)
    if node.kind in ("datetime", "date"):
        try:
            if node.kind == "datetime":
                return _parse_timestamps(arr), node
            return pc.utf8_slice_codeunits(arr, 0, 10).cast(pa.date32()), node
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            odd = _first_unparsed(arr, node.kind)
            misfits.append(Misfit(where.rstrip("."), _expected(node), odd))
            return arr, _Node("string", node.required, schema=node.schema)
    return _categories(arr, node.enum), node


def _finish_nested(
    arr: pa.Array, node: _Node, where: str, misfits: list[Misfit], mask: pa.Array | None
) -> tuple[pa.Array, _Node]:
    if node.kind == "list":
        assert isinstance(arr, pa.ListArray)
        values, item = _finish(arr.values, node._item, f"{where}[].", misfits)
        return pa.ListArray.from_arrays(arr.offsets, values, mask=mask), replace(node, item=item)
    assert isinstance(arr, pa.MapArray)
    items, item = _finish(arr.items, node._item, f"{where}[].", misfits)
    mapped = pa.MapArray.from_arrays(arr.offsets, arr.keys, items, mask=mask)
    return mapped, replace(node, item=item)


def _first_unparsed(arr: pa.Array, kind: str) -> Any:
    """The first text in ``arr`` that does not parse as the date(-time) the schema says."""
    for value in arr.drop_null().to_pylist():
        single = pa.array([value], pa.string())
        try:
            if kind == "datetime":
                _parse_timestamps(single)
            else:
                pc.utf8_slice_codeunits(single, 0, 10).cast(pa.date32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return value
    return None


def _parse_timestamps(arr: pa.Array) -> pa.Array:
    try:
        return arr.cast(_TIMESTAMP)
    except pa.ArrowInvalid:  # ISO strings without a zone: ESI's times are UTC
        naive = pc.replace_substring_regex(arr, r"(Z|[+-]00:?00)$", "")
        return naive.cast(pa.timestamp("us")).cast(_TIMESTAMP)


def _categories(arr: pa.Array, enum: tuple[str, ...]) -> pa.Array:
    """Dictionary-encode with the spec's values first, then unlisted values seen (sorted)."""
    listed = set(enum)
    seen = pc.unique(arr.drop_null()).to_pylist()
    dictionary = pa.array([*enum, *sorted(v for v in seen if v not in listed)], pa.string())
    indices = pc.index_in(arr, value_set=dictionary).cast(pa.int32())
    return pa.DictionaryArray.from_arrays(indices, dictionary)


# -- Arrow -> columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    array: pa.Array
    required: bool
    path: tuple[str, ...]
    node: _Node


def _columns(
    arr: pa.Array, node: _Node, required: bool = True, name: str = "", path: tuple[str, ...] = ()
) -> list[_Column]:
    """Flatten struct levels to ``parent_child`` columns; lists and maps stay whole."""
    required = required and node.required
    if node.kind != "object":
        return [_Column(name, arr, required, path, node)]
    assert isinstance(arr, pa.StructArray)
    out: list[_Column] = []
    for (key, child), part in zip(node.children, arr.flatten(), strict=True):
        out += _columns(part, child, required, f"{name}_{key}" if name else key, (*path, key))
    return out


def date_columns(record_schema: Mapping[str, Any]) -> list[str]:
    """The flattened columns whose schema says ``format: date`` (docs/esi.md §1).

    pandas has no date dtype, so under numpy_nullable they are ``datetime64``; the frame lists
    them in ``df.attrs[DATE_COLUMNS_ATTR]`` so that Parquet can store them as DATE again.
    """
    if not record_schema:
        return []
    specs = _column_specs(_node(record_schema, True))
    return [name for name, node, _ in specs if node.kind == "date"]


def _column_specs(node: _Node) -> list[tuple[str, _Node, bool]]:
    """Flattened (name, node, required) triples of an object node, without data."""
    out: list[tuple[str, _Node, bool]] = []

    def walk(n: _Node, prefix: str, required: bool) -> None:
        for name, child in n.children:
            req = required and child.required
            if child.kind == "object":
                walk(child, f"{prefix}{name}_", req)
            else:
                out.append((f"{prefix}{name}", child, req))

    walk(node, "", True)
    return out


def _numpy_nullable(col: _Column, raw: Sequence[Any] | None) -> Any:
    """A pandas array for one column under the numpy_nullable backend."""
    arr, dtype = col.array, col.array.type
    if raw is not None:  # list, map and mixed columns: the values as ESI sent them
        return np.fromiter(raw, dtype=object, count=len(raw))
    if pa.types.is_integer(dtype):
        if col.required and arr.null_count == 0:
            return arr.cast(pa.int64()).to_numpy()
        return _as(arr.cast(pa.int64()), pd.Int64Dtype())
    if pa.types.is_floating(dtype):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(dtype):
        if col.required and arr.null_count == 0:
            return arr.to_numpy(zero_copy_only=False)
        return _as(arr, pd.BooleanDtype())
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return _as(arr, pd.StringDtype())
    if pa.types.is_timestamp(dtype):
        return arr.to_pandas().array
    if pa.types.is_date(dtype):
        return arr.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(dtype):
        assert isinstance(arr, pa.DictionaryArray)
        codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        categories = pd.Index(arr.dictionary.to_pylist(), dtype="string")
        return pd.Categorical.from_codes(codes, categories=categories)
    return np.fromiter(arr.to_pylist(), dtype=object, count=len(arr))


def _as(arr: pa.Array, dtype: Any) -> Any:
    """Arrow -> a pandas extension array of ``dtype``, without a trip through Python objects."""
    return arr.to_pandas(types_mapper=lambda _: dtype).array


def _dig(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _build(
    columns: list[_Column], records: Sequence[Any], backend: DtypeBackend, length: int
) -> pd.DataFrame:
    names = [c.name for c in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"flattening the schema gives duplicate column names: {dupes}")
    data: dict[str, Any] = {}
    list_schemas: dict[str, Any] = {}
    for col in columns:
        if backend == "pyarrow":
            data[col.name] = pd.arrays.ArrowExtensionArray(col.array)
            continue
        raw = None
        if col.node.kind in ("list", "map", "mixed"):
            raw = [_dig(r, col.path) for r in records] if col.path else list(records)
            if col.node.kind == "list" and col.node.schema:
                list_schemas[col.name] = dict(col.node.schema.get("items") or {})
        data[col.name] = _numpy_nullable(col, raw)
    frame = pd.DataFrame(data, index=pd.RangeIndex(length), columns=names)
    if list_schemas:
        frame.attrs[LIST_SCHEMAS_ATTR] = list_schemas
    return frame


# -- public API ---------------------------------------------------------------------------


def arrow_schema(record_schema: Mapping[str, Any]) -> pa.Schema:
    """The Arrow schema of the frame :func:`to_frame` builds for an object schema.

    Nested objects are flattened to ``parent_child`` fields; a field is
    ``nullable=False`` only where the schema requires it at every level.
    """
    node = _node(record_schema, True)
    if node.kind != "object":
        raise ValueError(
            f"arrow_schema needs an object schema, got type {record_schema.get('type')!r}; "
            "a list of scalars becomes one column, see to_frame(..., column=)"
        )
    return pa.schema(
        [
            pa.field(name, child.final_type, nullable=not req)
            for name, child, req in _column_specs(node)
        ]
    )


def check_dtype_backend(dtype_backend: object) -> None:
    """Refuse a backend name this module does not build, naming the ones it does."""
    if dtype_backend not in get_args(DtypeBackend):
        raise ValueError(
            f"dtype_backend={dtype_backend!r} is not supported; use 'numpy_nullable' or 'pyarrow'"
        )


def to_frame(
    records: Sequence[Any],
    record_schema: Mapping[str, Any],
    *,
    dtype_backend: DtypeBackend = "numpy_nullable",
    column: str | None = None,
    operation: str | None = None,
) -> pd.DataFrame:
    """Records (``json.loads`` output) and the schema of one record -> a typed DataFrame.

    ``records`` is a list of dicts for an object schema, one row each, or a
    list of scalars for a scalar schema, one column named ``column``
    (default ``"value"``; see :func:`scalar_column_name`; ignored for objects).
    Columns follow the schema's property order; fields the schema does not
    know come last, sorted by name. A field whose values do not fit the schema
    keeps them as sent (see the module doc) and an :class:`EsiframeWarning`
    naming ``operation`` and the field is issued.
    """
    check_dtype_backend(dtype_backend)
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
        raise TypeError(
            f"records must be a list of records, got {type(records).__name__}; "
            "wrap a single object response in a list"
        )
    misfits: list[Misfit] = []
    columns = _typed_columns(records, _node(record_schema, True), column, misfits)
    warn_misfits(misfits, operation)
    return _build(columns, records, dtype_backend, len(records))


def _typed_columns(
    records: Sequence[Any], node: _Node, column: str | None, misfits: list[Misfit]
) -> list[_Column]:
    if node.kind == "object":
        bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
        if bad is not None:
            raise TypeError(
                f"the schema describes objects but record {bad} is "
                f"{type(records[bad]).__name__}: {records[bad]!r:.80}"
            )
        node = _fit(node, records, "", misfits)
        arr, node = _finish(*_ingest(records, node, "", misfits), "", misfits)
        return _columns(arr, node)
    if node.kind == "list" and records and isinstance(records[0], dict):
        raise TypeError(
            "record_schema is an array schema but the records are objects; pass the "
            "schema of one record (the array's 'items')"
        )
    name = column or "value"
    node = _fit(node, records, name, misfits)
    arr, node = _finish(*_ingest(records, node, name, misfits), name, misfits)
    return [_Column(name, arr, True, (), node)]


def warn_misfits(misfits: Sequence[Misfit], operation: str | None) -> None:
    """One :class:`EsiframeWarning` per field that did not fit the response schema."""
    seen: set[str] = set()
    for misfit in misfits:
        if misfit.field not in seen:
            seen.add(misfit.field)
            warnings.warn(misfit.message(operation), EsiframeWarning, stacklevel=3)


_COLUMN_OVERRIDES = {
    "/markets/groups": "market_group_id",
    "/characters/{character_id}/implants": "type_id",
    "/corporations/npccorps": "corporation_id",
    "/corporations/{corporation_id}/members": "character_id",
}


def scalar_column_name(path: str) -> str:
    """The column name for a top-level array of scalars, from the operation's path.

    ``/alliances`` -> ``alliance_id``; ``/universe/categories`` -> ``category_id``;
    a few paths whose last word is not the thing listed have an override.
    """
    template = "/" + path.strip("/")
    if template in _COLUMN_OVERRIDES:
        return _COLUMN_OVERRIDES[template]
    words = [w for w in template.split("/") if w and not w.startswith("{") and not w.isdigit()]
    if not words:
        raise ValueError(f"cannot name a column after path {path!r}: it has no plain segment")
    word = re.sub(r"[^0-9a-z]+", "_", words[-1].lower()).strip("_")
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return f"{word}_id"


def _is_list_column(df: pd.DataFrame, column: Any) -> bool:
    if column in df.attrs.get(LIST_SCHEMAS_ATTR, {}):
        return True
    series = df[column]
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return bool(
            pa.types.is_list(dtype.pyarrow_dtype) or pa.types.is_large_list(dtype.pyarrow_dtype)
        )
    if not pd.api.types.is_object_dtype(dtype):
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, (list, np.ndarray)) for v in values)


def explode(df: pd.DataFrame, column: str, *, keep: Sequence[str] | None = None) -> pd.DataFrame:
    """The child frame of a list column: one row per element, fields flattened.

    Each row repeats the parent's ``keep`` columns (default: the parent's
    scalar columns ending in ``_id``, or every scalar column if none does).
    Empty or missing lists give no rows. An element field whose name clashes
    with a kept column is named ``{column}_{field}``. An Arrow list column
    gives a pyarrow-backed child; an object list column is typed from the
    item schema in ``df.attrs[LIST_SCHEMAS_ATTR]`` (Arrow's inference without it).
    """
    if column not in df.columns:
        raise KeyError(f"no column {column!r}; list columns: {_list_columns(df) or 'none'}")
    series = df[column]
    if not _is_list_column(df, column):
        raise ValueError(
            f"column {column!r} ({series.dtype}) is not a list column; "
            f"list columns: {_list_columns(df) or 'none'}"
        )
    keep = _kept_columns(df, column, keep)
    if isinstance(series.dtype, pd.ArrowDtype):
        parents, child = _explode_arrow(series, column)
    else:
        parents, child = _explode_objects(df, series, column)
    clashes = {c: f"{column}_{c}" for c in child.columns if c in keep}
    child = child.rename(columns=clashes)
    parent = df[list(keep)].take(parents).reset_index(drop=True)
    result = pd.concat([parent, child], axis=1)
    result.attrs = {k: v for k, v in df.attrs.items() if k != LIST_SCHEMAS_ATTR}
    result.attrs.update(child.attrs)
    return result


def _kept_columns(df: pd.DataFrame, column: str, keep: Sequence[str] | None) -> list[Any]:
    others = [c for c in df.columns if c != column and not _is_nested(df[c])]
    if keep is None:
        return [c for c in others if str(c).endswith("_id")] or others
    missing = [k for k in keep if k not in df.columns or k == column]
    if missing:
        raise KeyError(
            f"keep names columns {missing} that cannot be kept; columns: "
            f"{[c for c in df.columns if c != column]}"
        )
    return list(keep)


def _explode_arrow(series: pd.Series, column: str) -> tuple[Any, pd.DataFrame]:
    """Parent row of each element, and the typed child frame, of an Arrow list column."""
    stored = pa.array(series.array)
    lists = stored.combine_chunks() if isinstance(stored, pa.ChunkedArray) else stored
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(lists)
    columns = (
        _columns(values, _from_arrow(values.type))
        if pa.types.is_struct(values.type)
        else [_Column(column, values, False, (), _from_arrow(values.type))]
    )
    return parents, _build(columns, [], "pyarrow", len(values))


def _explode_objects(df: pd.DataFrame, series: pd.Series, column: str) -> tuple[Any, pd.DataFrame]:
    """The same for an object column of Python lists, typed from the item schema."""
    elements: list[Any] = []
    where: list[int] = []
    for i, value in enumerate(series.tolist()):
        if isinstance(value, (list, np.ndarray)):
            elements.extend(value)
            where.extend([i] * len(value))
    parents = np.asarray(where, dtype=np.int64)
    schema = df.attrs.get(LIST_SCHEMAS_ATTR, {}).get(column)
    if schema is None:
        is_obj = elements and all(isinstance(e, dict) for e in elements if e is not None)
        schema = {"type": "object"} if is_obj else {}
    return parents, to_frame(elements, schema, column=column)


def _is_nested(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.ArrowDtype):
        return bool(pa.types.is_nested(series.dtype.pyarrow_dtype))
    if not pd.api.types.is_object_dtype(series.dtype):
        return False
    return bool(series.map(lambda v: isinstance(v, (list, dict, np.ndarray))).any())


def _list_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if _is_list_column(df, c)]


def _translatable(node: _Node) -> bool:
    """Plain text (no enum, no format), or a list/map holding some."""
    if node.kind == "string":
        return not node.schema.get("format")
    if node.kind == "object":
        return any(_translatable(c) for _, c in node.children)
    return node.item is not None and _translatable(node.item)


def merge_languages(
    frames: Mapping[str, pd.DataFrame], record_schema: Mapping[str, Any]
) -> pd.DataFrame:
    """One frame per language -> one frame with ``name_en``, ``name_de``, … columns.

    Translatable columns are the schema's plain text fields (no enum, no
    format) and list columns holding such text; every other column appears
    once, from the first frame. Rows are matched on the scalar ``*_id`` (and
    ``id``) columns when those identify rows uniquely in every frame, else by
    position, which needs frames of equal length.
    """
    if not frames:
        raise ValueError("merge_languages needs at least one language frame")
    for lang, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"frames[{lang!r}] must be a DataFrame, got {type(frame).__name__}")
    langs = list(frames)
    first = frames[langs[0]]
    node = _node(record_schema, True)
    specs = _column_specs(node) if node.kind == "object" else []
    texts = [
        name
        for name, child, _ in specs
        if _translatable(child) and any(name in f.columns for f in frames.values())
    ]
    rest = [c for c in first.columns if c not in texts]
    keys = [c for c in rest if (str(c).endswith("_id") or c == "id") and not _is_nested(first[c])]
    positions = _align(frames, keys)
    data: dict[str, Any] = {c: first[c].array for c in rest}
    schemas = dict(first.attrs.get(LIST_SCHEMAS_ATTR, {}))
    for name in texts:
        item = schemas.pop(name, None)
        template = next(f[name] for f in frames.values() if name in f.columns)
        for lang in langs:
            frame, label = frames[lang], f"{name}_{lang}"
            source = (
                frame[name]
                if name in frame.columns
                else pd.Series([None] * len(frame), dtype=template.dtype)
            )
            data[label] = source.array.take(positions[lang])
            if item is not None:
                schemas[label] = item
    result = pd.DataFrame(data, index=pd.RangeIndex(len(first)))
    result.attrs = {k: v for k, v in first.attrs.items() if k != LIST_SCHEMAS_ATTR}
    if schemas:
        result.attrs[LIST_SCHEMAS_ATTR] = schemas
    return result


def _align(frames: Mapping[str, pd.DataFrame], keys: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    """For each language, the row of its frame that matches each row of the first frame."""
    langs = list(frames)
    first = frames[langs[0]]
    if keys and all(all(k in f.columns for k in keys) for f in frames.values()):
        tuples = {lang: _key_tuples(f, keys) for lang, f in frames.items()}
        if all(len(set(t)) == len(t) for t in tuples.values()):
            order = tuples[langs[0]]
            out: dict[str, np.ndarray[Any, Any]] = {}
            for lang in langs:
                index = {key: i for i, key in enumerate(tuples[lang])}
                if set(index) != set(order):
                    only = sorted(map(str, set(index) ^ set(order)))[:5]
                    raise ValueError(
                        f"the {lang!r} frame does not hold the same records as the "
                        f"{langs[0]!r} frame (matching on {keys}); differing keys: {only}"
                    )
                out[lang] = np.array([index[key] for key in order], dtype=np.int64)
            return out
    lengths = {lang: len(f) for lang, f in frames.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"cannot match rows across languages: no unique id columns, and the frames "
            f"have different lengths {lengths}"
        )
    return {lang: np.arange(len(first), dtype=np.int64) for lang in langs}


def _key_tuples(frame: pd.DataFrame, keys: list[str]) -> list[tuple[Any, ...]]:
    columns = [[None if pd.isna(v) else v for v in frame[k].tolist()] for k in keys]
    return list(zip(*columns, strict=True))
