"""vgglib.model: Sequential, VGG16 (architecture, sizes), summary's exact counts, seed-style train/run."""

import math

import numpy as np
import pytest

from vgglib import mnist, preprocess
from vgglib.gradcheck import numerical_gradient, relative_error
from vgglib.layers import Convolution2D, Dropout, Flatten, FullyConnected, Maxpooling2D, ReLU
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16, Sequential, build_model, vgg16_layer_configs
from vgglib.summarize import summary

CONV = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def independent_counts(in_channels, num_classes, size, hidden=4096):
    """Parameters, MACs and activations of VGG16 computed here from the paper's table, not from vgglib."""
    params = macs = 0
    acts = in_channels * size * size
    c, s = in_channels, size
    for v in CONV:
        if v == "M":
            s //= 2
            acts += c * s * s
        else:
            params += v * c * 9 + v
            macs += s * s * v * c * 9
            acts += v * s * s
            c = v
    for n_in, n_out in ((c * s * s, hidden), (hidden, hidden), (hidden, num_classes)):
        params += n_in * n_out + n_out
        macs += n_in * n_out
        acts += n_out
    return params, macs, acts


def test_imagenet_vgg16_summary_numbers_are_exact(capsys):
    s = summary(VGG16.spec(in_channels=3, num_classes=1000, input_size=224))
    printed = capsys.readouterr().out
    assert s.total_params == 138_357_544
    assert f"{s.total_macs / 1e9:.2f}" == "15.47"
    assert s.total_activations == 15_237_608
    assert (s.total_params, s.total_macs, s.total_activations) == independent_counts(3, 1000, 224)
    assert round(s.activation_bytes / 2**20, 1) == 58.1  # ≈58 MB per image forward in float32
    assert "138,357,544" in printed and "15,237,608" in printed and "15.47 GMAC" in printed
    # the seed's "24M activations ≈ 93 MB" is not what the per-layer sum gives
    assert abs(s.total_activations - 24e6) > 8e6


def test_seed_mnist_vgg16_summary():
    s = summary(VGG16.spec(), print_table=False)  # 64x64x1, 10 classes
    assert (s.total_params, s.total_macs, s.total_activations) == independent_counts(1, 10, 64)
    assert round(s.total_params / 1e6, 1) == 39.9
    assert round(s.total_macs / 1e9, 2) == 1.27
    fc1 = next(r for r in s.rows if r.name == "fc1")
    assert fc1.params == 2048 * 4096 + 4096  # 512·2·2 = 2048 -> 4096


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(input_size=32, width=0.25),
        dict(input_size=64, width=0.125, dropout=0.3),
        dict(in_channels=3, num_classes=7, input_size=96, width=1 / 16),
    ],
)
def test_real_model_summary_equals_spec_summary(kwargs):
    model = VGG16(**kwargs)
    real = summary(model, print_table=False)
    spec = summary(VGG16.spec(**kwargs), print_table=False)
    assert real.rows == spec.rows
    assert real.total_params == model.num_params()
    assert real.input_shape == model.input_shape
    x = np.zeros((2, *model.input_shape), np.float32)
    assert model.forward(x, training=False).shape == (2, kwargs.get("num_classes", 10))
    # every row's output shape is what the layer really produces
    for layer, row in zip(model.layers, real.rows):
        x = layer.forward(x, training=False)
        assert x.shape[1:] == row.output_shape


def test_vgg16_structure():
    model = VGG16(input_size=32, width=1 / 16)
    types = [type(layer).__name__ for layer in model.layers]
    assert types.count("Convolution2D") == 13 and types.count("FullyConnected") == 3
    assert types.count("Maxpooling2D") == 5 and types.count("Dropout") == 2
    convs = [layer for layer in model.layers if isinstance(layer, Convolution2D)]
    assert all(c.kernel_size == 3 and c.padding == 1 and c.stride == 1 for c in convs)
    assert [c.num_filters for c in convs] == [max(1, round(v / 16)) for v in CONV if v != "M"]
    # ReLU after every conv and hidden FC; dropout after fc1 and fc2 only; logits last (no dropout after them)
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Convolution2D) or layer.name in ("fc1", "fc2"):
            assert isinstance(model.layers[i + 1], ReLU)
    assert [model.layers[model.names.index(n) + 2].name for n in ("fc1", "fc2")] == ["dropout_fc1", "dropout_fc2"]
    assert model.names[-1] == "fc3" and isinstance(model.layers[-1], FullyConnected)
    assert len(set(model.names)) == len(model.names)


