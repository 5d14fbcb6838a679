"""ResultStore: finished frames kept on disk come back identical, until they expire."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from esiframe.pagemeta import FrozenMeta, PageTable
from esiframe.results import ResultStore


def typed_frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "order_id": pd.array([1, 2], dtype="int64"),
            "volume": pd.array([5, None], dtype="Int64"),
            "is_buy_order": pd.array([True, None], dtype="boolean"),
            "range": pd.Categorical(["region", "station"], categories=["region", "station", "x"]),
            "issued": pd.to_datetime(["2026-08-01T10:00:00Z", "2026-08-02T11:00:00Z"]),
            "date": pd.to_datetime(["2026-08-01", "2026-08-02"]).astype("datetime64[us]"),
            "name": pd.array(["a", None], dtype="string"),
            "price": [1.5, float("nan")],
            "dogma": [[{"attribute_id": 1, "value": 2.0}], []],
        }
    )
    df.attrs["esi"] = FrozenMeta(
        {"operation": "GetX", "pages": 2, "responses": PageTable({"page": [1, 2]})}
    )
    return df


def test_a_stored_frame_comes_back_identical_with_its_attrs(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, clock=lambda: 1000.0)
    df = typed_frame()
    assert store.put("k", df, expires=2000.0)

    back = store.get("k")

    assert back is not None
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs == df.attrs
    assert isinstance(back.attrs["esi"], FrozenMeta)  # read-only and free to copy again
    assert isinstance(back.attrs["esi"]["responses"], PageTable)
    assert back["dogma"].iloc[0] == [{"attribute_id": 1, "value": 2.0}]


def test_arrow_backed_frames_stay_arrow_backed(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, clock=lambda: 1000.0)
    df = pd.DataFrame({"a": pd.array([1, None], dtype="int64[pyarrow]")})
    store.put("k", df, expires=2000.0)
    back = store.get("k")
    assert back is not None
    pd.testing.assert_frame_equal(back, df)


def test_expired_or_unknown_results_are_not_served(tmp_path: Path) -> None:
    now = [1000.0]
    store = ResultStore(tmp_path, clock=lambda: now[0])
    store.put("k", typed_frame(), expires=1500.0)
    assert store.get("other") is None
    now[0] = 1500.0
    assert store.get("k") is None


def test_a_cut_short_file_is_a_miss_not_an_error(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, clock=lambda: 1000.0)
    store.put("k", typed_frame(), expires=2000.0)
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".arrow"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert store.get("k") is None


def test_leftovers_of_dead_writers_are_cleaned_on_the_next_write(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, clock=lambda: 1000.0)
    dead = tmp_path / ".abc.arrow.123.tmp"
    dead.write_bytes(b"partial")
    os.utime(dead, (0, 0))
    store.put("k", typed_frame(), expires=2000.0)
    assert not dead.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("column", [[1, "a"], [{"a": 1}, 2.5]])
def test_frames_arrow_cannot_hold_are_not_stored(tmp_path: Path, column: list[object]) -> None:
    store = ResultStore(tmp_path, clock=lambda: 1000.0)
    assert not store.put("k", pd.DataFrame({"s": column}), expires=2000.0)
    assert store.get("k") is None


def test_a_store_that_cannot_write_says_so_instead_of_raising(tmp_path: Path) -> None:
    # The results folder cannot be made (a file stands in its place, as on a full or read-only
    # disk): put answers False, so the caller keeps the frame in memory, and get misses.
    blocked = tmp_path / "results"
    blocked.write_text("not a folder")
    store = ResultStore(blocked, clock=lambda: 1000.0)
    assert store.put("k", typed_frame(), expires=2000.0) is False
    assert store.get("k") is None
