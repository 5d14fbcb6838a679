"""The sandbox answers every read-only POST the way real ESI does (issue 11.1, 11.2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fakeclock import FakeClock

from esiframe.sandbox import Sandbox, SandboxLimits
from esiframe.sandbox.data import INVALID_IDS, Sizes
from esiframe.sandbox.lookups import system_security
from esiframe.sandbox.server import default_authorize

DATE = "2026-08-04"
INVALID = {"error": "Ensure all IDs are valid before resolving."}
JITA, PERIMETER, NEAR_JITA = 30000142, 30000144, 30000143
ITEMS = [1_000_000_000_006, 1_000_000_000_107]


@pytest.fixture
def sandbox(esi_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return esi_sandbox_factory(
        sizes=Sizes(page_size=20, list_pages=2),
        authorize=default_authorize,
        limits=SandboxLimits(clock=FakeClock()),
    )


def post(sandbox: Sandbox, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
    headers = {"X-Compatibility-Date": DATE, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, _, raw = sandbox.answer("POST", sandbox.url + path, headers, json.dumps(body).encode())
    return status, json.loads(raw) if raw else None


def test_names_answer_every_valid_id(sandbox: Sandbox) -> None:
    ids = [34, JITA, 60003760, 10000002, 2112000001]
    status, rows = post(sandbox, "/universe/names", ids)
    assert status == 200
    assert [row["id"] for row in rows] == ids
    assert {row["id"]: row["name"] for row in rows}[2112000001] == "Aura Sandbox"
    assert {row["id"]: row["category"] for row in rows}[34] == "inventory_type"


@pytest.mark.parametrize("bad", [*INVALID_IDS, 0, 99])
def test_one_invalid_id_refuses_the_whole_names_batch(sandbox: Sandbox, bad: int) -> None:
    status, body = post(sandbox, "/universe/names", [34, JITA, bad])
    assert (status, body) == (404, INVALID)


def test_one_non_character_refuses_the_whole_affiliation_batch(sandbox: Sandbox) -> None:
    status, rows = post(sandbox, "/characters/affiliation", [90000001, 2112000001])
    assert status == 200
    assert [row["character_id"] for row in rows] == [90000001, 2112000001]
    assert post(sandbox, "/characters/affiliation", [90000001, 42]) == (404, INVALID)


def test_route_follows_the_body(sandbox: Sandbox) -> None:
    path = f"/route/{JITA}/{JITA + 20}"
    status, shortest = post(sandbox, path, {})
    assert status == 200
    route = shortest["route"]
    assert route[0] == JITA and route[-1] == JITA + 20
    status, around = post(sandbox, path, {"avoid_systems": [route[1]]})
    assert status == 200
    assert route[1] not in around["route"]
    assert len(around["route"]) >= len(route)
    status, bridged = post(sandbox, path, {"connections": [{"from": JITA, "to": JITA + 20}]})
    assert bridged["route"] == [JITA, JITA + 20]


def test_route_preference_and_penalty(sandbox: Sandbox) -> None:
    path = f"/route/{JITA}/{JITA + 710}"  # ten regions further

    def low_sec(body: dict[str, Any]) -> int:
        status, answer = post(sandbox, path, body)
        assert status == 200
        return sum(system_security(system) < 0.45 for system in answer["route"])

    shorter = low_sec({"preference": "Shorter"})
    safer = low_sec({"preference": "Safer", "security_penalty": 100})
    less_secure = low_sec({"preference": "LessSecure", "security_penalty": 100})
    assert safer < shorter < less_secure


def test_route_refuses_bad_bodies_and_unknown_systems(sandbox: Sandbox) -> None:
    path = f"/route/{JITA}/{NEAR_JITA}"
    status, body = post(sandbox, path, {"preference": "Fastest"})
    assert status == 400
    assert "Shorter" in body["error"]
    status, body = post(sandbox, path, {"avoid": [PERIMETER]})
    assert status == 400
    assert "avoid_systems" in body["error"]
    status, body = post(sandbox, path, {"security_penalty": 101})
    assert status == 400
    assert post(sandbox, f"/route/{JITA}/1", {}) == (404, {"error": "No route found"})
    assert post(sandbox, path, {"avoid_systems": [NEAR_JITA]})[0] == 404


@pytest.mark.parametrize("owner", ["characters/2112000001", "corporations/98000001"])
def test_asset_names_and_locations(sandbox: Sandbox, owner: str) -> None:
    status, names = post(sandbox, f"/{owner}/assets/names", ITEMS, token="token")
    assert status == 200
    assert [row["item_id"] for row in names] == ITEMS
    assert all(isinstance(row["name"], str) and row["name"] for row in names)
    status, places = post(sandbox, f"/{owner}/assets/locations", ITEMS, token="token")
    assert status == 200
    assert [row["item_id"] for row in places] == ITEMS
    assert all(set(row["position"]) == {"x", "y", "z"} for row in places)
    assert post(sandbox, f"/{owner}/assets/names", ITEMS)[0] == 401


def test_corporation_asset_names_refuse_ids_that_are_not_items(sandbox: Sandbox) -> None:
    status, body = post(sandbox, "/corporations/98000001/assets/names", [42], token="token")
    assert (status, body) == (404, {"error": "Invalid IDs"})
    status, rows = post(sandbox, "/characters/2112000001/assets/names", [42], token="token")
    assert (status, rows) == (200, [])


def test_cspa_answers_201_with_a_cost(sandbox: Sandbox) -> None:
    status, cost = post(sandbox, "/characters/2112000001/cspa", [90000001, 2112000002], "t")
    assert status == 201
    assert isinstance(cost, float) and cost >= 0


def test_every_read_only_post_of_the_spec_is_answered(sandbox: Sandbox) -> None:
    from esiframe.sandbox.routes import READ_ONLY_POSTS

    for operation_id in sorted(READ_ONLY_POSTS):
        params = sandbox.dataset.example_params(operation_id)
        body = params.pop("body")
        template, _ = next(
            (path, op)
            for path, item in sandbox.spec["paths"].items()
            for op in item.values()
            if op.get("operationId") == operation_id
        )
        path = template
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(value))
        status, answer = post(sandbox, path, body, token="token")
        assert status in (200, 201), (operation_id, answer)
        assert answer not in (None, [], {}), operation_id
    assert sandbox.log.statuses().keys() <= {200, 201}
