"""EVE SSO on the client side: PKCE login, JWT validation, token store, refresh.

:meth:`Auth.login` starts an authorization-code login with PKCE (S256, no client secret) and
returns a :class:`Login` at once: a notebook kernel must stay responsive while the user is in the
browser. The login completes either through a one-shot loopback server on the callback URL or
through :meth:`Login.finish` with the URL the browser was redirected to (remote kernels).

Every new access token is validated before it is used or stored: RS256 signature against the
SSO's JWKS (found through its ``/.well-known/oauth-authorization-server`` metadata; both cached
for 300 s), the issuer, the audience (the client id *and* ``"EVE Online"``) and the expiry.

Tokens live in one JSON file per user (:class:`TokenStore`), mode 0600, replaced atomically. The
file holds each character's refresh token and its current access token with its expiry, so that
several processes (kernels, scripts) share one login and refresh rarely; the same tokens are kept
in memory while a process runs. Tokens never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import AuthError, EsiError, LoginRequired, ParameterError, TokenInvalid

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CALLBACK_URL",
    "EVE_AUDIENCE",
    "EVE_ISSUERS",
    "Auth",
    "Character",
    "Login",
    "LoginStatus",
    "TokenClaims",
    "TokenRecord",
    "TokenStore",
    "check_claims",
    "default_store_path",
    "pkce_challenge",
    "validate_access_token",
]

DEFAULT_CALLBACK_URL = "http://127.0.0.1:8765/callback"
EVE_ISSUERS = ("login.eveonline.com", "https://login.eveonline.com")
EVE_AUDIENCE = "EVE Online"
METADATA_PATH = "/.well-known/oauth-authorization-server"
DISCOVERY_SECONDS = 300.0
HTTP_TIMEOUT = 30.0
CLAIMS_LEEWAY = 5.0
LOGIN_TIMEOUT = 600.0
STORE_FILE = "tokens.json"
#: The SSO that issued a stored login when the file does not say (files from before it did).
EVE_SSO = "https://login.eveonline.com"
_SUB = re.compile(r"CHARACTER:EVE:(\d+)")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_PORTRAIT = "https://images.evetech.net/characters/{}/portrait?size=64"

LoginStatus = Literal["waiting", "done", "error"]


# --- pure protocol pieces -------------------------------------------------------------------


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE ``verifier``: base64url(SHA-256(verifier)), unpadded."""
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise ParameterError(
            "a PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)"
        )
    return str(create_s256_code_challenge(verifier))


@dataclass(frozen=True)
class TokenClaims:
    """What esiframe takes from a validated EVE access token."""

    character_id: int
    name: str
    scopes: tuple[str, ...]
    expires: float
    client_id: str
    owner: str


def check_claims(
    claims: Mapping[str, Any],
    *,
    client_id: str,
    issuers: Collection[str],
    now: float,
    leeway: float = CLAIMS_LEEWAY,
) -> TokenClaims:
    """Check an EVE access token's claims (signature already verified) and extract them.

    ``iss`` must be one of ``issuers``; ``aud`` must contain ``client_id`` and ``"EVE Online"``;
    ``exp`` must be later than ``now - leeway``; ``sub`` must be ``CHARACTER:EVE:<id>``; ``scp``
    may be a list or, for a single scope, a plain string (as EVE sends it).
    """
    issuer = claims.get("iss")
    if issuer not in issuers:
        raise TokenInvalid(
            f"access token issuer {issuer!r} is not accepted; expected one of {sorted(issuers)}"
        )
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise TokenInvalid(
            f"access token audience {audience!r} does not contain the client id {client_id!r}"
        )
    if EVE_AUDIENCE not in audiences:
        raise TokenInvalid(f"access token audience {audience!r} does not contain {EVE_AUDIENCE!r}")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise TokenInvalid(f"access token has no numeric expiry (exp={expires!r})")
    if expires <= now - leeway:
        when = datetime.fromtimestamp(expires, UTC).isoformat()
        raise TokenInvalid(f"access token expired at {when}")
    subject = claims.get("sub")
    match = _SUB.fullmatch(subject) if isinstance(subject, str) else None
    if match is None:
        raise TokenInvalid(f"access token subject {subject!r} is not 'CHARACTER:EVE:<id>'")
    scp = claims.get("scp", [])
    scopes = [scp] if isinstance(scp, str) else scp
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TokenInvalid(f"access token scopes (scp) must be a string or a list, got {scp!r}")
    name = claims.get("name")
    if not isinstance(name, str):
        raise TokenInvalid(f"access token has no character name (name={name!r})")
    azp = claims.get("azp")
    return TokenClaims(
        character_id=int(match.group(1)),
        name=name,
        scopes=tuple(scopes),
        expires=float(expires),
        client_id=azp if isinstance(azp, str) else client_id,
        owner=str(claims.get("owner", "")),
    )


