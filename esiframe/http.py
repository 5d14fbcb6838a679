"""The one place that talks HTTP to ESI.

:class:`Transport` owns a requests-cache ``CachedSession`` (SQLite, WAL)
that honours ``Expires`` and revalidates with ``If-None-Match``, a plain
session for the SSO, and the client's :class:`~esiframe.limits.Limiter`.
:meth:`Transport.send` waits for the limits, retries faults with backoff,
and turns error statuses into exceptions.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import (
    ClientError,
    EsiError,
    EsiHTTPError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .httpcache import cache_key, cache_owner, cached_session, save_later, stored
from .httpcache import clear as clear_file
from .ledger import LEDGER_FILE, Ledger
from .limits import HIDDEN_WINDOW, Limiter, RouteLimit, Wait, backoff
from .results import RESULTS_DIR, ResultStore

if TYPE_CHECKING:  # requests is imported when the first Transport is built
    import requests
    from requests.adapters import BaseAdapter

__all__ = [
    "CacheState",
    "Clock",
    "Response",
    "Stopped",
    "Transport",
    "WaitPolicy",
    "cache_file",
    "cache_owner",
    "clear_cache",
    "iso_time",
]

log = logging.getLogger("esiframe")

CacheState = Literal["cache", "revalidated", "fresh", "uncached", "not-modified"]
WaitPolicy = Literal["sleep", "raise"]
#: The SQLite file of the HTTP cache, inside the cache directory.
CACHE_FILE = "http_cache.sqlite"
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


def _dropped() -> tuple[type[Exception], ...]:
    """A connection lost before or during the answer: worth another try."""
    import requests

    return (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )


#: Waits at least this long are logged as warnings (visible without logging set up).
_LOUD_WAIT = 5.0


class Stopped(EsiError):
    """The call this request belongs to was stopped (Ctrl-C or another request's failure).

    Raised in worker threads instead of KeyboardInterrupt; the main thread
    raises the real reason.
    """


def _sleep(seconds: float, stop: threading.Event) -> bool:
    return stop.wait(seconds)


@dataclass(frozen=True)
class Clock:
    """Time as the limits see it: ``now()`` and an interruptible ``sleep(seconds, stop)``.

    The default is real time; tests and simulations inject a fake one so
    that waits of minutes take no time.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float, threading.Event], bool] = _sleep


