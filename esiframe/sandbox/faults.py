"""Fault injection and limit settings of the sandbox, and the limit bookkeeping behind them.

`Faults` makes the sandbox misbehave on purpose (latency, 5xx, dropped connections, data refreshed
mid-walk, deep-server 429s); tests flip its fields between calls. `SandboxLimits` sets ESI's limits
(error window, floating-window groups, the market history hidden limit, cache times), shrunk in
tests. The bookkeeping classes (`ErrorLimit`, `TokenBuckets`, `SlidingCounter`, `RefreshTrigger`)
are pure, thread-safe and driven by an injectable clock, so they are testable without sockets.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Admission",
    "ErrorLimit",
    "Faults",
    "RefreshTrigger",
    "SandboxLimits",
    "SlidingCounter",
    "TokenBuckets",
    "token_cost",
]

_RATE_FIELDS = ("error_rate", "drop_rate", "cut_rate", "bare_429_rate", "hang_rate")
_COUNT_FIELDS = ("refresh_after", "refresh_every", "pages_after_refresh")


@dataclass
class Faults:
    """Deliberate misbehaviour; every fault is off by default and may be changed at run time.

    - ``latency``: seconds added before each request is answered.
    - ``error_rate``: fraction of ESI requests answered 500/502/503/504 with ``{"error": ...}``.
    - ``drop_rate``: fraction of requests whose connection is closed without any response.
    - ``cut_rate``: fraction of answers cut off: full headers, half the body, then the
      connection closes (a connection lost in the middle of an answer).
    - ``refresh_after``: refresh the data once after this many X-Pages page requests (counted from
      when the value was set), simulating ESI refreshing its cache in the middle of a walk.
    - ``refresh_every``: refresh after every this many X-Pages page requests (walks never agree).
    - ``group_max_tokens``: per rate-limit group, a max-tokens replacing the spec's.
    - ``bare_429_rate``: fraction of ESI requests answered 429 with ``Retry-After`` but without
      ``X-Ratelimit-*`` headers, like ESI's limiters deep in the game server.
    - ``hang_rate``: fraction of requests that get no answer at all until the sandbox is stopped
      or `Sandbox.release_hung` is called (a hung server, for Ctrl-C tests).
    - ``pages_after_refresh``: once the data has been refreshed (generation > 0), X-Pages routes
      have at most this many pages: with ``refresh_after`` a walk sees ``X-Pages`` shrink midway
      and the pages past the new end answer 404.
    - ``seed``: seeds the dice, so runs are reproducible (re-seeded when assigned).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    cut_rate: float = 0.0
    refresh_after: int | None = None
    refresh_every: int | None = None
    group_max_tokens: dict[str, int] = field(default_factory=dict)
    bare_429_rate: float = 0.0
    hang_rate: float = 0.0
    pages_after_refresh: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def __setattr__(self, name: str, value: Any) -> None:
        _check_fault(name, value)
        object.__setattr__(self, name, value)
        if name == "seed" and "_lock" in self.__dict__:
            with self._lock:
                self._rng.seed(value)

    def roll(self, rate: float) -> bool:
        """True with probability ``rate``, drawn from the seeded dice."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def pick(self, choices: tuple[int, ...]) -> int:
        """One of ``choices``, drawn from the seeded dice."""
        with self._lock:
            return self._rng.choice(choices)


def _check_fault(name: str, value: Any) -> None:
    if name == "latency":
        if not _is_number(value) or value < 0:
            raise ValueError(f"Faults.latency must be a number of seconds >= 0, got {value!r}")
    elif name in _RATE_FIELDS:
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"Faults.{name} must be a fraction between 0 and 1, got {value!r}")
    elif name in _COUNT_FIELDS:
        if value is not None and (not _is_int(value) or value < 1):
            raise ValueError(f"Faults.{name} must be None or an integer >= 1, got {value!r}")
    elif name == "group_max_tokens":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and _is_int(v) and v >= 0 for k, v in value.items()
        ):
            raise ValueError(
                "Faults.group_max_tokens must be a dict of group name -> integer >= 0, "
                f"got {value!r}"
            )
    elif name == "seed" and not _is_int(value):
        raise ValueError(f"Faults.seed must be an integer, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class SandboxLimits:
    """ESI's limits as the sandbox enforces them; shrink them in tests.

    - ``error_limit`` errors per fixed ``error_window`` seconds on routes without ``x-rate-limit``
      (windows are aligned to multiples of ``error_window`` on the clock, as ESI's minute windows).
    - ``group_window``: the floating window of every rate-limit group in seconds; None uses the
      spec's ``window-size`` (15m).
    - ``history_per_minute`` requests per owner within ``history_window`` seconds on
      /markets/{region_id}/history before it answers 500.
    - ``cache_seconds``: cache time of every route; None uses the spec's ``x-cache-age`` (or
      ``x-client-cache-ttl``; 300 s when neither is given) and, for routes whose description says
      "expires daily at HH:MM", the next such time in UTC.
    - ``tombstone_ttl``: seconds a cursor token stays valid on cursor routes; None uses the
      route's ``x-tombstone-ttl`` (tokens never expire when it has none).
    - ``clock``: seconds since the Unix epoch; it times the windows and dates Last-Modified and
      Expires, so a test can inject a fake one.
    """

    error_limit: int = 100
    error_window: float = 60.0
    group_window: float | None = None
    history_per_minute: int = 300
    history_window: float = 60.0
    cache_seconds: float | None = None
    tombstone_ttl: float | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        for name in ("error_limit", "history_per_minute"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"SandboxLimits.{name} must be an integer >= 1, got {value!r}")
        for name in ("error_window", "history_window"):
            value = getattr(self, name)
            if not _is_number(value) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be seconds > 0, got {value!r}")
        for name in ("group_window", "cache_seconds", "tombstone_ttl"):
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or value <= 0):
                raise ValueError(f"SandboxLimits.{name} must be None or seconds > 0, got {value!r}")
        if not callable(self.clock):
            raise ValueError(f"SandboxLimits.clock must be a callable, got {self.clock!r}")


def token_cost(status: int) -> int:
    """Tokens a response of this status spends in a floating-window group (docs/esi.md §5)."""
    if status == 429:
        return 0
    if 200 <= status < 300:
        return 2
    if 300 <= status < 400:
        return 1
    if 400 <= status < 500:
        return 5
    return 0


class ErrorLimit:
    """ESI's legacy error limit: ``limit`` errors per fixed window, then 420 everywhere."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._window_index = -1
        self._spent = 0

    def _roll(self) -> float:
        now = self._clock()
        index = math.floor(now / self._window)
        if index != self._window_index:
            self._window_index = index
            self._spent = 0
        return (index + 1) * self._window - now

    def state(self) -> tuple[int, int]:
        """(errors remaining, whole seconds until the window resets)."""
        with self._lock:
            left = self._roll()
            return self._limit - self._spent, max(1, math.ceil(left))

    def exhausted(self) -> bool:
        with self._lock:
            self._roll()
            return self._spent >= self._limit

    def spend(self) -> None:
        with self._lock:
            self._roll()
            self._spent = min(self._limit, self._spent + 1)


