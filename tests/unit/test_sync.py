"""sync: upsert runs of an operation into a Parquet dataset, keep what ESI no longer returns."""

from __future__ import annotations

import pathlib
from typing import Any

import duckdb
import pandas as pd
import pytest

from esiframe.datasets import SyncRun, dataset_runs, default_key, sync, sync_frame
from esiframe.export import DATE_COLUMNS_ATTR, read_parquet, to_parquet

DAY0 = pd.Timestamp("2026-07-01")


def journal(first: int, last: int, amount: float = 1.0) -> pd.DataFrame:
    """Wallet-journal-like rows ``first``..``last`` (ESI's window), one per id."""
    ids = list(range(first, last + 1))
    df = pd.DataFrame(
        {
            "id": pd.Series(ids, dtype="int64"),
            "date": pd.to_datetime([DAY0 + pd.Timedelta(days=i % 30) for i in ids], utc=True),
            "amount": [amount * i for i in ids],
            "reason": pd.array([f"r{i}" if i % 3 else None for i in ids], dtype="string"),
            "ref_type": pd.Categorical(
                ["bounty" if i % 2 else "market" for i in ids],
                categories=["bounty", "market", "transfer"],
            ),
        }
    )
    df.attrs = {"esi": {"operation": "GetCharactersCharacterIdWalletJournal"}}
    return df


def history(days: range, type_ids: list[int], bump: float = 0.0) -> pd.DataFrame:
    """Market history as frames gives it: ``date`` is an ESI date, type_id a fan-out column."""
    rows = [
        {"date": DAY0 + pd.Timedelta(days=d), "type_id": t, "average": d + t + bump}
        for t in type_ids
        for d in days
    ]
    df = pd.DataFrame(rows).astype({"date": "datetime64[us]"})
    df.attrs = {"esi": {"operation": "GetMarketsRegionIdHistory"}, DATE_COLUMNS_ATTR: ["date"]}
    return df


def run(**parameters: Any) -> SyncRun:
    return SyncRun("GetCharactersCharacterIdWalletJournal", parameters)


def stored(path: pathlib.Path, key: str = "id") -> pd.DataFrame:
    return read_parquet(path).sort_values(key, ignore_index=True)


