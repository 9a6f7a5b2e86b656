"""Plots for the notebooks: image grids, training curves, confusion matrices, misclassified digits, feature maps.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` (curves, confusion matrix, gallery),
``notebooks/12_data_augmentation.ipynb`` (image grids) and ``notebooks/13_feature_maps.ipynb`` (feature maps,
filters); the widgets in :mod:`vgglib.widgets` draw with the same functions.

Every ``plot_*``/``show_*`` function takes an optional matplotlib ``ax`` (or ``fig``) and returns the Figure;
without one it makes a new pyplot figure, so a notebook cell ends with ``plt.show()``. The widgets pass axes of
a standalone :class:`matplotlib.figure.Figure` (not pyplot: no duplicate inline plot) and turn it into PNG bytes
with :func:`figure_to_png`.

Every function labels what it draws: x and y labels on axes whose positions mean something, a title on every
image panel. All of them use the one colour scheme defined below (digit colours, the image and signed colour
maps, the colour of a mistake).

Why one module: every function is a short matplotlib recipe sharing the same axes/figure helpers; splitting
them would only scatter the helpers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .checks import check_class_ids
from .metrics import confusion_matrix  # the numpy implementation; re-exported here for the notebooks

__all__ = [
    "DIGIT_COLORS",
    "IMAGE_CMAP",
    "SIGNED_CMAP",
    "WRONG_COLOR",
    "digit_color",
    "figure_to_png",
    "new_figure",
    "tile",
    "show_images",
    "plot_history",
    "plot_training",
    "confusion_matrix",
    "plot_confusion_matrix",
    "misclassified",
    "show_misclassified",
    "show_feature_maps",
    "scale_feature_maps",
    "show_filters",
    "plot_probabilities",
]


# ------------------------------------------------------------------------------------------- one colour scheme
#: every notebook colours digit (class) d with DIGIT_COLORS[d]: matplotlib's tab10, the same in every figure
DIGIT_COLORS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
#: images (digits, feature maps of one sign) are drawn in grey: 0 black, the largest value white
IMAGE_CMAP = "gray"
#: signed values (kernels, gradients, differences) on one symmetric scale: red positive, blue negative, white 0
SIGNED_CMAP = "RdBu_r"
#: a wrong prediction, a failed check
WRONG_COLOR = "crimson"
#: the gaps between the panels of a grey mosaic (white would look like the largest value)
_GAP_COLOR = "lightsteelblue"


def digit_color(digit: int) -> str:
    """The colour of digit (class) 0..9 in every figure of the series."""
    d = int(digit)
    if not 0 <= d <= 9:
        raise ValueError(f"digit_color: expected a digit 0..9, got {digit!r}")
    return DIGIT_COLORS[d]


# ------------------------------------------------------------------------------------------- rendering


def new_figure(figsize: tuple[float, float] = (6.0, 4.0), dpi: int = 80):
    """A standalone Agg :class:`~matplotlib.figure.Figure` (never shown inline; for widgets)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig, dpi: int | None = None) -> bytes:
    """Render a matplotlib Figure to PNG bytes (deterministic: no timestamp or version in the metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


# ------------------------------------------------------------------------------------------- images


def _as_stack(images: np.ndarray, where: str) -> np.ndarray:
    """(N, H, W), (N, 1, H, W) or (H, W) -> (N, H, W) float64."""
    x = np.asarray(images)
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"{where}: expected single-channel images (N, 1, H, W), got shape {x.shape}")
        x = x[:, 0]
    elif x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"{where}: expected images (N, H, W) or (N, 1, H, W), got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{where}: expected numeric images, got dtype {x.dtype}")
    return x.astype(np.float64)


def tile(
    images: np.ndarray,
    ncols: int | None = None,
    pad: int = 1,
    normalize: str | None = "each",
    pad_value: float = np.nan,
) -> np.ndarray:
    """Lay out N images (N, H, W) as one 2-D mosaic of ``ceil(N / ncols)`` rows, ``pad`` pixels apart.

    ``normalize="each"`` scales every image to [0, 1] on its own (feature maps: each channel has its own
    range), ``"all"`` one scale for all, ``None`` leaves values alone. Gaps are ``pad_value`` (NaN draws as
    the colormap's "bad" colour). Returns an array of shape (rows·(H+pad)-pad, ncols·(W+pad)-pad).
    """
    x = _as_stack(images, "tile")
    n, h, w = x.shape
    if n == 0:
        raise ValueError("tile: no images to lay out (N = 0)")
    if normalize not in ("each", "all", None):
        raise ValueError(f"tile: normalize must be 'each', 'all' or None, got {normalize!r}")
    if normalize == "each":
        lo = x.min(axis=(1, 2), keepdims=True)
        span = x.max(axis=(1, 2), keepdims=True) - lo
        x = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1), 0.0)
    elif normalize == "all":
        lo, span = x.min(), x.max() - x.min()
        x = (x - lo) / span if span > 0 else np.zeros_like(x)
    ncols = int(np.ceil(np.sqrt(n))) if ncols is None else max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = x[i]
    return out


def show_images(
    images: np.ndarray,
    labels: Sequence[Any] | None = None,
    predictions: Sequence[Any] | None = None,
    ncols: int = 10,
    title: str | None = None,
    cmap: str = IMAGE_CMAP,
    fig=None,
    size: float = 1.0,
    titles: Sequence[str] | None = None,
):
    """A grid of images, each panel titled. Returns the Figure.

    ``images`` (N, H, W) or (N, 1, H, W). Each image gets its own subplot, titled by ``titles`` (one string per
    image), else by its label (``label→prediction`` with ``predictions``, in :data:`WRONG_COLOR` where they
    differ), else by its index ``#i``. ``fig`` draws into an existing figure.
    """
    x = _as_stack(images, "show_images")
    n = len(x)
    for name, seq in (("labels", labels), ("predictions", predictions), ("titles", titles)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"show_images: got {len(seq)} {name} for {n} images")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(size * ncols, size * nrows * 1.25))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(x[i], cmap=cmap)
        text, color = f"#{i}", "black"
        if titles is not None:
            text = f"{titles[i]}"
        elif labels is not None:
            text = f"{labels[i]}"
            if predictions is not None:
                text = f"{labels[i]}→{predictions[i]}"
                color = "black" if predictions[i] == labels[i] else WRONG_COLOR
        ax.set_title(text, fontsize=9, color=color, pad=2)
    if title:
        fig.suptitle(title)
    return fig


# ------------------------------------------------------------------------------------------- curves


def plot_history(history: Mapping[str, Sequence[float]], ax=None, x_key: str | None = None, title: str | None = None):
    """Loss (left axis) and accuracy (right axis) curves from a training history dict of lists.

    Keys containing ``"loss"`` go on the left axis, keys containing ``"acc"`` on the right, solid for training
    and dashed for ``val_*``. ``x_key`` (e.g. ``"epoch"``) gives the x values; else 1, 2, 3, …
    Returns the Figure.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"plot_history: expected a dict of lists, got {type(history).__name__}")
    series = {}
    for k, v in history.items():
        if (
            k == x_key
            or k == "batch_loss"
            or not ("loss" in k or "acc" in k)
            or not isinstance(v, (list, tuple, np.ndarray))
        ):
            continue
        values = _floats(v)
        if values.ndim == 1 and np.isfinite(values).any():
            series[k] = values
    if not series:
        raise ValueError(f"plot_history: no loss or accuracy series in history (keys: {sorted(history)})")
    fig, ax = _axes(ax, (6.0, 3.2))
    ax2 = ax.twinx()
    colors = {"loss": "tab:blue", "acc": "tab:orange"}
    for key, values in series.items():
        xs = np.asarray(history[x_key], dtype=np.float64) if x_key else np.arange(1, len(values) + 1)
        target, kind = (ax, "loss") if "loss" in key else (ax2, "acc")
        style = "--" if key.startswith("val") else "-"
        target.plot(
            xs[: len(values)], values, style, color=colors[kind], marker="." if len(values) < 30 else None, label=key
        )
    ax.set_xlabel(x_key or "epoch")
    ax.set_ylabel("loss", color=colors["loss"])
    ax2.set_ylabel("accuracy", color=colors["acc"])
    ax2.set_ylim(0, 1.02)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="center right", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A list with possible None entries (e.g. ``val_loss`` without validation data) -> float array with NaN."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _moving_average(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or len(x) < 2:
        return x
    k = min(k, len(x))
    c = np.cumsum(np.insert(x, 0, 0.0))
    head = c[1:k] / np.arange(1, k)  # a shorter window at the start
    return np.concatenate([head, (c[k:] - c[:-k]) / k])


