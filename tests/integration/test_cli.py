"""The esiframe command, offline with --sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ports import free_port

import esiframe as ef
import esiframe.sandbox
from esiframe._version import __version__
from esiframe.cli import main
from esiframe.sandbox import Sandbox


def test_get_with_sandbox_writes_parquet(tmp_path, capsys):
    out = tmp_path / "history.parquet"
    args = [
        "get",
        "GetMarketsRegionIdHistory",
        "region_id=10000002",
        "type_id=34",
        "--sandbox",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    df = ef.read_parquet(out)
    assert len(df) == 400 and {"date", "average", "volume"} <= set(df.columns)
    assert df.attrs["esi"]["operation"] == "GetMarketsRegionIdHistory"
    assert "wrote" in capsys.readouterr().out
    assert main(args) == 0  # re-running replaces the file


def test_get_preview_with_fan_out_and_csv(tmp_path, capsys):
    assert (
        main(
            [
                "get",
                "GetMarketsRegionIdHistory",
                "region_id=10000002",
                "type_id=34,35",
                "--sandbox",
                "--rows",
                "3",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "800 rows" in printed and "type_id" in printed
    csv = tmp_path / "types.csv"
    assert (
        main(
            [
                "get",
                "GetUniverseTypesTypeId",
                "type_id=34,35",
                "--lang",
                "en,de",
                "--sandbox",
                "-o",
                str(csv),
            ]
        )
        == 0
    )
    assert "name_de" in csv.read_text().splitlines()[0]


def test_bad_input_is_a_clear_message_and_exit_code_2(capsys):
    assert (
        main(["get", "GetMarketsRegionIdHistory", "region_id=Forge", "type_id=34", "--sandbox"])
        == 2
    )
    assert "region_id must be an integer" in capsys.readouterr().err
    assert main(["get", "GetMarketHistory", "--sandbox"]) == 2
    assert "GetMarketsRegionIdHistory" in capsys.readouterr().err


def test_ops_and_describe(capsys):
    assert main(["ops", "--tag", "Market"]) == 0
    listed = capsys.readouterr().out
    assert "GetMarketsRegionIdOrders" in listed and "GetAlliances" not in listed
    assert main(["describe", "get_markets_region_id_orders"]) == 0
    assert "Return orders in this region" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "esiframe", "describe", "GetStatus"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "GET /status" in done.stdout


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ESIFRAME_CACHE_DIR", str(tmp_path / "cache"))
    client = ef.Client(cache=tmp_path / "cache", contact="t@example.com")
    client.transport.session.cache.responses["k"] = b"x"  # the cache file exists with an entry
    client.close()
    assert main(["cache", "info"]) == 0
    assert str(tmp_path / "cache" / "http_cache.sqlite") in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "cleared" in capsys.readouterr().out
    again = ef.Client(cache=tmp_path / "cache", contact="t@example.com")
    assert len(again.transport.session.cache.responses) == 0


def test_login_in_a_terminal_prints_the_url_and_waits(tmp_path):
    from esiframe.sandbox import approve_login

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "esiframe",
        "login",
        "--sandbox",
        "--client-id",
        "cli-test",
        "--scope",
        "esi-assets.read_assets.v1",
        "--callback-url",
        f"http://127.0.0.1:{port}/callback",
    ]
    env = {**__import__("os").environ, "ESIFRAME_CONFIG_DIR": str(tmp_path)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        url = next(line.strip() for line in process.stdout if line.strip().startswith("http"))
        approve_login(url, character="Bravo Sandbox")
        rest = process.stdout.read()
        assert process.wait(timeout=30) == 0
    assert "Logged in as Bravo Sandbox (2112000002)" in rest


# --- every mistake is one line (issue 14.1) ---------------------------------------------------

HISTORY = ["get", "GetMarketsRegionIdHistory", "region_id=10000002"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m esiframe ARGS`` as a user runs it (this interpreter, PYTHONPATH kept)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIFRAME_")}
    env["ESIFRAME_PROGRESS"] = "0"
    return subprocess.run(
        [sys.executable, "-m", "esiframe", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def one_line_mistake(done: subprocess.CompletedProcess[str]) -> str:
    """Assert exit code 2, no traceback, exactly one line on stderr; return that line."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