def validate_access_token(
    token: str,
    keys: KeySet,
    *,
    client_id: str,
    issuers: Collection[str],
    now: float,
    leeway: float = CLAIMS_LEEWAY,
) -> TokenClaims:
    """Verify an access token's RS256 signature against ``keys``, then :func:`check_claims`."""
    try:
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
    except JoseError as exc:
        raise TokenInvalid(
            f"access token rejected: {exc.error}"
            + (f" ({exc.description})" if exc.description else "")
            + "; only RS256 tokens signed by a key of the SSO's JWKS are accepted"
        ) from None
    except (ValueError, TypeError) as exc:
        raise TokenInvalid(
            f"access token is not a well-formed JWT ({type(exc).__name__})"
        ) from None
    return check_claims(
        decoded.claims, client_id=client_id, issuers=issuers, now=now, leeway=leeway
    )


# --- token store ----------------------------------------------------------------------------


def default_store_path() -> Path:
    """``$ESIFRAME_CONFIG_DIR/tokens.json``, else the user config dir's ``esiframe/tokens.json``."""
    configured = os.environ.get("ESIFRAME_CONFIG_DIR")
    if configured:
        return Path(configured) / STORE_FILE
    import platformdirs

    return Path(platformdirs.user_config_dir("esiframe")) / STORE_FILE


@dataclass(frozen=True)
class TokenRecord:
    """One stored login: a character's tokens for one client id (tokens never in the repr)."""

    client_id: str
    character_id: int
    name: str
    scopes: tuple[str, ...]
    expires: float
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    sso: str = EVE_SSO

    @property
    def key(self) -> tuple[str, str, int]:
        """Which login this is: the SSO, the application, the character."""
        return (self.sso, self.client_id, self.character_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "sso": self.sso,
            "client_id": self.client_id,
            "character_id": self.character_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "expires": self.expires,
            "refresh_token": self.refresh_token,
            "access_token": self.access_token,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenRecord:
        return cls(
            client_id=str(data["client_id"]),
            character_id=int(data["character_id"]),
            name=str(data["name"]),
            scopes=tuple(str(s) for s in data.get("scopes", ())),
            expires=float(data.get("expires", 0.0)),
            refresh_token=str(data["refresh_token"]),
            access_token=str(data.get("access_token", "")),
            sso=str(data.get("sso", EVE_SSO)),
        )


class TokenStore:
    """The token file: one JSON file per user, several characters per client id.

    ``path`` is the file (default :func:`default_store_path`). The file is created with mode 0600
    in a directory created 0700, and every write goes to a temporary file in the same directory
    that is fsynced and then moved over the old one with ``os.replace``, so readers (other
    processes too) see either the old or the new file, never half of one. Reads are cached until
    the file changes on disk.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._seen: tuple[int, int, int] | None = None
        self._records: list[TokenRecord] = []

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def records(self) -> list[TokenRecord]:
        """Every stored login, as on disk now."""
        with self._lock:
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                self._seen, self._records = None, []
                return []
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if seen != self._seen:
                self._records = self._read()
                self._seen = seen
            return list(self._records)

    def get(self, key: tuple[str, str, int]) -> TokenRecord | None:
        """The login with this :attr:`TokenRecord.key`, if stored."""
        return next((record for record in self.records() if record.key == key), None)

    def put(self, record: TokenRecord) -> None:
        """Store ``record``, replacing the login with the same key."""
        with self._lock:
            others = [r for r in self.records() if r.key != record.key]
            self._write([*others, record])

    def remove(self, key: tuple[str, str, int]) -> bool:
        """Forget one login; True if it was stored."""
        with self._lock:
            records = self.records()
            kept = [r for r in records if r.key != key]
            if len(kept) == len(records):
                return False
            self._write(kept)
            return True

    def _read(self) -> list[TokenRecord]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            return [TokenRecord.from_json(item) for item in data["tokens"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AuthError(
                f"the token file {self.path} cannot be read ({type(exc).__name__}); "
                "delete it and log in again"
            ) from None

    def _write(self, records: Sequence[TokenRecord]) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = json.dumps(
            {"version": 1, "tokens": [r.to_json() for r in records]}, indent=1
        ).encode("utf-8")
        fd, temporary = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if os.name == "posix":
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        stat = os.stat(self.path)
        self._seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        self._records = list(records)


# --- what users see -------------------------------------------------------------------------


@dataclass(frozen=True)
class Character:
    """A logged-in character (no tokens here); ``expires`` is when its access token expires."""

    character_id: int
    name: str
    scopes: tuple[str, ...]
    client_id: str
    expires: datetime

    @classmethod
    def from_record(cls, record: TokenRecord) -> Character:
        return cls(
            character_id=record.character_id,
            name=record.name,
            scopes=record.scopes,
            client_id=record.client_id,
            expires=datetime.fromtimestamp(record.expires, UTC),
        )

    @property
    def portrait_url(self) -> str:
        """EVE's image server URL of the character's 64 px portrait."""
        return _PORTRAIT.format(self.character_id)


class _Refused(Exception):
    """The SSO answered an OAuth error (its ``error`` and ``error_description``)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"HTTP {status} {error}" + (f": {description}" if description else ""))
        self.status = status
        self.error = error


