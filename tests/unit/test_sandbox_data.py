"""The sandbox's synthetic data: valid for every operation, deterministic, plausible."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import statistics
from importlib import resources
from typing import Any

import jsonschema
import pytest
import schemacheck

from esiframe.sandbox.data import LANGUAGES, TYPE_IDS, Dataset, Sizes
from esiframe.sandbox.sso import DEFAULT_CHARACTERS

TODAY = dt.date(2026, 8, 10)
SMALL = Sizes(
    page_size=40,
    forge_order_pages=6,
    region_order_pages=3,
    history_days=30,
    list_pages=2,
    cursor_records=30,
    wallet_transactions=50,
)
POSTS = ("PostUniverseNames", "PostUniverseIds", "PostCharactersAffiliation")


def _load_spec() -> dict[str, Any]:
    raw = resources.files("esiframe").joinpath("data/openapi-2026-08-04.json.gz").read_bytes()
    spec: dict[str, Any] = json.loads(gzip.decompress(raw))
    return spec


SPEC = _load_spec()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, op["operationId"], op)
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in ("get", "post", "put", "delete")
    ]


GETS = sorted(op_id for method, op_id, _ in _operations(SPEC) if method == "get")
LOCALIZED = sorted(
    op_id
    for _, op_id, op in _operations(SPEC)
    if "Content-Language" in op["responses"].get("200", {}).get("headers", {})
)
X_PAGES = sorted(
    op_id
    for method, op_id, op in _operations(SPEC)
    if method == "get" and "X-Pages" in op["responses"]["200"].get("headers", {})
)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(SPEC, seed=7, sizes=SMALL, today=TODAY)


def as_query(params: dict[str, Any]) -> dict[str, str]:
    """Parameters as a URL carries them: strings, arrays comma-separated, lowercase booleans."""
    out = {}
    for name, value in params.items():
        if name == "body":
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


def declared_params(op_id: str) -> dict[str, dict[str, Any]]:
    components = SPEC["components"]["parameters"]
    for item in SPEC["paths"].values():
        for method, op in item.items():
            if method in ("get", "post") and op["operationId"] == op_id:
                raw = [*item.get("parameters", []), *op.get("parameters", [])]
                resolved = [
                    components[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p for p in raw
                ]
                return {p["name"]: p for p in resolved if p["in"] in ("path", "query")}
    raise KeyError(op_id)


def all_records(ds: Dataset, op_id: str, params: dict[str, str], **kw: Any) -> list[Any]:
    pages = ds.page_count(op_id, params)
    return [r for n in range(1, pages + 1) for r in ds.page(op_id, params, n, **kw)]


def body_or_pages(ds: Dataset, op_id: str, **kw: Any) -> list[Any]:
    example = ds.example_params(op_id)
    params = as_query(example)
    if op_id in X_PAGES:
        pages = ds.page_count(op_id, params)
        return [ds.page(op_id, params, n, **kw) for n in range(1, pages + 1)]
    return [ds.body(op_id, params, request_body=example.get("body"), **kw)]


# --------------------------------------------------------------------------- every operation


def test_spec_has_the_operations_the_brief_counts() -> None:
    assert len(GETS) == 190
    assert len(LOCALIZED) == 17
    assert len(X_PAGES) == 40


@pytest.mark.parametrize("op_id", [*GETS, *POSTS])
def test_example_params_are_valid_and_bodies_validate(ds: Dataset, op_id: str) -> None:
    example = ds.example_params(op_id)
    declared = declared_params(op_id)
    required = {n for n, p in declared.items() if p.get("required")}
    assert required <= set(example), f"missing required params {required - set(example)}"
    assert set(example) - {"body"} <= set(declared)
    assert not {"page", "before", "after", "limit", "from_id"} & set(example)
    assert ds.exists(op_id, as_query(example))
    if op_id in POSTS:
        assert example["body"]
    schema = schemacheck.response_schema(SPEC, op_id)
    for body in body_or_pages(ds, op_id):
        schemacheck.validate(body, schema, SPEC)


# --------------------------------------------------------------------------- schemacheck


def test_schemacheck_rejects_bad_formats_and_mixed_one_of_variants() -> None:
    history = schemacheck.response_schema(SPEC, "GetMarketsRegionIdHistory")
    row = {
        "average": 5.0,
        "date": "2026-08-01",
        "highest": 6.0,
        "lowest": 4.0,
        "order_count": 1,
        "volume": 2,
    }
    schemacheck.validate([row], history, SPEC)
    with pytest.raises(jsonschema.ValidationError):
        schemacheck.validate([{**row, "date": "01/08/2026"}], history, SPEC)
    with pytest.raises(jsonschema.ValidationError):
        schemacheck.validate([{**row, "volume": 2**63}], history, SPEC)
    orders = schemacheck.response_schema(SPEC, "GetMarketsRegionIdOrders")
    order = {
        "duration": 90,
        "is_buy_order": False,
        "issued": "2026-08-01T10:00:00Z",
        "location_id": 60003760,
        "min_volume": 1,
        "order_id": 6000000001,
        "price": 4.5,
        "range": "region",
        "system_id": 30000142,
        "type_id": 34,
        "volume_remain": 5,
        "volume_total": 10,
    }
    schemacheck.validate([order], orders, SPEC)
    with pytest.raises(jsonschema.ValidationError):
        schemacheck.validate([{**order, "issued": "2026-08-01 10:00:00"}], orders, SPEC)

    sov = schemacheck.response_schema(SPEC, "GetSovereigntySystems")
    one = {"solar_systems": [{"solar_system_id": 30000001, "claim": {"unclaimed": True}}]}
    schemacheck.validate(one, sov, SPEC)
    claim = {"unclaimed": True, "faction": {"faction_id": 500001}}
    both = {"solar_system_id": 30000001, "claim": claim}
    with pytest.raises(jsonschema.ValidationError):
        schemacheck.validate({"solar_systems": [both]}, sov, SPEC)
    with pytest.raises(jsonschema.ValidationError):
        schemacheck.validate({"solar_systems": [{"solar_system_id": 1, "claim": {}}]}, sov, SPEC)


def test_response_schema_names_unknown_operations() -> None:
    with pytest.raises(KeyError, match="GetNothing"):
        schemacheck.response_schema(SPEC, "GetNothing")


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    "op_id",
    ["GetUniverseTypesTypeId", "GetCharactersCharacterIdAssets", "GetFreelanceJobsListing"],
)
def test_same_inputs_give_identical_output(op_id: str) -> None:
    first = body_or_pages(Dataset(SPEC, seed=3, sizes=SMALL, today=TODAY), op_id)
    again = body_or_pages(Dataset(SPEC, seed=3, sizes=SMALL, today=TODAY), op_id)
    other_seed = body_or_pages(Dataset(SPEC, seed=4, sizes=SMALL, today=TODAY), op_id)
    assert first == again
    assert first != other_seed


@pytest.mark.parametrize(
    "op_id",
    [
        "GetMarketsRegionIdOrders",
        "GetCharactersCharacterIdAssets",
        "GetMarketsRegionIdHistory",
        "GetCharactersCharacterIdWalletTransactions",
        "GetCorporationsProjectsListing",
        "GetStatus",
    ],
)
def test_new_generation_changes_contents_not_shape(ds: Dataset, op_id: str) -> None:
    old = body_or_pages(ds, op_id, generation=0)
    new = body_or_pages(ds, op_id, generation=1)
    assert old != new
    assert len(old) == len(new)
    for before, after in zip(old, new, strict=True):
        assert type(before) is type(after)
        if isinstance(before, list):
            assert len(before) == len(after)
        if isinstance(before, dict):
            assert set(before) <= set(after) | {"vip"} and set(after) <= set(before) | {"vip"}


def test_new_generation_moves_some_orders_and_keeps_most(ds: Dataset) -> None:
    params = {"region_id": "10000002", "order_type": "all"}
    old = {o["order_id"]: o for o in all_records(ds, "GetMarketsRegionIdOrders", params)}
    new_list = all_records(ds, "GetMarketsRegionIdOrders", params, generation=1)
    new = {o["order_id"]: o for o in new_list}
    kept = old.keys() & new.keys()
    assert ds.page_count("GetMarketsRegionIdOrders", params) == SMALL.forge_order_pages
    assert len(new_list) == len(old)
    assert 0 < len(old.keys() - new.keys()) < len(old) // 5  # a few vanish, as many appear
    assert any(old[k]["price"] != new[k]["price"] for k in kept)
    assert all(old[k]["type_id"] == new[k]["type_id"] for k in kept)


# --------------------------------------------------------------------------- localization


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _free_text_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _free_text_only(v) for k, v in value.items() if k not in _TEXT_FIELDS}
    if isinstance(value, list):
        return [_free_text_only(v) for v in value]
    return value


_TEXT_FIELDS = {"name", "description", "short_description", "role_name", "security_class"}


@pytest.mark.parametrize("op_id", LOCALIZED)
def test_localized_operations_translate_text_and_keep_ids(ds: Dataset, op_id: str) -> None:
    bodies = {lang: body_or_pages(ds, op_id, language=lang) for lang in LANGUAGES}
    english = bodies["en"]
    for lang, body in bodies.items():
        assert _free_text_only(body) == _free_text_only(english), lang
    if op_id in ("GetCharactersCharacterIdSearch", "PostUniverseIds"):
        # Search answers ids only; PostUniverseIds echoes the names it was asked about.
        assert all(body == english for body in bodies.values())
        return
    for lang, body in bodies.items():
        if lang != "en":
            assert body != english, f"{lang} reads exactly like en"
    for lang in ("ja", "zh", "ko", "ru"):
        assert any(not t.isascii() for t in _texts(bodies[lang])), lang


def test_tritanium_is_named_in_every_language(ds: Dataset) -> None:
    names = {
        lang: ds.body("GetUniverseTypesTypeId", {"type_id": "34"}, language=lang)["name"]
        for lang in LANGUAGES
    }
    assert names["en"] == "Tritanium"
    assert all(names.values())
    assert len(set(names.values())) >= 5


def test_non_localized_operations_ignore_language(ds: Dataset) -> None:
    params = {"character_id": "90000001"}
    english = ds.body("GetCharactersDetail", params)
    assert ds.body("GetCharactersDetail", params, language="ja") == english


# --------------------------------------------------------------------------- markets


def test_forge_orders_default_sizes_page_count_and_one_page() -> None:
    full = Dataset(SPEC, today=TODAY)
    params = {"region_id": "10000002", "order_type": "all"}
    assert full.page_count("GetMarketsRegionIdOrders", params) == 300
    assert full.page_count("GetMarketsRegionIdOrders", {**params, "region_id": "10000043"}) == 20
    assert full.page_count("GetMarketsRegionIdOrders", {**params, "type_id": "34"}) == 1
    page = full.page("GetMarketsRegionIdOrders", params, 150)
    assert len(page) == 1000
    assert full.page_count("GetMarketsRegionIdTypes", {"region_id": "10000002"}) == 2


def test_forge_orders_unique_across_all_300_pages() -> None:
    # All 300 pages with 100 orders each keep this fast; uniqueness does not depend on page size.
    data = Dataset(SPEC, today=TODAY, sizes=Sizes(page_size=100))
    params = {"region_id": "10000002", "order_type": "all"}
    pages = data.page_count("GetMarketsRegionIdOrders", params)
    assert pages == 300
    ids: set[int] = set()
    count = 0
    for n in range(1, pages + 1):
        page = data.page("GetMarketsRegionIdOrders", params, n)
        assert 0 < len(page) <= 100
        assert n == pages or len(page) == 100
        ids.update(o["order_id"] for o in page)
        count += len(page)
    assert len(ids) == count
    assert all(5_000_000_000 < i < 8_000_000_000 for i in ids)


def test_orders_are_plausible_and_honour_filters(ds: Dataset) -> None:
    params = {"region_id": "10000002", "order_type": "sell", "type_id": "34"}
    orders = ds.page("GetMarketsRegionIdOrders", params, 1)
    assert orders
    assert all(o["type_id"] == 34 and not o["is_buy_order"] for o in orders)
    assert all(o["price"] > 0 and round(o["price"], 2) == o["price"] for o in orders)
    assert all(0 < o["volume_remain"] <= o["volume_total"] for o in orders)
    forge_systems = range(30000001, 30005001)
    assert all(o["system_id"] in forge_systems for o in orders)
    buys = ds.page("GetMarketsRegionIdOrders", {**params, "order_type": "buy"}, 1)
    assert all(o["is_buy_order"] for o in buys)


def test_history_is_400_consecutive_days_ending_yesterday() -> None:
    data = Dataset(SPEC, today=TODAY)
    rows = data.body("GetMarketsRegionIdHistory", {"region_id": "10000002", "type_id": "34"})
    assert len(rows) == 400
    dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    assert dates[-1] == TODAY - dt.timedelta(days=1)
    assert all(b - a == dt.timedelta(days=1) for a, b in itertools.pairwise(dates))
    assert all(r["lowest"] <= r["average"] <= r["highest"] for r in rows)
    assert all(r["volume"] > 0 and r["order_count"] > 0 for r in rows)


def test_path_parameters_come_back_in_the_body(ds: Dataset) -> None:
    assert ds.body("GetUniverseTypesTypeId", {"type_id": "587"})["type_id"] == 587
    station = ds.body("GetUniverseStationsStationId", {"station_id": "60003760"})
    assert station["name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    assert station["system_id"] == 30000142


# --------------------------------------------------------------------------- a coherent market

FORGE, DOMAIN, NO_HUB = 10000002, 10000043, 10000005
JITA_44 = 60003760
MINERALS = range(34, 41)
PLEX = 44992
# Enough orders per region that most types are quoted on both sides, small enough to stay fast.
BOOK = Sizes(page_size=1000, forge_order_pages=8, region_order_pages=2, history_days=60)


@pytest.fixture(scope="module")
def book() -> Dataset:
    return Dataset(SPEC, seed=11, sizes=BOOK, today=TODAY)


def recent_average(data: Dataset, region: int, type_id: int) -> float:
    """What a user reads as a type's current price: the last 30 days of market history."""
    params = {"region_id": str(region), "type_id": str(type_id)}
    rows = data.body("GetMarketsRegionIdHistory", params)
    return statistics.fmean(float(r["average"]) for r in rows[-30:])


