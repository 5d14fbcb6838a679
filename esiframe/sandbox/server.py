"""A local ESI emulator: a real HTTP server on 127.0.0.1 built from the bundled OpenAPI spec.

`Sandbox` answers every GET operation of the spec and every read-only POST (`READ_ONLY_POSTS`:
names, ids, affiliations, asset names and locations, routes, CSPA) with deterministic synthetic
data from `esiframe.sandbox.dataset.Dataset`, and behaves like ESI as docs/esi.md describes it:
unversioned routes, a required compatibility date, X-Pages / cursor / from_id pagination,
caching headers and conditional requests, localization, the error limit, floating-window
rate-limit groups, the market history hidden limit and bearer-token auth, plus injectable
`Faults`. Its limit, paging and cache rules are its own, independent of the client's.

The ESI behaviour lives in `Sandbox.handle`, a plain function from `SandboxRequest` to
`SandboxResponse` (None = drop the connection), so it is testable without sockets;
`Sandbox.answer` gives the same answer as bytes, for an in-process transport.

Extension points, for the SSO emulator and tests:

- ``Sandbox.authorize`` (or the ``authorize=`` argument): ``(operation, path_params,
  authorization) -> AuthResult`` decides who a request belongs to. Without ``authorize=`` the
  sandbox's own SSO (``Sandbox.sso``, esiframe.sandbox.sso) is mounted and checks bearer JWTs;
  ``authorize=default_authorize`` instead accepts any non-empty bearer token on scoped
  operations and takes the path's ``character_id`` as its owner (handy in tests).
- ``Sandbox.add_route(method, path, handler)`` mounts an extra endpoint (e.g. ``/v2/oauth/token``)
  answered by ``handler(SandboxRequest) -> SandboxResponse``; ``{name}`` segments become
  ``request.path_params``. Extra routes bypass ESI's rules (no compatibility date, no limits,
  no injected errors) but still get ``latency``, ``drop_rate`` and ``hang_rate`` and are logged.
- ``Sandbox.change_cursor_records`` changes a cursor list, so a client walking ``after=`` sees
  exactly the changes.

Simplification: the sandbox has one spec document. Every published compatibility date is
accepted and answered by it (see `esiframe.sandbox.openapi`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from esiframe.sandbox.binding import BadRequest, Bound, Invalid, bind, canonical, check
from esiframe.sandbox.cache import ContentCache
from esiframe.sandbox.cursors import CursorFeed
from esiframe.sandbox.dataset import Dataset
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
from esiframe.sandbox.headers import (
    etag_matches,
    etag_of,
    http_date,
    negotiate_language,
    next_daily,
    parse_http_date,
    window_label,
)
from esiframe.sandbox.httpd import MAX_BODY, Handler, Server, wire
from esiframe.sandbox.lookups import NotFound
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
from esiframe.sandbox.openapi import VARY, OpenApiDocuments
from esiframe.sandbox.routes import (
    PAGING_PARAMS,
    READ_ONLY_POSTS,
    Route,
    Router,
    published_dates,
)
from esiframe.sandbox.sso import SandboxSSO
from esiframe.sandbox.vocabulary import Sizes, iso_time, params_key
from esiframe.spec import Spec, bundled_spec

__all__ = [
    "READ_ONLY_POSTS",
    "AuthResult",
    "Authorizer",
    "LogEntry",
    "RequestLog",
    "RouteHandler",
    "Sandbox",
    "SandboxRequest",
    "SandboxResponse",
    "default_authorize",
    "load_bundled_spec",
    "serve",
    "wire",
]

logger = logging.getLogger("esiframe.sandbox")

HISTORY_OPERATION = "GetMarketsRegionIdHistory"
_SERVER_ERRORS = (500, 502, 503, 504)
_LANGUAGES = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")
_CURSOR_TIME_FIELDS = ("last_modified", "started", "created", "date")


def load_bundled_spec() -> Mapping[str, Any]:
    """The OpenAPI document bundled with esiframe (read through `esiframe.spec`)."""
    return bundled_spec().document


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": message}


def _encode(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
        _check_arguments(port, from_id_page_size)
        self.host = host
        self.port = port
        reader = bundled_spec() if spec is None else Spec(spec)
        self.spec: Mapping[str, Any] = reader.document
        self.faults = faults if faults is not None else Faults()
        self.limits = limits if limits is not None else SandboxLimits()
        today = datetime.fromtimestamp(self.limits.clock(), UTC).date()
        self.dataset = Dataset(reader, seed=seed, sizes=sizes or Sizes(), today=today)
        self.authorize: Authorizer = authorize or default_authorize
        self.from_id_page_size = from_id_page_size
        self.log = RequestLog()
        self.dates = published_dates(reader)
        language = reader.resolve({"$ref": "#/components/parameters/AcceptLanguage"})
        self.languages: tuple[str, ...] = tuple(language.get("schema", {}).get("enum", _LANGUAGES))
        self._by_id = self.dataset.routes
        self._routes = Router()
        for route in self._by_id.values():
            self._routes.add(route.segments, route.method, route)
        self._extra = Router()
        self._openapi = OpenApiDocuments(self.spec, self.dates)
        self.sso = SandboxSSO(clock=self.limits.clock).mount(self, authorize=authorize is None)
        self.dataset.characters = self.sso.characters  # one name per character everywhere
        self._init_state()

    def _init_state(self) -> None:
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
        self._cache = ContentCache()
        self._feeds: dict[tuple[Any, ...], CursorFeed] = {}
        self._server: Server | None = None
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
            server = Server((self.host, self.port), Handler, self)
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
        """Stop serving, let hung requests go and close every open connection (idempotent)."""
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

    def change_cursor_records(
        self,
        operation_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        modify: int = 0,
        add: int = 0,
    ) -> list[dict[str, Any]]:
        """Change a cursor-paginated list as ESI's data changes; returns the changed records.

        ``modify`` of the least recently changed records get a new time (now) and move to the
        newest end; ``add`` new records appear there. ``params`` are the route's path and query
        parameters (default: the dataset's example ones). A client walking ``after=`` from a
        token issued before the change gets exactly these records (docs/esi.md §3.2).
        """
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (modify, add)
        ):
            raise ValueError(f"modify and add must be integers >= 0, got {modify!r} and {add!r}")
        route = self._by_id.get(operation_id)
        if route is None or route.style != "cursor":
            raise ValueError(f"{operation_id!r} is not a cursor-paginated operation")
        given = params if params is not None else self.dataset.example_params(operation_id)
        data = {k: canonical(v) for k, v in given.items() if k not in PAGING_PARAMS}
        feed = self._feed(route, data)
        stamp = iso_time(int(self.limits.clock()))
        changed = feed.change(lambda record: _stamped(record, stamp), modify)
        more = self.dataset.more_cursor_records(operation_id, data, add, start=feed.added)
        new = [_stamped(record, stamp) for record in more]
        feed.add(new)
        return changed + new

    def _feed(self, route: Route, data: Mapping[str, str]) -> CursorFeed:
        """The cursor list of a route and its parameters, made on first use."""
        key = (route.operation_id, params_key(data))
        with self._state_lock:
            feed = self._feeds.get(key)
        if feed is not None:
            return feed
        field = self.dataset.cursor_list_field(route.operation_id)
        made = CursorFeed(route.operation_id, self.dataset.body(route.operation_id, data)[field])
        with self._state_lock:
            return self._feeds.setdefault(key, made)

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
        if len(data) > MAX_BODY:
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
            return self._openapi.answer(request, self._today(), self._generated_at), None
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
            "Vary": VARY,
            "X-Esi-Request-Id": str(uuid.uuid4()),
            "Date": http_date(self.limits.clock()),
        }
        if route is None:
            status, body = _no_route(request, allowed, headers)
            return self._finish_error_limited(status, body, headers), None
        assert isinstance(route, Route)
        if not route.served:
            status, body = _error(
                501,
                f"{route.operation_id} ({route.method} {route.template}) is not emulated: the "
                "sandbox serves GET operations and the read-only POSTs "
                f"{', '.join(sorted(READ_ONLY_POSTS))}",
            )
            return self._finish_error_limited(status, body, headers), route.operation_id
        headers["X-Compatibility-Date"] = route.compatibility_date
        exchange = _Exchange(route, request, path_params, language, headers)
        return self._gated(exchange), route.operation_id

    def _gated(self, exchange: _Exchange) -> SandboxResponse:
        """The error limit, the bearer check and the rate-limit group in front of the answer."""
        route, request, headers = exchange.route, exchange.request, exchange.headers
        if self._error_limit.exhausted():
            remain, reset = self._error_limit.state()
            headers["X-Esi-Error-Limit-Remain"] = str(remain)
            headers["X-Esi-Error-Limit-Reset"] = str(reset)
            body = {
                "error": f"error limited: too many errors, wait {reset} s for the window to reset"
            }
            return SandboxResponse.json(body, 420, headers)
        exchange.auth = self.authorize(
            route.operation, exchange.path_params, request.header("Authorization")
        )
        exchange.owner = exchange.auth.owner or request.client
        admission = self._admit(exchange) if route.group is not None else None
        if admission is not None and not admission.admitted:
            body = {"error": f"rate limited: too many requests in group {route.group}"}
            return SandboxResponse.json(body, 429, headers)
        if self.faults.roll(self.faults.bare_429_rate):
            return self._bare_429(admission, headers)
        status, payload = self._answer(exchange)
        if admission is None:
            return self._finish_error_limited(status, payload, headers)
        headers["X-Ratelimit-Remaining"] = str(self._buckets.settle(admission, status))
        headers["X-Ratelimit-Used"] = str(token_cost(status))
        return self._response(status, payload, headers)

    def _admit(self, exchange: _Exchange) -> Admission:
        """Spend a request's tokens in its group's floating window (docs/esi.md §5)."""
        route, headers, owner = exchange.route, exchange.headers, exchange.owner
        group = str(route.group)
        max_tokens = self.faults.group_max_tokens.get(group, route.max_tokens)
        window = self.limits.group_window or route.window
        headers["X-Ratelimit-Group"] = group
        headers["X-Ratelimit-Limit"] = window_label(
            max_tokens, window, route.window_text, self.limits.group_window is not None
        )
        admission = self._buckets.admit(group, owner, max_tokens, window)
        if not admission.admitted:
            headers["Retry-After"] = str(admission.retry_after)
            headers["X-Ratelimit-Remaining"] = str(
                self._buckets.remaining(group, owner, max_tokens)
            )
            headers["X-Ratelimit-Used"] = "0"
        return admission

    def _bare_429(self, admission: Admission | None, headers: dict[str, str]) -> SandboxResponse:
        """A 429 from deep in the game server: Retry-After but no X-Ratelimit headers."""
        for name in [name for name in headers if name.startswith("X-Ratelimit-")]:
            del headers[name]
        headers["Retry-After"] = "1"
        status, body = _error(429, "too many requests")
        if admission is None:
            return self._finish_error_limited(status, body, headers)
        self._buckets.settle(admission, 429)
        return SandboxResponse.json(body, 429, headers)

    def _finish_error_limited(
        self, status: int, payload: Any, headers: dict[str, str]
    ) -> SandboxResponse:
        """Count an error against the error limit and say what is left (docs/esi.md §4)."""
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

    def _answer(self, exchange: _Exchange) -> tuple[int, Any]:
        """(status, body: JSON-able, encoded bytes, or None for no body); fills the headers."""
        route, request = exchange.route, exchange.request
        problem = self._check_date(request)
        if problem is not None:
            return 400, problem
        if exchange.auth.status is not None:
            return _error(exchange.auth.status, exchange.auth.error or "not authorized")
        try:
            exchange.bound = bind(route, exchange.path_params, request.query)
            exchange.body = _request_body(route, request)
        except BadRequest as error:
            return 400, error.body()
        if self.faults.roll(self.faults.error_rate):
            status = self.faults.pick(_SERVER_ERRORS)
            return _error(status, f"injected fault: HTTP {status} from the sandbox")
        if route.operation_id == HISTORY_OPERATION and not self._history.admit(exchange.owner):
            return _error(
                500,
                "Undefined 429 response. Original message: Too many requests: market history "
                f"rate limit of {self.limits.history_per_minute} requests per "
                f"{self.limits.history_window:g} s exceeded; wait before retrying",
            )
        return self._fresh_or_not_modified(exchange)

    def _fresh_or_not_modified(self, exchange: _Exchange) -> tuple[int, Any]:
        """The content (or a 304 for a matching conditional GET), with its caching headers."""
        route, bound, headers = exchange.route, exchange.bound, exchange.headers
        with self._state_lock:
            generation, generated_at = self._generation, self._generated_at
        language = exchange.language if route.localized else "en"
        try:
            if route.method == "GET" and not self.dataset.exists(route.operation_id, bound.data):
                return _error(404, f"not found: {route.template} has nothing for these parameters")
            content = self._content(exchange, language, generation)
        except BadRequest as error:
            return 400, error.body()
        except NotFound as error:
            return _error(404, error.message)
        except Exception as error:
            logger.exception("sandbox data failed for %s", route.operation_id)
            return _error(500, f"sandbox data error in {route.operation_id}: {error!r}")
        if isinstance(content, tuple):
            return content
        self._cache_headers(route, content, generated_at, headers)
        status: int = 200
        payload: bytes | None = content
        if route.method == "GET" and _not_modified(exchange.request, headers, generated_at):
            status, payload = 304, None
        elif route.operation.get("responses", {}).get("201"):
            status = 201
        if route.style == "x-pages" and self._refresh_trigger.page_served(self.faults):
            self.refresh()
        return status, payload

    def _check_date(self, request: SandboxRequest) -> dict[str, Any] | None:
        """ESI's 400 for a missing, unknown or future compatibility date (docs/esi.md §2)."""
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
        elif not _is_day(value) or value < min(self.dates):
            # Any day from the first published date on is valid: ESI answers each route with
            # its newest version not after it (docs/esi.md §2).
            message = f"invalid compatibility date {value!r}; published dates: {listed}"
        elif value > self._today():
            message = f"compatibility date {value!r} is in the future"
        else:
            return None
        detail = {"location": where, "message": message, "value": value}
        return {"error": message, "status": 400, "details": [detail]}

    def _today(self) -> str:
        return datetime.fromtimestamp(self.limits.clock(), UTC).date().isoformat()

    # content

    def _content(
        self, exchange: _Exchange, language: str, generation: int
    ) -> bytes | tuple[int, Any]:
        """The encoded body of a 200, or (status, error) when the request asks past the end."""
        route, bound = exchange.route, exchange.bound
        op_id, params = route.operation_id, bound.data
        key = (op_id, tuple(sorted(params.items())), language, generation)
        if route.style == "x-pages":
            return self._page(route, bound, key, exchange.headers)
        if route.method != "GET":
            return _encode(
                self.dataset.body(op_id, params, language=language, request_body=exchange.body)
            )
        if route.style == "cursor":
            return self._cursor(route, bound)
        full = self._cache.get(
            ("body", *key),
            lambda: self.dataset.body(op_id, params, language=language, generation=generation),
        )
        if route.style == "from_id":
            from_id = bound.paging.get("from_id")
            records = [r for r in full if from_id is None or r["transaction_id"] <= from_id]
            return _encode(records[: self.from_id_page_size])
        return self._cache.get(("encoded", *key), lambda: _encode(full))

    def _page(
        self, route: Route, bound: Bound, key: tuple[Any, ...], headers: dict[str, str]
    ) -> bytes | tuple[int, Any]:
        """One X-Pages page; X-Pages shrinks after a refresh with Faults.pages_after_refresh."""
        op_id, params, language, generation = route.operation_id, bound.data, key[2], key[3]
        count = self._cache.get(("pages", *key), lambda: self.dataset.page_count(op_id, params))
        shrunk = self.faults.pages_after_refresh
        if generation > 0 and shrunk is not None:
            count = min(count, shrunk)
        page = int(bound.paging.get("page", 1))
        headers["X-Pages"] = str(max(count, 1))
        if page > max(count, 1):
            return _error(404, "Requested page does not exist!")
        if count == 0:
            return b"[]"
        return self._cache.get(
            ("page", page, *key),
            lambda: _encode(
                self.dataset.page(op_id, params, page, language=language, generation=generation)
            ),
        )

    def _cursor(self, route: Route, bound: Bound) -> bytes:
        """One before/after request of a cursor list (docs/esi.md §3.2)."""
        feed = self._feed(route, bound.data)
        ttl = self.limits.tombstone_ttl
        records, cursor = feed.page(
            int(bound.paging.get("limit", 10)),
            bound.paging.get("before"),
            bound.paging.get("after"),
            self.limits.clock(),
            route.tombstone_ttl if ttl is None else ttl,
        )
        field = self.dataset.cursor_list_field(route.operation_id)
        return _encode({field: records, "cursor": cursor})

    def _cache_headers(
        self, route: Route, content: bytes, generated_at: int, headers: dict[str, str]
    ) -> None:
        """Cache-Control, ETag, Last-Modified and Expires of a 200 (docs/esi.md §6)."""
        now = self.limits.clock()
        if self.limits.cache_seconds is not None:
            expires = now + self.limits.cache_seconds
        elif route.daily_at is not None:
            expires = next_daily(now, *route.daily_at)
        else:
            expires = now + route.cache_seconds
        headers["Cache-Control"] = "private" if route.secured else "public"
        headers["ETag"] = etag_of(content)
        headers["Last-Modified"] = http_date(generated_at)
        headers["Expires"] = http_date(expires)


class _Exchange:
    """One ESI request on its way through the sandbox, and what was learnt about it."""

    def __init__(
        self,
        route: Route,
        request: SandboxRequest,
        path_params: Mapping[str, str],
        language: str,
        headers: dict[str, str],
    ) -> None:
        self.route = route
        self.request = request
        self.path_params = path_params
        self.language = language
        self.headers = headers
        self.auth = AuthResult()
        self.owner = request.client
        self.bound = Bound({}, {})
        self.body: Any = None


def _check_arguments(port: Any, from_id_page_size: Any) -> None:
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in 0..65535 (0 = any free port), got {port!r}")
    if not isinstance(from_id_page_size, int) or from_id_page_size < 1:
        raise ValueError(f"from_id_page_size must be an integer >= 1, got {from_id_page_size!r}")


def _no_route(
    request: SandboxRequest, allowed: list[str], headers: dict[str, str]
) -> tuple[int, Any]:
    if not allowed:
        return _error(404, f"no ESI route matches {request.path!r}")
    headers["Allow"] = ", ".join(allowed)
    return _error(
        405,
        f"method {request.method} not allowed on {request.path}; ESI allows "
        f"{', '.join(allowed)} here",
    )


def _request_body(route: Route, request: SandboxRequest) -> Any:
    """The JSON body a read-only POST carries, checked against the spec's schema."""
    if route.body_schema is None:
        return None
    try:
        value = request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            [{"location": "body", "message": "expected a JSON request body", "value": None}]
        ) from None
    try:
        check(value, route.body_schema)
    except Invalid as error:
        raise BadRequest([{"location": "body", "message": error.message, "value": value}]) from None
    return value


def _not_modified(request: SandboxRequest, headers: Mapping[str, str], generated_at: int) -> bool:
    """Whether a conditional GET's validators still match (answer 304)."""
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        return etag_matches(if_none_match, headers["ETag"])
    if_modified_since = request.header("If-Modified-Since")
    if if_modified_since is not None:
        since = parse_http_date(if_modified_since)
        return since is not None and since >= generated_at
    return False


def _stamped(record: dict[str, Any], stamp: str) -> dict[str, Any]:
    """``record`` with its change-time field (if it has one) set to ``stamp``."""
    for name in _CURSOR_TIME_FIELDS:
        if name in record:
            record[name] = stamp
            break
    return record


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


def _is_day(value: str) -> bool:
    """``YYYY-MM-DD`` naming a real day."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").strftime("%Y-%m-%d") == value
    except ValueError:
        return False
