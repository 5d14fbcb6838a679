"""Incremental Parquet datasets: upsert each run of an operation by key, keep what ESI forgot.

ESI only shows a window (the wallet journal's last 30 days, today's orders). :func:`sync_frame`
merges one result into a dataset on disk: rows whose key is new are added, rows whose key is
known replace the stored row when a value differs, and stored rows the result does not mention
stay. Only the partitions the result has rows in (and those a row moved out of) are rewritten,
atomically (:mod:`esiframe.commit`), and none when nothing is new or changed; the run (time,
operation, parameters, rows added and changed) is appended to the dataset's log in
``_common_metadata`` (:func:`dataset_runs`). :func:`sync` wraps it around a ``get``, reads the
stored rows while ``get`` waits on the network, and skips a run that ESI's cache says cannot
have changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pathlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .commit import Change, commit_change, data_files, locked, recover, write_staged
from .export import Prepared, conform, open_dataset, prepare, stored_schema, write_locked

__all__ = ["SyncRun", "dataset_runs", "default_key", "sync", "sync_frame"]

_RUNS_KEY = b"esiframe_runs"
_COMMON_METADATA = "_common_metadata"
# Id fields that name *another* entity (what the record refers to), never the record itself.
_REFERENCE_STEMS = frozenset(
    [
        *("type", "location", "system", "solar_system", "region", "constellation", "station"),
        *("structure", "character", "corporation", "alliance", "faction", "issuer", "client"),
        *("receiver", "sender", "owner", "creator", "assignee", "acceptor", "first_party"),
        *("second_party", "tax_receiver", "context", "planet", "moon", "star", "stargate"),
        *("destination", "market_group", "group", "category", "graphic", "icon", "victim"),
        *("attacker", "ship_type", "weapon_type", "aggressor", "defender", "ally", "ref"),
        *("activity", "blueprint", "facility", "installer", "recipient", "from", "to", "base"),
    ]
)


@dataclass(frozen=True)
class SyncRun:
    """What the caller knows about one run; the counts are added when it is recorded."""

    operation: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    time: dt.datetime | None = None
    etag: str | None = None
    last_modified: str | None = None

    def record(self, added: int, changed: int) -> dict[str, Any]:
        """The JSON entry of this run in the dataset's log."""
        when = self.time or dt.datetime.now(dt.UTC)
        return {
            "time": when.isoformat(),
            "operation": self.operation,
            "parameters": json.loads(json.dumps(dict(self.parameters), default=_logged)),
            "etag": self.etag,
            "last_modified": self.last_modified,
            "rows_added": added,
            "rows_changed": changed,
        }


def _logged(value: Any) -> Any:
    """A parameter as the run log keeps it: an ``each=`` frame by its size and a digest of
    every row (its text elides the middle rows, so two frames could look alike), else text."""
    if isinstance(value, pd.DataFrame):
        rows = value.to_json(orient="split", index=False, date_format="iso")
        digest = hashlib.sha256(rows.encode("utf-8")).hexdigest()
        return {"rows": len(value), "columns": [str(c) for c in value.columns], "sha256": digest}
    return str(value)


def default_key(record_schema: Mapping[str, Any]) -> list[str]:
    """The fields that identify a record of this response schema, for upserts.

    ``id`` if the record has one; else the integer ``*_id`` field the spec calls "Unique";
    else the first integer ``*_id`` field (required ones first) that does not name another
    entity (``order_id``, ``mail_id``; not ``type_id``, ``issuer_corporation_id``); else its
    required ``date`` and ``*_id`` fields together (market history: ``date``; the mining
    ledger: ``date``, ``solar_system_id``, ``type_id``). Raises ``ValueError`` when none fits:
    pass ``key=`` then.
    """
    props: Mapping[str, Any] = record_schema.get("properties") or {}
    required = set(record_schema.get("required") or [])
    if "id" in props:
        return ["id"]
    ids = [n for n, p in props.items() if n.endswith("_id") and p.get("type") == "integer"]
    unique = [n for n in ids if str(props[n].get("description", "")).startswith("Unique")]
    own = [n for n in sorted(ids, key=lambda n: n not in required) if not _names_other(n)]
    if unique or own:
        return [(unique or own)[0]]
    dates = [n for n, p in props.items() if n in required and p.get("format") == "date"]
    if dates or required & set(ids):  # rows of a ledger: one per (date, what, where)
        return [*dates, *(n for n in ids if n in required)]
    raise ValueError(
        f"cannot choose a key from the record's fields {sorted(props)}; pass key= with the "
        "column(s) that identify a row, e.g. key=['date', 'type_id']"
    )


