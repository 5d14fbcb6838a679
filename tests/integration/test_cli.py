"""The esiframe command, offline with --sandbox."""

from __future__ import annotations

import subprocess
import sys

import esiframe as ef
from esiframe.cli import main


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
    import socket

    from esiframe.sandbox import approve_login

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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
