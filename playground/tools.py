"""Engine-side tools the page calls beside the plots: pure functions of configs and results.

Nothing here compiles anything new: every experiment is built as ordinary configs and run
with :func:`playground.simulate`; everything else reads the arrays it returns.

- Formula panel: :data:`FORMULAS` (one entry per schedule in ``SCHEDULES``) and
  :func:`formula`, the schedule's formula with the run's numbers, as LaTeX.
- Step inspector: :func:`inspect_step`.
- Diagnostics: :func:`robbins_monro`, :func:`stability`, :func:`effective_step`.
- Experiments as configs: :func:`lr_range_config` + :func:`lr_range_analysis` (Smith's
  LR range test), :func:`with_batch_size`, and the two pitfalls
  :func:`resume_without_scheduler_state` and :func:`stepped_per_epoch`.
- Take-home exports: :func:`to_csv`, :func:`to_json`, :func:`pytorch_code`,
  :func:`optax_code` (and :func:`optax_gap`, why a config has no exact Optax twin).
"""
from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from string import Template

import numpy as np

from .config import resolve, validate
from .engine import simulate
from .optimizers import OPTIMIZERS
from .params import ConfigError, Derived
from .schedules import SCHEDULES
from .surfaces import SURFACES

# --- Formula panel -----------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """How one schedule is shown: ``latex`` is the right-hand side of eta_t = ... as a
    :class:`string.Template` over the schedule's resolved parameters, ``${lr}`` (the
    optimizer's lr), ``${t}`` (the scheduler step, ``(t - W)`` after a warmup of W steps),
    ``${t0}`` (the step the schedule starts at) and whatever ``extra`` derives from them;
    ``when`` says in one line when to use the schedule."""

    latex: str
    when: str
    extra: Callable[[dict], dict] = field(default=lambda p: {})


def _annealed_extra(p: dict) -> dict:
    """The cosine's span: "lr" when eta_min is 0, else "eta_min + (lr - eta_min)"."""
    lr, low = _tex(p["lr"]), _tex(p["eta_min"])
    return {"span": lr if p["eta_min"] == 0 else f"{low} + ({lr} - {low})"}


def _cyclic_extra(p: dict) -> dict:
    down = p["step_size_up"] if p["step_size_down"] is None else p["step_size_down"]
    scale = {"triangular": "1", "triangular2": r"2^{-(c-1)}",
             "exp_range": _tex(p["gamma"]) + "^{" + p["_t"] + "}"}[p["mode"]]
    return {"down": _tex(down), "scale": scale}


def _one_cycle_extra(p: dict) -> dict:
    N, pct = p["total_steps"], p["pct_start"]
    initial = p["max_lr"] / p["div_factor"]
    final = initial / p["final_div_factor"]
    e1, e2 = pct * N - 1, (2 * pct * N - 2 if p["three_phase"] else N - 1)
    t = p["_t"]
    phases = [(initial, p["max_lr"], "0", e1)]
    if p["three_phase"]:
        phases += [(p["max_lr"], initial, _tex(e1), e2), (initial, final, _tex(e2), N - 1)]
    else:
        phases += [(p["max_lr"], final, _tex(e1), e2)]
    rows = []
    for a, z, start, end in phases:
        frac = (rf"\tfrac{{{t}}}{{{_tex(end)}}}" if start == "0"
                else rf"\tfrac{{{t} - {start}}}{{{_tex(end)} - {start}}}")
        rows.append(rf"\mathrm{{anneal}}({_tex(a)},\ {_tex(z)},\ {frac}) & {t} \le {_tex(end)}")
    rows[-1] = rows[-1].rsplit("&", 1)[0] + r"& \text{after}"
    anneal = (r"z + (a - z)\,\frac{1 + \cos \pi p}{2}" if p["anneal_strategy"] == "cos"
              else r"a + (z - a)\,p")
    return {"cases": r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}",
            "anneal": anneal}


