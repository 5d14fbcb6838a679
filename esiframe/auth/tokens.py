"""Token claims and PKCE: the pure protocol pieces of EVE SSO (docs/esi.md §8.3, §8.5).

Nothing here makes a request or keeps state: a PKCE challenge, the check of an access token's
claims, and the RS256 signature check against a key set the caller fetched.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import ParameterError, TokenInvalid

__all__ = [
    "CLAIMS_LEEWAY",
    "EVE_AUDIENCE",
    "EVE_ISSUERS",
    "TokenClaims",
    "check_claims",
    "header_kid",
    "pkce_challenge",
    "validate_access_token",
]

EVE_ISSUERS = ("login.eveonline.com", "https://login.eveonline.com")
EVE_AUDIENCE = "EVE Online"
CLAIMS_LEEWAY = 5.0
_SUB = re.compile(r"CHARACTER:EVE:(\d+)")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


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


def _check_audience(claims: Mapping[str, Any], client_id: str | None) -> str:
    """The client id the token is for; ``aud`` must hold it and ``"EVE Online"`` (§8.5).

    ``client_id=None`` (a token handed in by a user) takes the client id from ``azp``.
    """
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list):
        raise TokenInvalid(f"access token audience {audience!r} is not a string or a list")
    if client_id is None:
        azp = claims.get("azp")
        if not isinstance(azp, str) or not azp:
            raise TokenInvalid("access token names no client (azp); it is not an EVE token")
        client_id = azp
    if client_id not in audiences:
        raise TokenInvalid(
            f"access token audience {audience!r} does not contain the client id {client_id!r}"
        )
    if EVE_AUDIENCE not in audiences:
        raise TokenInvalid(f"access token audience {audience!r} does not contain {EVE_AUDIENCE!r}")
    return client_id


def _check_times(claims: Mapping[str, Any], now: float, leeway: float) -> float:
    """``exp`` must be later than now; ``nbf`` and ``iat``, when present, not in the future."""
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise TokenInvalid(f"access token has no numeric expiry (exp={expires!r})")
    if expires <= now - leeway:
        when = datetime.fromtimestamp(expires, UTC).isoformat()
        raise TokenInvalid(f"access token expired at {when}")
    for key, meaning in (("nbf", "is not valid before"), ("iat", "claims to be issued at")):
        value = claims.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenInvalid(f"access token {key} must be a number, got {value!r}")
        if value > now + leeway:
            when = datetime.fromtimestamp(value, UTC).isoformat()
            raise TokenInvalid(f"access token {meaning} {when}, in the future")
    return float(expires)


def _check_scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """``scp`` may be a list or, for a single scope, a plain string, as EVE sends it (§8.5)."""
    scp = claims.get("scp", [])
    scopes = [scp] if isinstance(scp, str) else scp
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TokenInvalid(f"access token scopes (scp) must be a string or a list, got {scp!r}")
    return tuple(scopes)


def check_claims(
    claims: Mapping[str, Any],
    *,
    client_id: str | None,
    issuers: Collection[str],
    now: float,
    leeway: float = CLAIMS_LEEWAY,
) -> TokenClaims:
    """Check an EVE access token's claims (signature already verified) and extract them.

    ``iss`` must be one of ``issuers``; ``aud`` must contain ``client_id`` (None: the token's
    ``azp``) and ``"EVE Online"``; ``exp`` must be later than ``now - leeway``, ``nbf``/``iat``
    no later than ``now + leeway``; ``sub`` must be ``CHARACTER:EVE:<id>`` (docs/esi.md §8.5).
    """
    issuer = claims.get("iss")
    if issuer not in issuers:
        raise TokenInvalid(
            f"access token issuer {issuer!r} is not accepted; expected one of {sorted(issuers)}"
        )
    audience_client = _check_audience(claims, client_id)
    expires = _check_times(claims, now, leeway)
    subject = claims.get("sub")
    match = _SUB.fullmatch(subject) if isinstance(subject, str) else None
    if match is None:
        raise TokenInvalid(f"access token subject {subject!r} is not 'CHARACTER:EVE:<id>'")
    scopes = _check_scopes(claims)
    name = claims.get("name")
    if not isinstance(name, str):
        raise TokenInvalid(f"access token has no character name (name={name!r})")
    azp = claims.get("azp")
    return TokenClaims(
        character_id=int(match.group(1)),
        name=name,
        scopes=scopes,
        expires=expires,
        client_id=azp if isinstance(azp, str) else audience_client,
        owner=str(claims.get("owner", "")),
    )


def validate_access_token(
    token: str,
    keys: KeySet,
    *,
    client_id: str | None,
    issuers: Collection[str],
    now: float,
    leeway: float = CLAIMS_LEEWAY,
) -> TokenClaims:
    """Verify an access token's RS256 signature against ``keys``, then :func:`check_claims`."""
    if not isinstance(token, str):
        raise TokenInvalid(f"an access token is a JWT string, got {type(token).__name__}")
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


def header_kid(token: str) -> str | None:
    """The ``kid`` of a JWT's header, read without trusting it (to pick a JWKS key)."""
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError, AttributeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
