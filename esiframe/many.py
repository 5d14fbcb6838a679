"""One authenticated call for many characters: who runs it, who is left out, one frame.

``character=["A", "B"]`` or ``character="all"`` runs an operation once per logged-in
character. Pure: the client passes in the characters logged in and those holding the
scope (both read from the token store, no request), so every refusal comes before
any request and is tested without a server.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import LoginRequired, ParameterError

if TYPE_CHECKING:  # esiframe.auth (authlib, requests) loads on the first login, not on import
    from .auth.login import Character

__all__ = ["ALL", "Cast", "cast", "is_many", "stack"]

#: ``character="all"``: every logged-in character.
ALL = "all"


def is_many(character: Any) -> bool:
    """True for ``"all"`` and for a list of names or ids (one name or id is not many)."""
    if isinstance(character, str):
        return character.strip().casefold() == ALL
    if character is None or isinstance(character, numbers.Integral):
        return False
    return isinstance(character, Iterable)


@dataclass(frozen=True)
class Cast:
    """Who runs the call, and who was left out for want of the scope (with why)."""

    chosen: tuple[Character, ...]
    skipped: tuple[Mapping[str, Any], ...]


def cast(
    operation_id: str,
    scope: str,
    asked: Any,
    logged: Sequence[Character],
    holding: Sequence[Character],
    *,
    skip: bool,
    client_id: str | None = None,
) -> Cast:
    """The characters of ``asked`` (``"all"`` or names/ids) that hold ``scope``.

    A name or id that is not logged in is always an error (a typo must not pass as
    "skipped"). One without the scope is an error naming every such character, unless
    ``skip``: then it is left out and listed.
    """
    if not logged:
        raise LoginRequired(
            f"no character is logged in; log in with {_login_call(client_id, scope)}"
        )
    wanted = (
        list(logged) if isinstance(asked, str) else _named(list(asked), logged, scope, client_id)
    )
    holders = {c.character_id for c in holding}
    lacking = [c for c in wanted if c.character_id not in holders]
    if lacking and not skip:
        names = ", ".join(f"{c.name} ({c.character_id})" for c in lacking)
        raise LoginRequired(
            f"{operation_id} needs scope {scope}, which {names} did not grant; log them in "
            f"again with {_login_call(client_id, scope)} (or pass errors='skip' to leave "
            "them out)"
        )
    skipped = tuple(
        {"character_id": c.character_id, "character_name": c.name, "reason": f"no scope {scope}"}
        for c in lacking
    )
    return Cast(tuple(c for c in wanted if c.character_id in holders), skipped)


def _named(
    asked: list[Any], logged: Sequence[Character], scope: str, client_id: str | None
) -> list[Character]:
    """The logged-in characters named in ``asked`` (names any case, or ids), each once."""
    if not asked:
        raise ParameterError("character= got an empty list; give names or ids, or 'all'")
    found: dict[int, Character] = {}
    unknown = []
    for entry in asked:
        if isinstance(entry, bool) or not isinstance(entry, str | numbers.Integral):
            raise ParameterError(f"character= takes names or ids, got {entry!r}")
        text = str(entry).strip()
        match = [
            c
            for c in logged
            if (
                c.character_id == int(text)
                if text.isdigit()
                else c.name.casefold() == text.casefold()
            )
        ]
        if not match:
            unknown.append(repr(entry))
        for c in match:
            found.setdefault(c.character_id, c)
    if unknown:
        known = ", ".join(f"{c.name} ({c.character_id})" for c in logged)
        raise LoginRequired(
            f"{', '.join(unknown)} not logged in (logged in: {known}); log in with "
            f"{_login_call(client_id, scope)} and choose that character in the browser"
        )
    return list(found.values())


def stack(
    frames: Sequence[tuple[Character, pd.DataFrame]],
    empty: pd.DataFrame,
    filled: Sequence[str] = (),
) -> pd.DataFrame:
    """One frame of every character's, with ``character_id`` and ``character_name`` first.

    ``filled`` names parameters filled per character (``corporation_id``); each becomes a
    column after them, read from the frame's ``attrs["esi"]["parameters"]``. ``empty`` (the
    operation's typed frame with no rows) is used when no character ran.
    """
    parts = [_tagged(df, who.character_id, who.name, filled) for who, df in frames]
    if not parts:
        return _tagged(empty, None, None, filled)
    out = pd.concat(parts, ignore_index=True)
    for column in out.columns:  # concat makes differing categories object: keep them categories
        if all(isinstance(p[column].dtype, pd.CategoricalDtype) for p in parts):
            out[column] = out[column].astype("category")
    return out


def _tagged(
    df: pd.DataFrame, character_id: int | None, name: str | None, filled: Sequence[str]
) -> pd.DataFrame:
    columns = {"character_id": character_id, "character_name": name}
    params = df.attrs.get("esi", {}).get("parameters", {})
    columns |= {field: params.get(field) for field in filled if field not in columns}
    out = df.drop(columns=[c for c in columns if c in df.columns])
    for where, (column, value) in enumerate(columns.items()):
        dtype = "string" if column == "character_name" else "int64"
        out.insert(where, column, pd.Series([value] * len(out), index=out.index, dtype=dtype))
    return out


def _login_call(client_id: str | None, scope: str) -> str:
    from .auth.login import login_call  # first needed for this message

    return login_call(client_id, [scope])
