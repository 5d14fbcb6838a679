"""The sandbox's markets: order books, market history and prices that tell one story.

Each (region, type) trades around a reference price (`reference_price`), the recent average
of its market history: buy orders sit below it and sell orders above, so no order book is ever
crossed, with tight quotes at the region's trade hub and wider ones elsewhere;
``GetMarketsPrices`` prices every type of the pool within a few percent of The Forge.
A new ``generation`` (ESI refreshed its cache) moves some orders and adds to today's history.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from esiframe.sandbox.vocabulary import (
    DAY,
    FORGE,
    HUB_STATION,
    TYPE_IDS,
    Sizes,
    int_param,
    iso_time,
    mix64,
    region_systems,
    stable_hash,
    station_system,
)

__all__ = ["Markets", "margin_of", "quote_price", "reference_price"]

_RECENT_DAYS = 30
_BUY_RANGES = ("station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40")
_ORDER_DURATIONS = (90, 90, 90, 30, 14, 7, 3)


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
def type_price(type_id: int) -> float:
    """A stable base price per type: known items at their usual level, others log-spread."""
    known = _KNOWN_PRICES.get(type_id)
    if known is not None:
        return known
    h = mix64(type_id * 7919)
    return 10 ** (0.5 + 7.0 * (h % 1_000_000) / 1_000_000)


@lru_cache(maxsize=65536)
def reference_price(seed: int, region_id: int, type_id: int) -> float:
    """The price a type trades around in a region: its base price with a regional premium.

    The Forge sits within 2% of the base price, other regions from 1% below to 8% above it,
    as goods flow out of Jita. Market history is scaled so its recent average is this price.
    """
    u = stable_hash(seed, "reference", region_id, type_id) % 10_000 / 10_000
    factor = 0.98 + 0.04 * u if region_id == FORGE else 0.99 + 0.09 * u
    return max(1.0, type_price(type_id) * factor)


def quote_price(reference: float, is_buy: bool, margin: float) -> float:
    """A price `margin` (a fraction, > 0) below the reference for a buy, above it for a sell.

    Buys round down and sells round up to the cent, so every buy stays strictly below every
    sell of the same (region, type) whatever the margins.
    """
    if is_buy:
        return max(0.01, math.floor(reference * (1.0 - margin) * 100.0) / 100.0)
    return math.ceil(reference * (1.0 + margin) * 100.0) / 100.0


def margin_of(u: float, jitter: float, at_hub: bool) -> float:
    """How far an order sits from the reference: u in [0, 1) places it, jitter ~1 moves it.

    At the hub most orders crowd the reference (0.5% to at most 10%), so its best quotes lie
    within a few percent; elsewhere they start 2% out and spread to at most 38%.
    """
    if at_hub:
        return 0.005 + 0.08 * u**3 * jitter
    return 0.02 + 0.30 * u**2 * jitter


@dataclass(frozen=True)
class _Book:
    """Where one page of orders comes from: its slots, id scheme, side and market."""

    region: int
    type_id: int  # 0: every type of the pool
    side: str
    base: int
    slots: range
    id_base: int
    id_stride: int


class Markets:
    """Orders, history and prices for a seed, sizes and day; pure and deterministic."""

    def __init__(self, seed: int, sizes: Sizes, today: dt.date) -> None:
        self.seed = seed
        self.sizes = sizes
        self.today = today
        self.end_of_today = int(
            dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp()
        )

    def order_pages(self, params: Mapping[str, str]) -> int:
        """X-Pages of GetMarketsRegionIdOrders: one page for a type, many for a whole region."""
        if params.get("type_id") not in (None, ""):
            return 1
        region = int_param(params, "region_id")
        return self.sizes.forge_order_pages if region == FORGE else self.sizes.region_order_pages

    def orders_page(self, params: Mapping[str, str], page: int, generation: int) -> list[Any]:
        """One page of a region's order book (or all of one type's orders)."""
        book = self._book(params, page)
        return [self._order(book, slot, generation) for slot in book.slots]

    def _book(self, params: Mapping[str, str], page: int) -> _Book:
        region = int_param(params, "region_id")
        ridx = region - 10000000
        type_raw = params.get("type_id")
        if type_raw not in (None, ""):
            type_id = int(str(type_raw))
            base = stable_hash(self.seed, "orders", region, type_id)
            count = min(5 + base % min(self.sizes.page_size, 200), self.sizes.page_size)
            id_base = 6_100_000_000 + ((ridx - 1) * 90_001 + type_id) * 1000
            side = str(params.get("order_type", "all"))
            return _Book(region, type_id, side, base, range(count), id_base, 4)
        base = stable_hash(self.seed, "orders", region)
        first = (page - 1) * self.sizes.page_size
        last_len = 1 + base % self.sizes.page_size
        n = self.sizes.page_size if page < self.order_pages(params) else last_len
        id_base = 6_000_000_000 + (ridx - 1) * 20_000_000
        return _Book(region, 0, "all", base, range(first, first + n), id_base, 64)

    def _order(self, book: _Book, slot: int, generation: int) -> dict[str, Any]:
        """One order; it changes (new id, price, volume) every few generations."""
        h0 = mix64(book.base ^ (slot * 0x9E37))
        period = 5 + h0 % 40
        version = (generation + (h0 >> 8) % period) // period
        h = mix64(h0 ^ version)
        order_type = book.type_id or (34 + (h >> 5) % 7 if h % 20 == 0 else None)
        if order_type is None:
            order_type = TYPE_IDS[(h >> 7) % len(TYPE_IDS)]
        is_buy = (h >> 12) % 2 == 0 if book.side == "all" else book.side == "buy"
        system, location = self._place(book.region, h)
        g = mix64(h ^ (generation + 1) * 0xABCDEF)
        unit = reference_price(self.seed, book.region, order_type)
        jitter = 0.8 + 0.4 * (g % 1001) / 1000.0
        margin = margin_of(
            ((h >> 33) % 1000) / 1000.0, jitter, location == HUB_STATION.get(book.region)
        )
        volume_total = 1 + (h >> 40) % max(1, int(1_000_000 / max(unit, 1.0)) + 10)
        return {
            "duration": _ORDER_DURATIONS[(h >> 44) % len(_ORDER_DURATIONS)],
            "is_buy_order": is_buy,
            "issued": iso_time(self.end_of_today - 90 * DAY + (h >> 20) % (90 * DAY)),
            "location_id": location,
            "min_volume": 1 if (h >> 47) % 10 else 1 + (h >> 50) % 10,
            "order_id": book.id_base + slot * book.id_stride + version % book.id_stride,
            "price": quote_price(unit, is_buy, margin),
            "range": _BUY_RANGES[(h >> 52) % len(_BUY_RANGES)] if is_buy else "region",
            "system_id": system,
            "type_id": order_type,
            "volume_remain": 1 + g % volume_total,
            "volume_total": volume_total,
        }

    @staticmethod
    def _place(region: int, h: int) -> tuple[int, int]:
        """(system, location) of an order: often the region's hub, else a station or structure."""
        hub = HUB_STATION.get(region)
        if hub is not None and (h >> 14) % 10 < 4:
            return station_system(hub), hub
        systems = region_systems(region)
        system = systems[(h >> 18) % len(systems)]
        if (h >> 25) % 10 == 0:
            return system, 1_000_000_000_000 + (h >> 28) % 100_000_000_000
        return system, 60000000 + (system - 30000001) * 800 + (h >> 30) % 800

    def prices(self, generation: int) -> list[dict[str, Any]]:
        """One entry per type of the pool, within a few percent of its price in The Forge."""
        out = []
        for type_id in TYPE_IDS:
            reference = reference_price(self.seed, FORGE, type_id)
            h = stable_hash(self.seed, "prices", type_id, generation)
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

    def history(self, params: Mapping[str, str], generation: int) -> list[dict[str, Any]]:
        """Daily rows whose last 30 days average the (region, type)'s reference price.

        The price wanders around its level (a mean-reverting walk in log space, a few percent
        a day), then the whole series is scaled onto the reference price, so the history, the
        order book and ``GetMarketsPrices`` tell the same story.
        """
        region = int_param(params, "region_id")
        type_id = int_param(params, "type_id")
        rng = random.Random(stable_hash(self.seed, "history", region, type_id))
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
            reference_price(self.seed, region, type_id) * len(recent) / sum(w[0] for w in recent)
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
            g = random.Random(stable_hash(self.seed, "history", region, type_id, generation))
            extra = g.randint(1, 50)
            last["order_count"] += extra
            last["volume"] += extra * g.randint(1, 100)
        return rows
