"""The coursework kit (vgglib/coursework.py, coursework/, README "For instructors"): graded releases with otter-grader.

One release of notebooks 04 and 06 is built per session (offline, from a copy of the lesson sources and the course
folder only) and six submissions are graded through the command line: the solved notebooks (full marks), the
untouched student notebooks (zero), and the solved notebooks with one planted bug each (a max-pool backward that
ignores the stride; a softmax without the max shift), which lose exactly that question. Faster tests run every
hidden test on the worked solutions and on the unanswered exercises in-process, without a kernel.

otter-grader is the ``instructor`` extra: without it these tests are skipped outside CI and fail in CI.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import socket
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from vgglib import coursework
from vgglib.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "_src"
HIDDEN = ROOT / "coursework" / "hidden"
E2E = ("04", "06")


def _need_otter() -> None:
    try:
        coursework._need("otter")
    except coursework.CourseworkError:
        message = "the coursework tests need otter-grader: pip install -e '.[instructor]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _stem(number: str) -> str:
    return coursework.lesson_stems(ROOT)[number]


# ---------------------------------------------------------------------------------------------------------------
# In-process: every hidden test passes on the worked solution and fails (with a message) on the untouched exercise
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _hidden_importable():
    """The autograder copies coursework/hidden/ as a package next to the submission; here, a temporary alias."""
    import types

    package = types.ModuleType(coursework.HIDDEN_PACKAGE)
    package.__path__ = [str(HIDDEN)]
    sys.modules[coursework.HIDDEN_PACKAGE] = package
    yield
    for name in [
        n for n in sys.modules if n == coursework.HIDDEN_PACKAGE or n.startswith(coursework.HIDDEN_PACKAGE + ".")
    ]:
        del sys.modules[name]


def _code(cell) -> str:
    """A jupytext cell's source as plain Python (magics such as %matplotlib dropped)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())


def _tagged(cell, prefix: str) -> list[int]:
    return [int(t.split("-")[1]) for t in cell.metadata.get("tags", []) if t.startswith(prefix)]


def _answered(stem: str, kind: str):
    """Run the solutions' setup cells, then each cell tagged ``kind-K`` ("solution": the worked solutions,
    "exercise": the lesson's untouched exercise cells) in order; yield (K, namespace) right after each, as the
    grader checks an answer right after its cell."""
    import matplotlib

    matplotlib.use("Agg")
    solutions = jupytext.read(SOURCES / "solutions" / f"{stem}_solutions.py")
    first = next(i for i, c in enumerate(solutions.cells) if _tagged(c, "solution-"))
    env: dict = {"__name__": "__main__"}
    for cell in solutions.cells[:first]:
        if cell.cell_type == "code":
            exec(compile(_code(cell), f"{stem}_solutions setup", "exec"), env)
    cells = solutions.cells[first:] if kind == "solution" else jupytext.read(SOURCES / f"{stem}.py").cells
    for cell in cells:
        numbers = _tagged(cell, f"{kind}-")
        if cell.cell_type == "code" and (numbers or kind == "solution"):
            exec(compile(_code(cell), f"{stem} {kind}", "exec"), env)
            if numbers:
                yield numbers[0], env


@pytest.mark.parametrize("stem", sorted(p.stem[2:] for p in HIDDEN.glob("nb[0-9][0-9]_*.py")))
def test_hidden_tests_pass_on_the_solutions_and_fail_on_the_untouched_exercises(stem):
    config = coursework.load_config(ROOT / "coursework" / "course.toml")
    questions = {q.number: q for q in coursework.discover(ROOT, stem, config)}
    assert any(q.hidden for q in questions.values()), f"{stem}: no question has hidden tests"
    for number, env in _answered(stem, "solution"):
        q = questions[number]
        coursework.run_self_check(env, q.check, q.answer)
        for function in q.hidden:
            coursework.run_hidden_test(env, q.answer, f"nb{stem}", function)  # passes: no exception
    for number, env in _answered(stem, "exercise"):
        q = questions[number]
        for function in q.hidden:
            with pytest.raises(AssertionError) as failed:
                coursework.run_hidden_test(env, q.answer, f"nb{stem}", function)
            assert str(failed.value), f"{stem} {function}: a failing hidden test must say why"


