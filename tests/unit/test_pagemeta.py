"""Per-page metadata that copies for free and survives JSON and Parquet."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esiframe.pagemeta import FrozenMeta, PageTable


def rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "params": {"region_id": 10000002, "type_id": [34, 35]},
            "page": page,
            "status": 200,
            "cache": "fresh" if page % 2 else "cache",
            "etag": None if page == 2 else f'"{page:x}"',
        }
        for page in range(1, n + 1)
    ]


def test_page_table_reads_back_its_rows_and_columns() -> None:
    table = PageTable.from_rows(rows(3))
    assert table.num_rows == 3
    assert list(table) == ["params", "page", "status", "cache", "etag"]
    assert table["page"] == (1, 2, 3)
    assert table["etag"] == ('"1"', None, '"3"')
    assert table.row(0) == rows(3)[0]
    assert list(table.rows()) == rows(3)
    assert table.to_frame()["cache"].tolist() == ["fresh", "cache", "fresh"]
    with pytest.raises(KeyError, match=r"no column 'nope'.*'status'"):
        table["nope"]
    with pytest.raises(IndexError, match="out of range"):
        table.row(3)


def test_page_table_rows_with_different_keys_get_none() -> None:
    table = PageTable.from_rows([{"page": 1}, {"page": 2, "error": "timeout"}])
    assert table["error"] == (None, "timeout")


def test_page_table_cannot_be_changed_so_copies_are_itself() -> None:
    table = PageTable.from_rows(rows(2))
    assert copy.deepcopy(table) is table and copy.copy(table) is table
    with pytest.raises(TypeError, match="cannot be changed"):
        table["page"] = (9, 9)
    with pytest.raises(TypeError, match="cannot be changed"):
        table["params"][0]["region_id"] = 1
    with pytest.raises(TypeError, match="cannot be changed"):
        table.update({"page": (1, 1)})
    changed = table.row(0)
    changed["params"]["region_id"] = 1  # a row is the caller's own copy
    assert table.row(0)["params"]["region_id"] == 10000002
    assert pickle.loads(pickle.dumps(table)) == table


def test_page_table_json_round_trip_and_bad_input() -> None:
    table = PageTable.from_rows(rows(4))
    back = PageTable.from_json(table.to_json())
    assert back == table and list(back.rows()) == rows(4)
    assert PageTable.from_json(PageTable().to_json()).num_rows == 0
    with pytest.raises(ValueError, match="object of columns"):
        PageTable.from_json("[]")
    with pytest.raises(ValueError, match="one length"):
        PageTable({"a": [1], "b": [1, 2]})
    with pytest.raises(TypeError, match="lists of values"):
        PageTable({"a": "abc"})
    with pytest.raises(TypeError, match=r"column 'when'.*Timestamp.*JSON values"):
        PageTable({"when": [pd.Timestamp("2026-01-01")]})


def test_frozen_meta_on_attrs_is_shared_not_copied_by_derived_frames() -> None:
    meta = FrozenMeta({"operation": "op", "responses": PageTable.from_rows(rows(300))})
    df = pd.DataFrame({"price": np.arange(5.0), "type_id": np.arange(5)})
    df.attrs["esi"] = meta
    derived = [df["price"], df[df["price"] > 1], df.head(2), df.groupby("type_id").sum()]
    for frame in derived:
        assert frame.attrs["esi"] is meta
    assert derived[1].attrs["esi"]["responses"]["page"][-1] == 300
    with pytest.raises(TypeError, match="cannot be changed"):
        meta["operation"] = "x"


def test_page_table_alone_in_a_plain_dict_is_not_copied() -> None:
    table = PageTable.from_rows(rows(300))
    df = pd.DataFrame({"price": np.arange(3.0)})
    df.attrs["esi"] = {"operation": "x", "responses": table}
    column = df["price"]
    assert column.attrs["esi"] is not df.attrs["esi"]  # pandas deep-copies the dict ...
    assert column.attrs["esi"]["responses"] is table  # ... but not the table


def test_pandas_parquet_stores_the_metadata_and_it_comes_back(tmp_path: Path) -> None:
    table = PageTable.from_rows(rows(3))
    df = pd.DataFrame({"price": [1.0, 2.0]})
    df.attrs["esi"] = FrozenMeta({"operation": "op", "errors": [], "responses": table})
    assert json.loads(json.dumps(df.attrs))["esi"]["responses"]["page"] == [1, 2, 3]
    df.to_parquet(tmp_path / "orders.parquet")
    back = pd.read_parquet(tmp_path / "orders.parquet").attrs["esi"]
    assert back["responses"]["status"] == [200, 200, 200]  # same access, plain lists
    restored = FrozenMeta({**back, "responses": PageTable(back["responses"])})
    assert restored == df.attrs["esi"]
    assert isinstance(restored["responses"], PageTable)
