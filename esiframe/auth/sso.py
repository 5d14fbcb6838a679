"""The SSO client: discovery, signing keys, and the OAuth requests through authlib.

Endpoints come from the SSO's ``/.well-known/oauth-authorization-server`` metadata, cached 300 s
like its JWKS (docs/esi.md §8.1, §8.5). The authorize URL, the code exchange (PKCE S256, no
client secret, ``client_id`` in the form: §8.3), the refresh and the revocation (§8.4) are
formed by authlib's requests OAuth2 client and sent through the caller's ``requests`` session.
Redirects are never followed on those requests: a 307 would re-post a refresh token to wherever
the ``Location`` points.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import AuthError
from ..settings import warn_plain_http
from .tokens import EVE_ISSUERS, TokenClaims, header_kid, validate_access_token

__all__ = ["DISCOVERY_SECONDS", "HTTP_TIMEOUT", "METADATA_PATH", "Refused", "SSOClient"]

METADATA_PATH = "/.well-known/oauth-authorization-server"
DISCOVERY_SECONDS = 300.0
HTTP_TIMEOUT = 30.0
_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class Refused(AuthError):
    """The SSO answered an OAuth error (its ``error`` and ``error_description``)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"HTTP {status} {error}" + (f": {description}" if description else ""))
        self.status = status
        self.error = error


class _OAuth(OAuth2Session):  # type: ignore[misc]
    """authlib forms the request (a public client: ``client_id`` in the body, PKCE S256); the
    caller's session sends it, with its User-Agent and adapters."""

    def __init__(self, transport: requests.Session, client_id: str, redirect_uri: str | None):
        super().__init__(
            client_id=client_id,
            token_endpoint_auth_method="none",
            revocation_endpoint_auth_method="none",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        self.session = transport
        for hook in ("access_token_response", "refresh_token_response"):
            self.register_compliance_hook(hook, _checked_answer)


def _checked_answer(response: requests.Response) -> requests.Response:
    """Pass a 200 to authlib; turn anything else into a clear error (no token in it)."""
    status, url = response.status_code, response.url
    if 300 <= status < 400:
        raise AuthError(
            f"the SSO token endpoint {url} answered HTTP {status} (a redirect to "
            f"{response.headers.get('Location')!r}); esiframe does not follow it, since that "
            "would send the token to another address"
        )
    if status == 200:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    if 400 <= status < 500 and isinstance(body, dict) and "error" in body:
        raise Refused(status, str(body["error"]), str(body.get("error_description") or ""))
    raise AuthError(f"the SSO token endpoint {url} answered HTTP {status}")


def warn_if_plain_http(url: str) -> None:
    """Warn for an ``http://`` SSO that is not on this machine: tokens would cross in clear."""
    warn_plain_http(url, "the SSO URL", "logins and tokens")


class SSOClient:
    """One SSO at ``sso_url``: its metadata and keys (cached), and its OAuth requests."""

    def __init__(
        self, sso_url: str, session: requests.Session, clock: Callable[[], float] = time.time
    ) -> None:
        self.sso_url = sso_url.rstrip("/")
        self.session = session
        self.clock = clock
        warn_if_plain_http(self.sso_url)
        self._lock = threading.RLock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    # discovery

    def metadata(self) -> dict[str, Any]:
        """The SSO's authorization server metadata (cached 300 s)."""
        with self._lock:
            now = self.clock()
            if self._metadata is not None and now - self._metadata[0] < DISCOVERY_SECONDS:
                return self._metadata[1]
            url = self.sso_url + METADATA_PATH
            data = self._get_json(url, "SSO metadata")
            missing = [key for key in _REQUIRED if not isinstance(data.get(key), str)]
            if missing:
                raise AuthError(f"the SSO metadata at {url} lacks {', '.join(missing)}")
            self._metadata = (now, data)
            return data

    def key_set(self, *, fresh: bool = False) -> KeySet:
        """The SSO's signing keys (JWKS), cached 300 s unless ``fresh``."""
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
        """The accepted token issuers: the metadata's, and EVE's two documented forms (§8.5)."""
        return tuple(dict.fromkeys([self.metadata()["issuer"], *EVE_ISSUERS]))

    def validate(self, access_token: str, client_id: str | None) -> TokenClaims:
        """Validate an access token (``client_id=None``: for the client it names).

        A ``kid`` missing from the cached JWKS refetches it first (the SSO rotated its keys).
        """
        keys = self.key_set()
        kid = header_kid(access_token) if isinstance(access_token, str) else None
        if kid is not None and all(key.kid != kid for key in keys.keys):
            keys = self.key_set(fresh=True)
        return validate_access_token(
            access_token, keys, client_id=client_id, issuers=self.issuers(), now=self.clock()
        )

    # OAuth requests

    def authorize_url(
        self, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str, verifier: str
    ) -> str:
        """The authorize URL of a PKCE login (docs/esi.md §8.3)."""
        endpoint = self.metadata()["authorization_endpoint"]
        with _OAuth(self.session, client_id, redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(
                endpoint, state=state, code_verifier=verifier, scope=" ".join(scopes)
            )
        return str(url)

    def exchange(
        self, client_id: str, code: str, verifier: str, redirect_uri: str
    ) -> dict[str, str]:
        """Redeem an authorization code with its PKCE verifier: the new tokens."""
        return self._token_call(
            client_id,
            redirect_uri,
            lambda oauth, url: oauth.fetch_token(
                url, grant_type="authorization_code", code=code, code_verifier=verifier,
                allow_redirects=False, timeout=HTTP_TIMEOUT,
            ),
        )

    def refresh(self, client_id: str, refresh_token: str) -> dict[str, str]:
        """Trade a refresh token for new tokens (the refresh token rotates: §8.4)."""
        return self._token_call(
            client_id,
            None,
            lambda oauth, url: oauth.refresh_token(
                url, refresh_token=refresh_token, allow_redirects=False, timeout=HTTP_TIMEOUT
            ),
        )

    def _token_call(
        self, client_id: str, redirect_uri: str | None, call: Callable[[_OAuth, str], Any]
    ) -> dict[str, str]:
        endpoint = self.metadata()["token_endpoint"]
        try:
            with _OAuth(self.session, client_id, redirect_uri) as oauth:
                body = call(oauth, endpoint)
        except requests.RequestException as exc:
            raise AuthError(
                f"cannot reach the SSO token endpoint {endpoint}: {type(exc).__name__}"
            ) from None
        except (OAuthError, ValueError) as exc:
            raise AuthError(
                f"the SSO token endpoint {endpoint} answered no usable tokens "
                f"({type(exc).__name__})"
            ) from None
        if not (
            isinstance(body, dict)
            and isinstance(body.get("access_token"), str)
            and isinstance(body.get("refresh_token"), str)
        ):
            raise AuthError(
                f"the SSO token endpoint {endpoint} answered without access_token/refresh_token"
            )
        return {"access_token": body["access_token"], "refresh_token": body["refresh_token"]}

    def revoke(self, client_id: str, refresh_token: str) -> None:
        """Revoke a refresh token (RFC 7009) if the SSO announces a revocation endpoint."""
        endpoint = self.metadata().get("revocation_endpoint")
        if not isinstance(endpoint, str):
            return
        try:
            with _OAuth(self.session, client_id, None) as oauth:
                response = oauth.revoke_token(
                    endpoint, token=refresh_token, token_type_hint="refresh_token",
                    allow_redirects=False, timeout=HTTP_TIMEOUT,
                )
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach {endpoint}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AuthError(f"{endpoint} answered HTTP {response.status_code}")
