"""A fake clock for tests: time moves only when told, or when a fake sleep asks it to.

Callable as a clock (``clock()``), and usable as esiframe's ``Clock`` through
:meth:`FakeClock.as_client_clock`: a sleep of N seconds moves time forward by N
at once, so waits of minutes take no real time. Concurrent sleeps add up, which
overstates the time waited: right for checking that limits are obeyed, wrong for
measuring rates (the benchmarks use real time for that).
"""

from __future__ import annotations

import threading

from esiframe.http import Clock

# A minute boundary in September 2026: after every compatibility date but 2026-08-18.
START = 60.0 * (1_790_000_000 // 60 + 1)


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now
        self._lock = threading.Lock()
        self.slept = 0.0
        self.longest = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        with self._lock:
            self.now += max(seconds, 0.0)
            self.slept += seconds
            self.longest = max(self.longest, seconds)
        return stop.is_set()

    def as_client_clock(self) -> Clock:
        return Clock(now=self, sleep=self.sleep)
