"""The engine: one jit-compiled function runs a whole trajectory.

Every number a user can change, and the choice of surface, optimizer and schedule, reaches
the compiled function as data: a config is packed into one float vector and one int vector
with a fixed layout (built once from the registries), and the choices become indices for
``lax.switch``. So after one warm-up per process and dtype, no config compiles again.

XLA has no dynamic shapes, so a run lives in fixed buffers of ``CAP >= MAX_STEPS`` steps.
The steps are a ``lax.scan`` over blocks of 16 steps, inside a scan over spans of ``SPAN``
steps; spans past the run's end are skipped (``lax.cond``) and steps past ``steps`` inside
the last span are masked, so a short run costs little. ``simulate_batch`` ``vmap``s the same
function over several configs.

The shapes are chosen for XLA's CPU runtime, which runs a loop body inline only while the
buffers it touches are small (else it dispatches every kernel through a thread pool, 5-10x
slower per step), and whose per-step cost grows with the number of kernels in the body.
See bench/engine.py for the figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .config import MAX_STEPS, SECTIONS, WARMUP, resolve
from .optimizers import OPTIMIZERS, init_state
from .params import INT32_MAX, Entry, RunContext
from .schedules import SCHEDULES, PlateauState, linear_lr, plateau_init, reduce_lr_on_plateau
from .surfaces import SURFACES

SPAN = 256
CAP = math.ceil(MAX_STEPS / SPAN) * SPAN
BATCH = 8
"""Batches are padded to a multiple of this, so any batch size reuses one compile."""


# --- The fixed layout: where each parameter lives in the packed vectors ------------------

@dataclass(frozen=True)
class _Slot:
    section: str
    entry: str
    name: str
    kind: str
    index: int  # into the float vector for float kinds, else into the int vector
    size: int


_REGISTRIES = {**SECTIONS, "warmup": {"warmup": WARMUP}}
"""Every entry whose parameters the packed vectors hold, by config section."""


def _build_layout():
    slots, nf, ni = [], 0, 0
    for section, registry in _REGISTRIES.items():
        for entry in registry.values():
            for p in entry.params:
                size = {"float_pair": 2, "int_list": p.max_len}.get(p.kind, 1)
                if p.kind in ("float", "float_pair"):
                    slots.append(_Slot(section, entry.name, p.name, p.kind, nf, size))
                    nf += size
                else:
                    slots.append(_Slot(section, entry.name, p.name, p.kind, ni, size))
                    ni += size
    # top-level fields
    slots.append(_Slot("run", "run", "start", "float_pair", nf, 2))
    nf += 2
    for name in ("steps", "warmup_steps", "problem", "optimizer", "schedule"):
        slots.append(_Slot("run", "run", name, "int", ni, 1))
        ni += 1
    return tuple(slots), nf, ni


_SLOTS, _NF, _NI = _build_layout()
_INDEX = {section: list(registry) for section, registry in SECTIONS.items()}
"""The entries' order: a run's choice of each is its index here (for lax.switch)."""


def _float_dtype():
    return jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless x64 is enabled


def _encode(slot: _Slot, value, entry: Entry | None):
    if slot.kind == "bool":
        return [int(bool(value))]
    if slot.kind == "choice":
        return [entry.param(slot.name).choices.index(value)]
    if slot.kind == "int_list":
        return list(value) + [INT32_MAX] * (slot.size - len(value))
    if slot.kind == "float_pair":
        return list(value)
    if value is None:  # a nullable int (CyclicLR.step_size_down)
        return [-1]
    return [value]


_ENTRY_SLOTS: dict = {}
for _s in _SLOTS:
    _ENTRY_SLOTS.setdefault((_s.section, _s.entry), []).append(_s)


def _write(fvec, ivec, section: str, name: str, values: dict) -> None:
    entry = _REGISTRIES[section][name] if section != "run" else None
    for slot in _ENTRY_SLOTS.get((section, name), ()):
        target = fvec if slot.kind in ("float", "float_pair") else ivec
        target[slot.index:slot.index + slot.size] = _encode(slot, values[slot.name], entry)


def _base_vectors(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Packed vectors holding valid values for every entry (most of a run's are unused)."""
    fvec, ivec = np.zeros(_NF, dtype), np.zeros(_NI, np.int32)
    ctx = RunContext(steps=100, warmup_steps=0, lr=0.1)
    for section, registry in _REGISTRIES.items():
        for entry in registry.values():
            _write(fvec, ivec, section, entry.name,
                   {p.name: p.default_for(ctx) for p in entry.params})
    return fvec, ivec


_BASE: dict = {}


