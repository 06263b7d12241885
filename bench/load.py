"""Load benchmark of the production server: figures, not asserts.

Run from the repository root, with locust installed in its own virtualenv (so the app's
flask/werkzeug stay as they are; the system packages stay visible to it)::

    python3 -m venv /tmp/loadvenv --system-site-packages
    /tmp/loadvenv/bin/pip install -r bench/requirements.txt
    /tmp/loadvenv/bin/python bench/load.py

What it does, on this machine, in one run (everything on 127.0.0.1, bounded in time): one
or more phases (``--phases``, default ``plain,scrub``), each a load on a freshly started
server:

- ``plain``: every student makes plain control changes;
- ``scrub``: one student in ten (``--scrub-share``) scrubs instead: on each of its turns
  it grabs the lr slider (the grab's request: one sweep over the slider's positions, at
  most playground/web/scrub.py's STEP_BUDGET steps, its answer 60-230 kB of JSON) and,
  after a drag of 0.3-1.5 s that the server never sees, lets go (the release's lr
  change, a plain change). Each release also sets a random number of steps (100-1000;
  now and then a random schedule), so that the next grab sweeps a run nobody else asked
  for: the server's cache of 32 runs' sweeps per worker
  does not flatter the figures (the release's answer brings the page's new query, which
  the next grab sends, as the page's page-query store does);
- ``scrub-shared``: the same, but every grab sweeps the page's default run (the release
  changes only the lr): after each worker's first, the sweeps come from the cache.

Each phase:

1. waits (polling every 15 s, up to 15 min) while another benchmark (bench/page.py,
   bench/engine.py) runs: they share the cores (again just before the load; one that
   starts during the load is named in the results);
2. starts the exact production command, ``gunicorn -c python:playground.web.gunicorn_conf
   playground.web.server:server`` from the repository root with HOST=127.0.0.1 and a free
   PORT (the worker count is the gunicorn settings' default, one per CPU; ``--server-env
   NAME=VALUE`` adds to its environment), with the ``gunicorn`` next to this interpreter
   (or to the one it was made from, or on PATH; ``--gunicorn PATH`` to choose), and waits
   until /health answers 200 and every worker has logged its engine warm-up;
3. (first phase only) captures the requests a real browser makes (headless Chromium
   through Selenium, Chrome's performance log): the page's bootstrap (GET /,
   /_dash-layout, /_dash-dependencies and the Dash-pages POST /_dash-update-component
   that renders ``layout()``), the POST /_dash-update-component sent when the lr input
   (``#lr``) changes (send_keys + Enter), and a scrub of the lr slider (Chrome DevTools
   mouse events on its handle: press, 40 moves, release): the grab's POST (output
   ``scrub-data.data``) and the release's (changedPropIds ``lr-slider.value``); the
   browser is driven from a child process with the app's interpreter (selenium lives
   there, with the urllib3 1.26 it needs); saved as a JSON template (``--template FILE``
   reuses a saved one, no browser);
4. records each worker's RSS (children of the gunicorn master, from /proc), and the
   workers' CPU per request with one request at a time: 60 plain lr changes, 20 grabs of
   runs not swept before (a sweep each), 20 grabs of one cached run;
5. replays classroom traffic with locust (as a library, headless): 300 students spawned
   over 20 s, each waiting a random part of 2 s (students do not click in step), loading
   the page once (the bootstrap above) and then taking one turn every 2 s on its own grid
   (not locust's ``constant_pacing``, which bunched all users into one or two bursts per
   period here; the report prints the busiest 100 ms): a plain student sends the captured
   lr-change POST with a fresh lr (log-uniform, 3 significant digits), and now and then a
   steps or schedule change, so every request computes a new run; a scrubbing student
   grabs and lets go as above; a response counts as a success only with status 200 and
   (for the Dash requests) a JSON body, with a "response" key for the callbacks, and
   frames in a grab's answer;
6. after the spawn plus 2 minutes of steady load, stops the users (``runner.quit()``) and
   prints: requests per second, latency median / p95 / p99 (all requests, plain control
   changes, scrub grabs, page-load requests, whole page loads), errors by kind, each
   worker's RSS before and after, CPU use of the server, the load generator and the rest
   of the machine, the workers' CPU seconds in steady load (from 2 s after the spawn; from
   /proc, with the master's cutime/cstime for a worker that restarted), the same
   latencies per 30-s window (drift), locust's own tables, and the targets (no errors,
   plain-change p95 <= 250 ms) as met / not met;
7. stops the server (SIGINT to the master, then SIGKILL to what is left, by pid), also on
   an error or Ctrl-C; a hard timeout ends the whole run if anything hangs.

Then the phases side by side, and the server CPU per plain change (the plain phase's
workers' CPU / its changes) and per sweep (a scrub phase's workers' CPU, less its plain
changes at the plain phase's cost, / its grabs).

The load generator runs on the same two cores as the server: its CPU use is printed next
to the server's (and locust logs a warning when its own process goes over 90 % of a core).

The parts: bench/load_capture.py (the browser capture, the child process of step 3),
bench/load_template.py (the student's requests made from it), bench/load_users.py (the
simulated student, locust's user, and the recorder), bench/load_report.py (step 6's
report); this file waits for other benchmarks, starts the server, runs the load and stops
it.
"""
from __future__ import annotations