def plot_training(history: Mapping[str, Any], fig=None, title: str | None = None, smooth: int | None = None):
    """Two panels from a :func:`vgglib.train.fit` history: the loss of every batch (light; a moving average of
    ``smooth`` batches dark — default a tenth of an epoch, at least 5; per-epoch train/validation loss as dots)
    against epochs, and per-epoch accuracy.

    Works on a partial history, so it also draws live curves during training (:class:`vgglib.widgets.LiveCurves`).
    Returns the Figure.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"plot_training: expected a history dict, got {type(history).__name__}")
    batch = _floats(history.get("batch_loss") or [])
    epochs = _floats(history.get("epoch") or [])
    if batch.size == 0 and epochs.size == 0:
        raise ValueError("plot_training: the history has no batch_loss and no epochs yet")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(9.0, 3.0))
    ax1, ax2 = fig.subplots(1, 2)
    nb = history.get("batches_per_epoch") or (history.get("position") or {}).get("batches") or max(len(batch), 1)
    if smooth is None:
        smooth = max(5, int(nb) // 10)
    if batch.size:
        xs = np.arange(1, len(batch) + 1) / nb
        ax1.plot(xs, batch, color="tab:blue", alpha=0.25, lw=0.8)
        ax1.plot(xs, _moving_average(batch, smooth), color="tab:blue", lw=1.5, label="batch loss (avg)")
    for key, color in (("train_loss", "tab:blue"), ("val_loss", "tab:orange")):
        values = _floats(history.get(key) or [])
        if values.size and np.isfinite(values).any():
            ax1.plot(epochs[: len(values)], values, "o--", color=color, ms=5, lw=1, label=key)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.set_ylim(bottom=0)
    ax1.legend(fontsize=8)
    for key, color in (("train_accuracy", "tab:blue"), ("val_accuracy", "tab:orange")):
        values = _floats(history.get(key) or [])
        if values.size and np.isfinite(values).any():
            ax2.plot(epochs[: len(values)], 100 * values, "o-", color=color, ms=5, label=key)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.set_ylim(0, 100)
    if ax2.get_lines():
        ax2.legend(fontsize=8, loc="lower right")
        ax2.set_xlim(0.5, max(epochs.max() if epochs.size else 1, 1) + 0.5)
    else:
        ax2.text(0.5, 0.5, "after the first epoch", ha="center", va="center", transform=ax2.transAxes, color="0.5")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# ------------------------------------------------------------------------------------------- evaluation


def plot_confusion_matrix(cm: np.ndarray, class_names: Sequence[str] | None = None, ax=None, title: str | None = None):
    """Draw a confusion matrix (rows: true class, columns: predicted), counts written in the cells."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square (C, C) matrix, got shape {cm.shape}")
    c = cm.shape[0]
    names = [str(i) for i in range(c)] if class_names is None else list(class_names)
    fig, ax = _axes(ax, (4.6, 4.2))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(c), names)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = cm.max() if cm.size else 0
    for i in range(c):
        for j in range(c):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if cm[i, j] > top / 2 else "black",
                )
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"accuracy {100 * acc:.1f}% of {cm.sum()}")
    return fig


