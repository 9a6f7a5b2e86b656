"""vgglib.widgets headless: build each explorer, move its controls, check what it shows changes accordingly."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import signal  # noqa: E402

from vgglib import optim, widgets  # noqa: E402
from vgglib.mnist import load_mnist  # noqa: E402
from vgglib.model import VGG16  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist("test")
    return X[:12], y[:12]


@pytest.fixture(scope="module")
def model():
    return VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(3))


def is_png(b):
    return isinstance(b, bytes) and b[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------- feature maps


def test_feature_map_explorer_follows_the_layer_slider(model, digits):
    X, y = digits
    ex = widgets.feature_map_explorer(model, X, y, max_channels=8)
    slider = ex.controls["layer"]
    assert list(slider.options) == widgets.spatial_layers(model, (1, 32, 32))
    assert slider.options[0] == "conv1_1" and slider.options[-1] == "pool5"
    assert "Flatten" not in [type(model[n]).__name__ for n in slider.options]
    first = ex.png("feature_maps")
    assert is_png(first) and ex.state["layer_shape"] == (4, 32, 32)

    x = model.prepare(X[:1])
    for name in ("pool2", "conv3_3", "relu4_1"):
        slider.value = name
        expected = x
        for layer in model.layers:
            expected = layer.forward(expected, training=False)
            if layer.name == name:
                break
        c = expected.shape[1]
        assert ex.state["layer_shape"] == expected.shape[1:]
        assert ex.controls["channels"].max == c - 1
        np.testing.assert_allclose(ex.state["maps"], expected[0, : min(c, 8)], rtol=1e-5, atol=1e-6)
        assert f"layer <code>{name}</code> output {c}×" in ex.views["info"].value
    assert ex.png("feature_maps") != first


def test_feature_map_explorer_channel_range_and_digit(model, digits):
    X, y = digits
    ex = widgets.feature_map_explorer(model, X, y, max_channels=4, layer="conv3_1")
    assert ex.state["maps"].shape == (4, 8, 8)
    before = ex.png("feature_maps")
    ex.controls["channels"].value = (5, 14)  # wider than max_channels: clipped to 4
    assert ex.state["channel_range"] == (5, 8) and ex.state["maps"].shape == (4, 8, 8)
    np.testing.assert_allclose(ex.state["maps"], ex.state["activations"]["conv3_1"][0, 5:9])
    assert ex.png("feature_maps") != before

    probs0, input0 = ex.state["probs"], ex.png("input")
    ex.controls["digit"].value = 7
    np.testing.assert_allclose(ex.state["probs"], model.predict_proba(X[7:8])[0], rtol=1e-5)
    assert not np.allclose(ex.state["probs"], probs0)
    assert ex.png("input") != input0 and is_png(ex.png("predictions"))
    assert f"label <b>{y[7]}</b>" in ex.views["info"].value
    filters = ex.png("filters")
    assert is_png(filters)


def test_feature_map_explorer_uses_one_scale_per_channel_across_digits(model, digits):
    X, y = digits
    ex = widgets.feature_map_explorer(model, X, y, max_channels=4, layer="pool5")
    assert ex.state["layer_shape"][1:] == (1, 1)  # 1x1 maps: constant, black under per-map scaling
    # each channel's scale is its range over all the explorer's digits, 0 included
    acts = model.prepare(X)
    for layer in model.layers:
        acts = layer.forward(acts, training=False)
        if layer.name == "pool5":
            break
    lo = np.minimum(acts[:, :4].min(axis=(0, 2, 3)), 0)
    hi = np.maximum(acts[:, :4].max(axis=(0, 2, 3)), 0)
    np.testing.assert_allclose(ex.state["scale"], np.stack([lo, hi], axis=1), rtol=1e-5, atol=1e-7)
    # a constant, nonzero map is drawn at its value on that scale, not at the bottom (black)
    maps, drawn = ex.state["maps"], ex.state["drawn"]
    nonzero = maps[:, 0, 0] > 0
    assert nonzero.any() and (drawn[nonzero] > 0).all()
    np.testing.assert_allclose(drawn[:, 0, 0], (maps[:, 0, 0] - lo) / np.where(hi > lo, hi - lo, 1), rtol=1e-5)

    # the same channel for two digits: the same scale, so equal values look equal and differences show
    scale0, maps0, drawn0 = ex.state["scale"].copy(), maps.copy(), drawn.copy()
    pic0 = ex.png("feature_maps")
    other = next(i for i in range(1, len(X)) if y[i] != y[0])
    ex.controls["digit"].value = other
    np.testing.assert_array_equal(ex.state["scale"], scale0)
    maps1, drawn1 = ex.state["maps"], ex.state["drawn"]
    assert not np.allclose(maps1, maps0)
    span = scale0[:, 1] - scale0[:, 0]
    ok = span > 0
    np.testing.assert_allclose(
        (drawn1 - drawn0)[ok, 0, 0], ((maps1 - maps0)[ok, 0, 0]) / span[ok], rtol=1e-5, atol=1e-7
    )
    assert ex.png("feature_maps") != pic0

    # on a larger layer too: drawn = (maps - lo) / (hi - lo), in [0, 1]
    ex.controls["layer"].value = "relu2_2"
    sc, m, d = ex.state["scale"], ex.state["maps"], ex.state["drawn"]
    assert sc.shape == (m.shape[0], 2) and (sc[:, 0] <= 0).all() and (sc[:, 1] >= m.max(axis=(1, 2))).all()
    assert d.min() >= 0 and d.max() <= 1
    k = int(np.argmax(sc[:, 1] - sc[:, 0]))
    np.testing.assert_allclose(d[k], (m[k] - sc[k, 0]) / (sc[k, 1] - sc[k, 0]), rtol=1e-5, atol=1e-7)


def test_feature_map_explorer_takes_prepared_inputs_and_checks_arguments(model, digits):
    X, y = digits
    x = model.prepare(X[:3])
    ex = widgets.feature_map_explorer(model, x)
    assert ex.state["layer_shape"] == (4, 32, 32)
    assert "label" not in ex.views["info"].value
    with pytest.raises(ValueError, match="labels"):
        widgets.feature_map_explorer(model, X, y[:3])
    with pytest.raises(ValueError, match="not one of"):
        widgets.feature_map_explorer(model, X, layer="fc1")
    with pytest.raises(TypeError):
        widgets.feature_map_explorer(object(), X)


# ----------------------------------------------------------------------------------------- dropout


def test_dropout_explorer_masks_like_the_dropout_layer(model, digits):
    X, y = digits
    ex = widgets.dropout_explorer(model, X[0], int(y[0]), p=0.5, n_masks=50)
    s = ex.state
    units = s["mask"].size
    assert units == model["fc1"].num_outputs  # the input of dropout_fc1
    assert set(np.unique(s["mask"])) <= {0.0, 2.0}
    np.testing.assert_allclose(s["after"], s["before"] * s["mask"])
    np.testing.assert_allclose(s["probs_test"], model.predict_proba(X[:1])[0], rtol=1e-5)
    first = ex.png("view")

    ex.controls["p"].value = 0.8
    kept = ex.state["kept"]
    assert abs(kept - 0.2) < 4 * np.sqrt(0.2 * 0.8 / units)  # binomial: 4 standard deviations
    assert set(np.unique(ex.state["mask"])) <= {0.0, 5.0}
    assert ex.png("view") != first and "p = 0.80" in ex.views["info"].value

    mask = ex.state["mask"].copy()
    ex.controls["resample"].click()
    assert not np.array_equal(ex.state["mask"], mask)

    ex.controls["p"].value = 0.0
    assert ex.state["kept"] == 1.0
    np.testing.assert_allclose(ex.state["probs_mask"], ex.state["probs_test"])
    np.testing.assert_allclose(ex.state["probs_mean"], ex.state["probs_test"], rtol=1e-4)  # float32 batch


def test_dropout_explorer_is_reproducible_and_checks_arguments(model, digits):
    X, y = digits
    a = widgets.dropout_explorer(model, X[1], seed=4, n_masks=10)
    b = widgets.dropout_explorer(model, X[1], seed=4, n_masks=10)
    assert a.png("view") == b.png("view")
    np.testing.assert_array_equal(a.state["mask"], b.state["mask"])
    c = widgets.dropout_explorer(model, X[1], layer="dropout_fc2", n_masks=10)
    assert c.state["mask"].shape == (model["fc2"].num_outputs,)
    with pytest.raises(ValueError, match="no layer named"):
        widgets.dropout_explorer(model, X[1], layer="nope")
    with pytest.raises(ValueError, match="one image"):
        widgets.dropout_explorer(model, X[:2])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        widgets.dropout_explorer(model, X[1], p=1.0)
    no_dropout = VGG16(input_size=32, width=1 / 16, dropout=0.0)
    d = widgets.dropout_explorer(no_dropout, X[1], layer="relu3_1", n_masks=5)  # feature maps (C, H, W)
    assert d.state["mask"].shape == (16, 8, 8)


# ----------------------------------------------------------------------------------------- augmentation


def test_augmentation_explorer_sliders_change_the_grid(digits):
    X, _ = digits
    ex = widgets.augmentation_explorer(X, n_show=6, n_draws=2)
    orig = X[:6].astype(np.float32) / 255
    aug = ex.state["augmented"]
    assert aug.shape == (2, 6, 28, 28)
    np.testing.assert_array_equal(aug[0], orig)  # nothing switched on: copies
    blank = ex.png("grid")

    ex.controls["rotation"].value = 30.0
    assert not np.allclose(ex.state["augmented"][0], orig)
    assert ex.png("grid") != blank
    ex.controls["rotation"].value = 0.0

    ex.controls["flip"].value = True
    for row in ex.state["augmented"]:
        for a, o in zip(row, orig):
            assert np.array_equal(a, o) or np.array_equal(a, o[:, ::-1])
    ex.controls["flip"].value = False

    ex.controls["shift"].value = 3
    shifted = ex.state["augmented"].copy()
    ex.controls["resample"].click()
    assert not np.array_equal(ex.state["augmented"], shifted)

    ex.controls["shift"].value = 0
    ex.controls["zca"].value = True
    assert "ZCA" in ex.views["info"].value
    white = ex.png("grid")
    ex.controls["epsilon"].value = 1.0
    assert ex.png("grid") != white


def test_augmentation_explorer_checks_input():
    with pytest.raises(ValueError):
        widgets.augmentation_explorer(np.zeros((4, 3, 28, 28), np.float32))
    with pytest.raises(TypeError):
        widgets.augmentation_explorer(np.zeros((4, 28, 28), np.int32))


# ----------------------------------------------------------------------------------------- convolution


def test_conv_playground_matches_cross_correlation(digits):
    X, _ = digits
    ex = widgets.conv_playground(X[0])
    img = X[0].astype(np.float64) / 255
    np.testing.assert_allclose(ex.state["output"], img)  # identity kernel, padding 1
    ex.controls["kernel"].value = "vertical edges (Sobel x)"
    expected = signal.correlate2d(img, widgets.KERNELS["vertical edges (Sobel x)"], mode="same")
    np.testing.assert_allclose(ex.state["output"], expected, atol=1e-12)
    ex.controls["relu"].value = True
    np.testing.assert_allclose(ex.state["output"], np.maximum(expected, 0), atol=1e-12)
    ex.controls["padding"].value = 0
    ex.controls["stride"].value = 2
    assert ex.state["output"].shape == (13, 13)
    assert "⌊(28 + 2·0 − 3)/2⌋ + 1 = 13" in ex.views["info"].value
    with pytest.raises(ValueError):
        widgets.conv_playground(X[0], kernels={"bad": np.ones((2, 2))})


# ----------------------------------------------------------------------------------------- optimizers


def make_optimizers(lr, beta1, beta2):
    return {
        "SGD": optim.SGD(lr),
        "momentum": optim.SGD(lr, momentum=beta1),
        "Adam": optim.Adam(lr, betas=(beta1, beta2)),
    }


def test_optimizer_trajectories_follow_the_update_rules():
    paths = widgets.optimizer_trajectories(
        {"sgd": optim.SGD(0.05), "plain": lambda p, g: p - 0.05 * g}, "ravine", steps=10
    )
    np.testing.assert_allclose(paths["sgd"], paths["plain"])
    xy = np.array([-5.0, 1.0])
    for _ in range(3):
        xy = xy - 0.05 * np.array([xy[0], 50 * xy[1]])
    np.testing.assert_allclose(paths["sgd"][3], xy)


def test_optimizer_explorer_redraws_for_new_settings():
    ex = widgets.optimizer_explorer(make_optimizers, lr=0.02, steps=40)
    paths = ex.state["paths"]
    assert set(paths) == {"SGD", "momentum", "Adam"} and paths["SGD"].shape == (41, 2)
    start = 0.5 * (25 + 50 * 1.0**2)
    assert all(v < start for v in ex.state["final_loss"].values())
    first = ex.png("view")
    ex.controls["lr"].value = 0.1  # 0.1 · 50 > 2: SGD diverges on the ravine
    assert len(ex.state["paths"]["SGD"]) < 41 and "diverged" in ex.views["info"].value
    assert ex.png("view") != first
    ex.controls["steps"].value = 10
    assert ex.state["paths"]["Adam"].shape == (11, 2)
    ex.controls["surface"].value = "rosenbrock"
    assert ex.state["paths"]["Adam"][0].tolist() == [-1.5, 2.5]
    with pytest.raises(ValueError, match="surface"):
        widgets.optimizer_explorer(make_optimizers, surface="bowl")


# ----------------------------------------------------------------------------------------- live curves


def test_live_curves_redraw_during_training(digits):
    from vgglib.layers import Flatten, FullyConnected
    from vgglib.model import Sequential
    from vgglib.train import fit

    X, y = digits
    model = Sequential([Flatten(), FullyConnected(784, 10)], input_shape=(1, 28, 28))
    live = widgets.LiveCurves(title="t", every=2)
    live({"lr": [0.1]})  # nothing to plot yet: no picture, no error
    assert live.updates == 0 and bytes(live.widget.value) == b""
    pictures = []
    live.widget.observe(lambda change: pictures.append(bytes(change["new"])), names="value")
    fit(model, (X, y), epochs=2, batch_size=4, callbacks=[live], progress=False, verbose=False)
    # 3 batches per epoch: redraws after batches 2, 4 and 6, after each epoch and at the end
    assert live.updates == 6 and len(pictures) >= 4
    assert all(is_png(p) for p in pictures) and len(set(pictures)) >= 4
    assert live.history["epoch"] == [1, 2] and len(live.history["batch_loss"]) == 6
    assert "LiveCurves('t')" == live._repr_mimebundle_()["text/plain"]
    with pytest.raises(TypeError):
        live([1, 2])
    with pytest.raises(ValueError):
        widgets.LiveCurves(every=0)


def test_explorer_layout_has_one_picture_per_view(model, digits):
    X, y = digits
    ex = widgets.feature_map_explorer(model, X, y)
    images = []

    def walk(w):
        if w.__class__.__name__ == "Image":
            images.append(w)
        for child in getattr(w, "children", ()):
            walk(child)

    walk(ex)
    assert sorted(map(id, images)) == sorted(id(v) for v in ex.views.values() if v.__class__.__name__ == "Image")
    assert "vgglib-feature-map-explorer" in ex._dom_classes
    assert "vgglib-layer-slider" in ex.controls["layer"]._dom_classes
    assert repr(ex) == "feature-map-explorer (controls: digit, layer, channels)"


# ----------------------------------------------------------------------------------------- drawing pad


def test_canvas_to_mnist_gives_back_mnist_digits_drawn_larger(digits):
    """MNIST's own recipe (larger side 20 pixels, centre of mass at pixel 14) applied to an MNIST digit blown up
    k times gives the digit back (within 1 of 255: the brightest pixel is stretched to 255)."""
    X, _ = digits
    for k in (3, 10, 13):
        for digit in X:
            big = np.kron(digit, np.ones((k, k), np.uint8))
            out = widgets.canvas_to_mnist(big)
            assert out.dtype == np.uint8 and out.shape == (28, 28)
            assert np.abs(out.astype(int) - digit).max() <= 1


def _box(img):
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _centre_of_mass(img):
    g = np.arange(img.shape[0])
    m = img.astype(float)
    return np.array([m.sum(axis=1) @ g, m.sum(axis=0) @ g]) / m.sum()


def test_canvas_to_mnist_scales_and_centres_like_mnist():
    canvas = np.zeros((280, 280))
    canvas[40:140, 200:250] = 1.0  # a 100 x 50 block, far off-centre, in the top right corner
    canvas[120:140, 200:210] = 0.0  # (not symmetric: its centre of mass is not its middle)
    out = widgets.canvas_to_mnist(canvas)
    assert _box(out) == (20, 10)  # larger side 20, aspect ratio kept
    assert np.all(np.abs(_centre_of_mass(out) - 14) <= 0.5)
    assert out.max() == 255
    # where and how large it was drawn does not matter
    moved = np.roll(canvas, (100, -150), axis=(0, 1))
    np.testing.assert_array_equal(widgets.canvas_to_mnist(moved), out)
    small = canvas[::2, ::2]  # the same drawing at half the size
    np.testing.assert_array_equal(widgets.canvas_to_mnist(small), out)
    # thin strokes become grey (area averaging), as in MNIST
    line = np.zeros((200, 200))
    line[:, 100:105] = 1.0  # 5 of 200 pixels wide: half a pixel after scaling by 20/200
    thin = widgets.canvas_to_mnist(line)
    assert _box(thin) == (20, 1) or _box(thin) == (20, 2)
    # matches the MNIST test digits' statistics: every one of them has its centre of mass this close to 14
    X, _ = load_mnist("test")
    assert np.all(np.abs(np.array([_centre_of_mass(x) for x in X[:200]]) - 14) <= 0.5)


def test_canvas_to_mnist_reads_grey_rgb_and_rgba_and_checks_its_input():
    grey = np.zeros((60, 60), np.uint8)
    grey[10:50, 25:35] = 255
    out = widgets.canvas_to_mnist(grey)
    np.testing.assert_array_equal(widgets.canvas_to_mnist(grey / 255.0), out)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)  # white ink on black
    np.testing.assert_array_equal(widgets.canvas_to_mnist(rgb), out)
    rgba = np.zeros((60, 60, 4), np.uint8)  # white ink on a transparent canvas
    rgba[..., :3] = 255
    rgba[..., 3] = grey
    np.testing.assert_array_equal(widgets.canvas_to_mnist(rgba), out)
    np.testing.assert_array_equal(widgets.canvas_to_mnist(np.zeros((50, 50))), np.zeros((28, 28), np.uint8))
    with pytest.raises(ValueError, match="drawing"):
        widgets.canvas_to_mnist(np.zeros((2, 50, 50)))
    with pytest.raises(ValueError, match="NaN"):
        widgets.canvas_to_mnist(np.full((5, 5), np.nan))
    with pytest.raises(TypeError):
        widgets.canvas_to_mnist(np.array([["a", "b"]]))


def test_strokes_to_image_draws_round_pens():
    img = widgets.strokes_to_image([[(10, 20), (50, 20)]], (40, 60), line_width=6)
    assert img.shape == (40, 60) and img.min() == 0 and img.max() == 1
    np.testing.assert_array_equal(img[20, 10:50], 1.0)  # on the line
    assert img[:16].max() == 0 and img[25:].max() == 0  # more than half the width (+ half a pixel) away
    assert img[20, 7] > 0 and img[20, 5] == 0  # round cap: reaches half the width (3) beyond the end
    dot = widgets.strokes_to_image([[(30.0, 30.0)]], (60, 60), line_width=10)
    assert abs(dot.sum() - np.pi * 5**2) < 3  # a disc of radius 5 (edges anti-aliased)
    two = widgets.strokes_to_image([[(5, 5), (5, 30)], [(20, 5), (20, 30)]], (40, 40), 4)
    assert two[15, 5] == 1 and two[15, 20] == 1 and two[15, 12] == 0  # two strokes, not joined
    off = widgets.strokes_to_image([[(-50, -50), (-20, -20)], []], (10, 10), 4)
    assert off.max() == 0  # off the canvas: clipped, nothing drawn
    with pytest.raises(ValueError, match="line_width"):
        widgets.strokes_to_image([[(1, 1)]], (10, 10), 0)
    with pytest.raises(ValueError, match="NaN"):
        widgets.strokes_to_image([[(1, np.nan)]], (10, 10), 2)


def _mouse(canvas, event, x, y):
    """What the browser sends when the mouse acts on an ipycanvas Canvas."""
    canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])


SEVEN = [[(60, 50), (200, 50), (200, 60), (120, 240)]]  # a "7": across the top, then down to the left


def test_drawing_pad_follows_the_mouse(model, digits):
    X, _ = digits
    pad = widgets.drawing_pad(model, X, layer="relu2_2")
    assert repr(pad) == "drawing-pad (controls: canvas, clear, layer)"
    assert "vgglib-drawing-pad" in pad._dom_classes and "vgglib-pad-canvas" in pad.controls["canvas"]._dom_classes
    assert pad.state["prediction"] is None and "Draw a digit" in pad.views["prediction"].value
    pictures = {v: pad.png(v) for v in ("input", "probabilities", "feature_maps")}
    assert all(is_png(p) for p in pictures.values())

    canvas = pad.controls["canvas"]
    _mouse(canvas, "mouse_move", 10, 10)  # moving without the button pressed draws nothing
    assert pad.state["prediction"] is None
    _mouse(canvas, "mouse_down", *SEVEN[0][0])
    for x, y in SEVEN[0][1:]:
        _mouse(canvas, "mouse_move", x, y)
    assert pad.state["prediction"] is None  # updates when the button is released
    _mouse(canvas, "mouse_up", *SEVEN[0][-1])

    expected = widgets.canvas_to_mnist(widgets.strokes_to_image(SEVEN, (280, 280), 18.0))
    np.testing.assert_array_equal(pad.state["digit"], expected)
    np.testing.assert_allclose(pad.state["probs"], model.predict_proba(expected[None])[0], rtol=1e-5, atol=1e-7)
    pred = int(np.argmax(pad.state["probs"]))
    assert pad.state["prediction"] == pred
    assert f">{pred}</b>" in pad.views["prediction"].value and viz_color(pred) in pad.views["prediction"].value
    for view, before in pictures.items():
        assert is_png(pad.png(view)) and pad.png(view) != before, view
    # the feature maps are those of the drawn digit, on each channel's scale over the reference digits
    h = model.prepare(expected[None])
    for layer in model.layers:
        h = layer.forward(h, training=False)
        if layer.name == "relu2_2":
            break
    np.testing.assert_allclose(pad.state["maps"], h[0, :16], rtol=1e-5, atol=1e-6)
    assert pad.state["scale"].shape == (h.shape[1], 2)
    assert pad.state["drawn"].min() >= 0 and pad.state["drawn"].max() <= 1

    maps_before = pad.png("feature_maps")
    pad.controls["layer"].value = "pool3"
    assert pad.state["layer"] == "pool3" and pad.state["maps"].shape[1:] == (4, 4)
    assert pad.png("feature_maps") != maps_before

    # a second stroke adds to the first; leaving the canvas ends a stroke like releasing the button
    _mouse(canvas, "mouse_down", 100, 150)
    _mouse(canvas, "mouse_move", 200, 150)
    _mouse(canvas, "mouse_out", 260, 150)
    assert len(pad.state["strokes"]) == 2
    both = widgets.canvas_to_mnist(widgets.strokes_to_image(pad.state["strokes"], (280, 280), 18.0))
    np.testing.assert_array_equal(pad.state["digit"], both)

    pad.controls["clear"].click()
    assert pad.state["prediction"] is None and pad.state["strokes"] == []
    assert "Draw a digit" in pad.views["prediction"].value
    pad.draw(SEVEN)  # from code: the same as with the mouse
    np.testing.assert_array_equal(pad.state["digit"], expected)


def viz_color(d):
    from vgglib import viz

    return viz.digit_color(d)


def test_drawing_pad_without_reference_and_bad_arguments(model):
    pad = widgets.drawing_pad(model)
    assert pad.controls["layer"].value == "relu1_1"
    pad.draw(SEVEN)
    maps, scale = pad.state["maps"], pad.state["scale"]
    np.testing.assert_allclose(scale[:, 1], np.maximum(maps.max(axis=(1, 2)), 0))  # scaled to the digit itself
    pad.clear()
    assert pad.state["prediction"] is None
    pad.draw([[(-40, -40)]])  # nothing on the canvas: still empty
    assert pad.state["prediction"] is None
    with pytest.raises(ValueError, match="not one of"):
        widgets.drawing_pad(model, layer="fc1")
    with pytest.raises(ValueError, match="reference"):
        widgets.drawing_pad(model, np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="size"):
        widgets.drawing_pad(model, size=10)
    with pytest.raises(TypeError):
        widgets.drawing_pad(object())


def test_probability_bars_use_the_digit_colours():
    import matplotlib.colors as mcolors

    from vgglib import viz

    fig = viz.new_figure()
    ax = fig.add_subplot()
    probs = np.linspace(0.01, 0.19, 10)
    widgets._probability_bars(ax, probs, label=3)
    assert [mcolors.to_hex(p.get_facecolor()) for p in ax.patches] == list(viz.DIGIT_COLORS)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], probs)
    assert ax.get_xlabel() and ax.get_ylabel() == "probability"
    assert ax.get_xticklabels()[3].get_color() == viz.WRONG_COLOR  # label 3, predicted 9