import sys

# ``load.py --capture-child URL FILE`` is the browser capture, run in a child process with
# the app's interpreter (where selenium lives, with the urllib3 it needs): no locust there.
CAPTURE_CHILD = __name__ == "__main__" and sys.argv[1:2] == ["--capture-child"]
if not CAPTURE_CHILD:
    try:  # locust monkey-patches the standard library with gevent: import it first
        import gevent
        import locust.stats
        from locust import FastHttpUser, HttpUser
        from locust.env import Environment
        from locust.log import setup_logging
    except ImportError:
        sys.exit("bench/load.py needs locust: pip install -r bench/requirements.txt "
                 "(in a separate virtualenv, see this file's docstring)")

import argparse
import json
import logging
import os
import platform
import random
import signal
import subprocess
import tempfile
import time

try:  # run as a script from bench/, or imported as bench.load
    from .harness import (ROOT, Server, Stopwatch, all_processes_cpu, app_python,
                          TICK, cpu_seconds, kernel_irq_cpu, machine_cpu,
                          production_command, status_kb)
    from .load_capture import capture
    from .load_template import Template, dropdown_values, serial_cpu
except ImportError:
    from harness import (ROOT, Server, Stopwatch, all_processes_cpu, app_python,
                         TICK, cpu_seconds, kernel_irq_cpu, machine_cpu,
                         production_command, status_kb)
    from load_capture import capture
    from load_template import Template, dropdown_values, serial_cpu
if not CAPTURE_CHILD:  # these import locust (not in the capture child's interpreter)
    try:
        from .load_report import WINDOW_S, cpu_split, report
        from .load_users import DRAG_S, PACING_S, Recorder, make_user
    except ImportError:
        from load_report import WINDOW_S, cpu_split, report
        from load_users import DRAG_S, PACING_S, Recorder, make_user


USERS = 300
SPAWN_S = 20.0
STEADY_S = 120.0
SERVER_READY_S = 180.0
OTHER_BENCH = "bench/page.py|bench/engine.py"
OTHER_BENCH_POLL_S = 15.0
OTHER_BENCH_MAX_WAIT_S = 15 * 60.0
HARD_TIMEOUT_SLACK_S = 300.0  # on top of server start + capture + spawn + steady load
SCRUB_SHARE = 0.1

log = logging.getLogger("bench.load")


# --- other benchmarks on the same cores ------------------------------------------------

def other_benchmarks() -> list[str]:
    out = subprocess.run(["pgrep", "-af", OTHER_BENCH], capture_output=True, text=True,
                         check=False).stdout
    me = {str(os.getpid())}
    return [line for line in out.splitlines() if line.split(" ", 1)[0] not in me]


def wait_for_other_benchmarks(no_wait: bool) -> str:
    others = other_benchmarks()
    if not others:
        return "none running"
    if no_wait:
        return "running (not waited for: --no-wait): " + "; ".join(others)
    t0 = time.time()
    while others and time.time() - t0 < OTHER_BENCH_MAX_WAIT_S:
        print(f"waiting for another benchmark to finish: {others[0]}", flush=True)
        time.sleep(OTHER_BENCH_POLL_S)
        others = other_benchmarks()
    waited = time.time() - t0
    if others:
        return f"STILL RUNNING after {waited:.0f} s of waiting: " + "; ".join(others)
    return f"none running (waited {waited:.0f} s for one to finish)"


