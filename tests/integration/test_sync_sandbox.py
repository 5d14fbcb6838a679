"""sync around the real client's get, against the sandbox: keys from the spec, reruns skipped."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

from esiframe.datasets import dataset_runs, sync
from esiframe.export import read_parquet
from esiframe.sandbox import Sandbox
from esiframe.spec import bundled_spec

OP = "GetMarketsRegionIdHistory"


def test_sync_of_fanned_out_history_and_a_rerun_within_expires(
    esi_sandbox: Sandbox, make_client: Callable[..., Any], tmp_path: pathlib.Path
) -> None:
    client = make_client(esi_sandbox)
    schema = bundled_spec().operation(OP).response_schema["items"]
    path = tmp_path / "history"
    params: dict[str, Any] = {"region_id": 10000002, "type_id": [34, 35]}

    first = sync(client.get, OP, path, partition_cols=["type_id"], record_schema=schema, **params)

    back = read_parquet(path)
    assert len(first) == len(back) > 0
    assert set(back["type_id"]) == {34, 35}
    assert not back.duplicated(["date", "type_id"]).any()
    stored = {p: p.read_bytes() for p in path.rglob("*.parquet")}

    again = sync(client.get, OP, path, record_schema=schema, **params)

    assert again.empty and list(again.columns) == list(first.columns)
    assert {p: p.read_bytes() for p in path.rglob("*.parquet")} == stored
    [run] = dataset_runs(path)
    assert run["operation"] == OP and run["rows_added"] == len(first)


def test_ef_sync_on_the_client_keeps_esi_dates_as_dates_for_duckdb(
    esi_sandbox: Sandbox, make_client: Callable[..., Any], tmp_path: pathlib.Path
) -> None:
    import duckdb

    client = make_client(esi_sandbox)
    path = tmp_path / "history"
    new = client.sync(OP, path, region_id=10000002, type_id=34)

    assert len(new) > 0 and new.attrs["esiframe_date_columns"] == ["date"]
    rel = duckdb.sql(f"select date from read_parquet('{path}/**/*.parquet') limit 1")
    assert str(rel.types[0]) == "DATE"
    again = client.sync(OP, path, region_id=10000002, type_id=34)  # within Expires
    assert again.empty
    assert len(read_parquet(path)) == len(new)
