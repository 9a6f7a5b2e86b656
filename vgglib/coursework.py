"""The coursework kit: graded releases of the notebooks' exercises, for instructors (``python -m vgglib coursework``).

``python -m vgglib coursework build OUT/`` turns lesson notebooks into graded work, built on otter-grader
(``pip install -e '.[instructor]'``; otter is imported only when a command needs it). For each chosen notebook:

- a **student** notebook (``OUT/student/``): the lesson from ``notebooks/_src/NN_*.py`` (its exercise cells,
  tagged ``exercise-K``, hold no solution) with a note on what is graded; the public tests are the self-checks
  the exercise cells already call (``vgglib.exercises.check_…``), with their hints;
- an **autograder** (``OUT/autograder/NN_*/``): one otter test file per exercise (the self-check, then the
  hidden tests of ``coursework/hidden/nbNN_*.py``), the solved notebook (the lesson with the worked solutions of
  ``notebooks/_src/solutions/`` in place of the exercise cells) and the zip to upload to Gradescope.

``python -m vgglib coursework grade OUT/ SUBMISSION.ipynb|FOLDER ...`` grades locally (otter, no Docker) and
prints each question's points and, for a test that failed, its reason (the self-check's hint or the hidden test's
message). Each exercise is discovered from its tags: the self-check its cell calls names it, its argument is the
answer. The hidden tests live outside this package (repository folder ``coursework/``, README "For instructors"),
so neither the student install nor the student release contains them; what they share with this module is the
small API at the top: :func:`hidden_test`, :func:`call`, :func:`assert_close`. The notebooks it grades are the
series' lessons (``notebooks/01_convolution.ipynb`` …), and their exercise cells are what it reads.

Why one module: the build writes the test files that the grading helpers here run inside the student's kernel,
and the grade command reads back what the build wrote (the manifest, the question names, the messages); one
format, kept in one place.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import csv
import importlib
import importlib.util
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "hidden_test",
    "call",
    "assert_close",
    "CourseworkError",
    "Question",
    "CourseConfig",
    "load_config",
    "discover",
    "build_release",
    "grade",
    "format_result",
]

#: what to install for the commands (the optional extra in pyproject.toml)
INSTALL_HINT = "pip install -e '.[instructor]'"
#: inside an autograder: the folder that carries the hidden test modules (copied next to the submission)
HIDDEN_PACKAGE = "vgglib_hidden_tests"
#: the release's manifest, read by ``grade``
MANIFEST = "release.json"
#: notebook metadata key of the kit (which notebook a submission is, its questions and points)
META_KEY = "vgglib_coursework"
_HIDDEN_ATTR = "__vgglib_hidden_for__"
_F = TypeVar("_F", bound=Callable[..., Any])


#: a submission larger than this is refused unread (the largest lesson with its outputs is under 1 MB)
MAX_SUBMISSION_BYTES = 64 * 2**20
#: seconds one submission may take to grade (its notebook runs top to bottom, then the tests) before it is stopped
#: with its kernel and reported as not graded: a lesson runs in under a minute, an endless loop would run forever
GRADE_TIMEOUT: float = 600.0


class CourseworkError(Exception):
    """A problem the instructor can fix (a bad option, a missing file, a hidden test for no exercise, ...)."""


def _need(module: str) -> Any:
    """Import an instructor-only dependency, or say how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # raised by otter's own imports (traitlets)
            return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        package = {"otter": "otter-grader"}.get(top, top)
        raise CourseworkError(
            f"the coursework commands need {package}, which the student install leaves out: "
            f"install the instructor extra with {INSTALL_HINT}"
        ) from None


# =============================================================================================================
# 1. The API of the hidden tests (coursework/hidden/nbNN_*.py) and what runs them in the student's kernel
# =============================================================================================================
def hidden_test(check: str) -> Callable[[_F], _F]:
    """Mark a function as a hidden test of the exercise whose cell calls the self-check ``check``.

    The function receives the student's answer (what the exercise cell passes to ``check``) and raises
    ``AssertionError`` with a message that says what is wrong (a hint, never the answer)."""
    if not (isinstance(check, str) and check.startswith("check_")):
        raise ValueError(f"hidden_test: name the exercise by its self-check, e.g. 'check_conv2d', got {check!r}")

    def mark(fn: _F) -> _F:
        setattr(fn, _HIDDEN_ATTR, check)
        return fn

    return mark


def call(fn: Any, *args: Any, where: str) -> Any:
    """Call the student's function on copies of the array arguments; its errors become a failed test.

    ``where`` names the case in the message (e.g. ``"x (3, 4, 9, 11) float32, pool_size 3, stride 2"``)."""
    if not callable(fn):
        raise AssertionError(f"expected your function, got {type(fn).__name__} {fn!r:.60}")
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return fn(*copies)
    except NotImplementedError:
        raise AssertionError("not implemented yet: replace the `raise NotImplementedError` line") from None
    except Exception as err:  # noqa: BLE001 — any error in the student's code is a failed test, reported
        raise AssertionError(f"your function raised {type(err).__name__}: {err} ({where})") from None