def _plateau_extra(p: dict) -> dict:
    better = (rf"\ell_{{best}}\,(1 - {_tex(p['threshold'])})" if p["threshold_mode"] == "rel"
              else rf"\ell_{{best}} - {_tex(p['threshold'])}")
    cool = (rf"\text{{, then }} {p['cooldown']} \text{{ steps of cooldown}}" if p["cooldown"]
            else "")
    return {"better": better, "cool": cool}


FORMULAS: dict[str, Formula] = {
    "constant": Formula("${lr}", "A baseline: fine for short runs and adaptive optimizers; "
                                 "it never settles into a noisy minimum."),
    "StepLR": Formula(
        r"${lr} \cdot ${gamma}^{\lfloor ${t} / ${step_size} \rfloor}",
        "Classic image-classification training (ResNet): a few big drops at fixed intervals."),
    "MultiStepLR": Formula(
        r"${lr} \cdot ${gamma}^{\#\{m \in \{${milestones}\} \,:\, m \le ${t}\}}",
        "When you know where the loss plateaus (e.g. 50% and 75% of the epochs)."),
    "ExponentialLR": Formula(
        r"${lr} \cdot ${gamma}^{${t}}",
        "Short runs or a gentle gamma (0.99+); a small gamma kills the lr long before the end."),
    "CosineAnnealingLR": Formula(
        r"${span}\,\frac{1 + \cos(\pi\,${t} / ${T_max})}{2}",
        "The default for a fixed budget: smooth, no milestones to tune, ends at eta_min.",
        _annealed_extra),
    "CosineAnnealingWarmRestarts": Formula(
        r"${span}\,\frac{1 + \cos(\pi\,T_{cur} / T_i)}{2},"
        r"\quad T_i = ${T_0} \cdot ${T_mult}^{i},\ T_{cur} = \text{steps since restart } i",
        "Snapshot ensembles and anytime training: every cycle end is a usable model.",
        _annealed_extra),
    "PolynomialLR": Formula(
        r"${lr} \left(1 - \frac{\min(${t},\ ${total_iters})}{${total_iters}}\right)^{${power}}",
        "A decay to exactly zero with a tunable shape (BERT-style linear decay is power 1)."),
    "LinearLR": Formula(
        r"${lr} \left(${start_factor} + (${end_factor} - ${start_factor})"
        r"\,\frac{\min(${t},\ ${total_iters})}{${total_iters}}\right)",
        "A warmup ramp (start_factor < 1) or a linear decay (end_factor < 1)."),
    "CyclicLR": Formula(
        r"${base_lr} + (${max_lr} - ${base_lr})\,s_t \cdot ${scale},\quad s_t = "
        r"\text{triangle wave: up over ${step_size_up}, down over ${down} steps}",
        "When you don't know the right lr: sweep between two bounds instead of choosing one.",
        _cyclic_extra),
    "OneCycleLR": Formula(
        r"${cases},\quad \mathrm{anneal}(a, z, p) = ${anneal}",
        "A fixed budget with SGD + momentum: one warmup to a large peak, then a long anneal.",
        _one_cycle_extra),
    "ReduceLROnPlateau": Formula(
        r"\begin{cases} \max(${factor}\,\eta_{t-1},\ ${min_lr}) & \text{if the loss has not "
        r"beaten } ${better} \text{ for more than } ${patience} \text{ steps}${cool} \\ "
        r"\eta_{t-1} & \text{otherwise} \end{cases},\quad \eta_{${t0}} = ${lr}",
        "When you can't predict when progress stalls; it reacts only after `patience` steps.",
        _plateau_extra),
}
"""One entry per schedule in ``SCHEDULES`` (tests/test_tools.py checks that)."""


