"""The login panel in a real browser: JupyterLab, Debian's Chromium driven by Playwright.

A user opens the login notebook in JupyterLab, runs it, clicks the panel's log-in link, chooses
a character on the (sandbox) EVE SSO page and approves; the panel then shows the character and
a later cell's authenticated call shows a frame. Two ways back from the SSO are covered:

- loopback (a local kernel): the browser's redirect reaches the kernel's one-shot callback server
  while the notebook's wait cell blocks, and the rest of the notebook runs on by itself;
- paste (a remote kernel, ``ESIFRAME_LOOPBACK=0``): the redirect goes to a dead callback URL; the
  user copies that URL from the browser into the panel's text box and presses Finish.

The notebook is notebooks/03-logging-in.ipynb, copied into a temporary directory (JupyterLab
autosaves and the kernel's working directory is the notebook's: the committed copy must stay
untouched). The test finds its cells by what they call, not by position.
Screenshots of each panel as a user first sees it (the log-in button, the paste box) and once
logged in go to test-artifacts/ (gitignored); the log-in button's link is checked to be the
SSO's authorize URL with PKCE.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)
from ports import free_port

from esiframe.sandbox import Sandbox

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "03-logging-in.ipynb"
ARTIFACTS = REPO / "test-artifacts"
CHARACTER = "Bravo Sandbox"  # not the SSO page's preselected first character: the choice counts
LINK_TEXT = "Log in with EVE Online"
BUTTON_BLUE = (0x1F, 0x6F, 0xEB)  # the log-in button's background (esiframe/widgets.py)
SERVER_START_SECONDS = 90.0
CELL_MS = 90_000  # a cell that starts the kernel or fetches a frame
UI_MS = 30_000  # a page or a widget reacting to a click


if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        f"{CHROMIUM} is missing (Debian's chromium); `bash .ci/browser.sh` installs it and runs "
        "this test",
        allow_module_level=True,
    )


# --- helpers ----------------------------------------------------------------------------------


def _code_sources(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """(index among all cells, source) of every code cell."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            source = cell["source"]
            found.append((index, source if isinstance(source, str) else "".join(source)))
    return found


@dataclass(frozen=True)
class NotebookPlan:
    """Where things are in the notebook: cell indices as JupyterLab shows them."""

    path: Path
    panel_cell: int  # the cell that creates and displays the login panel
    frame_cells: tuple[int, ...]  # the cells from the first authenticated call on
    last_code_cell: int


def _plan(path: Path) -> NotebookPlan:
    notebook = json.loads(path.read_text("utf-8"))
    code = _code_sources(notebook)
    panel = [i for i, src in code if re.search(r"\.login\(", src)]
    assets = [i for i, src in code if "GetCharactersCharacterIdAssets" in src]
    if not panel or not assets:
        raise AssertionError(
            f"{path.name} needs a code cell calling ef.login(...) and one calling "
            "ef.get('GetCharactersCharacterIdAssets', ...); the browser test drives those"
        )
    return NotebookPlan(
        path=path,
        panel_cell=panel[0],
        frame_cells=tuple(i for i, _ in code if i >= assets[0]),
        last_code_cell=code[-1][0],
    )


