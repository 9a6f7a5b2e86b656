"""Every committed notebook matches its jupytext source in notebooks/_src/ (CONTRIBUTING.md, "Notebooks").

The sources are what contributors edit; tools/build_notebooks.py writes the notebooks from them. A notebook edited
without its source (or the reverse) fails here, naming the first cell that differs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _builder()


def test_every_notebook_matches_its_source():
    assert build.pairs(), "no sources found in notebooks/_src/"
    assert build.differences() == []


def test_every_lesson_has_a_source_and_a_solutions_source():
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(lessons) == 15
    for stem in lessons:
        assert (ROOT / "notebooks" / "_src" / f"{stem}.py").is_file()
        assert (ROOT / "notebooks" / "_src" / "solutions" / f"{stem}_solutions.py").is_file()


def test_jupytext_config_pairs_each_notebook_with_its_source():
    """What JupyterLab does on save: the configured pairing names exactly the script the builder reads."""
    from jupytext.config import load_jupytext_configuration_file
    from jupytext.formats import long_form_multiple_formats
    from jupytext.paired_paths import paired_paths

    config = load_jupytext_configuration_file(str(ROOT / "jupytext.toml"))
    for script, notebook in build.pairs()[:: len(build.pairs()) // 3]:
        formats = long_form_multiple_formats(config.default_formats(str(notebook)))
        ipynb = next(f for f in formats if f["extension"] == ".ipynb")
        paths = {Path(p) for p, _ in paired_paths(str(notebook), ipynb, formats)}
        assert script in paths, (notebook, paths)


@pytest.mark.parametrize("kind", ["source", "tags", "new cell"])
def test_a_drifted_notebook_is_reported(tmp_path, monkeypatch, kind):
    """The check bites: a changed cell text, a lost tag or an extra cell in the notebook is reported."""
    script, notebook = next((s, n) for s, n in build.pairs() if n.name.startswith("05_"))
    (tmp_path / "notebooks" / "_src").mkdir(parents=True)
    (tmp_path / "notebooks" / "_src" / script.name).write_text(script.read_text())
    nb = nbformat.read(notebook, as_version=4)
    tagged = next(c for c in nb.cells if "nbval-ignore-output" in c.metadata.get("tags", []))
    if kind == "source":
        nb.cells[3].source += "\n# edited in the notebook only"
    elif kind == "tags":
        tagged.metadata["tags"] = []
    else:
        nb.cells.append(nbformat.v4.new_code_cell("print('extra')"))
    (tmp_path / "notebooks" / notebook.name).write_text(json.dumps(nb))
    monkeypatch.setattr(build, "REPO", tmp_path)
    monkeypatch.setattr(build, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(build, "SOURCES", tmp_path / "notebooks" / "_src")
    found = build.differences()
    assert len(found) == 1 and "differs from" in found[0], found


def test_volatile_cells_are_tagged_not_commented():
    """nbval reads `nbval-ignore-output` from the cell tags; a comment marker is noise a student reads."""
    for _, notebook in build.pairs():
        for cell in nbformat.read(notebook, as_version=4).cells:
            assert "NBVAL_" not in cell.source, f"{notebook.name}: use the nbval-ignore-output tag"
    assert any(
        "nbval-ignore-output" in c.metadata.get("tags", [])
        for _, nb in build.pairs()
        for c in nbformat.read(nb, as_version=4).cells
    )


def test_sources_are_plain_jupytext_percent_scripts():
    for script, _ in build.pairs():
        text = script.read_text()
        assert "format_name: percent" in text and "# %%" in text, script
        assert jupytext.reads(text, fmt="py:percent").cells, script


def _tagged(path: Path, prefix: str) -> dict[int, str]:
    cells = {}
    for cell in jupytext.read(path).cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(prefix + "-"):
                number = int(tag.split("-", 1)[1])
                assert number not in cells, f"{path.name}: two cells tagged {tag}"
                cells[number] = cell.source
    return cells


@pytest.mark.parametrize("script", [s for s, n in build.pairs() if n.parent.name != "solutions"], ids=lambda p: p.stem)
def test_each_exercise_cell_has_its_solution_cell(script):
    """The coursework kit pairs `exercise-K` (the student's cell) with `solution-K` (the worked solution)."""
    exercises = _tagged(script, "exercise")
    solutions = _tagged(script.parent / "solutions" / f"{script.stem}_solutions.py", "solution")
    assert exercises and sorted(exercises) == list(range(1, len(exercises) + 1)), sorted(exercises)
    assert sorted(solutions) == sorted(exercises)
    for k, source in exercises.items():
        check = [line for line in source.splitlines() if line.startswith("check_")]
        assert check, f"exercise {k}: the student's cell ends with its self-check call"
        assert check[-1].split("(")[0] in solutions[k], f"exercise {k}: the solution runs the same check"


def test_no_empty_cells():
    """A stray blank line in a source becomes an empty cell (never run, so nbval and the repository test trip)."""
    for script, _ in build.pairs():
        for i, cell in enumerate(jupytext.read(script).cells):
            assert cell.source.strip(), f"{script.name}: cell {i} is empty"