def _tex(value) -> str:
    """A number as LaTeX: integers as is, floats to 4 significant digits, 1e-05 as
    1 \\times 10^{-5}; lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return r"\text{" + str(value).lower() + "}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_tex(v) for v in value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) < 1e6):
        return str(int(value))
    text = f"{value:.4g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else rf"{mantissa} \times {power}"


def formula(config: dict) -> dict:
    """The run's lr formula with its numbers: ``{"schedule": name, "latex": "$$...$$",
    "when": one line}``. With a warmup of W steps the formula has two cases, the ramp for
    t < W and the schedule in t - W after it."""
    run = resolve(config)
    sched = run["schedule"]
    entry = FORMULAS[sched["name"]]
    w = run["warmup"]
    t = f"(t - {w['steps']})" if w else "t"
    p = {**sched, "lr": run["optimizer"]["lr"], "_t": t}
    values = {k: _tex(v) for k, v in p.items() if k not in ("name", "_t")}
    values.update(t=t, t0=str(w["steps"]) if w else "0", **entry.extra(p))
    rhs = Template(entry.latex).substitute(values)
    if w:
        target = SCHEDULES[sched["name"]].initial_lr(run["optimizer"]["lr"], sched)
        s = w["start_factor"]
        ramp = rf"{_tex(target)}\left({_tex(s)} + {_tex(1 - s)}\,\frac{{t}}{{{w['steps']}}}\right)"
        rhs = (rf"\begin{{cases}} {ramp} & t < {w['steps']} \\ {rhs} & t \ge {w['steps']}"
               r" \end{cases}")
    return {"schedule": sched["name"], "latex": rf"$$\eta_t = {rhs}$$", "when": entry.when}


# --- Step inspector ----------------------------------------------------------------------

def _value(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def inspect_step(result: dict, t: int) -> dict:
    """What happened at step ``t`` (0 <= t <= steps): the point p_t (``x``, ``y``) and its
    true ``loss``, and the step taken from it: ``lr``, ``momentum``, ``observed_loss`` and
    ``grad_norm`` (None at t = steps, where no step is taken, and where the run had
    diverged or the optimizer has no momentum)."""
    steps = len(result["lr"])
    if not 0 <= t <= steps:
        raise ValueError(f"step must be between 0 and {steps} (got {t})")
    step = {k: _value(result[k][t]) if t < steps else None
            for k in ("lr", "momentum", "observed_loss", "grad_norm")}
    x, y = (_value(v) for v in result["path"][t])
    return {"step": t, **step, "loss": _value(result["loss"][t]), "x": x, "y": y}


# --- Diagnostics -------------------------------------------------------------------------

def _finite_steps(result: dict) -> int:
    """Steps before the run diverged (all of them if it did not)."""
    d = result["diverged_at"]
    return len(result["lr"]) if d is None else min(d, len(result["lr"]))


def robbins_monro(result: dict) -> dict:
    r"""Running sums of eta_t and eta_t^2, and what they say.

    Robbins and Monro (1951): SGD converges on a noisy problem if
    :math:`\sum \eta_t = \infty` (the steps add up to any distance) and
    :math:`\sum \eta_t^2 < \infty` (the noise they let in adds up to a finite amount).
    A finite run cannot show a sum is infinite, so the verdict reads the tail:

    - ``"no_decay"``: the last lr is above 1% of the peak, so sum eta^2 keeps growing
      like sum eta: the iterates end in a noise floor;
    - ``"too_fast"``: the lr decays and the last half of the run added under 1% to
      sum eta: the steps stopped adding up long before the end;
    - ``"decays"``: the lr decays to (near) zero while sum eta still grows.

    Returns ``sum_lr`` and ``sum_lr2`` (each (steps,), over the steps before any
    divergence, NaN after), ``ratio`` (sum eta^2 / sum eta at the end), ``final_fraction``
    (last lr / peak lr), ``tail_share`` (the last half's share of sum eta), ``verdict``
    and ``text`` (one or two sentences).
    """
    n = _finite_steps(result)
    lr = np.asarray(result["lr"], dtype=np.float64)[:n]
    pad = np.full(len(result["lr"]) - n, np.nan)
    if n == 0:
        return {"sum_lr": pad, "sum_lr2": pad, "ratio": None, "final_fraction": None,
                "tail_share": None, "verdict": "no_decay", "text": "The run diverged at once."}
    s1, s2 = np.cumsum(lr), np.cumsum(lr ** 2)
    peak = float(lr.max())
    final_fraction = float(lr[-1] / peak) if peak > 0 else 0.0
    tail_share = float((s1[-1] - s1[n // 2 - 1]) / s1[-1]) if n > 1 and s1[-1] > 0 else 0.0
    sums = (f"Over {n} steps the sum of the lr reached {s1[-1]:.3g} and the sum of its "
            f"squares {s2[-1]:.3g}.")
    if final_fraction > 0.01:
        verdict = "no_decay"
        text = (f"{sums} The lr ends at {final_fraction:.0%} of its peak, so the squares keep "
                "adding up as fast as the lr does: on a noisy loss the iterates settle into a "
                "noise floor instead of converging.")
    elif tail_share < 0.01:
        verdict = "too_fast"
        text = (f"{sums} The lr decayed so fast that the last half of the run added only "
                f"{tail_share:.1%} to the sum: the steps stop adding up, so the path can "
                "stall before it reaches the minimum.")
    else:
        verdict = "decays"
        text = (f"{sums} The lr decays to {final_fraction:.2%} of its peak while the last "
                f"half still added {tail_share:.0%} to its sum: the Robbins-Monro pattern, "
                "steps that add up with noise that does not.")
    ratio = float(s2[-1] / s1[-1]) if s1[-1] > 0 else None
    return {"sum_lr": np.concatenate([s1, pad]), "sum_lr2": np.concatenate([s2, pad]),
            "ratio": ratio, "final_fraction": final_fraction, "tail_share": tail_share,
            "verdict": verdict, "text": text}


def stability(config: dict, result: dict) -> dict:
    r"""The lr above which gradient descent on a quadratic surface diverges.

    On a quadratic with largest Hessian eigenvalue :math:`\lambda` (the surface's
    ``hessian_max``; plus weight_decay, which adds to the curvature), SGD without momentum
    multiplies the error along that direction by :math:`1 - \eta\lambda` per step, so it
    diverges when :math:`\eta > 2/\lambda`. With heavy-ball momentum :math:`\beta` held
    constant (no Nesterov, dampening d) the bound is :math:`2(1 + \beta) / ((1 - d)\lambda)`.
    A few steps above it only amplify; staying above it diverges.

    Returns ``threshold`` (None where this does not apply: surfaces without a constant
    Hessian, adaptive optimizers, Nesterov or a cycled momentum), ``lambda_max``,
    ``exceeding`` (the steps whose lr is above the threshold) and ``text``.
    """
    run = resolve(config)
    surface = SURFACES[run["problem"]["name"]]
    opt = run["optimizer"]
    none = {"threshold": None, "lambda_max": None, "exceeding": []}
    if surface.hessian_max is None:
        return {**none, "text": f"{surface.label} has no constant curvature, so no single "
                                "lr threshold."}
    lam = float(surface.hessian_max(run["problem"]))
    momentum = np.asarray(result["momentum"][:_finite_steps(result)], dtype=np.float64)
    if opt["name"] != "sgd" or opt["nesterov"] or (momentum.size and np.ptp(momentum) > 0):
        return {**none, "lambda_max": lam,
                "text": "The 2/lambda bound is for SGD with a fixed heavy-ball momentum; "
                        "adaptive optimizers rescale every step."}
    lam += opt["weight_decay"]
    beta = float(momentum[0]) if momentum.size else opt["momentum"]
    threshold = 2 * (1 + beta) / ((1 - (opt["dampening"] if beta else 0.0)) * lam)
    lr = np.asarray(result["lr"], dtype=np.float64)
    exceeding = [int(t) for t in np.flatnonzero(lr > threshold)]
    where = (f"{len(exceeding)} steps exceed it" if exceeding else "no step exceeds it")
    bound = "2/lambda" if beta == 0 else "2(1 + momentum)/lambda"
    return {"threshold": threshold, "lambda_max": lam, "exceeding": exceeding,
            "text": f"Largest curvature {lam:g}: SGD diverges above lr = {bound} = "
                    f"{threshold:.4g}; {where}."}


def effective_step(result: dict) -> np.ndarray:
    r"""The step length per unit of gradient, :math:`\|p_{t+1} - p_t\| / \|g_t\|`, shape
    (steps,).

    Exactly the lr for plain SGD; for Adam it is the lr divided by the size of
    :math:`\sqrt{\hat v_t} + \epsilon` (times the momentum's bending), i.e. the step size
    Adam actually takes per unit of gradient. NaN where the gradient is zero or the run
    has diverged.
    """
    path = np.asarray(result["path"], dtype=np.float64)
    length = np.linalg.norm(np.diff(path, axis=0), axis=1)
    g = np.asarray(result["grad_norm"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g > 0, length / g, np.nan)


# --- LR range test -----------------------------------------------------------------------

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


# --- Batch size on the noisy quadratic ---------------------------------------------------

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


# --- Pitfalls ----------------------------------------------------------------------------

_PER_STEP = ("lr", "momentum", "observed_loss", "grad_norm")


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


# --- Take-home exports: data -------------------------------------------------------------

COLUMNS = ("step", "lr", "momentum", "loss", "observed_loss", "grad_norm", "x", "y")
"""One row per path point p_0 .. p_steps; the per-step columns are empty at p_steps."""


def _columns(result: dict) -> dict[str, list]:
    steps = len(result["lr"])
    nan = np.full(1, np.nan)
    path = np.asarray(result["path"], dtype=np.float64)
    cols = {"step": list(range(steps + 1)), "loss": result["loss"], "x": path[:, 0],
            "y": path[:, 1]}
    cols.update({k: np.concatenate([np.asarray(result[k], dtype=np.float64), nan])
                 for k in _PER_STEP})
    return {k: [v if isinstance(v, int) else _value(v) for v in cols[k]] for k in COLUMNS}


def to_csv(runs: Sequence[tuple[str, dict, dict]]) -> str:
    """Runs given as (label, config, result) as CSV: a ``run`` column with the label, then
    ``COLUMNS``; missing values (NaN, the per-step columns at the final point) are empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("run",) + COLUMNS)
    for label, _config, result in runs:
        cols = _columns(result)
        for i in range(len(cols["step"])):
            writer.writerow([label] + ["" if cols[k][i] is None else repr(cols[k][i])
                                       for k in COLUMNS])
    return buf.getvalue()


def to_json(runs: Sequence[tuple[str, dict, dict]]) -> str:
    """Runs given as (label, config, result) as a JSON list of ``{"label", "config"
    (canonical, re-runnable), "diverged_at", "columns": {name: list}}``, NaN as null."""
    return json.dumps([{"label": label, "config": validate(config),
                        "diverged_at": result["diverged_at"], "columns": _columns(result)}
                       for label, config, result in runs], allow_nan=False)


# --- Take-home exports: code -------------------------------------------------------------

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


def _explicit(section: str, run: dict, base: dict) -> dict:
    """The fields to spell out: those the user gave, and defaults that PyTorch lacks
    (ours follow the run, e.g. T_max)."""
    entry = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}[section][run[section]["name"]]
    given = base.get(section, {})
    return {p.name: run[section][p.name] for p in entry.params
            if (p.name in given or isinstance(p.default, Derived))
            and run[section][p.name] is not None}


