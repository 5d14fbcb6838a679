"""Progress bars for long walks and fan-outs (tqdm.auto: a widget in notebooks).

Off with ``progress=False``, ``ESIFRAME_PROGRESS=0`` or tqdm's own
``TQDM_DISABLE=1``. A call that ends within :data:`SHOW_AFTER` seconds shows
nothing at all: the bar is only made once that time has passed (a timer, or
the next event, makes it), so quick calls leave no empty or frozen bar in a
terminal or a saved notebook. A status note (a rate-limit wait) is dropped
once the next answer arrives: it described a wait that is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from .settings import progress_default

__all__ = ["SHOW_AFTER", "Bar", "Progress", "progress_enabled"]

#: Seconds a call runs before its bar appears.
SHOW_AFTER = 0.5


def progress_enabled(setting: bool | None) -> bool:
    """The effective switch: an explicit setting wins, then the environment."""
    if setting is not None:
        return setting
    return progress_default()


class Bar(Protocol):
    """What :class:`Progress` needs of a bar (a tqdm)."""

    total: Any

    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...

    def refresh(self) -> Any: ...

    def close(self) -> None: ...


#: Makes the bar once it is due: (description, total, requests already done) -> bar.
BarFactory = Callable[[str, int, int], Bar]


def tqdm_bar(description: str, total: int, done: int) -> Bar:
    """A tqdm (a widget in Jupyter) shown at once and cleared when closed."""
    from tqdm.auto import tqdm

    bar: Bar = tqdm(total=total, initial=done, desc=description, unit="req", leave=False, delay=0)
    return bar


class Progress:
    """A request counter whose total grows as page counts become known.

    Counts are kept from the start; the bar itself exists only from ``delay`` seconds on
    (default :data:`SHOW_AFTER`; ``clock`` says when), so a quick call writes nothing.
    """

    def __init__(
        self,
        description: str,
        *,
        enabled: bool,
        total: int = 0,
        delay: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        make_bar: BarFactory = tqdm_bar,
    ) -> None:
        delay = SHOW_AFTER if delay is None else delay
        self._lock = threading.RLock()
        self._description = description
        self._enabled = enabled
        self._clock = clock
        self._show_at = clock() + delay
        self._make_bar = make_bar
        self._total = total
        self._done = 0
        self._shown_done = 0
        self._status = ""
        self._shown_status = ""
        self._bar: Bar | None = None
        self._closed = False
        self._timer: threading.Timer | None = None
        if enabled:
            # A slow first request sends no event: the timer shows the bar all the same.
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    @property
    def shown(self) -> bool:
        """Whether the bar has been made (the call outlived ``delay``)."""
        return self._bar is not None

    def add_total(self, count: int) -> None:
        with self._lock:
            self._total += count
            self._show()

    def advance(self, count: int = 1) -> None:
        """``count`` requests answered; an answer ends any wait the status described."""
        with self._lock:
            self._done += count
            self._status = ""
            self._show()

    def status(self, text: str) -> None:
        """Show what the call is waiting for (rate limits, retries)."""
        with self._lock:
            self._status = text
            self._show()

    def _show(self) -> None:
        """Bring the bar up to date, making it first if it is due; nothing before then."""
        with self._lock:
            if not self._enabled or self._closed:
                return
            bar = self._bar
            if bar is None:
                if self._clock() < self._show_at:
                    return
                bar = self._bar = self._make_bar(self._description, self._total, self._done)
                self._shown_done = self._done
                self._shown_status = ""
            if bar.total != self._total:
                bar.total = self._total
                bar.refresh()
            if self._done > self._shown_done:
                bar.update(self._done - self._shown_done)  # tqdm spaces out its redraws
                self._shown_done = self._done
            if self._status != self._shown_status:
                bar.set_postfix_str(self._status, refresh=True)
                self._shown_status = self._status

    def close(self) -> None:
        """Stop the timer; a bar that was shown is cleared (``leave=False``)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
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
