"""The login state machine: a :class:`Login` waits, then is done (a character) or failed.

It knows nothing of HTTP servers or widgets: the loopback callback
(:mod:`esiframe.auth.callback`) and the pasted redirect URL both call :meth:`Login._complete`,
and the code that hands a Login to a user may set :attr:`Login.view` (a callable making the
notebook panel, e.g. ``esiframe.widgets.panel``) which Jupyter then displays.
"""

from __future__ import annotations

import html
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from ..errors import AuthError, LoginRequired, ParameterError, TokenInvalid
from ..settings import CALLBACK_URL
from .store import TokenRecord

__all__ = ["DEFAULT_CALLBACK_URL", "Character", "Login", "LoginStatus", "login_call"]

DEFAULT_CALLBACK_URL = CALLBACK_URL
_PORTRAIT = "https://images.evetech.net/characters/{}/portrait?size=64"

LoginStatus = Literal["waiting", "done", "error"]


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


def login_call(client_id: str | None, scopes: Sequence[str]) -> str:
    """The ``ef.login(...)`` call that would help, for error messages."""
    client = repr(client_id) if client_id else "'<your client id>'"
    return f"ef.login(client_id={client}, scopes={list(scopes)!r})"


class Login:
    """One login in progress; made by ``Auth.login``, which never blocks.

    ``url`` is the authorize URL to open. The login completes by the loopback callback (when
    ``loopback``), by :meth:`finish` with the pasted redirect URL, or fails. ``status`` is
    ``"waiting"``, ``"done"`` (``character`` set) or ``"error"`` (``error`` set); listeners added
    with :meth:`add_listener` hear every change, from whichever thread made it.

    ``exchange(code) -> Character`` redeems the authorization code; ``Auth.login`` passes its
    token exchange, and any function with that shape makes a Login usable without an SSO.
    ``view(login)``, when set, makes the object Jupyter displays for this login.
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
        view: Callable[[Login], Any] | None = None,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self.callback_url = callback_url
        self.loopback = loopback
        self.view = view
        self.character: Character | None = None
        self.error: AuthError | None = None
        self._state = state
        self._exchange = exchange
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._listeners: list[Callable[[Login], None]] = []
        self._stopper: Callable[[], None] | None = None
        self._shown: Any = None

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
                f"{why}; start again with {login_call(self.client_id, self.scopes)}"
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
                    + f"; start again with {login_call(self.client_id, self.scopes)}"
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
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()

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
        """In a Jupyter kernel with a :attr:`view`: that view; elsewhere text and a link."""
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if self.view is not None and _in_kernel():
            if self._shown is None:
                self._shown = self.view(self)
            shown = self._shown._repr_mimebundle_(include=include, exclude=exclude)
            if shown:
                bundle.update(shown)
        return bundle


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where widgets can be shown)."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def check_scopes(scopes: Sequence[str] | str) -> tuple[str, ...]:
    """Scope names as a tuple without duplicates; a clear error for anything else."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    for scope in items:
        if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
            raise ParameterError(
                f"scopes must be ESI scope names such as 'esi-assets.read_assets.v1', got {scope!r}"
            )
    return tuple(dict.fromkeys(items))


def check_client_id(client_id: object) -> str:
    """A client id: a non-empty string, stripped."""
    if not isinstance(client_id, str) or not client_id.strip():
        raise ParameterError(
            "client_id must be the Client ID of your application on developers.eveonline.com "
            f"(a non-empty string), got {client_id!r}"
        )
    return client_id.strip()
