"""Keep every test away from the user's real token store and HTTP cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home: Path = tmp_path_factory.mktemp("esiframe-home")
    monkeypatch.setenv("ESIFRAME_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("ESIFRAME_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("ESIFRAME_PROGRESS", "0")
