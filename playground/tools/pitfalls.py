"""The two pitfalls, as pairs of runs (correct, buggy):
:func:`resume_without_scheduler_state` and :func:`stepped_per_epoch`."""
from __future__ import annotations

import math

import numpy as np

from ..config import resolve
from ..engine import simulate
from ..params import ConfigError
from ..surfaces import SURFACES
from ._results import _PER_STEP


def _concat(first: dict, at: int, rest: dict) -> dict:
    """``first``'s steps before ``at`` followed by ``rest`` (a run started at first's
    point ``at``): one result in the contract's layout."""
    out = {k: np.concatenate([first[k][:at], rest[k]]) for k in _PER_STEP}
    for k in ("path", "loss"):
        out[k] = np.concatenate([first[k][:at], rest[k]])
    d = rest["diverged_at"]
    out["diverged_at"] = None if d is None else at + d
    return out


def _truncate(result: dict, steps: int) -> dict:
    out = {k: result[k][:steps] for k in _PER_STEP}
    out.update(path=result["path"][:steps + 1], loss=result["loss"][:steps + 1])
    d = result["diverged_at"]
    out["diverged_at"] = d if d is not None and d <= steps else None
    return out


def _memoryless(run: dict, result: dict) -> bool:
    """Whether restarting the optimizer changes nothing: SGD whose momentum is 0 at every
    step, on a surface without noise (a restarted noisy run draws its shifts anew)."""
    m = np.asarray(result["momentum"], dtype=np.float64)
    return (run["optimizer"]["name"] == "sgd" and not np.nanmax(np.abs(m), initial=0.0)
            and not SURFACES[run["problem"]["name"]].noisy)


def _segment(run: dict, start, steps: int, **changes) -> dict:
    """``run`` from point ``start`` for ``steps`` steps, its schedule started afresh."""
    seg = {**run, **changes, "start": [float(v) for v in start]}
    w = seg["warmup"]["steps"] if seg.get("warmup") else 0
    return _truncate(simulate({**seg, "steps": max(steps, w)}), steps)


def resume_without_scheduler_state(config: dict, at: int) -> dict:
    """Pitfall: resuming from a checkpoint taken after ``at`` steps that restores the
    weights but builds the optimizer and its scheduler anew, so the lr jumps back to the
    start of the schedule (warmup included) and the optimizer's statistics (momentum
    buffers, Adam's moments) start from zero again.

    ``correct`` is the uninterrupted run (what a full resume gives). ``buggy`` is its first
    ``at`` steps followed by a second run of the same config from the point reached,
    concatenated into one result (the engine's layout). That is exactly the buggy PyTorch
    loop, except on a noisy surface, where the second run draws its minibatches again from
    the seed's start: ``exact`` says which. (A script that restores the optimizer's
    state_dict but not the scheduler's differs again: PyTorch's chainable schedulers, such
    as StepLR or CosineAnnealingLR, then restart their shape from the restored lr; a
    schedule starting mid-way is not something a config can express.)
    Returns ``{"correct", "buggy", "at", "exact"}``.
    """
    run = resolve(config)
    if not 0 < at < run["steps"]:
        raise ConfigError("at", f"must be between 1 and {run['steps'] - 1} (got {at})")
    correct = simulate(run)
    d = correct["diverged_at"]
    if d is not None and d <= at:
        buggy = correct
    else:
        buggy = _concat(correct, at, _segment(run, correct["path"][at], run["steps"] - at))
    return {"correct": correct, "buggy": buggy, "at": at,
            "exact": not SURFACES[run["problem"]["name"]].noisy}


def stepped_per_epoch(config: dict, steps_per_epoch: int) -> dict:
    """Pitfall: a per-batch schedule (typically ``OneCycleLR(..., epochs=E,
    steps_per_epoch=S)``) stepped once per epoch instead of once per batch.

    Stepped per epoch, the scheduler has taken only e steps during epoch e, so every batch
    of that epoch uses the lr (and momentum) the correct run uses at step e: a OneCycleLR
    never leaves the bottom of its warmup. ``correct`` is the run as configured; ``buggy``
    runs epoch by epoch, each epoch a constant-lr segment from where the last one ended,
    concatenated. Each segment restarts the optimizer state (exact only for SGD without
    momentum on a deterministic surface: ``exact``). ReduceLROnPlateau is stepped with a
    loss, usually once per epoch already, so it is refused. Returns ``{"correct", "buggy",
    "steps_per_epoch", "exact"}``.
    """
    run = resolve(config)
    if run["schedule"]["name"] == "ReduceLROnPlateau":
        raise ConfigError("schedule.name", "ReduceLROnPlateau is stepped with the loss it "
                                           "watches; per epoch is its usual use")
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) \
            or not 1 <= steps_per_epoch <= run["steps"]:
        raise ConfigError("steps_per_epoch", f"must be an integer from 1 to {run['steps']} "
                                             f"(got {steps_per_epoch!r})")
    correct = simulate(run)
    opt = run["optimizer"]
    buggy, point, done = None, correct["path"][0], 0
    for epoch in range(math.ceil(run["steps"] / steps_per_epoch)):
        n = min(steps_per_epoch, run["steps"] - done)
        lr, mom = float(correct["lr"][epoch]), float(correct["momentum"][epoch])
        if not (math.isfinite(lr) and math.isfinite(mom)):
            break
        seg_opt = {**opt, "lr": lr}
        if opt["name"] in ("adam", "adamw"):
            seg_opt["betas"] = [mom, opt["betas"][1]]
        else:
            seg_opt["momentum"] = mom
        if opt["name"] == "sgd":
            seg_opt["nesterov"] = opt["nesterov"] and mom > 0
        seg = _segment(run, point, n, optimizer=seg_opt, schedule={"name": "constant"},
                       warmup=None)
        buggy = seg if buggy is None else _concat(buggy, done, seg)
        done += n
        if buggy["diverged_at"] is not None:
            break
        point = buggy["path"][done]
    if done < run["steps"] or buggy["diverged_at"] is not None:
        buggy = _pad(_truncate(buggy, done), run["steps"])
    return {"correct": correct, "buggy": buggy, "steps_per_epoch": steps_per_epoch,
            "exact": _memoryless(run, correct)}


def _pad(result: dict, steps: int) -> dict:
    """A result cut short by divergence, padded with NaN to ``steps`` steps."""
    out = dict(result)
    for k in _PER_STEP:
        out[k] = np.concatenate([result[k], np.full(steps - len(result[k]), np.nan)])
    missing = steps + 1 - len(result["loss"])
    out["loss"] = np.concatenate([result["loss"], np.full(missing, np.nan)])
    out["path"] = np.concatenate([result["path"], np.full((missing, 2), np.nan)])
    return out
