"""Take-home export: :func:`optax_code`, a standalone Optax script of a run, and
:func:`optax_gap`, why a config has no exact Optax twin."""
from __future__ import annotations

from ..config import resolve
from ..surfaces import SURFACES
from .export_code import _comment, _header, _loss_def


def optax_gap(config: dict) -> str | None:
    """Why ``config`` has no exact Optax equivalent, or None if :func:`optax_code` can
    reproduce it number for number."""
    run = resolve(config)
    opt, sched = run["optimizer"], run["schedule"]
    span = run["steps"] - (run["warmup"]["steps"] if run["warmup"] else 0)
    if opt["name"] == "sgd" and opt["dampening"]:
        return "optax.sgd has no dampening (its trace adds the full gradient)."
    clip = run.get("clip_grad_norm")
    if clip and clip["norm_type"] != 2.0:
        return (f"Optax clips by the global 2-norm only (optax.clip_by_global_norm); this run "
                f"clips in the {clip['norm_type']}-norm as torch.nn.utils.clip_grad_norm_ "
                "does, and Optax's other clipping transformations (optax.clip, "
                "optax.clip_by_block_rms) follow other rules.")
    name = sched["name"]
    if name == "ReduceLROnPlateau":
        return ("optax.contrib.reduce_on_plateau counts patience differently (it reduces "
                "after `patience` bad evaluations, PyTorch after more than `patience`), "
                "combines rtol and atol, has no eps and scales the update of the same step, "
                "so it gives other numbers.")
    if name == "OneCycleLR":
        return ("optax.cosine_onecycle_schedule peaks at int(pct_start * N) and ends at N, "
                "PyTorch's OneCycleLR one step earlier (pct_start * N - 1 and N - 1), and "
                "Optax does not cycle the momentum.")
    if name == "CyclicLR":
        return "Optax has no cyclical (triangular) schedule and does not cycle the momentum."
    if name == "CosineAnnealingLR" and span - 1 > sched["T_max"]:
        return ("optax.cosine_decay_schedule holds eta_min after T_max; PyTorch's "
                "CosineAnnealingLR climbs back up, and this run goes past T_max.")
    return None


def _optax_schedule(run: dict) -> str:
    """The Optax schedule expression for a run that :func:`optax_gap` accepts."""
    s, lr = run["schedule"], run["optimizer"]["lr"]
    name = s["name"]
    if name == "constant":
        expr = repr(lr)
    elif name == "StepLR":
        expr = (f"optax.exponential_decay({lr!r}, {s['step_size']}, {s['gamma']!r}, "
                "staircase=True)")
    elif name == "MultiStepLR":
        counts = {m: s["milestones"].count(m) for m in sorted(set(s["milestones"]))}
        scales = ", ".join(f"{m}: {s['gamma'] ** c!r}" for m, c in counts.items())
        expr = f"optax.piecewise_constant_schedule({lr!r}, {{{scales}}})"
    elif name == "ExponentialLR":
        expr = f"optax.exponential_decay({lr!r}, 1, {s['gamma']!r})"
    elif name == "CosineAnnealingLR":
        alpha = s["eta_min"] / lr if lr else 0.0
        expr = f"optax.cosine_decay_schedule({lr!r}, {s['T_max']}, alpha={alpha!r})"
    elif name == "CosineAnnealingWarmRestarts":
        span = run["steps"] - (run["warmup"]["steps"] if run["warmup"] else 0)
        cycles, covered = 0, 0
        while covered < span:
            covered += s["T_0"] * s["T_mult"] ** cycles
            cycles += 1
        expr = (f"optax.sgdr_schedule([dict(init_value={lr!r}, peak_value={lr!r}, "
                f"warmup_steps=0, decay_steps={s['T_0']} * {s['T_mult']} ** k, "
                f"end_value={s['eta_min']!r}) for k in range({cycles})])")
    elif name == "PolynomialLR":
        expr = (f"optax.polynomial_schedule({lr!r}, 0.0, {s['power']!r}, "
                f"{s['total_iters']})")
    elif name == "LinearLR":
        expr = (f"optax.linear_schedule({lr * s['start_factor']!r}, "
                f"{lr * s['end_factor']!r}, {s['total_iters']})")
    else:
        raise AssertionError(name)
    w = run["warmup"]
    if not w:
        return expr
    if name == "constant":
        expr = f"optax.constant_schedule({lr!r})"
    return (f"optax.join_schedules([optax.linear_schedule({lr * w['start_factor']!r}, "
            f"{lr!r}, {w['steps']}), {expr}], [{w['steps']}])")


