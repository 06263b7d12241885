"""Property tests over random valid configs drawn from the registries' own definitions."""
import math

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import playground
from playground import ConfigError

INT_CAP = {"steps": 600, "seed": 2**31 - 1}


def value_for(param):
    """A plausible valid value for a Param (the domain, at magnitudes people use)."""
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "int":
        low = int(param.low if param.low is not None else 0)
        return st.integers(low, max(low, min(INT_CAP.get(param.name, 400),
                                             int(param.high or 10**9))))
    if param.kind == "int_list":
        return st.lists(st.integers(0, 600), max_size=5)
    if param.name == "gamma":  # a decay factor: growth would overflow float32 by design
        return st.floats(0.5, 1.0)
    low = param.low if param.low is not None else -3.0
    if param.log:
        default = param.default if isinstance(param.default, float) and param.default else 1e-3
        values = st.floats(-3, 1).map(lambda e: default * 10 ** e)
    else:
        high = param.high if param.high is not None else param.ui_high or 10.0
        values = st.floats(low, high, exclude_min=param.low_open, exclude_max=param.high_open)
    if param.kind == "float_pair":
        values = st.lists(values, min_size=2, max_size=2)
    return values.filter(lambda v: all(
        (x > low if param.low_open else x >= low) and
        (param.high is None or (x < param.high if param.high_open else x <= param.high))
        for x in (v if isinstance(v, list) else [v])))


def entry(registry_name):
    registry = {"problem": playground.SURFACES, "optimizer": playground.OPTIMIZERS,
                "schedule": playground.SCHEDULES}[registry_name]

    @st.composite
    def draw(draw_):
        item = registry[draw_(st.sampled_from(sorted(registry)))]
        params = {p.name: draw_(value_for(p)) for p in item.params
                  if draw_(st.booleans())}  # omit about half: defaults must work too
        return {"name": item.name, **params}
    return draw()


@st.composite
def configs(draw):
    steps = draw(st.integers(1, 600))
    config = {"problem": draw(entry("problem")), "optimizer": draw(entry("optimizer")),
              "schedule": draw(entry("schedule")), "steps": steps}
    if draw(st.booleans()):
        config["start"] = [draw(st.floats(-3, 3)), draw(st.floats(-3, 3))]
    if draw(st.booleans()):
        config["warmup"] = {"steps": draw(st.integers(1, steps)),
                            "start_factor": draw(st.floats(0.001, 1.0))}
    return config


CANCELLING = {"ackley": lambda prm: 20 + np.e, "rastrigin": lambda prm: 4 * prm["A"]}
"""The size of the terms that cancel near the minimum, for surfaces whose loss is one."""

PERIODIC = {"ackley": lambda prm: (np.e / 2, np.e - 1 / np.e),
            "rastrigin": lambda prm: (prm["A"], 4 * prm["A"])}
"""For surfaces with cos(2 pi x) terms: how much the loss moves per radian of one term's
argument (Ackley's exp(mean of cosines) <= e, halved; Rastrigin's A cos), and the most
those terms can move it in all (the cosines' whole range)."""


def run_or_skip(config):
    try:
        return playground.simulate(config)
    except ConfigError:  # a cross-field rule (e.g. OneCycleLR's total_steps) said no
        assume(False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
@example({"problem": {"name": "ackley"}, "optimizer": {"name": "adam"},  # found by CI
          "schedule": {"name": "CosineAnnealingLR"}, "steps": 290, "start": [0.0, 0.125]})
@example({"problem": {"name": "ackley"}, "optimizer": {"name": "rmsprop", "alpha": 1.0},
          "schedule": {"name": "CosineAnnealingLR"}, "steps": 1})  # found by a full run
def test_runs_have_contract_shapes_finite_lr_and_true_loss(config):
    result = run_or_skip(config)
    run = playground.resolve(config)
    n = run["steps"]
    assert result["lr"].shape == result["momentum"].shape == (n,)
    assert result["observed_loss"].shape == result["grad_norm"].shape == (n,)
    assert result["path"].shape == (n + 1, 2) and result["loss"].shape == (n + 1,)
    end = result["diverged_at"] if result["diverged_at"] is not None else n + 1
    assert 0 <= end <= n + 1
    lr = result["lr"][:end]
    assert np.all(np.isfinite(lr)) and np.all(lr >= 0)
    assert np.all(np.isnan(result["lr"][end:]))
    # loss is the surface's true loss at each point of the path
    surface = playground.SURFACES[run["problem"]["name"]]
    prm = {k: v for k, v in run["problem"].items() if k != "name"}
    path = result["path"][:end].astype(np.float64)
    want = np.array([float(surface.loss(p, prm)) for p in path]) if end else np.zeros(0)
    # the engine adds in float32: where a surface's loss is a small difference of large
    # terms (Ackley's 20 + e, Rastrigin's 2A), its absolute error is a few float32 ulps of
    # those terms, not of the loss (ackley near its minimum: 2.9e-6 off a 0.009 loss)
    eps = np.finfo(np.float32).eps
    name = run["problem"]["name"]
    atol = max(1e-6, 8 * eps * CANCELLING.get(name, lambda p: 0)(prm))
    # and where a cos(2 pi x) term's argument is large (a run that flew far), float32
    # rounds it by about 2 pi |x| ulps of 1: the loss moves by that times the term's slope
    # (Ackley's plateau: 0.09 off 22.3 at |x| ~ 1e5)
    slope, most = PERIODIC.get(name, lambda p: (0, 0))(prm)
    atol = atol + np.minimum(slope * 2 * np.pi * 4 * eps * np.abs(path).sum(axis=1), most)
    got = result["loss"][:end].astype(np.float64)
    off = np.abs(got - want) > atol + 2e-4 * np.abs(want)
    assert not off.any(), (got[off], want[off], path[off])
    assert np.all(np.isnan(result["loss"][end:])) and np.all(np.isnan(result["path"][end:]))
    # on noise-free surfaces the optimizer saw the true loss
    if not surface.noisy:
        np.testing.assert_array_equal(result["observed_loss"][:end], result["loss"][:end][:n])
    # a run that did not diverge ends at a finite loss within the surface's bound
    if result["diverged_at"] is None:
        assert math.isfinite(result["loss"][-1]) and result["loss"][-1] <= surface.blowup


@settings(max_examples=60, deadline=None)
@given(configs())
def test_query_string_round_trips_any_valid_config(config):
    try:
        playground.resolve(config)
    except ConfigError:
        assume(False)
    back, pins = playground.from_query(playground.to_query(config))
    assert pins == [] and playground.resolve(back) == playground.resolve(config)