# ---------------------------------------------------------------------------------------------------------------
# Discovery, configuration, errors (no otter needed)
# ---------------------------------------------------------------------------------------------------------------
def test_questions_are_discovered_from_the_tags():
    config = coursework.load_config(ROOT / "coursework" / "course.toml")
    by_check = {q.check: q for q in coursework.discover(ROOT, _stem("04"), config)}
    q = by_check["check_maxpool_backward"]
    assert (q.answer, q.name, q.points) == ("maxpool_backward", f"ex{q.number}_maxpool_backward", 3.0)
    assert len(q.hidden) >= 4
    q = {q.check: q for q in coursework.discover(ROOT, _stem("06"), config)}["check_softmax_cross_entropy"]
    assert q.answer == "my_softmax_cross_entropy" and len(q.hidden) >= 4


def _fake_repo(tmp_path: Path, exercise_cell: str, hidden: str | None = None) -> Path:
    text = (SOURCES / "04_pooling.py").read_text()
    header = text[: text.index("# ---", 5) + len("# ---\n")]  # the real sources' jupytext header
    (tmp_path / "notebooks" / "_src" / "solutions").mkdir(parents=True)
    (tmp_path / "notebooks" / "_src" / "04_pooling.py").write_text(
        header + '\n# %% [markdown]\n# # 04\n\n# %% tags=["exercise-1"]\n' + exercise_cell + "\n"
    )
    (tmp_path / "notebooks" / "_src" / "solutions" / "04_pooling_solutions.py").write_text(
        header + '\n# %% tags=["solution-1"]\nanswer = 4\nresult = check_pool_by_hand(answer)\nassert result.correct\n'
    )
    (tmp_path / "coursework" / "hidden").mkdir(parents=True)
    (tmp_path / "coursework" / "course.toml").write_text('[release]\nnotebooks = ["04"]\n')
    if hidden is not None:
        (tmp_path / "coursework" / "hidden" / "nb04_pooling.py").write_text(hidden)
    return tmp_path


def test_a_hidden_test_for_no_exercise_is_refused(tmp_path):
    hidden = "from vgglib.coursework import hidden_test\n\n\n@hidden_test('check_renamed')\ndef t(answer):\n    pass\n"
    repo = _fake_repo(tmp_path, "answer = None\ncheck_pool_by_hand(answer)", hidden)
    config = coursework.load_config(repo / "coursework" / "course.toml")
    with pytest.raises(coursework.CourseworkError, match="check_renamed.*no exercise"):
        coursework.discover(repo, "04_pooling", config)


def test_an_exercise_cell_must_end_with_its_self_check(tmp_path):
    repo = _fake_repo(tmp_path, "answer = None\nprint(answer)")
    config = coursework.load_config(repo / "coursework" / "course.toml")
    with pytest.raises(coursework.CourseworkError, match="must end with its self-check"):
        coursework.discover(repo, "04_pooling", config)


def test_points_come_from_the_course_file_and_a_points_file(tmp_path):
    points = tmp_path / "points.toml"
    points.write_text('[points]\ndefault = 2\n"04.4" = 10\ncheck_initial_loss = 5\n')
    config = coursework.load_config(ROOT / "coursework" / "course.toml", points)
    assert config.points_for("04_pooling", 4, "check_maxpool_backward") == 10
    assert config.points_for("06_softmax_and_cross_entropy", 1, "check_initial_loss") == 5
    assert config.points_for("04_pooling", 1, "check_pool_by_hand") == 2
    assert config.points_for("06_softmax_and_cross_entropy", 3, "check_softmax_cross_entropy") == 3  # course file
    points.write_text('[points]\n"four" = 1\n')
    with pytest.raises(coursework.CourseworkError, match="NN.K"):
        coursework.load_config(ROOT / "coursework" / "course.toml", points)