def _login_call(client_id: str | None, scopes: Sequence[str]) -> str:
    client = repr(client_id) if client_id else "'<your client id>'"
    return f"ef.login(client_id={client}, scopes={list(scopes)!r})"


def _check_scopes(scopes: Sequence[str] | str) -> tuple[str, ...]:
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    for scope in items:
        if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
            raise ParameterError(
                f"scopes must be ESI scope names such as 'esi-assets.read_assets.v1', got {scope!r}"
            )
    return tuple(dict.fromkeys(items))


def _check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not client_id.strip():
        raise ParameterError(
            "client_id must be the Client ID of your application on developers.eveonline.com "
            f"(a non-empty string), got {client_id!r}"
        )
    return client_id.strip()


class Login:
    """One login in progress; made by :meth:`Auth.login`, which never blocks.

    ``url`` is the authorize URL to open. The login completes by the loopback callback (when
    ``loopback``), by :meth:`finish` with the pasted redirect URL, or fails. ``status`` is
    ``"waiting"``, ``"done"`` (``character`` set) or ``"error"`` (``error`` set); listeners added
    with :meth:`add_listener` hear every change, from whichever thread made it.

    ``exchange(code) -> Character`` redeems the authorization code; :meth:`Auth.login` passes its
    token exchange, and any function with that shape makes a Login usable without an SSO.
    """

    def __init__(
        self,
        *,
        url: str,
        state: str,
        exchange: Callable[[str], Character],
        client_id: str,
        scopes: Sequence[str],
        callback_url: str = DEFAULT_CALLBACK_URL,
        loopback: bool = False,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self.callback_url = callback_url
        self.loopback = loopback
        self.character: Character | None = None
        self.error: AuthError | None = None
        self._state = state
        self._exchange = exchange
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._listeners: list[Callable[[Login], None]] = []
        self._server: _CallbackServer | None = None
        self._panel: Any = None

    @property
    def status(self) -> LoginStatus:
        if self.character is not None:
            return "done"
        return "error" if self.error is not None else "waiting"

    def add_listener(self, listener: Callable[[Login], None]) -> None:
        """Call ``listener(login)`` after every status change."""
        self._listeners.append(listener)

    def finish(self, redirect_url: str) -> Character:
        """Complete the login with the URL the browser was redirected to (``...?code=&state=``).

        A URL of another login attempt (state mismatch) or without a code raises and leaves this
        login waiting; a refused code or an invalid token ends it with an error.
        """
        if not isinstance(redirect_url, str) or not redirect_url.strip():
            raise ParameterError(
                "finish() needs the full URL your browser was redirected to after approving "
                "(it contains ?code=...&state=...)"
            )
        query = parse_qs(urlsplit(redirect_url.strip()).query)
        return self._complete({key: values[-1] for key, values in query.items()})

    def wait(self, timeout: float | None = 300) -> Character:
        """Block until the login completes (loopback callback or another thread's finish()).

        Raises the login's error, or :class:`LoginRequired` when ``timeout`` seconds pass first.
        """
        if not self._done.wait(timeout):
            how = "the loopback callback" if self.loopback else "finish(redirect_url)"
            raise LoginRequired(
                f"the login did not complete within {timeout} s; open {self.url} , approve, and "
                f"let {how} finish it (or start again with ef.login(...))"
            )
        return self._result()

    def cancel(self) -> None:
        """Give up: stop the loopback server; a waiting login ends with an error."""
        self._stop_server()
        self._give_up("the login was cancelled")

    def _give_up(self, why: str) -> None:
        with self._lock:
            if self.status != "waiting":
                return
            self.error = LoginRequired(
                f"{why}; start again with {_login_call(self.client_id, self.scopes)}"
            )
        self._changed()

    def _result(self) -> Character:
        if self.character is not None:
            return self.character
        assert self.error is not None
        raise self.error

    def _complete(self, query: Mapping[str, str]) -> Character:
        """Check ``state`` and redeem ``code`` (once); shared by finish() and the callback."""
        if query.get("state") != self._state:
            raise TokenInvalid(
                "state mismatch: this redirect belongs to another login attempt; use the URL "
                "the browser reached from this login's link"
            )
        with self._lock:
            if self.status != "waiting":
                return self._result()
            if "error" in query:
                self.error = LoginRequired(
                    f"the SSO refused the login: {query['error']}"
                    + (f" ({query['error_description']})" if query.get("error_description") else "")
                    + f"; start again with {_login_call(self.client_id, self.scopes)}"
                )
            elif not query.get("code"):
                raise ParameterError(
                    "the redirect URL has no 'code' parameter; paste the whole URL the browser "
                    "shows after you approved the login"
                )
            else:
                try:
                    self.character = self._exchange(query["code"])
                except AuthError as exc:
                    self.error = exc
        self._stop_server()
        self._changed()
        return self._result()

    def _changed(self) -> None:
        if self.status != "waiting":
            self._done.set()
        for listener in list(self._listeners):
            listener(self)

    def _stop_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __repr__(self) -> str:
        if self.character is not None:
            c = self.character
            return f"<Login done: {c.name} ({c.character_id}), scopes {list(c.scopes)}>"
        if self.error is not None:
            return f"<Login failed: {self.error}>"
        then = (
            f"the browser returns to {self.callback_url} and the login completes by itself "
            "(login.wait() blocks until then)"
            if self.loopback
            else "copy the URL the browser lands on and call login.finish('<that URL>')"
        )
        return (
            f"<Login waiting for client {self.client_id!r}, scopes {list(self.scopes)}>\n"
            f"Open this URL in a browser and approve:\n  {self.url}\nThen {then}."
        )

    def _repr_html_(self) -> str:
        if self.character is not None:
            return f"Logged in as <b>{html.escape(self.character.name)}</b>"
        return (
            f'<a href="{html.escape(self.url)}" target="_blank" rel="noopener">'
            "Log in with EVE Online</a> &mdash; status: "
            + html.escape(self.status if self.error is None else str(self.error))
        )

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """In a Jupyter kernel: the ipywidgets login panel; elsewhere text and a link."""
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if _in_kernel():
            try:
                from .widgets import LoginPanel
            except ImportError:
                return bundle
            if self._panel is None:
                self._panel = LoginPanel(self)
            widget_bundle = self._panel._repr_mimebundle_(include=include, exclude=exclude)
            if widget_bundle:
                bundle.update(widget_bundle)
        return bundle


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where widgets can be shown)."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# --- loopback callback ----------------------------------------------------------------------


