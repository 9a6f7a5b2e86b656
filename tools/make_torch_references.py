"""Write tests/data/torch_optim.json: torch.optim's trajectories and defaults that tests/test_optim.py compares with.

The tests run without PyTorch (it is not a test dependency), so its results are stored here once. Regenerate with
an environment that has torch (``pip install -e '.[bench]'``):

    .venv/bin/python tools/make_torch_references.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)  # the same draws as tests/test_optim.py: P0, then GRADS
P0 = RNG.standard_normal((3, 4))
GRADS = [RNG.standard_normal((3, 4)) for _ in range(4)]

CASES = {
    "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, weight_decay=0.01, momentum=0.9),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "adam_l2": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
}


def main() -> None:
    out: dict = {"torch": torch.__version__, "p0": P0.tolist(), "grads": [g.tolist() for g in GRADS], "cases": {}}
    for name, make in CASES.items():
        p = torch.tensor(P0.copy(), dtype=torch.float64, requires_grad=True)
        opt = make([p])
        steps = []
        for g in GRADS:
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            steps.append(p.detach().numpy().tolist())
        out["cases"][name] = steps
    out["defaults"] = {}
    for name, cls in (("Adagrad", torch.optim.Adagrad), ("RMSprop", torch.optim.RMSprop), ("AdamW", torch.optim.AdamW)):
        d = cls([torch.zeros(1, requires_grad=True)]).defaults
        out["defaults"][name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if
                                 isinstance(v, (int, float, tuple, bool))}  # fmt: skip
    path = ROOT / "tests" / "data" / "torch_optim.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path.relative_to(ROOT), "with torch", torch.__version__)


if __name__ == "__main__":
    main()
