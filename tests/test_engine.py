"""The engine as a user meets it: shapes, divergence, noise, batches, and no recompiles."""
import logging

import jax
import numpy as np
import pytest

import playground
from playground import engine
from playground.surfaces import SURFACES

BOWL_SGD = {"problem": {"name": "quadratic_bowl"}, "start": [2.0, -1.0], "steps": 50,
            "optimizer": {"name": "sgd", "lr": 0.1}}


def test_result_has_the_contract_shapes_and_starts_at_start():
    r = playground.simulate(BOWL_SGD)
    assert r["lr"].shape == r["momentum"].shape == r["observed_loss"].shape == (50,)
    assert r["grad_norm"].shape == (50,)
    assert r["path"].shape == (51, 2) and r["loss"].shape == (51,)
    np.testing.assert_array_equal(r["path"][0], [2.0, -1.0])
    assert r["diverged_at"] is None
    # plain SGD on the bowl: p_{t+1} = (1 - lr) p_t, exactly
    np.testing.assert_allclose(r["path"][-1], np.array([2.0, -1.0]) * 0.9 ** 50, rtol=1e-5)


def test_values_follow_jax_default_dtype():
    assert playground.simulate(BOWL_SGD)["path"].dtype == np.float32
    with jax.enable_x64(True):
        assert playground.simulate(BOWL_SGD)["path"].dtype == np.float64


def test_divergence_is_a_result_with_nan_from_there_on():
    # SGD on the bowl multiplies p by (1 - lr) = -2 each step: |p| passes sqrt(2e6) at step 10
    r = playground.simulate({**BOWL_SGD, "start": [1.0, 1.0],
                             "optimizer": {"name": "sgd", "lr": 3.0}})
    k = r["diverged_at"]
    expected = next(t for t in range(51) if (2.0 ** t) ** 2 > SURFACES["quadratic_bowl"].blowup)
    assert k == expected
    assert np.isfinite(r["loss"][:k]).all() and np.isnan(r["loss"][k:]).all()
    assert np.isnan(r["path"][k:]).all() and np.isfinite(r["path"][:k]).all()
    assert np.isnan(r["lr"][k:]).all() and np.isfinite(r["lr"][:k]).all()


def test_divergence_at_the_final_point_is_reported():
    r = playground.simulate({**BOWL_SGD, "steps": 5, "start": [1.0, 1.0],
                             "optimizer": {"name": "sgd", "lr": 1e3}})
    assert r["diverged_at"] == 2  # |p_1| ~ 1e3, loss ~ 1e6 = bound; |p_2| ~ 1e6
    assert np.isnan(r["loss"][2:]).all()


def test_steps_up_to_the_cap_work_and_beyond_are_refused():
    r = playground.simulate({**BOWL_SGD, "steps": playground.MAX_STEPS,
                             "optimizer": {"name": "sgd", "lr": 1e-4}})
    assert r["loss"].shape == (playground.MAX_STEPS + 1,) and np.isfinite(r["loss"]).all()
    with pytest.raises(playground.ConfigError) as e:
        playground.simulate({**BOWL_SGD, "steps": playground.MAX_STEPS + 1})
    assert e.value.field == "steps"


def test_batch_equals_single_runs():
    configs = [BOWL_SGD,
               {"problem": {"name": "rosenbrock"}, "steps": 300,
                "optimizer": {"name": "adam", "lr": 0.05},
                "schedule": {"name": "OneCycleLR"}},
               {"problem": {"name": "noisy_quadratic", "seed": 3}, "steps": 700,
                "optimizer": {"name": "rmsprop"}, "schedule": {"name": "ReduceLROnPlateau"},
                "warmup": {"steps": 20}},
               {**BOWL_SGD, "optimizer": {"name": "sgd", "lr": 3.0}}]
    configs = configs * 3  # 12 runs: more than one padded batch
    for single, batched in zip(map(playground.simulate, configs),
                               playground.simulate_batch(configs)):
        assert single["diverged_at"] == batched["diverged_at"]
        for key in ("lr", "momentum", "path", "loss", "observed_loss", "grad_norm"):
            np.testing.assert_allclose(batched[key], single[key], rtol=2e-5, atol=1e-7,
                                       err_msg=key)
    assert playground.simulate_batch([]) == []


