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


def test_reveal_prints_the_guess_next_to_the_run(capsys):
    from vgglib.exercises import reveal

    assert "no prediction" in reveal(None, 2.303)
    assert "(close)" in reveal(2.3, 2.303)
    assert "not close" in reveal(5, 2.303)
    assert "not close" in reveal(2.0, 2.303, rel_tol=0.1)
    assert "(the same)" in reveal((3, 2), (3, 2)) and "different" in reveal((2, 3), (3, 2))
    assert capsys.readouterr().out.count("\n") == 6
