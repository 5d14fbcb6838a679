"""Benchmark: the cost of one HTTP-cache key, and of asking the cache file what it holds.

Run ``python tests/benchmarks/bench_cache.py [--runs N] [--quick]``. Printed, median of
``--runs`` runs over 1,000 page requests of market orders:

- requests-cache's ``create_key`` (with esiframe's Vary headers), the baseline;
- esiframe's ``cache_key``, which every request, lookup and stored page takes (a cached
  lookup takes three: the key and requests-cache's two Vary-check keys);
- ``stored``: the cache file asked directly whether it holds a key, as the first request
  of a process does while requests-cache loads;
- the compression of a stored page (zstd level 1, on the cache's writer thread) and its
  undoing on a cache read, for a page of 1,000 orders, with the sizes before and after.

Timings vary from machine to machine; only the keys' agreement and the round trip of a
compressed page are asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from bench_frames import generate_orders, page_bodies
from requests_cache.cache_keys import create_key

from esiframe.httpcache import IGNORED, VARY, _pack, _unpack, cache_key, cached_session, stored

__all__ = ["main", "microseconds_each"]

HEADERS = {"Accept-Language": "en", "X-Compatibility-Date": "2026-08-04", "X-Tenant": "tq"}
URL = "https://esi.evetech.net/markets/10000002/orders"


def microseconds_each(fn: Callable[[Any], object], items: list[Any], runs: int) -> float:
    """Median over ``runs`` of the mean microseconds of ``fn`` on each item."""
    laps = []
    for _ in range(runs):
        start = time.perf_counter()
        for item in items:
            fn(item)
        laps.append((time.perf_counter() - start) / len(items) * 1e6)
    return statistics.median(laps)


def main(requests_count: int = 1000, runs: int = 5) -> dict[str, float]:
    pages = [
        requests.Request("GET", URL, params={"order_type": "all", "page": n}, headers=HEADERS)
        for n in range(1, requests_count + 1)
    ]
    prepared = [p.prepare() for p in pages]
    with tempfile.TemporaryDirectory(prefix="esiframe-bench-") as folder:
        results = _measure(prepared, Path(folder) / "http_cache.sqlite", runs)
    base = results["requests-cache create_key"]
    print(f"{requests_count:,} page requests, median of {runs} runs")
    print(f"{'what':<28} {'us each':>8} {'vs create_key':>14}")
    for name, micro in results.items():
        print(f"{name:<28} {micro:8.1f} {micro / base:13.2f}x")
    return results | compression(runs)


def compression(runs: int) -> dict[str, float]:
    """The cost of compressing a stored page, and of reading it back."""
    pages = page_bodies(generate_orders(10_000))
    packed = [_pack(page) for page in pages]
    assert [_unpack(p) for p in packed] == pages  # a page comes back as it went in
    results = {
        "pack a page (zstd 1)": microseconds_each(_pack, pages, runs),
        "unpack a page": microseconds_each(_unpack, packed, runs),
    }
    before, after = sum(map(len, pages)) / len(pages), sum(map(len, packed)) / len(packed)
    print(f"\na stored page of 1,000 orders: {before / 1024:.0f} KiB -> {after / 1024:.0f} KiB")
    for name, micro in results.items():
        print(f"{name:<28} {micro:8.1f}")
    return results


def _measure(prepared: list[Any], path: Path, runs: int) -> dict[str, float]:
    session = cached_session(path)  # an empty cache file, as a cold walk finds it
    assert session.cache.create_key(prepared[0]) == cache_key(prepared[0])  # one key, both ways
    session.close()
    return {
        "requests-cache create_key": microseconds_each(
            lambda r: create_key(r, IGNORED, list(VARY), verify=True), prepared, runs
        ),
        "esiframe cache_key": microseconds_each(
            lambda r: cache_key(r, verify=True), prepared, runs
        ),
        "stored (the file asked)": microseconds_each(
            lambda r: stored(path, cache_key(r)), prepared[: max(1, len(prepared) // 10)], runs
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 requests, one run")
    args = parser.parse_args()
    main(100 if args.quick else 1000, 1 if args.quick else args.runs)
