"""The sandbox universe's vocabulary: id ranges, known entities, names, words and sizes.

Everything here is a table or a pure function of an id: which ids exist and what they are
(`id_exists`, `category_of`), what an entity is called in each language (`entity_name`),
which field names hold which kind of id (`int_kind`), the item pool (`TYPE_IDS`) and how much
data the sandbox pretends ESI holds (`Sizes`).

Ids that name nothing, on purpose, so that tests can send invalid ids: `category_of` (the
names and affiliation look-ups) knows no entity with an id below 100 other than the minerals
34-40 (Tritanium ... Megacyte), e.g. ``INVALID_IDS = (1, 42)``, nor 0 or negative ids, so
`PostUniverseNames` answers 404 for a batch holding any of them. The GET routes stay lenient:
markets and ``/universe/types/{type_id}`` answer for any type id from 1 to 90000.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from esiframe.sandbox.routes import PAGING_PARAMS

__all__ = [
    "INVALID_IDS",
    "LANGUAGES",
    "TYPE_IDS",
    "Sizes",
    "category_of",
    "entity_name",
    "id_exists",
    "int_kind",
]

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")
"""Languages ESI translates into (``Accept-Language``), in spec order."""

INVALID_IDS: tuple[int, ...] = (1, 42)
"""Examples of ids that name nothing in the sandbox (see the module doc)."""

FORGE = 10000002
M64 = (1 << 64) - 1
INT32_MAX = (1 << 31) - 1
INT64_MAX = (1 << 63) - 1
DAY = 86400


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


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def stable_hash(*parts: object) -> int:
    """Stable 64-bit hash of the parts' reprs (blake2b, independent of PYTHONHASHSEED)."""
    text = "\x1f".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def params_key(params: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in params.items() if k not in PAGING_PARAMS))


# --------------------------------------------------------------------------- id kinds

