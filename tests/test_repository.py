"""The repository keeps its promises: README quick start == CI, notebooks numbered, stored and self-contained."""
import ast
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
ALL_NOTEBOOKS = [p for p in ALL_NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
DECLARED = {"numpy", "matplotlib", "ipywidgets", "scipy", "tqdm", "vgglib", "IPython", "ipykernel",
            "mpl_toolkits"}


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


def test_readme_opens_the_series_in_jupyterlab():
    text = (ROOT / "README.md").read_text()
    assert "jupyter lab notebooks/" in text and "mybinder.org" in text


def test_environment_yml_matches_pyproject():
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = (ROOT / "environment.yml").read_text()
    for dep in project["dependencies"] + project["optional-dependencies"]["notebooks"]:
        name = re.split(r"[<>=!\[ ]", dep)[0]
        assert re.search(rf"^\s*- {re.escape(name)}\b", env, flags=re.M), f"{name} missing from environment.yml"
    assert '-e ".[test,notebooks]"' in env


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
