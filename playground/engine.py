"""The engine: one jit-compiled function runs a whole trajectory.

Every number a user can change, and the choice of surface, optimizer and schedule, reaches
the compiled function as data: a config is packed into one float vector and one int vector
with a fixed layout (built once from the registries), and the choices become indices for
``lax.switch``. So after one warm-up per process and dtype, no config compiles again.

XLA has no dynamic shapes, so a run lives in fixed buffers of ``CAP >= MAX_STEPS`` steps.
The schedule's learning rates and momenta (and the noise) are computed ``SPAN`` steps at a
time, vectorised, for the run's spans only; then one loop runs the run's steps, and the
rows past its end stay NaN. ``simulate_batch`` runs each config through the same compiled
function, so a process compiles one program.

The shapes are chosen for XLA's CPU backend, which compiles a loop into a single native
function when one iteration reads and writes little (under about 1 kB; else every step
dispatches each kernel of the loop body through its runtime, several times slower), and
whose compile time grows with the number of kernels. See bench/engine.py for the figures.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .config import MAX_STEPS, SECTIONS, WARMUP, resolve
from .optimizers import OPTIMIZERS, OptState, init_state
from .params import INT32_MAX, Entry, RunContext
from .schedules import SCHEDULES, PlateauState, linear_lr, plateau_init, reduce_lr_on_plateau
from .surfaces import SURFACES

SPAN = 256
CAP = math.ceil(MAX_STEPS / SPAN) * SPAN


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


class _View(Mapping):
    """One entry's parameters, each sliced out of the packed vectors when it is read."""

    def __init__(self, slots: dict, fvec, ivec):
        self._slots, self._fvec, self._ivec = slots, fvec, ivec

    def __getitem__(self, name):
        s = self._slots[name]
        vec = self._fvec if s.kind in ("float", "float_pair") else self._ivec
        value = lax.slice_in_dim(vec, s.index, s.index + s.size)  # (lax: cheaper to trace)
        if s.size == 1:
            value = lax.squeeze(value, (0,))
        return lax.ne(value, np.int32(0)) if s.kind == "bool" else value

    def __iter__(self):
        return iter(self._slots)

    def __len__(self):
        return len(self._slots)


_SLOT_NAMES: dict = {section: {name: {} for name in registry}
                     for section, registry in _REGISTRIES.items()}
for _s in _SLOTS:
    _SLOT_NAMES.setdefault(_s.section, {}).setdefault(_s.entry, {})[_s.name] = _s


def _unpack(fvec, ivec) -> dict:
    """The packed vectors as P[section][entry][name]: views that slice a parameter out
    where it is read, so a scope traces (and XLA compiles) only the slices it uses."""
    return {section: {entry: _View(slots, fvec, ivec) for entry, slots in entries.items()}
            for section, entries in _SLOT_NAMES.items()}


# --- The compiled run ---------------------------------------------------------------------

TRACES = {"count": 0}
"""How often the run has been traced (a trace precedes every compile); tests watch it."""


def _select(values, index):
    return jnp.stack(values)[index]


def _state_to(p, st: OptState, plateau: PlateauState, alive, diverged_at, zero=0):
    """A run's whole state between two steps as one small float vector, so that a step
    writes it with one kernel. The integers it holds (Adam's step count, ReduceLROnPlateau's
    counters, diverged_at) are exact as floats up to 2**24, as in the plateau state before."""
    dtype = p.dtype
    return _vector([p[0], p[1], st.mu[0], st.mu[1], st.nu[0], st.nu[1], st.buf[0], st.buf[1],
                    *(jnp.asarray(x).astype(dtype) for x in (st.count, st.has_buf, *plateau,
                                                             alive, diverged_at))], zero)


def _state_from(v):
    """(point, optimizer state, plateau state, alive, diverged_at) from ``_state_to``."""
    i32 = jnp.int32
    st = OptState(count=v[8].astype(i32), mu=v[2:4], nu=v[4:6], buf=v[6:8], has_buf=v[9] != 0)
    plateau = PlateauState(v[10], v[11], v[12].astype(i32), v[13].astype(i32))
    return v[0:2], st, plateau, v[14] != 0, v[15].astype(i32)


