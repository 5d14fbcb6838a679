"""Page bodies (bytes) -> typed DataFrames, decoded page by page off the GIL.

The record path (``json.loads`` + :func:`~esiframe.frames.to_frame`) holds the
GIL for every value and keeps a Python dict per record. Here each page body is
parsed by Arrow's JSON reader, which releases the GIL, against an explicit Arrow
schema made from the response schema, so column types never depend on what a
page happens to hold. Call :func:`decode_page` in worker threads as pages
arrive, then :func:`tables_to_frame` once: the frame has exactly the columns
and dtypes ``to_frame`` gives for the same records.

A page that does not fit the explicit schema (a field the schema does not
list, a value of another type, a null record) is decoded with ``json.loads``
instead, and the whole answer then goes through ``to_frame``, which keeps
unlisted fields and off-schema values and warns about the latter. Schemas with
list, map or free-form fields always take the record path: their
numpy_nullable columns hold the values exactly as sent, which only the
records have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .frames import (
    DtypeBackend,
    Misfit,
    _build,
    _Column,
    _finish,
    _Node,
    _node,
    check_dtype_backend,
    to_frame,
    warn_misfits,
)

__all__ = ["DecodedPage", "FramePlan", "decode_page", "frame_plan", "tables_to_frame"]

_FLAT_KINDS = frozenset({"int", "float", "bool", "datetime", "date", "enum", "string"})
_WRAP = "records"


@dataclass(frozen=True, eq=False)
class FramePlan:
    """How the pages of one operation become a frame; build once per call, share read-only.

    ``extra`` are the fan-out columns added to every row of a page (e.g.
    ``region_id``), as (name, parameter schema), placed first. Names the record
    schema already lists are left out: the records carry them.
    """

    record_schema: Mapping[str, Any]
    operation: str = ""
    extra: tuple[tuple[str, Mapping[str, Any]], ...] = ()

    @cached_property
    def merged_schema(self) -> Mapping[str, Any]:
        """The record schema with the fan-out columns as required properties, first."""
        if not self.extra:
            return self.record_schema
        extra = dict(self.extra)
        return {
            **self.record_schema,
            "properties": {**extra, **(self.record_schema.get("properties") or {})},
            "required": [*extra, *(self.record_schema.get("required") or ())],
        }

    @cached_property
    def node(self) -> _Node:
        return _node(self.merged_schema, True)

    @cached_property
    def page_node(self) -> _Node:
        """The node of one record as the page holds it (no fan-out columns)."""
        return _node(self.record_schema, True)

    @cached_property
    def read_schema(self) -> pa.Schema | None:
        """The explicit schema of a wrapped page, or None when pages need the record path."""
        if not _flat(self.page_node) or self.page_node.kind != "object":
            return None
        return pa.schema([pa.field(_WRAP, pa.list_(_read_type(self.page_node)))])


def frame_plan(
    record_schema: Mapping[str, Any],
    operation: str = "",
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> FramePlan:
    """A :class:`FramePlan` for records of ``record_schema`` (the items of an array answer)."""
    if not isinstance(record_schema, Mapping):
        raise TypeError(f"record_schema must be a mapping, got {type(record_schema).__name__}")
    listed = record_schema.get("properties") or {}
    fanned = tuple((n, s) for n, s in (extra or {}).items() if n not in listed)
    plan = FramePlan(record_schema, operation, fanned)
    _ = plan.read_schema, plan.node  # worked out now, before worker threads share the plan
    return plan


def _read_type(node: _Node) -> pa.DataType:
    """What Arrow's reader reads a node as: raw types, but times parsed already (it parses
    ISO 8601 with or without a zone, zoneless as UTC, like the record path)."""
    if node.kind == "object":
        return pa.struct([pa.field(n, _read_type(c)) for n, c in node.children])
    return node.final_type if node.kind == "datetime" else node.raw_type


def _flat(node: _Node) -> bool:
    """Whether Arrow's reader can give this node's exact values (no lists, maps, free forms)."""
    if node.kind == "object":
        return bool(node.children) and all(_flat(c) for _, c in node.children)
    return node.kind in _FLAT_KINDS


@dataclass(frozen=True, eq=False)
class DecodedPage:
    """One page: its records as an Arrow struct array of raw types, or as Python records."""

    rows: int
    arrow: pa.StructArray | None = None
    records: list[Any] | None = None


def decode_page(body: bytes, plan: FramePlan) -> DecodedPage:
    """Parse one page body (a JSON array of records); safe to call from many threads.

    Arrow's reader runs without the GIL. A body that does not fit
    ``plan.read_schema`` is parsed with ``json.loads`` instead: nothing is lost,
    the frame is then built by the record path. Raises ``ValueError`` when the
    body is not JSON or not an array.
    """
    schema = plan.read_schema
    if schema is not None:
        arrow = _read(body, schema)
        if arrow is not None:
            return DecodedPage(len(arrow), arrow=arrow)
    records = json.loads(body)
    if not isinstance(records, list):
        raise ValueError(
            f"{plan.operation or 'the answer'}: a page must be a JSON array of records, "
            f"got {type(records).__name__}"
        )
    return DecodedPage(len(records), records=records)


def _read(body: bytes, schema: pa.Schema) -> pa.StructArray | None:
    """The records of ``body`` read as one value ``{"records": [...]}``, or None if they
    do not fit. Raw newlines can only be whitespace between JSON tokens (inside
    strings they are escaped), so they become spaces: the reader wants one line."""
    import pyarrow.json as pa_json  # first needed here: not imported with esiframe

    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\n", b" ").replace(b"\r", b" ")
    data = b"".join((b'{"', _WRAP.encode(), b'":', body, b"}"))  # one copy of the body
    try:
        table = pa_json.read_json(
            pa.BufferReader(data),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 64),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error"
            ),
            # malloc, not Arrow's default mimalloc pool: that keeps a heap per fetch
            # thread and holds freed pages, which raised a walk's peak RSS by ~60 MiB
            memory_pool=pa.system_memory_pool(),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    column = table.column(0)
    if table.num_rows != 1 or column.null_count:
        return None
    records = column.chunk(0).flatten()
    assert isinstance(records, pa.StructArray)
    return None if records.null_count else records


def tables_to_frame(
    pages: Sequence[DecodedPage],
    plan: FramePlan,
    dtype_backend: DtypeBackend = "numpy_nullable",
    extra_columns: Sequence[Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """The decoded pages, in order, as one typed frame.

    ``extra_columns[i]`` holds the fan-out values of page ``i`` (one value per
    name in ``plan.extra``; other names are ignored), repeated on each of its
    rows. Columns and dtypes are those :func:`~esiframe.frames.to_frame` gives
    for the same records; off-schema values warn the same way.
    """
    check_dtype_backend(dtype_backend)
    values = _fanout_values(pages, plan, extra_columns)
    if all(p.arrow is not None for p in pages) and plan.read_schema is not None:
        return _arrow_frame(pages, plan, dtype_backend, values)
    records: list[Any] = []
    for page, fanned in zip(pages, values, strict=True):
        rows = page.records if page.records is not None else _pylist(page, plan)
        if fanned:
            rows = [{**fanned, **r} if isinstance(r, dict) else r for r in rows]
        records.extend(rows)
    return to_frame(
        records, plan.merged_schema, dtype_backend=dtype_backend, operation=plan.operation
    )


def _pylist(page: DecodedPage, plan: FramePlan) -> list[Any]:
    """A fast page as records again, times back as ISO text, for the record path."""
    assert page.arrow is not None
    rows: list[Any] = _as_text(page.arrow, plan.page_node).to_pylist()
    return rows


def _as_text(arr: pa.Array, node: _Node) -> pa.Array:
    """Undo the reader's time parsing: ``to_frame`` takes times as text (microseconds kept)."""
    if node.kind == "datetime":
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ")
    if node.kind != "object":
        return arr
    assert isinstance(arr, pa.StructArray)
    parts = [_as_text(a, c) for a, (_, c) in zip(arr.flatten(), node.children, strict=True)]
    fields = [pa.field(n, a.type) for (n, _), a in zip(node.children, parts, strict=True)]
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays(parts, fields=fields, mask=mask)