@dataclass(frozen=True)
class Response:
    """One ESI answer, with what the cache made of it."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(repr=False)
    url: str
    cache: CacheState
    #: The body as the caller's ``decode`` made it (then ``body`` is None and the bytes are
    #: gone): pages typed in the worker that fetched them, never parsed into Python dicts.
    decoded: Any = field(default=None, repr=False)
    #: New from ESI with no cached copy to compare (no validators were sent): not cached before.
    first_copy: bool = False


@dataclass(frozen=True)
class _Outgoing:
    """One request as :meth:`Transport.send` was asked to send it."""

    method: str
    url: str
    route: RouteLimit
    owner: str
    query: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    body: Any
    on_limit: WaitPolicy
    on_wait: Callable[[Wait], None] | None
    force_refresh: bool
    use_cache: bool
    stop: threading.Event
    decode: Callable[[bytes], Any] | None = None
    cache_read: bool = True  # False: known not to be in the cache; the answer is still stored


class Transport:
    """HTTP for one client: cached session, limits, retries.

    ``cache`` is a directory for the SQLite file, or ``None`` for no cache.
    ``connection`` replaces the network: an adapter (mounted under the cache,
    e.g. :class:`InProcessAdapter`) or a whole ``requests.Session`` (used as
    is for every request: no esiframe cache).
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        cache: Path | None,
        timeout: float,
        max_workers: int,
        retries: int = 4,
        clock: Clock | None = None,
        connection: requests.Session | BaseAdapter | None = None,
    ) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.clock = clock or Clock()
        # One ledger of ESI's limits for every process on the machine (docs/esi.md §4, §5).
        self.ledger = Ledger(cache / LEDGER_FILE) if cache else None
        self.limiter = Limiter(clock=clock.now if clock else None, ledger=self.ledger)
        self._slots = threading.BoundedSemaphore(max_workers)  # requests on the wire at once
        self._said: dict[tuple[str, str], float] = {}  # limit -> until when its wait was told
        self._said_lock = threading.Lock()
        self.cache_path = cache_file(cache) if cache else None
        self._cached = False  # a requests-cache session (it takes only_if_cached=...)
        self._session: requests.Session | None = None  # ESI through the cache: see session
        self._session_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self.direct: requests.Session  # ESI, no cache (see _direct)
        self.plain: requests.Session  # the SSO: another host, the environment as usual
        if isinstance(connection, requests.Session):
            self.cache_path = None
            self._session = self.direct = self.plain = connection
            connection.headers.update(headers)
        else:
            self._sessions(headers, max_workers, connection)

    def _sessions(
        self, headers: Mapping[str, str], max_workers: int, adapter: BaseAdapter | None
    ) -> None:
        """The sessions, on one connection pool (or the given adapter); the cached one is
        built on first use (see :attr:`session`)."""
        import requests
        from requests.adapters import HTTPAdapter

        self._adapter = adapter or HTTPAdapter(
            pool_connections=4, pool_maxsize=max(max_workers, 4) * 2
        )
        self._headers = dict(headers)
        self.direct = self._fit(requests.Session())
        self.plain = self._fit(requests.Session(), environment=False)
        if self.cache_path is not None:
            os.makedirs(self.cache_path.parent, exist_ok=True)
            self._cached = True
        else:
            self._session = self.direct

    def _fit(self, session: requests.Session, *, environment: bool = True) -> requests.Session:
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        session.headers.update(self._headers)
        if environment:
            _settle_environment(session, self.base_url)
        return session

    @property
    def session(self) -> requests.Session:
        """ESI through the cache: requests-cache's session, built on first use.

        Importing requests-cache takes about 0.1 s. A first request in a new process
        asks the cache file itself (:func:`~esiframe.httpcache.stored`) and, when the
        answer is not there, goes out at once while this is built in the background.
        """
        with self._session_lock:
            if self._session is None:
                assert self.cache_path is not None
                self._session = self._fit(cached_session(self.cache_path))
            return self._session

    def _build_soon(self) -> None:
        """Build the cached session in the background (once)."""
        with self._session_lock:
            if self._builder is not None or self._session is not None:
                return
            self._builder = threading.Thread(
                target=self._build_or_do_without, name="esiframe-cache-setup", daemon=True
            )
            self._builder.start()

    def _build_or_do_without(self) -> None:
        """Build the cached session; if it cannot be built, say so once and go on without
        the cache, as ``cache=False`` would."""
        try:
            self.session  # noqa: B018
        except Exception as exc:
            self._cached = False
            log.warning(
                "the HTTP cache %s cannot be used (%s): answers are not cached",
                self.cache_path,
                exc,
            )

    def close(self) -> None:
        if self._builder is not None:
            self._builder.join()
        if self._session is not None and self._session is not self.direct:
            self._session.close()
        self.direct.close()
        self.plain.close()
        if self.ledger is not None:
            self.ledger.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        route: RouteLimit,
        owner: str = "public",
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        on_limit: WaitPolicy = "sleep",
        on_wait: Callable[[Wait], None] | None = None,
        force_refresh: bool = False,
        use_cache: bool = True,
        stop: threading.Event | None = None,
        decode: Callable[[bytes], Any] | None = None,
        cache_read: bool = True,
    ) -> Response:
        """Send one request within the limits; retry faults; raise for error statuses.

        420/429 wait and resend (``on_limit="raise"``: RateLimitedError); 5xx and dropped
        connections retry with backoff (then ServerError / TransportError); other 4xx raise
        ClientError at once (ESI charges every retry). ``stop`` interrupts waits (Ctrl-C).
        ``decode`` makes a 2xx body (bytes) ``Response.decoded`` instead of JSON.
        ``cache_read=False`` skips looking for an answer the caller knows is not cached.
        """
        req = _Outgoing(
            method, self.base_url + path, route, owner, query, headers, body,
            on_limit, on_wait, force_refresh, use_cache, stop or threading.Event(), decode,
            cache_read,
        )  # fmt: skip
        return self._send(req)

    def send_alone(self, method: str, path: str, **kwargs: Any) -> Response:
        """:meth:`send` outside a walk: what it spent is settled in the ledger at once."""
        try:
            return self.send(method, path, **kwargs)
        finally:
            self.limiter.flush()

    def _send(self, req: _Outgoing) -> Response:
        """The loop of :meth:`send`: wait, try, account, retry."""
        probe = req.use_cache and not req.force_refresh and req.cache_read  # cache first
        attempt = 0
        while True:
            kept, probe = self._acquire(req, probe)
            if kept is not None:
                return kept
            answer = self._attempt(req, attempt)
            if answer is None:  # the connection dropped; a retry is due
                attempt += 1
                continue
            raw, state = answer
            retry = self._account(req, raw, state)
            if retry is not None:
                self._wait(retry, req.on_limit, req.on_wait, req.url, raw, req.stop)
                continue
            if raw.status_code < 400:
                return _response(raw, req, state)
            if raw.status_code in _RETRY_STATUSES and attempt < self.retries:
                attempt = self._pause_after(req, raw, attempt + 1)
                continue
            raise _http_error(req.method, req.url, raw)

    def _account(self, req: _Outgoing, raw: requests.Response, state: CacheState) -> Wait | None:
        """Tell the limits what the answer cost; the wait before resending, if it was limited."""
        if state == "cache":  # served from the cache: the reservation is given back
            self.limiter.release(req.route, req.owner)
            return None
        status = 304 if state == "revalidated" else raw.status_code  # a reuse is a 304
        return self.limiter.record(req.route, req.owner, status, raw.headers)

    def _acquire(self, req: _Outgoing, probe: bool) -> tuple[Response | None, bool]:
        """Wait for the limits; an answer fresh in the cache needs no request, so no wait."""
        while (wait := self.limiter.acquire(req.route, req.owner)) is not None:
            if probe:
                probe = False
                kept = self._from_cache(req)
                if kept is not None:
                    return kept, probe
            self._wait(wait, req.on_limit, req.on_wait, req.url, None, req.stop)
        return None, probe

    def _attempt(self, req: _Outgoing, attempt: int) -> tuple[requests.Response, CacheState] | None:
        """One request on the wire; None after a dropped connection (paused for a retry),
        TransportError when the retries ran out without any answer."""
        try:
            with self._slots:
                return self._request(req)
        except _dropped() as exc:
            self.limiter.release(req.route, req.owner)
            if attempt + 1 > self.retries:
                raise TransportError(
                    f"{req.method} {req.url}: no answer after {attempt + 1} attempts ({exc})",
                    url=req.url,
                ) from exc
            reason = f"connection failed ({exc.__class__.__name__})"
            self._pause(backoff(attempt + 1), reason, req.on_wait, req.stop)
            return None
        except BaseException:  # interrupted: the reservation must not leak
            self.limiter.release(req.route, req.owner)
            raise

    def _pause_after(self, req: _Outgoing, raw: requests.Response, attempt: int) -> int:
        """Wait before retry ``attempt`` of a 5xx: a minute for the hidden limit
        (docs/esi.md §5.1), else backoff. Returns ``attempt``."""
        if req.route.per_minute and _hidden_limit_hit(raw):
            reason = "ESI's hidden per-minute limit answered 500"
            self._pause(HIDDEN_WINDOW, reason, req.on_wait, req.stop)
        else:
            reason = f"ESI answered {raw.status_code}"
            self._pause(backoff(attempt), reason, req.on_wait, req.stop)
        return attempt

    def _request(self, req: _Outgoing) -> tuple[requests.Response, CacheState]:
        """Send ``req`` through the cache, or past it (see :meth:`_direct`)."""
        kwargs = _kwargs(req.query, req.headers, req.body) | {"timeout": self.timeout}
        if not req.use_cache or not req.cache_read or not self._cached or self._absent(req):
            return self._direct(req, kwargs)
        kwargs["force_refresh"] = req.force_refresh  # requests-cache's own argument
        raw = self.session.request(req.method, req.url, **kwargs)
        return raw, _cache_state(raw)

    def _absent(self, req: _Outgoing) -> bool:
        """Whether ``req``'s answer is certainly not in the cache, asked of the file itself
        while the cached session is not built yet (which then starts building)."""
        import requests

        if self._session is not None:
            return False  # requests-cache's own lookup answers
        assert self.cache_path is not None
        asked = requests.Request(req.method, req.url, **_kwargs(req.query, req.headers, req.body))
        key = cache_key(self.direct.prepare_request(asked), verify=self.direct.verify)
        absent = not stored(self.cache_path, key)  # asked before the build touches the file
        self._build_soon()
        return absent

    def _direct(
        self, req: _Outgoing, kwargs: dict[str, Any]
    ) -> tuple[requests.Response, CacheState]:
        """Send ``req`` without looking in the cache: no cache, ``use_cache=False``, or an
        answer known not to be cached (``cache_read=False``), which is stored all the same,
        off the request path (:func:`~esiframe.httpcache.save_later`)."""
        raw = self.direct.request(req.method, req.url, stream=True, **kwargs)
        _read_whole(raw)
        if req.use_cache and self._cached and raw.status_code == 200:
            assert self.cache_path is not None
            save_later(self.cache_path, lambda: self.session, raw)
            return raw, "fresh"
        return raw, _cache_state(raw)  # "uncached", or the caller's own 304

    def _from_cache(self, req: _Outgoing) -> Response | None:
        """The answer if it is fresh in the cache, without any request (only 200s are stored;
        a miss comes back as requests-cache's own 504, never sent anywhere)."""
        if not self._cached:
            return None
        kwargs = _kwargs(req.query, req.headers, req.body) | {"only_if_cached": True}
        kept = self.session.request(req.method, req.url, **kwargs)
        if kept.status_code == 200 and getattr(kept, "from_cache", False):
            return _response(kept, req, "cache")
        return None

    def _wait(
        self,
        wait: Wait,
        on_limit: WaitPolicy,
        on_wait: Callable[[Wait], None] | None,
        url: str,
        raw: requests.Response | None,
        stop: threading.Event,
    ) -> None:
        if on_limit == "raise" and wait.kind != "learning":  # a first answer is not a limit
            raise RateLimitedError(
                f"{wait.reason} (on_limit='raise')",
                status=raw.status_code if raw is not None else 0,
                state={
                    "kind": wait.kind,
                    "seconds": wait.seconds,
                    **wait.state,
                    "limits": self.limiter.snapshot(),
                },
                url=url,
                headers=raw.headers if raw is not None else None,
                body=_json(raw) if raw is not None else None,
            )
        self._pause(wait.seconds, wait.reason, on_wait, stop, wait)

    def _loudness(self, wait: Wait) -> int:
        """Say a wait once per episode: the other threads waiting on the same limit stay quiet."""
        what = (wait.kind, str(wait.state.get("group") or wait.state.get("owner") or ""))
        now = self.clock.now()
        with self._said_lock:
            repeated = now < self._said.get(what, -1.0)
            self._said[what] = max(self._said.get(what, -1.0), now + wait.seconds)
        if repeated or wait.kind == "learning":
            return logging.DEBUG
        return logging.WARNING if wait.seconds >= _LOUD_WAIT else logging.INFO

    def _pause(
        self,
        seconds: float,
        reason: str,
        on_wait: Callable[[Wait], None] | None,
        stop: threading.Event,
        wait: Wait | None = None,
    ) -> None:
        if seconds <= 0:
            return
        if wait is None:
            wait = Wait(
                seconds=seconds,
                kind="retry-after",
                reason=f"{reason}; retrying in {seconds:.1f} s",
                state={},
            )
        log.log(self._loudness(wait), wait.reason)
        if on_wait is not None:
            on_wait(wait)
        if self.clock.sleep(seconds, stop):
            raise Stopped("esiframe request stopped")


