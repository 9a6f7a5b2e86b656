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
