"""Walking ESI's three pagination styles into one list of records.

- ``x-pages``: page 1 says ``X-Pages``; pages 2..N run concurrently. All pages
  of one result must share one ``Last-Modified``; when ESI refreshed the data
  mid-walk, the stale pages are fetched again (bounded), else
  :class:`~esiframe.errors.InconsistentPagesError`. A refresh that shrinks
  the page count (a 404 for a page past the new end) starts the walk again.
- ``cursor``: from the newest records, walk ``before`` until an empty page;
  a record seen twice keeps its first (newer) copy, and the ``after`` token of
  the first (newest) answer is kept. Given ``after=``, walk forward until an
  empty page, each time from the newest ``after``; a record seen twice keeps
  its later (newer) copy (docs/esi.md §3.2).
- ``from_id``: newest first; ask again from the last id until only that
  record comes back (docs/esi.md §3.3).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ClientError, InconsistentPagesError, ParameterError
from .http import Response, iso_time
from .operations import Call, Operation

__all__ = ["Fetch", "Walk", "cursor_field", "cursor_start", "record_key", "walk"]

#: fetch(call, extra query, force_refresh) -> Response
Fetch = Callable[[Call, Mapping[str, Any], bool], Response]

_MAX_REFETCH_ROUNDS = 3
_CURSOR_LIMIT = 100


@dataclass
class Walk:
    """The records of one call, and the responses they came from (in page order)."""

    records: list[Any]
    responses: list[Response] = field(default_factory=list)
    body: Any = None
    #: cursor routes: ``{"after": token, "issued": when ESI sent it}`` to walk on from
    cursor: Mapping[str, Any] | None = None

    def decoded(self) -> list[Any] | None:
        """The pages as the fetch workers typed them on arrival (``Response.decoded``), in
        order; None if any page was parsed as JSON instead (its records are in ``records``)."""
        if not self.responses or any(r.decoded is None for r in self.responses):
            return None
        return [r.decoded for r in self.responses]


def walk(
    call: Call,
    fetch: Fetch,
    executor: Executor,
    *,
    pages: int | None = None,
    on_total: Callable[[int], None] | None = None,
    after: str | None = None,
) -> Walk:
    """All records of ``call``; ``pages`` limits the walk to the first N pages/requests.

    ``after`` (cursor routes): only the records new or changed since that token.
    """
    style = call.operation.pagination
    if style == "x-pages":
        return _walk_x_pages(call, fetch, executor, pages, on_total)
    if style == "cursor" and after is not None:
        return _walk_after(call, fetch, pages, after)
    if style == "cursor":
        return _walk_cursor(call, fetch, pages)
    if style == "from_id":
        return _walk_from_id(call, fetch, pages)
    response = fetch(call, {}, False)
    return Walk([], [response], response.body)


def _walk_x_pages(
    call: Call,
    fetch: Fetch,
    executor: Executor,
    limit: int | None,
    on_total: Callable[[int], None] | None,
) -> Walk:
    for walk_number in range(_MAX_REFETCH_ROUNDS + 1):
        # A walk started again because page 1 was stale must not read page 1 from a cache.
        first = fetch(call, {"page": 1}, walk_number > 0)
        total = int(first.headers.get("X-Pages") or 1)
        count = min(total, limit) if limit else total
        if on_total is not None:  # every round: a walk started again sends its pages again
            on_total(count)
        try:
            pages = range(2, count + 1)
            rest = list(executor.map(lambda n: fetch(call, {"page": n}, False), pages))
            agreed = _agree(call, fetch, executor, [first, *rest])
        except ClientError as exc:
            if exc.status != 404:
                raise
            agreed = None  # the page count shrank mid-walk (docs/esi.md §3.1): start again
        if agreed is not None:
            records = [r for response in agreed for r in (response.body or [])]
            return Walk(records, agreed)
    raise InconsistentPagesError(
        f"{call.operation.operation_id} {call.params}: ESI changed the data during every one "
        f"of {_MAX_REFETCH_ROUNDS + 1} walks; the pages never agreed on Last-Modified. "
        "Try again later."
    )


def _agree(
    call: Call, fetch: Fetch, executor: Executor, responses: list[Response]
) -> list[Response] | None:
    """Refetch stale pages until all share the newest Last-Modified.

    Returns None when page 1 itself changed (the page count may have moved):
    the caller then starts the walk again.
    """
    for _ in range(_MAX_REFETCH_ROUNDS):
        stamps = [iso_time(r.headers.get("Last-Modified")) or "" for r in responses]
        newest = max(stamps)
        stale = [i for i, stamp in enumerate(stamps) if stamp != newest]
        if not stale:
            return responses
        if 0 in stale:
            return None
        fresh = executor.map(lambda i: fetch(call, {"page": i + 1}, True), stale)
        for i, response in zip(stale, fresh, strict=True):
            responses[i] = response
    return None


def record_key(record: Any, keys: Sequence[str]) -> str:
    """The identity of a record for de-duplication: its id fields, else all of it."""
    if isinstance(record, Mapping):
        present = [record[k] for k in keys if k in record]
        if present:
            return json.dumps(present, default=str)
    return json.dumps(record, sort_keys=True, default=str)


def _id_fields(record_schema: Mapping[str, Any]) -> list[str]:
    props = record_schema.get("properties", {})
    if "id" in props:
        return ["id"]
    required = record_schema.get("required", [])
    return [name for name in required if name.endswith("_id")][:1]


def cursor_field(schema: Mapping[str, Any]) -> str:
    """The record list of a cursor response (the array beside ``cursor``)."""
    lists: list[str] = [
        name
        for name, prop in schema.get("properties", {}).items()
        if prop.get("type") == "array" and name != "cursor"
    ]
    if len(lists) != 1:
        raise ValueError(f"cannot tell the record list of a cursor response among {lists}")
    return lists[0]


def _cursor_shape(call: Call) -> tuple[str, list[str]]:
    """The record list's name in a cursor answer, and the id fields of its records."""
    schema = call.operation.response_schema or {}
    name = cursor_field(schema)
    return name, _id_fields(schema["properties"][name].get("items", {}))


