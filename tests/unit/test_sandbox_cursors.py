"""Cursor lists that change over time: tokens name a point in the change history (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from esiframe.sandbox.binding import BadRequest
from esiframe.sandbox.cursors import CursorFeed

NOW = 1_790_000_000.0


def feed(n: int = 30) -> CursorFeed:
    return CursorFeed("GetFreelanceJobsListing", [{"id": i, "v": 0} for i in range(n)])


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [record["id"] for record in records]


def walk_after(cursor_feed: CursorFeed, after: str, limit: int = 10) -> tuple[list[int], str]:
    seen: list[int] = []
    while True:
        records, cursor = cursor_feed.page(limit, None, after, NOW, None)
        if not records:
            return seen, after
        seen += ids(records)
        after = cursor["after"]


def test_newest_first_then_before_walk_covers_everything() -> None:
    f = feed()
    records, cursor = f.page(10, None, None, NOW, None)
    assert ids(records) == list(range(20, 30))
    seen = ids(records)
    while True:
        records, cursor = f.page(10, cursor["before"], None, NOW, None)
        if not records:
            break
        seen += ids(records)
    assert set(seen) == set(range(30))


def test_after_walk_returns_only_what_changed_since_the_token() -> None:
    f = feed()
    everything, token = walk_after(f, "0")
    assert everything == list(range(30))
    assert walk_after(f, token)[0] == []
    changed = f.change(lambda record: {**record, "v": 1}, 3)
    assert ids(changed) == [0, 1, 2]
    f.add([{"id": 100, "v": 0}])
    since, newer = walk_after(f, token)
    assert since == [0, 1, 2, 100]
    assert f.records()[-4:] == [*changed, {"id": 100, "v": 0}]
    assert walk_after(f, newer)[0] == []
    assert f.added == 1


def test_a_change_moves_the_record_so_a_before_walk_still_sees_each_once_or_twice() -> None:
    f = feed()
    f.change(lambda record: {**record, "v": 2}, 5)
    records, cursor = f.page(10, None, None, NOW, None)
    assert ids(records)[-5:] == [0, 1, 2, 3, 4]
    seen = ids(records)
    while records:
        records, cursor = f.page(10, cursor["before"], None, NOW, None)
        seen += ids(records)
    assert set(seen) == set(range(30))


def test_tokens_expire_after_the_tombstone_ttl() -> None:
    f = feed()
    _, cursor = f.page(10, None, None, NOW, None)
    assert f.page(10, None, cursor["after"], NOW + 100, ttl=100)[0] == []
    with pytest.raises(BadRequest) as error:
        f.page(10, None, cursor["after"], NOW + 101, ttl=100)
    assert "x-tombstone-ttl" in error.value.body()["error"]


@pytest.mark.parametrize("token", ["garbage", "R2V0U3RhdHVzOjE6MQ"])
def test_foreign_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadRequest) as error:
        feed().page(10, token, None, NOW, None)
    assert error.value.details[0]["location"] == "query.before"
