"""The pitfalls, as pairs of runs (correct, buggy): :func:`resume_without_scheduler_state`,
:func:`stepped_per_epoch` and :func:`stepped_per_micro_batch`."""
from __future__ import annotations

import math

import numpy as np

from ..config import resolve
from ..engine import simulate, simulate_strided
from ..params import ConfigError
from ..surfaces import SURFACES
from ._results import _PER_STEP

_STEPWISE = (*_PER_STEP, "clipped_grad_norm")
"""Every per-step array of a result (docs/run-format.md §7.1)."""


def _concat(first: dict, at: int, rest: dict) -> dict:
    """``first``'s steps before ``at`` followed by ``rest`` (a run started at first's
    point ``at``): one result in the contract's layout."""
    out = {k: np.concatenate([first[k][:at], rest[k]]) for k in _STEPWISE}
    for k in ("path", "loss"):
        out[k] = np.concatenate([first[k][:at], rest[k]])
    d = rest["diverged_at"]
    out["diverged_at"] = None if d is None else at + d
    return out


def _truncate(result: dict, steps: int) -> dict:
    out = {k: result[k][:steps] for k in _STEPWISE}
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


MAX_ACCUMULATE = 64
"""Most micro-batches per optimizer step :func:`stepped_per_micro_batch` accepts."""


def stepped_per_micro_batch(config: dict, accumulate: int) -> dict:
    """Pitfall: gradient accumulation over ``accumulate`` micro-batches with
    ``scheduler.step()`` called after every micro-batch instead of after every
    ``optimizer.step()``::

        for i, batch in enumerate(loader):
            (loss_fn(batch) / accumulate).backward()
            if (i + 1) % accumulate == 0:
                optimizer.step(); optimizer.zero_grad()
            scheduler.step()          # the bug: belongs inside the if

    The schedule (warmup included) then runs ``accumulate`` times too fast: optimizer step
    n uses the lr (and momentum) the schedule has after ``n * accumulate + accumulate - 1``
    scheduler steps, where the correct loop uses its value after n. A StepLR decays k times
    as often, a cosine reaches eta_min after T_max / k steps and climbs back, a warmup ends
    k times early. ``correct`` is the run as configured (each step one optimizer step on an
    accumulated batch); ``buggy`` is the same run with the fast schedule, computed by the
    engine in one pass, so it is the buggy PyTorch loop step for step (``exact``), except on
    the noisy surface, where a real loop's micro-batches would each draw their own noise.
    OneCycleLR refuses to be stepped past ``total_steps``: PyTorch raises ValueError in the
    scheduler after optimizer step ``raises_at - 1``; ``buggy`` holds NaN from step
    ``raises_at`` on (``raises_at`` is None for every other schedule). ReduceLROnPlateau is
    stepped with the loss it watches, not on a clock, so it is refused.
    Returns ``{"correct", "buggy", "accumulate", "exact", "raises_at"}``.
    """
    run = resolve(config)
    if run["schedule"]["name"] == "ReduceLROnPlateau":
        raise ConfigError("schedule.name", "ReduceLROnPlateau is stepped with the loss it "
                                           "watches, not once per batch")
    if isinstance(accumulate, bool) or not isinstance(accumulate, int) \
            or not 2 <= accumulate <= MAX_ACCUMULATE:
        raise ConfigError("accumulate", f"must be an integer from 2 to {MAX_ACCUMULATE} "
                                        f"(got {accumulate!r})")
    correct = simulate(run)
    buggy = simulate_strided(run, accumulate, accumulate - 1)
    raises_at = None
    if run["schedule"]["name"] == "OneCycleLR":
        # scheduler steps allowed: the warmup's, then total_steps of the cycle
        allowed = (run["warmup"]["steps"] if run["warmup"] else 0) \
            + run["schedule"]["total_steps"]
        n_ok = (allowed - (accumulate - 1)) // accumulate + 1
        if n_ok < run["steps"]:
            raises_at = max(n_ok, 0)
            d = buggy["diverged_at"]
            cut = raises_at if d is None else min(d, raises_at)
            buggy = _pad(_truncate(buggy, cut), run["steps"])
            buggy["diverged_at"] = d if d is not None and d <= raises_at else None
    return {"correct": correct, "buggy": buggy, "accumulate": accumulate,
            "exact": not SURFACES[run["problem"]["name"]].noisy, "raises_at": raises_at}


def _pad(result: dict, steps: int) -> dict:
    """A result cut short by divergence, padded with NaN to ``steps`` steps."""
    out = dict(result)
    for k in _STEPWISE:
        out[k] = np.concatenate([result[k], np.full(steps - len(result[k]), np.nan)])
    missing = steps + 1 - len(result["loss"])
    out["loss"] = np.concatenate([result["loss"], np.full(missing, np.nan)])
    out["path"] = np.concatenate([result["path"], np.full((missing, 2), np.nan)])
    return out
