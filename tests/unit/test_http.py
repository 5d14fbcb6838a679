"""Transport.send on scripted answers through the in-process adapter: no sockets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from fakeclock import FakeClock

from esiframe.errors import ClientError, ServerError, TransportError
from esiframe.http import Transport
from esiframe.inprocess import InProcessAdapter
from esiframe.limits import RouteLimit

Answer = tuple[int, Mapping[str, str], bytes] | None


class Script:
    """Answers in order; each request is recorded (method, url, headers)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        self.asked.append((method, url, dict(headers)))
        return self.answers.pop(0)


def ok(data: Any, **headers: str) -> Answer:
    body = json.dumps(data).encode()
    return 200, {"Content-Type": "application/json", **headers}, body


def cut(data: Any) -> Answer:
    """An answer whose connection closes halfway: fewer bytes than Content-Length."""
    body = json.dumps(data).encode()
    return 200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body[:3]


def transport(script: Script, clock: FakeClock, retries: int = 4) -> Transport:
    return Transport(
        "http://esi.test",
        headers={"User-Agent": "tests"},
        cache=None,
        timeout=5,
        max_workers=2,
        retries=retries,
        clock=clock.as_client_clock(),
        connection=InProcessAdapter(script),
    )


def send(t: Transport) -> Any:
    return t.send("GET", "/status/", route=RouteLimit(), headers={"X-Tenant": "tranquility"})


def test_a_5xx_is_retried_after_a_backoff_then_succeeds():
    clock = FakeClock()
    script = Script((503, {}, b'{"error": "busy"}'), ok({"players": 1}))
    response = send(transport(script, clock))
    assert response.status == 200 and response.body == {"players": 1}
    assert len(script.asked) == 2 and clock.slept > 0
    assert script.asked[0][2]["X-Tenant"] == "tranquility"


def test_a_cut_body_is_retried_and_the_whole_answer_kept():
    clock = FakeClock()
    script = Script(cut({"players": 12345}), ok({"players": 12345}))
    assert send(transport(script, clock)).body == {"players": 12345}
    assert len(script.asked) == 2


def test_no_answer_after_the_retries_is_a_transport_error_without_status():
    clock = FakeClock()
    script = Script(None, None, None)
    with pytest.raises(TransportError, match="no answer after 3 attempts") as info:
        send(transport(script, clock, retries=2))
    assert not hasattr(info.value, "status")
    assert info.value.url == "http://esi.test/status/"


def test_a_5xx_that_persists_is_a_server_error_with_its_status():
    script = Script(*[(502, {}, b'{"error": "bad gateway"}')] * 3)
    with pytest.raises(ServerError, match="bad gateway") as info:
        send(transport(script, FakeClock(), retries=2))
    assert info.value.status == 502 and len(script.asked) == 3


def test_a_4xx_is_not_retried():
    script = Script((404, {}, b'{"error": "not found"}'), ok({}))
    with pytest.raises(ClientError, match="not found") as info:
        send(transport(script, FakeClock()))
    assert info.value.status == 404 and len(script.asked) == 1


class Proxied(InProcessAdapter):
    """Records the proxies requests hands the adapter for each request."""

    def __init__(self, script: Script) -> None:
        super().__init__(script)
        self.proxies: list[Mapping[str, str]] = []

    def send(self, request: Any, stream: bool = False, **kwargs: Any) -> Any:  # type: ignore[override]
        self.proxies.append(dict(kwargs.get("proxies") or {}))
        return super().send(request, stream=stream, **kwargs)


@pytest.mark.parametrize(
    ("no_proxy", "expected"), [("", {"http": "http://proxy.test:3128"}), ("esi.test", {})]
)
def test_proxies_come_from_the_environment_and_netrc_logins_never_replace_the_token(
    monkeypatch, tmp_path, no_proxy, expected
):
    # requests' per-request reading of the environment is done once per Transport: the proxy
    # (and NO_PROXY) still apply; a ~/.netrc login for ESI's host must not become the
    # Authorization header in place of the bearer token.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine esi.test login someone password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    script = Script(ok([1]), ok([2]))
    adapter = Proxied(script)
    t = Transport(
        "http://esi.test", headers={"User-Agent": "tests"}, cache=None, timeout=5,
        max_workers=2, clock=FakeClock().as_client_clock(), connection=adapter,
    )  # fmt: skip
    t.send("GET", "/a/", route=RouteLimit(), headers={"Authorization": "Bearer abc"})
    t.send("GET", "/b/", route=RouteLimit(), use_cache=False)
    assert [p.get("http") for p in adapter.proxies] == [expected.get("http")] * 2
    assert script.asked[0][2]["Authorization"] == "Bearer abc"
    assert "Authorization" not in script.asked[1][2]
