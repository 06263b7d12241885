"""The engine: one jit-compiled function runs a whole trajectory.

Every number a user can change, and the choice of surface, optimizer and schedule, reaches
the compiled function as data: a config is packed into one float vector and one int vector
with a fixed layout (built once from the registries: layout.py), and the choices become
indices for ``lax.switch``. So after one warm-up per process and dtype, no config compiles
again.

XLA has no dynamic shapes, so a run lives in fixed buffers of ``CAP >= MAX_STEPS`` steps.
The schedule's learning rates and momenta (and the noise) are computed ``SPAN`` steps at a
time, vectorised, for the run's spans only; then one loop runs the run's steps, and the
rows past its end stay NaN. A typed surface (``formula``, docs/run-format.md §9.1) is
data too: its program sits at the end of the vectors (layout.py) and runs in step loops of
its own, so the built-in loops neither read it nor grow.

The compiled program runs a batch: up to ``BATCH`` runs, one after the other inside one
call, their steps written to one shared table of CAP rows (``run_packed``). ``simulate``
is a batch of one; ``simulate_batch`` and ``playground.sweep`` batch many runs per call, so
a run in a batch costs its steps plus a few kernel launches, and a process compiles one
program. Each run's loops run in turn, every loop but the run's own for 0 steps: with no
conditional around them the table is updated in place (the branches of a conditional
would each copy it first).

The shapes are chosen for XLA's CPU backend, which compiles a loop into a single native
function when one iteration reads and writes little (under about 1 kB; else every step
dispatches each kernel of the loop body through its runtime, several times slower), and
whose compile time grows with the number of kernels. See bench/engine.py for the figures.
The budget is tight: in float32 the RMSprop loop reads and writes 1017 of its 1024 bytes
per step (measure a loop's figure by bisecting XLA's threshold, e.g. ``XLA_FLAGS=
--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1000``, and counting
``xla_cpu_small_call="true"`` in the compiled text, as bench/engine_cold.py does).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import formula
from .config import MAX_STEPS, resolve
from .optimizers import OPTIMIZERS, OptState, init_state
from .schedules import SCHEDULES, PlateauState, linear_lr, plateau_init, reduce_lr_on_plateau
from .surfaces import SURFACES

SPAN = 256
CAP = math.ceil(MAX_STEPS / SPAN) * SPAN


from .layout import (_INDEX, _NF_MAIN, _NI_MAIN, FORMULA_F, FORMULA_I, _unpack,  # noqa: F401
                     pack, pack_all)  # (pack, pack_all: the public packing)


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


def _clip_scale(g, max_norm, norm_type):
    """The factor ``torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)`` multiplies
    the gradient by: ``min(max_norm / (total_norm + 1e-6), 1)``, the total norm being the
    ``norm_type``-norm of the gradient (inf: its largest absolute component). A run
    without clipping has ``max_norm`` inf: the factor is then exactly 1 (for any finite
    gradient, the only kind a step that counts has; a ``jnp.where`` on max_norm would
    cost the RMSprop loop its place under XLA's 1 kB fast-path threshold)."""
    a0, a1 = jnp.abs(g[0]), jnp.abs(g[1])  # (no reduce: XLA fuses it into its users)
    total = jnp.where(norm_type == jnp.inf, jnp.maximum(a0, a1),
                      (a0 ** norm_type + a1 ** norm_type) ** (1 / norm_type))
    return jnp.minimum(max_norm / (total + 1e-6), 1)


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
    max_norm = property(lambda self: self.run["max_norm"])
    norm_type = property(lambda self: self.run["norm_type"])
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
_FORMULA = _INDEX["problem"].index(formula.NAME)
"""The typed surface's index: the last problem, so that the built-in step loops' surface
switch (which clamps its index) is the same as without it."""
assert _FORMULA == len(_SURFS) - 1


def _fresh_inputs(dtype):
    """The buffers of a run's per-step inputs (lr, momentum, noise), CAP steps each. A run
    writes the spans it uses before it reads them, so runs in sequence can share them."""
    return jnp.zeros(CAP, dtype), jnp.zeros(CAP, dtype), jnp.zeros((CAP, 2), dtype)


def _trajectory(fvec, ivec, n_active):
    """One whole run of ``n_active`` steps (the run's steps): its table (rows past the run's
    end NaN), final loss and point, and diverged_at."""
    TRACES["count"] += 1
    dtype = fvec.dtype
    table0 = jnp.full((CAP, 8), jnp.asarray(jnp.nan, dtype))
    _, table, final, diverged_at = _run_into(fvec, ivec, n_active, _fresh_inputs(dtype),
                                             table0, jnp.int32(0))
    return table, final, diverged_at


def _run_into(fvec, ivec, n_active, inputs, table, offset):
    """One whole run of ``n_active`` steps, its step t written to row ``offset + t`` of
    ``table``, its per-step inputs computed into the buffers ``inputs`` (see
    :func:`_fresh_inputs`). Returns (inputs, table, final, diverged_at)."""
    dtype = fvec.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    opts, surfs, scheds = _OPTS, _SURFS, _SCHEDS

    # the built-in parameters, and the typed surface's blow-up bound and program (layout.py)
    fmain, imain = fvec[:_NF_MAIN], ivec[:_NI_MAIN]
    f_blowup, f_program = fvec[FORMULA_F], (ivec[FORMULA_I:], fvec[FORMULA_F + 1:])

    def params():
        return _Params(fmain, imain)

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
            if s.value_and_grad is not None:  # torch's rounding (never noisy)
                loss, g = s.value_and_grad(p, prm)
                return _vector([loss, g[0], g[1], loss])
            if not s.noisy:
                loss, g = jax.value_and_grad(f)(p)
                return _vector([loss, g[0], g[1], loss])
            observed, g = jax.value_and_grad(f)(p - c)
            return _vector([observed, g[0], g[1], f(p)])
        return branch

    def formula_branch(p, c):
        """The typed surface (never noisy): its value and torch-like gradient, from the
        program's forward-mode interpreter."""
        loss, g = formula.value_and_grad(f_program, p)
        return _vector([loss, g[0], g[1], loss])

    # the built-in surfaces only: lax.switch clamps its index, and the typed surface runs
    # in loops of its own (see make_run)
    surface_branches = [surface_branch(s) for s in surfs[:_FORMULA]]

    # picked once, outside the loops (else XLA hoists a copy out of each loop: more kernels)
    is_plateau, builtin_blowup = Q.is_plateau, Q.blowup
    is_formula = i_prob == _FORMULA
    blowup = jnp.where(is_formula, f_blowup, builtin_blowup)

    def make_step(o, typed):
        """One step of optimizer ``o``, any schedule (ReduceLROnPlateau's state is updated
        every step and used only when it is the run's schedule), on a built-in surface or
        (``typed``) on the typed one."""
        blowup = f_blowup if typed else builtin_blowup

        def step(state, t, lr_s, mom, c):
            Q = params()
            steps, W, hp, sp = Q.steps, Q.W, Q.hp, Q.sp
            p, st, plateau, alive, diverged_at = _state_from(state)
            v = formula_branch(p, c) if typed else lax.switch(Q.i_prob, surface_branches, p, c)
            observed, g, loss = v[0], v[1:3], v[3]
            active = t < steps
            bad = ~jnp.isfinite(loss) | (loss > blowup)
            ok = active & alive & ~bad
            lr = jnp.where(is_plateau & (t >= W), plateau.lr, lr_s)
            rp = sp["ReduceLROnPlateau"]  # metric 0: the observed loss, 1: the true one
            plateau = jax.tree.map(
                lambda a, b: jnp.where(ok & (t >= W), a, b),
                reduce_lr_on_plateau(plateau, jnp.where(rp["metric"] == 0, observed, loss),
                                     rp), plateau)
            scale = _clip_scale(g, Q.max_norm, Q.norm_type)
            p_new, st_new = o.update(g * scale, p, st, lr, mom, hp[o.name])

            def keep(new, old):
                return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)

            zero = jnp.minimum(t, 0)  # t >= 0: keeps _vector's masks in this step's kernel
            state = _state_to(keep(p_new, p), keep(st_new, st), plateau,
                              alive & ~(active & bad),
                              jnp.where(active & alive & bad, t, diverged_at), zero)
            norm = jnp.sqrt(g[0] * g[0] + g[1] * g[1])  # (as above: no reduce)
            row = jnp.where(ok, _vector([lr, mom, observed, norm, loss, p[0], p[1],
                                         norm * scale], zero), nan)
            return state, row
        return step

    # The schedule's lr and momentum and the noise, for all the run's steps: computed a span
    # of SPAN steps at a time (vectorised), once, outside the per-optimizer loops.
    n_spans = (n_active + SPAN - 1) // SPAN

    def span_inputs(s0, inputs):
        ts = s0 * SPAN + jnp.arange(SPAN, dtype=jnp.int32)
        R = params().run  # the scheduler's step at optimizer step t: t (see simulate_strided)
        lr, mom = schedule_values(ts * R["sched_stride"] + R["sched_offset"])

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

    lrs, moms, shifts = lax.fori_loop(0, n_spans, span_inputs, inputs)

    # The steps: one loop per optimizer (the run's runs its steps, the others 0). XLA's
    # CPU backend compiles a loop whose body reads and writes less than about 1 kB per
    # iteration into one native function (its small-while-loop pass); any bigger, and every
    # step dispatches each kernel of the body through the runtime, several times slower.
    # That is what keeps the state one small vector, parameters sliced where they are used,
    # and a body per optimizer (one body for all four is over the threshold).
    # A typed surface gets loops of its own (one more lax.switch branch in these loops would
    # take every run off XLA's native-loop path: measured ~27x slower).
    def make_loop(o, typed):
        """The body of the step loop of optimizer ``o`` (on the typed surface if ``typed``)."""
        step = make_step(o, typed)

        def body(t, carry):
            state, table = carry
            state, row = step(state, t, lrs[t], moms[t],
                              lax.dynamic_index_in_dim(shifts, t, keepdims=False))
            return state, lax.dynamic_update_index_in_dim(table, row, offset + t, 0)

        return body

    start = Q.start
    state0 = _state_to(start, init_state(start), plateau_init(Q.lr0), jnp.asarray(True),
                       jnp.asarray(-1, jnp.int32))
    # Every loop in turn, each for the run's steps if it is the run's, else for 0 steps:
    # no conditional around the loops, so the table is updated in place (a conditional's
    # branches would each copy it first) and a loop that is not the run's costs one test.
    # Measured on the project's machine (pinned, alternating processes): the 11 loops that
    # are not the run's cost about 130 us of a call (~15% of a 1,000-step simulate), and
    # one lax.switch over the 12 loops instead of them was 100-250 us slower a call. One
    # loop (two: built-in, typed) whose body switches on the optimizer is off XLA's
    # native-loop path (1,000 steps: ~1,750 us against ~880), and no faster than these
    # with the threshold raised for the process until it is native again.
    carry = (state0, table)
    for k, o in enumerate(opts):
        for typed in (False, True):
            mine = (i_opt == k) & (is_formula == typed)
            carry = lax.fori_loop(0, jnp.where(mine, n_active, 0), make_loop(o, typed), carry)
    state, table = carry
    p, _, _, alive, diverged_at = _state_from(state)
    # the final point: every surface's loss there, picked without a conditional
    final_loss = _select([s.loss(p, Q.prob[s.name]) for s in surfs[:_FORMULA]]
                         + [formula.evaluate(f_program, p)], i_prob)
    final_ok = alive & jnp.isfinite(final_loss) & (final_loss <= blowup)
    diverged_at = jnp.where(alive & ~final_ok, Q.steps, diverged_at)
    final = jnp.where(final_ok, jnp.stack([final_loss, p[0], p[1]]), nan)
    # rows are steps; columns lr, momentum, observed loss, grad norm, loss, x, y, and the
    # grad norm after clipping
    return (lrs, moms, shifts), table, final, diverged_at


