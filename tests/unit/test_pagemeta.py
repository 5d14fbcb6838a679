"""Per-page metadata that copies for free and survives JSON (for Parquet)."""

from __future__ import annotations

import copy

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
    assert len(table) == 3
    assert table.columns == ("params", "page", "status", "cache", "etag")
    assert table["page"] == (1, 2, 3)
    assert table["etag"] == ('"1"', None, '"3"')
    assert table.row(0) == rows(3)[0]
    assert list(table) == rows(3)
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
    with pytest.raises(AttributeError):
        table._length = 5
    with pytest.raises(TypeError):
        table["params"][0]["region_id"] = 1  # type: ignore[index]
    changed = table.row(0)
    changed["params"]["region_id"] = 1  # a row is the caller's own copy
    assert table.row(0)["params"]["region_id"] == 10000002


def test_page_table_json_round_trip() -> None:
    table = PageTable.from_rows(rows(4))
    back = PageTable.from_json(table.to_json())
    assert back == table and list(back) == rows(4)
    assert PageTable.from_json(PageTable({}).to_json()) == PageTable({})
    with pytest.raises(ValueError, match=r"expected format 'esiframe.PageTable/1'"):
        PageTable.from_json('{"columns": {}}')
    with pytest.raises(ValueError, match="one length"):
        PageTable({"a": [1], "b": [1, 2]})
    with pytest.raises(TypeError, match=r"column 'when'.*Timestamp.*JSON values"):
        PageTable({"when": [pd.Timestamp("2026-01-01")]})


def test_frozen_meta_on_attrs_is_shared_not_copied_by_derived_frames() -> None:
    meta = FrozenMeta(
        {"operation": "GetMarketsRegionIdOrders", "responses": PageTable.from_rows(rows(300))}
    )
    df = pd.DataFrame({"price": np.arange(5.0), "type_id": np.arange(5)})
    df.attrs["esi"] = meta
    derived = [df["price"], df[df["price"] > 1], df.head(2), df.groupby("type_id").sum()]
    for frame in derived:
        assert frame.attrs["esi"] is meta
    assert derived[1].attrs["esi"]["responses"]["page"][-1] == 300
    with pytest.raises(TypeError):
        meta["operation"] = "x"  # type: ignore[index]


def test_page_table_alone_in_a_plain_dict_is_not_copied() -> None:
    table = PageTable.from_rows(rows(300))
    df = pd.DataFrame({"price": np.arange(3.0)})
    df.attrs["esi"] = {"operation": "x", "responses": table}
    column = df["price"]
    assert column.attrs["esi"] is not df.attrs["esi"]  # pandas deep-copies the dict ...
    assert column.attrs["esi"]["responses"] is table  # ... but not the table


def test_frozen_meta_json_round_trip_keeps_page_tables() -> None:
    meta = FrozenMeta(
        {
            "operation": "op",
            "parameters": {"region_id": 1},
            "errors": [],
            "responses": PageTable.from_rows(rows(2)),
        }
    )
    back = FrozenMeta.from_json(meta.to_json())
    assert dict(back) == dict(meta)
    assert isinstance(back["responses"], PageTable) and back["responses"] == meta["responses"]
    assert back["errors"] == () and back["parameters"]["region_id"] == 1
    with pytest.raises(ValueError, match=r"expected format 'esiframe\.FrozenMeta/1'"):
        FrozenMeta.from_json("[]")
