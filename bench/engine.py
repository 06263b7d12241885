"""Benchmark of the playground engine: figures, not asserts.

Run from the repository root::

    python bench/engine.py [--against DIR] [--reps N]

It prints, for this machine and in one run:

1. the cold start of a server worker, in fresh interpreters: ``import playground``, then
   what ``warm_up()`` compiles before the worker answers /health, entry point by entry point
   (``simulate({})`` compiles the one program; ``simulate_batch([{}])`` shares it), each
   split into tracing, lowering and XLA's compile, and the whole ``warm_up()``; first with
   no persistent compilation cache, then with JAX's persistent cache (a temporary
   directory: one child fills it, the next child loads from it, as a restarted worker
   does); then the warm time of the 1,000-step run below in those children. With
   ``--against DIR`` (another checkout of this repository, e.g. ``git worktree add
   /tmp/base HEAD``) every figure of this section is also measured for that checkout, the
   children of the two alternating, so before and after come from one sitting. Medians of
   ``--reps`` children (default 3);
2. the warm time of one 1,000-step run (Rosenbrock, Adam lr 0.05, 50 warmup steps then
   CosineAnnealingLR T_max 950) through ``playground.simulate``;
3. the same trajectory as a plain NumPy loop and as a ``torch.optim`` loop, with the
   distance between their final points and the playground's;
4. the speed-up over both, next to the targets (>= 1000x vs torch, >= 50x vs NumPy);
5. ``simulate_batch`` on 8 mixed configs;
6. warm ``simulate`` time against the number of steps (up to 10,000);
7. ``playground.sweep`` of 64 lrs of the 1,000-step run, batched (now) against one call
   of the compiled program per value (before), a loop of ``simulate`` and
   ``simulate_batch``, in interleaved rounds;
8. where a warm sweep's time goes (cProfile): host work against waiting for the device;
9. the warm run, the NumPy loop and the sweep in children kept to one CPU, as the server
   keeps each worker (gunicorn_conf.py), against children left to the kernel
   (bench/engine_pinned.py).

Timings are wall-clock (``time.perf_counter``) of the whole call, config dict in and NumPy
arrays out: R rounds of N calls each; "median" and "min" are over the rounds of the mean
time per call. The machine may be shared: compare figures from one run. Nothing here
asserts; a missed target is printed as "not met".
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET_TORCH = 1000.0  # playground must be at least this many times faster than torch
TARGET_NUMPY = 50.0    # ... and than a plain NumPy loop

from engine_cold import CONFIG, cold_start, cold_starts, fmt_t, print_cold  # noqa: E402
from engine_pinned import pinned_against_free  # noqa: E402


# --- helpers ---------------------------------------------------------------------------

def bench(fn, rounds: int, number: int) -> dict:
    """Mean seconds per call in each of ``rounds`` rounds of ``number`` calls."""
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        per_call.append((time.perf_counter() - t0) / number)
    return {"median": statistics.median(per_call), "min": min(per_call),
            "max": max(per_call), "rounds": rounds, "number": number}


def calls_for(fn, budget: float, cap: int = 200) -> int:
    """How many calls fit in ``budget`` seconds (one probe call, already warm)."""
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    return max(1, min(cap, int(budget / max(dt, 1e-9))))


def jaxlib_version() -> str:
    try:
        import jaxlib
        return jaxlib.__version__
    except Exception:  # noqa: BLE001 - only for the header
        return "?"


def git_head(root: str) -> str:
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" + uncommitted changes" if dirty else "")
    except Exception:  # noqa: BLE001 - only for the header
        return "?"


def row(*cells, widths=(34, 12, 12, 12, 14)):
    out = [str(c).ljust(w) if i == 0 else str(c).rjust(w)
           for i, (c, w) in enumerate(zip(cells, widths))]
    print("  " + " ".join(out))


def section(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


# --- the reference loops ------------------------------------------------------------------

def lr_at(t, lr0=0.05, warm=50, start_factor=0.01, t_max=950, eta_min=0.0):
    """Linear warmup, then cosine annealing restarted at step ``warm``."""
    if t < warm:
        return lr0 * (start_factor + (1.0 - start_factor) * t / warm)
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * (t - warm) / t_max)) / 2


def numpy_run(steps=1000, lr0=0.05, beta1=0.9, beta2=0.999, eps=1e-8, a=1.0, b=100.0):
    """The student's loop: float64 NumPy arrays, hand-written Adam, analytic gradient,
    recording lr, loss and the path every step."""
    p = np.array([-1.5, 2.0])
    m = np.zeros(2)
    v = np.zeros(2)
    lrs, losses, path = [], [], [p.copy()]
    for t in range(steps):
        lr = lr_at(t, lr0)
        x, y = p
        loss = (a - x) ** 2 + b * (y - x ** 2) ** 2
        grad = np.array([-2 * (a - x) - 4 * b * x * (y - x ** 2), 2 * b * (y - x ** 2)])
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat = m / (1 - beta1 ** (t + 1))
        v_hat = v / (1 - beta2 ** (t + 1))
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        lrs.append(lr)
        losses.append(loss)
        path.append(p.copy())
    return {"lr": np.array(lrs), "loss": np.array(losses), "path": np.array(path)}


def torch_run(steps=1000):
    """The PyTorch loop: autograd on a (2,) float64 Parameter, torch.optim.Adam,
    SequentialLR(LinearLR, CosineAnnealingLR), recording lr, loss.item() and the path."""
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    p = torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.05)
    sched = SequentialLR(opt, [LinearLR(opt, 0.01, 1.0, 50), CosineAnnealingLR(opt, 950)],
                         milestones=[50])
    lrs, losses, path = [], [], [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(loss.item())
        opt.step()
        sched.step()
        path.append(p.detach().numpy().copy())
    return {"lr": np.array(lrs), "loss": np.array(losses), "path": np.array(path)}


# --- batch and scaling configs ------------------------------------------------------------

BATCH_CONFIGS = [
    CONFIG,
    {"problem": {"name": "quadratic_bowl"}, "start": [2.0, -1.5], "steps": 1000,
     "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
     "schedule": {"name": "StepLR", "step_size": 300, "gamma": 0.5}},
    {"problem": {"name": "elongated_valley", "condition": 50.0}, "start": [-2.0, 1.0],
     "steps": 1000, "optimizer": {"name": "rmsprop", "lr": 0.01, "momentum": 0.5},
     "schedule": {"name": "ExponentialLR", "gamma": 0.998}},
    {"problem": {"name": "noisy_quadratic", "noise_std": 0.3, "seed": 7}, "start": [1.5, 1.5],
     "steps": 1000, "optimizer": {"name": "adamw", "lr": 0.05, "weight_decay": 0.1},
     "schedule": {"name": "OneCycleLR", "max_lr": 0.1}},
    {"problem": {"name": "rosenbrock"}, "start": [0.0, 2.5], "steps": 1000,
     "optimizer": {"name": "sgd", "lr": 0.0005, "momentum": 0.9},
     "schedule": {"name": "CyclicLR", "base_lr": 0.0001, "max_lr": 0.001, "step_size_up": 100}},
    {"problem": {"name": "elongated_valley"}, "start": [2.0, 1.0], "steps": 1000,
     "optimizer": {"name": "adam", "lr": 0.1},
     "schedule": {"name": "ReduceLROnPlateau", "factor": 0.5, "patience": 20}},
    {"problem": {"name": "quadratic_bowl"}, "start": [-2.0, -2.0], "steps": 1000,
     "optimizer": {"name": "rmsprop", "lr": 0.02, "centered": True},
     "schedule": {"name": "CosineAnnealingWarmRestarts", "T_0": 200, "T_mult": 2},
     "warmup": {"steps": 100, "start_factor": 0.1}},
    {"problem": {"name": "noisy_quadratic"}, "start": [2.0, 0.5], "steps": 1000,
     "optimizer": {"name": "sgd", "lr": 0.05},
     "schedule": {"name": "MultiStepLR", "milestones": [300, 600, 900], "gamma": 0.3}},
]


def scaled_config(steps: int) -> dict:
    warm = max(1, steps // 20)  # 50 of 1,000
    return {**CONFIG, "steps": steps, "schedule": {"name": "CosineAnnealingLR",
                                                   "T_max": steps - warm},
            "warmup": {"steps": warm, "start_factor": 0.01}}


def describe(c: dict) -> str:
    s = c["schedule"]["name"] + ("+warmup" if c.get("warmup") else "")
    return f'{c["problem"]["name"]} / {c["optimizer"]["name"]} / {s}'


def breakdown(playground, engine) -> None:
    """Where one warm simulate() spends its time. Uses engine internals, so it is skipped
    (with a note) if they change."""
    try:
        from playground.config import resolve
        run = resolve(CONFIG)
        fvec, ivec = engine.pack(run)
        one = engine._batch_args([(fvec, ivec, run["steps"])])
        first = engine._batch_args([(fvec, ivec, 1)])
        table, finals, div = engine._run_many(*one)
        parts = [
            ("resolve(config)", lambda: resolve(CONFIG)),
            ("pack(run)", lambda: engine.pack(run)),
            ("program's arguments (a batch of one)", lambda: engine._batch_args(
                [(fvec, ivec, run["steps"])])),
            ("compiled run, 1,000 steps", lambda: jax.block_until_ready(
                engine._run_many(*one))),
            ("compiled run, 1 step (fixed cost)", lambda: jax.block_until_ready(
                engine._run_many(*first))),
            ("device -> NumPy + result dict", lambda: engine._result(
                np.asarray(table), np.asarray(finals)[0], np.asarray(div)[0], run["steps"])),
            ("floor: jit call of a no-op", lambda: jax.block_until_ready(_noop(fvec, ivec))),
        ]
    except Exception as exc:  # noqa: BLE001 - a benchmark, not a test
        print(f"  (breakdown skipped: engine internals changed: {exc!r})")
        return
    print()
    print("  Where one warm simulate() goes (medians, 5 x 200 calls):")
    for label, fn in parts:
        fn()
        t = bench(fn, rounds=5, number=200)
        print(f"    {label:36s} {fmt_t(t['median'])}")


def sweep_one_call_per_value(playground, engine, config: dict, field: str, values) -> list:
    """The sweep as it ran before batching: each value's run its own call of the compiled
    program (all dispatched before the first is read back), for comparison."""
    from playground.config import resolve
    from playground.sweeps import with_field
    base = resolve(config)
    runs = [resolve(with_field(config, base, field, v)) for v in values]
    pending = [(run["steps"], engine._run_many(*engine._batch_args(
        [(*engine.pack(run), run["steps"])]))) for run in runs]
    return [engine._result(np.asarray(table), np.asarray(finals)[0], np.asarray(div)[0], n)
            for n, (table, finals, div) in pending]


def _noop(fvec, ivec):
    global _NOOP
    if "_NOOP" not in globals():
        _NOOP = jax.jit(lambda f, i: (f[:2] * 2, i[0]))
    return _NOOP(fvec, ivec)


# --- main ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="DIR",
                        help="another checkout of this repository: its cold start and warm "
                             "run are measured too, alternating with this one's")
    parser.add_argument("--reps", type=int, default=3,
                        help="children per cold-start figure (default 3; medians)")
    opts = parser.parse_args()
    roots = [ROOT] + ([os.path.abspath(opts.against)] if opts.against else [])

    t_start = time.perf_counter()
    print("Optimization Playground: engine benchmark")
    print("=" * 41)

    # 1. Cold start, in fresh interpreters, before this process imports anything heavy.
    runs = cold_starts(roots, max(1, opts.reps))
    cold_x64 = {root: cold_start(x64=True, root=root) for root in roots}

    global jax, np, torch
    import jax
    import numpy as np
    import torch

    import playground
    from playground import engine

    print(f"machine   : {platform.platform()}, {platform.machine()}, "
          f"os.cpu_count() = {os.cpu_count()}, processor = {platform.processor() or '?'}")
    print(f"python    : {platform.python_version()} ({sys.executable})")
    print(f"versions  : jax {jax.__version__}, jaxlib {jaxlib_version()}, "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"jax       : backend {jax.default_backend()}, devices {jax.devices()}, "
          f"x64 {jax.config.jax_enable_x64}, torch threads {torch.get_num_threads()}")
    print(f"load avg  : {os.getloadavg()} at start (other processes share these cores)")
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS", "XLA_FLAGS") if k in os.environ}
    print(f"thread env: {threads or 'none set'}")
    if opts.against:
        print(f"against   : {roots[1]} (git {git_head(roots[1])}); this checkout: "
              f"git {git_head(ROOT)}")

    section("1. Cold start of a worker: import, then what warm_up() compiles before /health "
            "(fresh `python -c`, float32)")
    print_cold(runs, roots)
    print()
    print("  float64 (JAX_ENABLE_X64=1), no persistent cache, one child each:")
    for root in roots:
        c = cold_x64[root]
        print(f"    {'this checkout' if root == ROOT else root:30s} import "
              f"{fmt_t(c['import_playground']).strip()}, warm_up() "
              f"{fmt_t(c['warm_up']).strip()} (simulate({{}}) "
              f"{fmt_t(c['one']['wall']).strip()}, simulate_batch([{{}}]) "
              f"{fmt_t(c['many']['wall']).strip()}); result dtype {c['dtype']}")

    # Warm up this process.
    t0 = time.perf_counter()
    playground.warm_up()
    t_warm_here = time.perf_counter() - t0

    # 2. One warm 1,000-step run.
    section("2. Warm simulate(): Rosenbrock, Adam lr 0.05, 50 warmup + cosine T_max 950, "
            "1,000 steps")
    traces0 = engine.TRACES["count"]
    res = playground.simulate(CONFIG)
    t_pg = bench(lambda: playground.simulate(CONFIG), rounds=7, number=200)
    retraced = engine.TRACES["count"] - traces0
    row("", "median", "min", "max", "rounds x calls")
    row("playground.simulate", fmt_t(t_pg["median"]), fmt_t(t_pg["min"]), fmt_t(t_pg["max"]),
        f'{t_pg["rounds"]} x {t_pg["number"]}')
    print(f"  (re-traces during timing: {retraced}; dtype {res['path'].dtype}; "
          f"warm_up() in this process after the children: {fmt_t(t_warm_here).strip()})")

    breakdown(playground, engine)

    # 3. NumPy and torch.
    section("3. The same trajectory in NumPy (float64) and torch.optim (float64)")
    ref_np = numpy_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_torch = torch_run()
        t_np = bench(numpy_run, rounds=7, number=3)
        t_torch = bench(torch_run, rounds=5, number=1)
    row("", "median", "min", "max", "rounds x calls")
    row("playground.simulate", fmt_t(t_pg["median"]), fmt_t(t_pg["min"]), fmt_t(t_pg["max"]),
        f'{t_pg["rounds"]} x {t_pg["number"]}')
    row("NumPy loop", fmt_t(t_np["median"]), fmt_t(t_np["min"]), fmt_t(t_np["max"]),
        f'{t_np["rounds"]} x {t_np["number"]}')
    row("torch.optim loop", fmt_t(t_torch["median"]), fmt_t(t_torch["min"]),
        fmt_t(t_torch["max"]), f'{t_torch["rounds"]} x {t_torch["number"]}')

    fin = {"playground (" + str(res["path"].dtype) + ")": np.asarray(res["path"][-1], float),
           "playground (float64, x64 child)": np.asarray(cold_x64[ROOT]["final"]),
           "NumPy": ref_np["path"][-1], "torch": ref_torch["path"][-1]}
    print()
    print("  Final points (after 1,000 steps; the minimum is (1, 1)):")
    for name, p in fin.items():
        print(f"    {name:34s} ({p[0]: .12f}, {p[1]: .12f})")
    jx = fin["playground (" + str(res["path"].dtype) + ")"]
    print("  Max abs difference of the final point:")
    print(f"    playground vs NumPy                {np.max(np.abs(jx - ref_np['path'][-1])):.3e}")
    print(f"    playground vs torch                {np.max(np.abs(jx - ref_torch['path'][-1])):.3e}")
    x64 = fin["playground (float64, x64 child)"]
    print(f"    playground x64 vs NumPy            {np.max(np.abs(x64 - ref_np['path'][-1])):.3e}")
    print(f"    playground x64 vs torch            {np.max(np.abs(x64 - ref_torch['path'][-1])):.3e}")
    print(f"    NumPy vs torch                     "
          f"{np.max(np.abs(ref_np['path'][-1] - ref_torch['path'][-1])):.3e}")
    print("  Max abs difference over the whole run (float32 playground vs torch):")
    print(f"    lr {np.max(np.abs(res['lr'] - ref_torch['lr'])):.3e}   "
          f"path {np.max(np.abs(res['path'] - ref_torch['path'])):.3e}   "
          f"loss {np.max(np.abs(res['loss'][:-1] - ref_torch['loss'])):.3e}")

    # 4. Ratios.
    section("4. Speed-up of the warm playground (ratio of medians)")
    r_torch = t_torch["median"] / t_pg["median"]
    r_np = t_np["median"] / t_pg["median"]
    row("", "ratio", "target", "", "")
    row("torch / playground", f"{r_torch:10.0f}x", f">= {TARGET_TORCH:.0f}x",
        "met" if r_torch >= TARGET_TORCH else "NOT MET", "")
    row("NumPy / playground", f"{r_np:10.0f}x", f">= {TARGET_NUMPY:.0f}x",
        "met" if r_np >= TARGET_NUMPY else "NOT MET", "")
    print(f"  (by the best rounds instead: torch {t_torch['min'] / t_pg['min']:.0f}x, "
          f"NumPy {t_np['min'] / t_pg['min']:.0f}x)")

    # 5. Batch.
    section("5. simulate_batch on 8 mixed configs (1,000 steps each)")
    for i, c in enumerate(BATCH_CONFIGS):
        print(f"    {i}: {describe(c)}")
    traces0 = engine.TRACES["count"]
    batch_out = playground.simulate_batch(BATCH_CONFIGS)
    singles = [playground.simulate(c) for c in BATCH_CONFIGS]
    t_batch = bench(lambda: playground.simulate_batch(BATCH_CONFIGS), rounds=5, number=10)
    t_seq = bench(lambda: [playground.simulate(c) for c in BATCH_CONFIGS], rounds=5, number=10)
    retraced = engine.TRACES["count"] - traces0
    row("", "median", "min", "per config", "rounds x calls")
    row("simulate_batch(8 configs)", fmt_t(t_batch["median"]), fmt_t(t_batch["min"]),
        fmt_t(t_batch["median"] / 8), f'{t_batch["rounds"]} x {t_batch["number"]}')
    row("8 x simulate() in a loop", fmt_t(t_seq["median"]), fmt_t(t_seq["min"]),
        fmt_t(t_seq["median"] / 8), f'{t_seq["rounds"]} x {t_seq["number"]}')
    agree = max(float(np.nanmax(np.abs(b["path"] - s["path"]))) if b["diverged_at"] is None
                else 0.0 for b, s in zip(batch_out, singles))
    print(f"  (re-traces during timing: {retraced}; max |batch path - single path| "
          f"{agree:.2e}; diverged: "
          f"{[b['diverged_at'] for b in batch_out]})")

    # 6. Scaling with steps.
    section("6. Warm simulate() against the number of steps (warmup steps/20, cosine after)")
    row("steps", "median", "min", "per step", "rounds x calls")
    for steps in (100, 1000, 5000, 10000):
        c = scaled_config(steps)
        r = playground.simulate(c)
        n = calls_for(lambda: playground.simulate(c), budget=0.15)
        t = bench(lambda: playground.simulate(c), rounds=5, number=n)
        fin = r["path"][-1]
        print_row = (f"{steps:,}", fmt_t(t["median"]), fmt_t(t["min"]),
                     fmt_t(t["median"] / steps), f'{t["rounds"]} x {t["number"]}')
        row(*print_row)
        print(f"      final point ({fin[0]:.6f}, {fin[1]:.6f}), len(lr) {len(r['lr'])}, "
              f"diverged_at {r['diverged_at']}")

    # 7. Sweeps.
    section("7. playground.sweep: 64 lrs (1e-4 .. 1, log-spaced) of the 1,000-step run")
    from playground.sweeps import log_range
    lrs = log_range(1e-4, 1.0, 64)
    singles = [dict(CONFIG, optimizer=dict(CONFIG["optimizer"], lr=v)) for v in lrs]
    traces0 = engine.TRACES["count"]
    swept = playground.sweep(CONFIG, "optimizer.lr", lrs)
    per_call = sweep_one_call_per_value(playground, engine, CONFIG, "optimizer.lr", lrs)
    cases = {  # interleaved rounds: the machine's load hits every case alike
        "sweep (batched: now)": lambda: playground.sweep(CONFIG, "optimizer.lr", lrs),
        "sweep (one call per value: before)": lambda: sweep_one_call_per_value(
            playground, engine, CONFIG, "optimizer.lr", lrs),
        "64 x simulate() in a loop": lambda: [playground.simulate(c) for c in singles],
        "simulate_batch(64 configs)": lambda: playground.simulate_batch(singles),
    }
    times = {name: [] for name in cases}
    for _ in range(5):
        for name, fn in cases.items():
            times[name].append(bench(fn, rounds=1, number=3)["median"])
    row("", "median", "min", "per value", "rounds x calls")
    for name, ts in times.items():
        row(name, fmt_t(statistics.median(ts)), fmt_t(min(ts)),
            fmt_t(statistics.median(ts) / 64), "5 x 3")
    t_sweep = statistics.median(times["sweep (batched: now)"])
    t_loop = statistics.median(times["64 x simulate() in a loop"])
    t_before = statistics.median(times["sweep (one call per value: before)"])
    print(f"  loop / sweep {t_loop / t_sweep:.1f}x (target >= 8x, sweep <= 10 ms: "
          f"{'met' if t_loop / t_sweep >= 8 and t_sweep <= 0.010 else 'NOT MET'}); "
          f"one call per value / sweep {t_before / t_sweep:.1f}x")
    same = all(np.array_equal(a[k], b[k], equal_nan=True) for a, b in zip(swept, per_call)
               for k in ("lr", "path", "loss", "grad_norm"))
    print(f"  batched results equal to one call per value, bit for bit: {same}; "
          f"re-traces during timing: {engine.TRACES['count'] - traces0}")
    section("8. Where a warm sweep of 64 values goes (each phase timed alone, 5 x 3 calls)")
    from playground.config import resolve
    from playground.sweeps import with_field
    base = resolve(CONFIG)
    runs = [resolve(with_field(CONFIG, base, "optimizer.lr", v)) for v in lrs]
    packed = [(*engine.pack(run), run["steps"]) for run in runs]
    chunks = [engine._batch_args(packed[a:b]) for a, b in engine._chunks([1000] * 64)]
    outs = [engine._run_many(*args) for args in chunks]
    phases = {
        "resolve the 64 configs": lambda: [resolve(with_field(CONFIG, base, "optimizer.lr", v))
                                           for v in lrs],
        "pack the 64 runs (pack_all)": lambda: engine.pack_all(runs),
        "(each packed alone: pack)": lambda: [engine.pack(run) for run in runs],
        f"compiled program ({len(chunks)} calls, to the last result)": lambda: (
            jax.block_until_ready([engine._run_many(*args) for args in chunks])),
        "device -> NumPy + 64 result dicts": lambda: [
            engine._result(np.asarray(t)[at:at + 1000], np.asarray(f)[j], np.asarray(d)[j],
                           1000)
            for (t, f, d), args in zip(outs, chunks)
            for j, at in enumerate(engine._offsets(args))],
    }
    for label, fn in phases.items():
        t = bench(fn, rounds=5, number=3)
        print(f"    {label:52s} {fmt_t(t['median'])}")
    section("9. One CPU per process, as the server pins each worker, against none (children)")
    pinned_against_free(max(1, opts.reps))
    print()
    print(f"load avg at the end: {os.getloadavg()}")
    print(f"Total benchmark time: {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
