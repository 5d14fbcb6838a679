"""Cost of loading the bundled spec and building the operation index.

First, the cost of ``import esiframe`` plus the operation index above ``import
pandas`` (time, RSS, and which heavy modules it pulled in). Then each measurement
runs in a fresh interpreter that has already imported pandas
and esiframe, so only the spec work is counted. Prints the median of several
runs for: the index (load + lookup), the index plus every Operation and
resolved response schema (what a full `ops` browse costs), and the baseline
of a bare `json.load` of the same document.

    python tests/benchmarks/bench_spec.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import compileall
import json
import pathlib
import statistics
import subprocess
import sys

CASES = {
    "json.loads of the bundled spec (baseline)": """
import gzip, json
from esiframe.spec import _DATA, BUNDLED_DATE
raw = (_DATA / f"openapi-{BUNDLED_DATE}.json.gz").read_bytes()
start(); doc = json.loads(gzip.decompress(raw)); stop()
""",
    "esiframe: load + index + one lookup": """
from esiframe.spec import bundled_spec
start(); bundled_spec().operation("GetMarketsRegionIdHistory"); stop()
""",
    "esiframe: every Operation + response schema": """
from esiframe.spec import bundled_spec
start()
for op in bundled_spec():
    op.response_schema
stop()
""",
}

# Time and memory are taken in separate processes: tracemalloc slows allocation-heavy
# code (json parsing) several times over, so a traced run would misstate the time.
HARNESS = """
import json, sys, time, tracemalloc
import pandas, esiframe
TRACE = sys.argv[1] == "memory"
_t = [0.0]
def start():
    if TRACE:
        tracemalloc.start()
    _t[0] = time.perf_counter()
def stop():
    seconds = time.perf_counter() - _t[0]
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if TRACE else 0.0
    print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


def _run(code: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", HARNESS + code, mode], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


#: ``import esiframe`` + the operation index, timed and measured (RSS) above ``import pandas``.
IMPORT = """
import json, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
import pandas
before, mods, start = rss(), set(sys.modules), time.perf_counter()
import esiframe
from esiframe.spec import bundled_spec
bundled_spec().operation("GetMarketsRegionIdHistory")
if sys.argv[1] == "client":
    esiframe.Client  # what the first ef.get adds: the client and its HTTP stack
seconds, grown = time.perf_counter() - start, rss() - before
heavy = sorted({m.split(".")[0] if m.split(".")[0] != "pyarrow" else m
                for m in set(sys.modules) - mods
                if m.split(".")[0] in ("requests", "requests_cache", "authlib", "ipywidgets",
                                        "tqdm", "sqlite3", "urllib3")
                or m in ("pyarrow.dataset", "pyarrow.parquet", "pyarrow.json")})
print(json.dumps({"seconds": seconds, "rss_mb": grown, "heavy": heavy}))
"""


def measure_import(runs: int) -> None:
    """Print the cost of ``import esiframe`` + the index above pandas (fresh processes).

    The package is byte-compiled first, as ``pip install`` does: where PYTHONDONTWRITEBYTECODE
    is set (as on some CI machines) an editable install would otherwise time the compiler.
    """
    import esiframe

    compileall.compile_dir(pathlib.Path(esiframe.__file__).parent, quiet=1)
    print(f"import esiframe + index above import pandas, median of {runs} fresh processes")
    print(f"{'case':34} {'ms':>8} {'RSS MiB':>8}  heavy modules loaded")
    for case, label in (("index", "import + index"), ("client", "... + Client (first get)")):
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", IMPORT, case], capture_output=True, text=True, check=True
            ).stdout
            samples.append(json.loads(out.strip().splitlines()[-1]))
        seconds = statistics.median(s["seconds"] for s in samples)
        grown = statistics.median(s["rss_mb"] for s in samples)
        heavy = ", ".join(samples[-1]["heavy"]) or "-"
        print(f"{label:34} {seconds * 1000:8.1f} {grown:8.1f}  {heavy}")
    print("targets (issue 12): import + index at most 50 ms and 10 MiB above import pandas")
    print()


def measure(code: str) -> dict[str, float]:
    return {"seconds": _run(code, "time")["seconds"], "peak_mb": _run(code, "memory")["peak_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run each (CI smoke test)")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    measure_import(runs)
    rows = []
    for name, code in CASES.items():
        samples = [measure(code) for _ in range(runs)]
        seconds = statistics.median(s["seconds"] for s in samples)
        peak = statistics.median(s["peak_mb"] for s in samples)
        rows.append((name, seconds, peak))
    base = rows[0][1]
    print(f"spec loading, median of {runs} fresh processes (after import pandas, esiframe)")
    print(f"{'case':48} {'ms':>8} {'peak MB':>8} {'x baseline':>10}")
    for name, seconds, peak in rows:
        print(f"{name:48} {seconds * 1000:8.1f} {peak:8.1f} {seconds / base:10.2f}")
    print("targets: load + index under 50 ms and under 20 MB")


if __name__ == "__main__":
    main()