def test_missing_otter_names_the_instructor_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "otter", None)  # as if otter-grader were not installed
    with pytest.raises(coursework.CourseworkError, match=re.escape("pip install -e '.[instructor]'")):
        coursework._need("otter.api")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["coursework", "build", str(tmp_path / "out"), "--notebooks", "99"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vgglib coursework: error: no lesson notebook '99'")
    (tmp_path / "sub.ipynb").write_text("{}")
    assert main(["coursework", "grade", str(tmp_path), str(tmp_path / "sub.ipynb")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a coursework release" in err[0]
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["coursework", "build", str(tmp_path), "--notebooks", "04"]) == 1
    assert "not empty" in capsys.readouterr().err and (tmp_path / "keep.txt").read_text() == "mine"


# ---------------------------------------------------------------------------------------------------------------
# End to end with otter: one release of 04 and 06, six submissions graded through the command line
# ---------------------------------------------------------------------------------------------------------------
#: the planted bugs: (notebook, the exercise's self-check, the buggy answer cell, words the report must show)
BUGS = {
    "04": (
        "check_maxpool_backward",
        '''def maxpool_backward(dy, x, pool_size, stride):
    """The seed's bug: the winners are found with the stride, but put back as if it were 1."""
    k = pool_size
    n, c, ho, wo = dy.shape
    dx = np.zeros_like(x)
    for oy in range(ho):
        for ox in range(wo):
            window = x[:, :, oy * stride:oy * stride + k, ox * stride:ox * stride + k].reshape(n, c, k * k)
            i, j = np.divmod(window.argmax(axis=2), k)
            for b in range(n):
                for ch in range(c):
                    dx[b, ch, oy + i[b, ch], ox + j[b, ch]] += dy[b, ch, oy, ox]
    return dx


check_maxpool_backward(maxpool_backward)''',
        "stride",
    ),
    "06": (
        "check_softmax_cross_entropy",
        '''def my_softmax_cross_entropy(logits, labels):
    """No max shift: exp overflows for large logits."""
    n = len(logits)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), labels]).mean()
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n


check_softmax_cross_entropy(my_softmax_cross_entropy)''',
        "inf or nan",
    ),
}


@contextlib.contextmanager
def _offline():
    """Any attempt to open a network connection fails (the build must not need one)."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network blocked in this test: {address}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        yield attempts


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A release of 04 and 06 built offline from a clean copy of what the build reads (sources, course folder)."""
    _need_otter()
    checkout = tmp_path_factory.mktemp("checkout")
    shutil.copytree(SOURCES, checkout / "notebooks" / "_src", ignore=shutil.ignore_patterns("*.ipynb", ".*"))
    shutil.copytree(ROOT / "coursework", checkout / "coursework", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("release")
    with _offline() as attempts:
        manifest = coursework.build_release(out, notebooks=list(E2E), repo=checkout, log=lambda _: None)
    assert attempts == [], f"the build tried to connect to {attempts}"
    return out, json.loads(manifest.read_text())


@pytest.fixture(scope="module")
def graded(release, tmp_path_factory):
    """Six submissions graded with `python -m vgglib coursework grade RELEASE FOLDER --csv FILE --jobs 2`."""
    out, manifest = release
    subs = tmp_path_factory.mktemp("submissions")
    for number in E2E:
        stem = _stem(number)
        entry = manifest["notebooks"][stem]
        for kind, source in (("solved", entry["solved"]), ("untouched", entry["student"])):
            (subs / kind).mkdir(exist_ok=True)
            shutil.copyfile(out / source, subs / kind / f"{stem}.ipynb")
        check, code, _ = BUGS[number]
        nb = nbformat.read(out / entry["solved"], as_version=4)
        (cell,) = [c for c in nb.cells if f"{check}(" in c.source and c.metadata.get("otter", {}).get("tests")]
        cell.source = code
        (subs / "bug").mkdir(exist_ok=True)
        nbformat.write(nb, subs / "bug" / f"{stem}.ipynb")
    table = subs / "scores.csv"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        status = main(["coursework", "grade", str(out), str(subs), "--csv", str(table), "--jobs", "2"])
    with open(table, newline="") as f:
        rows = {(Path(r["submission"]).parent.name, r["notebook"]): r for r in csv.DictReader(f)}
    return status, text.getvalue(), rows, manifest


def _report(text: str, kind: str, stem: str) -> str:
    """The block of the printed report about one submission."""
    blocks = re.split(r"\n(?=\S)", text)
    (block,) = [b for b in blocks if f"{os.sep}{kind}{os.sep}{stem}.ipynb ({stem})" in b.splitlines()[0]]
    return block


def test_release_layout(release):
    out, manifest = release
    assert sorted(manifest["notebooks"]) == [_stem(n) for n in E2E]
    for stem, entry in manifest["notebooks"].items():
        assert (out / entry["student"]).is_file() and (out / entry["solved"]).is_file()
        zip_path = out / entry["autograder"]
        assert zip_path.is_file() and zip_path.parent.parent.name == "autograder"
        import zipfile

        names = zipfile.ZipFile(zip_path).namelist()
        for q in entry["questions"]:
            assert f"tests/{q['name']}.py" in names
        assert f"files/{coursework.HIDDEN_PACKAGE}/nb{stem}.py" in names
        student = nbformat.read(out / entry["student"], as_version=4)
        graded = [c for c in student.cells if c.metadata.get("otter", {}).get("tests")]
        assert len(graded) == len(entry["questions"])
    assert sorted(p.name for p in (out / "student").iterdir()) == sorted(f"{s}.ipynb" for s in manifest["notebooks"])


def test_the_student_release_has_no_solution_code_and_no_hidden_tests(release):
    out, manifest = release
    student_text = "\n".join(p.read_text() for p in (out / "student").rglob("*") if p.is_file())
    for stem in manifest["notebooks"]:
        lesson = (SOURCES / f"{stem}.py").read_text()
        solutions = jupytext.read(SOURCES / "solutions" / f"{stem}_solutions.py")
        lines = {
            line.strip()
            for cell in solutions.cells
            if any(t.startswith("solution-") for t in cell.metadata.get("tags", []))
            for line in cell.source.splitlines()
            if len(line.strip()) > 15 and not line.strip().startswith(("#", "check_", "result", "print(", "assert"))
        }
        secret = {line for line in lines if line not in lesson}  # lines the lesson itself does not show
        assert len(secret) >= 3, stem
        leaked = [line for line in secret if json.dumps(line)[1:-1] in student_text or line in student_text]
        assert leaked == [], f"{stem}: solution lines in the student release: {leaked}"
        for q in manifest["notebooks"][stem]["questions"]:
            for function in q["hidden"]:
                assert function not in student_text
    assert coursework.HIDDEN_PACKAGE not in student_text and "run_hidden_test" not in student_text
    assert not [p for p in (out / "student").rglob("*") if p.suffix in (".py", ".zip")]


def test_hidden_tests_live_outside_the_package():
    package = ROOT / "vgglib"
    decorated = re.compile(r"^@hidden_test\(", re.MULTILINE)
    assert not [p for p in package.rglob("*.py") if decorated.search(p.read_text(encoding="utf-8"))]
    assert len(decorated.findall((HIDDEN / "nb04_pooling.py").read_text())) >= 4
    assert "coursework" not in re.search(r"packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text()).group(1)


@pytest.mark.slow  # executes six notebooks
def test_grading_ran_for_every_submission(graded):
    status, text, rows, _ = graded
    assert status == 0, text
    assert len(rows) == 6 and not any(r["error"] for r in rows.values()), rows


def _scores(row, questions):
    return {q["name"]: float(row[f"{row['notebook']}:{q['name']}"]) for q in questions}


@pytest.mark.slow
@pytest.mark.parametrize("number", E2E)
def test_the_solutions_score_full_marks(graded, number):
    _, text, rows, manifest = graded
    stem = _stem(number)
    questions = manifest["notebooks"][stem]["questions"]
    assert _scores(rows["solved", stem], questions) == {q["name"]: q["points"] for q in questions}
    assert "✘" not in _report(text, "solved", stem)


@pytest.mark.slow
@pytest.mark.parametrize("number", E2E)
def test_the_untouched_student_notebook_scores_zero(graded, number):
    _, text, rows, manifest = graded
    stem = _stem(number)
    questions = manifest["notebooks"][stem]["questions"]
    assert _scores(rows["untouched", stem], questions) == {q["name"]: 0.0 for q in questions}
    report = _report(text, "untouched", stem)
    assert report.count("✘") == len(questions) and "no answer yet" in report and "not implemented yet" in report


@pytest.mark.slow
@pytest.mark.parametrize("number", E2E)
def test_a_planted_bug_loses_exactly_its_question(graded, number):
    _, text, rows, manifest = graded
    stem = _stem(number)
    check, _, words = BUGS[number]
    questions = manifest["notebooks"][stem]["questions"]
    (buggy,) = [q for q in questions if q["check"] == check]
    expected = {q["name"]: (0.0 if q is buggy else q["points"]) for q in questions}
    assert _scores(rows["bug", stem], questions) == expected
    report = _report(text, "bug", stem)
    (line,) = [line for line in report.splitlines() if "✘" in line]
    assert buggy["name"] in line
    assert f"self-check {check}:" in report and words in report
    assert "hidden:" in report  # the hidden tests that caught it are named too


def test_a_huge_submission_is_refused_unread(tmp_path, monkeypatch):
    """Hostile input: a multi-gigabyte "notebook" is reported as not graded without being read into memory."""
    _need_otter()
    huge = tmp_path / "04_pooling.ipynb"
    with open(huge, "wb") as f:  # sparse: costs no disk
        f.truncate(coursework.MAX_SUBMISSION_BYTES + 1)

    def never(*args, **kwargs):
        raise AssertionError("the huge file was read")

    monkeypatch.setattr("nbformat.read", never)
    result = coursework._grade_one(huge, tmp_path, {"notebooks": {"04_pooling": {}}}, quiet=True)
    assert result.error and "not graded" in result.error and "bytes" in result.error
    assert result.notebook is None and result.questions == []


def _dead(pid: int) -> bool:
    """Whether process ``pid`` is gone (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except OSError:  # no /proc (not Linux): ask the process table
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return state in ("Z", "X")


def test_an_endless_submission_is_stopped_with_its_kernel_and_the_others_graded(release, tmp_path):
    """Hostile input: a notebook that never ends is stopped after the timeout, its kernel too, and reported as not
    graded; the submission graded beside it still gets its marks."""
    out, manifest = release
    stem = _stem("04")
    entry = manifest["notebooks"][stem]
    pidfile = tmp_path / "kernel.pid"
    nb = nbformat.read(out / entry["solved"], as_version=4)
    nb.cells.insert(
        0,
        nbformat.v4.new_code_cell(
            f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\nwhile True:\n    time.sleep(0.5)"
        ),
    )
    (tmp_path / "endless").mkdir()
    nbformat.write(nb, tmp_path / "endless" / f"{stem}.ipynb")
    (tmp_path / "fine").mkdir()
    shutil.copyfile(out / entry["solved"], tmp_path / "fine" / f"{stem}.ipynb")
    # 45 s keeps the test short; a machine so busy that the grading process has not reached the endless cell (or
    # finished the other submission) by then gets one more try with a longer timeout, and every check below runs
    for timeout in (45, 150):
        pidfile.unlink(missing_ok=True)
        endless, fine = coursework.grade(
            out, [tmp_path / "endless" / f"{stem}.ipynb", tmp_path / "fine" / f"{stem}.ipynb"], jobs=2, timeout=timeout
        )
        if pidfile.exists() and fine.error is None:
            break
    assert endless.error and f"still running after {timeout} s" in endless.error and endless.questions == []
    assert "not graded" in coursework.format_result(endless)
    assert pidfile.exists(), "the endless cell never ran: the timeout is too short to test the kernel's end"
    kernel = int(pidfile.read_text())
    assert _dead(kernel), f"the submission's kernel (pid {kernel}) outlived the timeout"
    assert fine.error is None and fine.total == fine.possible > 0


def test_the_grading_timeout_is_checked_and_documented(tmp_path, capsys):
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(coursework.CourseworkError, match="timeout must be a finite number of seconds > 0"):
            coursework.grade(tmp_path, [], timeout=bad)
    with pytest.raises(SystemExit):
        main(["coursework", "grade", str(tmp_path), str(tmp_path / "a.ipynb"), "--timeout", "-5"])
    assert "argument --timeout: expected a finite number >= 0, got -5.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["coursework", "grade", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default {coursework.GRADE_TIMEOUT:g}; 0: none)" in help_text
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"still running after `--timeout` seconds (default {coursework.GRADE_TIMEOUT:g})" in readme
