"""Deterministic synthetic ESI data for the offline sandbox.

`Dataset` answers every GET operation of an ESI OpenAPI spec (and the three
POST look-ups ``PostUniverseNames``, ``PostUniverseIds`` and
``PostCharactersAffiliation``) with plausible data that validates against the
operation's 200 schema. Everything is pure: no sockets, no clock, no global
state. The same spec, seed, sizes, ``today`` and inputs always give the same
output; a new ``generation`` simulates ESI refreshing its cache (contents move,
shape and page counts stay).

The data hangs together the way a lesson needs it to. Items come from one pool of
type ids (`TYPE_IDS`), so assets, blueprints, jobs, contracts and orders can all be
valued with ``GetMarketsPrices``, which prices every type of the pool. Each
(region, type) trades around a reference price, the recent average of its market
history: buy orders sit below it and sell orders above, so no order book is ever
crossed, with tight quotes at the region's trade hub and wider ones elsewhere.
The SSO's test characters carry the same names here as in their tokens.

Randomness comes from ``random.Random`` instances seeded with a blake2b hash of
the inputs, never from Python's ``hash()``. The language is deliberately left
out of those seeds: localized operations draw the same numbers in every
language and only render text differently, so ids and numbers agree across
languages while names and descriptions are translated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from esiframe.sandbox.messages import DEFAULT_CHARACTERS

__all__ = ["LANGUAGES", "TYPE_IDS", "Dataset", "Sizes"]

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")
"""Languages ESI translates into (``Accept-Language``), in spec order."""

_POST_LOOKUPS = frozenset({"PostUniverseNames", "PostUniverseIds", "PostCharactersAffiliation"})
_PAGING_PARAMS = frozenset({"page", "before", "after", "limit", "from_id"})
_FORGE = 10000002
_M64 = (1 << 64) - 1
_INT32_MAX = (1 << 31) - 1
_INT64_MAX = (1 << 63) - 1
_OPTIONAL_PRESENT = 0.85
_DAY = 86400
_RECENT_DAYS = 30


@dataclass(frozen=True)
class Sizes:
    """How much data the sandbox pretends ESI holds (shrink it in tests)."""

    page_size: int = 1000
    forge_order_pages: int = 300
    region_order_pages: int = 20
    history_days: int = 400
    list_pages: int = 2
    cursor_records: int = 250
    wallet_transactions: int = 2500

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Sizes.{name} must be a positive int, got {value!r}")


# --------------------------------------------------------------------------- hashing


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _hash(*parts: object) -> int:
    """Stable 64-bit hash of the parts' reprs (blake2b, independent of PYTHONHASHSEED)."""
    text = "\x1f".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _params_key(params: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in params.items() if k not in _PAGING_PARAMS))


# --------------------------------------------------------------------------- id kinds

# Inclusive ranges of plausible ids per kind.
_RANGES: dict[str, tuple[int, int]] = {
    "region": (10000001, 10000070),
    "constellation": (20000001, 20001200),
    "system": (30000001, 30005000),
    "station": (60000000, 64000000),
    "structure": (1_000_000_000_000, 1_099_999_999_999),
    "item": (1_000_000_000_000, 1_099_999_999_999),
    "type": (100, 90000),  # plus the named types below 100: the minerals 34-40
    "character": (90000000, 98000000),
    "corporation": (98000000, 99000000),
    "npc_corporation": (1000002, 1000300),
    "alliance": (99000000, 99999999),
    "faction": (500001, 500027),
    "race": (1, 16),
    "bloodline": (1, 18),
    "ancestry": (1, 42),
    "group": (1, 4000),
    "category": (1, 100),
    "market_group": (1, 3000),
    "graphic": (1, 25000),
    "icon": (1, 25000),
    "attribute": (1, 5000),
    "effect": (1, 12000),
    "celestial": (40000001, 40500000),
    "stargate": (50000001, 50020000),
    "schematic": (65, 140),
    "war": (1, 760000),
    "killmail": (100_000_000, 130_000_000),
    "contract": (200_000_000, 240_000_000),
    "order": (6_000_000_000, 6_999_999_999),
    "transaction": (5_000_000_000, 5_999_999_999),
    "journal": (20_000_000_000, 29_999_999_999),
    "job": (500_000_000, 599_999_999),
    "record": (1, 2_000_000_000),
    "event": (1, 2_000_000_000),
    "mail": (300_000_000, 399_999_999),
    "notification": (1_000_000_000, 1_999_999_999),
    "fleet": (1_000_000_000_000, 1_099_999_999_999),
    "division": (1, 7),
    "small_id": (1, 1_000_000),
}

_NAME_KIND: dict[str, str] = {
    "region_id": "region",
    "constellation_id": "constellation",
    "system_id": "system",
    "solar_system_id": "system",
    "staging_solar_system_id": "system",
    "infested_solar_systems": "system",
    "systems": "system",
    "stargates": "stargate",
    "stargate_id": "stargate",
    "stations": "station",
    "station_id": "station",
    "facility_id": "station",
    "base_id": "station",
    "structure_id": "structure",
    "observer_id": "structure",
    "mercenary_den_id": "structure",
    "skyhook_id": "structure",
    "sovereignty_hub_id": "structure",
    "starbase_id": "item",
    "item_id": "item",
    "container_id": "item",
    "blueprint_id": "item",
    "office_id": "item",
    "ship_item_id": "item",
    "jump_clone_id": "small_id",
    "type_id": "type",
    "skill_id": "type",
    "implants": "type",
    "types": "type",
    "character_id": "character",
    "installer_id": "character",
    "issuer_id": "character",
    "issued_by": "character",
    "creator_id": "character",
    "acceptor_id": "character",
    "assignee_id": "character",
    "bidder_id": "character",
    "client_id": "character",
    "sender_id": "character",
    "recipient_id": "character",
    "from": "character",
    "ceo_id": "character",
    "fleet_boss_id": "character",
    "agent_id": "character",
    "contact_id": "character",
    "first_party_id": "character",
    "second_party_id": "character",
    "from_id": "character",
    "shareholder_id": "character",
    "owner_id": "corporation",
    "owner": "npc_corporation",
    "corporation_id": "corporation",
    "recorded_corporation_id": "corporation",
    "issuer_corporation_id": "corporation",
    "executor_corporation_id": "corporation",
    "creator_corporation_id": "corporation",
    "militia_corporation_id": "npc_corporation",
    "tax_receiver_id": "corporation",
    "alliance_id": "alliance",
    "creator_alliance_id": "alliance",
    "defender_id": "alliance",
    "faction_id": "faction",
    "occupier_faction_id": "faction",
    "owner_faction_id": "faction",
    "enlisted_faction_id": "faction",
    "against_id": "faction",
    "race_id": "race",
    "bloodline_id": "bloodline",
    "ancestry_id": "ancestry",
    "group_id": "group",
    "groups": "group",
    "category_id": "category",
    "categories": "category",
    "market_group_id": "market_group",
    "parent_group_id": "market_group",
    "graphic_id": "graphic",
    "icon_id": "icon",
    "attribute_id": "attribute",
    "effect_id": "effect",
    "planet_id": "celestial",
    "moon_id": "celestial",
    "moons": "celestial",
    "star_id": "celestial",
    "asteroid_belt_id": "celestial",
    "asteroid_belts": "celestial",
    "schematic_id": "schematic",
    "war_id": "war",
    "killmail_id": "killmail",
    "contract_id": "contract",
    "order_id": "order",
    "transaction_id": "transaction",
    "journal_ref_id": "journal",
    "ref_id": "journal",
    "job_id": "job",
    "record_id": "record",
    "event_id": "event",
    "mail_id": "mail",
    "notification_id": "notification",
    "fleet_id": "fleet",
    "division": "division",
    "wallet_division": "division",
}


