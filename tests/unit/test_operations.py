"""Planning requests from user input: read-only POSTs, numpy/pandas values, each= rows, describe."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import esiframe.operations
from esiframe.errors import ParameterError
from esiframe.operations import Operation, Parameter
from esiframe.readonly import READ_ONLY_POSTS, changes_data_message, read_only_text
from esiframe.spec import bundled_spec

spec = bundled_spec()
history = spec.operation("GetMarketsRegionIdHistory")
orders = spec.operation("GetMarketsRegionIdOrders")
killmail = spec.operation("GetKillmailsKillmailIdKillmailHash")
route = spec.operation("PostRoute")
names = spec.operation("PostUniverseNames")


# -- issue 10.1: an operation needs no spec ------------------------------------------------


def test_operations_module_imports_nothing_from_spec():
    tree = ast.parse(Path(esiframe.operations.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert "spec" not in imported and "esiframe.spec" not in imported
    assert not hasattr(history, "spec")


def test_an_operation_is_built_from_its_raw_entry_and_a_resolver():
    document = spec.document
    raw = document["paths"]["/markets/{region_id}/history"]["get"]
    op = Operation.from_raw("/markets/{region_id}/history", "get", raw, spec.resolve)
    assert op.signature == history.signature
    assert op.response_schema == history.response_schema
    (call,) = op.bind({"region_id": 10000002, "type_id": 34})
    assert call.path == "/markets/10000002/history"


# -- issue 11.1: read-only POSTs in one place -----------------------------------------------


def test_read_only_posts_are_the_listed_ones_and_exist_in_the_spec():
    posts = {op.operation_id for op in spec if op.method == "POST"}
    assert set(READ_ONLY_POSTS) <= posts
    assert {op.operation_id for op in spec if op.read_only and op.method != "GET"} == set(
        READ_ONLY_POSTS
    )
    assert set(READ_ONLY_POSTS) == {
        "PostUniverseNames",
        "PostUniverseIds",
        "PostCharactersAffiliation",
        "PostRoute",
        "PostCharactersCharacterIdAssetsNames",
        "PostCharactersCharacterIdAssetsLocations",
        "PostCorporationsCorporationIdAssetsNames",
        "PostCorporationsCorporationIdAssetsLocations",
        "PostCharactersCharacterIdCspa",
    }
    writers = [op for op in spec if op.method in {"PUT", "DELETE"}]
    assert writers and not any(op.read_only for op in writers)
    assert not spec.operation("PostCharactersCharacterIdMail").read_only
    assert all(op.read_only for op in spec if op.method == "GET")


def test_the_refusal_names_every_read_only_post():
    message = changes_data_message("PostCharactersCharacterIdMail", "post")
    assert message.startswith("PostCharactersCharacterIdMail (POST) changes data in EVE")
    for op_id in READ_ONLY_POSTS:
        assert op_id in message and op_id in read_only_text()


def test_route_planner_body_and_path_parameters():
    body = {
        "avoid_systems": np.array([30000142, 30000144]),
        "connections": [{"from": 30000142, "to": 30002187}],
        "preference": "Safer",
        "security_penalty": np.int64(80),
    }
    (call,) = route.bind(
        {"origin_system_id": 30000142, "destination_system_id": 30002187}, body=body
    )
    assert call.path == "/route/30000142/30002187"
    assert call.body == {
        "avoid_systems": [30000142, 30000144],
        "connections": [{"from": 30000142, "to": 30002187}],
        "preference": "Safer",
        "security_penalty": 80,
    }
    assert type(call.body["security_penalty"]) is int
    # All fields are optional: no body sends an empty object, as ESI's defaults apply.
    (plain,) = route.bind({"origin_system_id": 30000142, "destination_system_id": 30002187})
    assert plain.body == {}
    calls = route.bind(
        {"origin_system_id": 30000142, "destination_system_id": [30002187, 30000144]}
    )
    assert [c.path for c in calls] == ["/route/30000142/30002187", "/route/30000142/30000144"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"preference": "Fastest"}, "allowed values: 'Shorter', 'Safer', 'LessSecure'"),
        ({"security_penalty": 101}, "security_penalty.*between 0 and 100"),
        ({"avoid": [30000142]}, r"unknown field.*avoid_systems, connections"),
        ({"connections": [{"from": 30000142}]}, "needs field.*to"),
        ({"avoid_systems": "Jita"}, "avoid_systems.*must be a list"),
        ([30000142], "body must be a dict"),
        ({"connections": [5]}, r"body\['connections'\] item must be a dict, got 5"),
    ],
)
def test_route_planner_body_is_checked_against_its_schema(body, match):
    with pytest.raises(ParameterError, match=match) as info:
        route.bind({"origin_system_id": 1, "destination_system_id": 2}, body=body)
    assert "PostRoute(*, body" in str(info.value)


# -- issue 11.3: numpy and pandas values -------------------------------------------------------


def test_numpy_scalars_are_parameters_like_python_ones():
    (call,) = history.bind({"region_id": np.int64(10000002), "type_id": np.int32(34)})
    assert call.path == "/markets/10000002/history"
    assert call.query == {"type_id": 34} and type(call.query["type_id"]) is int
    jobs = spec.operation("GetCorporationsCorporationIdIndustryJobs")
    (call,) = jobs.bind({"corporation_id": np.int64(98000001), "include_completed": np.bool_(True)})
    assert call.query["include_completed"] is True
    (call,) = orders.bind({"region_id": 10000002, "order_type": np.str_("sell")})
    assert call.query["order_type"] == "sell" and type(call.query["order_type"]) is str


def test_fan_out_from_numpy_arrays_and_series_gives_plain_values():
    frame = pd.DataFrame({"type_id": [34, 35, 34]})
    calls = history.bind({"region_id": np.int64(10000002), "type_id": frame["type_id"]})
    assert [c.fanout for c in calls] == [{"type_id": 34}, {"type_id": 35}]
    assert all(type(c.fanout["type_id"]) is int for c in calls)
    calls = history.bind(
        {"region_id": np.array([10000002, 10000043], dtype=np.int32), "type_id": 34}
    )
    assert [c.path_params["region_id"] for c in calls] == [10000002, 10000043]


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA])
def test_a_missing_value_in_a_fan_out_list_names_the_parameter(missing):
    with pytest.raises(ParameterError, match=r"type_id has a missing value .* at position 1"):
        history.bind({"region_id": 10000002, "type_id": [34, missing, 35]})
    with pytest.raises(ParameterError, match="type_id has a missing value"):
        history.bind({"region_id": 10000002, "type_id": pd.Series([34, missing], dtype=object)})


@pytest.mark.parametrize("missing", [math.nan, np.float64("nan"), pd.NA, pd.NaT])
def test_a_missing_scalar_names_the_parameter(missing):
    with pytest.raises(ParameterError, match=r"type_id is missing") as info:
        history.bind({"region_id": 10000002, "type_id": missing})
    assert "Call it as GetMarketsRegionIdHistory" in str(info.value)


def test_none_is_refused_for_any_parameter_leaving_it_out_is_how_not_to_send_it():
    """A missing value read from a frame must not widen the call (every type instead of one)."""
    with pytest.raises(ParameterError, match=r"missing required parameter.*region_id"):
        history.bind({"region_id": None, "type_id": 34})
    with pytest.raises(ParameterError, match="type_id is None; give a value, or leave type_id out"):
        orders.bind({"region_id": 10000002, "type_id": None})
    (call,) = orders.bind({"region_id": 10000002})
    assert call.query == {"order_type": "all"}


def test_body_items_from_numpy_and_pandas():
    ids = pd.Series([30000142, 30000142, 10000002], dtype="int64")
    (call,) = names.bind({}, body=ids)
    assert call.body == [30000142, 10000002]
    assert all(type(v) is int for v in call.body)
    with pytest.raises(ParameterError, match="body item is missing"):
        names.bind({}, body=pd.array([1, None], dtype="Int64"))


def test_dates_accept_date_objects_timestamps_and_iso_strings():
    day = Parameter("day", "query", True, {"type": "string", "format": "date"})
    assert day.check(dt.date(2026, 8, 4)) == "2026-08-04"
    assert day.check(pd.Timestamp("2026-08-04 13:00")) == "2026-08-04"
    assert day.check(np.datetime64("2026-08-04")) == "2026-08-04"
    assert day.check("2026-08-04") == "2026-08-04"
    with pytest.raises(ParameterError, match="day must be a date"):
        day.check("4 August")
    with pytest.raises(ParameterError, match="day is missing"):
        day.check(pd.NaT)
    moment = Parameter("at", "query", True, {"type": "string", "format": "date-time"})
    assert moment.check(pd.Timestamp("2026-08-04 13:00", tz="Europe/Berlin")) == (
        "2026-08-04T11:00:00Z"
    )
    assert moment.check(dt.datetime(2026, 8, 4, 13, 0)) == "2026-08-04T13:00:00Z"


# -- issue 13.1: each= rows pair ------------------------------------------------------------


PAIRS = [(123, "aaa"), (124, "bbb"), (125, "ccc")]


def test_each_row_is_one_call_with_its_values_as_fan_out_columns():
    rows = pd.DataFrame(PAIRS, columns=["killmail_id", "killmail_hash"])
    calls = killmail.bind({}, each=rows)
    assert [c.path for c in calls] == [
        "/killmails/123/aaa",
        "/killmails/124/bbb",
        "/killmails/125/ccc",
    ]
    assert calls[0].fanout == {"killmail_id": 123, "killmail_hash": "aaa"}
    assert type(calls[0].fanout["killmail_id"]) is int
    as_dicts = [{"killmail_id": i, "killmail_hash": h} for i, h in PAIRS]
    assert [c.path for c in killmail.bind({}, each=as_dicts)] == [c.path for c in calls]
    assert len(killmail.plan({}, each=rows)) == 3  # counted without building the calls


def test_each_crosses_with_list_parameters_and_takes_single_values():
    rows = [{"type_id": 34}, {"type_id": 35}]
    calls = history.bind({"region_id": [10000002, 10000043]}, each=rows)
    assert [(c.path_params["region_id"], c.query["type_id"]) for c in calls] == [
        (10000002, 34),
        (10000043, 34),
        (10000002, 35),
        (10000043, 35),
    ]
    assert calls[1].fanout == {"type_id": 34, "region_id": 10000043}
    (call,) = history.bind({"region_id": 10000002}, each=[{"type_id": 34}, {"type_id": 34}])
    assert call.fanout == {"type_id": 34}  # duplicate rows are one request


def test_each_can_set_a_required_parameter_that_has_a_default():
    calls = orders.bind(
        {"region_id": 10000002}, each=[{"order_type": "buy"}, {"order_type": "sell"}]
    )
    assert [c.query["order_type"] for c in calls] == ["buy", "sell"]


@pytest.mark.parametrize(
    ("params", "each", "match"),
    [
        (
            {},
            [{"killmail_id": 1, "hash": "a"}],
            r"'hash' is unknown.*parameters: killmail_hash, killmail_id",
        ),
        ({"killmail_hash": "a"}, [{"killmail_id": 1, "killmail_hash": "b"}], "both as a keyword"),
        ({}, [{"killmail_id": 1}], "missing required parameter.*killmail_hash"),
        ({}, [{"killmail_id": 1, "killmail_hash": "a"}, {"killmail_id": 2}], "missing required"),
        (
            {},
            pd.DataFrame(
                {"killmail_id": pd.array([1, None], "Int64"), "killmail_hash": ["a", "b"]}
            ),
            "row 1: killmail_id is missing",
        ),
        (
            {},
            [{"killmail_id": [1, 2], "killmail_hash": "a"}],
            "row 0: killmail_id must be one value",
        ),
        ({}, [{"killmail_id": "1", "killmail_hash": "a"}], "row 0: killmail_id must be an integer"),
        ({}, [], "each= has no rows"),
        ({}, {"killmail_id": 1}, "each= must be a DataFrame or a list of dicts"),
        ({}, [(1, "a")], "each= rows must be dicts"),
    ],
)
def test_each_rows_are_checked_like_parameters(params, each, match):
    with pytest.raises(ParameterError, match=match) as info:
        killmail.bind(params, each=each)
    assert "Call it as GetKillmailsKillmailIdKillmailHash" in str(info.value)


def test_request_count_is_known_without_building_the_calls():
    plan = history.plan({"region_id": list(range(1, 1001)), "type_id": list(range(1, 1001))})
    assert len(plan) == 1_000_000
    plan.check_limit(1_000_000)
    with pytest.raises(ParameterError) as info:
        plan.check_limit(10_000, languages=2)
    message = str(info.value)
    assert "would send 2,000,000 requests" in message
    assert "1,000 region_id values x 1,000 type_id values x 2 languages" in message
    assert "max_requests=10,000" in message and "Client(max_requests=" in message
    assert len(names.plan({}, body=list(range(1, 2502)))) == 3
    rows = [{"type_id": t} for t in range(1, 101)]
    plan = history.plan({"region_id": [10000002, 10000043]}, each=rows)
    plan.check_limit(400, characters=2)
    with pytest.raises(ParameterError, match=r"800 requests \(100 each= rows x 2 region_id values"):
        plan.check_limit(400, languages=2, characters=2)


# -- issue 14.2: describe ------------------------------------------------------------------


def test_text_description_has_the_facts_of_the_table_in_signature_order():
    text = str(orders)
    assert text == orders.describe_text() == orders.__doc__
    lines = text.splitlines()
    rows = [
        line.split()[0]
        for line in lines
        if line.split()[:1] in (["region_id"], ["order_type"], ["type_id"])
    ]
    assert rows == list(orders.__signature__.parameters) == ["region_id", "order_type", "type_id"]
    order_type = next(line for line in lines if line.startswith("order_type"))
    assert "no (default 'all')" in order_type
    region = next(line for line in lines if line.startswith("region_id"))
    assert " yes " in region and "Return orders in this region" in region
    markdown = orders._repr_markdown_()
    assert "| `order_type` | string in {buy, sell, all} | no (default 'all') |" in markdown
    for fact in ("market-order", "Pagination: x-pages", "Cached by ESI for 300 s"):
        assert fact in text and fact in markdown


def test_text_description_of_a_post_says_whether_it_only_reads():
    assert "POST that only reads" in route.describe_text()
    assert "body" in route.describe_text().split("type_id")[0]
    mail = spec.operation("PostCharactersCharacterIdMail")
    assert "changes data in EVE" in mail.describe_text()
    assert list(route.__signature__.parameters)[:1] == ["body"]


def test_a_positional_call_gets_a_message_with_the_keyword_form():
    error = history.positional_error((10000002, 34))
    assert isinstance(error, ParameterError)
    assert str(error) == (
        "GetMarketsRegionIdHistory takes keyword arguments only, got 2 positional argument(s); "
        "call it as GetMarketsRegionIdHistory(*, region_id: int, type_id: int) "
        "(e.g. GetMarketsRegionIdHistory(region_id=10000002, type_id=34))"
    )


@pytest.mark.parametrize("bad", [".", ".."])
def test_dot_segments_in_a_text_path_parameter_are_refused(bad: str) -> None:
    """`..` would be folded away by URL normalisation and change the path that is sent."""
    op = bundled_spec().operation("GetKillmailsKillmailIdKillmailHash")
    for attempt in (
        lambda: op.bind({"killmail_id": 1, "killmail_hash": bad}),
        lambda: op.bind({"killmail_id": 1, "killmail_hash": ["abc", bad]}),
        lambda: op.bind({}, each=[{"killmail_id": 1, "killmail_hash": bad}]),
    ):
        with pytest.raises(ParameterError, match="killmail_hash cannot be"):
            attempt()
    [call] = op.bind({"killmail_id": 1, "killmail_hash": "a..b"})
    assert call.path.rstrip("/").endswith("/a..b")