def _kwargs(fields: dict) -> str:
    return ", ".join(f"{k}={tuple(v) if k == 'betas' else v!r}" for k, v in fields.items())


def _comment(text: str) -> str:
    return textwrap.fill(text, 88, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False) + "\n"


def _header(run: dict, library: str) -> str:
    surface = SURFACES[run["problem"]["name"]]
    return _comment(f"This Optimization Playground run, with {library}: {run['steps']} steps "
                    f"of {run['optimizer']['name']} on {surface.label.lower()}. Each step as "
                    "in the playground: the lr, the loss and gradient at p_t, the optimizer "
                    "step, the scheduler step.")


def _torch_scheduling(run: dict, base: dict) -> tuple[list[str], list[str]]:
    """The lines that build the scheduler (warmup included, as CONTRACT.md says) and the
    loop's lines that step it."""
    sched, w = run["schedule"], run["warmup"]
    plateau = sched["name"] == "ReduceLROnPlateau"
    args = ", ".join(filter(None, ["optimizer", 'mode="min"' if plateau else "",
                                   _kwargs(_explicit("schedule", run, base))]))
    make = None if sched["name"] == "constant" else f"lr_scheduler.{sched['name']}({args})"
    build = [] if not w else [
        f"warmup = lr_scheduler.LinearLR(optimizer, start_factor={w['start_factor']!r}, "
        f"end_factor=1.0, total_iters={w['steps']})"]
    if w and plateau:
        return build + [f"scheduler = {make}  # stepped once the warmup is over"], [
            f"    if t < {w['steps']}:", "        warmup.step()", "    else:",
            "        scheduler.step(loss.item())"]
    if plateau:
        return [f"scheduler = {make}"], ["    scheduler.step(loss.item())"]
    if w and make:
        build += [f"schedule = {make}", "scheduler = lr_scheduler.SequentialLR(optimizer, "
                                        f"[warmup, schedule], milestones=[{w['steps']}])"]
    elif w:
        build.append("scheduler = warmup")
    elif make:
        build.append(f"scheduler = {make}")
    return build, ["    scheduler.step()"] if build else []


