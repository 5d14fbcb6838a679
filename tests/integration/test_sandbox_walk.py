"""Every GET and read-only POST of the spec answers over HTTP with a body valid by its schema."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests
from schemacheck import response_schema, validate

from esiframe.sandbox import Sandbox
from esiframe.sandbox.data import Sizes
from esiframe.sandbox.routes import READ_ONLY_POSTS
from esiframe.sandbox.server import default_authorize, load_bundled_spec

DATE = "2026-08-04"
SIZES = Sizes(
    page_size=25,
    forge_order_pages=2,
    region_order_pages=2,
    history_days=20,
    list_pages=2,
    cursor_records=30,
    wallet_transactions=60,
)
SPEC = load_bundled_spec()
GET_OPERATIONS = sorted(
    (op["operationId"], path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method == "get"
)
READ_ONLY_POST_OPERATIONS = sorted(
    (op["operationId"], path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method == "post" and op["operationId"] in READ_ONLY_POSTS
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(sizes=SIZES, spec=SPEC, authorize=default_authorize) as running:
        yield running


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)


def _request(
    path: str, op: Mapping[str, Any], example: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    where = {p["name"]: p["in"] for p in op.get("parameters", []) if "name" in p}
    query = {}
    for name, value in example.items():
        if where.get(name) == "path":
            path = path.replace("{" + name + "}", _text(value))
        else:
            query[name] = _text(value)
    assert "{" not in path, f"example params leave {path} unfilled"
    return path, query


def test_every_get_operation_is_walked() -> None:
    assert len(GET_OPERATIONS) == 190


@pytest.mark.parametrize(
    ("operation_id", "path", "op"), GET_OPERATIONS, ids=[o[0] for o in GET_OPERATIONS]
)
def test_operation_answers_valid_body(
    sandbox: Sandbox, session: requests.Session, operation_id: str, path: str, op: Mapping[str, Any]
) -> None:
    url_path, query = _request(path, op, sandbox.dataset.example_params(operation_id))
    headers = {"X-Compatibility-Date": DATE}
    if op.get("security"):
        headers["Authorization"] = "Bearer test"
    answer = session.get(sandbox.url + url_path, params=query, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Compatibility-Date"] == op["x-compatibility-date"]
    assert answer.headers["ETag"] and answer.headers["Last-Modified"] and answer.headers["Expires"]
    if "page" in {p.get("name") for p in op["parameters"]}:
        assert int(answer.headers["X-Pages"]) >= 1
    validate(answer.json(), response_schema(SPEC, operation_id), SPEC)


def test_every_read_only_post_is_walked() -> None:
    assert len(READ_ONLY_POST_OPERATIONS) == len(READ_ONLY_POSTS) == 9


@pytest.mark.parametrize(
    ("operation_id", "path", "op"),
    READ_ONLY_POST_OPERATIONS,
    ids=[o[0] for o in READ_ONLY_POST_OPERATIONS],
)
def test_read_only_post_answers_valid_body(
    sandbox: Sandbox, session: requests.Session, operation_id: str, path: str, op: Mapping[str, Any]
) -> None:
    example = sandbox.dataset.example_params(operation_id)
    body = example.pop("body")
    url_path, query = _request(path, op, example)
    assert query == {}
    headers = {"X-Compatibility-Date": DATE}
    if op.get("security"):
        headers["Authorization"] = "Bearer test"
    answer = session.post(sandbox.url + url_path, json=body, headers=headers, timeout=30)
    assert answer.status_code == (201 if "201" in op["responses"] else 200), answer.text
    assert answer.headers["X-Compatibility-Date"] == op["x-compatibility-date"]
    assert answer.json() not in ([], {})
    validate(answer.json(), response_schema(SPEC, operation_id), SPEC)
