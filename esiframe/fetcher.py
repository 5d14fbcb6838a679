"""Fetching a plan: every job's pages, concurrently, within the request budget.

:class:`PageFetcher` sends the pages of one job (its language, the call's
headers and limits); :func:`run_jobs` walks all jobs on a thread pool and
stops them all promptly on the first failure or Ctrl-C: workers see a stop
flag (never a KeyboardInterrupt of their own) and the main thread waits in
short steps, so an interrupt is handled within a fraction of a second even
while requests hang.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import (
    EsiError,
    EsiHTTPError,
    InconsistentPagesError,
    ParameterError,
    RateLimitedError,
    TransportError,
)
from .http import Response, Stopped, Transport
from .limits import RouteLimit, Wait
from .operations import Call, Operation
from .pagedecode import PendingPage, decode_later
from .paging import walk
from .plan import Job, Options
from .progress import Progress
from .shapes import check_answer, promised_shape

__all__ = ["Budget", "FetchContext", "PageFetcher", "run_jobs"]

#: How often the main thread looks up from waiting, to notice Ctrl-C.
_POLL = 0.2
#: After a stop, how long requests already on the wire may finish (and be cached).
_GRACE = 0.5
#: Threads typing page bodies (Arrow's reader runs without the GIL, one body per thread).
#: Two kept up with 16 fetch workers on two cores; a third added memory and no speed.
_DECODERS = max(1, min(2, os.cpu_count() or 1))


class Budget:
    """The requests a call may still send (``max_requests``), shared by its jobs.

    Page counts become known only from page 1; a walk reserves its other
    pages here before fetching them, so a call never sends more than allowed.
    """

    def __init__(self, op: Operation, limit: int, planned: int) -> None:
        self._op = op
        self._limit = limit
        self._reserved = planned
        self._lock = threading.Lock()

    def reserve(self, count: int) -> None:
        """Take ``count`` more requests, or raise ParameterError before any of them is sent."""
        with self._lock:
            if self._reserved + count > self._limit:
                raise ParameterError(
                    f"{self._op.operation_id} would send {self._reserved + count:,} requests "
                    f"(ESI announced {count + 1:,} pages of one request), more than "
                    f"max_requests={self._limit:,}. Ask for the first pages with pages=N, "
                    "or raise the limit with max_requests=... on this call, "
                    "Client(max_requests=...) or ESIFRAME_MAX_REQUESTS."
                )
            self._reserved += count


@dataclass(frozen=True)
class FetchContext:
    """Everything the jobs of one call share."""

    transport: Transport
    op: Operation
    options: Options
    owner: str
    headers: Mapping[str, str]  # the compatibility date, tenant, authorization, ...
    budget: Budget
    bar: Progress
    stop: threading.Event = field(default_factory=threading.Event)
    #: Types each page body as it arrives (X-Pages records; None: JSON as usual).
    decode: Callable[[bytes], Any] | None = None
    after: str | None = None  # cursor routes: walk forward from this token

    @property
    def route(self) -> RouteLimit:
        return RouteLimit.from_spec(self.op.rate_limit, per_minute=self.op.hidden_per_minute)


class PageFetcher:
    """Sends the pages of one job: ``fetcher(call, extra_query, refetch) -> Response``.

    When page 1 of a walk had no copy in the cache (ESI was asked without validators), the
    walk's pages were not cached (they are stored together): the lookups of pages 2..N are
    skipped, and their answers still stored.
    """

    def __init__(self, context: FetchContext, language: str) -> None:
        self._context = context
        self._route = context.route
        self._headers = {**context.headers, "Accept-Language": language}
        self._shape = promised_shape(context.op.response_schema)
        self._new_walk = False  # page 1 came new: pages 2..N are not cached

    def __call__(self, call: Call, extra: Mapping[str, Any], refetch: bool) -> Response:
        ctx = self._context
        if ctx.stop.is_set():
            raise Stopped("esiframe call stopped")
        options = ctx.options
        response = ctx.transport.send(
            ctx.op.method,
            call.path,
            route=self._route,
            owner=ctx.owner,
            query=encode_query({**call.query, **extra}),
            headers=self._headers,
            body=call.body,
            on_limit=options.on_limit,
            on_wait=self._on_wait,
            force_refresh=options.force_refresh or refetch,
            use_cache=options.use_cache,
            stop=ctx.stop,
            decode=ctx.decode,
            cache_read=not (self._new_walk and extra.get("page", 1) != 1),
        )
        if extra.get("page") == 1:
            self._new_walk = response.first_copy
        if isinstance(response.decoded, PendingPage):
            response.decoded.url = response.url  # named should the page not be JSON
        ctx.bar.advance()
        if response.status == 200 and response.decoded is None:
            check_answer(ctx.op.operation_id, self._shape, response.body, response.url)
        return response

    def _on_wait(self, wait: Wait) -> None:
        self._context.bar.status(wait.reason)

    def walk(self, job: Job, pages_pool: Executor) -> None:
        """Walk ``job``'s pages into ``job.result``; an HTTP failure goes to ``job.error``."""
        ctx = self._context

        def on_total(count: int) -> None:
            ctx.budget.reserve(count - 1)
            ctx.bar.add_total(count - 1)

        try:
            job.result = walk(
                job.call,
                self,
                pages_pool,
                pages=ctx.options.pages,
                on_total=on_total,
                after=ctx.after,
            )
        except RateLimitedError:
            raise  # on_limit="raise" stops the whole call, not one request
        except (EsiHTTPError, InconsistentPagesError, TransportError) as exc:
            job.error = exc