def _int_kind(name: str) -> str | None:
    """The id kind a field of this name holds, if any."""
    kind = _NAME_KIND.get(name)
    if kind is not None:
        return kind
    if name.endswith("_type_id"):
        return "type"
    if name.endswith("_location_id") or name == "location_id":
        return "location"
    if name.endswith("_character_id"):
        return "character"
    if name.endswith("_corporation_id"):
        return "corporation"
    if name.endswith("_alliance_id"):
        return "alliance"
    if name.endswith(("_system_id", "_systems")):
        return "system"
    return None


# Field that makes a record unique in a list, by priority.
_KEY_FIELDS = (
    "order_id",
    "transaction_id",
    "contract_id",
    "bid_id",
    "job_id",
    "killmail_id",
    "record_id",
    "item_id",
    "notification_id",
    "mail_id",
    "event_id",
    "id",
    "offer_id",
    "medal_id",
    "starbase_id",
    "office_id",
    "observer_id",
    "structure_id",
    "fitting_id",
    "label_id",
    "title_id",
    "mailing_list_id",
    "campaign_id",
    "contact_id",
    "shareholder_id",
    "planet_id",
    "character_id",
    "corporation_id",
    "type_id",
    "solar_system_id",
    "system_id",
    "faction_id",
    "division",
)

# Root lists of plain ids: the field name their items stand for.
_ROOT_LIST_FIELD: dict[str, str] = {
    "GetAlliances": "alliance_id",
    "GetAlliancesAllianceIdCorporations": "corporation_id",
    "GetCharactersCharacterIdImplants": "type_id",
    "GetCorporationsNpccorps": "militia_corporation_id",
    "GetCorporationsCorporationIdMembers": "character_id",
    "GetDogmaAttributes": "attribute_id",
    "GetDogmaEffects": "effect_id",
    "GetMarketsGroups": "market_group_id",
    "GetMarketsRegionIdTypes": "type_id",
    "GetUniverseCategories": "category_id",
    "GetUniverseConstellations": "constellation_id",
    "GetUniverseGraphics": "graphic_id",
    "GetUniverseGroups": "group_id",
    "GetUniverseRegions": "region_id",
    "GetUniverseStructures": "structure_id",
    "GetUniverseSystems": "system_id",
    "GetUniverseTypes": "type_id",
    "GetWars": "war_id",
}

_ROOT_SCALAR_FIELD: dict[str, str] = {
    "GetCharactersCharacterIdWallet": "balance",
    "GetCorporationsCorporationIdMembersLimit": "member_limit",
}

# Lists whose records repeat their would-be key: a mining ledger has a row per day, system and
# type, so its types come from the item pool like everyone else's.
_UNKEYED = frozenset({"GetCharactersCharacterIdMining"})

# Params echoed into body fields of the same name, except where the field means someone else.
_NO_ECHO = frozenset({("GetCharactersCharacterIdCalendarEventIdAttendees", "character_id")})

# Kinds whose id decides what a `name` field next to it names, by priority.
_NAMED_BY = (
    ("station_id", "station"),
    ("planet_id", "celestial"),
    ("stargate_id", "stargate"),
    ("system_id", "system"),
    ("star_id", "celestial"),
    ("constellation_id", "constellation"),
    ("region_id", "region"),
    ("type_id", "type"),
    ("group_id", "group"),
    ("category_id", "category"),
    ("market_group_id", "market_group"),
    ("faction_id", "faction"),
    ("race_id", "race"),
    ("bloodline_id", "bloodline"),
)

# Path parameter naming the entity a root object describes.
_PATH_ENTITY: dict[str, str] = {
    "type_id": "type",
    "group_id": "group",
    "category_id": "category",
    "market_group_id": "market_group",
    "region_id": "region",
    "constellation_id": "constellation",
    "system_id": "system",
    "station_id": "station",
    "structure_id": "structure",
    "planet_id": "celestial",
    "moon_id": "celestial",
    "star_id": "celestial",
    "asteroid_belt_id": "celestial",
    "stargate_id": "stargate",
    "alliance_id": "alliance",
    "corporation_id": "corporation",
    "character_id": "character",
}

# --------------------------------------------------------------------------- text

_LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}

# Known entities: (en, de, fr, ja, ru, zh, ko, es).
_KNOWN: dict[tuple[str, int], tuple[str, ...]] = {
    ("type", 34): (
        "Tritanium",
        "Tritanium",
        "Tritanium",
        "トリタニウム",
        "Тританиум",
        "三钛合金",
        "트리타늄",
        "Tritanio",
    ),
    ("type", 35): (
        "Pyerite",
        "Pyerit",
        "Pyérite",
        "パイライト",
        "Пайерит",
        "类银超金属",
        "파이어라이트",
        "Pierita",
    ),
    ("type", 36): (
        "Mexallon",
        "Mexallon",
        "Mexallon",
        "メクサロン",
        "Мексаллон",
        "类晶体胶矿",
        "멕살론",
        "Mexalón",
    ),
    ("type", 37): (
        "Isogen",
        "Isogen",
        "Isogène",
        "アイソゲン",
        "Изоген",
        "同位聚合体",
        "아이소젠",
        "Isógeno",
    ),
    ("type", 38): (
        "Nocxium",
        "Nocxium",
        "Nocxium",
        "ノクキシウム",
        "Ноксиум",
        "超新星诺克石",
        "녹시움",
        "Nocxio",
    ),
    ("type", 39): (
        "Zydrine",
        "Zydrin",
        "Zydrine",
        "ザイドリン",
        "Зидрин",
        "晶状石英核岩",
        "자이드린",
        "Zidrina",
    ),
    ("type", 40): (
        "Megacyte",
        "Megacyt",
        "Mégacyte",
        "メガサイト",
        "Мегацит",
        "超噬矿",
        "메가사이트",
        "Megacita",
    ),
    ("type", 587): (
        "Rifter",
        "Rifter",
        "Rifter",
        "リフター",
        "Рифтер",
        "裂谷级",
        "리프터",
        "Rifter",
    ),
    ("type", 670): (
        "Capsule",
        "Kapsel",
        "Capsule",
        "カプセル",
        "Капсула",
        "太空舱",
        "캡슐",
        "Cápsula",
    ),
    ("type", 44992): ("PLEX", "PLEX", "PLEX", "PLEX", "PLEX", "伊甸币", "PLEX", "PLEX"),
    ("region", 10000002): (
        "The Forge",
        "The Forge",
        "The Forge",
        "ザ・フォージ",
        "Кузня",
        "伪造者",
        "더 포지",
        "The Forge",
    ),
    ("region", 10000043): (
        "Domain",
        "Domain",
        "Domain",
        "ドメイン",
        "Домейн",
        "多美",
        "도메인",
        "Domain",
    ),
    ("region", 10000032): (
        "Sinq Laison",
        "Sinq Laison",
        "Sinq Laison",
        "シンク・レイソン",
        "Синк-Лейсон",
        "金纳泽",
        "싱크 레이슨",
        "Sinq Laison",
    ),
    ("region", 10000030): (
        "Heimatar",
        "Heimatar",
        "Heimatar",
        "ヘイマター",
        "Хейматар",
        "西玛特尔",
        "헤이마타르",
        "Heimatar",
    ),
    ("region", 10000042): (
        "Metropolis",
        "Metropolis",
        "Métropolis",
        "メトロポリス",
        "Метрополис",
        "美特伯里斯",
        "메트로폴리스",
        "Metrópolis",
    ),
    ("constellation", 20000020): (
        "Kimotoro",
        "Kimotoro",
        "Kimotoro",
        "キモトロ",
        "Кимоторо",
        "吉莫特罗",
        "키모토로",
        "Kimotoro",
    ),
    ("system", 30000142): ("Jita", "Jita", "Jita", "ジタ", "Джита", "吉他", "지타", "Jita"),
    ("system", 30002187): ("Amarr", "Amarr", "Amarr", "アマー", "Амарр", "艾玛", "아마르", "Amarr"),
    ("system", 30002659): (
        "Dodixie",
        "Dodixie",
        "Dodixie",
        "ドディクシー",
        "Додикси",
        "多迪谢",
        "도딕시",
        "Dodixie",
    ),
    ("system", 30002510): ("Rens", "Rens", "Rens", "レンス", "Ренс", "伦斯", "렌스", "Rens"),
    ("system", 30002053): ("Hek", "Hek", "Hek", "ヘク", "Хек", "赫克", "헥", "Hek"),
}

