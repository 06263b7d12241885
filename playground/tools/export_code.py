"""What the take-home scripts share: :data:`SURFACE_CODE` (each surface's loss as Python),
the loss function's definition and the header comment."""
from __future__ import annotations

import textwrap

from ..surfaces import SURFACES


SURFACE_CODE = {
    "quadratic_bowl": "(x ** 2 + y ** 2) / 2",
    "elongated_valley": "(x ** 2 + {condition!r} * y ** 2) / 2",
    "rosenbrock": "({a!r} - x) ** 2 + {b!r} * (y - x ** 2) ** 2",
    "noisy_quadratic": "(x ** 2 + y ** 2) / 2",
}
"""Each surface's loss as a Python expression in x and y, valid for torch tensors and jax
arrays alike (tests/test_tools.py checks it against every entry of ``SURFACES``)."""


def _loss_def(run: dict) -> str:
    expr = SURFACE_CODE[run["problem"]["name"]].format(**run["problem"])
    return f"def loss_fn(p):\n    x, y = p[0], p[1]\n    return {expr}\n"


def _comment(text: str) -> str:
    return textwrap.fill(text, 88, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False) + "\n"


def _header(run: dict, library: str) -> str:
    surface = SURFACES[run["problem"]["name"]]
    return _comment(f"This Optimization Playground run, with {library}: {run['steps']} steps "
                    f"of {run['optimizer']['name']} on {surface.label.lower()}. Each step as "
                    "in the playground: the lr, the loss and gradient at p_t, the optimizer "
                    "step, the scheduler step.")