def _names_other(field_name: str) -> bool:
    """Whether an ``*_id`` field refers to another entity (``blueprint_location_id``)."""
    stem = field_name.removesuffix("_id")
    return any(stem == ref or stem.endswith("_" + ref) for ref in _REFERENCE_STEMS)


def sync_frame(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    key: str | Sequence[str],
    partition_cols: Sequence[str] | None = None,
    run: SyncRun,
    compression: str = "zstd",
) -> pd.DataFrame:
    """Upsert ``frame`` into the Parquet dataset at ``path`` by ``key``; return new/changed rows.

    ``path`` is a dataset directory (created on the first run), hive-partitioned by
    ``partition_cols`` or unpartitioned (later runs may leave ``partition_cols`` out). Rows of
    the dataset that ``frame`` does not hold are kept. The returned rows are those of
    ``frame`` whose key was not stored or whose values differ from the stored row, with
    ``frame``'s dtypes and a new RangeIndex.
    """
    keys = _check_key(frame, key)
    target = pathlib.Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} is a file; sync writes a dataset directory")
    if partition_cols is None:  # later runs need not repeat the dataset's partitioning
        partition_cols = _partitioned_by(target)
    prepared = prepare(frame, list(partition_cols) if partition_cols else None)
    with locked(target):
        recover(target)
        return _sync_locked(frame, prepared, target, keys, run, compression, None)


def _sync_locked(
    frame: pd.DataFrame,
    prepared: Prepared,
    target: pathlib.Path,
    keys: list[str],
    run: SyncRun,
    compression: str,
    preread: pa.Table | None,
) -> pd.DataFrame:
    """:func:`sync_frame` once checked and locked; ``preread`` is the whole stored dataset
    with a ``__filename`` column if :func:`sync` read it while ``get`` was fetching."""
    stored = stored_schema(target)
    if stored is None and data_files(target):
        raise ValueError(
            f"{target} holds Parquet files esiframe did not write; sync into a new path"
        )
    if stored is None:
        record = run.record(len(frame), 0)
        _write(prepared.table, target, prepared.cols, frozenset(), record, None, compression)
        return _rows(frame, np.ones(len(frame), dtype=bool))
    table = conform(prepared.table, stored, prepared.cols)
    fresh, merged, folders = _upsert(table, target, keys, prepared.cols, preread)
    record = run.record(int(fresh[0].sum()), int(fresh[1].sum()))
    _write(merged, target, prepared.cols, folders, record, stored, compression)
    return _rows(frame, fresh[0] | fresh[1])


