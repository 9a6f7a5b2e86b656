"""Interactive explorers (ipywidgets 8): look inside the network while it runs.

* :func:`feature_map_explorer` — ``notebooks/13_feature_maps.ipynb``: a digit, a layer and a channel range;
  shows the input, that layer's feature maps, the first layer's 3×3 filters and the top predictions.
* :func:`drawing_pad` — ``notebooks/13_feature_maps.ipynb``: draw a digit with the mouse (ipycanvas); see the
  prediction, the class probabilities and the feature maps of your own digit. Its conversion of a drawing to an
  MNIST digit, :func:`canvas_to_mnist` (with :func:`strokes_to_image`), is plain numpy.
* :func:`dropout_explorer` — ``notebooks/10_dropout.ipynb``: a slider for p and a resample button; shows the
  mask over a layer's units, its effect on the activations and on the output probabilities.
* :func:`augmentation_explorer` — ``notebooks/12_data_augmentation.ipynb``: a slider per transform over a grid
  of digits.
* :func:`optimizer_explorer` — ``notebooks/11_optimizers_sgd_momentum_adam.ipynb``: SGD, momentum and Adam
  trajectories on a 2-D loss surface, with learning-rate and beta sliders.
* :func:`conv_playground` — ``notebooks/01_convolution.ipynb`` (optional there): a kernel, stride and padding
  applied to a digit.
* :class:`LiveCurves` — ``notebooks/09_training_vgg16_on_mnist.ipynb``: loss/accuracy curves redrawn during
  training (a callback for :func:`vgglib.train.fit`).

Every explorer is an :class:`Explorer`: a ``VBox`` whose ``controls`` and ``views`` dicts name its parts, so a
test (or a curious student) can set ``explorer.controls["layer"].value = "pool2"`` and look at
``explorer.views["feature_maps"].value`` (PNG bytes) or ``explorer.state`` (the numbers behind the picture).
Pictures are drawn with matplotlib on standalone figures (:func:`vgglib.viz.new_figure`) and shown in ``Image``
widgets, never through pyplot: no duplicate plots, and every redraw replaces the PNG in place.

Why one module: the seven explorers are thin and share the :class:`Explorer` shell and its helpers; a notebook
imports just the one it shows, and a test reaches every one the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import viz
from .callbacks import Callback
from .losses import softmax

__all__ = [
    "Explorer",
    "feature_map_explorer",
    "DrawingPad",
    "drawing_pad",
    "canvas_to_mnist",
    "strokes_to_image",
    "dropout_explorer",
    "augmentation_explorer",
    "optimizer_explorer",
    "conv_playground",
    "LiveCurves",
    "spatial_layers",
]


def _widgets():
    import ipywidgets

    return ipywidgets


# a base class from a call (ipywidgets, imported in _widgets, has no type stubs): mypy cannot check it
class Explorer(_widgets().VBox):  # type: ignore[misc]
    """A ``VBox`` with named parts: ``controls`` (sliders, buttons), ``views`` (Image/HTML widgets) and ``state``
    (the arrays behind the current picture). ``redraw()`` recomputes everything from the controls' values."""

    def __init__(
        self,
        children: Sequence[Any],
        controls: Mapping[str, Any],
        views: Mapping[str, Any],
        css_class: str,
        redraw: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(list(children), **kwargs)
        self.controls = dict(controls)
        self.views = dict(views)
        self.state: dict[str, Any] = {}
        self._redraw = redraw
        self.add_class("vgglib-explorer")
        self.add_class(css_class)

    def redraw(self) -> None:
        """Recompute and redraw from the current control values."""
        self._redraw()

    def __repr__(self) -> str:
        # short and deterministic (the text a notebook stores next to the live widget)
        kind = next((c for c in self._dom_classes if c != "vgglib-explorer"), "vgglib-explorer")
        return f"{kind.removeprefix('vgglib-')} (controls: {', '.join(self.controls)})"

    def png(self, view: str) -> bytes:
        """The PNG bytes an ``Image`` view currently shows."""
        return bytes(self.views[view].value)


def _image(css_class: str, width: str | None = None):
    w = _widgets()
    img = w.Image(format="png", layout=w.Layout(width=width) if width else w.Layout())
    img.add_class(css_class)
    return img


def _set_png(image, fig) -> None:
    image.value = viz.figure_to_png(fig)


def _layers(model: Any) -> list:
    layers = getattr(model, "layers", model)
    if not isinstance(layers, (list, tuple)) or not layers or not all(hasattr(lay, "forward") for lay in layers):
        raise TypeError(f"expected a vgglib model (with .layers) or a list of layers, got {type(model).__name__}")
    return list(layers)


def _prepare(model: Any, images: Any, where: str) -> np.ndarray:
    """Raw uint8 digits -> the model's input via ``model.prepare``; float arrays (N, C, H, W) are used as given."""
    x = np.asarray(images)
    if x.ndim == 4 and np.issubdtype(x.dtype, np.floating):
        return x
    if hasattr(model, "prepare"):
        return model.prepare(x)
    raise ValueError(f"{where}: expected prepared float images (N, C, H, W), got {x.dtype} {x.shape}")


def spatial_layers(model: Any, image_shape: Sequence[int]) -> list[str]:
    """Names of the layers whose output is a stack of feature maps (C, H, W) for inputs of ``image_shape``."""
    names, shape = [], tuple(image_shape)
    for layer in _layers(model):
        shape = tuple(layer.output_shape(shape))
        if len(shape) == 3:
            names.append(layer.name)
    return names


def _activations(layers: list, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's output for one input batch, inference mode (dropout off)."""
    out = {}
    for layer in layers:
        x = layer.forward(x, training=False)
        out[layer.name] = x
    return out


def _channel_scales(layers: list, x: np.ndarray, names: Sequence[str], batch: int = 32) -> dict[str, np.ndarray]:
    """For each layer in ``names``: every channel's colour scale (C, 2) over all images ``x`` — the range of its
    values over every image and position, widened to include 0 (so a dead channel is drawn at the bottom, and a
    constant map at its value, not black). Computed batch by batch: only the (C, 2) numbers are kept."""
    wanted = set(names)
    scales: dict[str, np.ndarray] = {}
    for start in range(0, len(x), batch):
        h = x[start : start + batch]
        for layer in layers:
            h = layer.forward(h, training=False)
            if layer.name in wanted:
                lo, hi = h.min(axis=(0, 2, 3)), h.max(axis=(0, 2, 3))
                if layer.name in scales:
                    old = scales[layer.name]
                    lo, hi = np.minimum(lo, old[:, 0]), np.maximum(hi, old[:, 1])
                scales[layer.name] = np.stack([lo, hi], axis=1)
    return {name: np.stack([np.minimum(sc[:, 0], 0), np.maximum(sc[:, 1], 0)], axis=1) for name, sc in scales.items()}


def _seeded(seed: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *map(int, more)])


# ============================================================================================= feature maps


def feature_map_explorer(
    model: Any,
    images: np.ndarray,
    labels: Sequence[int] | None = None,
    *,
    max_channels: int = 16,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    layer: str | None = None,
) -> Explorer:
    """Explore what every layer of ``model`` computes for one digit.

    ``images``: raw uint8 digits (N, 28, 28) (prepared with ``model.prepare``) or prepared float inputs
    (N, C, H, W); ``labels`` (N,) optional. Controls: ``digit`` (index), ``layer`` (a slider over the conv, ReLU
    and pool layers), ``channels`` (first and last channel shown, at most ``max_channels``). Views:
    ``input``, ``feature_maps``, ``filters`` (first conv layer), ``predictions`` (Image) and ``info`` (HTML).

    Colours: one fixed scale per channel, its range over all ``images`` (0 included), so the same channel of
    two digits is drawn on the same scale and can be compared; each panel is labelled with its channel and that
    range (1×1 maps also with their value). ``state`` holds ``maps`` (the shown channels, (k, H, W)),
    ``scale`` (their (lo, hi) per channel, (k, 2)), ``drawn`` (what is drawn: ``maps`` on that scale, in
    [0, 1]), ``layer_shape`` (C, H, W) and ``probs`` (C,).
    Used in ``notebooks/13_feature_maps.ipynb``.
    """
    w = _widgets()
    layers = _layers(model)
    x = _prepare(model, images, "feature_map_explorer")
    n = len(x)
    if n == 0:
        raise ValueError("feature_map_explorer: got no images")
    if labels is not None and len(labels) != n:
        raise ValueError(f"feature_map_explorer: got {len(labels)} labels for {n} images")
    if not isinstance(max_channels, int) or max_channels < 1:
        raise ValueError(f"feature_map_explorer: max_channels must be a positive int, got {max_channels!r}")
    names = spatial_layers(layers, x.shape[1:])
    if not names:
        raise ValueError("feature_map_explorer: the model has no layer with (C, H, W) feature maps")
    if layer is not None and layer not in names:
        raise ValueError(f"feature_map_explorer: layer {layer!r} is not one of {names}")
    scales = _channel_scales(layers, x, names)
    first_conv = next((lay for lay in layers if "weights" in lay.params and lay.params["weights"].ndim == 4), None)

    digit = w.IntSlider(value=0, min=0, max=n - 1, description="digit", continuous_update=False)
    layer_slider = w.SelectionSlider(
        options=names,
        value=layer or names[0],
        description="layer",
        continuous_update=False,
        layout=w.Layout(width="480px"),
    )
    layer_slider.add_class("vgglib-layer-slider")
    channels = w.IntRangeSlider(
        value=(0, max_channels - 1), min=0, max=max_channels - 1, description="channels", continuous_update=False
    )
    views = {
        "input": _image("vgglib-input", "160px"),
        "feature_maps": _image("vgglib-feature-maps", "420px"),
        "filters": _image("vgglib-filters", "220px"),
        "predictions": _image("vgglib-predictions", "300px"),
        "info": w.HTML(),
    }
    views["info"].add_class("vgglib-info")

    def draw_digit() -> None:
        i = digit.value
        acts = _activations(layers, x[i : i + 1])
        probs = softmax(np.asarray(acts[layers[-1].name][0], dtype=np.float64))
        ex.state.update(index=i, activations=acts, probs=probs)
        fig = viz.new_figure((2.2, 2.2))
        ax = fig.add_subplot()
        ax.imshow(x[i, 0], cmap="gray")
        ax.axis("off")
        ax.set_title(f"#{i}" + (f", label {labels[i]}" if labels is not None else ""), fontsize=10)
        _set_png(views["input"], fig)
        fig = viz.new_figure((3.8, 2.4))
        top = np.argsort(-probs, kind="stable")[:3]
        _probability_bars(
            fig.add_subplot(),
            probs,
            label=None if labels is None else int(labels[i]),
            class_names=class_names,
            title="top: " + ", ".join(f"{t} {100 * probs[t]:.0f}%" for t in top),
        )
        fig.tight_layout()
        _set_png(views["predictions"], fig)

    busy = {"flag": False}

    def draw_maps() -> None:
        if busy["flag"]:
            return
        acts = ex.state["activations"][layer_slider.value][0]  # (C, H, W)
        c = acts.shape[0]
        if channels.max != c - 1:
            busy["flag"] = True  # no redraw per trait change
            try:
                if channels.max < c - 1:
                    channels.max = c - 1
                    channels.value = (0, min(c, max_channels) - 1)
                else:
                    channels.value = (0, min(c, max_channels) - 1)
                    channels.max = c - 1
            finally:
                busy["flag"] = False
        lo, hi = channels.value
        hi = min(hi, lo + max_channels - 1, c - 1)
        maps = acts[lo : hi + 1]
        scale = scales[layer_slider.value][lo : hi + 1]
        ex.state.update(
            layer=layer_slider.value,
            layer_shape=acts.shape,
            channel_range=(lo, hi),
            maps=maps,
            scale=scale,
            drawn=viz.scale_feature_maps(maps, scale),
        )
        fig = viz.new_figure((4.6, 4.8))
        viz.show_feature_maps(
            maps,
            ax=fig.add_subplot(),
            first_channel=lo,
            scale=scale,
            title=f"{layer_slider.value}: channels {lo}–{hi} of {c}, {acts.shape[1]}×{acts.shape[2]} each\n"
            f"colour: per channel, its range over {n} digits",
        )
        fig.tight_layout()
        _set_png(views["feature_maps"], fig)
        i = ex.state["index"]
        p = ex.state["probs"]
        pred = int(np.argmax(p))
        truth = "" if labels is None else f" · label <b>{int(labels[i])}</b>"
        views["info"].value = (
            f"digit #{i}{truth} · predicted <b>{pred}</b> ({100 * p[pred]:.1f}%) · "
            f"layer <code>{layer_slider.value}</code> output {c}×{acts.shape[1]}×{acts.shape[2]}"
        )

    def on_digit(_=None) -> None:
        draw_digit()
        draw_maps()

    def redraw() -> None:
        on_digit()

    children = []
    if title:
        children.append(w.HTML(f"<b>{title}</b>"))
    children += [
        w.HBox([digit, layer_slider]),
        channels,
        views["info"],
        w.HBox(
            [w.VBox([views["input"], views["filters"]]), views["feature_maps"], views["predictions"]],
            layout=w.Layout(align_items="flex-start"),
        ),
    ]
    ex = Explorer(
        children,
        {"digit": digit, "layer": layer_slider, "channels": channels},
        views,
        "vgglib-feature-map-explorer",
        redraw,
    )
    if first_conv is not None:
        fig = viz.new_figure((2.8, 2.8))
        viz.show_filters(first_conv.params["weights"], ax=fig.add_subplot(), title=f"{first_conv.name} filters")
        fig.tight_layout()
        _set_png(views["filters"], fig)
    on_digit()
    digit.observe(on_digit, names="value")
    layer_slider.observe(lambda _: draw_maps(), names="value")
    channels.observe(lambda _: draw_maps(), names="value")
    return ex


# ============================================================================================= drawing pad

#: MNIST's digits: a 28×28 frame, the digit's larger side scaled to 20 pixels, its centre of mass at pixel (14, 14)
MNIST_SIZE, MNIST_BOX, MNIST_CENTRE = 28, 20, 14


def _ink(image: Any, where: str) -> np.ndarray:
    """A drawing -> ink in [0, 1] (H, W): grey (H, W), or RGB/RGBA (H, W, 3|4) (luminance × alpha). Bright = ink."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        if not np.issubdtype(img.dtype, np.number):
            raise TypeError(f"{where}: expected a numeric image, got dtype {img.dtype}")
        top = 255.0 if np.issubdtype(img.dtype, np.integer) else 1.0
        rgb = img[..., :3].astype(np.float64) / top
        ink = rgb @ np.array([0.299, 0.587, 0.114])
        if img.shape[2] == 4:
            ink = ink * (img[..., 3].astype(np.float64) / top)
    elif img.ndim == 2:
        if not (np.issubdtype(img.dtype, np.number) or img.dtype == bool):
            raise TypeError(f"{where}: expected a numeric image, got dtype {img.dtype}")
        ink = img.astype(np.float64) / (255.0 if np.issubdtype(img.dtype, np.integer) else 1.0)
    else:
        raise ValueError(f"{where}: expected a drawing (H, W) or (H, W, 3|4), got shape {img.shape}")
    if not np.all(np.isfinite(ink)):
        raise ValueError(f"{where}: the drawing holds NaN or infinite values")
    return np.clip(ink, 0.0, 1.0)


def _area_weights(n_in: int, scale: float, offset: float, n_out: int) -> np.ndarray:
    """(n_out, n_in): how much of output pixel p input pixel i covers once input pixel i is stretched to the
    interval [offset + i·scale, offset + (i+1)·scale) — area resampling, exact for any scale (no aliasing)."""
    edges = offset + scale * np.arange(n_in + 1)
    lo = np.maximum(np.arange(n_out)[:, None], edges[None, :-1])
    hi = np.minimum(np.arange(n_out)[:, None] + 1, edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def canvas_to_mnist(image: Any) -> np.ndarray:
    """A drawing of any size -> a 28×28 uint8 digit made the way MNIST's were (LeCun et al., 1998).

    ``image``: (H, W) ink (uint8 0..255 or float 0..1, bright = ink) or an RGB(A) picture (H, W, 3|4) with
    bright ink on a dark or transparent background. Steps: crop to the ink's bounding box; scale it, keeping its
    aspect ratio, so that its larger side is 20 pixels (area averaging: thin strokes become grey, as in MNIST);
    put it in a 28×28 frame and shift it by whole pixels so that its centre of mass is at pixel (14, 14) (rows,
    columns counted from 0 — where MNIST's centres of mass lie, within half a pixel); stretch the brightest pixel
    to 255. A drawing without ink gives all zeros. Returns uint8 (28, 28).
    """
    ink = _ink(image, "canvas_to_mnist")
    out = np.zeros((MNIST_SIZE, MNIST_SIZE))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return out.astype(np.uint8)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = MNIST_BOX / max(h, w)
    # placed near the middle at a whole-pixel offset (the centre-of-mass shift below moves it by whole pixels too)
    out = (
        _area_weights(h, scale, np.floor((MNIST_SIZE - h * scale) / 2), MNIST_SIZE)
        @ crop
        @ _area_weights(w, scale, np.floor((MNIST_SIZE - w * scale) / 2), MNIST_SIZE).T
    )
    mass = out.sum()
    grid = np.arange(MNIST_SIZE)
    centre = np.array([out.sum(axis=1) @ grid, out.sum(axis=0) @ grid]) / mass
    shift = np.round(MNIST_CENTRE - centre).astype(int)
    inked_r, inked_c = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    for axis, inked in enumerate((inked_r, inked_c)):  # never push ink out of the frame
        shift[axis] = int(np.clip(shift[axis], -inked[0], MNIST_SIZE - 1 - inked[-1]))
    out = np.roll(out, tuple(shift), axis=(0, 1))  # the rolled-over border is empty (clipped above)
    return np.clip(np.round(255.0 * out / out.max()), 0, 255).astype(np.uint8)


def strokes_to_image(
    strokes: Sequence[Sequence[Sequence[float]]], shape: tuple[int, int], line_width: float
) -> np.ndarray:
    """Rasterise pen strokes as the canvas draws them: each stroke a list of (x, y) points in canvas pixels,
    joined by lines ``line_width`` wide with round ends (one point: a dot). Returns ink in [0, 1], float (H, W)
    for ``shape = (H, W)``; edge pixels get the fraction of the pen that covers them (anti-aliased)."""
    height, width = (int(v) for v in shape)
    if height < 1 or width < 1:
        raise ValueError(f"strokes_to_image: shape must be two positive sizes (H, W), got {shape!r}")
    if not line_width > 0:
        raise ValueError(f"strokes_to_image: line_width must be > 0, got {line_width!r}")
    img = np.zeros((height, width))
    r = float(line_width) / 2
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        if not np.all(np.isfinite(pts)):
            raise ValueError("strokes_to_image: a stroke holds NaN or infinite coordinates")
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            c0 = max(0, int(np.floor(min(x0, x1) - r - 1)))
            c1 = min(width, int(np.ceil(max(x0, x1) + r + 1)))
            r0 = max(0, int(np.floor(min(y0, y1) - r - 1)))
            r1 = min(height, int(np.ceil(max(y0, y1) + r + 1)))
            if c0 >= c1 or r0 >= r1:
                continue
            py, px = np.mgrid[r0:r1, c0:c1] + 0.5  # pixel centres
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0, 1) if length2 > 0 else 0.0
            dist = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
            cover = np.clip(r + 0.5 - dist, 0.0, 1.0)
            img[r0:r1, c0:c1] = np.maximum(img[r0:r1, c0:c1], cover)
    return img


def _probability_bars(
    ax, probs: np.ndarray, label: int | None = None, title: str | None = None, class_names: Sequence[str] | None = None
) -> None:
    """Class probabilities as bars, bar d in :func:`vgglib.viz.digit_color` (d) (for 10 classes); the true label's
    tick in bold (in :data:`vgglib.viz.WRONG_COLOR` when the prediction is another class)."""
    c = len(probs)
    colors = [viz.digit_color(d) if c == 10 else "#1f77b4" for d in range(c)]
    ax.bar(np.arange(c), probs, 0.8, color=colors)
    ax.set_xticks(range(c), [str(d) for d in range(c)] if class_names is None else list(class_names))
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit (class)", fontsize=9)
    ax.set_ylabel("probability", fontsize=9)
    if label is not None:
        tick = ax.get_xticklabels()[int(label)]
        tick.set_color(viz.WRONG_COLOR if int(np.argmax(probs)) != int(label) else "black")
        tick.set_fontweight("bold")
    if title:
        ax.set_title(title, fontsize=10)


class DrawingPad(Explorer):
    """The widget :func:`drawing_pad` returns: an :class:`Explorer` with :meth:`draw` and :meth:`clear`."""

    _pad: dict[str, Callable[..., None]]

    def draw(self, strokes: Sequence[Sequence[Sequence[float]]]) -> None:
        """Add pen strokes (each a list of (x, y) canvas points), show them on the canvas, and update —
        what the mouse does, from code."""
        self._pad["draw"](strokes)

    def clear(self) -> None:
        """Wipe the canvas and the results."""
        self._pad["clear"]()


def drawing_pad(
    model: Any,
    reference: np.ndarray | None = None,
    *,
    layer: str | None = None,
    size: int = 280,
    line_width: float = 18.0,
    max_channels: int = 16,
) -> DrawingPad:
    """Draw a digit with the mouse; see what ``model`` predicts and the feature maps of your digit.

    A black ``size``×``size`` canvas (ipycanvas) takes strokes of a white pen ``line_width`` pixels wide. When
    the mouse button is released the strokes are rasterised (:func:`strokes_to_image`), turned into an MNIST
    digit (:func:`canvas_to_mnist`) and run through the model. Views: ``prediction`` (HTML), ``input`` (the
    28×28 digit the network sees), ``probabilities`` (bars in the digit colours) and ``feature_maps`` (the
    channels of the ``layer`` control, at most ``max_channels``). Colours of the maps: one scale per channel —
    its range over the ``reference`` digits (raw uint8 (N, 28, 28), e.g. test digits) and 0, so your digit is
    compared with real ones (values beyond are drawn at the top colour); without ``reference``, over your digit
    alone. Controls: ``canvas``, ``clear`` (Button), ``layer`` (SelectionSlider). ``state``: ``strokes``,
    ``digit`` (uint8 (28, 28)), ``probs`` (C,), ``prediction``, ``layer``, ``maps``, ``scale``, ``drawn``.
    Used in ``notebooks/13_feature_maps.ipynb``.
    """
    from ipycanvas import Canvas, hold_canvas  # type: ignore[import-untyped]  # (no type information)

    w = _widgets()
    layers = _layers(model)
    if not hasattr(model, "prepare"):
        raise TypeError(f"drawing_pad: expected a vgglib model with .prepare, got {type(model).__name__}")
    if not isinstance(size, int) or size < 28:
        raise ValueError(f"drawing_pad: size must be an int >= 28 (canvas pixels), got {size!r}")
    if not isinstance(max_channels, int) or max_channels < 1:
        raise ValueError(f"drawing_pad: max_channels must be a positive int, got {max_channels!r}")
    names = spatial_layers(layers, model.prepare(np.zeros((1, 28, 28), np.uint8)).shape[1:])
    if layer is None:
        layer = next((n for n in names if n.startswith("relu")), names[0])
    if layer not in names:
        raise ValueError(f"drawing_pad: layer {layer!r} is not one of {names}")
    scales: dict[str, np.ndarray] | None = None
    n_ref = 0
    if reference is not None:
        ref = np.asarray(reference)
        if ref.ndim != 3 or ref.shape[1:] != (28, 28) or len(ref) == 0:
            raise ValueError(f"drawing_pad: reference must be raw digits (N, 28, 28), got shape {ref.shape}")
        n_ref = len(ref)
        scales = _channel_scales(layers, model.prepare(ref), names)

    canvas = Canvas(width=size, height=size, layout=w.Layout(width=f"{size}px", height=f"{size}px"))
    canvas.add_class("vgglib-pad-canvas")
    clear = w.Button(description="clear", icon="eraser")
    clear.add_class("vgglib-pad-clear")
    layer_slider = w.SelectionSlider(
        options=names, value=layer, description="layer", continuous_update=False, layout=w.Layout(width="420px")
    )
    layer_slider.add_class("vgglib-pad-layer-slider")
    views = {
        "prediction": w.HTML(),
        "input": _image("vgglib-pad-input", "150px"),
        "probabilities": _image("vgglib-pad-probabilities", "300px"),
        "feature_maps": _image("vgglib-pad-feature-maps", "400px"),
    }
    views["prediction"].add_class("vgglib-pad-prediction")
    pen: dict[str, Any] = {"down": False, "strokes": []}

    def paint_background() -> None:
        with hold_canvas():
            canvas.fill_style = "black"
            canvas.fill_rect(0, 0, size, size)
            canvas.stroke_style = "white"
            canvas.fill_style = "white"
            canvas.line_width = line_width
            canvas.line_cap = "round"
            canvas.line_join = "round"

    def paint_stroke(points: np.ndarray) -> None:
        if len(points) == 1:
            canvas.fill_circle(float(points[0, 0]), float(points[0, 1]), line_width / 2)
        else:
            canvas.stroke_lines(points.tolist())

    def show_empty() -> None:
        ex.state.update(strokes=[], digit=np.zeros((28, 28), np.uint8), probs=None, prediction=None)
        views["prediction"].value = "Draw a digit in the black square: large, filling most of its height."
        for view, figsize in (("input", (2.0, 2.2)), ("probabilities", (3.8, 2.6)), ("feature_maps", (4.4, 4.6))):
            fig = viz.new_figure(figsize)
            ax = fig.add_subplot()
            ax.text(0.5, 0.5, "nothing drawn yet", ha="center", va="center", fontsize=9, color="0.4")
            ax.axis("off")
            _set_png(views[view], fig)

    def draw_maps() -> None:
        if ex.state.get("prediction") is None:
            return
        acts = ex.state["activations"][layer_slider.value][0]
        c = acts.shape[0]
        k = min(c, max_channels)
        maps = acts[:k]
        if scales is not None:
            scale = scales[layer_slider.value][:k]
            where = f"its range over {n_ref} test digits"
        else:
            scale = np.stack([np.minimum(maps.min(axis=(1, 2)), 0), np.maximum(maps.max(axis=(1, 2)), 0)], axis=1)
            where = "its range in your digit"
        ex.state.update(layer=layer_slider.value, maps=maps, scale=scale, drawn=viz.scale_feature_maps(maps, scale))
        fig = viz.new_figure((4.4, 4.6))
        viz.show_feature_maps(
            maps,
            ax=fig.add_subplot(),
            scale=scale,
            title=f"your digit at {layer_slider.value}: channels 0–{k - 1} of {c}, {acts.shape[1]}×{acts.shape[2]}\n"
            f"colour: per channel, {where}",
        )
        fig.tight_layout()
        _set_png(views["feature_maps"], fig)

    def update() -> None:
        strokes = [s.copy() for s in pen["strokes"]]
        if not strokes:
            show_empty()
            return
        digit = canvas_to_mnist(strokes_to_image(strokes, (size, size), line_width))
        if not digit.any():
            show_empty()
            return
        acts = _activations(layers, model.prepare(digit[None]))
        probs = softmax(np.asarray(acts[layers[-1].name][0], dtype=np.float64))
        pred = int(np.argmax(probs))
        ex.state.update(strokes=strokes, digit=digit, activations=acts, probs=probs, prediction=pred)
        color = viz.digit_color(pred) if len(probs) == 10 else "black"
        views[
            "prediction"
        ].value = f"prediction: <b style='font-size:1.6em;color:{color}'>{pred}</b> ({100 * probs[pred]:.1f}%)"
        fig = viz.new_figure((2.0, 2.2))
        ax = fig.add_subplot()
        ax.imshow(digit, cmap=viz.IMAGE_CMAP, vmin=0, vmax=255)
        ax.set_title("what the network sees\n(28×28, like MNIST)", fontsize=8)
        ax.axis("off")
        fig.tight_layout()
        _set_png(views["input"], fig)
        fig = viz.new_figure((3.8, 2.6))
        top = np.argsort(-probs, kind="stable")[:3]
        _probability_bars(
            fig.add_subplot(), probs, title="top: " + ", ".join(f"{t} {100 * probs[t]:.0f}%" for t in top)
        )
        fig.tight_layout()
        _set_png(views["probabilities"], fig)
        draw_maps()

    def add_strokes(strokes: Sequence[Sequence[Sequence[float]]]) -> None:
        new = []
        for stroke in strokes:
            pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
            if len(pts) and np.all(np.isfinite(pts)):
                new.append(pts)
        with hold_canvas():
            for pts in new:
                paint_stroke(pts)
        pen["strokes"].extend(new)
        update()

    def wipe(_: Any = None) -> None:
        pen["strokes"], pen["down"] = [], False
        paint_background()
        update()

    def mouse_down(x: float, y: float) -> None:
        pen["down"] = True
        pen["current"] = [(float(x), float(y))]
        canvas.fill_circle(float(x), float(y), line_width / 2)

    def mouse_move(x: float, y: float) -> None:
        if not pen["down"]:
            return
        x0, y0 = pen["current"][-1]
        canvas.stroke_line(x0, y0, float(x), float(y))
        pen["current"].append((float(x), float(y)))

    def mouse_up(x: float, y: float) -> None:
        if not pen["down"]:
            return
        pen["down"] = False
        pen["strokes"].append(np.asarray(pen.pop("current"), dtype=np.float64))
        update()

    def repaint() -> None:  # the browser (re)created the canvas: draw the background and the strokes again
        paint_background()
        with hold_canvas():
            for pts in pen["strokes"]:
                paint_stroke(pts)

    children = [
        w.HBox([layer_slider, clear]),
        views["prediction"],
        w.HBox(
            [canvas, w.VBox([views["input"], views["probabilities"]]), views["feature_maps"]],
            layout=w.Layout(align_items="flex-start"),
        ),
    ]
    ex = DrawingPad(
        children,
        {"canvas": canvas, "clear": clear, "layer": layer_slider},
        views,
        "vgglib-drawing-pad",
        update,
    )
    ex._pad = {"draw": add_strokes, "clear": wipe}
    paint_background()
    show_empty()
    canvas.on_mouse_down(mouse_down)
    canvas.on_mouse_move(mouse_move)
    canvas.on_mouse_up(mouse_up)
    canvas.on_mouse_out(mouse_up)
    canvas.on_client_ready(repaint)
    clear.on_click(wipe)
    layer_slider.observe(lambda _: draw_maps(), names="value")
    return ex


# ============================================================================================= dropout


def dropout_explorer(
    model: Any,
    image: np.ndarray,
    label: int | None = None,
    *,
    layer: str | None = None,
    p: float = 0.5,
    seed: int = 0,
    n_masks: int = 200,
) -> Explorer:
    """Watch inverted dropout act on one layer of ``model`` for one input.

    ``image``: one raw uint8 digit (28, 28) / (1, 28, 28) or one prepared input (1, C, H, W). ``layer``: the
    Dropout layer whose input is masked (default: the model's first Dropout). The mask is drawn by a fresh
    :class:`vgglib.layers.Dropout` with the slider's p, so what you see is exactly what training does; the rest
    of the network runs in inference mode. Controls: ``p`` (slider) and ``resample`` (button). Views: ``view``
    (mask, activations before/after, probabilities: test mode vs this mask vs the mean over ``n_masks`` masks)
    and ``info`` (HTML). ``state``: ``mask`` (the scaled mask), ``kept`` (fraction), ``probs_test``,
    ``probs_mask``, ``probs_mean``. Used in ``notebooks/10_dropout.ipynb``.
    """
    from .layers import Dropout

    w = _widgets()
    layers = _layers(model)
    img = np.asarray(image)
    floating = np.issubdtype(img.dtype, np.floating)
    if img.ndim == 2 or (img.ndim == 3 and floating):
        img = img[None]  # one digit (H, W) or one prepared input (C, H, W)
    if len(img) != 1 or img.ndim not in (3, 4):
        raise ValueError(
            f"dropout_explorer: expected one image, (H, W) or (1, H, W) raw or (1, C, H, W) "
            f"prepared, got shape {np.shape(image)}"
        )
    x = _prepare(model, img, "dropout_explorer")
    drop_names = [lay.name for lay in layers if isinstance(lay, Dropout)]
    if layer is None:
        if not drop_names:
            raise ValueError(
                "dropout_explorer: the model has no Dropout layer; pass layer=<name of a layer whose input to mask>"
            )
        layer = drop_names[0]
    names = [lay.name for lay in layers]
    if layer not in names:
        raise ValueError(f"dropout_explorer: no layer named {layer!r}; layers: {names}")
    k = names.index(layer)
    if not 0 <= p < 1:
        raise ValueError(f"dropout_explorer: p must be in [0, 1), got {p!r}")
    h = x
    for lay in layers[:k]:
        h = lay.forward(h, training=False)  # the activations the dropout layer receives

    def head(z: np.ndarray) -> np.ndarray:
        for lay in layers[k + 1 :]:
            z = lay.forward(z, training=False)
        return softmax(np.asarray(z, dtype=np.float64))

    probs_test = head(h)[0]
    p_slider = w.FloatSlider(
        value=float(p),
        min=0.0,
        max=0.9,
        step=0.05,
        description="p (drop)",
        continuous_update=False,
        readout_format=".2f",
    )
    p_slider.add_class("vgglib-dropout-slider")
    resample = w.Button(description="resample mask", icon="refresh")
    resample.add_class("vgglib-resample")
    view = _image("vgglib-dropout-view", "760px")
    info = w.HTML()
    draws = {"n": 0}

    def redraw() -> None:
        q = float(p_slider.value)
        drop = Dropout(q, rng=_seeded(seed, draws["n"], round(q * 1000)))
        after = drop.forward(h, training=True)
        mask = np.ones_like(h) if drop.mask is None else drop.mask
        probs_mask = head(after)[0]
        many = Dropout(q, rng=_seeded(seed, 10_000 + draws["n"], round(q * 1000)))
        probs_mean = head(many.forward(np.repeat(h, n_masks, axis=0), training=True)).mean(axis=0)
        kept = float((mask[0] > 0).mean())
        ex.state.update(
            mask=mask[0],
            kept=kept,
            before=h[0],
            after=after[0],
            probs_test=probs_test,
            probs_mask=probs_mask,
            probs_mean=probs_mean,
            p=q,
        )
        fig = viz.new_figure((9.5, 2.8))
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.5]})
        fig.subplots_adjust(left=0.02, right=0.99, bottom=0.1, top=0.9, wspace=0.15)
        units = mask[0].reshape(-1)
        side = int(np.ceil(np.sqrt(units.size)))
        grid = np.full(side * side, np.nan)
        grid[: units.size] = units > 0
        import matplotlib as mpl

        axes[0].imshow(
            grid.reshape(side, side),
            cmap=mpl.colormaps["gray"].with_extremes(bad="lightsteelblue"),
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        axes[0].set_title(f"mask: {int((units > 0).sum())}/{units.size} kept", fontsize=9)
        axes[0].axis("off")
        a0, a1 = h[0].reshape(-1), after[0].reshape(-1)
        order = np.argsort(-a0, kind="stable")[: min(64, a0.size)]
        xs = np.arange(order.size)
        axes[1].vlines(xs, 0, a1[order], color="tab:blue", lw=2.5, alpha=0.7, label=f"train, ×{1 / (1 - q):.2f}")
        axes[1].vlines(xs, 0, a0[order], color="black", lw=1.0, label="test mode")
        axes[1].set_title(f"{order.size} largest activations", fontsize=9)
        axes[1].legend(fontsize=7)
        axes[1].set_xticks([])
        viz.plot_probabilities(
            {"test mode": probs_test, "this mask": probs_mask, f"mean of {n_masks} masks": probs_mean},
            label=label,
            ax=axes[2],
            title="output probabilities",
        )
        _set_png(view, fig)
        pm = int(np.argmax(probs_mask))
        pt = int(np.argmax(probs_test))
        info.value = (
            f"p = {q:.2f}: kept {100 * kept:.1f}% of {units.size} units (expected {100 * (1 - q):.0f}%), "
            f"survivors scaled by 1/(1−p) = {1 / (1 - q):.2f} · prediction with this mask: "
            f"<b>{pm}</b> ({100 * probs_mask[pm]:.0f}%), test mode: <b>{pt}</b> "
            f"({100 * probs_test[pt]:.0f}%)"
        )

    def on_resample(_=None) -> None:
        draws["n"] += 1
        redraw()

    ex = Explorer(
        [w.HBox([p_slider, resample]), info, view],
        {"p": p_slider, "resample": resample},
        {"view": view, "info": info},
        "vgglib-dropout-explorer",
        redraw,
    )
    redraw()
    p_slider.observe(lambda _: redraw(), names="value")
    resample.on_click(on_resample)
    return ex


# ============================================================================================= augmentation


def augmentation_explorer(
    images: np.ndarray,
    labels: Sequence[int] | None = None,
    *,
    n_show: int = 8,
    n_draws: int = 3,
    seed: int = 0,
    zca_fit_images: np.ndarray | None = None,
) -> Explorer:
    """Sliders for shift, rotation and zoom, a flip switch and ZCA whitening over a grid of digits.

    ``images``: raw uint8 digits (N, 28, 28) or float images in [0, 1] (N, 1, H, W); the first ``n_show`` are
    shown in the top row, with ``n_draws`` augmented versions below. ZCA is fitted on ``zca_fit_images``
    (default: all of ``images``). Controls: ``shift``, ``rotation``, ``zoom``, ``flip``, ``zca``, ``epsilon``,
    ``resample``. View: ``grid`` (Image). ``state["augmented"]`` is the (n_draws, n_show, H, W) array shown.
    Uses :mod:`vgglib.augment`; see ``notebooks/12_data_augmentation.ipynb``.
    """
    from . import augment

    w = _widgets()
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"augmentation_explorer: expected digits (N, 28, 28) or (N, 1, H, W), got {x.shape}")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"augmentation_explorer: expected uint8 or float images, got {x.dtype}")
    fit_on = x if zca_fit_images is None else np.asarray(zca_fit_images)
    if fit_on.dtype == np.uint8:
        fit_on = fit_on.astype(np.float32) / 255
    fit_on = fit_on.reshape(len(fit_on), 1, *x.shape[2:])
    shown = x[:n_show]
    style = {"description_width": "80px"}
    shift = w.IntSlider(value=0, min=0, max=6, description="shift (px)", style=style, continuous_update=False)
    rotation = w.FloatSlider(
        value=0.0, min=0.0, max=90.0, step=5.0, description="rotate (°)", style=style, continuous_update=False
    )
    zoom = w.FloatSlider(
        value=0.0, min=0.0, max=0.5, step=0.05, description="zoom (±)", style=style, continuous_update=False
    )
    flip = w.Checkbox(value=False, description="random horizontal flip")
    zca = w.Checkbox(value=False, description="ZCA whitening")
    epsilon = w.FloatLogSlider(
        value=1e-2,
        base=10,
        min=-4,
        max=0,
        step=0.25,
        description="ZCA ε",
        style=style,
        continuous_update=False,
        readout_format=".0e",
    )
    resample = w.Button(description="resample", icon="refresh")
    grid = _image("vgglib-augmentation-grid", "640px")
    info = w.HTML()
    draws = {"n": 0}
    zca_cache: dict[float, Any] = {}

    def redraw() -> None:
        steps: list[Callable[[np.ndarray, np.random.Generator], np.ndarray]] = []
        if shift.value:
            steps.append(augment.RandomShift(int(shift.value)))
        if rotation.value:
            steps.append(augment.RandomRotation(float(rotation.value)))
        if zoom.value:
            steps.append(augment.RandomZoom(float(zoom.value)))
        if flip.value:
            steps.append(augment.RandomFlip(0.5))
        pipeline = augment.Compose(steps)
        rng = _seeded(seed, draws["n"])
        rows = [pipeline(shown, rng) for _ in range(n_draws)]
        top = shown
        if zca.value:
            eps = float(epsilon.value)
            if eps not in zca_cache:
                zca_cache[eps] = augment.ZCAWhitening(eps).fit(fit_on)
            top = zca_cache[eps](top)
            rows = [zca_cache[eps](r) for r in rows]
        aug = np.stack(rows)[:, :, 0]
        ex.state.update(augmented=aug, pipeline=pipeline)
        stack = np.concatenate([top[:, 0], aug.reshape(-1, *aug.shape[2:])])
        fig = viz.new_figure((0.8 * len(shown), 0.8 * (n_draws + 1) + 0.3))
        ax = fig.add_subplot()
        ax.imshow(
            viz.tile(stack, ncols=len(shown), pad=2, normalize="each" if zca.value else None),
            cmap=_gray_bad(),
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.axis("off")
        ax.set_title(
            "top row: " + ("ZCA-whitened originals" if zca.value else "originals") + f"; below: {n_draws} random draws",
            fontsize=9,
        )
        fig.tight_layout()
        _set_png(grid, fig)
        info.value = f"pipeline: <code>{pipeline!r}</code>" + (f" then ZCA(ε={epsilon.value:.0e})" if zca.value else "")

    def on_resample(_=None) -> None:
        draws["n"] += 1
        redraw()

    controls = {
        "shift": shift,
        "rotation": rotation,
        "zoom": zoom,
        "flip": flip,
        "zca": zca,
        "epsilon": epsilon,
        "resample": resample,
    }
    ex = Explorer(
        [w.HBox([w.VBox([shift, rotation, zoom]), w.VBox([flip, w.HBox([zca]), epsilon, resample])]), info, grid],
        controls,
        {"grid": grid, "info": info},
        "vgglib-augmentation-explorer",
        redraw,
    )
    redraw()
    for c in (shift, rotation, zoom, flip, zca, epsilon):
        c.observe(lambda _: redraw(), names="value")
    resample.on_click(on_resample)
    return ex


def _gray_bad():
    import matplotlib as mpl

    return mpl.colormaps["gray"].with_extremes(bad="white")


# ============================================================================================= convolution

#: 3×3 kernels for :func:`conv_playground`
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "box blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "vertical edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "horizontal edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
}


def conv_playground(image: np.ndarray, kernels: Mapping[str, np.ndarray] | None = None) -> Explorer:
    """One digit (H, W) convolved (cross-correlated) with a chosen 3×3 kernel, stride and padding, ReLU optional.

    Controls: ``kernel`` (dropdown), ``stride``, ``padding``, ``relu``. Views: ``view`` (input | kernel |
    output) and ``info`` (the output-size formula). ``state["output"]`` is the output map. Uses
    :class:`vgglib.layers.Convolution2D`; for ``notebooks/01_convolution.ipynb``.
    """
    from .layers import Convolution2D

    w = _widgets()
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    if img.ndim != 2:
        raise ValueError(f"conv_playground: expected one image (H, W), got shape {img.shape}")
    img = img.astype(np.float64) / (255.0 if img.dtype == np.uint8 else 1.0)
    kernels = dict(KERNELS if kernels is None else kernels)
    for name, k in kernels.items():
        if np.shape(k) != (3, 3):
            raise ValueError(f"conv_playground: kernel {name!r} must be 3×3, got shape {np.shape(k)}")
    kernel = w.Dropdown(options=list(kernels), description="kernel")
    stride = w.IntSlider(value=1, min=1, max=3, description="stride", continuous_update=False)
    padding = w.IntSlider(value=1, min=0, max=2, description="padding", continuous_update=False)
    relu = w.Checkbox(value=False, description="ReLU after")
    view = _image("vgglib-conv-view", "640px")
    info = w.HTML()

    def redraw() -> None:
        conv = Convolution2D(1, 1, 3, padding=padding.value, stride=stride.value, dtype=np.float64)
        conv.params["weights"][...] = np.asarray(kernels[kernel.value], dtype=np.float64)
        out = conv.forward(img[None, None])[0, 0]
        if relu.value:
            out = np.maximum(out, 0)
        ex.state.update(output=out)
        fig = viz.new_figure((7.5, 2.6))
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.6, 1]})
        axes[0].imshow(img, cmap="gray")
        axes[0].set_title(f"input {img.shape[0]}×{img.shape[1]}", fontsize=9)
        k = np.asarray(kernels[kernel.value], dtype=np.float64)
        top = float(np.abs(k).max()) or 1.0
        axes[1].imshow(k, cmap="RdBu_r", vmin=-top, vmax=top)
        for (i, j), v in np.ndenumerate(k):
            axes[1].text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8)
        axes[1].set_title("kernel", fontsize=9)
        axes[2].imshow(out, cmap="gray")
        axes[2].set_title(f"output {out.shape[0]}×{out.shape[1]}", fontsize=9)
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        _set_png(view, fig)
        h = img.shape[0]
        info.value = (
            f"output size = ⌊(H + 2p − k)/s⌋ + 1 = ⌊({h} + 2·{padding.value} − 3)/{stride.value}⌋ + 1 = {out.shape[0]}"
        )

    ex = Explorer(
        [w.HBox([kernel, relu]), w.HBox([stride, padding]), info, view],
        {"kernel": kernel, "stride": stride, "padding": padding, "relu": relu},
        {"view": view, "info": info},
        "vgglib-conv-playground",
        redraw,
    )
    redraw()
    for c in (kernel, stride, padding, relu):
        c.observe(lambda _: redraw(), names="value")
    return ex


# ============================================================================================= optimizers


def _surface(
    name: str,
) -> tuple[
    Callable[[np.ndarray], np.ndarray],
    Callable[[np.ndarray], np.ndarray],
    tuple[float, float],
    tuple[float, float],
    np.ndarray,
    np.ndarray,
]:
    """(f, grad f, x range, y range, start, minimum) of a 2-D test surface."""
    if name == "ravine":
        # an elongated quadratic bowl: curvature 1 along x, 50 along y (condition number 50); plain gradient
        # descent must keep lr < 2/50 for the steep y direction and then crawls along x
        f = lambda p: 0.5 * (p[..., 0] ** 2 + 50.0 * p[..., 1] ** 2)  # noqa: E731
        g = lambda p: np.stack([p[..., 0], 50.0 * p[..., 1]], axis=-1)  # noqa: E731
        return f, g, (-6, 2), (-1.5, 1.5), np.array([-5.0, 1.0]), np.array([0.0, 0.0])
    if name == "rosenbrock":
        f = lambda p: (1 - p[..., 0]) ** 2 + 10.0 * (p[..., 1] - p[..., 0] ** 2) ** 2  # noqa: E731
        g = lambda p: np.stack(  # noqa: E731
            [
                -2 * (1 - p[..., 0]) - 40.0 * p[..., 0] * (p[..., 1] - p[..., 0] ** 2),
                20.0 * (p[..., 1] - p[..., 0] ** 2),
            ],
            axis=-1,
        )
        return f, g, (-2, 2), (-1, 3), np.array([-1.5, 2.5]), np.array([1.0, 1.0])
    raise ValueError(f"unknown surface {name!r}; expected 'ravine' or 'rosenbrock'")


def optimizer_trajectories(
    optimizers: Mapping[str, Any], surface: str = "ravine", steps: int = 60
) -> dict[str, np.ndarray]:
    """Run each optimizer ``steps`` steps on a 2-D surface from the same start; returns name -> (steps+1, 2).

    An optimizer is a :mod:`vgglib.optim` optimizer (``step`` over ``(layer, key, value, grad)`` items, updating
    ``value`` in place) or a plain callable ``(xy, grad) -> new xy``.
    """
    f, g, _, _, start, _ = _surface(surface)
    paths = {}
    for name, opt in optimizers.items():
        xy = start.copy()
        path = [xy.copy()]
        for _ in range(steps):
            grad = g(xy)
            if hasattr(opt, "step"):
                opt.step([("surface", "xy", xy, grad)])  # updates xy in place
            else:
                xy = np.asarray(opt(xy, grad), dtype=np.float64)
            if not np.all(np.isfinite(xy)) or np.abs(xy).max() > 1e6:
                break
            path.append(xy.copy())
        paths[name] = np.array(path)
    return paths


def optimizer_explorer(
    make_optimizers: Callable[[float, float, float], Mapping[str, Any]],
    *,
    surface: str = "ravine",
    steps: int = 60,
    lr: float = 0.05,
    beta1: float = 0.9,
    beta2: float = 0.999,
) -> Explorer:
    """SGD, momentum and Adam on a 2-D loss surface, with sliders for the learning rate and the betas.

    ``make_optimizers(lr, beta1, beta2)`` returns ``{name: optimizer}`` (see :func:`optimizer_trajectories`);
    the notebook passes its own small implementations or :mod:`vgglib.optim`. Controls: ``lr`` (log slider),
    ``beta1``, ``beta2``, ``steps``, ``surface``. View: ``view`` (contours + trajectories). ``state["paths"]`` holds the
    trajectories, ``state["final_loss"]`` the loss where each ends. Used in
    ``notebooks/11_optimizers_sgd_momentum_adam.ipynb``.
    """
    w = _widgets()
    _surface(surface)
    lr_s = w.FloatLogSlider(
        value=lr, base=10, min=-3, max=0, step=0.1, description="lr", continuous_update=False, readout_format=".3f"
    )
    b1 = w.FloatSlider(
        value=beta1,
        min=0.0,
        max=0.99,
        step=0.01,
        description="β₁ / momentum",
        style={"description_width": "100px"},
        continuous_update=False,
    )
    b2 = w.FloatSlider(
        value=beta2,
        min=0.9,
        max=0.9999,
        step=0.0001,
        description="β₂ (Adam)",
        style={"description_width": "100px"},
        continuous_update=False,
        readout_format=".4f",
    )
    surf = w.ToggleButtons(options=["ravine", "rosenbrock"], value=surface, description="surface")
    steps_s = w.IntSlider(value=steps, min=5, max=200, step=5, description="steps", continuous_update=False)
    view = _image("vgglib-optimizer-view", "560px")
    info = w.HTML()

    def redraw() -> None:
        f, _, xr, yr, start, best = _surface(surf.value)
        steps = int(steps_s.value)
        paths = optimizer_trajectories(
            make_optimizers(float(lr_s.value), float(b1.value), float(b2.value)), surf.value, steps
        )
        final = {k: float(f(v[-1])) for k, v in paths.items()}
        ex.state.update(paths=paths, final_loss=final)
        fig = viz.new_figure((6.5, 3.6))
        ax = fig.add_subplot()
        gx, gy = np.meshgrid(np.linspace(*xr, 200), np.linspace(*yr, 200))
        z = f(np.stack([gx, gy], axis=-1))
        ax.contour(gx, gy, np.log1p(z), levels=20, cmap="Greys", linewidths=0.6)
        for name, path in paths.items():
            ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, label=f"{name}: loss {final[name]:.2g}")
        ax.plot(*start, "ko", ms=5)
        ax.plot(*best, "r*", ms=10)
        ax.set_xlim(*xr)
        ax.set_ylim(*yr)
        ax.legend(fontsize=7, loc="lower right")
        ax.set_title(f"{steps} steps, lr = {lr_s.value:.3g}", fontsize=10)
        fig.tight_layout()
        _set_png(view, fig)
        diverged = [k for k, v in paths.items() if len(v) < steps + 1]
        info.value = (
            "loss after the last step: "
            + ", ".join(f"{k} {v:.3g}" for k, v in final.items())
            + (f" · <b>diverged</b>: {', '.join(diverged)}" if diverged else "")
        )

    ex = Explorer(
        [w.HBox([lr_s, surf]), w.HBox([b1, b2, steps_s]), info, view],
        {"lr": lr_s, "beta1": b1, "beta2": b2, "steps": steps_s, "surface": surf},
        {"view": view, "info": info},
        "vgglib-optimizer-explorer",
        redraw,
    )
    redraw()
    for c in (lr_s, b1, b2, steps_s, surf):
        c.observe(lambda _: redraw(), names="value")
    return ex


# ============================================================================================= live curves


class LiveCurves(Callback):
    """Training curves redrawn in place while a model trains: a :class:`vgglib.train.Callback` drawing into an
    ``Image`` widget.

    ``live = LiveCurves(); display(live); model.train(..., callbacks=[live])`` (or ``fit(..., callbacks=[live])``).
    It redraws :func:`vgglib.viz.plot_training` every ``every`` batches and after every epoch; called as a
    function with a history dict (``live(history)``) it redraws once. Nothing goes through pyplot, so the cell
    shows one picture that changes, not one per update. Used in ``notebooks/09_training_vgg16_on_mnist.ipynb``.
    """

    def __init__(self, title: str = "training", every: int = 5, figsize: tuple[float, float] = (9.0, 3.0)):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"LiveCurves: every must be a positive int (batches between redraws), got {every!r}")
        self.title, self.every, self.figsize = title, every, figsize
        self.widget = _image("vgglib-live-curves", f"{int(figsize[0] * 80)}px")
        self.history: dict[str, Any] = {}
        self.updates = 0

    def __repr__(self) -> str:
        return f"LiveCurves({self.title!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = self.widget._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = repr(self)
        return data

    # -- the Callback hooks ------------------------------------------------------------------------------
    def on_batch_end(self, history: dict[str, Any]) -> None:
        if len(history.get("batch_loss") or []) % self.every == 0:
            self.update(history)

    def on_epoch_end(self, history: dict[str, Any]) -> None:
        self.update(history)

    def on_train_end(self, history: dict[str, Any]) -> None:
        self.update(history)

    def __call__(self, history: Mapping[str, Any]) -> None:
        if not isinstance(history, Mapping):
            raise TypeError(f"LiveCurves: expected a history dict, got {type(history).__name__}")
        self.update(history)

    def update(self, history: Mapping[str, Any]) -> None:
        """Redraw from a (possibly partial) training history."""
        self.history = dict(history)
        try:
            fig = viz.new_figure(self.figsize)
            viz.plot_training(history, fig=fig, title=self.title)
        except ValueError:
            return  # nothing to plot yet
        fig.tight_layout()
        _set_png(self.widget, fig)
        self.updates += 1
