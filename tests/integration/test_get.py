"""esiframe.get against the sandbox: all pages, typed frames, caching, fan-out, bad input."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from frametypes import check_frame

import esiframe as ef
from esiframe.errors import (
    InconsistentPagesError,
    OperationNotFound,
    ParameterError,
    PartialResultError,
)
from esiframe.sandbox import Faults, SandboxLimits
from esiframe.sandbox.data import Sizes
from esiframe.spec import bundled_spec

SPEC = bundled_spec()
PUBLIC_GETS = [op.operation_id for op in SPEC if op.method == "GET" and op.scope is None]
SMALL = Sizes(
    page_size=50,
    forge_order_pages=6,
    region_order_pages=3,
    history_days=30,
    list_pages=2,
    cursor_records=60,
    wallet_transactions=120,
)


@pytest.fixture(scope="module")
def sandbox():
    from esiframe.sandbox import Sandbox

    with Sandbox(sizes=SMALL) as sb:
        yield sb


@pytest.mark.parametrize("op_id", PUBLIC_GETS)
def test_every_public_get_gives_a_frame_typed_by_its_schema(op_id, sandbox, make_client):
    client = make_client(sandbox, cache=False)
    params = sandbox.dataset.example_params(op_id)
    df = client.get(op_id, **params)
    assert isinstance(df, pd.DataFrame)
    check_frame(df, op_id)
    assert df.attrs["esi"]["operation"] == op_id


def test_orders_walk_returns_exactly_the_sandbox_orders(esi_sandbox_factory, make_client):
    sb = esi_sandbox_factory()  # default sizes: 300 pages of 1000 orders for The Forge
    client = make_client(sb, cache=False)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    params = {"region_id": "10000002", "order_type": "all"}
    pages = sb.dataset.page_count("GetMarketsRegionIdOrders", params)
    assert pages == 300
    expected = [
        o["order_id"]
        for n in range(1, pages + 1)
        for o in sb.dataset.page("GetMarketsRegionIdOrders", params, n)
    ]
    assert df["order_id"].tolist() == expected  # same orders, page order, none missing or doubled
    assert df["order_id"].is_unique
    meta = df.attrs["esi"]
    assert meta["pages"] == 300
    assert set(meta["responses"]["last_modified"]) == {meta["last_modified"]}


def test_a_refresh_mid_walk_gives_a_consistent_snapshot(esi_sandbox_factory, make_client):
    sb = esi_sandbox_factory(sizes=SMALL, faults=Faults(refresh_after=3))
    client = make_client(sb, cache=False, max_workers=2)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert sb.generation == 1
    params = {"region_id": "10000002", "order_type": "all"}
    expected = [
        o["order_id"]
        for n in range(1, SMALL.forge_order_pages + 1)
        for o in sb.dataset.page("GetMarketsRegionIdOrders", params, n, generation=1)
    ]
    assert df["order_id"].tolist() == expected
    meta = df.attrs["esi"]
    # one snapshot: every page carries the same Last-Modified
    assert list(meta["responses"]["page"]) == list(range(1, SMALL.forge_order_pages + 1))
    assert set(meta["responses"]["last_modified"]) == {meta["last_modified"]}
    assert sb.log.count(operation_id="GetMarketsRegionIdOrders") > SMALL.forge_order_pages


def test_data_that_never_settles_raises_inconsistent_pages(esi_sandbox_factory, make_client):
    sb = esi_sandbox_factory(sizes=SMALL, faults=Faults(refresh_every=2))
    client = make_client(sb, cache=False, max_workers=1)
    with pytest.raises(InconsistentPagesError, match="Last-Modified"):
        client.get("GetMarketsRegionIdOrders", region_id=10000002)


def test_pages_limits_the_walk(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    sandbox.log.clear()
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, pages=2)
    assert len(df) == 2 * SMALL.page_size
    assert sandbox.log.count(operation_id="GetMarketsRegionIdOrders") == 2


def test_a_cold_walk_asks_the_cache_file_once_and_never_requests_cache(
    esi_sandbox_factory, make_client, monkeypatch
):
    from requests_cache.backends.base import BaseCache

    from esiframe import http

    looked_up: list[str] = []
    asked: list[str] = []
    real, real_stored = BaseCache.get_response, http.stored

    def get_response(self, key, default=None):
        looked_up.append(key)
        return real(self, key, default)

    def stored(path, key):
        asked.append(key)
        return real_stored(path, key)

    monkeypatch.setattr(BaseCache, "get_response", get_response)
    monkeypatch.setattr(http, "stored", stored)
    sb = esi_sandbox_factory(sizes=SMALL, limits=SandboxLimits(cache_seconds=4))
    client = make_client(sb)
    first = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    # page 1 was looked for in the file itself (requests-cache still loading) and was not
    # there, so pages 2..N were not either: none went through requests-cache's lookup
    assert len(asked) == 1 and looked_up == []
    assert first.attrs["esi"]["cache"]["fresh"] == SMALL.forge_order_pages
    # every page was stored all the same: after Expires each one is revalidated (next test)


def test_repeat_within_expires_makes_no_request_then_revalidates(esi_sandbox_factory, make_client):
    # Expires is an HTTP date (whole seconds): 4 s leaves room for a loaded machine between
    # the first call and the repeat, which must land before it.
    sb = esi_sandbox_factory(sizes=SMALL, limits=SandboxLimits(cache_seconds=4))
    client = make_client(sb)
    first = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert first.attrs["esi"]["cache"]["fresh"] == SMALL.forge_order_pages
    # Each page carries its own Expires; pages fetched across a second boundary differ by one
    # second, and a page still fresh is rightly served without asking. Wait for the last one.
    expires = max(pd.Timestamp(e).timestamp() for e in first.attrs["esi"]["responses"]["expires"])
    requests_before = len(sb.log)
    again = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(sb.log) == requests_before  # served from the cache: zero requests
    assert again.attrs["esi"]["cache"]["cache"] == SMALL.forge_order_pages
    pd.testing.assert_frame_equal(first, again)
    time.sleep(max(0.0, expires - time.time()) + 0.2)  # let every page's Expires pass
    later = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    new = sb.log.entries()[requests_before:]
    assert [e.status for e in new] == [304] * SMALL.forge_order_pages
    assert all(e.headers.get("If-None-Match") for e in new)
    assert later.attrs["esi"]["cache"]["revalidated"] == SMALL.forge_order_pages
    pd.testing.assert_frame_equal(first, later)


def test_force_refresh_and_use_cache_false_ask_esi_again(sandbox, make_client):
    client = make_client(sandbox)
    client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    before = len(sandbox.log)
    client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    assert len(sandbox.log) == before
    client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34, force_refresh=True)
    client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34, use_cache=False)
    assert len(sandbox.log) == before + 2


def test_cache_keys_follow_language(sandbox, make_client):
    client = make_client(sandbox)
    sandbox.log.clear()
    en = client.get("GetUniverseTypesTypeId", type_id=35)
    de = client.get("GetUniverseTypesTypeId", type_id=35, language="de")
    assert (en["name"][0], de["name"][0]) == ("Pyerite", "Pyerit")
    assert len(sandbox.log) == 2


def test_every_request_identifies_itself(sandbox, make_client):
    client = make_client(sandbox, cache=False, language="de")
    sandbox.log.clear()
    client.get("GetStatus")
    (entry,) = sandbox.log.entries()
    headers = {k.lower(): v for k, v in entry.headers.items()}
    assert headers["x-compatibility-date"] == "2026-08-04"
    assert headers["x-tenant"] == "tranquility"
    assert headers["accept-language"] == "de"
    assert headers["user-agent"].startswith("esiframe-tests (tests@example.com) esiframe/")


def test_fan_out_adds_the_parameter_as_a_column(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    df = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=[34, 35, 36])
    assert list(df.columns[:1]) == ["type_id"]
    assert df["type_id"].value_counts().to_dict() == {
        34: SMALL.history_days,
        35: SMALL.history_days,
        36: SMALL.history_days,
    }
    assert pd.api.types.is_integer_dtype(df["type_id"])


def test_fan_out_failures_are_reported_not_lost(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    with pytest.raises(PartialResultError, match="999999999") as info:
        client.get("GetUniverseTypesTypeId", type_id=[34, 999999999, 35])
    assert info.value.frame["type_id"].tolist() == [34, 35]
    assert [f["params"]["type_id"] for f in info.value.failures] == [999999999]
    df = client.get("GetUniverseTypesTypeId", type_id=[34, 999999999, 35], errors="skip")
    assert df["type_id"].tolist() == [34, 35]
    (failure,) = df.attrs["esi"]["errors"]
    assert failure["status"] == 404 and failure["params"]["type_id"] == 999999999


def test_a_single_failing_request_raises_the_http_error(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    with pytest.raises(ef.ClientError) as info:
        client.get("GetUniverseTypesTypeId", type_id=999999999)
    assert info.value.status == 404
    assert "error" in info.value.body


def test_languages_merge_translated_columns(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    df = client.get("GetUniverseTypesTypeId", type_id=[34, 35], languages=["en", "de", "ko"])
    assert {"name_en", "name_de", "name_ko"} <= set(df.columns)
    assert "name" not in df.columns
    assert df["type_id"].tolist() == [34, 35]
    for lang in ("en", "de", "ko"):
        alone = client.get("GetUniverseTypesTypeId", type_id=[34, 35], language=lang)
        assert df[f"name_{lang}"].tolist() == alone["name"].tolist()


def test_object_cursor_and_scalar_shapes(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    assert len(client.get("GetStatus")) == 1
    jobs = client.get("GetFreelanceJobsListing")
    assert len(jobs) == SMALL.cursor_records
    assert jobs["id"].is_unique
    alliances = client.get("GetAlliances")
    assert list(alliances.columns) == ["alliance_id"]


def test_raw_returns_the_json(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    body = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34, raw=True)
    assert isinstance(body, list) and body[0].keys() >= {"date", "average", "volume"}
    assert isinstance(client.get("GetStatus", raw=True), dict)
    assert client.get_raw("GetMarketsRegionIdHistory", region_id=10000002, type_id=34) == body
    with pytest.raises(ParameterError, match="pages must be"):
        client.get_raw("GetStatus", pages=0)


def test_pyarrow_backend(sandbox, make_client):
    client = make_client(sandbox, cache=False, dtype_backend="pyarrow")
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, pages=1)
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in df.dtypes)


def test_read_only_posts_and_names(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    sandbox.log.clear()
    ids = [34, 35, 30000142, *range(100, 2100)]
    names = client.names(ids)
    assert set(names.columns) >= {"id", "name", "category"}
    assert sandbox.log.count(operation_id="PostUniverseNames") == 3  # 2003 ids in batches of 1000
    assert names["id"].tolist() == ids
    assert names.attrs["esi"]["invalid_ids"] == []
    # Two ids ESI cannot name (the sandbox's 1 and 42) cost a bisection each, nothing more.
    sandbox.log.clear()
    fresh = make_client(sandbox, cache=False)
    named = fresh.names([1, *ids, 42])
    assert named["id"].tolist() == ids
    assert named.attrs["esi"]["invalid_ids"] == [1, 42]
    assert sandbox.log.count(operation_id="PostUniverseNames") <= 3 + 2 * 2 * 10


def test_operations_are_browsable_by_tag(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    assert "market" in dir(client.ops)
    assert "GetMarketsRegionIdHistory" in dir(client.ops.market)
    history = client.ops.market.GetMarketsRegionIdHistory
    assert str(history.__signature__) == "(*, region_id: int, type_id: int)"
    assert "List historical market statistics" in history.__doc__
    assert "| `type_id` |" in history._repr_markdown_()
    assert len(history(region_id=10000002, type_id=34)) == SMALL.history_days


def test_another_compatibility_date_loads_its_spec_through_the_cache(sandbox, make_client):
    sandbox.log.clear()
    client = make_client(sandbox, compatibility_date="2025-12-16")
    assert client.spec.date == "2025-12-16"
    make_client(sandbox, compatibility_date="2025-12-16").spec  # noqa: B018 - the second load
    assert sandbox.log.count(path="/meta/openapi.json") == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.get("GetMarketHistory"), OperationNotFound, "GetMarketsRegionIdHistory"),
        (
            lambda c: c.get("GetMarketsRegionIdHistory", region_id=10000002),
            ParameterError,
            "type_id",
        ),
        (
            lambda c: c.get("GetMarketsRegionIdHistory", region_id="Forge", type_id=34),
            ParameterError,
            "integer",
        ),
        (
            lambda c: c.get("GetMarketsRegionIdOrders", region_id=1, order_type="both"),
            ParameterError,
            "'buy'",
        ),
        (
            lambda c: c.get("GetMarketsRegionIdOrders", region_id=1, pages=0),
            ParameterError,
            "pages",
        ),
        (lambda c: c.get("GetStatus", language="xx"), ParameterError, "'en'"),
        (
            lambda c: c.get("GetStatus", languages=["en", "de"]),
            ParameterError,
            "no translated text",
        ),
        (lambda c: c.get("GetStatus", errors="ignore"), ParameterError, "'skip'"),
        (lambda c: c.get("GetStatus", on_limit="wait"), ParameterError, "'sleep'"),
        (lambda c: c.get("GetStatus", dtype_backend="arrow"), ParameterError, "'pyarrow'"),
        (lambda c: c.get("GetStatus", body=[1]), ParameterError, "takes no body"),
        (lambda c: c.get("GetStatus", character="Someone"), ParameterError, "public"),
        (lambda c: c.get("PostUniverseNames", body=["Jita"]), ParameterError, "integer"),
        (
            lambda c: c.get("PutCharactersCharacterIdCalendarEventId", character_id=1, event_id=1),
            ParameterError,
            "only reads",
        ),
    ],
)
def test_bad_input_raises_before_any_request(call, error, match, sandbox, make_client):
    client = make_client(sandbox, cache=False)
    sandbox.log.clear()
    with pytest.raises(error, match=match):
        call(client)
    assert len(sandbox.log) == 0


def test_bad_settings_are_named():
    with pytest.raises(ParameterError, match=r"unknown setting.*max_worker"):
        ef.Client(max_worker=3, contact="x@example.com")
    with pytest.raises(ParameterError, match="max_workers must be a positive integer"):
        ef.Client(max_workers=0, contact="x@example.com")
    with pytest.raises(ef.CompatibilityDateError, match="valid dates"):
        ef.Client(compatibility_date="2019-12-31", contact="x@example.com")


def test_metadata_describes_the_result(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, type_id=34)
    meta = df.attrs["esi"]
    assert meta["operation"] == "GetMarketsRegionIdOrders"
    assert meta["parameters"] == {"region_id": 10000002, "type_id": 34}
    assert meta["compatibility_date"] == "2026-08-04"
    assert meta["pages"] == meta["responses"].num_rows == 1
    response = meta["responses"].row(0)
    assert response["etag"] == meta["etag"] and meta["etag"].startswith('"')
    assert pd.Timestamp(meta["expires"]) > pd.Timestamp(meta["last_modified"])


def test_a_rerun_within_expires_reuses_the_finished_frame(sandbox, make_client):
    client = make_client(sandbox)
    first = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    first.loc[0, "price"] = -1.0  # the caller's changes never leak into later results
    before = len(sandbox.log)
    again = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(sandbox.log) == before
    assert again.loc[0, "price"] != -1.0
    assert again.attrs["esi"]["cache"]["cache"] == again.attrs["esi"]["pages"]
    other = client.get("GetMarketsRegionIdOrders", region_id=10000002, dtype_backend="pyarrow")
    assert isinstance(other["price"].dtype, pd.ArrowDtype)  # another form is another result


def test_if_modified_since_accepts_the_last_modified_esiframe_reported(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    first = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    unchanged = client.get(
        "GetMarketsRegionIdHistory",
        region_id=10000002,
        type_id=34,
        if_modified_since=first.attrs["esi"]["last_modified"],
    )
    assert len(unchanged) == 0
    assert unchanged.attrs["esi"]["cache"]["not-modified"] == 1
    assert sandbox.log.entries()[-1].status == 304
    with pytest.raises(ParameterError, match="timezone-aware"):
        client.get("GetStatus", if_modified_since="yesterday")


def test_no_contact_warns_once(monkeypatch):
    monkeypatch.setattr(ef.Client, "_warned_contact", False)
    with pytest.warns(ef.EsiframeWarning, match="contact"):
        ef.Client()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.Client()  # the second client stays quiet


def test_more_names_than_one_batch_still_give_one_answer(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    sandbox.log.clear()
    names = [f"Pilot {n}" for n in range(1, 601)]  # ESI takes 500 names a request
    df = client.get("PostUniverseIds", body=names)
    assert sandbox.log.count(operation_id="PostUniverseIds") == 2
    assert len(df) == 1
    assert sorted(c["name"] for c in df.loc[0, "characters"]) == sorted(names)


def test_raw_fan_out_reports_failures_too(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    with pytest.raises(PartialResultError, match="999999999") as info:
        client.get("GetUniverseTypesTypeId", type_id=[34, 999999999], raw=True)
    ok, failed = info.value.frame
    assert ok["data"]["type_id"] == 34 and "error" in failed and "data" not in failed
    skipped = client.get("GetUniverseTypesTypeId", type_id=[34, 999999999], raw=True, errors="skip")
    assert [("data" in entry) for entry in skipped] == [True, False]


def test_a_scalar_and_a_one_item_list_are_different_results(sandbox, make_client):
    client = make_client(sandbox)
    one = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    fanned = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=[34])
    assert "type_id" not in one.columns
    assert fanned.columns[0] == "type_id"


def test_a_failure_in_one_language_drops_that_record_in_all(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    df = client.get(
        "GetUniverseTypesTypeId", type_id=[34, 999999999], languages=["en", "de"], errors="skip"
    )
    assert df["type_id"].tolist() == [34]
    failed = df.attrs["esi"]["errors"]
    assert {(f["params"]["type_id"], f["language"]) for f in failed} == {
        (999999999, "en"),
        (999999999, "de"),
    }


@pytest.mark.parametrize(
    ("setting", "env", "shown"),
    [(True, None, True), (None, "1", True), (None, "0", False), (False, "1", False)],
)
def test_a_long_call_shows_a_progress_bar_unless_switched_off(
    setting, env, shown, esi_sandbox_factory, make_client, monkeypatch, capsys
):
    if env is not None:
        monkeypatch.setenv("ESIFRAME_PROGRESS", env)
    sandbox = esi_sandbox_factory(sizes=SMALL, faults=Faults(latency=0.3))
    client = make_client(sandbox, cache=False, max_workers=2, progress=setting)
    # 6 pages, 2 at a time, 0.3 s each: over a second, well past the bar's 0.5 s delay
    client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert ("GetMarketsRegionIdOrders" in capsys.readouterr().err) is shown


def test_a_call_over_max_requests_is_refused_before_any_request(sandbox, make_client):
    client = make_client(sandbox, cache=False, max_requests=5)
    before = len(sandbox.log)
    with pytest.raises(ParameterError, match=r"6 requests .*max_requests=5.*ESIFRAME_MAX_REQUESTS"):
        client.get("GetUniverseTypesTypeId", type_id=[34, 35, 36], languages=["en", "de"])
    with pytest.raises(ParameterError, match="6 requests"):
        client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=range(34, 40))
    assert len(sandbox.log) == before  # nothing was sent
    df = client.get(
        "GetUniverseTypesTypeId", type_id=[34, 35, 36], languages=["en", "de"], max_requests=6
    )  # raised for this call only
    assert sorted(df["type_id"]) == [34, 35, 36]


def test_pages_over_max_requests_are_refused_before_they_are_fetched(sandbox, make_client):
    client = make_client(sandbox, cache=False, max_requests=SMALL.forge_order_pages - 1)
    sandbox.log.clear()
    with pytest.raises(ParameterError, match=f"{SMALL.forge_order_pages} requests.*pages=N"):
        client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(sandbox.log) == 1  # page 1 told the count; no other page was asked for
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002, pages=2)
    assert df.attrs["esi"]["pages"] == 2


def test_a_reused_result_shares_no_list_cell_with_the_last_one(sandbox, make_client):
    client = make_client(sandbox)
    first = client.get("GetUniverseTypesTypeId", type_id=34)
    cells = [c for c in first.columns if isinstance(first.at[0, c], list) and first.at[0, c]]
    assert cells, "the type has list cells (dogma attributes, ...)"
    wanted = {c: list(first.at[0, c]) for c in cells}
    before = len(sandbox.log)
    for column in cells:
        first.at[0, column].clear()  # the caller empties a list in place
    again = client.get("GetUniverseTypesTypeId", type_id=34)
    assert len(sandbox.log) == before  # reused from memory
    assert {c: list(again.at[0, c]) for c in cells} == wanted
    again.at[0, cells[0]].append("mine")
    assert (
        list(client.get("GetUniverseTypesTypeId", type_id=34).at[0, cells[0]]) == wanted[cells[0]]
    )


def test_a_refresh_that_shrinks_the_page_count_starts_the_walk_again(
    esi_sandbox_factory, make_client
):
    import json

    from esiframe.sandbox.server import SandboxResponse

    old, new = "Tue, 01 Dec 2026 10:00:00 GMT", "Tue, 01 Dec 2026 10:05:00 GMT"
    served = {"page 1": 0}

    def orders(request):
        page = int(request.query.get("page", ["1"])[0])
        refreshed = served["page 1"] > 0 or page > 1  # ESI refreshed right after page 1
        if page == 1:
            served["page 1"] += 1
        pages, stamp = (2, new) if refreshed else (3, old)
        if page > pages:
            return SandboxResponse(404, {"Content-Type": "application/json"}, b'{"error":"x"}')
        body = [{"order_id": (100 if refreshed else 0) + page, "type_id": 34}]
        headers = {
            "Content-Type": "application/json",
            "X-Pages": str(pages),
            "Last-Modified": stamp,
        }
        return SandboxResponse(200, headers, json.dumps(body).encode())

    sb = esi_sandbox_factory(sizes=SMALL)
    sb.add_route("GET", "/markets/{region_id}/orders", orders)
    client = make_client(sb, cache=False, max_workers=2)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert df["order_id"].tolist() == [101, 102]  # the new snapshot, whole
    assert served["page 1"] == 2
    assert set(df.attrs["esi"]["responses"]["last_modified"]) == {pd.Timestamp(new).isoformat()}


def test_a_request_never_answered_raises_a_transport_error(esi_sandbox_factory, make_client):
    from fakeclock import FakeClock

    sb = esi_sandbox_factory(sizes=SMALL, faults=Faults(drop_rate=1.0))
    client = make_client(sb, cache=False, retries=1, clock=FakeClock().as_client_clock())
    with pytest.raises(ef.TransportError, match="no answer after 2 attempts") as info:
        client.get("GetStatus")
    assert isinstance(info.value, ef.EsiError) and not isinstance(info.value, ef.EsiHTTPError)


def test_the_in_process_adapter_runs_the_client_on_the_sandbox_without_sockets(make_client):
    from urllib.parse import parse_qs, urlsplit

    from esiframe.inprocess import InProcessAdapter
    from esiframe.sandbox import Sandbox
    from esiframe.sandbox.server import SandboxRequest

    sb = Sandbox(sizes=SMALL)  # never started: no port is opened

    def answer(method, url, headers, body):
        parts = urlsplit(url)
        request = SandboxRequest(method, parts.path, parse_qs(parts.query), dict(headers), body)
        response = sb.handle(request)
        return None if response is None else (response.status, response.headers, response.body)

    client = ef.Client(
        base_url="https://esi.invalid",
        cache=False,
        progress=False,
        contact="tests@example.com",
        transport=InProcessAdapter(answer),
    )
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    params = {"region_id": "10000002", "order_type": "all"}
    pages = range(1, SMALL.forge_order_pages + 1)
    expected = [
        o["order_id"]
        for n in pages
        for o in sb.dataset.page(df.attrs["esi"]["operation"], params, n)
    ]
    assert df["order_id"].tolist() == expected
    assert sb.log.count(operation_id="GetMarketsRegionIdOrders") == SMALL.forge_order_pages
    with pytest.raises(ParameterError, match="transport must be"):
        ef.Client(contact="x@example.com", transport="http://esi.invalid")


def test_an_off_schema_answer_warns_and_keeps_every_value(esi_sandbox_factory, make_client):
    """ESI sends text where the spec says integer, a number where it says boolean: kept, named."""
    from esiframe.sandbox.messages import SandboxResponse

    sb = esi_sandbox_factory(sizes=SMALL)
    good = sb.dataset.page("GetMarketsRegionIdOrders", {"region_id": "10000002"}, 1)[:3]
    odd = [dict(good[0], volume_total="lots"), dict(good[1], is_buy_order=2), good[2]]

    def orders(request):
        headers = {"Content-Type": "application/json", "X-Pages": "1"}
        return SandboxResponse(200, headers, json.dumps(odd).encode())

    sb.add_route("GET", "/markets/{region_id}/orders", orders)
    client = make_client(sb, cache=False)
    with pytest.warns(ef.EsiframeWarning, match="GetMarketsRegionIdOrders") as caught:
        df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    said = " ".join(str(w.message) for w in caught)
    assert "volume_total" in said and "is_buy_order" in said
    assert df["volume_total"].tolist() == ["lots", good[1]["volume_total"], good[2]["volume_total"]]
    assert df["is_buy_order"].tolist()[1] == 2
    assert df["order_id"].tolist() == [o["order_id"] for o in good]
