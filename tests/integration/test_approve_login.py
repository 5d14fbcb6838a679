"""approve_login: a sandbox login completed without a browser, by loopback or by paste."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from ports import free_port

from esiframe import Client
from esiframe.sandbox import Sandbox, approve_login

ASSETS = "esi-assets.read_assets.v1"


@pytest.fixture
def sandbox(esi_sandbox: Sandbox) -> Sandbox:
    return esi_sandbox


@pytest.fixture
def client(sandbox: Sandbox, make_client: Callable[..., Client]) -> Client:
    return make_client(sandbox, client_id="notebook-app")


def test_loopback_login_completes_by_itself(client: Client) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    login = client.login(scopes=[ASSETS], callback_url=callback, loopback=True)

    redirect = approve_login(login.url)

    assert login.status == "done"
    character = login.wait(timeout=5)
    assert (character.name, character.character_id) == ("Aura Sandbox", 2112000001)
    assert character.scopes == (ASSETS,)
    assert redirect.startswith(callback + "?")
    assert set(parse_qs(urlsplit(redirect).query)) == {"code", "state"}
    assert client.characters()["name"].tolist() == ["Aura Sandbox"]
    assets = client.get("GetCharactersCharacterIdAssets", character="Aura Sandbox")
    assert len(assets) > 0
    assert assets.attrs["esi"]["character"] == 2112000001


def test_without_a_listener_the_url_is_returned_for_pasting(client: Client) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    login = client.login(scopes=[ASSETS], callback_url=callback, loopback=False)

    redirect = approve_login(login.url, character="bravo sandbox")

    assert login.status == "waiting"
    assert redirect.startswith(callback + "?")
    character = login.finish(redirect)
    assert character.name == "Bravo Sandbox"
    assert login.wait(timeout=0).character_id == 2112000002


@pytest.mark.parametrize("chosen", [2112000003, "2112000003", "Charlie Sandbox"])
def test_character_by_id_or_name(client: Client, chosen: str | int) -> None:
    login = client.login(scopes=[ASSETS], loopback=False)
    assert login.finish(approve_login(login.url, character=chosen)).character_id == 2112000003


def test_a_remote_redirect_uri_is_not_contacted(client: Client, sandbox: Sandbox) -> None:
    login = client.login(
        scopes=[], callback_url="https://notebooks.example.org/esi/callback", loopback=False
    )
    redirect = approve_login(login.url)
    assert redirect.startswith("https://notebooks.example.org/esi/callback?code=")
    assert login.finish(redirect).name == "Aura Sandbox"


def test_the_given_session_plays_the_browser(client: Client, sandbox: Sandbox) -> None:
    login = client.login(scopes=[ASSETS], loopback=False)
    with requests.Session() as browser:
        browser.headers["User-Agent"] = "approve-login-test-browser"
        approve_login(login.url, session=browser)
    agents = [e.headers.get("User-Agent") for e in sandbox.log if "oauth/authorize" in e.path]
    assert agents == ["approve-login-test-browser", "approve-login-test-browser"]


def test_unknown_character_names_the_offered_ones(client: Client) -> None:
    login = client.login(scopes=[ASSETS], loopback=False)
    with pytest.raises(ValueError, match=r"'Nobody'.*Aura Sandbox \(2112000001\)"):
        approve_login(login.url, character="Nobody")
    assert login.status == "waiting"


def test_a_bad_login_url_reports_the_sandbox_reason(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/v2/oauth/authorize?response_type=code&client_id=x"
    with pytest.raises(ValueError, match=r"not a sandbox SSO consent page.*redirect_uri"):
        approve_login(url)
    with pytest.raises(ValueError, match="login_url must be"):
        approve_login("not a url")


def test_a_dead_sandbox_is_named(client: Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/oauth/authorize"
    with pytest.raises(RuntimeError, match="cannot open the login page"):
        approve_login(url)


def test_a_callback_of_another_login_is_an_error(client: Client) -> None:
    callback = f"http://127.0.0.1:{free_port()}/callback"
    first = client.login(scopes=[ASSETS], callback_url=callback, loopback=False)
    second = client.login(scopes=[ASSETS], callback_url=callback, loopback=True)
    with pytest.raises(RuntimeError, match=r"answered HTTP 400.*another login attempt"):
        approve_login(first.url)
    assert second.status == "waiting"
    second.cancel()
