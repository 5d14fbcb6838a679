"""From walked pages to what ``get`` returns: one typed frame, its metadata, its failures.

Pure: the jobs come in with their walks (or errors) filled in; nothing here
sends a request. Records of one language are typed by :mod:`esiframe.frames`;
several languages merge on the record key; fan-out values become columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from .errors import PartialResultError
from .frames import merge_languages, scalar_column_name, to_frame
from .http import iso_time
from .operations import Operation
from .pagedecode import decoded_frame
from .pagemeta import FrozenMeta, PageTable
from .paging import Walk, cursor_field
from .plan import Job, Options

__all__ = [
    "Context",
    "failures",
    "frame",
    "merged_metadata",
    "metadata",
    "named_frame",
    "partial_error",
    "raw",
    "served_from_cache",
    "valid_until",
]


@dataclass(frozen=True)
class Context:
    """What the metadata tells besides the pages: the call as the user made it."""

    params: Mapping[str, Any]
    compatibility_date: str  # the date sent
    compatibility_date_asked: str | None  # as the user gave it (None: the default)
    tenant: str
    character: int | None


def failures(jobs: list[Job]) -> list[dict[str, Any]]:
    """One entry per failed request: its parameters, language, HTTP status and message."""
    return [
        {
            "params": dict(job.call.params),
            "language": job.language,
            "status": getattr(job.error, "status", None),
            "error": str(job.error),
        }
        for job in jobs
        if job.error is not None
    ]


def complete(jobs: list[Job]) -> list[Job]:
    """The jobs whose call succeeded in every language (a row is never half translated)."""
    failed = {id(job.call) for job in jobs if job.error is not None}
    return [job for job in jobs if id(job.call) not in failed]


def raw(jobs: list[Job]) -> Any:
    """The parsed JSON: one call's data, or one entry per call (failed ones with 'error')."""

    def one(job: Job) -> Any:
        assert job.result is not None
        return job.result.body if job.result.body is not None else job.result.records

    if len(jobs) == 1:
        return one(jobs[0])
    return [
        {"params": dict(job.call.params), "language": job.language}
        | ({"data": one(job)} if job.error is None else {"error": str(job.error)})
        for job in jobs
    ]


def frame(op: Operation, jobs: list[Job], options: Options) -> pd.DataFrame:
    """One typed frame of the complete jobs; several languages merge as ``name_<lang>``."""
    per_language: dict[str, pd.DataFrame] = {}
    record_schema: Mapping[str, Any] = {}
    for lang in options.languages:
        mine = _joined_batches(op, [j for j in jobs if j.language == lang])
        per_language[lang], record_schema = _language_frame(op, mine, options)
    if len(per_language) == 1:
        return next(iter(per_language.values()))
    return merge_languages(per_language, record_schema)


def _language_frame(
    op: Operation, jobs: list[Job], options: Options
) -> tuple[pd.DataFrame, Mapping[str, Any]]:
    """The frame of one language; fan-out values are columns in front (unless ESI sends them)."""
    fast = _decoded_language_frame(op, jobs, options)
    if fast is not None:
        return fast
    records: list[Any] = []
    fanned: dict[str, Any] = {}
    record_schema: Mapping[str, Any] = {}
    for job in jobs:
        assert job.result is not None
        rows, record_schema = _records(op, job.result)
        for name, value in job.call.fanout.items():
            if name in record_schema.get("properties", {}):
                continue
            fanned[name] = _parameter_schema(op, name)
            for row in rows:
                row[name] = value
        records.extend(rows)
    if not record_schema:
        record_schema = _records(op, Walk([], [], None))[1]
    if fanned:
        record_schema = {
            **record_schema,
            "properties": {**fanned, **record_schema.get("properties", {})},
            "required": [*fanned, *record_schema.get("required", [])],
        }
    result = to_frame(records, record_schema, dtype_backend=options.dtype_backend)
    if fanned:
        result = result[[*fanned, *(c for c in result.columns if c not in fanned)]]
    return result, record_schema


def _decoded_language_frame(
    op: Operation, jobs: list[Job], options: Options
) -> tuple[pd.DataFrame, Mapping[str, Any]] | None:
    """The frame of pages typed as they arrived (:mod:`esiframe.pagedecode`), if all were."""
    names = dict.fromkeys(name for job in jobs for name in job.call.fanout)
    fanned = {name: _parameter_schema(op, name) for name in names}
    walks = [(job.call, job.result) for job in jobs if job.result is not None]
    if len(walks) != len(jobs):
        return None
    return decoded_frame(op, walks, fanned, options.dtype_backend)