@pytest.mark.parametrize("size", [28, 48, 16, 0, -32])
def test_sizes_that_cannot_pass_five_pools_are_refused(size):
    with pytest.raises(ValueError, match="input_size"):
        VGG16(input_size=size)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0), "width"),
        (dict(width=-1.0), "width"),
        (dict(dropout=1.0), "dropout"),
        (dict(in_channels=0), "in_channels"),
        (dict(num_classes=2.5), "num_classes"),
    ],
)
def test_bad_vgg16_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VGG16(**kwargs)


def test_default_vgg16_is_reproducible_and_rng_changes_it():
    a, b = VGG16(input_size=32, width=1 / 16), VGG16(input_size=32, width=1 / 16)
    c = VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(1))
    assert all(np.array_equal(p.value, q.value) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a["conv1_1"].params["weights"], c["conv1_1"].params["weights"])


def test_sequential_names_iteration_and_parameters():
    rng = np.random.default_rng(0)
    layers = [
        Convolution2D(1, 2, 3, padding=1, rng=rng),
        ReLU(),
        Convolution2D(2, 2, 3, padding=1, rng=rng),
        ReLU(),
        Maxpooling2D(),
        Flatten(),
        FullyConnected(2 * 4 * 4, 3, rng=rng),
    ]
    model = Sequential(layers, input_shape=(1, 8, 8))
    assert model.names == ["conv", "relu", "conv_2", "relu_2", "pool", "flatten", "fc"]
    assert [name for name, _ in model] == model.names and model[2] is layers[2] and model["fc"] is layers[-1]
    params = list(model.parameters())
    assert [p.name for p in params] == [
        "conv.weights",
        "conv.bias",
        "conv_2.weights",
        "conv_2.bias",
        "fc.weights",
        "fc.bias",
    ]
    assert params[0].value is layers[0].params["weights"]
    assert model.num_params() == 2 * 9 + 2 + 2 * 2 * 9 + 2 + 32 * 3 + 3
    with pytest.raises(KeyError, match="no layer named"):
        model["nope"]
    with pytest.raises(ValueError, match="cannot take input"):
        Sequential([Flatten(), FullyConnected(10, 2)], input_shape=(1, 4, 4))
    with pytest.raises(TypeError, match="Layer"):
        Sequential([ReLU(), "relu"])


def test_sequential_backward_matches_numerical_gradients():
    rng = np.random.default_rng(3)
    model = Sequential(
        [
            Convolution2D(2, 3, 3, padding=1, rng=rng),
            ReLU(),
            Maxpooling2D(),
            Flatten(),
            FullyConnected(3 * 3 * 3, 4, rng=rng),
        ]
    ).astype(np.float64)
    x = rng.standard_normal((3, 2, 6, 6))
    labels = np.array([0, 3, 1])

    def loss():
        return softmax_cross_entropy(model.forward(x), labels)[0]

    _, d = softmax_cross_entropy(model.forward(x), labels)
    dx = model.backward(d)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    for p in model.parameters():
        assert relative_error(p.grad, numerical_gradient(loss, p.value)) < 1e-6, p.name


