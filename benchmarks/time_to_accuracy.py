#!/usr/bin/env python3
"""Time to accuracy, side by side: vgglib's CLI and the PyTorch reference train the same recipe, seed by seed.

For each seed it runs ``python -m vgglib train --recipe R --data full --seed S`` (the command a student runs) and
``benchmarks/torch_recipe.py`` with the same recipe and seed, one after the other on this machine, and writes each
run's JSON (history, test accuracy, wall time, time split, peak RSS) under ``results/time-to-accuracy/N-epochs/``
(one folder per schedule); then the mean ± standard deviation over the seeds of test accuracy and wall time per
framework (``summary.json``)::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/time_to_accuracy.py --data-dir ../shared/data/mnist --seeds 0 1 2
    .venv/bin/python benchmarks/time_to_accuracy.py --data-dir ../shared/data/mnist --extra --epochs 10
    .venv/bin/python benchmarks/time_to_accuracy.py --summary-only      # recompute the summary from the JSONs
    .venv/bin/python benchmarks/time_to_accuracy.py --table             # the README's rows and the verdict

A finished run (its JSON has the "process" entry this script adds at the end) is not repeated (delete it to
rerun), and an interrupted vgglib run resumes from its checkpoint (``runs/``), so a long measurement can span
sessions. Time only on a quiet machine: both runs of a seed share it, and every other heavy process skews the
ratio. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed and the thread count set (default 2) for both runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from torch_twin import PINNING_VARS, THREAD_VARS  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="mnist-vgg16")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data-dir", default=None, help="the four MNIST files (default: $VGGLIB_DATA)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frameworks", nargs="+", choices=["vgglib", "torch"], default=["vgglib", "torch"])
    ap.add_argument(
        "--out",
        default=None,
        help="folder of the JSONs (default results/time-to-accuracy/N-epochs/, N the epochs the runs train)",
    )
    ap.add_argument("--summary-only", action="store_true", help="only recompute summary.json from the runs")
    ap.add_argument(
        "--table", action="store_true", help="only print the README's table rows and verdict for the runs in --out"
    )
    ap.add_argument(
        "--extra",
        nargs=argparse.REMAINDER,
        default=[],
        help="recipe overrides for both runs, last: --width, --limit, --val-size, --epochs, --batch-size",
    )
    return ap.parse_args(argv)


def default_out(recipe: str, extra: list[str]) -> Path:
    """results/time-to-accuracy/N-epochs/: one folder per schedule, N the ``--epochs`` among the overrides, else the
    recipe's own."""
    epochs = None
    for i, arg in enumerate(extra):
        if arg == "--epochs" and i + 1 < len(extra):
            epochs = extra[i + 1]
        elif arg.startswith("--epochs="):
            epochs = arg.split("=", 1)[1]
    if epochs is None:
        from vgglib.recipes import get_recipe

        epochs = str(get_recipe(recipe).epochs)
    return ROOT / "results" / "time-to-accuracy" / f"{epochs}-epochs"


def child_env(threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PINNING_VARS}
    env.update({var: str(threads) for var in THREAD_VARS})
    return env


def run_json(path: Path, cmd: list[str], env: dict[str, str]) -> None:
    """Run ``cmd``; add its wall time and peak RSS (the child's ru_maxrss) to the JSON it wrote at ``path``."""
    print("$", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(cmd[:4])} ... exited with {code}; its partial state is kept (rerun to resume)")
    data = json.loads(path.read_text())
    data["process"] = {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "command": cmd}  # ru_maxrss: KB
    path.write_text(json.dumps(data, indent=1) + "\n")


