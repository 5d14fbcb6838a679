"""Benchmark: 300,000 market orders -> typed DataFrame, against the usual hand-rolled way.

Run ``python tests/benchmarks/bench_frames.py [n_records]``. The baseline is what
users write today: ``pd.DataFrame(records)`` plus parsing ``issued``. Timings vary
from machine to machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from esiframe.frames import to_frame
from esiframe.spec import bundled_spec

__all__ = ["baseline", "generate_orders", "main", "median_seconds"]

_RANGES = ["station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40"]
_START = datetime(2026, 8, 1, tzinfo=UTC)


def generate_orders(n: int, seed: int = 34) -> list[dict[str, Any]]:
    """``n`` plausible GetMarketsRegionIdOrders records, the same for the same seed."""
    rng = random.Random(seed)
    orders = []
    for i in range(n):
        issued = _START + timedelta(seconds=rng.randrange(90 * 86400))
        total = rng.randrange(1, 100_000)
        orders.append(
            {
                "duration": rng.choice([1, 3, 7, 14, 30, 90]),
                "is_buy_order": rng.random() < 0.45,
                "issued": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "location_id": 60_000_000 + rng.randrange(20_000),
                "min_volume": 1,
                "order_id": 6_000_000_000 + i,
                "price": round(rng.lognormvariate(9, 3), 2),
                "range": rng.choice(_RANGES),
                "system_id": 30_000_000 + rng.randrange(8_000),
                "type_id": rng.randrange(18, 60_000),
                "volume_remain": rng.randrange(1, total + 1),
                "volume_total": total,
            }
        )
    return orders


def baseline(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The hand-rolled way: let pandas guess, then fix the one column everybody fixes."""
    df = pd.DataFrame(records)
    df["issued"] = pd.to_datetime(df["issued"], utc=True)
    return df


def median_seconds(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(n: int = 300_000, runs: int = 5) -> dict[str, float]:
    """Print and return the median seconds of each way, and their ratio."""
    response = bundled_spec().operation("GetMarketsRegionIdOrders").response_schema
    assert response is not None
    schema: Mapping[str, Any] = response["items"]
    records = generate_orders(n)
    results = {
        "to_frame (numpy_nullable)": median_seconds(lambda: to_frame(records, schema), runs),
        "to_frame (pyarrow)": median_seconds(
            lambda: to_frame(records, schema, dtype_backend="pyarrow"), runs
        ),
        "pd.DataFrame + to_datetime": median_seconds(lambda: baseline(records), runs),
    }
    base = results["pd.DataFrame + to_datetime"]
    print(f"{n:,} market orders, median of {runs} runs")
    print(f"{'method':<30} {'seconds':>8} {'vs baseline':>12}")
    for name, seconds in results.items():
        print(f"{name:<30} {seconds:>8.3f} {seconds / base:>11.2f}x")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("records", nargs="?", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="30,000 records, one run (CI smoke)")
    args = parser.parse_args()
    main(30_000, 1) if args.quick else main(args.records, args.runs)
