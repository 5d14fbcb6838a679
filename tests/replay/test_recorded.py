"""Every recorded real ESI exchange, replayed through ``Client.get`` (issue 11.6).

A local server (tests/replay/server.py) answers with what ESI really sent:
status, headers as recorded (``Etag``, not ``ETag``) and body. The checks:

* a 200 gives a frame with one row per record (per page for X-Pages answers),
  every field of the body a column (nested objects as ``parent_child``) holding
  the recorded values;
* a recorded error raises the matching ``EsiError`` (4xx ``ClientError``, 5xx
  ``ServerError``, 420/429 ``RateLimitedError``) carrying ESI's message;
* a 304 (recorded after an ``If-None-Match``) revalidates the frame of the
  200 before it: the client sends the recorded validator and keeps the rows.

The recordings live beside the repository in ``../shared/esi/recorded`` (a
worktree finds them beside a folder above it); without them the tests skip.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from replay.server import Playback, bare_etag, base_url, header, load, replay_server

import esiframe
from esiframe.errors import ClientError, EsiError, RateLimitedError, ServerError
from esiframe.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[2]


def _recorded_dir() -> Path:
    """``../shared/esi/recorded`` beside the repository (or beside a folder above it)."""
    for folder in REPO.parents:
        candidate = folder / "shared" / "esi" / "recorded"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "esi" / "recorded"


RECORDED = _recorded_dir()
EXCHANGES = load(RECORDED) if RECORDED.is_dir() else {}
NO_RECORDINGS = f"the recorded ESI answers are not beside the repository ({RECORDED})"

#: Stands in for the character on authenticated recordings that have no character_id.
ANY_CHARACTER = 2112000001


def _names(first: int, last: int) -> list[str]:
    """Recordings whose status is in ``first..last``."""
    return sorted(n for n, e in EXCHANGES.items() if first <= e["status"] <= last)


ANSWERS = _names(200, 299)
NOT_MODIFIED = _names(304, 304)
ERRORS = _names(400, 599)


@pytest.fixture(scope="module")
def sso() -> Iterator[Sandbox]:
    """A local EVE SSO (the sandbox's) that signs the tokens authenticated recordings need.

    The recordings hold no tokens, and esiframe may verify a ``token=`` against the SSO's
    keys, so a real signed token for the recorded character is minted here.
    """
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    if not EXCHANGES:
        pytest.skip(NO_RECORDINGS)
    with replay_server() as running:
        yield running


def _token(sso: Sandbox, character_id: Any, scope: str) -> str:
    """A signed access token for the character (made known to the SSO) with one scope."""
    character = int(character_id) if character_id is not None else ANY_CHARACTER
    sso.sso.characters.setdefault(character, f"Replay {character}")
    token: str = sso.sso.issue(character, [scope])["access_token"]
    return token


def _client(
    server: Any, sso: Sandbox, cache: Path | bool, on_limit: str = "sleep"
) -> esiframe.Client:
    return esiframe.Client(
        base_url=base_url(server),
        sso_url=sso.url,
        cache=cache,
        app_name="esiframe-replay-test",
        contact="replay@example.invalid",
        progress=False,
        retries=0,
        on_limit=on_limit,
    )


def _call(client: esiframe.Client, exchange: Mapping[str, Any], sso: Sandbox) -> pd.DataFrame:
    """``client.get`` with the recorded parameters (and a token if the route needs one)."""
    op = client.operation(exchange["operation_id"])
    params: dict[str, Any] = dict(exchange["path_params"])
    types = {p.name: p.type for p in op.user_parameters}
    for name, value in exchange["query"].items():
        if name not in ("page", "language", "datasource"):
            params[name] = _typed(value, types.get(name))
    kwargs: dict[str, Any] = {}
    language = exchange["query"].get("language")
    if language:
        kwargs["language"] = language.split("-")[0]  # old ?language=en-us: Accept-Language now
    if op.scope is not None:
        kwargs["token"] = _token(sso, params.get("character_id"), op.scope)
    if exchange.get("request_body") is not None:
        kwargs["body"] = exchange["request_body"]
    with warnings.catch_warnings():
        # Off-schema answers may warn (issue 11.5); the warning is not a failure here.
        warnings.simplefilter("ignore")
        df: pd.DataFrame = client.get(exchange["operation_id"], **kwargs, **params)
    return df


def _typed(value: Any, kind: str | None) -> Any:
    """A recorded query string as the Python value a user would pass."""
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return str(value).lower() == "true"
    return value


# -- what the frame must hold -------------------------------------------------------------


def _same(recorded: Any, cell: Any) -> bool:
    """Whether a frame cell holds the recorded JSON value (types as esiframe converts them)."""
    if isinstance(cell, np.ndarray):
        cell = cell.tolist()
    if recorded is None:
        return cell is None or (not isinstance(cell, list | dict) and bool(pd.isna(cell)))
    if isinstance(recorded, list):
        return (
            isinstance(cell, list)
            and len(cell) == len(recorded)
            and all(_same(r, c) for r, c in zip(recorded, cell, strict=True))
        )
    if isinstance(recorded, dict):
        return (
            isinstance(cell, Mapping)
            and set(cell) == set(recorded)
            and all(_same(recorded[k], cell[k]) for k in recorded)
        )
    if cell is None or (not isinstance(cell, list | dict | Mapping) and pd.isna(cell)):
        return False
    if isinstance(cell, pd.Timestamp | datetime | date) and isinstance(recorded, str):
        return _same_time(recorded, cell)
    if isinstance(recorded, bool) or isinstance(cell, bool | np.bool_):
        return bool(recorded) == bool(cell) and isinstance(recorded, bool)
    if isinstance(recorded, int | float):
        return isinstance(cell, int | float | np.number) and math.isclose(
            float(recorded), float(cell), rel_tol=1e-12
        )
    return str(recorded) == str(cell)


def _same_time(recorded: str, cell: Any) -> bool:
    want = pd.Timestamp(recorded)
    got = pd.Timestamp(cell)
    if want.tzinfo is not None and got.tzinfo is None:
        got = got.tz_localize("UTC")
    if want.tzinfo is None and got.tzinfo is not None:
        want = want.tz_localize("UTC")
    return bool(want == got)


def _fields(record: Mapping[str, Any], columns: set[str], prefix: str = "") -> dict[str, Any]:
    """Column name -> recorded value, nested objects flattened unless kept whole as a column."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and name not in columns:
            out.update(_fields(value, columns, f"{name}_"))
        else:
            out[name] = value
    return out


def _records(body: Any) -> list[Any]:
    if body is None:  # e.g. a 204: no content, no rows
        return []
    if isinstance(body, list):
        return body
    return [body]


def _check_frame(df: pd.DataFrame, body: Any, pages: int) -> list[str]:
    """Differences between the frame and the recorded body served on each of ``pages`` pages."""
    records = _records(body) * pages
    if len(df) != len(records):
        return [f"{len(df)} rows, recorded {len(records)} records ({pages} page(s))"]
    if records and not isinstance(records[0], dict):
        if len(df.columns) != 1:
            return [f"a list of scalars gave columns {list(df.columns)}"]
        column = df.columns[0]
        bad = [i for i, r in enumerate(records) if not _same(r, df[column].iloc[i])]
        return [f"{column}[{i}]: {df[column].iloc[i]!r}, recorded {records[i]!r}" for i in bad[:3]]
    columns = {str(c) for c in df.columns}
    problems: list[str] = []
    for i, record in enumerate(records):
        for name, value in _fields(record, columns).items():
            if name not in columns:
                problems.append(f"field {name!r} is not a column (recorded {value!r})")
            elif not _same(value, df[name].iloc[i]):
                problems.append(f"{name}[{i}]: {df[name].iloc[i]!r}, recorded {value!r}")
        if len(problems) > 5:
            break
    return sorted(set(problems))[:8]


def _pages(exchange: Mapping[str, Any]) -> int:
    pages = header(exchange, "X-Pages")
    return int(pages) if pages is not None else 1


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ANSWERS or ["none"])
def test_recorded_answer_becomes_a_frame(server: Any, sso: Sandbox, name: str) -> None:
    """Every field ESI sent is a column with its values, one row per record and page."""
    exchange = EXCHANGES[name]
    server.playback = playback = Playback(exchange)
    df = _call(_client(server, sso, False), exchange, sso)
    assert not playback.unexpected, f"{name}: the client asked for {playback.unexpected}"
    assert len(playback.requests) == _pages(exchange), f"{name}: {playback.requests}"
    problems = _check_frame(df, exchange["body"], _pages(exchange))
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("name", ERRORS or ["none"])
def test_recorded_error_raises_with_esi_message(server: Any, sso: Sandbox, name: str) -> None:
    """A recorded 404 is a ClientError (5xx a ServerError) that says what ESI said."""
    exchange = EXCHANGES[name]
    server.playback = Playback(exchange)
    with pytest.raises(EsiError) as raised:
        _call(_client(server, sso, False, on_limit="raise"), exchange, sso)
    status = exchange["status"]
    expected = (
        RateLimitedError
        if status in (420, 429)
        else ClientError
        if status < 500
        else (ServerError, RateLimitedError)
    )
    assert isinstance(raised.value, expected), f"{name}: {type(raised.value).__name__}"
    assert raised.value.status == status
    message = (exchange["body"] or {}).get("error", "")
    assert message in str(raised.value), f"{name}: {raised.value} lacks {message!r}"


