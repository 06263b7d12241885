"""Step inspector and diagnostics: :func:`inspect_step`, :func:`robbins_monro`,
:func:`stability`, :func:`effective_step`."""
from __future__ import annotations

import numpy as np

from ..config import resolve
from ..surfaces import SURFACES
from ._results import _finite_steps, _value


def inspect_step(result: dict, t: int) -> dict:
    """What happened at step ``t`` (0 <= t <= steps): the point p_t (``x``, ``y``) and its
    true ``loss``, and the step taken from it: ``lr``, ``momentum``, ``observed_loss`` and
    ``grad_norm`` with ``clipped_grad_norm`` (the norm the optimizer used, after
    ``clip_grad_norm``) (None at t = steps, where no step is taken, and where the run had
    diverged or the optimizer has no momentum)."""
    steps = len(result["lr"])
    if not 0 <= t <= steps:
        raise ValueError(f"step must be between 0 and {steps} (got {t})")
    step = {k: _value(result[k][t]) if t < steps else None
            for k in ("lr", "momentum", "observed_loss", "grad_norm", "clipped_grad_norm")}
    x, y = (_value(v) for v in result["path"][t])
    return {"step": t, **step, "loss": _value(result["loss"][t]), "x": x, "y": y}


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
