"""The README's Python examples run against the sandbox, so README and library cannot drift.

Every ```python block of README.md runs, in order and in one namespace (like notebook cells), in
a subprocess whose ``ESIFRAME_*`` environment points at a sandbox, in a temporary working
directory. Tracebacks name README.md and its line numbers. Only two kinds of line are adapted,
each listed below with the reason: the login, where a human approves in a browser
(``approve_login`` does it), and the Spark line, which needs a Spark session. The test fails when
those lines are no longer in the README, so the lists stay true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ports import free_port

from esiframe.sandbox import Sandbox
from esiframe.sandbox.data import Sizes

README = Path(__file__).resolve().parents[2] / "README.md"
YOUR_CHARACTER = (2112000099, "Your Character")

# README line (without its comment) -> what runs instead; the line numbers stay the same
SKIPPED = {
    'spark.read.parquet("orders/")': "pass  # needs a Spark session (pyspark is no dependency)",
}
HUMAN = {
    "login": "login; approve_login(login.url, character='Your Character'); login.wait(timeout=30)",
}

PREAMBLE = "import dask.dataframe\nimport duckdb\nfrom esiframe.sandbox import approve_login\n"
RUNNER = """
import json, sys

blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__readme__"}
exec(blocks.pop(0)["source"], ns)
for block in blocks:
    exec(compile(block["source"], "README.md", "exec"), ns)
facts = {
    "hist_columns": list(ns["hist"].columns),
    "types_columns": list(ns["types"].columns),
    "exploded_rows": len(ns["attrs"]),
    "assets_rows": len(ns["assets"]),
    "assets_character": ns["assets"].attrs["esi"]["character"],
}
print("FACTS " + json.dumps(facts))
"""


@dataclass(frozen=True)
class Block:
    line: int  # README line of the block's first code line
    source: str


def python_blocks(text: str) -> list[Block]:
    """The ```python fenced blocks of a Markdown text, with the line each starts on."""
    blocks: list[Block] = []
    lines = text.splitlines()
    start: int | None = None
    for number, line in enumerate(lines, start=1):
        fence = line.strip()
        if start is None and re.fullmatch(r"```\s*python", fence):
            start = number + 1
        elif start is not None and fence == "```":
            blocks.append(Block(start, "\n".join(lines[start - 1 : number - 1])))
            start = None
    return blocks


def adapted(block: Block, used: set[str]) -> str:
    """The block with its human and Spark lines replaced, padded to its README line numbers."""
    out: list[str] = []
    for line in block.source.splitlines():
        code = line.split("#", 1)[0].strip()
        for table in (SKIPPED, HUMAN):
            if code in table:
                used.add(code)
                line = line[: len(line) - len(line.lstrip())] + table[code]
        out.append(line)
    return "\n" * (block.line - 1) + "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(sizes=Sizes(forge_order_pages=5)) as running:
        running.sso.characters[YOUR_CHARACTER[0]] = YOUR_CHARACTER[1]
        yield running


def test_readme_has_python_examples() -> None:
    blocks = python_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 5
    assert all(b.source.strip() for b in blocks)


def test_readme_python_examples_run(sandbox: Sandbox, tmp_path: Path) -> None:
    used: set[str] = set()
    blocks: list[dict[str, Any]] = [{"line": 0, "source": PREAMBLE}]
    blocks += [
        {"line": b.line, "source": adapted(b, used)}
        for b in python_blocks(README.read_text("utf-8"))
    ]
    assert used == set(SKIPPED) | set(HUMAN), "update SKIPPED/HUMAN to the README's lines"
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "blocks.json").write_text(json.dumps(blocks), "utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIFRAME_")}
    env.update(
        ESIFRAME_BASE_URL=sandbox.url,
        ESIFRAME_SSO_URL=sandbox.url,
        ESIFRAME_CACHE_DIR=str(tmp_path / "cache"),
        ESIFRAME_CONFIG_DIR=str(tmp_path / "config"),
        ESIFRAME_CALLBACK_URL=f"http://127.0.0.1:{free_port()}/callback",
        ESIFRAME_PROGRESS="0",
        MPLBACKEND="Agg",
    )
    run = subprocess.run(
        [sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    facts = json.loads(run.stdout.rsplit("FACTS ", 1)[1])

    # what the README's comments promise
    assert facts["hist_columns"][0] == "type_id"
    assert {"name_en", "name_de", "name_ko"} <= set(facts["types_columns"])
    assert facts["exploded_rows"] > 0
    assert facts["assets_rows"] > 0
    assert facts["assets_character"] == YOUR_CHARACTER[0]
    written = {p.relative_to(work).as_posix() for p in work.iterdir()}
    assert {"tritanium.parquet", "orders.parquet", "orders"} <= written
    assert list((work / "orders").glob("region_id=*/*.parquet"))