def assert_close(
    got: Any, expected: Any, where: str, *, what: str = "the result", rtol: float = 1e-7, atol: float = 1e-9
) -> None:
    """Fail unless ``got`` has ``expected``'s shape and values (within ``rtol``/``atol``); says where, not what."""
    want = np.asarray(expected, dtype=np.float64)
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} is not an array of numbers: got {type(got).__name__} ({where})") from None
    if arr.shape != want.shape:
        raise AssertionError(f"{what} has shape {arr.shape}, expected {want.shape} ({where})")
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{what} contains inf or nan ({where})")
    bad = ~np.isclose(arr, want, rtol=rtol, atol=atol)
    if bad.any():
        raise AssertionError(f"{what} is wrong ({where}): {int(bad.sum())} of {bad.size} entries differ")


def _answer(env: dict[str, Any], expr: str) -> Any:
    try:
        return eval(expr, env)  # the student's own notebook namespace, as the exercise cell evaluates it
    except NameError:
        raise AssertionError(f"`{expr}` is not defined: run the exercise's cell and keep the name it defines") from None


def run_self_check(env: dict[str, Any], check: str, expr: str) -> None:
    """The public test: the notebook's own self-check on the student's answer (its hint is the failure message)."""
    import vgglib.exercises as exercises

    fn = getattr(exercises, check, None)
    if fn is None:
        raise AssertionError(f"autograder error: vgglib.exercises has no {check} (is this the release's vgglib?)")
    result = fn(_answer(env, expr))
    if not result.correct:
        raise AssertionError(result.message)


def run_hidden_test(env: dict[str, Any], expr: str, module: str, function: str) -> None:
    """A hidden test: ``coursework/hidden/<module>.py``'s ``function`` on the student's answer."""
    name = f"{HIDDEN_PACKAGE}.{module}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError:
        sys.path.insert(0, os.getcwd())  # the autograder copies the hidden tests next to the submission
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            raise AssertionError(f"autograder error: the hidden tests {name} are missing") from None
    answer = _answer(env, expr)
    if answer is None:
        raise AssertionError(f"no answer yet: `{expr}` is still None")
    getattr(mod, function)(answer)


# =============================================================================================================
# 2. The course: configuration, and the questions discovered from the notebook sources
# =============================================================================================================
@dataclass
class CourseConfig:
    """``coursework/course.toml``: the default notebooks, points and Gradescope settings (README "For instructors")."""

    notebooks: list[str] = field(default_factory=list)
    default_points: float = 1.0
    #: "NN.K" (notebook number, exercise number) or a self-check's name -> points
    points: dict[str, float] = field(default_factory=dict)
    all_or_nothing: bool = True
    hidden_dir: Path | None = None
    requirements: list[str] = field(default_factory=list)
    ship_vgglib: bool = True

    def points_for(self, stem: str, number: int, check: str) -> float:
        for key in (f"{stem[:2]}.{number}", check):
            if key in self.points:
                return self.points[key]
        return self.default_points


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = _need("tomli")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise CourseworkError(f"{path}: no such file") from None
    except ValueError as err:  # tomllib.TOMLDecodeError
        raise CourseworkError(f"{path}: not valid TOML: {err}") from None


