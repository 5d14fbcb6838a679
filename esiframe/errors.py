"""Exceptions and warnings raised by esiframe.

The hierarchy::

    EsiError                      base of everything esiframe raises
    ├── ParameterError            bad input, raised before any request (also a ValueError)
    ├── OperationNotFound         unknown operation name (also a KeyError)
    ├── CompatibilityDateError    a compatibility date ESI does not publish (also a ValueError)
    ├── EsiHTTPError              ESI answered with an error status
    │   ├── ClientError           4xx
    │   ├── ServerError           5xx
    │   └── RateLimitedError      420 / 429, or a wait refused by on_limit="raise"
    ├── TransportError            no answer at all after the retries (no HTTP status)
    ├── UnexpectedAnswerError     a 200 whose body cannot be what the spec promises
    ├── InconsistentPagesError    pages of one result never agreed on Last-Modified
    ├── PartialResultError        some requests of a fan-out failed; the rest is attached
    └── AuthError                 EVE SSO problems
        ├── LoginRequired         no usable token: log in (again)
        └── TokenInvalid          a token failed validation

    EsiframeWarning               base of esiframe's warnings

HTTP errors carry ``.status``, ``.headers``, ``.body`` and ``.url`` so a caller
can see exactly what ESI said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthError",
    "ClientError",
    "CompatibilityDateError",
    "EsiError",
    "EsiHTTPError",
    "EsiframeWarning",
    "InconsistentPagesError",
    "LoginRequired",
    "OperationNotFound",
    "ParameterError",
    "PartialResultError",
    "RateLimitedError",
    "ServerError",
    "TokenInvalid",
    "TransportError",
    "UnexpectedAnswerError",
]


class EsiError(Exception):
    """Base class of every exception esiframe raises."""


class ParameterError(EsiError, ValueError):
    """Parameters that do not fit the operation; raised before any request."""


class OperationNotFound(EsiError, KeyError):
    """No operation of that name in the spec."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CompatibilityDateError(EsiError, ValueError):
    """A compatibility date that ESI does not publish."""


class EsiHTTPError(EsiError):
    """ESI answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str = "",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.headers: Mapping[str, str] = dict(headers or {})
        self.body = body


class ClientError(EsiHTTPError):
    """A 4xx answer other than a rate limit."""


class ServerError(EsiHTTPError):
    """A 5xx answer, after retries ran out."""


class RateLimitedError(EsiHTTPError):
    """A rate limit was hit, or a wait was refused by ``on_limit="raise"``.

    ``.state`` describes the limit: which one, how long to wait, what is left.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        state: Mapping[str, Any],
        url: str = "",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status=status, url=url, headers=headers, body=body)
        self.state: dict[str, Any] = dict(state)


class TransportError(EsiError):
    """No answer from ESI after the retries (connection refused, dropped, timed out).

    There is no HTTP status: ESI never said anything. ``.url`` is the request's URL.
    """

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class UnexpectedAnswerError(EsiError):
    """ESI (or something between) answered 200 with a body that is not the promised shape:
    an HTML page, plain text, an empty body, a list where an object was promised.

    ``.url`` and ``.excerpt`` (the first characters of the body) say what came back.
    """

    def __init__(self, message: str, *, url: str = "", excerpt: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.excerpt = excerpt


class InconsistentPagesError(EsiError):
    """The pages of one result kept disagreeing on ``Last-Modified``."""


class PartialResultError(EsiError):
    """Some requests of a fan-out failed; nothing is returned as if complete.

    ``.failures`` lists ``{"params": ..., "error": ...}`` for every failed
    request; ``.frame`` holds the rows of the requests that succeeded.
    """

    def __init__(self, message: str, *, failures: list[dict[str, Any]], frame: Any) -> None:
        super().__init__(message)
        self.failures = failures
        self.frame = frame


class AuthError(EsiError):
    """Base class of EVE SSO errors."""


class LoginRequired(AuthError):
    """No usable token for the call; the message says how to log in."""


class TokenInvalid(AuthError):
    """A token failed validation (signature, issuer, audience, expiry, state, PKCE)."""


class EsiframeWarning(UserWarning):
    """Base class of esiframe's warnings."""
