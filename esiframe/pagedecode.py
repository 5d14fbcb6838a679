"""X-Pages answers typed as they arrive: the decoder the fetch workers run, and the frame.

A walk of hundreds of pages used to parse every body into Python dicts and type
them all after the last page. Instead each worker hands its page body (bytes) to
:func:`~esiframe.decode.decode_page` the moment it arrives (Arrow's JSON reader,
without the GIL), the bytes are dropped, and :func:`decoded_frame` joins the
typed pages once at the end. Frames and dtypes are those of the record path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd

from .decode import DecodedPage, decode_page, frame_plan, tables_to_frame
from .frames import DtypeBackend
from .operations import Call, Operation
from .paging import Walk

__all__ = ["decoded_frame", "page_decoder", "record_schema"]


def record_schema(op: Operation) -> Mapping[str, Any] | None:
    """The schema of one record of an X-Pages answer, if its records are objects."""
    if op.pagination != "x-pages":
        return None
    item: Mapping[str, Any] = (op.response_schema or {}).get("items", {})
    if item.get("type") not in (None, "object") and "properties" not in item:
        return None  # scalar items become one named column: the record path does that
    return item


def page_decoder(op: Operation) -> Callable[[bytes], DecodedPage] | None:
    """What the fetch workers run on each page body of ``op`` (None: parse JSON as usual)."""
    item = record_schema(op)
    if item is None:
        return None
    return partial(_decode, plan=frame_plan(item, op.operation_id))


def _decode(body: bytes, plan: Any) -> DecodedPage:
    return decode_page(body, plan)


def decoded_frame(
    op: Operation,
    walks: Sequence[tuple[Call, Walk]],
    fanned: Mapping[str, Mapping[str, Any]],
    backend: DtypeBackend,
) -> tuple[pd.DataFrame, Mapping[str, Any]] | None:
    """The frame of walks whose pages were all decoded on arrival, and its record schema
    (fan-out columns first); None when some page was not (the record path takes those)."""
    item = record_schema(op)
    if item is None or not walks:
        return None
    pages: list[DecodedPage] = []
    extras: list[Mapping[str, Any]] = []
    for call, walk in walks:
        decoded = walk.decoded()
        if decoded is None:
            return None
        pages += decoded
        extras += [call.fanout] * len(decoded)
    plan = frame_plan(item, op.operation_id, fanned)
    frame = tables_to_frame(pages, plan, backend, extras if plan.extra else None)
    return frame, plan.merged_schema