def quotes(orders: list[dict[str, Any]]) -> dict[int, tuple[list[float], list[float]]]:
    """Buy and sell prices by type."""
    out: dict[int, tuple[list[float], list[float]]] = {}
    for o in orders:
        out.setdefault(o["type_id"], ([], []))[0 if o["is_buy_order"] else 1].append(o["price"])
    return out


def type_ids_in(value: Any, field: str = "") -> set[int]:
    """Every type id in a body: fields named type_id or ending in _type_id."""
    if isinstance(value, dict):
        return {t for k, v in value.items() for t in type_ids_in(v, k)}
    if isinstance(value, list):
        return {t for v in value for t in type_ids_in(v, field)}
    if isinstance(value, int) and (field == "type_id" or field.endswith("_type_id")):
        return {value}
    return set()


@pytest.mark.parametrize("generation", [0, 1, 9])
@pytest.mark.parametrize("region", [FORGE, DOMAIN, NO_HUB])
def test_region_order_books_are_never_crossed(book: Dataset, region: int, generation: int) -> None:
    params = {"region_id": str(region), "order_type": "all"}
    orders = all_records(book, "GetMarketsRegionIdOrders", params, generation=generation)
    two_sided = {t: q for t, q in quotes(orders).items() if q[0] and q[1]}
    assert len(two_sided) >= 100
    assert set(MINERALS) <= set(two_sided)
    crossed = {t for t, (bids, asks) in two_sided.items() if max(bids) >= min(asks)}
    assert not crossed