def _optax_optimizer(opt: dict) -> str:
    wd = opt["weight_decay"]
    if opt["name"] == "sgd":
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        nest = ", nesterov=True" if opt["nesterov"] else ""
        core = f"optax.sgd(schedule{mom}{nest})"
    elif opt["name"] == "adamw":
        b1, b2 = opt["betas"]
        return (f"optax.adamw(schedule, b1={b1!r}, b2={b2!r}, eps={opt['eps']!r}, "
                f"weight_decay={wd!r})")
    elif opt["name"] == "adam":
        b1, b2 = opt["betas"]
        core = f"optax.adam(schedule, b1={b1!r}, b2={b2!r}, eps={opt['eps']!r})"
    else:  # rmsprop in torch's order: the momentum buffer before the lr (optax.rmsprop
        # applies the lr first, which differs once the lr changes)
        scale = "scale_by_stddev" if opt["centered"] else "scale_by_rms"
        parts = [f"optax.{scale}(decay={opt['alpha']!r}, eps={opt['eps']!r}, "
                 "eps_in_sqrt=False)"]
        if opt["momentum"]:
            parts.append(f"optax.trace(decay={opt['momentum']!r})")
        parts.append("optax.scale_by_learning_rate(schedule)")
        core = "optax.chain(" + ", ".join(parts) + ")"
    if not wd:
        return core
    inner = core.removeprefix("optax.chain(").removesuffix(")") if core.startswith(
        "optax.chain(") else core
    return f"optax.chain(optax.add_decayed_weights({wd!r}), {inner})"


def _optax_clipped(optimizer: str, clip: dict | None) -> list[str]:
    """The line that builds the optimizer, behind optax.clip_by_global_norm when the run
    clips (the 2-norm only: :func:`optax_gap` refuses the others)."""
    if not clip:
        return [f"optimizer = {optimizer}"]
    inner = optimizer.removeprefix("optax.chain(").removesuffix(")") \
        if optimizer.startswith("optax.chain(") else optimizer
    return ["# The gradient is clipped to max_norm before the optimizer sees it (PyTorch's",
            "# clip_grad_norm_). Optax scales a clipped gradient by max_norm / norm, PyTorch by",
            "# max_norm / (norm + 1e-6): a clipped step differs by about 1e-6 / norm, relative.",
            f"optimizer = optax.chain(optax.clip_by_global_norm({clip['max_norm']!r}), "
            f"{inner})"]


def optax_code(config: dict) -> str:
    """A standalone script reproducing ``config`` with Optax (in JAX's precision: float32
    by default, float64 with ``JAX_ENABLE_X64=1``), leaving ``lrs``, ``losses`` and ``path``
    behind. On the noisy quadratic it draws the playground's own shifts (same seed, same
    numbers). Where Optax has no exact equivalent (:func:`optax_gap`) the script is a
    comment saying why, not code that would give other numbers."""
    run = resolve(config)
    gap = optax_gap(config)
    if gap:
        return (_header(run, "Optax") + "#\n"
                + _comment(f"No exact Optax equivalent: {gap} Use the PyTorch script for "
                           "this run."))
    noisy = SURFACES[run["problem"]["name"]].noisy
    lines = [_header(run, "Optax"), "import jax", "import jax.numpy as jnp", "import optax",
             "", f"STEPS = {run['steps']}",
             f"BLOWUP = {SURFACES[run['problem']['name']].blowup!r}  "
             "# the playground stops a run whose loss passes this"]
    if noisy:
        lines += [f"NOISE_STD, SEED = {run['problem']['noise_std']!r}, "
                  f"{run['problem']['seed']!r}",
                  "# Each step sees the bowl shifted by c_t ~ N(0, NOISE_STD^2 I) (a "
                  "minibatch), drawn as the playground draws it.",
                  "key = jax.random.key(SEED)"]
    lines += ["", "", _loss_def(run, "jnp"), "",
              f"schedule = {_optax_schedule(run)}",
              *_optax_clipped(_optax_optimizer(run["optimizer"]), run.get("clip_grad_norm")),
              "", "",
              "@jax.jit", "def step(p, state, t):"]
    if noisy:
        lines += ["    shift = NOISE_STD * jax.random.normal(jax.random.fold_in(key, t), (2,))",
                  "    loss, g = jax.value_and_grad(loss_fn)(p - shift)"]
    else:
        lines.append("    loss, g = jax.value_and_grad(loss_fn)(p)")
    lines += ["    updates, state = optimizer.update(g, state, p)",
              "    return optax.apply_updates(p, updates), state, loss", "", "",
              f"p = jnp.array({list(run['start'])!r})", "state = optimizer.init(p)",
              "lrs, losses, path = [], [], [p.tolist()]", "for t in range(STEPS):",
              "    new_p, new_state, loss = step(p, state, t)",
              "    if not jnp.isfinite(loss) or loss > BLOWUP:",
              '        print(f"diverged at step {t}")', "        break",
              "    lrs.append(float(schedule(t)) if callable(schedule) else schedule)",
              "    losses.append(float(loss))", "    p, state = new_p, new_state",
              "    path.append(p.tolist())", "",
              'print(f"final loss {float(loss_fn(p)):.6g} at {p.tolist()}")']
    return "\n".join(lines) + "\n"