def _points_table(table: Any, path: Path) -> tuple[float | None, dict[str, float]]:
    if not isinstance(table, dict):
        raise CourseworkError(f'{path}: [points] must be a table of "NN.K" = points')
    default, points = None, {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise CourseworkError(f"{path}: points {key!r} = {value!r}: expected a number >= 0")
        if key == "default":
            default = float(value)
        elif re.fullmatch(r"\d\d\.\d+", key) or key.startswith("check_"):
            points[key] = float(value)
        else:
            raise CourseworkError(
                f'{path}: points key {key!r}: expected "NN.K" (notebook NN, exercise K), a self-check\'s name '
                'or "default"'
            )
    return default, points


def load_config(path: str | os.PathLike[str], points: str | os.PathLike[str] | None = None) -> CourseConfig:
    """Read a course file (``coursework/course.toml``) and, optionally, a points file that overrides its points."""
    path = Path(path)
    data = _read_toml(path)
    release = data.get("release", {})
    gradescope = data.get("gradescope", {})
    cfg = CourseConfig(
        notebooks=[str(n) for n in release.get("notebooks", [])],
        all_or_nothing=bool(release.get("all_or_nothing", True)),
        hidden_dir=(path.parent / release.get("hidden_tests", "hidden")).resolve(),
        requirements=[str(r) for r in gradescope.get("requirements", [])],
        ship_vgglib=bool(gradescope.get("ship_vgglib", True)),
    )
    default, table = _points_table(data.get("points", {}), path)
    cfg.default_points = cfg.default_points if default is None else default
    cfg.points.update(table)
    if points is not None:
        default, table = _points_table(_read_toml(Path(points)).get("points", {}), Path(points))
        cfg.default_points = cfg.default_points if default is None else default
        cfg.points.update(table)
    return cfg


@dataclass(frozen=True)
class Question:
    """One graded exercise: exercise ``number`` of ``notebook``, answered by ``answer``, checked by ``check``."""

    notebook: str
    number: int
    check: str
    #: the expression the exercise cell passes to its self-check (the name the student's answer is bound to)
    answer: str
    points: float
    #: hidden test functions in ``coursework/hidden/nb<notebook>.py``
    hidden: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The otter question (and test file) name, e.g. ``ex4_maxpool_backward``."""
        return f"ex{self.number}_{self.check[len('check_') :]}"


def find_repo(repo: str | os.PathLike[str] | None = None) -> Path:
    """The checkout holding ``notebooks/_src``: ``repo``, else the working directory, else the one of this package."""
    candidates = [Path(repo)] if repo is not None else [Path.cwd(), Path(__file__).resolve().parents[1]]
    for candidate in candidates:
        if (candidate / "notebooks" / "_src").is_dir():
            return candidate.resolve()
    raise CourseworkError(
        f"no notebooks/_src/ in {' or '.join(str(c) for c in candidates)}: run from a vgglib checkout "
        "(the lessons' sources are in the repository, not in the installed package) or give --repo"
    )


def lesson_stems(repo: Path) -> dict[str, str]:
    """Notebook number ("04") -> stem ("04_pooling") of every lesson source."""
    return {p.stem[:2]: p.stem for p in sorted((repo / "notebooks" / "_src").glob("[0-9][0-9]_*.py"))}


def select_notebooks(repo: Path, wanted: Sequence[str]) -> list[str]:
    """Stems for ``wanted`` items like "04", "4" or "04_pooling" (in the order given, without repeats)."""
    stems = lesson_stems(repo)
    chosen: list[str] = []
    for item in wanted:
        item = item.strip()
        if not item:
            continue
        key = item.split("_")[0].zfill(2) if item.split("_")[0].isdigit() else None
        if key is None or key not in stems or ("_" in item and stems[key] != item):
            raise CourseworkError(f"no lesson notebook {item!r}: choose from {', '.join(stems)}")
        if stems[key] not in chosen:
            chosen.append(stems[key])
    if not chosen:
        raise CourseworkError("no notebooks chosen: give --notebooks 04,06 or list them in the course file")
    return chosen


def _read_source(path: Path) -> Any:
    jupytext = _need("jupytext")
    if not path.is_file():
        raise CourseworkError(f"{path}: no such file")
    return jupytext.read(path)


def _tagged(nb: Any, prefix: str, path: Path) -> dict[int, Any]:
    cells: dict[int, Any] = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            m = re.fullmatch(prefix + r"-(\d+)", tag)
            if m:
                if int(m.group(1)) in cells:
                    raise CourseworkError(f"{path}: two cells are tagged {tag}")
                cells[int(m.group(1))] = cell
    return cells


def _self_check_call(source: str, where: str) -> tuple[str, str]:
    """(self-check name, answer expression) of the call ``check_…(answer)`` that ends an exercise cell."""
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise CourseworkError(f"{where}: the cell is not valid Python ({err.msg}, line {err.lineno})") from None
    last = body[-1] if body else None
    if (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and last.value.func.id.startswith("check_")
        and len(last.value.args) == 1
        and not last.value.keywords
    ):
        return last.value.func.id, ast.unparse(last.value.args[0])
    raise CourseworkError(f"{where}: an exercise cell must end with its self-check call, check_name(answer)")


def _load_hidden(path: Path) -> dict[str, list[str]]:
    """Self-check name -> the hidden test functions for it in ``path`` (in the order they are defined)."""
    spec = importlib.util.spec_from_file_location(f"_vgglib_hidden_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise CourseworkError(f"{path}: cannot load it as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 — a broken hidden-test module is reported, not a traceback
        raise CourseworkError(f"{path}: importing it raised {type(err).__name__}: {err}") from None
    found: dict[str, list[str]] = {}
    for name, obj in vars(module).items():
        check = getattr(obj, _HIDDEN_ATTR, None)
        if check is not None and callable(obj):
            found.setdefault(check, []).append(name)
    return found


def discover(repo: Path, stem: str, config: CourseConfig) -> list[Question]:
    """The graded questions of one notebook: its ``exercise-K`` cells, their solutions and hidden tests."""
    lesson_path = repo / "notebooks" / "_src" / f"{stem}.py"
    solutions_path = repo / "notebooks" / "_src" / "solutions" / f"{stem}_solutions.py"
    exercises = _tagged(_read_source(lesson_path), "exercise", lesson_path)
    solutions = _tagged(_read_source(solutions_path), "solution", solutions_path)
    if not exercises:
        raise CourseworkError(f"{lesson_path}: no cell is tagged exercise-K, so nothing can be graded")
    if sorted(exercises) != sorted(solutions):
        raise CourseworkError(
            f"{stem}: exercises {sorted(exercises)} but solutions {sorted(solutions)}: every exercise-K cell "
            f"needs its solution-K cell in {solutions_path.name}"
        )
    hidden_path = (config.hidden_dir or repo / "coursework" / "hidden") / f"nb{stem}.py"
    hidden = _load_hidden(hidden_path) if hidden_path.is_file() else {}
    questions = []
    for k in sorted(exercises):
        check, expr = _self_check_call(exercises[k].source, f"{lesson_path.name}, exercise-{k}")
        if not re.search(rf"\b{check}\(", solutions[k].source):
            raise CourseworkError(
                f"{solutions_path.name}, solution-{k}: the worked solution does not call {check}, the self-check "
                f"of exercise {k}"
            )
        questions.append(
            Question(stem, k, check, expr, config.points_for(stem, k, check), tuple(hidden.pop(check, [])))
        )
    if hidden:
        calls = ", ".join(q.check for q in questions)
        raise CourseworkError(
            f"{hidden_path}: hidden tests for {', '.join(sorted(hidden))}, but no exercise of {lesson_path.name} "
            f"calls it (its exercises call {calls}): rename the tests' @hidden_test(...) or remove them"
        )
    return questions


# =============================================================================================================
# 3. Building a release: student notebooks, autograders (test files, solved notebook, Gradescope zip)
# =============================================================================================================
def _fmt(points: float) -> str:
    return f"{points:g}"


def _note(questions: Sequence[Question], solved: bool) -> str:
    total = sum(q.points for q in questions)
    listed = ", ".join(f"exercise {q.number} ({_fmt(q.points)} point{'s' if q.points != 1 else ''})" for q in questions)
    if solved:
        return (
            f"**Coursework: the solved notebook (instructors only).** The lesson with the worked solutions in place of "
            f"the exercise cells; graded, it scores full marks. Graded: {listed}, {_fmt(total)} points in all."
        )
    return (
        f"**Graded coursework.** The exercises at the end of this notebook are graded: {listed}, {_fmt(total)} "
        "points in all. Write each answer in its exercise's cell, keep the names the cell defines and its "
        "self-check call (the last line), run the notebook from top to bottom and hand in this `.ipynb` file. "
        "The self-check tells you whether an answer is right, with a hint when it is not; the grader runs it "
        "too, and more tests of its own on other inputs."
    )


def _renumber(nb: Any) -> None:
    """Deterministic cell ids (a rebuilt release is the same file)."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"


def _exercise_number(cell: Any) -> int | None:
    """K for a cell tagged ``exercise-K``, else None."""
    for tag in cell.get("metadata", {}).get("tags", []):
        m = re.fullmatch(r"exercise-(\d+)", tag)
        if m:
            return int(m.group(1))
    return None


def _release_notebook(lesson: Any, stem: str, questions: Sequence[Question], solutions: Any | None = None) -> Any:
    """The student notebook, or with ``solutions`` the solved one: each ``exercise-K`` cell replaced by the
    ``solution-K`` cell, the solutions' setup cells (their imports) just before the first exercise."""
    nbformat = _need("nbformat")
    nb = copy.deepcopy(lesson)
    nb.metadata.pop("jupytext", None)
    nb.metadata["otter"] = {"assignment_name": stem}
    nb.metadata[META_KEY] = {
        "notebook": stem,
        "solved": solutions is not None,
        "questions": {q.name: {"exercise": q.number, "points": q.points} for q in questions},
    }
    by_number = {q.number: q for q in questions}
    worked: dict[int, Any] = {}
    setup: list[Any] = []
    if solutions is not None:
        worked = _tagged(solutions, "solution", Path(f"{stem}_solutions.py"))
        first = min(i for i, c in enumerate(solutions.cells) if any(c is w for w in worked.values()))
        setup = [
            nbformat.v4.new_code_cell(c.source, metadata={"tags": ["solutions-setup"]})
            for c in solutions.cells[:first]
            if c.cell_type == "code"
        ]
    cells = []
    for cell in nb.cells:
        number = _exercise_number(cell)
        if number in by_number:
            cells += setup  # once, before the first exercise
            setup = []
            if number in worked:
                solved = worked[number]
                cell = nbformat.v4.new_code_cell(solved.source, metadata=copy.deepcopy(dict(solved.metadata)))
                cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {f"exercise-{number}"})
            cell.metadata["otter"] = {"tests": [by_number[number].name]}
        cells.append(cell)
    note = nbformat.v4.new_markdown_cell(_note(questions, solutions is not None))
    note.metadata["tags"] = ["coursework-note"]
    cells.insert(1 if cells and cells[0].cell_type == "markdown" else 0, note)
    nb.cells = cells
    _renumber(nb)
    nbformat.validate(nb)
    return nb


