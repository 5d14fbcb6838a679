"""Answers to ESI's read-only POSTs: names, ids, affiliations, asset names, routes, CSPA.

Like ESI, the look-ups by id refuse the whole batch when one id is invalid: `PostUniverseNames`
and `PostCharactersAffiliation` answer 404 ``{"error": "Ensure all IDs are valid before
resolving."}`` (see `vocabulary` for the ids the sandbox has on purpose that name nothing).
Everything is a pure function of the seed, the characters and the request.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any

from esiframe.sandbox.vocabulary import (
    CATEGORY_KIND,
    IDS_KEY,
    KNOWN,
    KNOWN_STATIONS,
    LANG_INDEX,
    category_of,
    entity_name,
    id_exists,
    int_param,
    mix64,
    parse_generated_name,
    stable_hash,
)

__all__ = ["INVALID_IDS_MESSAGE", "Lookups", "NotFound", "system_security"]

INVALID_IDS_MESSAGE = "Ensure all IDs are valid before resolving."
NO_ROUTE_MESSAGE = "No route found"
_HIGH_SEC = 0.45
_FIRST_SYSTEM = 30000001
_REGION_SYSTEMS = 71
_REGIONS = 70
_REGION_LINKS = ((0, 35), (20, 50))  # (system here, system in the next region)
_KNOWN_SECURITY = {30000142: 0.95, 30002187: 0.91, 30002659: 0.9, 30002510: 0.96, 30002053: 0.9}


class NotFound(Exception):
    """The request names something that does not exist: the server answers 404 with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Lookups:
    """The read-only POSTs for a seed and a set of test characters."""

    def __init__(self, seed: int, characters: Mapping[int, str]) -> None:
        self.seed = seed
        self.characters = characters

    def answer(self, operation_id: str, params: Mapping[str, str], body: Any, language: str) -> Any:
        """The 200 (or 201) body of a read-only POST; raises NotFound for a 404."""
        if operation_id == "PostUniverseNames":
            return self.names(body)
        if operation_id == "PostUniverseIds":
            return self.ids_for_names(body, language)
        if operation_id == "PostCharactersAffiliation":
            return self.affiliations(body)
        if operation_id == "PostRoute":
            return self.route(params, body)
        if operation_id == "PostCharactersCharacterIdCspa":
            return self.cspa(int_param(params, "character_id"), body)
        strict = operation_id.startswith("PostCorporations")
        if operation_id.endswith("AssetsNames"):
            return [{"item_id": i, "name": entity_name("item", i)} for i in _items(body, strict)]
        if operation_id.endswith("AssetsLocations"):
            return [{"item_id": i, "position": self._position(i)} for i in _items(body, strict)]
        raise KeyError(f"{operation_id} is not a read-only POST the sandbox answers")

    # -- names, ids and affiliations

    def names(self, ids: list[int]) -> list[dict[str, Any]]:
        """Category, id and name of each id; one invalid id refuses them all (404)."""
        out = []
        for entity_id in ids:
            category = category_of(entity_id)
            if category is None:
                raise NotFound(INVALID_IDS_MESSAGE)
            kind = CATEGORY_KIND[category]
            name = self.characters.get(entity_id) if kind == "character" else None
            name = name or entity_name(kind, entity_id, "en")
            out.append({"category": category, "id": entity_id, "name": name})
        return out

    def affiliations(self, ids: list[int]) -> list[dict[str, Any]]:
        """Each character's corporation, alliance and faction; one non-character refuses all."""
        if not all(id_exists("character", character_id) for character_id in ids):
            raise NotFound(INVALID_IDS_MESSAGE)
        return [self.affiliation(character_id) for character_id in ids]

    def affiliation(self, character_id: int) -> dict[str, Any]:
        """A character's corporation, alliance and faction, the same in every operation."""
        h = stable_hash(self.seed, "affiliation", character_id)
        row: dict[str, Any] = {
            "character_id": character_id,
            "corporation_id": 98000000 + h % 1_000_000,
        }
        if (h >> 20) % 3:
            row["alliance_id"] = 99000000 + (h >> 24) % 1_000_000
        if (h >> 44) % 10 == 0:
            row["faction_id"] = 500001 + (h >> 48) % 4
        return row

    def ids_for_names(self, names: list[str], language: str) -> dict[str, Any]:
        """Exact-name matches by category; unknown names read as characters, as before."""
        reverse = self._reverse(language)
        out: dict[str, list[dict[str, Any]]] = {}
        for raw in names:
            hit = reverse.get(raw.casefold()) or parse_generated_name(raw)
            if hit is None:
                hit = (
                    "character",
                    90000000 + stable_hash(self.seed, "name", raw.casefold()) % 8_000_000,
                )
            kind, entity_id = hit
            entry = {"id": entity_id, "name": raw}
            bucket = out.setdefault(IDS_KEY.get(kind, "characters"), [])
            if entry not in bucket:
                bucket.append(entry)
        return out

    def _reverse(self, language: str) -> dict[str, tuple[str, int]]:
        li = LANG_INDEX.get(language, 0)
        reverse: dict[str, tuple[str, int]] = {}
        for (kind, entity_id), translations in KNOWN.items():
            reverse.setdefault(translations[li].casefold(), (kind, entity_id))
            reverse.setdefault(translations[0].casefold(), (kind, entity_id))
        for station_id, (name, _system) in KNOWN_STATIONS.items():
            reverse.setdefault(name.casefold(), ("station", station_id))
        for character_id, name in self.characters.items():
            reverse.setdefault(name.casefold(), ("character", character_id))
        return reverse

    # -- CSPA and asset positions

    def cspa(self, source: int, targets: list[int]) -> float:
        """The CSPA charge of mailing ``targets``: most characters charge nothing."""
        total = 0
        for target in targets:
            h = stable_hash(self.seed, "cspa", target)
            if target not in self.characters and h % 5 == 0:
                total += 1_000_000 * (1 + h % 50)
        return float(total)

    def _position(self, item_id: int) -> dict[str, float]:
        """Items in hangars sit at (0, 0, 0), as ESI says; ships in space somewhere."""
        h = mix64(stable_hash(self.seed, "position", item_id))
        if h % 2 == 0:
            return {"x": 0.0, "y": 0.0, "z": 0.0}
        return {
            axis: float((h >> (16 * i)) % 2_000_000_000 - 1_000_000_000)
            for i, axis in enumerate("xyz")
        }

    # -- routes

    def route(self, params: Mapping[str, str], body: Mapping[str, Any] | None) -> dict[str, Any]:
        """The route between two systems, by ``preference``, around ``avoid_systems``.

        The sandbox's map: each region's 71 systems form a ring with a chord from every fifth
        system, and neighbouring regions are joined twice; ``connections`` add one-way jumps.
        ``Safer`` makes each jump into low or null security cost ``1 + security_penalty / 10``
        jumps, ``LessSecure`` the same for high security; no route answers 404.
        """
        origin = int_param(params, "origin_system_id")
        destination = int_param(params, "destination_system_id")
        body = body or {}
        avoid = set(body.get("avoid_systems", ()))
        if not (_on_map(origin) and _on_map(destination)) or destination in avoid:
            raise NotFound(NO_ROUTE_MESSAGE)
        extra: dict[int, list[int]] = {}
        for link in body.get("connections", ()):
            extra.setdefault(int(link["from"]), []).append(int(link["to"]))
        cost = _jump_cost(
            str(body.get("preference", "Shorter")), int(body.get("security_penalty", 50))
        )
        path = _shortest(origin, destination, avoid - {origin}, extra, cost)
        if path is None:
            raise NotFound(NO_ROUTE_MESSAGE)
        return {"route": path}


