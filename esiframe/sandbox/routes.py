"""The sandbox's one route model: every operation of the spec as a `Route`, for server and data.

The spec is read through `esiframe.spec` (its document, ``$ref``s and compatibility dates):
reading is shared with the client. What the sandbox then does with a route (limits, paging,
caching) is its own, on purpose, so the client is tested against an independent emulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from esiframe.readonly import READ_ONLY_POSTS as _READ_ONLY
from esiframe.spec import Spec, compatibility_dates

__all__ = [
    "PAGING_PARAMS",
    "READ_ONLY_POSTS",
    "Param",
    "Route",
    "Router",
    "Style",
    "build_routes",
    "published_dates",
]

READ_ONLY_POSTS = frozenset(_READ_ONLY)
"""The POST operations that only read data in EVE (decided in esiframe.readonly); the sandbox
answers these."""

PAGING_PARAMS = frozenset({"page", "before", "after", "limit", "from_id"})
Style = Literal["x-pages", "cursor", "from_id", "plain"]

_DEFAULT_CACHE_SECONDS = 300.0
_DAILY = re.compile(r"expires daily at (\d{1,2}):(\d{2})", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WINDOW = re.compile(r"(\d+)([smh])")


@dataclass(frozen=True)
class Param:
    """A path or query parameter; ``schema`` has every ``$ref`` resolved."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Route:
    """One operation as the sandbox serves it.

    ``response_schema`` is the 200/201 JSON schema as written (``$ref``s kept: the generator
    reads the model names); ``body_schema`` the resolved request body schema, if any.
    """

    method: str
    template: str
    operation: Mapping[str, Any]
    operation_id: str
    params: tuple[Param, ...]
    style: Style
    group: str | None
    max_tokens: int
    window_text: str
    window: float
    cache_seconds: float
    daily_at: tuple[int, int] | None
    localized: bool
    compatibility_date: str
    body_schema: Mapping[str, Any] | None
    response_schema: Mapping[str, Any] | None
    tombstone_ttl: float | None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.split("/"))

    @property
    def secured(self) -> bool:
        return bool(self.operation.get("security"))

    @property
    def served(self) -> bool:
        """GETs and the read-only POSTs are answered; writes are not emulated."""
        return self.method == "GET" or self.operation_id in READ_ONLY_POSTS


def published_dates(spec: Spec) -> list[str]:
    """ESI's published compatibility dates (bundled list plus the spec's own), newest first."""
    dates = set(compatibility_dates())
    if _DATE.fullmatch(spec.date):
        dates.add(spec.date)
    return sorted(dates, reverse=True)


def build_routes(spec: Spec) -> dict[str, Route]:
    """Every operation of the spec by operationId, in spec order."""
    routes: dict[str, Route] = {}
    for template, item in spec.document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, Mapping) and "operationId" in operation:
                route = _route(spec, template, method.upper(), item, operation)
                routes[route.operation_id] = route
    return routes


def _route(
    spec: Spec, template: str, method: str, item: Mapping[str, Any], operation: Mapping[str, Any]
) -> Route:
    params = _params(spec, [*item.get("parameters", []), *operation.get("parameters", [])])
    limit = operation.get("x-rate-limit") or {}
    window_text = str(limit.get("window-size", "15m"))
    daily = _DAILY.search(operation.get("description") or "")
    ok = spec.deref(operation.get("responses", {}).get("200", {}))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    tombstone = operation.get("x-tombstone-ttl")
    return Route(
        method=method,
        template=template,
        operation=operation,
        operation_id=operation["operationId"],
        params=params,
        style=_style(operation, {param.name for param in params}),
        group=limit.get("group"),
        max_tokens=int(limit.get("max-tokens", 0)),
        window_text=window_text,
        window=_parse_window(window_text) if limit else 0.0,
        cache_seconds=float(
            operation.get("x-cache-age")
            or operation.get("x-client-cache-ttl")
            or _DEFAULT_CACHE_SECONDS
        ),
        daily_at=(int(daily.group(1)), int(daily.group(2))) if daily else None,
        localized="Content-Language" in ok.get("headers", {}),
        compatibility_date=str(operation.get("x-compatibility-date", "")),
        body_schema=spec.resolve(body["schema"]) if "schema" in body else None,
        response_schema=_response_schema(spec, operation),
        tombstone_ttl=float(tombstone) if tombstone is not None else None,
    )


def _params(spec: Spec, raw: list[Mapping[str, Any]]) -> tuple[Param, ...]:
    params = []
    for entry in raw:
        param = spec.deref(entry)
        if param.get("in") in ("path", "query"):
            schema = spec.resolve(param.get("schema", {}))
            params.append(Param(param["name"], param["in"], bool(param.get("required")), schema))
    return tuple(params)


def _style(operation: Mapping[str, Any], names: set[str]) -> Style:
    if operation.get("x-pagination") == "cursor":
        return "cursor"
    if "page" in names:
        return "x-pages"
    if "from_id" in names:
        return "from_id"
    return "plain"


def _response_schema(spec: Spec, operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for code in ("200", "201"):
        answer = spec.deref(operation.get("responses", {}).get(code, {}))
        content = answer.get("content", {}).get("application/json", {})
        if "schema" in content:
            schema: Mapping[str, Any] = content["schema"]
            return schema
    return None


def _parse_window(text: str) -> float:
    match = _WINDOW.fullmatch(text.strip())
    if not match:
        raise ValueError(f"unsupported x-rate-limit window-size {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


class Router:
    """Matches concrete paths to templates; literal segments beat ``{param}`` segments."""

    def __init__(self) -> None:
        self._by_length: dict[int, list[tuple[tuple[str, ...], str, Any]]] = {}

    def add(self, segments: tuple[str, ...], method: str, target: Any) -> None:
        """Route ``method`` on ``segments`` to ``target``, replacing an earlier identical route."""
        routes = self._by_length.setdefault(len(segments), [])
        routes[:] = [r for r in routes if (r[0], r[1]) != (segments, method)]
        routes.append((segments, method, target))

    def match(self, method: str, path: str) -> tuple[Any, dict[str, str], list[str]]:
        """(target or None, path params, methods the path allows)."""
        parts = [unquote(part) for part in path.split("/")]
        best: tuple[tuple[int, ...], Any, dict[str, str]] | None = None
        allowed: list[str] = []
        for segments, candidate_method, target in self._by_length.get(len(parts), []):
            found = _match_segments(segments, parts)
            if found is None:
                continue
            allowed.append(candidate_method)
            if candidate_method != method:
                continue
            score = tuple(0 if segment.startswith("{") else 1 for segment in segments)
            if best is None or score > best[0]:
                best = (score, target, found)
        if best is None:
            return None, {}, sorted(set(allowed))
        return best[1], best[2], sorted(set(allowed))


def _match_segments(segments: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    found = {}
    for pattern, part in zip(segments, parts, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            if not part:
                return None
            found[pattern[1:-1]] = part
        elif pattern != part:
            return None
    return found
