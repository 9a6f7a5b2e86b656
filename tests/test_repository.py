"""The repository keeps its promises: README quick start == CI, notebooks numbered, stored and self-contained;
no dead links; the license ships; run outputs stay out of git; tests never change the system."""

import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
ALL_NOTEBOOKS = [p for p in ALL_NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
DECLARED = {
    "numpy",
    "matplotlib",
    "ipywidgets",
    "ipycanvas",
    "scipy",
    "tqdm",
    "threadpoolctl",
    "vgglib",
    "IPython",
    "ipykernel",
    "mpl_toolkits",
}


def readme_test_command():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    tests = [c for c in commands if c.rstrip().endswith("pytest")]
    assert len(tests) == 1, f"README must show exactly one test command, found {tests}"
    return tests[0].strip()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    assert readme_test_command() in ci.splitlines()


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n#", 1)[0]
    commands = [c.strip() for c in re.findall(r"```bash\n(.*?)\n```", quick, flags=re.S)]
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    assert commands[0].endswith("jupyter lab notebooks/") and commands[1] == readme_test_command()


def test_readme_has_no_live_binder_link():
    """No badge or link to a Binder of a repository that may not exist; how to launch one is documented."""
    text = (ROOT / "README.md").read_text()
    assert not re.search(r"\]\(https?://mybinder\.org", text)
    assert "mybinder.org" in text and "environment.yml" in text


def _requirements(specs):
    """{name: 'name>=x'} for requirement strings (extras and spaces dropped, names lower-case)."""
    out = {}
    for spec in specs:
        spec = spec.replace(" ", "")
        name = re.split(r"[<>=!~\[;]", spec)[0].lower()
        out[name] = name + re.sub(r"^[^<>=!~]*", "", spec)
    return out


def test_environment_yml_matches_pyproject():
    """Same packages, bounds and Python range as dependencies + the test and notebooks extras."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = _requirements(project["dependencies"] + extras["test"] + extras["notebooks"])
    text = (ROOT / "environment.yml").read_text().split("\ndependencies:\n", 1)[1]
    entries = re.findall(r"^\s*- (.+?)\s*$", text, flags=re.M)
    assert '-e ".[test,notebooks]"' in entries, "environment.yml must install vgglib itself (pip -e)"
    env = _requirements(e for e in entries if e not in ("pip", "pip:", '-e ".[test,notebooks]"'))
    assert env.pop("python") == "python" + project["requires-python"]
    assert env == wanted


def test_readme_relative_links_resolve():
    """Every relative markdown link and image in README.md points at a file or folder of the repository (and every
    #anchor at a heading)."""
    text = (ROOT / "README.md").read_text()
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))
    targets = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose)
    targets += re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", prose)
    anchors = {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", prose, flags=re.M)
    }
    relative = [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, flags=re.I)]
    assert relative, "README has no relative links: the pattern is wrong"
    for target in relative:
        path, _, anchor = target.partition("#")
        if path:
            assert (ROOT / path).exists(), f"README links to {target}, which is not in the repository"
        else:
            assert anchor in anchors, f"README links to #{anchor}, which is no heading"


def test_license_is_mit_and_ships_in_the_wheel(tmp_path):
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 the vgglib authors" in license_text
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src)
    for name in ("vgglib", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    build = f"import setuptools.build_meta as b; print(b.build_wheel({str(tmp_path / 'dist')!r}))"
    run = subprocess.run([sys.executable, "-c", build], cwd=src, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    with zipfile.ZipFile(tmp_path / "dist" / run.stdout.strip().splitlines()[-1]) as wheel:
        names = wheel.namelist()
        licenses = [n for n in names if re.fullmatch(r"vgglib-[^/]+\.dist-info/licenses/LICENSE", n)]
        assert licenses, f"LICENSE missing from the wheel: {names}"
        assert wheel.read(licenses[0]).decode() == license_text
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata


def test_training_writes_under_the_ignored_runs_folder(tmp_path, monkeypatch, capsys):
    """`python -m vgglib train` without --out saves runs/vgglib-RECIPE.npz (folder created), never in the
    current directory, and git ignores both that folder and .npz files in the repository root."""
    from vgglib.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "train",
                "--width",
                "0.0625",
                "--limit",
                "32",
                "--test-limit",
                "16",
                "--batch-size",
                "16",
                "--epochs",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "checkpoint runs/vgglib-sample.npz" in capsys.readouterr().out
    assert (tmp_path / "runs" / "vgglib-sample.npz").is_file()
    assert not list(tmp_path.glob("*.npz"))
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    for path in ("runs/vgglib-sample.npz", "vgglib-sample.npz"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, f"{path} not ignored"


def test_tests_never_call_a_package_manager():
    """Tests must not change the system they run on; .ci/run installs what CI needs."""
    call = re.compile(r"""[(\[,] *["'](apt-get|apt|brew|dnf|yum|choco)["' ]""")  # as .ci's before-stop check
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in sorted((ROOT / "tests").rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if call.search(line)
    ]
    assert not hits, hits


def test_notebooks_are_numbered_consecutively():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(numbers))), [p.name for p in NOTEBOOKS]
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in NOTEBOOKS)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_has_outputs_and_declared_imports_only(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    assert any(c.get("outputs") for c in code), f"{path.name} is stored without outputs: nbval would check nothing"
    assert all(c.get("execution_count") for c in code), f"{path.name}: some code cells were never run"
    stdlib = set(sys.stdlib_module_names)
    for cell in code:
        source = "".join(cell["source"])
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        for node in ast.walk(ast.parse("\n".join(lines))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in DECLARED, f"{path.name} imports {name}, not a declared dependency"
        assert "NBVAL_SKIP" not in source, f"{path.name}: NBVAL_SKIP cells check nothing"


def test_readme_python_examples_run():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", text, flags=re.S)
    assert blocks, "README has no Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_the_hostile_input_table_names_tests_that_exist():
    """docs/HOSTILE_INPUTS.md says what vgglib does for each attack; every row names the test that checks it."""
    text = (ROOT / "docs" / "HOSTILE_INPUTS.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(test_\w+\.py)::(test_\w+)`", text)
    assert len(cited) >= 30
    for file, name in cited:
        source = (ROOT / "tests" / file).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, flags=re.M), f"{file}::{name} named in HOSTILE_INPUTS.md"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/HOSTILE_INPUTS.md" in readme
