"""Many characters in one call: who runs it, who is refused or skipped, one frame (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from esiframe.auth.login import Character
from esiframe.errors import LoginRequired, ParameterError
from esiframe.many import cast, is_many, stack

SCOPE = "esi-wallet.read_character_wallet.v1"
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def character(cid: int, name: str, *scopes: str) -> Character:
    return Character(cid, name, tuple(scopes), "app", WHEN)


AURA = character(1, "Aura", SCOPE)
BRAVO = character(2, "Bravo")
CHARLIE = character(3, "Charlie", SCOPE)
LOGGED = [AURA, BRAVO, CHARLIE]
HOLDING = [AURA, CHARLIE]


@pytest.mark.parametrize(
    ("value", "many"),
    [
        ("all", True),
        ("ALL", True),
        (["Aura"], True),
        ((1, 2), True),
        (np.array([1]), True),
        ("Aura", False),
        (1, False),
        (np.int64(1), False),
        (None, False),
    ],
)
def test_is_many_tells_all_and_lists_from_one_character(value, many):
    assert is_many(value) is many


def test_all_without_the_scope_names_every_character_lacking_it():
    with pytest.raises(LoginRequired, match=r"Bravo \(2\)") as info:
        cast("GetWallet", SCOPE, "all", LOGGED, HOLDING, skip=False)
    assert SCOPE in str(info.value) and "errors='skip'" in str(info.value)


def test_skip_runs_the_others_and_lists_who_was_left_out():
    chosen = cast("GetWallet", SCOPE, "all", LOGGED, HOLDING, skip=True)
    assert [c.name for c in chosen.chosen] == ["Aura", "Charlie"]
    assert [s["character_id"] for s in chosen.skipped] == [2]


def test_a_list_takes_names_in_any_case_and_ids_each_once():
    chosen = cast(
        "GetWallet", SCOPE, ["charlie", 1, "AURA", np.int64(3)], LOGGED, HOLDING, skip=False
    )
    assert [c.character_id for c in chosen.chosen] == [3, 1]


def test_a_name_not_logged_in_is_an_error_even_with_skip():
    with pytest.raises(LoginRequired, match="'Zulu' not logged in"):
        cast("GetWallet", SCOPE, ["Aura", "Zulu"], LOGGED, HOLDING, skip=True)


@pytest.mark.parametrize("bad", [[], [1.5], [None]])
def test_a_bad_list_is_a_parameter_error(bad):
    with pytest.raises(ParameterError, match="character="):
        cast("GetWallet", SCOPE, bad, LOGGED, HOLDING, skip=False)


def test_nobody_logged_in_says_how_to_log_in():
    with pytest.raises(LoginRequired, match=r"ef\.login"):
        cast("GetWallet", SCOPE, "all", [], [], skip=True)


def test_stack_puts_who_first_and_fills_per_character_parameters():
    a = pd.DataFrame({"amount": [1.0, 2.0]})
    a.attrs["esi"] = {"parameters": {"corporation_id": 98000001}}
    c = pd.DataFrame({"amount": [3.0]})
    c.attrs["esi"] = {"parameters": {"corporation_id": 98000002}}
    df = stack(
        [(AURA, a), (CHARLIE, c)],
        pd.DataFrame({"amount": pd.Series([], dtype=float)}),
        ["corporation_id"],
    )
    assert df.columns.tolist() == ["character_id", "character_name", "corporation_id", "amount"]
    assert df["character_id"].tolist() == [1, 1, 3]
    assert df["character_name"].tolist() == ["Aura", "Aura", "Charlie"]
    assert df["corporation_id"].tolist() == [98000001, 98000001, 98000002]
    assert df["amount"].tolist() == [1.0, 2.0, 3.0]


def test_stack_of_nobody_is_the_typed_empty_frame_with_the_character_columns():
    empty = pd.DataFrame({"amount": pd.Series([], dtype=float)})
    df = stack([], empty)
    assert df.columns.tolist() == ["character_id", "character_name", "amount"]
    assert len(df) == 0 and df["character_id"].dtype == "int64"
