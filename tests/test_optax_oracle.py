"""Optax as a second oracle, in float32 (JAX's default mode; forced even under x64).

Optax implements several of the schedules independently of PyTorch. docs/schedules.md §5
lists where it gives PyTorch's numbers (the Optax calls are in §3); exactly those pairs are
compared here, each for a few parameter sets, as ``playground.simulate(config)["lr"]``
against the Optax schedule evaluated at counts 0..n-1 (optax ``schedule(count)`` is
PyTorch's lr after ``count`` scheduler steps, docs/schedules.md §2):

  StepLR(k, g)               exponential_decay(b, k, g, staircase=True)
  MultiStepLR(ms, g)         piecewise_constant_schedule(b, {m: g})   (distinct milestones)
  ExponentialLR(g)           exponential_decay(b, 1, g)
  PolynomialLR(T, p)         polynomial_schedule(b, 0, p, T)
  LinearLR(s, e, T)          linear_schedule(b*s, b*e, T)
  CosineAnnealingLR(T, eta)  cosine_decay_schedule(b, T, alpha=eta/b)        t <= T only
  warmup + cosine            warmup_cosine_decay_schedule(b*s, b, W, D, eta)  t <= D only
  CAWR(T_0, T_mult, eta)     sgdr_schedule(one cycle dict per cycle)  within those cycles

Where the two libraries part ways is pinned by ``test_known_difference_*``, so the
oracle's limits stay explicit. The last test follows Adam's first steps with an optax.adam
loop (constant lr).
"""
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repo root
import playground  # noqa: E402

RTOL = 1e-5   # float32 against float32, computed in different operation orders


@pytest.fixture(autouse=True)
def float32():
    """Every comparison is float32 against float32, even under JAX_ENABLE_X64=1."""
    with jax.enable_x64(False):
        yield


def simulate_lr(schedule: dict, lr: float, steps: int, warmup: dict | None = None):
    """The lr sequence of a run (bowl, SGD: the lr does not depend on the surface)."""
    out = playground.simulate({
        "problem": {"name": "quadratic_bowl"}, "steps": steps,
        "optimizer": {"name": "sgd", "lr": lr}, "schedule": schedule, "warmup": warmup})
    assert out["diverged_at"] is None
    return out["lr"]