def sync(
    get: Callable[..., pd.DataFrame],
    op: str,
    path: str | os.PathLike[str],
    key: str | Sequence[str] | None = None,
    partition_cols: Sequence[str] | None = None,
    *,
    record_schema: Mapping[str, Any] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Fetch ``get(op, **params)`` and upsert it into the dataset at ``path``.

    ``key`` defaults to :func:`default_key` of ``record_schema`` plus the columns the request
    added (fan-out and ``each=`` values such as ``type_id``). A result served entirely from the
    cache whose answer (operation, parameters, ``Last-Modified``, ETag) is already in the
    dataset's log cannot hold anything new: nothing is written and no rows are returned.
    The stored dataset is read while ``get`` waits on the network, under the dataset's lock.
    Returns the new or changed rows.
    """
    target = pathlib.Path(path).expanduser()
    if not (target.is_dir() and stored_schema(target) is not None):
        frame = get(op, **params)
        run = _run_of(frame, op, params)
        keys = key if key is not None else _key_for(frame, record_schema, params)
        return sync_frame(frame, target, key=keys, partition_cols=partition_cols, run=run)
    with locked(target):
        recover(target)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(_read_all, target)
            frame = get(op, **params)
            preread = pending.result()
        run = _run_of(frame, op, params)
        if _from_cache(frame.attrs.get("esi") or {}) and _already_synced(target, run):
            return _rows(frame, np.zeros(len(frame), dtype=bool))
        keys = _check_key(frame, key if key is not None else _key_for(frame, record_schema, params))
        cols = list(partition_cols) if partition_cols is not None else _partitioned_by(target)
        prepared = prepare(frame, cols or None)
        return _sync_locked(frame, prepared, target, keys, run, "zstd", preread)


def _run_of(frame: pd.DataFrame, op: str, params: Mapping[str, Any]) -> SyncRun:
    """What ``get``'s metadata says about this run (operation, parameters, validators)."""
    esi = frame.attrs.get("esi")
    esi = esi if isinstance(esi, dict) else {}
    asked = dict(esi.get("parameters") or params)
    if params.get("each") is not None:  # get's metadata leaves the each= rows out
        asked["each"] = params["each"]
    return SyncRun(
        operation=str(esi.get("operation") or op),
        parameters=asked,
        etag=esi.get("etag"),
        last_modified=None if esi.get("last_modified") is None else str(esi["last_modified"]),
    )


def _read_all(target: pathlib.Path) -> pa.Table | None:
    """Every stored row with the file it is in (``__filename``), or None for no files."""
    dataset, _ = open_dataset(target)
    if not dataset.files:
        return None
    return dataset.to_table(columns=[*dataset.schema.names, "__filename"])


def _from_cache(esi: Mapping[str, Any]) -> bool:
    """Whether every page of the result came from the cache (no request reached ESI)."""
    counts = esi.get("cache")
    if isinstance(counts, Mapping):
        return sum(counts.values()) > 0 and all(
            n == 0 for state, n in counts.items() if state != "cache"
        )
    if isinstance(counts, list | tuple):
        return bool(counts) and all(state == "cache" for state in counts)
    return False


def _already_synced(path: str | os.PathLike[str], run: SyncRun) -> bool:
    """Whether the dataset's log holds a run with this exact answer."""
    if run.etag is None and run.last_modified is None:
        return False
    mine = run.record(0, 0)
    same = ("operation", "parameters", "etag", "last_modified")
    return any(all(r.get(k) == mine[k] for k in same) for r in dataset_runs(path))


def _key_for(
    frame: pd.DataFrame, record_schema: Mapping[str, Any] | None, params: Mapping[str, Any]
) -> list[str]:
    """The record's own key plus the request's parameters that became columns (fan-out)."""
    if record_schema is None:
        raise ValueError(
            "sync needs key= (the column(s) identifying a row, e.g. key='order_id') when "
            "no record schema is given to choose one"
        )
    fields = set(record_schema.get("properties") or {})
    added = [c for c in frame.columns if c in params and c not in fields]
    return [*default_key(record_schema), *added]


def _partitioned_by(target: pathlib.Path) -> list[str]:
    stored = stored_schema(target) if target.is_dir() else None
    meta = json.loads((stored.metadata or {}).get(b"esiframe", b"{}")) if stored else {}
    cols = meta.get("partition_cols") if isinstance(meta, dict) else None
    return [str(c) for c in cols] if isinstance(cols, list) else []


def _check_key(frame: pd.DataFrame, key: str | Sequence[str]) -> list[str]:
    keys = [key] if isinstance(key, str) else list(key)
    unknown = [k for k in keys if k not in frame.columns]
    if not keys or unknown:
        raise ValueError(
            f"key {unknown or keys} must name columns of the frame; allowed: {list(frame.columns)}"
        )
    if frame[keys].isna().any().any():
        raise ValueError(f"key columns {keys} hold missing values; a key must identify each row")
    duplicated = frame.duplicated(subset=keys)
    if duplicated.any():
        example = frame.loc[duplicated, keys].head(3).to_dict("records")
        raise ValueError(
            f"key {keys} does not identify rows: {int(duplicated.sum())} repeated key(s), "
            f"e.g. {example}; add columns to the key"
        )
    return keys


def _upsert(
    table: pa.Table,
    target: pathlib.Path,
    keys: list[str],
    cols: list[str],
    preread: pa.Table | None,
) -> tuple[tuple[Any, Any], pa.Table | None, frozenset[pathlib.Path]]:
    """Merge ``table`` (the frame fitted to the dataset) into the stored rows it touches.

    Returns the masks (over the frame's rows) of new keys and of changed rows, the merged
    rows of the affected partition folders (None: nothing to write) and those folders.
    """
    dataset, _ = open_dataset(target)
    folders = _folders(dataset, table, target, cols)
    others = [f for f in dataset.files if pathlib.Path(f).parent not in folders]
    if others:
        # Rows may move partition (an order whose day changed): their old folder changes too.
        found = _rows_of(dataset, target, others, [*keys, "__filename"], preread)
        hits = _index(found, keys).isin(_index(table, keys))
        names = pc.unique(found.column("__filename").filter(pa.array(hits))).to_pylist()
        folders |= {pathlib.Path(str(n)).parent for n in names}
    inside = [f for f in dataset.files if pathlib.Path(f).parent in folders]
    old = _rows_of(dataset, target, inside, table.schema.names, preread).cast(table.schema)
    position = _index(old, keys).get_indexer(_index(table, keys))
    matched = position >= 0
    changed = np.zeros(len(position), dtype=bool)
    changed[matched] = _differs(table.take(np.flatnonzero(matched)), old.take(position[matched]))
    if not (~matched | changed).any():
        return (~matched, changed), None, frozenset(folders)
    kept = old.filter(pa.array(~_index(old, keys).isin(_index(table, keys))))
    merged = pa.concat_tables([kept, table]).unify_dictionaries()
    return (~matched, changed), merged, frozenset(folders)


def _rows_of(
    dataset: ds.Dataset,
    target: pathlib.Path,
    files: list[str],
    columns: list[str],
    preread: pa.Table | None,
) -> pa.Table:
    """The given columns of the rows stored in ``files``: from ``preread`` or from disk."""
    if preread is None:
        return _subset(dataset, target, files).to_table(columns=columns)
    wanted = pc.is_in(preread.column("__filename"), value_set=pa.array(files, pa.string()))
    return preread.filter(wanted).select(columns)


def _index(table: pa.Table, keys: list[str]) -> pd.Index:
    """The key values of ``table``'s rows as a pandas index (a MultiIndex for composite keys)."""
    frame = table.select(keys).to_pandas()
    if len(keys) == 1:
        single: pd.Index = pd.Index(frame[keys[0]])
        return single
    index: pd.Index = pd.MultiIndex.from_frame(frame)
    return index


def _folders(
    dataset: ds.Dataset, table: pa.Table, target: pathlib.Path, cols: list[str]
) -> set[pathlib.Path]:
    """The partition folders the frame's rows go to (the dataset itself when unpartitioned)."""
    if not cols:
        return {target}
    values = table.select(cols).group_by(cols).aggregate([]).to_pylist()
    partitioning = dataset.partitioning
    found = set()
    for row in values:
        expression = pc.field(cols[0]) == row[cols[0]]
        for col in cols[1:]:
            expression = expression & (pc.field(col) == row[col])
        found.add(target / partitioning.format(expression)[0])
    return found


def _subset(dataset: ds.Dataset, target: pathlib.Path, files: list[str]) -> ds.Dataset:
    """Some of the dataset's files, read with its schema and partitioning."""
    return ds.dataset(
        files,
        schema=dataset.schema,
        format="parquet",
        partitioning=dataset.partitioning,
        partition_base_dir=str(target),
    )


def _differs(new: pa.Table, old: pa.Table) -> Any:
    """Per row: does any column of ``new`` differ from ``old`` (the same key's stored row)?"""
    differ = np.zeros(new.num_rows, dtype=bool)
    for name in new.schema.names:
        a, b = new.column(name), old.column(name)
        if pa.types.is_dictionary(a.type):
            a, b = a.cast(a.type.value_type), b.cast(a.type.value_type)
        try:
            same = pc.equal(a, b)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # lists, structs, maps
            same = pa.array([x == y for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)])
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same = pc.or_(pc.fill_null(same, False), both_null)
        differ |= ~same.to_numpy(zero_copy_only=False)
    return differ