def _test_file(q: Question, all_or_nothing: bool) -> str:
    """One otter test file (exception format): the notebook's self-check (public), then the hidden tests."""
    module = f"nb{q.notebook}"
    lines = [
        f'"""{q.notebook}, exercise {q.number} ({q.check}): the self-check (public) and {len(q.hidden)} hidden tests.',
        "",
        "Generated by `python -m vgglib coursework build` from notebooks/_src/"
        f"{q.notebook}.py and coursework/hidden/{module}.py: edit those, then build again.",
        '"""',
        "",
        "from otter.test_files import test_case",
        "",
        "OK_FORMAT = False",
        "",
        f"name = {q.name!r}",
        f"points = {q.points!r}",
        f"all_or_nothing = {all_or_nothing!r}",
        "",
        "",
        f"@test_case(name={('self-check ' + q.check)!r}, hidden=False)",
        "def self_check(env):",
        "    from vgglib.coursework import run_self_check",
        "",
        f"    run_self_check(env, {q.check!r}, {q.answer!r})",
    ]
    for i, function in enumerate(q.hidden, 1):
        lines += [
            "",
            "",
            f"@test_case(name={('hidden: ' + function.replace('_', ' '))!r}, hidden=True)",
            f"def hidden_{i}(env):",
            "    from vgglib.coursework import run_hidden_test",
            "",
            f"    run_hidden_test(env, {q.answer!r}, {module!r}, {function!r})",
        ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _prepare_out(out: Path) -> None:
    """``out`` must be new, empty, or an earlier release (which is replaced); anything else is left alone."""
    if out.exists() and not out.is_dir():
        raise CourseworkError(f"{out} is a file: give a folder for the release")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise CourseworkError(
                f"{out} is not empty and holds no earlier release ({MANIFEST}): give a new or empty folder"
            )
        for name in ("student", "autograder", MANIFEST, "README.md"):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _ship_vgglib(dest: Path) -> None:
    """A copy of the installed vgglib with its MNIST sample: the grading image runs the release's vgglib."""
    import vgglib
    from vgglib.mnist import sample_dir

    shutil.copytree(Path(vgglib.__file__).parent, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not (dest / "_sample").is_dir():
        shutil.copytree(sample_dir(), dest / "_sample", ignore=shutil.ignore_patterns("__pycache__", "*.py"))


def _requirements(config: CourseConfig) -> list[str]:
    """What the Gradescope image installs besides otter: vgglib's own dependencies, then the course's."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        own = [r for r in (requires("vgglib") or []) if "extra ==" not in r] if config.ship_vgglib else []
    except PackageNotFoundError:  # pragma: no cover - vgglib run from a source tree without metadata
        own = ["numpy>=1.24", "matplotlib>=3.7", "ipywidgets>=8.0", "ipycanvas>=0.13", "scipy>=1.10", "tqdm>=4.64"]
    return own + [r for r in config.requirements if r not in own]


def _write_notebook(nb: Any, path: Path) -> None:
    nbformat = _need("nbformat")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)


def _build_autograder(
    stem: str, questions: Sequence[Question], config: CourseConfig, solved: Any, ag_dir: Path
) -> Path:
    """Write ``ag_dir``: tests/, the hidden tests, otter_config.json, requirements.txt, the solved notebook, the zip."""
    generate = _need("otter.generate")
    hidden_src = (config.hidden_dir or Path("coursework/hidden")) / f"nb{stem}.py"
    with tempfile.TemporaryDirectory(prefix="vgglib-autograder-") as tmp:
        stage = Path(tmp)
        (stage / "tests").mkdir()
        for q in questions:
            (stage / "tests" / f"{q.name}.py").write_text(_test_file(q, config.all_or_nothing), encoding="utf-8")
        files = [HIDDEN_PACKAGE]
        (stage / HIDDEN_PACKAGE).mkdir()
        (stage / HIDDEN_PACKAGE / "__init__.py").write_text(
            '"""Hidden tests of the coursework (copied from coursework/hidden/ by the build)."""\n', encoding="utf-8"
        )
        if any(q.hidden for q in questions):
            shutil.copyfile(hidden_src, stage / HIDDEN_PACKAGE / f"nb{stem}.py")
        if config.ship_vgglib:
            _ship_vgglib(stage / "vgglib")
            files.append("vgglib")
        (stage / "otter_config.json").write_text(
            json.dumps({"lang": "python", "assignment_name": stem}, indent=2) + "\n", encoding="utf-8"
        )
        (stage / "requirements.txt").write_text("\n".join(_requirements(config)) + "\n", encoding="utf-8")
        zip_name = f"{stem}-autograder.zip"
        with _chdir(stage), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # otter's own deprecation warnings (traitlets)
            generate.main(
                tests_dir="tests",
                output_path=zip_name,
                config="otter_config.json",
                requirements="requirements.txt",
                no_environment=True,
                files=files,
                python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
            )
        ag_dir.mkdir(parents=True, exist_ok=True)
        for name in ("tests", HIDDEN_PACKAGE):
            shutil.copytree(stage / name, ag_dir / name)
        for name in ("otter_config.json", "requirements.txt", zip_name):
            shutil.copyfile(stage / name, ag_dir / name)
    _write_notebook(solved, ag_dir / f"{stem}_solved.ipynb")
    return ag_dir / zip_name


_RELEASE_README = """# Coursework release (vgglib {version})

Built by `python -m vgglib coursework build` from the lesson sources (notebooks/_src/) and the hidden tests
(coursework/hidden/). Notebooks: {notebooks}.

- `student/`: hand these notebooks out. The public tests are the self-checks already in the exercise cells.
- `autograder/NN_*/NN_*-autograder.zip`: upload it to the notebook's Gradescope assignment (otter-grader);
  the same folder holds the test files (`tests/`, the hidden ones in `{hidden}/`) and `NN_*_solved.ipynb`,
  the lesson with the worked solutions in place (it scores full marks). Never give these folders to students.
- Grade locally: `python -m vgglib coursework grade {out} SUBMISSION.ipynb` (or a folder of submissions).
"""


def build_release(
    out: str | os.PathLike[str],
    *,
    notebooks: Sequence[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    points: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] | None = None,
    verify: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Build a release in ``out`` (see the module docstring); returns the manifest's path.

    ``notebooks``: items like "04" (default: the course file's list); ``config``: the course file (default
    ``coursework/course.toml`` of the checkout); ``points``: a TOML file whose ``[points]`` override the course's;
    ``verify``: grade each solved notebook afterwards and fail unless it scores full marks."""
    root = find_repo(repo)
    cfg = load_config(Path(config) if config is not None else root / "coursework" / "course.toml", points)
    stems = select_notebooks(root, notebooks if notebooks else cfg.notebooks)
    plans = [(stem, discover(root, stem, cfg)) for stem in stems]  # every problem found before anything is written
    out = Path(out)
    _prepare_out(out)
    import vgglib

    manifest: dict[str, Any] = {
        "format": 1,
        "vgglib": vgglib.__version__,
        "all_or_nothing": cfg.all_or_nothing,
        "notebooks": {},
    }
    for stem, questions in plans:
        lesson = _read_source(root / "notebooks" / "_src" / f"{stem}.py")
        solutions = _read_source(root / "notebooks" / "_src" / "solutions" / f"{stem}_solutions.py")
        student_path = out / "student" / f"{stem}.ipynb"
        _write_notebook(_release_notebook(lesson, stem, questions), student_path)
        solved = _release_notebook(lesson, stem, questions, solutions)
        zip_path = _build_autograder(stem, questions, cfg, solved, out / "autograder" / stem)
        manifest["notebooks"][stem] = {
            "student": student_path.relative_to(out).as_posix(),
            "solved": (out / "autograder" / stem / f"{stem}_solved.ipynb").relative_to(out).as_posix(),
            "autograder": zip_path.relative_to(out).as_posix(),
            "questions": [
                {
                    "name": q.name,
                    "exercise": q.number,
                    "check": q.check,
                    "answer": q.answer,
                    "points": q.points,
                    "hidden": list(q.hidden),
                }
                for q in questions
            ],
        }
        hidden = sum(len(q.hidden) for q in questions)
        log(
            f"{stem}: {len(questions)} questions, {_fmt(sum(q.points for q in questions))} points, "
            f"{len(questions)} self-checks + {hidden} hidden tests -> {student_path.relative_to(out)}, "
            f"{zip_path.relative_to(out)}"
        )
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(
        _RELEASE_README.format(version=vgglib.__version__, notebooks=", ".join(stems), hidden=HIDDEN_PACKAGE, out=out),
        encoding="utf-8",
    )
    if verify:
        solved_paths = [out / manifest["notebooks"][stem]["solved"] for stem in stems]
        results = grade(out, solved_paths, log=log)
        short = [r for r in results if r.error or not math.isclose(r.total, r.possible)]
        if short:
            raise CourseworkError(
                "a solved notebook does not score full marks:\n" + "\n".join(format_result(r) for r in short)
            )
        log(f"verified: every solved notebook scores full marks ({', '.join(stems)})")
    return out / MANIFEST


# =============================================================================================================
# 4. Grading submissions locally
# =============================================================================================================
@dataclass
class QuestionResult:
    """One question of a graded submission; ``failures`` = (test name, reason) of the tests that failed."""

    name: str
    exercise: int
    score: float
    possible: float
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SubmissionResult:
    """A graded submission (``error``: why it could not be graded, then it scores 0)."""

    path: Path
    notebook: str | None
    questions: list[QuestionResult] = field(default_factory=list)
    error: str | None = None

    @property
    def total(self) -> float:
        return sum(q.score for q in self.questions)

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions)


def _read_manifest(release: Path) -> dict[str, Any]:
    path = release / MANIFEST
    if not path.is_file():
        raise CourseworkError(
            f"{release} is not a coursework release (no {MANIFEST}): build one with "
            "python -m vgglib coursework build OUT/"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _submissions(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    found: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())
        elif item.is_file():
            found.append(item)
        else:
            raise CourseworkError(f"{item}: no such file or folder")
    if not found:
        raise CourseworkError(f"no notebooks (.ipynb) in {', '.join(map(str, paths))}")
    return found


def _which_notebook(nb: Any, path: Path, stems: Sequence[str]) -> str:
    """The release notebook a submission answers: its metadata, else its file name's number, else the only one."""
    meta = nb.get("metadata", {}).get(META_KEY, {})
    if isinstance(meta, dict) and meta.get("notebook") in stems:
        return str(meta["notebook"])
    by_number = [s for s in stems if path.name[:3] == s[:3]]
    if len(by_number) == 1:
        return by_number[0]
    if len(stems) == 1:
        return stems[0]
    raise CourseworkError(
        f"cannot tell which notebook it answers (no {META_KEY} metadata, and its name does not start with one of "
        f"{', '.join(s[:3] for s in stems)}): rename it like {stems[0]}.ipynb"
    )


def _reason(message: str | None) -> str:
    """The failure message of an otter test case, without otter's frame (the test file's line)."""
    lines = (message or "").strip().splitlines()
    if lines and "Test case failed" in lines[0]:
        lines = lines[1:]
    if lines and lines[0].startswith("Error at line"):
        lines = lines[2:]
    text = "\n".join(lines).strip()
    return text[len("AssertionError: ") :] if text.startswith("AssertionError: ") else text or "failed"


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Send stdout and stderr, of this process and of the kernels it starts, to the null device."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def _grade_one(path: Path, release: Path, manifest: dict[str, Any], quiet: bool) -> SubmissionResult:
    nbformat = _need("nbformat")
    api = _need("otter.api")
    stems = list(manifest["notebooks"])
    size = path.stat().st_size
    if size > MAX_SUBMISSION_BYTES:  # never read a huge file into memory: a lesson with outputs is a few MB
        return SubmissionResult(
            path, None, error=f"not graded: {size:,} bytes, more than a notebook can be ({MAX_SUBMISSION_BYTES:,})"
        )
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 — an unreadable submission is reported, the others still graded
        return SubmissionResult(path, None, error=f"not a readable notebook: {type(err).__name__}: {err}")
    try:
        stem = _which_notebook(nb, path, stems)
    except CourseworkError as err:
        return SubmissionResult(path, None, error=str(err))
    entry = manifest["notebooks"][stem]
    questions = {q["exercise"]: q for q in entry["questions"]}
    # the cell-by-cell checks ride on cell metadata; put it back by the exercise tags if an editor dropped it
    for cell in nb.cells:
        number = _exercise_number(cell)
        if number in questions:
            cell.metadata.setdefault("otter", {})["tests"] = [questions[number]["name"]]
    nb.metadata.setdefault("otter", {})["assignment_name"] = stem
    with tempfile.TemporaryDirectory(prefix="vgglib-grade-") as tmp:
        copy_path = Path(tmp) / f"{stem}.ipynb"
        with open(copy_path, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        with _silenced() if quiet else contextlib.nullcontext(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # otter's own deprecation warnings (pandas), not the student's
            try:
                results = api.grade_submission(str(copy_path), str(release / entry["autograder"]), quiet=quiet)
            except Exception as err:  # noqa: BLE001 — otter's own errors (e.g. a broken notebook) are reported
                return SubmissionResult(path, stem, error=f"otter could not grade it: {type(err).__name__}: {err}")
    result = SubmissionResult(path, stem)
    if results.catastrophic_error is not None:
        result.error = f"grading failed: {results.catastrophic_error}"
    for q in entry["questions"]:
        tf = results.results.get(q["name"])
        if tf is None:
            result.questions.append(
                QuestionResult(q["name"], q["exercise"], 0.0, q["points"], [("all tests", "not graded (never ran)")])
            )
            continue
        failures = [(tcr.test_case.name, _reason(tcr.message)) for tcr in tf.test_case_results if not tcr.passed]
        # otter shares a question's points among its tests: 2 points over 6 tests add up to 1.9999999999999998
        score = round(float(tf.score), 9)
        result.questions.append(QuestionResult(q["name"], q["exercise"], score, float(q["points"]), failures))
    return result


def _grade_in_child(conn: Any, path: Path, release: Path, manifest: dict[str, Any], quiet: bool) -> None:
    """The body of a grading process: grade one submission, send the result back."""
    try:
        result = _grade_one(path, release, manifest, quiet)
    except BaseException as err:  # noqa: BLE001 — reported for this submission, the others still graded
        result = SubmissionResult(path, None, error=f"grading failed: {type(err).__name__}: {err}")
    conn.send(result)
    conn.close()


def _kill_tree(pid: int) -> None:
    """Kill process ``pid`` and every process below it. jupyter_client starts each kernel in a session of its own,
    out of reach of a signal to the grading process's group, so the tree is walked instead (psutil)."""
    psutil = _need("psutil")
    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()
    psutil.wait_procs(tree, timeout=10)


def _grade_isolated(
    path: Path, release: Path, manifest: dict[str, Any], quiet: bool, timeout: float | None
) -> SubmissionResult:
    """:func:`_grade_one` in a process of its own, stopped with its kernel after ``timeout`` seconds."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_grade_in_child, args=(send, path, release, manifest, quiet), daemon=True)
    process.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                result: SubmissionResult = receive.recv()
            except EOFError:  # the process died without a word (killed, out of memory)
                process.join()
                return SubmissionResult(path, None, error=f"not graded: the grading process died ({process.exitcode})")
            process.join()
            return result
        if process.pid is not None:  # (started above: always)
            _kill_tree(process.pid)  # the grading process and the notebook's kernel (a session of its own)
        process.join()
        return SubmissionResult(
            path,
            None,
            error=f"not graded: still running after {timeout:g} s (an endless loop, or a long training run left "
            "in?); grade it alone with a longer --timeout if it is just slow",
        )
    finally:
        receive.close()


def grade(
    release: str | os.PathLike[str],
    submissions: Sequence[str | os.PathLike[str]],
    *,
    jobs: int = 1,
    timeout: float | None = GRADE_TIMEOUT,
    quiet: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[SubmissionResult]:
    """Grade notebooks (files, or folders searched for ``*.ipynb``) with a release's autograders.

    Each submission is graded in a process of its own, stopped with its kernel after ``timeout`` seconds
    (None: no limit; then with ``jobs`` = 1 grading runs in this process). ``jobs`` > 1 grades that many
    submissions at once. ``log`` receives each submission's report, in the order of the submissions, as soon as
    it is graded."""
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise CourseworkError(f"the grading timeout must be a finite number of seconds > 0 or None, got {timeout!r}")
    release = Path(release)
    manifest = _read_manifest(release)
    paths = _submissions(submissions)
    results: list[SubmissionResult] = []
    if timeout is None and jobs == 1:
        for path in paths:
            results.append(_grade_one(path, release, manifest, quiet))
            if log is not None:
                log(format_result(results[-1]))
        return results
    import concurrent.futures

    _need("psutil")  # to stop a submission with its kernel: say it is missing before grading anything
    with concurrent.futures.ThreadPoolExecutor(max(1, min(jobs, len(paths)))) as pool:  # each thread waits on a process
        futures = [pool.submit(_grade_isolated, path, release, manifest, quiet, timeout) for path in paths]
        for future in futures:
            results.append(future.result())
            if log is not None:
                log(format_result(results[-1]))
    return results


def format_result(result: SubmissionResult) -> str:
    """A submission's report: the total, then each question's points and why a test failed."""
    head = f"{result.path}" + (f" ({result.notebook})" if result.notebook else "")
    if result.error and not result.questions:
        return f"{head}: not graded: {result.error}"
    lines = [f"{head}: {_fmt(result.total)} / {_fmt(result.possible)} points"]
    if result.error:
        lines.append(f"  note: {result.error}")
    width = max((len(q.name) for q in result.questions), default=0)
    for q in result.questions:
        mark = "✔" if math.isclose(q.score, q.possible) else "✘"
        lines.append(f"  {mark} {q.name:<{width}}  {_fmt(q.score):>4} / {_fmt(q.possible)}")
        merged: dict[str, list[str]] = {}
        for test, why in q.failures:  # one line per reason: "not implemented yet" once, not once per test
            merged.setdefault(why, []).append(test)
        for why, tests in merged.items():
            text = why.replace("\n", "\n" + " " * 8)
            lines.append(f"      {'; '.join(tests)}: {text}")
    return "\n".join(lines)


def write_csv(results: Sequence[SubmissionResult], path: str | os.PathLike[str]) -> None:
    """One row per submission: file, notebook, total, possible, then each question's points."""
    names: list[str] = []
    for r in results:
        for q in r.questions:
            key = f"{r.notebook}:{q.name}"
            if key not in names:
                names.append(key)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "notebook", "total", "possible", "error", *names])
        for r in results:
            scores = {f"{r.notebook}:{q.name}": _fmt(q.score) for q in r.questions}
            writer.writerow(
                [str(r.path), r.notebook or "", _fmt(r.total), _fmt(r.possible), r.error or ""]
                + [scores.get(n, "") for n in names]
            )


# =============================================================================================================
# 5. The command line (``python -m vgglib coursework build|grade``; the parser is in vgglib/__main__.py)
# =============================================================================================================
def run_command(args: Any) -> int:
    """Run ``coursework build`` or ``coursework grade`` with the parsed arguments; returns the exit status."""
    if args.action == "build":
        notebooks = args.notebooks.split(",") if args.notebooks else None
        manifest = build_release(
            args.out,
            notebooks=notebooks,
            config=args.config,
            points=args.points,
            repo=args.repo,
            verify=args.verify,
        )
        print(f"release in {manifest.parent}: hand out {manifest.parent / 'student'}; keep the rest to yourself")
        return 0
    timeout = GRADE_TIMEOUT if args.timeout is None else (args.timeout or None)  # 0: no limit
    results = grade(
        args.release, args.submissions, jobs=args.jobs, timeout=timeout, log=lambda text: print(text, flush=True)
    )
    if len(results) > 1:
        graded = [r for r in results if not (r.error and not r.questions)]
        print(f"\n{len(graded)} of {len(results)} submissions graded")
        for r in results:
            print(f"  {_fmt(r.total):>5} / {_fmt(r.possible):<5} {r.path}" + ("  (not graded)" if r.error else ""))
    if args.csv:
        write_csv(results, args.csv)
        print(f"scores written to {args.csv}")
    return 1 if any(r.error for r in results) else 0
