"""esiframe.sandbox: a local ESI emulator for tests, notebooks and offline work.

A real HTTP server on 127.0.0.1 built from the bundled OpenAPI spec, answering every GET
operation and every read-only POST with deterministic synthetic data and behaving like ESI
(pagination, caching headers, localization, error limit, rate-limit groups, hidden limits,
auth) with injectable faults; ``Sandbox.answer`` gives the same answers in process::

    from esiframe.sandbox import Faults, Sandbox

    with Sandbox(faults=Faults(latency=0.05)) as esi:
        requests.get(f"{esi.url}/status", headers={"X-Compatibility-Date": "2026-08-04"})

In pytest, use the ``esi_sandbox`` and ``esi_sandbox_factory`` fixtures; on the command line,
``esiframe sandbox``. Names are imported on first use, so loading the pytest plugin (which
imports this package) stays cheap and cannot fail on the server's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esiframe.sandbox.faults import Faults, SandboxLimits
    from esiframe.sandbox.messages import (
        AuthResult,
        LogEntry,
        RequestLog,
        SandboxRequest,
        SandboxResponse,
    )
    from esiframe.sandbox.server import Sandbox, serve
    from esiframe.sandbox.sso import approve_login

__all__ = [
    "AuthResult",
    "Faults",
    "LogEntry",
    "RequestLog",
    "Sandbox",
    "SandboxLimits",
    "SandboxRequest",
    "SandboxResponse",
    "approve_login",
    "serve",
]

_HOMES = {
    "AuthResult": "messages",
    "Faults": "faults",
    "LogEntry": "messages",
    "RequestLog": "messages",
    "SandboxLimits": "faults",
    "SandboxRequest": "messages",
    "SandboxResponse": "messages",
    "approve_login": "sso",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'esiframe.sandbox' has no attribute {name!r}")
    module = importlib.import_module(f"esiframe.sandbox.{_HOMES.get(name, 'server')}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
