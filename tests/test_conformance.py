"""Conformance: PyTorch's own scheduler test suite, replayed against the playground.

``tests/data/torch_lrscheduler_cases.json`` holds 65 cases of PyTorch's
``test/optim/test_lrscheduler.py`` with the lr (and momentum) sequences torch 2.13 computed
for them (see ``tests/data/README.md`` and docs/schedules.md §6). Every case is listed in
``CASES`` below: either a ``Replay`` that says which playground schedule and parameters
reproduce it, or the reason it cannot be a playground run. ``test_every_case_is_decided``
keeps that list in step with the JSON.

A replay checks, in float64:
- group 0 (base lr 0.05, or whatever the case set) through the pure schedule function,
  lr and (for CyclicLR/OneCycleLR) momentum, to rtol 1e-12;
- group 1 (base lr ``torch.tensor(0.5)``: torch rounds every value it writes to float32)
  through the pure function with base lr 0.5, to rtol 1e-6;
- where the case is a valid run config, group 0's lr through ``playground.simulate`` too
  (that proves the engine's wiring, not just the formula), to rtol 1e-12.
Cases whose momentum range (1..5, 1..22) lies outside the optimizers' domain [0, 1) go
through ``simulate`` with the default momentum range: the lr never depends on it, and the
reference momentum maps affinely onto that range (see ``momentum_in_default_range``).
ReduceLROnPlateau replays only the pure state transition: a run's plateau watches the run's
own losses, which cannot be made to equal the cases' metrics.

The data file is part of the repository: if it is missing or unreadable, collecting this
module fails (an error, never a skip).
"""
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repo root
import playground  # noqa: E402
from playground.params import INT32_MAX, RunContext  # noqa: E402
from playground.schedules import (  # noqa: E402
    MAX_MILESTONES, SCHEDULES, plateau_init, reduce_lr_on_plateau)

REFERENCE = Path(__file__).resolve().parent / "data" / "torch_lrscheduler_cases.json"


def load_cases(path: Path) -> dict:
    """The reference cases by test name. A missing or unreadable file raises, so the module
    fails at collection: the conformance suite must never pass by skipping."""
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot read the conformance data {path}: {e} "
                           "(it ships with the repository; see tests/data/README.md)") from e
    return {c["test"]: c for c in cases}


JSON_CASES = load_cases(REFERENCE)

RTOL_GROUP0 = 1e-12   # float64 against float64
RTOL_GROUP1 = 1e-6    # group 1's lr is a float32 tensor in torch's fixture
GROUP1_LR = 0.5


@dataclass(frozen=True)
class Replay:
    """How a case is reproduced: a playground schedule with PyTorch's arguments."""

    schedule: str
    params: dict
    at: str = "steps"          # "steps": t = 0..n-1; "epochs": t = the case's `epochs`
    simulate: bool = True      # also replay it through playground.simulate
    optimizer: str = "sgd"     # the optimizer of the simulate run
    negate_metrics: bool = False
    group1_params: dict = field(default_factory=dict)  # per-group overrides for group 1
    why: str = ""              # why a case that looks out of scope is still this replay


# Skip reasons; docs/schedules.md §6.3 lists the same decisions.
CONSTANT_LR = "ConstantLR is not a playground schedule (docs/schedules.md §1.1)"
COMPOUND = ("compound schedulers (several schedulers stepping one optimizer, their factors "
            "multiplying) are outside the run format (docs/schedules.md §1.11)")
CHAINED = ("ChainedScheduler of several schedulers (a product of factors) is outside the run "
           "format (docs/schedules.md §1.11)")
FRACTIONAL_EPOCHS = ("step(epoch) with fractional epochs is outside the run format: a run "
                     "has whole steps")
# mode='max' replayed as mode='min' on -metric. With threshold_mode='abs' that is exact:
# a > best + thr  <=>  -a < (-best) - thr, since IEEE negation is exact and rounding is
# symmetric, and best starts at -inf <=> +inf. With 'rel' it is not: max tests
# a > best * (1 + thr), min on -a tests -a < (-best) * (1 - thr), a different factor.
MAX_REL = ("mode='max' with threshold_mode='rel' is not min/rel on negated metrics (max: "
           "a > best*(1+threshold); min on -a: -a < -best*(1-threshold)); the playground "
           "watches a loss, mode 'min' only")
NOT_WARMUP = ("only SequentialLR([LinearLR(s, 1.0, W), schedule], milestones=[W]) is a run "
              "(the run format's warmup, docs/schedules.md §1.12)")
