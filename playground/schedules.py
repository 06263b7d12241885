"""Learning-rate schedules, one small pure function each, named and parametrised as in
``torch.optim.lr_scheduler``. Adding a schedule means adding one entry to ``SCHEDULES``.

A schedule function takes ``t`` (an int array of scheduler steps since the schedule
started), ``lr`` (the optimizer's base learning rate, a traced scalar) and ``p`` (its
parameters as a dict of traced scalars) and returns the learning rate at each ``t``;
schedules that cycle the momentum return ``(lr, momentum)``. Every parameter is data,
never a Python branch, so changing it never compiles anything.

They reproduce PyTorch's numbers: PyTorch steps most schedulers with a chainable
recurrence; these are the closed forms of those recurrences, equal to float precision
(see ``docs/schedules.md`` §0.2). ReduceLROnPlateau depends on the losses seen,
so it is a state transition instead.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, NamedTuple

import jax.numpy as jnp

from .params import ConfigError, Derived, Entry, Param, RunContext

MAX_MILESTONES = 64


def _float(t, like):
    return t.astype(jnp.result_type(like))


def constant(t, lr, p):
    r"""No scheduler: :math:`\eta_t = \eta`."""
    return jnp.full(t.shape, lr)


def step_lr(t, lr, p):
    r"""StepLR: :math:`\eta_t = \eta \, \gamma^{\lfloor t / \text{step\_size} \rfloor}`."""
    return lr * p["gamma"] ** _float(t // p["step_size"], lr)


def multi_step_lr(t, lr, p):
    r"""MultiStepLR: :math:`\eta_t = \eta \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}`.

    Milestones may repeat (each counts) and need not be sorted, as in PyTorch.
    """
    passed = jnp.sum(p["milestones"][None, :] <= t[:, None], axis=1)
    return lr * p["gamma"] ** _float(passed, lr)


def exponential_lr(t, lr, p):
    r"""ExponentialLR: :math:`\eta_t = \eta \, \gamma^t`."""
    return lr * p["gamma"] ** _float(t, lr)


def cosine_annealing_lr(t, lr, p):
    r"""CosineAnnealingLR:
    :math:`\eta_t = \eta_{min} + (\eta - \eta_{min}) \frac{1 + \cos(\pi t / T_{max})}{2}`.

    Not clamped: past ``T_max`` the lr climbs back to :math:`\eta` at ``2 T_max``, as
    PyTorch's does.
    """
    eta_min = p["eta_min"]
    return eta_min + (lr - eta_min) * (1 + jnp.cos(jnp.pi * _float(t, lr) / p["T_max"])) / 2


def cosine_annealing_warm_restarts(t, lr, p):
    r"""CosineAnnealingWarmRestarts (SGDR):
    :math:`\eta_t = \eta_{min} + (\eta - \eta_{min}) \frac{1 + \cos(\pi T_{cur} / T_i)}{2}`.

    Cycle i lasts :math:`T_i = T_0 T_{mult}^i` steps and :math:`T_{cur}` counts steps since
    its start, computed exactly from integers (PyTorch's ``step(epoch)`` path uses a float
    log that misplaces some restarts; plain ``step()`` does not, and neither do we).
    """
    T0, Tm = p["T_0"], p["T_mult"]
    tf = _float(t, lr)
    lengths = _float(T0, lr) * _float(Tm, lr) ** jnp.arange(32, dtype=tf.dtype)
    starts = jnp.concatenate([jnp.zeros(1, tf.dtype), jnp.cumsum(lengths)])
    n = jnp.sum(starts[None, 1:] <= tf[:, None], axis=1)  # completed cycles
    T_cur = jnp.where(Tm == 1, _float(t % T0, lr), tf - starts[n])
    T_i = jnp.where(Tm == 1, _float(T0, lr), lengths[n])
    eta_min = p["eta_min"]
    return eta_min + (lr - eta_min) * (1 + jnp.cos(jnp.pi * T_cur / T_i)) / 2


def polynomial_lr(t, lr, p):
    r"""PolynomialLR: :math:`\eta_t = \eta \, (1 - \min(t, T) / T)^{power}`, T = total_iters.

    Reaches exactly 0 at ``total_iters`` and stays there.
    """
    T = _float(p["total_iters"], lr)
    return lr * (1.0 - jnp.minimum(T, _float(t, lr)) / T) ** p["power"]


def linear_lr(t, lr, p):
    r"""LinearLR: :math:`\eta_t = \eta \, (s + (e - s) \min(t, T) / T)`,
    s = start_factor, e = end_factor, T = total_iters.

    From T on the factor is e itself: :math:`s + (e - s) T / T` rounds (in float32, 1/3 +
    (0 - 1/3) 25 / 25 is -3e-8), and where e = 0 that left a negative lr for the rest of
    the run; torch's closed form and optax's linear_schedule give exactly base * e.
    """
    s, e, T = p["start_factor"], p["end_factor"], _float(p["total_iters"], lr)
    tf = _float(t, lr)
    return lr * jnp.where(tf >= T, e, s + (e - s) * jnp.minimum(T, tf) / T)


def cyclic_lr(t, lr, p):
    r"""CyclicLR: the lr runs from base_lr up to max_lr and back, over and over.

    With :math:`u, d` = step_size_up, step_size_down, :math:`c = \lfloor 1 + t/(u+d) \rfloor`,
    :math:`x = 1 + t/(u+d) - c` and :math:`s = x / r` if :math:`x \le r = u/(u+d)` else
    :math:`(x-1)/(r-1)`:

    .. math:: \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, s\, f,\quad
              m_t = m_{max} - (m_{max} - m_{base})\, s\, f

    with :math:`f = 1` (triangular), :math:`2^{-(c-1)}` (triangular2) or :math:`\gamma^t`
    (exp_range). The optimizer's own lr is ignored.
    """
    up = _float(p["step_size_up"], lr)
    down = jnp.where(p["step_size_down"] < 0, up, _float(p["step_size_down"], lr))
    total = up + down
    ratio = up / total
    tf = _float(t, lr)
    cycle = jnp.floor(1 + tf / total)
    x = 1.0 + tf / total - cycle
    scale = jnp.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
    f = jnp.select([p["mode"] == 0, p["mode"] == 1],
                   [jnp.ones_like(tf), 1 / (2.0 ** (cycle - 1))], p["gamma"] ** tf)
    lr_t = p["base_lr"] + (p["max_lr"] - p["base_lr"]) * scale * f
    mom_t = p["max_momentum"] - (p["max_momentum"] - p["base_momentum"]) * scale * f
    return lr_t, mom_t


def one_cycle_lr(t, lr, p):
    r"""OneCycleLR: warm up from max_lr/div_factor to max_lr, then anneal to
    max_lr/(div_factor * final_div_factor); momentum moves the opposite way.

    Phase ends (as PyTorch, with N = total_steps): :math:`pN - 1` and :math:`N - 1`, or
    with three_phase :math:`pN - 1`, :math:`2pN - 2`, :math:`N - 1`. Within a phase,
    :math:`\pi_t = (t - start) / (end - start)` and the value moves from a to z by
    :math:`z + (a - z)(1 + \cos \pi \pi_t)/2` (cos) or :math:`(z - a)\pi_t + a` (linear).
    The optimizer's own lr is ignored.
    """
    N = _float(p["total_steps"], lr)
    initial = p["max_lr"] / p["div_factor"]
    lowest = initial / p["final_div_factor"]
    peak, m_lo, m_hi = p["max_lr"], p["base_momentum"], p["max_momentum"]
    three = p["three_phase"]
    e1 = p["pct_start"] * N - 1
    e2 = jnp.where(three, 2 * p["pct_start"] * N - 2, N - 1)
    tf = _float(t, lr)
    phase = jnp.where(tf <= e1, 0, jnp.where(three & (tf > e2), 2, 1))
    start = jnp.select([phase == 0, phase == 1], [jnp.zeros_like(tf), e1 + 0 * tf], e2)
    end = jnp.select([phase == 0, phase == 1], [e1 + 0 * tf, e2 + 0 * tf], N - 1)
    pct = (tf - start) / (end - start)
    lr_a = jnp.select([phase == 0, phase == 1], [initial, peak], initial)
    lr_z = jnp.select([phase == 0, phase == 1], [peak, jnp.where(three, initial, lowest)],
                      lowest)
    m_a = jnp.select([phase == 0, phase == 1], [m_hi, m_lo], m_hi)
    m_z = jnp.select([phase == 0, phase == 1], [m_lo, m_hi], m_hi)

    def anneal(a, z):
        cos = z + (a - z) / 2.0 * (jnp.cos(jnp.pi * pct) + 1)
        return jnp.where(p["anneal_strategy"] == 0, cos, (z - a) * pct + a)

    return anneal(lr_a, lr_z), anneal(m_a, m_z)


class PlateauState(NamedTuple):
    lr: jnp.ndarray
    best: jnp.ndarray
    bad: jnp.ndarray
    cooldown: jnp.ndarray


def plateau_init(lr):
    return PlateauState(lr, jnp.full_like(lr, jnp.inf), jnp.zeros((), jnp.int32),
                        jnp.zeros((), jnp.int32))


def reduce_lr_on_plateau(state: PlateauState, loss, p) -> PlateauState:
    r"""ReduceLROnPlateau (mode min), one step with the loss just seen.

    A loss is better if :math:`\ell < best (1 - threshold)` (rel) or
    :math:`\ell < best - threshold` (abs). Bad steps are ignored during cooldown. When more
    than ``patience`` bad steps pile up, :math:`\eta \leftarrow \max(\eta \cdot factor,
    min\_lr)`, applied only if that lowers it by more than ``eps``; then cooldown starts.
    """
    rel = p["threshold_mode"] == 0
    better = jnp.where(rel, loss < state.best * (1 - p["threshold"]),
                       loss < state.best - p["threshold"])
    best = jnp.where(better, loss, state.best)
    bad = jnp.where(better, 0, state.bad + 1)
    cooling = state.cooldown > 0
    cooldown = jnp.where(cooling, state.cooldown - 1, state.cooldown)
    bad = jnp.where(cooling, 0, bad)
    reduce = bad > p["patience"]
    new_lr = jnp.maximum(state.lr * p["factor"], p["min_lr"])
    lr = jnp.where(reduce & (state.lr - new_lr > p["eps"]), new_lr, state.lr)
    return PlateauState(lr, best, jnp.where(reduce, 0, bad),
                        jnp.where(reduce, p["cooldown"], cooldown))


@dataclass(frozen=True)
class Schedule(Entry):
    fn: Callable = None
    cycles_momentum: bool = False
    """fn returns (lr, momentum) and, with cycle_momentum, sets momentum/beta1."""
    stateful: bool = False
    """fn is a transition (state, loss, p) -> state driven by the losses seen."""
    initial_lr: Callable = staticmethod(lambda lr, p: lr)
    """The lr a warmup ramps towards (PyTorch's ``initial_lr``)."""
    check: Callable = staticmethod(lambda p, ctx: None)
    """Cross-field checks on the resolved parameters; raise ConfigError."""
    warms_up: bool = False
    """The schedule ramps the lr up by itself (CyclicLR, OneCycleLR): the page turns its
    linear warmup off when a student picks it (they may switch it back on)."""


def _one_cycle_check(p, ctx: RunContext):
    N, pct = p["total_steps"], p["pct_start"]
    if N < ctx.span:
        raise ConfigError("schedule.total_steps",
                          f"must be at least the {ctx.span} scheduler steps of this run "
                          f"(PyTorch raises past total_steps) (got {N})")
    # A phase of zero length divides by zero in PyTorch when a step lands in it: phase 1
    # at t = 0 if pct_start * N == 1; the last phase at t = N (the run's final scheduler
    # step when N equals it) if pct_start == 1 (two phases) or 2 pct_start N == N + 1.
    last_empty = (2 * pct * N == N + 1) if p["three_phase"] else pct == 1
    if pct * N == 1 or (last_empty and N == ctx.span):
        raise ConfigError("schedule.pct_start",
                          f"pct_start * total_steps = {pct * N:g} gives a phase of zero length "
                          "that this run reaches (PyTorch divides by zero there)")


def _sig(x: float, digits: int) -> float:
    """``x`` to ``digits`` significant digits: a value a student can read in a box."""
    return float(f"{x:.{digits}g}")


# The page's first-pick values (Param.first_pick): what the form shows when a student picks
# a schedule, sized to the scheduler's steps after the warmup (ctx.span) so the schedule
# shows its character in the run at hand. The API's defaults stay PyTorch's.
_PICK_EXP_GAMMA = Derived("the lr ends near 1% of its start",
                          lambda c: _sig(0.01 ** (1 / c.span), 4))
_PICK_CYCLE_UP = Derived("four cycles in the run", lambda c: max(1, c.span // 8))
_PICK_WHOLE_RUN = Derived("the whole run", lambda c: c.span)
_PICK_HALF_RUN = Derived("half the run", lambda c: max(1, c.span // 2))
_PICK_PATIENCE = Derived("a 25th of the run", lambda c: max(1, c.span // 25))
_PICK_THRESHOLD = Derived(
    "1% of how far the loss can fall",
    lambda c: _sig(0.01 * c.loss_drop, 1) if 0 < c.loss_drop < float("inf") else 0.01)
_PICK_ABS = Derived("abs: a plateau is a stall in the loss itself", lambda c: "abs")
_PICK_HALVE = Derived("halve the lr at each plateau", lambda c: 0.5)

_GAMMA = dict(low=0.0, low_open=True, log=True)
_ETA_MIN = Param("eta_min", "float", 0.0, "eta_min", "Lowest learning rate.", low=0.0,
                 log=True)
_MOMENTUM_PARAMS = (
    Param("cycle_momentum", "bool", True, "cycle_momentum",
          "Cycle the momentum (SGD, RMSprop) or beta1 (Adam) opposite to the lr."),
    Param("base_momentum", "float", None, "base_momentum", "Momentum at the lr's peak.",
          low=0.0, high=1.0, high_open=True),
    Param("max_momentum", "float", None, "max_momentum", "Momentum at the lr's lowest.",
          low=0.0, high=1.0, high_open=True),
)


def _with_momentum_defaults(base, peak):
    defaults = {"base_momentum": base, "max_momentum": peak}
    return tuple(replace(q, default=defaults[q.name]) if q.name in defaults else q
                 for q in _MOMENTUM_PARAMS)


SCHEDULES: dict[str, Schedule] = {s.name: s for s in [
    Schedule(name="constant", label="Constant", summary="The same lr at every step.",
             fn=constant),
    Schedule(
        name="StepLR", label="Step decay",
        summary="Multiply the lr by gamma every step_size steps.", fn=step_lr,
        params=(Param("step_size", "int",
                      Derived("a third of the run", lambda c: max(1, c.span // 3)),
                      "step_size", "Steps between decays.", low=1, unit="steps"),
                Param("gamma", "float", 0.1, "gamma", "Factor at each decay.", **_GAMMA))),
    Schedule(
        name="MultiStepLR", label="Multi-step decay",
        summary="Multiply the lr by gamma at each milestone.", fn=multi_step_lr,
        params=(Param("milestones", "int_list",
                      Derived("at 50% and 75% of the run",
                              lambda c: [c.span // 2, 3 * c.span // 4]),
                      "milestones", "Steps at which the lr drops (comma-separated).",
                      low=0, max_len=MAX_MILESTONES, unit="steps"),
                Param("gamma", "float", 0.1, "gamma", "Factor at each milestone.", **_GAMMA))),
    Schedule(
        name="ExponentialLR", label="Exponential decay",
        summary="Multiply the lr by gamma every step.", fn=exponential_lr,
        params=(Param("gamma", "float", 0.99, "gamma", "Factor per step.",
                      first_pick=_PICK_EXP_GAMMA, **_GAMMA),)),
    Schedule(
        name="CosineAnnealingLR", label="Cosine annealing",
        summary="Half a cosine from the lr down to eta_min over T_max steps.",
        fn=cosine_annealing_lr,
        params=(Param("T_max", "int", Derived("the whole run", lambda c: c.span), "T_max",
                      "Steps from the lr to eta_min (it rises again after).", low=1,
                      unit="steps"), _ETA_MIN)),
    Schedule(
        name="CosineAnnealingWarmRestarts", label="Cosine warm restarts",
        summary="Cosine annealing that restarts at the full lr; cycles grow by T_mult.",
        fn=cosine_annealing_warm_restarts,
        params=(Param("T_0", "int", Derived("a quarter of the run",
                                            lambda c: max(1, c.span // 4)),
                      "T_0", "Length of the first cycle.", low=1, unit="steps"),
                Param("T_mult", "int", 1, "T_mult", "Each cycle is T_mult times longer.",
                      low=1, ui_high=4), _ETA_MIN)),
    Schedule(
        name="PolynomialLR", label="Polynomial decay",
        summary="Decay to exactly 0 over total_iters steps along (1 - t/T)^power.",
        fn=polynomial_lr,
        params=(Param("total_iters", "int", 5, "total_iters", "Steps to reach 0.", low=1,
                      unit="steps", first_pick=_PICK_WHOLE_RUN),
                Param("power", "float", 1.0, "power", "Shape of the decay.", low=0.0,
                      ui_high=5.0))),
    Schedule(
        name="LinearLR", label="Linear",
        summary="Scale the lr linearly from start_factor to end_factor over total_iters.",
        fn=linear_lr,
        params=(Param("start_factor", "float", 1 / 3, "start_factor", "Factor at step 0.",
                      low=0.0, low_open=True, high=1.0),
                Param("end_factor", "float", 1.0, "end_factor", "Factor from total_iters on.",
                      low=0.0, high=1.0),
                Param("total_iters", "int", 5, "total_iters", "Steps of the ramp.", low=1,
                      unit="steps", first_pick=_PICK_HALF_RUN))),
    Schedule(
        name="CyclicLR", label="Cyclic",
        summary="Triangle waves between base_lr and max_lr (Smith's cyclical lr).",
        fn=cyclic_lr, cycles_momentum=True, warms_up=True,
        params=(Param("base_lr", "float", Derived("a tenth of the lr", lambda c: c.lr / 10),
                      "base_lr", "Lowest lr of a cycle.", low=0.0, log=True),
                Param("max_lr", "float", Derived("the lr", lambda c: c.lr), "max_lr",
                      "Highest lr of a cycle.", low=0.0, log=True),
                Param("step_size_up", "int", 2000, "step_size_up", "Steps of the rising half.",
                      low=1, unit="steps", first_pick=_PICK_CYCLE_UP),
                Param("step_size_down", "int", None, "step_size_down",
                      "Steps of the falling half.", low=0, nullable=True,
                      null_means="same as step_size_up", unit="steps"),
                Param("mode", "choice", "triangular", "mode",
                      "triangular: constant height; triangular2: halves every cycle; "
                      "exp_range: height times gamma^t.",
                      choices=("triangular", "triangular2", "exp_range")),
                Param("gamma", "float", 1.0, "gamma", "exp_range decay per step.",
                      low=0.0, low_open=True, high=1.0),
                *_with_momentum_defaults(0.8, 0.9))),
    Schedule(
        name="OneCycleLR", label="One-cycle",
        summary="One warm-up to max_lr and a long anneal far below the start "
                "(super-convergence).",
        fn=one_cycle_lr, cycles_momentum=True, check=_one_cycle_check, warms_up=True,
        initial_lr=lambda lr, p: p["max_lr"] / p["div_factor"],
        params=(Param("max_lr", "float", Derived("the lr", lambda c: c.lr), "max_lr",
                      "Peak lr.", low=0.0, log=True),
                Param("total_steps", "int",
                      Derived("the scheduler's steps after the warmup", lambda c: c.span),
                      "total_steps", "Length of the cycle.", low=1, unit="steps"),
                Param("pct_start", "float", 0.3, "pct_start",
                      "Fraction of the cycle spent rising.", low=0.0, high=1.0),
                Param("anneal_strategy", "choice", "cos", "anneal_strategy",
                      "Shape of each phase.", choices=("cos", "linear")),
                *_with_momentum_defaults(0.85, 0.95),
                Param("div_factor", "float", 25.0, "div_factor",
                      "Start lr = max_lr / div_factor.", low=0.0, low_open=True, log=True),
                Param("final_div_factor", "float", 1e4, "final_div_factor",
                      "Final lr = start lr / final_div_factor.", low=0.0, low_open=True,
                      log=True),
                Param("three_phase", "bool", False, "three_phase",
                      "Come back down to the start lr before the final anneal."))),
    Schedule(
        name="ReduceLROnPlateau", label="Reduce on plateau",
        summary="Cut the lr by factor when the loss stops improving for patience steps.",
        fn=reduce_lr_on_plateau, stateful=True,
        params=(Param("factor", "float", 0.1, "factor", "Factor at each reduction.",
                      low=0.0, high=1.0, high_open=True, first_pick=_PICK_HALVE),
                Param("patience", "int", 10, "patience",
                      "Bad steps tolerated before a reduction.", low=0, unit="steps",
                      first_pick=_PICK_PATIENCE),
                Param("threshold", "float", 1e-4, "threshold",
                      "How much better counts as better.", low=0.0, log=True,
                      first_pick=_PICK_THRESHOLD),
                Param("threshold_mode", "choice", "rel", "threshold_mode",
                      "rel: relative to the best; abs: absolute.", choices=("rel", "abs"),
                      first_pick=_PICK_ABS),
                Param("cooldown", "int", 0, "cooldown", "Steps ignored after a reduction.",
                      low=0, unit="steps"),
                Param("min_lr", "float", 0.0, "min_lr", "The lr never goes below this.",
                      low=0.0, log=True),
                Param("eps", "float", 1e-8, "eps",
                      "Reductions smaller than this are skipped.", low=0.0, log=True),
                Param("metric", "choice", "train", "metric",
                      "What it watches: train, the loss each step saw (a minibatch's); "
                      "validation, the true loss f(p).", choices=("train", "validation")))),
]}
