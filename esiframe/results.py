"""Finished results kept on disk beside the HTTP cache, for warm starts in a new process.

A restarted notebook or a script run again asks for the same data; while the result is
within its ``Expires`` nothing can have changed (docs/esi.md §6), so decoding and typing
every cached page again is wasted work. :class:`ResultStore` keeps each finished frame as
one Arrow IPC file (pandas dtypes and ``df.attrs`` in its schema metadata) named by a
hash of the call's key, and serves it back until it expires.

Files are written under a hidden temporary name and renamed into place, so a killed
writer never leaves a half-written result that a reader could take for complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .pagemeta import restore_attrs

__all__ = ["RESULTS_DIR", "ResultStore"]

#: The folder of finished results, inside the cache directory.
RESULTS_DIR = "results"

_META = b"esiframe-result"
_SUFFIX = ".arrow"


class ResultStore:
    """Typed results by key, each valid until an epoch time; one file each."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.clock = clock

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX)

    def get(self, key: str) -> pd.DataFrame | None:
        """The stored frame for ``key`` if it exists, is whole and has not expired."""
        import pyarrow as pa

        path = self._path(key)
        try:
            with pa.memory_map(str(path)) as source:
                table = pa.ipc.open_file(source).read_all()
        except (OSError, pa.ArrowInvalid):
            return None
        meta = json.loads((table.schema.metadata or {}).get(_META, b"{}"))
        if meta.get("key") != key or meta.get("expires", 0) <= self.clock():
            return None
        frame = _to_pandas(table, arrow_backed=meta.get("arrow_backed", False))
        for name in meta.get("string_categories", []):
            frame[name] = _with_string_categories(frame[name])
        frame.attrs = restore_attrs(meta.get("attrs", {}))
        return frame

    def put(self, key: str, frame: pd.DataFrame, expires: float) -> bool:
        """Keep ``frame`` until ``expires``; False (nothing kept) if it cannot be stored."""
        import pyarrow as pa

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if not _cells_kept(frame, table):
                return False  # e.g. dicts lacking a key Arrow would add as None
            arrow_backed = len(frame.columns) > 0 and all(
                isinstance(t, pd.ArrowDtype) for t in frame.dtypes
            )
            about = {
                "key": key,
                "expires": expires,
                "arrow_backed": arrow_backed,
                "string_categories": _string_categories(frame),
            }
            meta = json.dumps({**about, "attrs": frame.attrs}, default=str)
        except (pa.ArrowException, TypeError, ValueError):
            return False  # e.g. a column of mixed Python objects: served from pages instead
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: meta})
        try:
            self._write(key, table)
        except OSError:  # a full disk, a folder made read-only: kept in memory instead
            return False
        return True

    def _write(self, key: str, table: Any) -> None:
        """``table`` as the file of ``key``, under a temporary name renamed into place."""
        import pyarrow as pa

        self.directory.mkdir(parents=True, exist_ok=True)
        self._prune()
        final = self._path(key)
        temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        try:
            with pa.OSFile(str(temp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
            os.replace(temp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def clear(self) -> None:
        """Forget every stored result."""
        for path in self._files():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [p for p in self.directory.iterdir() if p.name.endswith((_SUFFIX, ".tmp"))]

    def _prune(self) -> None:
        """Drop files past any plausible lifetime: expired results and dead writers' leftovers.

        A result is read back only within its Expires, which ESI keeps under a day; a file
        untouched for a day is of no use to anyone.
        """
        cutoff = time.time() - 86_400
        for path in self._files():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _cells_kept(frame: pd.DataFrame, table: Any) -> bool:
    """Whether the Python objects of object columns (lists, dicts) come back exactly."""
    return all(
        table.column(i).to_pylist() == frame.iloc[:, i].tolist()
        for i, dtype in enumerate(frame.dtypes)
        if pd.api.types.is_object_dtype(dtype)
    )


def _string_categories(frame: pd.DataFrame) -> list[str]:
    """Categorical columns whose categories are pandas' ``string`` dtype (enums, as typed
    from the spec); Arrow gives them back with plain ``str`` categories."""
    return [
        str(name)
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) and str(dtype.categories.dtype) == "string"
    ]


def _with_string_categories(column: pd.Series) -> pd.Series:
    dtype = column.dtype
    assert isinstance(dtype, pd.CategoricalDtype)
    categories = pd.Index(list(dtype.categories), dtype="string")
    codes = column.cat.codes.to_numpy()
    values = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories, dtype.ordered))
    return pd.Series(values, index=column.index, name=column.name)


def _to_pandas(table: Any, *, arrow_backed: bool) -> pd.DataFrame:
    """The frame as it was stored: Arrow-backed dtypes back as ArrowDtype, list and struct
    cells back as Python lists and dicts (pyarrow would give numpy arrays)."""
    import pyarrow as pa

    if arrow_backed:
        arrow: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
        return arrow
    frame: pd.DataFrame = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            frame[name] = pd.Series(column.to_pylist(), index=frame.index, dtype=object)
    return frame
