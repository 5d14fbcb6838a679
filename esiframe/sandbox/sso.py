"""The sandbox's EVE SSO: OAuth 2.0 authorization code with PKCE, on the sandbox's own URL.

Like ``login.eveonline.com`` (docs/esi.md §8) it serves the authorization server metadata,
an authorize page where a test character approves the scopes, a form-encoded token endpoint
(authorization code + PKCE S256 without a client secret; refresh tokens that rotate on every
use), RFC 7009 revocation and the JWKS. Access tokens are RS256 JWTs with EVE's claims, signed
with an RSA key made when first needed. :meth:`SandboxSSO.authorize` is the sandbox's check of
bearer tokens on scoped ESI routes: 401 without a valid token, 403 for a missing scope or
another character's path.

Differences from EVE, on purpose: any client id is accepted unless ``client_ids`` is given, any
http(s) redirect URI is accepted, and the issuer is the sandbox's ``host:port`` (EVE's is
``login.eveonline.com``), announced in the metadata as EVE announces its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from esiframe.sandbox.messages import (
    DEFAULT_CHARACTERS,
    AuthResult,
    Host,
    SandboxRequest,
    SandboxResponse,
    bearer_token,
)

__all__ = ["DEFAULT_CHARACTERS", "SIGNING_KEY_ID", "SandboxSSO", "approve_login"]

SIGNING_KEY_ID = "JWT-Signature-Key"
AUDIENCE = "EVE Online"
CODE_SECONDS = 300.0
AUTHORIZE_PATH = "/v2/oauth/authorize"
TOKEN_PATH = "/v2/oauth/token"
REVOKE_PATH = "/v2/oauth/revoke"
JWKS_PATH = "/oauth/jwks"
METADATA_PATH = "/.well-known/oauth-authorization-server"
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_SUB = re.compile(r"CHARACTER:EVE:(\d+)")
_HTML = "text/html; charset=utf-8"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class _Request:
    """A checked authorize request."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    challenge: str


@dataclass(frozen=True)
class _Grant:
    """What an authorization code or a refresh token stands for."""

    client_id: str
    character_id: int
    scopes: tuple[str, ...]
    challenge: str = ""
    redirect_uri: str = ""
    expires: float = 0.0


