"""One login across processes: refreshes serialized by the token file's lock (issue 15.2).

Every refresh rotates the refresh token at the sandbox SSO (the old one is refused afterwards, as
on EVE), so a process that spent a stale refresh token, or overwrote another's rotation, would log
the user out. Three processes refresh the same and different logins on one token file at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from esiframe.auth import Auth, TokenRecord, TokenStore
from esiframe.sandbox import Sandbox

CLIENT = "multi-process-client"
ASSETS = "esi-assets.read_assets.v1"
AURA, BRAVO = 2112000001, 2112000002
ROUNDS = 15

# A child: wait for the start file, then refresh its characters ROUNDS times each. ``leeway``
# larger than a token's life makes every access_token() call a refresh.
CHILD = """
import json, os, sys, time
import requests
from esiframe.auth import Auth, TokenStore
from esiframe.errors import EsiError
url, path, go, client, rounds, *names = sys.argv[1:]
auth = Auth(sso_url=url, session=requests.Session(), store=TokenStore(path), leeway=10**9)
while not os.path.exists(go):
    time.sleep(0.005)
done, failed = 0, []
for _ in range(int(rounds)):
    for name in names:
        try:
            token, who = auth.access_token(character=int(name), client_id=client)
            assert who.character_id == int(name) and token
            done += 1
        except EsiError as exc:
            failed.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"done": done, "failed": failed}))
"""


def stored(sandbox: Sandbox, character: int) -> TokenRecord:
    tokens = sandbox.sso.issue(character, [ASSETS], client_id=CLIENT)
    return TokenRecord(
        client_id=CLIENT,
        character_id=character,
        name=sandbox.sso.characters[character],
        scopes=(ASSETS,),
        expires=0.0,  # already due: the first call of every process refreshes
        refresh_token=tokens["refresh_token"],
        access_token=tokens["access_token"],
        sso=sandbox.url,
    )


def refused_refreshes(sandbox: Sandbox) -> int:
    return sum(
        1
        for e in sandbox.log
        if e.method == "POST" and e.path == "/v2/oauth/token" and e.status != 200
    )


def run_children(sandbox: Sandbox, path: Path, plans: list[list[int]]) -> list[dict[str, object]]:
    go = path.parent / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, sandbox.url, str(path), str(go), CLIENT, str(ROUNDS)]
            + [str(c) for c in plan],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    return results


@pytest.fixture
def sandbox(esi_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return esi_sandbox_factory()


def test_three_processes_refreshing_one_and_two_logins_log_nobody_out(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "config" / "tokens.json"
    store = TokenStore(path)
    store.put(stored(sandbox, AURA))
    store.put(stored(sandbox, BRAVO))
    plans = [[AURA], [AURA, BRAVO], [BRAVO, AURA]]
    results = run_children(sandbox, path, plans)
    for plan, result in zip(plans, results, strict=True):
        assert result["failed"] == []
        assert result["done"] == ROUNDS * len(plan)
    assert refused_refreshes(sandbox) == 0  # no process ever spent a stale refresh token
    # both logins survived: the stored refresh tokens are the latest ones and still work
    auth = Auth(sso_url=sandbox.url, session=requests.Session(), store=TokenStore(path), leeway=1e9)
    for character in (AURA, BRAVO):
        _, who = auth.access_token(character=character)
        assert who.character_id == character
    assert refused_refreshes(sandbox) == 0
    assert sorted(os.listdir(path.parent)) == ["go", "tokens.json", "tokens.json.lock"]


WRITER = """
import sys
from esiframe.auth import TokenRecord, TokenStore
store = TokenStore(sys.argv[1])
n = 0
print("ready", flush=True)
while True:
    n += 1
    store.put(TokenRecord(client_id="c", character_id=1 + n % 3, name="x", scopes=(),
                          expires=float(n), refresh_token="r" * 5000, access_token="a" * 5000))
"""


def test_a_killed_writer_leaves_a_readable_file_and_its_leftover_goes_with_the_next_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.json"
    kills = 6
    for round_ in range(kills):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.01 * round_)  # a different moment of the write loop each time
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        assert len(TokenStore(path).records()) >= 1  # old or new, never half a file
    store = TokenStore(path)
    store.put(TokenRecord("c", 9, "y", (), 0.0, refresh_token="r", access_token="a"))
    assert sorted(os.listdir(tmp_path)) == ["tokens.json", "tokens.json.lock"]
    assert {r.character_id for r in TokenStore(path).records()} >= {9}