_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>esiframe login</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2><p>{text}</p></body></html>"
)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackHTTPServer
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the callback URL carries the authorization code."""

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        if parts.path != owner.path:
            self._page(404, "Not found", "This is esiframe's login callback.")
            return
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        login = owner.login
        try:
            character = login._complete(query)
        except TokenInvalid as exc:
            self._page(400, "Not this login", html.escape(str(exc)))
        except EsiError as exc:
            self._page(400, "Login failed", html.escape(str(exc)))
        else:
            self._page(
                200,
                f"Logged in as {html.escape(character.name)}",
                "esiframe has the login; you can close this tab.",
            )

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class _CallbackHTTPServer(HTTPServer):
    """Bound exclusively: no SO_REUSEADDR, so a port in use is an error, not a shared port."""

    allow_reuse_address = False
    allow_reuse_port = False
    owner: _CallbackServer


class _CallbackHTTPServer6(_CallbackHTTPServer):
    address_family = socket.AF_INET6


class _CallbackServer:
    """A one-shot HTTP server on the callback address, serving until done or ``lifetime`` ends."""

    def __init__(self, login: Login, host: str, port: int, path: str, lifetime: float) -> None:
        self.login = login
        self.path = path
        server_class = _CallbackHTTPServer6 if ":" in host else _CallbackHTTPServer
        try:
            self._server = server_class((host, port), _CallbackHandler)
        except OSError as exc:
            raise AuthError(
                f"cannot listen on {host}:{port} for the login callback ({exc.strerror}); another "
                "program (or another login) holds it. Finish or cancel that login, use a "
                "callback_url with a free port that your application registers, or pass "
                "loopback=False and paste the redirect URL"
            ) from None
        self._server.owner = self
        self._server.timeout = 0.1
        self._stop = threading.Event()
        self._lifetime = lifetime
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(
            target=self._serve, name=f"esiframe-login-{port}", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                self._server.handle_request()
        finally:
            self._server.server_close()
        if not self._stop.is_set():
            self.login._server = None
            self.login._give_up(f"no login callback arrived within {self._lifetime:g} s")

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()


def _header_kid(token: str) -> str | None:
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


# --- the SSO client -------------------------------------------------------------------------


class Auth:
    """All SSO state of one esiframe Client. Thread-safe; refresh is single-flight per character.

    All SSO HTTP goes through ``session`` (a plain, uncached session), with form-encoded POSTs.
    An access token counts as expired ``leeway`` seconds before its ``exp``.
    """

    login_timeout = LOGIN_TIMEOUT

    def __init__(
        self,
        *,
        sso_url: str,
        session: requests.Session,
        store: TokenStore,
        clock: Callable[[], float] = time.time,
        leeway: float = 60.0,
    ) -> None:
        self.sso_url = sso_url.rstrip("/")
        self.session = session
        self.store = store
        self.clock = clock
        self.leeway = leeway
        self._lock = threading.RLock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._flights: dict[tuple[str, str, int], threading.Lock] = {}
        self._callbacks: dict[tuple[str, int], Login] = {}

    def __repr__(self) -> str:
        return f"<Auth sso_url={self.sso_url!r} store={self.store!r}>"

    # discovery

    def metadata(self) -> dict[str, Any]:
        """The SSO's authorization server metadata (cached 300 s)."""
        with self._lock:
            now = self.clock()
            if self._metadata is not None and now - self._metadata[0] < DISCOVERY_SECONDS:
                return self._metadata[1]
            url = self.sso_url + METADATA_PATH
            data = self._get_json(url, "SSO metadata")
            missing = [
                key
                for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                if not isinstance(data.get(key), str)
            ]
            if missing:
                raise AuthError(f"the SSO metadata at {url} lacks {', '.join(missing)}")
            self._metadata = (now, data)
            return data

    def _key_set(self, *, fresh: bool = False) -> KeySet:
        with self._lock:
            now = self.clock()
            if not fresh and self._keys is not None and now - self._keys[0] < DISCOVERY_SECONDS:
                return self._keys[1]
            url = self.metadata()["jwks_uri"]
            data = self._get_json(url, "SSO signing keys (JWKS)")
            try:
                keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise AuthError(f"the JWKS at {url} is not a usable key set ({exc})") from None
            self._keys = (now, keys)
            return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self.session.get(url, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach the {what} at {url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AuthError(f"the {what} at {url} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise AuthError(f"the {what} at {url} is not JSON") from None
        if not isinstance(data, dict):
            raise AuthError(f"the {what} at {url} is not a JSON object")
        return data

    def issuers(self) -> tuple[str, ...]:
        """The accepted token issuers: the metadata's, and EVE's two documented forms."""
        return tuple(dict.fromkeys([self.metadata()["issuer"], *EVE_ISSUERS]))

    def validate(self, access_token: str, client_id: str) -> TokenClaims:
        """Validate a new access token for ``client_id``.

        A ``kid`` missing from the cached JWKS refetches it first (the SSO rotated its keys).
        """
        keys = self._key_set()
        kid = _header_kid(access_token)
        if kid is not None and all(key.kid != kid for key in keys.keys):
            keys = self._key_set(fresh=True)
        return validate_access_token(
            access_token, keys, client_id=client_id, issuers=self.issuers(), now=self.clock()
        )

    # login

    def login(
        self,
        client_id: str,
        scopes: Sequence[str],
        *,
        callback_url: str = DEFAULT_CALLBACK_URL,
        loopback: bool = True,
    ) -> Login:
        """Start a PKCE login and return at once; see :class:`Login`.

        With ``loopback`` a one-shot server listens on ``callback_url`` (which must be on
        127.0.0.1, localhost or [::1]) for ``login_timeout`` seconds; a newer login on the same
        address cancels an older one still waiting. With ``loopback=False`` nothing listens:
        paste the redirect URL into the panel or call :meth:`Login.finish`.
        """
        client_id = _check_client_id(client_id)
        scope_list = _check_scopes(scopes)
        parts = urlsplit(callback_url) if isinstance(callback_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ParameterError(
                f"callback_url must be an http(s) URL registered for your application, "
                f"got {callback_url!r}"
            )
        host = parts.hostname
        if loopback and (parts.scheme != "http" or host not in _LOOPBACK_HOSTS):
            raise ParameterError(
                f"a loopback login listens on http://127.0.0.1, localhost or [::1]; "
                f"{callback_url!r} is elsewhere: pass loopback=False and paste the redirect URL"
            )
        metadata = self.metadata()
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "redirect_uri": callback_url,
            "client_id": client_id,
            "scope": " ".join(scope_list),
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = metadata["authorization_endpoint"]
        url = endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)

        def exchange(code: str) -> Character:
            return self._redeem(client_id, code, verifier)

        login = Login(
            url=url,
            state=state,
            exchange=exchange,
            client_id=client_id,
            scopes=scope_list,
            callback_url=callback_url,
            loopback=loopback,
        )
        if loopback:
            port = parts.port or 80
            with self._lock:
                older = self._callbacks.pop((host, port), None)
            if older is not None:
                older.cancel()
            login._server = _CallbackServer(
                login, host, port, parts.path or "/", self.login_timeout
            )
            with self._lock:
                self._callbacks[(host, port)] = login
        return login

    def _redeem(self, client_id: str, code: str, verifier: str) -> Character:
        try:
            tokens = self._token_request(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": client_id,
                    "code_verifier": verifier,
                }
            )
        except _Refused as exc:
            raise TokenInvalid(f"the SSO refused the authorization code: {exc}") from None
        claims = self.validate(tokens["access_token"], client_id)
        record = TokenRecord(
            client_id=client_id,
            character_id=claims.character_id,
            name=claims.name,
            scopes=claims.scopes,
            expires=claims.expires,
            refresh_token=tokens["refresh_token"],
            access_token=tokens["access_token"],
            sso=self.sso_url,
        )
        self._save(record)
        return Character.from_record(record)

    def _token_request(self, form: Mapping[str, str]) -> dict[str, str]:
        endpoint = self.metadata()["token_endpoint"]
        try:
            response = self.session.post(
                endpoint,
                data=dict(form),
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise AuthError(
                f"cannot reach the SSO token endpoint {endpoint}: {type(exc).__name__}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            if 400 <= response.status_code < 500 and isinstance(body, dict) and "error" in body:
                raise _Refused(
                    response.status_code,
                    str(body["error"]),
                    str(body.get("error_description") or ""),
                )
            raise AuthError(
                f"the SSO token endpoint {endpoint} answered HTTP {response.status_code}"
            )
        if not (
            isinstance(body, dict)
            and isinstance(body.get("access_token"), str)
            and isinstance(body.get("refresh_token"), str)
        ):
            raise AuthError(
                f"the SSO token endpoint {endpoint} answered without access_token/refresh_token"
            )
        return {"access_token": body["access_token"], "refresh_token": body["refresh_token"]}

    # tokens

    def character(
        self,
        character: str | int | None = None,
        *,
        scope: str | None = None,
        client_id: str | None = None,
    ) -> Character:
        """The stored login that fits, found without any request (errors: see access_token)."""
        return Character.from_record(self._select(character, scope, client_id))

    def access_token(
        self,
        *,
        character: str | int | None = None,
        scope: str | None = None,
        client_id: str | None = None,
    ) -> tuple[str, Character]:
        """A valid access token and its character, refreshed when within ``leeway`` of expiry.

        ``character`` is a name (case-insensitive) or an id; None picks the only character that
        fits. Raises :class:`LoginRequired` (saying which ``ef.login(...)`` call helps) when no
        stored login fits or the SSO refuses the refresh.
        """
        record = self._select(character, scope, client_id)
        if self._fresh(record):
            return record.access_token, Character.from_record(record)
        with self._lock:
            flight = self._flights.setdefault(record.key, threading.Lock())
        with flight:
            current = self.store.get(record.key)
            if current is None:
                raise LoginRequired(
                    f"{record.name} was logged out meanwhile; log in with "
                    + _login_call(record.client_id, record.scopes)
                )
            if not self._fresh(current):
                current = self._refresh(current)
        return current.access_token, Character.from_record(current)

    def _fresh(self, record: TokenRecord) -> bool:
        return bool(record.access_token) and record.expires - self.leeway > self.clock()

    def _records(self) -> list[TokenRecord]:
        """The stored logins of this SSO (a sandbox's logins never mix with EVE's)."""
        return [r for r in self.store.records() if r.sso == self.sso_url]

    def _refresh(self, record: TokenRecord) -> TokenRecord:
        try:
            tokens = self._token_request(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": record.refresh_token,
                    "client_id": record.client_id,
                }
            )
        except _Refused as exc:
            latest = self.store.get(record.key)
            if latest is not None and latest.refresh_token != record.refresh_token:
                # another process rotated the refresh token first: use its result
                return latest if self._fresh(latest) else self._refresh(latest)
            if exc.error != "invalid_grant":  # a passing SSO problem: keep the login
                raise AuthError(
                    f"the SSO could not refresh {record.name}'s login just now ({exc}); "
                    "the login is kept, try again shortly"
                ) from None
            self.store.remove(record.key)
            raise LoginRequired(
                f"the SSO refused to refresh {record.name}'s login ({exc.error}); log in again "
                f"with {_login_call(record.client_id, record.scopes)}"
            ) from None
        rotated = replace(record, refresh_token=tokens["refresh_token"], access_token="", expires=0)
        try:
            claims = self.validate(tokens["access_token"], record.client_id)
        except TokenInvalid:
            self._save(rotated)
            raise
        if claims.character_id != record.character_id:
            self._save(rotated)
            raise TokenInvalid(
                f"the refreshed token is for character {claims.character_id}, "
                f"not {record.character_id}"
            )
        fresh = replace(
            rotated,
            name=claims.name,
            scopes=claims.scopes,
            expires=claims.expires,
            access_token=tokens["access_token"],
        )
        self._save(fresh)
        return fresh

    def _save(self, record: TokenRecord) -> None:
        with self._lock:
            self.store.put(record)

    def _select(
        self, character: str | int | None, scope: str | None, client_id: str | None
    ) -> TokenRecord:
        records = self._records()
        if client_id is not None:
            records = [r for r in records if r.client_id == client_id]
        wanted = [scope] if scope else []
        if character is not None:
            records = self._named(character, records, scope, client_id)
        if not records:
            raise LoginRequired(
                "no character is logged in"
                + (f" for client id {client_id!r}" if client_id else "")
                + f"; log in with {_login_call(client_id, wanted)}"
            )
        usable = [r for r in records if scope is None or scope in r.scopes]
        if not usable:
            have = records[0]
            raise LoginRequired(
                f"{have.name} is logged in without the scope {scope!r} (has {list(have.scopes)});"
                f" log in again with {_login_call(have.client_id, [*have.scopes, *wanted])}"
            )
        characters = {r.character_id: r.name for r in usable}
        if len(characters) > 1:
            names = ", ".join(f"{name} ({cid})" for cid, name in sorted(characters.items()))
            raise ParameterError(
                f"several characters are logged in{' with ' + scope if scope else ''}: {names}; "
                "pass character= (a name or an id)"
            )
        best = max(usable, key=lambda r: r.expires)
        return self.store.get(best.key) or best

    def _named(
        self,
        character: str | int,
        records: list[TokenRecord],
        scope: str | None,
        client_id: str | None,
    ) -> list[TokenRecord]:
        if isinstance(character, bool) or not isinstance(character, int | str):
            raise ParameterError(
                f"character must be a character name or id, got {type(character).__name__}"
            )
        text = str(character).strip()
        if text.isdigit():
            matched = [r for r in records if r.character_id == int(text)]
        else:
            matched = [r for r in records if r.name.casefold() == text.casefold()]
        if not matched:
            known = sorted({f"{r.name} ({r.character_id})" for r in records})
            raise LoginRequired(
                f"{character!r} is not logged in"
                + (f" (logged in: {', '.join(known)})" if known else "")
                + f"; log it in with {_login_call(client_id, [scope] if scope else [])} "
                "and choose that character in the browser"
            )
        return matched

    def characters(self) -> pd.DataFrame:
        """The stored logins: character_id, name, scopes, expires (access token), client_id."""
        import pandas as pd

        records = sorted(self._records(), key=lambda r: (r.name.casefold(), r.client_id))
        return pd.DataFrame(
            {
                "character_id": pd.Series([r.character_id for r in records], dtype="int64"),
                "name": pd.Series([r.name for r in records], dtype="str"),
                "scopes": pd.Series([list(r.scopes) for r in records], dtype="object"),
                "expires": pd.to_datetime([r.expires for r in records], unit="s", utc=True),
                "client_id": pd.Series([r.client_id for r in records], dtype="str"),
            }
        )

    def logout(self, character: str | int) -> None:
        """Revoke the character's refresh tokens at the SSO and forget its logins.

        The logins are forgotten even if the revocation cannot be sent; that case then raises
        :class:`AuthError` saying so.
        """
        records = self._named(character, self._records(), None, None)
        failures: list[str] = []
        for record in records:
            self.store.remove(record.key)
            try:
                self._revoke(record)
            except AuthError as exc:
                failures.append(str(exc))
        if failures:
            raise AuthError(
                f"forgot {records[0].name}'s login but could not revoke it at the SSO: "
                + "; ".join(failures)
                + " (revoke it at https://community.eveonline.com/support/third-party-applications/)"
            )

    def _revoke(self, record: TokenRecord) -> None:
        endpoint = self.metadata().get("revocation_endpoint")
        if not isinstance(endpoint, str):
            return
        try:
            response = self.session.post(
                endpoint,
                data={
                    "token_type_hint": "refresh_token",
                    "token": record.refresh_token,
                    "client_id": record.client_id,
                },
                timeout=HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach {endpoint}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AuthError(f"{endpoint} answered HTTP {response.status_code}")
