"""Parquet out: one file, or a hive-partitioned dataset that DuckDB, Polars, Dask and Spark read.

``to_parquet(df, "orders.parquet")`` writes one file. With ``partition_cols=`` it writes a
directory ``region_id=10000002/day=2026-08-04/part-<run>-0.parquet`` that grows by appends and
daily re-runs (``existing="replace_partitions"`` rewrites only the partitions a frame covers, so
re-running a job is idempotent; ``existing="overwrite"`` replaces the whole file or dataset).

Every write is atomic (see :mod:`esiframe.commit`): a write killed at any moment leaves the
complete old data or the complete new data, each partition and the dataset as a whole, and
readers never see a half-written file. The next write, or :func:`read_parquet`, finishes or
undoes a killed one and removes its leftovers.

What survives a round trip through :func:`read_parquet`:

- dtypes, through pandas' own ``b"pandas"`` schema metadata (nullable ``Int64``, ``str`` and
  ``string``, tz-aware timestamps, dates, categories), list columns come back as Python lists;
- ESI ``date`` columns (``datetime64`` columns named in ``df.attrs[DATE_COLUMNS_ATTR]``) are
  stored as Parquet DATE, so DuckDB and Spark see dates, and come back as ``datetime64[us]``;
- partition columns keep their real type (``int64`` stays ``int64``, dates stay dates) because
  the dataset's full schema is kept in a ``_common_metadata`` file next to the partitions, and
  category partition columns get their categories back;
- ``df.attrs``, as JSON (``default=str``, so timestamps come back as strings) under the
  ``b"esiframe"`` key of every file's schema metadata. A dataset written by one run gives back
  that run's ``attrs``; a dataset written by several runs (appends) gives
  ``{"esi_runs": [attrs of each run, oldest first]}`` — only runs whose files were read count.

Named index levels are written as columns; an unnamed index is positional and is not kept.
Rows of a dataset come back grouped by partition, not in the order they were written.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import operator
import os
import pathlib
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .commit import (
    JOURNAL,
    Change,
    apply_journal,
    commit_change,
    commit_lock,
    data_files,
    final_path,
    fsync_path,
    locked,
    recover,
    recover_file,
    write_staged,
)
from .frames import DATE_COLUMNS_ATTR
from .pagemeta import restore_attrs

__all__ = ["DATE_COLUMNS_ATTR", "read_parquet", "to_parquet"]

"""``df.attrs`` key listing the ``datetime64`` columns that hold ESI ``date`` values."""

Existing = Literal["error", "append", "replace_partitions", "overwrite"]

_META_KEY = b"esiframe"
_FORMAT_VERSION = 1
_COMMON_METADATA = "_common_metadata"
_EXISTING = ("error", "append", "replace_partitions", "overwrite")
_SUFFIXES = (".parquet", ".parq", ".pq")
_BACKENDS = ("numpy_nullable", "pyarrow")
_COMPRESSIONS = ("none", "snappy", "gzip", "brotli", "lz4", "zstd")
_JSON_SCALARS = (str, int, float, bool)
_NULLABLE: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.float32(): pd.Float32Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(),
    pa.large_string(): pd.StringDtype(),
}


@dataclass(frozen=True)
class Prepared:
    """A frame checked and converted for writing: the Arrow table (with its ``b"esiframe"``
    record in the schema metadata), the partition columns and that record."""

    table: pa.Table
    cols: list[str]
    meta: dict[str, Any]


def to_parquet(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    partition_cols: Sequence[str] | None = None,
    existing: Existing = "error",
    compression: str = "zstd",
) -> pathlib.Path:
    """Write ``df`` (with its ``attrs``) to a Parquet file, or to a hive-partitioned dataset.

    Without ``partition_cols`` the frame goes to the single file ``path``, whose name must end
    in ``.parquet`` (``.parq``, ``.pq``). With them, ``path`` is a directory of ``col=value``
    partitions, readable by DuckDB
    (``read_parquet('path/**/*.parquet', hive_partitioning=true)``), Polars, Dask and Spark.

    ``existing`` says what to do when ``path`` already holds data:

    - ``"error"`` (default): raise ``FileExistsError``;
    - ``"append"``: add new files beside the old ones (datasets only);
    - ``"replace_partitions"``: replace the file, or for a dataset replace only the partition
      directories this frame has rows for;
    - ``"overwrite"``: replace the file or the whole dataset (its partitioning and columns too).

    Partition columns must be integers, strings, booleans, dates or categories of those, and
    hold no nulls. The write is atomic (module docstring). Returns the path written.
    """
    if existing not in _EXISTING:
        raise ValueError(f"existing={existing!r} is not allowed; use one of {_EXISTING}")
    _check_compression(compression)
    prepared = prepare(df, partition_cols)
    target = pathlib.Path(path).expanduser()
    if prepared.cols:
        return _write_dataset(prepared, target, existing, compression.lower())
    return _write_file(prepared.table, target, existing, compression.lower())


def prepare(df: pd.DataFrame, partition_cols: Sequence[str] | None) -> Prepared:
    """Check ``df`` and turn it into the Arrow table that is written, before touching disk."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"to_parquet expects a pandas DataFrame, got {type(df).__name__}")
    try:
        attrs = json.loads(json.dumps(df.attrs, default=str))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"df.attrs cannot be stored as JSON ({exc}); use string keys") from exc
    frame = _with_named_index_as_columns(df).copy(deep=False)
    frame.attrs = attrs
    _check_column_names(frame)
    cols = _check_partition_cols(frame, partition_cols)
    table, dates = _dates_as_date32(pa.Table.from_pandas(frame, preserve_index=False), attrs)
    if cols:
        _check_partition_values(table, cols)
    meta = _run_metadata(attrs, table, cols, dates)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
    )
    return Prepared(table, cols, meta)


