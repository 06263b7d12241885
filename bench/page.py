"""Benchmark of the page in a real browser: figures, not asserts.

Run from the repository root::

    python bench/page.py [--against OTHER_CHECKOUT]
    python bench/page.py --scrub [--against OTHER_CHECKOUT]

It starts ``python app.py`` on a free port, opens the page in headless Chromium (Selenium,
1920x1080), sets the run to 1,000 steps and prints, for this machine and in one run:

1. the first page load (cold browser cache): navigation start to all three plots drawn,
   and a warm reload;
2. the latency of a learning-rate change (5 warm-up + 60 changes, cycling lr through
   0.05, 0.1, 0.2, 0.15): from the Enter key's ``keypress`` (its ``event.timeStamp``; the
   debounced dcc.Input commits its value on it) to the
   last of the three graphs' ``plotly_afterplot`` events after which that graph holds the
   new data (its trace data differs from before the change); median, p95, min, max, and
   where the time goes (Resource Timing of the ``/_dash-update-component`` request and a
   wrapper around ``Plotly.react``);
3. the bytes per change: request and response bodies of ``/_dash-update-component``
   (Chrome's performance log: ``Network.requestWillBeSent`` post data,
   ``Network.loadingFinished`` encodedDataLength = headers + body on the wire);
4. the server alone: the captured lr-change requests replayed from Python (urllib);
5. a schedule change (dropdown) and a surface change (dropdown; resends the contour),
   10 each, timed from the option's ``click``;
6. the same lr-change measurement on a bare Dash page (one dcc.Input, one callback
   returning three new 1,000-point line figures), started the same way: the floor of what
   Dash + Plotly cost on this machine.

Targets (printed as met / not met, never asserted): lr change median < 70 ms,
p95 < 120 ms, response < 100 KB.

The parts: bench/page_scenarios.py (the two pages and what is done on them),
bench/page_measure.py (how a page load and a change are measured), bench/page_js.py (the
JavaScript that runs in the browser); this file prints the report.
"""
from __future__ import annotations

import os
import platform
import statistics

try:  # run as a script from bench/, or imported as bench.page
    from .harness import Stopwatch, cpu_model, mem_gb, met, table
    from .page_js import GRAPHS
    from .page_measure import CHANGE_TIMEOUT_S, LOAD_FAILURES, make_driver
    from .page_scenarios import (CHANGES, LR_CYCLE, REPS, STEPS, WARMUP_CHANGES, bench_bare,
                                 bench_playground)
    from .page_scrub import bench_scrub
    from .page_scrub import report as report_scrub
except ImportError:
    from harness import Stopwatch, cpu_model, mem_gb, met, table
    from page_js import GRAPHS
    from page_measure import CHANGE_TIMEOUT_S, LOAD_FAILURES, make_driver
    from page_scenarios import (CHANGES, LR_CYCLE, REPS, STEPS, WARMUP_CHANGES, bench_bare,
                                bench_playground)
    from page_scrub import bench_scrub
    from page_scrub import report as report_scrub


TARGET_MEDIAN_MS = 70.0
TARGET_P95_MS = 120.0
TARGET_RESPONSE_KB = 100.0


# --- report -------------------------------------------------------------------------------

def kb(x) -> str:
    return f"{x / 1000:.1f} kB" if x == x else "—"


def ms(x) -> str:
    return f"{x:.1f}" if x == x else "—"


def latency_row(name: str, s: dict, extra: str = "") -> tuple:
    lat = s["latency"]
    return (name, lat["n"], *(ms(lat[k]) for k in ("median", "p95", "min", "max")), extra)


