"""``playground.sweep``: one config for many values of one field, equal to ``simulate`` per
value (bit for bit: the same compiled program), never compiling after warm-up; and the lr
sensitivity view built on it."""
import jax
import numpy as np
import pytest

import playground
from playground import engine
from playground.sweeps import log_range
from playground.tools.sensitivity import good_band, lr_grid, lr_sensitivity
from playground.web.figure_sensitivity import diverged_spans, sensitivity_figure

ROSENBROCK_ADAM = {"problem": {"name": "rosenbrock"}, "steps": 300,
                   "optimizer": {"name": "adam", "lr": 0.05},
                   "schedule": {"name": "CosineAnnealingLR"},
                   "warmup": {"steps": 30, "start_factor": 0.01}}
NOISY_SGD = {"problem": {"name": "noisy_quadratic", "seed": 3}, "steps": 200,
             "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
             "schedule": {"name": "StepLR", "step_size": 50, "gamma": 0.5}}
PLATEAU_RMSPROP = {"problem": {"name": "elongated_valley"}, "steps": 250,
                   "optimizer": {"name": "rmsprop", "lr": 0.01},
                   "schedule": {"name": "ReduceLROnPlateau", "patience": 5}}


def same(a: dict, b: dict):
    """Equal, bit for bit (NaN where the other has NaN)."""
    assert a["diverged_at"] == b["diverged_at"]
    for key in ("lr", "momentum", "path", "loss", "observed_loss", "grad_norm",
                "clipped_grad_norm"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def with_value(config: dict, field: str, value) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    *sections, name = field.split(".")
    node = out
    for s in sections:
        node = node[s]
    node[name] = value
    return out


@pytest.mark.parametrize("config,field,values", [
    (ROSENBROCK_ADAM, "optimizer.lr", log_range(1e-4, 3.0, 7)),  # the last ones diverge
    (NOISY_SGD, "optimizer.momentum", [0.0, 0.5, 0.9, 0.99]),
    (NOISY_SGD, "schedule.gamma", [0.1, 0.5, 0.9]),
    (PLATEAU_RMSPROP, "optimizer.lr", [1e-3, 1e-2, 0.1]),
    (ROSENBROCK_ADAM, "steps", [40, 120, 300]),  # an integer field: the loop's length
    (NOISY_SGD, "schedule.step_size", [10, 30]),
])
def test_a_sweep_gives_simulate_for_every_value(config, field, values):
    with jax.enable_x64(True):
        got = playground.sweep(config, field, values)
        assert len(got) == len(values) and got[0]["path"].dtype == np.float64
        for value, result in zip(values, got):
            same(result, playground.simulate(with_value(config, field, value)))


def test_in_float32_too():
    values = [0.01, 0.05, 0.2]
    for value, result in zip(values, playground.sweep(NOISY_SGD, "optimizer.lr", values)):
        same(result, playground.simulate(with_value(NOISY_SGD, "optimizer.lr", value)))


def test_many_values_come_back_in_order():
    values = log_range(1e-3, 0.5, 21)
    got = playground.sweep(ROSENBROCK_ADAM, "optimizer.lr", values)
    for value, result in zip(values, got):
        same(result, playground.simulate(with_value(ROSENBROCK_ADAM, "optimizer.lr", value)))


def test_a_sweep_over_several_batches_gives_simulate_for_every_value():
    # more values than one call of the program takes (engine.BATCH), and runs whose steps
    # add up to more than its table (engine.CAP): each run lands in its own rows
    values = log_range(1e-3, 2.0, engine.BATCH + 5)
    got = playground.sweep(NOISY_SGD, "optimizer.lr", values)
    for value, result in zip(values, got):
        same(result, playground.simulate(with_value(NOISY_SGD, "optimizer.lr", value)))
    steps = [6000, 1, 5000, 4000, 2]
    got = playground.sweep(PLATEAU_RMSPROP, "steps", steps)
    for n, result in zip(steps, got):
        assert result["loss"].shape == (n + 1,)
        same(result, playground.simulate(with_value(PLATEAU_RMSPROP, "steps", n)))


def test_a_batch_of_mixed_runs_gives_each_runs_own_result():
    # one call holding every optimizer, a typed surface and a diverging run
    configs = [ROSENBROCK_ADAM, NOISY_SGD, PLATEAU_RMSPROP,
               {"problem": {"name": "formula", "f": "x^2 + 3*y^2"}, "steps": 80,
                "optimizer": {"name": "adamw", "lr": 0.1}},
               {"problem": {"name": "quadratic_bowl"}, "steps": 60,
                "optimizer": {"name": "sgd", "lr": 3.0}}]
    got = playground.simulate_batch(configs)
    assert got[-1]["diverged_at"] is not None
    for config, result in zip(configs, got):
        same(result, playground.simulate(config))


def test_a_section_left_to_its_default_can_be_swept():
    got = playground.sweep({"steps": 50}, "optimizer.lr", [0.01, 0.1])
    same(got[1], playground.simulate({"steps": 50, "optimizer": {"name": "adam", "lr": 0.1}}))


def test_an_element_of_a_pair_is_swept_by_its_index_and_the_other_element_stays():
    """Adam's beta1 (``optimizer.betas.0``): beta2 as the config has it, or the default
    pair's when the config gives none."""
    given = {**ROSENBROCK_ADAM, "optimizer": {"name": "adam", "lr": 0.05,
                                              "betas": [0.8, 0.99]}}
    for config, beta2 in ((given, 0.99), (ROSENBROCK_ADAM, 0.999)):
        got = playground.sweep(config, "optimizer.betas.0", [0.0, 0.5, 0.95])
        for beta1, result in zip([0.0, 0.5, 0.95], got):
            same(result, playground.simulate({**config, "optimizer": {
                "name": "adam", "lr": 0.05, "betas": [beta1, beta2]}}))
    assert given["optimizer"]["betas"] == [0.8, 0.99]  # the config is not changed
    start = playground.sweep(NOISY_SGD, "start.1", [1.0])[0]
    assert start["path"][0][1] == 1.0


@pytest.mark.parametrize("field,values,message", [
    ("optimizer.betas.2", [0.5], "optimizer.betas.2: is not a field of this run"),
    ("optimizer.betas.first", [0.5], "optimizer.betas.first: is not a field of this run"),
    ("optimizer.betas", [0.5], "optimizer.betas: is not a number"),
    ("optimizer.betas.1", [1.0], "optimizer.betas[1]: must be a pair of numbers each >= 0"),
    ("optimizer.nope", [1.0], "optimizer.nope: is not a field of this run"),
    ("schedule.name", ["StepLR"], "schedule.name: is not a number"),
    ("optimizer.lr", [0.1, -1.0], "optimizer.lr: must be a number"),
    ("", [1.0], "field: must be a dotted path"),
])
def test_a_bad_field_or_value_is_a_config_error_naming_it(field, values, message):
    with pytest.raises(playground.ConfigError) as e:
        playground.sweep(ROSENBROCK_ADAM, field, values)
    assert str(e.value).startswith(message)
    if len(values) > 1:
        assert str(e.value).endswith("(value 1 of the sweep)")


def test_sweeps_never_compile_after_warm_up():
    playground.warm_up()
    before = engine.TRACES["count"]
    playground.sweep(NOISY_SGD, "optimizer.lr", [0.01, 0.02, 0.03])
    playground.sweep(PLATEAU_RMSPROP, "optimizer.alpha", log_range(0.5, 0.999, 17))
    playground.sweep(ROSENBROCK_ADAM, "steps", [40, 60])
    lr_sensitivity(ROSENBROCK_ADAM)
    assert engine.TRACES["count"] == before


def test_the_sensitivity_view_draws_the_engines_final_losses_and_sgds_stability_limit():
    # plain SGD on the bowl f = |p|^2 / 2 (curvature 1) diverges exactly for lr > 2
    bowl = {"problem": {"name": "quadratic_bowl"}, "steps": 100,
            "optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"name": "constant"}}
    lrs = lr_grid(1e-3, 10.0, 8)
    a = lr_sensitivity(bowl, lrs)
    assert list(a["diverged"]) == [lr > 2.0 for lr in lrs]
    for k in (0, 10, 20):
        want = playground.simulate(with_value(bowl, "optimizer.lr", float(lrs[k])))
        np.testing.assert_allclose(a["final"][k], want["loss"][-1], rtol=1e-5)
    spans = diverged_spans(a["lr"], a["diverged"])
    assert len(spans) == 1 and 1.5 < spans[0][0] < 2.4 and spans[0][1] == 10.0
    fig = sensitivity_figure([("constant", 0, a)], "light")
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(s.x0, s.x1) for s in shaded] == spans
    marked = [s for s in fig.layout.shapes if s.type == "line"]
    assert marked[0].x0 == 0.1  # the current lr


def test_a_decaying_schedule_reaches_the_target_from_a_wider_band_of_lrs():
    # the lr dilemma on the noisy bowl: a constant lr must be small to end near the
    # minimum (its noise floor grows with the lr); cosine decay ends near it from larger
    # lrs too, so its band of good lrs reaches higher
    def band(schedule):
        config = {"problem": {"name": "noisy_quadratic", "noise_std": 1.0}, "steps": 400,
                  "start": [-2.5, 2.0], "optimizer": {"name": "sgd", "lr": 0.1},
                  "schedule": schedule}
        return good_band(lr_sensitivity(config, lr_grid(1e-3, 3.0, 6), threshold=0.05))

    constant, cosine = band({"name": "constant"}), band({"name": "CosineAnnealingLR"})
    decades = lambda b: np.log10(b[1] / b[0])  # noqa: E731
    assert constant is not None and cosine is not None
    assert cosine[1] > 10 * constant[1] and decades(cosine) > 2 * decades(constant)


def test_runs_packed_together_are_packed_as_each_alone():
    """``pack_all`` (a sweep's and a batch's packing) gives each run's vectors bit for bit
    as ``pack`` of the run alone: over a sweep's values, and where the next run names
    other entries, drops or adds a warmup, clips, or is a typed surface."""
    from playground.config import resolve
    from playground.sweeps import with_field
    base = resolve(ROSENBROCK_ADAM)
    lrs = [resolve(with_field(ROSENBROCK_ADAM, base, "optimizer.lr", v)) for v in (1e-3, 0.1)]
    betas = [resolve(with_field(ROSENBROCK_ADAM, base, "optimizer.betas.0", v))
             for v in (0.5, 0.95)]
    typed = [resolve({"problem": {"name": "formula", "f": f}, "steps": 20})
             for f in ("x^2 + 3*y^2", "(x - 1)^2 + y^4", "(x - 1)^2 + y^4")]
    runs = [*lrs, *betas, resolve(NOISY_SGD), resolve({**NOISY_SGD, "warmup": {"steps": 9}}),
            resolve({**NOISY_SGD, "clip_grad_norm": {"max_norm": 1.0}}),
            resolve({**NOISY_SGD, "schedule": {"name": "StepLR", "step_size": 7}}),
            resolve(PLATEAU_RMSPROP), *typed, *lrs,
            resolve({**ROSENBROCK_ADAM, "warmup": {"steps": 10}, "start": [0.5, -1.0]}),
            resolve({**ROSENBROCK_ADAM, "warmup": None})]
    together = engine.pack_all(runs)
    assert len(together) == len(runs)
    for run, (fvec, ivec) in zip(runs, together):
        alone = engine.pack(run)
        assert fvec.dtype == alone[0].dtype and ivec.dtype == alone[1].dtype
        assert fvec.tobytes() == alone[0].tobytes() and ivec.tobytes() == alone[1].tobytes()
