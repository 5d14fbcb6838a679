"""Limits, retries and faults against the sandbox: never banned, nothing lost.

Where waits are long (ESI's windows are minutes), the sandbox and the client
share one fake clock: a wait moves it forward at once, so the suite stays fast
while both sides still see the same time.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pandas as pd
import pytest
from fakeclock import FakeClock

from esiframe.errors import RateLimitedError
from esiframe.sandbox import Faults, SandboxLimits
from esiframe.sandbox.data import Sizes

SMALL = Sizes(
    page_size=100,
    forge_order_pages=300,
    region_order_pages=3,
    history_days=30,
    list_pages=2,
    cursor_records=60,
    wallet_transactions=120,
)


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def on_fake_time(esi_sandbox_factory, make_client, fake):
    """(sandbox, client) on the shared fake clock; sandbox kwargs pass through."""

    def build(client_settings=None, **sandbox_kwargs):
        sandbox_kwargs.setdefault("sizes", SMALL)
        sandbox = esi_sandbox_factory(limits=SandboxLimits(clock=fake), **sandbox_kwargs)
        client = make_client(
            sandbox, cache=False, clock=fake.as_client_clock(), **(client_settings or {})
        )
        return sandbox, client

    return build


def test_a_300_page_walk_rides_out_5xx_and_dropped_connections(on_fake_time):
    sandbox, client = on_fake_time(client_settings={"retries": 8})
    clean = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert clean.attrs["esi"]["pages"] == 300
    sandbox.log.clear()
    sandbox.faults.error_rate = 0.10
    sandbox.faults.drop_rate = 0.03
    sandbox.faults.cut_rate = 0.03
    faulty = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    pd.testing.assert_frame_equal(faulty, clean)
    statuses = [entry.status for entry in sandbox.log]
    server_errors = sum(1 for s in statuses if s is not None and s >= 500)
    dropped = statuses.count(None)
    assert server_errors >= 10  # faults really happened,
    assert dropped >= 1  # connections really dropped before an answer,
    assert len(statuses) - 300 - server_errors - dropped >= 1  # and answers were cut short


def test_150_errors_in_a_fan_out_never_trip_the_error_limit(on_fake_time, fake):
    sandbox, client = on_fake_time()
    good = [34, 35, 36]
    bad = list(range(900_001, 900_151))  # no such types: 150 x 404 on an error-limited route
    df = client.get("GetUniverseTypesTypeId", type_id=good + bad, errors="skip")
    assert sandbox.log.count(status=420) == 0
    assert sandbox.log.count(status=404) == 150
    assert sorted(f["params"]["type_id"] for f in df.attrs["esi"]["errors"]) == bad
    assert sorted(df["type_id"]) == good
    assert fake.slept > 0  # it paused for the window to reset instead of spending the 100th error


def test_a_small_group_under_three_times_the_demand_gets_no_429(esi_sandbox_factory, make_client):
    # Real time with a 2-second window: a fake clock cannot model requests in flight while
    # another thread's wait jumps time forward by a whole window.
    sandbox = esi_sandbox_factory(
        sizes=SMALL,
        limits=SandboxLimits(group_window=2.0),
        faults=Faults(group_max_tokens={"market-order": 10}),
    )
    client = make_client(sandbox, cache=False)
    types = list(range(34, 49))  # 15 requests x 2 tokens = 3 x the group's 10 tokens
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=types)
    assert sandbox.log.count(status=429) == 0
    assert sandbox.log.count(status=200) == 15
    assert set(df["type_id"]) == set(types)


def test_429s_without_headers_are_waited_out(on_fake_time, fake):
    sandbox, client = on_fake_time(faults=Faults(bare_429_rate=0.3, seed=7))
    types = list(range(34, 64))
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=types)
    assert sandbox.log.count(status=429) > 0
    assert set(df["type_id"]) == set(types)
    assert fake.longest >= 1  # the sandbox's Retry-After: 1


def test_market_history_for_400_types_stays_under_300_a_minute(on_fake_time):
    sandbox, client = on_fake_time()
    df = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=list(range(1, 401)))
    assert sandbox.log.count(status=500) == 0
    assert df["type_id"].nunique() == 400
    starts = sorted(entry.time for entry in sandbox.log)
    busiest = max(sum(1 for t in starts[i:] if t < start + 60) for i, start in enumerate(starts))
    assert busiest <= 300


def test_on_limit_raise_raises_with_the_limit_state(on_fake_time):
    sandbox, client = on_fake_time(
        client_settings={"max_workers": 1}, faults=Faults(group_max_tokens={"market-order": 6})
    )
    with pytest.raises(RateLimitedError) as info:
        client.get(
            "GetMarketsRegionIdOrders",
            region_id=10000002,
            type_id=list(range(34, 44)),
            on_limit="raise",
        )
    state = info.value.state
    assert state["kind"] == "rate-limit" and state["seconds"] > 0
    assert "market-order" in str(info.value)
    assert sandbox.log.count(status=429) == 0


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_during_a_walk_returns_nothing_and_leaves_the_cache_usable(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL, faults=Faults(latency=0.02))
    client = make_client(sandbox, max_workers=2)
    timer = _interrupt_after(0.5)
    with pytest.raises(KeyboardInterrupt):
        client.get("GetMarketsRegionIdOrders", region_id=10000002)
    timer.join()
    answered = len(sandbox.log)
    assert 0 < answered < 300
    time.sleep(0.2)
    assert len(sandbox.log) == answered  # nothing kept running behind the user's back
    sandbox.faults.latency = 0.0
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    params = {"region_id": "10000002", "order_type": "all"}
    expected = sum(
        len(sandbox.dataset.page("GetMarketsRegionIdOrders", params, n)) for n in range(1, 301)
    )
    assert len(df) == expected and df["order_id"].is_unique
    assert df.attrs["esi"]["cache"]["cache"] > 0  # pages stored before the interrupt are reused


def test_ctrl_c_during_a_rate_limit_wait_stops_promptly(esi_sandbox_factory, make_client):
    # 8 tokens: two answers of 2, then the third request (it may cost 5) waits ~15 minutes
    sandbox = esi_sandbox_factory(sizes=SMALL, faults=Faults(group_max_tokens={"market-order": 8}))
    client = make_client(sandbox, cache=False, max_workers=1)
    timer = _interrupt_after(0.5)  # the third request would wait ~15 minutes for tokens
    with pytest.raises(KeyboardInterrupt):
        client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=[34, 35, 36, 37])
    timer.join()
    assert sandbox.log.count(status=200) == 2


def test_ctrl_c_stops_at_once_while_requests_hang(esi_sandbox_factory, make_client):
    # Every answer takes 3 s: when Ctrl-C arrives, all requests are still on the wire.
    sandbox = esi_sandbox_factory(sizes=SMALL, faults=Faults(latency=3.0))
    client = make_client(sandbox, cache=False, max_workers=2)
    timer = _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=[34, 35, 36])
    timer.join()
    # get gave up without waiting for the hung requests: none had been answered yet
    assert len(sandbox.log) == 0


def test_every_wait_is_logged_on_the_esiframe_logger(on_fake_time, caplog):
    caplog.set_level("INFO", logger="esiframe")
    _, client = on_fake_time(
        faults=Faults(group_max_tokens={"market-order": 6}), client_settings={"max_workers": 1}
    )
    client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=[34, 35, 36, 37])
    waits = [r.getMessage() for r in caplog.records if r.name == "esiframe"]
    assert waits and all("market-order" in w and "waiting" in w for w in waits)


def test_market_history_over_its_hidden_limit_waits_a_minute(
    esi_sandbox_factory, make_client, fake
):
    # ESI's own 300/min for history, shrunk to 3: its 500s mean "wait a minute" (docs/esi.md §5.1)
    sandbox = esi_sandbox_factory(
        sizes=SMALL, limits=SandboxLimits(clock=fake, history_per_minute=3)
    )
    client = make_client(sandbox, cache=False, clock=fake.as_client_clock())
    df = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=[34, 35, 36, 37, 38])
    assert df["type_id"].nunique() == 5
    assert sandbox.log.count(status=500) >= 1
    assert fake.slept >= 60


def test_answers_fresh_in_the_cache_never_wait_for_limits(esi_sandbox_factory, make_client):
    fake = FakeClock(time.time())  # the cache judges Expires by the real date
    sandbox = esi_sandbox_factory(
        sizes=SMALL,
        limits=SandboxLimits(clock=fake),
        faults=Faults(group_max_tokens={"market-order": 6}),
    )
    client = make_client(sandbox, clock=fake.as_client_clock(), max_workers=1)
    types = [34, 35]  # 4 tokens: all the group lets a client spend (6, less a margin of 2)
    client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=types)
    before, slept = len(sandbox.log), fake.slept
    # Another form of the same data: not the finished frame in memory, but the same cached
    # answers on disk, which no request needs and no token pays for.
    again = client.get(
        "GetMarketsRegionIdOrders", region_id=10000002, type_id=types, dtype_backend="pyarrow"
    )
    assert sorted(set(again["type_id"])) == types
    assert len(sandbox.log) == before
    assert fake.slept == slept  # no wait for tokens that no request would spend


def test_threads_waiting_on_one_limit_announce_it_once(esi_sandbox_factory, make_client, caplog):
    # Real time (a 2 s window): threads waiting together must overlap as they really do.
    caplog.set_level("DEBUG", logger="esiframe")
    sandbox = esi_sandbox_factory(
        sizes=SMALL,
        limits=SandboxLimits(group_window=2.0),
        faults=Faults(group_max_tokens={"market-order": 6}),
    )
    client = make_client(sandbox, cache=False, max_workers=8)
    client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=list(range(34, 42)))
    waits = [r for r in caplog.records if r.name == "esiframe" and "market-order" in r.getMessage()]
    announced = [r for r in waits if r.levelno >= logging.INFO]
    assert announced and len(announced) < len(waits)  # the others were told at DEBUG only
