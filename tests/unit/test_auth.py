"""Pure parts of esiframe.auth and esiframe.widgets: PKCE, claims, JWT checks, token store,
character selection, and the login panel's model. No sockets."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from esiframe.auth import (
    EVE_SSO,
    Auth,
    Character,
    Login,
    TokenRecord,
    TokenStore,
    check_claims,
    default_store_path,
    pkce_challenge,
    validate_access_token,
)
from esiframe.errors import AuthError, LoginRequired, ParameterError, TokenInvalid
from esiframe.widgets import LoginPanel, LoginPanelModel

CLIENT = "my-client-id"
NOW = 1_800_000_000.0
ISSUERS = ("login.eveonline.com", "https://login.eveonline.com")


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scp": ["esi-assets.read_assets.v1", "esi-wallet.read_character_wallet.v1"],
        "jti": "998e12c7-3241-43c5-8355-2c48822e0a1b",
        "kid": "JWT-Signature-Key",
        "sub": "CHARACTER:EVE:2112000001",
        "azp": CLIENT,
        "tenant": "tranquility",
        "tier": "live",
        "region": "world",
        "aud": [CLIENT, "EVE Online"],
        "name": "Aura Sandbox",
        "owner": "8PmzCeTKb4VFUDrHLc/AeZXDSWM=",
        "exp": int(NOW) + 1200,
        "iat": int(NOW),
        "iss": "login.eveonline.com",
    }
    base.update(changes)
    return base


# --- PKCE -------------------------------------------------------------------------------------


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!"])
def test_pkce_verifier_outside_rfc_rules_is_refused(verifier: str) -> None:
    with pytest.raises(ParameterError, match="43 to 128"):
        pkce_challenge(verifier)


# --- claims -----------------------------------------------------------------------------------


def test_claims_of_an_eve_token_are_extracted() -> None:
    got = check_claims(claims(), client_id=CLIENT, issuers=ISSUERS, now=NOW)
    assert got.character_id == 2112000001
    assert got.name == "Aura Sandbox"
    assert got.scopes == ("esi-assets.read_assets.v1", "esi-wallet.read_character_wallet.v1")
    assert got.expires == NOW + 1200


def test_a_single_scope_may_arrive_as_a_plain_string() -> None:
    got = check_claims(
        claims(scp="esi-assets.read_assets.v1"), client_id=CLIENT, issuers=ISSUERS, now=NOW
    )
    assert got.scopes == ("esi-assets.read_assets.v1",)


def test_a_token_without_scopes_has_none() -> None:
    raw = claims()
    del raw["scp"]
    assert check_claims(raw, client_id=CLIENT, issuers=ISSUERS, now=NOW).scopes == ()


@pytest.mark.parametrize("issuer", ISSUERS)
def test_both_documented_eve_issuers_are_accepted(issuer: str) -> None:
    accepted = check_claims(claims(iss=issuer), client_id=CLIENT, issuers=ISSUERS, now=NOW)
    assert accepted.client_id == CLIENT


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"iss": "logineveonline.com"}, "issuer"),
        ({"aud": ["another-client", "EVE Online"]}, "client id"),
        ({"aud": [CLIENT]}, "EVE Online"),
        ({"aud": CLIENT}, "EVE Online"),
        ({"exp": int(NOW) - 60}, "expired"),
        ({"exp": "soon"}, "expiry"),
        ({"sub": "EVE:CHARACTER:2112000001"}, "subject"),
        ({"sub": "CHARACTER:EVE:abc"}, "subject"),
        ({"scp": {"esi-assets.read_assets.v1": True}}, "scp"),
        ({"name": None}, "name"),
    ],
)
def test_claims_that_eve_would_not_issue_are_rejected(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(TokenInvalid, match=complaint):
        check_claims(claims(**changes), client_id=CLIENT, issuers=ISSUERS, now=NOW)


@pytest.mark.parametrize("key", ["nbf", "iat"])
def test_a_token_from_the_future_is_rejected(key: str) -> None:
    check_claims(claims(**{key: int(NOW) + 3}), client_id=CLIENT, issuers=ISSUERS, now=NOW)
    with pytest.raises(TokenInvalid, match="in the future"):
        check_claims(claims(**{key: int(NOW) + 600}), client_id=CLIENT, issuers=ISSUERS, now=NOW)
    with pytest.raises(TokenInvalid, match=key):
        check_claims(claims(**{key: "later"}), client_id=CLIENT, issuers=ISSUERS, now=NOW)


def test_without_a_client_id_the_audience_must_hold_the_token_s_own_client() -> None:
    got = check_claims(claims(), client_id=None, issuers=ISSUERS, now=NOW)
    assert got.client_id == CLIENT
    with pytest.raises(TokenInvalid, match="client id"):
        check_claims(claims(azp="other"), client_id=None, issuers=ISSUERS, now=NOW)
    with pytest.raises(TokenInvalid, match="azp"):
        check_claims(claims(azp=None), client_id=None, issuers=ISSUERS, now=NOW)


def test_expiry_allows_a_small_leeway() -> None:
    recent = claims(exp=int(NOW) - 3)
    check_claims(recent, client_id=CLIENT, issuers=ISSUERS, now=NOW, leeway=5)
    with pytest.raises(TokenInvalid, match="expired"):
        check_claims(recent, client_id=CLIENT, issuers=ISSUERS, now=NOW, leeway=1)


# --- signatures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "JWT-Signature-Key", "alg": "RS256"})


@pytest.fixture(scope="module")
def published(signing_key: RSAKey) -> KeySet:
    return KeySet.import_key_set({"keys": [signing_key.as_dict(private=False)]})


def sign(key: Any, alg: str = "RS256", **changes: Any) -> str:
    return jwt.encode(
        {"alg": alg, "kid": "JWT-Signature-Key", "typ": "JWT"}, claims(**changes), key
    )


def test_a_token_signed_by_the_published_key_validates(
    signing_key: RSAKey, published: KeySet
) -> None:
    got = validate_access_token(
        sign(signing_key), published, client_id=CLIENT, issuers=ISSUERS, now=NOW
    )
    assert got.character_id == 2112000001


def test_a_tampered_token_is_rejected(signing_key: RSAKey, published: KeySet) -> None:
    header, _payload, signature = sign(signing_key).split(".")
    forged = sign(signing_key, name="Somebody Else").split(".")[1]
    with pytest.raises(TokenInvalid, match="bad_signature"):
        validate_access_token(
            f"{header}.{forged}.{signature}", published, client_id=CLIENT, issuers=ISSUERS, now=NOW
        )


def test_a_token_of_another_key_is_rejected(published: KeySet) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "JWT-Signature-Key"})
    with pytest.raises(TokenInvalid):
        validate_access_token(sign(other), published, client_id=CLIENT, issuers=ISSUERS, now=NOW)


def test_only_rs256_is_accepted(published: KeySet) -> None:
    hmac_key = OctKey.generate_key(256)
    with pytest.raises(TokenInvalid, match="RS256"):
        validate_access_token(
            sign(hmac_key, alg="HS256"), published, client_id=CLIENT, issuers=ISSUERS, now=NOW
        )


def test_garbage_is_not_a_token(published: KeySet) -> None:
    with pytest.raises(TokenInvalid):
        validate_access_token("not.a.jwt", published, client_id=CLIENT, issuers=ISSUERS, now=NOW)


# --- token store ------------------------------------------------------------------------------


OFFLINE_SSO = "http://127.0.0.1:9"  # nothing listens there: any SSO request fails at once


def record(
    character_id: int = 2112000001, name: str = "Aura Sandbox", **changes: Any
) -> TokenRecord:
    values: dict[str, Any] = {
        "sso": OFFLINE_SSO,
        "client_id": CLIENT,
        "character_id": character_id,
        "name": name,
        "scopes": ("esi-assets.read_assets.v1",),
        "expires": NOW + 1200,
        "refresh_token": f"refresh-secret-{character_id}",
        "access_token": f"access-secret-{character_id}",
    }
    values.update(changes)
    return TokenRecord(**values)


def test_store_round_trips_several_characters_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "config" / "tokens.json"
    TokenStore(path).put(record())
    TokenStore(path).put(record(2112000002, "Bravo Sandbox"))
    TokenStore(path).put(record(access_token="newer", expires=NOW + 2400))
    again = TokenStore(path)
    assert {r.character_id for r in again.records()} == {2112000001, 2112000002}
    aura = again.get((OFFLINE_SSO, CLIENT, 2112000001))
    assert aura is not None and aura.access_token == "newer" and aura.expires == NOW + 2400
    assert again.remove((OFFLINE_SSO, CLIENT, 2112000002)) is True
    assert again.remove((OFFLINE_SSO, CLIENT, 2112000002)) is False
    assert [r.name for r in TokenStore(path).records()] == ["Aura Sandbox"]


def test_store_file_is_private_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "config" / "tokens.json"
    TokenStore(path).put(record())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    # beside the file only its lock file (shared by every process), private as well
    assert sorted(os.listdir(path.parent)) == ["tokens.json", "tokens.json.lock"]
    assert stat.S_IMODE(os.stat(path.parent / "tokens.json.lock").st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    store.put(record())
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(record(2112000002, "Bravo Sandbox"))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["tokens.json", "tokens.json.lock"]


def test_a_write_removes_temporary_files_of_killed_writes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    TokenStore(path).put(record())
    leftover = tmp_path / ".tokens-killed.tmp"  # what a writer killed before os.replace leaves
    leftover.write_text('{"tokens": [{"refresh_token": "refresh-secret"}]}')
    TokenStore(path).put(record(2112000002, "Bravo Sandbox"))
    assert not leftover.exists()
    assert len(TokenStore(path).records()) == 2


def test_the_store_lock_excludes_other_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    probe = (
        "import sys\nfrom esiframe.auth import TokenStore\nfrom esiframe.errors import AuthError\n"
        "try:\n    TokenStore(sys.argv[1], lock_wait=0).put(TokenStore(sys.argv[1]).records()[0])\n"
        "except AuthError as exc:\n    print('refused:', exc)\nelse:\n    print('wrote')\n"
    )
    store.put(record())
    with store.locked():
        held = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True)
    free = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True)
    refused = held.stdout.decode()
    assert refused.startswith("refused:") and "tokens.json.lock" in refused
    assert free.stdout.decode().strip() == "wrote", free.stderr.decode()


def test_store_sees_writes_of_another_process(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    mine = TokenStore(path)
    mine.put(record())
    assert len(mine.records()) == 1
    TokenStore(path).put(record(2112000002, "Bravo Sandbox"))
    assert len(mine.records()) == 2


def test_a_corrupt_token_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(AuthError, match=r"tokens\.json"):
        TokenStore(path).records()


def test_default_store_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESIFRAME_CONFIG_DIR", str(tmp_path))
    assert default_store_path() == tmp_path / "tokens.json"
    assert TokenStore().path == tmp_path / "tokens.json"


def test_tokens_never_show_in_reprs(tmp_path: Path) -> None:
    stored = record()
    character = Character.from_record(stored)
    for text in (repr(stored), repr(character), str(character), repr(TokenStore(tmp_path / "t"))):
        assert "secret" not in text
    assert character.expires == datetime.fromtimestamp(NOW + 1200, UTC)


# --- choosing a stored login ------------------------------------------------------------------


@pytest.fixture
def offline_auth(tmp_path: Path) -> Auth:
    """An Auth over stored, still valid tokens: none of these calls needs the SSO."""
    store = TokenStore(tmp_path / "tokens.json")
    store.put(record())
    store.put(
        record(
            2112000002,
            "Bravo Sandbox",
            scopes=("esi-assets.read_assets.v1", "esi-wallet.read_character_wallet.v1"),
        )
    )
    return Auth(sso_url=OFFLINE_SSO, session=requests.Session(), store=store, clock=lambda: NOW)


def test_characters_with_a_scope(offline_auth: Auth) -> None:
    wallet = "esi-wallet.read_character_wallet.v1"
    both = offline_auth.characters_with("esi-assets.read_assets.v1")
    assert [c.name for c in both] == ["Aura Sandbox", "Bravo Sandbox"]
    assert [c.character_id for c in offline_auth.characters_with(wallet)] == [2112000002]
    assert offline_auth.characters_with(wallet, client_id="other-app") == []
    assert offline_auth.characters_with("esi-skills.read_skills.v1") == []
    assert len(offline_auth.characters_with(None)) == 2


def test_logins_of_another_sso_are_neither_seen_nor_touched(offline_auth: Auth) -> None:
    eve = record(2112000003, "Charlie Main", sso=EVE_SSO, access_token="", expires=0)
    offline_auth.store.put(eve)
    assert "Charlie Main" not in set(offline_auth.characters()["name"])
    with pytest.raises(LoginRequired, match="not logged in"):
        offline_auth.access_token(character="Charlie Main")
    assert offline_auth.store.get(eve.key) == eve  # a sandbox session never refreshes or drops it
    assert TokenRecord.from_json({k: v for k, v in eve.to_json().items() if k != "sso"}).sso == (
        EVE_SSO  # files written before logins named their SSO are EVE's
    )


@pytest.mark.parametrize("who", ["aura sandbox", "AURA SANDBOX", 2112000001, "2112000001"])
def test_a_character_is_found_by_name_or_id(offline_auth: Auth, who: str | int) -> None:
    token, character = offline_auth.access_token(character=who)
    assert token == "access-secret-2112000001"
    assert character.name == "Aura Sandbox"


def test_the_only_character_with_the_scope_is_chosen(offline_auth: Auth) -> None:
    _, character = offline_auth.access_token(scope="esi-wallet.read_character_wallet.v1")
    assert character.character_id == 2112000002


def test_several_fitting_characters_must_be_named(offline_auth: Auth) -> None:
    with pytest.raises(ParameterError, match=r"Aura Sandbox \(2112000001\).*Bravo Sandbox"):
        offline_auth.access_token(scope="esi-assets.read_assets.v1")


def test_a_missing_scope_says_how_to_log_in(offline_auth: Auth) -> None:
    with pytest.raises(LoginRequired) as caught:
        offline_auth.access_token(character="Aura Sandbox", scope="esi-skills.read_skills.v1")
    message = str(caught.value)
    assert "ef.login(client_id='my-client-id'" in message
    assert "'esi-assets.read_assets.v1', 'esi-skills.read_skills.v1'" in message


def test_an_unknown_character_lists_the_logged_in_ones(offline_auth: Auth) -> None:
    with pytest.raises(LoginRequired, match=r"Aura Sandbox.*Bravo Sandbox.*ef\.login\("):
        offline_auth.access_token(character="Nobody")


def test_another_client_id_has_no_logins(offline_auth: Auth) -> None:
    with pytest.raises(LoginRequired, match="client id 'other-app'"):
        offline_auth.access_token(client_id="other-app")


def test_a_character_must_be_a_name_or_id(offline_auth: Auth) -> None:
    with pytest.raises(ParameterError, match="name or id"):
        offline_auth.access_token(character=True)


def test_characters_frame(offline_auth: Auth) -> None:
    frame = offline_auth.characters()
    assert list(frame.columns) == ["character_id", "name", "scopes", "expires", "client_id"]
    assert frame["character_id"].tolist() == [2112000001, 2112000002]
    assert frame["scopes"][1] == [
        "esi-assets.read_assets.v1",
        "esi-wallet.read_character_wallet.v1",
    ]
    assert str(frame["expires"].dt.tz) == "UTC"
    assert frame["expires"][0] == datetime.fromtimestamp(NOW + 1200, UTC)


def test_login_rejects_bad_arguments_before_any_request(offline_auth: Auth) -> None:
    with pytest.raises(ParameterError, match="client_id"):
        offline_auth.login("", ["esi-assets.read_assets.v1"])
    with pytest.raises(ParameterError, match="scope"):
        offline_auth.login(CLIENT, ["esi-assets.read_assets.v1 extra"])
    with pytest.raises(ParameterError, match="loopback=False"):
        offline_auth.login(CLIENT, [], callback_url="https://example.com/callback")


# --- the login and its panel ------------------------------------------------------------------


AURA = Character(
    2112000001,
    "Aura Sandbox",
    ("esi-assets.read_assets.v1",),
    CLIENT,
    datetime.fromtimestamp(NOW + 1200, UTC),
)


def make_login(exchange: Any = None, *, loopback: bool = False) -> tuple[Login, list[str]]:
    codes: list[str] = []

    def redeem(code: str) -> Character:
        codes.append(code)
        return AURA

    login = Login(
        url="https://sso.example/v2/oauth/authorize?state=s1",
        state="s1",
        exchange=exchange or redeem,
        client_id=CLIENT,
        scopes=["esi-assets.read_assets.v1"],
        loopback=loopback,
    )
    return login, codes


def test_finish_checks_state_then_redeems_the_code_once() -> None:
    login, codes = make_login()
    with pytest.raises(TokenInvalid, match="state mismatch"):
        login.finish("http://127.0.0.1:8765/callback?code=abc&state=other")
    assert login.status == "waiting"
    assert login.finish("http://127.0.0.1:8765/callback?code=abc&state=s1") == AURA
    assert login.finish("http://127.0.0.1:8765/callback?code=abc&state=s1") == AURA
    assert codes == ["abc"]
    assert login.wait(0) == AURA


def test_a_refused_login_ends_in_error() -> None:
    login, codes = make_login()
    with pytest.raises(LoginRequired, match="access_denied"):
        login.finish("http://127.0.0.1:8765/callback?error=access_denied&state=s1")
    assert login.status == "error" and codes == []
    with pytest.raises(LoginRequired, match="access_denied"):
        login.wait(0)


def test_wait_gives_up_after_its_timeout() -> None:
    login, _ = make_login()
    with pytest.raises(LoginRequired, match="did not complete"):
        login.wait(0.01)


def test_the_terminal_repr_tells_what_to_do() -> None:
    login, _ = make_login()
    text = repr(login)
    assert login.url in text and "login.finish(" in text
    login.finish("http://x/?code=abc&state=s1")
    assert "Aura Sandbox" in repr(login)


def test_outside_jupyter_a_login_displays_as_text_and_a_link() -> None:
    login, _ = make_login()
    bundle = login._repr_mimebundle_()
    assert bundle["text/plain"] == repr(login)
    assert 'target="_blank"' in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in bundle


def test_panel_model_paste_path() -> None:
    login, _ = make_login()
    model = LoginPanelModel(login)
    seen: list[str] = []
    model.add_listener(lambda m: seen.append(m.status))
    assert model.status == "waiting" and "paste" in model.text
    model.submit("")
    assert model.status == "waiting" and "did not complete" in model.text
    model.submit("http://127.0.0.1:8765/callback?code=abc&state=wrong")
    assert model.status == "waiting" and "state mismatch" in model.text
    model.submit("http://127.0.0.1:8765/callback?code=abc&state=s1")
    assert model.character == AURA
    assert model.text.startswith("Logged in as Aura Sandbox (2112000001)")
    assert model.portrait_url == "https://images.evetech.net/characters/2112000001/portrait?size=64"
    assert seen == ["waiting", "waiting", "done"]


def test_panel_model_shows_a_failed_exchange() -> None:
    def refuse(code: str) -> Character:
        raise TokenInvalid("the SSO refused the authorization code: invalid_grant")

    login, _ = make_login(refuse)
    model = LoginPanelModel(login)
    model.submit("http://127.0.0.1:8765/callback?code=abc&state=s1")
    assert model.status == "error" and "invalid_grant" in model.text


def test_panel_follows_a_completion_on_another_thread() -> None:
    login, _ = make_login(loopback=True)
    panel = LoginPanel(login)
    assert login.url.replace("&", "&amp;") in panel.link_html.value
    assert "Waiting" in panel.status_html.value
    worker = threading.Thread(target=login.finish, args=("http://x/cb?code=c&state=s1",))
    worker.start()
    worker.join()
    assert "Logged in as Aura Sandbox" in panel.status_html.value
    assert "characters/2112000001/portrait" in panel.character_html.value
    assert panel.paste_row.layout.display == "none"


def test_panel_finish_button_uses_the_pasted_url() -> None:
    login, codes = make_login()
    panel = LoginPanel(login)
    panel.paste_text.value = "http://127.0.0.1:8765/callback?code=pasted&state=s1"
    panel.finish_button.click()
    assert codes == ["pasted"] and login.status == "done"


class _SSOAnswering(requests.Session):
    """The SSO's HTTP as a transport stand-in: metadata, and one fixed token-endpoint error."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        answer = requests.Response()
        answer.headers["Content-Type"] = "application/json"
        if str(url).endswith("/.well-known/oauth-authorization-server"):
            answer.status_code = 200
            endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
            body = {"issuer": "127.0.0.1:9"} | {key: f"{OFFLINE_SSO}/{key}" for key in endpoints}
        else:
            answer.status_code = 400
            body = {"error": self.error, "error_description": "as told"}
        answer._content = json.dumps(body).encode()
        return answer