def _write_settings(settings_dir: Path) -> None:
    """JupyterLab user settings: every cell in the DOM, no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, values in settings.items():
        target = settings_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), "utf-8")


@dataclass(frozen=True)
class JupyterLab:
    """A running JupyterLab: its URL and token, the kernels' callback URL, the notebook."""

    url: str
    token: str
    callback_url: str
    sso_url: str
    plan: NotebookPlan

    def notebook_url(self) -> str:
        return f"{self.url}/lab/tree/{self.plan.path.name}?reset&token={self.token}"


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(
        f"JupyterLab did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()[-4000:]}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its kernels (its own process group, started by this test)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=15)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; in CI its absence is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (.ci/browser.sh)")
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture
def start_lab(
    esi_sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> Iterator[Callable[..., JupyterLab]]:
    """Start JupyterLab on the login notebook, its kernels pointed at a fresh sandbox."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*, loopback: bool) -> JupyterLab:
        sandbox = esi_sandbox_factory()
        root = tmp_path / "lab"
        root.mkdir()
        assert NOTEBOOK.exists(), f"the login tutorial {NOTEBOOK} is missing"
        plan = _plan(Path(shutil.copy(NOTEBOOK, root / NOTEBOOK.name)))
        jupyter = tmp_path / "jupyter"
        _write_settings(jupyter / "lab-settings")
        token = secrets.token_hex(16)
        port = free_port()
        callback_url = f"http://127.0.0.1:{free_port()}/callback"
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
            "JUPYTER_DATA_DIR": str(jupyter / "data"),
            "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
            "IPYTHONDIR": str(jupyter / "ipython"),
            "ESIFRAME_BASE_URL": sandbox.url,
            "ESIFRAME_SSO_URL": sandbox.url,
            "ESIFRAME_CACHE_DIR": str(tmp_path / "cache"),
            "ESIFRAME_CONFIG_DIR": str(tmp_path / "config"),
            "ESIFRAME_CALLBACK_URL": callback_url,
            "ESIFRAME_LOOPBACK": "1" if loopback else "0",
            "ESIFRAME_PROGRESS": "0",
            "ESIFRAME_NOTEBOOK_AUTOLOGIN": "0",
        }
        log = tmp_path / "jupyterlab.log"
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(process, f"{url}/api/status?token={token}", log)
        return JupyterLab(
            url=url, token=token, callback_url=callback_url, sso_url=sandbox.url, plan=plan
        )

    try:
        yield start
    finally:
        for process in processes:
            _stop(process)


@pytest.fixture
def context(
    browser: Browser, request: pytest.FixtureRequest, body_failed: Callable[[], bool]
) -> Iterator[BrowserContext]:
    """A fresh browser profile that reaches nothing but 127.0.0.1.

    When the test fails, every page it had open is saved to test-artifacts/ as it looked then.
    """
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})

    def refuse(route: Route) -> None:
        route.abort()

    ctx.route(re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost)[:/])\w+://"), refuse)
    yield ctx
    if body_failed():
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(ctx.pages):
            stem = ARTIFACTS / f"failed-{request.node.name}-{number}"
            page.screenshot(path=f"{stem}.png")
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            Path(f"{stem}.txt").write_text(f"{page.url}\n\n" + "\n---\n".join(outputs), "utf-8")
    ctx.close()


# --- driving JupyterLab -----------------------------------------------------------------------


class Notebook:
    """The open notebook in JupyterLab, as a user sees and uses it."""

    def __init__(self, page: Page, plan: NotebookPlan) -> None:
        self.page = page
        self.plan = plan

    def cell(self, index: int) -> Locator:
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)

    def open(self, url: str) -> None:
        self.page.goto(url)
        expect(self.cell(self.plan.last_code_cell)).to_be_attached(timeout=CELL_MS)
        kernel = self.page.get_by_role("contentinfo").get_by_role(
            "button", name=re.compile(r"^(?!No Kernel).+ \| Idle$")
        )
        expect(kernel).to_be_visible(timeout=CELL_MS)
        self.menu("Edit", "Clear Outputs of All Cells")
        expect(self.page.locator(".jp-OutputArea-output")).to_have_count(0)

    def menu(self, top: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def select(self, index: int) -> None:
        self.cell(index).locator(".jp-InputPrompt").click()
        expect(self.cell(index)).to_have_class(re.compile(r"\bjp-mod-active\b"))

    def wait_run(self) -> None:
        """Wait until the last code cell has run, or a cell failed (then fail, showing it)."""
        done = self.cell(self.plan.last_code_cell).locator(
            ".jp-InputPrompt", has_text=re.compile(r"^\[\d+\]:$")
        )
        failed = self.page.locator(".jp-OutputArea-output", has_text="Traceback")
        expect(done.or_(failed).first).to_be_visible(timeout=CELL_MS)
        assert failed.count() == 0, f"a cell failed; the outputs:\n{self.outputs_text()}"

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea")

    def outputs_text(self) -> str:
        """Every output's text, for failure messages."""
        texts = self.page.locator(".jp-OutputArea-output").all_inner_texts()
        return "\n---\n".join(texts)


def _approve(popup: Page) -> None:
    """On the sandbox SSO page: choose the character and authorize."""
    popup.wait_for_load_state()
    expect(popup.get_by_role("heading")).to_have_text("Log in to the esiframe sandbox")
    popup.get_by_label(re.compile(CHARACTER)).check()
    popup.get_by_role("button", name="Authorize").click()


def _assert_logged_in(panel: Locator) -> None:
    expect(panel).to_contain_text(f"Logged in as {CHARACTER}", timeout=UI_MS)
    expect(panel.locator("b", has_text=CHARACTER)).to_be_visible()
    expect(panel.get_by_role("link", name=LINK_TEXT)).to_be_hidden()


def _assert_frame(notebook: Notebook) -> None:
    """A cell from the authenticated call on shows a table of assets with rows."""
    tables = [notebook.output(i).locator("table") for i in notebook.plan.frame_cells]
    shown = [t for t in tables if t.count() > 0]
    assert shown, (
        f"no cell from the assets call on shows a frame; outputs:\n{notebook.outputs_text()}"
    )
    table = shown[0].first
    expect(table.locator("thead")).to_contain_text("type_id")
    assert table.locator("tbody tr").count() >= 1, table.inner_text()


def _screenshot(panel: Locator, name: str) -> Path:
    """Save what the panel looks like now; the file must hold an image."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    panel.screenshot(path=str(path))
    assert path.stat().st_size > 0, path
    return path


def _has_colour(png: Path, rgb: tuple[int, int, int], tolerance: int = 12) -> bool:
    """Whether any pixel of ``png`` is ``rgb`` (give or take antialiasing)."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(
        all(abs(a - b) <= tolerance for a, b in zip(c, rgb, strict=True)) for _, c in colours
    )


