#!/usr/bin/env python3
"""vgglib's numpy VGG16 against PyTorch on the same CPU: same model, shapes, dtype (float32) and thread count.

From the repository root::

    python3 -m venv .venv && .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_vgg16.py          # full run, a few minutes; JSON -> results/benchmark/
    .venv/bin/python benchmarks/bench_vgg16.py --smoke  # seconds: width 1/16, one repetition, PyTorch optional

In one process it times, with interleaved repetitions and medians: a training step (forward, softmax
cross-entropy, backward, plain SGD) and an inference batch of VGG16 at 64×64×1 and 32×32×1, batch 32, for
vgglib and PyTorch, plus a float32 GEMM to measure the machine's numpy peak. Peak RSS of each training run is
measured in separate processes. It also times the seed-style pixel-loop convolution on one layer
(extrapolated) for the speed-up ladder, and profiles where vgglib's training step spends its time.

The environment: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin OpenBLAS to older kernels on some machines; this
script removes them (and sets the thread count) in its own process before numpy is imported, then prints the
BLAS kernel that threadpoolctl reports. Results are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import sys

from torch_twin import (  # benchmarks/torch_twin.py
    PINNING_VARS,
    THREAD_VARS,
    clean_environment,
    time_interleaved,
    torch_model,
)


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run for CI: width 1/16, batch 4, one repetition, PyTorch only if installed",
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 32], help="input sizes (default 64 32)")
    ap.add_argument("--batch", type=int, default=None, help="batch size (default 32; smoke 4)")
    ap.add_argument("--width", type=float, default=None, help="VGG16 channel multiplier (default 1; smoke 1/16)")
    ap.add_argument("--threads", type=int, default=2, help="threads for numpy's BLAS and for PyTorch (default 2)")
    ap.add_argument("--reps", type=int, default=None, help="timed repetitions of each task (default 5; smoke 1)")
    ap.add_argument(
        "--no-recipe",
        action="store_true",
        help="skip the rows of the model students train (recipe mnist-vgg16's width, input size and batch)",
    )
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument(
        "--json", default=None, help="where to write the JSON (default results/benchmark/bench_vgg16.json; smoke: none)"
    )
    ap.add_argument("--child", choices=["rss"], help=argparse.SUPPRESS)
    ap.add_argument("--child-key", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--framework", choices=["vgglib", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.smoke:
        args.batch = args.batch or 4
        args.width = args.width or 1 / 16
        args.reps = args.reps or 1
    args.batch = args.batch or 32
    args.width = args.width or 1.0
    args.reps = args.reps or 5
    for name in ("batch", "threads", "reps"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1")
    if any(s < 32 or s % 32 for s in args.sizes):
        ap.error("--sizes must be multiples of 32 (VGG16 halves the size five times)")
    return args


ARGS = _parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    clean_environment(ARGS.threads)

# -- only now numpy and friends ------------------------------------------------------------------------------
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import vgglib.fast  # noqa: E402
from vgglib import reference  # noqa: E402
from vgglib.fast import BatchSplit, Convolution2D  # noqa: E402
from vgglib.losses import softmax_cross_entropy  # noqa: E402
from vgglib.model import VGG16  # noqa: E402
from vgglib.optim import SGD  # noqa: E402
from vgglib.summarize import summary  # noqa: E402

LR = 0.01
#: the recipe of the stored full run (results/mnist-vgg16/): the model students train to 99.5%
FULL_RUN_RECIPE = "mnist-vgg16"


# ---------------------------------------------------------------------------------------------------------
# Machine and library information
# ---------------------------------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict[str, str]]:
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "num_threads", "architecture", "version", "prefix")
    return [{k: str(d.get(k)) for k in keep} for d in threadpool_info()]


def cpu_pressure_total() -> float | None:
    """Microseconds that runnable tasks have waited for a CPU since boot (Linux PSI), or None."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return float(line.split("total=")[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def machine_info(threads: int, with_torch: bool) -> dict:
    info = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": threads,
        "env_removed": list(PINNING_VARS),
        "env": {k: os.environ.get(k) for k in (*PINNING_VARS, *THREAD_VARS)},
    }
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    if with_torch:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    info["blas"] = blas_info()
    return info


# ---------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------
def macs_per_image(size: int, width: float) -> int:
    """Multiply-adds of one forward pass (conv Ho·Wo·F·C·k·k, FC in·out), from :func:`vgglib.summarize.summary`."""
    return summary(VGG16.spec(1, 10, size, width), print_table=False).total_macs


