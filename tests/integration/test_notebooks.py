"""The tutorial notebooks run top to bottom against the sandbox, and their saved copies show charts.

Every notebook is executed in a fresh python3 kernel of this interpreter, in a temporary working
directory, with the ``ESIFRAME_*`` settings of a shared sandbox; any cell error fails the test.
``python tests/integration/test_notebooks.py [NAME.ipynb ...]`` executes them (default: all) the
same way and saves them with their outputs (what the repository commits).
"""

from __future__ import annotations

import ast
import base64
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from ports import free_port

from esiframe.export import read_parquet
from esiframe.sandbox import Sandbox

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120
SAVED_LIMIT = 400_000
CHART = re.compile(r"\.plot\b")
#: What a tqdm bar's text looks like ("GetX:  40%|####      | 2/5 [00:01<...]").
PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def kernel_env(sandbox_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a notebook kernel: this one, pointed at the sandbox and at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESIFRAME_")}
    env.update(
        ESIFRAME_BASE_URL=sandbox_url,
        ESIFRAME_SSO_URL=sandbox_url,
        ESIFRAME_CACHE_DIR=str(home / "cache"),
        ESIFRAME_CONFIG_DIR=str(home / "config"),
        ESIFRAME_CALLBACK_URL=f"http://127.0.0.1:{free_port()}/callback",
        ESIFRAME_PROGRESS="0",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    env.update(extra)
    return env


def read(path: Path) -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def execute(name: str, cwd: Path, env: Mapping[str, str]) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel with working directory ``cwd``; raise on a cell error."""
    notebook = read(NOTEBOOKS / name)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
    )
    client.execute(env=dict(env))
    return notebook


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the code cells printed or displayed as text."""
    parts: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append(output["text"])
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def chart_cells(notebook: nbformat.NotebookNode) -> list[Any]:
    return [c for c in notebook.cells if c.cell_type == "code" and CHART.search(c.source)]


def has_png(cell: Any) -> bool:
    for output in cell.get("outputs", []):
        png = output.get("data", {}).get("image/png")
        if png and base64.b64decode(png).startswith(b"\x89PNG"):
            return True
    return False


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def test_every_tutorial_is_here() -> None:
    assert NAMES == [
        "01-quickstart.ipynb",
        "02-market-snapshot.ipynb",
        "03-logging-in.ipynb",
        "04-names-in-many-languages.ipynb",
        "05-good-esi-citizen.ipynb",
        "06-history-that-grows.ipynb",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_against_the_sandbox(name: str, sandbox: Sandbox, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    notebook = execute(name, work, kernel_env(sandbox.url, tmp_path))

    for cell in chart_cells(notebook):
        assert has_png(cell), f"no chart drawn by: {cell.source}"
    written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    assert all(path.startswith("output/") for path in written), written
    text = outputs_text(notebook)
    if name.startswith("01"):
        assert written == ["output/minerals-history.parquet"]
        assert "same types: True" in text
    elif name.startswith("02"):
        partitions = sorted(p.name for p in (work / "output" / "orders").glob("region_id=*"))
        assert partitions == ["region_id=10000002", "region_id=10000032", "region_id=10000043"]
    elif name.startswith("03"):
        assert "Logged in as Aura Sandbox (2112000001)" in text
        assert "Wallet:" in text
    elif name.startswith("04"):
        assert written == ["output/glossary.csv"]
        assert "リフター" in text
    elif name.startswith("05"):
        assert (
            "second: {'cache': 1, 'revalidated': 0, 'fresh': 0, 'uncached': 0, 'not-modified': 0}"
            in text
        )
        assert "status 304 - 0 rows" in text
        assert "No request was sent" in text
    elif name.startswith("06"):
        check_history_notebook(work / "output" / "history", text)


def check_history_notebook(dataset: Path, text: str) -> None:
    """30 types synced into one folder each; the second sync within Expires sent nothing."""
    folders = sorted(p.name for p in dataset.iterdir() if p.is_dir())
    assert len(folders) == 30 and all(f.startswith("type_id=") for f in folders), folders
    assert "12,000 rows new or changed, 30 types" in text
    assert "requests: {'cache': 0, 'revalidated': 0, 'fresh': 30," in text
    assert "0 rows new or changed; responses: {'cache': 30, 'revalidated': 0, 'fresh': 0," in text
    history = read_parquet(dataset)
    assert len(history) == 12_000
    assert not history.duplicated(["date", "type_id"]).any()
    assert "type_name" in text  # ef.label named the type ids


def test_login_notebook_on_a_remote_kernel(sandbox: Sandbox, tmp_path: Path) -> None:
    """ESIFRAME_LOOPBACK=0: nothing listens; the redirect URL is handed over as if pasted."""
    work = tmp_path / "work"
    work.mkdir()
    env = kernel_env(sandbox.url, tmp_path, ESIFRAME_LOOPBACK="0")
    notebook = execute("03-logging-in.ipynb", work, env)
    assert "Logged in as Aura Sandbox (2112000001)" in outputs_text(notebook)


@pytest.mark.parametrize("name", NAMES)
def test_saved_notebook_is_executed_with_charts(name: str) -> None:
    path = NOTEBOOKS / name
    notebook = read(path)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        "save the notebook executed top to bottom (python tests/integration/test_notebooks.py)"
    )
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    for cell in chart_cells(notebook):
        assert has_png(cell), f"the saved notebook lacks the chart of: {cell.source}"
    assert path.stat().st_size < SAVED_LIMIT, "keep outputs small (use .head())"


def is_progress_bar(output: Any) -> bool:
    """A progress bar's output (a tqdm widget or its text): a frozen bar once saved."""
    data = output.get("data", {})
    text = output.get("text") or data.get("text/plain", "")
    text = text if isinstance(text, str) else "".join(text)
    return bool(PROGRESS_BAR.search(text)) and (
        WIDGET_VIEW in data or output.get("name") == "stderr"
    )


def strip_progress_bars(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]


def unused_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Names the code cells bind (assignments, imports) but never read."""
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound - read - {"_"}


@pytest.mark.parametrize("name", NAMES)
def test_notebook_says_where_its_outputs_come_from(name: str) -> None:
    """The first cell says the saved outputs are the sandbox's and how to reach the real ESI."""
    notebook = read(NOTEBOOKS / name)
    top = notebook.cells[0]
    assert top.cell_type == "markdown"
    assert "outputs saved in this notebook come from esiframe's offline sandbox" in top.source
    assert "To run it against the real ESI, leave `ESIFRAME_BASE_URL` unset" in top.source
    assert unused_names(notebook) == set(), "remove the unused names (or use them)"


@pytest.mark.parametrize("name", NAMES)
def test_saved_notebook_keeps_no_progress_bar(name: str) -> None:
    notebook = read(NOTEBOOKS / name)
    frozen = [
        o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if is_progress_bar(o)
    ]
    assert frozen == [], "save with python tests/integration/test_notebooks.py (strips bars)"


def test_unused_names_and_progress_bars_are_found() -> None:
    """The two checks above can fail: an unused import and a tqdm widget are caught."""
    cells = [nbformat.v4.new_code_cell("import os\nimport pandas as pd\nx = 1\npd.Series([x])")]  # type: ignore[no-untyped-call]
    assert unused_names(nbformat.v4.new_notebook(cells=cells)) == {"os"}  # type: ignore[no-untyped-call]
    bar = {
        "output_type": "display_data",
        "data": {
            WIDGET_VIEW: {"model_id": "m"},
            "text/plain": "GetX:   0%|          | 0/3 [00:00<?, ?req/s]",
        },
    }
    assert is_progress_bar(bar)
    assert not is_progress_bar({"output_type": "stream", "name": "stdout", "text": "50%|x| 1/2"})


def save_all(names: list[str] | None = None) -> None:
    """Execute the notebooks (``names``, default all) against a fresh sandbox and save them.

    Progress is off in the kernels (ESIFRAME_PROGRESS=0) and any bar left is stripped: a saved
    bar shows frozen where the text describes a finished call.
    """
    unknown = sorted(set(names or []) - set(NAMES))
    if unknown:
        raise SystemExit(f"no such notebook: {', '.join(unknown)}; notebooks: {', '.join(NAMES)}")
    with Sandbox() as running, tempfile.TemporaryDirectory() as scratch:
        for name in names or NAMES:
            home = Path(scratch) / name
            (home / "work").mkdir(parents=True)
            notebook = execute(name, home / "work", kernel_env(running.url, home))
            strip_progress_bars(notebook)
            nbformat.write(notebook, NOTEBOOKS / name)  # type: ignore[no-untyped-call]
            print("saved", NOTEBOOKS / name, file=sys.stderr)


if __name__ == "__main__":
    save_all(sys.argv[1:])  # python tests/integration/test_notebooks.py [NAME.ipynb ...]
