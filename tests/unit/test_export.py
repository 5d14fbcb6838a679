"""Parquet files and hive-partitioned datasets: round trips through pandas, DuckDB and Dask."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from typing import Any

import dask.dataframe as dd
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from esiframe.export import DATE_COLUMNS_ATTR, read_parquet, to_parquet

JITA = 10000002
AMARR = 10000043
DAY1 = dt.date(2026, 8, 3)
DAY2 = dt.date(2026, 8, 4)
EXPIRES = pd.Timestamp("2026-08-04T11:05:00Z")


def orders() -> pd.DataFrame:
    """Six market orders with one column of every kind esiframe produces."""
    df = pd.DataFrame(
        {
            "order_id": pd.Series([1, 2, 3, 4, 5, 6], dtype="int64"),
            "region_id": pd.Series([JITA, JITA, JITA, AMARR, AMARR, JITA], dtype="int64"),
            "day": [DAY1, DAY1, DAY2, DAY1, DAY2, DAY2],
            "hub": [
                "Jita IV - Moon 4",
                "Jita IV - Moon 4",
                "Perimeter",
                "Amarr VIII",
                "Amarr/2",
                "Perimeter",
            ],
            "volume": pd.array([10, None, 30, 40, None, 60], dtype="Int64"),
            "price": [5.25, 6.5, float("nan"), 1e9, 0.01, 7.0],
            "issued": pd.to_datetime(
                pd.Series(
                    [
                        "2026-08-03T10:00:00Z",
                        "2026-08-03T11:30:00Z",
                        None,
                        "2026-08-03T23:59:59Z",
                        "2026-08-04T00:00:01Z",
                        "2026-08-04T12:00:00Z",
                    ],
                ),
                utc=True,
            ),
            "order_type": pd.Categorical(
                ["buy", "sell", "sell", "buy", "sell", "buy"], categories=["buy", "sell", "all"]
            ),
            "location": pd.Series(["a", None, "c", "d", "e", "f"], dtype="str"),
            "note": pd.array(["x", pd.NA, "z", "w", "v", pd.NA], dtype="string"),
            "is_buy_order": [True, False, False, True, False, True],
            "items": [
                [{"type_id": 34, "name": "Tritanium"}],
                [],
                [{"type_id": 35, "name": None}, {"type_id": 36, "name": "Mexallon"}],
                [{"type_id": 37, "name": "Isogen"}],
                [],
                [{"type_id": 38, "name": "Nocxium"}],
            ],
        }
    )
    df.attrs = {
        "esi": {
            "operation": "GetMarketsRegionIdOrders",
            "parameters": {"region_id": JITA, "order_type": "all"},
            "compatibility_date": "2026-08-04",
            "pages": 2,
            "expires": EXPIRES,
            "last_modified": pd.Timestamp("2026-08-04T11:00:00Z"),
            "etag": '"abc123"',
            "cache": ["fresh", "revalidated"],
        }
    }
    return df


def by_order(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("order_id", ignore_index=True)


def assert_same_attrs(attrs: dict[Any, Any], written: dict[Any, Any]) -> None:
    """Attrs come back as JSON: timestamps become strings that parse to the same instant."""
    esi, original = attrs["esi"], written["esi"]
    assert pd.Timestamp(esi["expires"]) == original["expires"]
    assert pd.Timestamp(esi["last_modified"]) == original["last_modified"]
    rest = {k: v for k, v in original.items() if k not in ("expires", "last_modified")}
    # read back read-only: lists come back as tuples (docs of esiframe.pagemeta.FrozenMeta)
    assert json.loads(json.dumps({k: esi[k] for k in rest})) == json.loads(json.dumps(rest))


def parquet_files(path: pathlib.Path) -> list[pathlib.Path]:
    return sorted(path.rglob("*.parquet"))


# --- single file ---------------------------------------------------------------------------


def test_single_file_round_trip_keeps_values_dtypes_and_attrs(tmp_path: pathlib.Path) -> None:
    df = orders()
    written = to_parquet(df, tmp_path / "orders.parquet")

    assert written == tmp_path / "orders.parquet" and written.is_file()
    back = read_parquet(written)
    pd.testing.assert_frame_equal(back, df)
    assert isinstance(back.index, pd.RangeIndex)
    assert list(back["order_type"].cat.categories) == ["buy", "sell", "all"]
    assert back["items"][2] == [{"type_id": 35, "name": None}, {"type_id": 36, "name": "Mexallon"}]
    assert_same_attrs(back.attrs, df.attrs)


def test_single_file_attrs_also_reach_plain_pandas(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders.parquet")

    assert_same_attrs(pd.read_parquet(tmp_path / "orders.parquet").attrs, df.attrs)


def test_compression_is_applied(tmp_path: pathlib.Path) -> None:
    to_parquet(orders(), tmp_path / "z.parquet")
    to_parquet(orders(), tmp_path / "s.parquet", compression="snappy")

    assert (
        pq.ParquetFile(tmp_path / "z.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
    )
    assert (
        pq.ParquetFile(tmp_path / "s.parquet").metadata.row_group(0).column(0).compression
        == "SNAPPY"
    )


def test_named_index_is_kept_as_a_column(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df.set_index("order_id"), tmp_path / "orders.parquet")

    back = read_parquet(tmp_path / "orders.parquet")
    assert isinstance(back.index, pd.RangeIndex)
    assert back["order_id"].tolist() == df["order_id"].tolist()


def test_single_file_existing_error_keeps_the_old_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "orders.parquet"
    to_parquet(orders(), path)

    with pytest.raises(FileExistsError, match="existing='overwrite'"):
        to_parquet(orders().head(1), path)
    assert len(read_parquet(path)) == 6


def test_single_file_append_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "orders.parquet"
    with pytest.raises(ValueError, match="partition_cols"):
        to_parquet(orders(), path, existing="append")
    assert not path.exists()


def test_single_file_replace(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "orders.parquet"
    to_parquet(orders(), path)
    newer = orders().tail(2).reset_index(drop=True)

    to_parquet(newer, path, existing="replace_partitions")

    pd.testing.assert_frame_equal(read_parquet(path), newer)
    assert [p.name for p in tmp_path.iterdir()] == ["orders.parquet"]


# --- datasets ------------------------------------------------------------------------------

PARTS = ["region_id", "day", "hub"]


def test_dataset_round_trip_keeps_partition_types_and_attrs(tmp_path: pathlib.Path) -> None:
    df = orders()
    written = to_parquet(df, tmp_path / "orders", partition_cols=PARTS)

    assert written == tmp_path / "orders"
    assert (written / f"region_id={JITA}" / "day=2026-08-03").is_dir()
    back = read_parquet(written)
    assert isinstance(back.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(by_order(back), df)
    assert_same_attrs(back.attrs, df.attrs)


def test_category_partition_column_keeps_its_categories(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=["order_type"])

    back = by_order(read_parquet(tmp_path / "orders"))
    pd.testing.assert_series_equal(back["order_type"], df["order_type"])
    filtered = read_parquet(tmp_path / "orders", filters=[("order_type", "=", "buy")])
    assert list(filtered["order_type"].cat.categories) == ["buy", "sell", "all"]


def test_duckdb_reads_the_dataset_with_typed_partition_keys(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=PARTS)

    rel = duckdb.sql(
        f"select * from read_parquet('{tmp_path}/orders/**/*.parquet', hive_partitioning=true) "
        "order by order_id"
    )
    assert rel is not None
    types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    assert (types["region_id"], types["day"], types["hub"]) == ("BIGINT", "DATE", "VARCHAR")
    assert types["issued"] == "TIMESTAMP WITH TIME ZONE"
    rows = rel.to_arrow_table().to_pylist()
    assert [r["region_id"] for r in rows] == df["region_id"].tolist()
    assert [r["day"] for r in rows] == df["day"].tolist()
    assert [r["hub"] for r in rows] == df["hub"].tolist()
    assert [r["volume"] for r in rows] == [10, None, 30, 40, None, 60]
    assert [r["order_type"] for r in rows] == df["order_type"].tolist()
    assert [r["items"] for r in rows] == df["items"].tolist()
    issued = [None if r["issued"] is None else pd.Timestamp(r["issued"]) for r in rows]
    assert issued == [None if pd.isna(t) else t for t in df["issued"]]


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # dask's own call into pandas
def test_dask_reads_the_dataset(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=PARTS)

    got = by_order(dd.read_parquet(str(tmp_path / "orders")).compute())
    assert len(got) == len(df)
    assert got["region_id"].astype("int64").tolist() == df["region_id"].tolist()
    assert pd.to_datetime(got["day"].astype(str)).dt.date.tolist() == df["day"].tolist()
    assert got["hub"].astype(str).tolist() == df["hub"].tolist()
    pd.testing.assert_series_equal(got["volume"], df["volume"])
    pd.testing.assert_series_equal(got["issued"], df["issued"])
    assert got["price"].tolist()[:2] == [5.25, 6.5]


def test_dataset_existing_error(tmp_path: pathlib.Path) -> None:
    to_parquet(orders(), tmp_path / "orders", partition_cols=PARTS)

    with pytest.raises(FileExistsError, match="existing='append'"):
        to_parquet(orders(), tmp_path / "orders", partition_cols=PARTS)
    assert len(read_parquet(tmp_path / "orders")) == 6


def test_append_adds_files_and_keeps_every_run_metadata(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=PARTS)
    first_files = parquet_files(tmp_path / "orders")
    later = orders()
    later.attrs["esi"]["pages"] = 3

    to_parquet(later, tmp_path / "orders", partition_cols=PARTS, existing="append")

    back = read_parquet(tmp_path / "orders")
    assert len(back) == 2 * len(df)
    assert sorted(back["order_id"]) == sorted([*df["order_id"], *df["order_id"]])
    assert set(first_files) < set(parquet_files(tmp_path / "orders"))
    runs = back.attrs["esi_runs"]
    assert [run["esi"]["pages"] for run in runs] == [2, 3]
    assert_same_attrs(runs[0], df.attrs)


def test_replace_partitions_is_idempotent_and_leaves_other_partitions(
    tmp_path: pathlib.Path,
) -> None:
    df = orders()
    path = tmp_path / "orders"
    to_parquet(df, path, partition_cols=["region_id", "day"])
    rerun = df[(df["region_id"] == JITA) & (df["day"] == DAY2)].reset_index(drop=True)
    rerun["price"] = rerun["price"] * 2

    for _ in range(2):
        to_parquet(rerun, path, partition_cols=["region_id", "day"], existing="replace_partitions")

    back = by_order(read_parquet(path))
    untouched = df[~((df["region_id"] == JITA) & (df["day"] == DAY2))]
    expected = by_order(pd.concat([untouched, rerun]))
    expected.attrs = {}
    back.attrs = {}
    pd.testing.assert_frame_equal(back, expected)


def test_read_with_filters_and_columns(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=PARTS)

    back = read_parquet(
        tmp_path / "orders", columns=["order_id", "day"], filters=[("region_id", "=", AMARR)]
    )
    assert list(back.columns) == ["order_id", "day"]
    assert isinstance(back.index, pd.RangeIndex)
    assert sorted(back["order_id"]) == df.loc[df["region_id"] == AMARR, "order_id"].tolist()
    assert_same_attrs(back.attrs, df.attrs)
    by_expression = read_parquet(tmp_path / "orders", filters=ds.field("day") == DAY2)
    assert sorted(by_expression["order_id"]) == df.loc[df["day"] == DAY2, "order_id"].tolist()


def test_pyarrow_backend(tmp_path: pathlib.Path) -> None:
    df = orders()
    to_parquet(df, tmp_path / "orders", partition_cols=PARTS)

    back = by_order(read_parquet(tmp_path / "orders", dtype_backend="pyarrow"))
    assert all(isinstance(t, pd.ArrowDtype) for t in back.dtypes)
    assert str(back["region_id"].dtype) == "int64[pyarrow]"
    assert back["region_id"].tolist() == df["region_id"].tolist()
    assert back["volume"].isna().tolist() == df["volume"].isna().tolist()
    assert back["volume"].dropna().tolist() == df["volume"].dropna().tolist()


def test_empty_frame_dataset_reads_back_empty_with_columns(tmp_path: pathlib.Path) -> None:
    df = orders().iloc[:0]
    to_parquet(df, tmp_path / "orders", partition_cols=["region_id"])

    back = read_parquet(tmp_path / "orders")
    assert len(back) == 0
    assert list(back.columns) == list(df.columns)
    assert back["region_id"].dtype == "int64"


def test_reads_a_hive_dataset_written_by_another_tool(tmp_path: pathlib.Path) -> None:
    table = pa.table({"region_id": [JITA, AMARR, JITA], "volume": [1, None, 3]})
    ds.write_dataset(
        table,
        tmp_path / "foreign",
        format="parquet",
        partitioning=["region_id"],
        partitioning_flavor="hive",
    )

    back = read_parquet(tmp_path / "foreign").sort_values("region_id", ignore_index=True)
    assert back["region_id"].tolist() == [JITA, JITA, AMARR]
    assert str(back["volume"].dtype) == "Int64"
    assert back["volume"].isna().tolist() == [False, False, True]
    assert back.attrs == {}


def test_file_written_by_pandas_with_an_index_reads_back_with_a_range_index(
    tmp_path: pathlib.Path,
) -> None:
    df = orders()
    df.attrs = {}
    df.set_index("order_id").to_parquet(tmp_path / "named.parquet")
    df.tail(2).to_parquet(tmp_path / "unnamed.parquet")

    named = read_parquet(tmp_path / "named.parquet")
    assert isinstance(named.index, pd.RangeIndex)
    assert named["order_id"].tolist() == df["order_id"].tolist()
    unnamed = read_parquet(tmp_path / "unnamed.parquet")
    assert isinstance(unnamed.index, pd.RangeIndex)
    assert list(unnamed.columns) == list(df.columns)
    assert unnamed["order_id"].tolist() == df["order_id"].tail(2).tolist()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"partition_cols": ["region"]}, ValueError, r"\['region'\].*allowed: \['order_id'"),
        ({"partition_cols": "region_id"}, TypeError, "list of column names"),
        ({"partition_cols": []}, ValueError, "None for a single file"),
        ({"partition_cols": ["day", "day"]}, ValueError, "twice"),
        ({"partition_cols": ["location"]}, ValueError, "'location' has 1 null"),
        ({"partition_cols": ["price"]}, ValueError, "'price' has type double.*integers"),
        ({"partition_cols": ["issued"]}, ValueError, "'issued' has type timestamp"),
        ({"existing": "upsert"}, ValueError, "'replace_partitions', 'overwrite'"),
        ({"compression": "lzma"}, ValueError, "'zstd'"),
    ],
)
def test_bad_write_arguments_are_refused_before_writing(
    tmp_path: pathlib.Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        to_parquet(orders(), tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_non_string_column_names_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="column names must be strings"):
        to_parquet(pd.DataFrame({0: [1], "a": [2]}), tmp_path / "x.parquet")


def test_append_with_other_partitioning_is_refused(tmp_path: pathlib.Path) -> None:
    to_parquet(orders(), tmp_path / "orders", partition_cols=["region_id"])

    with pytest.raises(ValueError, match=r"partitioned by \['region_id'\]"):
        to_parquet(orders(), tmp_path / "orders", partition_cols=["day"], existing="append")
    assert len(read_parquet(tmp_path / "orders")) == 6


def test_append_with_other_columns_is_refused(tmp_path: pathlib.Path) -> None:
    to_parquet(orders(), tmp_path / "orders", partition_cols=["region_id"])

    with pytest.raises(ValueError, match=r"missing \['price'\]"):
        to_parquet(
            orders().drop(columns="price"),
            tmp_path / "orders",
            partition_cols=["region_id"],
            existing="append",
        )
    assert len(read_parquet(tmp_path / "orders")) == 6


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"columns": ["nope"]}, ValueError, r"\['nope'\] are not in the data; available"),
        ({"columns": "order_id"}, TypeError, "list of column names"),
        ({"dtype_backend": "numpy"}, ValueError, "'numpy_nullable', 'pyarrow'"),
        ({"filters": "region_id = 1"}, ValueError, "list of \\(column, op, value\\) tuples"),
    ],
)
def test_bad_read_arguments(
    tmp_path: pathlib.Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    to_parquet(orders(), tmp_path / "orders.parquet")
    with pytest.raises(error, match=message):
        read_parquet(tmp_path / "orders.parquet", **kwargs)


def test_read_missing_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing"):
        read_parquet(tmp_path / "nothing")


# --- overwrite, file names, ESI dates ------------------------------------------------------


def test_overwrite_replaces_a_single_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "orders.parquet"
    to_parquet(orders(), path)
    newer = orders().head(2)

    to_parquet(newer, path, existing="overwrite")

    pd.testing.assert_frame_equal(read_parquet(path), newer)
    assert [p.name for p in tmp_path.iterdir()] == ["orders.parquet"]


def test_overwrite_replaces_a_whole_dataset_even_with_other_partitioning(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "orders"
    to_parquet(orders(), path, partition_cols=PARTS)
    newer = orders().drop(columns=["note"]).tail(2).reset_index(drop=True)

    to_parquet(newer, path, partition_cols=["order_type"], existing="overwrite")

    back = by_order(read_parquet(path))
    assert back["order_id"].tolist() == [5, 6]
    assert "note" not in back.columns
    assert sorted(p.name for p in path.iterdir() if p.name != ".esiframe-commit.lock") == [
        "_common_metadata",
        "order_type=buy",
        "order_type=sell",
    ]
    rel = duckdb.sql(f"select order_id from read_parquet('{path}/**/*.parquet') order by 1")
    assert [r[0] for r in rel.fetchall()] == [5, 6]


@pytest.mark.parametrize("name", ["h.csv", "orders", "orders.json"])
def test_a_single_file_must_be_named_parquet(tmp_path: pathlib.Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"does not end in \.parquet.*df\.to_csv"):
        to_parquet(orders(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def esi_dates() -> pd.DataFrame:
    """Market history as frames gives it: the ESI ``date`` field as naive datetime64[us]."""
    df = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-08-02", "2026-08-03", None]).astype("datetime64[us]"),
            "type_id": [34, 34, 35],
            "average": [5.1, 5.2, 6.0],
        }
    )
    df.attrs = {"esi": {"operation": "GetMarketsRegionIdHistory"}, DATE_COLUMNS_ATTR: ["date"]}
    return df


@pytest.mark.parametrize("partition_cols", [None, ["type_id"], ["date"]])
def test_esi_date_columns_are_dates_in_duckdb_and_datetimes_again_in_pandas(
    tmp_path: pathlib.Path, partition_cols: list[str] | None
) -> None:
    df = esi_dates() if partition_cols != ["date"] else esi_dates().dropna()
    path = tmp_path / ("h.parquet" if partition_cols is None else "h")
    to_parquet(df, path, partition_cols=partition_cols)

    glob = str(path) if partition_cols is None else f"{path}/**/*.parquet"
    rel = duckdb.sql(f"select date, typeof(date) from read_parquet('{glob}') order by date")
    rows = rel.fetchall()
    assert {r[1] for r in rows} == {"DATE"}
    assert [r[0] for r in rows] == [d.date() if pd.notna(d) else None for d in df["date"]]
    back = read_parquet(path).sort_values("date", ignore_index=True)
    pd.testing.assert_series_equal(back["date"], df["date"].sort_values(ignore_index=True))
    assert back.attrs[DATE_COLUMNS_ATTR] == ["date"]


def test_unmarked_datetimes_stay_timestamps(tmp_path: pathlib.Path) -> None:
    df = esi_dates()
    df.attrs = {}
    to_parquet(df, tmp_path / "h.parquet")

    rel = duckdb.sql(f"select typeof(date) from read_parquet('{tmp_path}/h.parquet') limit 1")
    assert rel.fetchall() == [("TIMESTAMP",)]


def test_a_marked_date_column_holding_times_is_refused(tmp_path: pathlib.Path) -> None:
    df = esi_dates()
    df.loc[0, "date"] = pd.Timestamp("2026-08-02T10:30")

    with pytest.raises(ValueError, match=r"'date' is listed .* holds times of day"):
        to_parquet(df, tmp_path / "h.parquet")
    assert not (tmp_path / "h.parquet").exists()


def test_read_parquet_gives_back_the_compact_read_only_metadata(tmp_path: pathlib.Path) -> None:
    from esiframe.pagemeta import FrozenMeta, PageTable

    df = orders()
    responses = PageTable.from_rows([{"page": 1, "status": 200}, {"page": 2, "status": 200}])
    meta = {"operation": "GetMarketsRegionIdOrders", "responses": responses}
    df.attrs = {"esi": FrozenMeta(meta)}
    to_parquet(df, tmp_path / "o.parquet")

    back = read_parquet(tmp_path / "o.parquet")

    meta = back.attrs["esi"]
    assert isinstance(meta, FrozenMeta) and isinstance(meta["responses"], PageTable)
    assert list(meta["responses"]["status"]) == [200, 200]
    assert back["order_id"].attrs["esi"] is meta  # derived frames share it: nothing is copied