def misclassified(y_true: Any, y_pred: Any, probs: np.ndarray | None = None) -> np.ndarray:
    """Indices of the wrong predictions, most confident mistakes first when ``probs`` (N, C) is given."""
    t, p = check_class_ids(y_true, "misclassified y_true"), check_class_ids(y_pred, "misclassified y_pred")
    if t.shape != p.shape:
        raise ValueError(f"misclassified: y_true has {t.shape[0]} labels, y_pred {p.shape[0]}")
    wrong = np.flatnonzero(t != p)
    if probs is not None:
        probs = np.asarray(probs)
        if probs.ndim != 2 or probs.shape[0] != t.shape[0]:
            raise ValueError(f"misclassified: probs must be (N, C) with N = {t.shape[0]}, got {probs.shape}")
        wrong = wrong[np.argsort(-probs[wrong, p[wrong]], kind="stable")]
    return wrong


def show_misclassified(
    images: np.ndarray,
    y_true: Any,
    y_pred: Any,
    probs: np.ndarray | None = None,
    max_images: int = 20,
    ncols: int = 10,
    fig=None,
):
    """Gallery of misclassified images titled ``true→predicted`` (and the confidence), worst first."""
    idx = misclassified(y_true, y_pred, probs)[:max_images]
    x = _as_stack(images, "show_misclassified")
    if len(idx) == 0:
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(3, 1))
        fig.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        return fig
    t, p = np.asarray(y_true), np.asarray(y_pred)
    fig = show_images(
        x[idx], labels=[int(v) for v in t[idx]], predictions=[int(v) for v in p[idx]], ncols=ncols, fig=fig
    )
    if probs is not None:
        for ax, i in zip(fig.axes, idx):
            ax.set_title(f"{t[i]}→{p[i]} {100 * probs[i, p[i]]:.0f}%", fontsize=8, color=WRONG_COLOR, pad=2)
    return fig


