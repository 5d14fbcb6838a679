"""One of several esiframe processes hammering one sandbox; run by test_processes.py.

    python limits_worker.py URL CACHE_DIR INDEX START_AT LIMITS_JSON

It waits until the epoch time START_AT (so that the processes overlap), then runs three
workloads at once on one client: a fan-out into the ``market-order`` group (half of it
answered 404, 5 tokens each), an error-prone fan-out on an error-limited route, and a
market-history fan-out. The client is told the shrunken limits the sandbox enforces, as it
knows ESI's real ones. It prints a JSON summary: rows and failures per workload.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import esiframe as ef
import esiframe.limits
import esiframe.operations


def workloads(index: int, size: int) -> dict[str, tuple[str, dict[str, Any]]]:
    types = [34 + 1000 * index + i for i in range(size)]  # distinct per process: no cache hits
    missing = [990_000_000 + 1000 * index + i for i in range(size)]
    return {
        "group": ("GetMarketsRegionIdOrders", {"region_id": 10000002, "type_id": types}),
        "group-4xx": ("GetMarketsRegionIdOrders", {"region_id": 10000999, "type_id": types}),
        "errors": (
            "GetUniverseTypesTypeId",
            {"type_id": [t for pair in zip(types, missing, strict=True) for t in pair]},
        ),
        "history": ("GetMarketsRegionIdHistory", {"region_id": 10000002, "type_id": types}),
    }


def run(client: ef.Client, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"rows": len(client.get(operation, **params)), "failed": []}
    except ef.PartialResultError as error:
        failed = [str(f["error"])[:80] for f in error.failures]
        return {"rows": len(error.frame) if error.frame is not None else 0, "failed": failed}
    except ef.EsiError as error:
        return {"rows": 0, "failed": [f"{type(error).__name__}: {error}"[:200]]}


def main() -> None:
    url, cache, index, start_at, limits = sys.argv[1:6]
    shrunk = json.loads(limits)
    esiframe.limits.ERROR_LIMIT = shrunk["error_limit"]
    esiframe.limits.HIDDEN_WINDOW = shrunk["history_window"]
    esiframe.operations._HIDDEN_PER_MINUTE["GetMarketsRegionIdHistory"] = shrunk["history"]
    client = ef.Client(base_url=url, cache=Path(cache), contact="tests@example.com", progress=False)
    time.sleep(max(0.0, float(start_at) - time.time()))
    jobs = workloads(int(index), shrunk["size"])
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {
            name: pool.submit(run, client, op, params) for name, (op, params) in jobs.items()
        }
        summary = {name: future.result() for name, future in futures.items()}
    client.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