def report(pg: dict, bare: dict, load_start, load_end, wall_s: float, versions: dict,
           other: dict | None = None):
    print()
    print("Timings are in the browser (performance.now()): from the change's input event")
    print("(keypress Enter / the option's click) to the last plotly_afterplot after")
    print("which all three graphs hold the new data. p95: linear interpolation.")
    print()
    print("Page load (navigation start -> all three plots drawn)")
    print("-----------------------------------------------------")
    c = pg["load_cold"]
    print(f"  playground, first load (cold cache)  {c['all']:7.0f} ms   (DOMContentLoaded "
          f"{c['dcl']:.0f} ms, load {c['load']:.0f} ms; {c['resources']} resources, "
          f"{c['transfer'] / 1e6:.2f} MB transferred)")
    print(f"    layout request {kb(c['layout_bytes'])}, page content via "
          f"{c['updates']} callback(s) {kb(c['update_bytes'])} "
          f"(last response at {c['update_end'] or float('nan'):.0f} ms)")
    warm = [w["all"] for w in pg["load_warm"]]
    print(f"  playground, reload (warm cache)      {statistics.median(warm):7.0f} ms   "
          f"(median of {len(warm)}: {', '.join(f'{w:.0f}' for w in warm)})")
    print(f"  playground, 1,000-step link (warm)   {pg['load_1000']['all']:7.0f} ms   "
          f"(page content {kb(pg['load_1000']['update_bytes'])})")
    b = bare["load_cold"]
    print(f"  bare Dash page, first load           {b['all']:7.0f} ms   (plotly.js etc. "
          f"already cached by the playground run)")
    for failure in LOAD_FAILURES:
        print(f"  !! a page load failed and was retried: {failure[:400]}")
    print(f"  server start to ready: app.py {pg['server_ready_s']:.1f} s "
          f"({pg['server_kind']}), bare app {bare['server_ready_s']:.1f} s "
          f"({bare['server_kind']})")

    print()
    print("Control change -> three plots redrawn (ms)")
    print("------------------------------------------")
    lr = pg["lr"]
    rows = [latency_row(f"playground: lr change ({STEPS} steps)", lr,
                        f"median {met(lr['latency']['median'] < TARGET_MEDIAN_MS)} "
                        f"(< {TARGET_MEDIAN_MS:.0f}), p95 "
                        f"{met(lr['latency']['p95'] < TARGET_P95_MS)} (< {TARGET_P95_MS:.0f})"),
            latency_row("playground: schedule change", pg["schedule"]),
            latency_row("playground: surface change", pg["surface"]),
            latency_row("bare Dash: 3 x 1,000-point figures", bare["lr"])]
    if other:
        rows += [latency_row(f"--against checkout: {kind} change", other[kind])
                 for kind in ("lr", "schedule", "surface")]
    print(table(rows, ("", "n", "median", "p95", "min", "max", ""), "<>>>>><"))
    for name, s in (("playground lr", lr), ("schedule", pg["schedule"]),
                    ("surface", pg["surface"]), ("bare Dash", bare["lr"])):
        if s["timeouts"] or s["warmup_timeouts"]:
            print(f"  !! {name}: {s['timeouts']} timed and {s['warmup_timeouts']} warm-up "
                  f"change(s) did not redraw within {CHANGE_TIMEOUT_S} s (left out above)")
    print(f"  (to the next frame after the last afterplot, medians: playground lr "
          f"{ms(lr['paint']['median'])}, bare {ms(bare['lr']['paint']['median'])})")

    print()
    print("Where the time goes (medians per change, ms)")
    print("--------------------------------------------")
    rows = [("input event -> request sent (dash-renderer)", "to_request"),
            ("request sent -> first response byte (server)", "server"),
            ("response download", "download"),
            ("response end -> first Plotly.react (renderer)", "dash"),
            ("first Plotly.react -> last afterplot (Plotly)", "plotly"),
            ("  of which inside Plotly.react calls (sync)", "plotly_sync"),
            *((f"    Plotly.react({g})", f"react:{g}") for g in GRAPHS)]
    cols = [("lr", lr), ("schedule", pg["schedule"]), ("surface", pg["surface"]),
            ("bare", bare["lr"])]
    if other:
        cols += [("vs:lr", other["lr"]), ("vs:surface", other["surface"])]
    body = [(title, *(ms(s["parts"].get(key, float("nan"))) for _, s in cols))
            for title, key in rows]
    body.append(("callback requests per change",
                 *(f"{s['requests_per_change']['median']:.0f}" for _, s in cols)))
    body.append(("server TTFB from Chrome (Network timing)",
                 *(ms(s["ttfb_cdp"]["median"]) for _, s in cols)))
    replays = [pg["replay"], {"median": float('nan')}, pg["replay_surface"], bare["replay"]]
    if other:
        replays += [other["replay"], other["replay_surface"]]
    body.append(("server alone, replayed from Python", *(ms(r["median"]) for r in replays)))
    print(table(body, ("", *(n for n, _ in cols))))
    st = sorted(set(lr["server_timing"]) | set(bare["lr"]["server_timing"]))
    print(f"  Server-Timing headers: {', '.join(st) if st else 'none sent'}; response "
          f"encoding: {', '.join(lr['encodings'])}")

    print()
    print("Bytes per change (/_dash-update-component)")
    print("------------------------------------------")
    rows = [(name, *(f"{kb(s[k]['median'])} / {kb(s[k]['max'])}"
                     for k in ("response_body", "response_wire", "request_body")))
            for name, s in (("playground: lr change", lr),
                            ("playground: schedule change", pg["schedule"]),
                            ("playground: surface change", pg["surface"]),
                            ("bare Dash", bare["lr"]))]
    print(table(rows, ("", "response body", "on the wire", "request body")))
    print("  (each: median / max)")
    resp = lr["response_wire"]
    print(f"  target: lr-change response < {TARGET_RESPONSE_KB:.0f} KB: "
          f"{met(resp['max'] < TARGET_RESPONSE_KB * 1000)} (max {kb(resp['max'])})")

    print()
    print("Machine")
    print("-------")
    print(f"  cpu       : {os.cpu_count()} logical cores, {cpu_model()}, memory {mem_gb()}")
    print(f"  os        : {platform.platform()}")
    print(f"  load avg  : {' '.join(f'{x:.2f}' for x in load_start)} at start, "
          f"{' '.join(f'{x:.2f}' for x in load_end)} at end (1, 5, 15 min)")
    print(f"  versions  : python {platform.python_version()}, "
          + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"  wall time : {wall_s:.0f} s")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="DIR",
                        help="also measure the page served from another checkout (e.g. "
                             "`git worktree add /tmp/base HEAD~1`), in the same run, for "
                             "before/after ratios on a noisy machine")
    parser.add_argument("--scrub", action="store_true",
                        help="measure only scrubbing sliders (lr, momentum, steps: "
                             "bench/page_scrub.py): frames per second, settle time, bytes "
                             "per grab")
    args = parser.parse_args()
    if args.scrub:
        scrub_main(args.against)
        return
    took = Stopwatch()
    load_start = os.getloadavg()
    import dash
    import plotly
    import selenium

    print("Optimization Playground: page benchmark (headless Chromium)")
    print("=" * 59)
    print(f"{STEPS}-step runs; lr changes cycle {', '.join(LR_CYCLE)}; "
          f"{WARMUP_CHANGES} warm-up + {CHANGES} timed changes; {REPS} schedule and "
          f"{REPS} surface changes (after 1 warm-up each).", flush=True)
    driver = make_driver()
    try:
        versions = {"chromium": driver.capabilities.get("browserVersion", "?"),
                    "dash": dash.__version__, "plotly": plotly.__version__,
                    "selenium": selenium.__version__}
        pg = bench_playground(driver)
        other = None
        if args.against:
            print(f"  playground measured; now the one in {args.against} ...", flush=True)
            other = bench_playground(driver, os.path.abspath(args.against))
        print("  playground measured; now the bare Dash page ...", flush=True)
        bare = bench_bare(driver)
    finally:
        driver.quit()
    report(pg, bare, load_start, os.getloadavg(), took.s, versions, other)


def scrub_main(against: str | None) -> None:
    print("Optimization Playground: scrubbing benchmark (headless Chromium, 1920x1080)")
    print("=" * 75, flush=True)
    load_start = os.getloadavg()
    driver = make_driver()
    try:
        results = {"this checkout": bench_scrub(driver)}
        if against:
            results["--against"] = bench_scrub(driver, os.path.abspath(against))
    finally:
        driver.quit()
    report_scrub(results)
    print(f"  load avg {' '.join(f'{x:.2f}' for x in load_start)} at start, "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at end; "
          f"{os.cpu_count()} cores, {cpu_model()}")


if __name__ == "__main__":
    main()