EPOCH_IN_ORDER = ("step(t) for t = 0, 1, 2, ... in order sets the closed form at t, which is "
                  "the lr after t plain steps: what the playground computes")
ONE_MEMBER = "a ChainedScheduler of one scheduler steps exactly as that scheduler"

STEP = dict(step_size=3, gamma=0.1)
MULTI = dict(milestones=[2, 5, 9], gamma=0.1)
PLATEAU_P5C5 = dict(threshold_mode="rel", threshold=0.1, patience=5, cooldown=5)
CAWR = dict(T_0=10, eta_min=1e-10)
CYCLIC = dict(base_lr=1, max_lr=5, step_size_up=4, base_momentum=1, max_momentum=5)
ONE_CYCLE = dict(max_lr=25, total_steps=10, final_div_factor=2, base_momentum=1,
                 max_momentum=22)

CASES: dict[str, Replay | str] = {
    # --- single schedulers, lr read before each step --------------------------------
    "test_step_lr": Replay("StepLR", STEP),
    "test_multi_step_lr": Replay("MultiStepLR", MULTI),
    "test_multi_step_lr_with_epoch": Replay("MultiStepLR", MULTI, why=EPOCH_IN_ORDER),
    "test_constantlr": CONSTANT_LR,
    "test_constantlr_with_epoch": CONSTANT_LR,
    "test_linearlr": Replay("LinearLR", dict(start_factor=0.5, end_factor=1.0, total_iters=4)),
    "test_linearlr_with_epoch": Replay(
        "LinearLR", dict(start_factor=0.5, end_factor=1.0, total_iters=4), why=EPOCH_IN_ORDER),
    "test_get_last_lr_linearlr": Replay(
        "LinearLR", dict(start_factor=0.25, end_factor=0.6, total_iters=4)),
    "test_get_last_lr_constantlr": CONSTANT_LR,
    "test_get_last_lr_multi_step_lr": Replay("MultiStepLR", MULTI),
    "test_exp_lr": Replay("ExponentialLR", dict(gamma=0.9)),
    "test_poly_lr": Replay("PolynomialLR", dict(total_iters=5, power=0.9)),
    "test_cos_anneal_lr": Replay("CosineAnnealingLR", dict(T_max=10, eta_min=1e-10)),
    "test_lambda_lr": "LambdaLR takes a Python callable (not a playground schedule)",
    "test_multiplicative_lr": "MultiplicativeLR takes a Python callable (not a playground "
                              "schedule)",
    # --- ReduceLROnPlateau: metrics fed one by one, lr read AFTER each step ----------
    # A run's plateau watches its own losses, which cannot be made to equal these
    # metrics: the pure state transition only.
    "test_reduce_lr_on_plateau1": Replay("ReduceLROnPlateau", dict(
        threshold_mode="abs", threshold=0.01, patience=5, cooldown=5), simulate=False),
    "test_reduce_lr_on_plateau2": Replay("ReduceLROnPlateau", dict(
        threshold_mode="abs", threshold=0.1, patience=5, cooldown=0), simulate=False),
    "test_reduce_lr_on_plateau3": Replay(
        "ReduceLROnPlateau", dict(threshold_mode="abs", patience=5, cooldown=5),
        simulate=False, negate_metrics=True,
        why="mode='max', threshold_mode='abs' is exactly mode='min' on the negated metrics"),
    "test_reduce_lr_on_plateau4": MAX_REL,
    "test_reduce_lr_on_plateau5": MAX_REL,
    "test_reduce_lr_on_plateau6": Replay("ReduceLROnPlateau", dict(
        threshold_mode="rel", threshold=0.1), simulate=False),
    "test_reduce_lr_on_plateau7": Replay("ReduceLROnPlateau", PLATEAU_P5C5, simulate=False),
    "test_reduce_lr_on_plateau8": MAX_REL + "; also a per-group min_lr list",
    "test_add_param_group_does_not_break_reduce_lr_on_plateau[scalar]": Replay(
        "ReduceLROnPlateau", {**PLATEAU_P5C5, "min_lr": 0.0}, simulate=False,
        why="group 0 only (the JSON records only it): its lr depends on the metrics and its "
            "own min_lr, not on the group added at epoch 8"),
    "test_add_param_group_does_not_break_reduce_lr_on_plateau[list]": Replay(
        "ReduceLROnPlateau", {**PLATEAU_P5C5, "min_lr": 1e-5}, simulate=False,
        why="group 0 only, with its own min_lr 1e-5 from min_lr=[1e-5, 1e-4]"),
    # --- SequentialLR / ChainedScheduler / compound -----------------------------------
    "test_sequentiallr1": "SequentialLR([ExponentialLR, StepLR]): " + NOT_WARMUP,
    "test_sequentiallr2": "SequentialLR([ConstantLR, ExponentialLR]): " + NOT_WARMUP,
    "test_sequentiallr3": "SequentialLR([ConstantLR, ExponentialLR, StepLR]): " + NOT_WARMUP,
    "test_sequentiallr5": "SequentialLR([ChainedScheduler, ConstantLR]): " + NOT_WARMUP,
    "test_get_last_lr_sequentiallr": "SequentialLR([ConstantLR, ExponentialLR, StepLR]): "
                                     + NOT_WARMUP,
    "test_sequentiallr_does_not_alias_lr_and_initial_lr": (
        "SequentialLR([LinearLR(0.1, 0.8, 4), LinearLR(0.8, 0.1, 4)]): the first ramp ends "
        "at 0.8, not 1.0; " + NOT_WARMUP),
    "test_chained_lr1": Replay("StepLR", STEP, why=ONE_MEMBER),
    "test_chained_lr2": Replay(
        "LinearLR", dict(start_factor=0.4, end_factor=1.0, total_iters=3), why=ONE_MEMBER),
    "test_chained_lr3": CHAINED,
    "test_chained_lr4": CHAINED,
    "test_chained_lr5": CHAINED,
    "test_compound_step_and_multistep_lr": COMPOUND,
    "test_compound_step_and_exp_lr": COMPOUND,
    "test_compound_exp_and_multistep_lr": COMPOUND,
    "test_compound_exp_and_linearlr": COMPOUND,
    "test_compound_step_and_constantlr": COMPOUND,
    "test_compound_linearlr_and_multistep_lr": COMPOUND,
    "test_compound_cosanneal_and_step_lr": COMPOUND,
    "test_compound_cosanneal_and_multistep_lr": COMPOUND,
    "test_compound_cosanneal_and_linearlr": COMPOUND,
    "test_compound_cosanneal_and_exp_lr": COMPOUND,
    # --- CyclicLR / OneCycleLR: lr and momentum read before each step -----------------
    # The momentum ranges (1..5, 1..22) are outside [0, 1): lr and momentum through the
    # pure function; simulate checks the lr with the default momentum range.
    "test_cycle_lr_triangular_mode_one_lr": Replay("CyclicLR", {**CYCLIC, "mode": "triangular"}),
    "test_cycle_lr_triangular2_mode_one_lr": Replay("CyclicLR",
                                                    {**CYCLIC, "mode": "triangular2"}),
    "test_cycle_lr_exp_range_mode_one_lr": Replay(
        "CyclicLR", {**CYCLIC, "mode": "exp_range", "gamma": 0.9}),
    "test_cycle_lr_triangular_mode_step_size_up_down": Replay(
        "CyclicLR", {**CYCLIC, "step_size_down": 6, "mode": "triangular"}),
    "test_cycle_lr_triangular2_mode_step_size_up_down": Replay(
        "CyclicLR", {**CYCLIC, "step_size_up": 2, "step_size_down": 6, "mode": "triangular2"},
        group1_params=dict(base_lr=3, max_lr=7, base_momentum=3, max_momentum=7),
        why="per-group base_lr=[1, 3], max_lr=[5, 7]: each group is one CyclicLR"),
    "test_cycle_lr_exp_range_mode_step_size_up_down": Replay(
        "CyclicLR", {**CYCLIC, "step_size_up": 2, "step_size_down": 6, "mode": "exp_range",
                     "gamma": 0.9}),
    "test_onecycle_lr_linear_annealing": Replay(
        "OneCycleLR", {**ONE_CYCLE, "anneal_strategy": "linear"}),
    "test_onecycle_lr_linear_annealing_three_phases": Replay("OneCycleLR", {
        **ONE_CYCLE, "div_factor": 25, "anneal_strategy": "linear", "pct_start": 0.4,
        "final_div_factor": 4, "three_phase": True}),
    "test_onecycle_lr_cosine_annealing": Replay("OneCycleLR", ONE_CYCLE),
    "test_cycle_lr_with_adam": Replay("OneCycleLR", {**ONE_CYCLE, "anneal_strategy": "linear"},
                                      optimizer="adam", why="beta1 takes the momentum values"),
    # --- CosineAnnealingWarmRestarts ---------------------------------------------------
    "test_CosineAnnealingWarmRestarts_lr1[T_mult=1]": Replay(
        "CosineAnnealingWarmRestarts", {**CAWR, "T_mult": 1}),
    "test_CosineAnnealingWarmRestarts_lr1[T_mult=2]": Replay(
        "CosineAnnealingWarmRestarts", {**CAWR, "T_mult": 2}),
    "test_CosineAnnealingWarmRestarts_lr1[T_mult=4]": Replay(
        "CosineAnnealingWarmRestarts", {**CAWR, "T_mult": 4}),
    "test_CosineAnnealingWarmRestarts_lr2[T_mult=1]": FRACTIONAL_EPOCHS,
    "test_CosineAnnealingWarmRestarts_lr2[T_mult=2]": FRACTIONAL_EPOCHS,
    "test_CosineAnnealingWarmRestarts_lr2[T_mult=4]": FRACTIONAL_EPOCHS,
    # Whole epochs, jumping back and forth: step(e) puts CAWR in the state of e plain
    # steps (no epoch here hits the float-log misplacement of docs/schedules.md §1.8), so the
    # pure function evaluated at t = epochs reproduces it. A run cannot jump: no simulate.
    "test_CosineAnnealingWarmRestarts_lr3[T_mult=1]": Replay(
        "CosineAnnealingWarmRestarts", {**CAWR, "T_mult": 1}, at="epochs", simulate=False),
    "test_CosineAnnealingWarmRestarts_lr3[T_mult=2]": Replay(
        "CosineAnnealingWarmRestarts", {**CAWR, "T_mult": 2}, at="epochs", simulate=False),
    "test_CosineAnnealingWarmRestarts_lr3[T_mult=3]": FRACTIONAL_EPOCHS,
}


