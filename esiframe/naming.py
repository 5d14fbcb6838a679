"""Names for EVE ids: lookups that survive invalid ids, and names beside id columns.

ESI answers ``PostUniverseNames`` (and ``PostCharactersAffiliation``) with a 404 for the
*whole* batch when any one id in it is invalid (docs/esi.md §1.9). :func:`resolve` then
splits that batch in halves until every bad id stands alone, so one bad id among 1000
costs about log2(1000) extra requests, and every valid id still gets its row.

:func:`label` puts a ``<stem>_name`` column after each column that holds ids of an entity
ESI can name (``type_id`` -> ``type_name``). Columns that are not entity ids
(``order_id``, ``contract_id``, journal ids ...) cost nothing. Both are pure: the lookup
of one batch is passed in, so they are tested without a server.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from .errors import ClientError, ParameterError

__all__ = ["BATCH", "Lookup", "NameBook", "clean_ids", "entity_columns", "label", "resolve"]

#: PostUniverseNames takes at most this many ids per request (its body's maxItems).
BATCH = 1000

#: One batch of ids -> a frame with ``id``, ``name`` and ``category`` columns; raises
#: ClientError (404) when the batch holds an id ESI cannot resolve.
Lookup = Callable[[list[int]], pd.DataFrame]

#: The last word of an ``<stem>_id`` column whose ids PostUniverseNames can name:
#: characters, corporations, alliances, stations, systems, constellations, regions, types
#: and factions, and the roles that hold one of them (an issuer is a character or a
#: corporation, a location a station or a system). Structures, groups, orders, contracts,
#: items, killmails and journal entries are not entities it names.
_ENTITY_WORDS = frozenset(
    {
        "acceptor",
        "alliance",
        "assignee",
        "buyer",
        "ceo",
        "character",
        "client",
        "constellation",
        "corporation",
        "creator",
        "faction",
        "issuer",
        "location",
        "owner",
        "party",
        "receiver",
        "recipient",
        "region",
        "seller",
        "sender",
        "station",
        "system",
        "type",
    }
)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def clean_ids(ids: Any) -> list[int]:
    """``ids`` as a list of distinct Python ints, in first-seen order.

    Accepts any iterable of integers, numpy and pandas ones included. A string, a lone
    number, a missing value or a non-integer raises :class:`ParameterError` naming it.
    """
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise ParameterError(f"names() takes a list of ids, got {ids!r}; e.g. names([34, 35])")
    out: dict[int, None] = {}
    for value in ids:
        if _is_missing(value):
            raise ParameterError(f"names() got a missing id ({value!r}); drop it first")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ParameterError(f"names() takes whole-number ids, got {value!r}")
        out[int(value)] = None
    return list(out)


def resolve(
    ids: Sequence[int], lookup: Lookup, batch: int = BATCH
) -> tuple[pd.DataFrame, list[int]]:
    """Every valid id's row, and the ids ESI said were invalid (in the order given).

    Each batch is asked once; a batch ESI refuses is halved. When the left half of a
    refused batch turns out whole, the right half must hold the bad id, so it is split
    without being asked as a whole.
    """
    frames: list[pd.DataFrame] = []
    invalid: list[int] = []
    for start in range(0, len(ids), batch):
        _settle(list(ids[start : start + batch]), False, lookup, frames, invalid)
    order = {value: n for n, value in enumerate(ids)}
    invalid.sort(key=order.__getitem__)
    found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return found, invalid


def _settle(
    chunk: list[int],
    known_bad: bool,
    lookup: Lookup,
    frames: list[pd.DataFrame],
    invalid: list[int],
) -> bool:
    """Resolve ``chunk`` into ``frames``/``invalid``; True when every id in it was valid."""
    if not known_bad:
        try:
            frames.append(lookup(chunk))
            return True
        except ClientError as exc:
            if exc.status != 404:  # only a 404 means "an id in this batch is invalid"
                raise
    if len(chunk) == 1:
        invalid.append(chunk[0])
        return False
    middle = len(chunk) // 2
    left_whole = _settle(chunk[:middle], False, lookup, frames, invalid)
    _settle(chunk[middle:], left_whole, lookup, frames, invalid)
    return False


class NameBook:
    """The ids a client has already resolved, per language: ESI's rows, and the ids it refused.

    An entity's id never changes what it names within a session, and an id ESI cannot name
    stays unnamable, so labelling frame after frame asks ESI only for ids not seen before
    (and never bisects the same structure id twice).
    """

    def __init__(self) -> None:
        self._rows: dict[str, pd.DataFrame] = {}
        self._refused: dict[str, set[int]] = {}
        self._lock = threading.Lock()

    def unknown(self, language: str, ids: Sequence[int]) -> list[int]:
        """The ids of ``ids`` neither named nor refused yet, in order."""
        with self._lock:
            rows = self._rows.get(language)
            seen = set(rows["id"].tolist()) if rows is not None else set()
            seen |= self._refused.get(language, set())
        return [i for i in ids if i not in seen]

    def learn(self, language: str, found: pd.DataFrame, refused: Iterable[int]) -> None:
        """Keep ESI's rows and the refused ids of one lookup."""
        with self._lock:
            self._refused.setdefault(language, set()).update(refused)
            if found.empty:
                return
            rows = self._rows.get(language)
            both = found if rows is None else pd.concat([rows, found], ignore_index=True)
            self._rows[language] = both.drop_duplicates("id", keep="last")

    def lookup(self, language: str, ids: Sequence[int]) -> tuple[pd.DataFrame, list[int]]:
        """The known rows of ``ids``, and those of ``ids`` that ESI refused."""
        with self._lock:
            rows = self._rows.get(language, pd.DataFrame())
            refused = self._refused.get(language, set())
        found = rows[rows["id"].isin(ids)].reset_index(drop=True) if len(rows) else rows
        return found, [i for i in ids if i in refused]


