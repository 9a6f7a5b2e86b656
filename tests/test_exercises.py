"""The exercise package: one namespace for every notebook's checks, with no name defined twice."""

import importlib
import pkgutil

import vgglib.exercises as exercises


def test_every_check_is_exported_once_and_from_its_own_module():
    seen = {}
    for info in pkgutil.iter_modules(exercises.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"vgglib.exercises.{info.name}")
        for name in module.__all__:
            assert name not in seen, f"{name} is defined in {seen.get(name)} and {info.name}"
            seen[name] = info.name
            assert getattr(exercises, name) is getattr(module, name)
    assert len(seen) >= 40
    assert all(name.startswith("check_") or name.isupper() for name in seen)


def test_every_exercise_module_is_named_after_its_notebook():
    from pathlib import Path

    notebooks = {p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    modules = {info.name for info in pkgutil.iter_modules(exercises.__path__) if not info.name.startswith("_")}
    assert {f"nb{stem}" for stem in notebooks} == modules
    for name in modules:
        doc = importlib.import_module(f"vgglib.exercises.{name}").__doc__
        assert f"notebooks/{name[2:]}.ipynb" in doc, name
