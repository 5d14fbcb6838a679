"""Three esiframe processes on one machine stay within ESI's limits together.

ESI counts per IP (or character), not per process: two notebooks and a scheduled job spend
from one error budget, one bucket per rate-limit group and one hidden per-minute count. The
processes share them through the limits ledger in their common cache directory. Each process
runs ``limits_worker.py`` against one sandbox whose limits are shrunken so that the demand
exceeds every one of them several times over; the sandbox's log must then hold no 420 (error
limit), no 429 (group) and no 500 (hidden market-history limit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from esiframe.sandbox import Faults, Sandbox, SandboxLimits

WORKER = Path(__file__).with_name("limits_worker.py")
PROCESSES = 3
SIZE = 12  # requests per workload and process
ERROR_LIMIT, ERROR_WINDOW = 12, 4.0
GROUP_TOKENS, GROUP_WINDOW = 30, 3.0
HISTORY, HISTORY_WINDOW = 8, 3.0
TIME_LIMIT = 240.0  # seconds for all processes together, far above the ~30 s they need


def run_processes(sandbox: Sandbox, cache: Path) -> list[dict[str, Any]]:
    shrunk = {
        "error_limit": ERROR_LIMIT,
        "history": HISTORY,
        "history_window": HISTORY_WINDOW,
        "size": SIZE,
    }
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    start_at = time.time() + 4.0  # every process imported and ready, then all at once
    args = [sandbox.url, str(cache)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args, str(i), str(start_at), json.dumps(shrunk)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    deadline = time.monotonic() + TIME_LIMIT
    summaries = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, err[-2000:]
            summaries.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return summaries


def test_three_processes_get_no_420_429_or_hidden_limit_500(tmp_path: Path) -> None:
    limits = SandboxLimits(
        error_limit=ERROR_LIMIT,
        error_window=ERROR_WINDOW,
        group_window=GROUP_WINDOW,
        history_per_minute=HISTORY,
        history_window=HISTORY_WINDOW,
    )
    faults = Faults(group_max_tokens={"market-order": GROUP_TOKENS})
    with Sandbox(limits=limits, faults=faults) as sandbox:
        summaries = run_processes(sandbox, tmp_path / "cache")
        log = sandbox.log.entries()
    statuses = {s: sum(e.status == s for e in log) for s in (200, 404, 420, 429, 500)}
    counts = {"requests": len(log), **statuses}
    print(f"{PROCESSES} processes: {counts}")
    assert (statuses[420], statuses[429], statuses[500]) == (0, 0, 0), counts

    # Nothing was lost: every process got every row and exactly the expected failures.
    for summary in summaries:
        assert summary["group"]["failed"] == [] and summary["group"]["rows"] > 0
        assert summary["history"]["failed"] == [] and summary["history"]["rows"] > 0
        assert summary["errors"]["rows"] == SIZE and len(summary["errors"]["failed"]) == SIZE
        assert len(summary["group-4xx"]["failed"]) == SIZE
        failures = summary["errors"]["failed"] + summary["group-4xx"]["failed"]
        assert all("404" in failure for failure in failures), failures

    # The demand exceeded every limit several times: the limits, not luck, kept it clean.
    def ops(operation: str, status: int | None = None) -> list[float]:
        return [e.time for e in log if e.operation_id == operation and status in (None, e.status)]

    errors = ops("GetUniverseTypesTypeId", 404)
    assert len(errors) == PROCESSES * SIZE >= 3 * ERROR_LIMIT
    assert max(errors) - min(errors) >= 2 * ERROR_WINDOW
    orders = ops("GetMarketsRegionIdOrders")
    assert len(orders) == 2 * PROCESSES * SIZE
    tokens = sum(
        2 if e.status == 200 else 5 for e in log if e.operation_id == "GetMarketsRegionIdOrders"
    )
    assert tokens >= 5 * GROUP_TOKENS
    history = ops("GetMarketsRegionIdHistory")
    assert len(history) == PROCESSES * SIZE >= 4 * HISTORY
