"""pytest fixtures for the ESI sandbox (registered as the ``esiframe_sandbox`` pytest11 plugin).

- ``esi_sandbox``: a started `Sandbox` with default settings, stopped after the test.
- ``esi_sandbox_factory``: a callable taking `Sandbox` keyword arguments that starts a sandbox;
  every sandbox it made is stopped after the test.

The sandbox is imported lazily, so merely having esiframe installed costs a pytest run nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from esiframe.sandbox.server import Sandbox

__all__ = ["esi_sandbox", "esi_sandbox_factory"]


@pytest.fixture
def esi_sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with any `Sandbox` keyword arguments; all are stopped afterwards."""
    from esiframe.sandbox.server import Sandbox

    made: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        sandbox = Sandbox(**kwargs)
        made.append(sandbox)
        return sandbox.start()

    try:
        yield make
    finally:
        for sandbox in made:
            sandbox.stop()


@pytest.fixture
def esi_sandbox(esi_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A running sandbox with default settings."""
    return esi_sandbox_factory()