def pytorch_code(config: dict) -> str:
    """A standalone script reproducing ``config`` with ``torch.optim`` and
    ``torch.optim.lr_scheduler`` (in float64, the playground's x64 precision). It leaves
    ``lrs``, ``losses`` and ``path`` (lists) behind and prints the final point. The warmup
    is ``SequentialLR([LinearLR(start_factor, 1.0, W), schedule], milestones=[W])`` as in
    CONTRACT.md (the LinearLR alone for a constant schedule; stepped by hand before a
    ReduceLROnPlateau). On the noisy quadratic the minibatch shifts come from torch's
    generator, so the path matches the playground's only in distribution."""
    base, run = validate(config), resolve(config)
    opt = run["optimizer"]
    noisy = SURFACES[run["problem"]["name"]].noisy
    cls = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[opt["name"]]
    opt_args = _kwargs({"lr": opt["lr"], **_explicit("optimizer", run, base)})
    lines = [_header(run, "torch.optim"), "import math", "", "import torch",
             "from torch.optim import lr_scheduler", "",
             f"STEPS = {run['steps']}",
             f"BLOWUP = {SURFACES[run['problem']['name']].blowup!r}  "
             "# the playground stops a run whose loss passes this"]
    if noisy:
        lines += [f"NOISE_STD, SEED = {run['problem']['noise_std']!r}, "
                  f"{run['problem']['seed']!r}",
                  "# Each step sees the bowl shifted by a random c_t ~ N(0, NOISE_STD^2 I): a "
                  "minibatch.",
                  "# torch draws other numbers than the playground (JAX), so the path "
                  "differs in detail.",
                  "generator = torch.Generator().manual_seed(SEED)"]
    lines += ["", "", _loss_def(run), "",
              f"p = torch.nn.Parameter(torch.tensor({list(run['start'])!r}, "
              "dtype=torch.float64))",
              f"optimizer = torch.optim.{cls}([p], {opt_args})"]
    build, step = _torch_scheduling(run, base)
    lines += build
    lines += ["", "lrs, losses, path = [], [], [p.tolist()]", "for t in range(STEPS):",
              "    optimizer.zero_grad()"]
    if noisy:
        lines += ["    shift = NOISE_STD * torch.randn(2, generator=generator, "
                  "dtype=torch.float64)",
                  "    loss = loss_fn(p - shift)  # what this step's minibatch sees"]
    else:
        lines.append("    loss = loss_fn(p)")
    lines += ["    if not math.isfinite(loss.item()) or loss.item() > BLOWUP:",
              '        print(f"diverged at step {t}")', "        break",
              '    lrs.append(optimizer.param_groups[0]["lr"])',
              "    losses.append(loss.item())", "    loss.backward()", "    optimizer.step()"]
    lines += step + ["    path.append(p.tolist())", "",
              'print(f"final loss {loss_fn(p).item():.6g} at {p.tolist()}")']
    return "\n".join(lines) + "\n"


