"""The EVE SSO flow end to end against the sandbox's SSO, with `requests` as the browser.

Covers the authorize page and its form, the loopback callback, the paste path, PKCE, JWT
validation on the client, scoped sandbox routes (401/403), transparent and single-flight
refresh with rotation, revocation and logout.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from fakeclock import FakeClock
from joserfc import jwt
from joserfc.jwk import RSAKey
from ports import free_port

from esiframe.auth import Auth, Login, TokenStore, pkce_challenge
from esiframe.errors import AuthError, LoginRequired, TokenInvalid
from esiframe.sandbox import Sandbox
from esiframe.sandbox.sso import SandboxSSO
from esiframe.widgets import LoginPanel

CLIENT = "esiframe-tests"
ASSETS = "esi-assets.read_assets.v1"
WALLET = "esi-wallet.read_character_wallet.v1"
AURA, BRAVO = 2112000001, 2112000002
DATE = {"X-Compatibility-Date": "2026-08-04"}


class FormParser(HTMLParser):
    """The authorize page's form: its action, fields and the character choices."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.characters: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.action = attr.get("action", "")
        elif tag == "input" and attr.get("type") == "hidden":
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "input" and attr.get("type") == "radio" and attr.get("name") == "character_id":
            self.characters.append(attr["value"])