MISTAKES = [
    pytest.param(
        [*HISTORY, "type_id=34", "pages=two"],
        ["pages must be an integer", "--pages"],
        id="pages-not-a-number",
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "pages=2", "--pages", "3"], ["pages", "keep one"], id="pages-twice"
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "force_refresh=maybe"],
        ["force_refresh", "true or false"],
        id="bad-bool-option",
    ),
    pytest.param([*HISTORY, "type_id=34,"], ["trailing comma", "type_id=34"], id="trailing-comma"),
    pytest.param(
        [*HISTORY, "type_id=34,,35"], ["double comma", "type_id=34,35"], id="double-comma"
    ),
    pytest.param([*HISTORY, "type_id=34", "token=abc"], ["esiframe login"], id="token"),
    pytest.param(
        ["get", "GetUniverseTypesTypeId", "type_id=34", "language=en,de"],
        ["languages=en,de"],
        id="language-list",
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "on_limit=wait"], ["on_limit", "'sleep'"], id="bad-choice"
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "-o", "out.txt"],
        ["out.txt", ".parquet, .csv, .json"],
        id="unknown-format",
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "-o", "afile/deeper/x.csv"],
        ["-o afile/deeper/x.csv", "afile is a file"],
        id="output-under-a-file",
    ),
    pytest.param(
        [*HISTORY, "type_id=34", "-o", "folder.csv"],
        ["-o folder.csv is a folder"],
        id="output-is-a-folder",
    ),
    pytest.param(["ops", "--tag", "Markets"], ["no tag 'Markets'", "Market"], id="unknown-tag"),
    pytest.param(["ops", "--spec", "missing.json"], ["missing.json"], id="missing-spec"),
    pytest.param(["describe", "GetMarketPrice"], ["GetMarketsPrices"], id="unknown-operation"),
    pytest.param(["get"], ["operation", "esiframe get --help"], id="nothing"),
    pytest.param(["get", "GetStatus", "--pages", "x"], ["--pages", "invalid int"], id="bad-flag"),
    pytest.param(["frobnicate"], ["invalid choice", "esiframe --help"], id="unknown-command"),
]


@pytest.mark.parametrize(("args", "said"), MISTAKES)
def test_a_mistake_is_one_line_and_exit_code_2(args, said, tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "folder.csv").mkdir()
    line = one_line_mistake(
        run_cli(*args, "--sandbox", cwd=tmp_path)
        if args[0] == "get" and len(args) > 1
        else run_cli(*args, cwd=tmp_path)
    )
    for words in said:
        assert words in line, line
    assert not list(tmp_path.glob("*.txt")), "nothing is written for a refused call"


def test_an_unwritable_output_names_the_path_given(tmp_path):
    """Writing fails after the fetch: the message names -o as typed, not a temporary file."""
    target = Path("/proc/esiframe-test.parquet")
    if not Path("/proc").is_dir():
        pytest.skip("needs Linux /proc (a folder no file can be created in)")
    line = one_line_mistake(run_cli("get", "GetStatus", "--sandbox", "-o", str(target)))
    assert str(target) in line and ".tmp" not in line, line


def test_get_options_as_key_value_like_in_python(capsys):
    assert main([*HISTORY, "type_id=34", "pages=1", "force_refresh=true", "--sandbox"]) == 0
    assert "400 rows" in capsys.readouterr().out
    assert (
        main(["get", "GetUniverseTypesTypeId", "type_id=34", "languages=en,de", "--sandbox"]) == 0
    )
    assert "name_de" in capsys.readouterr().out
    assert (
        main(["get", "GetUniverseTypesTypeId", "type_id=34", "--language", "de", "--sandbox"]) == 0
    )
    printed = capsys.readouterr().out
    assert "Tritanium" in printed and "name_de" not in printed  # German text, one column


