"""The lr sensitivity view's numbers: one run swept over the whole lr range.

For each lr on a log grid, the run's final loss, best loss, the first step whose loss is at
most a threshold, and where it diverged: the learning-rate dilemma in one picture (too
small crawls, too large diverges, the band between is what a schedule widens or narrows).
One ``playground.sweep`` per run; nothing compiles.
"""
from __future__ import annotations

import numpy as np

from ..config import resolve
from ..sweeps import log_range, sweep

LR_RANGE = (1e-5, 10.0)
"""The lrs a sensitivity sweep spans: the page's lr slider's whole range."""
POINTS_PER_DECADE = 8


def lr_grid(low: float = LR_RANGE[0], high: float = LR_RANGE[1],
            per_decade: int = POINTS_PER_DECADE) -> np.ndarray:
    """Log-spaced lrs from ``low`` to ``high``, ``per_decade`` of them per factor of 10."""
    n = int(round(np.log10(high / low) * per_decade)) + 1
    return np.asarray(log_range(low, high, n))


def lr_sensitivity(config: dict, lrs=None, threshold: float = 1e-3) -> dict:
    """Sweep ``optimizer.lr`` of ``config`` over ``lrs`` (default :func:`lr_grid`).

    Returns arrays over the lrs: ``final`` (the loss after the last step, NaN if the run
    diverged), ``best`` (the lowest loss before any divergence), ``steps_to`` (the first
    step whose loss is <= ``threshold``, -1 if none), ``diverged_at`` (-1 if it did not
    diverge) and ``diverged`` (bool); plus ``lr`` and ``current_lr`` (the config's own).
    Schedules whose lrs follow the lr by default (OneCycleLR's and CyclicLR's ``max_lr``)
    follow it here too; ones given explicitly stay as given."""
    run = resolve(config)
    lrs = lr_grid() if lrs is None else np.asarray(lrs, dtype=np.float64)
    results = sweep(config, "optimizer.lr", [float(v) for v in lrs])
    final, best, steps_to, diverged_at = [], [], [], []
    for r in results:
        loss = np.asarray(r["loss"], dtype=np.float64)
        d = r["diverged_at"]
        finite = loss[:d] if d is not None else loss
        final.append(np.nan if d is not None else loss[-1])
        best.append(np.nanmin(finite) if len(finite) else np.nan)
        hit = np.flatnonzero(finite <= threshold)
        steps_to.append(int(hit[0]) if len(hit) else -1)
        diverged_at.append(-1 if d is None else int(d))
    diverged_at = np.asarray(diverged_at)
    return {"lr": lrs, "final": np.asarray(final), "best": np.asarray(best),
            "steps_to": np.asarray(steps_to), "diverged_at": diverged_at,
            "diverged": diverged_at >= 0, "current_lr": float(run["optimizer"]["lr"]),
            "threshold": threshold}


def stretches(mask) -> list[tuple[int, int]]:
    """The unbroken stretches of True in ``mask``, as (first, last) indices."""
    mask = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [(int(i), int(j) - 1) for i, j in zip(edges[::2], edges[1::2])]


def good_band(analysis: dict, target: float | None = None) -> tuple[float, float] | None:
    """The band of good learning rates: the widest unbroken stretch of the sweep's lrs whose
    final loss is at most ``target`` (default: the analysis's threshold), as (lowest,
    highest); None if no lr gets there. (Unbroken: on a noisy surface a lucky minibatch
    can put one stray lr under the target.)"""
    target = analysis["threshold"] if target is None else target
    final = analysis["final"]
    runs = stretches(np.isfinite(final) & (final <= target))
    if not runs:
        return None
    i, j = max(runs, key=lambda r: r[1] - r[0])
    return float(analysis["lr"][i]), float(analysis["lr"][j])
