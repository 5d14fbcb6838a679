"""The sandbox behaves like ESI (docs/esi.md) over real HTTP on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from fakeclock import FakeClock

from esiframe.sandbox import Faults, Sandbox, SandboxLimits
from esiframe.sandbox.data import Sizes
from esiframe.sandbox.server import default_authorize

pytest_plugins = ["pytester"]

DATE = "2026-08-04"
SIZES = Sizes(
    page_size=20,
    forge_order_pages=3,
    region_order_pages=2,
    history_days=30,
    list_pages=2,
    cursor_records=57,
    wallet_transactions=130,
)
ORDERS = "/markets/10000002/orders"
HISTORY = "/markets/10000002/history"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make(esi_sandbox_factory: Callable[..., Sandbox], clock: FakeClock) -> Callable[..., Sandbox]:
    """A sandbox with small sizes and the fake clock unless told otherwise."""

    def build(**kwargs: Any) -> Sandbox:
        limits = kwargs.pop("limits", {})
        kwargs.setdefault("sizes", SIZES)
        kwargs.setdefault("authorize", default_authorize)
        return esi_sandbox_factory(limits=SandboxLimits(clock=clock, **limits), **kwargs)

    return build


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def call(
    session: requests.Session,
    sandbox: Sandbox,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    date: str | None = DATE,
    method: str = "GET",
    json_body: Any = None,
) -> requests.Response:
    sent = dict(headers or {})
    if date is not None:
        sent.setdefault("X-Compatibility-Date", date)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return session.request(
        method, sandbox.url + path, params=params, headers=sent, json=json_body, timeout=10
    )


def operation(sandbox: Sandbox, operation_id: str) -> tuple[str, Mapping[str, Any]]:
    for path, item in sandbox.spec["paths"].items():
        for op in item.values():
            if op.get("operationId") == operation_id:
                return path, op
    raise KeyError(operation_id)


def path_of(sandbox: Sandbox, operation_id: str) -> tuple[str, dict[str, str]]:
    """The concrete path and query of an operation called with the dataset's example params."""
    template, op = operation(sandbox, operation_id)
    example = sandbox.dataset.example_params(operation_id)
    names = {p.get("name"): p.get("in") for p in op["parameters"] if "name" in p}
    path, query = template, {}
    for name, value in example.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        if names.get(name) == "path":
            path = path.replace("{" + name + "}", text)
        elif names.get(name) == "query":
            query[name] = text
    return path, query


def http_time(value: str) -> float:
    return email.utils.parsedate_to_datetime(value).timestamp()


def record_key(record: Any) -> str:
    return json.dumps(record, sort_keys=True)


# --- compatibility date, routes, parameters ----------------------------------------------


