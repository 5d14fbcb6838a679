"""The ESI OpenAPI document: bundled copy, compatibility dates, and the operation index.

The spec for the bundled compatibility date ships gzipped in ``esiframe/data``.
:class:`Spec` indexes its operations by operationId, case-insensitively and by
the legacy snake_case id; response schemas are resolved only when asked for.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from .errors import CompatibilityDateError, OperationNotFound, ParameterError
from .operations import Operation

__all__ = [
    "BUNDLED_DATE",
    "FIRST_DATE",
    "Spec",
    "bundled_spec",
    "check_compatibility_date",
    "compatibility_dates",
    "esi_today",
    "load_spec",
    "parse_compatibility_dates",
    "resolve_compatibility_date",
    "snake_case",
]

BUNDLED_DATE = "2026-08-04"
#: The oldest compatibility date ESI publishes; a request without a date gets it (docs/esi.md §2).
FIRST_DATE = "2020-01-01"
_DATA = resources.files("esiframe") / "data"
_HTTP_METHODS = ("get", "post", "put", "delete", "patch")
#: ESI changes its date at 11:00 UTC, so "today" is UTC now minus 11 hours (docs/esi.md §2).
_DAY_CHANGE = dt.timedelta(hours=11)

DateLike = str | dt.date
FetchDates = Callable[[], Any]


def snake_case(operation_id: str) -> str:
    """``GetMarketsRegionIdHistory`` -> ``get_markets_region_id_history``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


@cache
def _bundled_document() -> dict[str, Any]:
    raw = (_DATA / f"openapi-{BUNDLED_DATE}.json.gz").read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(raw))
    return document


@cache
def compatibility_dates() -> tuple[str, ...]:
    """The compatibility dates ESI publishes, newest first (as bundled)."""
    payload = json.loads((_DATA / "compatibility-dates.json").read_text("utf-8"))
    return parse_compatibility_dates(payload)


def parse_compatibility_dates(payload: Any) -> tuple[str, ...]:
    """The dates of a ``/meta/compatibility-dates`` answer, newest first.

    ESI answers ``{"compatibility_dates": ["2026-08-18", ...]}``; a bare list is
    accepted too. Anything else raises CompatibilityDateError.
    """
    dates = payload.get("compatibility_dates") if isinstance(payload, Mapping) else payload
    if not isinstance(dates, list) or not dates:
        raise CompatibilityDateError(f"not a list of compatibility dates: {payload!r:.200}")
    try:
        parsed = {dt.date.fromisoformat(str(d)) for d in dates}
    except ValueError as exc:
        raise CompatibilityDateError(f"not a list of compatibility dates: {exc}") from None
    return tuple(d.isoformat() for d in sorted(parsed, reverse=True))