_KNOWN_STATIONS: dict[int, tuple[str, int]] = {
    60003760: ("Jita IV - Moon 4 - Caldari Navy Assembly Plant", 30000142),
    60008494: ("Amarr VIII (Oris) - Emperor Family Academy", 30002187),
    60011866: ("Dodixie IX - Moon 20 - Federation Navy Assembly Plant", 30002659),
    60004588: ("Rens VI - Moon 8 - Brutor Tribe Treasury", 30002510),
    60005686: ("Hek VIII - Moon 12 - Boundless Creation Factory", 30002053),
}
_HUB_STATION = {
    10000002: 60003760,
    10000043: 60008494,
    10000032: 60011866,
    10000030: 60004588,
    10000042: 60005686,
}


def _type_pool(generated: int) -> tuple[int, ...]:
    """The named types plus `generated` more ids, the same on every run and machine."""
    named = {entity_id for kind, entity_id in _KNOWN if kind == "type"}
    pool = set(named)
    i = 0
    while len(pool) < len(named) + generated:
        pool.add(1000 + _mix(0x1DE5 + i) % 88000)
        i += 1
    return tuple(sorted(pool))


TYPE_IDS: tuple[int, ...] = _type_pool(300)
"""The sandbox's item universe, ascending: the minerals 34-40, the Rifter 587, the Capsule 670,
PLEX 44992 and 300 more. Assets, blueprints, industry jobs, contract items, killmail items,
character orders and unfiltered market orders draw their types from it, and
``GetMarketsPrices`` prices every one of them."""

# Words naming a kind in each language, used as "<word> <id>" for unknown entities.
_KIND_WORD: dict[str, tuple[str, ...]] = {
    "type": ("Type", "Typ", "Type n°", "タイプ", "Тип", "类型", "유형", "Tipo"),
    "group": ("Group", "Gruppe", "Groupe n°", "グループ", "Группа", "组别", "그룹", "Grupo"),
    "category": (
        "Category",
        "Kategorie",
        "Catégorie n°",
        "カテゴリー",
        "Категория",
        "类别",
        "카테고리",
        "Categoría",
    ),
    "market_group": (
        "Market Group",
        "Marktgruppe",
        "Groupe de marché n°",
        "マーケットグループ",
        "Рыночная группа",
        "市场分组",
        "마켓 그룹",
        "Grupo de mercado",
    ),
    "region": (
        "Region",
        "Raumregion",
        "Région n°",
        "リージョン",
        "Регион",
        "星域",
        "지역",
        "Región",
    ),
    "constellation": (
        "Constellation",
        "Konstellation",
        "Constellation n°",
        "コンステレーション",
        "Созвездие",
        "星座",
        "성단",
        "Constelación",
    ),
    "system": (
        "System",
        "Sonnensystem",
        "Système n°",
        "星系",
        "Система",
        "恒星系",
        "성계",
        "Sistema",
    ),
    "station": (
        "Station",
        "Raumstation",
        "Station n°",
        "ステーション",
        "Станция",
        "空间站",
        "정거장",
        "Estación",
    ),
    "structure": (
        "Structure",
        "Bauwerk",
        "Structure n°",
        "ストラクチャ",
        "Сооружение",
        "建筑",
        "구조물",
        "Estructura",
    ),
    "celestial": (
        "Celestial",
        "Himmelskörper",
        "Corps céleste n°",
        "天体",
        "Небесное тело",
        "天体",
        "천체",
        "Cuerpo celeste",
    ),
    "stargate": (
        "Stargate",
        "Sternentor",
        "Portail n°",
        "スターゲート",
        "Звёздные врата",
        "星门",
        "스타게이트",
        "Portal estelar",
    ),
    "faction": ("Faction", "Fraktion", "Faction n°", "勢力", "Фракция", "势力", "세력", "Facción"),
    "race": ("Race", "Rasse", "Race n°", "種族", "Раса", "种族", "종족", "Raza"),
    "bloodline": (
        "Bloodline",
        "Blutlinie",
        "Lignée n°",
        "血統",
        "Родословная",
        "血统",
        "혈통",
        "Linaje",
    ),
    "ancestry": (
        "Ancestry",
        "Abstammung",
        "Ascendance n°",
        "家系",
        "Происхождение",
        "世系",
        "가계",
        "Ascendencia",
    ),
}

# Generic localized words for names that are not entities (wings, levels, services...).
_WORDS: tuple[tuple[str, ...], ...] = (
    ("Wing", "Geschwader", "Escadre", "ウィング", "Крыло", "联队", "윙", "Ala"),
    ("Squad", "Trupp", "Escouade", "スクワッド", "Отряд", "中队", "분대", "Escuadrón"),
    ("Market", "Markt", "Marché", "マーケット", "Рынок", "市场", "시장", "Mercado"),
    (
        "Clone Bay",
        "Klonbucht",
        "Baie de clonage",
        "クローンベイ",
        "Клон-отсек",
        "克隆舱",
        "클론 베이",
        "Bahía de clones",
    ),
    (
        "Reprocessing",
        "Wiederaufbereitung",
        "Retraitement",
        "再処理",
        "Переработка",
        "精炼",
        "재처리",
        "Reprocesamiento",
    ),
    ("Research", "Forschung", "Recherche", "研究", "Исследования", "研究", "연구", "Investigación"),
    ("Basic", "Basis", "Basique", "ベーシック", "Базовая", "基础", "기본", "Básico"),
    ("Silver", "Silber", "Argent", "シルバー", "Серебро", "白银", "실버", "Plata"),
    ("Gold", "Gold", "Or", "ゴールド", "Золото", "黄金", "골드", "Oro"),
    ("Platinum", "Platin", "Platine", "プラチナ", "Платина", "白金", "플래티넘", "Platino"),
)

_ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "fleet_commander": (
        "Fleet Commander (Boss)",
        "Flottenkommandant (Boss)",
        "Commandant de flotte (Chef)",
        "フリートコマンダー（ボス）",
        "Командир флота (босс)",
        "舰队指挥官（老板）",
        "함대 사령관(보스)",
        "Comandante de flota (Jefe)",
    ),
    "wing_commander": (
        "Wing Commander",
        "Geschwaderkommandant",
        "Commandant d'escadre",
        "ウィングコマンダー",
        "Командир крыла",
        "联队指挥官",
        "윙 사령관",
        "Comandante de ala",
    ),
    "squad_commander": (
        "Squad Commander",
        "Truppkommandant",
        "Commandant d'escouade",
        "スクワッドコマンダー",
        "Командир отряда",
        "中队指挥官",
        "분대장",
        "Comandante de escuadrón",
    ),
    "squad_member": (
        "Squad Member",
        "Truppmitglied",
        "Membre d'escouade",
        "スクワッドメンバー",
        "Член отряда",
        "中队队员",
        "분대원",
        "Miembro de escuadrón",
    ),
}