class _Problem(Exception):
    """An OAuth error: ``error`` code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class SandboxSSO:
    """A local EVE SSO for a :class:`~esiframe.sandbox.Sandbox`; see the module doc.

    ``clock`` (seconds since the epoch) dates tokens and codes; ``token_lifetime`` is the access
    tokens' lifetime in seconds (EVE: 1200); ``characters`` maps the test characters' ids to
    names; ``client_ids`` restricts the accepted client ids (None: any); ``scopes`` the known
    scopes (None: the sandbox spec's OAuth2 scopes, taken at :meth:`mount`). All may be changed
    while the sandbox runs.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        token_lifetime: float = 1200.0,
        characters: Mapping[int, str] | None = None,
        client_ids: Collection[str] | None = None,
        scopes: Collection[str] | None = None,
    ) -> None:
        if not isinstance(token_lifetime, int | float) or token_lifetime <= 0:
            raise ValueError(f"token_lifetime must be a positive number, got {token_lifetime!r}")
        chosen = dict(DEFAULT_CHARACTERS if characters is None else characters)
        if not chosen or not all(
            isinstance(cid, int) and cid > 0 and isinstance(name, str) and name
            for cid, name in chosen.items()
        ):
            raise ValueError(
                "characters must map positive integer character ids to non-empty names, "
                f"got {characters!r}"
            )
        self.clock = clock
        self.token_lifetime = float(token_lifetime)
        self.characters: dict[int, str] = chosen
        self.client_ids = None if client_ids is None else frozenset(client_ids)
        self.scopes = None if scopes is None else frozenset(scopes)
        self.url: str | None = None
        self._sandbox: Host | None = None
        self._lock = threading.Lock()
        self._key: RSAKey | None = None
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    def __repr__(self) -> str:
        return f"<SandboxSSO {self.base_url if self.url or self._sandbox else 'unmounted'}>"

    # wiring

    def mount(self, sandbox: Host, *, authorize: bool = True) -> SandboxSSO:
        """Serve the SSO's endpoints on ``sandbox`` and, with ``authorize``, check its bearers."""
        self._sandbox = sandbox
        if self.scopes is None:
            schemes = sandbox.spec.get("components", {}).get("securitySchemes", {})
            flows = schemes.get("OAuth2", {}).get("flows", {})
            self.scopes = frozenset(flows.get("authorizationCode", {}).get("scopes", {}))
        sandbox.add_route("GET", METADATA_PATH, self.metadata_endpoint)
        sandbox.add_route("GET", AUTHORIZE_PATH, self.authorize_page)
        sandbox.add_route("POST", AUTHORIZE_PATH, self.authorize_submit)
        sandbox.add_route("POST", TOKEN_PATH, self.token_endpoint)
        sandbox.add_route("POST", REVOKE_PATH, self.revoke_endpoint)
        sandbox.add_route("GET", JWKS_PATH, self.jwks_endpoint)
        if authorize:
            sandbox.authorize = self.authorize
        return self

    @property
    def base_url(self) -> str:
        """The SSO's URL: ``url`` if set, else the mounted sandbox's."""
        if self.url is not None:
            return self.url.rstrip("/")
        if self._sandbox is None:
            raise RuntimeError("the SSO is not mounted: call mount(sandbox) or set .url")
        return self._sandbox.url

    @property
    def issuer(self) -> str:
        """The tokens' ``iss``: ``host:port``, in the form EVE uses for its own issuer."""
        return urlsplit(self.base_url).netloc

    def _signing_key(self) -> RSAKey:
        with self._lock:
            if self._key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._key = RSAKey.import_key(
                    private, {"kid": SIGNING_KEY_ID, "alg": "RS256", "use": "sig"}
                )
            return self._key

    # documents

    def metadata(self) -> dict[str, Any]:
        """The authorization server metadata (RFC 8414), as EVE publishes it."""
        base = self.base_url
        return {
            "issuer": self.issuer,
            "authorization_endpoint": base + AUTHORIZE_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "response_types_supported": ["code", "token"],
            "jwks_uri": base + JWKS_PATH,
            "revocation_endpoint": base + REVOKE_PATH,
            "revocation_endpoint_auth_methods_supported": ["none"],
            "token_endpoint_auth_methods_supported": ["none"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public signing key as a JWK set."""
        public = self._signing_key().as_dict(private=False)
        return {"keys": [public], "SkipUnresolvedJsonWebKeys": True}

    # tokens

    def issue(
        self,
        character_id: int,
        scopes: Sequence[str] = (),
        client_id: str = "sandbox-client",
        *,
        lifetime: float | None = None,
    ) -> dict[str, Any]:
        """Mint a token response (access JWT + refresh token) as the token endpoint would.

        For tests that need a bearer without the browser flow, e.g.
        ``sso.issue(2112000001, ["esi-assets.read_assets.v1"])["access_token"]``.
        """
        if character_id not in self.characters:
            raise ValueError(
                f"character_id {character_id!r} is not a sandbox character; "
                f"known: {sorted(self.characters)}"
            )
        grant = _Grant(client_id=client_id, character_id=character_id, scopes=tuple(scopes))
        return self._tokens(grant, lifetime=lifetime)

    def _tokens(self, grant: _Grant, *, lifetime: float | None = None) -> dict[str, Any]:
        seconds = self.token_lifetime if lifetime is None else lifetime
        now = self.clock()
        name = self.characters[grant.character_id]
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "kid": SIGNING_KEY_ID,
            "sub": f"CHARACTER:EVE:{grant.character_id}",
            "azp": grant.client_id,
            "tenant": "tranquility",
            "tier": "live",
            "region": "world",
            "aud": [grant.client_id, AUDIENCE],
            "name": name,
            "owner": base64.b64encode(
                hashlib.sha1(f"{grant.character_id}:{name}".encode()).digest()
            ).decode(),
            "exp": int(now + seconds),
            "iat": int(now),
            "iss": self.issuer,
        }
        if grant.scopes:
            claims["scp"] = grant.scopes[0] if len(grant.scopes) == 1 else list(grant.scopes)
        access = jwt.encode(
            {"alg": "RS256", "kid": SIGNING_KEY_ID, "typ": "JWT"}, claims, self._signing_key()
        )
        refresh = secrets.token_urlsafe(18)
        with self._lock:
            self._refresh[refresh] = _Grant(grant.client_id, grant.character_id, grant.scopes)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": max(int(seconds) - 1, 0),
            "refresh_token": refresh,
        }

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token of this SSO; ValueError saying why otherwise."""
        try:
            decoded = jwt.decode(token, self._signing_key(), algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            raise ValueError("the access token is not a valid token of this SSO") from None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            raise ValueError(f"the access token was issued by {claims.get('iss')!r}")
        audience = claims.get("aud")
        if not isinstance(audience, list) or AUDIENCE not in audience:
            raise ValueError(f"the access token's audience lacks {AUDIENCE!r}")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires <= self.clock():
            raise ValueError("the access token has expired")
        if not isinstance(claims.get("sub"), str) or not _SUB.fullmatch(claims["sub"]):
            raise ValueError("the access token has no character subject")
        return claims

    def authorize(
        self,
        operation: Mapping[str, Any],
        path_params: Mapping[str, str],
        authorization: str | None,
    ) -> AuthResult:
        """The sandbox's bearer check for scoped ESI operations (see the module doc)."""
        checked = bearer_token(operation, authorization)
        if isinstance(checked, AuthResult):
            return checked
        token, needed = checked
        needs = f" with scope {', '.join(needed)}" if needed else ""
        try:
            claims = self.verify(token)
        except ValueError as exc:
            return AuthResult(401, f"{exc}; log in again{needs}")
        scp = claims.get("scp", [])
        granted = {scp} if isinstance(scp, str) else set(scp)
        missing = [s for s in needed if s not in granted]
        if missing:
            return AuthResult(403, f"token not valid for scope(s): {', '.join(missing)}")
        character_id = str(claims["sub"]).rsplit(":", 1)[-1]
        wanted = path_params.get("character_id")
        if wanted is not None and wanted != character_id:
            return AuthResult(
                403,
                f"the token belongs to character {character_id}, not to character {wanted}",
            )
        return AuthResult(owner=f"character:{character_id}")

    # endpoints

    def metadata_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        """GET /.well-known/oauth-authorization-server."""
        return SandboxResponse.json(self.metadata())

    def jwks_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        """GET /oauth/jwks."""
        return SandboxResponse.json(self.jwks())

    def authorize_page(self, request: SandboxRequest) -> SandboxResponse:
        """GET /v2/oauth/authorize: the consent page (400 page for a bad request)."""
        params = {key: values[-1] for key, values in request.query.items()}
        try:
            checked = self._check_authorize(params)
        except _Problem as problem:
            return _page(400, "Invalid login request", f"<p>{html.escape(problem.description)}</p>")
        return _page(200, "Log in to the esiframe sandbox", self._form(params, checked))

    def authorize_submit(self, request: SandboxRequest) -> SandboxResponse:
        """POST /v2/oauth/authorize: the consent form's answer; 302 back to the redirect URI."""
        if not _is_form(request):
            return _page(400, "Invalid login request", "<p>expected a submitted form</p>")
        form = request.form()
        try:
            checked = self._check_authorize(form)
            raw_id = form.get("character_id", "")
            character_id = int(raw_id) if raw_id.isdigit() else 0
            if character_id not in self.characters:
                raise _Problem("invalid_request", f"choose one of the characters, not {raw_id!r}")
        except _Problem as problem:
            return _page(400, "Invalid login request", f"<p>{html.escape(problem.description)}</p>")
        if form.get("decision") == "deny":
            answer = {"error": "access_denied", "error_description": "the user declined"}
        else:
            code = secrets.token_urlsafe(16)
            now = self.clock()
            with self._lock:
                for stale in [c for c, g in self._codes.items() if g.expires <= now]:
                    del self._codes[stale]
                self._codes[code] = _Grant(
                    client_id=checked.client_id,
                    character_id=character_id,
                    scopes=checked.scopes,
                    challenge=checked.challenge,
                    redirect_uri=checked.redirect_uri,
                    expires=now + CODE_SECONDS,
                )
            answer = {"code": code}
        answer["state"] = checked.state
        joiner = "&" if urlsplit(checked.redirect_uri).query else "?"
        location = checked.redirect_uri + joiner + urlencode(answer)
        return SandboxResponse(302, {"Location": location, **_NO_STORE})

    def token_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        """POST /v2/oauth/token: authorization_code (PKCE) and refresh_token grants."""
        try:
            if not _is_form(request):
                raise _Problem(
                    "invalid_request",
                    "the token endpoint takes application/x-www-form-urlencoded bodies only",
                )
            form = request.form()
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant = self._redeem_code(form)
            elif grant_type == "refresh_token":
                grant = self._redeem_refresh(form)
            else:
                raise _Problem(
                    "unsupported_grant_type",
                    f"grant_type must be authorization_code or refresh_token, not {grant_type!r}",
                )
        except _Problem as problem:
            body = {"error": problem.error, "error_description": problem.description}
            return SandboxResponse.json(body, 400, _NO_STORE)
        return SandboxResponse.json(self._tokens(grant), 200, _NO_STORE)

    def revoke_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        """POST /v2/oauth/revoke: forget a refresh token; 200 whatever it was (RFC 7009)."""
        if _is_form(request):
            token = request.form().get("token", "")
            with self._lock:
                self._refresh.pop(token, None)
        return SandboxResponse(200, dict(_NO_STORE))

    # checks

    def _check_authorize(self, params: Mapping[str, str]) -> _Request:
        if params.get("response_type") != "code":
            raise _Problem("unsupported_response_type", "response_type must be 'code'")
        client_id = params.get("client_id", "")
        if not client_id:
            raise _Problem("invalid_request", "client_id is required")
        if self.client_ids is not None and client_id not in self.client_ids:
            raise _Problem("invalid_client", f"unknown client_id {client_id!r}")
        redirect_uri = params.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise _Problem("invalid_request", "redirect_uri must be an absolute http(s) URL")
        scopes = tuple(params.get("scope", "").split())
        unknown = [s for s in scopes if self.scopes is not None and s not in self.scopes]
        if unknown:
            raise _Problem("invalid_scope", f"unknown scope(s): {', '.join(unknown)}")
        state = params.get("state", "")
        if not state:
            raise _Problem("invalid_request", "state is required")
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
            raise _Problem(
                "invalid_request",
                "this SSO serves PKCE clients only: send code_challenge (43 base64url "
                "characters) with code_challenge_method=S256",
            )
        return _Request(client_id, redirect_uri, scopes, state, challenge)

    def _redeem_code(self, form: Mapping[str, str]) -> _Grant:
        missing = [key for key in ("code", "client_id", "code_verifier") if not form.get(key)]
        if missing:
            raise _Problem("invalid_request", f"missing {', '.join(missing)}")
        with self._lock:
            grant = self._codes.pop(form["code"], None)
        if grant is None or grant.expires <= self.clock():
            raise _Problem("invalid_grant", "the authorization code is unknown, used or expired")
        if grant.client_id != form["client_id"]:
            raise _Problem("invalid_grant", "the authorization code was issued to another client")
        if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
            raise _Problem("invalid_grant", "redirect_uri differs from the authorize request's")
        verifier = form["code_verifier"]
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(derived, grant.challenge):
            raise _Problem("invalid_grant", "PKCE verification failed: wrong code_verifier")
        return grant

    def _redeem_refresh(self, form: Mapping[str, str]) -> _Grant:
        missing = [key for key in ("refresh_token", "client_id") if not form.get(key)]
        if missing:
            raise _Problem("invalid_request", f"missing {', '.join(missing)}")
        with self._lock:
            grant = self._refresh.get(form["refresh_token"])
            if grant is None:
                raise _Problem("invalid_grant", "the refresh token is unknown, used or revoked")
            if grant.client_id != form["client_id"]:
                raise _Problem("invalid_grant", "the refresh token was issued to another client")
            del self._refresh[form["refresh_token"]]
        requested = form.get("scope")
        if requested:
            narrowed = tuple(requested.split())
            extra = [s for s in narrowed if s not in grant.scopes]
            if extra:
                raise _Problem("invalid_scope", f"not granted before: {', '.join(extra)}")
            grant = _Grant(grant.client_id, grant.character_id, narrowed)
        return grant

    def _form(self, params: Mapping[str, str], checked: _Request) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(params[key])}">'
            for key in (
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
            )
            if key in params
        )
        choices = "".join(
            f'<label><input type="radio" name="character_id" value="{cid}"'
            f"{' checked' if index == 0 else ''}> {html.escape(name)} ({cid})</label><br>"
            for index, (cid, name) in enumerate(self.characters.items())
        )
        scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in checked.scopes)
        return (
            f"<p>The application <b>{html.escape(checked.client_id)}</b> asks to use your "
            "character"
            + (f" with these scopes:</p><ul>{scopes}</ul>" if scopes else ".</p>")
            + f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
            f"<fieldset><legend>Character</legend>{choices}</fieldset><p>"
            '<button type="submit" name="decision" value="approve">Authorize</button> '
            '<button type="submit" name="decision" value="deny">Cancel</button></p></form>'
        )


