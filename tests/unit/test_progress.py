"""The progress bar: nothing for a quick call, a bar once the call outlives SHOW_AFTER.

The clock is fake and the bar a recorder, so these run without sockets, terminals or sleeps.
"""

from __future__ import annotations

from typing import Any

from fakeclock import FakeClock

from esiframe.progress import SHOW_AFTER, Progress


class RecordedBar:
    """A tqdm stand-in that keeps what it was told."""

    def __init__(self, description: str, total: int, done: int) -> None:
        self.description = description
        self.total: Any = total
        self.n = done
        self.postfix = ""
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class Bars:
    def __init__(self) -> None:
        self.made: list[RecordedBar] = []

    def __call__(self, description: str, total: int, done: int) -> RecordedBar:
        self.made.append(RecordedBar(description, total, done))
        return self.made[-1]


def progress(clock: FakeClock, bars: Bars, total: int = 3) -> Progress:
    """The default delay; the fake clock alone says when it has passed (the real-time timer
    only asks that clock, which stands still unless the test moves it)."""
    return Progress("GetThing", enabled=True, total=total, clock=clock, make_bar=bars)


def test_a_call_ending_within_half_a_second_makes_no_bar() -> None:
    clock, bars = FakeClock(), Bars()
    with progress(clock, bars) as bar:
        bar.status("ESI rate-limit group market: waiting for a first answer to learn what is left")
        bar.add_total(5)
        clock.advance(SHOW_AFTER - 0.01)
        bar.advance(8)
    assert bars.made == []


def test_the_bar_appears_once_due_with_the_counts_so_far() -> None:
    clock, bars = FakeClock(), Bars()
    with progress(clock, bars) as bar:
        bar.advance(2)
        bar.add_total(4)
        clock.advance(SHOW_AFTER)
        bar.advance()
        (shown,) = bars.made
        assert (shown.description, shown.total, shown.n) == ("GetThing", 7, 3)
        bar.add_total(1)
        bar.advance(2)
        assert (shown.total, shown.n) == (8, 5)
    assert shown.closed


def test_a_waiting_note_goes_once_an_answer_arrives() -> None:
    clock, bars = FakeClock(), Bars()
    with progress(clock, bars) as bar:
        note = "ESI rate-limit group market: waiting for a first answer to learn what is left"
        clock.advance(SHOW_AFTER)
        bar.status(note)
        (shown,) = bars.made
        assert shown.postfix == note
        bar.advance()
        assert shown.postfix == ""


def test_a_note_given_before_the_bar_shows_with_it() -> None:
    clock, bars = FakeClock(), Bars()
    with progress(clock, bars) as bar:
        bar.status("retrying in 2.0 s")
        clock.advance(SHOW_AFTER + 1)
        bar.add_total(0)
        assert bars.made[0].postfix == "retrying in 2.0 s"


def test_disabled_or_closed_makes_nothing() -> None:
    clock, bars = FakeClock(), Bars()
    with Progress("GetThing", enabled=False, clock=clock, make_bar=bars) as off:
        clock.advance(10)
        off.advance()
    closed = progress(clock, bars)
    closed.close()
    clock.advance(10)
    closed.advance()
    assert bars.made == []


def test_a_slow_first_request_is_shown_by_the_timer() -> None:
    """No event comes while the first request hangs: the timer makes the bar when due."""
    clock, bars = FakeClock(), Bars()
    bar = Progress("GetThing", enabled=True, total=1, clock=clock, make_bar=bars, delay=0.0)
    try:
        timer = bar._timer
        assert timer is not None
        timer.join(timeout=30)
        assert len(bars.made) == 1 and bars.made[0].n == 0
    finally:
        bar.close()