# --- main -------------------------------------------------------------------------------------

PHASES = {"plain": "no scrubbers: every student makes plain changes",
          "scrub": "one student in 1/SHARE scrubs, each grab a run of its own (cache misses)",
          "scrub-shared": "one student in 1/SHARE scrubs, every grab the page's default run "
                          "(after a worker's first, cache hits)"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gunicorn", help="the gunicorn executable (default: next to this "
                    "python, else on PATH)")
    ap.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--users", type=int, default=USERS)
    ap.add_argument("--spawn-seconds", type=float, default=SPAWN_S)
    ap.add_argument("--duration", type=float, default=STEADY_S,
                    help="seconds of steady load after the spawn (in each phase)")
    ap.add_argument("--phases", default="plain,scrub",
                    help="comma-separated loads run one after the other, each on a freshly "
                    "started server: " + "; ".join(f"{k}: {v}" for k, v in PHASES.items())
                    + " (default: %(default)s; the server CPU per sweep needs a plain phase "
                    "and a scrub phase)")
    ap.add_argument("--scrub-share", type=float, default=SCRUB_SHARE,
                    help="the share of students that scrub in the scrub phases "
                    "(default: %(default)s, one in ten)")
    ap.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for the server (repeatable), e.g. "
                    "PYTHONPATH=DIR to try a package installed with pip --target DIR")
    ap.add_argument("--client", choices=("fast", "requests"), default="fast",
                    help="locust's FastHttpUser (geventhttpclient, default) or HttpUser")
    ap.add_argument("--template", help="a saved capture (JSON) to replay instead of "
                    "capturing one with Chromium")
    ap.add_argument("--save-template", default=os.path.join(tempfile.gettempdir(),
                                                             "playground-load-template.json"),
                    help="where to save the capture (default: %(default)s)")
    ap.add_argument("--no-wait", action="store_true",
                    help="do not wait for bench/page.py or bench/engine.py to finish")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    bad = [p for p in phases if p not in PHASES]
    if bad or not phases:
        ap.error(f"--phases: unknown {bad or 'none given'}; choose from {', '.join(PHASES)}")
    if not 0 < args.scrub_share <= 1:
        ap.error("--scrub-share: a share in (0, 1]")
    if any("=" not in e for e in args.server_env):
        ap.error("--server-env: NAME=VALUE")
    server_env = dict(e.split("=", 1) for e in args.server_env)
    random.seed(args.seed)
    setup_logging("INFO")
    # Ctrl-C (even if started with SIGINT ignored) and SIGTERM: KeyboardInterrupt in the
    # main greenlet, so that the server is stopped on the way out
    main_greenlet = gevent.getcurrent()
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, gevent.kill, main_greenlet, KeyboardInterrupt)

    print("Optimization Playground: load benchmark (figures, not asserts)")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; load average before: {load_average()}")
    print(f"phases: {', '.join(phases)} (each on a freshly started server)")
    try:
        waited = wait_for_other_benchmarks(args.no_wait)
    except KeyboardInterrupt:
        sys.exit("interrupted")
    print(f"other benchmarks (pgrep -f '{OTHER_BENCH}'): {waited}", flush=True)

    hard = SERVER_READY_S + args.spawn_seconds + args.duration + HARD_TIMEOUT_SLACK_S
    results: dict[str, dict] = {}
    template = None
    for phase in phases:
        server = Server(production_command(args.gunicorn), port=args.port,
                        env=server_env, log_prefix="load-gunicorn-")

        def hard_stop(*_, server=server):
            # no waiting here (this may run inside gevent's hub): SIGKILL the server's
            # process group (the master started a new session: its group is its pid)
            print("\nHARD TIMEOUT: killing the server and exiting", flush=True)
            server.kill_group()
            os._exit(3)

        signal.signal(signal.SIGALRM, hard_stop)
        signal.alarm(int(hard))
        try:
            template, results[phase] = run(args, server, phase, template)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping the server", flush=True)
            return
        finally:
            signal.alarm(0)
            server.stop()
    cpu_split(results, args)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def run(args, server: Server, phase: str, template: Template | None):
    """One phase: start the server, capture the template (unless given), run the load,
    print the report; (the template, the phase's figures)."""
    share = 0.0 if phase == "plain" else args.scrub_share
    runs = "shared" if phase == "scrub-shared" else "own"
    print(f"\n{'#' * 90}\nphase {phase!r}: {PHASES[phase].replace('1/SHARE', f'{1 / share:g}' if share else '-')}"
          f"\n{'#' * 90}")
    env_note = ", ".join(f"{k}={server.env[k]}" for k in ("WEB_CONCURRENCY", "THREADS")
                         if k in server.env) or "WEB_CONCURRENCY/THREADS unset"
    env_note += "".join(f", {e}" for e in args.server_env)
    print(f"server: {' '.join(server.argv)} (cwd {ROOT}, HOST=127.0.0.1 PORT={server.port}; "
          f"{env_note})", flush=True)
    server.start(SERVER_READY_S)
    workers = server.workers()
    rss_warm = {p: status_kb(p, "VmRSS") for p in workers}
    print(f"  ready (/health 200, {len(workers)} workers warm) in {server.ready_s:.1f} s; "
          f"master pid {server.proc.pid}, workers {workers}")

    print(f"  the server's JSON engine: {json_engine(server)}")
    if template is None:
        template = load_template(args, server)
    schedules = dropdown_values(server.url, template, "schedule")
    print(f"  schedules offered by the page's dropdown: {len(schedules)}")
    serial = serial_cpu(server.url, template, lambda: workers_cpu(server))
    print("  server CPU per request, one at a time (before the load): " + ", ".join(
        f"{k} {v:.1f} ms" for k, v in serial.items()))

    # a last look before the load: the cores must be ours (the hard timeout starts again
    # after any wait)
    signal.alarm(0)
    print(f"other benchmarks, just before the load: {wait_for_other_benchmarks(args.no_wait)}",
          flush=True)
    signal.alarm(int(args.spawn_seconds + args.duration + HARD_TIMEOUT_SLACK_S))
    workers = server.workers()
    rss_before = {p: status_kb(p, "VmRSS") for p in workers}
    busy0, _ = machine_cpu()
    time.sleep(3.0)
    busy1, _ = machine_cpu()
    print(f"machine before the load (server idle): {(busy1 - busy0) / 3.0 * 100:.0f}% of a core "
          f"busy (other processes); load average {load_average()}")

    rec = Recorder()
    base = FastHttpUser if args.client == "fast" else HttpUser
    user_class = make_user(base, template, rec, schedules, share, runs)
    env = Environment(user_classes=[user_class], host=server.url)
    env.events.request.add_listener(rec.on_request)
    cpu_samples: list[float] = []
    env.events.usage_monitor.add_listener(
        lambda environment, cpu_usage, memory_usage, **_: cpu_samples.append(cpu_usage))
    runner = env.create_local_runner()
    gevent.spawn(locust.stats.stats_history, runner)

    # CPU snapshots at every window boundary: machine, server processes, this process
    pids = [server.proc.pid, *workers]
    snaps: list[tuple[float, float, float, float, float]] = []

    def snap():
        busy, total = machine_cpu()
        t = os.times()
        snaps.append((time.time(), busy, total, sum(cpu_seconds(p) for p in pids),
                      t.user + t.system))

    total_s = args.spawn_seconds + args.duration
    spawn_rate = args.users / args.spawn_seconds
    mix = (f"one student in {1 / share:g} scrubs ({runs} runs): per turn a grab (one sweep) "
           f"and, after a {DRAG_S[0]}-{DRAG_S[1]} s drag, the release's lr change"
           if share else "no scrubbers")
    print(f"\nload: {args.users} students spawned over {args.spawn_seconds:.0f} s "
          f"({spawn_rate:.1f}/s), then {args.duration:.0f} s of steady load; one control "
          f"change per student every {PACING_S:.0f} s (offered {args.users / PACING_S:.0f} "
          f"changes/s); {mix}; locust {args.client} client ({base.__name__})", flush=True)
    t_start = time.time()
    procs0, irq0 = all_processes_cpu(), kernel_irq_cpu()
    wcpu0 = {p: cpu_seconds(p) for p in workers}
    snap()

    def sampler():
        k = 1
        while True:
            gevent.sleep(max(0.0, t_start + k * WINDOW_S - time.time()))
            snap()
            k += 1

    # the steady part's server CPU: the workers' CPU seconds (live ones, and those of
    # workers that exited and were reaped, from the master's cutime + cstime)
    steady: dict = {}

    def steady_mark(key):
        steady[key] = (time.time(), workers_cpu(server), sorted(server.workers()))

    intruders: set[str] = set()

    def watch():  # another benchmark starting during the load spoils the figures: say so
        while True:
            intruders.update(other_benchmarks())
            gevent.sleep(OTHER_BENCH_POLL_S)

    sampler_g, watch_g = gevent.spawn(sampler), gevent.spawn(watch)
    # (from one pacing period after the spawn: the last page loads start up to then)
    gevent.spawn_later(args.spawn_seconds + PACING_S, steady_mark, "start")
    runner.start(args.users, spawn_rate=spawn_rate)
    gevent.spawn_later(total_s, runner.quit)
    runner.greenlet.join(timeout=total_s + 60)
    if runner.state != "stopped":
        runner.quit()
    t_end = t_start + total_s
    steady_mark("end")
    sampler_g.kill()
    watch_g.kill()
    procs1, irq1 = all_processes_cpu(), kernel_irq_cpu()
    wcpu = {p: (cpu_seconds(p) - wcpu0[p]) / (time.time() - t_start) for p in workers}
    mine = {os.getpid(), *pids}
    others = sorted(((procs1[p][1] - procs0[p][1], procs1[p][0]) for p in procs1
                     if p in procs0 and p not in mine), reverse=True)
    busy_others = [(c, cmd) for c, cmd in others if c / total_s >= 0.02][:6]
    snap()
    rss_after = {p: status_kb(p, "VmRSS") for p in workers}
    hwm = {p: status_kb(p, "VmHWM") for p in workers}
    workers_after = server.workers()

    figures = report(args, server, rec, env, runner, cpu_samples, snaps, t_start, t_end,
                     workers, workers_after, rss_warm, rss_before, rss_after, hwm, intruders,
                     busy_others, irq1 - irq0, wcpu, steady)
    figures["load_average"] = load_average()
    figures["serial"] = serial
    return template, figures


