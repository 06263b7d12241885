"""Gradient clipping (``clip_grad_norm``) and ReduceLROnPlateau's ``metric``
(docs/run-format.md §9.4, §9.5), against PyTorch itself.

The oracle is tests/torch_reference.py: ``torch.nn.utils.clip_grad_norm_`` before each
``torch.optim`` step, and ``ReduceLROnPlateau.step(metric)`` fed the observed (minibatch)
loss or the true loss. Tolerances are test_parity.py's: lr and momentum to rtol 1e-9; path,
losses and norms to 1e-7 of their scale; diverged_at exactly.
"""
import itertools
import math
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from jax import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repo root
sys.path.insert(0, str(Path(__file__).resolve().parent))       # torch_reference
import playground  # noqa: E402
from playground import ConfigError, engine  # noqa: E402
from playground.config import from_query, resolve, to_query, validate  # noqa: E402
from test_parity import blowup, check  # noqa: E402
from torch_reference import run_torch  # noqa: E402

OPTIMIZERS = {   # name: (optimizer on rosenbrock, optimizer on the noisy quadratic)
    "sgd": ({"name": "sgd", "lr": 2e-3}, {"name": "sgd", "lr": 0.1}),
    "sgd-momentum": ({"name": "sgd", "lr": 5e-4, "momentum": 0.9},
                     {"name": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    "nesterov": ({"name": "sgd", "lr": 5e-4, "momentum": 0.9, "nesterov": True},
                 {"name": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": True,
                  "weight_decay": 0.01}),
    "adam": ({"name": "adam", "lr": 0.02}, {"name": "adam", "lr": 0.1, "weight_decay": 0.05}),
    "adamw": ({"name": "adamw", "lr": 0.02}, {"name": "adamw", "lr": 0.1, "weight_decay": 0.1}),
    "rmsprop": ({"name": "rmsprop", "lr": 2e-3}, {"name": "rmsprop", "lr": 0.02}),
    "rmsprop-centered-momentum": (
        {"name": "rmsprop", "lr": 1e-3, "momentum": 0.5, "centered": True},
        {"name": "rmsprop", "lr": 0.01, "momentum": 0.9, "centered": True, "alpha": 0.9}),
}
NORMS = [2.0, 1.0, 3.5, "inf"]
SURFACES = {  # problem, start, steps, max_norm (well below the gradient's norm at the start)
    "rosenbrock": ({"name": "rosenbrock"}, [-1.2, 1.0], 200, 20.0),
    "noisy": ({"name": "noisy_quadratic", "noise_std": 0.5, "seed": 5}, [-2.5, 2.0], 150, 1.0),
}
SCHEDULES = [{"name": "constant"}, {"name": "CosineAnnealingLR"},
             {"name": "OneCycleLR"}, {"name": "StepLR", "gamma": 0.5}]


def clip_config(surface, opt, norm_type, schedule=None):
    problem, start, steps, max_norm = SURFACES[surface]
    return {"problem": problem, "start": start, "steps": steps,
            "optimizer": OPTIMIZERS[opt][surface == "noisy"],
            "schedule": schedule or {"name": "constant"},
            "clip_grad_norm": {"max_norm": max_norm, "norm_type": norm_type}}


def clip_cases():
    for i, (surface, opt, norm) in enumerate(itertools.product(SURFACES, OPTIMIZERS, NORMS)):
        sched = SCHEDULES[i % len(SCHEDULES)]   # rotate so schedules meet clipping too
        yield f"{surface}-{opt}-norm{norm}-{sched['name']}", clip_config(surface, opt, norm,
                                                                          sched)


CASES = list(clip_cases())


def simulate64(config):
    with jax.enable_x64(True):
        return playground.simulate(config)


def reference(config):
    with jax.enable_x64(True):
        resolved = resolve(config)
        return run_torch(resolved, blowup=blowup(resolved["problem"]["name"]))


def assert_parity(got, want):
    assert got["diverged_at"] == want["diverged_at"], (
        f"diverged_at: engine {got['diverged_at']}, torch {want['diverged_at']}")
    for key in ("lr", "momentum"):
        check(key, got[key], want[key], rtol=1e-9)
    for key in ("path", "loss", "observed_loss", "grad_norm", "clipped_grad_norm"):
        check(key, got[key], want[key], scale_tol=1e-7)


# --- Parity with torch.nn.utils.clip_grad_norm_ + torch.optim -----------------------------

@pytest.mark.parametrize("config", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_clipped_run_matches_torch(config):
    want = reference(config)
    raw, clipped = want["grad_norm"], want["clipped_grad_norm"]
    # the case is worth running: torch clipped some steps (and the run stayed finite)
    assert want["diverged_at"] is None
    assert np.sum(clipped < raw * (1 - 1e-6)) >= 5, "max_norm too large: nothing clipped"
    assert_parity(simulate64(config), want)


def test_every_optimizer_and_norm_is_covered():
    opts = {(c["optimizer"]["name"], c["optimizer"].get("momentum", 0) > 0,
             c["optimizer"].get("nesterov", False), c["optimizer"].get("centered", False))
            for _, c in CASES}
    assert {("sgd", False, False, False), ("sgd", True, False, False),
            ("sgd", True, True, False), ("adam", False, False, False),
            ("adamw", False, False, False), ("rmsprop", False, False, False),
            ("rmsprop", True, False, True)} <= opts
    for surface in ("rosenbrock", "noisy_quadratic"):
        norms = {c["clip_grad_norm"]["norm_type"] for _, c in CASES
                 if c["problem"]["name"] == surface}
        assert norms == set(NORMS)


@pytest.mark.parametrize("norm_type", NORMS)
def test_clipped_norm_is_at_most_max_norm_in_that_norm(norm_type):
    """What clipping promises a student: after it, the gradient's norm (in norm_type) is at
    most max_norm. For the 2-norm the result's clipped_grad_norm shows it directly."""
    config = clip_config("rosenbrock", "adam", norm_type)
    r = simulate64(config)
    max_norm = config["clip_grad_norm"]["max_norm"]
    scale = r["clipped_grad_norm"] / r["grad_norm"]
    assert np.all(scale <= 1 + 1e-12)
    if norm_type == 2.0:
        assert np.all(r["clipped_grad_norm"] <= max_norm * (1 + 1e-9))
        clipped = scale < 1
        np.testing.assert_allclose(r["clipped_grad_norm"][clipped], max_norm, rtol=1e-6)


def test_without_clipping_clipped_grad_norm_is_grad_norm():
    for config in ({}, {"problem": {"name": "noisy_quadratic"}, "steps": 80,
                        "optimizer": {"name": "sgd", "lr": 0.1}, "clip_grad_norm": None}):
        r = playground.simulate(config)
        np.testing.assert_array_equal(r["clipped_grad_norm"], r["grad_norm"])


def test_a_huge_max_norm_changes_nothing():
    base = {"problem": {"name": "rosenbrock"}, "steps": 100,
            "optimizer": {"name": "sgd", "lr": 1e-4, "momentum": 0.9}}
    a = simulate64(base)
    b = simulate64({**base, "clip_grad_norm": {"max_norm": 1e30, "norm_type": "inf"}})
    for key in ("path", "loss", "grad_norm", "clipped_grad_norm"):
        np.testing.assert_array_equal(a[key], b[key])


def test_clipping_tames_a_run_that_diverges_without_it():
    """SGD with this lr diverges on Rosenbrock; clipped to norm 1 it walks to the valley."""
    config = {"problem": {"name": "rosenbrock"}, "steps": 300, "start": [-1.2, 1.0],
              "optimizer": {"name": "sgd", "lr": 0.01}}
    wild = simulate64(config)
    assert wild["diverged_at"] is not None
    tame_config = {**config, "clip_grad_norm": {"max_norm": 1.0}}
    tame = simulate64(tame_config)
    assert tame["diverged_at"] is None
    assert_parity(tame, reference(tame_config))


def test_clipping_a_diverging_run_matches_torch_up_to_the_divergence():
    config = {"problem": {"name": "quadratic_bowl"}, "steps": 200,
              "optimizer": {"name": "sgd", "lr": 2.5},
              "clip_grad_norm": {"max_norm": 3000.0, "norm_type": 1.0}}
    want = reference(config)
    assert want["diverged_at"] is not None
    assert_parity(simulate64(config), want)


# --- The plateau's metric -----------------------------------------------------------------

PLATEAU = {"problem": {"name": "noisy_quadratic", "noise_std": 0.5, "seed": 3}, "steps": 250,
           "start": [-2.5, 2.0], "optimizer": {"name": "sgd", "lr": 0.1},
           "schedule": {"name": "ReduceLROnPlateau", "factor": 0.5, "patience": 5}}


@pytest.mark.parametrize("metric", ["train", "validation"])
@pytest.mark.parametrize("extra", [{}, {"warmup": {"steps": 20}},
                                   {"clip_grad_norm": {"max_norm": 0.5, "norm_type": "inf"}}],
                         ids=["plain", "warmup", "clipped"])
def test_plateau_metric_matches_torch(metric, extra):
    config = {**PLATEAU, **extra, "schedule": {**PLATEAU["schedule"], "metric": metric}}
    want = reference(config)
    assert_parity(simulate64(config), want)


def test_the_two_metrics_differ_on_the_noisy_surface_and_agree_without_noise():
    """The test above is not vacuous: on the noisy quadratic the plateau cuts the lr at
    other steps depending on what it watches; without noise the two runs are one."""
    def lrs(config, metric):
        return simulate64({**config, "schedule": {**config["schedule"], "metric": metric}})["lr"]

    assert not np.array_equal(lrs(PLATEAU, "train"), lrs(PLATEAU, "validation"))
    calm = {**PLATEAU, "problem": {"name": "noisy_quadratic", "noise_std": 0.0}}
    np.testing.assert_array_equal(lrs(calm, "train"), lrs(calm, "validation"))
    bowl = {**PLATEAU, "problem": {"name": "quadratic_bowl"}}
    np.testing.assert_array_equal(lrs(bowl, "train"), lrs(bowl, "validation"))


def test_default_metric_is_train():
    assert resolve(PLATEAU)["schedule"]["metric"] == "train"
    a = simulate64(PLATEAU)
    b = simulate64({**PLATEAU, "schedule": {**PLATEAU["schedule"], "metric": "train"}})
    np.testing.assert_array_equal(a["lr"], b["lr"])


# --- The config: validation and the query form -------------------------------------------

@pytest.mark.parametrize("clip, field, words", [
    (3, "clip_grad_norm", "must be an object"),
    ({"max_norm": 0}, "clip_grad_norm.max_norm", "> 0"),
    ({"max_norm": -1.0}, "clip_grad_norm.max_norm", "> 0"),
    ({"max_norm": float("nan")}, "clip_grad_norm.max_norm", "finite"),
    ({"max_norm": float("inf")}, "clip_grad_norm.max_norm", "finite"),
    ({"max_norm": "1"}, "clip_grad_norm.max_norm", "a number"),
    ({"norm_type": 0.5}, "clip_grad_norm.norm_type", 'a number >= 1 or "inf"'),
    ({"norm_type": "Inf"}, "clip_grad_norm.norm_type", 'a number >= 1 or "inf"'),
    ({"norm_type": float("inf")}, "clip_grad_norm.norm_type", '"inf"'),
    ({"norm_type": True}, "clip_grad_norm.norm_type", '"inf"'),
    ({"max_norm": 1.0, "norm": 2}, "clip_grad_norm.norm", "unknown field"),
])
def test_bad_clip_grad_norm_is_refused_naming_the_field(clip, field, words):
    with pytest.raises(ConfigError) as e:
        playground.simulate({"clip_grad_norm": clip})
    assert e.value.field == field and words in e.value.message, str(e.value)


def test_bad_metric_is_refused():
    with pytest.raises(ConfigError) as e:
        validate({"schedule": {"name": "ReduceLROnPlateau", "metric": "val"}})
    assert e.value.field == "schedule.metric" and "'validation'" in e.value.message


def test_clip_grad_norm_defaults_and_canonical_form():
    assert resolve({})["clip_grad_norm"] is None
    assert resolve({"clip_grad_norm": None})["clip_grad_norm"] is None
    assert resolve({"clip_grad_norm": {}})["clip_grad_norm"] == {"max_norm": 1.0,
                                                                  "norm_type": 2.0}
    assert validate({"clip_grad_norm": {"norm_type": "inf"}})["clip_grad_norm"] == {
        "norm_type": "inf"}
    assert "clip_grad_norm" not in validate({})
    assert validate({"clip_grad_norm": {"max_norm": 2, "norm_type": 1}})["clip_grad_norm"] \
        == {"max_norm": 2.0, "norm_type": 1.0}


@pytest.mark.parametrize("config", [
    {"clip_grad_norm": {"max_norm": 0.25, "norm_type": "inf"}},
    {"clip_grad_norm": {"max_norm": 1e-3, "norm_type": 3.5}, "warmup": {"steps": 5}},
    {"clip_grad_norm": {}},
    {"clip_grad_norm": {"norm_type": 1.0}, "schedule": {"name": "ReduceLROnPlateau",
                                                         "metric": "validation"}},
])
def test_query_round_trip(config):
    query = to_query(config)
    assert "clip_grad_norm=on" in query
    back, pins = from_query(query)
    assert validate(back) == validate(config) and pins == []
    _, pins = from_query(to_query({}, "") + "&" + to_query(config, "p1."))
    assert [validate(p) for p in pins] == [validate(config)]


@pytest.mark.parametrize("query, field", [
    ("clip_grad_norm=off", "clip_grad_norm"),
    ("clip_grad_norm.max_norm=0", "clip_grad_norm.max_norm"),
    ("clip_grad_norm.norm_type=abc", "clip_grad_norm.norm_type"),
    ("clip_grad_norm.norm_type=0.9", "clip_grad_norm.norm_type"),
    ("clip_grad_norm.nope=1", "clip_grad_norm.nope"),
    ("p2.clip_grad_norm.norm_type=-inf", "p2.clip_grad_norm.norm_type"),
])
def test_bad_query_is_refused_naming_the_key(query, field):
    with pytest.raises(ConfigError) as e:
        from_query(query)
    assert e.value.field == field, str(e.value)


# --- Traced data: no new program --------------------------------------------------------

_COMPILES = {"n": 0}


def _on_duration(event, duration, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES["n"] += 1


monitoring.register_event_duration_secs_listener(_on_duration)


def test_clipping_and_metric_never_compile_a_new_program():
    """After warm-up, turning clipping on and off, changing max_norm and norm_type (inf
    included) and the plateau's metric trace and compile nothing."""
    playground.warm_up()
    base = {"problem": {"name": "noisy_quadratic"}, "steps": 120,
            "optimizer": {"name": "rmsprop", "lr": 0.01, "momentum": 0.5},
            "schedule": {"name": "ReduceLROnPlateau", "patience": 3}}
    configs = [base] + [
        {**base, "clip_grad_norm": {"max_norm": m, "norm_type": n}}
        for m, n in [(1.0, 2.0), (0.1, 1.0), (5.0, 3.5), (0.5, "inf"), (1e-3, 1e6)]] + [
        {**base, "schedule": {**base["schedule"], "metric": m}} for m in ("train", "validation")
    ] + [{**base, "optimizer": {"name": o, "lr": 0.01}, "clip_grad_norm": {"max_norm": 0.3}}
         for o in playground.OPTIMIZERS]
    traces, compiles = engine.TRACES["count"], _COMPILES["n"]
    results = [playground.simulate(c) for c in configs]
    results += playground.simulate_batch(configs)
    assert engine.TRACES["count"] == traces, "a clip or metric value traced the run again"
    assert _COMPILES["n"] == compiles, "a clip or metric value compiled a new program"
    assert all(math.isfinite(float(r["loss"][-1])) for r in results)