def _shifts(seed, steps=2000, noise_std=0.5):
    """The noise shifts c_t a run saw, recovered exactly from runs that never move (lr 0):
    the observed loss at p is |p - c_t|^2 / 2, so two starts +-a along an axis give c_t."""
    def observed(start):
        return playground.simulate({"problem": {"name": "noisy_quadratic", "seed": seed,
                                                "noise_std": noise_std},
                                    "start": start, "steps": steps,
                                    "optimizer": {"name": "sgd", "lr": 0.0}})["observed_loss"]
    a = 1.0
    cx = (observed([-a, 0.0]) - observed([a, 0.0])) / (2 * a)
    cy = (observed([0.0, -a]) - observed([0.0, a])) / (2 * a)
    return np.stack([cx, cy], axis=1).astype(np.float64)


def test_noisy_quadratic_same_seed_same_run_bit_for_bit():
    config = {"problem": {"name": "noisy_quadratic", "seed": 7}, "steps": 300,
              "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}}
    a, b = playground.simulate(config), playground.simulate(config)
    for key in ("path", "observed_loss", "grad_norm"):
        np.testing.assert_array_equal(a[key], b[key])
    c = playground.simulate({**config, "problem": {"name": "noisy_quadratic", "seed": 8}})
    assert not np.array_equal(a["path"], c["path"])


def test_noisy_quadratic_shifts_have_the_requested_mean_and_variance():
    n, sigma = 2000, 0.5
    c = _shifts(seed=11, steps=n, noise_std=sigma)
    # mean 0: each coordinate's sample mean within 4 standard errors
    assert np.all(np.abs(c.mean(axis=0)) < 4 * sigma / np.sqrt(n))
    # variance sigma^2: the sample variance's standard error is sigma^2 sqrt(2/(n-1))
    standard_error = sigma ** 2 * np.sqrt(2 / (n - 1))
    assert np.all(np.abs(c.var(axis=0, ddof=1) - sigma ** 2) < 4 * standard_error)
    # and the two coordinates are uncorrelated
    assert abs(np.corrcoef(c.T)[0, 1]) < 4 / np.sqrt(n)


def test_noisy_quadratic_loss_is_the_true_loss_and_the_observed_one_differs():
    r = playground.simulate({"problem": {"name": "noisy_quadratic"}, "steps": 100,
                             "optimizer": {"name": "sgd", "lr": 0.1}})
    path = r["path"].astype(np.float64)
    np.testing.assert_allclose(r["loss"], (path ** 2).sum(axis=1) / 2, rtol=1e-5)
    assert not np.allclose(r["observed_loss"], r["loss"][:-1])


def test_no_control_change_compiles_anything(caplog):
    """After warm-up, runs over every surface, optimizer, schedule and length (and a batch)
    trace and compile nothing new."""
    playground.warm_up()
    names = {"problem": list(playground.SURFACES), "optimizer": list(playground.OPTIMIZERS),
             "schedule": list(playground.SCHEDULES)}
    configs = []
    for i, sched in enumerate(names["schedule"]):
        for j, opt in enumerate(names["optimizer"]):
            prob = names["problem"][(i + j) % len(names["problem"])]
            steps = [1, 37, 256, 1000, 4097][(i + 2 * j) % 5]
            configs.append({"problem": {"name": prob}, "steps": steps,
                            "start": [0.5 + i / 10, -1.0 - j / 10],
                            "optimizer": {"name": opt, "lr": 10.0 ** -(1 + (i + j) % 3)},
                            "schedule": {"name": sched},
                            "warmup": {"steps": 1 + i} if (i + j) % 2 and steps > 12 else None})
    traces, cached = engine.TRACES["count"], (engine._run_one._cache_size(),
                                               engine._run_many._cache_size())
    with caplog.at_level(logging.WARNING, logger="jax"), jax.log_compiles(True):
        for config in configs:
            playground.simulate(config)
        playground.simulate_batch(configs[:5])
    assert engine.TRACES["count"] == traces
    assert (engine._run_one._cache_size(), engine._run_many._cache_size()) == cached
    assert not [r for r in caplog.records if "Compiling" in r.getMessage()]