@pytest.mark.parametrize("type_id", [34, 38, 40, PLEX, TYPE_IDS[150], 12345])
def test_type_books_straddle_the_recent_history_average(book: Dataset, type_id: int) -> None:
    for region in (FORGE, 10000032, NO_HUB):
        recent = recent_average(book, region, type_id)
        for generation in (0, 3):
            params = {"region_id": str(region), "type_id": str(type_id), "order_type": "all"}
            orders = book.page("GetMarketsRegionIdOrders", params, 1, generation=generation)
            bids, asks = quotes(orders)[type_id]
            assert bids and asks
            assert max(bids) < recent < min(asks), (region, generation)


def test_hub_quotes_are_tight_and_the_rest_of_the_region_wider(book: Dataset) -> None:
    params = {"region_id": str(FORGE), "order_type": "all"}
    orders = all_records(book, "GetMarketsRegionIdOrders", params)
    for type_id in MINERALS:
        recent = recent_average(book, FORGE, type_id)
        mine = [o for o in orders if o["type_id"] == type_id]
        hub_bids, hub_asks = quotes([o for o in mine if o["location_id"] == JITA_44])[type_id]
        away_bids, away_asks = quotes([o for o in mine if o["location_id"] != JITA_44])[type_id]
        assert 0.003 <= 1 - max(hub_bids) / recent <= 0.05, type_id
        assert 0.003 <= min(hub_asks) / recent - 1 <= 0.05, type_id
        assert min(away_asks) - max(away_bids) > min(hub_asks) - max(hub_bids), type_id


