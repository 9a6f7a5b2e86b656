"""Mutation check: the per-module tests of the reference code catch real bugs, on their own.

What it proves. For every deliberate bug in ``tests/mutations.py`` (conv bias gradient dropped, ReLU backward
ignoring its mask, col2im overwriting instead of accumulating, softmax without the max shift, Adam without
bias correction, ...) this test copies the ``vgglib`` package to a temporary directory, applies that one
textual patch, and runs the per-module test files named for it (``tests/test_layers.py``,
``tests/test_reference.py``, ``tests/test_losses.py``, ``tests/test_optim.py`` — never ``tests/test_fast.py``:
the reference code must be tested without the fast backend) in a subprocess whose ``PYTHONPATH`` puts the
mutated copy first. The mutant must be *killed*: pytest exits with 1 (tests failed), not 0, and not with a
collection/usage error, which would mean the mutant broke the import rather than a test catching it. The
unmutated copy is run the same way and must pass, so a broken harness (wrong ``PYTHONPATH``, a missing test
file) cannot look like "every mutant killed". Inside each subprocess the ``mutations`` plugin records where
every ``vgglib`` module was imported from; the harness checks they all lie in the copy.

A surviving mutant fails as ``test_mutant_is_killed[<name>]``. Fix it with a new test in the per-module test
file that catches that class of bug — not by weakening the mutation.

Adding a mutation: append a ``Mutation(name, file, old, new, tests, why)`` to ``MUTATIONS`` in
``tests/mutations.py``. ``old`` is an exact snippet of ``vgglib/<file>`` that occurs exactly once (if the code
moves, ``test_patch_applies`` fails and names it); ``new`` must be valid Python that keeps shapes valid;
``tests`` is the smallest set of per-module test files that should catch it. Then run
``pytest -o addopts="" -q tests/test_mutations.py -k <name>``.

Cost: one short pytest subprocess per mutant, two at a time, with plugin autoloading off (nbval and the
notebook plugins are not needed) — under a minute for the whole list on two cores (~55 s of CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from mutations import MUTATIONS, Mutation

pytestmark = pytest.mark.slow  # ~30-50 s: the quick subset leaves it to the full run and CI

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "vgglib"
BY_NAME = {m.name: m for m in MUTATIONS}
PARALLEL = 2  # subprocesses at once (CI runners and this machine have two cores)
TIMEOUT_S = 300  # per subprocess; a hang is reported, never counted as a kill
FORBIDDEN_TESTS = {"test_fast.py"}  # the reference code is tested without the fast backend


def copy_package(dest: Path, mutation: Mutation | None) -> Path:
    """Copy vgglib/ under ``dest`` (no __pycache__) and apply ``mutation``'s patch; return ``dest``."""
    shutil.copytree(PACKAGE, dest / "vgglib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if mutation is not None:
        target = dest / "vgglib" / mutation.file
        source = target.read_text(encoding="utf-8")
        check_patch(mutation, source)
        target.write_text(source.replace(mutation.old, mutation.new), encoding="utf-8")
    return dest


def check_patch(mutation: Mutation, source: str) -> None:
    count = source.count(mutation.old)
    assert count == 1, (
        f"mutation {mutation.name}: {mutation.old!r} occurs {count} times in "
        f"vgglib/{mutation.file} (expected exactly once) — update tests/mutations.py"
    )
    mutated = source.replace(mutation.old, mutation.new)
    assert mutated != source, f"mutation {mutation.name}: old and new are the same"
    compile(mutated, f"vgglib/{mutation.file} ({mutation.name})", "exec")  # a mutant must stay valid Python


def run_tests(dest: Path, test_files: tuple[str, ...]) -> dict:
    """Run ``test_files`` in a subprocess that imports vgglib from ``dest``; return rc, output and report."""
    report = dest / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(dest), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # nbval, jupyter, playwright: seconds of start-up, not needed
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",  # two runs share 2 cores
            "VGGLIB_MUTANT_ROOT": str(dest),
            "VGGLIB_MUTANT_REPORT": str(report),
        }
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-p",
        "mutations",
        *(str(TESTS / name) for name in test_files),
    ]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, cwd=dest, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return {"rc": None, "output": f"timed out after {TIMEOUT_S} s\n{exc.stdout or ''}", "report": None}
    data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    return {
        "rc": proc.returncode,
        "output": proc.stdout + proc.stderr,
        "report": data,
        "seconds": time.perf_counter() - start,
    }


