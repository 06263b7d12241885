"""The page's tools (playground/tools.py) checked against the engine, the maths and the
libraries they stand for: the code snippets are run with torch and Optax and must give the
playground's numbers; the pitfalls are replayed with torch.optim itself."""
import contextlib
import csv
import io
import json
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

import playground
from playground import tools
from playground.schedules import SCHEDULES
from playground.surfaces import SURFACES

sys.path.insert(0, str(Path(__file__).resolve().parent))  # torch_reference
from torch_reference import run_torch  # noqa: E402  (after the path insert)

VALLEY = {"name": "elongated_valley"}


def cfg(problem=VALLEY, opt=None, schedule=None, steps=200, **extra):
    return {"problem": problem, "steps": steps,
            "optimizer": opt or {"name": "sgd", "lr": 0.05},
            "schedule": schedule or {"name": "constant"}, **extra}


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


# --- Formula panel -----------------------------------------------------------------------

def test_every_schedule_in_the_registry_has_a_formula():
    assert set(tools.FORMULAS) == set(SCHEDULES)
    assert all(f.when.strip() for f in tools.FORMULAS.values())


FORMULA_CASES = {  # schedule parameters, the numbers that must show up
    "constant": ({}, []),
    "StepLR": ({"step_size": 17, "gamma": 0.37}, ["17", "0.37"]),
    "MultiStepLR": ({"milestones": [13, 71], "gamma": 0.23}, ["13", "71", "0.23"]),
    "ExponentialLR": ({"gamma": 0.987}, ["0.987"]),
    "CosineAnnealingLR": ({"T_max": 123, "eta_min": 0.0021}, ["123", "0.0021"]),
    "CosineAnnealingWarmRestarts": ({"T_0": 37, "T_mult": 3, "eta_min": 0.0013},
                                    ["37", "3", "0.0013"]),
    "PolynomialLR": ({"total_iters": 91, "power": 2.5}, ["91", "2.5"]),
    "LinearLR": ({"start_factor": 0.27, "end_factor": 0.83, "total_iters": 29},
                 ["0.27", "0.83", "29"]),
    "CyclicLR": ({"base_lr": 0.0031, "max_lr": 0.047, "step_size_up": 23,
                  "step_size_down": 31, "mode": "exp_range", "gamma": 0.991},
                 ["0.0031", "0.047", "23", "31", "0.991"]),
    # 400 * 0.25 - 1 = 99 is where the peak sits; 0.083 / 25 = 0.00332 the start
    "OneCycleLR": ({"max_lr": 0.083, "total_steps": 400, "pct_start": 0.25},
                   ["0.083", "99", "0.00332"]),
    "ReduceLROnPlateau": ({"factor": 0.37, "patience": 7, "threshold": 0.013},
                          ["0.37", "7", "0.013"]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_formula_shows_the_runs_numbers(name):
    params, numbers = FORMULA_CASES[name]
    out = tools.formula(cfg(opt={"name": "sgd", "lr": 0.042}, steps=300,
                            schedule={"name": name, **params}))
    latex = out["latex"]
    assert latex.startswith("$$\\eta_t = ") and latex.endswith("$$")
    assert latex.count("{") == latex.count("}")
    assert "$" not in latex[2:-2]  # every template field was filled
    lr_shown = name not in ("CyclicLR", "OneCycleLR")  # these ignore the optimizer's lr
    for number in numbers + (["0.042"] if lr_shown else []):
        assert number in latex, (number, latex)
    assert out["schedule"] == name and out["when"]


def test_formula_with_warmup_has_the_ramp_and_a_shifted_schedule():
    latex = tools.formula(cfg(opt={"name": "sgd", "lr": 0.042}, steps=300,
                              schedule={"name": "StepLR", "step_size": 17},
                              warmup={"steps": 40, "start_factor": 0.05}))["latex"]
    assert "t < 40" in latex and "(t - 40) / 17" in latex and "0.05" in latex


def test_formula_writes_small_numbers_as_powers_of_ten():
    latex = tools.formula(cfg(schedule={"name": "CosineAnnealingLR", "eta_min": 2e-7}))["latex"]
    assert r"2 \times 10^{-7}" in latex and "e-07" not in latex


# --- Step inspector ----------------------------------------------------------------------

def test_inspect_step_reads_the_step_and_the_point():
    c = cfg(opt={"name": "sgd", "lr": 0.05, "momentum": 0.9}, steps=20)
    r = playground.simulate(c)
    s = tools.inspect_step(r, 7)
    assert s["step"] == 7
    assert s["lr"] == pytest.approx(float(r["lr"][7])) and s["momentum"] == pytest.approx(0.9)
    assert (s["x"], s["y"]) == pytest.approx(tuple(float(v) for v in r["path"][7]))
    assert s["loss"] == pytest.approx(float(r["loss"][7]))
    assert s["grad_norm"] == pytest.approx(float(r["grad_norm"][7]))
    last = tools.inspect_step(r, 20)
    assert last["lr"] is None and last["grad_norm"] is None and last["loss"] is not None
    with pytest.raises(ValueError):
        tools.inspect_step(r, 21)


def test_inspect_step_after_divergence_gives_none():
    r = playground.simulate(cfg(opt={"name": "sgd", "lr": 0.2}, steps=50))
    assert r["diverged_at"] is not None
    s = tools.inspect_step(r, r["diverged_at"])
    assert s["loss"] is None and s["x"] is None and s["lr"] is None


# --- Diagnostics -------------------------------------------------------------------------

NOISY = {"name": "noisy_quadratic"}


@pytest.mark.parametrize("schedule, verdict", [
    ({"name": "constant"}, "no_decay"),
    ({"name": "ExponentialLR", "gamma": 0.95}, "too_fast"),   # sum of lr <= 20 lr
    ({"name": "CosineAnnealingLR"}, "decays"),
    ({"name": "PolynomialLR", "total_iters": 200, "power": 1.0}, "decays"),
])
def test_robbins_monro_reads_the_sums(schedule, verdict):
    r = playground.simulate(cfg(NOISY, {"name": "sgd", "lr": 0.5}, schedule))
    rm = tools.robbins_monro(r)
    lr = r["lr"].astype(np.float64)
    assert rm["verdict"] == verdict, rm["text"]
    np.testing.assert_allclose(rm["sum_lr"][-1], lr.sum(), rtol=1e-9)
    np.testing.assert_allclose(rm["sum_lr2"][-1], (lr ** 2).sum(), rtol=1e-9)
    assert np.all(np.diff(rm["sum_lr"]) >= 0)
    assert rm["ratio"] == pytest.approx((lr ** 2).sum() / lr.sum())
    assert f"{lr.sum():.3g}" in rm["text"]


def test_robbins_monro_stops_at_divergence():
    r = playground.simulate(cfg(opt={"name": "sgd", "lr": 0.2}, steps=100))
    rm = tools.robbins_monro(r)
    d = r["diverged_at"]
    assert np.isnan(rm["sum_lr"][d:]).all() and np.isfinite(rm["sum_lr"][:d]).all()


@pytest.mark.parametrize("problem, opt, threshold", [
    (VALLEY, {"name": "sgd"}, 2 / 25),
    ({"name": "elongated_valley", "condition": 4.0}, {"name": "sgd", "weight_decay": 0.5},
     2 / 4.5),
    ({"name": "quadratic_bowl"}, {"name": "sgd", "momentum": 0.5}, 2 * 1.5 / 1),
    (VALLEY, {"name": "sgd", "momentum": 0.8, "dampening": 0.5}, 2 * 1.8 / (0.5 * 25)),
])
def test_stability_threshold_separates_converging_from_diverging(problem, opt, threshold):
    """The threshold is the formula's, and it is real: constant lr 3% below it converges,
    3% above it diverges."""
    below = cfg(problem, {**opt, "lr": 0.97 * threshold}, steps=2000, start=[1.0, 1.0])
    above = cfg(problem, {**opt, "lr": 1.03 * threshold}, steps=2000, start=[1.0, 1.0])
    rb, ra = playground.simulate(below), playground.simulate(above)
    st = tools.stability(below, rb)
    assert st["threshold"] == pytest.approx(threshold, rel=1e-6)
    assert st["exceeding"] == []
    assert rb["diverged_at"] is None and rb["loss"][-1] < 1e-3 * rb["loss"][0]
    assert ra["diverged_at"] is not None
    assert tools.stability(above, ra)["exceeding"][0] == 0


def test_stability_lists_the_steps_above_the_threshold():
    c = cfg(opt={"name": "sgd", "lr": 0.2}, schedule={"name": "ExponentialLR", "gamma": 0.9},
            start=[-2.5, 1e-3])
    r = playground.simulate(c)
    st = tools.stability(c, r)
    assert r["diverged_at"] is None
    assert st["exceeding"] == [t for t in range(200) if 0.2 * 0.9 ** t > 2 / 25]
    assert len(st["exceeding"]) == 9


@pytest.mark.parametrize("config", [
    cfg({"name": "rosenbrock"}, {"name": "sgd", "lr": 1e-3}),
    cfg(VALLEY, {"name": "adam", "lr": 0.1}),
    cfg(VALLEY, {"name": "sgd", "lr": 0.01}, {"name": "OneCycleLR"}),   # cycles momentum
])
def test_stability_does_not_apply(config):
    assert tools.stability(config, playground.simulate(config))["threshold"] is None


def test_effective_step_is_the_lr_for_plain_sgd(x64):
    c = cfg(opt={"name": "sgd", "lr": 0.07}, schedule={"name": "CosineAnnealingLR"})
    r = playground.simulate(c)
    np.testing.assert_allclose(tools.effective_step(r), r["lr"], rtol=1e-9)


def test_effective_step_of_adams_first_step(x64):
    """Adam's first update is lr * g / |g| per coordinate (m_hat / sqrt(v_hat) = sign(g)),
    so the step is lr * sqrt(2) long whatever the gradient: lr * sqrt(2) / |g_0| per unit."""
    r = playground.simulate(cfg({"name": "rosenbrock"}, {"name": "adam", "lr": 0.2}))
    eff = tools.effective_step(r)
    assert eff[0] == pytest.approx(0.2 * math.sqrt(2) / r["grad_norm"][0], rel=1e-6)


# --- LR range test -----------------------------------------------------------------------

def test_lr_range_config_sweeps_from_lr_min_to_lr_max():
    bowl = {"name": "quadratic_bowl"}
    c = tools.lr_range_config(cfg(bowl, warmup={"steps": 10}), lr_min=1e-4, lr_max=1.0,
                              steps=100)
    assert c["schedule"]["name"] == "ExponentialLR" and c["schedule"]["gamma"] > 1
    assert "warmup" not in c and c["problem"] == bowl
    lr = playground.simulate(c)["lr"]
    assert lr[0] == pytest.approx(1e-4, rel=1e-6) and lr[-1] == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(lr[1:] / lr[:-1], 1e4 ** (1 / 99), rtol=1e-5)
    with pytest.raises(playground.ConfigError):
        tools.lr_range_config(cfg(), lr_min=1.0, lr_max=0.1)


def test_lr_range_analysis_finds_the_edge_of_stability():
    """On the valley SGD diverges above 2/25: the sweep blows up only after the lr passed
    that, and both suggestions stay below it."""
    c = tools.lr_range_config(cfg(), lr_min=1e-4, lr_max=10.0, steps=200)
    r = playground.simulate(c)
    a = tools.lr_range_analysis(r)
    edge = tools.stability(cfg(), r)["threshold"]
    assert a["stop"] < 200 and r["lr"][a["stop"]] > edge
    assert a["steepest_lr"] < edge and a["suggested_lr"] < edge < a["min_loss_lr"]
    assert a["suggested_lr"] == pytest.approx(a["min_loss_lr"] / 10)
    # the bias-corrected average starts at the first loss and stops at `stop`
    assert a["smoothed"][0] == pytest.approx(r["observed_loss"][0])
    assert np.isnan(a["smoothed"][a["stop"]:]).all()


def test_lr_range_analysis_stops_at_divergence():
    c = tools.lr_range_config(cfg(), lr_min=1e-3, lr_max=1e4, steps=100)
    r = playground.simulate(c)
    a = tools.lr_range_analysis(r, stop_factor=math.inf)
    assert r["diverged_at"] is not None and a["stop"] == r["diverged_at"]


# --- Batch size --------------------------------------------------------------------------

def test_batch_size_divides_the_noise_by_sqrt_b():
    """SGD with lr 1 on the bowl jumps to the minibatch's minimum: p_1 = c_0, the shift."""
    c = cfg(NOISY, {"name": "sgd", "lr": 1.0}, steps=3)
    p1 = playground.simulate(c)["path"][1]
    c4 = tools.with_batch_size(c, 4)
    assert c4["problem"]["noise_std"] == pytest.approx(0.25) and c4["optimizer"]["lr"] == 1.0
    np.testing.assert_allclose(playground.simulate(c4)["path"][1], p1 / 2, rtol=1e-6)


@pytest.mark.parametrize("rule, factor", [("linear", 16.0), ("sqrt", 4.0), (None, 1.0)])
def test_batch_size_scales_the_lr(rule, factor):
    c = cfg(NOISY, {"name": "sgd", "lr": 0.01},
            {"name": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 10})
    out = tools.with_batch_size(c, 16, rule)
    assert out["optimizer"]["lr"] == pytest.approx(0.01 * factor)
    assert out["schedule"]["base_lr"] == pytest.approx(0.001 * factor)
    assert out["schedule"]["max_lr"] == pytest.approx(0.01 * factor)
    assert out["schedule"]["step_size_up"] == 10


@pytest.mark.parametrize("config, args", [
    (cfg(VALLEY), (4,)),                       # no noise to average
    (cfg(NOISY), (0,)), (cfg(NOISY), (4, "cubic")),
])
def test_batch_size_refuses(config, args):
    with pytest.raises(playground.ConfigError):
        tools.with_batch_size(config, *args)


# --- Pitfalls, replayed with torch.optim -------------------------------------------------

def torch_sgd(lr, start, steps, make_scheduler, on_step=None):
    """Plain SGD on the valley with torch; ``on_step(t, optimizer, scheduler)`` may step or
    replace the scheduler (returns the one to keep)."""
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(opt)
    lrs, path = [], [p.tolist()]
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        valley_loss(p).backward()
        opt.step()
        sched = on_step(t, opt, sched)
        path.append(p.tolist())
    return np.array(lrs), np.array(path)


def valley_loss(p):
    return (p[0] ** 2 + 25.0 * p[1] ** 2) / 2


def test_resume_without_scheduler_state_matches_torch(x64):
    """The buggy resume replayed in torch: at step 120 the weights are kept and a new
    Adam and a new CosineAnnealingLR are built (lr back to 0.07, moments back to zero)."""
    c = cfg(opt={"name": "adam", "lr": 0.07}, schedule={"name": "CosineAnnealingLR"},
            start=[-2.5, 1.0])
    out = tools.resume_without_scheduler_state(c, 120)
    assert out["exact"] and out["at"] == 120
    correct, buggy = out["correct"], out["buggy"]
    p = torch.nn.Parameter(torch.tensor([-2.5, 1.0], dtype=torch.float64))
    lrs, path = [], [p.tolist()]
    for t in range(200):
        if t in (0, 120):
            opt = torch.optim.Adam([p], lr=0.07)
            sched = lr_scheduler.CosineAnnealingLR(opt, T_max=200)
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        valley_loss(p).backward()
        opt.step()
        sched.step()
        path.append(p.tolist())
    np.testing.assert_allclose(buggy["lr"], lrs, rtol=1e-9)
    np.testing.assert_allclose(buggy["path"], path, rtol=0, atol=1e-7 * 2.5)
    np.testing.assert_array_equal(buggy["lr"][:120], correct["lr"][:120])
    assert buggy["lr"][120] == pytest.approx(0.07) and correct["lr"][120] < 0.035
    assert buggy["loss"].shape == (201,) and buggy["diverged_at"] is None


def test_resume_on_the_noisy_surface_is_marked_inexact():
    c = cfg(NOISY, {"name": "adam", "lr": 0.05}, {"name": "StepLR"})
    assert not tools.resume_without_scheduler_state(c, 50)["exact"]
    with pytest.raises(playground.ConfigError):
        tools.resume_without_scheduler_state(c, 200)


def test_one_cycle_stepped_per_epoch_matches_torch(x64):
    c = cfg(opt={"name": "sgd", "lr": 0.07}, start=[-2.5, 1.0],
            schedule={"name": "OneCycleLR", "cycle_momentum": False})
    out = tools.stepped_per_epoch(c, 20)
    assert out["exact"]
    buggy, correct = out["buggy"], out["correct"]

    def per_epoch(t, opt, sched):
        if (t + 1) % 20 == 0:
            sched.step()
        return sched
    lrs, path = torch_sgd(0.07, [-2.5, 1.0], 200, lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=0.07, epochs=10, steps_per_epoch=20, cycle_momentum=False), per_epoch)
    np.testing.assert_allclose(buggy["lr"], lrs, rtol=1e-9)
    np.testing.assert_allclose(buggy["path"], path, rtol=1e-9, atol=1e-12)
    # ten scheduler steps of a 200-step cycle: the lr never leaves the warmup's bottom
    assert buggy["lr"].max() < 0.1 * correct["lr"].max()
    assert buggy["loss"][-1] > 100 * correct["loss"][-1]


def test_stepped_per_epoch_refuses_plateau_and_bad_epochs():
    with pytest.raises(playground.ConfigError):
        tools.stepped_per_epoch(cfg(schedule={"name": "ReduceLROnPlateau"}), 10)
    with pytest.raises(playground.ConfigError):
        tools.stepped_per_epoch(cfg(), 0)


def torch_accumulating(config, k, per_micro_batch):
    """A real torch.optim loop with gradient accumulation over k micro-batches (each the
    loss / k, so the accumulated gradient is the full one): optimizer.step() every k
    micro-batches, scheduler.step() after every micro-batch (the bug) or after every
    optimizer step. Returns lrs, path and the optimizer step at which torch raised."""
    from torch_reference import make_optimizer, make_schedule, surface_loss
    run = playground.resolve(config)
    p = torch.nn.Parameter(torch.tensor(run["start"], dtype=torch.float64))
    opt = make_optimizer(run["optimizer"], [p])
    sched = make_schedule(opt, run["schedule"])
    if run["warmup"]:
        W = run["warmup"]["steps"]
        warm = lr_scheduler.LinearLR(opt, start_factor=run["warmup"]["start_factor"],
                                     end_factor=1.0, total_iters=W)
        sched = warm if sched is None else lr_scheduler.SequentialLR(opt, [warm, sched], [W])
    lrs, path, raised = [], [p.tolist()], None
    for i in range(run["steps"] * k):
        (surface_loss(run["problem"], p) / k).backward()
        try:
            if (i + 1) % k == 0:
                lrs.append(opt.param_groups[0]["lr"])
                if run["clip_grad_norm"]:
                    clip = run["clip_grad_norm"]
                    torch.nn.utils.clip_grad_norm_([p], clip["max_norm"], clip["norm_type"])
                opt.step()
                opt.zero_grad()
                path.append(p.tolist())
                if not per_micro_batch and sched is not None:
                    sched.step()
            if per_micro_batch and sched is not None:
                sched.step()
        except ValueError:          # OneCycleLR stepped past total_steps
            raised = len(lrs)
            break
    return np.array(lrs), np.array(path), raised


@pytest.mark.parametrize("config, k", [
    (cfg(opt={"name": "sgd", "lr": 0.03, "momentum": 0.9}, start=[-2.5, 1.0],
         schedule={"name": "StepLR", "step_size": 40, "gamma": 0.5}), 4),
    (cfg({"name": "rosenbrock"}, {"name": "adam", "lr": 0.02}, {"name": "CosineAnnealingLR"},
         warmup={"steps": 30}, clip_grad_norm={"max_norm": 10.0}), 3),
    (cfg(opt={"name": "rmsprop", "lr": 0.01}, start=[-2.5, 1.0],
         schedule={"name": "CyclicLR", "step_size_up": 25}), 2),
    (cfg(opt={"name": "sgd", "lr": 0.05, "momentum": 0.9}, start=[-2.5, 1.0],
         schedule={"name": "OneCycleLR"}), 4),
], ids=["steplr-sgd", "cosine-warmup-adam-clip", "cyclic-rmsprop", "onecycle-raises"])
@pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")
def test_stepped_per_micro_batch_matches_torch_with_accumulation(config, k, x64):
    """Both runs of the pitfall are the torch loops with gradient accumulation: scheduler
    stepped per optimizer step (correct) and per micro-batch (buggy)."""
    out = tools.pitfalls.stepped_per_micro_batch(config, k)
    assert out["exact"] and out["accumulate"] == k
    for key, per_micro in (("correct", False), ("buggy", True)):
        got = out[key]
        lrs, path, raised = torch_accumulating(config, k, per_micro)
        n = len(lrs)
        assert (raised if per_micro else None) == (out["raises_at"] if per_micro else None)
        np.testing.assert_allclose(got["lr"][:n], lrs, rtol=1e-9)
        scale = max(1.0, float(np.abs(path).max()))
        np.testing.assert_allclose(got["path"][:n + 1], path, rtol=0, atol=1e-7 * scale)
        assert np.isnan(got["lr"][n:]).all() and np.isnan(got["path"][n + 1:]).all()
    assert not np.array_equal(out["correct"]["lr"], out["buggy"]["lr"])


def test_stepped_per_micro_batch_onecycle_stops_where_torch_raises():
    out = tools.pitfalls.stepped_per_micro_batch(cfg(schedule={"name": "OneCycleLR"}), 4)
    # 200 scheduler steps allowed, 4 per optimizer step: step 49 is the last to run
    assert out["raises_at"] == 50
    assert np.isfinite(out["buggy"]["lr"][:50]).all() and np.isnan(out["buggy"]["lr"][50:]).all()


def test_stepped_per_micro_batch_refuses_plateau_and_bad_counts():
    with pytest.raises(playground.ConfigError):
        tools.pitfalls.stepped_per_micro_batch(cfg(schedule={"name": "ReduceLROnPlateau"}), 4)
    for k in (0, 1, 65, 2.0, True):
        with pytest.raises(playground.ConfigError):
            tools.pitfalls.stepped_per_micro_batch(cfg(), k)
    assert not tools.pitfalls.stepped_per_micro_batch(cfg(NOISY), 2)["exact"]


# --- Exports: data -----------------------------------------------------------------------

def two_runs():
    a = cfg(opt={"name": "sgd", "lr": 0.05, "momentum": 0.9}, steps=30)
    b = cfg(opt={"name": "sgd", "lr": 0.2}, steps=20)   # diverges at step 12 or so
    return [("momentum", a, playground.simulate(a)), ("too high", b, playground.simulate(b))]


def test_csv_has_a_row_per_point_and_the_engines_numbers():
    runs = two_runs()
    rows = list(csv.DictReader(io.StringIO(tools.to_csv(runs))))
    assert list(rows[0]) == ["run", *tools.COLUMNS]
    assert len(rows) == 31 + 21
    for label, _, result in runs:
        mine = [r for r in rows if r["run"] == label]
        assert [int(r["step"]) for r in mine] == list(range(len(result["loss"])))
        for key in ("lr", "grad_norm", "observed_loss", "momentum"):
            got = [float(r[key]) if r[key] else np.nan for r in mine[:-1]]
            np.testing.assert_array_equal(got, result[key])   # repr round-trips exactly
        assert mine[-1]["lr"] == "" and mine[-1]["loss"] != "" or result["diverged_at"]
        np.testing.assert_array_equal([float(r["x"]) if r["x"] else np.nan for r in mine],
                                      result["path"][:, 0])


def test_json_holds_a_config_that_reruns_to_the_same_columns():
    data = json.loads(tools.to_json(two_runs()))
    assert [d["label"] for d in data] == ["momentum", "too high"]
    for d in data:
        again = playground.simulate(d["config"])
        assert d["diverged_at"] == again["diverged_at"]
        np.testing.assert_array_equal(
            np.array(d["columns"]["loss"], dtype=float), again["loss"])
        assert set(d["columns"]) == set(tools.COLUMNS)


# --- Exports: code -----------------------------------------------------------------------

def test_surface_code_is_every_surfaces_loss():
    assert set(tools.SURFACE_CODE) == set(SURFACES) - {"formula"}  # a formula: formula_code
    rng = np.random.default_rng(0)
    params = {"elongated_valley": {"condition": 7.5}, "rosenbrock": {"a": 1.3, "b": 20.0}}
    for name, surface in ((n, s) for n, s in SURFACES.items() if n != "formula"):
        prm = {**{p.name: p.default for p in surface.params}, **params.get(name, {})}
        expr = tools.SURFACE_CODE[name].format(lib="np", **prm)
        for x, y in rng.uniform(-2, 2, size=(5, 2)):
            want = float(surface.loss(jnp.array([x, y]), prm))
            got = eval(expr, {"x": x, "y": y, "np": np})  # our own table, not user input
            assert got == pytest.approx(want, rel=1e-5, abs=1e-5)


def run_snippet(code: str) -> dict:
    namespace: dict = {"__name__": "__snippet__"}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "<snippet>", "exec"), namespace)
    assert "final loss" in out.getvalue()
    return namespace


