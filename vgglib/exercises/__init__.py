"""Self-checks for the notebook exercises: ``check_<name>(answer)`` says right or wrong, and why.

Each notebook's checks live in their own module here (``nb01_convolution.py`` for
``notebooks/01_convolution.ipynb``, …) and are collected below, so students call ``vgglib.exercises.check_...``.
A check never prints the solution; the worked solutions are in ``notebooks/solutions/``.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._common import ExerciseResult, reveal

__all__ = ["ExerciseResult", "reveal"]

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", []):
        if _name in __all__:  # two notebooks' checks with one name: one would silently replace the other
            raise ImportError(f"vgglib.exercises: {_info.name} defines {_name}, which another module defines too")
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
