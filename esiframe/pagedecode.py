"""X-Pages answers typed as they arrive: the decoder the fetch workers run, and the frame.

A walk of hundreds of pages used to parse every body into Python dicts and type
them all after the last page. Instead each worker hands its page body (bytes) to
:func:`~esiframe.decode.decode_page` the moment it arrives (Arrow's JSON reader,
without the GIL), the bytes are dropped, and :func:`decoded_frame` joins the
typed pages once at the end. Frames and dtypes are those of the record path.

:func:`decode_later` hands the bodies to decoding threads of their own instead, so that a
fetch worker sends its next request at once: the requests of a walk then go out
while earlier pages are typed, rather than in bursts between them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any

import pandas as pd

from .decode import DecodedPage, decode_page, frame_plan, tables_to_frame
from .frames import DtypeBackend
from .operations import Call, Operation
from .paging import Walk
from .shapes import check_answer

__all__ = ["PendingPage", "decode_later", "decoded_frame", "page_decoder", "record_schema"]

#: Bodies waiting for a decoding thread at most; a fetch worker with one more waits (a walk's
#: memory stays bounded when pages arrive faster than they are typed).
QUEUED = 32
#: The start of a body kept to say what came, should it not be JSON after all.
_EXCERPT = 200


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


class PendingPage:
    """A page body being typed on a decoding thread; :meth:`result` waits for the page."""

    def __init__(self, future: Future[DecodedPage], operation: str, excerpt: bytes) -> None:
        self._future, self._operation, self._excerpt = future, operation, excerpt
        self.url = ""  # set by the fetcher once the answer is in

    def result(self) -> DecodedPage:
        """The typed page; UnexpectedAnswerError when the body was not JSON after all."""
        try:
            return self._future.result()
        except ValueError:
            text = self._excerpt.decode("utf-8", "replace")
            check_answer(self._operation, "array", text, self.url)  # raises: text, not a list
            raise


def decode_later(
    decode: Callable[[bytes], DecodedPage], pool: Executor, operation: str
) -> Callable[[bytes], DecodedPage | PendingPage]:
    """``decode`` run on ``pool``: what a fetch worker calls instead, returning at once.

    A body that cannot be a JSON array (an HTML page, text, an object, nothing) is decoded
    on the spot, so its ``ValueError`` reaches the fetcher as before and the walk stops at
    that page. At most :data:`QUEUED` bodies wait for ``pool``.
    """
    slots = threading.BoundedSemaphore(QUEUED)

    def submit(body: bytes) -> DecodedPage | PendingPage:
        stripped = body.strip()
        if stripped[:1] != b"[" or stripped[-1:] != b"]":
            return decode(body)
        slots.acquire()
        try:
            future = pool.submit(decode, body)
        except RuntimeError:  # the pool was shut down: the call is stopping
            slots.release()
            return decode(body)
        future.add_done_callback(lambda _: slots.release())
        return PendingPage(future, operation, body[:_EXCERPT])

    return submit


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
        pages += [p.result() if isinstance(p, PendingPage) else p for p in decoded]
        extras += [call.fanout] * len(decoded)
    plan = frame_plan(item, op.operation_id, fanned)
    frame = tables_to_frame(pages, plan, backend, extras if plan.extra else None)
    return frame, plan.merged_schema