def configs(args: argparse.Namespace) -> list[dict]:
    """The models timed: VGG16 at ``--width``/``--batch`` for each of ``--sizes`` (key: the size), then the model
    the full-MNIST recipe trains (key ``"recipe"``: its input size, width and batch) unless ``--no-recipe``."""
    out = [
        {"key": str(s), "model": f"VGG16 width {args.width:g}", "size": s, "width": args.width, "batch": args.batch}
        for s in args.sizes
    ]
    if not args.no_recipe:
        from vgglib.recipes import get_recipe

        r = get_recipe(FULL_RUN_RECIPE)
        out.append(
            {
                "key": "recipe",
                "model": f"recipe {r.name} (width {r.width:g})",
                "size": r.input_size,
                "width": r.width,
                "batch": r.batch_size,
            }
        )
    return out


def vgglib_model(size: int, width: float) -> VGG16:
    return VGG16(1, 10, size, width=width, dropout=0.5, rng=np.random.default_rng(0))


class VgglibRunner:
    def __init__(self, size: int, width: float, batch: int) -> None:
        self.model = vgglib_model(size, width)
        self.net = BatchSplit(self.model)  # as vgglib.fit trains: the batch split over the worker threads
        self.optimizer = SGD(LR)
        rng = np.random.default_rng(1)
        self.x = rng.standard_normal((batch, 1, size, size)).astype(np.float32)
        self.y = rng.integers(0, 10, batch)

    def train_step(self) -> float:
        logits = self.net.forward(self.x, training=True)
        loss, dlogits = softmax_cross_entropy(logits, self.y)
        self.net.backward(dlogits, input_grad=False)  # like PyTorch: x needs no grad
        self.optimizer.step(self.model)
        return loss

    def infer(self) -> np.ndarray:
        return self.net.forward(self.x, training=False)

    def infer_after_update(self) -> np.ndarray:
        """Inference as the first batch after the weights changed: the transformed weights that vgglib keeps
        between inference batches (``vgglib.fast.WeightCache``, in the model's layers and in the batch split's
        replicas) are dropped first, as a training step does."""
        for layer in [*self.model.layers, *(layer for replica in self.net.replicas for layer in replica)]:
            cache = getattr(layer, "_weight_cache", None)
            if cache is not None:
                cache.clear()
        return self.infer()


class TorchRunner:
    def __init__(self, vg: VgglibRunner) -> None:
        import torch

        self.torch = torch
        self.model = torch_model(vg.model)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.loss = torch.nn.CrossEntropyLoss()
        self.x = torch.from_numpy(vg.x.copy())
        self.y = torch.from_numpy(vg.y.copy())

    def train_step(self) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def infer(self) -> np.ndarray:
        self.model.eval()
        with self.torch.inference_mode():
            return self.model(self.x).numpy()


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------
def gemm_task(n: int):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    return lambda: np.matmul(a, b, out=out)


def ladder(size: int, width: float, batch: int, with_torch: bool, reps: int) -> dict:
    """One conv layer (conv1_2: C = F = 64·width, size×size, 3×3, pad 1), forward time per image."""
    c = max(1, int(round(64 * width)))
    rng = np.random.default_rng(3)
    layer = Convolution2D(c, c, 3, padding=1, rng=rng)
    x = rng.standard_normal((batch, c, size, size)).astype(np.float32)
    w, b = layer.params["weights"], layer.params["bias"]
    # seed-style pixel loops on a slice: 1 image, `fo` filters, the first rows + 1 input rows (padding 1: as many
    # output rows); extrapolate to one image from the output rows the slice actually covers
    fo, rows = min(2, c), min(2, size)
    t0 = time.perf_counter()
    y_slice = reference.conv2d_forward_naive(x[:1, :, : rows + 1], w[:fo], b[:fo], 1, 1)
    naive = (time.perf_counter() - t0) * (c / fo) * (size / y_slice.shape[2])
    result = {"layer": f"conv 3x3 {c}->{c} at {size}x{size}", "naive_loops_s_per_image": naive}

    readable = vgglib.fast.to_reference(layer)  # vgglib.layers.Convolution2D, the same weights
    tasks = {"readable": lambda: readable.forward(x), "fast": lambda: layer.forward(x)}
    if with_torch:
        import torch

        conv = torch.nn.Conv2d(c, c, 3, padding=1)
        xt = torch.from_numpy(x)

        def torch_fwd():
            with torch.inference_mode():
                conv(xt)

        tasks["torch"] = torch_fwd
    times = time_interleaved(tasks, max(1, min(reps, 3)))
    for name, ts in times.items():
        result[f"{name}_s_per_image"] = float(np.median(ts)) / batch
    layer.forward(x)
    result["fast_method"] = layer._fast_cache.method
    result["macs_per_image"] = size * size * c * c * 9
    return result


