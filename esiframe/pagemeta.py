"""Per-page metadata in a compact, immutable, columnar form for ``df.attrs``.

pandas deep-copies ``DataFrame.attrs`` into every derived object (a column, a
filter, a groupby), so a list of one dict per page makes ``df["price"]`` on a
300-page result cost milliseconds instead of microseconds. A :class:`PageTable`
holds the same detail as one tuple per column (``table["status"]``), cannot be
changed, and so ``copy.deepcopy`` returns the very same object.
:class:`FrozenMeta` does the same for the whole ``df.attrs["esi"]`` mapping.

Both are read-only ``dict`` subclasses holding only JSON values, so
``json.dumps`` writes them as they are: pandas' own ``to_parquet`` (which
stores ``json.dumps(df.attrs)``) works, and ``read_parquet`` gives back the same
content as plain dicts and lists (a PageTable as ``{column: [values]}``), which
``PageTable(...)`` / ``FrozenMeta(...)`` turn back into the frozen forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

import pandas as pd

__all__ = ["FrozenMeta", "PageTable", "restore_attrs"]


class _FrozenDict(dict[str, Any]):
    """A dict that refuses changes, so sharing it is as good as copying it."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} cannot be changed; build a new one")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> _FrozenDict:
        return self  # pandas copies attrs into every derived frame: this makes it free

    def __copy__(self) -> _FrozenDict:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError(f"unhashable type: {type(self).__name__!r}")


def _frozen(value: Any, where: str) -> Any:
    """A JSON value made immutable: dicts become frozen dicts, lists tuples."""
    if value is None or isinstance(value, (str, bool, int, float, _FrozenDict)):
        return value
    if isinstance(value, Mapping):
        frozen = _FrozenDict()
        for k, v in value.items():
            dict.__setitem__(frozen, str(k), _frozen(v, where))
        return frozen
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v, where) for v in value)
    raise TypeError(
        f"{where} holds a {type(value).__name__}; only JSON values "
        "(str, int, float, bool, None, lists and dicts of them) are allowed"
    )


def _thawed(value: Any) -> Any:
    """The plain, changeable form of a frozen value (dicts and lists again)."""
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


class PageTable(_FrozenDict):
    """One column per detail, one row per page (or request): ``{column: tuple}``, frozen.

    ``PageTable({"page": [1, 2], "status": [200, 200]})``, or :meth:`from_rows`
    from per-page dicts. ``table["status"]`` is a column; :meth:`row`,
    :meth:`rows` and :meth:`to_frame` give rows; ``num_rows`` counts them.
    """

    __slots__ = ()

    def __init__(self, columns: Mapping[str, Sequence[Any]] | None = None) -> None:
        super().__init__()
        columns = columns or {}
        bad = [n for n, v in columns.items() if isinstance(v, (str, bytes, Mapping))]
        if bad or not all(isinstance(v, Sequence) for v in columns.values()):
            raise TypeError(f"PageTable columns must be lists of values; not so: {bad}")
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"PageTable columns must have one length, got {lengths}")
        for name, values in columns.items():
            dict.__setitem__(self, str(name), _frozen(list(values), f"column {name!r}"))

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> PageTable:
        """Rows (dicts) -> columns; a key missing from a row is None there."""
        names = list(dict.fromkeys(k for row in rows for k in row))
        return cls({name: [row.get(name) for row in rows] for name in names})

    def __getitem__(self, column: str) -> tuple[Any, ...]:
        try:
            values: tuple[Any, ...] = dict.__getitem__(self, column)
        except KeyError:
            raise KeyError(f"no column {column!r}; columns: {list(self)}") from None
        return values

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.values()), ()))

    def row(self, index: int) -> dict[str, Any]:
        """Row ``index`` as a plain dict (a fresh copy the caller may change)."""
        if not -self.num_rows <= index < self.num_rows:
            raise IndexError(f"page row {index} out of range; the table has {self.num_rows}")
        return {name: _thawed(values[index]) for name, values in self.items()}

    def rows(self) -> Iterator[dict[str, Any]]:
        return (self.row(i) for i in range(self.num_rows))

    def __repr__(self) -> str:
        return f"PageTable({self.num_rows} rows; columns {list(self)})"

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (nested values as dicts/lists), for a look at it."""
        data = {name: [_thawed(v) for v in values] for name, values in self.items()}
        return pd.DataFrame(data, index=pd.RangeIndex(self.num_rows))

    def to_json(self) -> str:
        """Compact JSON text, ``{column: [values]}``, that :meth:`from_json` reads back."""
        return json.dumps(self, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PageTable:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(
                f"PageTable JSON must be an object of columns, got {type(data).__name__}"
            )
        return cls(data)


class FrozenMeta(_FrozenDict):
    """A frozen ``dict`` of JSON values for ``df.attrs["esi"]``: nested dicts stay
    read-only dicts, lists become tuples, and a :class:`PageTable` value stays one.
    ``dict(meta)`` is a shallow plain copy."""

    __slots__ = ()

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        for key, value in (data or {}).items():
            dict.__setitem__(self, str(key), _frozen(value, f"FrozenMeta key {key!r}"))

    def __repr__(self) -> str:
        return f"FrozenMeta({dict(self)!r})"

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> FrozenMeta:
        """``df.attrs["esi"]`` as JSON gave it back (``read_parquet``, a stored result):
        frozen again, its ``responses`` columns a :class:`PageTable` again."""
        responses = data.get("responses")
        if isinstance(responses, Mapping) and not isinstance(responses, PageTable):
            data = {**data, "responses": PageTable(responses)}
        return cls(data)


def restore_attrs(attrs: Mapping[Any, Any]) -> dict[Any, Any]:
    """A frame's ``attrs`` read back from JSON, with ``attrs["esi"]`` a FrozenMeta again."""
    esi = attrs.get("esi")
    if not isinstance(esi, Mapping):
        return dict(attrs)
    return {**attrs, "esi": FrozenMeta.restore(esi)}