def workers_cpu(server: Server) -> float:
    """CPU seconds of the server's workers: the live ones' own, plus those of the workers
    that have exited (the master's cutime + cstime, from /proc)."""
    live = sum(cpu_seconds(p) for p in server.workers())
    try:
        with open(f"/proc/{server.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        reaped = (int(fields[13]) + int(fields[14])) / TICK
    except (OSError, IndexError, ValueError):
        reaped = float("nan")
    return live + reaped


def json_engine(server: Server) -> str:
    """What writes Dash's answers in the server's interpreter and environment (the app's
    playground.web.fast_json, or Dash's own: plotly's encoder), and whether orjson
    imports."""
    code = ("import dash._callback as c, playground.web.server  # (builds the app)\n"
            "w = c.to_json; print(w.__module__ + '.' + w.__name__)\n"
            "try:\n import orjson; print('orjson', orjson.__version__)"
            "\nexcept ImportError:\n print('no orjson')\n")
    out = subprocess.run([app_python(server.argv[0]), "-c", code], env=server.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    return "; ".join(out.stdout.split("\n")).strip("; ") or f"? ({out.stderr[-200:]})"


def load_template(args, server: Server) -> Template:
    if args.template:
        with open(args.template) as f:
            cap = json.load(f)
        print(f"template: {args.template} (saved capture)")
    else:
        took = Stopwatch()
        py = app_python(server.argv[0])
        out = subprocess.run([py, os.path.abspath(__file__), "--capture-child", server.url,
                              args.save_template], capture_output=True, text=True,
                             timeout=180, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"browser capture failed ({py}):\n{out.stderr[-3000:]}")
        with open(args.save_template) as f:
            cap = json.load(f)
        print(f"template: captured from headless Chromium ({py}) in {took.s:.1f} s, saved "
              f"to {args.save_template}")
    template = Template(cap)
    for line in template.describe():
        print("  " + line)
    return template


if __name__ == "__main__":
    if CAPTURE_CHILD:
        with open(sys.argv[3], "w") as f:
            json.dump(capture(sys.argv[2]), f, indent=1)
    else:
        main()
