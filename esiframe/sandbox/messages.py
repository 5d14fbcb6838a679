"""The sandbox's request and response types, below both its server and its SSO.

`SandboxRequest` / `SandboxResponse` are what `Sandbox.handle` takes and gives; `AuthResult`,
`bearer_token` and `default_authorize` decide who a request belongs to; `RequestLog` records
every answer (with Authorization values redacted) and counts them by status, for tests that
count 420/429/500 answers; `Host` is what the SSO needs of the server it is mounted on.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

__all__ = [
    "DEFAULT_CHARACTERS",
    "JSON_TYPE",
    "AuthResult",
    "Authorizer",
    "Host",
    "LogEntry",
    "RequestLog",
    "RouteHandler",
    "SandboxRequest",
    "SandboxResponse",
    "bearer_token",
    "default_authorize",
    "flat_query",
    "redact_headers",
]

JSON_TYPE = "application/json; charset=utf-8"

DEFAULT_CHARACTERS: Mapping[int, str] = {
    2112000001: "Aura Sandbox",
    2112000002: "Bravo Sandbox",
    2112000003: "Charlie Sandbox",
}
"""The sandbox SSO's test characters; the data gives them the same names everywhere."""


# --- requests, responses, auth ------------------------------------------------------------


@dataclass
class SandboxRequest:
    """One HTTP request as the sandbox sees it (header lookups are case-insensitive)."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    client: str = "127.0.0.1"
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError when it is not)."""
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        """The body parsed as an application/x-www-form-urlencoded form (last value wins)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}


@dataclass
class SandboxResponse:
    """What the sandbox answers; ``body`` is sent with a Content-Length (none for 204/304)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut: bool = False  # send half the body, then close the connection (Faults.cut_rate)

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> SandboxResponse:
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


@dataclass(frozen=True)
class AuthResult:
    """An authorization decision: ``status``/``error`` set to refuse (401/403), else the owner.

    ``owner`` names whose rate-limit bucket the request spends (None: the client's IP).
    """

    status: int | None = None
    error: str | None = None
    owner: str | None = None


Authorizer = Callable[[Mapping[str, Any], Mapping[str, str], str | None], AuthResult]
RouteHandler = Callable[[SandboxRequest], SandboxResponse]


def bearer_token(
    operation: Mapping[str, Any], authorization: str | None
) -> tuple[str, list[str]] | AuthResult:
    """The bearer token and scopes a scoped operation needs, or the 401 for a missing one.

    Public operations give ``AuthResult()`` (nothing to check).
    """
    security = operation.get("security")
    if not security:
        return AuthResult()
    scopes = [
        scope for requirement in security for values in requirement.values() for scope in values
    ]
    needs = f" (scope {', '.join(scopes)})" if scopes else ""
    if authorization is None:
        return AuthResult(
            401, f"authentication required: send 'Authorization: Bearer <token>'{needs}"
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthResult(401, f"invalid Authorization header: expected 'Bearer <token>'{needs}")
    return token.strip(), scopes


def default_authorize(
    operation: Mapping[str, Any], path_params: Mapping[str, str], authorization: str | None
) -> AuthResult:
    """Accept any non-empty bearer token on scoped operations; public ones need none.

    The owner of a token is the path's ``character_id`` when there is one, else a digest of the
    token (never the token itself).
    """
    checked = bearer_token(operation, authorization)
    if isinstance(checked, AuthResult):
        return checked
    token, _ = checked
    character = path_params.get("character_id")
    if character is not None:
        return AuthResult(owner=f"character:{character}")
    return AuthResult(owner="token:" + hashlib.sha256(token.encode()).hexdigest()[:16])


# --- request log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One answered (or dropped: ``status`` None) request; Authorization values are redacted."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None
    response_headers: dict[str, str]
    time: float
    operation_id: str | None = None
    client: str = ""


class RequestLog:
    """Thread-safe record of every request the sandbox received, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries())

    def __getitem__(self, index: int) -> LogEntry:
        with self._lock:
            return self._entries[index]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def statuses(self, operation_id: str | None = None) -> Counter[int | None]:
        """How many answers of each status (None: dropped or hung), optionally for one operation.

        One sandbox serves every client process pointed at it, so this counts them all (e.g. the
        420s, 429s and hidden-limit 500s several processes caused together).
        """
        return Counter(
            entry.status
            for entry in self.entries()
            if operation_id is None or entry.operation_id == operation_id
        )

    def count(
        self, path: str | None = None, status: int | None = None, operation_id: str | None = None
    ) -> int:
        """How many entries match every given criterion (exact path, status, operationId)."""
        return sum(
            1
            for entry in self.entries()
            if (path is None or entry.path == path)
            and (status is None or entry.status == status)
            and (operation_id is None or entry.operation_id == operation_id)
        )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    redacted = {}
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme = value.strip().partition(" ")[0]
            value = f"{scheme} <redacted>" if scheme.lower() == "bearer" else "<redacted>"
        redacted[key] = value
    return redacted


def flat_query(query: Mapping[str, list[str]]) -> dict[str, str]:
    return {
        key: "<redacted>"
        if key.lower() in {"token", "access_token", "refresh_token"}
        else ",".join(values)
        for key, values in query.items()
    }


class Host(Protocol):
    """What the SSO needs of the sandbox it is mounted on."""

    spec: Mapping[str, Any]
    authorize: Authorizer

    @property
    def url(self) -> str: ...

    def add_route(self, method: str, path: str, handler: RouteHandler) -> None: ...
