"""The operation index built from the bundled spec, and parameter binding."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from esiframe.errors import CompatibilityDateError, OperationNotFound, ParameterError
from esiframe.spec import (
    BUNDLED_DATE,
    bundled_spec,
    check_compatibility_date,
    compatibility_dates,
    esi_today,
    load_spec,
    parse_compatibility_dates,
    resolve_compatibility_date,
    snake_case,
)

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "esi" / "openapi.json"
spec = bundled_spec()


def _raw_operations() -> list[tuple[str, str, dict]]:
    doc = spec.document
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete"}
    ]


def test_bundled_spec_is_the_2026_08_04_document_with_every_operation():
    assert spec.date == BUNDLED_DATE == "2026-08-04"
    assert len(spec) == 225
    methods = Counter(op.method for op in spec)
    assert methods == {"GET": 190, "POST": 21, "PUT": 7, "DELETE": 7}


@pytest.mark.skipif(
    not SHARED_SPEC.exists(), reason="the shared/ copy of CCP's spec is not beside this checkout"
)
def test_bundled_spec_is_ccps_document_unchanged():
    assert spec.document == json.loads(SHARED_SPEC.read_text(encoding="utf-8"))


def test_pagination_styles_match_the_spec():
    styles = Counter(op.pagination for op in spec)
    assert styles["x-pages"] == 40
    assert styles["cursor"] == 7
    assert styles["from_id"] == 2
    assert spec.operation("GetMarketsRegionIdOrders").pagination == "x-pages"
    assert spec.operation("GetFreelanceJobsListing").pagination == "cursor"
    assert spec.operation("GetCharactersCharacterIdWalletTransactions").pagination == "from_id"
    assert spec.operation("GetMarketsRegionIdHistory").pagination is None


@pytest.mark.parametrize(
    ("path", "method", "raw"),
    _raw_operations(),
    ids=lambda x: x if isinstance(x, str) and x[:1].isupper() else "",
)
def test_every_operation_reflects_its_spec_entry(path, method, raw):
    op = spec.operation(raw["operationId"])
    assert (op.path, op.method, op.tag) == (path, method.upper(), raw["tags"][0])
    assert op.summary == raw["summary"]
    assert op.rate_limit == raw.get("x-rate-limit")
    scopes = [s for req in raw.get("security", []) for s in req["OAuth2"]]
    assert op.scope == (scopes[0] if scopes else None)
    schema = op.response_schema
    if schema is not None:
        assert '"$ref"' not in json.dumps(schema)


def test_lookup_by_exact_any_case_and_legacy_snake_case():
    op = spec.operation("GetMarketsRegionIdHistory")
    assert spec.operation("getmarketsregionidhistory") is op
    assert spec.operation("GETMARKETSREGIONIDHISTORY") is op
    assert spec.operation("get_markets_region_id_history") is op
    assert snake_case("GetCharactersCharacterIdAssets") == "get_characters_character_id_assets"
    for op_id in spec.ids():
        assert spec.operation(snake_case(op_id)).operation_id == op_id


def test_unknown_operation_names_up_to_five_closest():
    with pytest.raises(OperationNotFound) as info:
        spec.operation("GetMarketHistory")
    message = str(info.value)
    assert "GetMarketHistory" in message
    assert "GetMarketsRegionIdHistory" in message
    closest = message.split("closest: ")[1].split(", ")
    assert len(closest) == 5


def test_operation_facts():
    orders = spec.operation("GetMarketsRegionIdOrders")
    assert orders.rate_limit_group == "market-order"
    assert orders.rate_limit_window == "15m"
    assert orders.cache_seconds == 300
    assert spec.operation("GetMarketsRegionIdHistory").hidden_per_minute == 300
    assets = spec.operation("GetCharactersCharacterIdAssets")
    assert assets.scope == "esi-assets.read_assets.v1"
    localized = sorted(op.operation_id for op in spec if op.localized)
    assert len(localized) == 17
    assert "GetUniverseTypesTypeId" in localized and "PostUniverseIds" in localized


def test_signature_docstring_and_markdown_come_from_the_spec():
    op = spec.operation("GetMarketsRegionIdOrders")
    sig = op.__signature__
    assert list(sig.parameters) == ["region_id", "order_type", "type_id"]
    assert sig.parameters["region_id"].default is inspect.Parameter.empty
    assert sig.parameters["order_type"].default == "all"
    assert op.signature.startswith("GetMarketsRegionIdOrders(*, region_id: int")
    assert "List orders in a region" in op.__doc__
    assert "Return orders in this region" in op.__doc__
    md = op._repr_markdown_()
    assert "| `type_id` | integer | no |" in md
    assert "market-order" in md


def test_compatibility_dates():
    assert compatibility_dates()[0] == "2026-08-18"
    assert check_compatibility_date("2025-12-16") == "2025-12-16"
    # Any day from 2020-01-01 to ESI's today is valid (ESI resolves it); others name the range.
    assert check_compatibility_date("2026-08-05") == "2026-08-05"
    with pytest.raises(CompatibilityDateError, match="valid dates are from 2020-01-01"):
        check_compatibility_date("2019-12-31")
    with pytest.raises(CompatibilityDateError, match="2026-08-18, 2026-08-04"):
        check_compatibility_date("2026-09-01", today=dt.date(2026, 8, 31))
    assert load_spec() is spec
    with pytest.raises(CompatibilityDateError, match="not bundled"):
        load_spec("2025-12-16")
    with pytest.raises(CompatibilityDateError, match="valid dates"):
        load_spec("1999-01-01", fetch=lambda d: {})


def test_load_spec_from_a_local_file(tmp_path):
    small = {
        "info": {"version": "2026-08-04"},
        "paths": {"/status": {"get": {"operationId": "GetStatus", "responses": {}}}},
    }
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(small))
    local = load_spec(path=str(path))
    assert local.ids() == ["GetStatus"]


# -- binding ---------------------------------------------------------------------------------

history = spec.operation("GetMarketsRegionIdHistory")
orders = spec.operation("GetMarketsRegionIdOrders")


def test_bind_one_call():
    (call,) = history.bind({"region_id": 10000002, "type_id": 34})
    assert call.path == "/markets/10000002/history"
    assert call.query == {"type_id": 34}
    assert call.fanout == {}


def test_required_parameter_with_a_default_is_sent():
    (call,) = orders.bind({"region_id": 10000002})
    assert call.query == {"order_type": "all"}


def test_fan_out_is_one_call_per_value_and_a_cartesian_product():
    calls = history.bind({"region_id": [10000002, 10000043], "type_id": np.array([34, 35, 34])})
    assert [(c.path_params["region_id"], c.query["type_id"]) for c in calls] == [
        (10000002, 34),
        (10000002, 35),
        (10000043, 34),
        (10000043, 35),
    ]
    assert calls[1].fanout == {"region_id": 10000002, "type_id": 35}


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"region_id": 10000002}, "missing required parameter.*type_id"),
        ({"region_id": 10000002, "type_id": 34, "typeid": 3}, "'typeid' is unknown"),
        ({"region_id": 10000002, "type_id": 34, "type": 3}, "did you mean 'type_id'"),
        ({"region_id": "10000002", "type_id": 34}, "region_id must be an integer"),
        ({"region_id": 10000002, "type_id": 3.5}, "type_id must be an integer"),
        ({"region_id": True, "type_id": 34}, "region_id must be an integer"),
        ({"region_id": 10000002, "type_id": []}, "empty list"),
        ({"region_id": 10000002, "type_id": 34, "page": 2}, "page is walked by esiframe"),
        ({"region_id": 10000002, "type_id": 34, "Accept-Language": "de"}, "set by esiframe"),
    ],
)
def test_bad_parameters_raise_with_the_signature(params, match):
    with pytest.raises(ParameterError, match=match) as info:
        history.bind(params)
    assert "GetMarketsRegionIdHistory(*, region_id: int, type_id: int)" in str(info.value)


def test_enum_and_integer_range_checks_name_what_is_allowed():
    with pytest.raises(ParameterError, match="allowed values: 'buy', 'sell', 'all'"):
        orders.bind({"region_id": 10000002, "order_type": "both"})
    (call,) = orders.bind({"region_id": 2**40})
    assert call.path_params == {"region_id": 2**40}
    with pytest.raises(ParameterError, match="region_id must be between"):
        orders.bind({"region_id": 2**63})


def test_booleans_and_array_parameters():
    jobs = spec.operation("GetCorporationsCorporationIdIndustryJobs")
    with pytest.raises(ParameterError, match="include_completed must be True or False"):
        jobs.bind({"corporation_id": 98000001, "include_completed": "yes"})
    search = spec.operation("GetCharactersCharacterIdSearch")
    with pytest.raises(ParameterError, match="allowed values"):
        search.bind({"character_id": 2112000001, "categories": ["planet"], "search": "Jita"})
    with pytest.raises(ParameterError, match="must be a list"):
        search.bind({"character_id": 2112000001, "categories": "agent", "search": "Jita"})


def test_bodies_are_checked_and_split_at_max_items():
    names = spec.operation("PostUniverseNames")
    calls = names.bind({}, body=[*list(range(1, 2501)), 1, 2])
    assert [len(c.body) for c in calls] == [1000, 1000, 500]
    with pytest.raises(ParameterError, match="needs body="):
        names.bind({})
    with pytest.raises(ParameterError, match="body item must be an integer"):
        names.bind({}, body=["Jita"])
    with pytest.raises(ParameterError, match="takes no body"):
        history.bind({"region_id": 1, "type_id": 2}, body=[1])


# -- compatibility dates resolve the way ESI resolves them -----------------------------------


@pytest.mark.parametrize(
    ("asked", "used"),
    [
        ("2026-08-04", "2026-08-04"),
        ("2026-08-10", "2026-08-04"),
        (dt.date(2026, 1, 1), "2025-12-16"),
        (dt.datetime(2025, 9, 30, 12, 0), "2025-09-30"),
        ("2020-01-01", "2020-01-01"),
        ("2024-06-01", "2020-01-01"),
    ],
)
def test_a_date_resolves_down_to_the_newest_published_date_not_after_it(asked, used):
    assert resolve_compatibility_date(asked, fetch_dates=_no_fetch) == used


def _no_fetch() -> dict:
    raise AssertionError("a date within the bundled list needs no request")


def test_a_date_newer_than_the_bundled_list_learns_the_current_list():
    asked = []

    def fetch_dates():
        asked.append(1)
        return {"compatibility_dates": ["2026-11-03", "2026-09-15", *compatibility_dates()]}

    today = dt.date(2026, 12, 1)
    assert resolve_compatibility_date("2026-11-20", fetch_dates=fetch_dates, today=today) == (
        "2026-11-03"
    )
    assert resolve_compatibility_date("2026-10-01", fetch_dates=fetch_dates, today=today) == (
        "2026-09-15"
    )
    assert len(asked) == 2
    # Without a way to ask, the newest bundled date is used rather than refusing.
    assert resolve_compatibility_date("2026-11-20", today=today) == "2026-08-18"


@pytest.mark.parametrize(
    ("asked", "match"),
    [
        ("2019-12-31", "valid dates are from 2020-01-01 to today"),
        ("2026-12-02", r"to today \(2026-12-01\)"),
        ("next week", "must be a date or a 'YYYY-MM-DD' string"),
        (20260804, "must be a date or a 'YYYY-MM-DD' string"),
    ],
)
def test_dates_esi_would_refuse_are_refused_before_any_request(asked, match):
    with pytest.raises(CompatibilityDateError, match=match):
        resolve_compatibility_date(asked, fetch_dates=_no_fetch, today=dt.date(2026, 12, 1))


def test_esi_changes_its_date_at_eleven_utc():
    assert esi_today(dt.datetime(2026, 8, 5, 10, 59, tzinfo=dt.UTC)) == dt.date(2026, 8, 4)
    assert esi_today(dt.datetime(2026, 8, 5, 11, 0, tzinfo=dt.UTC)) == dt.date(2026, 8, 5)


def test_the_meta_answer_is_read_newest_first():
    recorded = {"compatibility_dates": ["2020-01-01", "2026-08-18", "2025-12-16"]}
    assert parse_compatibility_dates(recorded) == ("2026-08-18", "2025-12-16", "2020-01-01")
    with pytest.raises(CompatibilityDateError, match="not a list of compatibility dates"):
        parse_compatibility_dates({"dates": []})


def test_load_spec_resolves_and_fetches_the_resolved_date():
    assert load_spec("2026-08-10") is spec
    assert load_spec(dt.date(2026, 8, 17)) is spec
    fetched = []

    def fetch(date):
        fetched.append(date)
        return {"info": {"version": date}, "paths": {}}

    older = load_spec("2026-01-01", fetch=fetch)
    assert older.date == "2025-12-16" and fetched == ["2025-12-16"]
    newer = load_spec(
        "2026-11-20",
        fetch=fetch,
        fetch_dates=lambda: ["2026-11-03", *compatibility_dates()],
        today=dt.date(2026, 12, 1),
    )
    assert newer.date == "2026-11-03" and fetched[-1] == "2026-11-03"


def _spec_file(tmp_path, version):
    small = {
        "info": {"version": version},
        "paths": {"/status": {"get": {"operationId": "GetStatus", "responses": {}}}},
    }
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(small))
    return str(path)


def test_a_spec_file_sends_its_own_date_and_refuses_a_disagreeing_one(tmp_path):
    path = _spec_file(tmp_path, "2025-12-16")
    assert load_spec(path=path).date == "2025-12-16"
    assert load_spec("2025-12-16", path=path).date == "2025-12-16"
    assert load_spec("2026-01-10", path=path).date == "2025-12-16"  # ESI resolves it there too
    with pytest.raises(ParameterError, match=r"compatibility_date='2026-08-04'.*is for 2025-12-16"):
        load_spec("2026-08-04", path=path)
    with pytest.raises(ParameterError, match="disagrees"):
        load_spec(dt.date(2025, 11, 6), path=path)


def test_a_spec_file_without_a_date_needs_one(tmp_path):
    path = _spec_file(tmp_path, "1.0.0")
    with pytest.raises(ParameterError, match=r"no compatibility date as info\.version"):
        load_spec(path=path)
    assert load_spec("2026-08-10", path=path).date == "2026-08-04"