@pytest.mark.parametrize("first", ["conv", "flatten"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_without_input_grad_gives_the_same_parameter_gradients(first, dtype):
    # what training calls: the first layer may skip dL/dx (the convolution does); every gradient stays the same
    rng = np.random.default_rng(4)
    head = [Convolution2D(1, 4, 3, padding=1, rng=rng), ReLU(), Flatten()] if first == "conv" else [Flatten()]
    model = Sequential(head + [FullyConnected(4 * 8 * 8 if first == "conv" else 64, 5, rng=rng)]).astype(dtype)
    x = rng.standard_normal((3, 1, 8, 8)).astype(dtype)
    _, d = softmax_cross_entropy(model.forward(x), np.array([0, 4, 2]))
    dx = model.backward(d)
    full = {p.name: p.grad.copy() for p in model.parameters()}
    assert dx.shape == x.shape
    assert model.backward(d, input_grad=False) is None
    for p in model.parameters():
        np.testing.assert_array_equal(p.grad, full[p.name], err_msg=p.name)
    with pytest.raises(TypeError, match="input_grad must be True or False, got 'no'"):
        model.backward(d, input_grad="no")
    with pytest.raises(TypeError, match="input_grad must be True or False, got 0"):
        model.layers[-1].backward(d, input_grad=0)


def test_astype_and_dtype():
    model = VGG16(input_size=32, width=1 / 16)
    assert model.dtype == np.float32
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32))
    assert model.forward(x.astype(np.float32)).dtype == np.float32
    model.astype(np.float64)
    assert model.dtype == np.float64 and all(p.value.dtype == np.float64 for p in model.parameters())
    assert model.forward(x).dtype == np.float64


