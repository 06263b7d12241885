"""Load benchmark of the production server: figures, not asserts.

Run from the repository root, with locust installed in its own virtualenv (so the app's
flask/werkzeug stay as they are; the system packages stay visible to it)::

    python3 -m venv /tmp/loadvenv --system-site-packages
    /tmp/loadvenv/bin/pip install -r bench/requirements.txt
    /tmp/loadvenv/bin/python bench/load.py

What it does, on this machine, in one run (everything on 127.0.0.1, bounded in time):

1. waits (polling every 15 s, up to 15 min) while another benchmark (bench/page.py,
   bench/engine.py) runs: they share the cores (again just before the load; one that
   starts during the load is named in the results);
2. starts the exact production command, ``gunicorn -c python:playground.web.gunicorn_conf playground.web.server:server`` from
   the repository root with HOST=127.0.0.1 and a free PORT (the worker count is
   the gunicorn settings' default, one per CPU), with the ``gunicorn`` next to this
   interpreter (or to the one it was made from, or on PATH; ``--gunicorn PATH`` to choose),
   and waits until /health answers 200 and every worker has logged its engine warm-up;
3. captures the requests a real browser makes (headless Chromium through Selenium, Chrome's
   performance log): the page's bootstrap (GET /, /_dash-layout, /_dash-dependencies and
   the Dash-pages POST /_dash-update-component that renders ``layout()``) and the POST
   /_dash-update-component sent when the lr input (``#lr``) changes (send_keys + Enter);
   the browser is driven from a child process with the app's interpreter (selenium lives
   there, with the urllib3 1.26 it needs); saved as a JSON template (``--template FILE``
   reuses a saved one, no browser);
4. records each worker's RSS (children of the gunicorn master, from /proc);
5. replays classroom traffic with locust (as a library, headless): 300 students spawned
   over 20 s, each waiting a random part of 2 s (students do not click in step), loading
   the page once (the bootstrap above) and then making one control change every 2 s on
   its own grid (not locust's ``constant_pacing``, which bunched all users into one or
   two bursts per period here; the report prints the busiest 100 ms): the captured lr-change POST with a fresh lr
   (log-uniform, 3 significant digits), and now and then a steps or schedule change, so
   every request computes a new run; a response counts as a success only with status 200
   and (for the Dash requests) a JSON body, with a "response" key for the callbacks;
6. after the spawn plus 2 minutes of steady load, stops the users (``runner.quit()``) and
   prints: requests per second, latency median / p95 / p99 (all requests, control changes,
   page-load requests, whole page loads), errors by kind, each worker's RSS before and
   after, CPU use of the server, the load generator and the rest of the machine, the same
   latencies per 30-s window (drift), locust's own tables, and the targets (no errors,
   p95 < 250 ms) as met / not met;
7. stops the server (SIGINT to the master, then SIGKILL to what is left, by pid), also on
   an error or Ctrl-C; a hard timeout ends the whole run if anything hangs.

The load generator runs on the same two cores as the server: its CPU use is printed next
to the server's (and locust logs a warning when its own process goes over 90 % of a core).
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
        from locust import FastHttpUser, HttpUser, task
        from locust.env import Environment
        from locust.log import setup_logging
    except ImportError:
        sys.exit("bench/load.py needs locust: pip install -r bench/requirements.txt "
                 "(in a separate virtualenv, see this file's docstring)")

import argparse
import copy
import json
import logging
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter

from harness import (ROOT, Server, Stopwatch, all_processes_cpu, app_python, chromium,
                     cpu_seconds, kernel_irq_cpu, machine_cpu, met, production_command,
                     quantile, status_kb, summary, table, wait_for)


USERS = 300
SPAWN_S = 20.0
STEADY_S = 120.0
PACING_S = 2.0
WINDOW_S = 30.0
TARGET_P95_MS = 250.0
SERVER_READY_S = 180.0
OTHER_BENCH = "bench/page.py|bench/engine.py"
OTHER_BENCH_POLL_S = 15.0
OTHER_BENCH_MAX_WAIT_S = 15 * 60.0
HARD_TIMEOUT_SLACK_S = 300.0  # on top of server start + capture + spawn + steady load

# what a student does after the page load (the rest of the changes are to lr)
P_STEPS = 0.08
P_SCHEDULE = 0.08
LR_RANGE = (1e-3, 0.5)
STEPS_CHOICES = (100, 200, 300, 400, 500, 600, 800, 1000)

PAGE_NAMES = ("/", "/_dash-layout", "/_dash-dependencies", "page render")
CHANGE_NAMES = ("lr change", "steps change", "schedule change")
QS = (.5, .95, .99)  # the percentiles per window

log = logging.getLogger("bench.load")


# --- capturing what the browser sends -----------------------------------------------------

def _path(url: str, base: str) -> str | None:
    return url[len(base):] or "/" if url.startswith(base) else None


def capture(url: str) -> dict:
    """Load the page in headless Chromium, change #lr, and return the requests it made:
    {"load": [{method, path, body, headers}...], "change": [...], "assets": [paths]}."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = chromium()

    def requests_sent() -> list[dict]:
        out = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            p = msg["params"]
            req = p["request"]
            path = _path(req["url"], url)
            if path is None:
                continue
            body = req.get("postData")
            if body is None and req.get("hasPostData"):
                body = driver.execute_cdp_cmd("Network.getRequestPostData",
                                              {"requestId": p["requestId"]})["postData"]
            out.append({"method": req["method"], "path": path, "body": body,
                        "headers": req.get("headers", {})})
        return out

    try:
        driver.get(url + "/")
        drawn = ("return ['lr-graph','loss-graph','path-graph'].every(function (id) {"
                 " var el = document.getElementById(id);"
                 " return el && el.querySelector('.main-svg'); });")
        wait_for(lambda: driver.execute_script(drawn), 60, "the three plots", 0.05)
        time.sleep(1.0)  # anything the page sends after drawing
        load = requests_sent()
        box = driver.find_element(By.ID, "lr")
        old = box.get_attribute("value")
        new = "0.0123" if old != "0.0123" else "0.0234"
        # select the old text and type over it (clear() would commit an empty value first)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(new)
        box.send_keys(Keys.ENTER)
        change: list[dict] = []

        def got_change():
            change.extend(requests_sent())
            return any(r["path"].startswith("/_dash-update-component") for r in change)

        wait_for(got_change, 30, "the lr change request", 0.05)
        time.sleep(1.5)  # follow-up requests, if the browser sends any
        change.extend(requests_sent())
    finally:
        driver.quit()
    dash_paths = ("/", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component")
    return {
        "captured_from": "headless Chromium, Chrome performance log (Network.requestWillBeSent)",
        "lr_typed": new,
        "load": [r for r in load if r["path"].split("?")[0] in dash_paths],
        "change": [r for r in change if r["path"].startswith("/_dash-update-component")],
        "assets": [r["path"] for r in load if r["path"].split("?")[0] not in dash_paths],
    }


# --- the template: what a student's requests look like ------------------------------------

def find_prop(items: list, cid, prop: str) -> dict | None:
    """The {id, property, value} entry of a callback body's inputs/state for cid.prop."""
    for item in items:
        for it in (item if isinstance(item, list) else [item]):
            if it.get("id") == cid and it.get("property") == prop:
                return it
    return None


class Template:
    def __init__(self, cap: dict):
        self.cap = cap
        self.page = []  # (name, method, path, body, headers)
        for r in cap["load"]:
            p = r["path"].split("?")[0]
            name = p if p in PAGE_NAMES else "page render"
            self.page.append((name, r["method"], r["path"], r["body"], _headers(r["headers"])))
        posts = [r for r in cap["change"] if r["method"] == "POST" and r["body"]]
        typed = float(cap["lr_typed"])
        lr_posts = [r for r in posts if "lr.value" in json.loads(r["body"]).get(
            "changedPropIds", []) and (find_prop(json.loads(r["body"])["inputs"], "lr", "value")
                                       or {}).get("value") == typed]
        if not lr_posts:
            raise RuntimeError(f"the capture holds no POST with changedPropIds lr.value and "
                               f"lr {typed}")
        self.change_requests = len(posts)
        self.change_path = lr_posts[0]["path"]
        self.change_headers = _headers(lr_posts[0]["headers"])
        self.change_body = json.loads(lr_posts[0]["body"])
        b = self.change_body
        lr = find_prop(b["inputs"], "lr", "value")
        if lr is None or find_prop(b["inputs"], "steps", "value") is None or find_prop(
                b["inputs"], "schedule", "value") is None:
            raise RuntimeError("the captured lr change has no lr/steps/schedule inputs")

    def describe(self) -> list[str]:
        b = self.change_body
        lr = find_prop(b["inputs"], "lr", "value")["value"]
        n_in = sum(len(i) if isinstance(i, list) else 1 for i in b["inputs"])
        n_state = sum(len(i) if isinstance(i, list) else 1 for i in b.get("state", []))
        return [
            f"page load: {' -> '.join(n for n, *_ in self.page)}",
            (f"lr change: POST {self.change_path}, {len(json.dumps(b))} bytes, "
             f"{n_in} inputs + {n_state} states, changedPropIds {b['changedPropIds']}, "
             f"lr typed {self.cap['lr_typed']!r} -> sent {lr!r} ({type(lr).__name__}); "
             f"the browser sent {self.change_requests} update request(s) for the change"),
            (f"not replayed (static files a browser caches): {len(self.cap['assets'])} "
             f"requests, e.g. {', '.join(p.split('?')[0] for p in self.cap['assets'][:3])}"),
        ]


def dropdown_values(url: str, template: Template, cid: str) -> list[str]:
    """The option values of dropdown ``cid`` in the layout the page-render POST returns
    (the load generator never imports the app: no JAX in this process)."""
    _, method, path, body, headers = next(p for p in template.page
                                              if p[0] == "page render")
    req = urllib.request.Request(url + path, data=body.encode(), method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        data = json.loads(r.read())
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == cid and "options" in props:
                found.extend(o["value"] if isinstance(o, dict) else o for o in props["options"])
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return found


def _headers(h: dict) -> dict:
    keep = {"content-type", "accept", "accept-language", "x-csrftoken"}
    return {k: v for k, v in h.items() if k.lower() in keep}


def _lr() -> float:
    lo, hi = (math.log10(x) for x in LR_RANGE)
    return float(f"{10 ** random.uniform(lo, hi):.3g}")


# --- recording ------------------------------------------------------------------------------

class Recorder:
    """Every request (start time, name, latency, error) and every whole page load."""

    def __init__(self):
        self.requests: list[tuple[float, str, float, str | None]] = []
        self.page_loads: list[tuple[float, float, bool]] = []
        self.sizes: dict[str, list[int]] = {}
        self.computed = 0
        self.not_computed = 0

    def on_request(self, request_type, name, response_time, response_length, exception=None,
                   start_time=None, **_):
        self.requests.append((start_time or time.time(), name, response_time,
                              None if exception is None else _kind(exception)))
        if exception is None:
            self.sizes.setdefault(name, []).append(response_length or 0)


def _kind(exc) -> str:
    text = str(exc)[:100]
    if type(exc).__name__ == "CatchResponseError":  # our own checks: the message says it
        return text
    return f"{type(exc).__name__}: {text}"


# --- the simulated student -------------------------------------------------------------------

def make_user(base, template: Template, rec: Recorder, schedules: list[str]):
    class Student(base):
        def on_start(self):
            # Each student gets a random phase in the 2-s period: locust starts its users in
            # batches at one instant, and students do not click in step.
            gevent.sleep(random.uniform(0, PACING_S))
            self.body = copy.deepcopy(template.change_body)
            t0 = time.time()
            ok = True
            for name, method, path, body, headers in template.page:
                ok &= self._send(name, method, path, body, headers,
                                 need_response=method == "POST", json_body=path != "/")
            rec.page_loads.append((t0, (time.time() - t0) * 1000, ok))
            self.next_at = time.time()

        def wait_time(self):
            """Until the next change on this student's own 2-s grid. Not locust's
            constant_pacing: with it (locust 2.47, measured here) 97% of all requests left
            less than 1 ms apart, in one or two bursts per period, even with random start
            phases and a trivial endpoint; on an absolute grid the phases stay spread."""
            return max(0.0, self.next_at - time.time())

        def _send(self, name, method, path, body, headers, need_response, json_body=True):
            kw = {"data": body} if body is not None else {}
            with self.client.request(method, path, name=name, headers=headers,
                                     catch_response=True, **kw) as r:
                if r.status_code != 200:
                    r.failure(f"HTTP {r.status_code}")
                    return False
                if not json_body:
                    r.success()
                    return True
                try:
                    data = json.loads(r.content)
                except (ValueError, TypeError):
                    r.failure("body is not JSON")
                    return False
                if need_response and not (isinstance(data, dict) and "response" in data):
                    r.failure('JSON without "response"')
                    return False
                r.success()
                if name in CHANGE_NAMES:
                    if "lr-graph" in data["response"]:
                        rec.computed += 1
                    else:
                        rec.not_computed += 1
                return True

        @task
        def change_control(self):
            self.next_at = max(self.next_at + PACING_S, time.time())
            b = self.body
            u = random.random()
            if u < P_STEPS:
                prop, name = "steps", "steps change"
                current = find_prop(b["inputs"], "steps", "value")
                current["value"] = random.choice(
                    [s for s in STEPS_CHOICES if s != current["value"]])
            elif u < P_STEPS + P_SCHEDULE and schedules:
                prop, name = "schedule", "schedule change"
                current = find_prop(b["inputs"], "schedule", "value")
                current["value"] = random.choice(
                    [s for s in schedules if s != current["value"]])
            else:
                prop, name = "lr", "lr change"
                lr = _lr()
                find_prop(b["inputs"], "lr", "value")["value"] = lr
            b["changedPropIds"] = [f"{prop}.value"]
            self._send(name, "POST", template.change_path, json.dumps(b),
                       template.change_headers, need_response=True)
            if prop == "lr":  # the response moves the slider, as in the browser
                slider = find_prop(b["inputs"], "lr-slider", "value")
                if slider is not None:
                    slider["value"] = max(-5.0, min(1.0, math.log10(lr)))

    if base is FastHttpUser:
        Student.network_timeout = 30.0
        Student.connection_timeout = 10.0
    return Student


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

def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gunicorn", help="the gunicorn executable (default: next to this "
                    "python, else on PATH)")
    ap.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--users", type=int, default=USERS)
    ap.add_argument("--spawn-seconds", type=float, default=SPAWN_S)
    ap.add_argument("--duration", type=float, default=STEADY_S,
                    help="seconds of steady load after the spawn")
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
    random.seed(args.seed)
    setup_logging("INFO")
    # Ctrl-C (even if started with SIGINT ignored) and SIGTERM: KeyboardInterrupt in the
    # main greenlet, so that the server is stopped on the way out
    main_greenlet = gevent.getcurrent()
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, gevent.kill, main_greenlet, KeyboardInterrupt)

    print("Optimization Playground: load benchmark (figures, not asserts)")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    try:
        waited = wait_for_other_benchmarks(args.no_wait)
    except KeyboardInterrupt:
        sys.exit("interrupted")
    print(f"other benchmarks (pgrep -f '{OTHER_BENCH}'): {waited}", flush=True)

    hard = SERVER_READY_S + args.spawn_seconds + args.duration + HARD_TIMEOUT_SLACK_S
    server = Server(production_command(args.gunicorn), port=args.port,
                    log_prefix="load-gunicorn-")

    def hard_stop(*_):
        # no waiting here (this may run inside gevent's hub): SIGKILL the server's process
        # group (the master started a new session: its group is its pid), then exit
        print("\nHARD TIMEOUT: killing the server and exiting", flush=True)
        server.kill_group()
        os._exit(3)

    signal.signal(signal.SIGALRM, hard_stop)
    signal.alarm(int(hard))
    try:
        run(args, server)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the server", flush=True)
    finally:
        signal.alarm(0)
        server.stop()


def run(args, server: Server) -> None:
    env_note = ", ".join(f"{k}={os.environ[k]}" for k in ("WEB_CONCURRENCY", "THREADS")
                         if k in os.environ) or "WEB_CONCURRENCY/THREADS unset"
    print(f"server: {' '.join(server.argv)} (cwd {ROOT}, HOST=127.0.0.1 PORT={server.port}; "
          f"{env_note})", flush=True)
    server.start(SERVER_READY_S)
    workers = server.workers()
    rss_warm = {p: status_kb(p, "VmRSS") for p in workers}
    print(f"  ready (/health 200, {len(workers)} workers warm) in {server.ready_s:.1f} s; "
          f"master pid {server.proc.pid}, workers {workers}")

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
    schedules = dropdown_values(server.url, template, "schedule")
    print(f"  schedules offered by the page's dropdown: {len(schedules)}")

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
          f"busy (other processes)")

    rec = Recorder()
    base = FastHttpUser if args.client == "fast" else HttpUser
    user_class = make_user(base, template, rec, schedules)
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
    print(f"\nload: {args.users} students spawned over {args.spawn_seconds:.0f} s "
          f"({spawn_rate:.1f}/s), then {args.duration:.0f} s of steady load; one control "
          f"change per student every {PACING_S:.0f} s (offered {args.users / PACING_S:.0f} "
          f"changes/s); locust {args.client} client ({base.__name__})", flush=True)
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

    intruders: set[str] = set()

    def watch():  # another benchmark starting during the load spoils the figures: say so
        while True:
            intruders.update(other_benchmarks())
            gevent.sleep(OTHER_BENCH_POLL_S)

    sampler_g, watch_g = gevent.spawn(sampler), gevent.spawn(watch)
    runner.start(args.users, spawn_rate=spawn_rate)
    gevent.spawn_later(total_s, runner.quit)
    runner.greenlet.join(timeout=total_s + 60)
    if runner.state != "stopped":
        runner.quit()
    t_end = t_start + total_s
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

    report(args, server, rec, env, runner, cpu_samples, snaps, t_start, t_end,
           workers, workers_after, rss_warm, rss_before, rss_after, hwm, intruders,
           busy_others, irq1 - irq0, wcpu)


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


if __name__ == "__main__":
    if CAPTURE_CHILD:
        with open(sys.argv[3], "w") as f:
            json.dump(capture(sys.argv[2]), f, indent=1)
    else:
        main()