def _check_compression(compression: str) -> None:
    if not isinstance(compression, str) or compression.lower() not in _COMPRESSIONS:
        raise ValueError(
            f"compression={compression!r} is not supported; use one of {_COMPRESSIONS}"
        )


def _dates_as_date32(table: pa.Table, attrs: dict[str, Any]) -> tuple[pa.Table, list[str]]:
    """Store ESI ``date`` columns (naive ``datetime64`` at midnight) as Arrow/Parquet DATE.

    Returns the table and the columns converted (they are turned back on read).
    """
    converted: list[str] = []
    marked = attrs.get(DATE_COLUMNS_ATTR) or []
    for name in marked if isinstance(marked, list) else []:
        if name not in table.schema.names:
            continue
        index = table.schema.get_field_index(name)
        column = table.column(index)
        if not pa.types.is_timestamp(column.type) or column.type.tz is not None:
            continue  # already dates (pyarrow backend) or not what frames marks
        dates = column.cast(pa.date32())
        if pc.all(pc.equal(dates.cast(column.type), column)).as_py() is False:
            raise ValueError(
                f"column {name!r} is listed in df.attrs[{DATE_COLUMNS_ATTR!r}] as an ESI date "
                "but holds times of day; remove it from that list to store timestamps"
            )
        table = table.set_column(index, table.schema.field(index).with_type(pa.date32()), dates)
        converted.append(name)
    return table, converted


def read_parquet(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    dtype_backend: Literal["numpy_nullable", "pyarrow"] = "numpy_nullable",
) -> pd.DataFrame:
    """Read a Parquet file or a hive-partitioned dataset directory back into a DataFrame.

    ``filters`` is a ``pyarrow.dataset`` expression or the list-of-tuples form pandas and pyarrow
    accept (``[("region_id", "=", 10000002)]``); partition filters skip whole directories.
    ``dtype_backend="numpy_nullable"`` restores the dtypes the frame was written with (columns
    written by other tools get nullable dtypes); ``"pyarrow"`` gives ``pd.ArrowDtype`` columns.
    The frame has a RangeIndex and the ``attrs`` described in the module docstring.
    """
    if dtype_backend not in _BACKENDS:
        raise ValueError(f"dtype_backend={dtype_backend!r} is not allowed; use one of {_BACKENDS}")
    source = pathlib.Path(path).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"no Parquet file or dataset directory at {source}")
    table, runs, ours = _read_whole(source, columns, _filter_expression(filters))
    if dtype_backend == "pyarrow":
        out: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    else:
        out = _to_nullable_pandas(table)
        _restore_categories(out, runs)
        _restore_dates(out, runs)
    out = _with_named_index_as_columns(out).reset_index(drop=True)
    if runs or ours:
        out.attrs = _attrs_from_runs(runs)
    return out


