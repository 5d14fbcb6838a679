"""Per-page metadata in a compact, immutable, columnar form for ``df.attrs``.

pandas deep-copies ``DataFrame.attrs`` into every derived object (a column, a
filter, a groupby), so a list of one dict per page makes ``df["price"]`` on a
300-page result cost milliseconds instead of microseconds. A :class:`PageTable`
holds the same detail as one tuple per column, cannot be changed, and so
``copy.deepcopy`` returns the very same object. ``to_json``/``from_json`` let a
Parquet export store it as text in the file's metadata and restore it.

:class:`FrozenMeta` does the same for the whole ``df.attrs["esi"]`` mapping, so
that even its few dozen scalar entries are not copied on every column access.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pandas as pd

__all__ = ["FrozenMeta", "PageTable"]

_FORMAT = "esiframe.PageTable/1"


def _frozen(value: Any, where: str) -> Any:
    """A JSON value made immutable: dicts become read-only mappings, lists tuples."""
    if value is None or isinstance(value, (str, bool, int, float, PageTable, FrozenMeta)):
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v, where) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v, where) for v in value)
    raise TypeError(
        f"PageTable {where} holds a {type(value).__name__}; only JSON values "
        "(str, int, float, bool, None, lists and dicts of them) are allowed"
    )


def _thawed(value: Any) -> Any:
    """The plain JSON form of a frozen value (dicts and lists again)."""
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


class PageTable:
    """One row per page (or request), one tuple per column; immutable.

    Build it with :meth:`from_rows` from the per-page dicts; read it back with
    ``table["status"]`` (a column), ``table.row(i)``/``iter(table)`` (dicts),
    ``len(table)`` or :meth:`to_frame`.
    """

    __slots__ = ("_columns", "_length")

    _columns: Mapping[str, tuple[Any, ...]]
    _length: int

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"PageTable columns must have one length, got {lengths}")
        frozen = {
            str(name): tuple(_frozen(v, f"column {name!r}") for v in values)
            for name, values in columns.items()
        }
        object.__setattr__(self, "_columns", MappingProxyType(frozen))
        object.__setattr__(self, "_length", next(iter(lengths.values()), 0))

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> PageTable:
        """Rows (dicts) -> columns; a key missing from a row is None there."""
        names = list(dict.fromkeys(k for row in rows for k in row))
        return cls({name: [row.get(name) for row in rows] for name in names})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a PageTable cannot be changed")

    def __deepcopy__(self, memo: dict[int, Any]) -> PageTable:
        return self  # immutable: pandas copies attrs on every derived frame, for free

    def __copy__(self) -> PageTable:
        return self

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, column: str) -> tuple[Any, ...]:
        try:
            return self._columns[column]
        except KeyError:
            raise KeyError(f"no column {column!r}; columns: {list(self._columns)}") from None

    def __contains__(self, column: object) -> bool:
        return column in self._columns

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def row(self, index: int) -> dict[str, Any]:
        """Page ``index`` as a plain dict (a fresh copy the caller may change)."""
        if not -self._length <= index < self._length:
            raise IndexError(f"page row {index} out of range; the table has {self._length}")
        return {name: _thawed(values[index]) for name, values in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.row(i) for i in range(self._length))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PageTable):
            return NotImplemented
        return dict(self._columns) == dict(other._columns)

    def __repr__(self) -> str:
        return f"PageTable({self._length} rows; columns {list(self._columns)})"

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (nested values as dicts/lists), for a look at it."""
        data = {name: [_thawed(v) for v in values] for name, values in self._columns.items()}
        return pd.DataFrame(data, index=pd.RangeIndex(self._length))

    def to_json(self) -> str:
        """Compact JSON text, columnar, that :meth:`from_json` reads back equal."""
        columns = {name: _thawed(values) for name, values in self._columns.items()}
        return json.dumps({"format": _FORMAT, "columns": columns}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PageTable:
        """The table :meth:`to_json` wrote; refuses other text with a clear error."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not a PageTable in JSON: expected format {_FORMAT!r}, got {found!r}")
        columns = data.get("columns")
        if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
            raise ValueError("PageTable JSON: 'columns' must map names to lists")
        return cls(columns)


_META_FORMAT = "esiframe.FrozenMeta/1"


class FrozenMeta(Mapping[str, Any]):
    """A read-only mapping of JSON values (and :class:`PageTable` values) that deep-copies
    to itself, for ``df.attrs["esi"]``. ``dict(meta)`` gives a shallow plain copy;
    nested dicts read back as read-only mappings, lists as tuples."""

    __slots__ = ("_data",)

    _data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        frozen = {str(k): _frozen(v, f"key {k!r}") for k, v in data.items()}
        object.__setattr__(self, "_data", MappingProxyType(frozen))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMeta cannot be changed; build a new one")

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenMeta:
        return self

    def __copy__(self) -> FrozenMeta:
        return self

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMeta({dict(self._data)!r})"

    def to_json(self) -> str:
        """JSON text that :meth:`from_json` reads back equal (PageTables included)."""
        return json.dumps({"format": _META_FORMAT, "data": _plain(self)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> FrozenMeta:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != _META_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(
                f"not FrozenMeta in JSON: expected format {_META_FORMAT!r}, got {found!r}"
            )
        restored = _restored(data.get("data"))
        if not isinstance(restored, dict):
            raise ValueError("FrozenMeta JSON: 'data' must be an object")
        return cls(restored)


def _plain(value: Any) -> Any:
    """JSON-ready form; PageTables are tagged so :func:`_restored` can rebuild them."""
    if isinstance(value, PageTable):
        return {_TABLE_TAG: json.loads(value.to_json())}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TABLE_TAG}:
            return PageTable.from_json(json.dumps(value[_TABLE_TAG]))
        return {k: _restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restored(v) for v in value]
    return value


_TABLE_TAG = "__esiframe_page_table__"
