"""Formula panel: :data:`FORMULAS` (one entry per schedule in ``SCHEDULES``) and
:func:`formula`, the schedule's formula with the run's numbers, as LaTeX."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from string import Template

from ..config import resolve
from ..schedules import SCHEDULES


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
