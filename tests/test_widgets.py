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