def run_jobs(jobs: list[Job], context: FetchContext, workers: int) -> None:
    """Walk every job concurrently; the first unexpected failure (or Ctrl-C) stops them all.

    Pages are typed on decoding threads of their own (:func:`decode_later`); all of them
    are typed when this returns."""
    pages_pool = ThreadPoolExecutor(workers, thread_name_prefix="esiframe-page")
    calls_pool = ThreadPoolExecutor(workers, thread_name_prefix="esiframe-call")
    decoders = ThreadPoolExecutor(_DECODERS, thread_name_prefix="esiframe-decode")
    if context.decode is not None:
        later = decode_later(context.decode, decoders, context.op.operation_id)
        context = replace(context, decode=later)
    futures: list[Future[None]] = []
    try:
        futures = [
            calls_pool.submit(
                _quietly_stopped, PageFetcher(context, job.language).walk, job, pages_pool
            )
            for job in jobs
        ]
        _wait_all(futures)
    except BaseException:
        context.stop.set()  # workers stop at their next request, wait or retry
        raise
    finally:
        stopped = context.stop.is_set()
        calls_pool.shutdown(wait=not stopped, cancel_futures=True)
        pages_pool.shutdown(wait=not stopped, cancel_futures=True)
        decoders.shutdown(wait=not stopped, cancel_futures=stopped)  # all typed, or none
        if stopped:  # a short grace for answers in flight; hung ones time out unattended
            wait(futures, timeout=_GRACE)
        # other processes see what the walk spent; a failing ledger must not hide why we stop
        with contextlib.suppress(EsiError) if stopped else contextlib.nullcontext():
            context.transport.limiter.flush()


def _quietly_stopped(work: Callable[[Job, Executor], None], job: Job, pool: Executor) -> None:
    with contextlib.suppress(Stopped):  # the call was stopped; the main thread says why
        work(job, pool)


def _wait_all(futures: list[Future[None]]) -> None:
    """Wait in short steps (so Ctrl-C is seen at once); re-raise the first failure."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
        for future in done:
            future.result()


def encode_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as ESI reads them (booleans as ``true``/``false``)."""
    encoded: dict[str, Any] = {}
    for name, value in query.items():
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        else:
            encoded[name] = value
    return encoded
