"""Clients pointed at a sandbox, with a private cache directory per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from esiframe import Client
from esiframe.sandbox import Sandbox


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(sandbox: Sandbox, **settings: Any) -> Client:
        settings.setdefault("cache", tmp_path / "cache")
        settings.setdefault("progress", False)
        client = Client(
            base_url=sandbox.url,
            sso_url=sandbox.url,
            app_name="esiframe-tests",
            contact="tests@example.com",
            **settings,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