def _parameter_schema(op: Operation, name: str) -> Mapping[str, Any]:
    """The schema of a fanned-out parameter (an ``each=`` column that is none: any value)."""
    for p in op.user_parameters:
        if p.name == name:
            return p.schema
    return {}


def _joined_batches(op: Operation, jobs: list[Job]) -> list[Job]:
    """A body split into batches whose answers are one object each (PostUniverseIds) answers
    as one object: the batches' lists joined, so the call still gives one row."""
    schema = op.response_schema or {}
    if op.body_schema is None or schema.get("type") != "object" or len(jobs) < 2:
        return jobs
    joined: dict[str, Any] = {}
    for job in jobs:
        assert job.result is not None
        for key, value in (job.result.body or {}).items():
            joined[key] = [*joined.get(key, []), *value] if isinstance(value, list) else value
    first = jobs[0].result
    assert first is not None
    return [replace(jobs[0], result=Walk([], first.responses, joined))]


def _records(op: Operation, result: Walk) -> tuple[list[Any], Mapping[str, Any]]:
    """The rows of one walk and the schema of one row (object-shaped).

    Rows are the parsed JSON itself (fresh for every call), so fan-out may add
    fields to them without copying.
    """
    schema = op.response_schema or {}
    if op.pagination == "cursor":
        return result.records, schema["properties"][cursor_field(schema)].get("items", {})
    if op.pagination is not None:
        rows: list[Any] = result.records
        item = schema.get("items", {})
    elif schema.get("type") == "array":
        rows = list(result.body or [])
        item = schema.get("items", {})
    elif schema.get("type") == "object" or "properties" in schema or "oneOf" in schema:
        return ([result.body] if isinstance(result.body, Mapping) else []), schema
    else:
        name = op.path.rstrip("/").rsplit("/", 1)[-1]
        return ([{name: result.body}] if result.body is not None else []), _one_field(name, schema)
    if item.get("type") not in (None, "object") and "properties" not in item:
        name = scalar_column_name(op.path)
        return [{name: v} for v in rows], _one_field(name, item)
    return rows, item


def record_schema(op: Operation) -> Mapping[str, Any]:
    """The schema of one row of ``op``'s frame (object-shaped), as :func:`_records` reads it."""
    return _records(op, Walk([], [], None))[1]


def _one_field(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {name: schema}, "required": [name]}


def metadata(op: Operation, jobs: list[Job], options: Options, context: Context) -> dict[str, Any]:
    """``df.attrs["esi"]``: the call, and per page (a :class:`PageTable` row) its status and
    cache facts. Plain and changeable here; the caller freezes it last (FrozenMeta)."""
    responses = _responses(jobs)
    expires = [e for e in responses["expires"] if e]
    modified = [m for m in responses["last_modified"] if m]
    etags = {e for e in responses["etag"] if e}
    states = responses["cache"]
    counts = {
        state: states.count(state)
        for state in ("cache", "revalidated", "fresh", "uncached", "not-modified")
    }
    return {
        "operation": op.operation_id,
        "method": op.method,
        "path": op.path,
        "parameters": jsonable(dict(context.params)),
        "compatibility_date": context.compatibility_date,
        "compatibility_date_asked": context.compatibility_date_asked,
        "compatibility_date_used": _answered_date(jobs),
        "languages": list(options.languages),
        "tenant": context.tenant,
        "character": context.character,
        "requests": len(jobs),
        "pages": responses.num_rows,
        "expires": min(expires) if expires else None,
        "last_modified": max(modified) if modified else None,
        "etag": etags.pop() if len(etags) == 1 else None,
        "cache": counts,
        "responses": responses,
        "errors": failures(jobs),
    } | ({"cursor": _cursor(op, jobs)} if op.pagination == "cursor" else {})


def _cursor(op: Operation, jobs: list[Job]) -> dict[str, Any] | None:
    """Where an ``after=`` walk goes on from: the token, when ESI issued it, and the route's
    ``x-tombstone-ttl`` (how long that token still reports deletions; docs/esi.md §3.2)."""
    cursors = [job.result.cursor for job in jobs if job.result is not None and job.result.cursor]
    if len(cursors) != 1:  # several calls (fan-out) have one cursor each: no single one
        return None
    return {**cursors[0], "tombstone_ttl": op.tombstone_ttl}


def _answered_date(jobs: list[Job]) -> str | None:
    """The compatibility date ESI says it answered with (``X-Compatibility-Date``, §2)."""
    for job in jobs:
        for response in job.result.responses if job.result is not None else []:
            date = response.headers.get("X-Compatibility-Date")
            if date:
                return str(date)
    return None


_PAGE_COLUMNS = ("params", "language", "page", "status", "cache", "expires", "last_modified")