def _assert_first_view(lab: JupyterLab, panel: Locator, name: str) -> None:
    """The panel as a user first sees it: the button to the SSO with PKCE, the paste box."""
    link = panel.get_by_role("link", name=LINK_TEXT)
    expect(link).to_be_visible()
    expect(panel.get_by_role("textbox")).to_be_visible()
    expect(panel.get_by_role("button", name="Finish")).to_be_visible()
    href = link.get_attribute("href") or ""
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{lab.sso_url}/v2/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code" and query["redirect_uri"] == lab.callback_url, query
    assert query["code_challenge_method"] == "S256", query
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"]), query  # SHA-256, base64url
    assert query.get("state"), query
    shot = _screenshot(panel, name)
    assert _has_colour(shot, BUTTON_BLUE), f"{shot} does not show the blue log-in button"


def _assert_logged_in_view(panel: Locator, name: str) -> None:
    shot = _screenshot(panel, name)
    assert not _has_colour(shot, BUTTON_BLUE), f"{shot} still shows the log-in button"


# --- the tests --------------------------------------------------------------------------------


def test_login_through_the_loopback_callback(
    start_lab: Callable[..., JupyterLab], context: BrowserContext
) -> None:
    """Run All: the wait cell blocks until the browser's redirect reaches the kernel."""
    lab = start_lab(loopback=True)
    notebook = Notebook(context.new_page(), lab.plan)
    notebook.open(lab.notebook_url())
    notebook.menu("Run", "Run All Cells")

    panel = notebook.output(lab.plan.panel_cell)
    link = panel.get_by_role("link", name=LINK_TEXT)
    expect(panel).to_contain_text("Waiting for you to approve the login", timeout=CELL_MS)
    _assert_first_view(lab, panel, "login-panel-first.png")
    with context.expect_page() as opened:
        link.click()
    popup = opened.value
    _approve(popup)
    expect(popup.get_by_role("heading")).to_have_text(f"Logged in as {CHARACTER}", timeout=UI_MS)
    assert popup.url.startswith(lab.callback_url + "?")

    _assert_logged_in(panel)
    notebook.wait_run()
    _assert_frame(notebook)
    _assert_logged_in_view(panel, "login-panel.png")


def test_login_by_pasting_the_redirect_url(
    start_lab: Callable[..., JupyterLab], context: BrowserContext
) -> None:
    """Remote kernel: nothing listens on the callback; paste the URL, press Finish."""
    lab = start_lab(loopback=False)
    notebook = Notebook(context.new_page(), lab.plan)
    notebook.open(lab.notebook_url())
    after_panel = lab.plan.panel_cell + 1
    notebook.select(after_panel)
    notebook.menu("Run", "Run All Above Selected Cell")

    panel = notebook.output(lab.plan.panel_cell)
    link = panel.get_by_role("link", name=LINK_TEXT)
    expect(panel).to_contain_text(
        "paste the URL it lands on below and press Finish", timeout=CELL_MS
    )
    _assert_first_view(lab, panel, "login-panel-paste-first.png")
    with context.expect_page() as opened:
        link.click()
    popup = opened.value
    # Playwright shows Chromium's error page as chrome-error://chromewebdata/; the address bar
    # (what the user copies) holds the URL of the navigation that failed.
    with popup.expect_event(
        "requestfailed", lambda request: request.url.startswith(lab.callback_url + "?")
    ) as failed:
        _approve(popup)
    assert failed.value.failure == "net::ERR_CONNECTION_REFUSED", failed.value.failure
    redirect = failed.value.url
    assert "code=" in redirect and "state=" in redirect, redirect

    panel.get_by_role("textbox").fill(redirect)
    panel.get_by_role("button", name="Finish").click()
    _assert_logged_in(panel)

    notebook.select(after_panel)
    notebook.menu("Run", "Run Selected Cell and All Below")
    notebook.wait_run()
    _assert_frame(notebook)
    _assert_logged_in_view(panel, "login-panel-paste.png")