def esi_today(now: dt.datetime | None = None) -> dt.date:
    """ESI's current day: the date changes at 11:00 UTC (docs/esi.md §2)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return (moment - _DAY_CHANGE).date()


def check_compatibility_date(value: DateLike, *, today: dt.date | None = None) -> str:
    """``value`` as ``YYYY-MM-DD`` if ESI would accept it, else raise naming what is allowed.

    ESI accepts any day from :data:`FIRST_DATE` to its today (not only the
    published dates: it resolves a date down to the newest published one).
    """
    day = _as_date(value)
    last = today if today is not None else esi_today()
    if day < dt.date.fromisoformat(FIRST_DATE) or day > last:
        raise CompatibilityDateError(
            f"{value!r} is not a valid ESI compatibility date: valid dates are from {FIRST_DATE} "
            f"to today ({last}); published dates: {', '.join(compatibility_dates())}"
        )
    return day.isoformat()


def resolve_compatibility_date(
    value: DateLike,
    *,
    known: Iterable[str] | None = None,
    fetch_dates: FetchDates | None = None,
    today: dt.date | None = None,
) -> str:
    """The published date ESI uses for ``value``: the newest one not after it.

    ``known`` are the published dates (default: the bundled list). A date
    newer than all of them may mean ESI has published more since: then
    ``fetch_dates()`` (the client's cached ``GET /meta/compatibility-dates``)
    is asked for the current list. Without it, the newest known date is used.
    """
    day = check_compatibility_date(value, today=today)
    dates = set(known if known is not None else compatibility_dates())
    if fetch_dates is not None and (not dates or day > max(dates)):
        dates |= set(parse_compatibility_dates(fetch_dates()))
    usable = [d for d in dates if d <= day]
    if not usable:  # ESI always publishes FIRST_DATE; a short known list must not refuse
        return FIRST_DATE
    return max(usable)


def _as_date(value: DateLike) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise CompatibilityDateError(
        f"compatibility_date must be a date or a 'YYYY-MM-DD' string, got {value!r}"
    )


class Spec:
    """An OpenAPI document with an index of its operations.

    Operations are built when first looked up; a lookup accepts the exact
    operationId, any casing of it, or the legacy snake_case id.
    """

    def __init__(self, document: Mapping[str, Any], *, date: str | None = None) -> None:
        self.document = document
        #: The compatibility date this document is for, sent as ``X-Compatibility-Date``.
        self.date: str = date or str(document.get("info", {}).get("version", ""))
        self._where: dict[str, tuple[str, str]] = {}
        self._aliases: dict[str, str] = {}
        for path, item in document.get("paths", {}).items():
            for method in _HTTP_METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                op_id = raw["operationId"]
                self._where[op_id] = (path, method)
                self._aliases[op_id.lower()] = op_id
                self._aliases[snake_case(op_id)] = op_id
        self._operations: dict[str, Operation] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[Operation]:
        return (self.operation(op_id) for op_id in self._where)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._canonical(name) is not None

    def ids(self) -> list[str]:
        """Every operationId, in spec order."""
        return list(self._where)

    def operation(self, name: str) -> Operation:
        """Look up an operation; an unknown name raises naming the closest ones."""
        op_id = self._canonical(name)
        if op_id is None:
            raise OperationNotFound(self._not_found_message(name))
        op = self._operations.get(op_id)
        if op is None:
            path, method = self._where[op_id]
            raw = self.document["paths"][path][method]
            op = Operation.from_raw(path, method, raw, self.resolve)
            self._operations[op_id] = op
        return op

    def resolve(self, node: Any) -> Any:
        """Return ``node`` with every local ``$ref`` replaced by its target (recursively)."""
        return _resolve(self.document, node, ())

    def deref(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a single top-level ``$ref`` (parameters, responses)."""
        while "$ref" in node:
            node = _pointer(self.document, node["$ref"])
        return node

    def by_tag(self) -> dict[str, list[str]]:
        """operationIds grouped by their first tag, in spec order (no Operation is built)."""
        groups: dict[str, list[str]] = {}
        for op_id, (path, method) in self._where.items():
            tags = self.document["paths"][path][method].get("tags") or ["Other"]
            groups.setdefault(tags[0], []).append(op_id)
        return groups

    def _canonical(self, name: str) -> str | None:
        if name in self._where:
            return name
        return self._aliases.get(name.lower()) or self._aliases.get(snake_case(name))

    def _not_found_message(self, name: str) -> str:
        key = name.lower().replace("_", "")
        scored = sorted(
            self._where,
            key=lambda op_id: -difflib.SequenceMatcher(None, key, op_id.lower()).ratio(),
        )
        close = ", ".join(scored[:5])
        return f"no ESI operation named {name!r}; closest: {close}"


def _pointer(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(document: Mapping[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:  # a recursive schema: stop here rather than loop
                return {"type": "object"}
            target = _resolve(document, _pointer(document, ref), (*seen, ref))
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**target, **extra} if extra else target
        return {k: _resolve(document, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(document, v, seen) for v in node]
    return node


@cache
def bundled_spec() -> Spec:
    """The spec bundled with esiframe (compatibility date :data:`BUNDLED_DATE`)."""
    return Spec(_bundled_document())


def load_spec(
    compatibility_date: DateLike | None = None,
    *,
    path: str | None = None,
    fetch: Callable[[str], Mapping[str, Any]] | None = None,
    fetch_dates: FetchDates | None = None,
    today: dt.date | None = None,
) -> Spec:
    """The spec for a compatibility date; its ``date`` is the one to send.

    ``compatibility_date`` (default :data:`BUNDLED_DATE`) resolves down to the
    newest published date not after it (:func:`resolve_compatibility_date`,
    asking ``fetch_dates`` when it is newer than the bundled list). The bundled
    date is served from the package; another is fetched with ``fetch(date)``
    (the client passes its cached HTTP session). ``path`` names a local
    openapi.json that replaces any other source: its ``info.version`` is the
    date sent, and an explicit ``compatibility_date`` must agree with it.
    """
    if path is not None:
        return _local_spec(path, compatibility_date, fetch_dates, today)
    wanted = BUNDLED_DATE if compatibility_date is None else compatibility_date
    date = resolve_compatibility_date(wanted, fetch_dates=fetch_dates, today=today)
    if date == BUNDLED_DATE:
        return bundled_spec()
    if fetch is None:
        raise CompatibilityDateError(
            f"the spec for {date} is not bundled (only {BUNDLED_DATE} is) and no HTTP "
            "access was given to fetch it"
        )
    return Spec(fetch(date), date=date)


def _local_spec(
    path: str, wanted: DateLike | None, fetch_dates: FetchDates | None, today: dt.date | None
) -> Spec:
    """A spec file: it is for the date of its ``info.version``, whatever else is asked."""
    with open(path, encoding="utf-8") as fh:
        document = json.load(fh)
    version = str(document.get("info", {}).get("version", ""))
    try:
        own = check_compatibility_date(version, today=today)
    except CompatibilityDateError:
        own = None
    if wanted is None:
        if own is None:
            raise ParameterError(
                f"the spec file {path} has no compatibility date as info.version "
                f"(found {version!r}); pass compatibility_date= with the date it is for"
            )
        return Spec(document, date=own)
    known = {*compatibility_dates(), *([own] if own else [])}
    date = resolve_compatibility_date(wanted, known=known, fetch_dates=fetch_dates, today=today)
    if own is not None and date != own:
        raise ParameterError(
            f"compatibility_date={_text(wanted)!r} (which ESI resolves to {date}) disagrees with "
            f"the spec file {path}, which is for {own} (its info.version); leave "
            "compatibility_date unset to use the file's date, or give a spec file for that date"
        )
    return Spec(document, date=date)


def _text(value: DateLike) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)
