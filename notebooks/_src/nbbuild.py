"""Shared by the notebook generators ``make_NN.py``: build a notebook cell by cell, write it with stable cell ids,
and (``--execute``) run it in place with clean, reproducible outputs.

The committed artifacts are the executed ``.ipynb`` files; the generators are only their editable source.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from textwrap import dedent

import nbformat

ROOT = Path(__file__).resolve().parents[1]  # notebooks/


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
        nb = nbformat.v4.new_notebook(
            cells=self.cells,
            metadata={
                "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)


def execute(path: Path) -> float:
    """Run the notebook at ``path`` in place (outputs stored, execution timestamps dropped); returns seconds."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":  # one stream output per run of prints (their split is timing-dependent)
            merged: list = []
            for out in cell.outputs:
                if (
                    merged
                    and out.output_type == "stream"
                    and merged[-1].output_type == "stream"
                    and merged[-1].name == out.name
                ):
                    merged[-1].text += out.text
                else:
                    merged.append(out)
            cell.outputs = merged
    nbformat.write(nb, path)
    return seconds


def main(stem: str, lesson_nb: Notebook, solutions_nb: Notebook) -> None:
    """Write ``<stem>.ipynb`` and ``solutions/<stem>_solutions.ipynb``; run them with ``--execute``."""
    paths = [ROOT / f"{stem}.ipynb", ROOT / "solutions" / f"{stem}_solutions.ipynb"]
    for nb, path in zip((lesson_nb, solutions_nb), paths):
        nb.write(path)
        print("wrote", path.relative_to(ROOT.parent))
    if "--execute" in sys.argv[1:]:
        for path in paths:
            print(f"executed {path.relative_to(ROOT.parent)} in {execute(path):.1f} s")
