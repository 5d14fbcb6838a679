"""``Auth``: the logins of one esiframe client; picks, refreshes, starts and ends them.

Tokens come from the :class:`TokenStore` shared by every process of the user. A refresh is
single-flight per login inside a process (a lock per login) and across processes (the store's
file lock): whoever comes second re-reads the file and uses the rotated token instead of
spending the old refresh token, which the SSO would refuse (docs/esi.md §8.4).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from ..errors import AuthError, LoginRequired, ParameterError, TokenInvalid
from .callback import LOOPBACK_HOSTS, CallbackServer
from .login import (
    DEFAULT_CALLBACK_URL,
    Character,
    Login,
    check_client_id,
    check_scopes,
    login_call,
)
from .sso import Refused, SSOClient
from .store import TokenRecord, TokenStore
from .tokens import TokenClaims

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LOGIN_TIMEOUT", "Auth"]

LOGIN_TIMEOUT = 600.0
_REVOKE_PAGE = "https://community.eveonline.com/support/third-party-applications/"


class Auth:
    """All SSO state of one esiframe Client. Thread-safe; refresh is single-flight per login.

    All SSO HTTP goes through ``session`` (a plain, uncached session). An access token counts
    as expired ``leeway`` seconds before its ``exp``.
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
        self.sso = SSOClient(self.sso_url, session, clock=lambda: self.clock())
        self._lock = threading.RLock()
        self._flights: dict[tuple[str, str, int], threading.Lock] = {}
        self._callbacks: dict[tuple[str, int], Login] = {}

    def __repr__(self) -> str:
        return f"<Auth sso_url={self.sso_url!r} store={self.store!r}>"

    # discovery and validation (docs/esi.md §8.1, §8.5)

    def metadata(self) -> dict[str, Any]:
        """The SSO's authorization server metadata (cached 300 s)."""
        return self.sso.metadata()

    def issuers(self) -> tuple[str, ...]:
        """The accepted token issuers: the metadata's, and EVE's two documented forms."""
        return self.sso.issuers()

    def validate(self, access_token: str, client_id: str) -> TokenClaims:
        """Validate a new access token for ``client_id`` (signature, issuer, audience, times)."""
        return self.sso.validate(access_token, client_id)

    def verify(self, token: str, client_id: str | None = None) -> TokenClaims:
        """Prove a token handed in by a user before anything private is served for it.

        Checks the RS256 signature against the SSO's JWKS, the issuer, the audience (``client_id``,
        or the client the token names, and ``"EVE Online"``), the expiry, and that ``nbf``/``iat``
        are not in the future. Raises :class:`TokenInvalid` (an :class:`AuthError`) otherwise.
        """
        if client_id is not None:
            client_id = check_client_id(client_id)
        return self.sso.validate(token, client_id)

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
        client_id = check_client_id(client_id)
        scope_list = check_scopes(scopes)
        host, port, path = _callback_address(callback_url, loopback)
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        url = self.sso.authorize_url(client_id, scope_list, callback_url, state, verifier)

        def exchange(code: str) -> Character:
            return self._redeem(client_id, code, verifier, callback_url)

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
            with self._lock:
                older = self._callbacks.pop((host, port), None)
            if older is not None:
                older.cancel()
            CallbackServer(login, host, port, path, self.login_timeout)
            with self._lock:
                self._callbacks[(host, port)] = login
        return login

    def _redeem(self, client_id: str, code: str, verifier: str, redirect_uri: str) -> Character:
        try:
            tokens = self.sso.exchange(client_id, code, verifier, redirect_uri)
        except Refused as exc:
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
        self.store.put(record)
        return Character.from_record(record)

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

    def characters_with(self, scope: str | None, client_id: str | None = None) -> list[Character]:
        """Every logged-in character holding ``scope`` (None: any), sorted by name; no request.

        One entry per character (its login with the latest expiry when several client ids fit).
        """
        best: dict[int, TokenRecord] = {}
        for record in self._records():
            if client_id is not None and record.client_id != client_id:
                continue
            if scope is not None and scope not in record.scopes:
                continue
            kept = best.get(record.character_id)
            if kept is None or record.expires > kept.expires:
                best[record.character_id] = record
        ordered = sorted(best.values(), key=lambda r: (r.name.casefold(), r.character_id))
        return [Character.from_record(record) for record in ordered]

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
        with flight, self.store.locked():
            current = self.store.get(record.key)  # as another process may have left it
            if current is None:
                raise LoginRequired(
                    f"{record.name} was logged out meanwhile; log in with "
                    + login_call(record.client_id, record.scopes)
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
        """Refresh ``record`` (the store's lock held) and store the rotated tokens at once."""
        try:
            tokens = self.sso.refresh(record.client_id, record.refresh_token)
        except Refused as exc:
            return self._refused(record, exc)
        rotated = replace(record, refresh_token=tokens["refresh_token"], access_token="", expires=0)
        try:
            claims = self.validate(tokens["access_token"], record.client_id)
            if claims.character_id != record.character_id:
                raise TokenInvalid(
                    f"the refreshed token is for character {claims.character_id}, "
                    f"not {record.character_id}"
                )
        except TokenInvalid:
            self.store.put(rotated)  # the new refresh token is the only one that still works
            raise
        fresh = replace(
            rotated,
            name=claims.name,
            scopes=claims.scopes,
            expires=claims.expires,
            access_token=tokens["access_token"],
        )
        self.store.put(fresh)
        return fresh

    def _refused(self, record: TokenRecord, exc: Refused) -> TokenRecord:
        """The SSO refused ``record``'s refresh token: use a rotation stored meanwhile (by a
        process that does not take the lock), keep the login on a passing error, else forget."""
        latest = self.store.get(record.key)
        if latest is not None and latest.refresh_token != record.refresh_token:
            return latest if self._fresh(latest) else self._refresh(latest)
        if exc.error != "invalid_grant":  # a passing SSO problem: keep the login
            raise AuthError(
                f"the SSO could not refresh {record.name}'s login just now ({exc}); "
                "the login is kept, try again shortly"
            ) from None
        self.store.remove(record.key)
        raise LoginRequired(
            f"the SSO refused to refresh {record.name}'s login ({exc.error}); log in again "
            f"with {login_call(record.client_id, record.scopes)}"
        ) from None

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
                + f"; log in with {login_call(client_id, wanted)}"
            )
        usable = [r for r in records if scope is None or scope in r.scopes]
        if not usable:
            have = records[0]
            raise LoginRequired(
                f"{have.name} is logged in without the scope {scope!r} (has {list(have.scopes)});"
                f" log in again with {login_call(have.client_id, [*have.scopes, *wanted])}"
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
                + f"; log it in with {login_call(client_id, [scope] if scope else [])} "
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
                self.sso.revoke(record.client_id, record.refresh_token)
            except AuthError as exc:
                failures.append(str(exc))
        if failures:
            raise AuthError(
                f"forgot {records[0].name}'s login but could not revoke it at the SSO: "
                + "; ".join(failures)
                + f" (revoke it at {_REVOKE_PAGE})"
            )


def _callback_address(callback_url: object, loopback: bool) -> tuple[str, int, str]:
    """``(host, port, path)`` of a callback URL; a loopback login needs a local http URL."""
    parts = urlsplit(callback_url) if isinstance(callback_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParameterError(
            f"callback_url must be an http(s) URL registered for your application, "
            f"got {callback_url!r}"
        )
    host = parts.hostname
    if loopback and (parts.scheme != "http" or host not in LOOPBACK_HOSTS):
        raise ParameterError(
            f"a loopback login listens on http://127.0.0.1, localhost or [::1]; "
            f"{callback_url!r} is elsewhere: pass loopback=False and paste the redirect URL"
        )
    return host, parts.port or 80, parts.path or "/"
