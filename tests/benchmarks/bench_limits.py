"""How close fan-outs from 1 and from 3 processes run to a rate-limit group's allowed rate.

The sandbox shrinks the ``market-order`` group to ``--tokens`` per ``--window`` seconds, and
the fan-out asks for four windows' worth of requests, split between the processes (each its
own Python process, sharing the limits ledger of one cache directory, as two notebooks and a
job on one machine do). A floating window lets at most ``k * tokens`` tokens be spent in the
first k windows of a run (a full bucket at the start, each token back a window after it was
spent). Utilization is the share of that bound used in the run's complete windows (the tail,
where the fan-out has run out of requests, would only measure the demand). The median of
several runs is shown with the 429s received; the target is >= 90% with zero 429s.

    python tests/benchmarks/bench_limits.py [--runs N] [--tokens N] [--window S]
                                            [--processes 1 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import esiframe as ef
from esiframe.sandbox import Faults, Sandbox, SandboxLimits
from esiframe.sandbox.data import Sizes


def worker(url: str, cache: str, start_at: float, types: list[int]) -> None:
    """One process's share of the fan-out (run as ``--worker``)."""
    client = ef.Client(base_url=url, cache=Path(cache), contact="bench@example.com", progress=False)
    time.sleep(max(0.0, start_at - time.time()))
    client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=types)
    client.close()


def one_run(
    tokens: int, window: float, demand: int, processes: int
) -> tuple[float, float, int, int]:
    """(seconds, utilization over complete windows, 200s, 429s) of one fan-out."""
    with (
        tempfile.TemporaryDirectory() as cache,
        Sandbox(
            sizes=Sizes(page_size=100),
            limits=SandboxLimits(group_window=window),
            faults=Faults(group_max_tokens={"market-order": tokens}),
        ) as sandbox,
    ):
        types = list(range(34, 34 + demand))
        start_at = time.time() + 3.0  # every process imported, then all at once
        env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
        command = [sys.executable, __file__, "--worker", sandbox.url, cache, str(start_at)]
        procs = [
            subprocess.Popen(
                [*command, json.dumps(types[i::processes])],
                env=env,
            )
            for i in range(processes)
        ]
        for proc in procs:
            if proc.wait(timeout=600) != 0:
                raise SystemExit(f"a worker failed with exit status {proc.returncode}")
        ok, limited = sandbox.log.count(status=200), sandbox.log.count(status=429)
        times = sorted(entry.time for entry in sandbox.log if entry.status == 200)
    seconds = times[-1] - times[0]
    windows = int(seconds // window)
    spent = 2 * sum(1 for t in times if t < times[0] + windows * window)
    return seconds, spent / (windows * tokens), ok, limited


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        url, cache, start_at, types = sys.argv[2:6]
        worker(url, cache, float(start_at), json.loads(types))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--quick", action="store_true", help="20 tokens / 2 s, one run (CI smoke)")
    args = parser.parse_args()
    runs, tokens, window = (1, 20, 2.0) if args.quick else (args.runs, args.tokens, args.window)
    demand = 2 * tokens  # four windows' worth of 2-token requests
    print(
        f"fan-out of {demand} requests into a group of {tokens} tokens / {window:g} s, "
        f"median of {runs}"
    )
    print(
        f"{'processes':>9} {'seconds':>8} {'utilization':>12} {'200s':>6} {'429s (all runs)':>16}"
    )
    for processes in args.processes:
        results = [one_run(tokens, window, demand, processes) for _ in range(runs)]
        seconds = statistics.median(r[0] for r in results)
        utilization = statistics.median(r[1] for r in results)
        limited = sum(r[3] for r in results)
        print(f"{processes:9d} {seconds:8.1f} {utilization:11.1%} {results[0][2]:6d} {limited:16d}")
    print("target: >= 90% of the allowed rate with zero 429s")


if __name__ == "__main__":
    main()
