"""SIGKILL a Parquet writer at random moments: the data always reads back whole, old or new.

Each mode (one file replaced, dataset append, replace_partitions, overwrite, sync) gets a
writer process that writes version after version until it is killed at a random moment; after
every kill the data must read back, through esiframe and through DuckDB, exactly as after the
last finished write or as after the one in flight, and no leftover file may remain visible.
Writers are forked from a preloaded server so that a kill costs milliseconds, not an import.
"""

from __future__ import annotations

import multiprocessing
import os
import pathlib
import random
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import atomic_writer
import duckdb
import pytest
from swaps import swaps_here

KILLS = 20
SWAPS = swaps_here()


@pytest.fixture(scope="module")
def forkserver() -> Iterator[Any]:
    """A fork server that has imported the writer (the server reads PYTHONPATH, not sys.path)."""
    here = str(pathlib.Path(atomic_writer.__file__).parent)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([here, *sys.path])
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["atomic_writer"])
    try:
        yield ctx
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def duckdb_pairs(mode: str, path: pathlib.Path) -> list[tuple[int, int]]:
    glob = str(path) if mode == "file" else f"{path}/**/*.parquet"
    rel = duckdb.sql(f"select key, version, text from read_parquet('{glob}') order by key")
    rows = rel.fetchall()
    assert all(t == f"row {k} of version {v}" for k, v, t in rows)
    return [(k, v) for k, v, _ in rows]


def kill_once(ctx: Any, mode: str, path: pathlib.Path, start: int, rng: random.Random) -> int:
    """Start a writer at version ``start``, SIGKILL it at a random moment; return ``done``."""
    done = ctx.Value("q", start - 1, lock=False)
    writer = ctx.Process(target=atomic_writer.write_forever, args=(mode, str(path), start, done))
    writer.start()
    time.sleep(rng.uniform(0.02, 0.5))
    assert writer.pid is not None
    os.kill(writer.pid, signal.SIGKILL)
    writer.join()
    assert writer.exitcode == -signal.SIGKILL
    return int(done.value)


@pytest.mark.parametrize("mode", atomic_writer.MODES)
def test_a_killed_writer_leaves_old_or_new_data(
    forkserver: Any, tmp_path: pathlib.Path, mode: str
) -> None:
    path = tmp_path / ("data.parquet" if mode == "file" else "data")
    atomic_writer.write(mode, path, 1)
    rng = random.Random(f"{mode}-kills")
    version, outcomes, raw_mixed = 1, {"old": 0, "new": 0}, 0
    for kills in range(1, KILLS + 1):
        done = kill_once(forkserver, mode, path, version + 1, rng)
        old = atomic_writer.expected(mode, done)
        new = atomic_writer.expected(mode, done + 1)
        raw = duckdb_pairs(mode, path)  # before any esiframe read finishes a killed commit
        raw_mixed += raw not in (old, new)
        back = atomic_writer.read_back(path)
        assert back in (old, new), f"kill {kills}: neither version {done} nor {done + 1}"
        assert duckdb_pairs(mode, path) == back
        outcomes["new" if back == new and back != old else "old"] += 1
        version = done + (back == new)
    print(
        f"\n{mode}: {KILLS} kills over {version} versions, {outcomes}, "
        f"raw DuckDB mixed: {raw_mixed}"
    )
    if SWAPS:  # the whole dataset changes in one step: DuckDB, knowing nothing, sees no mix
        assert raw_mixed == 0
    atomic_writer.write(mode, path, version + 1)  # the next write cleans every leftover
    hidden = [p for p in path.parent.rglob("*") if p.name.endswith((".tmp", ".swap"))]
    assert hidden == []
    assert atomic_writer.read_back(path) == atomic_writer.expected(mode, version + 1)