def assert_matches_optax(ours, theirs, base_lr: float):
    """rtol 1e-5, plus a floor of 1e-7 * base lr for values that decay to ~0 (where float32
    keeps few significant digits of 1 + cos(...) or 1 - t/T)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == np.float32, ours.dtype
    assert ours.shape == theirs.shape
    tol = RTOL * np.abs(theirs) + 1e-7 * base_lr
    bad = ~(np.abs(ours - theirs) <= tol)
    if bad.any():
        i = int(np.argmax(bad))
        pytest.fail(f"{int(bad.sum())} of {len(ours)} differ; first at t={i}: "
                    f"playground {ours[i]!r}, optax {theirs[i]!r}")


def counts(n: int):
    return jnp.arange(n, dtype=jnp.int32)


# (id, playground schedule, base lr, steps compared, optax schedule, warmup)
CASES = []


def case(id_, schedule, lr, steps, optax_schedule, warmup=None):
    CASES.append(pytest.param(schedule, lr, steps, optax_schedule, warmup, id=id_))


for b, k, g, n in [(0.05, 3, 0.1, 40), (0.1, 25, 0.5, 200), (0.3, 7, 0.8, 300)]:
    case(f"StepLR-{k}-{g}", {"name": "StepLR", "step_size": k, "gamma": g}, b, n,
         optax.exponential_decay(b, k, g, staircase=True))
for b, ms, g, n in [(0.05, [2, 5, 9], 0.1, 20), (0.2, [30, 80, 150], 0.5, 200),
                    (0.1, [0, 10, 11, 50], 0.3, 80)]:
    case(f"MultiStepLR-{'-'.join(map(str, ms))}", {"name": "MultiStepLR", "milestones": ms,
                                                   "gamma": g}, b, n,
         optax.piecewise_constant_schedule(b, {m: g for m in ms}))
for b, g, n in [(0.05, 0.9, 60), (0.1, 0.99, 300), (0.01, 0.999, 2000)]:
    case(f"ExponentialLR-{g}", {"name": "ExponentialLR", "gamma": g}, b, n,
         optax.exponential_decay(b, 1, g))
for b, T, p, n in [(0.05, 5, 0.9, 10), (0.1, 150, 2.0, 200), (0.02, 300, 0.5, 400)]:
    case(f"PolynomialLR-{T}-{p}", {"name": "PolynomialLR", "total_iters": T, "power": p}, b, n,
         optax.polynomial_schedule(b, 0.0, p, T))
for b, s, e, T, n in [(0.05, 0.5, 1.0, 4, 10), (0.1, 0.1, 0.6, 100, 150),
                      (0.1, 1.0, 0.1, 50, 80), (0.1, 0.3, 0.0, 40, 60)]:
    case(f"LinearLR-{s}-{e}-{T}", {"name": "LinearLR", "start_factor": s, "end_factor": e,
                                   "total_iters": T}, b, n,
         optax.linear_schedule(b * s, b * e, T))
for b, T, eta in [(0.05, 10, 1e-10), (0.1, 100, 1e-3), (0.1, 200, 0.0)]:
    case(f"CosineAnnealingLR-{T}-{eta}", {"name": "CosineAnnealingLR", "T_max": T,
                                          "eta_min": eta}, b, T + 1,      # t <= T only
         optax.cosine_decay_schedule(b, T, alpha=eta / b))
for b, s, W, D, eta in [(0.1, 0.1, 10, 100, 1e-3), (0.05, 0.01, 50, 500, 0.0),
                        (1.0, 0.1, 3, 10, 0.0)]:
    case(f"warmup{W}-CosineAnnealingLR-{D}", {"name": "CosineAnnealingLR", "T_max": D - W,
                                              "eta_min": eta}, b, D + 1,  # t <= D only
         optax.warmup_cosine_decay_schedule(b * s, b, W, D, eta),
         warmup={"steps": W, "start_factor": s})
for b, T0, Tm, eta, K in [(0.1, 10, 1, 1e-3, 4), (0.05, 5, 2, 0.0, 3), (0.2, 3, 3, 1e-4, 3)]:
    lengths = [T0 * Tm ** k for k in range(K)]                       # the K listed cycles
    case(f"CAWR-{T0}-{Tm}-{K}cycles", {"name": "CosineAnnealingWarmRestarts", "T_0": T0,
                                       "T_mult": Tm, "eta_min": eta}, b, sum(lengths),
         optax.sgdr_schedule([dict(init_value=b, peak_value=b, warmup_steps=0, decay_steps=L,
                                   end_value=eta) for L in lengths]))


@pytest.mark.parametrize("schedule, lr, steps, optax_schedule, warmup", CASES)
def test_schedule_matches_optax(schedule, lr, steps, optax_schedule, warmup):
    ours = simulate_lr(schedule, lr, steps, warmup)
    assert_matches_optax(ours, optax_schedule(counts(steps)), lr)


def test_known_difference_cosine_past_T_max():
    """CosineAnnealingLR is not clamped: past T_max PyTorch's lr climbs back to the base lr
    at 2 T_max (docs/schedules.md §1.7, §5.1), while optax's cosine_decay_schedule holds
    alpha * b. The playground follows PyTorch's closed form, not optax."""
    b, T, eta = 0.1, 20, 0.01
    t = np.arange(2 * T + 1)
    ours = simulate_lr({"name": "CosineAnnealingLR", "T_max": T, "eta_min": eta}, b, len(t))
    theirs = np.asarray(optax.cosine_decay_schedule(b, T, alpha=eta / b)(counts(len(t))))
    torch_closed_form = eta + (b - eta) * (1 + np.cos(np.pi * t / T)) / 2   # float64

    assert_matches_optax(ours[:T + 1], theirs[:T + 1], b)            # same up to T_max
    np.testing.assert_allclose(ours, torch_closed_form, rtol=RTOL)   # PyTorch all along
    np.testing.assert_allclose(theirs[T:], eta, rtol=RTOL)           # optax holds eta_min
    assert np.all(np.diff(ours[T:]) > 0)                              # ours rises again
    np.testing.assert_allclose(ours[2 * T], b, rtol=RTOL)            # back at b at 2 T_max