def _kwargs(
    query: Mapping[str, Any] | None, headers: Mapping[str, str] | None, body: Any
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if body is not None:
        kwargs["json"] = body
    return kwargs


def _hidden_limit_hit(raw: requests.Response) -> bool:
    """A 500 from market history that says it is the rate limit (docs/esi.md §5.1)."""
    text = f"{raw.reason} {raw.text[:500]}".lower()
    return raw.status_code == 500 and "limit" in text


def iso_time(http_date: str | None) -> str | None:
    """An HTTP date header (``Expires``, ``Last-Modified``) as ISO 8601, for metadata and
    comparisons; a value that is not an HTTP date is passed through."""
    if not http_date:
        return None
    try:
        return parsedate_to_datetime(http_date).isoformat()
    except (TypeError, ValueError):
        return http_date


def cache_file(directory: Path) -> Path:
    """The SQLite file of the HTTP cache in ``directory``."""
    return directory / CACHE_FILE


def clear_cache(directory: Path) -> None:
    """Empty the HTTP cache in ``directory`` (the file stays, empty), and forget the finished
    results kept beside it, which would otherwise still be served within their Expires."""
    clear_file(cache_file(directory))
    ResultStore(directory / RESULTS_DIR).clear()


def _settle_environment(session: requests.Session, url: str) -> None:
    """Take the proxies and CA bundle from the environment once, for ``url``'s host.

    requests reads them on every request (``trust_env``), walking ``os.environ`` and looking
    for ``~/.netrc``: about 0.3 ms a request, and every request of a Transport goes to one
    host. ``~/.netrc`` is no longer read: ESI takes no password, and a login found there
    would replace the bearer token.
    """
    found = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    session.trust_env = False


#: Bodies are read in pieces of this size: requests' own 10 KiB pieces cost about 0.5 ms of
#: Python per 235 KB page of market orders; a piece is never allocated beyond the body's size.
_PIECE = 1 << 20


def _read_whole(raw: requests.Response) -> None:
    """Read a streamed body in as few pieces as possible, as ``raw.content`` would."""
    raw._content = b"".join(raw.iter_content(chunk_size=_PIECE))


def _cache_state(raw: requests.Response) -> CacheState:
    if raw.status_code == 304:  # the caller's own If-Modified-Since: no body to reuse
        return "not-modified"
    if not getattr(raw, "from_cache", None) and not hasattr(raw, "expires"):
        return "uncached"
    if getattr(raw, "revalidated", False):
        return "revalidated"
    return "cache" if getattr(raw, "from_cache", False) else "fresh"


def _response(raw: requests.Response, req: _Outgoing, state: CacheState) -> Response:
    """The answer as ``send`` returns it: JSON, or what ``req.decode`` made of the bytes."""
    sent = getattr(raw.request, "headers", None) or {}
    first = state == "fresh" and not ("If-None-Match" in sent or "If-Modified-Since" in sent)
    if req.decode is None or not raw.content:
        return Response(raw.status_code, _json(raw), raw.headers, req.url, state, None, first)
    try:
        decoded = req.decode(raw.content)
    except ValueError:  # not the promised JSON list: kept as sent, for the caller to judge
        return Response(raw.status_code, _json(raw), raw.headers, req.url, state, None, first)
    return Response(raw.status_code, None, raw.headers, req.url, state, decoded, first)


def _json(raw: requests.Response) -> Any:
    if not raw.content:
        return None
    try:
        return raw.json()
    except ValueError:
        return raw.text


def _http_error(method: str, url: str, raw: requests.Response) -> EsiHTTPError:
    body = _json(raw)
    detail = body.get("error") if isinstance(body, dict) else body
    message = f"{method} {url} -> {raw.status_code}: {detail}"
    cls = ServerError if raw.status_code >= 500 else ClientError
    return cls(message, status=raw.status_code, url=url, headers=raw.headers, body=body)