BATCH = 16
"""At most this many runs per call of the compiled program."""
_META = 3
"""The int vectors' extra columns in a call: each run's steps and first row in the table,
and (in row 0) the batch's number of runs."""


def _batch(fvecs, ivecs):
    """Runs 0 .. ``n_runs - 1`` of the batch, one after the other: run k is (``fvecs[k]``,
    ``ivecs[k]``) for ``n_active[k]`` steps, its step t written to row ``offsets[k] + t`` of
    one shared table of CAP rows (so the runs' steps must add up to at most CAP). Returns
    the table, the final rows (BATCH, 3) and diverged_at (BATCH,); entries of the runs past
    ``n_runs`` are NaN and -1. ``n_active``, ``offsets`` and ``n_runs`` ride in the int
    vectors' last ``_META`` columns (:func:`_batch_args`): each argument of a call is one
    host-to-device copy, ~6 us of its fixed cost.

    One run at a time, not a ``vmap``: each run keeps the single run's loops (XLA compiles
    each into one native function) and only its own branches execute; a batch shares the
    call, the table and the per-step input buffers, so a run in a batch costs its steps
    and a few dozen kernel launches."""
    TRACES["count"] += 1
    dtype = fvecs.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    width = ivecs.shape[1] - _META
    n_active, offsets, n_runs = ivecs[:, width], ivecs[:, width + 1], ivecs[0, width + 2]
    ivecs = ivecs[:, :width]

    def one(k, carry):
        inputs, table, finals, diverged = carry
        pick = lambda a: lax.dynamic_index_in_dim(a, k, keepdims=False)  # noqa: E731
        inputs, table, final, d = _run_into(pick(fvecs), pick(ivecs), pick(n_active), inputs,
                                            table, pick(offsets))
        return (inputs, table, lax.dynamic_update_index_in_dim(finals, final, k, 0),
                lax.dynamic_update_index_in_dim(diverged, d, k, 0))

    _, table, finals, diverged = lax.fori_loop(0, n_runs, one, (
        _fresh_inputs(dtype), jnp.full((CAP, 8), nan), jnp.full((BATCH, 3), nan),
        jnp.full((BATCH,), -1, jnp.int32)))
    return table, finals, diverged


