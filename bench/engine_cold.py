"""The cold start of bench/engine.py: fresh interpreters that import the playground and
warm it up, each compiled program timed (trace, lowering, XLA compile or cache load),
without and with a persistent compilation cache, for this checkout and others."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 1000,
          "optimizer": {"name": "adam", "lr": 0.05},
          "schedule": {"name": "CosineAnnealingLR", "T_max": 950},
          "warmup": {"steps": 50, "start_factor": 0.01}}
"""The benchmark's run (the same as bench/engine.py's)."""


def fmt_t(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:8.1f} us"
    if s < 1.0:
        return f"{s * 1e3:8.2f} ms"
    return f"{s:8.2f} s "



# --- cold start ------------------------------------------------------------------------------

def clean_env(x64: bool = False, root: str = ROOT) -> dict:
    """The environment for a cold-start child: no persistent compilation cache from the
    environment, the default dtype unless ``x64``, ``root`` first on the path."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("JAX_COMPILATION_CACHE") or k.startswith("JAX_PERSISTENT_CACHE")
                   or k == "JAX_ENABLE_X64")}
    if x64:
        env["JAX_ENABLE_X64"] = "1"
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


COLD_CHILD = textwrap.dedent("""
    import json, statistics, sys, time
    t0 = time.perf_counter()
    args = json.loads(sys.argv[1])
    sys.path.insert(0, args["root"])
    import jax
    from jax import monitoring
    events, hits = [], []
    monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: events.append((event, duration)))
    monitoring.register_event_listener(
        lambda event, **kw: hits.append(event) if event.endswith("/cache_hits") else None)
    # no disk cache unless asked for one (then as a worker: set before anything compiles)
    jax.config.update("jax_compilation_cache_dir", args["cache_dir"])
    if args["cache_dir"]:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    t_jax = time.perf_counter()
    import playground
    t_pg = time.perf_counter()

    def phase(fn):
        n, h = len(events), len(hits)
        t = time.perf_counter()
        fn()
        wall = time.perf_counter() - t
        sums = {}
        for event, d in events[n:]:
            sums[event] = sums.get(event, 0.0) + d
        return {"wall": wall,
                "trace": sums.get("/jax/core/compile/jaxpr_trace_duration", 0.0),
                "lower": sums.get("/jax/core/compile/jaxpr_to_mlir_module_duration", 0.0),
                "backend": sums.get("/jax/core/compile/backend_compile_duration", 0.0),
                "programs": sum(1 for e, _ in events[n:]
                                if e == "/jax/core/compile/backend_compile_duration"),
                "from_cache": len(hits) - h}

    # what playground.warm_up() does, one entry point at a time
    one = phase(lambda: playground.simulate({}))
    many = phase(lambda: playground.simulate_batch([{}]))
    t_warm = time.perf_counter()
    playground.warm_up()  # already warm: should cost a few milliseconds
    again = time.perf_counter() - t_warm
    config = args["config"]
    r = playground.simulate(config)
    warm = []
    for _ in range(args["warm_rounds"]):
        t = time.perf_counter()
        for _ in range(50):
            playground.simulate(config)
        warm.append((time.perf_counter() - t) / 50)
    native = None
    try:  # loops XLA compiled into one native function each (its small-while-loop pass)
        from playground import engine
        from playground.config import resolve
        run = resolve(config)
        args = engine._batch_args([(*engine.pack(run), run["steps"])])
        text = engine._run_many.lower(*args).compile().as_text()
        native = [text.count('xla_cpu_small_call="true"'), text.count(" while(")]
    except Exception:
        pass
    print(json.dumps({
        "import_jax": t_jax - t0, "import_playground": t_pg - t0, "one": one, "many": many,
        "warm_up": one["wall"] + many["wall"], "warm_up_again": again,
        "warm1000": statistics.median(warm) if warm else None, "native_loops": native,
        "final": r["path"][-1].tolist(), "dtype": str(r["path"].dtype),
        "cache_dir": jax.config.jax_compilation_cache_dir}))
""")