def _read_whole(
    source: pathlib.Path, columns: Sequence[str] | None, expression: ds.Expression | None
) -> tuple[pa.Table, list[dict[str, Any]], bool]:
    """Read the data as one commit left it (never half of a change; module docstring)."""
    if source.is_file():
        dataset, ours = open_dataset(source)
        table = dataset.to_table(columns=_check_columns(columns, dataset.schema), filter=expression)
        return table, _runs(dataset, expression), ours
    for _ in range(3):
        if (source / JOURNAL).is_file():
            _finish_killed_write(source)
        with commit_lock(source, shared=True):
            if (source / JOURNAL).is_file():
                continue  # a writer was killed between our check and our lock: finish it first
            dataset, ours = open_dataset(source)
            wanted = _check_columns(columns, dataset.schema)
            table = dataset.to_table(columns=wanted, filter=expression)
            return table, _runs(dataset, expression), ours
    raise RuntimeError(f"{source} keeps showing an unfinished write; is it being rewritten?")


def _finish_killed_write(source: pathlib.Path) -> None:
    """Roll forward a committed change whose writer was killed, so the read sees it whole."""
    try:
        with locked(source), commit_lock(source, shared=False):
            apply_journal(source)
    except PermissionError:
        pass  # a read-only copy: read what is there