# --- helpers ------------------------------------------------------------------------------

def pure_params(name: str, given: dict, steps: int, lr: float) -> dict:
    """A schedule's parameters as the pure functions take them (see schedules.py):
    jnp scalars by PyTorch name, choices as indices, None as -1, milestones padded.
    Deliberately unvalidated, so out-of-domain reference values (momentum 5) pass."""
    ctx = RunContext(steps, 0, lr)
    out = {}
    for prm in SCHEDULES[name].params:
        v = given[prm.name] if prm.name in given else prm.default_for(ctx)
        if prm.kind == "bool":
            out[prm.name] = jnp.asarray(bool(v))
        elif prm.kind == "choice":
            out[prm.name] = jnp.asarray(prm.choices.index(v), jnp.int32)
        elif prm.kind == "int_list":
            out[prm.name] = jnp.asarray(list(v) + [INT32_MAX] * (MAX_MILESTONES - len(v)),
                                        jnp.int32)
        elif prm.kind == "int":
            out[prm.name] = jnp.asarray(-1 if v is None else v, jnp.int32)
        else:
            out[prm.name] = jnp.asarray(float(v), jnp.float64)
    return out


PLATEAU_STEP = jax.jit(reduce_lr_on_plateau)


def pure_values(rp: Replay, case: dict, base_lr: float, group1: bool = False):
    """(lr, momentum or None) of the pure schedule function at the case's t."""
    n = len(case["computed_lr_group0"])
    params = {**rp.params, **(rp.group1_params if group1 else {})}
    p = pure_params(rp.schedule, params, n, base_lr)
    lr = jnp.asarray(base_lr, jnp.float64)
    if SCHEDULES[rp.schedule].stateful:         # ReduceLROnPlateau: lr AFTER each step
        sign = -1.0 if rp.negate_metrics else 1.0
        state, lrs = plateau_init(lr), []
        for metric in case["metrics"][:n]:
            state = PLATEAU_STEP(state, jnp.asarray(sign * metric, jnp.float64), p)
            lrs.append(float(state.lr))
        return np.array(lrs), None
    t = np.asarray(case["epochs"] if rp.at == "epochs" else range(n), np.int32)
    out = SCHEDULES[rp.schedule].fn(jnp.asarray(t), lr, p)
    if SCHEDULES[rp.schedule].cycles_momentum:
        return np.asarray(out[0]), np.asarray(out[1])
    return np.asarray(out), None