def profile_step(runner: VgglibRunner, steps: int = 2) -> dict:
    """Time every layer's forward and backward in a training step, grouped by layer type. With the batch split
    over the workers (``BatchSplit``, as ``fit`` trains) each shard's layers run side by side: a layer's time is
    then its median per shard."""
    model = runner.model
    runner.train_step()  # builds the shards' replicas of the layers
    layers_timed = [*model.layers, *(layer for replica in runner.net.replicas for layer in replica)]
    per_layer: dict[str, list[float]] = {}

    def wrap(layer, method):
        original = getattr(layer, method)

        def timed(*a, **k):
            t0 = time.perf_counter()
            out = original(*a, **k)
            per_layer.setdefault(f"{layer.name}|{type(layer).__name__}|{method}", []).append(time.perf_counter() - t0)
            return out

        setattr(layer, method, timed)

    for layer in layers_timed:
        wrap(layer, "forward")
        wrap(layer, "backward")
    try:
        runner.train_step()
        per_layer.clear()
        t_total = []
        for _ in range(steps):
            t0 = time.perf_counter()
            runner.train_step()
            t_total.append(time.perf_counter() - t0)
    finally:
        for layer in layers_timed:
            del layer.forward, layer.backward
    total = float(np.median(t_total))
    layers = {key: float(np.median(ts)) for key, ts in per_layer.items()}
    groups: dict[str, float] = {}
    for key, t in layers.items():
        name, kind, method = key.split("|")
        kind = {"Maxpooling2D": "Pooling2D"}.get(kind, kind)
        groups[f"{kind} {method}"] = groups.get(f"{kind} {method}", 0.0) + t
    groups["loss + SGD + overhead"] = max(0.0, total - sum(layers.values()))
    top = sorted(((k.split("|")[0] + " " + k.split("|")[2], t) for k, t in layers.items()), key=lambda kv: -kv[1])
    return {"step_s": total, "by_type_s": groups, "top_layers_s": dict(top[:8])}


# ---------------------------------------------------------------------------------------------------------
# Peak RSS (separate processes)
# ---------------------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM on Linux (ru_maxrss there would include the RSS of the
    parent before exec), ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def rss_child(args: argparse.Namespace) -> None:
    """Child process: build one model, run three training steps, print the peak RSS as JSON."""
    size = args.sizes[0]  # the parent passes one config: --sizes S --width W --batch B
    if args.framework == "torch":
        import torch

        torch.set_num_threads(args.threads)
    base = peak_rss_mb()
    vg = VgglibRunner(size, args.width, args.batch)
    runner = vg if args.framework == "vgglib" else TorchRunner(vg)
    if args.framework == "torch":
        vg.model = None  # keep only PyTorch's copy of the weights
    for _ in range(3):
        runner.train_step()
    print(json.dumps({"peak_rss_mb": peak_rss_mb(), "after_imports_mb": base}))