def cold_start(x64: bool = False, root: str = ROOT, cache_dir: str | None = None,
               warm_rounds: int = 0) -> dict:
    """One fresh child: import, warm-up (each entry point timed), then ``CONFIG`` warm."""
    args = {"root": root, "cache_dir": cache_dir, "config": CONFIG, "warm_rounds": warm_rounds}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", COLD_CHILD, json.dumps(args)],
                         env=clean_env(x64, root), cwd=root, capture_output=True, text=True,
                         timeout=600)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError("cold-start child failed:\n" + out.stderr)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall"] = wall
    return res


def cold_starts(roots: list[str], reps: int) -> dict:
    """For each checkout: ``reps`` children with no persistent cache, and ``reps`` pairs
    sharing a fresh cache directory (the first fills it, the second loads). The checkouts'
    children alternate, so a noisy machine weighs on both alike."""
    runs: dict = {root: {"none": [], "fill": [], "load": []} for root in roots}
    for _ in range(reps):
        for root in roots:
            runs[root]["none"].append(cold_start(root=root, warm_rounds=5))
            cache = tempfile.mkdtemp(prefix="playground-bench-cache-")
            try:
                runs[root]["fill"].append(cold_start(root=root, cache_dir=cache))
                runs[root]["load"].append(cold_start(root=root, cache_dir=cache, warm_rounds=5))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    return runs


def _median(results: list[dict], *path):
    values = []
    for r in results:
        for key in path:
            r = r[key] if r is not None else None
        if r is not None:
            values.append(r)
    return statistics.median(values) if values else None


def print_cold(runs: dict, roots: list[str]) -> None:
    names = ["this checkout" if root == ROOT else root for root in roots]
    widths = (40,) + (22,) * len(roots)

    def line(label, cells):
        print("  " + label.ljust(widths[0]) + "".join(str(c).rjust(w)
                                                      for c, w in zip(cells, widths[1:])))

    def t(x):
        return "-" if x is None else fmt_t(x).strip()

    line("", names)
    for mode, title in [("none", "no persistent cache (a new image, or no cache dir)"),
                        ("fill", "persistent cache, empty: this child compiles and writes"),
                        ("load", "persistent cache, filled: this child loads (a restart)")]:
        print(f"  {title}")
        rs = [runs[root][mode] for root in roots]
        line("  import playground (incl. jax)", [t(_median(r, "import_playground")) for r in rs])
        for key, label in [("one", "simulate({}): compiles the one program"),
                           ("many", "simulate_batch([{}]): compiles nothing more")]:
            line(f"  {label}", [t(_median(r, key, "wall")) for r in rs])
            line("    trace + lower + XLA (or cache load)", [
                "{:.2f}+{:.2f}+{:.2f} s".format(_median(r, key, "trace"),
                                                _median(r, key, "lower"),
                                                _median(r, key, "backend")) for r in rs])
            line("    XLA programs / of them from the cache", [
                "{:.0f} / {:.0f}".format(_median(r, key, "programs"),
                                         _median(r, key, "from_cache")) for r in rs])
        line("  warm_up() total (before /health)", [t(_median(r, "warm_up")) for r in rs])
        line("  import + warm_up()", [
            t(_median(r, "import_playground") + _median(r, "warm_up")) for r in rs])
        line("  whole child process (wall)", [t(_median(r, "process_wall")) for r in rs])
        if mode != "fill":
            line("  then simulate(), 1,000 steps, warm", [t(_median(r, "warm1000")) for r in rs])
    native = [runs[root]["none"][0].get("native_loops") for root in roots]
    line("  loops compiled as one native function", [
        "-" if n is None else f"{n[0]} of {n[1]}" for n in native])
    print(f"  (medians of {len(runs[roots[0]]['none'])} children each; cache dirs are fresh "
          "temporary directories; min compile time to cache: 0 s)")