_run_many = jax.jit(_batch)
_run_one = _run_many
"""The one compiled program: ``simulate`` is a batch of one run, ``simulate_batch`` and
``playground.sweep`` batches of up to BATCH. (A ``vmap`` of the trajectory over a batch's
float vectors was measured slower on XLA's CPU backend: the batched loop body outgrows the
size under which XLA compiles a loop into one native function, and every optimizer's
update ran for every run.)"""


def _result(table: np.ndarray, final: np.ndarray, diverged_at, steps: int) -> dict:
    """The contract's arrays from a run's rows of the table (row ``steps`` gets the final
    point)."""
    loss_xy = np.concatenate([table[:steps, 4:7], final[None]])
    d = int(diverged_at)
    return {"lr": table[:steps, 0], "momentum": table[:steps, 1],
            "path": loss_xy[:, 1:], "loss": loss_xy[:, 0],
            "observed_loss": table[:steps, 2], "grad_norm": table[:steps, 3],
            "clipped_grad_norm": table[:steps, 7],
            "diverged_at": None if d < 0 else d}


def _chunks(steps: list[int]) -> list[tuple[int, int]]:
    """The runs (by their steps) split into consecutive batches, as (first, end) indices:
    at most BATCH runs and CAP steps in all per batch."""
    out, first, total = [], 0, 0
    for k, n in enumerate(steps):
        if k > first and (k - first == BATCH or total + n > CAP):
            out.append((first, k))
            first, total = k, 0
        total += n
    return out + [(first, len(steps))] if steps else out