def pack(run: dict) -> tuple[np.ndarray, np.ndarray]:
    """A resolved config as (float vector, int vector) in the fixed layout."""
    dtype = np.dtype(_float_dtype())
    if dtype not in _BASE:
        _BASE[dtype] = _base_vectors(dtype)
    fvec, ivec = (v.copy() for v in _BASE[dtype])
    for section in ("problem", "optimizer", "schedule"):
        _write(fvec, ivec, section, run[section]["name"], run[section])
    if run["warmup"]:
        _write(fvec, ivec, "warmup", "warmup", run["warmup"])
    _write(fvec, ivec, "run", "run", {
        "start": run["start"], "steps": run["steps"],
        "warmup_steps": run["warmup"]["steps"] if run["warmup"] else 0,
        **{sec: _INDEX[sec].index(run[sec]["name"]) for sec in _INDEX}})
    return fvec, ivec


def _unpack(fvec, ivec) -> dict:
    """The packed vectors as nested dicts of traced scalars: P[section][entry][name]."""
    P: dict = {sec: {name: {} for name in names} for sec, names in _INDEX.items()}
    for s in _SLOTS:
        vec = fvec if s.kind in ("float", "float_pair") else ivec
        value = vec[s.index:s.index + s.size] if s.size > 1 else vec[s.index]
        if s.kind == "bool":
            value = value != 0
        P.setdefault(s.section, {}).setdefault(s.entry, {})[s.name] = value
    return P


# --- The compiled run ---------------------------------------------------------------------

TRACES = {"count": 0}
"""How often the run has been traced (a trace precedes every compile); tests watch it."""


def _select(values, index):
    return jnp.stack(values)[index]


def _plateau_to(st: PlateauState):
    """The plateau state as one small vector (one kernel per step instead of four)."""
    return _vector([jnp.asarray(x).astype(st.lr.dtype) for x in st])


def _plateau_from(v) -> PlateauState:
    return PlateauState(v[0], v[1], v[2].astype(jnp.int32), v[3].astype(jnp.int32))


def _vector(scalars):
    """Scalars as a vector, built so that XLA fuses it into one kernel (a chain of selects
    on an iota; a concatenate would cost a kernel per element)."""
    idx = jnp.arange(len(scalars))
    v = jnp.full(len(scalars), scalars[-1])
    for k, x in enumerate(scalars[:-1]):
        v = jnp.where(idx == k, x, v)
    return v


