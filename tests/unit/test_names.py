"""names.resolve and names.label, with a scripted lookup that answers like ESI (no sockets)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from esiframe.assemble import named_frame
from esiframe.errors import ClientError, ParameterError, ServerError
from esiframe.naming import NameBook, clean_ids, entity_columns, label, resolve

KNOWN = {34: "Tritanium", 35: "Pyerite", 30000142: "Jita", 10000002: "The Forge"}


class FakeNames:
    """PostUniverseNames as ESI answers it: a whole batch is refused if one id is unknown."""

    def __init__(self, known: dict[int, str]) -> None:
        self.known = known
        self.requests: list[list[int]] = []

    def __call__(self, ids: list[int]) -> pd.DataFrame:
        self.requests.append(list(ids))
        if any(i not in self.known for i in ids):
            raise ClientError(
                "404 Ensure all IDs are valid before resolving.",
                status=404,
                headers={},
                body={"error": "Ensure all IDs are valid before resolving."},
                url="http://127.0.0.1/universe/names",
            )
        return pd.DataFrame({"id": ids, "name": [self.known[i] for i in ids], "category": "x"})


def test_one_bad_id_in_a_batch_of_1000_keeps_every_valid_name_at_log_cost() -> None:
    known = {n: f"name {n}" for n in range(1000, 2000)}
    lookup = FakeNames(known)
    ids = [*range(1000, 1500), 7, *range(1500, 1999)]  # 1000 ids, 7 is invalid

    found, invalid = resolve(ids, lookup)

    assert invalid == [7]
    assert sorted(found["id"]) == sorted(i for i in ids if i != 7)
    assert len(lookup.requests) <= 1 + 2 * math.ceil(math.log2(1000))


def test_batches_follow_the_body_limit_and_all_bad_ids_are_listed_in_order() -> None:
    known = {n: str(n) for n in range(2500)}
    lookup = FakeNames(known)
    ids = [*range(2500), 99999, 88888]

    found, invalid = resolve(ids, lookup, batch=1000)

    assert invalid == [99999, 88888]
    assert len(found) == 2500
    assert max(len(r) for r in lookup.requests) <= 1000


def test_a_valid_batch_costs_one_request() -> None:
    lookup = FakeNames(KNOWN)
    found, invalid = resolve([34, 35], lookup)
    assert invalid == []
    assert lookup.requests == [[34, 35]]
    assert list(found["name"]) == ["Tritanium", "Pyerite"]


def test_errors_other_than_404_are_not_taken_for_bad_ids() -> None:
    def broken(ids: list[int]) -> pd.DataFrame:
        raise ServerError("503", status=503, headers={}, body=None, url="u")

    with pytest.raises(ServerError):
        resolve([34], broken)


def test_clean_ids_takes_numpy_and_pandas_and_drops_duplicates() -> None:
    assert clean_ids(np.array([34, 35, 34], dtype=np.int32)) == [34, 35]
    ids = clean_ids(pd.Series([34, 35, 34, 36], dtype="Int64"))
    assert ids == [34, 35, 36]
    assert all(type(i) is int for i in ids)


@pytest.mark.parametrize("bad", [[34, None], [34, float("nan")], [34, pd.NA], [34, "35"], "34"])
def test_clean_ids_names_what_is_wrong(bad: object) -> None:
    with pytest.raises(ParameterError, match="names"):
        clean_ids(bad)


def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": pd.array([1, 2, 3], dtype="Int64"),
            "type_id": pd.array([34, 35, 34], dtype="Int64"),
            "system_id": pd.array([30000142, 30000142, 30000142], dtype="int64"),
            "location_id": pd.array([60003760, 1022734985679, pd.NA], dtype="Int64"),
            "price": [5.0, 6.0, 7.0],
        }
    )


def test_label_adds_names_after_entity_columns_and_leaves_others_alone() -> None:
    lookup = FakeNames({**KNOWN, 60003760: "Jita IV - Moon 4"})

    out = label(orders(), lambda ids: resolve(ids, lookup)[0])

    assert list(out.columns) == [
        "order_id",
        "type_id",
        "type_name",
        "system_id",
        "system_name",
        "location_id",
        "location_name",
        "price",
    ]
    assert list(out["type_name"]) == ["Tritanium", "Pyerite", "Tritanium"]
    assert out["location_name"].iloc[0] == "Jita IV - Moon 4"
    assert out["location_name"].isna().iloc[1:].all()  # a structure id and a missing one
    asked = {i for batch in lookup.requests for i in batch}
    assert not asked & {1, 2, 3}  # order ids cost nothing
    assert "order_name" not in out


def test_label_with_no_entity_columns_sends_nothing() -> None:
    lookup = FakeNames(KNOWN)
    df = pd.DataFrame({"contract_id": [1, 2], "killmail_id": [3, 4], "transaction_id": [5, 6]})
    out = label(df, lambda ids: resolve(ids, lookup)[0])
    assert lookup.requests == []
    assert out.equals(df)


def test_entity_columns_skip_non_integer_and_non_entity_columns() -> None:
    df = pd.DataFrame(
        {
            "type_id": [1],
            "ship_type_id": [2],
            "issuer_corporation_id": [3],
            "journal_ref_id": [4],
            "market_group_id": [5],
            "character_id": ["not an int"],
        }
    )
    assert entity_columns(df) == ["type_id", "ship_type_id", "issuer_corporation_id"]


def test_label_columns_argument_is_checked() -> None:
    with pytest.raises(ParameterError, match="no column"):
        label(orders(), lambda ids: pd.DataFrame(), columns=["nope_id"])


# -- the frame names() returns ------------------------------------------------------------


def answered(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"id": ids, "name": [f"n{i}" for i in ids], "category": "type"})


def meta(expires: str, modified: str, cache: str = "fresh") -> dict[str, object]:
    response = {"expires": expires, "last_modified": modified, "cache": cache}
    return {
        "operation": "PostUniverseNames",
        "requests": 1,
        "pages": 1,
        "expires": expires,
        "last_modified": modified,
        "etag": None,
        "cache": {"fresh": int(cache == "fresh"), "cache": int(cache == "cache")},
        "responses": [response],
        "errors": [],
    }


def test_named_frame_orders_rows_as_asked_and_lists_every_id_without_a_name() -> None:
    found = pd.concat([answered([35, 34]), answered([36, 34])], ignore_index=True)
    metas = [
        meta("2026-12-01T11:00:00+00:00", "2026-12-01T09:00:00+00:00"),
        meta("2026-12-01T10:00:00+00:00", "2026-12-01T09:30:00+00:00", "cache"),
    ]
    df = named_frame([34, 99, 35, 36, 77], found, [99], metas, requests=5)
    assert df["id"].tolist() == [34, 35, 36]
    esi = df.attrs["esi"]
    assert esi["invalid_ids"] == [99, 77]  # 77 left out of a 200 answer is listed too
    assert esi["requests"] == 5 and esi["pages"] == 2
    assert esi["expires"] == "2026-12-01T10:00:00+00:00"
    assert esi["last_modified"] == "2026-12-01T09:30:00+00:00"
    assert esi["cache"] == {"fresh": 1, "cache": 1}


def test_named_frame_of_nothing_found_keeps_the_columns() -> None:
    df = named_frame([1, 2], pd.DataFrame(), [1, 2], [], requests=3)
    assert df.columns.tolist() == ["id", "name", "category"] and len(df) == 0
    assert df.attrs["esi"]["invalid_ids"] == [1, 2] and df.attrs["esi"]["requests"] == 3
    assert df.attrs["esi"]["operation"] == "PostUniverseNames"


def test_the_name_book_asks_only_for_ids_it_has_not_seen() -> None:
    lookup = FakeNames(KNOWN)
    book = NameBook()
    book.learn("en", *resolve([34, 7], lookup))
    assert book.unknown("en", [34, 7, 35]) == [35]  # named and refused ids are both known
    assert book.unknown("de", [34]) == [34]  # per language
    book.learn("en", *resolve([35], lookup))
    found, refused = book.lookup("en", [35, 7, 34])
    assert sorted(found["id"]) == [34, 35] and refused == [7]
    assert lookup.requests == [[34, 7], [34], [35]]  # [7] is known bad once [34] is whole
