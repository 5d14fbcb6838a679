"""Authenticated calls through the client: login, character_id from the token, cache per
character, scopes checked before any request, and tokens kept out of the cache and logs."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from frametypes import check_frame
from ports import free_port

from esiframe import httpcache
from esiframe.errors import AuthError, LoginRequired, ParameterError
from esiframe.sandbox import approve_login
from esiframe.sandbox.data import Sizes
from esiframe.spec import bundled_spec

ASSETS = "esi-assets.read_assets.v1"
WALLET = "esi-wallet.read_character_wallet.v1"
AURA, BRAVO = 2112000001, 2112000002
SMALL = Sizes(page_size=40, list_pages=3, cursor_records=60, wallet_transactions=120)
SCOPED_GETS = [op.operation_id for op in bundled_spec() if op.method == "GET" and op.scope]


@pytest.fixture
def logged_in(esi_sandbox_factory, make_client):
    """A sandbox and a client with Aura and Bravo logged in for their assets."""
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox, client_id="esiframe-tests")
    for name in ("Aura Sandbox", "Bravo Sandbox"):
        login = client.login(
            scopes=[ASSETS], callback_url=f"http://127.0.0.1:{free_port()}/callback"
        )
        approve_login(login.url, character=name)
        assert login.wait(timeout=10).name == name
    return sandbox, client


def test_a_logged_in_character_gets_all_pages_of_its_assets(logged_in):
    sandbox, client = logged_in
    sandbox.log.clear()
    df = client.get("GetCharactersCharacterIdAssets", character="aura sandbox")
    meta = df.attrs["esi"]
    assert meta["character"] == AURA
    assert meta["parameters"]["character_id"] == AURA  # filled from the token
    assert meta["pages"] == SMALL.list_pages
    assert len(df) == sum(
        len(sandbox.dataset.page("GetCharactersCharacterIdAssets", {"character_id": str(AURA)}, n))
        for n in range(1, SMALL.list_pages + 1)
    )
    assert {e.path for e in sandbox.log} == {f"/characters/{AURA}/assets"}
    assert list(client.characters()["name"]) == ["Aura Sandbox", "Bravo Sandbox"]


def test_two_characters_never_share_cache_entries(logged_in):
    sandbox, client = logged_in
    aura = client.get("GetCharactersCharacterIdAssets", character=AURA)
    bravo = client.get("GetCharactersCharacterIdAssets", character=BRAVO)
    assert set(aura["item_id"]).isdisjoint(bravo["item_id"])
    before = len(sandbox.log)
    again = client.get("GetCharactersCharacterIdAssets", character=AURA)
    assert len(sandbox.log) == before  # Aura's own cached pages
    assert again["item_id"].tolist() == aura["item_id"].tolist()
    # Bravo asking for Aura's path is refused by ESI, never answered from Aura's cache.
    with pytest.raises(Exception, match="403"):
        client.get("GetCharactersCharacterIdAssets", character=BRAVO, character_id=AURA)


def _cache_bytes(folder: Path) -> bytes:
    """Every byte of the cache folder's files, and every stored answer decompressed."""
    files = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    with contextlib.closing(sqlite3.connect(folder / "http_cache.sqlite")) as db:
        rows = db.execute("SELECT value FROM responses").fetchall()
    return files + b"".join(httpcache._unpack(bytes(value)) for (value,) in rows)


def test_tokens_never_reach_the_cache_file_or_the_logs(logged_in, caplog):
    _, client = logged_in
    caplog.set_level(logging.DEBUG)
    client.get("GetCharactersCharacterIdAssets", character=AURA, force_refresh=True)
    records = client.auth.store.records()
    tokens = {r.access_token for r in records} | {r.refresh_token for r in records}
    assert len(tokens) == 4 and all(len(t) >= 16 for t in tokens)
    client.close()  # every answer committed
    cache = _cache_bytes(Path(client.settings.cache))
    assert b"GetCharactersCharacterIdAssets" in cache or b"/assets" in cache  # it was written
    for token in tokens:
        assert token.encode() not in cache
        assert token not in caplog.text
        assert token not in repr(client.characters()) + repr(records)


