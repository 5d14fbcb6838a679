"""The sandbox's seams for client tests: in-process answers, counts, hangs, shrinking pages."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from fakeclock import FakeClock

from esiframe.sandbox import Faults, Sandbox, SandboxLimits
from esiframe.sandbox.data import Sizes
from esiframe.sandbox.server import default_authorize

DATE = "2026-08-04"
HEADERS = {"X-Compatibility-Date": DATE}
SIZES = Sizes(page_size=20, forge_order_pages=4, region_order_pages=2, list_pages=2)
ORDERS = "/markets/10000002/orders"
# Headers that differ between any two answers (ids, times, what is left of a limit).
VOLATILE = {
    "date",
    "x-esi-request-id",
    "connection",
    "x-esi-error-limit-remain",
    "x-ratelimit-remaining",
}


@pytest.fixture
def make(esi_sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    def build(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("sizes", SIZES)
        kwargs.setdefault("authorize", default_authorize)
        kwargs.setdefault("limits", SandboxLimits(clock=FakeClock()))
        return esi_sandbox_factory(**kwargs)

    return build


def stable(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{ORDERS}?order_type=all&page=2", None),
        ("GET", f"{ORDERS}?order_type=all&page=99", None),
        ("GET", "/universe/types/34", None),
        ("GET", "/markets/10000002/orders?order_type=nonsense", None),
        ("POST", "/universe/names", b"[34, 30000142]"),
        ("DELETE", "/status", None),
        ("HEAD", "/status", None),
    ],
)
def test_answer_in_process_matches_the_wire(
    make: Callable[..., Sandbox], method: str, path: str, body: bytes | None
) -> None:
    sandbox = make()
    headers = {**HEADERS, "Content-Type": "application/json"}
    status, got_headers, got_body = sandbox.answer(method, sandbox.url + path, headers, body)
    over_http = requests.request(method, sandbox.url + path, headers=headers, data=body, timeout=10)
    assert status == over_http.status_code
    assert got_body == over_http.content
    assert stable(got_headers) == stable(over_http.headers)
    assert [entry.status for entry in sandbox.log] == [status, status]


def test_answer_applies_faults_and_limits(make: Callable[..., Sandbox]) -> None:
    sandbox = make(limits=SandboxLimits(error_limit=2, clock=FakeClock()))
    url = sandbox.url + "/universe/types/999999999"  # no such type: 404
    statuses = [sandbox.answer("GET", url, HEADERS, None)[0] for _ in range(3)]
    assert statuses == [404, 404, 420]
    sandbox.faults.drop_rate = 1.0
    with pytest.raises(ConnectionResetError):
        sandbox.answer("GET", sandbox.url + "/status", HEADERS, None)
    sandbox.faults.drop_rate = 0.0
    sandbox.faults.cut_rate = 1.0
    sandbox.limits.clock.advance(61)  # type: ignore[attr-defined]
    status, headers, body = sandbox.answer("GET", sandbox.url + "/status", HEADERS, None)
    assert status == 200
    assert len(body) == int(headers["Content-Length"]) // 2


def test_statuses_count_answers_of_every_client_process(make: Callable[..., Sandbox]) -> None:
    sandbox = make(limits=SandboxLimits(error_limit=5, clock=FakeClock()))
    script = (
        "import sys, requests\n"
        "for _ in range(6):\n"
        "    requests.get(sys.argv[1] + '/universe/types/999999999', headers={"
        f"'X-Compatibility-Date': '{DATE}'}}, timeout=10)\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, sandbox.url]) for _ in range(2)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    counts = sandbox.log.statuses()
    assert counts[404] == 5
    assert counts[420] == 7
    assert sandbox.log.statuses("GetUniverseTypesTypeId") == counts


def test_a_hung_request_gets_no_answer_until_released(make: Callable[..., Sandbox]) -> None:
    sandbox = make(faults=Faults(hang_rate=1.0))
    outcome: list[BaseException | int] = []

    def ask() -> None:
        try:
            outcome.append(
                requests.get(sandbox.url + "/status", headers=HEADERS, timeout=30).status_code
            )
        except requests.RequestException as error:
            outcome.append(error)

    worker = threading.Thread(target=ask)
    worker.start()
    for _ in range(2000):
        if sandbox.hanging:
            break
        threading.Event().wait(0.01)
    assert sandbox.hanging == 1
    assert outcome == []
    assert sandbox.log[-1].status is None
    sandbox.faults.hang_rate = 0.0
    sandbox.release_hung()
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError)
    assert sandbox.hanging == 0
    assert requests.get(sandbox.url + "/status", headers=HEADERS, timeout=10).status_code == 200


def test_stop_releases_a_request_hung_in_process(make: Callable[..., Sandbox]) -> None:
    sandbox = make(faults=Faults(hang_rate=1.0))
    raised: list[BaseException] = []

    def ask() -> None:
        try:
            sandbox.answer("GET", "http://sandbox/status", HEADERS, None)
        except ConnectionResetError as error:
            raised.append(error)

    worker = threading.Thread(target=ask)
    worker.start()
    while not sandbox.hanging:
        threading.Event().wait(0.01)
    sandbox.stop()
    worker.join(timeout=30)
    assert len(raised) == 1


def test_x_pages_shrinks_after_a_refresh_mid_walk(make: Callable[..., Sandbox]) -> None:
    sandbox = make(faults=Faults(refresh_after=2, pages_after_refresh=2))

    def page(number: int) -> tuple[int, dict[str, str]]:
        url = f"{sandbox.url}{ORDERS}?order_type=all&page={number}"
        status, headers, _ = sandbox.answer("GET", url, HEADERS, None)
        return status, headers

    first, second = page(1), page(2)
    assert first[1]["X-Pages"] == second[1]["X-Pages"] == "4"
    third = page(3)  # the data refreshed after page 2: only two pages are left
    assert third[0] == 404
    assert third[1]["X-Pages"] == "2"
    assert json.loads(
        sandbox.answer("GET", f"{sandbox.url}{ORDERS}?order_type=all&page=1", HEADERS, None)[2]
    )
    assert page(1)[1]["X-Pages"] == "2"


def test_cursor_changes_are_all_an_after_walk_sees(make: Callable[..., Sandbox]) -> None:
    sandbox = make(sizes=Sizes(cursor_records=40))
    operation_id = "GetFreelanceJobsListing"
    field = sandbox.dataset.cursor_list_field(operation_id)

    def walk(after: str) -> tuple[list[dict[str, Any]], str]:
        seen: list[dict[str, Any]] = []
        while True:
            url = f"{sandbox.url}/freelance-jobs?limit=100&after={after}"
            status, _, body = sandbox.answer("GET", url, HEADERS, None)
            assert status == 200
            answer = json.loads(body)
            if not answer[field]:
                return seen, after
            seen += answer[field]
            after = answer["cursor"]["after"]

    everything, token = walk("0")
    assert len(everything) == 40
    sandbox.limits.clock.advance(3600)  # type: ignore[attr-defined]
    changed = sandbox.change_cursor_records(operation_id, modify=2, add=3)
    since, _ = walk(token)
    assert since == changed
    assert len(since) == 5
    assert [record["id"] for record in since[:2]] == [record["id"] for record in everything[:2]]
    assert all(record["last_modified"] > everything[-1]["last_modified"] for record in since)
    assert not {r["id"] for r in since[2:]} & {r["id"] for r in everything}
    with pytest.raises(ValueError, match="not a cursor-paginated"):
        sandbox.change_cursor_records("GetStatus", add=1)


def test_cursor_tokens_expire_after_the_tombstone_ttl(make: Callable[..., Sandbox]) -> None:
    clock = FakeClock()
    sandbox = make(limits=SandboxLimits(clock=clock, tombstone_ttl=600))
    first = sandbox.answer("GET", f"{sandbox.url}/freelance-jobs", HEADERS, None)
    token = json.loads(first[2])["cursor"]["after"]
    clock.advance(601)
    status, _, body = sandbox.answer(
        "GET", f"{sandbox.url}/freelance-jobs?after={token}", HEADERS, None
    )
    assert status == 400
    assert "x-tombstone-ttl" in json.loads(body)["error"]


def test_new_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="hang_rate"):
        Faults(hang_rate=1.5)
    with pytest.raises(ValueError, match="pages_after_refresh"):
        Faults(pages_after_refresh=0)
    with pytest.raises(ValueError, match="tombstone_ttl"):
        SandboxLimits(tombstone_ttl=0)
