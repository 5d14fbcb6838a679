"""The three walkers on a scripted fetch: no sockets, every answer chosen by the test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from esiframe.errors import ClientError, InconsistentPagesError, ParameterError
from esiframe.http import Response
from esiframe.operations import Call
from esiframe.paging import cursor_start, walk
from esiframe.spec import bundled_spec

SPEC = bundled_spec()
OLD = "Tue, 01 Dec 2026 10:00:00 GMT"
NEW = "Tue, 01 Dec 2026 10:05:00 GMT"


def answer(body: Any, pages: int | None = None, modified: str = OLD) -> Response:
    headers = {"Last-Modified": modified}
    if pages is not None:
        headers["X-Pages"] = str(pages)
    return Response(200, body, headers, "http://esi.test", "fresh")


class Script:
    """A fetch whose answer for each request comes from ``respond(query, refetch, seen)``."""

    def __init__(self, respond: Callable[[Mapping[str, Any], bool, int], Response]) -> None:
        self.respond = respond
        self.asked: list[tuple[dict[str, Any], bool]] = []

    def __call__(self, call: Call, extra: Mapping[str, Any], refetch: bool) -> Response:
        self.asked.append((dict(extra), refetch))
        return self.respond(extra, refetch, len(self.asked))


def orders(page: int, generation: int = 0) -> list[dict[str, int]]:
    return [{"order_id": generation * 1000 + page * 10 + i} for i in range(3)]


def run(op_id: str, script: Script, **params: Any) -> Any:
    (call,) = SPEC.operation(op_id).bind(params)
    with ThreadPoolExecutor(2) as pool:
        return walk(call, script, pool)


def test_x_pages_joins_every_page_in_order():
    script = Script(lambda q, _r, _n: answer(orders(q["page"]), pages=3))
    result = run("GetMarketsRegionIdOrders", script, region_id=10000002)
    assert [r["order_id"] for r in result.records] == [
        o["order_id"] for p in (1, 2, 3) for o in orders(p)
    ]
    assert sorted(q["page"] for q, _ in script.asked) == [1, 2, 3]


def test_a_stale_page_one_starts_the_walk_again_without_the_cache():
    def respond(q: Mapping[str, Any], refetch: bool, n: int) -> Response:
        if q["page"] == 1 and not refetch:  # the cached page 1 predates the refresh
            return answer(orders(1), pages=2, modified=OLD)
        return answer(orders(q["page"], 1), pages=2, modified=NEW)

    script = Script(respond)
    result = run("GetMarketsRegionIdOrders", script, region_id=10000002)
    assert [r["order_id"] for r in result.records] == [
        o["order_id"] for p in (1, 2) for o in orders(p, 1)
    ]
    assert ({"page": 1}, True) in script.asked  # page 1 asked again, past the cache
    assert {r.headers["Last-Modified"] for r in result.responses} == {NEW}


def test_a_page_count_that_shrinks_mid_walk_starts_again_instead_of_failing():
    def respond(q: Mapping[str, Any], refetch: bool, n: int) -> Response:
        if q["page"] == 1:
            return (
                answer(orders(1, 1), pages=2, modified=NEW)
                if refetch
                else answer(orders(1), pages=3)
            )
        if q["page"] == 3:  # ESI refreshed: there is no page 3 any more
            raise ClientError("404", status=404)
        return answer(orders(q["page"], 1), pages=2, modified=NEW)

    result = run("GetMarketsRegionIdOrders", Script(respond), region_id=10000002)
    assert [r["order_id"] for r in result.records] == [
        o["order_id"] for p in (1, 2) for o in orders(p, 1)
    ]


def test_other_client_errors_are_not_mistaken_for_a_shrunk_walk():
    def respond(q: Mapping[str, Any], refetch: bool, n: int) -> Response:
        if q["page"] == 2:
            raise ClientError("403", status=403)
        return answer(orders(q["page"]), pages=2)

    with pytest.raises(ClientError, match="403"):
        run("GetMarketsRegionIdOrders", Script(respond), region_id=10000002)


def test_pages_that_never_agree_raise_inconsistent_pages():
    stamps = iter(f"Tue, 01 Dec 2026 10:{m:02d}:00 GMT" for m in range(60))
    script = Script(lambda q, _r, _n: answer(orders(q["page"]), pages=2, modified=next(stamps)))
    with pytest.raises(InconsistentPagesError, match="Last-Modified"):
        run("GetMarketsRegionIdOrders", script, region_id=10000002)


def test_the_announced_page_count_is_told_before_the_pages_are_fetched():
    told: list[int] = []
    script = Script(lambda q, _r, _n: answer(orders(q["page"]), pages=4))
    (call,) = SPEC.operation("GetMarketsRegionIdOrders").bind({"region_id": 10000002})

    def on_total(count: int) -> None:
        told.append(count)
        assert len(script.asked) == 1  # only page 1 so far
        raise RuntimeError("refused")

    with ThreadPoolExecutor(2) as pool, pytest.raises(RuntimeError, match="refused"):
        walk(call, script, pool, on_total=on_total)
    assert told == [4] and len(script.asked) == 1


def jobs(ids: list[str]) -> dict[str, Any]:
    return {"freelance_jobs": [{"id": i, "name": i} for i in ids]}


def test_cursor_walks_before_to_the_end_and_keeps_the_newer_duplicate():
    pages = {
        None: (
            {
                "freelance_jobs": [{"id": "c", "name": "new c"}, {"id": "d", "name": "d"}],
                "cursor": {"before": "b1", "after": "a0"},
            }
        ),
        "b1": {**jobs(["b", "c"]), "cursor": {"before": "b2"}},
        "b2": {**jobs(["a"]), "cursor": {"before": "b3"}},
        "b3": {"freelance_jobs": [], "cursor": {}},
    }
    script = Script(lambda q, _r, _n: answer(pages[q.get("before")]))
    result = run("GetFreelanceJobsListing", script)
    assert [(r["id"], r["name"]) for r in result.records] == [
        ("a", "a"),
        ("b", "b"),
        ("c", "new c"),
        ("d", "d"),
    ]
    assert [q.get("before") for q, _ in script.asked] == [None, "b1", "b2", "b3"]


def transactions(ids: list[int]) -> list[dict[str, int]]:
    return [{"transaction_id": i, "quantity": 1} for i in ids]


def test_from_id_walks_back_until_only_the_last_record_comes_again():
    pages = {None: transactions([9, 8, 7]), 7: transactions([7, 6, 5]), 5: transactions([5])}
    script = Script(lambda q, _r, _n: answer(pages[q.get("from_id")]))
    result = run("GetCharactersCharacterIdWalletTransactions", script, character_id=1)
    assert [r["transaction_id"] for r in result.records] == [9, 8, 7, 6, 5]
    assert [q.get("from_id") for q, _ in script.asked] == [None, 7, 5]


# -- cursor change detection: after= ------------------------------------------------------

DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


def dated(body: Any) -> Response:
    return Response(200, body, {"Date": DATE}, "http://esi.test", "fresh")


def test_a_full_cursor_walk_keeps_the_after_token_of_the_first_newest_answer():
    pages = {
        None: {**jobs(["c", "d"]), "cursor": {"before": "b1", "after": "a-newest"}},
        "b1": {**jobs(["a", "b"]), "cursor": {"before": "b2", "after": "a-older"}},
        "b2": {"freelance_jobs": [], "cursor": {"before": "b3", "after": "a-oldest"}},
    }
    result = run("GetFreelanceJobsListing", Script(lambda q, _r, _n: dated(pages[q.get("before")])))
    assert result.cursor == {"after": "a-newest", "issued": "2026-12-01T10:00:00+00:00"}


def walk_after(script: Script, token: str) -> Any:
    (call,) = SPEC.operation("GetFreelanceJobsListing").bind({})
    with ThreadPoolExecutor(2) as pool:
        return walk(call, script, pool, after=token)


def test_after_walks_forward_from_the_newest_token_until_an_empty_page():
    pages = {
        "t0": {**jobs(["e", "f"]), "cursor": {"before": "x", "after": "t1"}},
        "t1": {**jobs(["g"]), "cursor": {"before": "x", "after": "t2"}},
        "t2": {"freelance_jobs": [], "cursor": {"before": "x", "after": "t3"}},
    }
    script = Script(lambda q, _r, _n: dated(pages[q["after"]]))
    result = walk_after(script, "t0")
    assert [q["after"] for q, _ in script.asked] == ["t0", "t1", "t2"]
    assert all("before" not in q for q, _ in script.asked)
    assert [r["id"] for r in result.records] == ["e", "f", "g"]  # only what changed since t0
    assert result.cursor["after"] == "t3"  # the newest token, even from the empty page


def test_after_keeps_the_newer_copy_of_a_record_seen_twice():
    pages = {
        "t0": {
            "freelance_jobs": [{"id": "e", "name": "old e"}, {"id": "f", "name": "f"}],
            "cursor": {"after": "t1"},
        },
        "t1": {"freelance_jobs": [{"id": "e", "name": "new e"}], "cursor": {"after": "t2"}},
        "t2": {"freelance_jobs": [], "cursor": {}},
    }
    result = walk_after(Script(lambda q, _r, _n: dated(pages[q["after"]])), "t0")
    assert [(r["id"], r["name"]) for r in result.records] == [("f", "f"), ("e", "new e")]
    assert result.cursor["after"] == "t2"  # an empty page without a token keeps the last one


def test_nothing_new_since_the_token_gives_no_records_and_the_same_or_newer_token():
    script = Script(lambda q, _r, _n: dated({"freelance_jobs": [], "cursor": {}}))
    result = walk_after(script, "t9")
    assert result.records == [] and len(script.asked) == 1
    assert result.cursor == {"after": "t9", "issued": None}


# -- cursor_start: after= checked before any request --------------------------------------

FREELANCE = SPEC.operation("GetFreelanceJobsListing")
DAY = 86_400.0
ISSUED = "2026-12-01T10:00:00+00:00"
ISSUED_AT = datetime.fromisoformat(ISSUED).timestamp()


def test_cursor_start_takes_a_token_or_the_attrs_cursor():
    assert cursor_start(FREELANCE, None, 0) is None
    assert cursor_start(FREELANCE, "tok", 0) == "tok"
    cursor = {"after": "tok", "issued": ISSUED, "tombstone_ttl": 7 * DAY}
    assert cursor_start(FREELANCE, cursor, ISSUED_AT + 6 * DAY) == "tok"


def test_a_cursor_older_than_the_tombstone_ttl_is_refused():
    cursor = {"after": "tok", "issued": ISSUED, "tombstone_ttl": 7 * DAY}
    with pytest.raises(ParameterError, match="x-tombstone-ttl"):
        cursor_start(FREELANCE, cursor, ISSUED_AT + 8 * DAY)


@pytest.mark.parametrize("bad", ["", 5, {"before": "x"}, {"after": None}])
def test_a_malformed_after_is_refused_naming_what_to_pass(bad: Any):
    with pytest.raises(ParameterError, match=r"attrs\['esi'\]\['cursor'\]"):
        cursor_start(FREELANCE, bad, 0)


def test_after_on_a_route_without_a_cursor_is_refused():
    with pytest.raises(ParameterError, match="not one"):
        cursor_start(SPEC.operation("GetMarketsRegionIdOrders"), "tok", 0)