# ------------------------------------------------------------------------------------------- inside the network


def scale_feature_maps(maps: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Maps (C, H, W) -> values in [0, 1] on one fixed scale per channel: ``scale`` (C, 2) holds each channel's
    (lo, hi); a value is drawn at ``(v - lo) / (hi - lo)``, clipped (0 where ``hi == lo``). With a scale shared by
    many images (e.g. each channel's range over a set of digits), the same channel looks the same wherever its
    values are the same, and a constant map is drawn at its value, not at the bottom of its own range."""
    m = np.asarray(maps, dtype=np.float64)
    sc = np.asarray(scale, dtype=np.float64)
    if m.ndim != 3 or sc.shape != (m.shape[0], 2):
        raise ValueError(f"scale_feature_maps: expected maps (C, H, W) and scale (C, 2), got {m.shape} and {sc.shape}")
    lo, span = sc[:, :1, None], (sc[:, 1] - sc[:, 0])[:, None, None]
    return np.where(span > 0, np.clip((m - lo) / np.where(span > 0, span, 1.0), 0.0, 1.0), 0.0)


def show_feature_maps(
    maps: np.ndarray,
    ncols: int | None = None,
    title: str | None = None,
    ax=None,
    cmap: str = IMAGE_CMAP,
    first_channel: int = 0,
    scale: np.ndarray | None = None,
):
    """One sample's feature maps (C, H, W) as a mosaic, titled (by default: which channels, what size).

    Drawn in :data:`IMAGE_CMAP`, like images (the maps after a ReLU are of one sign); pass ``cmap`` for others.

    ``scale=None``: each channel scaled to its own range. ``scale`` (C, 2): each channel drawn on its fixed
    (lo, hi) range (:func:`scale_feature_maps`), every panel labelled with its channel number and that range,
    and maps of a single pixel also with their value.
    """
    m = np.asarray(maps)
    if m.ndim != 3:
        raise ValueError(f"show_feature_maps: expected one sample's maps (C, H, W), got shape {m.shape}")
    fig, ax = _axes(ax, (5.0, 5.0))
    import matplotlib as mpl

    cm = mpl.colormaps[cmap].with_extremes(bad=_GAP_COLOR if cmap == IMAGE_CMAP else "white")
    if scale is None:
        mosaic = tile(m, ncols=ncols, pad=max(1, m.shape[-1] // 16))
        ax.imshow(mosaic, cmap=cm, vmin=0, vmax=1, interpolation="nearest")
    else:
        c, h, w = m.shape
        sc = np.asarray(scale, dtype=np.float64)
        drawn = scale_feature_maps(m, sc)
        pad = max(1, int(np.ceil(0.45 * h)))  # room under each panel for its label
        ncols = int(np.ceil(np.sqrt(c))) if ncols is None else max(1, min(int(ncols), c))
        mosaic = tile(drawn, ncols=ncols, pad=pad, normalize=None)
        ax.imshow(mosaic, cmap=cm, vmin=0, vmax=1, interpolation="nearest")
        ax.set_ylim(-(-c // ncols) * (h + pad) - 0.5, -0.5)  # keep the gap under the last row (for its labels)
        size = 7 if ncols > 2 else 8
        for k in range(c):
            r, col = divmod(k, ncols)
            x0, y0 = col * (w + pad), r * (h + pad)
            ax.text(
                x0 + (w - 1) / 2,
                y0 + h - 0.5 + pad / 2,
                f"{first_channel + k}: {sc[k, 0]:.2g}…{sc[k, 1]:.2g}",
                ha="center",
                va="center",
                fontsize=size,
            )
            if h * w == 1:
                ax.text(
                    x0,
                    y0,
                    f"{float(m[k, 0, 0]):.2g}",
                    ha="center",
                    va="center",
                    fontsize=size + 1,
                    color="white" if drawn[k, 0, 0] < 0.6 else "black",
                )
    ax.axis("off")
    if title is None:
        last = first_channel + m.shape[0] - 1
        title = f"channels {first_channel}–{last} of {m.shape[1]}×{m.shape[2]}"
    ax.set_title(title, fontsize=10)
    return fig


def show_filters(weights: np.ndarray, ax=None, title: str | None = None, max_filters: int = 64):
    """First-layer filters (F, 1, k, k) or (F, k, k) as a titled mosaic in :data:`SIGNED_CMAP`, on one symmetric
    colour scale (red +, blue −, white 0)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 4:
        if w.shape[1] != 1:
            w = w.mean(axis=1)  # several input channels: show their mean
        else:
            w = w[:, 0]
    if w.ndim != 3:
        raise ValueError(f"show_filters: expected weights (F, C, k, k) or (F, k, k), got shape {w.shape}")
    w = w[:max_filters]
    fig, ax = _axes(ax, (4.0, 4.0))
    top = float(np.abs(w).max()) or 1.0
    mosaic = tile(w, pad=1, normalize=None)
    import matplotlib as mpl

    cm = mpl.colormaps[SIGNED_CMAP].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cm, vmin=-top, vmax=top, interpolation="nearest")
    ax.axis("off")
    ax.set_title(title or f"{w.shape[0]} filters {w.shape[1]}×{w.shape[2]}", fontsize=10)
    return fig


def plot_probabilities(
    probs: ArrayLike | Mapping[str, ArrayLike],
    label: int | None = None,
    ax=None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
):
    """Bar chart of class probabilities; a dict draws several series side by side. ``label`` is marked.

    One series: each class's bar in its digit colour (:func:`digit_color`, up to 10 classes). Several: one colour
    per series, with a legend. The true ``label``: its tick bold, its bars outlined. Returns the Figure.
    """
    given = dict(probs) if isinstance(probs, Mapping) else {"p": probs}
    series = {k: np.asarray(v, dtype=np.float64) for k, v in given.items()}
    c = len(next(iter(series.values())))
    if any(v.shape != (c,) for v in series.values()):
        raise ValueError("plot_probabilities: every series must be a 1-D array of the same length")
    fig, ax = _axes(ax, (4.0, 2.5))
    width = 0.8 / len(series)
    for i, (name, v) in enumerate(series.items()):
        colors = {"color": list(DIGIT_COLORS[:c])} if len(series) == 1 and c <= len(DIGIT_COLORS) else {}
        bars = ax.bar(np.arange(c) + (i - (len(series) - 1) / 2) * width, v, width, label=name, **colors)
        if label is not None:
            bars[int(label)].set_edgecolor("black")
            bars[int(label)].set_linewidth(1.5)
    names = [str(i) for i in range(c)] if class_names is None else list(class_names)
    ax.set_xticks(range(c), names)
    ax.set_ylim(0, 1)
    ax.set_xlabel("class" if class_names is not None else "digit", fontsize=8)
    ax.set_ylabel("probability", fontsize=8)
    if label is not None:
        ax.get_xticklabels()[int(label)].set_fontweight("bold")
        ax.set_xlabel(f"{ax.get_xlabel()} (true: {names[int(label)]})", fontsize=8)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
