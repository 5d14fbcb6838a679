"""Writers that the atomic-write tests SIGKILL at random moments, and the states they may leave.

Version ``v`` of each mode's data is a pure function of ``v``, so after a kill the test can say
exactly which contents are allowed: those after the last write that finished (``done``), or
after the one in flight (``done + 1``).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import pandas as pd

from esiframe.datasets import SyncRun, sync_frame
from esiframe.export import read_parquet, to_parquet

MODES = ("file", "append", "replace_partitions", "overwrite", "sync")
ROWS = 4000
REGIONS = 4
WINDOW = 3000
STEP = 250


def frame(mode: str, v: int) -> pd.DataFrame:
    """What the writer hands to ``to_parquet``/``sync_frame`` for version ``v``."""
    if mode == "sync":
        key = np.arange(v * STEP, v * STEP + WINDOW, dtype="int64")
    elif mode == "append":
        key = np.arange(v * ROWS, (v + 1) * ROWS, dtype="int64")
    else:
        key = np.arange(ROWS, dtype="int64")
    return pd.DataFrame(
        {
            "key": key,
            "region": key % REGIONS,
            "version": np.full(len(key), v, dtype="int64"),
            "text": pd.Series([f"row {k} of version {v}" for k in key], dtype="string"),
        }
    )


def expected(mode: str, v: int) -> list[tuple[int, int]]:
    """The (key, version) pairs the dataset holds once version ``v`` is fully written."""
    if mode == "sync":
        keys = range(STEP, v * STEP + WINDOW)
        return [(k, min(v, k // STEP)) for k in keys]
    if mode == "append":
        return [(k, k // ROWS) for k in range(ROWS, (v + 1) * ROWS)]
    return [(k, v) for k in range(ROWS)]


def write(mode: str, path: pathlib.Path, v: int) -> None:
    """Write version ``v`` the way the mode says (version 1 creates the data)."""
    data = frame(mode, v)
    if mode == "file":
        to_parquet(data, path, existing="overwrite")
    elif mode == "sync":
        sync_frame(data, path, key="key", partition_cols=["region"], run=SyncRun("Test", {"v": v}))
    else:
        existing: Any = "error" if v == 1 else mode
        to_parquet(data, path, partition_cols=["region"], existing=existing)


def write_forever(mode: str, path: str, start: int, done: Any) -> None:
    """The killed process: write versions start, start+1, ... and publish the last finished."""
    v = start
    while True:
        write(mode, pathlib.Path(path), v)
        done.value = v
        v += 1


def pairs(df: pd.DataFrame) -> list[tuple[int, int]]:
    """The frame's (key, version) pairs, sorted; each row's text must match them."""
    df = df.sort_values("key")
    keys, versions = df["key"].astype("int64").tolist(), df["version"].astype("int64").tolist()
    texts = df["text"].astype(str).tolist()
    assert texts == [f"row {k} of version {v}" for k, v in zip(keys, versions, strict=True)]
    return list(zip(keys, versions, strict=True))


def read_back(path: pathlib.Path) -> list[tuple[int, int]]:
    return pairs(read_parquet(path))