def _responses(jobs: list[Job]) -> PageTable:
    """One row per page answered: which request, its status, and its cache facts."""
    columns: dict[str, list[Any]] = {name: [] for name in (*_PAGE_COLUMNS, "etag")}
    for job in jobs:
        pages = job.result.responses if job.result is not None else []
        params = jsonable(dict(job.call.params))
        for number, response in enumerate(pages, start=1):
            row = (params, job.language, number, response.status, response.cache)
            for name, value in zip(_PAGE_COLUMNS, row, strict=False):
                columns[name].append(value)
            headers = response.headers
            columns["expires"].append(iso_time(headers.get("Expires")))
            columns["last_modified"].append(iso_time(headers.get("Last-Modified")))
            columns["etag"].append(headers.get("ETag"))
    return PageTable(columns)


def partial_error(
    op: Operation, jobs: list[Job], result: Any, *, is_raw: bool
) -> PartialResultError:
    """The error for a call some of whose requests failed, carrying the others' data."""
    failed = failures(jobs)
    listed = "; ".join(f"{f['params']} ({f['status']}: {f['error']})" for f in failed[:10])
    more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
    where = (
        "the others' data is in .frame (failed entries carry 'error')"
        if is_raw
        else "the rows of the others are in .frame; errors='skip' returns them with "
        "the failures listed in df.attrs['esi']['errors']"
    )
    return PartialResultError(
        f"{len(failed)} of {len(jobs)} requests of {op.operation_id} failed: "
        f"{listed}{more}. {where.capitalize()}.",
        failures=failed,
        frame=result,
    )


def valid_until(meta: Mapping[str, Any]) -> float | None:
    """Epoch seconds until which the result cannot change: its earliest page Expires."""
    responses = meta["responses"]
    expires = responses["expires"] if responses.num_rows else ()
    if not expires or "uncached" in responses["cache"] or not all(expires):
        return None
    return min(datetime.fromisoformat(e).timestamp() for e in expires)


def served_from_cache(meta: Mapping[str, Any]) -> FrozenMeta:
    """Metadata of a result reused whole: every page came from the cache, no request."""
    responses = meta["responses"]
    pages = responses.num_rows
    cache = {state: 0 for state in meta["cache"]} | {"cache": pages}
    table = PageTable({**responses, "cache": ["cache"] * pages})
    return FrozenMeta({**meta, "cache": cache, "responses": table})


def jsonable(value: Any) -> Any:
    """Parameters as plain JSON values (lists for tuples, ranges, arrays)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | range):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def merged_metadata(metas: list[Mapping[str, Any]], requests: int) -> dict[str, Any]:
    """The metadata of several calls of one operation as one call's: every request and page
    counted, the earliest ``Expires``, the latest ``Last-Modified``, every response kept."""
    if not metas:
        return {"requests": requests, "pages": 0, "responses": [], "errors": [], "cache": {}}
    merged = dict(metas[0])
    responses = [r for meta in metas for r in meta["responses"]]
    expires = [m["expires"] for m in metas if m.get("expires")]
    modified = [m["last_modified"] for m in metas if m.get("last_modified")]
    etags = {m.get("etag") for m in metas}
    merged.update(
        requests=requests,
        pages=len(responses),
        responses=responses,
        expires=min(expires) if expires else None,
        last_modified=max(modified) if modified else None,
        etag=etags.pop() if len(etags) == 1 else None,
        cache={k: sum(m["cache"].get(k, 0) for m in metas) for k in metas[0]["cache"]},
        errors=[e for m in metas for e in m["errors"]],
    )
    return merged


def named_frame(
    wanted: list[int],
    found: pd.DataFrame,
    invalid: list[int],
    metas: list[Mapping[str, Any]],
    requests: int,
) -> pd.DataFrame:
    """The answer of ``names``: one row per id ESI named, in the order asked.

    Ids ESI refused (or left out of a 200 answer) are listed in ``attrs["esi"]["invalid_ids"]``
    in the order asked, so no id is dropped without a word.
    """
    if found.empty and len(found.columns) == 0:
        found = pd.DataFrame(
            {
                "id": pd.Series([], dtype="int64"),
                "name": pd.Series([], dtype="string"),
                "category": pd.Series([], dtype="category"),
            }
        )
    order = {value: n for n, value in enumerate(wanted)}
    found = found.drop_duplicates("id")
    found = (
        found.assign(_order=found["id"].map(order))
        .sort_values("_order", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    named = set(found["id"].tolist())
    missing = set(invalid) | {i for i in wanted if i not in named}
    meta = merged_metadata(metas, requests)
    meta.setdefault("operation", "PostUniverseNames")
    meta["parameters"] = {"ids": len(wanted)}
    meta["invalid_ids"] = [i for i in wanted if i in missing]
    found.attrs["esi"] = meta
    return found