def files(path: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*.parquet"))}


def test_the_first_run_writes_every_row_and_returns_them(tmp_path: pathlib.Path) -> None:
    df = journal(1, 50)

    new = sync_frame(df, tmp_path / "j", key="id", run=run(character_id=7))

    pd.testing.assert_frame_equal(new, df)
    pd.testing.assert_frame_equal(stored(tmp_path / "j"), df, check_categorical=False)
    [entry] = dataset_runs(tmp_path / "j")
    assert entry["operation"] == "GetCharactersCharacterIdWalletJournal"
    assert entry["parameters"] == {"character_id": 7}
    assert (entry["rows_added"], entry["rows_changed"]) == (50, 0)


def test_a_moving_window_keeps_the_union_and_returns_new_and_changed_rows(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "j"
    sync_frame(journal(1, 50), path, key="id", run=run())
    later = journal(21, 70)
    later.loc[later["id"] == 30, "amount"] = -1.0  # ESI corrected one row
    later.loc[later["id"] == 34, "reason"] = pd.NA  # and emptied another

    new = sync_frame(later, path, key="id", run=run())

    assert new["id"].tolist() == [30, 34, *range(51, 71)]
    assert new.dtypes.equals(later.dtypes)
    back = stored(path)
    assert back["id"].tolist() == list(range(1, 71))  # 1..20 are gone from ESI, kept here
    assert back.loc[back["id"] == 30, "amount"].item() == -1.0
    assert pd.isna(back.loc[back["id"] == 34, "reason"].item())
    assert back.loc[back["id"] == 5, "amount"].item() == 5.0
    assert [(r["rows_added"], r["rows_changed"]) for r in dataset_runs(path)] == [(50, 0), (20, 2)]


def test_a_rerun_with_identical_data_changes_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "j"
    sync_frame(journal(1, 50), path, key="id", partition_cols=["ref_type"], run=run())
    before = files(path)

    new = sync_frame(journal(1, 50), path, key="id", partition_cols=["ref_type"], run=run())

    assert new.empty and new.dtypes.equals(journal(1, 1).dtypes)
    assert files(path) == before
    assert dataset_runs(path)[-1]["rows_added"] == 0 == dataset_runs(path)[-1]["rows_changed"]


def test_composite_keys_and_partitions_rewrite_only_what_changed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "h"
    key = ["date", "type_id"]
    sync_frame(
        history(range(0, 10), [34, 35]), path, key=key, partition_cols=["type_id"], run=run()
    )
    untouched = files(path / "type_id=35")

    new = sync_frame(history(range(5, 15), [34], bump=0.5), path, key=key, run=run())

    assert len(new) == 10 and set(new["type_id"]) == {34}
    assert files(path / "type_id=35") == untouched
    back = read_parquet(path)
    assert len(back) == 15 + 10
    assert back.groupby("type_id")["date"].nunique().to_dict() == {34: 15, 35: 10}
    assert str(back["date"].dtype) == "datetime64[us]"
    kinds = duckdb.sql(f"select distinct typeof(date) from read_parquet('{path}/**/*.parquet')")
    assert kinds.fetchall() == [("DATE",)]


def test_a_row_that_moves_partition_is_not_kept_twice(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "j"
    sync_frame(journal(1, 10), path, key="id", partition_cols=["ref_type"], run=run())
    moved = journal(4, 4)
    moved["ref_type"] = pd.Categorical(["transfer"], categories=["bounty", "market", "transfer"])

    sync_frame(moved, path, key="id", partition_cols=["ref_type"], run=run())
    with pytest.raises(ValueError, match=r"partitioned by \['ref_type'\], not \['id'\]"):
        sync_frame(moved, path, key="id", partition_cols=["id"], run=run())

    back = stored(path)
    assert back["id"].tolist() == list(range(1, 11))
    assert back.loc[back["id"] == 4, "ref_type"].item() == "transfer"


@pytest.mark.parametrize(
    ("key", "frame", "message"),
    [
        ("ref_id", journal(1, 3), r"key \['ref_id'\] must name columns"),
        ([], journal(1, 3), "must name columns"),
        ("ref_type", journal(1, 3), r"1 repeated key.*add columns to the key"),
        ("reason", journal(1, 3), "hold missing values"),
    ],
)
def test_bad_keys_are_refused_before_writing(
    tmp_path: pathlib.Path, key: Any, frame: pd.DataFrame, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sync_frame(frame, tmp_path / "j", key=key, run=run())
    assert not (tmp_path / "j").exists()


def test_a_dataset_esiframe_did_not_write_is_left_alone(tmp_path: pathlib.Path) -> None:
    (tmp_path / "j").mkdir()
    journal(1, 3).to_parquet(tmp_path / "j" / "other.parquet")

    with pytest.raises(ValueError, match="did not write"):
        sync_frame(journal(1, 5), tmp_path / "j", key="id", run=run())
    assert [p.name for p in (tmp_path / "j").iterdir()] == ["other.parquet"]


def test_a_single_file_path_is_refused(tmp_path: pathlib.Path) -> None:
    to_parquet(journal(1, 3), tmp_path / "j.parquet")

    with pytest.raises(NotADirectoryError, match="dataset directory"):
        sync_frame(journal(1, 5), tmp_path / "j.parquet", key="id", run=run())


# --- sync around a get ---------------------------------------------------------------------


class FakeGet:
    """Answers like ``ef.get``: the frame, with the cache states and validators ESI gave."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = journal(1, 20)
        self.cache = {"cache": 0, "fresh": 1}
        self.last_modified = "2026-08-04T11:00:00+00:00"

    def __call__(self, op: str, **params: Any) -> pd.DataFrame:
        self.calls.append((op, params))
        df = self.answer.copy()
        df.attrs = {
            "esi": {
                "operation": op,
                "parameters": params,
                "etag": '"v1"',
                "last_modified": self.last_modified,
                "cache": dict(self.cache),
            }
        }
        return df


OP = "GetCharactersCharacterIdWalletJournal"


def test_sync_skips_a_result_served_from_cache_that_the_dataset_already_holds(
    tmp_path: pathlib.Path,
) -> None:
    get, path = FakeGet(), tmp_path / "j"
    assert len(sync(get, OP, path, key="id", character_id=7)) == 20
    before, log = files(path), dataset_runs(path)

    get.cache = {"cache": 1, "fresh": 0}
    again = sync(get, OP, path, key="id", character_id=7)

    assert again.empty and len(get.calls) == 2
    assert files(path) == before and dataset_runs(path) == log
    assert log[0]["etag"] == '"v1"' and log[0]["last_modified"] == get.last_modified


def test_sync_merges_a_fresh_answer_even_from_cache_when_it_is_not_in_the_log(
    tmp_path: pathlib.Path,
) -> None:
    get, path = FakeGet(), tmp_path / "j"
    sync(get, OP, path, key="id", character_id=7)
    get.cache, get.answer = {"cache": 1}, journal(11, 30)
    get.last_modified = "2026-08-05T11:00:00+00:00"

    new = sync(get, OP, path, key="id", character_id=7)

    assert new["id"].tolist() == list(range(21, 31))
    assert stored(path)["id"].tolist() == list(range(1, 31))
    assert len(dataset_runs(path)) == 2


def test_sync_keys_by_the_schema_and_the_fanned_out_parameters(tmp_path: pathlib.Path) -> None:
    schema = {
        "type": "object",
        "required": ["date", "average"],
        "properties": {"date": {"type": "string", "format": "date"}, "average": {"type": "number"}},
    }
    answers = iter([history(range(0, 5), [34, 35]), history(range(3, 8), [34, 35], bump=1)])

    def get(op: str, **params: Any) -> pd.DataFrame:
        return next(answers)

    path = tmp_path / "h"
    sync(
        get, "GetMarketsRegionIdHistory", path, record_schema=schema, region_id=1, type_id=[34, 35]
    )
    new = sync(
        get, "GetMarketsRegionIdHistory", path, record_schema=schema, region_id=1, type_id=[34, 35]
    )

    assert len(new) == 10  # days 3..7 of both types: 2 changed + 3 new, each
    assert len(read_parquet(path)) == 16


def test_sync_without_key_or_schema_asks_for_a_key(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="sync needs key="):
        sync(FakeGet(), OP, tmp_path / "j", character_id=7)
    assert not (tmp_path / "j").exists()


@pytest.mark.parametrize(
    ("properties", "required", "key"),
    [
        ({"id": "integer", "ref_type": "string", "first_party_id": "integer"}, ["id"], ["id"]),
        (
            {"type_id": "integer", "location_id": "integer", "order_id": "integer"},
            ["type_id", "location_id", "order_id"],
            ["order_id"],
        ),
        ({"item_id": "integer", "type_id": "integer"}, ["item_id", "type_id"], ["item_id"]),
        ({"killmail_id": "integer", "killmail_hash": "string"}, ["killmail_id"], ["killmail_id"]),
        ({"date": "date", "average": "number"}, ["date", "average"], ["date"]),
        ({"from_id": "integer", "mail_id": "integer"}, [], ["mail_id"]),
        (
            {
                "date": "date",
                "quantity": "integer",
                "solar_system_id": "integer",
                "type_id": "integer",
            },
            ["date", "quantity", "solar_system_id", "type_id"],
            ["date", "solar_system_id", "type_id"],
        ),
        (
            {"activity_id": "integer", "blueprint_location_id": "integer", "job_id": "integer"},
            ["activity_id", "blueprint_location_id", "job_id"],
            ["job_id"],
        ),
    ],
)
def test_default_key_is_the_records_own_id(
    properties: dict[str, str], required: list[str], key: list[str]
) -> None:
    schema = {
        "type": "object",
        "required": required,
        "properties": {
            name: {"type": "string", "format": "date"} if kind == "date" else {"type": kind}
            for name, kind in properties.items()
        },
    }
    assert default_key(schema) == key


def test_default_key_gives_up_clearly() -> None:
    schema = {"type": "object", "properties": {"type_id": {"type": "integer"}}}
    with pytest.raises(ValueError, match=r"pass key="):
        default_key(schema)
