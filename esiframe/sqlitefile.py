"""Opening the SQLite files that several esiframe processes share: the HTTP cache and the
limits ledger, both in WAL mode.

Processes started together (a scheduler, a notebook and a script on one cache directory) may
open a new file at the same moment. Each switches it to WAL, and SQLite answers the losers of
that switch "database is locked" at once, without its busy wait. The switch lasts a moment, so
the open is tried again; any other error is raised at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["open_wal", "when_unlocked"]

_T = TypeVar("_T")


def when_unlocked(make: Callable[[], _T], timeout: float) -> _T:
    """``make()``, tried again every 10 ms for up to ``timeout`` seconds while SQLite answers
    "database is locked" at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return make()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def open_wal(path: str | Path, timeout: float) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode (autocommit, usable from any thread, commits atomic
    but not fsynced at once), waiting up to ``timeout`` seconds for other writers."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    return when_unlocked(connect, timeout)
