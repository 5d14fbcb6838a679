"""JSON records -> typed DataFrames, on real response schemas from the bundled spec."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from esiframe.errors import EsiframeWarning
from esiframe.frames import (
    LIST_SCHEMAS_ATTR,
    arrow_schema,
    explode,
    merge_languages,
    scalar_column_name,
    to_frame,
)
from esiframe.spec import bundled_spec

UTC_TS = pd.DatetimeTZDtype("us", "UTC")


def record_schema(operation_id: str) -> Mapping[str, Any]:
    """The schema of one record: the items of an array response, else the response."""
    schema = bundled_spec().operation(operation_id).response_schema
    assert schema is not None
    return schema["items"] if schema.get("type") == "array" else schema


def order(**changes: Any) -> dict[str, Any]:
    base = {
        "duration": 90,
        "is_buy_order": False,
        "issued": "2026-11-20T11:05:44Z",
        "location_id": 60003760,
        "min_volume": 1,
        "order_id": 6_900_000_001,
        "price": 5.25,
        "range": "region",
        "system_id": 30000142,
        "type_id": 34,
        "volume_remain": 400,
        "volume_total": 1000,
    }
    return {**base, **changes}


def tritanium(**changes: Any) -> dict[str, Any]:
    base = {
        "type_id": 34,
        "name": "Tritanium",
        "description": "The main building block in space structures.",
        "published": True,
        "group_id": 18,
        "market_group_id": 1857,
        "volume": 0.01,
        "dogma_attributes": [
            {"attribute_id": 161, "value": 0.01},
            {"attribute_id": 4, "value": 1.0},
        ],
        "dogma_effects": [],
    }
    return {**base, **changes}


# -- types per rule ----------------------------------------------------------------------


def test_market_orders_get_the_schema_dtypes() -> None:
    records = [order(), order(order_id=6_900_000_002, is_buy_order=True, range="station")]
    df = to_frame(records, record_schema("GetMarketsRegionIdOrders"))

    assert isinstance(df.index, pd.RangeIndex)
    assert list(df.columns) == list(record_schema("GetMarketsRegionIdOrders")["properties"])
    for name in ("order_id", "type_id", "duration", "volume_total", "system_id"):
        assert df[name].dtype == "int64", name
    assert df["price"].dtype == "float64"
    assert df["is_buy_order"].dtype == bool
    assert df["issued"].dtype == UTC_TS
    assert df["issued"][0] == pd.Timestamp("2026-11-20 11:05:44", tz="UTC")
    assert df["order_id"].tolist() == [6_900_000_001, 6_900_000_002]
    assert df["range"].dtype == "category"
    assert df["range"].tolist() == ["region", "station"]
    enum = record_schema("GetMarketsRegionIdOrders")["properties"]["range"]["enum"]
    assert list(df["range"].cat.categories) == enum


def test_market_history_dates_are_naive_midnight() -> None:
    records = [
        {
            "date": "2026-08-03",
            "order_count": 2000,
            "volume": 9_000_000_000,
            "highest": 4.1,
            "average": 4.0,
            "lowest": 3.9,
        },
    ]
    df = to_frame(records, record_schema("GetMarketsRegionIdHistory"))
    assert df["date"].dtype == "datetime64[us]"
    assert df["date"][0] == pd.Timestamp("2026-08-03")
    assert df["volume"].dtype == "int64" and df["volume"][0] == 9_000_000_000
    assert df[["highest", "average", "lowest"]].dtypes.eq("float64").all()


def test_object_response_is_one_row_with_optional_fields_na() -> None:
    character = {
        "name": "Ripley Caldari",
        "birthday": "2015-03-24T11:37:00.123Z",
        "bloodline_id": 3,
        "corporation_id": 98777771,
        "gender": "female",
        "race_id": 1,
        "achievement_score": 1234,
        "character_title_id": "3868eaed-8278-4cb7-9709-7d7de9c20dc7",
    }
    df = to_frame([character], record_schema("GetCharactersDetail"))
    assert len(df) == 1
    assert df["birthday"][0] == pd.Timestamp("2015-03-24 11:37:00.123", tz="UTC")
    assert df["corporation_id"].dtype == "int64"  # required
    assert df["alliance_id"].dtype == "Int64"  # optional and absent
    assert df["alliance_id"][0] is pd.NA
    assert df["security_status"].isna()[0]
    assert df["description"].dtype == "string" and df["description"][0] is pd.NA
    assert df["character_title_id"].dtype == "string"  # uuid stays text
    assert df["gender"].dtype == "category" and df["gender"][0] == "female"


def test_optional_fields_are_nullable_even_when_every_record_has_them() -> None:
    df = to_frame(
        [tritanium(), tritanium(type_id=35, market_group_id=None)],
        record_schema("GetUniverseTypesTypeId"),
    )
    assert df["market_group_id"].dtype == "Int64"
    assert df["market_group_id"].tolist() == [1857, pd.NA]
    assert df["icon_id"].isna().all()
    assert df["published"].dtype == bool
    assert df["capacity"].dtype == "float64" and df["capacity"].isna().all()


def test_required_field_missing_in_data_becomes_nullable_not_garbage() -> None:
    records = [order(), {k: v for k, v in order(order_id=2).items() if k != "duration"}]
    df = to_frame(records, record_schema("GetMarketsRegionIdOrders"))
    assert df["duration"].dtype == "Int64"
    assert df["duration"].tolist() == [90, pd.NA]


def test_unknown_enum_value_is_kept_as_extra_category() -> None:
    records = [order(range="station"), order(range="wormhole"), order(range="galaxy")]
    df = to_frame(records, record_schema("GetMarketsRegionIdOrders"))
    assert df["range"].tolist() == ["station", "wormhole", "galaxy"]
    assert df["range"].notna().all()
    enum = record_schema("GetMarketsRegionIdOrders")["properties"]["range"]["enum"]
    assert list(df["range"].cat.categories) == [*enum, "galaxy", "wormhole"]


def test_nested_objects_are_flattened_and_a_missing_parent_gives_na() -> None:
    station = {
        "station_id": 60003760,
        "name": "Jita IV - Moon 4",
        "type_id": 52678,
        "system_id": 30000142,
        "owner": 1000035,
        "race_id": 1,
        "position": {"x": 1.5, "y": -2.0, "z": 3e12},
        "reprocessing_efficiency": 0.5,
        "reprocessing_stations_take": 0.05,
        "max_dockable_ship_volume": 5e7,
        "office_rental_cost": 1e6,
        "services": ["market", "cloning"],
    }
    df = to_frame([station], record_schema("GetUniverseStationsStationId"))
    assert {"position_x", "position_y", "position_z"} <= set(df.columns)
    assert "position" not in df.columns
    assert df[["position_x", "position_y", "position_z"]].iloc[0].tolist() == [1.5, -2.0, 3e12]

    hub = {
        "id": 1,
        "solar_system_id": 30000001,
        "resources": {
            "power": {"allocated": 100, "available": 1000},
            "workforce": {"allocated": 5, "available": 50},
        },
    }
    df = to_frame([hub], record_schema("GetCorporationsStructuresSovereigntyHubsDetail"))
    assert df["resources_power_available"].tolist() == [1000]
    assert df["resources_workforce_allocated"].tolist() == [5]
    # reagent_bay is optional and absent: its required children are missing, not zero
    assert df["reagent_bay_last_updated"].isna().all()
    assert df["reagent_bay_last_updated"].dtype == UTC_TS


def test_one_of_variants_become_optional_union_columns() -> None:
    systems = [
        {"solar_system_id": 30000001, "claim": {"faction": {"faction_id": 500002}}},
        {
            "solar_system_id": 30000002,
            "claim": {
                "alliance": {
                    "alliance_id": 99000001,
                    "corporation_id": 98777771,
                    "claimed_since": "2026-02-23T12:00:00Z",
                }
            },
        },
    ]
    df = to_frame(
        systems, record_schema("GetSovereigntySystems")["properties"]["solar_systems"]["items"]
    )
    assert df["claim_faction_faction_id"].tolist() == [500002, pd.NA]
    assert df["claim_faction_faction_id"].dtype == "Int64"
    assert df["claim_alliance_alliance_id"].tolist() == [pd.NA, 99000001]
    assert df["claim_alliance_claimed_since"].dtype == UTC_TS


def test_fields_missing_from_the_schema_are_kept() -> None:
    records = [order(new_flag=True, escrow=12.5), order(order_id=2, extra={"a": 1, "b": "x"})]
    df = to_frame(records, record_schema("GetMarketsRegionIdOrders"))
    assert df["new_flag"].tolist() == [True, pd.NA]
    assert df["escrow"].tolist()[0] == 12.5 and pd.isna(df["escrow"][1])
    assert df["extra_a"].tolist() == [pd.NA, 1]
    assert df["extra_b"].tolist() == [pd.NA, "x"]


def test_top_level_scalar_array_gets_a_named_column() -> None:
    op = bundled_spec().operation("GetAlliances")
    df = to_frame(
        [99000001, 99000002], record_schema("GetAlliances"), column=scalar_column_name(op.path)
    )
    assert list(df.columns) == ["alliance_id"]
    assert df["alliance_id"].dtype == "int64"
    assert df["alliance_id"].tolist() == [99000001, 99000002]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/alliances", "alliance_id"),
        ("/alliances/{alliance_id}/corporations", "corporation_id"),
        ("/markets/{region_id}/types", "type_id"),
        ("/markets/groups", "market_group_id"),
        ("/universe/categories", "category_id"),
        ("/dogma/attributes", "attribute_id"),
        ("/characters/{character_id}/implants", "type_id"),
        ("/corporations/{corporation_id}/members", "character_id"),
        ("/corporations/npccorps", "corporation_id"),
        ("/universe/systems", "system_id"),
        ("/wars", "war_id"),
        ("/universe/groups", "group_id"),
    ],
)
def test_scalar_column_names(path: str, expected: str) -> None:
    assert scalar_column_name(path) == expected


def test_every_scalar_array_operation_gets_an_id_column_name() -> None:
    for op in bundled_spec():
        schema = op.response_schema
        if schema and schema.get("type") == "array" and schema["items"].get("type") != "object":
            name = scalar_column_name(op.path)
            assert name.endswith("_id") and name.isidentifier(), (op.path, name)


def test_empty_records_give_the_same_columns_and_dtypes() -> None:
    schema = record_schema("GetMarketsRegionIdOrders")
    empty = to_frame([], schema)
    full = to_frame([order()], schema)
    assert len(empty) == 0
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()
    assert list(empty.columns) == arrow_schema(schema).names
    assert list(empty["range"].cat.categories) == schema["properties"]["range"]["enum"]


# -- pyarrow backend ---------------------------------------------------------------------


def test_pyarrow_backend_uses_the_arrow_schema_types() -> None:
    schema = record_schema("GetMarketsRegionIdOrders")
    df = to_frame([order(range="galaxy")], schema, dtype_backend="pyarrow")
    expected = arrow_schema(schema)
    assert [str(t) for t in df.dtypes] == [str(pd.ArrowDtype(f.type)) for f in expected]
    assert df["issued"].dtype == pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
    assert df["range"].dtype == pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))
    assert df["range"][0] == "galaxy"

    history = to_frame(
        [
            {
                "date": "2026-08-03",
                "order_count": 1,
                "volume": 2,
                "highest": 1.0,
                "average": 1.0,
                "lowest": 1.0,
            }
        ],
        record_schema("GetMarketsRegionIdHistory"),
        dtype_backend="pyarrow",
    )
    assert history["date"].dtype == pd.ArrowDtype(pa.date32())


def test_pyarrow_backend_list_column_is_typed_and_explodes() -> None:
    df = to_frame(
        [tritanium(), tritanium(type_id=35, dogma_attributes=[])],
        record_schema("GetUniverseTypesTypeId"),
        dtype_backend="pyarrow",
    )
    dtype = df["dogma_attributes"].dtype
    assert isinstance(dtype, pd.ArrowDtype) and pa.types.is_list(dtype.pyarrow_dtype)
    child = explode(df, "dogma_attributes")
    assert child["attribute_id"].tolist() == [161, 4]
    assert child["type_id"].tolist() == [34, 34]
    assert child["value"].dtype == pd.ArrowDtype(pa.float64())


def test_unknown_dtype_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="numpy_nullable"):
        to_frame([order()], record_schema("GetMarketsRegionIdOrders"), dtype_backend="numpy")  # type: ignore[arg-type]


# -- list columns and explode ------------------------------------------------------------


def test_explode_dogma_attributes() -> None:
    types = [
        tritanium(),
        tritanium(type_id=35, name="Pyerite", dogma_attributes=[]),
        tritanium(type_id=36, name="Mexallon", dogma_attributes=None, market_group_id=None),
        tritanium(
            type_id=37, name="Isogen", dogma_attributes=[{"attribute_id": 161, "value": 0.02}]
        ),
    ]
    df = to_frame(types, record_schema("GetUniverseTypesTypeId"))
    assert df["dogma_attributes"][0] == types[0]["dogma_attributes"]

    child = explode(df, "dogma_attributes")
    assert isinstance(child.index, pd.RangeIndex)
    assert child["type_id"].tolist() == [34, 34, 37]  # empty and null lists give no rows
    assert child["attribute_id"].tolist() == [161, 4, 161]
    assert child["value"].tolist() == [0.01, 1.0, 0.02]
    assert child["attribute_id"].dtype == "int64"
    assert child["value"].dtype == "float64"
    assert set(child.columns) == {
        "type_id",
        "group_id",
        "market_group_id",
        "icon_id",
        "graphic_id",
        "attribute_id",
        "value",
    }

    slim = explode(df, "dogma_attributes", keep=["type_id", "name"])
    assert list(slim.columns) == ["type_id", "name", "attribute_id", "value"]
    assert slim["name"].tolist() == ["Tritanium", "Tritanium", "Isogen"]


def test_explode_list_of_enum_strings_types_them() -> None:
    station = {
        "station_id": 60003760,
        "name": "Jita IV - Moon 4",
        "type_id": 52678,
        "system_id": 30000142,
        "position": {"x": 0.0, "y": 0.0, "z": 0.0},
        "reprocessing_efficiency": 0.5,
        "reprocessing_stations_take": 0.05,
        "max_dockable_ship_volume": 5e7,
        "office_rental_cost": 1e6,
        "services": ["market", "teleport"],
    }
    df = to_frame([station], record_schema("GetUniverseStationsStationId"))
    child = explode(df, "services", keep=["station_id"])
    assert child["services"].tolist() == ["market", "teleport"]
    assert child["services"].dtype == "category"
    assert "docking" in child["services"].cat.categories


def test_parquet_round_trip_keeps_lists_explodable(tmp_path: Path) -> None:
    df = to_frame([tritanium(), tritanium(type_id=35)], record_schema("GetUniverseTypesTypeId"))
    path = tmp_path / "types.parquet"
    df.to_parquet(path)
    back = pd.read_parquet(path)
    assert back[["type_id", "name", "market_group_id"]].equals(
        df[["type_id", "name", "market_group_id"]]
    )
    child = explode(back, "dogma_attributes", keep=["type_id"])
    assert child["attribute_id"].tolist() == [161, 4, 161, 4]
    assert child["attribute_id"].dtype == "int64"


def test_explode_without_schema_falls_back_to_arrow_inference() -> None:
    df = pd.DataFrame({"fleet_id": [1, 2], "members": [[{"character_id": 7}], []]})
    child = explode(df, "members")
    assert child.to_dict("list") == {"fleet_id": [1], "character_id": [7]}


def test_explode_bad_input_is_explained() -> None:
    df = to_frame([tritanium()], record_schema("GetUniverseTypesTypeId"))
    with pytest.raises(ValueError, match=r"'name'.*not a list column.*dogma_attributes"):
        explode(df, "name")
    with pytest.raises(KeyError, match="dogma_effects"):
        explode(df, "no_such_column")
    with pytest.raises(KeyError, match="nope"):
        explode(df, "dogma_attributes", keep=["type_id", "nope"])
    assert LIST_SCHEMAS_ATTR in df.attrs


# -- bad input to to_frame / arrow_schema ------------------------------------------------


def test_to_frame_bad_records_are_explained() -> None:
    schema = record_schema("GetMarketsRegionIdOrders")
    with pytest.raises(TypeError, match="record 1 is list"):
        to_frame([order(), [1, 2]], schema)
    with pytest.raises(TypeError, match="list of records"):
        to_frame(order(), schema)  # type: ignore[arg-type]


# -- answers that do not fit the schema (issue 11.5) --------------------------------------

ORDERS = "GetMarketsRegionIdOrders"


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("price", "cheap"),  # text where the spec says number
        ("order_id", "6900000002"),  # text where it says integer
        ("order_id", 1.5),  # a fraction where it says integer: never truncated
        ("is_buy_order", 1),  # a number where it says boolean
        ("duration", True),  # a boolean where it says integer
        ("range", {"jumps": 5}),  # an object where it says string
    ],
)
def test_a_value_that_does_not_fit_is_kept_and_named(field: str, sent: Any) -> None:
    records = [order(), order(**{"volume_remain": 7, field: sent})]
    with pytest.warns(EsiframeWarning, match=rf"{ORDERS}: field '{field}' does not fit") as caught:
        df = to_frame(records, record_schema(ORDERS), operation=ORDERS)
    assert len(caught) == 1
    assert df[field].dtype == object
    assert df[field].tolist() == [records[0][field], sent]
    assert df["type_id"].dtype == "int64"  # the other columns keep their types
    assert df["issued"].dtype == UTC_TS


def test_a_misfit_under_pyarrow_is_json_text() -> None:
    records = [order(), order(range={"jumps": 5}, price="cheap")]
    with pytest.warns(EsiframeWarning) as caught:
        df = to_frame(records, record_schema(ORDERS), dtype_backend="pyarrow", operation=ORDERS)
    assert sorted(str(w.message).split("'")[1] for w in caught) == ["price", "range"]
    assert df["range"].tolist() == ["region", '{"jumps": 5}']
    assert df["price"].tolist() == ["5.25", "cheap"]
    assert df["range"].dtype == pd.ArrowDtype(pa.string())


def test_text_that_is_no_date_stays_text() -> None:
    with pytest.warns(EsiframeWarning, match=r"'issued'.*date-time.*'yesterday'"):
        df = to_frame([order(), order(issued="yesterday")], record_schema(ORDERS))
    assert df["issued"].dtype == "string"
    assert df["issued"].tolist() == ["2026-11-20T11:05:44Z", "yesterday"]


def test_null_where_required_makes_the_column_nullable() -> None:
    df = to_frame([order(), order(type_id=None)], record_schema(ORDERS))
    assert df["type_id"].dtype == "Int64"
    assert df["type_id"].tolist() == [34, pd.NA]


def test_an_unlisted_field_of_several_types_is_kept() -> None:
    with pytest.warns(EsiframeWarning, match=r"field 'note' does not fit.*one type"):
        df = to_frame([order(note=1), order(note="two")], record_schema(ORDERS))
    assert df["note"].tolist() == [1, "two"]


def test_a_nested_misfit_keeps_its_siblings_typed() -> None:
    schema = record_schema("GetUniverseStationsStationId")
    station = {
        "station_id": 60003760,
        "name": "Jita IV - Moon 4",
        "type_id": 52678,
        "system_id": 30000142,
        "position": {"x": 1.0, "y": "up", "z": 3.0},
        "reprocessing_efficiency": 0.5,
        "reprocessing_stations_take": 0.05,
        "max_dockable_ship_volume": 5e7,
        "office_rental_cost": 1e6,
        "services": ["market"],
    }
    with pytest.warns(EsiframeWarning, match=r"'position\.y'"):
        df = to_frame([station], schema)
    assert df["position_y"].tolist() == ["up"]
    assert df["position_x"].dtype == "float64"


def test_arrow_schema_marks_required_fields_and_refuses_scalars() -> None:
    schema = arrow_schema(record_schema("GetUniverseTypesTypeId"))
    assert schema.field("type_id").type == pa.int64()
    assert not schema.field("type_id").nullable
    assert schema.field("market_group_id").nullable
    attributes = schema.field("dogma_attributes").type
    assert pa.types.is_list(attributes)
    assert attributes.value_type.field("attribute_id").type == pa.int64()
    with pytest.raises(ValueError, match="object schema"):
        arrow_schema(record_schema("GetAlliances"))


# -- languages ---------------------------------------------------------------------------


def races(lang: str) -> list[dict[str, Any]]:
    names = {"en": ["Caldari", "Minmatar"], "de": ["Caldari", "Minmatar-Republik"]}[lang]
    text = {"en": "Proud people", "de": "Stolzes Volk"}[lang]
    return [
        {"race_id": 1, "alliance_id": 500001, "name": names[0], "description": text},
        {"race_id": 2, "alliance_id": 500002, "name": names[1], "description": text + "!"},
    ]


def test_merge_languages_matches_rows_on_ids() -> None:
    schema = record_schema("GetUniverseRaces")
    en = to_frame(races("en"), schema)
    de = to_frame(list(reversed(races("de"))), schema)  # another order, same ids
    merged = merge_languages({"en": en, "de": de}, schema)
    assert list(merged.columns) == [
        "alliance_id",
        "race_id",
        "description_en",
        "description_de",
        "name_en",
        "name_de",
    ]
    assert merged["race_id"].tolist() == [1, 2]
    assert merged["name_de"].tolist() == ["Caldari", "Minmatar-Republik"]
    assert merged["description_de"].tolist() == ["Stolzes Volk", "Stolzes Volk!"]
    assert merged["name_en"].dtype == "string"


def test_merge_languages_translates_text_inside_list_columns() -> None:
    schema = record_schema("GetInsurancePrices")
    frames = {
        lang: to_frame(
            [{"type_id": 587, "levels": [{"cost": 1.0, "payout": 2.0, "name": n}]}], schema
        )
        for lang, n in {"en": "Basic", "fr": "Basique"}.items()
    }
    merged = merge_languages(frames, schema)
    assert list(merged.columns) == ["type_id", "levels_en", "levels_fr"]
    assert explode(merged, "levels_fr")["name"].tolist() == ["Basique"]


def test_merge_languages_refuses_frames_it_cannot_match() -> None:
    schema = record_schema("GetUniverseRaces")
    en = to_frame(races("en"), schema)
    de = to_frame(races("de")[:1], schema)
    with pytest.raises(ValueError, match="same records"):
        merge_languages({"en": en, "de": de}, schema)
    twins = to_frame([races("en")[0], races("en")[0]], schema)  # ids not unique
    with pytest.raises(ValueError, match=r"different lengths.*'en': 2.*'de': 1"):
        merge_languages({"en": twins, "de": de}, schema)
    with pytest.raises(ValueError, match="at least one"):
        merge_languages({}, schema)


def test_explode_of_a_list_column_with_no_lists_gives_a_typed_empty_frame() -> None:
    df = to_frame([tritanium(dogma_effects=None)], record_schema("GetUniverseTypesTypeId"))
    df.attrs["esi"] = {"operation": "GetUniverseTypesTypeId"}
    child = explode(df, "dogma_effects", keep=["type_id"])
    assert len(child) == 0
    assert child.dtypes.to_dict() == {"type_id": "int64", "effect_id": "int64", "is_default": bool}
    assert child.attrs["esi"] == {"operation": "GetUniverseTypesTypeId"}


def test_a_free_form_object_field_is_kept_whole() -> None:
    # configuration.manual is {"type": "object"} with no properties: its presence is the data.
    schema = bundled_spec().operation("GetCorporationsProjectsDetail").response_schema
    assert schema is not None
    rows = [{"id": "a", "configuration": {"manual": {}}}, {"id": "b", "configuration": {}}]
    df = to_frame(rows, schema)
    assert df["configuration_manual"].tolist() == [{}, None]