def _finished_run(path: Path) -> dict | None:
    """The run in ``path`` if it is finished, else None: :func:`run_json` adds "process" when the run has ended
    (the vgglib CLI writes its history there after every epoch, so an interrupted run leaves a JSON too)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "process" in data else None


def finished(path: Path) -> bool:
    """Whether ``path`` holds a finished run (see :func:`_finished_run`)."""
    return _finished_run(path) is not None


def mean_split(histories: list[dict]) -> dict[str, float]:
    """Mean share of the wall time per part (network, augmentation, preparation, evaluation, checkpoints,
    other) over runs; a part a framework does not record counts as other."""
    from vgglib.train import TIME_PARTS

    shares: dict[str, list[float]] = {part: [] for part in (*TIME_PARTS, "other")}
    for h in histories:
        stored, total = h.get("time_split") or {}, float(h.get("elapsed") or 0.0)
        known = {part: float(stored.get(part, 0.0)) for part in TIME_PARTS}
        known["other"] = max(total - sum(known.values()), 0.0)
        for part, seconds in known.items():
            shares[part].append(seconds / total if total > 0 else 0.0)
    return {part: statistics.fmean(v) if v else 0.0 for part, v in shares.items()}


def common_recipe(data: list[dict], names: list[str]) -> dict | None:
    """The recipe the runs trained (each JSON's "recipe", seed left out); the runs must agree on it."""
    recipes = [{k: v for k, v in (d.get("recipe") or {}).items() if k != "seed"} for d in data]
    for name, other in zip(names[1:], recipes[1:]):
        if other != recipes[0]:
            differ = sorted(k for k in set(other) | set(recipes[0]) if other.get(k) != recipes[0].get(k))
            sys.exit(
                f"{names[0]} and {name} trained different recipes ({', '.join(differ)} differ): one summary "
                "needs runs of one recipe; move the odd runs away or pass another --out"
            )
    return recipes[0] or None


#: how the README's "Time to 99.5%" table names the frameworks
LABELS = {"vgglib": "vgglib", "torch": "PyTorch reference"}
#: issue 16's bar: at least this many seeds, their mean test accuracy, each seed's, and minutes of training a run
GOAL = {"seeds": 3, "mean": 0.995, "each": 0.994, "minutes": 30.0}


def finished_runs(out: Path, framework: str, recipe: str) -> dict[str, dict]:
    """{file name: JSON} of the finished runs of ``framework`` in ``out``, in file-name order."""
    runs = {p.name: _finished_run(p) for p in sorted(out.glob(f"{framework}-{recipe}-seed*.json"))}
    return {name: data for name, data in runs.items() if data is not None}


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def table_row(framework: str, runs: list[dict]) -> str:
    """The README table's row for one framework's runs of one recipe: epochs, framework, seeds, test accuracy
    (mean ± std, min), training time (mean ± std), process wall time (mean) and peak RSS (max)."""
    acc = [r["test"]["accuracy"] for r in runs]
    secs = [r["history"]["elapsed"] for r in runs]
    wall = [r["process"]["wall_s"] for r in runs]
    seeds = ", ".join(str(s) for s in sorted(r["recipe"]["seed"] for r in runs))
    return (
        f"| {runs[0]['recipe']['epochs']} | {LABELS[framework]} | {seeds} | "
        f"{100 * statistics.fmean(acc):.2f}% ± {100 * _std(acc):.2f} (min {100 * min(acc):.2f}%) | "
        f"{statistics.fmean(secs) / 60:.1f} ± {_std(secs) / 60:.1f} min | {statistics.fmean(wall) / 60:.1f} min | "
        f"{max(r['process']['peak_rss_mb'] for r in runs):.0f} MB |"
    )


def goal_reached(runs: list[dict]) -> bool:
    """Whether vgglib's runs of one recipe clear :data:`GOAL` (mean and each seed's test accuracy, minutes)."""
    acc = [r["test"]["accuracy"] for r in runs]
    return (
        len(runs) >= GOAL["seeds"]
        and round(statistics.fmean(acc), 6) >= GOAL["mean"]
        and round(min(acc), 6) >= GOAL["each"]
        and max(r["history"]["elapsed"] for r in runs) <= 60 * GOAL["minutes"]
    )


def print_table(out: Path, recipe: str) -> None:
    """The README rows for the runs in ``out``, the time ratio and whether vgglib's runs clear the bar."""
    runs = {fw: list(finished_runs(out, fw, recipe).values()) for fw in LABELS}
    for fw, data in runs.items():
        if data:
            print(table_row(fw, data))
    if runs["vgglib"] and runs["torch"]:
        ratio = statistics.fmean(r["history"]["elapsed"] for r in runs["vgglib"]) / statistics.fmean(
            r["history"]["elapsed"] for r in runs["torch"]
        )
        print(f"vgglib's training time / the PyTorch reference's: {ratio:.2f}")
    if runs["vgglib"]:
        print(f"goal {GOAL}: {'reached' if goal_reached(runs['vgglib']) else 'not reached'}")


def summarize(out: Path, recipe: str) -> dict:
    summary: dict = {"recipe": recipe, "frameworks": {}}
    for fw in LABELS:
        named = finished_runs(out, fw, recipe)
        if not named:
            continue
        runs, data = list(named), list(named.values())
        trained = common_recipe(data, runs)
        acc = [d["test"]["accuracy"] for d in data]
        wall = [d["history"]["elapsed"] for d in data]
        rss = [d["process"]["peak_rss_mb"] for d in data if "process" in d]

        def ms(v: list[float]) -> dict:
            return {"mean": statistics.fmean(v), "std": _std(v), "values": v}

        summary["frameworks"][fw] = {
            "runs": runs,
            "recipe": trained,  # the fields the runs trained with (overrides included), seed left out
            "test_accuracy": ms(acc),
            "training_seconds": ms(wall),
            "peak_rss_mb": ms(rss) if rss else None,
            "time_split": mean_split([d["history"] for d in data]),
        }
        a, w = summary["frameworks"][fw]["test_accuracy"], summary["frameworks"][fw]["training_seconds"]
        split = summary["frameworks"][fw]["time_split"]
        print(
            f"{fw:7}: {len(runs)} seeds, test accuracy {100 * a['mean']:.2f}% ± {100 * a['std']:.2f} "
            f"(min {100 * min(acc):.2f}%), training {w['mean'] / 60:.1f} ± {w['std'] / 60:.1f} min; "
            + ", ".join(f"{part} {100 * share:.0f}%" for part, share in split.items())
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out) if args.out else default_out(args.recipe, args.extra)
    if args.table:
        print_table(out, args.recipe)
        return
    out.mkdir(parents=True, exist_ok=True)
    env = child_env(args.threads)
    data = ["--data-dir", args.data_dir] if args.data_dir else []
    for seed in [] if args.summary_only else args.seeds:
        for fw in args.frameworks:
            path = out / f"{fw}-{args.recipe}-seed{seed}.json"
            if finished(path):
                print(f"{path.name} is a finished run: skipped", flush=True)
                continue
            if fw == "vgglib":
                ckpt = ROOT / "runs" / f"tta-{args.recipe}-seed{seed}.npz"
                cmd = [sys.executable, "-m", "vgglib", "train", "--recipe", args.recipe, "--data", "full", *data,
                       "--seed", str(seed), "--no-progress", "--out", str(ckpt), "--log", str(path)]  # fmt: skip
                if ckpt.exists():
                    cmd.append("--resume")
            else:
                cmd = [sys.executable, str(HERE / "torch_recipe.py"), "--recipe", args.recipe, *data,
                       "--seed", str(seed), "--threads", str(args.threads), "--json", str(path)]  # fmt: skip
            run_json(path, cmd + args.extra, env)
    summarize(out, args.recipe)


if __name__ == "__main__":
    main()