def test_prices_cover_the_pool_near_the_forge_history(ds: Dataset) -> None:
    prices = ds.body("GetMarketsPrices", {})
    by_type = {p["type_id"]: p for p in prices}
    assert len(by_type) == len(prices) == len(TYPE_IDS)
    assert set(by_type) == set(TYPE_IDS)
    assert {*MINERALS, 587, 670, PLEX} <= set(by_type)
    for type_id in (*MINERALS, 587, PLEX, TYPE_IDS[200]):
        recent = recent_average(ds, FORGE, type_id)
        assert by_type[type_id]["average_price"] == pytest.approx(recent, rel=0.03)
        assert by_type[type_id]["adjusted_price"] == pytest.approx(recent, rel=0.05)
    assert by_type[PLEX]["average_price"] > 1000 * by_type[34]["average_price"]
    assert ds.body("GetMarketsPrices", {}, generation=1) != prices


CHARACTER_ITEMS = (
    "GetCharactersCharacterIdAssets",
    "GetCharactersCharacterIdBlueprints",
    "GetCharactersCharacterIdIndustryJobs",
    "GetCharactersCharacterIdOrders",
    "GetCharactersCharacterIdOrdersHistory",
    "GetCharactersCharacterIdWalletTransactions",
    "GetCharactersCharacterIdMining",
    "GetCharactersCharacterIdImplants",
    "GetCharactersCharacterIdShip",
    "GetCharactersCharacterIdFittings",
)


@pytest.mark.parametrize("character_id", sorted(DEFAULT_CHARACTERS))
def test_prices_value_everything_the_test_characters_hold(ds: Dataset, character_id: int) -> None:
    prices = {p["type_id"]: p["average_price"] for p in ds.body("GetMarketsPrices", {})}
    priced = set(prices)
    params = {"character_id": str(character_id)}
    assets = all_records(ds, "GetCharactersCharacterIdAssets", params)
    assert len(type_ids_in(assets)) >= 10
    assert all(a["quantity"] == 1 for a in assets if a["is_singleton"])
    # A stack is worth what a character plausibly holds, not trillions of ISK.
    assert max(a["quantity"] * prices[a["type_id"]] for a in assets) < 50_000_000
    for op_id in CHARACTER_ITEMS:
        if op_id in X_PAGES:
            found = type_ids_in(all_records(ds, op_id, params))
        elif op_id == "GetCharactersCharacterIdImplants":
            found = set(ds.body(op_id, params))
        else:
            found = type_ids_in(ds.body(op_id, params))
        assert found, op_id
        assert found <= priced, (op_id, sorted(found - priced)[:5])
    contract = {**params, "contract_id": "200000001"}
    items = ds.body("GetCharactersCharacterIdContractsContractIdItems", contract)
    assert type_ids_in(items) <= priced
    region_orders = all_records(ds, "GetMarketsRegionIdOrders", {"region_id": str(FORGE)})
    assert type_ids_in(region_orders) <= priced


def test_character_orders_and_trades_sit_on_their_side_of_the_market(ds: Dataset) -> None:
    params = {"character_id": "2112000001"}
    orders = ds.body("GetCharactersCharacterIdOrders", params)
    for o in orders:
        recent = recent_average(ds, o["region_id"], o["type_id"])
        assert (o["price"] < recent) if o.get("is_buy_order") else (o["price"] > recent)
        assert 0 < o["volume_remain"] <= o["volume_total"]
    trades = ds.body("GetCharactersCharacterIdWalletTransactions", params)
    assert {t["is_buy"] for t in trades} == {True, False}
    for t in trades[:20]:
        recent = recent_average(ds, FORGE, t["type_id"])
        assert (t["unit_price"] < recent) if t["is_buy"] else (t["unit_price"] > recent)
        assert t["unit_price"] == pytest.approx(recent, rel=0.5)


# --------------------------------------------------------------------------- characters


def test_sso_characters_go_by_their_sso_names_everywhere(ds: Dataset) -> None:
    ids = sorted(DEFAULT_CHARACTERS)
    assert DEFAULT_CHARACTERS[2112000001] == "Aura Sandbox"
    named = ds.body("PostUniverseNames", {}, request_body=ids)
    assert {n["id"]: (n["category"], n["name"]) for n in named} == {
        cid: ("character", name) for cid, name in DEFAULT_CHARACTERS.items()
    }
    looked_up = ds.body("PostUniverseIds", {}, request_body=[DEFAULT_CHARACTERS[i] for i in ids])
    assert looked_up == {"characters": [{"id": i, "name": DEFAULT_CHARACTERS[i]} for i in ids]}
    affiliations = ds.body("PostCharactersAffiliation", {}, request_body=ids)
    assert [a["character_id"] for a in affiliations] == ids
    for affiliation in affiliations:
        cid = affiliation["character_id"]
        for generation in (0, 1):
            params = {"character_id": str(cid)}
            detail = ds.body("GetCharactersDetail", params, generation=generation)
            assert detail["name"] == DEFAULT_CHARACTERS[cid]
            for field in ("corporation_id", "alliance_id", "faction_id"):
                assert detail.get(field) == affiliation.get(field), (cid, field)


def test_other_characters_keep_generated_names(ds: Dataset) -> None:
    names = ds.body("PostUniverseNames", {}, request_body=[2112000004, 90000001])
    assert all(n["name"] and n["name"] not in DEFAULT_CHARACTERS.values() for n in names)


def test_characters_can_be_chosen_and_bad_ones_are_refused() -> None:
    data = Dataset(SPEC, sizes=SMALL, today=TODAY, characters={2112000042: "Delta Sandbox"})
    assert data.body("GetCharactersDetail", {"character_id": "2112000042"})["name"] == (
        "Delta Sandbox"
    )
    assert data.body("GetCharactersDetail", {"character_id": "2112000001"})["name"] != (
        "Aura Sandbox"
    )
    with pytest.raises(ValueError, match="characters must map character ids"):
        Dataset(SPEC, characters={5: "Nobody"})
    with pytest.raises(ValueError, match="non-empty names"):
        Dataset(SPEC, characters={2112000042: ""})


# --------------------------------------------------------------------------- cursor and from_id


CURSOR_OPS = sorted(
    op_id for _, op_id, op in _operations(SPEC) if op.get("x-pagination") == "cursor"
)


