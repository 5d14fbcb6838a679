"""A local ESI emulator: a real HTTP server on 127.0.0.1 built from the bundled OpenAPI spec.

`Sandbox` answers every GET operation of the spec (and the read-only POSTs PostUniverseNames,
PostUniverseIds, PostCharactersAffiliation) with deterministic synthetic data from
`esiframe.sandbox.data.Dataset`, and behaves like ESI as FACTS.md describes it: unversioned
routes, a required compatibility date, X-Pages / cursor / from_id pagination, caching headers
and conditional requests, localization, the error limit, floating-window rate-limit groups, the
market history hidden limit and bearer-token auth, plus injectable `Faults`.

The ESI behaviour lives in `Sandbox.handle`, a plain function from `SandboxRequest` to
`SandboxResponse` (None = drop the connection), so it is testable without sockets; the HTTP
handler only parses and writes bytes.

Extension points, for the SSO emulator and tests:

- ``Sandbox.authorize`` (or the ``authorize=`` argument): ``(operation, path_params,
  authorization) -> AuthResult`` decides who a request belongs to. Without ``authorize=`` the
  sandbox's own SSO (``Sandbox.sso``, esiframe.sandbox.sso) is mounted and checks bearer JWTs;
  ``authorize=default_authorize`` instead accepts any non-empty bearer token on scoped
  operations and takes the path's ``character_id`` as its owner (handy in tests).
- ``Sandbox.add_route(method, path, handler)`` mounts an extra endpoint (e.g. ``/v2/oauth/token``)
  answered by ``handler(SandboxRequest) -> SandboxResponse``; ``{name}`` segments become
  ``request.path_params``. Extra routes bypass ESI's rules (no compatibility date, no limits,
  no injected errors) but still get ``latency`` and ``drop_rate`` and are logged.

Simplification: the sandbox has one spec document. Every published compatibility date is
accepted and answered by it, and ``GET /meta/openapi.json`` serves that document with
``info.version`` (and the X-Compatibility-Date enum) set to the resolved date.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import gzip
import hashlib
import http
import importlib.resources
import json
import logging
import math
import re
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from esiframe.sandbox.data import Dataset, Sizes
from esiframe.sandbox.faults import (
    Admission,
    ErrorLimit,
    Faults,
    RefreshTrigger,
    SandboxLimits,
    SlidingCounter,
    TokenBuckets,
    token_cost,
)
from esiframe.sandbox.messages import (
    JSON_TYPE,
    Authorizer,
    AuthResult,
    LogEntry,
    RequestLog,
    RouteHandler,
    SandboxRequest,
    SandboxResponse,
    default_authorize,
    flat_query,
    redact_headers,
)
from esiframe.sandbox.sso import SandboxSSO

__all__ = [
    "AuthResult",
    "Authorizer",
    "LogEntry",
    "RequestLog",
    "RouteHandler",
    "Sandbox",
    "SandboxRequest",
    "SandboxResponse",
    "default_authorize",
    "serve",
]

logger = logging.getLogger("esiframe.sandbox")
_T = TypeVar("_T")

READ_ONLY_POSTS = frozenset({"PostUniverseNames", "PostUniverseIds", "PostCharactersAffiliation"})
HISTORY_OPERATION = "GetMarketsRegionIdHistory"
_PAGING_PARAMS = frozenset({"page", "before", "after", "limit", "from_id"})
_SERVER_ERRORS = (500, 502, 503, 504)
_VARY = "Accept-Language, X-Compatibility-Date, X-Tenant"
_DEFAULT_CACHE_SECONDS = 300.0
_MAX_BODY = 1 << 20
# Generated content is kept so that a whole 300-page walk is served without regenerating or
# re-encoding any page (as ESI serves from its own cache); bounded by entries and encoded bytes.
_CACHE_ENTRIES = 1024
_CACHE_BYTES = 192 << 20
_DAILY = re.compile(r"expires daily at (\d{1,2}):(\d{2})", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_REASONS = {420: "Error Limited"}


# --- the spec as routes -------------------------------------------------------------------


def load_bundled_spec() -> dict[str, Any]:
    """The newest OpenAPI document bundled in esiframe/data."""
    data = importlib.resources.files("esiframe") / "data"
    names = sorted(
        item.name
        for item in data.iterdir()
        if item.name.startswith("openapi-") and item.name.endswith(".json.gz")
    )
    if not names:
        raise FileNotFoundError("no bundled OpenAPI spec (esiframe/data/openapi-*.json.gz)")
    spec: dict[str, Any] = json.loads(gzip.decompress((data / names[-1]).read_bytes()))
    return spec


def published_dates(spec: Mapping[str, Any]) -> list[str]:
    """ESI's published compatibility dates (bundled list plus the spec's own), newest first."""
    raw = (importlib.resources.files("esiframe") / "data" / "compatibility-dates.json").read_text()
    dates = set(json.loads(raw)["compatibility_dates"])
    version = spec.get("info", {}).get("version")
    if isinstance(version, str) and _DATE.fullmatch(version):
        dates.add(version)
    return sorted(dates, reverse=True)


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    segments: tuple[str, ...]
    operation: Mapping[str, Any]
    operation_id: str
    params: tuple[_Param, ...]
    style: Literal["x-pages", "cursor", "from_id", "plain"]
    group: str | None
    max_tokens: int
    window_text: str
    window: float
    cache_seconds: float
    daily_at: tuple[int, int] | None
    secured: bool
    localized: bool
    compatibility_date: str
    body_schema: Mapping[str, Any] | None
    served: bool


def _resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$ref``s (top level and array items) replaced by their targets."""
    resolved = dict(schema)
    while "$ref" in resolved:
        ref = resolved.pop("$ref")
        target: Any = spec
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        resolved = {**target, **resolved}
    if isinstance(resolved.get("items"), Mapping):
        resolved["items"] = _resolve(spec, resolved["items"])
    return resolved