def _with_named_index_as_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Move named index levels into columns; an unnamed index only numbers rows (dropped later)."""
    named = [name for name in df.index.names if name is not None]
    if not named:
        return df
    clash = sorted(str(name) for name in named if name in df.columns)
    if clash:
        raise ValueError(
            f"index level(s) {clash} have the same name as a column; rename one, or drop the "
            "index with df.reset_index(drop=True)"
        )
    return df.reset_index(level=named)


def _check_column_names(df: pd.DataFrame) -> None:
    bad = [repr(name) for name in df.columns if not isinstance(name, str)]
    if bad:
        raise ValueError(
            f"Parquet column names must be strings; got {', '.join(bad)}. "
            "Rename them, e.g. df.columns = df.columns.map(str)"
        )
    duplicated = sorted(set(df.columns[df.columns.duplicated()]))
    if duplicated:
        raise ValueError(f"column names must be unique; duplicated: {duplicated}")


def _check_partition_cols(df: pd.DataFrame, partition_cols: Sequence[str] | None) -> list[str]:
    if partition_cols is None:
        return []
    if isinstance(partition_cols, str) or not isinstance(partition_cols, Iterable):
        raise TypeError(
            f"partition_cols must be a list of column names such as ['region_id'], "
            f"got {partition_cols!r}"
        )
    cols = list(partition_cols)
    if not cols:
        raise ValueError(
            "partition_cols is empty; name at least one column, or pass None for a single file"
        )
    unknown = [c for c in cols if c not in df.columns]
    if unknown:
        raise ValueError(
            f"partition_cols {unknown} are not columns of the frame; allowed: {list(df.columns)}"
        )
    if len(set(cols)) != len(cols):
        raise ValueError(f"partition_cols names a column twice: {cols}")
    if len(cols) == len(df.columns):
        raise ValueError(
            "partition_cols uses every column; at least one column must stay in the files"
        )
    return cols


def _partition_type_ok(typ: pa.DataType) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return bool(
        pa.types.is_integer(typ)
        or pa.types.is_boolean(typ)
        or pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_string_view(typ)
        or pa.types.is_date(typ)
    )


def _check_partition_values(table: pa.Table, cols: list[str]) -> None:
    for col in cols:
        typ = table.schema.field(col).type
        if not _partition_type_ok(typ):
            raise ValueError(
                f"partition column {col!r} has type {typ}; partition columns must be integers, "
                "strings, booleans, dates or categories of those (for timestamps, partition by "
                "a date column such as df['day'] = df['ts'].dt.date)"
            )
        nulls = table.column(col).null_count
        if nulls:
            raise ValueError(
                f"partition column {col!r} has {nulls} null value(s); hive partitions cannot "
                f"hold nulls, fill or drop them first (e.g. df.dropna(subset=[{col!r}]))"
            )


def _run_metadata(
    attrs: dict[str, Any], table: pa.Table, cols: list[str], dates: list[str]
) -> dict[str, Any]:
    """The ``b"esiframe"`` record of one write: when, the frame's attrs, the partitioning, and
    the categories of category columns (Parquet keeps only the values that occur in a file)."""
    categories: dict[str, dict[str, Any]] = {}
    for field in table.schema:
        if pa.types.is_dictionary(field.type):
            chunks = table.column(field.name).chunks
            values = chunks[0].dictionary.to_pylist() if chunks else []
            if all(isinstance(v, _JSON_SCALARS) for v in values):
                categories[field.name] = {"categories": values, "ordered": field.type.ordered}
    return {
        "format": _FORMAT_VERSION,
        "run_id": uuid.uuid4().hex,
        "written_at": dt.datetime.now(dt.UTC).isoformat(),
        "partition_cols": cols,
        "categories": categories,
        "date_columns": dates,
        "attrs": attrs,
    }


def _write_file(
    table: pa.Table, target: pathlib.Path, existing: str, compression: str
) -> pathlib.Path:
    if target.is_dir():
        raise IsADirectoryError(
            f"{target} is a directory; pass partition_cols=[...] to write a dataset there, "
            "or give a file path"
        )
    if existing == "append":
        raise ValueError(
            "existing='append' needs partition_cols: a single Parquet file cannot be appended "
            "to. Pass partition_cols=[...] to write a dataset, or existing='overwrite' "
            "to replace the file"
        )
    if target.suffix.lower() not in _SUFFIXES:
        raise ValueError(
            f"{str(target)!r} does not end in .parquet; to_parquet writes Parquet only. "
            "For CSV use df.to_csv(path), for JSON df.to_json(path); or name the file "
            "something.parquet"
        )
    with locked(target.parent):
        recover_file(target)
        if existing == "error" and target.exists():
            raise FileExistsError(
                f"{target} already exists; pass existing='overwrite' to replace it, or "
                "write a dataset with partition_cols=[...] and existing='append' to add to one"
            )
        run_id = uuid.uuid4().hex
        staged = write_staged(
            lambda p: pq.write_table(table, p, compression=compression), target, run_id
        )
        os.replace(target.with_name(staged), target)
        fsync_path(target.parent)
    return target


def _write_dataset(
    prepared: Prepared, target: pathlib.Path, existing: str, compression: str
) -> pathlib.Path:
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(
            f"{target} is a file; a partitioned dataset needs a directory path "
            "(or drop partition_cols to write a single file)"
        )
    with locked(target):
        recover(target)
        has_data = bool(data_files(target)) or (target / _COMMON_METADATA).is_file()
        if has_data and existing == "error":
            raise FileExistsError(
                f"{target} already holds data; pass existing='append' to add files, "
                "existing='replace_partitions' to replace the partitions this frame covers, "
                "or existing='overwrite' to replace the dataset"
            )
        table = prepared.table
        stored = None if existing == "overwrite" else stored_schema(target)
        if stored is not None:
            table = conform(table, stored, prepared.cols)
        replace = {"append": "none", "overwrite": "all"}.get(existing, "touched")
        fresh = existing == "overwrite" or not (target / _COMMON_METADATA).is_file()
        write_locked(
            table,
            target,
            prepared.cols,
            replace=replace,  # type: ignore[arg-type]
            compression=compression,
            common=table.schema if fresh else None,
        )
    return target


def stored_schema(target: pathlib.Path) -> pa.Schema | None:
    """The schema esiframe recorded for the dataset at ``target`` (None: not esiframe's)."""
    common = target / _COMMON_METADATA
    stored = pq.read_schema(common) if common.is_file() else None
    if stored is None or _esiframe_meta(stored.metadata) is None:
        return None
    return stored


def write_locked(
    table: pa.Table,
    target: pathlib.Path,
    cols: list[str],
    *,
    replace: Literal["none", "touched", "all"] | frozenset[pathlib.Path],
    compression: str,
    common: pa.Schema | None,
) -> list[str]:
    """Stage ``table`` as new files of the dataset and commit them in one change (lock held).

    ``replace`` says which old data files the change deletes: none (append), those in the
    partitions the table has rows in, all, or those in the given folders (plus the touched).
    ``common`` (if given) becomes the dataset's ``_common_metadata``. Returns the new files,
    relative to ``target``.
    """
    run_id = uuid.uuid4().hex
    staged = _stage_partitions(table, target, cols, run_id, compression)
    renames = [(_rel(p, target), _rel(final_path(p), target)) for p in staged]
    if common is not None:
        name = write_staged(
            lambda p: pq.write_metadata(common, p), target / _COMMON_METADATA, run_id
        )
        renames.append((name, _COMMON_METADATA))
    touched = {p.parent for p in staged} | (replace if isinstance(replace, frozenset) else set())
    old = data_files(target) if replace != "none" else []
    deletes = [_rel(p, target) for p in old if replace == "all" or p.parent in touched]
    commit_change(Change(target, tuple(renames), tuple(deletes)))
    if deletes:
        recover(target)  # removes the partition directories the change emptied
    return [final for _, final in renames if final != _COMMON_METADATA]


def _stage_partitions(
    table: pa.Table, target: pathlib.Path, cols: list[str], run_id: str, compression: str
) -> list[pathlib.Path]:
    """Write one staged file per partition (rows sorted into runs of equal partition values).

    Partition columns live in the folder names (``col=value``, formatted by Arrow's hive
    partitioning, as DuckDB and Spark expect), not in the files.
    """
    if not table.num_rows:
        return []
    data = table.replace_schema_metadata(_without_partition_columns(table.schema.metadata, cols))
    name = pathlib.Path(f"part-{run_id}-0.parquet")
    if not cols:
        return [target / write_staged(_parquet_writer(data, compression), target / name, run_id)]
    plain = pa.table({c: _plain(table.column(c)) for c in cols})
    order = pc.sort_indices(plain, sort_keys=[(c, "ascending") for c in cols])
    data, plain = data.take(order).drop_columns(cols), plain.take(order)
    change = np.zeros(plain.num_rows, dtype=bool)
    change[0] = True
    for col in cols:
        values = plain.column(col)
        change[1:] |= pc.not_equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
    starts = [*np.flatnonzero(change).tolist(), plain.num_rows]
    partitioning = ds.partitioning(plain.schema, flavor="hive")
    staged = []
    for start, end in itertools.pairwise(starts):
        row = plain.slice(start, 1).to_pylist()[0]
        expression = functools.reduce(operator.and_, [pc.field(c) == row[c] for c in cols])
        folder = target / partitioning.format(expression)[0]
        piece = _parquet_writer(data.slice(start, end - start), compression)
        staged.append(folder / write_staged(piece, folder / name, run_id))
    return staged


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Category (dictionary) values as their plain values: what a folder name holds."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _parquet_writer(data: pa.Table, compression: str) -> Callable[[pathlib.Path], None]:
    return lambda path: pq.write_table(data, path, compression=compression)


def _rel(path: pathlib.Path, root: pathlib.Path) -> str:
    return pathlib.Path(os.path.relpath(path, root)).as_posix()


def _without_partition_columns(metadata: dict[bytes, bytes], cols: list[str]) -> dict[bytes, bytes]:
    """Schema metadata for the data files, whose pandas metadata must not describe the columns
    that live in directory names (Dask rejects a category column it cannot find in a file)."""
    pandas_meta = json.loads(metadata[b"pandas"])
    pandas_meta["columns"] = [
        c for c in pandas_meta["columns"] if c.get("field_name", c.get("name")) not in cols
    ]
    return {**metadata, b"pandas": json.dumps(pandas_meta).encode()}


def conform(table: pa.Table, stored: pa.Schema, cols: list[str]) -> pa.Table:
    """Fit a frame to the dataset it is added to: same partitioning, same columns and types."""
    written = (_esiframe_meta(stored.metadata) or {}).get("partition_cols")
    if written != cols:
        raise ValueError(
            f"the dataset is partitioned by {written}, not {cols}; "
            "use the same partition_cols or write to a new path"
        )
    missing = [n for n in stored.names if n not in table.schema.names]
    extra = [n for n in table.schema.names if n not in stored.names]
    if missing or extra:
        raise ValueError(
            f"the frame's columns differ from the dataset's: missing {missing}, extra {extra}; "
            f"the dataset has {stored.names}"
        )
    table = table.select(stored.names)
    if table.schema.equals(stored, check_metadata=False):
        return table
    target = pa.schema(list(stored), metadata=table.schema.metadata)
    try:
        return table.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        differ = [
            f"{f.name}: {f.type} (dataset has {stored.field(f.name).type})"
            for f in table.schema
            if f.type != stored.field(f.name).type
        ]
        raise ValueError(
            f"the frame's column types do not fit the dataset's: {'; '.join(differ)}"
        ) from exc


def _esiframe_meta(metadata: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    raw = (metadata or {}).get(_META_KEY)
    if raw is None:
        return None
    meta = json.loads(raw)
    return meta if isinstance(meta, dict) else None


def _value_type(field: pa.Field) -> pa.Field:
    """The field with a category (dictionary) type replaced by its value type."""
    if pa.types.is_dictionary(field.type):
        return pa.field(field.name, field.type.value_type, field.nullable)
    return field


def open_dataset(source: pathlib.Path) -> tuple[ds.Dataset, bool]:
    """Open a file or a dataset directory; also say whether esiframe wrote the dataset."""
    if source.is_file():
        return ds.dataset(source, format="parquet"), False
    common = source / _COMMON_METADATA
    stored = pq.read_schema(common) if common.is_file() else None
    meta = None if stored is None else _esiframe_meta(stored.metadata)
    if stored is None or meta is None:
        dataset = ds.dataset(source, format="parquet", partitioning="hive")
        if not dataset.files:
            raise FileNotFoundError(f"{source} holds no Parquet files")
        return dataset, False
    cols = [c for c in meta.get("partition_cols", []) if c in stored.names]
    partitioning = ds.partitioning(
        pa.schema([_value_type(stored.field(c)) for c in cols]), flavor="hive"
    )
    schema = pa.schema([_value_type(f) for f in stored], metadata=stored.metadata)
    dataset = ds.dataset(source, format="parquet", partitioning=partitioning, schema=schema)
    return dataset, True


def _check_columns(columns: Sequence[str] | None, schema: pa.Schema) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        raise TypeError(f"columns must be a list of column names, got {columns!r}")
    wanted = list(columns)
    unknown = [c for c in wanted if c not in schema.names]
    if unknown:
        raise ValueError(f"columns {unknown} are not in the data; available: {schema.names}")
    return wanted


def _filter_expression(filters: Any) -> ds.Expression | None:
    if filters is None or isinstance(filters, ds.Expression):
        return filters
    try:
        return pq.filters_to_expression(filters)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"filters={filters!r} is not understood; pass a pyarrow.dataset expression or "
            "a list of (column, op, value) tuples such as [('region_id', '=', 10000002)]"
        ) from exc


def _runs(dataset: ds.Dataset, expression: ds.Expression | None) -> list[dict[str, Any]]:
    """The ``b"esiframe"`` records of the writes whose files this read touches, oldest first."""
    fragments: Iterable[Any] = (
        dataset.get_fragments() if expression is None else dataset.get_fragments(expression)
    )
    runs: dict[str, dict[str, Any]] = {}
    for fragment in fragments:
        meta = _esiframe_meta(fragment.physical_schema.metadata)
        if meta is not None:
            runs.setdefault(str(meta.get("run_id")), meta)
    return sorted(runs.values(), key=lambda m: (str(m.get("written_at")), str(m.get("run_id"))))


def _attrs_from_runs(runs: list[dict[str, Any]]) -> dict[Hashable | None, Any]:
    if not runs:
        return {}
    if len(runs) == 1:
        return restore_attrs(runs[0].get("attrs") or {})
    return {"esi_runs": [restore_attrs(run.get("attrs") or {}) for run in runs]}


def _to_nullable_pandas(table: pa.Table) -> pd.DataFrame:
    """Columns written by pandas get their recorded dtypes; others get nullable dtypes."""
    pandas_meta = json.loads((table.schema.metadata or {}).get(b"pandas", b"{}"))
    recorded = {c.get("field_name", c.get("name")) for c in pandas_meta.get("columns", [])}
    out: pd.DataFrame = table.to_pandas()
    for name in table.schema.names:
        if name not in out.columns:
            continue
        typ = table.schema.field(name).type
        if out[name].dtype == object and (pa.types.is_list(typ) or pa.types.is_large_list(typ)):
            out[name] = pd.Series(table.column(name).to_pylist(), dtype=object, index=out.index)
        elif name not in recorded:
            column = table.column(name).to_pandas(types_mapper=_NULLABLE.get)
            out[name] = column.set_axis(out.index)
    return out


def _restore_categories(out: pd.DataFrame, runs: list[dict[str, Any]]) -> None:
    """Give category columns the categories they were written with, unobserved ones included.

    Partition directories hold plain values and each file only the values it holds, so the
    categories come from the runs' records (in first-seen order), then any other values read.
    """
    recorded: dict[str, tuple[dict[Any, None], bool]] = {}
    for run in runs:
        for name, spec in (run.get("categories") or {}).items():
            known, _ = recorded.setdefault(name, ({}, bool(spec.get("ordered"))))
            known.update(dict.fromkeys(spec.get("categories", [])))
    for name, (known, ordered) in recorded.items():
        if name not in out.columns:
            continue
        column = out[name]
        values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column
        categories = {**known, **dict.fromkeys(pd.unique(values.dropna()))}
        out[name] = column.astype(pd.CategoricalDtype(list(categories), ordered=ordered))


def _restore_dates(out: pd.DataFrame, runs: list[dict[str, Any]]) -> None:
    """ESI ``date`` columns stored as DATE come back as the ``datetime64[us]`` frames give."""
    names = {name for run in runs for name in run.get("date_columns") or []}
    for name in sorted(names):
        if name in out.columns and not pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
