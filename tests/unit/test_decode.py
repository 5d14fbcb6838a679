"""Page bodies -> typed frames: the same frame as the record path, off-schema pages kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from esiframe.decode import DecodedPage, decode_page, frame_plan, tables_to_frame
from esiframe.errors import EsiframeWarning
from esiframe.frames import to_frame
from esiframe.spec import bundled_spec

ORDERS = "GetMarketsRegionIdOrders"
UTC_TS = pd.DatetimeTZDtype("us", "UTC")


def record_schema(operation_id: str) -> Mapping[str, Any]:
    schema = bundled_spec().operation(operation_id).response_schema
    assert schema is not None
    return schema["items"] if schema.get("type") == "array" else schema


def order(i: int, **changes: Any) -> dict[str, Any]:
    base = {
        "duration": 90,
        "is_buy_order": i % 3 == 0,
        "issued": f"2026-11-{1 + i % 28:02d}T11:05:44Z",
        "location_id": 60003760,
        "min_volume": 1,
        "order_id": 6_900_000_000 + i,
        "price": 5.25 + i,
        "range": ["region", "station", "5"][i % 3],
        "system_id": 30000142,
        "type_id": 34 + i % 7,
        "volume_remain": 400,
        "volume_total": 1000,
    }
    return {**base, **changes}


def body(records: list[Any]) -> bytes:
    return json.dumps(records, separators=(",", ":")).encode()


def decode(bodies: list[bytes], operation: str = ORDERS, **kw: Any) -> list[DecodedPage]:
    plan = frame_plan(record_schema(operation), operation, **kw)
    return [decode_page(b, plan) for b in bodies]


def pages_of(records: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow"])
def test_pages_give_the_record_paths_frame(backend: Any) -> None:
    records = [order(i) for i in range(25)]
    records[21]["range"] = "galaxy"  # an enum value the spec does not list, on a late page
    plan = frame_plan(record_schema(ORDERS), ORDERS)
    pages = [decode_page(body(p), plan) for p in pages_of(records, 10)]
    assert all(p.arrow is not None for p in pages)  # Arrow's reader took every page
    df = tables_to_frame(pages, plan, backend)
    pd.testing.assert_frame_equal(
        df, to_frame(records, record_schema(ORDERS), dtype_backend=backend)
    )
    if backend == "numpy_nullable":
        assert df["order_id"].dtype == "int64" and df["is_buy_order"].dtype == bool
        assert df["issued"].dtype == UTC_TS
        assert df["range"].dtype == "category"
        assert list(df["range"].cat.categories)[-1] == "galaxy"
        assert df["range"][21] == "galaxy"


def test_fanout_values_become_leading_columns_per_page() -> None:
    region = bundled_spec().operation(ORDERS).parameters
    region_schema = next(p.schema for p in region if p.name == "region_id")
    plan = frame_plan(record_schema(ORDERS), ORDERS, {"region_id": region_schema, "type_id": {}})
    assert [name for name, _ in plan.extra] == ["region_id"]  # type_id is in the records
    first, second = [order(i) for i in range(3)], [order(i) for i in range(3, 5)]
    pages = [decode_page(body(first), plan), decode_page(body(second), plan)]
    extra = [{"region_id": 10000002, "type_id": 34}, {"region_id": 10000043, "type_id": 35}]
    df = tables_to_frame(pages, plan, extra_columns=extra)
    assert list(df.columns)[:2] == ["region_id", "duration"]
    assert df["region_id"].tolist() == [10000002] * 3 + [10000043] * 2
    assert df["region_id"].dtype == "int64"
    rows = [{"region_id": 10000002, **r} for r in first] + [
        {"region_id": 10000043, **r} for r in second
    ]
    pd.testing.assert_frame_equal(df, to_frame(rows, plan.merged_schema))
    with pytest.raises(ValueError, match=r"one mapping per page \(2\).*region_id"):
        tables_to_frame(pages, plan)
    with pytest.raises(ValueError, match=r"extra_columns\[1\] lacks \['region_id'\]"):
        tables_to_frame(pages, plan, extra_columns=[extra[0], {"type_id": 3}])


def test_nested_objects_and_dates_take_the_fast_path() -> None:
    gate = {
        "stargate_id": 50000056,
        "name": "Stargate (Jita)",
        "type_id": 29624,
        "system_id": 30000142,
        "position": {"x": 1.0, "y": 2.0, "z": 3.0},
        "destination": {"stargate_id": 50000057, "system_id": 30000144},
    }
    schema = dict(record_schema("GetUniverseStargatesStargateId"))
    pages = decode([body([gate, {**gate, "stargate_id": 1}])], "GetUniverseStargatesStargateId")
    assert pages[0].arrow is not None
    plan = frame_plan(schema, "GetUniverseStargatesStargateId")
    df = tables_to_frame(pages, plan)
    pd.testing.assert_frame_equal(df, to_frame([gate, {**gate, "stargate_id": 1}], schema))
    assert df["destination_system_id"].tolist() == [30000144, 30000144]

    day = {
        "date": "2026-08-03",
        "order_count": 2,
        "volume": 9,
        "highest": 4.1,
        "average": 4.0,
        "lowest": 3.9,
    }
    history = decode([body([day])], "GetMarketsRegionIdHistory")
    assert history[0].arrow is not None
    hist = tables_to_frame(history, frame_plan(record_schema("GetMarketsRegionIdHistory")))
    assert hist["date"].dtype == "datetime64[us]" and hist["date"][0] == pd.Timestamp("2026-08-03")


def test_bodies_as_esi_may_format_them() -> None:
    records = [
        order(0, issued="2026-11-20T11:05:44"),
        order(1, issued="2026-11-20T12:00:00.5+00:00"),
    ]
    pretty = json.dumps(records, indent=2).replace("\n", "\r\n").encode()
    pages = decode([pretty])
    assert pages[0].arrow is not None
    df = tables_to_frame(pages, frame_plan(record_schema(ORDERS), ORDERS))
    assert df["issued"].tolist() == [
        pd.Timestamp("2026-11-20 11:05:44", tz="UTC"),  # no zone: ESI's times are UTC
        pd.Timestamp("2026-11-20 12:00:00.5", tz="UTC"),
    ]
    assert decode([b"[]"])[0].rows == 0


def test_an_unlisted_field_is_kept_through_the_record_path() -> None:
    plan = frame_plan(record_schema(ORDERS), ORDERS)
    first = order(0, issued="2026-11-20T12:00:00.123456Z")
    pages = [decode_page(body([first]), plan), decode_page(body([order(1, escrow=9.5)]), plan)]
    assert pages[0].arrow is not None and pages[1].records is not None
    df = tables_to_frame(pages, plan)
    assert df["escrow"].tolist()[1] == 9.5 and pd.isna(df["escrow"][0])
    assert df["order_id"].tolist() == [6_900_000_000, 6_900_000_001]
    assert df["issued"].dtype == UTC_TS
    assert df["issued"][0] == pd.Timestamp("2026-11-20 12:00:00.123456", tz="UTC")


@pytest.mark.parametrize(
    ("field", "sent"), [("price", "cheap"), ("volume_total", 1.5), ("range", 7)]
)
def test_an_off_schema_page_warns_and_keeps_every_value(field: str, sent: Any) -> None:
    plan = frame_plan(record_schema(ORDERS), ORDERS)
    bodies = [body([order(i) for i in range(3)]), body([order(3, **{field: sent})])]
    pages = [decode_page(b, plan) for b in bodies]
    with pytest.warns(EsiframeWarning, match=rf"{ORDERS}: field '{field}' does not fit"):
        df = tables_to_frame(pages, plan)
    assert len(df) == 4
    assert df[field].tolist()[3] == sent
    assert df["order_id"].dtype == "int64"


def test_text_that_is_no_date_in_a_date_field_warns_on_the_fast_path() -> None:
    day = {
        "date": "soon",
        "order_count": 2,
        "volume": 9,
        "highest": 4.1,
        "average": 4.0,
        "lowest": 3.9,
    }
    plan = frame_plan(record_schema("GetMarketsRegionIdHistory"), "GetMarketsRegionIdHistory")
    pages = [decode_page(body([day]), plan)]
    with pytest.warns(EsiframeWarning, match=r"GetMarketsRegionIdHistory: field 'date'.*'soon'"):
        df = tables_to_frame(pages, plan)
    assert df["date"].tolist() == ["soon"] and df["date"].dtype == "string"


def test_text_holding_json_punctuation_is_kept_exactly() -> None:
    name = 'a "quoted" },{ name\nwith a newline'
    alliance = {
        "name": name,
        "ticker": "T",
        "creator_id": 1,
        "creator_corporation_id": 2,
        "date_founded": "2010-01-01T00:00:00Z",
        "executor_corporation_id": 2,
    }
    schema = dict(record_schema("GetAlliancesAllianceId"))
    plan = frame_plan(schema, "GetAlliancesAllianceId")
    page = decode_page(body([alliance]), plan)
    assert page.arrow is not None
    assert tables_to_frame([page], plan)["name"].tolist() == [name]


def test_schemas_with_lists_use_the_record_path() -> None:
    schema = record_schema("GetUniverseTypesTypeId")
    plan = frame_plan(schema, "GetUniverseTypesTypeId")
    assert plan.read_schema is None
    kind = {
        "type_id": 34,
        "name": "Tritanium",
        "description": "",
        "published": True,
        "group_id": 18,
        "dogma_attributes": [{"attribute_id": 161, "value": 0.01}],
    }
    page = decode_page(body([kind]), plan)
    assert page.records == [kind]
    pd.testing.assert_frame_equal(tables_to_frame([page], plan), to_frame([kind], schema))


def test_bodies_that_are_not_record_arrays_are_refused() -> None:
    plan = frame_plan(record_schema(ORDERS), ORDERS)
    with pytest.raises(ValueError, match=rf"{ORDERS}: a page must be a JSON array.*dict"):
        decode_page(b'{"error": "x"}', plan)
    with pytest.raises(ValueError):
        decode_page(b"[{", plan)
    with pytest.raises(TypeError, match="record 0 is NoneType"):
        tables_to_frame([decode_page(b"[null]", plan)], plan)
    with pytest.raises(ValueError, match="numpy_nullable"):
        tables_to_frame([], plan, "numpy")  # type: ignore[arg-type]


def test_no_pages_give_the_typed_empty_frame() -> None:
    plan = frame_plan(record_schema(ORDERS), ORDERS)
    df = tables_to_frame([], plan)
    assert len(df) == 0
    assert df.dtypes.to_dict() == to_frame([], record_schema(ORDERS)).dtypes.to_dict()
