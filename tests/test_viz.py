"""vgglib.viz: image mosaics, confusion matrices, misclassified digits and the plotting helpers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vgglib import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_tile_places_each_image_in_its_cell():
    rng = np.random.default_rng(0)
    imgs = rng.random((5, 3, 4))
    out = viz.tile(imgs, ncols=2, pad=1, normalize=None)
    assert out.shape == (3 * 4 - 1, 2 * 5 - 1)
    for i in range(5):
        r, c = divmod(i, 2)
        np.testing.assert_array_equal(out[r * 4 : r * 4 + 3, c * 5 : c * 5 + 4], imgs[i])
    assert np.isnan(out[3]).all() and np.isnan(out[:, 4]).all()  # gaps between cells
    assert np.isnan(out[8:, 5:]).all()  # the empty sixth cell


def test_tile_normalizes_each_image_to_its_own_range():
    imgs = np.stack([np.arange(4.0).reshape(2, 2), 100 + 10 * np.arange(4.0).reshape(2, 2), np.full((2, 2), 7.0)])
    out = viz.tile(imgs, ncols=3, pad=0)
    np.testing.assert_allclose(out[:, :2], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_allclose(out[:, 2:4], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_array_equal(out[:, 4:], 0)  # a constant map becomes 0, not NaN
    together = viz.tile(imgs, ncols=3, pad=0, normalize="all")
    assert together.min() == 0 and together.max() == 1 and together[0, 0] == 0


def test_tile_default_layout_is_square_and_accepts_nchw():
    out = viz.tile(np.zeros((10, 1, 2, 2)), pad=0, normalize=None)
    assert out.shape == (3 * 2, 4 * 2)  # ceil(sqrt(10)) = 4 columns


@pytest.mark.parametrize(
    "bad, err", [(np.zeros((0, 2, 2)), ValueError), (np.zeros((2, 3, 4, 4)), ValueError), (np.zeros(5), ValueError)]
)
def test_tile_rejects_bad_input(bad, err):
    with pytest.raises(err):
        viz.tile(bad)
    with pytest.raises(ValueError, match="normalize"):
        viz.tile(np.zeros((1, 2, 2)), normalize="max")


def test_confusion_matrix_counts_pairs():
    t = np.array([0, 1, 2, 2, 1, 0, 2])
    p = np.array([0, 2, 2, 2, 1, 1, 0])
    cm = viz.confusion_matrix(t, p, num_classes=3)
    expected = np.zeros((3, 3), int)
    for a, b in zip(t, p):
        expected[a, b] += 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == len(t) and np.trace(cm) == int((t == p).sum())


@pytest.mark.parametrize("t, p", [([0, 1], [0]), ([0, 10], [0, 1]), ([0.5, 1.0], [0, 1]), ([-1, 0], [0, 0])])
def test_confusion_matrix_rejects_bad_labels(t, p):
    with pytest.raises(ValueError):
        viz.confusion_matrix(np.array(t), np.array(p), num_classes=10)


def test_misclassified_orders_confident_mistakes_first():
    t = np.array([0, 1, 2, 3])
    p = np.array([0, 2, 1, 1])
    probs = np.full((4, 3), 0.1)
    probs[1, 2], probs[2, 1], probs[3, 1] = 0.6, 0.9, 0.7
    np.testing.assert_array_equal(viz.misclassified(t, p), [1, 2, 3])
    np.testing.assert_array_equal(viz.misclassified(t, p, probs), [2, 3, 1])
    with pytest.raises(ValueError):
        viz.misclassified(t, p, probs[:3])


def test_show_images_titles_mark_wrong_predictions():
    imgs = np.zeros((3, 1, 4, 4))
    fig = viz.show_images(imgs, labels=[1, 2, 3], predictions=[1, 5, 3], ncols=3)
    titles = [ax.get_title() for ax in fig.axes]
    colors = [ax.title.get_color() for ax in fig.axes]
    assert titles == ["1→1", "2→5", "3→3"]
    assert colors[1] == viz.WRONG_COLOR and colors[0] == "black"
    assert all(ax.images[0].get_cmap().name == viz.IMAGE_CMAP for ax in fig.axes)
    fig = viz.show_images(imgs, ncols=3)  # no labels: every panel still has a title
    assert [ax.get_title() for ax in fig.axes] == ["#0", "#1", "#2"]
    fig = viz.show_images(imgs, labels=[1, 2, 3], titles=["a", "b", "c"], ncols=2)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="labels"):
        viz.show_images(imgs, labels=[1, 2])


def test_show_misclassified_shows_only_the_mistakes():
    imgs = np.random.default_rng(0).random((6, 28, 28))
    t = np.array([0, 1, 2, 3, 4, 5])
    p = np.array([0, 1, 7, 3, 9, 5])
    fig = viz.show_misclassified(imgs, t, p, ncols=5)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["2→7", "4→9"]
    np.testing.assert_array_equal(shown[0].images[0].get_array(), imgs[2])
    fig = viz.show_misclassified(imgs, t, t)
    assert "no mistakes" in [tx.get_text() for tx in fig.texts]


def test_plot_history_draws_train_and_val_series():
    hist = {
        "loss": [2.3, 1.0, 0.5],
        "val_loss": [2.2, 1.2, 0.9],
        "accuracy": [0.1, 0.6, 0.9],
        "val_accuracy": [0.1, 0.5, 0.8],
        "lr": [1e-3] * 3,
    }
    fig = viz.plot_history(hist)
    ax, ax2 = fig.axes
    assert [ln.get_label() for ln in ax.get_lines()] == ["loss", "val_loss"]
    assert [ln.get_label() for ln in ax2.get_lines()] == ["accuracy", "val_accuracy"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), hist["val_loss"])
    assert ax.get_lines()[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="no loss"):
        viz.plot_history({"lr": [1.0]})
    with pytest.raises(TypeError):
        viz.plot_history([1, 2, 3])


def test_plot_history_skips_missing_validation():
    fig = viz.plot_history({"train_loss": [1.0, 0.5], "val_loss": [None, None], "batch_loss": [3, 2, 1, 0.5]})
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["train_loss"]


def test_plot_training_draws_batches_and_epochs():
    hist = {
        "batch_loss": [2.3, 2.0, 1.5, 1.2, 1.0, 0.9],
        "epoch": [1, 2],
        "train_loss": [1.9, 1.0],
        "val_loss": [None, None],
        "train_accuracy": [0.4, 0.7],
        "val_accuracy": [None, None],
        "batches_per_epoch": 3,
    }
    fig = viz.plot_training(hist)
    ax1, ax2 = fig.axes
    raw = ax1.get_lines()[0]
    np.testing.assert_allclose(raw.get_xdata(), np.arange(1, 7) / 3)
    assert [ln.get_label() for ln in ax1.get_lines()][1:] == ["batch loss (avg)", "train_loss"]
    assert [ln.get_label() for ln in ax2.get_lines()] == ["train_accuracy"]
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(), [40, 70])
    partial = viz.plot_training({"batch_loss": [2.3], "epoch": [], "batches_per_epoch": 3})
    assert "after the first epoch" in [t.get_text() for t in partial.axes[1].texts]
    with pytest.raises(ValueError):
        viz.plot_training({"batch_loss": [], "epoch": []})


def test_plot_confusion_matrix_writes_counts_and_accuracy():
    cm = np.array([[5, 1], [0, 4]])
    fig = viz.plot_confusion_matrix(cm)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "4", "5"]
    assert ax.get_title() == "accuracy 90.0% of 10"
    with pytest.raises(ValueError):
        viz.plot_confusion_matrix(np.zeros((2, 3)))


def test_feature_maps_and_filters_render_mosaics():
    maps = np.random.default_rng(1).random((6, 5, 5))
    fig = viz.show_feature_maps(maps, ncols=3, first_channel=4)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (2 * 6 - 1, 3 * 6 - 1)
    assert ax.get_title() == "channels 4–9 of 5×5"
    with pytest.raises(ValueError):
        viz.show_feature_maps(maps[0])
    w = np.random.default_rng(2).standard_normal((8, 1, 3, 3))
    fig = viz.show_filters(w)
    img = fig.axes[0].images[0]
    assert img.get_clim() == (-np.abs(w).max(), np.abs(w).max())  # one symmetric scale
    with pytest.raises(ValueError):
        viz.show_filters(np.zeros((3, 3)))


def test_plot_probabilities_marks_the_label():
    from matplotlib.colors import to_hex

    fig = viz.plot_probabilities({"a": np.full(10, 0.1), "b": np.eye(10)[3]}, label=3)
    ax = fig.axes[0]
    assert len(ax.patches) == 20
    assert ax.get_xticklabels()[3].get_fontweight() == "bold"
    assert all(ax.patches[k].get_linewidth() == 1.5 for k in (3, 13))  # the true class's bars outlined
    assert ax.get_xlabel() == "digit (true: 3)" and ax.get_ylabel() == "probability"
    one = viz.plot_probabilities(np.full(10, 0.1)).axes[0]
    assert [to_hex(bar.get_facecolor()) for bar in one.patches] == list(viz.DIGIT_COLORS)  # per-class bars
    with pytest.raises(ValueError):
        viz.plot_probabilities({"a": np.ones(3), "b": np.ones(4)})


def test_figure_to_png_is_deterministic():
    def draw():
        fig = viz.new_figure((2, 2))
        fig.add_subplot().plot([0, 1], [1, 0])
        return viz.figure_to_png(fig)

    a, b = draw(), draw()
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b


def test_one_digit_colour_scheme():
    from matplotlib.colors import to_hex

    assert len(set(viz.DIGIT_COLORS)) == 10
    assert [viz.digit_color(d) for d in range(10)] == list(viz.DIGIT_COLORS)
    assert viz.DIGIT_COLORS[3] == to_hex("tab:red")
    for bad in (-1, 10):
        with pytest.raises(ValueError, match="0..9"):
            viz.digit_color(bad)


# ------------------------------------------------------------------------------------------- labels and colours
def _every_figure():
    """One figure from every plotting function (with and without its optional parts), by name."""
    rng = np.random.default_rng(3)
    imgs = rng.random((4, 1, 6, 6))
    hist = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.2], "accuracy": [0.3, 0.6], "val_accuracy": [0.2, 0.5]}
    training = {"batch_loss": [2.3, 2.0, 1.5, 1.2], "epoch": [1, 2], "train_loss": [2.1, 1.3],
                "val_loss": [2.2, 1.4], "train_accuracy": [0.3, 0.6], "val_accuracy": [0.2, 0.5],
                "batches_per_epoch": 2}  # fmt: skip
    maps = rng.random((6, 4, 4))
    scale = np.stack([maps.min(axis=(1, 2)), maps.max(axis=(1, 2))], axis=1)
    return {
        "show_images": viz.show_images(imgs, ncols=2),
        "show_images labelled": viz.show_images(imgs, labels=[1, 2, 3, 4], predictions=[1, 2, 0, 4], ncols=4),
        "plot_history": viz.plot_history(hist),
        "plot_training": viz.plot_training(training),
        "plot_training partial": viz.plot_training({"batch_loss": [2.3], "epoch": [], "batches_per_epoch": 3}),
        "plot_confusion_matrix": viz.plot_confusion_matrix(np.array([[3, 1], [0, 2]])),
        "show_misclassified": viz.show_misclassified(imgs[:, 0], [0, 1, 2, 3], [0, 5, 2, 1], ncols=2),
        "show_feature_maps": viz.show_feature_maps(maps),
        "show_feature_maps scaled": viz.show_feature_maps(maps, scale=scale),
        "show_filters": viz.show_filters(rng.standard_normal((4, 1, 3, 3))),
        "plot_probabilities": viz.plot_probabilities(np.full(10, 0.1), label=2),
        "plot_probabilities series": viz.plot_probabilities({"a": np.full(3, 1 / 3), "b": np.eye(3)[0]}),
    }


def _shares_x(ax, other):
    return ax is not other and ax.get_shared_x_axes().joined(ax, other)


def test_every_plot_labels_its_axes():
    figures = _every_figure()
    for key, fig in figures.items():
        assert fig.axes, key
        for ax in fig.axes:
            if ax.images:  # an image panel: a title says what it shows
                assert ax.get_title(), (key, "image panel without a title")
                if ax.axison:  # a matrix with meaningful rows and columns
                    assert ax.get_xlabel() and ax.get_ylabel(), (key, "matrix without axis labels")
            elif ax.lines or ax.patches or ax.collections or ax.texts:  # a plot: both axes say what they measure
                xlabel = ax.get_xlabel() or next((o.get_xlabel() for o in fig.axes if _shares_x(ax, o)), "")
                assert xlabel, (key, "plot without an x label")
                assert ax.get_ylabel(), (key, "plot without a y label")


def test_plots_use_the_one_colour_scheme():
    figures = _every_figure()
    cmaps = {key: [im.get_cmap().name for ax in fig.axes for im in ax.images] for key, fig in figures.items()}
    assert set(cmaps["show_images"]) == {viz.IMAGE_CMAP}
    assert set(cmaps["show_feature_maps"]) == set(cmaps["show_feature_maps scaled"]) == {viz.IMAGE_CMAP}
    assert set(cmaps["show_filters"]) == {viz.SIGNED_CMAP}
    wrong = [ax.title.get_color() for ax in figures["show_images labelled"].axes if "→" in ax.get_title()]
    assert wrong.count(viz.WRONG_COLOR) == 1  # 3→0 is the one mistake
    assert {ax.title.get_color() for ax in figures["show_misclassified"].axes if ax.images} == {viz.WRONG_COLOR}


def test_no_literal_colour_where_the_scheme_has_a_name():
    # the scheme's colours are written once, at the top of viz.py; everything else refers to them by name
    import inspect

    source = inspect.getsource(viz)
    for literal in ('"crimson"', '"gray"', '"RdBu_r"', '"viridis"', '"tab:red"'):
        assert source.count(literal) <= 1, literal
    for digit in viz.DIGIT_COLORS:
        assert source.count(f'"{digit}"') == 1, digit
