"""The explorers in a real browser: JupyterLab 4 + headless Chromium, driven with Playwright.

For each of ``10_dropout.ipynb`` and ``13_feature_maps.ipynb``: open it in a JupyterLab started for this test on
127.0.0.1, Run All Cells, wait for the explorer, move its slider with the keyboard, and check that the picture the
browser renders changes (the <img>'s src and the pixels of an element screenshot) and that the slider's readout
shows the new value. The notebooks are copied to a temporary directory first, so running them never touches the
committed files; JupyterLab gets its own temporary config/settings/workspace directories (with the announcements
pop-up disabled), so the user's configuration is never read or written. Screenshots are kept in pytest's tmp dir.

Needs Chromium (Debian package ``chromium``; ``.ci/run`` installs it) at ``$VGGLIB_CHROMIUM`` or
``/usr/bin/chromium``, and Playwright for Python (the ``test`` extra). Without them this test FAILS on purpose.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = os.environ.get("VGGLIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic"]
#: (notebook, explorer CSS class, slider CSS class, picture CSS class, key presses, slider readout after them,
#:  text the explorer's info line shows once it has redrawn for the new value)
CASES = [
    ("13_feature_maps.ipynb", "vgglib-feature-map-explorer", "vgglib-layer-slider", "vgglib-feature-maps",
     ["ArrowRight", "ArrowRight"], "conv1_2", "layer conv1_2 output"),
    ("10_dropout.ipynb", "vgglib-dropout-explorer", "vgglib-dropout-slider", "vgglib-dropout-view",
     ["ArrowRight"] * 4, "0.70", "p = 0.70:"),
]
SERVER_START_S = 90
RUN_ALL_S = 150


def _install_chromium_if_missing() -> None:
    """On a fresh Debian/Ubuntu machine where we are root (CI, a container), install Debian's Chromium, so the
    README's one test command needs nothing else; anywhere else the fixture fails with instructions."""
    if Path(CHROMIUM).exists() or "VGGLIB_CHROMIUM" in os.environ:
        return
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        subprocess.run(command, env=env, check=False, capture_output=True, timeout=900)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving copies of the notebooks; yields (base url, served dir, log)."""
    _install_chromium_if_missing()
    assert Path(CHROMIUM).exists(), (
        f"Chromium not found at {CHROMIUM}: install it (Debian: apt-get install -y chromium) or set "
        "VGGLIB_CHROMIUM; the browser test must not be skipped")
    root = tmp_path_factory.mktemp("jupyterlab")
    served = root / "notebooks"
    served.mkdir()
    for name, *_ in CASES:
        shutil.copy2(NOTEBOOKS / name, served / name)
    config = root / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(
        {"checkForUpdates": False, "fetchNews": "false"}))
    tracker = root / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps(
        {"autoStartDefaultKernel": True, "windowingMode": "none"}))     # no kernel dialog; every cell in the DOM
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               JUPYTER_DATA_DIR=str(root / "data"), JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)
    port = _free_port()
    log_path = root / "server.log"
    log = open(log_path, "wb")
    cmd = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--port-retries=0", "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={served}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    proc = subprocess.Popen(cmd, cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            assert proc.poll() is None, f"jupyter lab exited early:\n{log_path.read_text(errors='replace')}"
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            assert time.monotonic() < deadline, f"jupyter lab did not answer:\n{log_path.read_text()}"
            time.sleep(0.5)
        yield base, served, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _wait_idle(page, timeout_s: float) -> None:
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached",
                           timeout=timeout_s * 1000)


def _wait_all_run(page, timeout_s: float) -> None:
    """Every code cell shows an execution count ([12]), none is queued ([*]) or unrun ([ ])."""
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
        "        return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
        timeout=timeout_s * 1000, polling=1000)


def _accept_dialogs(page) -> None:
    """Accept a dialog (e.g. "Select Kernel") if one is open; there is none with the settings above."""
    dialog = page.locator(".jp-Dialog .jp-mod-accept")
    if dialog.count():
        dialog.first.click()


def _run_all(page) -> None:
    """Run → Run All Cells, until the first code cell has really run (a click while the kernel is still
    connecting clears the prompts without executing anything, so try again)."""
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function("(el) => /\\[(\\*|1)\\]/.test(el.textContent)", arg=first_prompt.element_handle(),
                                   timeout=20_000)
            return
        except Exception:
            if attempt == 2:
                raise
            page.wait_for_timeout(2000)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_slider_changes_the_rendered_picture(lab, browser, case, tmp_path):
    notebook, explorer_cls, slider_cls, picture_cls, keys, readout, info_text = case
    base, served, log_path = lab
    served_here = [NOTEBOOKS / name for name, *_ in CASES]
    committed = {p: _sha(p) for p in served_here}
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        page.goto(f"{base}/lab/tree/{notebook}?reset", wait_until="domcontentloaded", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        _wait_idle(page, 60)                                   # the kernel has started
        page.wait_for_timeout(500)
        _accept_dialogs(page)
        _run_all(page)
        explorer = page.locator(f".{explorer_cls}")
        explorer.wait_for(state="attached", timeout=RUN_ALL_S * 1000)
        _wait_all_run(page, RUN_ALL_S)                         # every cell has run
        _wait_idle(page, 30)
        explorer.scroll_into_view_if_needed()
        explorer.wait_for(state="visible", timeout=10_000)
        picture = page.locator(f"img.{picture_cls}")
        picture.scroll_into_view_if_needed()
        page.wait_for_function("(el) => el.naturalWidth > 0", arg=picture.element_handle(), timeout=30_000)
        src_before = picture.get_attribute("src")
        shot_before = picture.screenshot(path=str(shots / f"{notebook}-before.png"))
        page.screenshot(path=str(shots / f"{notebook}-page-before.png"))
        old_readout = page.locator(f".{slider_cls} .widget-readout").inner_text()

        handle = page.locator(f".{slider_cls} .noUi-handle")
        handle.focus()
        for key in keys:
            page.keyboard.press(key)
        page.wait_for_function("([el, old]) => el.getAttribute('src') !== old",
                               arg=[picture.element_handle(), src_before], timeout=30_000)
        info = explorer.locator(".vgglib-info, .widget-html").filter(has_text=info_text)
        info.first.wait_for(state="visible", timeout=30_000)     # redrawn for the final slider value
        _wait_idle(page, 30)
        page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=picture.element_handle(),
                               timeout=30_000)
        new_readout = page.locator(f".{slider_cls} .widget-readout").inner_text()
        shot_after = picture.screenshot(path=str(shots / f"{notebook}-after.png"))
        page.screenshot(path=str(shots / f"{notebook}-page-after.png"))

        assert new_readout.strip() == readout and old_readout.strip() != readout
        assert picture.get_attribute("src") != src_before
        assert shot_after != shot_before, "the slider moved but the rendered picture looks the same"
        assert not page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                has_text="Traceback").count(), "a cell raised an error"
        assert not [e for e in errors if "vgglib" in e or "widget" in e.lower()], errors
    except Exception:
        page.screenshot(path=str(shots / f"{notebook}-failure.png"))
        print(f"screenshots in {shots}; server log {log_path}")
        raise
    finally:
        page.close()
    assert {p: _sha(p) for p in served_here} == committed, "running in the browser changed a committed notebook"
    print(f"screenshots in {shots}")
