"""Progress bars for long walks and fan-outs (tqdm.auto: a widget in notebooks).

Off with ``progress=False``, ``ESIFRAME_PROGRESS=0`` or tqdm's own
``TQDM_DISABLE=1``. Bars appear only once a call has run for a moment, so
quick calls stay quiet.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from .settings import progress_default

__all__ = ["Progress", "progress_enabled"]


def progress_enabled(setting: bool | None) -> bool:
    """The effective switch: an explicit setting wins, then the environment."""
    if setting is not None:
        return setting
    return progress_default()


class Progress:
    """A request counter whose total grows as page counts become known."""

    def __init__(self, description: str, *, enabled: bool, total: int = 0) -> None:
        self._lock = threading.Lock()
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit="req", delay=0.5, leave=False)

    def add_total(self, count: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.total = (self._bar.total or 0) + count
                self._bar.refresh()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(count)

    def status(self, text: str) -> None:
        """Show what the call is waiting for (rate limits, retries)."""
        if self._bar is not None:
            with self._lock:
                self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