def _before(exchange: Mapping[str, Any]) -> Mapping[str, Any]:
    """The 200 this 304 revalidated: recorded if there is one, else built from its headers.

    Most cassettes kept the 304 alone. Then the 200 carries the 304's own
    validators and a body recorded for the same operation (same path preferred).
    """
    sent = bare_etag(exchange["conditional_request_headers"]["If-None-Match"])
    same_op: list[Mapping[str, Any]] = [
        e
        for e in EXCHANGES.values()
        if 200 <= e["status"] <= 299 and e["operation_id"] == exchange["operation_id"]
    ]
    for e in same_op:
        if e["path"] == exchange["path"] and bare_etag(header(e, "Etag")) == sent:
            return e
    same_op.sort(key=lambda e: (e["path"] != exchange["path"], e["recorded_at"]))
    headers = dict(exchange["response_headers"])
    headers.setdefault("Content-Type", "application/json; charset=UTF-8")
    return {**exchange, "status": 200, "response_headers": headers, "body": same_op[0]["body"]}


@pytest.mark.parametrize("name", NOT_MODIFIED or ["none"])
def test_recorded_304_keeps_the_cached_rows(
    server: Any, sso: Sandbox, tmp_path: Path, name: str
) -> None:
    """A real 304 (empty body, ``Etag``/``Expires`` as recorded) serves the cached frame."""
    exchange = EXCHANGES[name]
    first = _before(exchange)
    server.playback = Playback(first)
    client = _client(server, sso, tmp_path / "cache")
    before = _call(client, first, sso)
    server.playback = playback = Playback(first, not_modified=exchange)
    after = _call(client, first, sso)  # the recorded Expires is long past: revalidate
    assert not playback.unexpected, f"{name}: the client asked for {playback.unexpected}"
    sent = [h.get("if-none-match") for _, _, h in playback.requests]
    want = bare_etag(exchange["conditional_request_headers"]["If-None-Match"])
    assert [bare_etag(s) for s in sent[:1]] == [want], f"{name}: If-None-Match sent: {sent}"
    pd.testing.assert_frame_equal(after, before)
    problems = _check_frame(after, first["body"], _pages(first))
    assert not problems, f"{name}: " + "; ".join(problems)


def test_every_recording_is_replayed() -> None:
    """The three tests above cover all recordings; a new status would need a new check."""
    if not EXCHANGES:
        pytest.skip(NO_RECORDINGS)
    covered = set(ANSWERS) | set(NOT_MODIFIED) | set(ERRORS)
    assert covered == set(EXCHANGES)
