"""bench/engine.py, section 9: the warm run in a process kept to one CPU, as the server's
gunicorn settings keep each worker (playground/web/gunicorn_conf.py, ``PIN_WORKERS``),
against one left to the kernel, in fresh children that alternate in one sitting.

Each child sets its affinity before it imports JAX (XLA's thread pool inherits it), warms
the engine from a shared persistent cache (the first child fills it) and times, in
process CPU and wall time: ``simulate`` of the section-2 run, the same run as the NumPy
loop of section 3 and a sweep of 64 lrs of it (section 7).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

from engine_cold import ROOT, clean_env

CHILD = textwrap.dedent("""
    import json, os, statistics, sys, time
    args = json.loads(sys.argv[1])
    if args["cpu"] is not None:
        os.sched_setaffinity(0, {args["cpu"]})
    sys.path[:0] = [args["root"], args["bench"]]
    import jax
    jax.config.update("jax_compilation_cache_dir", args["cache"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    import playground
    from playground import engine, sweeps
    from engine_cold import CONFIG
    import numpy
    import engine as bench_engine  # (bench/engine.py: its NumPy loop reads a global np)
    bench_engine.np = numpy
    numpy_run = bench_engine.numpy_run
    engine.warm_up()
    lrs = sweeps.log_range(1e-4, 1, 64)

    def timed(fn, rounds, number):
        fn()
        wall, cpu = [], []
        for _ in range(rounds):
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(number):
                fn()
            wall.append((time.perf_counter() - t0) / number)
            cpu.append((time.process_time() - c0) / number)
        return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}

    print(json.dumps({
        "simulate": timed(lambda: playground.simulate(CONFIG), 7, 100),
        "numpy": timed(numpy_run, 5, 3),
        "sweep": timed(lambda: playground.sweep(CONFIG, "optimizer.lr", lrs), 5, 3)}))
""")


def _child(cpu: int | None, cache: str) -> dict:
    args = {"cpu": cpu, "root": ROOT, "bench": os.path.join(ROOT, "bench"), "cache": cache}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], env=clean_env(),
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def pinned_against_free(reps: int) -> None:
    """Print section 9: medians over ``reps`` children of each kind, alternating."""
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if cpu is None:
        print("  (no sched_setaffinity on this platform: skipped)")
        return
    runs: dict = {"free": [], "pinned": []}
    with tempfile.TemporaryDirectory(prefix="playground-bench-cache-") as cache:
        for _ in range(reps):
            runs["free"].append(_child(None, cache))
            runs["pinned"].append(_child(cpu, cache))

    def med(kind, what, clock):
        return statistics.median(r[what][clock] for r in runs[kind])

    print(f"  medians of {reps} child(ren) each, alternating; pinned: to CPU {cpu}")
    print(f"  {'':34s} {'free wall':>10s} {'pinned wall':>12s} {'free CPU':>10s} "
          f"{'pinned CPU':>11s}")
    for what, label, unit in (("simulate", "simulate(), 1,000 steps", 1e6),
                              ("sweep", "sweep of 64 lrs", 1e3),
                              ("numpy", "NumPy loop", 1e3)):
        cells = [med(k, what, c) * unit for c in ("wall", "cpu") for k in ("free", "pinned")]
        u = "us" if unit == 1e6 else "ms"
        print(f"  {label:34s} " + " ".join(
            f"{v:8.1f} {u}".rjust(w) for v, w in zip(cells, (10, 12, 10, 11))))
    for kind in ("free", "pinned"):
        print(f"  NumPy / playground ({kind}): "
              f"{med(kind, 'numpy', 'wall') / med(kind, 'simulate', 'wall'):.0f}x (target >= 50x)"
              f"; loop of simulate / sweep: "
              f"{64 * med(kind, 'simulate', 'wall') / med(kind, 'sweep', 'wall'):.1f}x")
    print("  pinned / free, wall: simulate "
          f"{med('pinned', 'simulate', 'wall') / med('free', 'simulate', 'wall'):.2f}, sweep "
          f"{med('pinned', 'sweep', 'wall') / med('free', 'sweep', 'wall'):.2f}; CPU: simulate "
          f"{med('pinned', 'simulate', 'cpu') / med('free', 'simulate', 'cpu'):.2f}, sweep "
          f"{med('pinned', 'sweep', 'cpu') / med('free', 'sweep', 'cpu'):.2f}")