def test_compatibility_date_is_required_and_checked(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    missing = call(session, sandbox, "/status", date=None)
    assert missing.status_code == 400
    assert missing.json()["status"] == 400
    assert missing.json()["details"][0]["location"] == "header.X-Compatibility-Date"
    assert "2026-08-04" in missing.json()["error"]

    # Any day from the first published date on is valid; ESI resolves it (docs/esi.md §2).
    unpublished = call(session, sandbox, "/status", date="2026-08-05")
    assert unpublished.status_code == 200
    for invalid in ("2019-12-31", "2026-02-30", "yesterday"):
        refused = call(session, sandbox, "/status", date=invalid)
        assert refused.status_code == 400
        assert invalid in refused.json()["error"]

    by_query = call(session, sandbox, "/status", date=None, params={"compatibility_date": DATE})
    assert by_query.status_code == 200

    ok = call(session, sandbox, "/status")
    _, op = operation(sandbox, "GetStatus")
    assert ok.headers["X-Compatibility-Date"] == op["x-compatibility-date"]


def test_a_published_date_in_the_future_is_refused(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 8, 10, 12, tzinfo=UTC).timestamp()
    sandbox = make()
    assert call(session, sandbox, "/status", date="2026-08-18").status_code == 400
    assert call(session, sandbox, "/status", date="2026-08-04").status_code == 200


def test_unknown_paths_and_write_methods(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    unknown = call(session, sandbox, "/no/such/route")
    assert unknown.status_code == 404
    assert unknown.json()["error"]
    versioned = call(session, sandbox, "/latest/status/")
    assert versioned.status_code == 404
    write = call(session, sandbox, "/characters/90000001/contacts", method="PUT", token="t")
    assert write.status_code == 501
    assert "PutCharactersCharacterIdContacts" in write.json()["error"]
    patch = call(session, sandbox, "/characters/90000001/contacts", method="PATCH", token="t")
    assert patch.status_code == 405
    assert set(patch.headers["Allow"].split(", ")) == {"GET", "POST", "PUT", "DELETE"}


def test_parameters_are_validated_against_the_spec(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    missing = call(session, sandbox, HISTORY)
    assert missing.status_code == 400
    assert missing.json()["details"][0]["location"] == "query.type_id"

    wrong = call(session, sandbox, HISTORY, params={"type_id": "tritanium"})
    assert wrong.status_code == 400
    assert wrong.json()["details"][0]["value"] == "tritanium"

    enum = call(session, sandbox, ORDERS, params={"order_type": "everything"})
    assert enum.status_code == 400
    assert "buy, sell, all" in enum.json()["details"][0]["message"]

    below = call(session, sandbox, ORDERS, params={"order_type": "all", "page": 0})
    assert below.status_code == 400
    assert below.json()["details"][0]["location"] == "query.page"

    bad_path = call(session, sandbox, "/markets/the-forge/history", params={"type_id": 34})
    assert bad_path.status_code == 400
    assert bad_path.json()["details"][0]["location"] == "path.region_id"


def test_unknown_ids_answer_404(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make()
    path, query = path_of(sandbox, "GetUniverseTypesTypeId")
    assert call(session, sandbox, path, params=query).status_code == 200
    missing = next(
        type_id
        for type_id in (999_999_999, 2**31 - 1, 123_456_789)
        if not sandbox.dataset.exists("GetUniverseTypesTypeId", {"type_id": str(type_id)})
    )
    answer = call(session, sandbox, f"/universe/types/{missing}")
    assert answer.status_code == 404
    assert answer.json()["error"]


def test_read_only_posts(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make()
    ids = [30000142, 34]
    names = call(session, sandbox, "/universe/names", method="POST", json_body=ids)
    assert names.status_code == 200
    assert {row["id"] for row in names.json()} <= set(ids)
    empty = call(session, sandbox, "/universe/names", method="POST", json_body=[])
    assert empty.status_code == 400
    assert empty.json()["details"][0]["location"] == "body"


def test_meta_openapi_serves_the_spec_for_the_resolved_date(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    exact = call(session, sandbox, "/meta/openapi.json")
    assert exact.status_code == 200
    assert exact.headers["Content-Type"] == "application/openapi+json"
    assert exact.headers["Cache-Control"] == "public, max-age=600"
    document = exact.json()
    assert document["info"]["version"] == DATE
    assert len(document["paths"]) == len(sandbox.spec["paths"])

    between = call(
        session,
        sandbox,
        "/meta/openapi.json",
        date=None,
        params={"compatibility_date": "2026-08-10"},
    )
    assert between.json()["info"]["version"] == DATE

    undated = call(session, sandbox, "/meta/openapi.json", date=None)
    assert undated.json()["info"]["version"] == "2020-01-01"

    too_old = call(session, sandbox, "/meta/openapi.json", date="2019-01-01")
    assert too_old.status_code == 400
    assert "2020-01-01" in too_old.json()["error"]


# --- X-Pages ----------------------------------------------------------------------------


def test_x_pages_walk(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make()
    params = {"order_type": "all"}
    first = call(session, sandbox, ORDERS, params=params)
    assert first.status_code == 200
    pages = int(first.headers["X-Pages"])
    assert (
        pages
        == sandbox.dataset.page_count(
            "GetMarketsRegionIdOrders", {"region_id": "10000002", "order_type": "all"}
        )
        == 3
    )
    answers = [first] + [
        call(session, sandbox, ORDERS, params={**params, "page": page})
        for page in range(2, pages + 1)
    ]
    assert all(answer.headers["X-Pages"] == str(pages) for answer in answers)
    for page, answer in enumerate(answers, start=1):
        expected = sandbox.dataset.page(
            "GetMarketsRegionIdOrders", {"region_id": "10000002", "order_type": "all"}, page
        )
        assert answer.json() == expected
    assert len({answer.headers["Last-Modified"] for answer in answers}) == 1

    past = call(session, sandbox, ORDERS, params={**params, "page": pages + 1})
    assert past.status_code == 404
    assert past.json() == {"error": "Requested page does not exist!"}


def test_refresh_changes_last_modified_etag_and_data(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    params = {"order_type": "all", "page": 2}
    before = call(session, sandbox, ORDERS, params=params)
    sandbox.refresh()
    after = call(session, sandbox, ORDERS, params=params)
    assert http_time(after.headers["Last-Modified"]) > http_time(before.headers["Last-Modified"])
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json() != before.json()
    assert after.headers["X-Pages"] == before.headers["X-Pages"]


# --- caching headers --------------------------------------------------------------------


def test_etag_revalidation_answers_304(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    first = call(session, sandbox, ORDERS, params={"order_type": "all"})
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = call(
        session, sandbox, ORDERS, params={"order_type": "all"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    for name in ("ETag", "Last-Modified", "Expires", "Cache-Control", "X-Pages"):
        assert again.headers[name] == first.headers[name]
    other = call(
        session, sandbox, ORDERS, params={"order_type": "all"}, headers={"If-None-Match": '"nope"'}
    )
    assert other.status_code == 200


def test_if_modified_since(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make()
    first = call(session, sandbox, "/status")
    same = call(
        session, sandbox, "/status", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert same.status_code == 304
    older = email.utils.formatdate(http_time(first.headers["Last-Modified"]) - 3600, usegmt=True)
    assert (
        call(session, sandbox, "/status", headers={"If-Modified-Since": older}).status_code == 200
    )


def test_expires_and_cache_control(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    sandbox = make()
    orders = call(session, sandbox, ORDERS, params={"order_type": "all"})
    _, op = operation(sandbox, "GetMarketsRegionIdOrders")
    assert orders.headers["Cache-Control"] == "public"
    assert http_time(orders.headers["Expires"]) == clock.now + op["x-cache-age"]

    history = call(session, sandbox, HISTORY, params={"type_id": 34})
    now = datetime.fromtimestamp(clock.now, UTC)
    next_1105 = now.replace(hour=11, minute=5, second=0, microsecond=0)
    if next_1105 <= now:
        next_1105 += timedelta(days=1)
    assert http_time(history.headers["Expires"]) == next_1105.timestamp()

    assets = call(session, sandbox, "/characters/90000001/assets", token="t")
    assert assets.headers["Cache-Control"] == "private"
    for answer in (orders, history, assets):
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert answer.headers["X-Esi-Request-Id"]
        assert "X-Compatibility-Date" in answer.headers["Vary"]


def test_cache_seconds_override(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    sandbox = make(limits={"cache_seconds": 2.0})
    for path, params in ((ORDERS, {"order_type": "all"}), (HISTORY, {"type_id": 34})):
        answer = call(session, sandbox, path, params=params)
        assert http_time(answer.headers["Expires"]) == clock.now + 2


# --- languages --------------------------------------------------------------------------


def test_content_language_and_localized_text(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    path, query = path_of(sandbox, "GetUniverseTypesTypeId")
    english = call(session, sandbox, path, params=query)
    german = call(session, sandbox, path, params=query, headers={"Accept-Language": "de"})
    korean = call(
        session, sandbox, path, params=query, headers={"Accept-Language": "ko-KR,ko;q=0.9"}
    )
    assert english.headers["Content-Language"] == "en"
    assert german.headers["Content-Language"] == "de"
    assert korean.headers["Content-Language"] == "ko"
    assert german.json()["type_id"] == english.json()["type_id"]
    assert german.json()["description"] != english.json()["description"]
    assert korean.json()["name"] != english.json()["name"]

    unsupported = call(session, sandbox, path, params=query, headers={"Accept-Language": "xx"})
    assert unsupported.headers["Content-Language"] == "en"
    assert unsupported.json() == english.json()

    plain = call(session, sandbox, "/status", headers={"Accept-Language": "fr"})
    assert plain.headers["Content-Language"] == "fr"


# --- cursor and from_id -----------------------------------------------------------------


def test_cursor_walk_returns_every_record(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    op_id = "GetFreelanceJobsListing"
    path, query = path_of(sandbox, op_id)
    field = sandbox.dataset.cursor_list_field(op_id)
    everything = sandbox.dataset.body(op_id, query)[field]
    assert len(everything) == SIZES.cursor_records

    first = call(session, sandbox, path, params={**query, "limit": 25})
    assert first.status_code == 200
    assert first.json()[field] == everything[-25:]
    collected = [record_key(r) for r in first.json()[field]]
    cursor = first.json()["cursor"]
    pages = 1
    while True:
        answer = call(
            session, sandbox, path, params={**query, "limit": 25, "before": cursor["before"]}
        )
        assert answer.status_code == 200
        records = answer.json()[field]
        if not records:
            break
        assert len(records) <= 25
        collected += [record_key(r) for r in records]
        cursor = answer.json()["cursor"]
        pages += 1
        assert pages < 20
    assert set(collected) == {record_key(r) for r in everything}
    assert len(collected) - len(set(collected)) <= pages

    forward, after = [], "0"
    while True:
        answer = call(session, sandbox, path, params={**query, "limit": 100, "after": after})
        records = answer.json()[field]
        if not records:
            break
        forward += records
        after = answer.json()["cursor"]["after"]
    assert forward == everything


def test_cursor_parameters_are_checked(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    path, query = path_of(sandbox, "GetFreelanceJobsListing")
    token = call(session, sandbox, path, params=query).json()["cursor"]["before"]
    both = call(session, sandbox, path, params={**query, "before": token, "after": token})
    assert both.status_code == 400
    assert call(session, sandbox, path, params={**query, "limit": 5}).status_code == 400
    assert call(session, sandbox, path, params={**query, "limit": 101}).status_code == 400
    assert call(session, sandbox, path, params={**query, "before": "garbage"}).status_code == 400


def test_from_id_walk(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make()
    op_id = "GetCharactersCharacterIdWalletTransactions"
    path, query = path_of(sandbox, op_id)
    data_params = {
        name: str(value) for name, value in sandbox.dataset.example_params(op_id).items()
    }
    everything = sandbox.dataset.body(op_id, data_params)
    ids = [row["transaction_id"] for row in everything]
    assert ids == sorted(ids, reverse=True)

    first = call(session, sandbox, path, params=query, token="t").json()
    assert [row["transaction_id"] for row in first] == ids[: sandbox.from_id_page_size]
    seen = {row["transaction_id"] for row in first}
    last = first[-1]["transaction_id"]
    while True:
        page = call(session, sandbox, path, params={**query, "from_id": last}, token="t").json()
        assert page[0]["transaction_id"] == last
        if len(page) == 1:
            break
        seen |= {row["transaction_id"] for row in page}
        last = page[-1]["transaction_id"]
    assert seen == set(ids)


# --- limits -----------------------------------------------------------------------------


def test_error_limit_headers_and_420(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    sandbox = make(limits={"error_limit": 3, "error_window": 60.0})
    ok = call(session, sandbox, HISTORY, params={"type_id": 34})
    assert ok.headers["X-Esi-Error-Limit-Remain"] == "3"
    assert ok.headers["X-Esi-Error-Limit-Reset"] == "60"
    assert not any(name.startswith("X-Ratelimit") for name in ok.headers)
    clock.advance(15)
    remains = [
        call(session, sandbox, HISTORY).headers["X-Esi-Error-Limit-Remain"] for _ in range(3)
    ]
    assert remains == ["2", "1", "0"]
    limited = call(session, sandbox, HISTORY, params={"type_id": 34})
    assert limited.status_code == 420
    assert limited.json()["error"]
    assert limited.headers["X-Esi-Error-Limit-Reset"] == "45"
    elsewhere = call(session, sandbox, ORDERS, params={"order_type": "all"})
    assert elsewhere.status_code == 420
    clock.advance(45)
    recovered = call(session, sandbox, HISTORY, params={"type_id": 34})
    assert recovered.status_code == 200
    assert recovered.headers["X-Esi-Error-Limit-Remain"] == "3"


def test_rate_limit_headers_and_429(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    sandbox = make(limits={"group_window": 10.0}, faults=Faults(group_max_tokens={"status": 6}))
    answers = [call(session, sandbox, "/status") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["4", "2", "0"]
    assert {a.headers["X-Ratelimit-Used"] for a in answers} == {"2"}
    assert answers[0].headers["X-Ratelimit-Group"] == "status"
    assert answers[0].headers["X-Ratelimit-Limit"] == "6/10s"
    assert not any(name.startswith("X-Esi-Error-Limit") for name in answers[0].headers)
    clock.advance(3)
    refused = call(session, sandbox, "/status")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"
    assert refused.headers["X-Ratelimit-Remaining"] == "0"
    assert refused.headers["X-Ratelimit-Used"] == "0"
    clock.advance(7)
    assert call(session, sandbox, "/status").status_code == 200


def test_rate_limit_label_from_the_spec(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    _, op = operation(sandbox, "GetMarketsRegionIdOrders")
    limit = op["x-rate-limit"]
    answer = call(session, sandbox, ORDERS, params={"order_type": "all"})
    assert answer.headers["X-Ratelimit-Limit"] == f"{limit['max-tokens']}/{limit['window-size']}"
    assert int(answer.headers["X-Ratelimit-Remaining"]) == limit["max-tokens"] - 2


def test_token_costs_by_status(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make(
        limits={"group_window": 60.0}, faults=Faults(group_max_tokens={"market-order": 100})
    )
    params = {"order_type": "all"}
    ok = call(session, sandbox, ORDERS, params=params)
    not_modified = call(
        session, sandbox, ORDERS, params=params, headers={"If-None-Match": ok.headers["ETag"]}
    )
    client_error = call(session, sandbox, ORDERS, params={**params, "page": 99})
    sandbox.faults.error_rate = 1.0
    server_error = call(session, sandbox, ORDERS, params=params)
    sandbox.faults.error_rate = 0.0
    answers = [ok, not_modified, client_error, server_error]
    assert [a.status_code for a in answers][:3] == [200, 304, 404]
    assert server_error.status_code >= 500
    assert [a.headers["X-Ratelimit-Used"] for a in answers] == ["2", "1", "5", "0"]
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["98", "97", "92", "92"]


def test_market_history_hidden_limit(
    make: Callable[..., Sandbox], session: requests.Session, clock: FakeClock
) -> None:
    sandbox = make(limits={"history_per_minute": 3, "history_window": 60.0})
    answers = [call(session, sandbox, HISTORY, params={"type_id": 34}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 500]
    assert "rate limit" in answers[3].json()["error"]
    assert answers[3].headers["X-Esi-Error-Limit-Remain"] == "99"
    clock.advance(60)
    assert call(session, sandbox, HISTORY, params={"type_id": 34}).status_code == 200


def test_scoped_routes_need_a_bearer_token(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    path = "/characters/90000001/assets"
    missing = call(session, sandbox, path)
    assert missing.status_code == 401
    assert "esi-assets.read_assets.v1" in missing.json()["error"]
    basic = call(session, sandbox, path, headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401
    assert call(session, sandbox, path, token="test").status_code == 200


def test_the_default_bearer_check_is_the_sandbox_sso(
    esi_sandbox_factory: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = esi_sandbox_factory(sizes=SIZES)
    path = "/characters/2112000001/assets"
    token = sandbox.sso.issue(2112000001, ["esi-assets.read_assets.v1"])["access_token"]
    assert call(session, sandbox, path, token=token).status_code == 200
    assert call(session, sandbox, path, token="not-a-jwt").status_code == 401
    assert "secret" not in token and token not in repr(list(sandbox.log))


def test_authorize_hook_is_replaceable(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    from esiframe.sandbox import AuthResult

    seen: list[str | None] = []

    def only_alice(
        operation: Mapping[str, Any], path_params: Mapping[str, str], authorization: str | None
    ) -> AuthResult:
        seen.append(authorization)
        if operation.get("security") and authorization != "Bearer alice":
            return AuthResult(403, "not alice", None)
        return AuthResult(owner="alice")

    sandbox = make(authorize=only_alice)
    assert call(session, sandbox, "/characters/90000001/assets", token="bob").status_code == 403
    assert call(session, sandbox, "/characters/90000001/assets", token="alice").status_code == 200
    assert "Bearer alice" in seen


def test_add_route_mounts_extra_endpoints(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    from esiframe.sandbox import SandboxResponse

    sandbox = make()
    sandbox.add_route(
        "POST",
        "/extra/{action}",
        lambda request: SandboxResponse.json(
            {"action": request.path_params["action"], **request.form()}
        ),
    )
    answer = session.post(sandbox.url + "/extra/token", data={"grant_type": "x"}, timeout=10)
    assert answer.json() == {"action": "token", "grant_type": "x"}
    sandbox.add_route("POST", "/extra/{action}", lambda request: SandboxResponse.json({}, 418))
    assert session.post(sandbox.url + "/extra/token", timeout=10).status_code == 418
    assert sandbox.log.count(path="/extra/token") == 2


# --- faults -----------------------------------------------------------------------------


def test_latency_is_added(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make(faults=Faults(latency=0.2))
    started = time.perf_counter()
    assert call(session, sandbox, "/status").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_error_rate_gives_5xx(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make(faults=Faults(error_rate=1.0))
    statuses = {call(session, sandbox, "/status").status_code for _ in range(20)}
    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) > 1
    sandbox.faults.error_rate = 0.5
    mixed = [call(session, sandbox, "/status").status_code for _ in range(40)]
    assert 200 in mixed and any(status >= 500 for status in mixed)
    sandbox.faults.error_rate = 0.0
    assert call(session, sandbox, "/status").json().get("error") is None


def test_faults_are_reproducible(make: Callable[..., Sandbox], session: requests.Session) -> None:
    runs = []
    for _ in range(2):
        sandbox = make(faults=Faults(error_rate=0.5, seed=7))
        runs.append([call(session, sandbox, "/status").status_code for _ in range(20)])
    assert runs[0] == runs[1]


def test_dropped_connections(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make(faults=Faults(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        call(session, sandbox, "/status")
    assert sandbox.log[-1].status is None
    sandbox.faults.drop_rate = 0.0
    assert call(session, sandbox, "/status").status_code == 200


def test_bare_429(make: Callable[..., Sandbox], session: requests.Session) -> None:
    sandbox = make(faults=Faults(bare_429_rate=1.0))
    answer = call(session, sandbox, "/status")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) >= 1
    assert not any(name.lower().startswith("x-ratelimit") for name in answer.headers)


def test_refresh_after_changes_last_modified_mid_walk(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make(faults=Faults(refresh_after=2))
    walk = [
        call(session, sandbox, ORDERS, params={"order_type": "all", "page": p}) for p in (1, 2, 3)
    ]
    stamps = [answer.headers["Last-Modified"] for answer in walk]
    assert stamps[0] == stamps[1] != stamps[2]
    again = [
        call(session, sandbox, ORDERS, params={"order_type": "all", "page": p}) for p in (1, 2, 3)
    ]
    assert len({answer.headers["Last-Modified"] for answer in again}) == 1


def test_refresh_every_never_agrees(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make(faults=Faults(refresh_every=1))
    stamps = [
        call(session, sandbox, ORDERS, params={"order_type": "all", "page": p}).headers[
            "Last-Modified"
        ]
        for p in (1, 2, 3)
    ]
    assert len(set(stamps)) == 3


def test_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)
    faults = Faults()
    with pytest.raises(ValueError, match="refresh_after"):
        faults.refresh_after = 0
    with pytest.raises(ValueError, match="error_limit"):
        SandboxLimits(error_limit=0)


# --- the log, concurrency, lifecycle ----------------------------------------------------


def test_request_log_redacts_authorization(
    make: Callable[..., Sandbox], session: requests.Session
) -> None:
    sandbox = make()
    call(
        session,
        sandbox,
        "/characters/90000001/assets",
        token="secret-token-value",
        params={"page": 1},
    )
    call(session, sandbox, "/status")
    assert len(sandbox.log) == 2
    entry = sandbox.log[0]
    assert entry.method == "GET"
    assert entry.path == "/characters/90000001/assets"
    assert entry.query == {"page": "1"}
    assert entry.status == 200
    assert entry.operation_id == "GetCharactersCharacterIdAssets"
    assert entry.headers["Authorization"] == "Bearer <redacted>"
    assert entry.response_headers["X-Pages"]
    assert "secret-token-value" not in repr(list(sandbox.log))
    assert sandbox.log.count(path="/status") == 1
    assert sandbox.log.count(status=200) == 2
    sandbox.log.clear()
    assert len(sandbox.log) == 0


def test_sixteen_concurrent_clients(make: Callable[..., Sandbox]) -> None:
    sandbox = make()
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as own:
            for i in range(40):
                page = 1 + i % 3
                answer = call(own, sandbox, ORDERS, params={"order_type": "all", "page": page})
                with lock:
                    statuses.append(answer.status_code)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 640
    assert len(sandbox.log) == 640


def test_stop_closes_the_port(session: requests.Session) -> None:
    with Sandbox(sizes=SIZES) as sandbox:
        url = sandbox.url
        assert call(session, sandbox, "/status").status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/status", headers={"X-Compatibility-Date": DATE}, timeout=5)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.url


def test_pytest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_default(esi_sandbox) -> None:
            answer = requests.get(esi_sandbox.url + "/status",
                                  headers={"X-Compatibility-Date": "2026-08-04"}, timeout=10)
            assert answer.status_code == 200
            open("urls.txt", "a").write(esi_sandbox.url + "\\n")

        def test_factory(esi_sandbox_factory) -> None:
            from esiframe.sandbox import Faults
            one = esi_sandbox_factory(faults=Faults(error_rate=1.0))
            two = esi_sandbox_factory()
            assert one.url != two.url
            headers = {"X-Compatibility-Date": "2026-08-04"}
            assert requests.get(one.url + "/status", headers=headers, timeout=10).status_code >= 500
            assert requests.get(two.url + "/status", headers=headers, timeout=10).status_code == 200
            open("urls.txt", "a").write(one.url + "\\n" + two.url + "\\n")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    urls = (pytester.path / "urls.txt").read_text().split()
    assert len(urls) == 3
    for url in urls:
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/status", timeout=5)