def assert_same_run(ns: dict, result: dict, lr_only: bool = False):
    np.testing.assert_allclose(ns["lrs"], result["lr"], rtol=1e-9, atol=1e-300)
    if lr_only:
        return
    scale = max(1.0, float(np.abs(result["path"]).max()))
    np.testing.assert_allclose(np.array(ns["path"]), result["path"], rtol=0, atol=1e-7 * scale)
    loss_scale = max(1.0, float(np.abs(result["observed_loss"]).max()))
    np.testing.assert_allclose(ns["losses"], result["observed_loss"], rtol=0,
                               atol=1e-7 * loss_scale)


W = {"steps": 20, "start_factor": 0.1}
TORCH_CASES = {
    "sgd-nesterov-cosine-warmup": cfg(VALLEY, {"name": "sgd", "lr": 0.02, "momentum": 0.9,
                                               "nesterov": True}, {"name": "CosineAnnealingLR"},
                                      warmup=W),
    "adam-onecycle-rosenbrock": cfg({"name": "rosenbrock"}, {"name": "adam", "lr": 0.02},
                                    {"name": "OneCycleLR"}, steps=250),
    "rmsprop-cyclic2": cfg({"name": "quadratic_bowl"},
                           {"name": "rmsprop", "lr": 0.01, "momentum": 0.5, "centered": True},
                           {"name": "CyclicLR", "step_size_up": 15, "mode": "triangular2"}),
    "adamw-plateau-warmup": cfg(VALLEY, {"name": "adamw", "lr": 0.05, "weight_decay": 0.1},
                                {"name": "ReduceLROnPlateau", "patience": 3,
                                 "threshold": 0.05}, warmup=W),
    "sgd-constant-warmup": cfg({"name": "rosenbrock", "b": 20.0},
                               {"name": "sgd", "lr": 1e-3}, warmup=W),
    "sgd-multistep-wd": cfg(VALLEY, {"name": "sgd", "lr": 0.03, "weight_decay": 0.1},
                            {"name": "MultiStepLR", "milestones": [0, 50, 50], "gamma": 0.5}),
    "adam-clip-inf-rosenbrock": cfg({"name": "rosenbrock"}, {"name": "adam", "lr": 0.02},
                                    {"name": "CosineAnnealingLR"}, steps=250,
                                    clip_grad_norm={"max_norm": 5.0, "norm_type": "inf"}),
    "sgd-clip-plateau-validation": cfg(VALLEY, {"name": "sgd", "lr": 0.05, "momentum": 0.9},
                                       {"name": "ReduceLROnPlateau", "patience": 3,
                                        "threshold": 0.05, "metric": "validation"},
                                       warmup=W,
                                       clip_grad_norm={"max_norm": 0.5, "norm_type": 3.5}),
    "adam-typed-formula": cfg({"name": "formula",
                               "f": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2 + atan(x) - min(x, y)"},
                              {"name": "adam", "lr": 0.02}, {"name": "CosineAnnealingLR"},
                              steps=150),
}


@pytest.mark.parametrize("config", TORCH_CASES.values(), ids=TORCH_CASES.keys())
def test_pytorch_code_reproduces_the_run(config, x64):
    ns = run_snippet(tools.pytorch_code(config))
    result = playground.simulate(config)
    assert result["diverged_at"] is None
    assert_same_run(ns, result)


def test_pytorch_code_agrees_with_the_reference_loop(x64):
    """The snippet and tests/torch_reference.py (the parity oracle) are two torch loops
    written independently; on the same resolved config they agree."""
    config = TORCH_CASES["adamw-plateau-warmup"]
    ns = run_snippet(tools.pytorch_code(config))
    ref = run_torch(playground.resolve(config))
    np.testing.assert_array_equal(ns["lrs"], ref["lr"])
    np.testing.assert_array_equal(np.array(ns["path"]), ref["path"])


def test_pytorch_code_clips_where_the_run_clips(x64):
    """The clipped cases above are worth it: the run clips, and the script says so."""
    for name in ("adam-clip-inf-rosenbrock", "sgd-clip-plateau-validation"):
        config = TORCH_CASES[name]
        r = playground.simulate(config)
        assert np.sum(r["clipped_grad_norm"] < r["grad_norm"] * (1 - 1e-6)) >= 5, name
        assert "torch.nn.utils.clip_grad_norm_([p], max_norm=" in tools.pytorch_code(config)
    assert "clip_grad_norm_" not in tools.pytorch_code(cfg())


@pytest.mark.parametrize("metric", ["train", "validation"])
def test_pytorch_code_steps_the_plateau_with_the_chosen_metric(metric):
    """On the noisy surface the script's plateau is fed the minibatch loss (train) or the
    true loss f(p_t) (validation): replaying the script's own path through a fresh torch
    ReduceLROnPlateau fed those numbers gives the script's lrs."""
    config = cfg(NOISY, {"name": "sgd", "lr": 0.1},
                 {"name": "ReduceLROnPlateau", "patience": 2, "factor": 0.5,
                  "metric": metric}, steps=150)
    ns = run_snippet(tools.pytorch_code(config))
    path = np.array(ns["path"])
    watched = ns["losses"] if metric == "train" else (path[:-1] ** 2).sum(axis=1) / 2
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="min", patience=2, factor=0.5)
    lrs = []
    for value in watched:
        lrs.append(opt.param_groups[0]["lr"])
        sched.step(float(value))
    np.testing.assert_allclose(ns["lrs"], lrs, rtol=1e-12)
    assert min(lrs) < 0.1   # the plateau did cut the lr


