"""The token file: one JSON file per user, shared by every esiframe process of that user.

Writes are atomic (a temporary file in the same directory, fsynced, then ``os.replace``), so a
reader sees the old or the new file, never half of one. Writers, and the refresh of a login, hold
an exclusive lock on ``tokens.json.lock`` beside the file (``fcntl.flock``: POSIX only; elsewhere
only the threads of one process are serialized), so one process never overwrites another's
rotated refresh token (docs/esi.md §8.4). The kernel drops the lock of a killed process; the
temporary file a killed writer left behind is removed by the next write.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import AuthError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: threads of one process only
    fcntl = None  # type: ignore[assignment]

from ..settings import TOKEN_FILE, config_dir

__all__ = ["EVE_SSO", "STORE_FILE", "TokenRecord", "TokenStore", "config_dir", "default_store_path"]

STORE_FILE = TOKEN_FILE
#: The SSO that issued a stored login when the file does not say (files from before it did).
EVE_SSO = "https://login.eveonline.com"
#: How long a process waits for another to finish its write or refresh before giving up.
LOCK_WAIT = 120.0
_TEMP_PREFIX, _TEMP_SUFFIX = ".tokens-", ".tmp"


def default_store_path() -> Path:
    """``config_dir() / "tokens.json"``."""
    return config_dir() / STORE_FILE


@dataclass(frozen=True)
class TokenRecord:
    """One stored login: a character's tokens for one client id (tokens never in the repr)."""

    client_id: str
    character_id: int
    name: str
    scopes: tuple[str, ...]
    expires: float
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    sso: str = EVE_SSO

    @property
    def key(self) -> tuple[str, str, int]:
        """Which login this is: the SSO, the application, the character."""
        return (self.sso, self.client_id, self.character_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "sso": self.sso,
            "client_id": self.client_id,
            "character_id": self.character_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "expires": self.expires,
            "refresh_token": self.refresh_token,
            "access_token": self.access_token,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenRecord:
        return cls(
            client_id=str(data["client_id"]),
            character_id=int(data["character_id"]),
            name=str(data["name"]),
            scopes=tuple(str(s) for s in data.get("scopes", ())),
            expires=float(data.get("expires", 0.0)),
            refresh_token=str(data["refresh_token"]),
            access_token=str(data.get("access_token", "")),
            sso=str(data.get("sso", EVE_SSO)),
        )


class TokenStore:
    """The token file ``path`` (default :func:`default_store_path`), mode 0600 in a 0700 dir.

    Reads are cached until the file changes on disk; taking :meth:`locked` drops the cache, since
    another process may have just replaced the file.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, lock_wait: float = LOCK_WAIT
    ) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_wait = lock_wait
        self._read_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._depth = 0
        self._lock_file: IO[bytes] | None = None
        self._seen: tuple[int, int, int] | None = None
        self._records: list[TokenRecord] = []

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store exclusively: this thread, and no other process, may write (reentrant)."""
        with self._write_lock:
            if self._depth == 0:
                self._lock_file = self._acquire_file_lock()
                with self._read_lock:
                    self._seen = None  # another process may have replaced the file: read it
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_file is not None:
                    self._lock_file.close()  # closing the descriptor releases the flock
                    self._lock_file = None

    def _acquire_file_lock(self) -> IO[bytes] | None:
        if fcntl is None:
            return None
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = os.fdopen(os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise AuthError(
                        f"another process has held the token file lock {self.lock_path} for "
                        f"{self.lock_wait:g} s; try again when it has finished"
                    ) from None
                time.sleep(0.02)

    def records(self) -> list[TokenRecord]:
        """Every stored login, as on disk now."""
        with self._read_lock:
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                self._seen, self._records = None, []
                return []
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if seen != self._seen:
                self._records = self._read()
                self._seen = seen
            return list(self._records)

    def get(self, key: tuple[str, str, int]) -> TokenRecord | None:
        """The login with this :attr:`TokenRecord.key`, if stored."""
        return next((record for record in self.records() if record.key == key), None)

    def put(self, record: TokenRecord) -> None:
        """Store ``record``, replacing the login with the same key."""
        with self.locked():
            others = [r for r in self.records() if r.key != record.key]
            self._write([*others, record])

    def remove(self, key: tuple[str, str, int]) -> bool:
        """Forget one login; True if it was stored."""
        with self.locked():
            records = self.records()
            kept = [r for r in records if r.key != key]
            if len(kept) == len(records):
                return False
            self._write(kept)
            return True

    def _read(self) -> list[TokenRecord]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            return [TokenRecord.from_json(item) for item in data["tokens"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AuthError(
                f"the token file {self.path} cannot be read ({type(exc).__name__}); "
                "delete it and log in again"
            ) from None

    def _write(self, records: Sequence[TokenRecord]) -> None:
        """Replace the file atomically; called with the lock held, so leftovers are stale."""
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._remove_leftovers()
        payload = json.dumps(
            {"version": 1, "tokens": [r.to_json() for r in records]}, indent=1
        ).encode("utf-8")
        fd, temporary = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)
        stat = os.stat(self.path)
        with self._read_lock:
            self._seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            self._records = list(records)

    def _remove_leftovers(self) -> None:
        """Delete temporary token files of writes that were killed (they may hold tokens)."""
        if fcntl is None:  # without a cross-process lock another writer may be mid-write
            return
        for leftover in self.path.parent.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op elsewhere."""
    if os.name != "posix":
        return
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