@dataclass
class Admission:
    """The outcome of asking a floating-window bucket for a request's tokens."""

    admitted: bool
    max_tokens: int
    retry_after: int = 0
    entry: list[float] | None = None
    key: tuple[str, str] = ("", "")


class TokenBuckets:
    """Floating-window token buckets per (group, owner): tokens come back ``window`` s after use.

    `admit` reserves 2 tokens (the cost of a 2xx) when at least 2 are left; `settle` replaces the
    reservation by the real cost of the answer and reports what is left.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._spent: dict[tuple[str, str], deque[list[float]]] = {}

    def _used(self, entries: deque[list[float]], now: float) -> float:
        while entries and entries[0][0] <= now:
            entries.popleft()
        return sum(entry[1] for entry in entries)

    def admit(self, group: str, owner: str, max_tokens: int, window: float) -> Admission:
        key = (group, owner)
        with self._lock:
            now = self._clock()
            entries = self._spent.setdefault(key, deque())
            used = self._used(entries, now)
            if max_tokens - used >= 2:
                entry = [now + window, 2.0]
                entries.append(entry)
                return Admission(True, max_tokens, entry=entry, key=key)
            return Admission(
                False, max_tokens, retry_after=self._retry_after(entries, used, max_tokens, now)
            )

    @staticmethod
    def _retry_after(entries: deque[list[float]], used: float, max_tokens: int, now: float) -> int:
        if max_tokens < 2:
            return max(1, math.ceil(entries[-1][0] - now)) if entries else 1
        for expiry, cost in entries:
            used -= cost
            if max_tokens - used >= 2:
                return max(1, math.ceil(expiry - now))
        return 1

    def settle(self, admission: Admission, status: int) -> int:
        """Charge the real cost of ``status``; returns the tokens remaining."""
        with self._lock:
            if admission.entry is not None:
                admission.entry[1] = float(token_cost(status))
            return self.remaining_locked(admission.key, admission.max_tokens)

    def remaining(self, group: str, owner: str, max_tokens: int) -> int:
        with self._lock:
            return self.remaining_locked((group, owner), max_tokens)

    def remaining_locked(self, key: tuple[str, str], max_tokens: int) -> int:
        entries = self._spent.get(key)
        used = self._used(entries, self._clock()) if entries else 0.0
        return max(0, int(max_tokens - used))


class SlidingCounter:
    """At most ``limit`` admitted events per owner within any ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}

    def admit(self, owner: str) -> bool:
        with self._lock:
            now = self._clock()
            events = self._events.setdefault(owner, deque())
            while events and events[0] <= now - self._window:
                events.popleft()
            if len(events) >= self._limit:
                return False
            events.append(now)
            return True


class RefreshTrigger:
    """Counts X-Pages page requests and says when `Faults.refresh_after`/`refresh_every` fire.

    Counting restarts whenever either setting changes, so a test can arm it between calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[int | None, int | None] = (None, None)
        self._count = 0
        self._fired_once = False

    def page_served(self, faults: Faults) -> bool:
        """Note one page request; True when the data should refresh now."""
        settings = (faults.refresh_after, faults.refresh_every)
        with self._lock:
            if settings != self._armed:
                self._armed = settings
                self._count = 0
                self._fired_once = False
            if settings == (None, None):
                return False
            self._count += 1
            after, every = settings
            fire = False
            if after is not None and not self._fired_once and self._count >= after:
                self._fired_once = True
                fire = True
            if every is not None and self._count % every == 0:
                fire = True
            return fire
