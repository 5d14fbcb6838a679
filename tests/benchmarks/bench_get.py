"""The market-orders walk: esiframe against the loops users write by hand, side by side.

The sandbox runs in its own process with 50 ms added to every answer (a round trip to
ESI) and is warmed first, so the server's own data generation is not measured. Every
case runs in a fresh Python process (pandas and requests imported before the clock starts;
esiframe's import and its first-use imports are timed), so peak RSS is the case's own.
Printed for each page count, median of ``--runs``:

- the sequential ``requests`` loop + ``pd.DataFrame`` + ``pd.to_datetime`` (the hand loop);
- the same with 16 threads (the loop a skilled user writes: page 1, then 2..N at once);
- ``ef.get`` with the default settings (HTTP cache on, a new cache each run) and with
  ``cache=False``: seconds, peak RSS, requests sent;
- ``ef.get`` warm from a **new process** within Expires (the cache of a cold run);
- column access (``df["price"]``) on the result, against the same frame without attrs;
- the CPU seconds of each case's process and of the sandbox while it ran. The two share
  this machine's cores: when their sum nears cores x seconds, the case is bound by CPU,
  not by the latency.

    python tests/benchmarks/bench_get.py [--runs N] [--pages 100,300,1000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

#: The market-order group's 12,000 tokens per 15 minutes (as ESI) would run out over the
#: repeated walks of a benchmark; a 1-second window keeps the limit from being what is timed.
SERVER = """
import sys
from esiframe.sandbox import Faults, SandboxLimits, serve
from esiframe.sandbox.data import Sizes
serve(port=0, sizes=Sizes(forge_order_pages=int(sys.argv[1])),
      faults=Faults(latency=float(sys.argv[2])), limits=SandboxLimits(group_window=1.0))
"""
HEADERS = {"X-Compatibility-Date": "2026-08-04", "User-Agent": "bench (bench@example.com)"}

#: One measured case, run as ``python -c CASE kind url cache_dir``; prints one JSON line.
CASE = r"""
import json, resource, statistics, sys, time
kind, url, cache = sys.argv[1], sys.argv[2], sys.argv[3]
import pandas as pd, requests
from concurrent.futures import ThreadPoolExecutor
HEADERS = {"X-Compatibility-Date": "2026-08-04", "User-Agent": "bench (bench@example.com)"}
ORDERS = url + "/markets/10000002/orders"

def page(session, n):
    r = session.get(ORDERS, params={"order_type": "all", "page": n}, headers=HEADERS, timeout=60)
    r.raise_for_status()
    return r

def frame(records):
    df = pd.DataFrame(records)
    df["issued"] = pd.to_datetime(df["issued"], utc=True)
    return df

def loop():
    s = requests.Session()
    first = page(s, 1)
    records, total = first.json(), int(first.headers["X-Pages"])
    for n in range(2, total + 1):
        records.extend(page(s, n).json())
    return frame(records), total

def threads():
    s = requests.Session()
    s.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    first = page(s, 1)
    records, total = first.json(), int(first.headers["X-Pages"])
    with ThreadPoolExecutor(16) as pool:
        for r in pool.map(lambda n: page(s, n).json(), range(2, total + 1)):
            records.extend(r)
    return frame(records), total

def esiframe_get():
    import esiframe as ef
    client = ef.Client(base_url=url, cache=False if cache == "-" else cache,
                       contact="bench@example.com", progress=False)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    counts = df.attrs["esi"]["cache"]
    return df, counts.get("fresh", 0) + counts.get("revalidated", 0) + counts.get("uncached", 0)

def attrs_ratio(df):
    bare = df.copy()
    bare.attrs = {}
    def timed(frame):
        laps = []
        for _ in range(200):
            t = time.perf_counter()
            frame["price"]
            laps.append(time.perf_counter() - t)
        return statistics.median(laps)
    return timed(df) / timed(bare)

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