def optax_gap(config: dict) -> str | None:
    """Why ``config`` has no exact Optax equivalent, or None if :func:`optax_code` can
    reproduce it number for number."""
    run = resolve(config)
    opt, sched = run["optimizer"], run["schedule"]
    span = run["steps"] - (run["warmup"]["steps"] if run["warmup"] else 0)
    if opt["name"] == "sgd" and opt["dampening"]:
        return "optax.sgd has no dampening (its trace adds the full gradient)."
    name = sched["name"]
    if name == "ReduceLROnPlateau":
        return ("optax.contrib.reduce_on_plateau counts patience differently (it reduces "
                "after `patience` bad evaluations, PyTorch after more than `patience`), "
                "combines rtol and atol, has no eps and scales the update of the same step, "
                "so it gives other numbers.")
    if name == "OneCycleLR":
        return ("optax.cosine_onecycle_schedule peaks at int(pct_start * N) and ends at N, "
                "PyTorch's OneCycleLR one step earlier (pct_start * N - 1 and N - 1), and "
                "Optax does not cycle the momentum.")
    if name == "CyclicLR":
        return "Optax has no cyclical (triangular) schedule and does not cycle the momentum."
    if name == "CosineAnnealingLR" and span - 1 > sched["T_max"]:
        return ("optax.cosine_decay_schedule holds eta_min after T_max; PyTorch's "
                "CosineAnnealingLR climbs back up, and this run goes past T_max.")
    return None


