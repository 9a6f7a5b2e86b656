"""``summary``: a model's layers with their output shapes, parameters, activation memory and multiply-adds.

Derived and used in ``notebooks/08_vgg16_architecture.ipynb`` (and quoted in 00 and 14). Every number comes from
the layers themselves — ``output_shape`` and ``params`` — so the table cannot disagree with the model. An
architecture spec (``VGG16.spec(...)``, a ``config()`` dict) is summarised through layers built with
placeholder weights that take no memory (``dtype=None``), so even ImageNet's VGG16 costs nothing to count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .layers import Convolution2D, FullyConnected, Layer
from .model import VGG16, Sequential, layer_from_config, vgg16_layer_configs

__all__ = ["summary", "Summary", "SummaryRow"]

#: layers that make no new activation array in the standard count: ReLU and Dropout can run in place, Flatten is
#: a view
_NO_NEW_ACTIVATIONS = ("ReLU", "Dropout", "Flatten")


@dataclass
class SummaryRow:
    """One layer of :func:`summary`: its output (per image), parameters, new activation values and multiply-adds."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    activations: int  # values of the new array this layer makes (0 for in-place ReLU/Dropout and Flatten)
    macs: int  # multiply-adds per image: conv Ho·Wo·F·C·k·k, FC in·out (bias adds, max, ReLU: 0)


@dataclass
class Summary:
    """What :func:`summary` returns: the rows plus totals; ``str(summary)`` is the table."""

    input_shape: tuple[int, ...]
    rows: list[SummaryRow]
    itemsize: int = 4
    title: str = ""
    _table: str = field(default="", repr=False)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def input_values(self) -> int:
        return math.prod(self.input_shape)

    @property
    def total_activations(self) -> int:
        """Activation values of one forward pass, the input included (the cs231n-style count)."""
        return self.input_values + sum(r.activations for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        return self.total_activations * self.itemsize

    @property
    def param_bytes(self) -> int:
        return self.total_params * self.itemsize

    def table(self) -> str:
        head = (
            f"{'layer':<12} {'type':<15} {'output shape':<16} {'params':>12} {'activations':>12} "
            f"{'memory':>10} {'MACs':>15}"
        )
        lines = [self.title, head, "-" * len(head)] if self.title else [head, "-" * len(head)]
        lines.append(
            f"{'input':<12} {'':<15} {_fmt_shape(self.input_shape):<16} {0:>12,} "
            f"{self.input_values:>12,} {_fmt_bytes(self.input_values * self.itemsize):>10} {0:>15,}"
        )
        for r in self.rows:
            acts = f"{r.activations:,}" if r.activations else "(in place)" if r.type != "Flatten" else "(view)"
            mem = _fmt_bytes(r.activations * self.itemsize) if r.activations else ""
            lines.append(
                f"{r.name:<12} {r.type:<15} {_fmt_shape(r.output_shape):<16} {r.params:>12,} "
                f"{acts:>12} {mem:>10} {r.macs:>15,}"
            )
        lines.append("-" * len(head))
        lines.append(
            f"parameters:  {self.total_params:,} ({_fmt_bytes(self.param_bytes)} as {self.itemsize * 8}-bit floats)"
        )
        lines.append(
            f"activations: {self.total_activations:,} values per image, input included "
            f"({_fmt_bytes(self.activation_bytes)} per image forward)"
        )
        lines.append(
            f"multiply-adds: {self.total_macs / 1e9:.2f} GMAC per image forward "
            f"(conv Ho·Wo·F·C·k·k + FC in·out; backward costs about twice that)"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (
            f"Summary(params={self.total_params:,}, macs={self.total_macs / 1e9:.2f}G, "
            f"activations={self.total_activations:,})"
        )


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _macs(layer: Layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Multiply-adds per image: conv Ho·Wo·F·C·k·k, FC in·out; bias adds, pooling and ReLU count 0."""
    if isinstance(layer, Convolution2D):
        return math.prod(out_shape) * in_shape[0] * layer.kernel_size**2
    if isinstance(layer, FullyConnected):
        return layer.num_inputs * layer.num_outputs
    return 0


def summary(
    model: Sequential | dict[str, Any] | list[dict[str, Any]],
    input_shape: Sequence[int] | None = None,
    print_table: bool = True,
    itemsize: int | None = None,
) -> Summary:
    """Per-layer output shape, parameters, activations (and their memory) and multiply-adds; prints the table.

    ``model`` is a built model, or an architecture spec — ``VGG16.spec(...)`` / a ``config()`` dict / a list of
    layer configs — so even the 138M-parameter ImageNet VGG16 is summarised without allocating its weights.
    ``input_shape`` is one image's (C, H, W); it defaults to the model's. What is counted:

    * parameters: weights and biases;
    * activations: the input plus the output of every conv, pool and FC layer, one image, forward only —
      ReLU and Dropout can overwrite their input and Flatten is a view, so they add none (this is the standard
      per-layer sum; training also keeps ReLU masks and im2col buffers, which it does not count);
    * multiply-adds (MACs): conv Ho·Wo·F·C·k·k, FC in·out; bias adds, pooling and ReLU are not counted.

    For ``VGG16(3, 1000, 224)``: 138,357,544 parameters, 15.47 GMAC, 15,237,608 activation values (≈58 MiB).
    """
    title = ""
    if isinstance(model, Sequential):
        layers = list(model.layers)
        default_shape = model.input_shape
        size = model.dtype.itemsize if itemsize is None else itemsize
        title = repr(model) if isinstance(model, VGG16) else ""
    else:
        if isinstance(model, dict) and model.get("type") == "VGG16":
            kw = {k: model[k] for k in ("in_channels", "num_classes", "input_size", "width", "dropout") if k in model}
            configs = vgg16_layer_configs(**kw)
            default_shape = (kw.get("in_channels", 1), kw.get("input_size", 64), kw.get("input_size", 64))
            title = "VGG16(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ") — from its spec"
        elif isinstance(model, dict) and model.get("type") == "Sequential":
            configs = list(model["layers"])
            default_shape = model.get("input_shape")
        elif isinstance(model, list):
            configs, default_shape = list(model), None
        else:
            raise TypeError(
                f"summary: expected a model, VGG16.spec(...) or a list of layer configs, got {type(model).__name__}"
            )
        # dtype=None: layers with zero-memory placeholder weights, so a 138M-parameter spec costs nothing
        layers = [layer_from_config(cfg, dtype=None) for cfg in configs]
        size = 4 if itemsize is None else itemsize
    shape = input_shape if input_shape is not None else default_shape
    if shape is None:
        raise ValueError("summary: input_shape (C, H, W) is needed: the model has no input_shape")
    in_shape = tuple(int(s) for s in shape)
    rows: list[SummaryRow] = []
    cur = in_shape
    for layer in layers:
        out = tuple(layer.output_shape(cur))  # raises, naming the layer, when the shapes do not fit
        params = int(sum(p.size for p in layer.params.values()))
        kind = layer.config()["type"]
        new = 0 if kind in _NO_NEW_ACTIVATIONS else math.prod(out)
        rows.append(SummaryRow(layer.name, kind, out, params, new, _macs(layer, cur, out)))
        cur = out
    result = Summary(in_shape, rows, size, title)
    if print_table:
        print(result.table())
    return result
