"""sync with ``each=`` pairs: a run of other rows is never taken for one already synced."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from esiframe.datasets import dataset_runs
from esiframe.export import read_parquet
from esiframe.sandbox import Sandbox

OP = "GetMarketsRegionIdHistory"
KEY = ["date", "type_id"]
FORGE = 10000002


@pytest.mark.parametrize(
    ("rows", "region_in_rows"),
    [
        (80, True),  # an 80-row frame's text elides its middle rows: it must not stand for it
        (5, False),  # get's metadata names region_id only: the each= rows must be logged too
    ],
)
def test_a_sync_of_other_each_rows_is_not_skipped(
    rows: int,
    region_in_rows: bool,
    esi_sandbox: Sandbox,
    make_client: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """Two runs whose each= frames differ in one middle row, the second's answers all cached.

    Only the run log can tell the two runs apart; the second must add type 34's history.
    """
    client = make_client(esi_sandbox)
    first = pd.DataFrame({"type_id": range(1000, 1000 + rows)})
    second = first.copy()
    second.loc[rows // 2, "type_id"] = 34
    if region_in_rows:
        first, second, region = first.assign(region_id=FORGE), second.assign(region_id=FORGE), {}
    else:
        region = {"region_id": FORGE}
    path = tmp_path / "history"
    client.get(OP, each=second, **region)  # the second run's answers are now cached

    client.sync(OP, path, key=KEY, each=first, **region)
    new = client.sync(OP, path, key=KEY, each=second, **region)

    assert set(new["type_id"]) == {34}
    assert set(read_parquet(path)["type_id"]) == {*first["type_id"], 34}
    assert [run["parameters"]["each"]["rows"] for run in dataset_runs(path)] == [rows, rows]


def test_the_same_each_rows_again_within_expires_are_skipped(
    esi_sandbox: Sandbox, make_client: Callable[..., Any], tmp_path: pathlib.Path
) -> None:
    client = make_client(esi_sandbox)
    pairs = pd.DataFrame({"region_id": [FORGE, FORGE], "type_id": [34, 35]})
    path = tmp_path / "history"
    first = client.sync(OP, path, key=KEY, each=pairs)
    before = len(esi_sandbox.log)

    again = client.sync(OP, path, key=KEY, each=pairs.copy())

    assert len(first) > 0 and again.empty
    assert len(esi_sandbox.log) == before
    assert len(dataset_runs(path)) == 1