def _optax_schedule(run: dict) -> str:
    """The Optax schedule expression for a run that :func:`optax_gap` accepts."""
    s, lr = run["schedule"], run["optimizer"]["lr"]
    name = s["name"]
    if name == "constant":
        expr = repr(lr)
    elif name == "StepLR":
        expr = (f"optax.exponential_decay({lr!r}, {s['step_size']}, {s['gamma']!r}, "
                "staircase=True)")
    elif name == "MultiStepLR":
        counts = {m: s["milestones"].count(m) for m in sorted(set(s["milestones"]))}
        scales = ", ".join(f"{m}: {s['gamma'] ** c!r}" for m, c in counts.items())
        expr = f"optax.piecewise_constant_schedule({lr!r}, {{{scales}}})"
    elif name == "ExponentialLR":
        expr = f"optax.exponential_decay({lr!r}, 1, {s['gamma']!r})"
    elif name == "CosineAnnealingLR":
        alpha = s["eta_min"] / lr if lr else 0.0
        expr = f"optax.cosine_decay_schedule({lr!r}, {s['T_max']}, alpha={alpha!r})"
    elif name == "CosineAnnealingWarmRestarts":
        span = run["steps"] - (run["warmup"]["steps"] if run["warmup"] else 0)
        cycles, covered = 0, 0
        while covered < span:
            covered += s["T_0"] * s["T_mult"] ** cycles
            cycles += 1
        expr = (f"optax.sgdr_schedule([dict(init_value={lr!r}, peak_value={lr!r}, "
                f"warmup_steps=0, decay_steps={s['T_0']} * {s['T_mult']} ** k, "
                f"end_value={s['eta_min']!r}) for k in range({cycles})])")
    elif name == "PolynomialLR":
        expr = (f"optax.polynomial_schedule({lr!r}, 0.0, {s['power']!r}, "
                f"{s['total_iters']})")
    elif name == "LinearLR":
        expr = (f"optax.linear_schedule({lr * s['start_factor']!r}, "
                f"{lr * s['end_factor']!r}, {s['total_iters']})")
    else:
        raise AssertionError(name)
    w = run["warmup"]
    if not w:
        return expr
    if name == "constant":
        expr = f"optax.constant_schedule({lr!r})"
    return (f"optax.join_schedules([optax.linear_schedule({lr * w['start_factor']!r}, "
            f"{lr!r}, {w['steps']}), {expr}], [{w['steps']}])")


