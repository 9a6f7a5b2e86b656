"""Generate notebooks/09_training_vgg16_on_mnist.ipynb and its solutions notebook (without outputs).

    .venv/bin/python notebooks/_src/make_09.py
    .venv/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/09_training_vgg16_on_mnist.ipynb \
        notebooks/solutions/09_training_vgg16_on_mnist_solutions.ipynb

The committed artifacts are the executed .ipynb files; this script is only the editable source.
``Notebook`` here is shared by make_10.py … make_13.py.
"""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import nbformat

ROOT = Path(__file__).resolve().parents[1]
STEM = "09_training_vgg16_on_mnist"


class Notebook:
    """Collects cells and writes a notebook with stable cell ids (clean diffs when regenerated)."""

    def __init__(self, prefix: str) -> None:
        self.cells: list = []
        self.prefix = prefix

    def md(self, text: str) -> None:
        self.cells.append(nbformat.v4.new_markdown_cell(dedent(text).strip("\n")))

    def code(self, text: str) -> None:
        self.cells.append(nbformat.v4.new_code_cell(dedent(text).strip("\n")))

    def write(self, path: Path) -> None:
        for i, cell in enumerate(self.cells):
            cell["id"] = f"{self.prefix}-{i:03d}"
        nb = nbformat.v4.new_notebook(cells=self.cells, metadata={
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}})
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)


def lesson() -> Notebook:
    raise NotImplementedError


def solutions() -> Notebook:
    raise NotImplementedError


if __name__ == "__main__":
    lesson().write(ROOT / f"{STEM}.ipynb")
    solutions().write(ROOT / "solutions" / f"{STEM}_solutions.ipynb")
    print("wrote", ROOT / f"{STEM}.ipynb", "and its solutions notebook")
