"""Let fixtures ask whether their test failed, so they can save what the browser showed."""

from __future__ import annotations

from collections.abc import Callable, Generator

import pytest

__all__ = ["body_failed", "pytest_runtest_makereport"]

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def body_failed(request: pytest.FixtureRequest) -> Callable[[], bool]:
    """``body_failed()``: in a fixture's teardown, True when the test's body failed."""
    return lambda: request.node.stash.get(_FAILED, False)