def _write(
    table: pa.Table | None,
    target: pathlib.Path,
    cols: list[str],
    folders: frozenset[pathlib.Path],
    record: dict[str, Any],
    stored: pa.Schema | None,
    compression: str,
) -> None:
    """Commit the merged partitions (if any) and the run log in one change (lock held)."""
    base = stored if stored is not None else table.schema if table is not None else None
    assert base is not None
    runs = [*_log(base), record]
    common = base.with_metadata({**(base.metadata or {}), _RUNS_KEY: json.dumps(runs).encode()})
    if table is not None:
        write_locked(table, target, cols, replace=folders, compression=compression, common=common)
        return
    staged = write_staged(
        lambda p: pq.write_metadata(common, p), target / _COMMON_METADATA, uuid.uuid4().hex
    )
    commit_change(Change(target, ((staged, _COMMON_METADATA),), ()))


def _log(schema: pa.Schema) -> list[dict[str, Any]]:
    raw = (schema.metadata or {}).get(_RUNS_KEY)
    runs = json.loads(raw) if raw else []
    return runs if isinstance(runs, list) else []


def _rows(frame: pd.DataFrame, mask: Any) -> pd.DataFrame:
    """The frame's rows under ``mask``, same dtypes and attrs, numbered from 0."""
    out = frame.loc[np.asarray(mask, dtype=bool)].reset_index(drop=True)
    out.attrs = frame.attrs
    return out


def dataset_runs(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The log of :func:`sync_frame` runs recorded in the dataset at ``path``, oldest first."""
    common = pathlib.Path(path).expanduser() / _COMMON_METADATA
    if not common.is_file():
        return []
    return _log(pq.read_schema(common))
