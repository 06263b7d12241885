"""bench/load.py's report of a phase: requests per second, latencies (all requests,
plain control changes, scrub grabs, page loads; whole run, steady load, per 30-s window),
errors, CPU (server, load generator, the rest of the machine; the workers' CPU per plain
change and per grab in steady load), the workers' memory, locust's own tables, and the
targets as met / not met; and :func:`cpu_split`, the server CPU per plain change and per
sweep from a plain phase and a scrub phase.

It imports locust (its tables), after bench/load.py has imported gevent and locust.
"""
from __future__ import annotations

import locust.stats

import statistics
from collections import Counter

try:  # imported as bench.load_report, or from bench/ (bench/load.py run as a script)
    from .harness import met, quantile, summary, table
    from .load_template import PAGE_NAMES
    from .load_users import CHANGE_NAMES, GRAB, PACING_S
except ImportError:
    from harness import met, quantile, summary, table
    from load_template import PAGE_NAMES
    from load_users import CHANGE_NAMES, GRAB, PACING_S


WINDOW_S = 30.0
TARGET_P95_MS = 250.0
QS = (.5, .95, .99)  # the percentiles per window


def report(args, server, rec, env, runner, cpu_samples, snaps, t_start, t_end,
           workers, workers_after, rss_warm, rss_before, rss_after, hwm, intruders,
           busy_others, irq_s, wcpu, steady_cpu) -> dict:
    """Print the phase's report; its figures for :func:`cpu_split`."""
    spawned_at = t_start + args.spawn_seconds
    reqs = [r for r in rec.requests if r[0] < t_end]
    dur = t_end - t_start

    def lat(rows, names=None, ok_only=True):
        return [r[2] for r in rows if (names is None or r[1] in names)
                and (r[3] is None or not ok_only)]

    print("\n=== Results ===")
    if intruders:
        print("WARNING: another benchmark ran during the load (the figures share the cores "
              "with it): " + "; ".join(sorted(intruders)))
    steady = [r for r in reqs if r[0] >= spawned_at]
    n_changes = sum(1 for r in reqs if r[1] in CHANGE_NAMES)
    n_changes_steady = sum(1 for r in steady if r[1] in CHANGE_NAMES)
    print(f"duration {dur:.0f} s ({args.spawn_seconds:.0f} s spawn + {args.duration:.0f} s "
          f"steady); requests {len(reqs)}")
    print(f"requests per second: {len(reqs) / dur:.1f} over the whole run; "
          f"{len(steady) / (t_end - spawned_at):.1f} in steady load, of which control "
          f"changes {n_changes_steady / (t_end - spawned_at):.1f}/s "
          f"(offered {args.users / PACING_S:.0f}/s)")
    print(f"control changes that computed a new run: {rec.computed} "
          f"(answered with a field message instead: {rec.not_computed})")
    if rec.scrubbers:
        n_grabs = sum(1 for r in reqs if r[1] == GRAB)
        n_frames = sum(1 for r in reqs if r[1] == GRAB and r[3] is None)
        print(f"scrubbing students: {rec.scrubbers}; grabs {n_grabs} (answered with frames: "
              f"{n_frames}), {n_grabs / dur:.1f}/s over the whole run")

    print("\nlatency of successful requests (whole run):")
    groups = [("all requests", None), ("plain control changes", CHANGE_NAMES),
              ("scrub grabs (one sweep each)", (GRAB,)), ("page-load requests", PAGE_NAMES)]
    groups += [(f"  {n}", (n,)) for n in (*CHANGE_NAMES, *PAGE_NAMES)]
    for label, names in groups:
        print(f"  {label:28s} {summary(lat(reqs, names))}")
    pages = [p[1] for p in rec.page_loads if p[2] and p[0] < t_end]
    print(f"  {'whole page load (4 req.)':28s} {summary(pages)}")
    sizes = ", ".join(f"{n} {statistics.median(rec.sizes[n]) / 1024:.1f}"
                      for n in (*PAGE_NAMES, *CHANGE_NAMES, GRAB) if rec.sizes.get(n))
    print(f"  median response size (kB): {sizes}")
    print("latency in steady load only (after the spawn):")
    for label, names in groups[:4]:
        print(f"  {label:28s} {summary(lat(steady, names))}")
    starts = [r[0] for r in steady if r[1] in CHANGE_NAMES]
    if starts:
        per_slot = Counter(int(t * 10) for t in starts)  # 100-ms slots
        print(f"arrivals of control changes in steady load: "
              f"{len(starts) / max(1, len(per_slot)):.1f} per busy 100 ms on average, "
              f"{max(per_slot.values())} in the busiest 100 ms")

    errors: dict[tuple[str, str], int] = {}
    for r in reqs:
        if r[3] is not None:
            errors[(r[1], r[3])] = errors.get((r[1], r[3]), 0) + 1
    n_err = sum(errors.values())
    print(f"\nerrors: {n_err}" + ("" if n_err else " (none)"))
    for (name, kind), n in sorted(errors.items(), key=lambda kv: -kv[1]):
        print(f"  {n:6d}  {name}: {kind}")

    print(f"\nper {WINDOW_S:.0f}-s window (from the first spawn; the spawn ends at "
          f"{args.spawn_seconds:.0f} s):")
    lines = []
    k = 0
    while t_start + k * WINDOW_S < t_end:
        a, b = t_start + k * WINDOW_S, min(t_end, t_start + (k + 1) * WINDOW_S)
        rows = [r for r in reqs if a <= r[0] < b]
        al, ch, gr = lat(rows), lat(rows, CHANGE_NAMES), lat(rows, (GRAB,))
        errs = sum(1 for r in rows if r[3] is not None)
        cpu = ["", "", ""]
        if k + 1 < len(snaps):
            s0, s1 = snaps[k], snaps[k + 1]
            wall = s1[0] - s0[0]
            busy, srv, me = s1[1] - s0[1], s1[3] - s0[3], s1[4] - s0[4]
            cpu = [f"{x / wall * 100:.0f}%" for x in (srv, me, max(0.0, busy - srv - me))]
        lines.append([f"{a - t_start:.0f}-{b - t_start:.0f} s", f"{len(rows) / (b - a):.1f}",
                      errs, *(f"{quantile(xs, q):.1f}" for xs in (al, ch) for q in QS),
                      f"{quantile(gr, .95):.1f}", *cpu])
        k += 1
    print(table(lines, ("window", "req/s", "errors", "all: p50", "p95", "p99",
                        "changes: p50", "p95", "p99", "grabs: p95", "cpu: server", "locust",
                        "rest"), ">" * 13))
    print("  (cpu: % of one core, averaged over the window; 200% = both cores; rest = the "
          "rest of the machine)")

    s0, s1 = snaps[0], snaps[-1]
    wall = s1[0] - s0[0]
    busy, total = s1[1] - s0[1], s1[2] - s0[2]
    srv, me = s1[3] - s0[3], s1[4] - s0[4]
    ncpu = total / wall if wall else float("nan")
    print(f"\nCPU over the run ({wall:.0f} s, {ncpu:.1f} cores): machine busy "
          f"{busy / total * 100:.0f}%; gunicorn (master + workers) {srv / wall * 100:.0f}% "
          f"of a core, load generator (this process) {me / wall * 100:.0f}% of a core, "
          f"the rest of the machine {max(0.0, busy - srv - me) / wall * 100:.0f}% of a core (of "
          f"which kernel irq/softirq {irq_s / wall * 100:.0f}%)")
    print(f"server CPU per request: {srv / max(1, len(reqs)) * 1000:.1f} ms (all requests; "
          f"{len(reqs)} in {wall:.0f} s)")
    figures = steady_figures(reqs, steady_cpu, spawned_at)
    if figures:
        print(f"workers' CPU in steady load ({figures['seconds']:.0f} s from "
              f"{figures['from_s']:.0f} s after the spawn): {figures['cpu_s']:.1f} s = "
              f"{figures['cpu_s'] / figures['seconds'] * 100:.0f}% of a core, for "
              f"{figures['changes']} plain changes and {figures['grabs']} grabs "
              f"(+ {figures['other']} other requests): "
              f"{figures['cpu_s'] / max(1, figures['changes'] + figures['grabs']) * 1000:.1f} "
              f"ms per change or grab")
        if figures["workers_changed"]:
            print("  (a worker restarted meanwhile: its CPU counts through the master's "
                  "cutime/cstime, and its warm-up with it)")
    if busy_others:
        print("other processes that used >= 2% of a core during the load:")
        for c, cmd in busy_others:
            print(f"  {c / wall * 100:5.0f}%  {cmd[:100]}")
    samples = ", ".join(f"{c:.0f}" for c in cpu_samples)
    print(f"locust's own CPU monitor (every 10 s, % of a core; its first sample is always 0):"
          f" {samples or 'no samples'}; "
          f"CPU warning (> 90%) emitted: {'YES' if runner.cpu_warning_emitted else 'no'}")

    print("\nworkers: memory (RSS, MB) and CPU:")
    def mb(v):
        return f"{v / 1024:.1f}" if v is not None else "gone"
    print(table([(p, mb(rss_warm.get(p)), mb(rss_before.get(p)), mb(rss_after.get(p)),
                   mb(hwm.get(p)), f"{wcpu[p] * 100:.0f}% of a core") for p in workers],
                ("pid", "warm", "before", "after", "peak", "CPU during the load"), ">>>>><"))
    print("  (warm: right after /health 200; before: just before the load, after the browser "
          "capture; peak: VmHWM)")
    if sorted(workers_after) != sorted(workers):
        print(f"  workers changed during the run: {workers} -> {workers_after} "
              "(a worker restarted)")
    log_text = server.text()
    for marker in ("WORKER TIMEOUT", "Traceback", "Booting worker"):
        n = log_text.count(marker)
        if marker != "Booting worker" or n != len(workers):
            print(f"  server log: {n} x {marker!r}")

    print("\n=== locust's tables (its percentiles are rounded to its buckets) ===")
    locust.stats.print_stats(env.stats, current=False)
    locust.stats.print_percentile_stats(env.stats)
    locust.stats.print_error_report(env.stats)

    print("=== Targets ===")
    ch = lat(reqs, CHANGE_NAMES)
    ch_p95 = quantile(ch, .95)
    pg_p95 = quantile(lat(reqs, PAGE_NAMES), .95)
    print(f"  no errors:                                {n_err:7d}       {met(n_err == 0)}")
    print(f"  p95 <= {TARGET_P95_MS:.0f} ms, plain control changes: {ch_p95:7.1f} ms    "
          f"{met(ch_p95 <= TARGET_P95_MS)}")
    print(f"  (not a target) p95, page-load requests:   {pg_p95:7.1f} ms")
    grabs = lat(reqs, (GRAB,))
    if grabs:
        print(f"  (not a target) scrub grabs: p50 {quantile(grabs, .5):.1f}, p95 "
              f"{quantile(grabs, .95):.1f}, p99 {quantile(grabs, .99):.1f} ms")
    print(f"  (whole run, {args.users} students; plain control changes: {n_changes}, "
          f"scrub grabs: {len(grabs)})")
    return {**(figures or {}), "errors": n_err, "changes_all": n_changes,
            "plain": [quantile(ch, q) for q in QS], "grab": [quantile(grabs, q) for q in QS],
            "target": n_err == 0 and ch_p95 <= TARGET_P95_MS}