def _trajectory(fvec, ivec, n_active, specialize=True):
    """One whole run. ``n_active`` (unbatched) bounds the spans worth running.

    With ``specialize``, each (optimizer, plateau or not) gets its own loop body, chosen by
    ``lax.switch``: a body with fewer conditionals runs several times faster on XLA's CPU
    runtime. The batch entry point uses one generic body instead, since ``vmap`` would turn
    that switch into running every branch.
    """
    TRACES["count"] += 1
    dtype = fvec.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    opts = [OPTIMIZERS[n] for n in _INDEX["optimizer"]]
    surfs = [SURFACES[n] for n in _INDEX["problem"]]
    scheds = [SCHEDULES[n] for n in _INDEX["schedule"]]

    def params():
        """The run's parameters, sliced out of the packed vectors where they are used (so
        each loop takes two arrays, not a hundred scalars: XLA's CPU runtime pays per
        operand and per kernel at the top level)."""
        P = _unpack(fvec, ivec)
        run = P["run"]["run"]
        i_prob, i_opt, i_sched = run["problem"], run["optimizer"], run["schedule"]
        hp, sp = P["optimizer"], P["schedule"]
        lr0 = _select([hp[o.name]["lr"] for o in opts], i_opt)
        return dict(
            P=P, hp=hp, sp=sp, steps=run["steps"], W=run["warmup_steps"], start=run["start"],
            i_prob=i_prob, i_opt=i_opt, i_sched=i_sched, lr0=lr0,
            base_mom=_select([o.momentum(hp[o.name]) for o in opts], i_opt),
            is_plateau=_select([s.stateful for s in scheds], i_sched),
            blowup=_select([jnp.asarray(s.blowup, dtype) for s in surfs], i_prob))

    Q = params()
    i_prob, i_opt, is_plateau = Q["i_prob"], Q["i_opt"], Q["is_plateau"]
    steps, blowup = Q["steps"], Q["blowup"]

    def schedule_branch(s, Q):
        sp, lr0, base_mom = Q["sp"], Q["lr0"], Q["base_mom"]

        def branch(tt):
            if s.stateful:  # its lr comes from the carried state
                return jnp.full(tt.shape, nan), jnp.full(tt.shape, base_mom)
            out = s.fn(tt, lr0, sp[s.name])
            if not s.cycles_momentum:
                return out, jnp.full(tt.shape, base_mom)
            lr, mom = out
            return lr, jnp.where(sp[s.name]["cycle_momentum"], mom, base_mom)
        return branch

    def schedule_values(ts):
        Q = params()
        sp, W = Q["sp"], Q["W"]
        warm_to = _select([s.initial_lr(Q["lr0"], sp[s.name]) for s in scheds], Q["i_sched"])
        cycling = _select([sp[s.name]["cycle_momentum"] if s.cycles_momentum else False
                           for s in scheds], Q["i_sched"])
        max_mom = _select([sp[s.name]["max_momentum"] if s.cycles_momentum else nan
                           for s in scheds], Q["i_sched"])
        warm = {**Q["P"]["warmup"]["warmup"], "end_factor": jnp.ones((), dtype),
                "total_iters": W}
        lr, mom = lax.switch(Q["i_sched"], [schedule_branch(s, Q) for s in scheds],
                             jnp.maximum(ts - W, 0))
        warming = ts < W
        lr = jnp.where(warming, linear_lr(ts, warm_to, warm), lr)
        mom = jnp.where(warming & cycling, max_mom, mom)
        return lr, mom

    def surface_branch(s):
        def branch(p, c, prm):
            f = lambda q: s.loss(q, prm)  # noqa: E731
            if not s.noisy:
                loss, g = jax.value_and_grad(f)(p)
                return loss, g, loss
            observed, g = jax.value_and_grad(f)(p - c)
            return observed, g, f(p)
        return lambda p, c, P: branch(p, c, P["problem"][s.name])

    surface_branches = [surface_branch(s) for s in surfs]

    def make_step(o, plateau_on):
        """One optimizer step. Each optimizer gets its own loop body: XLA runs a body with
        a single small conditional (the surface) several times faster than one with two."""
        def step(carry, x):
            Q = params()
            steps, W, blowup, hp, sp = Q["steps"], Q["W"], Q["blowup"], Q["hp"], Q["sp"]
            p, st, plateau_vec, alive, diverged_at = carry
            plateau = _plateau_from(plateau_vec)
            t, lr_s, mom, c = x
            observed, g, loss = lax.switch(Q["i_prob"], surface_branches, p, c, Q["P"])
            active = t < steps
            bad = ~jnp.isfinite(loss) | (loss > blowup)
            ok = active & alive & ~bad
            if plateau_on:
                lr = jnp.where(Q["is_plateau"] & (t >= W), plateau.lr, lr_s)
                plateau_new = reduce_lr_on_plateau(plateau, observed, sp["ReduceLROnPlateau"])
            else:
                lr, plateau_new = lr_s, plateau
            if o is None:
                p_new, st_new = lax.switch(Q["i_opt"], [
                    lambda g, p, st, lr, mom, o=o: o.update(g, p, st, lr, mom, hp[o.name])
                    for o in opts], g, p, st, lr, mom)
            else:
                p_new, st_new = o.update(g, p, st, lr, mom, hp[o.name])

            def keep(new, old, cond=ok):
                return jax.tree.map(lambda a, b: jnp.where(cond, a, b), new, old)

            carry = (keep(p_new, p), keep(st_new, st),
                     keep(_plateau_to(plateau_new), plateau_vec, ok & (t >= W)),
                     alive & ~(active & bad), jnp.where(active & alive & bad, t, diverged_at))
            out = jnp.where(ok, _vector([lr, mom, observed, jnp.linalg.norm(g), loss,
                                         p[0], p[1]]), nan)
            return carry, out
        return step

    # Three nested scans: steps within a block, blocks within a span, spans over the
    # buffer. XLA's CPU runtime runs a loop body inline only while every buffer it touches is
    # at most 512 bytes; the per-step loop's outputs must stay that small or each step pays
    # for thread-pool dispatch (5-10x slower). Spans past the end of the run are skipped.
    block = 16 if dtype.itemsize <= 4 else 8
    n_blocks = SPAN // block

    def span_inputs(s0):
        """The step indices, the schedule's lr and momentum and the noise for one span."""
        ts = s0 * SPAN + jnp.arange(SPAN, dtype=jnp.int32)

        def compute():
            lr, mom = schedule_values(ts)
            Q = params()
            noise_std = _select([Q["P"]["problem"][s.name]["noise_std"] if s.noisy
                                 else jnp.zeros((), dtype) for s in surfs], Q["i_prob"])
            seed = _select([Q["P"]["problem"][s.name]["seed"] if s.noisy else 0
                            for s in surfs], Q["i_prob"])
            key = jax.random.key(seed)
            shifts = lax.cond(noise_std > 0, lambda: noise_std * jax.vmap(
                lambda t: jax.random.normal(jax.random.fold_in(key, t), (2,), dtype))(ts),
                lambda: jnp.zeros((SPAN, 2), dtype))
            return ts, lr, mom, shifts

        def skip():
            return ts, jnp.full(SPAN, nan), jnp.full(SPAN, nan), jnp.zeros((SPAN, 2), dtype)

        xs = lax.cond(s0 * SPAN < n_active, compute, skip)
        return jax.tree.map(lambda a: a.reshape((n_blocks, block) + a.shape[1:]), xs)

    spans = jnp.arange(CAP // SPAN, dtype=jnp.int32)
    inputs = lax.map(span_inputs, spans)  # once, outside the per-optimizer loops

    def make_run(o, plateau_on):
        step = make_step(o, plateau_on)

        def span(carry, x):
            s0, xs = x
            return lax.cond(s0 * SPAN < n_active,
                            lambda carry: lax.scan(lambda c, x: lax.scan(step, c, x), carry, xs),
                            lambda carry: (carry, jnp.full((n_blocks, block, 7), nan)), carry)

        return lambda carry: lax.scan(span, carry, (spans, inputs))

    start = Q["start"]
    carry0 = (start, init_state(start), _plateau_to(plateau_init(Q["lr0"])), jnp.asarray(True),
              jnp.asarray(-1, jnp.int32))
    if specialize:
        (p, _, _, alive, diverged_at), outs = lax.switch(
            2 * i_opt + is_plateau.astype(jnp.int32),
            [make_run(o, plateau_on) for o in opts for plateau_on in (False, True)], carry0)
    else:  # one generic body: under vmap every branch would run anyway
        (p, _, _, alive, diverged_at), outs = make_run(None, True)(carry0)
    # the final point: every surface's loss there, picked without a conditional
    final_loss = _select([s.loss(p, Q["P"]["problem"][s.name]) for s in surfs], i_prob)
    final_ok = alive & jnp.isfinite(final_loss) & (final_loss <= blowup)
    diverged_at = jnp.where(alive & ~final_ok, steps, diverged_at)
    final = jnp.where(final_ok, jnp.stack([final_loss, p[0], p[1]]), nan)
    # rows are steps; columns lr, momentum, observed loss, grad norm, loss, x, y
    return outs.reshape(CAP, 7), final, diverged_at


_run_one = jax.jit(_trajectory)
_run_many = jax.jit(jax.vmap(partial(_trajectory, specialize=False), in_axes=(0, 0, None)))


def _result(table: np.ndarray, final: np.ndarray, diverged_at, steps: int) -> dict:
    """The contract's arrays from the output table (row ``steps`` gets the final point)."""
    loss_xy = np.concatenate([table[:steps, 4:], final[None]])
    d = int(diverged_at)
    return {"lr": table[:steps, 0], "momentum": table[:steps, 1],
            "path": loss_xy[:, 1:], "loss": loss_xy[:, 0],
            "observed_loss": table[:steps, 2], "grad_norm": table[:steps, 3],
            "diverged_at": None if d < 0 else d}


def simulate(config: dict) -> dict:
    """Run one config (see CONTRACT.md) and return its arrays as NumPy."""
    run = resolve(config)
    fvec, ivec = pack(run)
    table, final, diverged_at = _run_one(fvec, ivec, np.int32(run["steps"]))
    return _result(np.asarray(table), np.asarray(final), diverged_at, run["steps"])


def simulate_batch(configs: list[dict]) -> list[dict]:
    """Run several configs in one vectorised call (padded to a multiple of BATCH)."""
    runs = [resolve(c) for c in configs]
    if not runs:
        return []
    packed = [pack(r) for r in runs]
    pad = -len(packed) % BATCH
    packed += [packed[0]] * pad
    results = []
    for i in range(0, len(runs), BATCH):
        group = packed[i:i + BATCH]
        fv, iv = np.stack([g[0] for g in group]), np.stack([g[1] for g in group])
        n_active = np.int32(max(r["steps"] for r in runs[i:i + BATCH]))
        tables, finals, diverged = (np.asarray(a) for a in _run_many(fv, iv, n_active))
        for j, run in enumerate(runs[i:i + BATCH]):
            results.append(_result(tables[j], finals[j], diverged[j], run["steps"]))
    return results


def warm_up() -> None:
    """Compile the single and the batch entry points (once per process and dtype)."""
    simulate({})
    simulate_batch([{}])