run = {"loop": loop, "threads": threads, "esiframe": esiframe_get}[kind]
start, cpu_start = time.perf_counter(), cpu()
df, sent = run()
seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
out = {"seconds": seconds, "rows": len(df), "requests": sent, "cpu": cpu_seconds,
       "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if kind == "esiframe":
    out["attrs_ratio"] = attrs_ratio(df)
print(json.dumps(out))
"""


def start_sandbox(pages: int, latency: float) -> tuple[subprocess.Popen[str], str]:
    """The sandbox in its own process, on a port it picks itself (it prints its URL)."""
    cmd = [sys.executable, "-c", SERVER, str(pages), str(latency)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
    if found is None:
        process.kill()
        raise RuntimeError("the sandbox did not start")
    url = found.group(0)
    for _ in range(400):
        try:
            requests.get(url + "/status", headers=HEADERS, timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the sandbox did not answer")


def server_cpu(pid: int) -> float:
    """CPU seconds the sandbox process has used so far (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def case(kind: str, url: str, server: int, cache: str = "-") -> dict[str, float]:
    """One measurement in a fresh process (its own imports, its own peak RSS), with the CPU
    time it and the sandbox (``server``, a pid) spent: the two share this machine's cores."""
    before = server_cpu(server)
    done = subprocess.run(
        [sys.executable, "-c", CASE, kind, url, cache], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_cpu"] = server_cpu(server) - before
    return result


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def measure(url: str, server: int, runs: int) -> list[tuple[str, dict[str, float]]]:
    """Every case ``runs`` times, interleaved so that machine noise hits all alike."""
    names = ["hand loop", "16-thread loop", "ef.get (default, cache on)", "ef.get cache=False"]
    samples: dict[str, list[dict[str, float]]] = {n: [] for n in [*names, "ef.get warm"]}
    for _ in range(runs):
        samples["hand loop"].append(case("loop", url, server))
        samples["16-thread loop"].append(case("threads", url, server))
        with tempfile.TemporaryDirectory(prefix="esiframe-bench-") as cache:
            samples["ef.get (default, cache on)"].append(case("esiframe", url, server, cache))
            samples["ef.get warm"].append(case("esiframe", url, server, cache))  # a new process
        samples["ef.get cache=False"].append(case("esiframe", url, server))
    return [(name, medians(s)) for name, s in samples.items()]


def table(pages: int, rows: list[tuple[str, dict[str, float]]]) -> None:
    loop = dict(rows)["hand loop"]["seconds"]
    threads = dict(rows)["16-thread loop"]["seconds"]
    print(f"\n{pages} pages x 1000 orders")
    print(
        f"{'case':28} {'seconds':>8} {'vs loop':>8} {'vs 16thr':>9} {'RSS MiB':>8} "
        f"{'requests':>9} {'attrs':>6} {'CPU s':>6} {'sandbox CPU s':>13}"
    )
    for name, m in rows:
        ratio = f"{m['attrs_ratio']:.2f}x" if "attrs_ratio" in m else ""
        print(
            f"{name:28} {m['seconds']:8.2f} {loop / m['seconds']:7.1f}x "
            f"{threads / m['seconds']:8.2f}x {m['rss_mib']:8.0f} {m['requests']:9.0f} {ratio:>6} "
            f"{m['cpu']:6.2f} {m['server_cpu']:13.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", default="100,300,1000")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="20 pages, one run (CI smoke test)")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    counts = [20] if args.quick else [int(p) for p in args.pages.split(",")]
    print(
        f"{args.latency * 1000:.0f} ms added latency; median of {runs} run(s); "
        "each case in a new process"
    )
    for pages in counts:
        process, url = start_sandbox(pages, args.latency)
        try:
            case("threads", url, process.pid)  # warm the sandbox's page cache
            table(pages, measure(url, process.pid, runs))
        finally:
            process.kill()
    print(
        "\ntargets (issue 12): default ef.get >= 2x the 16-thread loop and <= 1.5 s at 300 "
        "pages; peak RSS <= 250 MiB; warm new process < 0.5 s with 0 requests; attrs <= 1.5x"
    )


if __name__ == "__main__":
    main()
