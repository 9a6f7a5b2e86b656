"""The mutation list for ``tests/test_mutations.py``, and the pytest plugin its subprocesses load.

Each :class:`Mutation` is one deliberate bug: an exact ``old -> new`` replacement in one file of the
``vgglib`` package (``old`` must occur exactly once), plus the per-module test files that must catch it.
The bugs are the ones students (and the seed code) actually make: gradients dropped, averaged instead of
summed, sent to the wrong place, or missing a scale factor; a numerically unstable softmax; an optimizer
without bias correction. Keep each ``new`` valid Python and shape-valid, so the mutant fails on *values*
that a test checks, not on a crash in an unrelated place.

Used as a plugin (``-p mutations``, with ``tests/`` on ``PYTHONPATH``) inside each subprocess, this module:

* loads a Hypothesis profile with ``derandomize=True``, no example database and no shrinking, so every run
  draws the same examples (a mutant is killed or survives deterministically, nothing is written beside the
  tests, and a failing run stops at its first counterexample);
* writes a JSON report to ``$VGGLIB_MUTANT_REPORT`` at the end of the session: where ``vgglib`` and every
  ``vgglib.*`` module were imported from, and how many tests were collected and failed — so the harness can
  check the tests really ran against the mutated copy in ``$VGGLIB_MUTANT_ROOT``.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

LAYERS = ("test_layers.py",)
IM2COL = ("test_reference.py",)
LOSSES = ("test_losses.py",)
OPTIM = ("test_optim.py",)


@dataclass(frozen=True)
class Mutation:
    name: str  # the pytest id: a surviving mutant fails as test_mutant_is_killed[<name>]
    file: str  # path inside the vgglib package
    old: str  # exact source text, occurring exactly once in ``file``
    new: str  # its replacement
    tests: tuple[str, ...]  # test files under tests/ that must fail (the smallest set that should)
    why: str  # the bug, in words


MUTATIONS: tuple[Mutation, ...] = (
    # --- Convolution2D -------------------------------------------------------------------------------------
    Mutation(
        "conv_bias_grad_dropped",
        "layers.py",
        'self._store_grad("bias", dy2.sum(axis=(0, 2)))',
        'self._store_grad("bias", 0 * dy2.sum(axis=(0, 2)))',
        LAYERS,
        "conv db is zero: the bias never learns",
    ),
    Mutation(
        "conv_weight_grad_flipped",
        "layers.py",
        'self._store_grad("weights", dw.reshape(self.params["weights"].shape))',
        'self._store_grad("weights", dw.reshape(self.params["weights"].shape)[:, :, ::-1, ::-1])',
        LAYERS,
        "conv dW rotated by 180° (convolution vs cross-correlation mixed up)",
    ),
    Mutation(
        "conv_backward_stride_ignored",
        "layers.py",
        "return col2im(dcols, self._input_shape, self.kernel_size, self.stride, self.padding)",
        "return col2im(dcols, self._input_shape, self.kernel_size, 1, self.padding)",
        LAYERS,
        "conv dx scattered with stride 1 whatever the forward stride",
    ),
    # --- ReLU ----------------------------------------------------------------------------------------------
    Mutation(
        "relu_backward_ignores_mask",
        "layers.py",
        "return dy * self._mask",
        "return dy",
        LAYERS,
        "ReLU backward passes dy through where x <= 0",
    ),
    # --- Pooling2D -----------------------------------------------------------------------------------------
    Mutation(
        "maxpool_grad_to_wrong_cell",
        "layers.py",
        "np.put_along_axis(dwin, self.winners[:, :, None], dy[:, :, None], axis=2)",
        "np.put_along_axis(dwin, (self.winners[:, :, None] + 1) % (k * k), dy[:, :, None], axis=2)",
        LAYERS,
        "max/min-pool dy routed to the cell after the winner (index off by one)",
    ),
    Mutation(
        "maxpool_grad_to_every_cell",
        "layers.py",
        "np.put_along_axis(dwin, self.winners[:, :, None], dy[:, :, None], axis=2)",
        "dwin[...] = dy[:, :, None]",
        LAYERS,
        "max/min-pool dy copied to every cell of the window, not only the winner",
    ),
    Mutation(
        "avgpool_divides_by_k",
        "layers.py",
        "(dy / (k * k))",
        "(dy / k)",
        LAYERS,
        "avg-pool backward divides by k instead of k·k",
    ),
    # --- FullyConnected ------------------------------------------------------------------------------------
    Mutation(
        "fc_bias_grad_averaged",
        "layers.py",
        'self._store_grad("bias", dy.sum(axis=0))',
        'self._store_grad("bias", dy.mean(axis=0))',
        LAYERS,
        "FC db averaged over the batch instead of summed",
    ),
    # --- Dropout -------------------------------------------------------------------------------------------
    Mutation(
        "dropout_not_rescaled",
        "layers.py",
        "self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)",
        "self.mask = keep.astype(x.dtype)",
        LAYERS,
        "dropout without the 1/(1-p) scaling: E[y] != x in training",
    ),
    # --- the layer contract (Layer.backward) ---------------------------------------------------------------
    Mutation(
        "backward_dtype_not_kept",
        "layers.py",
        "dy = dy.astype(self._dtype, copy=False)",
        "dy = dy",
        LAYERS,
        "a float64 dy turns a float32 layer's dx and gradients into float64",
    ),
    Mutation(
        "dropout_active_at_inference",
        "layers.py",
        "if not training or self.p == 0:",
        "if self.p == 0:",
        LAYERS,
        "dropout still drops units when training=False",
    ),
    Mutation(
        "dropout_keep_prob_swapped",
        "layers.py",
        "keep = self.rng.random(x.shape) >= self.p",
        "keep = self.rng.random(x.shape) < self.p",
        LAYERS,
        "p used as the keep probability (TF1's keep_prob) instead of the drop probability",
    ),
    # --- im2col / col2im -----------------------------------------------------------------------------------
    Mutation(
        "col2im_overwrites",
        "im2col.py",
        "j : j + stride * wo : stride] += cols[:, :, i, j]",
        "j : j + stride * wo : stride] = cols[:, :, i, j]",
        IM2COL,
        "col2im assigns instead of accumulating: overlapping windows lose gradient",
    ),
    Mutation(
        "col2im_padding_cropped_wrong",
        "im2col.py",
        "return xp[:, :, padding : padding + h, padding : padding + w]",
        "return xp[:, :, :h, :w]",
        IM2COL,
        "dx cropped from the padded corner: the padding is not removed where it was added",
    ),
    Mutation(
        "im2col_stride_ignored",
        "im2col.py",
        "cols[:, :, i, j] = xp[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]",
        "cols[:, :, i, j] = xp[:, :, i : i + ho, j : j + wo]",
        IM2COL,
        "im2col gathers windows with stride 1 whatever the stride",
    ),
    # --- losses --------------------------------------------------------------------------------------------
    Mutation(
        "softmax_no_max_shift",
        "losses.py",
        "e = np.exp(z - z.max(axis=axis, keepdims=True))",
        "e = np.exp(z)",
        LOSSES,
        "softmax without subtracting the max: exp overflows for large logits",
    ),
    Mutation(
        "log_softmax_no_max_shift",
        "losses.py",
        "shifted = z - z.max(axis=axis, keepdims=True)",
        "shifted = z",
        LOSSES,
        "log-softmax (used by the loss) without the max shift",
    ),
    Mutation(
        "cross_entropy_grad_not_divided_by_batch",
        "losses.py",
        "dlogits = ((np.exp(logp) - y) / n)",
        "dlogits = ((np.exp(logp) - y) / 1)",
        LOSSES,
        "dlogits = p - y instead of (p - y) / N, while the loss is the batch mean",
    ),
    Mutation(
        "cross_entropy_no_log_guard",
        "losses.py",
        "np.log(np.clip(p, eps, None))",
        "np.log(p)",
        LOSSES,
        "cross_entropy takes log(0) on a probability of exactly 0: 0·(-inf) = nan",
    ),
    # --- optimizers ----------------------------------------------------------------------------------------
    Mutation(
        "adam_no_bias_correction",
        "optim.py",
        "c2, c1 = 1 / math.sqrt(1 - b2**t), self.lr / (1 - b1**t)",
        "c2, c1 = 1.0, self.lr",
        OPTIM,
        "Adam without the 1/(1-beta^t) bias correction of m and v",
    ),
    Mutation(
        "sgd_momentum_sign_flipped",
        "optim.py",
        "v += gg  # v = mu v + g",
        "v -= gg  # v = mu v + g",
        OPTIM,
        "momentum buffer accumulates -g: SGD with momentum climbs the loss",
    ),
    Mutation(
        "adamw_decay_through_the_gradient",
        "optim.py",
        "            value *= 1 - self.lr * self.weight_decay  # decoupled: p <- p (1 - lr wd), in place\n"
        "        self._update(value, g, state)",
        "            g = g + self.weight_decay * value  # (L2: the decay goes through Adam's normalisation)\n"
        "        self._update(value, g, state)",
        OPTIM,
        "AdamW adds weight_decay·p to the gradient (Adam's L2) instead of shrinking the weights directly",
    ),
    Mutation(
        "rmsprop_without_the_square_root",
        "optim.py",
        "            np.sqrt(s, out=tmp)\n            tmp += self.eps\n"
        "            np.divide(gg, tmp, out=tmp)  # g / (sqrt(s) + eps)",
        "            np.copyto(tmp, s)\n            tmp += self.eps\n"
        "            np.divide(gg, tmp, out=tmp)  # g / (sqrt(s) + eps)",
        OPTIM,
        "RMSprop divides by the running mean square itself, not by its square root",
    ),
)


# ---------------------------------------------------------------------------------------------------------
# The plugin loaded by the subprocesses (``-p mutations``)
# ---------------------------------------------------------------------------------------------------------
def pytest_configure(config) -> None:
    from hypothesis import Phase, settings

    # no shrinking: a mutant only has to fail, and shrinking its counterexample is most of a failing run's time
    settings.register_profile(
        "vgglib-mutations", derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate]
    )
    settings.load_profile("vgglib-mutations")


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get("VGGLIB_MUTANT_REPORT")
    if not path:
        return
    modules = {
        name: getattr(module, "__file__", None)
        for name, module in sys.modules.items()
        if name == "vgglib" or name.startswith("vgglib.")
    }
    report = {
        "root": os.environ.get("VGGLIB_MUTANT_ROOT"),
        "modules": modules,
        "collected": session.testscollected,
        "failed": session.testsfailed,
        "exitstatus": int(exitstatus),
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