def _token(response: Response, which: str) -> str | None:
    token = ((response.body or {}).get("cursor") or {}).get(which)
    return str(token) if token else None


def _walk_cursor(call: Call, fetch: Fetch, limit: int | None) -> Walk:
    name, ids = _cursor_shape(call)
    pages: list[list[Any]] = []
    seen: set[str] = set()
    responses: list[Response] = []
    query: dict[str, Any] = {"limit": _CURSOR_LIMIT}
    while limit is None or len(responses) < limit:
        response = fetch(call, query, False)
        responses.append(response)
        batch = (response.body or {}).get(name) or []
        if not batch:
            break
        fresh = []
        for record in batch:
            key = record_key(record, ids)
            if key not in seen:  # walking backwards: keep the copy already stored
                seen.add(key)
                fresh.append(record)
        pages.append(fresh)
        before = _token(response, "before")
        if not before:
            break
        query = {"limit": _CURSOR_LIMIT, "before": before}
    records = [r for page in reversed(pages) for r in page]  # oldest first, newest last
    return Walk(records, responses, cursor=_cursor(responses[0], _token(responses[0], "after")))


def _walk_after(call: Call, fetch: Fetch, limit: int | None, after: str) -> Walk:
    """Walk forward from ``after`` until an empty page, each time from the newest ``after``.

    Pages come oldest first, so a record met again later is its newer copy: it replaces
    the earlier one and moves to its newer place (docs/esi.md §3.2).
    """
    name, ids = _cursor_shape(call)
    records: dict[str, Any] = {}
    responses: list[Response] = []
    newest, source = after, None
    while limit is None or len(responses) < limit:
        response = fetch(call, {"limit": _CURSOR_LIMIT, "after": newest}, False)
        responses.append(response)
        if _token(response, "after"):
            newest, source = str(_token(response, "after")), response
        batch = (response.body or {}).get(name) or []
        if not batch:
            break
        for record in batch:
            key = record_key(record, ids)
            records.pop(key, None)
            records[key] = record
    return Walk(list(records.values()), responses, cursor=_cursor(source, newest))


def _cursor(response: Response | None, token: str | None) -> dict[str, Any] | None:
    """The cursor to keep: the token and when ESI issued it (its answer's ``Date``)."""
    if token is None:
        return None
    issued = iso_time(response.headers.get("Date")) if response is not None else None
    return {"after": token, "issued": issued}


def cursor_start(op: Operation, after: Any, now: float) -> str | None:
    """The ``after`` token a ``get(after=...)`` walks forward from, checked before any request.

    ``after`` is a token or the whole ``df.attrs["esi"]["cursor"]``. A cursor issued longer
    ago than the route's ``x-tombstone-ttl`` is refused: records deleted since then are no
    longer reported, so a walk from it would silently miss deletions (docs/esi.md §3.2).
    """
    if after is None:
        return None
    if op.pagination != "cursor":
        raise ParameterError(
            f"after= walks a cursor route forward; {op.operation_id} is not one "
            f"(its pages are {op.pagination or 'not paged'})"
        )
    cursor = after if isinstance(after, Mapping) else {"after": after}
    token = cursor.get("after")
    if not isinstance(token, str) or not token:
        raise ParameterError(
            "after= takes the token in df.attrs['esi']['cursor']['after'] (or that whole "
            f"dict) of an earlier get of {op.operation_id}; got {after!r}"
        )
    ttl = cursor.get("tombstone_ttl") or op.tombstone_ttl
    issued = cursor.get("issued")
    if ttl and issued and now - datetime.fromisoformat(str(issued)).timestamp() > float(ttl):
        raise ParameterError(
            f"this cursor was issued at {issued}, more than {op.operation_id}'s "
            f"x-tombstone-ttl ({int(ttl)} s) ago: records deleted since then are no longer "
            "reported, so walking from it could miss them. get() it again without after= "
            "for the whole list and a new cursor"
        )
    return token


def _walk_from_id(call: Call, fetch: Fetch, limit: int | None) -> Walk:
    schema = call.operation.response_schema or {}
    ids = _id_fields(schema.get("items", {})) or ["transaction_id"]
    key = ids[0]
    records: list[Any] = []
    seen: set[Any] = set()
    responses: list[Response] = []
    query: dict[str, Any] = {}
    while limit is None or len(responses) < limit:
        response = fetch(call, query, False)
        responses.append(response)
        new = [r for r in response.body or [] if r.get(key) not in seen]
        if not new:
            break
        seen.update(r.get(key) for r in new)
        records.extend(new)
        query = {"from_id": new[-1][key]}
    return Walk(records, responses)
