"""The package's shape: imports flow one way, the readable layers stand alone, modules stay small.

``../shared/DESIGN.md`` and the README's layout section describe the module map these tests hold the code to.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vgglib"
#: modules over this many lines must say at the top why they are one module
MAX_LINES = 400
LONG_MODULE_NOTE = "Why one module:"

#: the bottom of the import graph: these may import each other (acyclically) and numpy, nothing above them —
#: not even inside a function
FOUNDATION = {
    "vgglib.checks",
    "vgglib.im2col",
    "vgglib.layers",
    "vgglib.losses",
    "vgglib.reference",
    "vgglib.gradcheck",
    "vgglib.fast",
    "vgglib.fast.workers",
    "vgglib.fast.scratch",
    "vgglib.fast.conv",
    "vgglib.fast.winograd",
    "vgglib.fast.shifted",
    "vgglib.fast.dense",
    "vgglib.fast.elementwise",
    "vgglib.fast.layers",
    "vgglib.fast.batch_split",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, top_level_only: bool) -> set[str]:
    """vgglib modules imported by the file (relative imports resolved); ``top_level_only``: not inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = modules()
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and not (top_level_only and in_function):
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                else:
                    base = child.module or ""
                    if child.level:
                        anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                        base = ".".join(anchor + ([base] if base else []))
                    # `from . import x` / `from .fast import workers`: x may be a module itself; the package is
                    # imported (its __init__ runs) only for names that are not modules
                    subs = [f"{base}.{alias.name}" for alias in child.names]
                    targets = subs + ([base] if any(t not in known for t in subs) else [])
                for target in targets:
                    if target in known and target != name:
                        found.add(target)
            visit(child, inside)

    visit(tree, False)
    return found


def test_no_module_level_import_cycle():
    graph = {name: imports(path, top_level_only=True) for name, path in modules().items()}
    # a package's __init__ importing its own submodules is not a cycle through them
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name.startswith(t + ".") and t in graph)}
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node)


@pytest.mark.parametrize("name", sorted(FOUNDATION))
def test_foundation_modules_import_nothing_above_them(name):
    above = imports(modules()[name], top_level_only=False) - FOUNDATION
    assert not above, f"{name} imports {sorted(above)}: the layers, losses and fast backend must stand alone"


def test_the_readable_layers_know_nothing_of_the_fast_backend():
    source = (PACKAGE / "layers.py").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    imported = imports(PACKAGE / "layers.py", top_level_only=False)
    assert imported <= {"vgglib.checks", "vgglib.im2col"}, imported
    for word in ("_fast", "threading", "Winograd", "WeightCache", "scratch", "ThreadPool"):
        body = code.split('"""', 2)[2]  # after the module docstring
        assert word not in body, f"vgglib/layers.py mentions {word!r} outside its docstring"


@pytest.mark.parametrize("name", sorted(modules()))
def test_long_modules_say_why(name):
    path = modules()[name]
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines > MAX_LINES:
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert LONG_MODULE_NOTE in doc, (
            f"{path.relative_to(PACKAGE.parent)} has {lines} lines (> {MAX_LINES}): "
            f"split it, or say at the top why it is one module ({LONG_MODULE_NOTE!r})"
        )


def test_every_module_names_where_it_is_taught_or_used():
    missing = []
    for name, path in modules().items():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if name.startswith("vgglib.exercises.") or name in ("vgglib.__main__",):
            continue
        if "notebook" not in doc.lower():
            missing.append(name)
    assert not missing, f"module docstrings that name no notebook: {missing}"