_DESC_TEMPLATES: tuple[str, ...] = (
    "A {a} {n} from the depths of New Eden.",
    "{n}, {a} und begehrt, aus den Tiefen von New Eden.",
    "Un {n} {a} venu des profondeurs de New Eden.",
    "ニューエデンの深淵から来た{a}{n}。",
    "{a} {n} из глубин Нового Эдема.",
    "来自新伊甸深处的{a}{n}。",
    "뉴에덴 깊은 곳에서 온 {a} {n}.",
    "Un {n} {a} de las profundidades de New Eden.",
)
_ADJECTIVES: tuple[tuple[str, ...], ...] = (
    ("ancient", "uralt", "ancien", "古代の", "Древний", "古老的", "고대의", "antiguo"),
    ("rare", "selten", "rare", "希少な", "Редкий", "稀有的", "희귀한", "raro"),
    ("sturdy", "robust", "robuste", "頑丈な", "Прочный", "坚固的", "튼튼한", "robusto"),
    ("volatile", "flüchtig", "volatil", "不安定な", "Летучий", "易挥发的", "불안정한", "volátil"),
    ("polished", "poliert", "poli", "磨かれた", "Полированный", "抛光的", "광택 나는", "pulido"),
    ("common", "gewöhnlich", "commun", "ありふれた", "Обычный", "常见的", "흔한", "común"),
)
_NOUNS: tuple[tuple[str, ...], ...] = (
    ("mineral", "Mineral", "minerai", "鉱物", "минерал", "矿物", "광물", "mineral"),
    ("artifact", "Artefakt", "artefact", "遺物", "артефакт", "文物", "유물", "artefacto"),
    ("vessel", "Schiff", "vaisseau", "艦船", "корабль", "舰船", "함선", "navío"),
    ("relic", "Relikt", "relique", "遺品", "реликт", "遗迹", "유적", "reliquia"),
    ("compound", "Gemisch", "composé", "化合物", "соединение", "化合物", "화합물", "compuesto"),
)

_SYLLABLES = ("ka", "ren", "tor", "vel", "an", "sor", "mi", "dal", "ek", "ru", "zan", "lo", "thi")
_CORP_SUFFIX = ("Industries", "Holdings", "Logistics", "Mining Corp", "Enterprises", "Syndicate")
_ALLIANCE_SUFFIX = ("Alliance", "Coalition", "Federation", "Collective", "Pact")
_FACILITIES = ("Assembly Plant", "Logistic Support", "Warehouse", "Trading Post", "Academy")
_ENGLISH_WORDS = (
    "alpha",
    "bravo",
    "mining",
    "op",
    "fleet",
    "logistics",
    "market",
    "haul",
    "roam",
    "defense",
    "station",
    "contract",
    "delivery",
    "salvage",
    "exploration",
    "patrol",
)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _proper_name(seed: int, parts: int) -> str:
    """A readable made-up name ("Kareno Velsor"), stable for the seed."""
    words = []
    h = seed
    for _ in range(parts):
        h = _mix(h)
        n = 2 + h % 2
        word = "".join(_SYLLABLES[(h >> (8 * i + 4)) % len(_SYLLABLES)] for i in range(n))
        words.append(word.capitalize())
    return " ".join(words)


def _station_system(station_id: int) -> int:
    known = _KNOWN_STATIONS.get(station_id)
    if known is not None:
        return known[1]
    return 30000001 + (station_id - 60000000) // 800 % 5000


def _region_systems(region_id: int) -> range:
    """The solar systems of a region (71 per region; Jita lands in The Forge)."""
    start = 30000001 + (region_id - 10000001) * 71
    return range(start, start + 71)


def _entity_name(kind: str, entity_id: int, lang: str = "en") -> str:
    """Readable name of an entity in a language; stable for the id."""
    li = _LANG_INDEX.get(lang, 0)
    known = _KNOWN.get((kind, entity_id))
    if known is not None:
        return known[li]
    if kind == "station" or (kind == "location" and entity_id < 1_000_000_000_000):
        if entity_id in _KNOWN_STATIONS:
            return _KNOWN_STATIONS[entity_id][0]
        h = _mix(entity_id)
        system = _entity_name("system", _station_system(entity_id), "en")
        return (
            f"{system} {_ROMAN[h % 10]} - Moon {1 + (h >> 8) % 20} - "
            f"{_proper_name(h, 1)} {_FACILITIES[(h >> 16) % len(_FACILITIES)]}"
        )
    if kind in ("structure", "location", "item"):
        h = _mix(entity_id)
        system = _entity_name("system", 30000001 + h % 5000, "en")
        return f"{system} - {_proper_name(h >> 13, 2)}"
    if kind == "character":
        return _proper_name(entity_id, 2)
    if kind in ("corporation", "npc_corporation"):
        h = _mix(entity_id)
        return f"{_proper_name(h, 1)} {_CORP_SUFFIX[h % len(_CORP_SUFFIX)]}"
    if kind == "alliance":
        h = _mix(entity_id)
        return f"{_proper_name(h, 1)} {_ALLIANCE_SUFFIX[h % len(_ALLIANCE_SUFFIX)]}"
    word = _KIND_WORD.get(kind, _KIND_WORD["type"])[li]
    return f"{word} {entity_id}"


# --------------------------------------------------------------------------- spec model


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    schema: Mapping[str, Any]
    required: bool


@dataclass(frozen=True)
class _Op:
    op_id: str
    method: str
    path: str
    params: tuple[_Param, ...]
    schema: Mapping[str, Any]
    style: str  # "pages" | "cursor" | "from_id" | "plain"
    localized: bool


def _response_schema(op: Mapping[str, Any]) -> Mapping[str, Any]:
    for code in ("200", "201"):
        resp = op.get("responses", {}).get(code)
        if resp and "content" in resp:
            schema: Mapping[str, Any] = resp["content"]["application/json"]["schema"]
            return schema
    raise KeyError(f"operation {op.get('operationId')} has no JSON 200/201 response")