def test_a_missing_scope_is_named_before_any_request(logged_in):
    sandbox, client = logged_in
    sandbox.log.clear()
    with pytest.raises(LoginRequired, match=WALLET) as info:
        client.get("GetCharactersCharacterIdWallet", character="Aura Sandbox")
    assert "ef.login" in str(info.value) or "login(" in str(info.value)
    assert len(sandbox.log) == 0


def test_a_parameter_typo_is_reported_before_any_token_refresh(logged_in):
    sandbox, client = logged_in
    store = client.auth.store
    for record in store.records():  # every access token due for a refresh
        store.put(replace(record, expires=0))
    sandbox.log.clear()
    with pytest.raises(ParameterError, match="'pgae' is unknown"):
        client.get("GetCharactersCharacterIdAssets", character=AURA, pgae=2)
    assert len(sandbox.log) == 0  # not even the SSO was asked


def test_public_calls_need_no_login_and_refuse_a_character(logged_in):
    _, client = logged_in
    assert len(client.get("GetStatus")) == 1


@pytest.mark.parametrize("op_id", SCOPED_GETS)
def test_every_scoped_get_gives_a_typed_frame_with_a_token(op_id, esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox, cache=False)
    op = client.operation(op_id)
    token = sandbox.sso.issue(AURA, [op.scope])["access_token"]
    params = sandbox.dataset.example_params(op_id)
    if "character_id" in params:
        params["character_id"] = AURA
    df = client.get(op_id, token=token, **params)
    check_frame(df, op_id)


def test_from_id_walk_returns_every_transaction_newest_first(esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory(sizes=SMALL)  # 120 transactions, 50 per answer
    client = make_client(sandbox, cache=False)
    token = sandbox.sso.issue(AURA, ["esi-wallet.read_character_wallet.v1"])["access_token"]
    df = client.get("GetCharactersCharacterIdWalletTransactions", token=token, character_id=AURA)
    expected = sandbox.dataset.body(
        "GetCharactersCharacterIdWalletTransactions", {"character_id": str(AURA)}
    )
    assert df["transaction_id"].tolist() == [t["transaction_id"] for t in expected]
    assert df["transaction_id"].is_monotonic_decreasing
    assert df.attrs["esi"]["pages"] >= 3


def test_in_a_notebook_a_client_login_displays_the_panel(
    esi_sandbox_factory, make_client, monkeypatch
):
    import esiframe.auth.login as login_module

    client = make_client(esi_sandbox_factory(), client_id="esiframe-tests")
    login = client.login(scopes=[ASSETS], loopback=False)
    assert "application/vnd.jupyter.widget-view+json" not in login._repr_mimebundle_()
    monkeypatch.setattr(login_module, "_in_kernel", lambda: True)  # as inside ipykernel
    bundle = login._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Log in with EVE Online" in bundle["text/html"]


def _forged(claims: dict[str, object]) -> str:
    """An unsigned JWT (alg none) carrying whatever claims an attacker likes."""
    import base64
    import json

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_a_forged_token_never_reads_another_characters_cached_data(logged_in):
    sandbox, client = logged_in
    real = client.get("GetCharactersCharacterIdAssets", character=AURA)  # now in the cache
    assert len(real) > 0
    forged = _forged(
        {"sub": f"CHARACTER:EVE:{AURA}", "name": "Aura Sandbox", "scp": [ASSETS], "exp": 2**40}
    )
    sandbox.log.clear()
    with pytest.raises(AuthError):
        client.get("GetCharactersCharacterIdAssets", token=forged, character_id=AURA)
    assert not [e for e in sandbox.log if e.path.startswith("/characters/")]


def test_a_token_without_the_scope_is_refused_before_any_esi_request(
    esi_sandbox_factory, make_client
):
    sandbox = esi_sandbox_factory(sizes=SMALL)
    client = make_client(sandbox, cache=False)
    token = sandbox.sso.issue(AURA, [WALLET])["access_token"]
    sandbox.log.clear()
    with pytest.raises(AuthError, match=ASSETS):
        client.get("GetCharactersCharacterIdAssets", token=token)
    assert not [e for e in sandbox.log if e.path.startswith("/characters/")]