def measure_rss(framework: str, cfg: dict, args: argparse.Namespace) -> dict:
    size = cfg["size"]
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "rss",
        "--framework",
        framework,
        "--sizes",
        str(size),
        "--batch",
        str(cfg["batch"]),
        "--width",
        repr(cfg["width"]),
        "--threads",
        str(args.threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), check=False)
    if out.returncode != 0:
        raise RuntimeError(f"peak-RSS child for {framework} {cfg['key']} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------
def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a results file is for everyone
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fmt_ms(s: float | None) -> str:
    return "—" if s is None else f"{s * 1e3:.0f} ms"


def _label(res: dict, key: str) -> str:
    """``"VGG16 width 1, 64×64×1, batch 32"`` for a config key (a size, or "recipe")."""
    cfg = next((c for c in res["config"].get("models", []) if c["key"] == key), None)
    if cfg is None:
        return f"{key}×{key}×1"
    return f"{cfg['model']}, {cfg['size']}×{cfg['size']}×1, batch {cfg['batch']}"


def print_table(res: dict) -> None:
    m = res["machine"]
    print(
        f"\n## VGG16, batch {res['config']['batch']}, float32, {m['threads']} threads — {m['date'][:10]}, "
        f"{m['cpu']}, {m['logical_cpus']} logical CPUs"
    )
    blas = "; ".join(
        f"{b['internal_api']} {b['version']} {b['architecture']} ({b['num_threads']} threads)"
        for b in m["blas"]
        if b["user_api"] == "blas"
    )
    print(f"numpy {m['numpy']} BLAS: {blas}; PyTorch {m.get('torch', 'not run')}")
    print(f"numpy float32 GEMM peak (measured): {res['gemm_peak_gflops']:.0f} GFLOP/s")
    if res.get("cpu_pressure") is not None:
        print(
            f"CPU pressure while timing: {100 * res['cpu_pressure']:.0f}% (share of the time some task waited "
            "for a CPU; near 0% = the machine to ourselves)"
        )
    print()
    print(
        "| model | input | batch | task | vgglib | PyTorch | vgglib / PyTorch | vgglib img/s | PyTorch img/s "
        "| vgglib GFLOP/s | % of GEMM peak |"
    )
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in res["rows"]:
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        timg = "—" if row["torch_img_s"] is None else f"{row['torch_img_s']:.1f}"
        print(
            f"| {row.get('model', 'VGG16')} | {row['size']}×{row['size']}×1 | {row.get('batch', '')} | "
            f"{row['task']} | {fmt_ms(row['vgglib_s'])} | "
            f"{fmt_ms(row['torch_s'])} | {ratio} | {row['vgglib_img_s']:.1f} | {timg} | "
            f"{row['vgglib_gflops']:.0f} | {row['pct_gemm_peak']:.0f}% |"
        )
    if res.get("rss"):
        print("\n| model | peak RSS, training: vgglib | PyTorch | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for size, r in res["rss"].items():
            t = r.get("torch")
            ratio = "—" if t is None else f"{r['vgglib']['peak_rss_mb'] / t['peak_rss_mb']:.2f}×"
            tt = "—" if t is None else f"{t['peak_rss_mb']:.0f} MB"
            print(f"| {_label(res, size)} | {r['vgglib']['peak_rss_mb']:.0f} MB | {tt} | {ratio} |")
    lad = res["ladder"]
    print(f"\nSpeed-up ladder, forward of one layer ({lad['layer']}), per image:")
    print("| implementation | time per image | vs pixel loops |")
    print("| --- | ---: | ---: |")
    rows = [
        ("seed-style pixel loops (extrapolated)", lad["naive_loops_s_per_image"]),
        ("vgglib readable (im2col NCHW + matmul)", lad["readable_s_per_image"]),
        (f"vgglib fast ({lad.get('fast_method', 'fast path')})", lad["fast_s_per_image"]),
    ]
    if "torch_s_per_image" in lad:
        rows.append(("PyTorch conv2d", lad["torch_s_per_image"]))
    for name, t in rows:
        shown = f"{t:.1f} s" if t >= 1 else f"{t * 1e3:.2f} ms"
        print(f"| {name} | {shown} | {lad['naive_loops_s_per_image'] / t:,.0f}× |")
    for size, prof in res["profile"].items():
        print(
            f"\nWhere vgglib's training step goes, {_label(res, size)} "
            f"(one profiled step: {prof['step_s'] * 1e3:.0f} ms):"
        )
        print("| layer type | time | share |")
        print("| --- | ---: | ---: |")
        for kind, t in sorted(prof["by_type_s"].items(), key=lambda kv: -kv[1]):
            print(f"| {kind} | {t * 1e3:.0f} ms | {100 * t / prof['step_s']:.0f}% |")
        print("slowest layers: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in prof["top_layers_s"].items()))


def run(args: argparse.Namespace) -> dict:
    with_torch = not args.no_torch and torch_available()
    if with_torch:
        import torch

        torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads, user_api="blas")
    machine = machine_info(args.threads, with_torch)
    print(
        f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, numpy {machine['numpy']}, "
        f"torch {machine.get('torch', 'not run')}; threads {args.threads}"
    )
    for b in machine["blas"]:
        print(
            f"threadpoolctl: {b['user_api']} {b['internal_api']} {b['version']} kernel={b['architecture']} "
            f"threads={b['num_threads']} ({b['prefix']})"
        )
    print(f"environment: {machine['env']}")

    tasks: dict[str, callable] = {}
    gemm_n = 256 if args.smoke else 2048
    tasks["gemm"] = gemm_task(gemm_n)
    models = configs(args)
    runners, checks = {}, {}
    for cfg in models:
        key, size, width, batch = cfg["key"], cfg["size"], cfg["width"], cfg["batch"]
        vg = VgglibRunner(size, width, batch)
        # inference runs on a model of its own, batch after batch with the same weights (like evaluating a test
        # set); "infer-cold", on a third, times the first batch after a weight update (infer_after_update)
        vgi, vgc = VgglibRunner(size, width, batch), VgglibRunner(size, width, batch)
        runners[key] = vg
        tasks[f"vgglib train {key}"] = vg.train_step
        tasks[f"vgglib infer {key}"] = vgi.infer
        tasks[f"vgglib infer-cold {key}"] = vgc.infer_after_update
        if with_torch:
            tr = TorchRunner(vg)
            ref, ours = tr.infer(), vgi.infer()
            checks[key] = float(np.abs(ref - ours).max() / (np.abs(ref).max() + 1e-30))
            agree = f"{checks[key]:.1e} (relative, max)"
            print(f"{cfg['model']}, {size}x{size}: vgglib and PyTorch logits agree to {agree}")
            tasks[f"torch train {key}"] = tr.train_step
            tasks[f"torch infer {key}"] = tr.infer
    print(f"timing {len(tasks)} tasks x {args.reps} interleaved repetitions (+1 warm-up) ...", flush=True)
    p0, t0 = cpu_pressure_total(), time.perf_counter()
    times = time_interleaved(tasks, args.reps)
    p1, t1 = cpu_pressure_total(), time.perf_counter()
    pressure = None if p0 is None or p1 is None else (p1 - p0) / 1e6 / (t1 - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    peak = 2 * gemm_n**3 / med["gemm"] / 1e9

    rows = []
    for cfg in models:
        key, size, batch = cfg["key"], cfg["size"], cfg["batch"]
        fwd = 2 * macs_per_image(size, cfg["width"])
        names = {"train": "training step", "infer": "inference", "infer-cold": "inference, first batch after an update"}
        for task, flops in (("train", 3 * fwd), ("infer", fwd), ("infer-cold", fwd)):
            v = med[f"vgglib {task} {key}"]
            t = med.get(f"torch {task.split('-')[0]} {key}")
            gflops = flops * batch / v / 1e9
            rows.append(
                {
                    "key": key,
                    "model": cfg["model"],
                    "size": size,
                    "width": cfg["width"],
                    "batch": batch,
                    "task": names[task],
                    "vgglib_s": v,
                    "torch_s": t,
                    "ratio": None if t is None else v / t,
                    "vgglib_img_s": batch / v,
                    "torch_img_s": None if t is None else batch / t,
                    "vgglib_gflops": gflops,
                    "pct_gemm_peak": 100 * gflops / peak,
                    "flops_per_image": flops,
                }
            )

    print("profiling one training step per model ...", flush=True)
    profile = {cfg["key"]: profile_step(runners[cfg["key"]]) for cfg in models}
    print("timing the speed-up ladder ...", flush=True)
    lad = ladder(args.sizes[0], args.width, args.batch, with_torch, args.reps)
    del runners, tasks
    rss = {}
    if not args.no_rss:
        print("measuring peak RSS in separate processes ...", flush=True)
        for cfg in models:
            rss[cfg["key"]] = {"vgglib": measure_rss("vgglib", cfg, args)}
            if with_torch:
                rss[cfg["key"]]["torch"] = measure_rss("torch", cfg, args)
    return {
        "machine": machine,
        "config": {
            "batch": args.batch,
            "width": args.width,
            "sizes": args.sizes,
            "models": models,
            "reps": args.reps,
            "dtype": "float32",
            "lr": LR,
            "smoke": args.smoke,
            "gemm_n": gemm_n,
            "flops_note": "training = 3 x forward FLOPs; forward = 2 x conv/FC multiply-adds",
        },
        "gemm_peak_gflops": peak,
        "cpu_pressure": pressure,
        "logits_max_rel_diff": checks,
        "rows": rows,
        "rss": rss,
        "ladder": lad,
        "profile": profile,
        "times_s": times,
    }


def main() -> None:
    args = ARGS
    if args.child == "rss":
        rss_child(args)
        return
    res = run(args)
    print_table(res)
    path = (
        args.json
        if args.json is not None
        else (None if args.smoke else str(ROOT / "results" / "benchmark" / "bench_vgg16.json"))
    )
    if path:
        write_json_atomic(Path(path), res)
        print(f"\nJSON written to {path}")


if __name__ == "__main__":
    main()