def entity_columns(df: pd.DataFrame) -> list[str]:
    """The integer ``*_id`` columns whose ids name an entity (``type_id``, ``issuer_id`` ...)."""
    found = []
    for column in df.columns:
        if not isinstance(column, str) or not column.endswith("_id"):
            continue
        if column[:-3].rsplit("_", 1)[-1] not in _ENTITY_WORDS:
            continue
        if pd.api.types.is_integer_dtype(df[column].dtype):
            found.append(column)
    return found


def label(
    df: pd.DataFrame,
    names: Callable[[list[int]], pd.DataFrame],
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with ``<stem>_name`` after each entity-id column.

    ``names(ids)`` returns ``id`` and ``name`` for the ids it could resolve; ids it could
    not stay NA. ``columns`` picks id columns by name (default: :func:`entity_columns`).
    """
    chosen = _chosen_columns(df, columns)
    out = df.copy()
    wanted = clean_ids(v for c in chosen for v in pd.unique(df[c].dropna()) if not _is_missing(v))
    if not wanted:
        table: dict[int, str] = {}
    else:
        found = names(wanted)
        table = dict(zip(found["id"].astype("int64"), found["name"].astype(str), strict=True))
    for column in reversed(chosen):
        where = out.columns.get_loc(column)
        assert isinstance(where, int)
        values = out[column].map(table, na_action="ignore").astype("string")
        out.insert(where + 1, _name_column(column), values)
    return out


def _chosen_columns(df: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        chosen = entity_columns(df)
    else:
        if isinstance(columns, str):
            columns = [columns]
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ParameterError(
                f"label(): no column(s) {', '.join(map(repr, missing))}; id columns here: "
                f"{', '.join(entity_columns(df)) or 'none'}"
            )
        bad = [c for c in columns if not pd.api.types.is_integer_dtype(df[c].dtype)]
        if bad:
            raise ParameterError(f"label(): column(s) {', '.join(bad)} do not hold integer ids")
        chosen = list(columns)
    return [c for c in chosen if _name_column(c) not in df.columns]  # never overwrite a column


def _name_column(column: str) -> str:
    """``type_id`` -> ``type_name``; a column not ending in ``_id`` gets ``_name`` added."""
    return (column[:-3] if column.endswith("_id") else column) + "_name"
