"""Smith's LR range test as a config (:func:`lr_range_config`) and its reading
(:func:`lr_range_analysis`)."""
from __future__ import annotations

import math

import numpy as np

from ..config import validate
from ..params import ConfigError


def lr_range_config(config: dict, lr_min: float = 1e-4, lr_max: float = 10.0,
                    steps: int = 200) -> dict:
    """Smith's LR range test as a config: the same surface, start and optimizer, the lr
    swept exponentially from ``lr_min`` (step 0) to ``lr_max`` (step ``steps - 1``) by an
    ``ExponentialLR`` with gamma = (lr_max / lr_min)^(1 / (steps - 1)) > 1, no warmup."""
    if not 0 < lr_min < lr_max:
        raise ConfigError("lr_min", f"must be > 0 and below lr_max (got {lr_min}, {lr_max})")
    if steps < 2:
        raise ConfigError("steps", f"must be at least 2 for a sweep (got {steps})")
    base = validate(config)
    gamma = (lr_max / lr_min) ** (1 / (steps - 1))
    out = {**base, "steps": steps, "optimizer": {**base["optimizer"], "lr": lr_min},
           "schedule": {"name": "ExponentialLR", "gamma": gamma}}
    out.pop("warmup", None)
    return validate(out)


def lr_range_analysis(result: dict, beta: float = 0.98, stop_factor: float = 4.0,
                      skip_start: int = 10) -> dict:
    """Read an LR range test (a run of :func:`lr_range_config`).

    The observed loss is smoothed by an exponential moving average with bias correction
    (``avg_t = beta avg_{t-1} + (1 - beta) loss_t``, divided by ``1 - beta^(t+1)``). The
    analysis stops at the first step that is not finite (divergence) or whose smoothed loss
    exceeds ``stop_factor`` times the best so far (fastai's rule). Within that range:

    - ``steepest_lr``: where the smoothed loss falls fastest against log lr (Smith),
      ignoring the first ``skip_start`` steps, where the average holds few losses;
    - ``min_loss_lr``: where the smoothed loss is lowest, and ``suggested_lr`` =
      min_loss_lr / 10: the minimum sits at the edge of divergence, and the smoothing lags
      behind the sweep, so a tenth of it is the safe pick (fastai's ``lr_min``).

    Returns those, their steps (``steepest_step``, ``min_loss_step``), ``stop`` (the number
    of steps analysed) and the arrays ``lr`` and ``smoothed`` (NaN from ``stop`` on).
    """
    lr = np.asarray(result["lr"], dtype=np.float64)
    loss = np.asarray(result["observed_loss"], dtype=np.float64)
    smoothed = np.full(len(lr), np.nan)
    avg, best, stop = 0.0, math.inf, len(lr)
    for t, value in enumerate(loss):
        if not (math.isfinite(value) and math.isfinite(lr[t])):
            stop = t
            break
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta ** (t + 1))
        if s > stop_factor * best:
            stop = t
            break
        smoothed[t], best = s, min(best, s)
    out = {"lr": lr, "smoothed": smoothed, "stop": stop, "steepest_lr": None,
           "steepest_step": None, "min_loss_lr": None, "min_loss_step": None,
           "suggested_lr": None}
    if stop < skip_start + 3:
        return out
    slope = np.gradient(smoothed[:stop], np.log(lr[:stop]))
    steep = skip_start + int(np.argmin(slope[skip_start:]))
    low = int(np.argmin(smoothed[:stop]))
    return {**out, "steepest_lr": float(lr[steep]), "steepest_step": steep,
            "min_loss_lr": float(lr[low]), "min_loss_step": low,
            "suggested_lr": float(lr[low]) / 10}
