"""Benchmark: 300,000 market orders (300 page bodies in memory) -> typed DataFrame.

Run ``python tests/benchmarks/bench_frames.py [n_records] [--runs N] [--quick]``.
Printed side by side, medians of ``--runs`` runs: the record path
(``json.loads`` + ``to_frame``), pyarrow's JSON reader alone on the same pages
(the floor), the page path (``decode_page`` in 2 threads + ``tables_to_frame``),
and the hand-rolled ``pd.DataFrame`` + ``to_datetime``; then the cost of
``df["price"]`` on the frame for each shape of ``df.attrs``. Timings vary from
machine to machine; only the frames' equality is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from esiframe.decode import FramePlan, decode_page, frame_plan, tables_to_frame
from esiframe.frames import DtypeBackend, to_frame
from esiframe.pagemeta import FrozenMeta, PageTable
from esiframe.spec import bundled_spec

__all__ = [
    "attrs_ratio",
    "baseline",
    "decode_bodies",
    "generate_orders",
    "main",
    "median_seconds",
    "page_bodies",
    "reader_alone",
]

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


def page_bodies(records: list[dict[str, Any]], per_page: int = 1000) -> list[bytes]:
    """The records as ESI sends them: compact JSON arrays of ``per_page`` records."""
    return [
        json.dumps(records[i : i + per_page], separators=(",", ":")).encode()
        for i in range(0, len(records), per_page)
    ]


def decode_bodies(
    bodies: list[bytes], plan: FramePlan, backend: DtypeBackend, workers: int = 2
) -> pd.DataFrame:
    """What the client does: decode pages in worker threads, then one typed frame."""
    with ThreadPoolExecutor(workers) as pool:
        pages = list(pool.map(lambda body: decode_page(body, plan), bodies))
    return tables_to_frame(pages, plan, backend)


def reader_alone(bodies: list[bytes], plan: FramePlan, workers: int = 2) -> list[pa.Table]:
    """pyarrow's JSON reader on every page in worker threads, nothing else (the floor)."""
    schema = plan.read_schema
    assert schema is not None

    def read(body: bytes) -> pa.Table:
        data = b'{"records":' + body + b"}"
        return pa_json.read_json(
            pa.BufferReader(data),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 64),
            parse_options=pa_json.ParseOptions(explicit_schema=schema),
        )

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(read, bodies))


def _column_access_us(df: pd.DataFrame, runs: int) -> float:
    return median_seconds(lambda: [df["price"] for _ in range(100)], runs) / 100 * 1e6


def attrs_ratio(df: pd.DataFrame, pages: int = 300, runs: int = 7) -> dict[str, float]:
    """Microseconds of ``df["price"]`` with no attrs, per-page dicts, and the compact forms."""
    rows = [
        {
            "params": {"region_id": 10000002},
            "language": "en",
            "page": page,
            "status": 200,
            "cache": "fresh",
            "expires": "2026-12-01T23:05:00+00:00",
            "last_modified": "2026-12-01T23:00:00+00:00",
            "etag": f'"{page:040x}"',
        }
        for page in range(1, pages + 1)
    ]
    meta = {
        "operation": "GetMarketsRegionIdOrders",
        "parameters": {"region_id": 10000002, "order_type": "all"},
        "compatibility_date": "2025-12-16",
        "pages": pages,
        "cache": {"cache": 0, "fresh": pages},
        "errors": [],
    }
    shapes: dict[str, dict[str, Any]] = {
        "no attrs": {},
        "list of dicts": {"esi": {**meta, "responses": rows}},
        "PageTable": {"esi": {**meta, "responses": PageTable.from_rows(rows)}},
        "FrozenMeta+PageTable": {
            "esi": FrozenMeta({**meta, "responses": PageTable.from_rows(rows)})
        },
    }
    out: dict[str, float] = {}
    for name, attrs in shapes.items():
        df.attrs = attrs
        out[name] = _column_access_us(df, runs)
    df.attrs = {}
    return out


def main(n: int = 300_000, runs: int = 5) -> dict[str, float]:
    """Print and return the median seconds of each way, and their ratio."""
    response = bundled_spec().operation("GetMarketsRegionIdOrders").response_schema
    assert response is not None
    schema: Mapping[str, Any] = response["items"]
    records = generate_orders(n)
    bodies = page_bodies(records)
    plan = frame_plan(schema, "GetMarketsRegionIdOrders")
    for backend in get_args(DtypeBackend):  # the same frame, the same dtypes, both ways
        fast = decode_bodies(bodies, plan, backend)
        pd.testing.assert_frame_equal(fast, to_frame(records, schema, dtype_backend=backend))
    results = {
        "json.loads + to_frame": median_seconds(
            lambda: to_frame([r for b in bodies for r in json.loads(b)], schema), runs
        ),
        "pyarrow reader alone (2 thr)": median_seconds(lambda: reader_alone(bodies, plan), runs),
        "decode_page+tables_to_frame": median_seconds(
            lambda: decode_bodies(bodies, plan, "numpy_nullable"), runs
        ),
        "  same, dtype_backend=pyarrow": median_seconds(
            lambda: decode_bodies(bodies, plan, "pyarrow"), runs
        ),
        "records: to_frame": median_seconds(lambda: to_frame(records, schema), runs),
        "records: pd.DataFrame+to_datetime": median_seconds(lambda: baseline(records), runs),
    }
    base = results["json.loads + to_frame"]
    print(f"{n:,} market orders in {len(bodies)} page bodies, median of {runs} runs")
    print(f"{'method':<34} {'seconds':>8} {'vs json.loads+to_frame':>24}")
    for name, seconds in results.items():
        print(f"{name:<34} {seconds:>8.3f} {seconds / base:>23.2f}x")
    print("dtypes: decode path == to_frame for numpy_nullable and pyarrow (asserted)")
    frame = decode_bodies(bodies, plan, "numpy_nullable")
    access = attrs_ratio(frame, pages=len(bodies), runs=runs)
    print(f'df["price"] on the {len(bodies)}-page frame, by df.attrs shape (median us)')
    for name, micro in access.items():
        print(f"{name:<34} {micro:>8.1f} {micro / access['no attrs']:>23.2f}x")
    return results | {f"attrs {k} (us)": v for k, v in access.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("records", nargs="?", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="30,000 records, one run (CI smoke)")
    args = parser.parse_args()
    main(30_000, 1) if args.quick else main(args.records, args.runs)
