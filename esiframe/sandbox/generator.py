"""Schema-driven generation of plausible ESI values, one response at a time.

A `Generator` walks an operation's response schema and fills every field with a value that
fits its name and format: ids of the right kind (see `vocabulary.int_kind`), names in the
response's language, prices near the market, timestamps before today. Randomness comes only
from the ``random.Random`` it is given, so the same seed gives the same response.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Mapping
from typing import Any

from esiframe.sandbox.markets import margin_of, quote_price, reference_price
from esiframe.sandbox.vocabulary import (
    ADJECTIVES,
    DAY,
    DESC_TEMPLATES,
    ENGLISH_WORDS,
    FORGE,
    INT32_MAX,
    KEY_FIELDS,
    LANG_INDEX,
    NAMED_BY,
    NOUNS,
    RANGES,
    ROLE_NAMES,
    TYPE_IDS,
    WORDS,
    entity_name,
    id_exists,
    int_kind,
    iso_time,
    kind_range,
    mix64,
    ref_field,
    stable_hash,
    station_system,
)
from esiframe.spec import Spec

__all__ = ["Generator", "Schemas", "unique_int"]

_OPTIONAL_PRESENT = 0.85


class Schemas:
    """The spec as the generator reads it: ``$ref``s followed, record keys, the paths."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self.paths: list[str] = sorted(spec.document.get("paths", {}))

    def deref(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        return self._spec.deref(schema)

    def key_field(self, items: Mapping[str, Any]) -> str | None:
        """The property that identifies a record of a list (an int id or a uuid), if any."""
        props: Mapping[str, Any] = items.get("properties", {})
        for field in KEY_FIELDS:
            if field in props:
                prop = self.deref(props[field])
                if prop.get("type") == "integer" or prop.get("format") == "uuid":
                    return field
        return None


class Generator:
    """Schema-driven value generator for one response (one page, one body)."""

    def __init__(
        self,
        spec: Schemas,
        rng: random.Random,
        *,
        today: dt.date,
        lang: str,
        echo: Mapping[str, Any],
        entity: tuple[str, int] | None,
        compat_dates: list[str],
        localized: bool,
        seed: int,
        characters: Mapping[int, str],
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.characters = characters
        self.localized = localized
        self.rng = rng
        self.li = LANG_INDEX.get(lang, 0)
        self.lang = lang
        self.echo = echo
        self.entity = entity
        self.compat_dates = compat_dates
        self.end = int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp())
        self.today = today

    # -- scalars

    def timestamp(self, name: str) -> str:
        future = any(w in name for w in ("expire", "unanchor", "reinforced_until", "arrival"))
        offset = self.rng.randrange(1, 90 * DAY)
        return iso_time(self.end + offset if future else self.end - offset)

    def date(self) -> str:
        return (self.today - dt.timedelta(days=self.rng.randrange(1, 90))).isoformat()

    def id_of(self, kind: str) -> int:
        rng = self.rng
        if kind == "location":
            kind = "station" if rng.random() < 0.8 else "structure"
        if kind == "character" and rng.random() < 0.1:
            return rng.randint(2112000000, 2129999999)
        if kind == "type":
            return rng.randint(34, 40) if rng.random() < 0.2 else rng.choice(TYPE_IDS)
        lo, hi = RANGES[kind]
        return rng.randint(lo, hi)

    def integer(self, schema: Mapping[str, Any], name: str) -> int:
        rng = self.rng
        kind = int_kind(name)
        if kind is not None:
            value = self.id_of(kind)
        elif name in ("quantity", "volume_total", "volume_remain", "volume", "share_count"):
            value = rng.randint(1, 100000)
        elif name in ("runs", "licensed_runs", "successful_runs"):
            value = rng.choice((-1, 1, 10, 50, 200)) if name == "runs" else rng.randint(1, 200)
        elif "level" in name or name in ("material_efficiency", "time_efficiency"):
            value = rng.randint(0, 5) if "level" in name else rng.randint(0, 20)
        elif name in ("duration", "days_to_complete"):
            value = rng.choice((1, 3, 7, 14, 30, 90))
        elif name in ("charisma", "intelligence", "memory", "perception", "willpower"):
            value = rng.randint(17, 27)
        elif name.endswith("hour"):
            value = rng.randint(0, 23)
        elif name in ("players",):
            value = rng.randint(15000, 40000)
        else:
            value = rng.randint(0, 1000)
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        if schema.get("format") == "int32":
            hi = INT32_MAX if hi is None else min(hi, INT32_MAX)
        if lo is not None and value < lo:
            value = int(lo)
        if hi is not None and value > hi:
            value = int(hi)
        return value

    def number(self, schema: Mapping[str, Any], name: str) -> float:
        rng = self.rng
        if name == "security_status":
            value = round(rng.uniform(-1.0, 1.0), 4)
        elif name in ("standing", "standing_level"):
            value = round(rng.uniform(-10.0, 10.0), 2)
        elif name in ("x", "y", "z"):
            value = float(rng.randint(-(10**12), 10**12))
        elif (
            "rate" in name
            or "efficiency" in name
            or "take" in name
            or name
            in (
                "probability",
                "influence",
                "size_factor",
                "tax",
            )
        ):
            value = round(rng.random(), 4)
        elif any(w in name for w in ("price", "isk", "amount", "balance", "cost", "reward")) or (
            name in ("buyout", "collateral", "escrow", "payout", "initial", "remaining", "wallet")
        ):
            value = round(10 ** rng.uniform(2, 8), 2)
        else:
            value = round(rng.uniform(0.01, 1000.0), 2)
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        if lo is not None and value < lo:
            value = float(lo)
        if hi is not None and value > hi:
            value = float(hi)
        return value

    def description(self) -> str:
        a = self.rng.randrange(len(ADJECTIVES))
        n = self.rng.randrange(len(NOUNS))
        return DESC_TEMPLATES[self.li].format(a=ADJECTIVES[a][self.li], n=NOUNS[n][self.li])

    def phrase(self) -> str:
        w = self.rng.randrange(len(WORDS))
        k = self.rng.randint(1, 9)
        return f"{WORDS[w][self.li]} {k}"

    def english(self, words: int) -> str:
        picked = [self.rng.choice(ENGLISH_WORDS) for _ in range(words)]
        return " ".join(picked).capitalize()

    def string(
        self, schema: Mapping[str, Any], name: str, siblings: Mapping[str, Any], depth: int = 1
    ) -> str:
        fmt = schema.get("format")
        rng = self.rng
        if fmt == "date-time":
            return self.timestamp(name)
        if fmt == "date":
            if name == "compatibility_date" and self.compat_dates:
                return rng.choice(self.compat_dates)
            return self.date()
        if fmt == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if name in ("description", "short_description"):
            return self.description()
        if name == "name" or name == "role_name":
            if depth == 0 and self.entity is not None:
                return self.name_of(self.entity[0], self.entity[1])
            return self.name_for(siblings)
        if name.endswith("_name"):
            owner = name[: -len("_name")]
            kind = int_kind(owner + "_id")
            if kind is not None:
                return self.name_of(kind, self.id_of(kind))
            return self.english(2) if self.li == 0 else self.phrase()
        if name == "killmail_hash":
            return f"{rng.getrandbits(160):040x}"
        if name == "ticker":
            return "".join(
                rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(3, 5))
            )
        if name == "url":
            return f"https://example.invalid/{self.english(1).lower()}"
        if name == "path":
            return rng.choice(self.spec.paths) if self.spec.paths else "/status"
        if name == "date":
            return self.date()
        if name == "server_version":
            return str(rng.randint(2_900_000, 3_100_000))
        if name in ("current",):
            return f"EVE {self.english(2)} (ESI)"
        if name == "security_class":
            return rng.choice(("A", "B", "C", "D", "E", "F"))
        if name in ("title", "subject", "label_name", "reason", "motd", "message", "text", "body"):
            return self.english(rng.randint(2, 5))
        return self.english(2)

    def name_of(self, kind: str, entity_id: int) -> str:
        """An entity's name in this response's language; test characters go by their own."""
        if kind == "character" and entity_id in self.characters:
            return self.characters[entity_id]
        return entity_name(kind, entity_id, self.lang)

    def quote(self, record: Mapping[str, Any], type_id: int) -> float:
        """A price for an order or trade of a type on its side of the region's reference price.

        Orders without ``is_buy_order`` are sell orders, as in ESI; orders and trades without a
        region are priced as in The Forge.
        """
        region = record.get("region_id")
        if not isinstance(region, int) or not id_exists("region", region):
            region = FORGE
        is_buy = record.get("is_buy_order", record.get("is_buy", False)) is True
        margin = margin_of(self.rng.random(), 1.0, self.rng.random() < 0.5)
        return quote_price(reference_price(self.seed, region, type_id), is_buy, margin)

    def fit_to_type(self, record: dict[str, Any], type_id: int) -> None:
        """Price a record's type near its market and count it in plausible numbers.

        Stacks hold up to about 20 million ISK's worth (millions of Tritanium, a few PLEX);
        singletons hold one item.
        """
        for field in ("price", "unit_price"):
            if isinstance(record.get(field), float):
                record[field] = self.quote(record, type_id)
        most = max(1, int(20_000_000 / reference_price(self.seed, FORGE, type_id)))
        for field in ("quantity", "volume_total", "volume_remain"):
            value = record.get(field)
            if isinstance(value, int) and value > 0:
                record[field] = 1 if record.get("is_singleton") is True else 1 + (value - 1) % most

    def name_for(self, siblings: Mapping[str, Any]) -> str:
        """A name fitting the object it sits in (its entity id, or a localized phrase)."""
        role = siblings.get("role")
        if isinstance(role, str) and role in ROLE_NAMES:
            return ROLE_NAMES[role][self.li]
        for field, kind in NAMED_BY:
            value = siblings.get(field)
            if isinstance(value, int):
                return self.name_of(kind, value)
        id_kind = siblings.get("\0id_kind")
        if isinstance(id_kind, str) and isinstance(siblings.get("id"), int):
            return self.name_of(id_kind, int(siblings["id"]))
        if "bloodline_id" in siblings and "id" in siblings:
            return self.name_of("ancestry", int(siblings["id"]))
        # Localized operations translate generic names; others read as English.
        return self.phrase() if self.localized else self.english(self.rng.randint(2, 3))

    # -- structures

    def value(self, schema: Mapping[str, Any], name: str, depth: int) -> Any:
        s = self.spec.deref(schema)
        if "oneOf" in s:
            variant = self.spec.deref(self.rng.choice(s["oneOf"]))
            return self.obj(variant, name, depth, force=True)
        if "enum" in s:
            return self.rng.choice(s["enum"])
        t = s.get("type")
        if isinstance(t, list):
            t = next(x for x in t if x != "null")
        if t == "object":
            return self.obj(s, name, depth)
        if t == "array":
            return self.array(s, name, depth)
        if t == "integer":
            return self.integer(s, name)
        if t == "number":
            return self.number(s, name)
        if t == "boolean":
            return self.rng.random() < 0.5
        return self.string(s, name, {})

    def obj(
        self,
        schema: Mapping[str, Any],
        name: str,
        depth: int,
        *,
        force: bool = False,
        key: tuple[str, int] | None = None,
    ) -> dict[str, Any]:
        """An object of ``schema``: ids and numbers first, then texts that may name them."""
        props: Mapping[str, Any] = schema.get("properties", {})
        out, texts = self._fields(schema, depth, force, key)
        self._make_consistent(out)
        id_ref = ref_field(props["id"]) if "id" in props else None
        context: dict[str, Any] = dict(out)
        if id_ref is not None:
            context["\0id_kind"] = int_kind(id_ref)
        for pname, resolved in texts:
            out[pname] = self.string(resolved, pname, context, depth)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if name == "changelog" and self.compat_dates:
                keys = self.rng.sample(self.compat_dates, k=min(3, len(self.compat_dates)))
            else:
                keys = [f"parameter_{i}" for i in range(1, self.rng.randint(2, 4))]
            for k in keys:
                out[k] = self.value(extra, name, depth + 1)
        ordered = {k: out[k] for k in props if k in out}
        ordered.update(out)
        return ordered

    def _fields(
        self,
        schema: Mapping[str, Any],
        depth: int,
        force: bool,
        key: tuple[str, int] | None,
    ) -> tuple[dict[str, Any], list[tuple[str, Mapping[str, Any]]]]:
        """The non-text fields of an object, and the free-text fields left to fill after."""
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out: dict[str, Any] = {}
        texts: list[tuple[str, Mapping[str, Any]]] = []
        for pname, psch in props.items():
            present = force or pname in required or self.rng.random() < _OPTIONAL_PRESENT
            if depth <= 1 and pname in self.echo:
                out[pname] = self.echo[pname]
                continue
            if not present:
                continue
            if key is not None and pname == key[0]:
                out[pname] = key[1]
                continue
            resolved = self.spec.deref(psch)
            if (
                resolved.get("type") == "string"
                and "enum" not in resolved
                and "format" not in resolved
            ):
                texts.append((pname, resolved))
                continue
            hint = pname if int_kind(pname) else ref_field(psch) or pname
            out[pname] = self.value(resolved, hint, depth + 1)
        return out, texts

    def _make_consistent(self, out: dict[str, Any]) -> None:
        """A station's system, a type's price and volumes that fit each other."""
        station = out.get("station_id")
        if isinstance(station, int) and "system_id" in out and "system_id" not in self.echo:
            out["system_id"] = station_system(station)
        type_id = out.get("type_id")
        if isinstance(type_id, int):
            self.fit_to_type(out, type_id)
        remain, total = out.get("volume_remain"), out.get("volume_total")
        if isinstance(remain, int) and isinstance(total, int) and 0 < total < remain:
            out["volume_remain"] = 1 + remain % total

    def array(
        self,
        schema: Mapping[str, Any],
        name: str,
        depth: int,
        *,
        count: int | None = None,
        start: int = 0,
        capacity: int | None = None,
    ) -> list[Any]:
        """A list of ``schema``'s items; records and ids are unique within it."""
        items = self.spec.deref(schema.get("items", {}))
        lo = int(schema.get("minItems", 0))
        hi = int(schema.get("maxItems", 1 << 30))
        if count is None:
            count = self.rng.randint(5, 40) if depth == 0 else self.rng.randint(max(lo, 1), 4)
        count = max(lo, min(count, hi))
        salt = self.rng.getrandbits(32)
        if items.get("type") == "object" and "oneOf" not in items:
            return self._records(items, name, depth, count, start, capacity, salt)
        if items.get("type") == "integer":
            kind = int_kind(name) or int_kind(name + "_id")
            if kind is None and name.endswith("s"):
                kind = int_kind(name[:-1] + "_id")
            if kind is not None:
                lo_id, hi_id = kind_range(kind)
                count = min(count, hi_id - lo_id + 1)
                cap = capacity or count
                return [unique_int(kind, start + i, cap, salt) for i in range(count)]
        if "enum" in items and schema.get("uniqueItems"):
            return self.rng.sample(list(items["enum"]), k=min(count, len(items["enum"])))
        values = [self.value(items, name, depth) for _ in range(count)]
        if schema.get("uniqueItems"):
            values = _unique(values)
        return values

    def _records(
        self,
        items: Mapping[str, Any],
        name: str,
        depth: int,
        count: int,
        start: int,
        capacity: int | None,
        salt: int,
    ) -> list[dict[str, Any]]:
        """``count`` objects, each with its own key when the items have one."""
        key_field = self.spec.key_field(items)
        if key_field is not None and capacity is None:
            kind = int_kind(key_field)
            if kind is not None:
                lo_id, hi_id = kind_range(kind)
                count = min(count, hi_id - lo_id + 1)
            if kind == "type":
                capacity = count
        out = []
        for i in range(count):
            key = None
            if key_field is not None:
                key = (key_field, self.unique_id(key_field, items, start + i, capacity, salt))
            out.append(self.obj(items, name, depth, key=key))
        return out

    def unique_id(
        self,
        field: str,
        items: Mapping[str, Any],
        index: int,
        capacity: int | None,
        salt: int,
    ) -> Any:
        raw = items["properties"][field]
        prop = self.spec.deref(raw)
        if prop.get("format") == "uuid":
            return str(
                uuid.UUID(int=stable_hash(salt, index) << 64 | mix64(salt ^ index), version=4)
            )
        kind = int_kind(field) or int_kind(ref_field(raw) or "") or "record"
        return unique_int(kind, index, capacity or 1000, salt)


def unique_int(kind: str, index: int, capacity: int, salt: int) -> int:
    """The index-th of `capacity` distinct ascending ids of a kind; the salt moves the offsets.

    Index i owns the slot [lo + i*step, lo + (i+1)*step), so ids never collide, whichever
    page or record asks for them. Types come from `TYPE_IDS` while it holds enough of them.
    """
    if kind == "type" and capacity <= len(TYPE_IDS):
        step = len(TYPE_IDS) // max(capacity, 1)
        return TYPE_IDS[index * step + (mix64(salt ^ index) % step if step > 1 else 0)]
    lo, hi = kind_range(kind)
    step = max(1, (hi - lo + 1) // max(capacity, 1))
    return lo + index * step + (mix64(salt ^ index) % step if step > 1 else 0)


def _unique(values: list[Any]) -> list[Any]:
    """``values`` without repeats (compared as JSON), first occurrences in order."""
    seen: set[str] = set()
    unique = []
    for value in values:
        marker = json.dumps(value, sort_keys=True)
        if marker not in seen:
            seen.add(marker)
            unique.append(value)
    return unique
