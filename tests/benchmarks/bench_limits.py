"""How close a large fan-out runs to a rate-limit group's allowed rate, in real time.

The sandbox shrinks the ``market-order`` group to ``--tokens`` per ``--window``
seconds, and a fan-out asks for three times what one window allows. A
floating window lets at most ``k * tokens`` tokens be spent in the first k
windows of a run (a full bucket at the start, each token back a window after
it was spent). Utilization is the share of that bound used in the run's
complete windows (the tail, where the fan-out has run out of requests, would
only measure the demand). The median of several runs is shown with the 429s
received; the target is >= 90% with zero 429s.

    python tests/benchmarks/bench_limits.py [--runs N] [--tokens N] [--window S] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import esiframe as ef
from esiframe.sandbox import Faults, Sandbox, SandboxLimits
from esiframe.sandbox.data import Sizes


def one_run(tokens: int, window: float, demand: int) -> tuple[float, float, int, int]:
    """(seconds, utilization over complete windows, 200s, 429s) of one fan-out."""
    with Sandbox(
        sizes=Sizes(page_size=100),
        limits=SandboxLimits(group_window=window),
        faults=Faults(group_max_tokens={"market-order": tokens}),
    ) as sandbox:
        client = ef.Client(
            base_url=sandbox.url, cache=False, contact="bench@example.com", progress=False
        )
        start = time.perf_counter()
        client.get(
            "GetMarketsRegionIdOrders", region_id=10000002, type_id=list(range(34, 34 + demand))
        )
        seconds = time.perf_counter() - start
        ok, limited = sandbox.log.count(status=200), sandbox.log.count(status=429)
        times = sorted(entry.time for entry in sandbox.log if entry.status == 200)
    windows = int((times[-1] - times[0]) // window)
    spent = 2 * sum(1 for t in times if t < times[0] + windows * window)
    return seconds, spent / (windows * tokens), ok, limited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="20 tokens / 2 s, one run (CI smoke)")
    args = parser.parse_args()
    runs, tokens, window = (1, 20, 2.0) if args.quick else (args.runs, args.tokens, args.window)
    demand = 2 * tokens  # four windows' worth of 2-token requests
    results = [one_run(tokens, window, demand) for _ in range(runs)]
    seconds = statistics.median(r[0] for r in results)
    utilization = statistics.median(r[1] for r in results)
    print(
        f"fan-out of {demand} requests into a group of {tokens} tokens / {window:g} s, "
        f"median of {runs}"
    )
    print(f"{'seconds':>8} {'utilization':>12} {'200s':>6} {'429s (all runs)':>16}")
    print(f"{seconds:8.1f} {utilization:11.1%} {results[0][2]:6d} {sum(r[3] for r in results):16d}")
    print("target: >= 90% of the allowed rate with zero 429s")


if __name__ == "__main__":
    main()