def check_ran_on_copy(result: dict, dest: Path) -> None:
    """The subprocess ran tests, and every vgglib module it imported came from ``dest``."""
    tail = result["output"][-4000:]
    report = result["report"]
    assert report is not None, f"the subprocess wrote no report (plugin not loaded?):\n{tail}"
    modules = report["modules"]
    assert "vgglib" in modules, f"the tests never imported vgglib:\n{tail}"
    root = dest.resolve() / "vgglib"
    strays = {
        name: path
        for name, path in modules.items()
        if path is not None and not Path(path).resolve().is_relative_to(root)
    }
    assert not strays, f"vgglib modules imported from outside the copy {root}: {strays}"
    assert report["collected"] > 0, f"no tests collected:\n{tail}"


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Start the baseline and every selected mutant (two at a time); ``runs[name]`` is (dest, Future)."""
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and hasattr(item, "callspec")
        and "name" in item.callspec.params
        and item.callspec.params["name"] in BY_NAME
    ]
    mutations = [BY_NAME[name] for name in dict.fromkeys(selected)]
    baseline_files = tuple(dict.fromkeys(f for m in (mutations or MUTATIONS) for f in m.tests))
    jobs: dict[str, tuple[Path, Future]] = {}
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:

        def submit(key: str, mutation: Mutation | None, files: tuple[str, ...]) -> None:
            dest = tmp_path_factory.mktemp(key, numbered=True)
            jobs[key] = (dest, pool.submit(lambda: run_tests(copy_package(dest, mutation), files)))

        submit("baseline", None, baseline_files)
        # slowest first (test_layers.py runs longest), so the two workers finish together
        for m in sorted(mutations, key=lambda m: "test_layers.py" not in m.tests):
            submit(m.name, m, m.tests)
        yield jobs
        for _, future in jobs.values():
            future.cancel()


def baseline_passes(runs) -> dict:
    dest, future = runs["baseline"]
    result = future.result()
    check_ran_on_copy(result, dest)
    assert result["rc"] == 0 and result["report"]["failed"] == 0, (
        "the UNMUTATED copy of vgglib fails its tests, so no mutant result means anything:\n" + result["output"][-4000:]
    )
    return result


def test_mutation_list_is_sound():
    assert 14 <= len(MUTATIONS) and len(BY_NAME) == len(MUTATIONS), "names must be unique"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"plants {len(MUTATIONS)} classic bugs" in readme, "the README counts the planted bugs"
    for m in MUTATIONS:
        assert m.tests, m.name
        assert not set(m.tests) & FORBIDDEN_TESTS, f"{m.name}: the reference code is tested without test_fast.py"
        for name in m.tests:
            assert (TESTS / name).is_file(), f"{m.name}: no tests/{name}"
        assert (PACKAGE / m.file).is_file(), f"{m.name}: no vgglib/{m.file}"


@pytest.mark.parametrize("name", [m.name for m in MUTATIONS])
def test_patch_applies(name):
    mutation = BY_NAME[name]
    check_patch(mutation, (PACKAGE / mutation.file).read_text(encoding="utf-8"))


def test_unmutated_copy_passes(runs):
    baseline_passes(runs)


@pytest.mark.parametrize("name", [m.name for m in MUTATIONS])
def test_mutant_is_killed(runs, name):
    baseline_passes(runs)
    mutation = BY_NAME[name]
    dest, future = runs[name]
    result = future.result()
    check_ran_on_copy(result, dest)
    output = result["output"][-4000:]
    assert result["rc"] is not None, f"mutant {name} hung: {output}"
    assert result["rc"] != 0, (
        f"mutant {name} SURVIVED — {mutation.why}; {', '.join(mutation.tests)} passed "
        f"with vgglib/{mutation.file}: {mutation.old!r} -> {mutation.new!r}.\n"
        "Add a test that catches this bug to the per-module test file."
    )
    assert result["rc"] == 1 and result["report"]["failed"] >= 1, (
        f"mutant {name}: pytest exited with {result['rc']} (not 1 = tests failed): the mutant broke "
        f"collection or the run, no test caught it:\n{output}"
    )