def _vector(scalars, zero=0):
    """Scalars as a vector, built so that XLA fuses it into one kernel: a chain of selects
    on masks made inside that kernel. (A concatenate costs a kernel per element; constant
    masks, or masks XLA can hoist out of a loop, become operands that every step reads.)
    Inside a loop, pass an int ``zero`` that varies with the step (XLA cannot tell it is 0)
    so the masks stay in the loop's kernel."""
    n, dtype = len(scalars), jnp.result_type(*scalars)
    idx = lax.iota(jnp.int32, n)
    if not isinstance(zero, int):
        idx = lax.add(idx, lax.convert_element_type(zero, jnp.int32))
    v = lax.full((n,), scalars[-1], dtype)
    for k, x in enumerate(scalars[:-1]):  # (lax, not jnp.where: cheaper to trace)
        v = lax.select(lax.eq(idx, np.int32(k)), lax.full((n,), x, dtype), v)
    return v


class _Params:
    """The run's parameters, sliced out of the packed vectors where they are used.

    Each loop, and each branch of a ``lax.switch``, builds its own from the two vectors it
    closes over, so it takes two arrays as operands rather than a hundred scalars: XLA's
    CPU runtime pays per operand and per kernel, and a scalar computed outside a loop or a
    conditional is a kernel of its own (compiled, then run).
    """

    def __init__(self, fvec, ivec):
        self.fvec, self.ivec = fvec, ivec
        self.P = _unpack(fvec, ivec)
        self.hp, self.sp, self.prob = self.P["optimizer"], self.P["schedule"], self.P["problem"]
        self.run = self.P["run"]["run"]

    steps = property(lambda self: self.run["steps"])
    W = property(lambda self: self.run["warmup_steps"])
    start = property(lambda self: self.run["start"])
    i_prob = property(lambda self: self.run["problem"])
    i_opt = property(lambda self: self.run["optimizer"])
    i_sched = property(lambda self: self.run["schedule"])

    @property
    def lr0(self):
        return _select([self.hp[o.name]["lr"] for o in _OPTS], self.i_opt)

    @property
    def base_mom(self):
        return _select([o.momentum(self.hp[o.name]) for o in _OPTS], self.i_opt)

    @property
    def is_plateau(self):
        return _select([s.stateful for s in _SCHEDS], self.i_sched)

    @property
    def blowup(self):
        dtype = self.fvec.dtype
        return _select([jnp.asarray(s.blowup, dtype) for s in _SURFS], self.i_prob)


_OPTS = [OPTIMIZERS[n] for n in _INDEX["optimizer"]]
_SURFS = [SURFACES[n] for n in _INDEX["problem"]]
_SCHEDS = [SCHEDULES[n] for n in _INDEX["schedule"]]