def steady_figures(reqs, steady_cpu: dict, spawned_at: float) -> dict | None:
    """The workers' CPU seconds in steady load and the requests started meanwhile."""
    if "start" not in steady_cpu or "end" not in steady_cpu:
        return None
    (t0, c0, w0), (t1, c1, w1) = steady_cpu["start"], steady_cpu["end"]
    rows = [r for r in reqs if t0 <= r[0] < t1]
    changes = sum(1 for r in rows if r[1] in CHANGE_NAMES)
    grabs = sum(1 for r in rows if r[1] == GRAB)
    return {"seconds": t1 - t0, "from_s": t0 - spawned_at, "cpu_s": c1 - c0,
            "changes": changes, "grabs": grabs, "other": len(rows) - changes - grabs,
            "workers_changed": w0 != w1}


def cpu_split(results: dict[str, dict], args) -> None:
    """The server CPU per plain change (the plain phase: CPU / changes) and per sweep (a
    scrub phase: (CPU - its plain changes x the plain phase's CPU per change) / grabs),
    and every phase's targets side by side."""
    print(f"\n{'=' * 90}\n=== Phases side by side (steady load; {args.users} students, one "
          f"change each every {PACING_S:.0f} s) ===")
    rows = []
    for phase, f in results.items():
        rows.append([phase, f.get("load_average", "?").split(" (")[0], f["errors"],
                     *(f"{x:.1f}" for x in f["plain"]), *(f"{x:.1f}" for x in f["grab"]),
                     f.get("changes", "?"), f.get("grabs", "?"),
                     f"{f['cpu_s']:.1f}" if "cpu_s" in f else "?",
                     "met" if f["target"] else "NOT MET"])
    print(table(rows, ("phase", "load avg after", "errors", "plain: p50", "p95", "p99",
                       "grabs: p50", "p95", "p99", "changes", "grabs", "worker CPU s",
                       "targets"), "<<" + ">" * 10 + "<"))
    print("  (latencies in ms over the whole phase; changes, grabs and CPU over the steady "
          "part; targets: 0 errors and plain-change p95 <= 250 ms)")
    for phase, f in results.items():
        print(f"server CPU per request, one at a time, before phase {phase!r}: " + ", ".join(
            f"{k} {v:.1f} ms" for k, v in f.get("serial", {}).items()))
    plain = results.get("plain")
    if not plain or "cpu_s" not in plain or not plain["changes"]:
        print("server CPU per plain change: needs a 'plain' phase (--phases plain,scrub)")
        return
    per_change = plain["cpu_s"] / plain["changes"]
    print(f"server CPU per plain change (phase 'plain'): {per_change * 1000:.2f} ms "
          f"({plain['cpu_s']:.1f} s / {plain['changes']} changes)")
    print("  (the split below assumes a change costs the same in both phases: on a busy "
          "machine it does not, and the one-at-a-time figures above are the steadier)")
    for phase, f in results.items():
        if phase == "plain" or not f.get("grabs"):
            continue
        sweep = (f["cpu_s"] - f["changes"] * per_change) / f["grabs"]
        noise = "; below this split's noise" if sweep <= 0 else ""
        print(f"server CPU per sweep (phase {phase!r}): {sweep * 1000:.1f} ms{noise} "
              f"(({f['cpu_s']:.1f} s - {f['changes']} plain changes x "
              f"{per_change * 1000:.2f} ms) / {f['grabs']} grabs)")