def test_pytorch_code_runs_on_the_noisy_surface():
    config = cfg(NOISY, {"name": "sgd", "lr": 0.1, "momentum": 0.9}, {"name": "StepLR"})
    ns = run_snippet(tools.pytorch_code(config))
    with jax.enable_x64(True):
        assert_same_run(ns, playground.simulate(config), lr_only=True)
    assert len(ns["path"]) == 201


OPTAX_CASES = {
    "sgd-nesterov-wd-steplr-warmup": cfg(VALLEY, {"name": "sgd", "lr": 0.02, "momentum": 0.9,
                                                  "nesterov": True, "weight_decay": 0.01},
                                         {"name": "StepLR", "step_size": 40, "gamma": 0.5},
                                         warmup=W),
    "adam-sgdr": cfg({"name": "rosenbrock"}, {"name": "adam", "lr": 0.02},
                     {"name": "CosineAnnealingWarmRestarts", "T_0": 15, "T_mult": 2,
                      "eta_min": 1e-3}, steps=250),
    "rmsprop-momentum-centered-wd-exp": cfg({"name": "quadratic_bowl"},
                                         {"name": "rmsprop", "lr": 0.01, "momentum": 0.5,
                                          "centered": True, "weight_decay": 0.05},
                                         {"name": "ExponentialLR", "gamma": 0.99}),
    "adamw-poly-noisy": cfg(NOISY, {"name": "adamw", "lr": 0.1, "weight_decay": 0.1},
                            {"name": "PolynomialLR", "total_iters": 150, "power": 2.0}),
    "sgd-multistep-duplicates": cfg(VALLEY, {"name": "sgd", "lr": 0.03},
                                    {"name": "MultiStepLR", "milestones": [0, 60, 60],
                                     "gamma": 0.5}),
    "adam-linear-wd": cfg(VALLEY, {"name": "adam", "lr": 0.05, "weight_decay": 0.05},
                          {"name": "LinearLR", "start_factor": 1.0, "end_factor": 0.1,
                           "total_iters": 150}),
    "sgd-cosine-warmup": cfg(NOISY, {"name": "sgd", "lr": 0.3},
                             {"name": "CosineAnnealingLR", "eta_min": 0.01}, warmup=W),
    "sgd-constant": cfg(VALLEY, {"name": "sgd", "lr": 0.05}),
    "sgd-typed-formula": cfg({"name": "formula", "f": "x^2 + 2*y^2 - cos(2*pi*x)/10 + e*abs(y)/100"},
                             {"name": "sgd", "lr": 0.02, "momentum": 0.9}),
}