def approve(
    browser: requests.Session, sandbox: Sandbox, url: str, character: int, decision: str = "approve"
) -> str:
    """Open the authorize URL, pick ``character``, submit; return the redirect's Location."""
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    assert str(character) in form.characters
    answer = browser.post(
        sandbox.url + form.action,
        data={**form.fields, "character_id": str(character), "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


@pytest.fixture
def sandbox(esi_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return esi_sandbox_factory()


@pytest.fixture
def clock() -> FakeClock:
    import time

    return FakeClock(time.time())


@pytest.fixture
def auth(sandbox: Sandbox, clock: FakeClock, tmp_path: Path) -> Iterator[Auth]:
    sandbox.sso.clock = clock
    session = requests.Session()
    yield Auth(
        sso_url=sandbox.url,
        session=session,
        store=TokenStore(tmp_path / "config" / "tokens.json"),
        clock=clock,
    )
    session.close()


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def logins() -> Iterator[list[Login]]:
    """Logins a test started; any still waiting are cancelled (freeing their ports)."""
    started: list[Login] = []
    yield started
    for login in started:
        login.cancel()


def paste_login(
    auth: Auth, browser: requests.Session, sandbox: Sandbox, character: int, scopes: list[str]
) -> Login:
    login = auth.login(CLIENT, scopes, loopback=False)
    login.finish(approve(browser, sandbox, login.url, character))
    return login


def esi(sandbox: Sandbox, path: str, token: str | None = None) -> requests.Response:
    headers = dict(DATE)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(sandbox.url + path, headers=headers, timeout=10)


def token_calls(sandbox: Sandbox) -> int:
    return sum(1 for e in sandbox.log if e.method == "POST" and e.path == "/v2/oauth/token")


# --- the loopback flow ------------------------------------------------------------------------


def test_loopback_login_then_scoped_calls(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, logins: list[Login]
) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    login = auth.login(CLIENT, [ASSETS], callback_url=callback)
    logins.append(login)
    assert login.status == "waiting" and login.character is None
    location = approve(browser, sandbox, login.url, AURA)
    assert location.startswith(callback + "?")
    page = browser.get(location, timeout=10)
    assert page.status_code == 200 and "Logged in as Aura Sandbox" in page.text
    character = login.wait(timeout=10)
    assert (character.character_id, character.name, character.scopes) == (
        AURA,
        "Aura Sandbox",
        (ASSETS,),
    )

    token, who = auth.access_token(scope=ASSETS)
    assert who.character_id == AURA
    assert esi(sandbox, f"/characters/{AURA}/assets", token).status_code == 200
    other = esi(sandbox, f"/characters/{BRAVO}/assets", token)
    assert other.status_code == 403 and str(AURA) in other.json()["error"]
    missing = esi(sandbox, f"/characters/{AURA}/assets")
    assert missing.status_code == 401 and ASSETS in missing.json()["error"]
    wallet = esi(sandbox, f"/characters/{AURA}/wallet", token)
    assert wallet.status_code == 403 and WALLET in wallet.json()["error"]


def test_callback_of_another_attempt_is_refused_and_the_login_keeps_waiting(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, logins: list[Login]
) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    login = auth.login(CLIENT, [ASSETS], callback_url=callback)
    logins.append(login)
    stale = browser.get(f"{callback}?code=whatever&state=not-this-login", timeout=10)
    assert stale.status_code == 400 and "state mismatch" in stale.text
    assert login.status == "waiting"
    browser.get(approve(browser, sandbox, login.url, BRAVO), timeout=10)
    assert login.wait(timeout=10).name == "Bravo Sandbox"


def test_panel_updates_when_the_loopback_callback_completes(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, logins: list[Login]
) -> None:
    login = auth.login(CLIENT, [ASSETS], callback_url=f"http://127.0.0.1:{free_port()}/cb")
    logins.append(login)
    panel = LoginPanel(login)
    assert "Waiting" in panel.status_html.value
    browser.get(approve(browser, sandbox, login.url, AURA), timeout=10)
    login.wait(timeout=10)
    assert "Logged in as Aura Sandbox" in panel.status_html.value
    assert f"characters/{AURA}/portrait?size=64" in panel.character_html.value


def test_an_idle_connection_does_not_hold_up_the_callback(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, logins: list[Login]
) -> None:
    port = free_port()
    login = auth.login(CLIENT, [ASSETS], callback_url=f"http://127.0.0.1:{port}/callback")
    logins.append(login)
    location = approve(browser, sandbox, login.url, AURA)
    # a browser's speculative preconnect: connected first, never sends a request
    with socket.create_connection(("127.0.0.1", port)) as idle:
        page = browser.get(location, timeout=30)
        assert page.status_code == 200 and login.status == "done"
        idle.setblocking(False)
        with pytest.raises(BlockingIOError):
            idle.recv(1)  # still open: the redirect was served without waiting for it


def test_a_busy_callback_port_is_a_clear_error(auth: Auth) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(AuthError, match=f"127.0.0.1:{port}.*loopback=False"):
            auth.login(CLIENT, [ASSETS], callback_url=f"http://127.0.0.1:{port}/callback")


def test_a_new_login_on_the_same_port_replaces_the_waiting_one(
    auth: Auth, logins: list[Login]
) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    first = auth.login(CLIENT, [ASSETS], callback_url=callback)
    second = auth.login(CLIENT, [ASSETS], callback_url=callback)
    logins += [first, second]
    assert first.status == "error" and "cancelled" in str(first.error)
    assert second.status == "waiting"


def test_an_unanswered_loopback_login_expires_and_frees_its_port(
    auth: Auth, logins: list[Login]
) -> None:
    auth.login_timeout = 0.2
    port = free_port()
    login = auth.login(CLIENT, [ASSETS], callback_url=f"http://127.0.0.1:{port}/callback")
    logins.append(login)
    with pytest.raises(LoginRequired, match="no login callback arrived"):
        login.wait(timeout=10)
    again = auth.login(CLIENT, [ASSETS], callback_url=f"http://127.0.0.1:{port}/callback")
    logins.append(again)
    assert again.status == "waiting"


# --- the paste path ---------------------------------------------------------------------------


def test_paste_path_without_a_loopback_server(
    auth: Auth, sandbox: Sandbox, browser: requests.Session
) -> None:
    port = free_port()
    login = auth.login(
        CLIENT, [ASSETS, WALLET], callback_url=f"http://127.0.0.1:{port}/cb", loopback=False
    )
    location = approve(browser, sandbox, login.url, BRAVO)
    with pytest.raises(requests.ConnectionError):
        browser.get(location, timeout=10)  # nothing listens: the user copies the URL instead
    character = login.finish(location)
    assert character.name == "Bravo Sandbox" and set(character.scopes) == {ASSETS, WALLET}
    token, _ = auth.access_token(character="bravo sandbox", scope=WALLET)
    assert esi(sandbox, f"/characters/{BRAVO}/wallet", token).status_code == 200


def test_state_mismatch_on_paste(auth: Auth, sandbox: Sandbox, browser: requests.Session) -> None:
    first = auth.login(CLIENT, [ASSETS], loopback=False)
    second = auth.login(CLIENT, [ASSETS], loopback=False)
    location = approve(browser, sandbox, first.url, AURA)
    with pytest.raises(TokenInvalid, match="state mismatch"):
        second.finish(location)
    assert second.status == "waiting"
    assert first.finish(location).character_id == AURA


def test_declined_login(auth: Auth, sandbox: Sandbox, browser: requests.Session) -> None:
    login = auth.login(CLIENT, [ASSETS], loopback=False)
    location = approve(browser, sandbox, login.url, AURA, decision="deny")
    with pytest.raises(LoginRequired, match="access_denied"):
        login.finish(location)
    assert login.status == "error"
    with pytest.raises(LoginRequired):
        auth.access_token()


def test_a_code_the_sso_refuses_fails_the_login(
    auth: Auth, sandbox: Sandbox, browser: requests.Session
) -> None:
    login = auth.login(CLIENT, [ASSETS], loopback=False)
    location = approve(browser, sandbox, login.url, AURA)
    forged = location.split("?")[0] + "?code=forged&" + location.split("&", 1)[1]
    with pytest.raises(TokenInvalid, match="invalid_grant"):
        login.finish(forged)
    assert login.status == "error"


def test_token_file_is_private(auth: Auth, sandbox: Sandbox, browser: requests.Session) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    path = auth.store.path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(auth.characters()) == 1


# --- the SSO's own rules ----------------------------------------------------------------------


def test_metadata_announces_the_endpoints(sandbox: Sandbox) -> None:
    meta = requests.get(sandbox.url + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["authorization_endpoint"] == sandbox.url + "/v2/oauth/authorize"
    assert meta["token_endpoint"] == sandbox.url + "/v2/oauth/token"
    assert meta["revocation_endpoint"] == sandbox.url + "/v2/oauth/revoke"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert [(k["kid"], k["alg"], k["use"], k["kty"]) for k in keys] == [
        ("JWT-Signature-Key", "RS256", "sig", "RSA")
    ]
    assert "d" not in keys[0]


def code_for(sandbox: Sandbox, browser: requests.Session, verifier: str) -> str:
    query = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": "http://127.0.0.1:1/cb",
        "scope": ASSETS,
        "state": "st",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    url = sandbox.url + "/v2/oauth/authorize?" + urlencode(query)
    location = approve(browser, sandbox, url, AURA)
    return parse_qs(urlsplit(location).query)["code"][0]


def test_pkce_verifier_is_checked_and_codes_are_single_use(
    sandbox: Sandbox, browser: requests.Session
) -> None:
    verifier = "v" * 43
    token_url = sandbox.url + "/v2/oauth/token"
    form = {"grant_type": "authorization_code", "client_id": CLIENT}
    wrong = requests.post(
        token_url,
        data={**form, "code": code_for(sandbox, browser, verifier), "code_verifier": "w" * 43},
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "PKCE" in wrong.json()["error_description"]
    code = code_for(sandbox, browser, verifier)
    right = requests.post(token_url, data={**form, "code": code, "code_verifier": verifier})
    assert right.status_code == 200
    body = right.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1199
    again = requests.post(token_url, data={**form, "code": code, "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_token_endpoint_takes_forms_only(sandbox: Sandbox) -> None:
    answer = requests.post(
        sandbox.url + "/v2/oauth/token", json={"grant_type": "refresh_token"}, timeout=10
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("drop", "extra", "complaint"),
    [
        ("code_challenge", {}, "PKCE"),
        ("client_id", {}, "client_id"),
        (None, {"scope": "esi-made-up.v1"}, "unknown scope"),
        (None, {"redirect_uri": "not-a-url"}, "redirect_uri"),
    ],
)
def test_bad_authorize_requests_get_a_400_page(
    sandbox: Sandbox, drop: str | None, extra: dict[str, str], complaint: str
) -> None:
    query = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": "http://127.0.0.1:1/cb",
        "scope": ASSETS,
        "state": "st",
        "code_challenge": pkce_challenge("v" * 43),
        "code_challenge_method": "S256",
        **extra,
    }
    if drop:
        del query[drop]
    page = requests.get(sandbox.url + "/v2/oauth/authorize", params=query, timeout=10)
    assert page.status_code == 400 and complaint in page.text
    assert page.headers["Content-Type"].startswith("text/html")


# --- token validation on the client -----------------------------------------------------------


def test_tampered_signature_is_rejected_by_client_and_sandbox(auth: Auth, sandbox: Sandbox) -> None:
    token = sandbox.sso.issue(AURA, [ASSETS], CLIENT)["access_token"]
    header, _payload, signature = token.split(".")
    forged = sandbox.sso.issue(BRAVO, [ASSETS], CLIENT)["access_token"].split(".")[1]
    tampered = f"{header}.{forged}.{signature}"
    with pytest.raises(TokenInvalid, match="signature"):
        auth.validate(tampered, CLIENT)
    assert esi(sandbox, f"/characters/{BRAVO}/assets", tampered).status_code == 401
    assert auth.validate(token, CLIENT).character_id == AURA


def test_wrong_audience_is_rejected(auth: Auth, sandbox: Sandbox) -> None:
    token = sandbox.sso.issue(AURA, [ASSETS], "someone-elses-app")["access_token"]
    with pytest.raises(TokenInvalid, match="audience"):
        auth.validate(token, CLIENT)


def test_a_token_of_another_sso_is_rejected(
    auth: Auth, sandbox: Sandbox, esi_sandbox_factory: Callable[..., Sandbox]
) -> None:
    elsewhere = esi_sandbox_factory()
    token = elsewhere.sso.issue(AURA, [ASSETS], CLIENT)["access_token"]
    with pytest.raises(TokenInvalid):
        auth.validate(token, CLIENT)
    assert esi(sandbox, f"/characters/{AURA}/assets", token).status_code == 401


def test_single_scope_tokens_carry_scp_as_a_string(auth: Auth, sandbox: Sandbox) -> None:
    token = sandbox.sso.issue(AURA, [ASSETS], CLIENT)["access_token"]
    assert auth.validate(token, CLIENT).scopes == (ASSETS,)
    assert esi(sandbox, f"/characters/{AURA}/assets", token).status_code == 200


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'JWT-Signature-Key'})}.{part(claims)}."


def test_verify_proves_a_user_s_token_before_anything_private(
    auth: Auth, sandbox: Sandbox, clock: FakeClock
) -> None:
    token = sandbox.sso.issue(BRAVO, [ASSETS], CLIENT)["access_token"]
    claims = auth.verify(token)
    assert (claims.character_id, claims.client_id, claims.scopes) == (BRAVO, CLIENT, (ASSETS,))
    assert auth.verify(token, CLIENT).character_id == BRAVO
    with pytest.raises(TokenInvalid, match="audience"):
        auth.verify(token, "another-app")
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    with pytest.raises(TokenInvalid, match="RS256"):
        auth.verify(_unsigned(payload | {"sub": f"CHARACTER:EVE:{AURA}"}))
    other_key = RSAKey.generate_key(2048, parameters={"kid": "JWT-Signature-Key"})
    resigned = jwt.encode({"alg": "RS256", "kid": "JWT-Signature-Key"}, payload, other_key)
    with pytest.raises(TokenInvalid, match="signature"):
        auth.verify(resigned)
    for garbage in ("", "not.a.jwt", 12345):
        with pytest.raises(AuthError):
            auth.verify(garbage)  # type: ignore[arg-type]


def test_verify_refuses_expired_tokens_and_tokens_from_the_future(
    auth: Auth, sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.sso.clock = FakeClock(clock.now + 600)  # an SSO clock ahead: iat in our future
    with pytest.raises(TokenInvalid, match="in the future"):
        auth.verify(sandbox.sso.issue(AURA, [ASSETS], CLIENT)["access_token"])
    sandbox.sso.clock = clock
    token = sandbox.sso.issue(AURA, [ASSETS], CLIENT)["access_token"]
    clock.now += 1300
    with pytest.raises(TokenInvalid, match="expired"):
        auth.verify(token)


# --- refresh, revocation, logout --------------------------------------------------------------


def test_expired_token_is_refreshed_transparently_and_rotated(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, clock: FakeClock
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    first, _ = auth.access_token()
    old_refresh = auth.store.records()[0].refresh_token
    assert auth.access_token()[0] == first and token_calls(sandbox) == 1

    clock.now += 1200  # past exp
    assert esi(sandbox, f"/characters/{AURA}/assets", first).status_code == 401
    second, who = auth.access_token(character=AURA, scope=ASSETS)
    assert second != first and token_calls(sandbox) == 2
    assert who.expires.timestamp() > clock.now
    assert esi(sandbox, f"/characters/{AURA}/assets", second).status_code == 200

    stored = TokenStore(auth.store.path).records()[0]
    assert stored.refresh_token != old_refresh
    reused = requests.post(
        sandbox.url + "/v2/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": CLIENT},
        timeout=10,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_refresh_within_the_leeway(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, clock: FakeClock
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    first, _ = auth.access_token()
    clock.now += 1200 - auth.leeway + 1  # still valid, but within the leeway
    assert auth.access_token()[0] != first and token_calls(sandbox) == 2


def test_concurrent_callers_share_one_refresh(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, clock: FakeClock
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    clock.now += 1300
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def call() -> None:
        barrier.wait()
        tokens.append(auth.access_token()[0])

    workers = [threading.Thread(target=call) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert token_calls(sandbox) == 2  # the login, then exactly one refresh


def test_another_auth_on_the_same_file_reuses_the_tokens(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, clock: FakeClock
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    twin = Auth(
        sso_url=sandbox.url,
        session=requests.Session(),
        store=TokenStore(auth.store.path),
        clock=clock,
    )
    assert twin.access_token()[0] == auth.access_token()[0]
    clock.now += 1300
    refreshed, _ = twin.access_token()
    assert auth.access_token()[0] == refreshed and token_calls(sandbox) == 2


def test_revoked_refresh_token_means_login_required(
    auth: Auth, sandbox: Sandbox, browser: requests.Session, clock: FakeClock
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    refresh = auth.store.records()[0].refresh_token
    revoked = requests.post(
        sandbox.url + "/v2/oauth/revoke",
        data={"token_type_hint": "refresh_token", "token": refresh},
        timeout=10,
    )
    assert revoked.status_code == 200
    clock.now += 1300
    with pytest.raises(LoginRequired, match=r"ef\.login\(client_id='esiframe-tests'"):
        auth.access_token()
    assert auth.store.records() == []


def test_revocation_answers_200_for_unknown_tokens(sandbox: Sandbox) -> None:
    answer = requests.post(
        sandbox.url + "/v2/oauth/revoke",
        data={"token_type_hint": "refresh_token", "token": "never-issued"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_logout_revokes_and_forgets(
    auth: Auth, sandbox: Sandbox, browser: requests.Session
) -> None:
    paste_login(auth, browser, sandbox, AURA, [ASSETS])
    paste_login(auth, browser, sandbox, BRAVO, [ASSETS])
    aura_refresh = next(r.refresh_token for r in auth.store.records() if r.character_id == AURA)
    auth.logout("Aura Sandbox")
    assert auth.characters()["name"].tolist() == ["Bravo Sandbox"]
    refused = requests.post(
        sandbox.url + "/v2/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": aura_refresh, "client_id": CLIENT},
        timeout=10,
    )
    assert refused.status_code == 400
    with pytest.raises(LoginRequired, match="Bravo Sandbox"):
        auth.access_token(character="Aura Sandbox")


def test_sandbox_characters_are_configurable(
    esi_sandbox_factory: Callable[..., Sandbox], browser: requests.Session, tmp_path: Path
) -> None:
    sandbox = esi_sandbox_factory()
    sandbox.sso.characters = {2112000042: "Delta Sandbox"}
    auth = Auth(
        sso_url=sandbox.url, session=requests.Session(), store=TokenStore(tmp_path / "t.json")
    )
    login = paste_login(auth, browser, sandbox, 2112000042, [])
    assert login.character is not None and login.character.name == "Delta Sandbox"


def test_sso_can_be_constructed_standalone() -> None:
    sso = SandboxSSO(token_lifetime=30, characters={7: "Solo"})
    sso.url = "http://127.0.0.1:1"
    claims = sso.verify(sso.issue(7, [ASSETS, WALLET], CLIENT)["access_token"])
    assert claims["scp"] == [ASSETS, WALLET] and claims["exp"] - claims["iat"] == 30
    with pytest.raises(ValueError, match="token_lifetime"):
        SandboxSSO(token_lifetime=0)