def _items(ids: list[int], strict: bool) -> list[int]:
    """The ids that are items; with ``strict`` (corporation routes) any other id is a 404."""
    items = [item for item in ids if id_exists("item", item)]
    if strict and len(items) != len(ids):
        raise NotFound("Invalid IDs")
    return items


def system_security(system_id: int) -> float:
    """A system's security status on the sandbox's map (the trade hubs are high security)."""
    known = _KNOWN_SECURITY.get(system_id)
    if known is not None:
        return known
    return round((mix64(system_id * 104729) % 2001) / 1000.0 - 1.0, 2)


def _on_map(system_id: int) -> bool:
    return _FIRST_SYSTEM <= system_id < _FIRST_SYSTEM + _REGIONS * _REGION_SYSTEMS


def _neighbours(system_id: int) -> list[int]:
    """Jumps out of a system: its region's ring and chords, and the links between regions."""
    region, position = divmod(system_id - _FIRST_SYSTEM, _REGION_SYSTEMS)
    first = _FIRST_SYSTEM + region * _REGION_SYSTEMS
    near = [first + (position + step) % _REGION_SYSTEMS for step in (1, -1)]
    if position % 5 == 0:
        near.append(first + (position + 10) % _REGION_SYSTEMS)
    back = (position - 10) % _REGION_SYSTEMS
    if back % 5 == 0:
        near.append(first + back)
    for here, there in _REGION_LINKS:
        if position == here and region + 1 < _REGIONS:
            near.append(first + _REGION_SYSTEMS + there)
        if position == there and region > 0:
            near.append(first - _REGION_SYSTEMS + here)
    return near


def _jump_cost(preference: str, penalty: int) -> Callable[[int], float]:
    def cost(system_id: int) -> float:
        high = system_security(system_id) >= _HIGH_SEC
        unwanted = (preference == "Safer" and not high) or (preference == "LessSecure" and high)
        return 1.0 + penalty / 10.0 if unwanted else 1.0

    return cost


def _shortest(
    origin: int,
    destination: int,
    avoid: set[int],
    extra: Mapping[int, list[int]],
    cost: Callable[[int], float],
) -> list[int] | None:
    """Dijkstra over the map; ties go to the lower system id, so answers are stable."""
    best = {origin: 0.0}
    previous: dict[int, int] = {}
    queue = [(0.0, origin)]
    while queue:
        spent, system = heapq.heappop(queue)
        if system == destination:
            path = [system]
            while path[-1] != origin:
                path.append(previous[path[-1]])
            return path[::-1]
        if spent > best.get(system, float("inf")):
            continue
        for nxt in sorted({*_neighbours(system), *extra.get(system, ())}):
            if nxt in avoid or not _on_map(nxt):
                continue
            total = spent + cost(nxt)
            if total < best.get(nxt, float("inf")):
                best[nxt], previous[nxt] = total, system
                heapq.heappush(queue, (total, nxt))
    return None
