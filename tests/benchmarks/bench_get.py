"""The 300-page market-orders walk: esiframe against the loop users hand-roll today.

The sandbox runs in its own process with 50 ms added to every answer (a
round trip to ESI) and is warmed first, so the server's own data generation
is not measured. Printed, median of several runs:

- the baseline: a sequential ``requests`` loop over the pages, then
  ``pd.DataFrame(records)`` + ``pd.to_datetime`` (what notebooks do today);
- ``ef.get`` cold (no cache), at the default ``max_workers`` and at 8;
- ``ef.get`` warm: the same call again within ``Expires`` (zero requests).

    python tests/benchmarks/bench_get.py [--runs N] [--pages N] [--quick]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import requests

import esiframe as ef

SERVER = """
import sys
from esiframe.sandbox import Faults, serve
from esiframe.sandbox.data import Sizes
serve(port=int(sys.argv[1]), sizes=Sizes(forge_order_pages=int(sys.argv[2])),
      faults=Faults(latency=float(sys.argv[3])))
"""
HEADERS = {"X-Compatibility-Date": "2026-08-04", "User-Agent": "bench (bench@example.com)"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(pages: int, latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-c", SERVER, str(port), str(pages), str(latency)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url + "/status", headers=HEADERS, timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the sandbox did not start")


def hand_rolled(url: str) -> pd.DataFrame:
    """A sequential page loop, as notebooks write it today."""
    session = requests.Session()
    records: list[dict[str, object]] = []
    page, pages = 1, 1
    while page <= pages:
        response = session.get(
            f"{url}/markets/10000002/orders",
            params={"order_type": "all", "page": page},
            headers=HEADERS,
            timeout=30,
        )
        response.raise_for_status()
        pages = int(response.headers["X-Pages"])
        records.extend(response.json())
        page += 1
    df = pd.DataFrame(records)
    df["issued"] = pd.to_datetime(df["issued"], utc=True)
    return df


def median(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="20 pages, one run (CI smoke test)")
    args = parser.parse_args()
    runs, pages = (1, 20) if args.quick else (args.runs, args.pages)
    process, url = start_sandbox(pages, args.latency)
    try:
        cache = Path(tempfile.mkdtemp(prefix="esiframe-bench-"))
        settings = {"base_url": url, "contact": "bench@example.com", "progress": False}
        default = ef.Client(cache=False, **settings)
        narrow = ef.Client(cache=False, max_workers=8, **settings)
        cached = ef.Client(cache=cache, **settings)
        orders = {"region_id": 10000002}
        hand_rolled(url)  # warm the sandbox's page cache
        rows: list[tuple[str, float, str]] = []
        base, frame = median(lambda: hand_rolled(url), runs)
        rows.append(("sequential loop + pd.DataFrame (baseline)", base, f"{len(frame):,} rows"))  # type: ignore[arg-type]
        for name, client in (
            (f"ef.get, max_workers={default.settings.max_workers}", default),
            ("ef.get, max_workers=8", narrow),
        ):
            seconds, df = median(lambda c=client: c.get("GetMarketsRegionIdOrders", **orders), runs)
            rows.append((name, seconds, f"{len(df):,} rows"))  # type: ignore[arg-type]
        cached.get("GetMarketsRegionIdOrders", **orders)
        seconds, df = median(lambda: cached.get("GetMarketsRegionIdOrders", **orders), runs)
        served = df.attrs["esi"]["cache"]  # type: ignore[attr-defined]
        rows.append(
            (
                "ef.get warm re-run (within Expires)",
                seconds,
                f"requests sent: {served['fresh'] + served['revalidated']}",
            )
        )
    finally:
        process.kill()
    print(
        f"{pages} pages x 1000 orders, {args.latency * 1000:.0f} ms added latency, median of {runs}"
    )
    print(f"{'case':44} {'seconds':>8} {'speed-up':>9}  notes")
    for name, seconds, note in rows:
        print(f"{name:44} {seconds:8.2f} {base / seconds:8.1f}x  {note}")
    print("targets: cold walk >= 8x faster than the loop; warm re-run under 1 s with zero requests")


if __name__ == "__main__":
    main()
