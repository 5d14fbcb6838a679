"""sync of a 300-page region's orders into yesterday's dataset, against writing them plain.

The storage half of issue 13's target (``ef.sync`` at most 1.5x a plain ``ef.get``): the
frame is built in memory (300,000 market orders, the columns ``GetMarketsRegionIdOrders``
gives), so no request is timed. Printed, median of several runs:

- plain: ``to_parquet(df, path, partition_cols=["location_id"], existing="overwrite")``;
- sync: ``sync_frame(df, path, key="order_id", ...)`` into a dataset holding yesterday's
  orders (10 % gone today, 10 % changed, 10 % new), the dataset copied fresh for each run
  (so 20 % of the rows come back as new or changed);
- the ratio sync / plain, and the extra seconds sync adds on top of a plain get + write;
- ``sync(get, ...)`` around a stand-in ``get`` that waits ``--get-seconds`` (the network time
  of a 300-page walk; ``bench_get.py`` measures the real one) and returns today's frame:
  sync reads the stored dataset during that wait, so its ratio to the bare wait is the
  storage half of issue 13's target (at most 1.5x a plain get).

    python tests/benchmarks/bench_sync.py [--runs N] [--rows N] [--get-seconds S] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from esiframe.datasets import SyncRun, sync, sync_frame
from esiframe.export import to_parquet

LOCATIONS = 40


def market(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` market orders as frames types them (the columns of GetMarketsRegionIdOrders)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows, dtype="int64")
    return pd.DataFrame(
        {
            "order_id": ids,
            "duration": rng.choice([1, 7, 30, 90], rows).astype("int64"),
            "is_buy_order": rng.random(rows) < 0.4,
            "issued": pd.Timestamp("2026-08-01", tz="UTC") + pd.to_timedelta(ids % 86400, unit="s"),
            "location_id": (60003760 + ids % LOCATIONS).astype("int64"),
            "min_volume": rng.integers(1, 10, rows).astype("int64"),
            "price": np.round(rng.uniform(1, 1e6, rows), 2),
            "range": pd.Categorical(
                rng.choice(["station", "region", "solarsystem", "1", "5"], rows),
                categories=[
                    *["1", "10", "2", "20", "3", "30", "4", "40", "5"],
                    *["region", "solarsystem", "station"],
                ],
            ),
            "system_id": (30000142 + ids % LOCATIONS).astype("int64"),
            "type_id": rng.integers(18, 60000, rows).astype("int64"),
            "volume_remain": rng.integers(1, 10000, rows).astype("int64"),
            "volume_total": rng.integers(10000, 20000, rows).astype("int64"),
        }
    )


def days(rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Yesterday's and today's answers: today 10 % of the orders are gone, 10 % are new and
    10 % of the others have a new price."""
    both = market(rows + rows // 10)
    yesterday = both.iloc[:rows].reset_index(drop=True)
    today = both.iloc[rows // 10 :].reset_index(drop=True)
    today.loc[: rows // 10 - 1, "price"] += 1.0
    return yesterday, today


def median_time(action: Callable[[], object], prepare: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--get-seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 1 run (for CI)")
    args = parser.parse_args()
    rows, runs = (20_000, 1) if args.quick else (args.rows, args.runs)
    wait = 0.2 if args.quick else args.get_seconds
    yesterday, today = days(rows)
    parts = ["location_id"]
    with tempfile.TemporaryDirectory() as tmp:
        base, plain, synced = Path(tmp, "base"), Path(tmp, "plain"), Path(tmp, "synced")
        sync_frame(yesterday, base, key="order_id", partition_cols=parts, run=SyncRun("Bench"))

        def fresh_copy() -> None:
            shutil.rmtree(synced, ignore_errors=True)
            shutil.copytree(base, synced)

        t_plain = median_time(
            lambda: to_parquet(today, plain, partition_cols=parts, existing="overwrite"),
            lambda: None,
            runs,
        )
        result: list[pd.DataFrame] = []
        t_sync = median_time(
            lambda: result.append(
                sync_frame(today, synced, key="order_id", partition_cols=parts, run=SyncRun("B"))
            ),
            fresh_copy,
            runs,
        )

        def get(op: str, **params: object) -> pd.DataFrame:
            time.sleep(wait)  # the network; the GIL is free, as in a real walk's waits
            return today.copy()

        t_around = median_time(
            lambda: sync(get, "GetMarketsRegionIdOrders", synced, key="order_id", region_id=1),
            fresh_copy,
            runs,
        )
    print(f"{rows:,} orders, {LOCATIONS} partitions, median of {runs} run(s)")
    print(f"  plain to_parquet (overwrite):  {t_plain:.3f} s")
    print(
        f"  sync_frame into yesterday's:   {t_sync:.3f} s  ({len(result[-1]):,} new/changed rows)"
    )
    print(f"  ratio sync / plain write:      {t_sync / t_plain:.2f}x")
    print(f"  sync's extra over plain write: {t_sync - t_plain:.3f} s (add to a plain get's time)")
    print(f"  sync() around a {wait:.1f} s get:  {t_around:.3f} s = {t_around / wait:.2f}x the get")


if __name__ == "__main__":
    main()
