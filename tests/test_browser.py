"""The explorers in a real browser: JupyterLab 4 + headless Chromium, driven with Playwright.

For each of ``10_dropout.ipynb`` and ``13_feature_maps.ipynb``: open it in a JupyterLab started for this test on
127.0.0.1, Run All Cells, wait for the explorer, move its slider with the keyboard, and check that the picture the
browser renders changes (the <img>'s src and the pixels of an element screenshot) and that the slider's readout
shows the new value. In ``13_feature_maps.ipynb`` also draw a stroke with the mouse on the drawing pad's canvas
(ipycanvas) and check that the stroke appears, and that the prediction and the pictures change. The notebooks are
copied to a temporary directory first, so running them never touches the committed files; JupyterLab gets its own
temporary config/settings/workspace directories (with the announcements pop-up disabled), so the user's
configuration is never read or written. Screenshots are kept in pytest's tmp dir.

Needs Playwright for Python (the ``test`` extra) and a Chromium: Debian's ``chromium`` package (``.ci/run``
installs it for CI), a Playwright-managed one (``playwright install chromium``) or ``$VGGLIB_CHROMIUM``; see
tests/browser_support.py. The tests install nothing. Without a browser the test is skipped with the reason, except
in CI (``CI`` set), where it fails: there it must run.
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
from browser_support import HOW_TO_ENABLE, find_chromium, require_chromium

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
#: (notebook, explorer CSS class, slider CSS class, picture CSS class, key presses, slider readout after them,
#:  text the explorer's info line shows once it has redrawn for the new value)
CASES = [
    (
        "13_feature_maps.ipynb",
        "vgglib-feature-map-explorer",
        "vgglib-layer-slider",
        "vgglib-feature-maps",
        ["ArrowRight", "ArrowRight"],
        "conv1_2",
        "layer conv1_2 output",
    ),
    (
        "10_dropout.ipynb",
        "vgglib-dropout-explorer",
        "vgglib-dropout-slider",
        "vgglib-dropout-view",
        ["ArrowRight"] * 4,
        "0.70",
        "p = 0.70:",
    ),
]
#: the drawing-pad test opens its own copy of notebook 13 (its own kernel: the slider test's kernel has run it already)
PAD_NOTEBOOK, PAD_COPY = "13_feature_maps.ipynb", "13_feature_maps_drawing_pad.ipynb"
SERVER_START_S = 90
RUN_ALL_S = 300  # the whole notebook, on a busy two-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The Chromium to drive; skips (fails in CI) before JupyterLab starts when there is none."""
    return require_chromium()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving copies of the notebooks; yields (base url, served dir, log)."""
    root = tmp_path_factory.mktemp("jupyterlab")
    served = root / "notebooks"
    served.mkdir()
    for name, *_ in CASES:
        shutil.copy2(NOTEBOOKS / name, served / name)
    shutil.copy2(NOTEBOOKS / PAD_NOTEBOOK, served / PAD_COPY)
    config = root / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"})
    )
    tracker = root / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True, "windowingMode": "none"})
    )  # no kernel dialog; every cell in the DOM
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTER_DATA_DIR=str(root / "data"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    env.pop("MPLBACKEND", None)
    port = _free_port()
    log_path = root / "server.log"
    log = open(log_path, "wb")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--ServerApp.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={served}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
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
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _wait_idle(page, timeout_s: float) -> None:
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=timeout_s * 1000
    )


def _wait_all_run(page, timeout_s: float) -> None:
    """Every code cell shows an execution count ([12]), none is queued ([*]) or unrun ([ ])."""
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
        "        return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
        timeout=timeout_s * 1000,
        polling=1000,
    )


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
            page.wait_for_function(
                "(el) => /\\[(\\*|1)\\]/.test(el.textContent)", arg=first_prompt.element_handle(), timeout=20_000
            )
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
        _open_and_run_all(page, base, notebook)
        explorer = page.locator(f".{explorer_cls}")
        explorer.wait_for(state="attached", timeout=RUN_ALL_S * 1000)
        _wait_all_run(page, RUN_ALL_S)  # every cell has run
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
        page.wait_for_function(
            "([el, old]) => el.getAttribute('src') !== old", arg=[picture.element_handle(), src_before], timeout=30_000
        )
        info = explorer.locator(".vgglib-info, .widget-html").filter(has_text=info_text)
        info.first.wait_for(state="visible", timeout=30_000)  # redrawn for the final slider value
        _wait_idle(page, 30)
        page.wait_for_function(
            "(el) => el.complete && el.naturalWidth > 0", arg=picture.element_handle(), timeout=30_000
        )
        new_readout = page.locator(f".{slider_cls} .widget-readout").inner_text()
        shot_after = picture.screenshot(path=str(shots / f"{notebook}-after.png"))
        page.screenshot(path=str(shots / f"{notebook}-page-after.png"))

        assert new_readout.strip() == readout and old_readout.strip() != readout
        assert picture.get_attribute("src") != src_before
        assert shot_after != shot_before, "the slider moved but the rendered picture looks the same"
        assert not page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']", has_text="Traceback"
        ).count(), "a cell raised an error"
        assert not [e for e in errors if "vgglib" in e or "widget" in e.lower()], errors
    except Exception:
        page.screenshot(path=str(shots / f"{notebook}-failure.png"))
        print(f"screenshots in {shots}; server log {log_path}")
        raise
    finally:
        page.close()
    assert {p: _sha(p) for p in served_here} == committed, "running in the browser changed a committed notebook"
    print(f"screenshots in {shots}")


def _open_and_run_all(page, base, notebook):
    page.goto(f"{base}/lab/tree/{notebook}?reset", wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    _wait_idle(page, 60)  # the kernel has started
    page.wait_for_timeout(500)
    _accept_dialogs(page)
    _run_all(page)


def _srcs(page, classes):
    return {c: page.locator(f"img.{c}").get_attribute("src") for c in classes}


def test_drawing_a_digit_with_the_mouse_updates_the_pad(lab, browser, tmp_path):
    """13_feature_maps.ipynb: clear the drawing pad, draw a "1" (one vertical stroke) with the mouse on its
    canvas, and check the canvas shows it and the prediction, the 28x28 input, the probabilities and the feature
    maps are redrawn for it."""
    base, served, log_path = lab
    committed = _sha(NOTEBOOKS / PAD_NOTEBOOK)
    pictures = ["vgglib-pad-input", "vgglib-pad-probabilities", "vgglib-pad-feature-maps"]
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        _open_and_run_all(page, base, PAD_COPY)
        pad = page.locator(".vgglib-drawing-pad")
        pad.wait_for(state="attached", timeout=RUN_ALL_S * 1000)
        _wait_all_run(page, RUN_ALL_S)
        _wait_idle(page, 30)
        pad.scroll_into_view_if_needed()
        pad.wait_for(state="visible", timeout=10_000)
        prediction = pad.locator(".vgglib-pad-prediction")
        # the notebook drew a 7 from code: clear it, then draw with the mouse
        pad.locator(".vgglib-pad-clear").click()
        prediction.filter(has_text="Draw a digit").wait_for(state="visible", timeout=30_000)
        _wait_idle(page, 30)
        canvas = pad.locator("canvas.vgglib-pad-canvas")
        canvas.scroll_into_view_if_needed()
        for c in pictures:
            page.wait_for_function(
                "(el) => el.complete && el.naturalWidth > 0",
                arg=page.locator(f"img.{c}").element_handle(),
                timeout=30_000,
            )
        before = _srcs(page, pictures)
        shots_before = {c: page.locator(f"img.{c}").screenshot() for c in pictures}
        canvas_before = canvas.screenshot(path=str(shots / "canvas-before.png"))
        page.screenshot(path=str(shots / "pad-before.png"))

        box = canvas.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, box
        x, top = box["x"] + box["width"] / 2, box["y"]
        page.mouse.move(x, top + 0.12 * box["height"])
        page.mouse.down()
        for k in range(1, 21):  # a vertical stroke down the middle: a "1"
            page.mouse.move(x, top + (0.12 + 0.76 * k / 20) * box["height"])
            page.wait_for_timeout(20)
        page.mouse.up()

        prediction.filter(has_text="prediction:").wait_for(state="visible", timeout=60_000)
        for c in pictures:
            page.wait_for_function(
                "([el, old]) => el.getAttribute('src') !== old && el.complete && el.naturalWidth > 0",
                arg=[page.locator(f"img.{c}").element_handle(), before[c]],
                timeout=30_000,
            )
        _wait_idle(page, 30)
        page.wait_for_timeout(500)
        canvas_after = canvas.screenshot(path=str(shots / "canvas-after.png"))
        page.screenshot(path=str(shots / "pad-after.png"))
        text = prediction.inner_text()
        assert "prediction: 1" in text, text  # the trained network reads a vertical bar as a 1
        assert canvas_after != canvas_before, "the stroke does not show on the canvas"
        for c in pictures:
            assert page.locator(f"img.{c}").screenshot() != shots_before[c], f"{c} looks the same after drawing"
        assert not page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']", has_text="Traceback"
        ).count(), "a cell raised an error"
        assert not [e for e in errors if "vgglib" in e or "widget" in e.lower() or "canvas" in e.lower()], errors
    except Exception:
        page.screenshot(path=str(shots / "pad-failure.png"))
        print(f"screenshots in {shots}; server log {log_path}")
        raise
    finally:
        page.close()
    assert _sha(NOTEBOOKS / PAD_NOTEBOOK) == committed, "running in the browser changed a committed notebook"
    print(f"screenshots in {shots}")


# ------------------------------------------------------------------ which browser, and what happens without one


@pytest.fixture
def no_browser(tmp_path, monkeypatch):
    """A machine with no Chromium anywhere: no Debian package, none on PATH, Playwright's not downloaded."""
    import browser_support

    monkeypatch.setattr(browser_support, "DEBIAN_CHROMIUM", tmp_path / "usr-bin-chromium")
    monkeypatch.setattr(browser_support, "playwright_chromium", lambda: tmp_path / "ms-playwright" / "chrome")
    monkeypatch.setenv("PATH", str(tmp_path))  # shutil.which("chromium") finds nothing
    monkeypatch.delenv("VGGLIB_CHROMIUM", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def test_without_a_browser_it_skips_and_says_how_to_enable_it(no_browser):
    assert find_chromium() == (
        None,
        [str(no_browser / "usr-bin-chromium"), str(no_browser / "ms-playwright" / "chrome")],
    )
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium()
    reason = str(skipped.value)
    assert HOW_TO_ENABLE in reason
    assert "Debian's `chromium` package" in reason and "playwright install chromium" in reason
    assert str(no_browser / "usr-bin-chromium") in reason and str(no_browser / "ms-playwright" / "chrome") in reason


@pytest.mark.parametrize("ci", ["true", "1"])
def test_without_a_browser_in_ci_it_fails(no_browser, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception) as failed:
        require_chromium()
    assert "must run" in str(failed.value) and HOW_TO_ENABLE in str(failed.value)


def test_ci_false_is_not_ci(no_browser, monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_chromium()


def test_debian_chromium_first_then_path_then_playwrights(no_browser, monkeypatch):
    import browser_support

    playwright_chrome = no_browser / "ms-playwright" / "chrome"
    playwright_chrome.parent.mkdir()
    playwright_chrome.write_text("")
    assert find_chromium()[0] == playwright_chrome  # `playwright install chromium` was run
    on_path = no_browser / "chromium"
    on_path.write_text("")
    on_path.chmod(0o755)
    assert find_chromium()[0] == on_path  # a `chromium` on PATH comes before it
    debian = no_browser / "usr-bin-chromium"
    debian.write_text("")
    monkeypatch.setattr(browser_support, "playwright_chromium", lambda: pytest.fail("Playwright asked needlessly"))
    assert find_chromium() == (debian, [str(debian)])  # Debian's package wins; Playwright not started
    assert require_chromium() == debian


def test_vgglib_chromium_is_the_only_candidate_when_set(no_browser, monkeypatch):
    (no_browser / "usr-bin-chromium").write_text("")
    mine = no_browser / "my-chromium"
    monkeypatch.setenv("VGGLIB_CHROMIUM", str(mine))
    assert find_chromium() == (None, [str(mine)])
    mine.write_text("")
    assert find_chromium() == (mine, [str(mine)])


def test_the_real_browser_test_skips_or_fails_without_a_browser(tmp_path):
    """End to end: the slider and drawing tests themselves, in a fresh pytest, with a Chromium that does not exist."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(VGGLIB_CHROMIUM=str(tmp_path / "no-chromium-here"), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # fast start
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(Path(__file__)),
        "-k",
        "test_slider_changes_the_rendered_picture or test_drawing_a_digit_with_the_mouse_updates_the_pad",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-rsE",
        "--basetemp",
        str(tmp_path / "run"),
    ]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and f"{len(CASES) + 1} skipped" in run.stdout, run.stdout + run.stderr
    assert "playwright install chromium" in run.stdout and "no-chromium-here" in run.stdout
    run = subprocess.run(cmd, cwd=ROOT, env={**env, "CI": "true"}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "CI is set, so the browser test must run" in run.stdout, run.stdout + run.stderr
    assert "skipped" not in run.stdout.splitlines()[-1], run.stdout