def _optax_optimizer(opt: dict) -> str:
    wd = opt["weight_decay"]
    if opt["name"] == "sgd":
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        nest = ", nesterov=True" if opt["nesterov"] else ""
        core = f"optax.sgd(schedule{mom}{nest})"
    elif opt["name"] == "adamw":
        b1, b2 = opt["betas"]
        return (f"optax.adamw(schedule, b1={b1!r}, b2={b2!r}, eps={opt['eps']!r}, "
                f"weight_decay={wd!r})")
    elif opt["name"] == "adam":
        b1, b2 = opt["betas"]
        core = f"optax.adam(schedule, b1={b1!r}, b2={b2!r}, eps={opt['eps']!r})"
    else:  # rmsprop in torch's order: the momentum buffer before the lr (optax.rmsprop
        # applies the lr first, which differs once the lr changes)
        scale = "scale_by_stddev" if opt["centered"] else "scale_by_rms"
        parts = [f"optax.{scale}(decay={opt['alpha']!r}, eps={opt['eps']!r}, "
                 "eps_in_sqrt=False)"]
        if opt["momentum"]:
            parts.append(f"optax.trace(decay={opt['momentum']!r})")
        parts.append("optax.scale_by_learning_rate(schedule)")
        core = "optax.chain(" + ", ".join(parts) + ")"
    if not wd:
        return core
    inner = core.removeprefix("optax.chain(").removesuffix(")") if core.startswith(
        "optax.chain(") else core
    return f"optax.chain(optax.add_decayed_weights({wd!r}), {inner})"


def optax_code(config: dict) -> str:
    """A standalone script reproducing ``config`` with Optax (in JAX's precision: float32
    by default, float64 with ``JAX_ENABLE_X64=1``), leaving ``lrs``, ``losses`` and ``path``
    behind. On the noisy quadratic it draws the playground's own shifts (same seed, same
    numbers). Where Optax has no exact equivalent (:func:`optax_gap`) the script is a
    comment saying why, not code that would give other numbers."""
    run = resolve(config)
    gap = optax_gap(config)
    if gap:
        return (_header(run, "Optax") + "#\n"
                + _comment(f"No exact Optax equivalent: {gap} Use the PyTorch script for "
                           "this run."))
    noisy = SURFACES[run["problem"]["name"]].noisy
    lines = [_header(run, "Optax"), "import jax", "import jax.numpy as jnp", "import optax",
             "", f"STEPS = {run['steps']}",
             f"BLOWUP = {SURFACES[run['problem']['name']].blowup!r}  "
             "# the playground stops a run whose loss passes this"]
    if noisy:
        lines += [f"NOISE_STD, SEED = {run['problem']['noise_std']!r}, "
                  f"{run['problem']['seed']!r}",
                  "# Each step sees the bowl shifted by c_t ~ N(0, NOISE_STD^2 I) (a "
                  "minibatch), drawn as the playground draws it.",
                  "key = jax.random.key(SEED)"]
    lines += ["", "", _loss_def(run), "",
              f"schedule = {_optax_schedule(run)}",
              f"optimizer = {_optax_optimizer(run['optimizer'])}", "", "",
              "@jax.jit", "def step(p, state, t):"]
    if noisy:
        lines += ["    shift = NOISE_STD * jax.random.normal(jax.random.fold_in(key, t), (2,))",
                  "    loss, g = jax.value_and_grad(loss_fn)(p - shift)"]
    else:
        lines.append("    loss, g = jax.value_and_grad(loss_fn)(p)")
    lines += ["    updates, state = optimizer.update(g, state, p)",
              "    return optax.apply_updates(p, updates), state, loss", "", "",
              f"p = jnp.array({list(run['start'])!r})", "state = optimizer.init(p)",
              "lrs, losses, path = [], [], [p.tolist()]", "for t in range(STEPS):",
              "    new_p, new_state, loss = step(p, state, t)",
              "    if not jnp.isfinite(loss) or loss > BLOWUP:",
              '        print(f"diverged at step {t}")', "        break",
              "    lrs.append(float(schedule(t)) if callable(schedule) else schedule)",
              "    losses.append(float(loss))", "    p, state = new_p, new_state",
              "    path.append(p.tolist())", "",
              'print(f"final loss {float(loss_fn(p)):.6g} at {p.tolist()}")']
    return "\n".join(lines) + "\n"
