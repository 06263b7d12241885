"""bench/load.py's report: requests per second, latencies (all requests, control
changes, page loads; whole run, steady load, per 30-s window), errors, CPU (server, load
generator, the rest of the machine), the workers' memory, locust's own tables, and the
targets as met / not met.

It imports locust (its tables), after bench/load.py has imported gevent and locust.
"""
from __future__ import annotations

import locust.stats

import statistics
from collections import Counter

try:  # imported as bench.load_report, or from bench/ (bench/load.py run as a script)
    from .harness import met, quantile, summary, table
    from .load_template import PAGE_NAMES
    from .load_users import CHANGE_NAMES, PACING_S
except ImportError:
    from harness import met, quantile, summary, table
    from load_template import PAGE_NAMES
    from load_users import CHANGE_NAMES, PACING_S


WINDOW_S = 30.0
TARGET_P95_MS = 250.0
QS = (.5, .95, .99)  # the percentiles per window


def report(args, server, rec, env, runner, cpu_samples, snaps, t_start, t_end,
           workers, workers_after, rss_warm, rss_before, rss_after, hwm, intruders,
           busy_others, irq_s, wcpu) -> None:
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

    print("\nlatency of successful requests (whole run):")
    groups = [("all requests", None), ("control changes", CHANGE_NAMES),
              ("page-load requests", PAGE_NAMES)]
    groups += [(f"  {n}", (n,)) for n in (*CHANGE_NAMES, *PAGE_NAMES)]
    for label, names in groups:
        print(f"  {label:28s} {summary(lat(reqs, names))}")
    pages = [p[1] for p in rec.page_loads if p[2] and p[0] < t_end]
    print(f"  {'whole page load (4 req.)':28s} {summary(pages)}")
    sizes = ", ".join(f"{n} {statistics.median(rec.sizes[n]) / 1024:.1f}"
                      for n in (*PAGE_NAMES, *CHANGE_NAMES) if rec.sizes.get(n))
    print(f"  median response size (kB): {sizes}")
    print("latency in steady load only (after the spawn):")
    for label, names in groups[:3]:
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
        al, ch = lat(rows), lat(rows, CHANGE_NAMES)
        errs = sum(1 for r in rows if r[3] is not None)
        cpu = ["", "", ""]
        if k + 1 < len(snaps):
            s0, s1 = snaps[k], snaps[k + 1]
            wall = s1[0] - s0[0]
            busy, srv, me = s1[1] - s0[1], s1[3] - s0[3], s1[4] - s0[4]
            cpu = [f"{x / wall * 100:.0f}%" for x in (srv, me, max(0.0, busy - srv - me))]
        lines.append([f"{a - t_start:.0f}-{b - t_start:.0f} s", f"{len(rows) / (b - a):.1f}",
                      errs, *(f"{quantile(xs, q):.1f}" for xs in (al, ch) for q in QS), *cpu])
        k += 1
    print(table(lines, ("window", "req/s", "errors", "all: p50", "p95", "p99",
                        "changes: p50", "p95", "p99", "cpu: server", "locust", "rest"),
                ">" * 12))
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
    all_p95 = quantile(lat(reqs), .95)
    ch_p95 = quantile(lat(reqs, CHANGE_NAMES), .95)
    pg_p95 = quantile(lat(reqs, PAGE_NAMES), .95)
    print(f"  no errors:                          {n_err:7d}       {met(n_err == 0)}")
    print(f"  p95 < {TARGET_P95_MS:.0f} ms, all requests:      {all_p95:7.1f} ms    "
          f"{met(all_p95 < TARGET_P95_MS)}")
    print(f"  p95 < {TARGET_P95_MS:.0f} ms, control changes:   {ch_p95:7.1f} ms    "
          f"{met(ch_p95 < TARGET_P95_MS)}")
    print(f"  p95 < {TARGET_P95_MS:.0f} ms, page-load requests:{pg_p95:7.1f} ms    "
          f"{met(pg_p95 < TARGET_P95_MS)}")
    print(f"  (whole run, {args.users} students; control changes: {n_changes})")
