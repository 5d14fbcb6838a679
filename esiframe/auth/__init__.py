"""EVE SSO on the client side: PKCE login, JWT validation, token store, refresh.

:meth:`Auth.login` starts an authorization-code login with PKCE (S256, no client secret) and
returns a :class:`Login` at once: a notebook kernel must stay responsive while the user is in the
browser. The login completes either through a one-shot loopback server on the callback URL or
through :meth:`Login.finish` with the URL the browser was redirected to (remote kernels).

Every new access token is validated before it is used or stored: RS256 signature against the
SSO's JWKS (found through its ``/.well-known/oauth-authorization-server`` metadata; both cached
for 300 s), the issuer, the audience (the client id *and* ``"EVE Online"``), the expiry, and
``nbf``/``iat`` not in the future (docs/esi.md §8.5).

Tokens live in one JSON file per user (:class:`TokenStore`), mode 0600, replaced atomically and
written under a lock file shared by every process, so several kernels and scripts share one login
and refresh it once. Tokens never appear in a repr, a log line or an error message.

Modules, from the bottom: ``tokens`` (claims, PKCE), ``store`` (the token file), ``login`` (the
login state machine), ``callback`` (its loopback server), ``sso`` (discovery and the OAuth
requests through authlib), ``core`` (:class:`Auth`).
"""

from .core import LOGIN_TIMEOUT, Auth
from .login import DEFAULT_CALLBACK_URL, Character, Login, LoginStatus
from .sso import DISCOVERY_SECONDS, HTTP_TIMEOUT, METADATA_PATH, SSOClient
from .store import EVE_SSO, STORE_FILE, TokenRecord, TokenStore, config_dir, default_store_path
from .tokens import (
    CLAIMS_LEEWAY,
    EVE_AUDIENCE,
    EVE_ISSUERS,
    TokenClaims,
    check_claims,
    pkce_challenge,
    validate_access_token,
)

__all__ = [
    "CLAIMS_LEEWAY",
    "DEFAULT_CALLBACK_URL",
    "DISCOVERY_SECONDS",
    "EVE_AUDIENCE",
    "EVE_ISSUERS",
    "EVE_SSO",
    "HTTP_TIMEOUT",
    "LOGIN_TIMEOUT",
    "METADATA_PATH",
    "STORE_FILE",
    "Auth",
    "Character",
    "Login",
    "LoginStatus",
    "SSOClient",
    "TokenClaims",
    "TokenRecord",
    "TokenStore",
    "check_claims",
    "config_dir",
    "default_store_path",
    "pkce_challenge",
    "validate_access_token",
]