def simulate_config(rp: Replay, n: int, base_lr: float) -> dict:
    """A valid run whose lr sequence is the case's. It starts at the bowl's minimum, so no
    lr (CyclicLR's 5, OneCycleLR's 25) can make it diverge and NaN the arrays."""
    sched = {"name": rp.schedule, **rp.params}
    if SCHEDULES[rp.schedule].cycles_momentum:  # out-of-domain momenta: use the defaults
        sched = {k: v for k, v in sched.items() if k not in ("base_momentum", "max_momentum")}
    return {"problem": {"name": "quadratic_bowl"}, "start": [0.0, 0.0], "steps": n,
            "optimizer": {"name": rp.optimizer, "lr": base_lr}, "schedule": sched}


def momentum_in_default_range(rp: Replay, case: dict) -> np.ndarray:
    """The reference momentum moved to the schedule's default range. CyclicLR and OneCycleLR
    move it as base + (max - base) * w, with w independent of the range, so
    w = (m - base) / (max - base) carries over exactly (to float64 rounding)."""
    lo, hi = rp.params["base_momentum"], rp.params["max_momentum"]
    w = (np.asarray(case["computed_momentum_group0"]) - lo) / (hi - lo)
    entry = SCHEDULES[rp.schedule]
    d_lo, d_hi = entry.param("base_momentum").default, entry.param("max_momentum").default
    return d_lo + (d_hi - d_lo) * w


