"""Which Chromium the real-browser test (tests/test_browser.py) drives, and what happens when there is none.

Looked for in this order: ``$VGGLIB_CHROMIUM`` (when set, the only candidate); Debian's ``chromium`` package
(``/usr/bin/chromium``, or ``chromium`` on PATH); a Playwright-managed Chromium (``playwright install chromium``,
found through Playwright's own executable path). The tests never install anything: ``.ci/run`` installs
Debian's Chromium for CI. Without a browser the test is skipped with the reason; in CI (``CI`` set) it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
HOW_TO_ENABLE = (
    "install Debian's `chromium` package (it provides /usr/bin/chromium; `.ci/run` installs it in CI) "
    "or run `.venv/bin/playwright install chromium` (Playwright's own Chromium, no root needed); "
    "or set VGGLIB_CHROMIUM to a Chromium executable"
)


def in_ci(environ=None) -> bool:
    """True when ``CI`` is set to anything but an empty string, 0, false or no (CI services set CI=true)."""
    return (os.environ if environ is None else environ).get("CI", "").strip().lower() not in ("", "0", "false", "no")


def playwright_chromium() -> Path | None:
    """Where Playwright keeps its own Chromium (whether or not it is downloaded); None without Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            return Path(p.chromium.executable_path)
    except Exception:  # no driver for this platform, etc.
        return None


def find_chromium(environ=None) -> tuple[Path | None, list[str]]:
    """The Chromium executable to drive (or None) and every place looked at, for the skip/fail message."""
    environ = os.environ if environ is None else environ

    def candidates():  # lazily: Playwright's driver starts only if needed
        if environ.get("VGGLIB_CHROMIUM"):
            yield Path(environ["VGGLIB_CHROMIUM"])
            return
        yield DEBIAN_CHROMIUM
        on_path = shutil.which("chromium", path=environ.get("PATH"))
        if on_path:
            yield Path(on_path)
        yield playwright_chromium()

    looked: list[str] = []
    for path in candidates():
        if path is None:
            continue
        looked.append(str(path))
        if path.is_file():
            return path, looked
    return None, looked


def require_chromium(environ=None) -> Path:
    """The Chromium executable, or: skip (outside CI) / fail (CI) with what was looked at and how to enable it."""
    try:
        import playwright.sync_api  # noqa: F401  (drives either browser)

        missing = None
    except ImportError:
        missing = "Playwright for Python is not installed (it is in the test extra: pip install -e '.[test]')"
    path, looked = find_chromium(environ)
    if path is not None and missing is None:
        return path
    reason = missing or (
        f"no Chromium for the real-browser test (looked at {', '.join(looked) or 'nothing'}): " + HOW_TO_ENABLE
    )
    if in_ci(environ):
        pytest.fail(f"CI is set, so the browser test must run, not skip: {reason}", pytrace=False)
    pytest.skip(reason)
