"""ESI's rate limits as pure bookkeeping: how long must a request wait, and what did ESI say.

ESI enforces three kinds of limit and bans clients that ignore them:

* the **error limit** (docs/esi.md §4): at most 100 non-2xx/3xx answers per fixed window on
  routes without a rate-limit group, reported in ``X-ESI-Error-Limit-Remain/Reset``; 420 once
  spent. It is global to the client, and once spent ESI answers 420 on every route.
* **floating-window groups** (docs/esi.md §5): a token bucket per (group, owner); each answer
  costs tokens by status (2xx 2, 3xx 1, 4xx 5, 429 and 5xx 0) that come back one window after
  they were spent; ``X-Ratelimit-*`` headers, 429 with ``Retry-After`` when the bucket is empty.
* **hidden limits** (docs/esi.md §5.1): market history and corporation history allow a number
  of request starts per minute that the spec does not mention.

:class:`Limiter` keeps one ledger per limit and is shared by all threads of a client. It never
sleeps and never talks HTTP: :meth:`Limiter.acquire` either reserves room for a request or says
how long to wait, :meth:`Limiter.record` learns from the answer, :meth:`Limiter.release` hands
back the reservation of a request that got no answer. The caller sleeps (or raises).

A reservation is the worst an answer can cost (one error; 5 tokens), settled to the real cost
when the answer comes, so requests in flight can never overspend a budget together. ESI counts
per IP or character, not per process: given a :class:`SharedState` (``esiframe.ledger``), the
state lives there and every process on the machine decides on the same numbers. Each process's
reservations carry its holder id, so an answer settles only its own; a dead process's expire.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import itertools
import json
import math
import random
import re
import secrets
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "ERROR_LIMIT",
    "ERROR_WINDOW",
    "HIDDEN_WINDOW",
    "Limiter",
    "RouteLimit",
    "SharedState",
    "StateTransaction",
    "Wait",
    "backoff",
    "parse_rate_limit",
    "parse_window",
    "return_margin",
    "token_cost",
]

#: Errors ESI allows per error-limit window.
ERROR_LIMIT = 100
#: Length of the error-limit window when ESI did not say (a 420 without headers).
ERROR_WINDOW = 60.0
#: Seconds to wait after a 429 that carries no usable ``Retry-After``.
DEFAULT_RETRY_AFTER = 5.0
#: The sliding window of the hidden per-minute limits.
HIDDEN_WINDOW = 60.0
#: How often a request polls while a group's first answer is awaited.
FIRST_ANSWER_POLL = 0.05
#: A first request unanswered this long is taken as lost (its process died): another goes.
FIRST_ANSWER_WAIT = 60.0
#: Spent tokens and hidden-limit starts count as returned a little after ESI would return
#: them (1% of the window, at most this many seconds), so that a request sent right at a
#: window's edge never lands a moment too early.
RETURN_MARGIN = 1.0


def return_margin(window: float) -> float:
    """How much later than ESI a token spent in a ``window``-second window counts as back."""
    return min(RETURN_MARGIN, window / 100)


#: Tokens a request reserves before its status is known: what the worst answer, a 4xx, costs
#: (docs/esi.md §5). The answer settles it to the real cost.
_RESERVATION = 5

#: With a ledger, one step reserves up to this many requests of a group route at once (from a
#: bucket of 1,600 tokens or more, such as market orders' 12,000, less than half spent, each only
#: if it fits as its own acquire would): a walk's pages then queue on the ledger (shared by
#: every thread and process) once per this many requests instead of once each.
LEASE = 16
#: A reservation (or error-limit request in flight) not settled this long after it was made
#: counts as lost: its process died. Longer than any request's timeout.
STALE_AFTER = 300.0
#: How long to wait when only requests still in flight hold the error budget.
_IN_FLIGHT_POLL = 1.0
#: Error-limit answers whose reset lies this close together describe the same window.
_SAME_WINDOW = 2.0

_WINDOW_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_WINDOW_RE = re.compile(r"(\d+(?:\.\d+)?)([smh])")
_RATE_RE = re.compile(r"(\d+)/(.+)")

WaitKind = Literal["error-limit", "rate-limit", "hidden-limit", "retry-after", "learning"]


def parse_window(text: str) -> float:
    """Seconds in a window size as ESI writes it: ``"15m"`` → 900.0, ``"6s"``, ``"1h"``."""
    if not isinstance(text, str):
        raise TypeError(f"window size must be a string like '15m', not {type(text).__name__}")
    match = _WINDOW_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid window size {text!r}: expected a number and a unit s, m or h, "
            "like '6s', '15m' or '1h'"
        )
    seconds = float(match.group(1)) * _WINDOW_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"invalid window size {text!r}: it must be longer than zero")
    return seconds


def parse_rate_limit(value: str) -> tuple[int, float]:
    """Tokens and window seconds of an ``X-Ratelimit-Limit``: ``"150/15m"`` → (150, 900.0)."""
    if not isinstance(value, str):
        raise TypeError(f"X-Ratelimit-Limit must be a string like '150/15m', not {value!r}")
    match = _RATE_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(
            f"invalid X-Ratelimit-Limit {value!r}: expected '<tokens>/<window>', "
            "like '150/15m', '10/6s' or '1/1h'"
        )
    tokens = int(match.group(1))
    if tokens <= 0:
        raise ValueError(f"invalid X-Ratelimit-Limit {value!r}: tokens must be positive")
    return tokens, parse_window(match.group(2))


def token_cost(status: int) -> int:
    """Tokens an answer with this status takes from a rate-limit group (docs/esi.md §5)."""
    _check_status(status)
    if status < 300:
        return 2
    if status < 400:
        return 1
    if status < 500 and status != 429:
        return 5
    return 0


def backoff(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): exponential, full jitter.

    The ceiling doubles from ``base`` with every attempt up to ``cap``; the wait is drawn
    uniformly below it, so clients that failed together do not retry together.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be an integer >= 1, not {attempt!r}")
    if not base > 0:
        raise ValueError(f"base must be a positive number of seconds, not {base!r}")
    if not cap > 0:
        raise ValueError(f"cap must be a positive number of seconds, not {cap!r}")
    draw = rng()
    if not 0.0 <= draw <= 1.0:
        raise ValueError(f"rng must return a number in [0, 1], it returned {draw!r}")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 1000))
    return draw * ceiling


@dataclass(frozen=True)
class RouteLimit:
    """The limits a route is under.

    ``group`` names its floating-window bucket (with ``max_tokens`` per ``window`` seconds);
    ``None`` puts it under the error limit instead. ``per_minute`` adds a hidden limit on
    request starts per minute and owner.
    """

    group: str | None = None
    max_tokens: int | None = None
    window: float | None = None
    per_minute: int | None = None

    def __post_init__(self) -> None:
        if self.group is None:
            if self.max_tokens is not None or self.window is not None:
                raise ValueError(
                    "RouteLimit without a group is under the error limit and takes no "
                    f"max_tokens or window (got max_tokens={self.max_tokens!r}, "
                    f"window={self.window!r})"
                )
        else:
            if not isinstance(self.group, str) or not self.group:
                raise ValueError(f"group must be a non-empty string or None, not {self.group!r}")
            if not _is_positive_int(self.max_tokens):
                raise ValueError(
                    f"rate-limit group {self.group!r} needs max_tokens, a positive integer, "
                    f"not {self.max_tokens!r}"
                )
            window = self.window
            if isinstance(window, bool) or not isinstance(window, int | float) or not window > 0:
                raise ValueError(
                    f"rate-limit group {self.group!r} needs window, a positive number of "
                    f"seconds, not {window!r}"
                )
            object.__setattr__(self, "window", float(window))
        if self.per_minute is not None and not _is_positive_int(self.per_minute):
            raise ValueError(
                f"per_minute must be a positive integer or None, not {self.per_minute!r}"
            )

    @classmethod
    def from_spec(
        cls, x_rate_limit: Mapping[str, Any] | None, *, per_minute: int | None = None
    ) -> RouteLimit:
        """The limits of an operation from its ``x-rate-limit`` extension (``None``: none)."""
        if x_rate_limit is None:
            return cls(per_minute=per_minute)
        missing = [k for k in ("group", "max-tokens", "window-size") if k not in x_rate_limit]
        if missing:
            raise ValueError(
                f"x-rate-limit {dict(x_rate_limit)!r} lacks {', '.join(missing)}; expected "
                "{'group': ..., 'max-tokens': ..., 'window-size': '15m'}"
            )
        window = x_rate_limit["window-size"]
        seconds = parse_window(window) if isinstance(window, str) else window
        return cls(
            group=x_rate_limit["group"],
            max_tokens=x_rate_limit["max-tokens"],
            window=seconds,
            per_minute=per_minute,
        )


@dataclass(frozen=True)
class Wait:
    """A request must wait ``seconds`` before asking again; ``reason`` says why in words."""

    seconds: float
    kind: WaitKind
    reason: str
    state: Mapping[str, Any] = field(default_factory=dict)


class StateTransaction(Protocol):
    """One atomic read-modify-write of the shared limit state: JSON texts by key."""

    def read(self, keys: list[str] | None) -> dict[str, str]:
        """The stored texts of ``keys`` (every key when ``None``); absent keys are left out."""
        ...

    def write(self, values: Mapping[str, str]) -> None:
        """Store these texts, replacing what the keys held."""
        ...


class SharedState(Protocol):
    """Where the limits of every process on the machine meet (see ``esiframe.ledger.Ledger``).

    ``transaction()`` holds out every other process until it ends, so a read, the decision and
    the write that follows are one step for all of them.
    """

    def transaction(self) -> AbstractContextManager[StateTransaction]: ...


Holder = str  # who made a reservation: one Limiter, in one process


@dataclass
class _Bucket:
    """What one owner spent in one floating-window group, as ESI will count it."""

    spent: deque[tuple[float, int]] = field(default_factory=deque)
    spent_total: int = 0
    heard: bool = False  # an answer has said what this bucket really holds
    pending: deque[tuple[float, Holder]] = field(default_factory=deque)
    blocked_until: float = -math.inf

    def expire(self, now: float, window: float) -> None:
        window += return_margin(window)
        while self.spent and self.spent[0][0] + window <= now:
            self.spent_total -= self.spent.popleft()[1]
        lost = min(window, STALE_AFTER)
        while self.pending and self.pending[0][0] + lost <= now:
            self.pending.popleft()
        if not self.spent and not self.pending:
            self.heard = False  # a window idle: what ESI said is stale; one request goes first

    def used(self) -> int:
        return self.spent_total + _RESERVATION * len(self.pending)

    def spend(self, now: float, tokens: int) -> None:
        if tokens > 0:
            self.spent.append((now, tokens))
            self.spent_total += tokens

    def returns(self, window: float) -> Iterator[tuple[float, int]]:
        """(time, tokens) of every coming return of tokens, earliest first."""
        reservations = ((t, _RESERVATION) for t, _ in self.pending)
        for t, tokens in heapq.merge(self.spent, reservations):
            yield t + window + return_margin(window), tokens

    def dump(self) -> dict[str, Any]:
        return {
            "spent": _pack(itertools.chain.from_iterable(self.spent)),
            "heard": self.heard,
            "pending": list(self.pending),
            "blocked_until": _finite(self.blocked_until),
        }

    @classmethod
    def load(cls, data: Mapping[str, Any], now: float) -> _Bucket:
        pairs = _unpack(data["spent"])
        spent = deque(zip(_clamped(pairs[0::2], now), map(int, pairs[1::2]), strict=True))
        return cls(
            spent=spent,
            spent_total=int(sum(pairs[1::2])),
            heard=bool(data["heard"]),
            pending=_held(data["pending"], now),
            blocked_until=_infinite(data["blocked_until"]),
        )


@dataclass
class _Starts:
    """Request starts of one owner on hidden-limited routes, oldest first.

    A start still awaiting its answer names its holder; once answered it is dated by the
    answer, the latest moment ESI can have counted it (docs/esi.md §5.1).
    """

    times: deque[tuple[float, Holder]] = field(default_factory=deque)
    blocked_until: float = -math.inf

    def expire(self, now: float) -> None:
        while self.times and self.times[0][0] + HIDDEN_WINDOW + return_margin(HIDDEN_WINDOW) <= now:
            self.times.popleft()

    def answered(self, holder: Holder, now: float) -> None:
        if _pop_mine(self.times, holder):
            self.times.append((now, ""))

    def dump(self) -> dict[str, Any]:
        return {
            "times": _pack(t for t, _ in self.times),
            "open": {str(i): h for i, (_, h) in enumerate(self.times) if h},
            "blocked_until": _finite(self.blocked_until),
        }

    @classmethod
    def load(cls, data: Mapping[str, Any], now: float) -> _Starts:
        holders: Mapping[str, str] = data["open"]
        times = _clamped(_unpack(data["times"]), now)
        return cls(
            times=deque((t, holders.get(str(i), "")) for i, t in enumerate(times)),
            blocked_until=_infinite(data["blocked_until"]),
        )


@dataclass
class _ErrorBudget:
    """The error-limit window as the answers told it, and the requests in flight under it."""

    remain: int = field(default_factory=lambda: ERROR_LIMIT)
    reset_at: float | None = None
    guessed: bool = False  # reset_at was assumed, not said by ESI
    in_flight: deque[tuple[float, Holder]] = field(default_factory=deque)

    def expire(self, now: float) -> None:
        if self.reset_at is not None and now >= self.reset_at:
            self.remain, self.reset_at, self.guessed = ERROR_LIMIT, None, False
        while self.in_flight and self.in_flight[0][0] + STALE_AFTER <= now:
            self.in_flight.popleft()

    def dump(self) -> dict[str, Any]:
        return {
            "remain": self.remain,
            "reset_at": self.reset_at,
            "guessed": self.guessed,
            "in_flight": list(self.in_flight),
        }

    @classmethod
    def load(cls, data: Mapping[str, Any], now: float) -> _ErrorBudget:
        reset = data["reset_at"]
        return cls(
            remain=int(data["remain"]),
            reset_at=None if reset is None else float(reset),
            guessed=bool(data["guessed"]),
            in_flight=_held(data["in_flight"], now),
        )


class Limiter:
    """Every limit of one client, shared by its threads, and by other processes via ``ledger``.

    ``error_margin`` errors of the error budget are left unused, as room for answers still in
    flight and for clock differences. In a bucket, a request reserves what a 4xx would cost and
    is sent only if that fits in the bucket and a 2xx would leave ``token_margin`` tokens.

    With a ``ledger`` (a :class:`SharedState`, e.g. ``esiframe.ledger.Ledger`` in the cache
    directory) every call reads the state of its limits from it and writes it back in one
    transaction, so every process on the machine spends from the same budgets. The clock must
    then be the same for all of them: it defaults to wall-clock epoch seconds (``time.time``).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        error_margin: int = 5,
        token_margin: int = 2,
        ledger: SharedState | None = None,
    ) -> None:
        if isinstance(error_margin, bool) or not isinstance(error_margin, int):
            raise ValueError(f"error_margin must be an integer, not {error_margin!r}")
        if not 0 <= error_margin < ERROR_LIMIT:
            raise ValueError(f"error_margin must be between 0 and {ERROR_LIMIT - 1}")
        if isinstance(token_margin, bool) or not isinstance(token_margin, int) or token_margin < 0:
            raise ValueError(f"token_margin must be an integer >= 0, not {token_margin!r}")
        if ledger is not None and not callable(getattr(ledger, "transaction", None)):
            raise TypeError(f"ledger must have a transaction() method, not {ledger!r}")
        self._clock = clock if clock is not None else time.time if ledger else time.monotonic
        self._error_margin = error_margin
        self._token_margin = token_margin
        self._ledger = ledger
        self._holder: Holder = secrets.token_hex(8)
        self._lock = threading.Lock()
        #: Guards only the two lists below, so that taking a lease or deferring an answer
        #: never waits behind a ledger step (which holds ``_lock``). Never held while waiting
        #: for ``_lock``.
        self._quick = threading.Lock()
        self._refill = threading.Lock()  # one thread at a time takes a new lease
        self._errors = _ErrorBudget()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._learned: dict[str, tuple[int, float]] = {}
        self._starts: dict[str, _Starts] = {}
        #: Answers below 400 not yet settled in the ledger: route, owner, status, headers, time.
        self._deferred: list[tuple[RouteLimit, str, int, dict[str, str], float]] = []
        #: Reservations taken ahead by a step, per (group, owner): the route and how many left.
        self._leased: dict[tuple[str, str], tuple[RouteLimit, int]] = {}

    # -- the three calls of the HTTP layer -------------------------------------------------

    def acquire(self, route: RouteLimit, owner: str) -> Wait | None:
        """Reserve room for one request now (``None``), or say how long to wait first.

        With a ledger, one step on a group route reserves up to :data:`LEASE` requests that
        fit; the next acquires of this process take those without a step of their own.
        """
        _check_call(route, owner)
        if not self._leasable(route):
            return self._acquire_step(route, owner)
        with self._refill:  # threads that find the lease spent wait for one new lease
            if self._take_leased(route, owner):
                return None
            return self._acquire_step(route, owner)

    def _acquire_step(self, route: RouteLimit, owner: str) -> Wait | None:
        """One step of :meth:`acquire`: wait, or reserve (and lease, where that applies)."""
        with self._state(route, owner) as now:
            waits = [
                self._error_wait(now) if route.group is None else self._error_block_wait(now),
                self._bucket_wait(route, owner, now) if route.group is not None else None,
                self._hidden_wait(route, owner, now) if route.per_minute is not None else None,
            ]
            longest = max((w for w in waits if w is not None), key=_seconds, default=None)
            if longest is not None:
                return longest
            if route.group is None:
                self._errors.in_flight.append((now, self._holder))
            else:
                self._bucket(route.group, owner).pending.append((now, self._holder))
                self._lease(route, owner, now)
            if route.per_minute is not None:
                self._owner_starts(owner).times.append((now, self._holder))
            return None

    def _leasable(self, route: RouteLimit) -> bool:
        """Group routes without a hidden count, with a ledger: a reservation is one entry."""
        return self._ledger is not None and route.group is not None and route.per_minute is None

    def _take_leased(self, route: RouteLimit, owner: str) -> bool:
        """Use a reservation leased by an earlier step, if one is left (no ledger step)."""
        with self._quick:
            key = (str(route.group), owner)
            _, left = self._leased.get(key, (route, 0))
            if left <= 0:
                return False
            self._leased[key] = (route, left - 1)
            return True

    def _lease(self, route: RouteLimit, owner: str, now: float) -> None:
        """Reserve more requests of a heard group while each fits as an acquire would.

        Only from a large bucket (a lease is at most 1/20 of it), and only while it is less
        than half spent, so that a lease never takes room another process would have had.
        """
        if not self._leasable(route) or not self._heard(route, owner):
            return
        group = str(route.group)
        max_tokens, _ = self._limits(route, group)
        if max_tokens < 20 * LEASE * _RESERVATION:
            return
        bucket = self._bucket(group, owner)
        with self._quick:
            _, left = self._leased.get((group, owner), (route, 0))
            while (
                left < LEASE - 1
                and (bucket.used() + _RESERVATION) * 2 <= max_tokens
                and self._bucket_wait(route, owner, now) is None
            ):
                bucket.pending.append((now, self._holder))
                left += 1
            self._leased[(group, owner)] = (route, left)

    def _drop_leases(self) -> None:
        """Give back the leased reservations not used (end of a walk, or an error answer)."""
        with self._quick:
            dropped, self._leased = self._leased, {}
        for (group, owner), (_, left) in dropped.items():
            bucket = self._bucket(group, owner)
            for _ in range(left):
                _pop_mine(bucket.pending, self._holder)

    def release(self, route: RouteLimit, owner: str) -> None:
        """Give back the reservation of a request that got no answer.

        The start stays counted against a hidden limit: the request may have reached ESI.
        """
        _check_call(route, owner)
        with self._state(route, owner) as now:
            if route.group is None:
                _pop_mine(self._errors.in_flight, self._holder)
            else:
                _pop_mine(self._bucket(route.group, owner).pending, self._holder)
            if route.per_minute is not None:
                self._owner_starts(owner).answered(self._holder, now)

    def record(
        self, route: RouteLimit, owner: str, status: int, headers: Mapping[str, str]
    ) -> Wait | None:
        """Learn from ESI's answer; a :class:`Wait` before retrying a 420 or 429, else ``None``.

        With a ledger, an answer below 400 is settled in this process's next transaction (or
        :meth:`flush`), not one of its own: it costs at most what its reservation holds, so
        until then the ledger only over-counts. That halves the transactions of a walk, each
        of which every thread and process waits for.
        """
        _check_call(route, owner)
        _check_status(status)
        lower = {str(k).lower(): str(v) for k, v in headers.items()}
        if self._ledger is not None and status < 400:
            with self._quick:
                if self._heard(route, owner):  # a first answer is settled at once: others wait
                    self._deferred.append((route, owner, status, lower, self._clock()))
                    return None
        with self._state(route, owner) as now:
            self._settle(route, owner, status, lower, now)
            if status >= 400:
                self._drop_leases()  # errors change what fits: the next acquire decides anew
            if status == 420:
                return self._on_420(lower, now)
            if status == 429:
                return self._on_429(route, owner, lower, now)
            return None

    def _heard(self, route: RouteLimit, owner: str) -> bool:
        """Whether this process has settled an answer of ``route``'s group already."""
        if route.group is None:
            return True
        bucket = self._buckets.get((route.group, owner))
        return bucket is not None and bucket.heard

    def flush(self) -> None:
        """Settle the answers not yet settled and give back unused leases (after each walk)."""
        with self._quick:
            due = bool(self._deferred) or any(left for _, left in self._leased.values())
        if due:
            with self._state(None, None):  # settling deferred answers is part of every step
                self._drop_leases()

    def _settle(
        self, route: RouteLimit, owner: str, status: int, lower: Mapping[str, str], now: float
    ) -> None:
        """Replace the reservation of one answered request by what the answer taught."""
        if route.group is None:
            _pop_mine(self._errors.in_flight, self._holder)
        else:
            self._settle_bucket(route, route.group, owner, status, lower, now)
        if route.per_minute is not None:
            self._owner_starts(owner).answered(self._holder, now)
        self._learn_error_limit(route, status, lower, now)

    def snapshot(self) -> dict[str, Any]:
        """The state of every ledger now, as plain data (for ``df.attrs`` and error messages)."""
        with self._state(None, None) as now:
            groups = []
            for (group, owner), bucket in sorted(self._buckets.items()):
                max_tokens, window = self._learned.get(group, (0, 0.0))
                bucket.expire(now, window)
                groups.append(
                    {
                        "group": group,
                        "owner": owner,
                        "max_tokens": max_tokens,
                        "window": window,
                        "used": bucket.used(),
                        "remaining": max(0, max_tokens - bucket.used()),
                        "in_flight": len(bucket.pending),
                        "blocked_for": max(0.0, bucket.blocked_until - now),
                    }
                )
            hidden = []
            for owner, starts in sorted(self._starts.items()):
                starts.expire(now)
                hidden.append(
                    {
                        "owner": owner,
                        "window": HIDDEN_WINDOW,
                        "starts": len(starts.times),
                        "blocked_for": max(0.0, starts.blocked_until - now),
                    }
                )
            return {
                "error_limit": self._error_state(now),
                "groups": groups,
                "hidden": hidden,
            }

    # -- the shared state -------------------------------------------------------------------

    @contextlib.contextmanager
    def _state(self, route: RouteLimit | None, owner: str | None) -> Iterator[float]:
        """Hold the state of the limits of ``route`` (all of them for ``None``) for one step.

        Without a ledger that is the lock of this client's threads. With one, the step also
        runs inside a ledger transaction: the state is read before, written back after.
        """
        with self._lock:
            if self._ledger is None:
                now = self._clock()
                self._errors.expire(now)
                yield now
                return
            with self._ledger.transaction() as shared:
                now = self._clock()
                with self._quick:  # answers deferred from now on wait for the next step
                    late_answers, self._deferred = self._deferred, []
                    held = [(r, o) for (_, o), (r, _) in self._leased.items()]
                keys = None if route is None else _state_keys(route, owner or "")
                if keys is not None:  # and the keys of deferred answers and of leases
                    for other, who in [*held, *((r, o) for r, o, *_ in late_answers)]:
                        keys += [k for k in _state_keys(other, who) if k not in keys]
                self._load(shared.read(keys), keys, now)
                for late in late_answers:
                    self._settle(*late)
                self._errors.expire(now)
                yield now
                shared.write(self._dump(keys))

    def _load(self, texts: Mapping[str, str], keys: list[str] | None, now: float) -> None:
        """Take the stored state of ``keys`` (of everything stored for ``None``).

        Times later than ``now`` (the wall clock was set back) count as ``now``, so a clock
        change never holds back a limit for longer than its window.
        """
        for key in texts.keys() if keys is None else keys:
            text = texts.get(key)
            data = None if text is None else json.loads(text)
            kind, *names = json.loads(key)
            if kind == "error":
                self._errors = _ErrorBudget() if data is None else _ErrorBudget.load(data, now)
            elif kind == "learned":
                if data is None:
                    self._learned.pop(names[0], None)
                else:
                    self._learned[names[0]] = (int(data[0]), float(data[1]))
            elif kind == "bucket":
                self._buckets[(names[0], names[1])] = (
                    _Bucket() if data is None else _Bucket.load(data, now)
                )
            elif kind == "starts":
                self._starts[names[0]] = _Starts() if data is None else _Starts.load(data, now)

    def _dump(self, keys: list[str] | None) -> dict[str, str]:
        """The state to store: of ``keys``, or of everything this limiter holds."""
        if keys is None:
            keys = [_key("error")]
            keys += [_key("learned", group) for group in self._learned]
            keys += [_key("bucket", group, owner) for group, owner in self._buckets]
            keys += [_key("starts", owner) for owner in self._starts]
        texts = {}
        for key in keys:
            data = self._dump_one(key)
            if data is not None:
                texts[key] = json.dumps(data, separators=(",", ":"))
        return texts

    def _dump_one(self, key: str) -> Any:
        kind, *names = json.loads(key)
        if kind == "error":
            return self._errors.dump()
        if kind == "learned":
            limits = self._learned.get(names[0])
            return None if limits is None else list(limits)
        if kind == "bucket":
            bucket = self._buckets.get((names[0], names[1]))
            return None if bucket is None else bucket.dump()
        starts = self._starts.get(names[0])
        return None if starts is None else starts.dump()

    # -- error limit ------------------------------------------------------------------------

    def _error_state(self, now: float) -> dict[str, Any]:
        reset = self._errors.reset_at
        return {
            "limit": ERROR_LIMIT,
            "remain": self._errors.remain,
            "in_flight": len(self._errors.in_flight),
            "margin": self._error_margin,
            "reset_in": None if reset is None else max(0.0, reset - now),
        }

    def _error_wait(self, now: float) -> Wait | None:
        """Pause while the errors left could all be spent by requests already in flight."""
        remain, in_flight = self._errors.remain, len(self._errors.in_flight)
        if remain - in_flight > self._error_margin:
            return None
        reset = self._errors.reset_at
        if remain > self._error_margin:
            seconds = _IN_FLIGHT_POLL if reset is None else min(_IN_FLIGHT_POLL, reset - now)
            reason = (
                f"ESI error limit: {remain} of {ERROR_LIMIT} errors left and {in_flight} "
                f"requests in flight; waiting {seconds:.1f} s for them to finish"
            )
        else:
            # A spent budget always has a known reset: headers, a 420 or a local count set it.
            seconds = (reset if reset is not None else now + ERROR_WINDOW) - now
            reason = (
                f"ESI error limit: {remain} of {ERROR_LIMIT} errors left ({in_flight} requests "
                f"in flight, margin {self._error_margin}); waiting {seconds:.1f} s for the "
                "window to reset"
            )
        return Wait(seconds, "error-limit", reason, self._error_state(now) | {"wait": seconds})

    def _error_block_wait(self, now: float) -> Wait | None:
        """Routes with a group answer 420 too once the error budget is spent."""
        if self._errors.remain > 0 or self._errors.reset_at is None:
            return None
        seconds = self._errors.reset_at - now
        reason = (
            f"ESI error limit exhausted: every route answers 420 until the window resets; "
            f"waiting {seconds:.1f} s"
        )
        return Wait(seconds, "error-limit", reason, self._error_state(now) | {"wait": seconds})

    def _learn_error_limit(
        self, route: RouteLimit, status: int, headers: Mapping[str, str], now: float
    ) -> None:
        remain = _int_header(headers, "x-esi-error-limit-remain")
        reset = _float_header(headers, "x-esi-error-limit-reset")
        if remain is not None and reset is not None:
            reset_at = now + max(0.0, reset)
            current = self._errors.reset_at
            if current is None or self._errors.guessed or reset_at > current + _SAME_WINDOW:
                self._errors.remain, self._errors.reset_at = remain, reset_at
                self._errors.guessed = False
            else:
                # Answers of one window may arrive out of order: the lowest count is the newest.
                self._errors.remain = min(self._errors.remain, remain)
                self._errors.reset_at = max(current, reset_at)
        elif route.group is None and not 200 <= status < 400:
            self._errors.remain = max(0, self._errors.remain - 1)
            if self._errors.reset_at is None:
                self._errors.reset_at = now + ERROR_WINDOW
                self._errors.guessed = True

    def _on_420(self, headers: Mapping[str, str], now: float) -> Wait:
        reset = _float_header(headers, "x-esi-error-limit-reset")
        seconds = ERROR_WINDOW if reset is None else max(0.0, reset)
        self._errors.remain = 0
        self._errors.reset_at = now + seconds
        self._errors.guessed = reset is None
        said = "" if reset is not None else f" (no reset given; assuming {ERROR_WINDOW:.0f} s)"
        reason = (
            f"ESI error limit exhausted (HTTP 420){said}; waiting {seconds:.1f} s for the "
            "window to reset"
        )
        return Wait(seconds, "error-limit", reason, self._error_state(now) | {"status": 420})

    # -- floating-window groups -------------------------------------------------------------

    def _limits(self, route: RouteLimit, group: str) -> tuple[int, float]:
        if group not in self._learned:
            assert route.max_tokens is not None and route.window is not None
            self._learned[group] = (route.max_tokens, route.window)
        return self._learned[group]

    def _bucket(self, group: str, owner: str) -> _Bucket:
        return self._buckets.setdefault((group, owner), _Bucket())

    def _bucket_wait(self, route: RouteLimit, owner: str, now: float) -> Wait | None:
        group = route.group
        assert group is not None
        max_tokens, window = self._limits(route, group)
        bucket = self._bucket(group, owner)
        bucket.expire(now, window)
        used = bucket.used()
        state = {
            "group": group,
            "owner": owner,
            "max_tokens": max_tokens,
            "window": window,
            "used": used,
            "remaining": max(0, max_tokens - used),
            "in_flight": len(bucket.pending),
        }
        if now < bucket.blocked_until:
            seconds = bucket.blocked_until - now
            reason = (
                f"ESI rate-limit group {group}: answered 429 earlier; waiting {seconds:.1f} s "
                "more as Retry-After asked"
            )
            return Wait(seconds, "rate-limit", reason, state | {"wait": seconds})
        if not bucket.heard and any(now - t < FIRST_ANSWER_WAIT for t, _ in bucket.pending):
            # Until ESI has answered once, the spec's max_tokens is a guess: the bucket may be
            # smaller, or partly spent by another program. One request goes first.
            reason = (
                f"ESI rate-limit group {group}: waiting for a first answer to learn what is left"
            )
            return Wait(FIRST_ANSWER_POLL, "learning", reason, state)
        # A request fits if a 2xx keeps the margin free and even a 4xx stays within the bucket.
        expected = token_cost(200)
        excess = max(
            used + expected - max(max_tokens - self._token_margin, expected),
            used + min(_RESERVATION, max_tokens) - max_tokens,
        )
        if excess <= 0:
            return None
        freed = 0
        seconds = window
        for back_at, tokens in bucket.returns(window):
            freed += tokens
            if freed >= excess:
                seconds = back_at - now
                break
        reason = (
            f"ESI rate-limit group {group}: {max(0, max_tokens - used)} of {max_tokens} tokens "
            f"left; waiting {seconds:.1f} s"
        )
        return Wait(seconds, "rate-limit", reason, state | {"wait": seconds})

    def _settle_bucket(
        self,
        route: RouteLimit,
        group: str,
        owner: str,
        status: int,
        headers: Mapping[str, str],
        now: float,
    ) -> None:
        """Replace the reservation by what the answer cost, and believe ESI's own count."""
        said_group = headers.get("x-ratelimit-group")
        mine = said_group is None or said_group.strip() == group
        limit = headers.get("x-ratelimit-limit")
        if mine and limit is not None:
            with contextlib.suppress(ValueError):
                self._learned[group] = parse_rate_limit(limit)
        max_tokens, window = self._limits(route, group)
        bucket = self._bucket(group, owner)
        bucket.expire(now, window)
        bucket.heard = True
        _pop_mine(bucket.pending, self._holder)
        cost = _int_header(headers, "x-ratelimit-used") if mine else None
        bucket.spend(now, token_cost(status) if cost is None else cost)
        remaining = _int_header(headers, "x-ratelimit-remaining") if mine else None
        if remaining is not None and status != 429:
            believed = max_tokens - bucket.used()
            if remaining < believed:
                # Someone else spends from the same bucket (another program, another machine).
                bucket.spend(now, believed - max(0, remaining))

    def _on_429(
        self, route: RouteLimit, owner: str, headers: Mapping[str, str], now: float
    ) -> Wait:
        retry = _retry_after(headers)
        seconds = DEFAULT_RETRY_AFTER if retry is None else retry
        if route.group is not None:
            bucket = self._bucket(route.group, owner)
            bucket.blocked_until = max(bucket.blocked_until, now + seconds)
            where = f"ESI rate-limit group {route.group}"
        else:
            where = "ESI (a limit without rate-limit headers)"
        if route.per_minute is not None:
            starts = self._owner_starts(owner)
            starts.blocked_until = max(starts.blocked_until, now + seconds)
        how = "as Retry-After asks" if retry is not None else "(no Retry-After; the default)"
        reason = f"{where} answered HTTP 429; retrying after {seconds:.1f} s {how}"
        state = {"status": 429, "group": route.group, "owner": owner, "retry_after": seconds}
        return Wait(seconds, "retry-after", reason, state)

    # -- hidden limits ----------------------------------------------------------------------

    def _owner_starts(self, owner: str) -> _Starts:
        return self._starts.setdefault(owner, _Starts())

    def _hidden_wait(self, route: RouteLimit, owner: str, now: float) -> Wait | None:
        assert route.per_minute is not None
        limit = route.per_minute
        starts = self._owner_starts(owner)
        starts.expire(now)
        count = len(starts.times)
        state = {"owner": owner, "per_minute": limit, "starts": count}
        if now < starts.blocked_until:
            seconds = starts.blocked_until - now
            reason = f"ESI answered 429 on a route limited to {limit} requests per minute; "
            reason += f"waiting {seconds:.1f} s more"
            return Wait(seconds, "hidden-limit", reason, state | {"wait": seconds})
        if count < limit:
            return None
        seconds = (
            starts.times[count - limit][0] + HIDDEN_WINDOW + return_margin(HIDDEN_WINDOW) - now
        )
        reason = (
            f"ESI hidden limit of {limit} requests per minute: {count} started in the last "
            f"{HIDDEN_WINDOW:.0f} s; waiting {seconds:.1f} s"
        )
        return Wait(seconds, "hidden-limit", reason, state | {"wait": seconds})


