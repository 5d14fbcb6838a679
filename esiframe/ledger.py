"""The limits ledger: a small SQLite file where every esiframe process on a machine keeps the
state of ESI's limits, so that together they stay within one error budget, one bucket per
rate-limit group and one count of hidden-limit starts (docs/esi.md §4-§5.1).

ESI counts per IP or per character, not per process: two notebooks and a scheduled job on one
machine spend from the same budgets. :class:`esiframe.limits.Limiter` makes every decision; this
module only stores its state, as JSON text by key, and makes each read-decide-write step atomic
across processes: ``BEGIN IMMEDIATE`` takes SQLite's write lock before reading, WAL lets readers
go on, and the busy timeout queues the other writers. Transactions last a fraction of a
millisecond, so the queue stays short.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .errors import EsiError
from .sqlitefile import open_wal

__all__ = ["LEDGER_FILE", "Ledger", "LedgerError"]

#: The ledger's file name inside the cache directory.
LEDGER_FILE = "limits.sqlite"

_SCHEMA = "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class LedgerError(EsiError):
    """The limits ledger cannot be used (unreadable file, lock held too long)."""


class Ledger:
    """The shared limit state in the SQLite file ``path`` (created with its directory).

    ``timeout`` is how long a step waits for another process's step before giving up. One
    connection per process (re-opened after a fork), used by one thread at a time.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.path = Path(path)
        self.timeout = float(timeout)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        """One atomic step: nobody else writes between its reads and its writes."""
        with self._lock:
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error("could not lock", exc) from exc
            try:
                yield _Transaction(connection)
                connection.commit()
            except sqlite3.Error as exc:
                _rollback(connection)
                raise self._error("could not use", exc) from exc
            except BaseException:
                _rollback(connection)
                raise

    def close(self) -> None:
        """Close the connection (the next transaction opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = open_wal(self.path, self.timeout)
        except (OSError, sqlite3.Error) as exc:
            raise self._error("could not open", exc) from exc
        try:
            connection.execute(_SCHEMA)
        except sqlite3.Error as exc:
            connection.close()
            raise self._error("could not open", exc) from exc
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _error(self, what: str, exc: BaseException) -> LedgerError:
        return LedgerError(
            f"esiframe {what} the limits ledger {self.path} ({exc}); it is shared by every "
            "esiframe process using this cache directory. If no other process holds it, delete "
            "the file: it only holds limit counts and is rebuilt from ESI's next answers."
        )


def _rollback(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.rollback()


class _Transaction:
    """Reads and writes inside one :meth:`Ledger.transaction`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def read(self, keys: list[str] | None) -> dict[str, str]:
        """The stored texts of ``keys`` (every key when ``None``); absent keys are left out."""
        if keys is None:
            rows = self._connection.execute("SELECT key, value FROM state").fetchall()
        else:
            marks = ",".join("?" * len(keys))
            rows = self._connection.execute(
                f"SELECT key, value FROM state WHERE key IN ({marks})", keys
            ).fetchall()
        return {str(key): str(value) for key, value in rows}

    def write(self, values: Mapping[str, str]) -> None:
        """Store these texts, replacing what the keys held."""
        self._connection.executemany(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )
