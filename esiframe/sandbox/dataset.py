"""Deterministic synthetic ESI data for the offline sandbox.

`Dataset` answers every GET operation of an ESI OpenAPI spec and its read-only POSTs with
plausible data that validates against the operation's 200 schema. Everything is pure: no
sockets, no clock, no global state. The same spec, seed, sizes, ``today`` and inputs always
give the same output; a new ``generation`` simulates ESI refreshing its cache (contents move,
shape and page counts stay).

The data hangs together the way a lesson needs it to. Items come from one pool of type ids
(`TYPE_IDS`), so assets, blueprints, jobs, contracts and orders can all be valued with
``GetMarketsPrices`` (see `markets`). The SSO's test characters carry the same names here as in
their tokens. Randomness comes from ``random.Random`` instances seeded with a blake2b hash of
the inputs, never from Python's ``hash()``. The language is deliberately left out of those
seeds: localized operations draw the same numbers in every language and only render text
differently, so ids and numbers agree across languages while names are translated.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from collections.abc import Mapping
from typing import Any

from esiframe.sandbox.generator import Generator, Schemas, unique_int
from esiframe.sandbox.lookups import Lookups
from esiframe.sandbox.markets import Markets
from esiframe.sandbox.messages import DEFAULT_CHARACTERS
from esiframe.sandbox.routes import PAGING_PARAMS, READ_ONLY_POSTS, Param, Route, build_routes
from esiframe.sandbox.vocabulary import (
    DAY,
    LANG_INDEX,
    LANGUAGES,
    NO_ECHO,
    PATH_ENTITY,
    ROOT_LIST_FIELD,
    ROOT_SCALAR_FIELD,
    UNKEYED,
    Sizes,
    id_exists,
    int_kind,
    int_param,
    iso_time,
    params_key,
    stable_hash,
)
from esiframe.spec import Spec, compatibility_dates

__all__ = ["Dataset"]


class Dataset:
    """Synthetic ESI data for every GET operation of `spec` (see the module docstring).

    ``characters`` maps test characters' ids to the names every operation gives them; by
    default the sandbox SSO's ``DEFAULT_CHARACTERS``, so a token's character and
    ``PostUniverseNames`` agree. Assign ``dataset.characters`` to follow an SSO set up with
    other characters.
    """

    def __init__(
        self,
        spec: Mapping[str, Any] | Spec,
        *,
        seed: int = 0,
        sizes: Sizes | None = None,
        today: dt.date | None = None,
        characters: Mapping[int, str] | None = None,
    ) -> None:
        reader = spec if isinstance(spec, Spec) else Spec(spec)
        self._spec = Schemas(reader)
        self.routes = build_routes(reader)  # every operation; the server routes by these too
        self.seed = seed
        self.sizes = sizes if sizes is not None else Sizes()
        self.today = today if today is not None else dt.datetime.now(dt.UTC).date()
        self.markets = Markets(seed, self.sizes, self.today)
        self._characters: Mapping[int, str] = (
            DEFAULT_CHARACTERS if characters is None else _checked_characters(characters)
        )
        self.lookups = Lookups(seed, self._characters)
        self._compat_dates = list(compatibility_dates())

    @property
    def characters(self) -> Mapping[int, str]:
        """Test characters' ids and the names every operation gives them."""
        return self._characters

    @characters.setter
    def characters(self, characters: Mapping[int, str]) -> None:
        self._characters = characters
        self.lookups.characters = characters

    # -- public API

    def page_count(self, operation_id: str, params: Mapping[str, str]) -> int:
        """Total X-Pages pages of an X-Pages operation for these params."""
        op = self._op(operation_id)
        if op.style != "x-pages":
            raise ValueError(f"{operation_id} is not paginated with X-Pages (it is {op.style!r})")
        if operation_id == "GetMarketsRegionIdOrders":
            return self.markets.order_pages(params)
        return self.sizes.list_pages

    def page(
        self,
        operation_id: str,
        params: Mapping[str, str],
        page: int,
        *,
        language: str = "en",
        generation: int = 0,
    ) -> list[Any]:
        """Records of one X-Pages page (1-based), generated lazily for that page alone."""
        total = self.page_count(operation_id, params)
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= total:
            raise ValueError(
                f"page must be an int within 1..{total} for these params, got {page!r}"
            )
        op = self._op(operation_id)
        if operation_id == "GetMarketsRegionIdOrders":
            return self.markets.orders_page(params, page, generation)
        count = self._page_len(op, params, page, total)
        start = (page - 1) * self.sizes.page_size
        capacity = total * self.sizes.page_size
        gen = self._gen(op, params, language, generation, page)
        schema = self._response(op)
        salt_rng = random.Random(self._seed(op.operation_id, params_key(params), "salt"))
        salt = salt_rng.getrandbits(32)
        items = self._spec.deref(schema["items"])
        if items.get("type") == "integer":
            kind = int_kind(ROOT_LIST_FIELD.get(operation_id, "record_id")) or "record"
            return [unique_int(kind, start + i, capacity, salt) for i in range(count)]
        key_field = None if operation_id in UNKEYED else self._spec.key_field(items)
        out = []
        for i in range(count):
            key = None
            if key_field is not None:
                key = (key_field, gen.unique_id(key_field, items, start + i, capacity, salt))
            out.append(gen.obj(items, "", 0, key=key))
        return out

    def body(
        self,
        operation_id: str,
        params: Mapping[str, str],
        *,
        language: str = "en",
        generation: int = 0,
        request_body: Any = None,
    ) -> Any:
        """The whole 200 body of a non-X-Pages operation (cursor and from_id lists in full)."""
        op = self._op(operation_id)
        if op.style == "x-pages":
            raise ValueError(f"{operation_id} is paginated with X-Pages: use page()")
        if operation_id in READ_ONLY_POSTS:
            if not isinstance(request_body, dict) and not (
                isinstance(request_body, list) and request_body
            ):
                raise ValueError(f"{operation_id} needs a JSON object or a non-empty JSON array")
            return self.lookups.answer(operation_id, params, request_body, language)
        if operation_id == "GetMetaCompatibilityDates":
            return {"compatibility_dates": list(self._compat_dates)}
        if operation_id == "GetMarketsRegionIdHistory":
            return self.markets.history(params, generation)
        if operation_id == "GetMarketsPrices":
            return self.markets.prices(generation)
        if op.style == "cursor":
            return self._cursor_body(op, params, language, generation)
        if op.style == "from_id":
            return self._from_id_body(op, params, language, generation)
        gen = self._gen(op, params, language, generation, 0)
        schema = self._response(op)
        t = schema.get("type")
        if t == "array":
            items = self._spec.deref(schema["items"])
            if items.get("type") == "integer":
                field = ROOT_LIST_FIELD.get(operation_id, "record_id")
                count = gen.rng.randint(1, 10) if field == "type_id" else gen.rng.randint(20, 300)
                return gen.array(schema, field, 0, count=count)
            return gen.array(schema, "", 0)
        if t == "object":
            record = gen.obj(schema, "", 0)
            if operation_id == "GetCharactersDetail":
                _affiliate(self.lookups, record, int_param(params, "character_id"))
            return record
        if t == "integer":
            return gen.integer(schema, ROOT_SCALAR_FIELD.get(operation_id, ""))
        if t == "number":
            return gen.number(schema, ROOT_SCALAR_FIELD.get(operation_id, ""))
        return gen.value(schema, "", 0)

    def cursor_list_field(self, operation_id: str) -> str:
        """Name of the list field in a cursor-paginated response (e.g. ``"objectives"``)."""
        op = self._op(operation_id)
        if op.style != "cursor":
            raise ValueError(f"{operation_id} is not cursor-paginated (it is {op.style!r})")
        schema = self._response(op)
        for name, prop in schema["properties"].items():
            if self._spec.deref(prop).get("type") == "array":
                return str(name)
        raise ValueError(f"{operation_id} has no list field")

    def more_cursor_records(
        self, operation_id: str, params: Mapping[str, str], count: int, *, start: int = 0
    ) -> list[dict[str, Any]]:
        """``count`` records a cursor list did not hold yet, with keys of their own.

        The ``start``-th new record comes first, so successive calls never repeat a record.
        """
        op = self._op(operation_id)
        field = self.cursor_list_field(operation_id)
        items = self._spec.deref(self._spec.deref(self._response(op)["properties"][field])["items"])
        n = self.sizes.cursor_records
        if start + count > n * 32:
            raise ValueError(f"at most {n * 32} new records per cursor list, asked {start + count}")
        indexes = [n * 32 + start + i for i in range(count)]
        return self._records(op, params, items, indexes, "en", n * 64)

    def exists(self, operation_id: str, params: Mapping[str, str]) -> bool:
        """False when a path/query id names nothing (the server then answers 404)."""
        op = self._op(operation_id)
        for prm in op.params:
            if prm.name in PAGING_PARAMS or prm.name not in params:
                continue
            raw = str(params[prm.name])
            if prm.schema.get("format") == "uuid":
                try:
                    uuid.UUID(raw)
                except ValueError:
                    return False
                continue
            if prm.schema.get("type") != "integer":
                continue
            kind = int_kind(prm.name) if prm.name.endswith("_id") else None
            try:
                value = int(raw)
            except ValueError:
                return False
            if not id_exists(kind, value):
                return False
        return True

    def example_params(self, operation_id: str) -> dict[str, Any]:
        """Valid path+query parameters (Python-typed) that give a sensible answer."""
        op = self._op(operation_id)
        out: dict[str, Any] = {}
        overrides = _EXAMPLE_OVERRIDES.get(operation_id, {})
        for prm in op.params:
            if prm.name in PAGING_PARAMS:
                continue
            if prm.name in overrides:
                out[prm.name] = overrides[prm.name]
            elif prm.required:
                out[prm.name] = _example_value(prm)
        if operation_id in _EXAMPLE_BODIES:
            out["body"] = copy.deepcopy(_EXAMPLE_BODIES[operation_id])
        return out

    # -- internals

    def _op(self, operation_id: str) -> Route:
        try:
            route = self.routes[operation_id]
            if not route.served:
                raise KeyError(operation_id)
            return route
        except KeyError:
            raise KeyError(
                f"unknown operation {operation_id!r}: the sandbox serves the spec's GET "
                f"operations and {', '.join(sorted(READ_ONLY_POSTS))}"
            ) from None

    def _response(self, op: Route) -> Mapping[str, Any]:
        if op.response_schema is None:
            raise ValueError(f"{op.operation_id} has no JSON answer")
        return self._spec.deref(op.response_schema)

    def _seed(self, *parts: object) -> int:
        return stable_hash(self.seed, *parts)

    def _gen(
        self, op: Route, params: Mapping[str, str], language: str, generation: int, page: int
    ) -> Generator:
        if op.localized and language not in LANG_INDEX:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
        key = params_key(params)
        rng = random.Random(self._seed(op.operation_id, key, generation, page))
        echo = self._echo(op, params)
        entity = None
        path_params = [p for p in op.params if p.location == "path"]
        if path_params and self._response(op).get("type") == "object":
            last = path_params[-1].name
            if last in PATH_ENTITY and last in echo:
                entity = (PATH_ENTITY[last], int(echo[last]))
        return Generator(
            self._spec,
            rng,
            today=self.today,
            lang=language if op.localized else "en",
            echo=echo,
            entity=entity,
            compat_dates=self._compat_dates,
            localized=op.localized,
            seed=self.seed,
            characters=self.characters,
        )

    def _echo(self, op: Route, params: Mapping[str, str]) -> dict[str, Any]:
        echo: dict[str, Any] = {}
        for prm in op.params:
            if prm.name in PAGING_PARAMS or prm.name not in params:
                continue
            if (op.operation_id, prm.name) in NO_ECHO:
                continue
            raw = str(params[prm.name])
            if prm.schema.get("type") == "integer":
                try:
                    echo[prm.name] = int(raw)
                except ValueError:
                    continue
            elif prm.schema.get("format") == "uuid":
                echo[prm.name] = raw
        if (
            op.operation_id == "GetCorporationsProjectsListing"
            and params.get("state", "Active") == "Active"
        ):
            echo["state"] = "Active"
        return echo

    def _page_len(self, op: Route, params: Mapping[str, str], page: int, total: int) -> int:
        if page < total:
            return self.sizes.page_size
        h = self._seed(op.operation_id, params_key(params), "last")
        return 1 + h % self.sizes.page_size

    # -- cursor and from_id lists

    def _window(self, op: Route, params: Mapping[str, str], n: int, generation: int) -> list[int]:
        """Absolute indexes of the records alive in a generation: a few new ones each time."""
        shift = max(1, n // 80)
        first = generation * shift
        return list(range(first, first + n))

    def _records(
        self,
        op: Route,
        params: Mapping[str, str],
        items: Mapping[str, Any],
        indexes: list[int],
        language: str,
        capacity: int,
    ) -> list[dict[str, Any]]:
        key_field = self._spec.key_field(items)
        salt = self._seed(op.operation_id, params_key(params), "salt") & 0xFFFFFFFF
        out = []
        gen = self._gen(op, params, language, 0, 0)
        key_params = params_key(params)
        for a in indexes:
            gen.rng.seed(self._seed(op.operation_id, key_params, "record", a))
            key = None
            if key_field is not None:
                key = (key_field, gen.unique_id(key_field, items, a, capacity, salt))
            out.append(gen.obj(items, "", 1, key=key))
        return out

    def _times(self, count: int, generation: int, op: Route) -> list[str]:
        """Ascending timestamps over the last 90 days, the newest shortly before today ends."""
        rng = random.Random(self._seed(op.operation_id, "times", generation))
        end = self.markets.end_of_today - 60
        spacing = max(2, 90 * DAY // max(count, 1))
        return [
            iso_time(end - (count - 1 - k) * spacing - rng.randrange(spacing // 2))
            for k in range(count)
        ]

    def _cursor_body(
        self, op: Route, params: Mapping[str, str], language: str, generation: int
    ) -> dict[str, Any]:
        field = self.cursor_list_field(op.operation_id)
        schema = self._response(op)
        items = self._spec.deref(self._spec.deref(schema["properties"][field])["items"])
        n = self.sizes.cursor_records
        indexes = self._window(op, params, n, generation)
        capacity = n * 64
        records = self._records(op, params, items, indexes, language, capacity)
        time_field = next(
            (
                name
                for name in ("last_modified", "started", "created", "date")
                if name in items.get("properties", {})
            ),
            None,
        )
        if time_field is not None:
            for record, stamp in zip(records, self._times(n, generation, op), strict=True):
                record[time_field] = stamp
        return {field: records}

    def _from_id_body(
        self, op: Route, params: Mapping[str, str], language: str, generation: int
    ) -> list[dict[str, Any]]:
        schema = self._response(op)
        items = self._spec.deref(schema["items"])
        n = self.sizes.wallet_transactions
        indexes = self._window(op, params, n, generation)
        records = self._records(op, params, items, indexes, language, n * 64)
        for record, stamp in zip(records, self._times(n, generation, op), strict=True):
            record["date"] = stamp
        records.reverse()
        return records


def _affiliate(lookups: Lookups, detail: dict[str, Any], character_id: int) -> None:
    """Make a character's details name the affiliation PostCharactersAffiliation gives."""
    affiliation = lookups.affiliation(character_id)
    for field in ("corporation_id", "alliance_id", "faction_id"):
        if field in affiliation:
            detail[field] = affiliation[field]
        else:
            detail.pop(field, None)


def _checked_characters(characters: Mapping[int, str]) -> Mapping[int, str]:
    if not isinstance(characters, Mapping) or not all(
        isinstance(cid, int)
        and not isinstance(cid, bool)
        and id_exists("character", cid)
        and isinstance(name, str)
        and name
        for cid, name in characters.items()
    ):
        raise ValueError(
            "characters must map character ids (90000000-98000000 or 2112000000-2129999999) "
            f"to non-empty names, got {characters!r}"
        )
    return characters


_EXAMPLE_BY_NAME: dict[str, Any] = {
    "region_id": 10000002,
    "type_id": 34,
    "character_id": 90000001,
    "corporation_id": 98000001,
    "alliance_id": 99000001,
    "system_id": 30000142,
    "constellation_id": 20000020,
    "station_id": 60003760,
    "structure_id": 1_000_000_000_001,
    "observer_id": 1_000_000_000_001,
    "starbase_id": 1_000_000_000_002,
    "mercenary_den_id": 1_000_000_000_003,
    "skyhook_id": 1_000_000_000_004,
    "sovereignty_hub_id": 1_000_000_000_005,
    "item_id": 1_000_000_000_006,
    "fleet_id": 1_000_000_000_007,
    "planet_id": 40009077,
    "moon_id": 40009078,
    "star_id": 40009076,
    "asteroid_belt_id": 40009079,
    "stargate_id": 50001248,
    "group_id": 18,
    "category_id": 4,
    "market_group_id": 1857,
    "graphic_id": 20,
    "attribute_id": 9,
    "effect_id": 11,
    "schematic_id": 65,
    "war_id": 1,
    "killmail_id": 120000000,
    "killmail_hash": "8eef5e8fb6b88fe3407c489df33822b2e3b57a5e",
    "contract_id": 200000001,
    "event_id": 1,
    "mail_id": 300000001,
    "division": 1,
    "access_list_id": 1,
    "order_type": "all",
    "categories": ["inventory_type", "solar_system"],
    "search": "Tritanium",
    "origin_system_id": 30000142,
    "destination_system_id": 30000290,
}

# Localized look-ups use ids without a well-known name so every language reads differently.
_EXAMPLE_OVERRIDES: dict[str, dict[str, Any]] = {
    "GetUniverseSystemsSystemId": {"system_id": 30000005},
    "GetUniverseConstellationsConstellationId": {"constellation_id": 20000005},
    "GetUniverseRegionsRegionId": {"region_id": 10000002},
}

_ITEMS = [1_000_000_000_006, 1_000_000_000_107]
_EXAMPLE_BODIES: dict[str, Any] = {
    "PostUniverseNames": [34, 30000142, 60003760, 10000002, 90000001],
    "PostUniverseIds": ["Tritanium", "Jita", "The Forge"],
    "PostCharactersAffiliation": [90000001, 95465499],
    "PostRoute": {"preference": "Safer", "avoid_systems": [30000144]},
    "PostCharactersCharacterIdAssetsNames": _ITEMS,
    "PostCharactersCharacterIdAssetsLocations": _ITEMS,
    "PostCorporationsCorporationIdAssetsNames": _ITEMS,
    "PostCorporationsCorporationIdAssetsLocations": _ITEMS,
    "PostCharactersCharacterIdCspa": [90000001, 95465499],
}


def _example_value(prm: Param) -> Any:
    if prm.name in _EXAMPLE_BY_NAME:
        return _EXAMPLE_BY_NAME[prm.name]
    schema = prm.schema
    if schema.get("format") == "uuid":
        return "3868eaed-8278-4cb7-9709-7d7de9c20dc7"
    if "enum" in schema:
        return schema.get("default", schema["enum"][0])
    examples = schema.get("examples")
    if examples:
        return examples[0]
    t = schema.get("type")
    if t == "integer":
        return 1
    if t == "boolean":
        return False
    if t == "array":
        return [_example_value(Param(prm.name, prm.location, True, schema.get("items", {})))]
    return "example"