def _key(*names: str) -> str:
    """The ledger key of one piece of state: ``["bucket", group, owner]`` as JSON text."""
    return json.dumps(list(names))


def _state_keys(route: RouteLimit, owner: str) -> list[str]:
    """The ledger keys a call on ``route`` for ``owner`` reads and writes."""
    keys = [_key("error")]
    if route.group is not None:
        keys += [_key("learned", route.group), _key("bucket", route.group, owner)]
    if route.per_minute is not None:
        keys.append(_key("starts", owner))
    return keys


def _pop_mine(entries: deque[tuple[float, Holder]], holder: Holder) -> bool:
    """Remove the oldest entry of ``holder``; False when it has none (expired as stale)."""
    for index, (_, who) in enumerate(entries):
        if who == holder:
            del entries[index]
            return True
    return False


def _held(entries: list[list[Any]], now: float) -> deque[tuple[float, Holder]]:
    """Stored ``[time, holder]`` pairs, none later than ``now``."""
    return deque((min(float(t), now), str(h)) for t, h in entries)


def _pack(values: Iterable[float]) -> str:
    """Floats as base64 of their doubles: long lists of times load in microseconds.

    The ledger is local to one machine, so the machine's byte order is everyone's.
    """
    return base64.b64encode(array("d", values).tobytes()).decode("ascii")