def _batch_args(packed: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple:
    """The compiled program's arguments for one batch of packed runs (see :func:`_batch`):
    the float vectors, and the int vectors with the batch's steps, offsets and size."""
    (f0, i0, _) = packed[0]
    width = i0.shape[0]
    fvecs = np.zeros((BATCH, f0.shape[0]), f0.dtype)
    ivecs = np.zeros((BATCH, width + _META), np.int32)
    off = 0
    for j, (fvec, ivec, n) in enumerate(packed):
        fvecs[j], ivecs[j, :width], ivecs[j, width:width + 2] = fvec, ivec, (n, off)
        off += n
    ivecs[0, width + 2] = len(packed)
    return fvecs, ivecs


def _offsets(args: tuple) -> np.ndarray:
    """The first row in the table of each run of a call, from its arguments
    (:func:`_batch_args`: the int vectors end in steps, offset, and the count in row 0)."""
    ivecs = args[1]
    return ivecs[:ivecs[0, -1], -2]


def run_packed(packed: list[tuple[np.ndarray, np.ndarray, int]]) -> list[dict]:
    """Results of runs given packed, as (float vector, int vector, steps): in batches
    through the one compiled program, every batch dispatched before the first is read."""
    pending = []
    for first, end in _chunks([n for _, _, n in packed]):
        args = _batch_args(packed[first:end])
        pending.append((packed[first:end], _offsets(args), _run_many(*args)))
    results = []
    for batch, offsets, (table, finals, diverged) in pending:
        table, finals, diverged = np.asarray(table), np.asarray(finals), np.asarray(diverged)
        for j, (_, _, n) in enumerate(batch):
            rows = table[offsets[j]:offsets[j] + n]
            results.append(_result(rows, finals[j], diverged[j], n))
    return results


def simulate(config: dict) -> dict:
    """Run one config (docs/run-format.md §6, §7) and return its arrays as NumPy."""
    run = resolve(config)
    return run_packed([(*pack(run), run["steps"])])[0]


def simulate_strided(config: dict, stride: int, offset: int = 0) -> dict:
    """``config`` run with its scheduler (warmup included) stepped ``stride`` times per
    optimizer step and ``offset`` times before the first: step t uses the lr and momentum
    the schedule has after ``t * stride + offset`` scheduler steps. Not a field of the run
    format: the pitfalls use it to draw a scheduler stepped per micro-batch. (The
    ReduceLROnPlateau state is stepped once per step regardless.) Same compiled program."""
    run = resolve(config)
    return run_packed([(*pack(run, int(stride), int(offset)), run["steps"])])[0]


def simulate_batch(configs: list[dict]) -> list[dict]:
    """Run several configs: in batches through the one compiled program."""
    runs = [resolve(c) for c in configs]
    return run_packed([(*vectors, run["steps"]) for vectors, run in zip(pack_all(runs), runs)])


def warm_up() -> None:
    """Compile the engine (once per process and dtype): every entry point shares it."""
    simulate({})
