"""Write (and run) the notebooks from their jupytext sources.

Every notebook under ``notebooks/`` is paired (``jupytext.toml``) with a percent-format script under
``notebooks/_src/``. Edit either side; this tool makes the committed ``.ipynb`` from the script:

    python tools/build_notebooks.py 05            # notebooks 05 and its solutions: inputs only, outputs kept
    python tools/build_notebooks.py 05 --execute  # ... then run both in place and store the outputs
    python tools/build_notebooks.py --all --execute
    python tools/build_notebooks.py --check       # exit 1 if a committed notebook differs from its source

``--execute`` runs a notebook top to bottom in its own folder with the ``python3`` kernel (what
``jupyter nbconvert --execute --inplace`` does), drops the per-cell execution timestamps and merges consecutive
print outputs, so that regenerating gives clean diffs. Cell ids are stable (``nb05-003``, ``sol05-001``).
Writing inputs keeps the stored outputs of cells whose source did not change.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOURCES = NOTEBOOKS / "_src"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def pairs() -> list[tuple[Path, Path]]:
    """Every (source script, notebook) pair, lessons first, then solutions."""
    scripts = sorted(SOURCES.glob("[0-9][0-9]_*.py")) + sorted((SOURCES / "solutions").glob("[0-9][0-9]_*.py"))
    return [(s, NOTEBOOKS / s.relative_to(SOURCES).with_suffix(".ipynb")) for s in scripts]


def id_prefix(notebook: Path) -> str:
    return ("sol" if notebook.parent.name == "solutions" else "nb") + notebook.name[:2]


def cell_key(cell: dict) -> tuple:
    """What must agree between a source and its notebook: the cell type, the text and the tags."""
    return cell["cell_type"], cell["source"].strip("\n"), tuple(cell.get("metadata", {}).get("tags", []))


def from_source(script: Path, notebook: Path) -> nbformat.NotebookNode:
    """The notebook that ``script`` describes, with the outputs of unchanged cells kept from ``notebook``."""
    nb = jupytext.read(script)
    old = nbformat.read(notebook, as_version=4) if notebook.exists() else None
    stored = {cell_key(c)[:2]: c for c in old.cells} if old else {}  # outputs follow the text, not the tags
    prefix = id_prefix(notebook)
    for i, cell in enumerate(nb.cells):
        cell["source"] = cell["source"].strip("\n")
        cell["id"] = f"{prefix}-{i:03d}"
        if cell.cell_type == "code":
            prev = stored.get(cell_key(cell)[:2])
            cell["outputs"] = prev["outputs"] if prev else []
            cell["execution_count"] = prev.get("execution_count") if prev else None
    # notebook metadata (language_info, the widget state an executed notebook stores) stays with the notebook
    nb.metadata = dict(old.metadata) if old else {"language_info": {"name": "python"}}
    nb.metadata["kernelspec"] = KERNELSPEC
    return nb


def execute(nb: nbformat.NotebookNode, folder: Path) -> float:
    """Run ``nb`` in ``folder`` (outputs stored, execution timestamps dropped); returns seconds."""
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":  # one stream output per run of prints (their split is timing-dependent)
            merged: list = []
            for out in cell.outputs:
                if merged and out.output_type == "stream" == merged[-1].output_type and merged[-1].name == out.name:
                    merged[-1].text += out.text
                else:
                    merged.append(out)
            cell.outputs = merged
    return seconds


def differences() -> list[str]:
    """Notebooks whose cells (type, text, tags) differ from their source, and sources or notebooks without a pair."""
    found = []
    listed = {nb for _, nb in pairs()}
    for nb_path in sorted(NOTEBOOKS.glob("*.ipynb")) + sorted((NOTEBOOKS / "solutions").glob("*.ipynb")):
        if nb_path not in listed:
            found.append(f"{nb_path.relative_to(REPO)} has no source in notebooks/_src/")
    for script, nb_path in pairs():
        if not nb_path.exists():
            found.append(f"{script.relative_to(REPO)} has no notebook {nb_path.relative_to(REPO)}")
            continue
        want = [cell_key(c) for c in jupytext.read(script).cells]
        have = [cell_key(c) for c in nbformat.read(nb_path, as_version=4).cells]
        if want != have:
            first = next((i for i, (a, b) in enumerate(zip(want, have)) if a != b), min(len(want), len(have)))
            found.append(f"{nb_path.relative_to(REPO)} differs from {script.relative_to(REPO)} at cell {first}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("numbers", nargs="*", help="two-digit notebook numbers, e.g. 05 13")
    parser.add_argument("--all", action="store_true", help="every notebook")
    parser.add_argument("--execute", action="store_true", help="run the notebooks and store their outputs")
    parser.add_argument("--lessons-only", action="store_true", help="skip the solutions notebooks")
    parser.add_argument("--check", action="store_true", help="report notebooks that differ from their sources")
    args = parser.parse_args(argv)
    if args.check:
        found = differences()
        print("\n".join(found) or "every notebook matches its source")
        return 1 if found else 0
    if not args.all and not args.numbers:
        parser.error("name notebook numbers (e.g. 05) or --all")
    chosen = [
        (s, nb)
        for s, nb in pairs()
        if (args.all or nb.name[:2] in args.numbers) and not (args.lessons_only and nb.parent.name == "solutions")
    ]
    for script, nb_path in chosen:
        nb = from_source(script, nb_path)
        if args.execute:
            print(f"executed {nb_path.relative_to(REPO)} in {execute(nb, nb_path.parent):.1f} s", flush=True)
        nbformat.write(nb, nb_path)
        print("wrote", nb_path.relative_to(REPO), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