def assert_close(what: str, got, want, rtol: float):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, reference {want.shape}"
    bad = ~(np.abs(got - want) <= rtol * np.abs(want))
    if bad.any():
        i = int(np.argmax(bad))
        pytest.fail(f"{what}: {int(bad.sum())} of {len(want)} differ beyond rtol {rtol:g}; "
                    f"first at index {i}: playground {got[i]!r}, torch {want[i]!r}")


def base_lr_of(case: dict) -> float:
    lrs = case["group_base_lrs"]
    return float(lrs[0] if isinstance(lrs, list) else lrs)


# --- the tests ----------------------------------------------------------------------------

def test_every_case_is_decided():
    """Each JSON case is replayed or skipped with a reason; no stale entries."""
    assert set(CASES) == set(JSON_CASES), (
        f"undecided: {sorted(set(JSON_CASES) - set(CASES))}; "
        f"stale: {sorted(set(CASES) - set(JSON_CASES))}")
    assert len(JSON_CASES) == 65
    for name, decision in CASES.items():
        if isinstance(decision, Replay):
            assert decision.schedule in SCHEDULES, name
            assert set(decision.params) <= {p.name for p in SCHEDULES[decision.schedule].params}


@pytest.mark.parametrize("name", list(JSON_CASES), ids=list(JSON_CASES))
def test_torch_case(name):
    decision, case = CASES[name], JSON_CASES[name]
    if not isinstance(decision, Replay):
        pytest.skip(decision)
    rp = decision
    want0 = case["computed_lr_group0"]
    n, b = len(want0), base_lr_of(case)
    with jax.enable_x64(True):
        lr0, mom0 = pure_values(rp, case, b)
        assert_close("group 0 lr (pure)", lr0, want0, RTOL_GROUP0)
        if case["computed_momentum_group0"] is not None:
            assert mom0 is not None, "the reference cycles momentum, the schedule does not"
            assert_close("group 0 momentum (pure)", mom0, case["computed_momentum_group0"],
                         RTOL_GROUP0)
        if case["computed_lr_group1"]:
            lr1, _ = pure_values(rp, case, GROUP1_LR, group1=True)
            assert_close("group 1 lr (pure, base lr 0.5)", lr1,
                         case["computed_lr_group1"], RTOL_GROUP1)
        if rp.simulate:
            got = playground.simulate(simulate_config(rp, n, b))
            assert got["diverged_at"] is None
            assert got["lr"].dtype == np.float64, got["lr"].dtype
            assert_close("group 0 lr (simulate)", got["lr"], want0, RTOL_GROUP0)
            if case["computed_momentum_group0"] is not None:
                assert_close("group 0 momentum (simulate, mapped to the default range)",
                             got["momentum"], momentum_in_default_range(rp, case), RTOL_GROUP0)


def test_replay_counts():
    """The split this file documents: 34 cases replayed (25 also through simulate), 31
    skipped."""
    replayed = [n for n, d in CASES.items() if isinstance(d, Replay)]
    assert (len(replayed), len(CASES) - len(replayed)) == (34, 31)
    assert sum(CASES[n].simulate for n in replayed) == 25