def test_predict_in_batches_equals_one_forward_pass():
    model = VGG16(input_size=32, width=1 / 16)
    images, _ = mnist.load_mnist("test")
    x = model.prepare(images[:10])
    logits = model.forward(x, training=False)
    np.testing.assert_allclose(model.predict_logits(images[:10], batch_size=3), logits, rtol=1e-5, atol=1e-6)
    assert np.array_equal(model.predict(x, batch_size=4), logits.argmax(1))
    np.testing.assert_allclose(model.predict_proba(x).sum(1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        model.predict(x, batch_size=0)


@pytest.mark.parametrize("size, method", [(32, "pad"), (64, "zoom")])
def test_prepare_matches_the_data_pipeline(size, method):
    model = VGG16(input_size=size, width=1 / 16)
    assert model.resize == method
    images, _ = mnist.load_mnist("test")
    x = model.prepare(images[:5])
    assert x.dtype == np.float32 and x.shape == (5, 1, size, size)
    assert np.array_equal(x, preprocess.prepare(images[:5], size, method))
    assert images.dtype == np.uint8 and images[:5].max() == 255  # the raw images are untouched
    assert model.prepare(x) is x or np.array_equal(model.prepare(x), x)  # prepared floats pass through


def test_prepare_refuses_what_it_cannot_use():
    model = VGG16(input_size=32, width=1 / 16)
    with pytest.raises(ValueError, match=r"float arrays .* must have shape \(N, 1, 32, 32\)"):
        model.prepare(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="0..255"):
        model.prepare(np.full((2, 28, 28), 300, np.int16))
    with pytest.raises(ValueError, match="channels"):
        model.prepare(np.zeros((2, 3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        model.prepare(np.zeros((28, 28), np.uint8))


def test_build_model_round_trips_the_config():
    vgg = VGG16(input_size=64, width=0.125, dropout=0.25)
    rebuilt = build_model(vgg.config())
    assert isinstance(rebuilt, VGG16) and rebuilt.config() == vgg.config()
    assert [(p.name, p.value.shape) for p in rebuilt.parameters()] == [
        (p.name, p.value.shape) for p in vgg.parameters()
    ]
    seq = Sequential(
        [Convolution2D(1, 2, 3), ReLU(), Flatten(), Dropout(0.2), FullyConnected(2 * 26 * 26, 3)],
        input_shape=(1, 28, 28),
    )
    again = build_model(seq.config())
    assert again.config() == seq.config()
    with pytest.raises(ValueError, match="unknown layer type"):
        build_model({"type": "Sequential", "layers": [{"type": "Conv9D", "name": "x"}]})
    with pytest.raises(ValueError, match="unknown model type"):
        build_model({"type": "ResNet"})


def test_vgg16_layer_configs_scale_with_width():
    cfgs = vgg16_layer_configs(width=0.5, input_size=64)
    fcs = [c for c in cfgs if c["type"] == "FullyConnected"]
    assert [(c["num_inputs"], c["num_outputs"]) for c in fcs] == [(256 * 4, 2048), (2048, 2048), (2048, 10)]


def test_seed_api_train_then_run(tmp_path):
    images, labels = mnist.load_mnist("train")
    test_images, test_labels = mnist.load_mnist("test")
    weights = tmp_path / "weights.npz"
    model = VGG16(input_size=32, width=1 / 16)
    history = model.train(
        images[:64], labels[:64], batch_size=32, epochs=2, weights_file=str(weights), progress=False, verbose=False
    )
    assert weights.is_file() and len(history["epoch"]) == 2
    predictions, accuracy = model.run(test_images[:50], test_labels[:50])
    assert predictions.shape == (50,) and accuracy == pytest.approx(np.mean(predictions == test_labels[:50]))
    # a fresh model loads the saved weights in run(): same predictions
    fresh = VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(7))
    again, acc2 = fresh.run(test_images[:50], test_labels[:50], weights_file=str(weights))
    assert np.array_equal(again, predictions) and acc2 == accuracy
    preds_only, none = fresh.run(test_images[:5])
    assert none is None and np.array_equal(preds_only, predictions[:5])
    # prepared float inputs work the same way
    p3, _ = fresh.run(fresh.prepare(test_images[:50]), test_labels[:50])
    assert np.array_equal(p3, predictions)


@pytest.mark.parametrize("input_size,width", [(32, 1 / 16), (32, 0.25), (64, 0.25), (32, 1.0)])
def test_initial_logits_are_near_uniform(input_size, width):
    """VGG16 at init: the loss on real digits is close to ln(10) (checked in test_train too) at every size."""
    model = VGG16(input_size=input_size, width=width)
    images, labels = mnist.load_mnist("test")
    logits = model.forward(model.prepare(images[:32]), training=False)
    loss, _ = softmax_cross_entropy(logits, labels[:32])
    assert abs(loss - math.log(10)) < 0.1, loss


# ---------------------------------------------------------------------------------------------------------
# The implementation is the model's choice: readable layers or the fast backend, same weights either way
# ---------------------------------------------------------------------------------------------------------
def test_vgg16_gradients_of_the_readable_layers_match_numerical_ones():
    # the model test on the readable layers alone (the fast backend is tested against them in test_fast.py)
    from vgglib import fast, layers

    model = VGG16(input_size=32, width=1 / 32, dropout=0.0, fast=False).astype(np.float64)
    assert not model.fast and all(type(layer).__module__ == "vgglib.layers" for layer in model.layers)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 1, 32, 32))
    labels = np.array([3, 7])

    def loss():
        return softmax_cross_entropy(model.forward(x), labels)[0]

    _, d = softmax_cross_entropy(model.forward(x), labels)
    model.backward(d)
    for name in ("conv1_1.bias", "conv3_2.weights", "fc1.weights", "fc3.bias"):
        p = next(q for q in model.parameters() if q.name == name)
        idx = tuple(rng.integers(0, s) for s in p.value.shape)  # one entry: the full check is in test_layers
        original = p.value[idx]
        p.value[idx] = original + 1e-6
        up = loss()
        p.value[idx] = original - 1e-6
        down = loss()
        p.value[idx] = original
        numeric = (up - down) / 2e-6
        assert abs(p.grad[idx] - numeric) <= 1e-6 * max(1.0, abs(numeric)), name
    assert isinstance(model.layers[0], layers.Convolution2D) and not fast.is_fast(model.layers[0])


def test_to_fast_and_to_reference_keep_the_weights_and_the_outputs():
    from vgglib import fast

    model = VGG16(input_size=32, width=1 / 16)
    assert model.fast and fast.is_fast(model.layers[0])
    before = {p.name: p.value for p in model.parameters()}
    x = np.random.default_rng(9).standard_normal((2, 1, 32, 32)).astype(np.float32)
    y_fast = model.forward(x, training=False)
    assert model.to_reference() is model and not model.fast
    assert all(p.value is before[p.name] for p in model.parameters())  # the same arrays, no copies
    np.testing.assert_allclose(model.forward(x, training=False), y_fast, rtol=1e-4, atol=1e-5)
    assert model.to_fast().fast
    assert build_model(model.config(), fast=False).fast is False
    assert build_model(model.config()).fast is True