def test_known_difference_warmup_cosine_and_sgdr_past_horizon():
    """Past decay_steps optax holds end_value; PyTorch's cosine rises again (warmup +
    CosineAnnealingLR) and CAWR restarts at the base lr after the listed cycles."""
    b, W, D = 1.0, 3, 10
    ours = simulate_lr({"name": "CosineAnnealingLR", "T_max": D - W}, b, D + 3,
                       {"steps": W, "start_factor": 0.1})
    theirs = np.asarray(optax.warmup_cosine_decay_schedule(0.1, b, W, D)(counts(D + 3)))
    np.testing.assert_allclose(ours[D + 1:], [0.0495, 0.1883], atol=1e-4)  # schedules.md §1.12
    np.testing.assert_allclose(theirs[D + 1:], 0.0, atol=1e-7)

    sgdr = optax.sgdr_schedule([dict(init_value=b, peak_value=b, warmup_steps=0,
                                     decay_steps=4, end_value=0.0)] * 2)
    ours = simulate_lr({"name": "CosineAnnealingWarmRestarts", "T_0": 4}, b, 10)
    np.testing.assert_allclose(ours[8:], [1.0, 0.8536], atol=1e-4)      # a third cycle
    np.testing.assert_allclose(np.asarray(sgdr(counts(10)))[8:], 0.0, atol=1e-7)


def bowl(p):
    return (p[0] ** 2 + p[1] ** 2) / 2


def valley(p, condition=25.0):
    return (p[0] ** 2 + condition * p[1] ** 2) / 2


@pytest.mark.parametrize("problem, loss, start, lr, betas, eps, steps", [
    pytest.param("quadratic_bowl", bowl, [2.0, -1.5], 0.05, (0.9, 0.999), 1e-8, 30,
                 id="bowl-defaults"),
    pytest.param("elongated_valley", valley, [-2.5, 1.0], 0.02, (0.8, 0.99), 1e-6, 30,
                 id="valley-betas-eps"),
])
def test_adam_first_steps_match_optax_adam(problem, loss, start, lr, betas, eps, steps):
    """Adam's trajectory against a plain optax.adam loop (constant lr, float32).

    The engine writes Adam by hand in torch's order of operations (test_parity.py checks it
    bit for bit against torch.optim.Adam); optax.adam is a second, independent reference:
    the state threaded through the loop, the step count behind the bias correction,
    betas/eps plumbing, and the lr's sign and scale.

    optax gets the hyperparameters as float32, as the engine holds them.
    Given Python floats, optax computes 1 - b2 in double precision but b2 ** t in float32
    (0.001 against 1 - float32(0.999) = 0.00099998713), so its first v_hat is off by
    1.3e-5 relative and the two paths drift apart by ~3e-5 within 30 steps."""
    out = playground.simulate({
        "problem": {"name": problem}, "start": start, "steps": steps,
        "optimizer": {"name": "adam", "lr": lr, "betas": list(betas), "eps": eps}})
    opt = optax.adam(*(jnp.float32(x) for x in (lr, betas[0], betas[1], eps)))
    p = jnp.asarray(start, jnp.float32)
    state, path = opt.init(p), [np.asarray(p)]
    grad = jax.jit(jax.grad(loss))
    for _ in range(steps):
        updates, state = opt.update(grad(p), state, p)
        p = optax.apply_updates(p, updates)
        path.append(np.asarray(p))
    np.testing.assert_allclose(out["path"], np.stack(path), rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(out["lr"], lr, rtol=1e-7)