def _unpack(text: str) -> array[float]:
    values = array("d")
    values.frombytes(base64.b64decode(text))
    return values


def _clamped(times: array[float], now: float) -> Iterable[float]:
    """Times sorted oldest first, none later than ``now``."""
    if times and times[-1] > now:
        return (min(t, now) for t in times)
    return times


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _infinite(value: float | None) -> float:
    return -math.inf if value is None else float(value)


def _seconds(wait: Wait) -> float:
    return wait.seconds


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_status(status: int) -> None:
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"status must be a final HTTP status code from 200 to 599, not {status!r}")


def _check_call(route: RouteLimit, owner: str) -> None:
    if not isinstance(route, RouteLimit):
        raise TypeError(f"route must be a RouteLimit, not {type(route).__name__}")
    if not isinstance(owner, str):
        raise TypeError(f"owner must be a string (IP or application:character), not {owner!r}")


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header, or ``None`` when absent or malformed (nothing to learn then)."""
    try:
        return int(headers[name].strip())
    except (KeyError, ValueError):
        return None


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        value = float(headers[name].strip())
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds in ``Retry-After``: a number, or an HTTP date read against the ``Date`` header."""
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float_header(headers, "retry-after")
    if seconds is not None:
        return max(0.0, seconds)
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(headers["date"])
        return max(0.0, (until - sent).total_seconds())
    except (KeyError, TypeError, ValueError):
        return None