def _is_form(request: SandboxRequest) -> bool:
    content_type = request.header("Content-Type") or ""
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def _page(status: int, title: str, body: str) -> SandboxResponse:
    document = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;margin:3em'><h2>{html.escape(title)}</h2>"
        f"{body}</body></html>"
    )
    return SandboxResponse(status, {"Content-Type": _HTML, **_NO_STORE}, document.encode("utf-8"))


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_BROWSER_TIMEOUT = 30.0
_LABEL_ID = re.compile(r"\s*\(\d+\)\s*$")


class _ConsentPage(HTMLParser):
    """What a browser sees on the authorize page: the form, its choices, or the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.choices: list[tuple[int, str]] = []
        self.words: list[str] = []
        self._label: int | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "form":
            self.action = attr.get("action", "")
        elif tag == "input" and attr.get("type") == "hidden" and attr.get("name"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif (
            tag == "input"
            and attr.get("type") == "radio"
            and attr.get("name") == "character_id"
            and attr.get("value", "").isdigit()
        ):
            self.choices.append((int(attr["value"]), ""))
            self._label = len(self.choices) - 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            character_id, text = self.choices[self._label]
            self.choices[self._label] = (character_id, text + data)
        if not self._in_title and data.strip():
            self.words.append(data.strip())

    def names(self) -> dict[int, str]:
        """The offered characters: id to name (the label without its "(id)")."""
        return {cid: _LABEL_ID.sub("", text.strip()) for cid, text in self.choices}


def _choose(offered: Mapping[int, str], character: str | int | None) -> int:
    known = ", ".join(f"{name} ({cid})" for cid, name in offered.items())
    if character is None:
        return next(iter(offered))
    if isinstance(character, bool) or not isinstance(character, int | str):
        raise ValueError(
            f"character must be a sandbox character's name or id, got {type(character).__name__}"
        )
    text = str(character).strip()
    for cid, name in offered.items():
        if (text.isdigit() and int(text) == cid) or name.casefold() == text.casefold():
            return cid
    raise ValueError(
        f"{character!r} is not offered by the sandbox's login page; choose one of {known}"
    )


def approve_login(
    login_url: str,
    *,
    character: str | int | None = None,
    session: requests.Session | None = None,
) -> str:
    """Play the browser for a sandbox login and return the URL the browser is redirected to.

    GETs the authorize page at ``login_url`` (a sandbox login's ``Login.url``), submits its
    consent form for ``character`` (a name, any case, or an id; None: the first one offered) and
    follows the 302 to the redirect URI. A loopback callback listening there gets the request and
    completes the login by itself; when nothing listens (``loopback=False``), nothing is
    delivered. The returned redirect URL (``...?code=...&state=...``) is what a user on a remote
    kernel pastes into the login panel or passes to ``login.finish``. Lets notebooks and tests
    log in without a browser; it works against the sandbox's SSO only, not EVE's.

    Raises ValueError for a URL that is not a sandbox login page (with the page's reason) or a
    character the page does not offer, RuntimeError when the sandbox or the callback fails.
    """
    parts = urlsplit(login_url) if isinstance(login_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"login_url must be the http(s) authorize URL of a sandbox login (login.url), "
            f"got {login_url!r}"
        )
    browser = session if session is not None else requests.Session()
    try:
        target, form = _consent_form(browser, login_url, character)
        redirect = _submit_consent(browser, target, form)
        _deliver(browser, redirect)
        return redirect
    finally:
        if session is None:
            browser.close()


def _consent_form(
    browser: requests.Session, login_url: str, character: str | int | None
) -> tuple[str, dict[str, str]]:
    """Open the consent page; (form action URL, form approving ``character``)."""
    try:
        page = browser.get(login_url, timeout=_BROWSER_TIMEOUT)
    except requests.RequestException as exc:
        raise RuntimeError(
            f"cannot open the login page {login_url}: {type(exc).__name__}; is the sandbox "
            "running at that address?"
        ) from None
    consent = _ConsentPage()
    consent.feed(page.text)
    if page.status_code != 200 or consent.action is None or not consent.choices:
        reason = " ".join(consent.words) or f"HTTP {page.status_code}"
        raise ValueError(
            f"{login_url} is not a sandbox SSO consent page (HTTP {page.status_code}: "
            f"{reason}); pass the url of a login started against the sandbox"
        )
    chosen = _choose(consent.names(), character)
    form = {**consent.fields, "character_id": str(chosen), "decision": "approve"}
    return urljoin(page.url, consent.action), form


def _submit_consent(browser: requests.Session, target: str, form: dict[str, str]) -> str:
    """Post the consent form; the absolute URL the SSO redirects the browser to."""
    try:
        answer = browser.post(target, data=form, allow_redirects=False, timeout=_BROWSER_TIMEOUT)
    except requests.RequestException as exc:
        raise RuntimeError(
            f"cannot submit the consent form to {target}: {type(exc).__name__}"
        ) from None
    location = answer.headers.get("Location")
    if answer.status_code != 302 or not location:
        refusal = _ConsentPage()
        refusal.feed(answer.text)
        raise RuntimeError(
            f"the sandbox SSO did not redirect after consent (HTTP {answer.status_code}: "
            f"{' '.join(refusal.words)})"
        )
    return urljoin(target, location)


def _deliver(browser: requests.Session, redirect: str) -> None:
    """Follow the redirect to a loopback callback if one listens; leave other hosts alone."""
    parts = urlsplit(redirect)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS:
        return
    try:
        reply = browser.get(redirect, allow_redirects=False, timeout=_BROWSER_TIMEOUT)
    except requests.ConnectionError:
        return
    if reply.status_code >= 400:
        page = _ConsentPage()
        page.feed(reply.text)
        raise RuntimeError(
            f"the login callback at {parts.scheme}://{parts.netloc}{parts.path} answered "
            f"HTTP {reply.status_code}: {' '.join(page.words)}"
        )
