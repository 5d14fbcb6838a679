"""Analyst workflows against the sandbox: names that survive bad ids, labels on any frame,
paired fan-out with each=, and one call for many characters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ports import free_port

from esiframe import read_parquet, to_parquet
from esiframe.errors import LoginRequired, ParameterError
from esiframe.sandbox import SandboxRequest, SandboxResponse, approve_login
from esiframe.sandbox.data import Sizes

SMALL = Sizes(page_size=40, list_pages=3, cursor_records=60, wallet_transactions=120)
ASSETS = "esi-assets.read_assets.v1"
WALLET = "esi-wallet.read_character_wallet.v1"
CORP_ASSETS = "esi-assets.read_corporation_assets.v1"
AURA, BRAVO = 2112000001, 2112000002


def posts(sandbox, path="/universe/names"):
    return [e for e in sandbox.log.entries() if e.method == "POST" and e.path == path]


# -- names --------------------------------------------------------------------------------


def test_names_take_numpy_arrays_and_duplicates_and_keep_the_order_given(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    ids = np.array([30000142, 34, 10000002, 34, 30000142], dtype="int64")
    df = client.names(ids)
    assert df["id"].tolist() == [30000142, 34, 10000002]
    assert set(df.columns) == {"id", "name", "category"}
    assert df["name"].notna().all()
    meta = df.attrs["esi"]
    assert meta["invalid_ids"] == []
    assert meta["requests"] == 1 == len(posts(sandbox))
    assert pd.Series(ids).pipe(client.names)["id"].tolist() == df["id"].tolist()


def test_a_bad_id_in_a_large_batch_is_listed_not_raised_and_costs_few_requests(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    valid = list(range(30000001, 30000001 + 1199))  # two batches (ESI takes 1000 per request)
    bad = -5  # no entity has a negative id
    df = client.names([*valid[:500], bad, *valid[500:]])
    assert bad in df.attrs["esi"]["invalid_ids"]
    assert bad not in set(df["id"])
    named = set(df["id"]) | set(df.attrs["esi"]["invalid_ids"])
    assert named == {*valid, bad}  # every id either named or listed: none lost
    sent = len(posts(sandbox))
    assert sent == df.attrs["esi"]["requests"]
    assert sent <= 2 + 2 * math.ceil(math.log2(1000))  # bisection: about log2(batch) per bad id


def test_names_refuse_what_is_not_a_list_of_ids_before_any_request(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    for bad in (34, "34", [34, None], [34, 1.5]):
        with pytest.raises(ParameterError, match="names"):
            client.names(bad)
    assert len(sandbox.log) == 0


# -- label --------------------------------------------------------------------------------


def test_label_names_types_systems_and_locations_of_orders_and_asks_nothing_for_order_id(
    esi_sandbox_factory, make_client, tmp_path
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    orders = client.get("GetMarketsRegionIdOrders", region_id=10000002, pages=2)
    asked: list[int] = []
    lookup = client.names

    def spy(ids, **kwargs):
        asked.extend(ids)
        return lookup(ids, **kwargs)

    client.names = spy
    sandbox.log.clear()
    labelled = client.label(orders)
    columns = list(labelled.columns)
    for stem in ("type", "system", "location"):
        assert columns.index(f"{stem}_name") == columns.index(f"{stem}_id") + 1
    assert "order_name" not in columns
    assert labelled["type_name"].notna().all()
    assert labelled["system_name"].notna().all()
    wanted = set(orders["type_id"]) | set(orders["system_id"]) | set(orders["location_id"])
    assert set(asked) == wanted  # order ids are never looked up
    # Structure ids (player citadels) are locations ESI cannot name: each costs a bisection.
    invalid = set(labelled.loc[labelled["location_name"].isna(), "location_id"])
    per_bad_id = 2 * math.ceil(math.log2(len(wanted)))
    assert 1 <= len(posts(sandbox)) <= 1 + max(1, len(invalid)) * per_bad_id
    names = client.names(orders["type_id"].unique())
    expected = dict(zip(names["id"], names["name"], strict=True))
    assert labelled["type_name"].tolist() == [expected[t] for t in orders["type_id"]]
    # A frame read back from Parquet labels the same, from the cache: no new request.
    path = tmp_path / "orders.parquet"
    to_parquet(orders, path)
    before = len(sandbox.log)
    again = client.label(read_parquet(path))
    assert len(sandbox.log) == before
    assert again["location_name"].tolist() == labelled["location_name"].tolist()


def test_label_of_a_frame_without_entity_ids_sends_nothing(esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    frame = pd.DataFrame({"order_id": [1, 2], "price": [1.0, 2.0]})
    assert client.label(frame).columns.tolist() == ["order_id", "price"]
    assert len(sandbox.log) == 0


# -- each= --------------------------------------------------------------------------------


def test_each_sends_exactly_one_request_per_killmail_pair(esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    pairs = client.get("GetWarsWarIdKillmails", war_id=1, pages=1).head(3)
    assert len(pairs) == 3 and set(pairs.columns) == {"killmail_id", "killmail_hash"}
    sandbox.log.clear()
    df = client.get("GetKillmailsKillmailIdKillmailHash", each=pairs)
    paths = sorted(e.path for e in sandbox.log.entries())
    assert paths == sorted(
        f"/killmails/{i}/{h}" for i, h in zip(pairs.killmail_id, pairs.killmail_hash, strict=True)
    )
    assert df["killmail_hash"].tolist() == pairs["killmail_hash"].tolist()
    assert df["killmail_id"].tolist() == pairs["killmail_id"].tolist()
    assert df.attrs["esi"]["requests"] == 3


def test_lists_still_cross_with_each_rows(esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    rows = [{"region_id": 10000002}, {"region_id": 10000043}]
    df = client.get("GetMarketsRegionIdHistory", each=rows, type_id=[34, 35])
    asked = sorted((e.path, e.query.get("type_id")) for e in sandbox.log.entries())
    assert len(asked) == 4  # 2 rows x 2 type ids
    assert set(zip(df["region_id"], df["type_id"], strict=True)) == {
        (r, t) for r in (10000002, 10000043) for t in (34, 35)
    }


# -- many characters ----------------------------------------------------------------------


def log_in(client, name, scopes):
    login = client.login(scopes=scopes, callback_url=f"http://127.0.0.1:{free_port()}/callback")
    approve_login(login.url, character=name)
    assert login.wait(timeout=10).name == name


@pytest.fixture
def two_characters(esi_sandbox_factory, make_client):
    """Aura with assets and corporation assets, Bravo with assets only."""
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox, client_id="esiframe-tests")
    log_in(client, "Aura Sandbox", [ASSETS, CORP_ASSETS])
    log_in(client, "Bravo Sandbox", [ASSETS])
    sandbox.log.clear()
    return sandbox, client


def test_character_all_runs_once_per_character_into_one_frame(two_characters):
    sandbox, client = two_characters
    df = client.get("GetCharactersCharacterIdAssets", character="all")
    assert set(df["character_id"]) == {AURA, BRAVO}
    assert dict(zip(df["character_id"], df["character_name"], strict=False)) == {
        AURA: "Aura Sandbox",
        BRAVO: "Bravo Sandbox",
    }
    assert {e.path for e in sandbox.log.entries()} == {
        f"/characters/{AURA}/assets",
        f"/characters/{BRAVO}/assets",
    }
    for who in (AURA, BRAVO):
        alone = client.get("GetCharactersCharacterIdAssets", character=who)
        assert sorted(df.loc[df.character_id == who, "item_id"]) == sorted(alone["item_id"])
    assert sorted(df.attrs["esi"]["characters"]) == [AURA, BRAVO]


def test_a_list_of_characters_without_the_scope_is_refused_before_any_request(two_characters):
    sandbox, client = two_characters
    with pytest.raises(LoginRequired, match="Bravo Sandbox") as info:
        client.get("GetCorporationsCorporationIdAssets", character=["Aura Sandbox", BRAVO])
    assert CORP_ASSETS in str(info.value)
    assert len(sandbox.log) == 0


def test_skip_leaves_out_characters_without_the_scope_and_lists_them(two_characters):
    sandbox, client = two_characters
    df = client.get("GetCharactersCharacterIdWallet", character="all", errors="skip")
    assert df.empty or set(df["character_id"]) <= {AURA, BRAVO}
    skipped = df.attrs["esi"]["skipped_characters"]
    assert {s["character_id"] for s in skipped} == {AURA, BRAVO}
    assert len(sandbox.log) == 0


def test_corporation_routes_fill_the_corporation_of_each_character(two_characters):
    sandbox, client = two_characters
    df = client.get("GetCorporationsCorporationIdAssets", character="all", errors="skip")
    corp = client.get("GetCharactersDetail", character_id=AURA)["corporation_id"].iloc[0]
    assert set(df["character_id"]) == {AURA}
    assert set(df["corporation_id"]) == {corp}
    assert f"/corporations/{corp}/assets" in {e.path for e in sandbox.log.entries()}
    assert [s["character_id"] for s in df.attrs["esi"]["skipped_characters"]] == [BRAVO]


def test_max_requests_counts_every_character(two_characters):
    sandbox, client = two_characters
    with pytest.raises(ParameterError, match="2 characters"):
        client.get("GetCharactersCharacterIdAssets", character="all", max_requests=1)
    assert len(sandbox.log) == 0


# -- cursor change detection --------------------------------------------------------------


def test_the_cursor_of_a_full_walk_walks_forward_to_nothing_when_nothing_changed(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    full = client.get("GetFreelanceJobsListing")
    cursor = full.attrs["esi"]["cursor"]
    assert len(full) == SMALL.cursor_records and cursor["after"] and cursor["issued"]
    sandbox.log.clear()
    since = client.get("GetFreelanceJobsListing", after=cursor)
    assert len(since) == 0 and list(since.columns) == list(full.columns)
    assert [e.query.get("after") for e in sandbox.log.entries()] == [cursor["after"]]
    assert since.attrs["esi"]["cursor"]["after"] == cursor["after"]
    assert len(client.get("GetFreelanceJobsListing", after="0")) == len(full)  # '0': from the start


def test_after_is_refused_before_any_request_where_it_cannot_apply(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    with pytest.raises(ParameterError, match="not one"):
        client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34, after="x")
    with pytest.raises(ParameterError, match="one list"):
        client.get("GetMilitaryCampaignsObjectivesListing", campaign_id=["1", "2"], after="x")
    assert len(sandbox.log) == 0


class ChangingJobs:
    """/freelance-jobs as ESI documents cursors: records ordered by last change, oldest
    first; a token is a position in that history, so after= returns what changed since."""

    def __init__(self, template: dict[str, Any], count: int) -> None:
        self.template = template  # one record as the sandbox makes them (the schema's shape)
        self.history = [self.job(i, "v1") for i in range(count)]

    def job(self, number: int, version: str) -> dict[str, Any]:
        return {**self.template, "id": f"job-{number:03d}", "name": f"job {number} {version}"}

    def change(self, number: int, version: str) -> None:
        self.history.append(self.job(number, version))

    def __call__(self, request: SandboxRequest) -> SandboxResponse:
        limit = int(request.query.get("limit", ["10"])[0])
        total = len(self.history)
        after, before = request.query.get("after"), request.query.get("before")
        if after:
            start = 0 if after[0] == "0" else int(after[0].removeprefix("p"))
            end = min(start + limit, total)
        else:
            end = total if not before or before[0] == "0" else int(before[0].removeprefix("p"))
            start = max(0, end - limit)
        latest: dict[str, Any] = {}
        for record in self.history[start:end]:
            latest.pop(record["id"], None)
            latest[record["id"]] = record
        body = {
            "freelance_jobs": list(latest.values()),
            "cursor": {"before": f"p{start}", "after": f"p{end}"},
        }
        return SandboxResponse.json(body, headers={"Date": "Tue, 01 Dec 2026 10:00:00 GMT"})


def test_after_returns_only_the_records_new_or_changed_since_with_the_newer_copy(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox)
    template = client.get_raw("GetFreelanceJobsListing", pages=1)[0]
    jobs = ChangingJobs(template, 150)
    sandbox.add_route("GET", "/freelance-jobs", jobs)
    full = client.get("GetFreelanceJobsListing", use_cache=False)  # the route just changed
    assert len(full) == 150
    for number, version in [
        (3, "v2"),
        (150, "v1"),
        (3, "v3"),
        *((200 + i, "v1") for i in range(120)),
    ]:
        jobs.change(number, version)
    since = client.get(
        "GetFreelanceJobsListing", after=full.attrs["esi"]["cursor"], use_cache=False
    )
    names = dict(zip(since["id"], since["name"], strict=True))
    assert len(names) == len(since) == 2 + 120  # job 3 once, job 150, and 120 new ones
    assert names["job-003"] == "job 3 v3"  # the newer copy
    assert "job-004" not in names  # unchanged records are not returned again
    assert since.attrs["esi"]["cursor"]["after"] == f"p{len(jobs.history)}"
    jobs.change(7, "v2")
    again = client.get(
        "GetFreelanceJobsListing", after=since.attrs["esi"]["cursor"], use_cache=False
    )
    assert again["name"].tolist() == ["job 7 v2"]


def test_one_character_on_a_corporation_route_fills_its_corporation(two_characters):
    sandbox, client = two_characters
    corp = int(client.get("GetCharactersDetail", character_id=AURA)["corporation_id"].iloc[0])
    df = client.get("GetCorporationsCorporationIdAssets", character="Aura Sandbox")
    assert df.attrs["esi"]["parameters"]["corporation_id"] == corp
    assert f"/corporations/{corp}/assets" in {e.path for e in sandbox.log.entries()}


def test_many_characters_refuse_what_names_one_of_them_before_any_request(two_characters):
    sandbox, client = two_characters
    with pytest.raises(ParameterError, match="public"):
        client.get("GetMarketsPrices", character="all")
    with pytest.raises(ParameterError, match="character_id="):
        client.get("GetCharactersCharacterIdAssets", character="all", character_id=AURA)
    assert len(sandbox.log) == 0