@pytest.mark.parametrize("config", OPTAX_CASES.values(), ids=OPTAX_CASES.keys())
def test_optax_code_reproduces_the_run(config, x64):
    assert tools.optax_gap(config) is None
    ns = run_snippet(tools.optax_code(config))
    result = playground.simulate(config)
    assert result["diverged_at"] is None
    assert_same_run(ns, result)


def test_optax_code_clips_by_global_norm(x64):
    """A 2-norm clipped run exports with optax.clip_by_global_norm; Optax divides by the norm
    where PyTorch divides by norm + 1e-6, so the runs agree to about 1e-6 relative."""
    config = cfg(VALLEY, {"name": "adam", "lr": 0.05, "weight_decay": 0.01},
                 {"name": "StepLR", "step_size": 50}, clip_grad_norm={"max_norm": 0.5})
    assert tools.optax_gap(config) is None
    code = tools.optax_code(config)
    assert "optax.clip_by_global_norm(0.5)" in code
    ns = run_snippet(code)
    result = playground.simulate(config)
    assert np.sum(result["clipped_grad_norm"] < result["grad_norm"] * (1 - 1e-6)) >= 5
    np.testing.assert_allclose(ns["lrs"], result["lr"], rtol=1e-9)
    scale = max(1.0, float(np.abs(result["path"]).max()))
    np.testing.assert_allclose(np.array(ns["path"]), result["path"], rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("config, words", [
    (cfg(clip_grad_norm={"max_norm": 1.0, "norm_type": "inf"}), "2-norm only"),
    (cfg(clip_grad_norm={"max_norm": 1.0, "norm_type": 1.0}), "2-norm only"),
    (cfg(schedule={"name": "ReduceLROnPlateau"}), "reduce_on_plateau"),
    (cfg(schedule={"name": "OneCycleLR"}), "cosine_onecycle_schedule"),
    (cfg(schedule={"name": "CyclicLR"}), "cyclical"),
    (cfg(schedule={"name": "CosineAnnealingLR", "T_max": 50}), "climbs back"),
    (cfg(opt={"name": "sgd", "lr": 0.01, "momentum": 0.9, "dampening": 0.5}), "dampening"),
])
def test_optax_code_says_where_optax_differs_instead_of_guessing(config, words):
    gap = tools.optax_gap(config)
    assert gap and words in gap
    code = tools.optax_code(config)
    assert all(line.startswith("#") for line in code.splitlines() if line.strip())
    assert gap in code.replace("\n# ", " ")