# Inclusive ranges of plausible ids per kind.
RANGES: dict[str, tuple[int, int]] = {
    "region": (10000001, 10000070),
    "constellation": (20000001, 20001200),
    "system": (30000001, 30005000),
    "station": (60000000, 64000000),
    "structure": (1_000_000_000_000, 1_099_999_999_999),
    "item": (1_000_000_000_000, 1_099_999_999_999),
    "type": (1, 90000),
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

NAME_KIND: dict[str, str] = {
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


def int_kind(name: str) -> str | None:
    """The id kind a field of this name holds, if any."""
    kind = NAME_KIND.get(name)
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
KEY_FIELDS = (
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
ROOT_LIST_FIELD: dict[str, str] = {
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

ROOT_SCALAR_FIELD: dict[str, str] = {
    "GetCharactersCharacterIdWallet": "balance",
    "GetCorporationsCorporationIdMembersLimit": "member_limit",
}

# Lists whose records repeat their would-be key: a mining ledger has a row per day, system and
# type, so its types come from the item pool like everyone else's.
UNKEYED = frozenset({"GetCharactersCharacterIdMining"})

# Params echoed into body fields of the same name, except where the field means someone else.
NO_ECHO = frozenset({("GetCharactersCharacterIdCalendarEventIdAttendees", "character_id")})

# Kinds whose id decides what a `name` field next to it names, by priority.
NAMED_BY = (
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
PATH_ENTITY: dict[str, str] = {
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

LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}

# Known entities: (en, de, fr, ja, ru, zh, ko, es).
KNOWN: dict[tuple[str, int], tuple[str, ...]] = {
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

KNOWN_STATIONS: dict[int, tuple[str, int]] = {
    60003760: ("Jita IV - Moon 4 - Caldari Navy Assembly Plant", 30000142),
    60008494: ("Amarr VIII (Oris) - Emperor Family Academy", 30002187),
    60011866: ("Dodixie IX - Moon 20 - Federation Navy Assembly Plant", 30002659),
    60004588: ("Rens VI - Moon 8 - Brutor Tribe Treasury", 30002510),
    60005686: ("Hek VIII - Moon 12 - Boundless Creation Factory", 30002053),
}
HUB_STATION = {
    10000002: 60003760,
    10000043: 60008494,
    10000032: 60011866,
    10000030: 60004588,
    10000042: 60005686,
}


def _type_pool(generated: int) -> tuple[int, ...]:
    """The named types plus `generated` more ids, the same on every run and machine."""
    named = {entity_id for kind, entity_id in KNOWN if kind == "type"}
    pool = set(named)
    i = 0
    while len(pool) < len(named) + generated:
        pool.add(1000 + mix64(0x1DE5 + i) % 88000)
        i += 1
    return tuple(sorted(pool))


TYPE_IDS: tuple[int, ...] = _type_pool(300)
"""The sandbox's item universe, ascending: the minerals 34-40, the Rifter 587, the Capsule 670,
PLEX 44992 and 300 more. Assets, blueprints, industry jobs, contract items, killmail items,
character orders and unfiltered market orders draw their types from it, and
``GetMarketsPrices`` prices every one of them."""

# Words naming a kind in each language, used as "<word> <id>" for unknown entities.
KIND_WORD: dict[str, tuple[str, ...]] = {
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
WORDS: tuple[tuple[str, ...], ...] = (
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

ROLE_NAMES: dict[str, tuple[str, ...]] = {
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

DESC_TEMPLATES: tuple[str, ...] = (
    "A {a} {n} from the depths of New Eden.",
    "{n}, {a} und begehrt, aus den Tiefen von New Eden.",
    "Un {n} {a} venu des profondeurs de New Eden.",
    "ニューエデンの深淵から来た{a}{n}。",
    "{a} {n} из глубин Нового Эдема.",
    "来自新伊甸深处的{a}{n}。",
    "뉴에덴 깊은 곳에서 온 {a} {n}.",
    "Un {n} {a} de las profundidades de New Eden.",
)
ADJECTIVES: tuple[tuple[str, ...], ...] = (
    ("ancient", "uralt", "ancien", "古代の", "Древний", "古老的", "고대의", "antiguo"),
    ("rare", "selten", "rare", "希少な", "Редкий", "稀有的", "희귀한", "raro"),
    ("sturdy", "robust", "robuste", "頑丈な", "Прочный", "坚固的", "튼튼한", "robusto"),
    ("volatile", "flüchtig", "volatil", "不安定な", "Летучий", "易挥发的", "불안정한", "volátil"),
    ("polished", "poliert", "poli", "磨かれた", "Полированный", "抛光的", "광택 나는", "pulido"),
    ("common", "gewöhnlich", "commun", "ありふれた", "Обычный", "常见的", "흔한", "común"),
)
NOUNS: tuple[tuple[str, ...], ...] = (
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
ENGLISH_WORDS = (
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


def proper_name(seed: int, parts: int) -> str:
    """A readable made-up name ("Kareno Velsor"), stable for the seed."""
    words = []
    h = seed
    for _ in range(parts):
        h = mix64(h)
        n = 2 + h % 2
        word = "".join(_SYLLABLES[(h >> (8 * i + 4)) % len(_SYLLABLES)] for i in range(n))
        words.append(word.capitalize())
    return " ".join(words)


def station_system(station_id: int) -> int:
    known = KNOWN_STATIONS.get(station_id)
    if known is not None:
        return known[1]
    return 30000001 + (station_id - 60000000) // 800 % 5000


def region_systems(region_id: int) -> range:
    """The solar systems of a region (71 per region; Jita lands in The Forge)."""
    start = 30000001 + (region_id - 10000001) * 71
    return range(start, start + 71)


def entity_name(kind: str, entity_id: int, lang: str = "en") -> str:
    """Readable name of an entity in a language; stable for the id."""
    li = LANG_INDEX.get(lang, 0)
    known = KNOWN.get((kind, entity_id))
    if known is not None:
        return known[li]
    if kind == "station" or (kind == "location" and entity_id < 1_000_000_000_000):
        if entity_id in KNOWN_STATIONS:
            return KNOWN_STATIONS[entity_id][0]
        h = mix64(entity_id)
        system = entity_name("system", station_system(entity_id), "en")
        return (
            f"{system} {_ROMAN[h % 10]} - Moon {1 + (h >> 8) % 20} - "
            f"{proper_name(h, 1)} {_FACILITIES[(h >> 16) % len(_FACILITIES)]}"
        )
    if kind in ("structure", "location", "item"):
        h = mix64(entity_id)
        system = entity_name("system", 30000001 + h % 5000, "en")
        return f"{system} - {proper_name(h >> 13, 2)}"
    if kind == "character":
        return proper_name(entity_id, 2)
    if kind in ("corporation", "npc_corporation"):
        h = mix64(entity_id)
        return f"{proper_name(h, 1)} {_CORP_SUFFIX[h % len(_CORP_SUFFIX)]}"
    if kind == "alliance":
        h = mix64(entity_id)
        return f"{proper_name(h, 1)} {_ALLIANCE_SUFFIX[h % len(_ALLIANCE_SUFFIX)]}"
    word = KIND_WORD.get(kind, KIND_WORD["type"])[li]
    return f"{word} {entity_id}"


# Common id models of the spec and the field name whose kind they carry.
REF_FIELD = {
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


def ref_field(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return REF_FIELD.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None


def kind_range(kind: str) -> tuple[int, int]:
    return RANGES.get("station" if kind == "location" else kind, RANGES["record"])


CATEGORY_KIND = {
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
IDS_KEY = {
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


def category_of(entity_id: int) -> str | None:
    """The category PostUniverseNames gives an id; None for an id that names nothing."""
    if entity_id < 34 or 41 <= entity_id < 100:  # nameless on purpose: see the module doc
        return None
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
        if id_exists(kind, entity_id):
            return category
    return None


def parse_generated_name(name: str) -> tuple[str, int] | None:
    """Map "<kind word> <id>" (any language) back to its entity, or proper names to characters."""
    head, _, tail = name.rpartition(" ")
    if not tail.isdigit():
        return None
    for kind, words in KIND_WORD.items():
        if head in words or head in (w.removesuffix(" n°") for w in words):
            return kind, int(tail)
    return None


def id_exists(kind: str | None, value: int) -> bool:
    if kind is None:
        return value > 0
    if kind == "character":
        return 90000000 <= value <= 98000000 or 2112000000 <= value <= 2129999999
    if kind == "corporation":
        return 98000000 <= value <= 99000000 or 1000002 <= value <= 1000300
    if kind == "location":
        return id_exists("station", value) or id_exists("structure", value)
    lo, hi = RANGES.get(kind, (1, INT64_MAX))
    return lo <= value <= hi


def int_param(params: Mapping[str, str], name: str) -> int:
    try:
        return int(str(params[name]))
    except KeyError:
        raise ValueError(f"missing parameter {name!r}") from None
    except ValueError:
        raise ValueError(f"parameter {name!r} must be an integer, got {params[name]!r}") from None


@lru_cache(maxsize=4096)
def day_text(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def iso_time(timestamp: int) -> str:
    """RFC 3339 UTC timestamp with Z (hot in the order pages, hence no datetime)."""
    day, rest = divmod(timestamp, DAY)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{day_text(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}Z"