def _parse_window(text: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", text.strip())
    if not match:
        raise ValueError(f"unsupported x-rate-limit window-size {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def _build_routes(spec: Mapping[str, Any]) -> list[_Route]:
    routes = []
    for template, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, Mapping) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            params = []
            for raw in operation.get("parameters", []):
                param = _resolve(spec, raw)
                if param.get("in") in ("path", "query"):
                    params.append(
                        _Param(
                            param["name"],
                            param["in"],
                            bool(param.get("required")),
                            _resolve(spec, param.get("schema", {})),
                        )
                    )
            names = {param.name for param in params}
            style: Literal["x-pages", "cursor", "from_id", "plain"] = "plain"
            if operation.get("x-pagination") == "cursor":
                style = "cursor"
            elif "page" in names:
                style = "x-pages"
            elif "from_id" in names:
                style = "from_id"
            limit = operation.get("x-rate-limit") or {}
            ok = operation.get("responses", {}).get("200", {})
            daily = _DAILY.search(operation.get("description") or "")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            window_text = str(limit.get("window-size", "15m"))
            routes.append(
                _Route(
                    method=method.upper(),
                    template=template,
                    segments=tuple(template.split("/")),
                    operation=operation,
                    operation_id=op_id,
                    params=tuple(params),
                    style=style,
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
                    secured=bool(operation.get("security")),
                    localized="Content-Language" in ok.get("headers", {}),
                    compatibility_date=str(operation.get("x-compatibility-date", "")),
                    body_schema=_resolve(spec, body["schema"]) if "schema" in body else None,
                    served=method == "get" or op_id in READ_ONLY_POSTS,
                )
            )
    return routes


class _Router:
    """Matches concrete paths to templates; literal segments beat ``{param}`` segments."""

    def __init__(self) -> None:
        self._by_length: dict[int, list[Any]] = {}

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


# --- parameter checking -------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return [_coerce(part, items) for part in raw.split(",")] if raw != "" else []
    if kind == "integer":
        if not _INTEGER.fullmatch(raw.strip()):
            raise _Invalid(f"expected an integer, got {raw!r}")
        return int(raw)
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise _Invalid(f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise _Invalid(f"expected a finite number, got {raw!r}")
        return value
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise _Invalid(f"expected true or false, got {raw!r}")
        return raw.lower() == "true"
    return raw


def _check(value: Any, schema: Mapping[str, Any]) -> None:
    """Raise _Invalid unless ``value`` satisfies the schema's type and constraints."""
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            raise _Invalid("expected an array")
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise _Invalid(f"expected at least {schema['minItems']} items, got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise _Invalid(f"expected at most {schema['maxItems']} items, got {len(value)}")
        if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) != len(value):
            raise _Invalid("expected unique items")
        for index, item in enumerate(value):
            try:
                _check(item, schema.get("items", {}))
            except _Invalid as error:
                raise _Invalid(f"item {index}: {error.message}") from None
        return
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"expected an integer, got {value!r}")
        low, high = _INT_RANGES.get(schema.get("format", "int64"), _INT_RANGES["int64"])
        low = max(low, schema.get("minimum", low))
        high = min(high, schema.get("maximum", high))
        if not low <= value <= high:
            raise _Invalid(f"expected an integer between {low} and {high}, got {value}")
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _Invalid(f"expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(f"expected a boolean, got {value!r}")
    elif kind == "string":
        if not isinstance(value, str):
            raise _Invalid(f"expected a string, got {value!r}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise _Invalid(f"expected at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise _Invalid(f"expected at most {schema['maxLength']} characters")
        if schema.get("format") == "uuid" and not _UUID.fullmatch(value):
            raise _Invalid(f"expected a UUID, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(option) for option in schema["enum"])
        raise _Invalid(f"expected one of {allowed}, got {value!r}")


def _canonical(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_canonical(item) for item in value)
    return str(value)


@dataclass
class _Bound:
    """Validated parameters: ``data`` for the Dataset, ``paging`` the pagination values."""

    data: dict[str, str]
    paging: dict[str, Any]


def _bind(route: _Route, path_params: Mapping[str, str], query: Mapping[str, list[str]]) -> _Bound:
    details = []
    data: dict[str, str] = {}
    paging: dict[str, Any] = {}
    for param in route.params:
        if param.location == "path":
            raw: str | None = path_params.get(param.name)
        else:
            values = query.get(param.name)
            raw = ",".join(values) if values and param.schema.get("type") == "array" else None
            if values and raw is None:
                raw = values[0]
        where = f"{param.location}.{param.name}"
        if raw is None:
            if param.required:
                details.append(
                    {"location": where, "message": "required parameter is missing", "value": None}
                )
            continue
        try:
            value = _coerce(raw, param.schema)
            _check(value, param.schema)
        except _Invalid as error:
            details.append({"location": where, "message": error.message, "value": raw})
            continue
        if param.name in _PAGING_PARAMS:
            paging[param.name] = value
        else:
            data[param.name] = _canonical(value)
    if "before" in paging and "after" in paging:
        details.append(
            {
                "location": "query.before",
                "message": "'before' and 'after' are mutually exclusive",
                "value": paging["before"],
            }
        )
    if details:
        raise _BadRequest(details)
    return _Bound(data, paging)


class _BadRequest(Exception):
    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(details)
        self.details = details

    def body(self) -> dict[str, Any]:
        summary = "; ".join(f"{d['location']}: {d['message']}" for d in self.details)
        return {"error": f"invalid request: {summary}", "status": 400, "details": self.details}


# --- cursors ----------------------------------------------------------------------------


def _cursor_token(operation_id: str, position: int) -> str:
    raw = f"{operation_id}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursor_position(operation_id: str, token: str, where: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        owner, _, position = raw.rpartition(":")
        if owner != operation_id or not position.isdigit():
            raise ValueError(raw)
        return int(position)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _BadRequest(
            [{"location": where, "message": "not a cursor this route issued", "value": token}]
        ) from None


def cursor_page(
    operation_id: str, records: list[Any], limit: int, before: str | None, after: str | None
) -> tuple[list[Any], dict[str, str]]:
    """Slice ``records`` (oldest first) for one cursor request; returns (page, cursor).

    No cursor (or ``before='0'``) gives the newest ``limit`` records. Walking ``before`` repeats
    the boundary record of the previous page once (ESI says duplicates are normal) and ends with
    an empty list; walking ``after`` moves forward in time without overlap.
    """
    total = len(records)
    if after is not None:
        start = (
            0 if after == "0" else min(_cursor_position(operation_id, after, "query.after"), total)
        )
        end = min(start + limit, total)
        page = records[start:end]
        return page, {
            "before": _cursor_token(operation_id, start),
            "after": _cursor_token(operation_id, end),
        }
    if before is None or before == "0":
        end = total
        start = max(0, total - limit)
    else:
        position = min(_cursor_position(operation_id, before, "query.before"), total)
        if position == 0:
            return [], {
                "before": _cursor_token(operation_id, 0),
                "after": _cursor_token(operation_id, 0),
            }
        end = min(position + 1, total)
        start = max(0, end - limit)
    return records[start:end], {
        "before": _cursor_token(operation_id, start),
        "after": _cursor_token(operation_id, end),
    }


# --- helpers ----------------------------------------------------------------------------


def negotiate_language(header: str | None, supported: tuple[str, ...]) -> str:
    """The first supported language of an Accept-Language header by preference; default en."""
    if not header:
        return "en"
    choices = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in supported and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else "en"


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _parse_http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _next_daily(now: float, hour: int, minute: int) -> float:
    current = datetime.fromtimestamp(now, UTC)
    target = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    return target.timestamp()


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _window_label(max_tokens: int, window: float, spec_text: str, shrunk: bool) -> str:
    if not shrunk:
        return f"{max_tokens}/{spec_text}"
    seconds = f"{int(window)}" if float(window).is_integer() else f"{window:g}"
    return f"{max_tokens}/{seconds}s"


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": message}


# --- the sandbox ------------------------------------------------------------------------


class Sandbox:
    """A local ESI on 127.0.0.1; start it, point a client at ``url``, stop it (or use ``with``).

    ``faults`` may be changed while it runs; ``log`` records every request; ``refresh()``
    simulates ESI refreshing its data; ``sso`` is the local EVE SSO served on the same URL.
    ``authorize`` replaces the bearer check (see the module doc). ``from_id_page_size`` is how
    many wallet transactions one from_id response holds.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        sizes: Sizes | None = None,
        faults: Faults | None = None,
        limits: SandboxLimits | None = None,
        spec: Mapping[str, Any] | None = None,
        authorize: Authorizer | None = None,
        from_id_page_size: int = 50,
    ) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(
                f"port must be an integer in 0..65535 (0 = any free port), got {port!r}"
            )
        if not isinstance(from_id_page_size, int) or from_id_page_size < 1:
            raise ValueError(
                f"from_id_page_size must be an integer >= 1, got {from_id_page_size!r}"
            )
        self.host = host
        self.port = port
        self.spec: Mapping[str, Any] = spec if spec is not None else load_bundled_spec()
        self.faults = faults if faults is not None else Faults()
        self.limits = limits if limits is not None else SandboxLimits()
        today = datetime.fromtimestamp(self.limits.clock(), UTC).date()
        self.dataset = Dataset(self.spec, seed=seed, sizes=sizes or Sizes(), today=today)
        self.authorize: Authorizer = authorize or default_authorize
        self.from_id_page_size = from_id_page_size
        self.log = RequestLog()
        self.dates = published_dates(self.spec)
        language = _resolve(self.spec, {"$ref": "#/components/parameters/AcceptLanguage"})
        self.languages: tuple[str, ...] = tuple(
            language.get("schema", {}).get("enum", ["en", "de", "fr", "ja", "ru", "zh", "ko", "es"])
        )
        self._routes = _Router()
        for route in _build_routes(self.spec):
            self._routes.add(route.segments, route.method, route)
        self._extra = _Router()
        self.sso = SandboxSSO(clock=self.limits.clock).mount(self, authorize=authorize is None)
        self.dataset.characters = self.sso.characters  # one name per character everywhere
        clock = self.limits.clock
        self._error_limit = ErrorLimit(self.limits.error_limit, self.limits.error_window, clock)
        self._buckets = TokenBuckets(clock)
        self._history = SlidingCounter(
            self.limits.history_per_minute, self.limits.history_window, clock
        )
        self._refresh_trigger = RefreshTrigger()
        self._state_lock = threading.Lock()
        self._generation = 0
        self._generated_at = int(clock())
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_bytes = 0
        self._openapi_cache: dict[str, bytes] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._hang_condition = threading.Condition()
        self._hang_epoch = 0
        self._hung = 0

    # lifecycle

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use 'with Sandbox()'")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Listen and serve in a background thread (idempotent); returns self."""
        if self._server is None:
            server = _Server((self.host, self.port), _Handler, self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                daemon=True,
                name=f"esiframe-sandbox-{server.server_address[1]}",
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self.release_hung()
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<Sandbox {where} generation={self._generation}>"

    # state

    @property
    def generation(self) -> int:
        return self._generation

    def refresh(self) -> None:
        """ESI refreshed its data now: new generation, a later Last-Modified, new contents."""
        with self._state_lock:
            self._generation += 1
            self._generated_at = max(int(self.limits.clock()), self._generated_at + 1)

    def add_route(self, method: str, path: str, handler: RouteHandler) -> None:
        """Serve ``method path`` with ``handler``; ``{name}`` segments fill ``path_params``.

        Extra routes take precedence over the spec's and skip ESI's rules (see the module doc);
        adding the same method and path again replaces the earlier handler.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        if not callable(handler):
            raise ValueError(f"handler must be callable, got {handler!r}")
        self._extra.add(tuple(path.split("/")), method.upper(), handler)

    # the protocol

    def handle(self, request: SandboxRequest) -> SandboxResponse | None:
        """Answer one request as ESI would (None = close the connection without answering)."""
        faults = self.faults
        if faults.latency > 0:
            time.sleep(faults.latency)
        if faults.roll(faults.hang_rate):
            self._hang(request)
            return None
        response: SandboxResponse | None = None
        operation_id: str | None = None
        if not faults.roll(faults.drop_rate):
            response, operation_id = self._route(request)
        if response is not None and response.body and faults.roll(faults.cut_rate):
            response = replace(response, cut=True)
        self._log(request, response, operation_id)
        return response

    def answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request in process, exactly as the HTTP server would put it on the wire.

        The same faults, limits and log apply. Returns (status, headers, body bytes); headers
        carry ``Content-Length`` when the status has a body. A dropped connection raises
        `ConnectionResetError`; a cut answer (``Faults.cut_rate``) keeps the full
        ``Content-Length`` but only half the body, as a lost connection would; a hung request
        (``Faults.hang_rate``) blocks until `release_hung` or `stop`, then raises
        `ConnectionResetError`.
        """
        parts = urlsplit(url)
        data = body or b""
        method = method.upper()
        if len(data) > _MAX_BODY:
            return wire(SandboxResponse.json({"error": "request body too large"}, 413), method)
        request = SandboxRequest(
            method=method,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(headers),
            body=data,
        )
        response = self.handle(request)
        if response is None:
            raise ConnectionResetError("the sandbox closed the connection without answering")
        return wire(response, method)

    @property
    def hanging(self) -> int:
        """How many requests are hung right now (``Faults.hang_rate``)."""
        with self._hang_condition:
            return self._hung

    def release_hung(self) -> None:
        """Let every hung request go: its connection is closed without an answer."""
        with self._hang_condition:
            self._hang_epoch += 1
            self._hang_condition.notify_all()

    def _hang(self, request: SandboxRequest) -> None:
        """Hold a request without answering; logged (status None) when it starts."""
        self._log(request, None, None)
        with self._hang_condition:
            epoch = self._hang_epoch
            self._hung += 1
            try:
                self._hang_condition.wait_for(lambda: self._hang_epoch != epoch)
            finally:
                self._hung -= 1

    def _route(self, request: SandboxRequest) -> tuple[SandboxResponse, str | None]:
        """The answer of an extra route, the OpenAPI document or an ESI operation."""
        handler, path_params, _ = self._extra.match(request.method, request.path)
        if handler is not None:
            request.path_params = path_params
            return handler(request), None
        if request.method in ("GET", "HEAD") and request.path == "/meta/openapi.json":
            return self._openapi(request), None
        return self._esi(request)

    def _log(
        self, request: SandboxRequest, response: SandboxResponse | None, operation_id: str | None
    ) -> None:
        self.log.append(
            LogEntry(
                method=request.method,
                path=request.path,
                query=flat_query(request.query),
                headers=redact_headers(request.headers),
                status=None if response is None else response.status,
                response_headers={} if response is None else dict(response.headers),
                time=self.limits.clock(),
                operation_id=operation_id,
                client=request.client,
            )
        )

    def _esi(self, request: SandboxRequest) -> tuple[SandboxResponse, str | None]:
        method = "GET" if request.method == "HEAD" else request.method
        route, path_params, allowed = self._routes.match(method, request.path)
        language = negotiate_language(request.header("Accept-Language"), self.languages)
        headers = {
            "Content-Type": JSON_TYPE,
            "Content-Language": language,
            "Vary": _VARY,
            "X-Esi-Request-Id": str(uuid.uuid4()),
            "Date": _http_date(self.limits.clock()),
        }
        if route is None:
            if allowed:
                headers["Allow"] = ", ".join(allowed)
                status, body = _error(
                    405,
                    f"method {request.method} not allowed on {request.path}; ESI allows "
                    f"{', '.join(allowed)} here",
                )
            else:
                status, body = _error(404, f"no ESI route matches {request.path!r}")
            return self._finish_error_limited(status, body, headers), None
        assert isinstance(route, _Route)
        if not route.served:
            status, body = _error(
                501,
                f"{route.operation_id} ({route.method} {route.template}) is not emulated: the "
                "sandbox serves GET operations and PostUniverseNames, PostUniverseIds, "
                "PostCharactersAffiliation",
            )
            return self._finish_error_limited(status, body, headers), route.operation_id
        headers["X-Compatibility-Date"] = route.compatibility_date
        if self._error_limit.exhausted():
            remain, reset = self._error_limit.state()
            headers["X-Esi-Error-Limit-Remain"] = str(remain)
            headers["X-Esi-Error-Limit-Reset"] = str(reset)
            body = {
                "error": f"error limited: too many errors, wait {reset} s for the window to reset"
            }
            return SandboxResponse.json(body, 420, headers), route.operation_id
        auth = self.authorize(route.operation, path_params, request.header("Authorization"))
        owner = auth.owner or request.client
        admission: Admission | None = None
        if route.group is not None:
            max_tokens = self.faults.group_max_tokens.get(route.group, route.max_tokens)
            window = self.limits.group_window or route.window
            headers["X-Ratelimit-Group"] = route.group
            headers["X-Ratelimit-Limit"] = _window_label(
                max_tokens, window, route.window_text, self.limits.group_window is not None
            )
            admission = self._buckets.admit(route.group, owner, max_tokens, window)
            if not admission.admitted:
                headers["Retry-After"] = str(admission.retry_after)
                headers["X-Ratelimit-Remaining"] = str(
                    self._buckets.remaining(route.group, owner, max_tokens)
                )
                headers["X-Ratelimit-Used"] = "0"
                body = {"error": f"rate limited: too many requests in group {route.group}"}
                return SandboxResponse.json(body, 429, headers), route.operation_id
        if self.faults.roll(self.faults.bare_429_rate):
            for name in [name for name in headers if name.startswith("X-Ratelimit-")]:
                del headers[name]
            headers["Retry-After"] = "1"
            status, body = _error(429, "too many requests")
            if admission is not None:
                self._buckets.settle(admission, 429)
                return SandboxResponse.json(body, 429, headers), route.operation_id
            return self._finish_error_limited(status, body, headers), route.operation_id
        status, payload = self._answer(route, request, path_params, auth, owner, language, headers)
        if admission is not None:
            remaining = self._buckets.settle(admission, status)
            headers["X-Ratelimit-Remaining"] = str(remaining)
            headers["X-Ratelimit-Used"] = str(token_cost(status))
            response = self._response(status, payload, headers)
        else:
            response = self._finish_error_limited(status, payload, headers)
        return response, route.operation_id

    def _finish_error_limited(
        self, status: int, payload: Any, headers: dict[str, str]
    ) -> SandboxResponse:
        if status >= 400 and status != 420:
            self._error_limit.spend()
        remain, reset = self._error_limit.state()
        headers["X-Esi-Error-Limit-Remain"] = str(remain)
        headers["X-Esi-Error-Limit-Reset"] = str(reset)
        return self._response(status, payload, headers)

    @staticmethod
    def _response(status: int, payload: Any, headers: dict[str, str]) -> SandboxResponse:
        if isinstance(payload, bytes):
            return SandboxResponse(status, headers, payload)
        if payload is None:
            headers.pop("Content-Type", None)
            return SandboxResponse(status, headers)
        return SandboxResponse.json(payload, status, headers)

    def _answer(
        self,
        route: _Route,
        request: SandboxRequest,
        path_params: Mapping[str, str],
        auth: AuthResult,
        owner: str,
        language: str,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        """(status, body: JSON-able, encoded bytes, or None for no body); fills ``headers``."""
        problem = self._check_date(request)
        if problem is not None:
            return 400, problem
        if auth.status is not None:
            return _error(auth.status, auth.error or "not authorized")
        try:
            bound = _bind(route, path_params, request.query)
            request_body = self._request_body(route, request)
        except _BadRequest as error:
            return 400, error.body()
        if self.faults.roll(self.faults.error_rate):
            status = self.faults.pick(_SERVER_ERRORS)
            return _error(status, f"injected fault: HTTP {status} from the sandbox")
        if route.operation_id == HISTORY_OPERATION and not self._history.admit(owner):
            return _error(
                500,
                "Undefined 429 response. Original message: Too many requests: market history "
                f"rate limit of {self.limits.history_per_minute} requests per "
                f"{self.limits.history_window:g} s exceeded; wait before retrying",
            )
        with self._state_lock:
            generation, generated_at = self._generation, self._generated_at
        data_language = language if route.localized else "en"
        try:
            if route.method == "GET" and not self.dataset.exists(route.operation_id, bound.data):
                return _error(404, f"not found: {route.template} has nothing for these parameters")
            content = self._content(route, bound, data_language, generation, request_body, headers)
        except _BadRequest as error:
            return 400, error.body()
        except Exception as error:
            logger.exception("sandbox data failed for %s", route.operation_id)
            return _error(500, f"sandbox data error in {route.operation_id}: {error!r}")
        if isinstance(content, tuple):
            return content
        self._cache_headers(route, content, generated_at, headers)
        if route.method == "GET" and self._not_modified(request, headers, generated_at):
            status, payload = 304, None
        else:
            status, payload = 200, content
        if route.style == "x-pages" and self._refresh_trigger.page_served(self.faults):
            self.refresh()
        return status, payload

    def _check_date(self, request: SandboxRequest) -> dict[str, Any] | None:
        value = request.header("X-Compatibility-Date")
        where = "header.X-Compatibility-Date"
        if value is None:
            values = request.query.get("compatibility_date")
            value, where = (values[0], "query.compatibility_date") if values else (None, where)
        listed = ", ".join(self.dates)
        if value is None:
            message = (
                "missing compatibility date: send the X-Compatibility-Date header (or the "
                f"compatibility_date query parameter); published dates: {listed}"
            )
        elif value not in self.dates:
            message = f"unknown compatibility date {value!r}; published dates: {listed}"
        elif value > self._today():
            message = f"compatibility date {value!r} is in the future"
        else:
            return None
        detail = {"location": where, "message": message, "value": value}
        return {"error": message, "status": 400, "details": [detail]}

    def _today(self) -> str:
        return datetime.fromtimestamp(self.limits.clock(), UTC).date().isoformat()

    @staticmethod
    def _request_body(route: _Route, request: SandboxRequest) -> Any:
        if route.body_schema is None:
            return None
        try:
            value = request.json()
        except (ValueError, UnicodeDecodeError):
            raise _BadRequest(
                [{"location": "body", "message": "expected a JSON request body", "value": None}]
            ) from None
        try:
            _check(value, route.body_schema)
        except _Invalid as error:
            raise _BadRequest(
                [{"location": "body", "message": error.message, "value": value}]
            ) from None
        return value

    def _cached(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        with self._state_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                cached: _T = self._cache[key]
                return cached
        value = make()
        with self._state_lock:
            if key not in self._cache:
                self._cache[key] = value
                self._cache_bytes += _size(value)
            while len(self._cache) > _CACHE_ENTRIES or self._cache_bytes > _CACHE_BYTES:
                self._cache_bytes -= _size(self._cache.popitem(last=False)[1])
        return value

    def _content(
        self,
        route: _Route,
        bound: _Bound,
        language: str,
        generation: int,
        request_body: Any,
        headers: dict[str, str],
    ) -> bytes | tuple[int, Any]:
        """The encoded body of a 200, or (status, error) when the request asks past the end."""
        op_id, params = route.operation_id, bound.data
        key = (op_id, tuple(sorted(params.items())), language, generation)
        if route.style == "x-pages":
            count = self._cached(("pages", *key), lambda: self.dataset.page_count(op_id, params))
            shrunk = self.faults.pages_after_refresh
            if generation > 0 and shrunk is not None:
                count = min(count, shrunk)
            page = int(bound.paging.get("page", 1))
            headers["X-Pages"] = str(max(count, 1))
            if page > max(count, 1):
                return _error(404, "Requested page does not exist!")
            if count == 0:
                return b"[]"
            return self._cached(
                ("page", page, *key),
                lambda: _encode(
                    self.dataset.page(op_id, params, page, language=language, generation=generation)
                ),
            )
        if route.method != "GET":
            return _encode(
                self.dataset.body(
                    op_id,
                    params,
                    language=language,
                    generation=generation,
                    request_body=request_body,
                )
            )
        full = self._cached(
            ("body", *key),
            lambda: self.dataset.body(op_id, params, language=language, generation=generation),
        )
        if route.style == "cursor":
            field_name = self.dataset.cursor_list_field(op_id)
            records, cursor = cursor_page(
                op_id,
                list(full[field_name]),
                int(bound.paging.get("limit", 10)),
                bound.paging.get("before"),
                bound.paging.get("after"),
            )
            return _encode({**full, field_name: records, "cursor": cursor})
        if route.style == "from_id":
            from_id = bound.paging.get("from_id")
            records = [
                record for record in full if from_id is None or record["transaction_id"] <= from_id
            ]
            return _encode(records[: self.from_id_page_size])
        return self._cached(("encoded", *key), lambda: _encode(full))

    def _cache_headers(
        self, route: _Route, content: bytes, generated_at: int, headers: dict[str, str]
    ) -> None:
        now = self.limits.clock()
        if self.limits.cache_seconds is not None:
            expires = now + self.limits.cache_seconds
        elif route.daily_at is not None:
            expires = _next_daily(now, *route.daily_at)
        else:
            expires = now + route.cache_seconds
        headers["Cache-Control"] = "private" if route.secured else "public"
        headers["ETag"] = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
        headers["Last-Modified"] = _http_date(generated_at)
        headers["Expires"] = _http_date(expires)

    @staticmethod
    def _not_modified(
        request: SandboxRequest, headers: Mapping[str, str], generated_at: int
    ) -> bool:
        if_none_match = request.header("If-None-Match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, headers["ETag"])
        if_modified_since = request.header("If-Modified-Since")
        if if_modified_since is not None:
            since = _parse_http_date(if_modified_since)
            return since is not None and since >= generated_at
        return False

    def _openapi(self, request: SandboxRequest) -> SandboxResponse:
        requested = request.header("X-Compatibility-Date")
        if requested is None:
            values = request.query.get("compatibility_date")
            requested = values[0] if values else None
        oldest = self.dates[-1]
        headers = {"X-Esi-Request-Id": str(uuid.uuid4()), "Vary": _VARY}
        if requested is None:
            resolved = oldest
        else:
            candidates = [
                day
                for day in self.dates
                if _DATE.fullmatch(requested) and day <= requested <= self._today()
            ]
            if not candidates:
                message = (
                    f"invalid compatibility date {requested!r}: use a date from {oldest} to today; "
                    f"published dates: {', '.join(self.dates)}"
                )
                return SandboxResponse.json({"error": message, "status": 400}, 400, headers)
            resolved = candidates[0]
        body = self._openapi_cache.get(resolved)
        if body is None:
            document = dict(self.spec)
            document["info"] = {**document.get("info", {}), "version": resolved}
            components = dict(document.get("components", {}))
            parameters = dict(components.get("parameters", {}))
            if "CompatibilityDate" in parameters:
                parameter = dict(parameters["CompatibilityDate"])
                parameter["schema"] = {**parameter.get("schema", {}), "enum": [resolved]}
                parameters["CompatibilityDate"] = parameter
                components["parameters"] = parameters
                document["components"] = components
            body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
            self._openapi_cache[resolved] = body
        etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        headers.update(
            {
                "Content-Type": "application/openapi+json",
                "Cache-Control": "public, max-age=600",
                "ETag": etag,
                "Last-Modified": _http_date(self._generated_at),
                "X-Compatibility-Date": resolved,
            }
        )
        if_none_match = request.header("If-None-Match")
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            del headers["Content-Type"]
            return SandboxResponse(304, headers)
        return SandboxResponse(200, headers, body)


def _size(value: Any) -> int:
    """Bytes an encoded cache entry holds (generated objects count as small)."""
    return len(value) if isinstance(value, bytes) else 1024


def _encode(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- HTTP plumbing ------------------------------------------------------------------------


def wire(response: SandboxResponse, method: str) -> tuple[int, dict[str, str], bytes]:
    """What goes on the wire for ``response``: status, headers with Content-Length, body.

    No body for HEAD, 1xx, 204 and 304; a cut answer keeps the full Content-Length but carries
    only half the body (the connection is then closed).
    """
    headers = dict(response.headers)
    has_body = response.status not in (204, 304) and not 100 <= response.status < 200
    if not has_body:
        return response.status, headers, b""
    headers["Content-Length"] = str(len(response.body))
    payload = response.body if method != "HEAD" else b""
    if response.cut:
        payload = payload[: len(payload) // 2]
    return response.status, headers, payload


def _reason(status: int) -> str:
    reason = _REASONS.get(status)
    if reason is not None:
        return reason
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Sandbox
    ) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox keeps its own RequestLog."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._write(SandboxResponse.json({"error": "request body too large"}, 413))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = SandboxRequest(
            method=self.command,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            client=str(self.client_address[0]),
        )
        try:
            response = self.server.sandbox.handle(request)
        except Exception as error:
            logger.exception("sandbox failed on %s %s", self.command, self.path)
            response = SandboxResponse.json({"error": f"sandbox internal error: {error!r}"}, 500)
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    def _write(self, response: SandboxResponse) -> None:
        if self.close_connection:
            response = replace(response, headers={**response.headers, "Connection": "close"})
        status, headers, payload = wire(response, self.command)
        if response.cut:
            self.close_connection = True
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


def serve(host: str = "127.0.0.1", port: int = 8080, **kwargs: Any) -> None:
    """Run a sandbox in the foreground until interrupted (for ``esiframe sandbox``)."""
    sandbox = Sandbox(host=host, port=port, **kwargs).start()
    print(f"esiframe sandbox: ESI emulator on {sandbox.url} (Ctrl+C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