@pytest.mark.parametrize("error", ["temporarily_unavailable", "invalid_request"])
def test_a_passing_sso_error_on_refresh_keeps_the_login(tmp_path: Path, error: str) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.put(record(access_token="", expires=0))
    auth = Auth(sso_url=OFFLINE_SSO, session=_SSOAnswering(error), store=store, clock=lambda: NOW)
    with pytest.raises(AuthError, match="login is kept") as info:
        auth.access_token()
    assert not isinstance(info.value, LoginRequired)
    assert len(store.records()) == 1


def test_a_refused_refresh_token_forgets_the_login(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.put(record(access_token="", expires=0))
    auth = Auth(
        sso_url=OFFLINE_SSO, session=_SSOAnswering("invalid_grant"), store=store, clock=lambda: NOW
    )
    with pytest.raises(LoginRequired, match="log in again"):
        auth.access_token()
    assert store.records() == []


class _Redirecting(requests.Session):
    """An SSO whose token endpoint answers 307 to another host; records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        prepared = self.prepare_request(  # what requests would send, the client auth applied
            requests.Request(
                str(method), str(url), data=kwargs.get("data"), auth=kwargs.get("auth")
            )
        )
        form = parse_qs(str(prepared.body or ""))
        self.sent.append((str(method), str(url), kwargs | {"form": form}))
        answer = requests.Response()
        answer.url = str(url)
        if str(url).endswith("/.well-known/oauth-authorization-server"):
            answer.status_code = 200
            endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
            body = {"issuer": "127.0.0.1:9"} | {key: f"{OFFLINE_SSO}/{key}" for key in endpoints}
            answer._content = json.dumps(body).encode()
        else:
            answer.status_code = 307
            answer.headers["Location"] = "https://elsewhere.example/steal"
            answer._content = b""
        return answer


def test_a_redirect_on_the_token_endpoint_is_not_followed(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.put(record(access_token="", expires=0))
    session = _Redirecting()
    auth = Auth(sso_url=OFFLINE_SSO, session=session, store=store, clock=lambda: NOW)
    with pytest.raises(AuthError, match="307") as info:
        auth.access_token()
    assert "refresh-secret" not in str(info.value)
    posts = [(url, kwargs) for method, url, kwargs in session.sent if method == "POST"]
    assert [url for url, _ in posts] == [f"{OFFLINE_SSO}/token_endpoint"]
    assert posts[0][1]["allow_redirects"] is False
    # the form authlib made: a public client's refresh (client_id in the body, no secret)
    assert posts[0][1]["form"] == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-secret-2112000001"],
        "client_id": [CLIENT],
    }
    assert len(store.records()) == 1  # a passing SSO problem: the login is kept


def test_a_plain_http_sso_elsewhere_warns(tmp_path: Path) -> None:
    from esiframe.errors import EsiframeWarning

    store = TokenStore(tmp_path / "tokens.json")
    with pytest.warns(EsiframeWarning, match="unencrypted"):
        Auth(sso_url="http://sso.example.com", session=requests.Session(), store=store)
    for local in ("http://127.0.0.1:9", "http://localhost:8080", "http://[::1]:9"):
        Auth(sso_url=local, session=requests.Session(), store=store)  # warnings are errors here
    Auth(sso_url="https://login.eveonline.com", session=requests.Session(), store=store)


def test_auth_knows_nothing_of_widgets() -> None:
    import subprocess
    import sys

    code = (
        "import sys, esiframe.auth\n"
        "print(sorted(m for m in sys.modules if m.startswith(('esiframe.widgets', 'ipywidgets'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_login_shows_its_view_only_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    import esiframe.auth.login as login_module

    class View:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
            return {"application/vnd.jupyter.widget-view+json": {"model_id": "m1"}}

    made: list[Login] = []
    login, _ = make_login()
    login.view = lambda shown: made.append(shown) or View()
    assert "application/vnd.jupyter.widget-view+json" not in login._repr_mimebundle_()
    assert made == []
    monkeypatch.setattr(login_module, "_in_kernel", lambda: True)
    bundle = login._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"] == {"model_id": "m1"}
    login._repr_mimebundle_()
    assert made == [login]  # one view per login, made once
