"""Batch size on the noisy quadratic: :func:`with_batch_size` (noise and lr scaled with
the minibatch)."""
from __future__ import annotations

import math

from ..config import resolve, validate
from ..params import ConfigError
from ..surfaces import SURFACES


LR_FIELDS = ("base_lr", "max_lr", "eta_min", "min_lr")
"""Schedule parameters that are learning rates (scaled with the optimizer's lr)."""


def with_batch_size(config: dict, batch_size: int, lr_rule: str | None = None) -> dict:
    """The run with minibatches of ``batch_size`` instead of 1 on a noisy surface.

    Averaging B independent shifts divides their standard deviation by sqrt(B), so
    ``noise_std`` becomes noise_std / sqrt(B) (the config's noise_std is batch size 1).
    ``lr_rule`` scales the lr with the batch: ``"linear"`` (times B, Goyal et al.) or
    ``"sqrt"`` (times sqrt(B)); it scales the optimizer's lr and any lr-valued schedule
    parameter given explicitly (``LR_FIELDS``; derived ones follow the lr by themselves).
    """
    base = validate(config)
    name = base["problem"]["name"]
    if not SURFACES[name].noisy:
        raise ConfigError("problem.name", f"batch size only matters on a noisy surface "
                                          f"(got {name!r})")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError("batch_size", f"must be an integer >= 1 (got {batch_size!r})")
    rules = {None: 1.0, "linear": float(batch_size), "sqrt": math.sqrt(batch_size)}
    if lr_rule not in rules:
        raise ConfigError("lr_rule", f"must be 'linear', 'sqrt' or None (got {lr_rule!r})")
    k = rules[lr_rule]
    run = resolve(base)
    schedule = {key: v * k if key in LR_FIELDS and v is not None else v
                for key, v in base["schedule"].items()}
    return validate({**base, "problem": {**base["problem"], "noise_std":
                                          run["problem"]["noise_std"] / math.sqrt(batch_size)},
                     "optimizer": {**base["optimizer"], "lr": run["optimizer"]["lr"] * k},
                     "schedule": schedule})