def _trajectory(fvec, ivec, n_active):
    """One whole run of ``n_active`` steps (the run's steps)."""
    TRACES["count"] += 1
    dtype = fvec.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    opts, surfs, scheds = _OPTS, _SURFS, _SCHEDS

    def params():
        return _Params(fvec, ivec)

    Q = params()
    i_prob, i_opt = Q.i_prob, Q.i_opt

    def schedule_branch(s):
        """The schedule's lr, and its momentum if it cycles the momentum (else a stand-in:
        the momentum is then the optimizer's, picked outside the switch)."""
        def branch(tt):
            if s.stateful:  # its lr comes from the carried state
                lr = jnp.full(tt.shape, nan)
                return lr, lr
            out = s.fn(tt, params().lr0, params().sp[s.name])
            return out if s.cycles_momentum else (out, out)
        return branch

    def schedule_values(ts):
        Q = params()
        sp, W = Q.sp, Q.W
        warm_to = _select([s.initial_lr(Q.lr0, sp[s.name]) for s in scheds], Q.i_sched)
        cycling = _select([sp[s.name]["cycle_momentum"] if s.cycles_momentum else False
                           for s in scheds], Q.i_sched)
        max_mom = _select([sp[s.name]["max_momentum"] if s.cycles_momentum else nan
                           for s in scheds], Q.i_sched)
        warm = {**Q.P["warmup"]["warmup"], "end_factor": jnp.ones((), dtype),
                "total_iters": W}
        lr, mom = lax.switch(Q.i_sched, [schedule_branch(s) for s in scheds],
                             jnp.maximum(ts - W, 0))
        mom = jnp.where(cycling, mom, Q.base_mom)
        warming = ts < W
        lr = jnp.where(warming, linear_lr(ts, warm_to, warm), lr)
        mom = jnp.where(warming & cycling, max_mom, mom)
        return lr, mom

    def surface_branch(s):
        """The loss the optimizer sees, its gradient and the true loss, as one vector."""
        def branch(p, c):
            prm = params().prob[s.name]
            f = lambda q: s.loss(q, prm)  # noqa: E731
            if not s.noisy:
                loss, g = jax.value_and_grad(f)(p)
                return _vector([loss, g[0], g[1], loss])
            observed, g = jax.value_and_grad(f)(p - c)
            return _vector([observed, g[0], g[1], f(p)])
        return branch

    surface_branches = [surface_branch(s) for s in surfs]

    # picked once, outside the loops (else XLA hoists a copy out of each loop: more kernels)
    is_plateau, blowup = Q.is_plateau, Q.blowup

    def make_step(o):
        """One step of optimizer ``o``, any schedule (ReduceLROnPlateau's state is updated
        every step and used only when it is the run's schedule)."""
        def step(state, t, lr_s, mom, c):
            Q = params()
            steps, W, hp, sp = Q.steps, Q.W, Q.hp, Q.sp
            p, st, plateau, alive, diverged_at = _state_from(state)
            v = lax.switch(Q.i_prob, surface_branches, p, c)
            observed, g, loss = v[0], v[1:3], v[3]
            active = t < steps
            bad = ~jnp.isfinite(loss) | (loss > blowup)
            ok = active & alive & ~bad
            lr = jnp.where(is_plateau & (t >= W), plateau.lr, lr_s)
            plateau = jax.tree.map(
                lambda a, b: jnp.where(ok & (t >= W), a, b),
                reduce_lr_on_plateau(plateau, observed, sp["ReduceLROnPlateau"]), plateau)
            p_new, st_new = o.update(g, p, st, lr, mom, hp[o.name])

            def keep(new, old):
                return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)

            zero = jnp.minimum(t, 0)  # t >= 0: keeps _vector's masks in this step's kernel
            state = _state_to(keep(p_new, p), keep(st_new, st), plateau,
                              alive & ~(active & bad),
                              jnp.where(active & alive & bad, t, diverged_at), zero)
            row = jnp.where(ok, _vector([lr, mom, observed, jnp.linalg.norm(g), loss,
                                         p[0], p[1]], zero), nan)
            return state, row
        return step

    # The schedule's lr and momentum and the noise, for all the run's steps: computed a span
    # of SPAN steps at a time (vectorised), once, outside the per-optimizer loops.
    n_spans = (n_active + SPAN - 1) // SPAN

    def span_inputs(s0, inputs):
        ts = s0 * SPAN + jnp.arange(SPAN, dtype=jnp.int32)
        lr, mom = schedule_values(ts)

        def noise():
            Q = params()
            noise_std = _select([Q.prob[s.name]["noise_std"] if s.noisy
                                 else jnp.zeros((), dtype) for s in surfs], Q.i_prob)
            seed = _select([Q.prob[s.name]["seed"] if s.noisy else 0
                            for s in surfs], Q.i_prob)
            key = jax.random.key(seed)
            return noise_std * jax.vmap(
                lambda t: jax.random.normal(jax.random.fold_in(key, t), (2,), dtype))(ts)

        Q = params()
        noisy = _select([Q.prob[s.name]["noise_std"] if s.noisy else jnp.zeros((), dtype)
                         for s in surfs], Q.i_prob) > 0
        shifts = lax.cond(noisy, noise, lambda: jnp.zeros((SPAN, 2), dtype))
        return jax.tree.map(lambda a, b: lax.dynamic_update_slice_in_dim(a, b, s0 * SPAN, 0),
                            inputs, (lr, mom, shifts))

    lrs, moms, shifts = lax.fori_loop(0, n_spans, span_inputs, (
        jnp.zeros(CAP, dtype), jnp.zeros(CAP, dtype), jnp.zeros((CAP, 2), dtype)))

    # The steps: one loop over the run's steps per optimizer, chosen by lax.switch. XLA's
    # CPU backend compiles a loop whose body reads and writes less than about 1 kB per
    # iteration into one native function (its small-while-loop pass); any bigger, and every
    # step dispatches each kernel of the body through the runtime, several times slower.
    # That is what keeps the state one small vector, parameters sliced where they are used,
    # and a body per optimizer (one body for all four is over the threshold).
    def make_run(o):
        step = make_step(o)

        def body(t, carry):
            state, table = carry
            state, row = step(state, t, lrs[t], moms[t],
                              lax.dynamic_index_in_dim(shifts, t, keepdims=False))
            return state, lax.dynamic_update_index_in_dim(table, row, t, 0)

        return lambda carry: lax.fori_loop(0, n_active, body, carry)

    start = Q.start
    state0 = _state_to(start, init_state(start), plateau_init(Q.lr0), jnp.asarray(True),
                       jnp.asarray(-1, jnp.int32))
    table0 = jnp.full((CAP, 7), nan)  # rows of steps past the run's end stay NaN
    state, table = lax.switch(i_opt, [make_run(o) for o in opts], (state0, table0))
    p, _, _, alive, diverged_at = _state_from(state)
    # the final point: every surface's loss there, picked without a conditional
    final_loss = _select([s.loss(p, Q.prob[s.name]) for s in surfs], i_prob)
    final_ok = alive & jnp.isfinite(final_loss) & (final_loss <= blowup)
    diverged_at = jnp.where(alive & ~final_ok, Q.steps, diverged_at)
    final = jnp.where(final_ok, jnp.stack([final_loss, p[0], p[1]]), nan)
    # rows are steps; columns lr, momentum, observed loss, grad norm, loss, x, y
    return table, final, diverged_at


