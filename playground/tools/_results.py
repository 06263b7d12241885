"""How the tools read an engine result (the layout of docs/run-format.md): the per-step
arrays, finite numbers, the steps before a divergence."""
from __future__ import annotations

import math

_PER_STEP = ("lr", "momentum", "observed_loss", "grad_norm", "clipped_grad_norm")


def _value(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _finite_steps(result: dict) -> int:
    """Steps before the run diverged (all of them if it did not)."""
    d = result["diverged_at"]
    return len(result["lr"]) if d is None else min(d, len(result["lr"]))