@pytest.mark.parametrize("op_id", CURSOR_OPS)
def test_cursor_records_unique_and_oldest_first(ds: Dataset, op_id: str) -> None:
    field = ds.cursor_list_field(op_id)
    body = ds.body(op_id, as_query(ds.example_params(op_id)))
    records = body[field]
    assert len(records) == SMALL.cursor_records
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    stamps = [r["last_modified"] for r in records if "last_modified" in r]
    if stamps:
        assert len(stamps) == len(records)
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)


def test_cursor_list_field_names(ds: Dataset) -> None:
    assert ds.cursor_list_field("GetMilitaryCampaignsObjectivesListing") == "objectives"
    assert ds.cursor_list_field("GetCorporationsProjectsContributors") == "contributors"
    with pytest.raises(ValueError, match="not cursor-paginated"):
        ds.cursor_list_field("GetStatus")


@pytest.mark.parametrize(
    ("op_id", "params"),
    [
        ("GetCharactersCharacterIdWalletTransactions", {"character_id": "90000001"}),
        (
            "GetCorporationsCorporationIdWalletsDivisionTransactions",
            {"corporation_id": "98000001", "division": "1"},
        ),
    ],
)
def test_from_id_lists_are_newest_first(ds: Dataset, op_id: str, params: dict[str, str]) -> None:
    rows = ds.body(op_id, params)
    assert len(rows) == SMALL.wallet_transactions
    ids = [r["transaction_id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    newer = ds.body(op_id, params, generation=1)
    assert newer[0]["transaction_id"] > rows[0]["transaction_id"]
    assert {r["transaction_id"] for r in newer} & set(ids)


# --------------------------------------------------------------------------- exists and errors


@pytest.mark.parametrize(
    ("op_id", "params"),
    [
        ("GetUniverseTypesTypeId", {"type_id": "0"}),
        ("GetUniverseTypesTypeId", {"type_id": "900000"}),
        ("GetMarketsRegionIdHistory", {"region_id": "10000999", "type_id": "34"}),
        ("GetCharactersDetail", {"character_id": "5"}),
        ("GetAlliancesAllianceId", {"alliance_id": "98000001"}),
        ("GetFreelanceJobsDetail", {"job_id": "not-a-uuid"}),
    ],
)
def test_unknown_ids_do_not_exist(ds: Dataset, op_id: str, params: dict[str, str]) -> None:
    assert not ds.exists(op_id, params)


def test_bad_requests_get_clear_errors(ds: Dataset) -> None:
    params = {"region_id": "10000002", "order_type": "all"}
    with pytest.raises(ValueError, match=r"1\.\.6"):
        ds.page("GetMarketsRegionIdOrders", params, 7)
    with pytest.raises(ValueError, match="use page"):
        ds.body("GetMarketsRegionIdOrders", params)
    with pytest.raises(KeyError, match="GetNothing"):
        ds.body("GetNothing", {})
    with pytest.raises(ValueError, match="language must be one of"):
        ds.body("GetUniverseTypesTypeId", {"type_id": "34"}, language="xx")
    with pytest.raises(ValueError, match="page_size"):
        Sizes(page_size=0)


def test_post_lookups_answer_about_the_request_body(ds: Dataset) -> None:
    names = ds.body("PostUniverseNames", {}, request_body=[34, 30000142, 90000001])
    assert [(n["id"], n["category"]) for n in names] == [
        (34, "inventory_type"),
        (30000142, "solar_system"),
        (90000001, "character"),
    ]
    assert names[0]["name"] == "Tritanium"
    ids = ds.body("PostUniverseIds", {}, request_body=["Jita", "Tritanium"])
    assert ids["systems"] == [{"id": 30000142, "name": "Jita"}]
    assert ids["inventory_types"] == [{"id": 34, "name": "Tritanium"}]
    who = ds.body("PostCharactersAffiliation", {}, request_body=[90000001, 95000000])
    assert [w["character_id"] for w in who] == [90000001, 95000000]
    assert all(98000000 <= w["corporation_id"] <= 99000000 for w in who)