class _Spec:
    """The parts of the spec the generator needs, indexed once."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
        comp_params: Mapping[str, Any] = spec.get("components", {}).get("parameters", {})
        self.ops: dict[str, _Op] = {}
        self.paths: list[str] = sorted(spec.get("paths", {}))
        for path, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "delete"):
                    continue
                op_id = op["operationId"]
                if method != "get" and op_id not in _POST_LOOKUPS:
                    continue
                params = []
                for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
                    prm = comp_params[raw["$ref"].rsplit("/", 1)[-1]] if "$ref" in raw else raw
                    if prm["in"] not in ("path", "query"):
                        continue
                    params.append(
                        _Param(
                            prm["name"],
                            prm["in"],
                            self.deref(prm.get("schema", {})),
                            bool(prm.get("required")),
                        )
                    )
                names = {p.name for p in params}
                resp200 = op["responses"].get("200", {})
                headers = resp200.get("headers", {})
                if "page" in names:
                    style = "pages"
                elif op.get("x-pagination") == "cursor":
                    style = "cursor"
                elif "from_id" in names:
                    style = "from_id"
                else:
                    style = "plain"
                self.ops[op_id] = _Op(
                    op_id,
                    method,
                    path,
                    tuple(params),
                    _response_schema(op),
                    style,
                    "Content-Language" in headers,
                )

    def deref(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def key_field(self, items: Mapping[str, Any]) -> str | None:
        """The property that identifies a record of a list (an int id or a uuid), if any."""
        props: Mapping[str, Any] = items.get("properties", {})
        for field in _KEY_FIELDS:
            if field in props:
                prop = self.deref(props[field])
                if prop.get("type") == "integer" or prop.get("format") == "uuid":
                    return field
        return None


# --------------------------------------------------------------------------- generator


class _Gen:
    """Schema-driven value generator for one response (one page, one body)."""

    def __init__(
        self,
        spec: _Spec,
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
        self.li = _LANG_INDEX.get(lang, 0)
        self.lang = lang
        self.echo = echo
        self.entity = entity
        self.compat_dates = compat_dates
        self.end = int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp())
        self.today = today

    # -- scalars

    def timestamp(self, name: str) -> str:
        future = any(w in name for w in ("expire", "unanchor", "reinforced_until", "arrival"))
        offset = self.rng.randrange(1, 90 * _DAY)
        return _iso(self.end + offset if future else self.end - offset)

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
        lo, hi = _RANGES[kind]
        return rng.randint(lo, hi)

    def integer(self, schema: Mapping[str, Any], name: str) -> int:
        rng = self.rng
        kind = _int_kind(name)
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
            hi = _INT32_MAX if hi is None else min(hi, _INT32_MAX)
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
        a = self.rng.randrange(len(_ADJECTIVES))
        n = self.rng.randrange(len(_NOUNS))
        return _DESC_TEMPLATES[self.li].format(a=_ADJECTIVES[a][self.li], n=_NOUNS[n][self.li])

    def phrase(self) -> str:
        w = self.rng.randrange(len(_WORDS))
        k = self.rng.randint(1, 9)
        return f"{_WORDS[w][self.li]} {k}"

    def english(self, words: int) -> str:
        picked = [self.rng.choice(_ENGLISH_WORDS) for _ in range(words)]
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
            kind = _int_kind(owner + "_id")
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
        return _entity_name(kind, entity_id, self.lang)

    def quote(self, record: Mapping[str, Any], type_id: int) -> float:
        """A price for an order or trade of a type on its side of the region's reference price.

        Orders without ``is_buy_order`` are sell orders, as in ESI; orders and trades without a
        region are priced as in The Forge.
        """
        region = record.get("region_id")
        if not isinstance(region, int) or not _id_exists("region", region):
            region = _FORGE
        is_buy = record.get("is_buy_order", record.get("is_buy", False)) is True
        margin = _margin(self.rng.random(), 1.0, self.rng.random() < 0.5)
        return _quote(_reference_price(self.seed, region, type_id), is_buy, margin)

    def fit_to_type(self, record: dict[str, Any], type_id: int) -> None:
        """Price a record's type near its market and count it in plausible numbers.

        Stacks hold up to about 20 million ISK's worth (millions of Tritanium, a few PLEX);
        singletons hold one item.
        """
        for field in ("price", "unit_price"):
            if isinstance(record.get(field), float):
                record[field] = self.quote(record, type_id)
        most = max(1, int(20_000_000 / _reference_price(self.seed, _FORGE, type_id)))
        for field in ("quantity", "volume_total", "volume_remain"):
            value = record.get(field)
            if isinstance(value, int) and value > 0:
                record[field] = 1 if record.get("is_singleton") is True else 1 + (value - 1) % most

    def name_for(self, siblings: Mapping[str, Any]) -> str:
        """A name fitting the object it sits in (its entity id, or a localized phrase)."""
        role = siblings.get("role")
        if isinstance(role, str) and role in _ROLE_NAMES:
            return _ROLE_NAMES[role][self.li]
        for field, kind in _NAMED_BY:
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
            hint = pname if _int_kind(pname) else _ref_field(psch) or pname
            out[pname] = self.value(resolved, hint, depth + 1)
        station = out.get("station_id")
        if isinstance(station, int) and "system_id" in out and "system_id" not in self.echo:
            out["system_id"] = _station_system(station)
        type_id = out.get("type_id")
        if isinstance(type_id, int):
            self.fit_to_type(out, type_id)
        remain, total = out.get("volume_remain"), out.get("volume_total")
        if isinstance(remain, int) and isinstance(total, int) and 0 < total < remain:
            out["volume_remain"] = 1 + remain % total
        id_ref = _ref_field(props["id"]) if "id" in props else None
        context: dict[str, Any] = dict(out)
        if id_ref is not None:
            context["\0id_kind"] = _int_kind(id_ref)
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
        items = self.spec.deref(schema.get("items", {}))
        lo = int(schema.get("minItems", 0))
        hi = int(schema.get("maxItems", 1 << 30))
        if count is None:
            count = self.rng.randint(5, 40) if depth == 0 else self.rng.randint(max(lo, 1), 4)
        count = max(lo, min(count, hi))
        salt = self.rng.getrandbits(32)
        if items.get("type") == "object" and "oneOf" not in items:
            key_field = self.spec.key_field(items)
            if key_field is not None and capacity is None:
                kind = _int_kind(key_field)
                if kind is not None:
                    lo_id, hi_id = _kind_range(kind)
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
        if items.get("type") == "integer":
            kind = _int_kind(name) or _int_kind(name + "_id")
            if kind is None and name.endswith("s"):
                kind = _int_kind(name[:-1] + "_id")
            if kind is not None:
                lo_id, hi_id = _kind_range(kind)
                count = min(count, hi_id - lo_id + 1)
                cap = capacity or count
                return [_unique_int(kind, start + i, cap, salt) for i in range(count)]
        if "enum" in items and schema.get("uniqueItems"):
            return self.rng.sample(list(items["enum"]), k=min(count, len(items["enum"])))
        values = [self.value(items, name, depth) for _ in range(count)]
        if schema.get("uniqueItems"):
            seen: set[str] = set()
            unique = []
            for v in values:
                marker = json.dumps(v, sort_keys=True)
                if marker not in seen:
                    seen.add(marker)
                    unique.append(v)
            values = unique
        return values

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
            return str(uuid.UUID(int=_hash(salt, index) << 64 | _mix(salt ^ index), version=4))
        kind = _int_kind(field) or _int_kind(_ref_field(raw) or "") or "record"
        return _unique_int(kind, index, capacity or 1000, salt)


# Common id models of the spec and the field name whose kind they carry.
_REF_FIELD = {
    "CharacterID": "character_id",
    "CorporationID": "corporation_id",
    "AllianceID": "alliance_id",
    "FactionID": "faction_id",
    "TypeID": "type_id",
    "GroupID": "group_id",
    "ShipTreeGroupID": "group_id",
    "SolarSystemID": "system_id",
    "ConstellationID": "constellation_id",
    "RegionID": "region_id",
    "StationID": "station_id",
    "ItemID": "item_id",
    "PlanetID": "planet_id",
}


def _ref_field(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return _REF_FIELD.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None


def _kind_range(kind: str) -> tuple[int, int]:
    return _RANGES.get("station" if kind == "location" else kind, _RANGES["record"])


def _unique_int(kind: str, index: int, capacity: int, salt: int) -> int:
    """The index-th of `capacity` distinct ascending ids of a kind; the salt moves the offsets.

    Index i owns the slot [lo + i*step, lo + (i+1)*step), so ids never collide, whichever
    page or record asks for them. Types come from `TYPE_IDS` while it holds enough of them.
    """
    if kind == "type" and capacity <= len(TYPE_IDS):
        step = len(TYPE_IDS) // max(capacity, 1)
        return TYPE_IDS[index * step + (_mix(salt ^ index) % step if step > 1 else 0)]
    lo, hi = _kind_range(kind)
    step = max(1, (hi - lo + 1) // max(capacity, 1))
    return lo + index * step + (_mix(salt ^ index) % step if step > 1 else 0)


# --------------------------------------------------------------------------- dataset


class Dataset:
    """Synthetic ESI data for every GET operation of `spec` (see the module docstring).

    ``characters`` maps test characters' ids to the names every operation gives them; by
    default the sandbox SSO's ``DEFAULT_CHARACTERS``, so a token's character and
    ``PostUniverseNames`` agree. Assign ``dataset.characters`` to follow an SSO set up with
    other characters.
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        seed: int = 0,
        sizes: Sizes = Sizes(),
        today: dt.date | None = None,
        characters: Mapping[int, str] | None = None,
    ) -> None:
        self._spec = _Spec(spec)
        self.seed = seed
        self.sizes = sizes
        self.today = today if today is not None else dt.datetime.now(dt.UTC).date()
        self.characters: Mapping[int, str] = (
            DEFAULT_CHARACTERS if characters is None else _checked_characters(characters)
        )
        self._compat_dates = _compatibility_dates()

    # -- public API

    def page_count(self, operation_id: str, params: Mapping[str, str]) -> int:
        """Total X-Pages pages of an X-Pages operation for these params."""
        op = self._op(operation_id)
        if op.style != "pages":
            raise ValueError(f"{operation_id} is not paginated with X-Pages (it is {op.style!r})")
        if operation_id == "GetMarketsRegionIdOrders":
            return self._order_pages(params)
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
            return self._orders_page(params, page, generation)
        count = self._page_len(op, params, page, total)
        start = (page - 1) * self.sizes.page_size
        capacity = total * self.sizes.page_size
        gen = self._gen(op, params, language, generation, page)
        schema = self._spec.deref(op.schema)
        salt_rng = random.Random(self._seed(op.op_id, _params_key(params), "salt"))
        salt = salt_rng.getrandbits(32)
        items = self._spec.deref(schema["items"])
        if items.get("type") == "integer":
            kind = _int_kind(_ROOT_LIST_FIELD.get(operation_id, "record_id")) or "record"
            return [_unique_int(kind, start + i, capacity, salt) for i in range(count)]
        key_field = None if operation_id in _UNKEYED else self._spec.key_field(items)
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
        if op.style == "pages":
            raise ValueError(f"{operation_id} is paginated with X-Pages: use page()")
        if operation_id in _POST_LOOKUPS:
            return self._lookup(operation_id, request_body, language)
        if operation_id == "GetMetaCompatibilityDates":
            return {"compatibility_dates": list(self._compat_dates)}
        if operation_id == "GetMarketsRegionIdHistory":
            return self._history(params, generation)
        if operation_id == "GetMarketsPrices":
            return self._prices(generation)
        if op.style == "cursor":
            return self._cursor_body(op, params, language, generation)
        if op.style == "from_id":
            return self._from_id_body(op, params, language, generation)
        gen = self._gen(op, params, language, generation, 0)
        schema = self._spec.deref(op.schema)
        t = schema.get("type")
        if t == "array":
            items = self._spec.deref(schema["items"])
            if items.get("type") == "integer":
                field = _ROOT_LIST_FIELD.get(operation_id, "record_id")
                count = gen.rng.randint(1, 10) if field == "type_id" else gen.rng.randint(20, 300)
                return gen.array(schema, field, 0, count=count)
            return gen.array(schema, "", 0)
        if t == "object":
            record = gen.obj(schema, "", 0)
            if operation_id == "GetCharactersDetail":
                self._affiliate(record, _int_param(params, "character_id"))
            return record
        if t == "integer":
            return gen.integer(schema, _ROOT_SCALAR_FIELD.get(operation_id, ""))
        if t == "number":
            return gen.number(schema, _ROOT_SCALAR_FIELD.get(operation_id, ""))
        return gen.value(schema, "", 0)

    def cursor_list_field(self, operation_id: str) -> str:
        """Name of the list field in a cursor-paginated response (e.g. ``"objectives"``)."""
        op = self._op(operation_id)
        if op.style != "cursor":
            raise ValueError(f"{operation_id} is not cursor-paginated (it is {op.style!r})")
        schema = self._spec.deref(op.schema)
        for name, prop in schema["properties"].items():
            if self._spec.deref(prop).get("type") == "array":
                return str(name)
        raise ValueError(f"{operation_id} has no list field")

    def exists(self, operation_id: str, params: Mapping[str, str]) -> bool:
        """False when a path/query id names nothing (the server then answers 404)."""
        op = self._op(operation_id)
        for prm in op.params:
            if prm.name in _PAGING_PARAMS or prm.name not in params:
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
            kind = _int_kind(prm.name) if prm.name.endswith("_id") else None
            try:
                value = int(raw)
            except ValueError:
                return False
            if not _id_exists(kind, value):
                return False
        return True

    def example_params(self, operation_id: str) -> dict[str, Any]:
        """Valid path+query parameters (Python-typed) that give a sensible answer."""
        op = self._op(operation_id)
        out: dict[str, Any] = {}
        overrides = _EXAMPLE_OVERRIDES.get(operation_id, {})
        for prm in op.params:
            if prm.name in _PAGING_PARAMS:
                continue
            if prm.name in overrides:
                out[prm.name] = overrides[prm.name]
            elif prm.required:
                out[prm.name] = _example_value(prm)
        if operation_id in _POST_LOOKUPS:
            out["body"] = list(_EXAMPLE_BODIES[operation_id])
        return out

    # -- internals

    def _op(self, operation_id: str) -> _Op:
        try:
            return self._spec.ops[operation_id]
        except KeyError:
            raise KeyError(
                f"unknown operation {operation_id!r}: the sandbox serves the spec's GET "
                f"operations and {', '.join(sorted(_POST_LOOKUPS))}"
            ) from None

    def _seed(self, *parts: object) -> int:
        return _hash(self.seed, *parts)

    def _gen(
        self, op: _Op, params: Mapping[str, str], language: str, generation: int, page: int
    ) -> _Gen:
        if op.localized and language not in _LANG_INDEX:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
        key = _params_key(params)
        rng = random.Random(self._seed(op.op_id, key, generation, page))
        echo = self._echo(op, params)
        entity = None
        path_params = [p for p in op.params if p.location == "path"]
        if path_params and self._spec.deref(op.schema).get("type") == "object":
            last = path_params[-1].name
            if last in _PATH_ENTITY and last in echo:
                entity = (_PATH_ENTITY[last], int(echo[last]))
        return _Gen(
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

    def _echo(self, op: _Op, params: Mapping[str, str]) -> dict[str, Any]:
        echo: dict[str, Any] = {}
        for prm in op.params:
            if prm.name in _PAGING_PARAMS or prm.name not in params:
                continue
            if (op.op_id, prm.name) in _NO_ECHO:
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
            op.op_id == "GetCorporationsProjectsListing"
            and params.get("state", "Active") == "Active"
        ):
            echo["state"] = "Active"
        return echo

    def _page_len(self, op: _Op, params: Mapping[str, str], page: int, total: int) -> int:
        if page < total:
            return self.sizes.page_size
        h = self._seed(op.op_id, _params_key(params), "last")
        return 1 + h % self.sizes.page_size

    # -- market orders

    def _order_pages(self, params: Mapping[str, str]) -> int:
        if params.get("type_id") not in (None, ""):
            return 1
        region = _int_param(params, "region_id")
        return self.sizes.forge_order_pages if region == _FORGE else self.sizes.region_order_pages

    def _orders_page(self, params: Mapping[str, str], page: int, generation: int) -> list[Any]:
        region = _int_param(params, "region_id")
        ridx = region - 10000000
        type_raw = params.get("type_id")
        systems = _region_systems(region)
        hub = _HUB_STATION.get(region)
        start_s = self.end_of_today() - 90 * _DAY
        if type_raw not in (None, ""):
            type_id = int(str(type_raw))
            side = str(params.get("order_type", "all"))
            base = self._seed("orders", region, type_id)
            count = 5 + base % min(self.sizes.page_size, 200)
            count = min(count, self.sizes.page_size)
            slots = range(count)
            id_base = 6_100_000_000 + ((ridx - 1) * 90_001 + type_id) * 1000
            id_stride = 4
        else:
            type_id = 0
            side = "all"
            base = self._seed("orders", region)
            first = (page - 1) * self.sizes.page_size
            pages = self._order_pages(params)
            last_len = 1 + base % self.sizes.page_size
            n = self.sizes.page_size if page < pages else last_len
            slots = range(first, first + n)
            id_base = 6_000_000_000 + (ridx - 1) * 20_000_000
            id_stride = 64
        out: list[Any] = []
        for s in slots:
            h0 = _mix(base ^ (s * 0x9E37))
            period = 5 + h0 % 40
            version = (generation + (h0 >> 8) % period) // period
            h = _mix(h0 ^ version)
            if type_id:
                order_type = type_id
            elif h % 20 == 0:
                order_type = 34 + (h >> 5) % 7
            else:
                order_type = TYPE_IDS[(h >> 7) % len(TYPE_IDS)]
            is_buy = (h >> 12) % 2 == 0 if side == "all" else side == "buy"
            if hub is not None and (h >> 14) % 10 < 4:
                location = hub
                system = _station_system(hub)
            else:
                system = systems[(h >> 18) % len(systems)]
                if (h >> 25) % 10 == 0:
                    location = 1_000_000_000_000 + (h >> 28) % 100_000_000_000
                else:
                    location = 60000000 + (system - 30000001) * 800 + (h >> 30) % 800
            g = _mix(h ^ (generation + 1) * 0xABCDEF)
            unit = _reference_price(self.seed, region, order_type)
            jitter = 0.8 + 0.4 * (g % 1001) / 1000.0
            margin = _margin(((h >> 33) % 1000) / 1000.0, jitter, location == hub)
            volume_total = 1 + (h >> 40) % max(1, int(1_000_000 / max(unit, 1.0)) + 10)
            remain = 1 + g % volume_total
            out.append(
                {
                    "duration": (90, 90, 90, 30, 14, 7, 3)[(h >> 44) % 7],
                    "is_buy_order": is_buy,
                    "issued": _iso(start_s + (h >> 20) % (90 * _DAY)),
                    "location_id": location,
                    "min_volume": 1 if (h >> 47) % 10 else 1 + (h >> 50) % 10,
                    "order_id": id_base + s * id_stride + version % id_stride,
                    "price": _quote(unit, is_buy, margin),
                    "range": _BUY_RANGES[(h >> 52) % len(_BUY_RANGES)] if is_buy else "region",
                    "system_id": system,
                    "type_id": order_type,
                    "volume_remain": remain,
                    "volume_total": volume_total,
                }
            )
        return out

    def end_of_today(self) -> int:
        return int(
            dt.datetime(
                self.today.year, self.today.month, self.today.day, tzinfo=dt.UTC
            ).timestamp()
        )

    # -- market prices and history

    def _prices(self, generation: int) -> list[dict[str, Any]]:
        """One entry per type of the pool, within a few percent of its price in The Forge."""
        out = []
        for type_id in TYPE_IDS:
            reference = _reference_price(self.seed, _FORGE, type_id)
            h = self._seed("prices", type_id, generation)
            average = reference * (1.0 + ((h % 2001) - 1000) / 100_000)
            adjusted = reference * (1.0 + (((h >> 16) % 2001) - 1000) / 50_000)
            out.append(
                {
                    "adjusted_price": round(adjusted, 2),
                    "average_price": round(average, 2),
                    "type_id": type_id,
                }
            )
        return out

    def _history(self, params: Mapping[str, str], generation: int) -> list[dict[str, Any]]:
        """Daily rows whose last 30 days average the (region, type)'s reference price.

        The price wanders around its level (a mean-reverting walk in log space, a few percent
        a day), then the whole series is scaled onto the reference price, so the history, the
        order book and ``GetMarketsPrices`` tell the same story.
        """
        region = _int_param(params, "region_id")
        type_id = _int_param(params, "type_id")
        rng = random.Random(self._seed("history", region, type_id))
        days = self.sizes.history_days
        first = self.today - dt.timedelta(days=days)
        level = 0.0
        walk: list[tuple[float, float, int, int]] = []
        activity = 10 ** rng.uniform(1, 4)
        for _ in range(days):
            level = 0.97 * level + rng.gauss(0.0, 0.02)
            spread = abs(rng.gauss(0.0, 0.03)) + 0.005
            order_count = max(1, int(activity * rng.uniform(0.5, 1.5)))
            volume = order_count * rng.randint(1, 5000)
            walk.append((math.exp(level), spread, order_count, volume))
        recent = walk[-_RECENT_DAYS:]
        scale = (
            _reference_price(self.seed, region, type_id) * len(recent) / sum(w[0] for w in recent)
        )
        rows: list[dict[str, Any]] = []
        for i, (relative, spread, order_count, volume) in enumerate(walk):
            price = relative * scale
            rows.append(
                {
                    "average": round(price, 2),
                    "date": (first + dt.timedelta(days=i)).isoformat(),
                    "highest": round(price * (1 + spread), 2),
                    "lowest": max(0.01, round(price * (1 - spread), 2)),
                    "order_count": order_count,
                    "volume": volume,
                }
            )
        if rows and generation:
            last = rows[-1]
            g = random.Random(self._seed("history", region, type_id, generation))
            extra = g.randint(1, 50)
            last["order_count"] += extra
            last["volume"] += extra * g.randint(1, 100)
        return rows

    # -- cursor and from_id lists

    def _window(self, op: _Op, params: Mapping[str, str], n: int, generation: int) -> list[int]:
        """Absolute indexes of the records alive in a generation: a few new ones each time."""
        shift = max(1, n // 80)
        first = generation * shift
        return list(range(first, first + n))

    def _records(
        self,
        op: _Op,
        params: Mapping[str, str],
        items: Mapping[str, Any],
        indexes: list[int],
        language: str,
        capacity: int,
    ) -> list[dict[str, Any]]:
        key_field = self._spec.key_field(items)
        salt = self._seed(op.op_id, _params_key(params), "salt") & 0xFFFFFFFF
        out = []
        gen = self._gen(op, params, language, 0, 0)
        key_params = _params_key(params)
        for a in indexes:
            gen.rng.seed(self._seed(op.op_id, key_params, "record", a))
            key = None
            if key_field is not None:
                key = (key_field, gen.unique_id(key_field, items, a, capacity, salt))
            out.append(gen.obj(items, "", 1, key=key))
        return out

    def _times(self, count: int, generation: int, op: _Op) -> list[str]:
        """Ascending timestamps over the last 90 days, the newest shortly before today ends."""
        rng = random.Random(self._seed(op.op_id, "times", generation))
        end = self.end_of_today() - 60
        spacing = max(2, 90 * _DAY // max(count, 1))
        return [
            _iso(end - (count - 1 - k) * spacing - rng.randrange(spacing // 2))
            for k in range(count)
        ]

    def _cursor_body(
        self, op: _Op, params: Mapping[str, str], language: str, generation: int
    ) -> dict[str, Any]:
        field = self.cursor_list_field(op.op_id)
        schema = self._spec.deref(op.schema)
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
        self, op: _Op, params: Mapping[str, str], language: str, generation: int
    ) -> list[dict[str, Any]]:
        schema = self._spec.deref(op.schema)
        items = self._spec.deref(schema["items"])
        n = self.sizes.wallet_transactions
        indexes = self._window(op, params, n, generation)
        records = self._records(op, params, items, indexes, language, n * 64)
        for record, stamp in zip(records, self._times(n, generation, op), strict=True):
            record["date"] = stamp
        records.reverse()
        return records

    # -- POST look-ups

    def _lookup(self, operation_id: str, request_body: Any, language: str) -> Any:
        if not isinstance(request_body, list) or not request_body:
            raise ValueError(f"{operation_id} needs a non-empty JSON array as request body")
        if operation_id == "PostUniverseIds":
            return self._ids_for_names(request_body, language)
        ids = []
        for raw in request_body:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError(f"{operation_id} takes a list of integer ids, got {raw!r}")
            if raw not in ids:
                ids.append(raw)
        if operation_id == "PostUniverseNames":
            out = []
            for entity_id in ids:
                category = _category_of(entity_id)
                if category is not None:
                    kind = _CATEGORY_KIND[category]
                    name = self.characters.get(entity_id) if kind == "character" else None
                    name = name or _entity_name(kind, entity_id, "en")
                    out.append({"category": category, "id": entity_id, "name": name})
            return out
        return [self._affiliation(c) for c in ids if _id_exists("character", c)]

    def _affiliation(self, character_id: int) -> dict[str, Any]:
        """A character's corporation, alliance and faction, the same in every operation."""
        h = self._seed("affiliation", character_id)
        row: dict[str, Any] = {
            "character_id": character_id,
            "corporation_id": 98000000 + h % 1_000_000,
        }
        if (h >> 20) % 3:
            row["alliance_id"] = 99000000 + (h >> 24) % 1_000_000
        if (h >> 44) % 10 == 0:
            row["faction_id"] = 500001 + (h >> 48) % 4
        return row

    def _affiliate(self, detail: dict[str, Any], character_id: int) -> None:
        """Make a character's details name the affiliation PostCharactersAffiliation gives."""
        affiliation = self._affiliation(character_id)
        for field in ("corporation_id", "alliance_id", "faction_id"):
            if field in affiliation:
                detail[field] = affiliation[field]
            else:
                detail.pop(field, None)

    def _ids_for_names(self, names: list[Any], language: str) -> dict[str, Any]:
        li = _LANG_INDEX.get(language, 0)
        reverse: dict[str, tuple[str, int]] = {}
        for (kind, entity_id), translations in _KNOWN.items():
            reverse.setdefault(translations[li].casefold(), (kind, entity_id))
            reverse.setdefault(translations[0].casefold(), (kind, entity_id))
        for station_id, (name, _system) in _KNOWN_STATIONS.items():
            reverse.setdefault(name.casefold(), ("station", station_id))
        for character_id, name in self.characters.items():
            reverse.setdefault(name.casefold(), ("character", character_id))
        out: dict[str, list[dict[str, Any]]] = {}
        for raw in names:
            if not isinstance(raw, str) or not raw:
                raise ValueError(f"PostUniverseIds takes a list of non-empty names, got {raw!r}")
            hit = reverse.get(raw.casefold()) or _parse_generated_name(raw)
            if hit is None:
                hit = ("character", 90000000 + self._seed("name", raw.casefold()) % 8_000_000)
            kind, entity_id = hit
            key = _IDS_KEY.get(kind, "characters")
            entry = {"id": entity_id, "name": raw}
            if entry not in out.setdefault(key, []):
                out[key].append(entry)
        return out


# --------------------------------------------------------------------------- helpers

_BUY_RANGES = ("station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40")

_CATEGORY_KIND = {
    "alliance": "alliance",
    "character": "character",
    "constellation": "constellation",
    "corporation": "corporation",
    "inventory_type": "type",
    "region": "region",
    "solar_system": "system",
    "station": "station",
    "faction": "faction",
}
_IDS_KEY = {
    "alliance": "alliances",
    "character": "characters",
    "constellation": "constellations",
    "corporation": "corporations",
    "npc_corporation": "corporations",
    "type": "inventory_types",
    "region": "regions",
    "system": "systems",
    "station": "stations",
    "faction": "factions",
}


def _category_of(entity_id: int) -> str | None:
    for category, kind in (
        ("inventory_type", "type"),
        ("faction", "faction"),
        ("corporation", "npc_corporation"),
        ("region", "region"),
        ("constellation", "constellation"),
        ("solar_system", "system"),
        ("station", "station"),
        ("character", "character"),
        ("corporation", "corporation"),
        ("alliance", "alliance"),
    ):
        if _id_exists(kind, entity_id):
            return category
    return None


def _parse_generated_name(name: str) -> tuple[str, int] | None:
    """Map "<kind word> <id>" (any language) back to its entity, or proper names to characters."""
    head, _, tail = name.rpartition(" ")
    if not tail.isdigit():
        return None
    for kind, words in _KIND_WORD.items():
        if head in words or head in (w.removesuffix(" n°") for w in words):
            return kind, int(tail)
    return None


def _id_exists(kind: str | None, value: int) -> bool:
    if kind is None:
        return value > 0
    if kind == "character":
        return 90000000 <= value <= 98000000 or 2112000000 <= value <= 2129999999
    if kind == "corporation":
        return 98000000 <= value <= 99000000 or 1000002 <= value <= 1000300
    if kind == "location":
        return _id_exists("station", value) or _id_exists("structure", value)
    if kind == "type" and value < 100:
        return ("type", value) in _KNOWN
    lo, hi = _RANGES.get(kind, (1, _INT64_MAX))
    return lo <= value <= hi


def _checked_characters(characters: Mapping[int, str]) -> Mapping[int, str]:
    if not isinstance(characters, Mapping) or not all(
        isinstance(cid, int)
        and not isinstance(cid, bool)
        and _id_exists("character", cid)
        and isinstance(name, str)
        and name
        for cid, name in characters.items()
    ):
        raise ValueError(
            "characters must map character ids (90000000-98000000 or 2112000000-2129999999) "
            f"to non-empty names, got {characters!r}"
        )
    return characters


def _int_param(params: Mapping[str, str], name: str) -> int:
    try:
        return int(str(params[name]))
    except KeyError:
        raise ValueError(f"missing parameter {name!r}") from None
    except ValueError:
        raise ValueError(f"parameter {name!r} must be an integer, got {params[name]!r}") from None


@lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _iso(timestamp: int) -> str:
    """RFC 3339 UTC timestamp with Z (hot in the order pages, hence no datetime)."""
    day, rest = divmod(timestamp, _DAY)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{_day(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}Z"


_KNOWN_PRICES = {
    34: 4.5,
    35: 9.0,
    36: 45.0,
    37: 60.0,
    38: 750.0,
    39: 1100.0,
    40: 2300.0,
    587: 350_000.0,
    670: 10_000.0,
    44992: 4_800_000.0,
}


@lru_cache(maxsize=8192)
def _type_price(type_id: int) -> float:
    """A stable base price per type: known items at their usual level, others log-spread."""
    known = _KNOWN_PRICES.get(type_id)
    if known is not None:
        return known
    h = _mix(type_id * 7919)
    return 10 ** (0.5 + 7.0 * (h % 1_000_000) / 1_000_000)


@lru_cache(maxsize=65536)
def _reference_price(seed: int, region_id: int, type_id: int) -> float:
    """The price a type trades around in a region: its base price with a regional premium.

    The Forge sits within 2% of the base price, other regions from 1% below to 8% above it,
    as goods flow out of Jita. Market history is scaled so its recent average is this price.
    """
    u = _hash(seed, "reference", region_id, type_id) % 10_000 / 10_000
    factor = 0.98 + 0.04 * u if region_id == _FORGE else 0.99 + 0.09 * u
    return max(1.0, _type_price(type_id) * factor)


def _quote(reference: float, is_buy: bool, margin: float) -> float:
    """A price `margin` (a fraction, > 0) below the reference for a buy, above it for a sell.

    Buys round down and sells round up to the cent, so every buy stays strictly below every
    sell of the same (region, type) whatever the margins.
    """
    if is_buy:
        return max(0.01, math.floor(reference * (1.0 - margin) * 100.0) / 100.0)
    return math.ceil(reference * (1.0 + margin) * 100.0) / 100.0


def _margin(u: float, jitter: float, at_hub: bool) -> float:
    """How far an order sits from the reference: u in [0, 1) places it, jitter ~1 moves it.

    At the hub most orders crowd the reference (0.5% to at most 10%), so its best quotes lie
    within a few percent; elsewhere they start 2% out and spread to at most 38%.
    """
    if at_hub:
        return 0.005 + 0.08 * u**3 * jitter
    return 0.02 + 0.30 * u**2 * jitter


@lru_cache(maxsize=1)
def _compatibility_dates_cached() -> tuple[str, ...]:
    text = resources.files("esiframe").joinpath("data/compatibility-dates.json").read_text("utf-8")
    return tuple(json.loads(text)["compatibility_dates"])


def _compatibility_dates() -> list[str]:
    return list(_compatibility_dates_cached())


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
}

# Localized look-ups use ids without a well-known name so every language reads differently.
_EXAMPLE_OVERRIDES: dict[str, dict[str, Any]] = {
    "GetUniverseSystemsSystemId": {"system_id": 30000005},
    "GetUniverseConstellationsConstellationId": {"constellation_id": 20000005},
    "GetUniverseRegionsRegionId": {"region_id": 10000002},
}

_EXAMPLE_BODIES: dict[str, tuple[Any, ...]] = {
    "PostUniverseNames": (34, 30000142, 60003760, 10000002, 90000001),
    "PostUniverseIds": ("Tritanium", "Jita", "The Forge"),
    "PostCharactersAffiliation": (90000001, 95465499),
}


def _example_value(prm: _Param) -> Any:
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
        return [_example_value(_Param(prm.name, prm.location, schema.get("items", {}), True))]
    return "example"