def _fanout_values(
    pages: Sequence[DecodedPage],
    plan: FramePlan,
    extra_columns: Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    names = [name for name, _ in plan.extra]
    if not names:
        return [{} for _ in pages]
    if extra_columns is None or len(extra_columns) != len(pages):
        given = "none" if extra_columns is None else len(extra_columns)
        raise ValueError(
            f"extra_columns needs one mapping per page ({len(pages)}) with {names}, got {given}"
        )
    out = []
    for i, values in enumerate(extra_columns):
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"extra_columns[{i}] lacks {missing}; each page needs {names}")
        out.append({n: values[n] for n in names})
    return out


def _arrow_frame(
    pages: Sequence[DecodedPage],
    plan: FramePlan,
    backend: DtypeBackend,
    values: list[dict[str, Any]],
) -> pd.DataFrame:
    """The frame from the pages' arrays, column by column, without concatenating them:
    each column is a chunked array (one chunk per page) that pandas copies once."""
    chunks = [p.arrow for p in pages if p.arrow is not None]
    columns = [
        _Column(name, _constant(name, node, pages, values), True, (name,), node)
        for name, node in plan.node.children[: len(plan.extra)]
    ]
    columns += _chunked_columns(chunks, plan.page_node)
    misfits: list[Misfit] = []
    columns = [_finish_column(c, misfits) for c in columns]
    warn_misfits(misfits, plan.operation)
    return _build(columns, [], backend, sum(p.rows for p in pages))


def _chunked_columns(
    chunks: list[pa.StructArray],
    node: _Node,
    required: bool = True,
    name: str = "",
    path: tuple[str, ...] = (),
) -> list[_Column]:
    """Like ``frames._columns`` (``parent_child`` names) over many record arrays at once."""
    required = required and node.required
    if node.kind != "object":
        return [_Column(name, pa.chunked_array(chunks, _read_type(node)), required, path, node)]
    flat = [chunk.flatten() for chunk in chunks]  # children of a null parent are null
    out: list[_Column] = []
    for i, (key, child) in enumerate(node.children):
        parts = [fields[i] for fields in flat]
        out += _chunked_columns(
            parts, child, required, f"{name}_{key}" if name else key, (*path, key)
        )
    return out


def _finish_column(column: _Column, misfits: list[Misfit]) -> _Column:
    """Dates and enums as ``to_frame`` types them; times were parsed by the reader."""
    if column.node.kind not in ("date", "enum"):
        return column
    array = column.array
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array, node = _finish(array, column.node, column.name, misfits)
    return replace(column, array=array, node=node)


def _constant(
    name: str, node: _Node, pages: Sequence[DecodedPage], values: list[dict[str, Any]]
) -> pa.Array:
    """A fan-out column: each page's value repeated on its rows."""
    chunks = [
        pa.repeat(pa.scalar(v[name], node.raw_type), p.rows)
        for p, v in zip(pages, values, strict=True)
    ]
    return pa.chunked_array(chunks, node.raw_type)