def test_a_repeated_key_fans_out_like_a_list(capsys):
    assert main([*HISTORY, "type_id=34", "type_id=35", "--sandbox", "--rows", "1000"]) == 0
    repeated = capsys.readouterr().out
    assert main([*HISTORY, "type_id=34,35", "--sandbox", "--rows", "1000"]) == 0
    listed = capsys.readouterr().out
    assert "800 rows" in repeated
    table = lambda text: text.splitlines()[:-1]  # noqa: E731 - the summary line has times
    assert table(repeated) == table(listed)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_missing_folders_are_created_for_every_format(suffix, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / f"history{suffix}"
    assert main([*HISTORY, "type_id=34", "--sandbox", "-o", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 0
    assert f"wrote {out}" in capsys.readouterr().out


def test_json_output_writes_dates_as_iso_dates(tmp_path, capsys):
    out = tmp_path / "history.json"
    assert main([*HISTORY, "type_id=34", "--sandbox", "-o", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 400
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["date"]), rows[0]
    status = tmp_path / "status.json"
    assert main(["get", "GetStatus", "--sandbox", "-o", str(status)]) == 0
    start = json.loads(status.read_text())[0]["start_time"]  # a date-time keeps its time and zone
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", start), start


def test_version():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"esiframe {__version__}"


def test_contact_and_app_name_reach_esi(monkeypatch, capsys):
    started: list[Sandbox] = []

    class Recorded(Sandbox):
        def __enter__(self) -> Sandbox:
            started.append(self)
            return super().__enter__()

    monkeypatch.setattr(esiframe.sandbox, "Sandbox", Recorded)
    args = ["get", "GetStatus", "--sandbox", "--contact", "me@example.org", "--app-name", "Mine"]
    assert main(args) == 0
    (sandbox,) = started
    agents = {e.headers.get("User-Agent") or e.headers.get("user-agent") for e in sandbox.log}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("Mine (me@example.org)"), agent


@pytest.mark.parametrize(
    "args", [["ops"], [*HISTORY, "type_id=34", "--sandbox", "--rows", "400"]], ids=["ops", "get"]
)
def test_a_closed_pipe_ends_quietly(args):
    """``esiframe ... | head -1``: the reader goes away; no BrokenPipeError, nothing on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIFRAME_")}
    with subprocess.Popen(
        [sys.executable, "-m", "esiframe", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "ESIFRAME_PROGRESS": "0"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert err == ""
    # 128 + SIGPIPE, as other commands in a pipe; 0 when the whole output fit in the pipe's
    # buffer before the reader left (the race is the kernel's, the promise is a quiet end).
    assert code in (0, 141)


def test_a_quick_call_writes_nothing_to_stderr(monkeypatch, capsys):
    """Progress on (the default): a call that ends before the bar is due leaves no trace."""
    from esiframe import progress

    monkeypatch.setenv("ESIFRAME_PROGRESS", "1")
    monkeypatch.setattr(progress, "SHOW_AFTER", 3600.0)  # the call always ends first
    assert main(["get", "GetUniverseTypesTypeId", "type_id=34,35,36", "--sandbox"]) == 0
    assert capsys.readouterr().err == ""


def test_a_slow_call_shows_its_bar_and_clears_it(monkeypatch, capsys):
    """The same call once the bar is due: the bar is drawn, then cleared before the table."""
    from esiframe import progress

    monkeypatch.setenv("ESIFRAME_PROGRESS", "1")
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    assert main(["get", "GetUniverseTypesTypeId", "type_id=34,35,36", "--sandbox"]) == 0
    err = capsys.readouterr().err
    assert "GetUniverseTypesTypeId" in err and "req" in err
    assert err.endswith("\r") and err.rsplit("\r", 2)[-2].strip() == ""  # the last draw is blank


OPTION_VALUES = {
    "pages": "1",
    "max_requests": "100",
    "language": "de",
    "languages": "en,de",
    "on_limit": "raise",
    "errors": "skip",
    "dtype_backend": "pyarrow",
    "if_modified_since": "2000-01-01T00:00:00+00:00",
    "force_refresh": "true",
    "use_cache": "false",
    "progress": "false",
}


@pytest.mark.parametrize("name", sorted(OPTION_VALUES))
def test_every_get_option_is_accepted_as_key_value(name, capsys):
    """As the README spells them for Python: ``pages=1`` works as well as ``--pages 1``."""
    from esiframe.cli import GET_OPTIONS

    assert set(OPTION_VALUES) | {"character"} == set(GET_OPTIONS)  # every option is tried
    args = ["get", "GetUniverseTypesTypeId", "type_id=34", "--sandbox", "--rows", "1"]
    assert main([*args, f"{name}={OPTION_VALUES[name]}"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "1 rows" in printed
    if name == "languages":
        assert "name_de" in printed and "name_en" in printed


def test_character_as_key_value_reaches_get(capsys):
    """character= is passed to get, which says why it does not apply to a public operation."""
    assert main(["get", "GetStatus", "character=Nobody", "--sandbox"]) == 2
    assert "public" in capsys.readouterr().err


def test_cache_clear_also_forgets_finished_results(esi_sandbox, tmp_path, monkeypatch, capsys):
    """After `esiframe cache clear`, a call asks ESI again, even within the old Expires."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ESIFRAME_CACHE_DIR", str(cache))
    settings = {"base_url": esi_sandbox.url, "cache": cache, "contact": "t@example.com"}
    ef.Client(**settings, progress=False).get("GetStatus")
    assert list((cache / "results").iterdir())  # the finished result was kept
    assert main(["cache", "clear"]) == 0
    esi_sandbox.log.clear()
    ef.Client(**settings, progress=False).get("GetStatus")  # a new client: nothing in memory
    assert len(esi_sandbox.log) == 1
