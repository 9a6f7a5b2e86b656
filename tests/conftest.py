"""Shared fixtures: where the full MNIST files are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FULL_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def find_full_mnist() -> Path | None:
    """$VGGLIB_DATA if set (CI sets it), else ../shared/data/mnist beside the clone, else the user cache."""
    value = os.environ.get("VGGLIB_DATA")
    if value:
        return Path(value)
    from vgglib.mnist import default_cache_dir

    for candidate in (ROOT.parent / "shared" / "data" / "mnist", default_cache_dir()):
        if all((candidate / name).is_file() for name in FULL_FILES):
            return candidate
    return None


@pytest.fixture(scope="session")
def full_dir() -> Path:
    """The directory holding the four original MNIST .gz files.

    In CI (``CI`` set) or with ``VGGLIB_DATA`` set, missing files fail the tests. On a fresh clone without the
    files (nothing to test them on) the full-data tests are skipped with the reason; get the files with
    ``python -c "from vgglib.mnist import download_mnist; download_mnist()"`` or set ``VGGLIB_DATA``.
    """
    path = find_full_mnist()
    strict = bool(os.environ.get("CI")) or bool(os.environ.get("VGGLIB_DATA"))
    if path is None or not all((path / name).is_file() for name in FULL_FILES):
        message = (
            f"full-MNIST tests need the four original .gz files; looked in $VGGLIB_DATA="
            f"{os.environ.get('VGGLIB_DATA')!r}, {ROOT.parent / 'shared/data/mnist'} and the user cache. "
            "Set VGGLIB_DATA to their directory (CI: ../shared/data/mnist)."
        )
        if strict:
            pytest.fail(message)
        pytest.skip(message)
    return path


# ---------------------------------------------------------------------------------------------------------
# Markers: `pytest` runs everything; `pytest -m "not (notebooks or browser or slow or full_data)"` is the quick
# subset for development (see CONTRIBUTING.md). Registered in pyproject.toml.
# ---------------------------------------------------------------------------------------------------------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)
        elif path.name == "test_browser.py" and "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if "full_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.full_data)