_run_one = jax.jit(_trajectory)
_run_many = _run_one
"""The batch entry point is the single one: ``simulate_batch`` runs each config through
``_run_one``. (It was a ``vmap`` of a generic trajectory: a second program, about as long to
compile as the first, that ran every optimizer's update for every config, and no faster on
XLA's CPU backend than as many single runs.)"""


def _result(table: np.ndarray, final: np.ndarray, diverged_at, steps: int) -> dict:
    """The contract's arrays from the output table (row ``steps`` gets the final point)."""
    loss_xy = np.concatenate([table[:steps, 4:], final[None]])
    d = int(diverged_at)
    return {"lr": table[:steps, 0], "momentum": table[:steps, 1],
            "path": loss_xy[:, 1:], "loss": loss_xy[:, 0],
            "observed_loss": table[:steps, 2], "grad_norm": table[:steps, 3],
            "diverged_at": None if d < 0 else d}


def simulate(config: dict) -> dict:
    """Run one config (docs/run-format.md §6, §7) and return its arrays as NumPy."""
    run = resolve(config)
    fvec, ivec = pack(run)
    table, final, diverged_at = _run_one(fvec, ivec, np.int32(run["steps"]))
    return _result(np.asarray(table), np.asarray(final), diverged_at, run["steps"])


def simulate_batch(configs: list[dict]) -> list[dict]:
    """Run several configs: each through the compiled single run, all dispatched before the
    first result is read back."""
    runs = [resolve(c) for c in configs]
    pending = [_run_one(*pack(run), np.int32(run["steps"])) for run in runs]
    return [_result(np.asarray(table), np.asarray(final), diverged_at, run["steps"])
            for run, (table, final, diverged_at) in zip(runs, pending)]


def warm_up() -> None:
    """Compile the engine (once per process and dtype): both entry points share it."""
    simulate({})
    simulate_batch([{}])
