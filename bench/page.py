"""Benchmark of the page in a real browser: figures, not asserts.

Run from the repository root::

    python bench/page.py [--against OTHER_CHECKOUT]

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
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
import urllib.request

from harness import (ROOT, Server, Stopwatch, chromium, cpu_model, mem_gb, met, repeat, stats,
                     table, wait_for)


TARGET_MEDIAN_MS = 70.0
TARGET_P95_MS = 120.0
TARGET_RESPONSE_KB = 100.0

STEPS = 1000
LR_CYCLE = ("0.05", "0.1", "0.2", "0.15")
WARMUP_CHANGES = 5
CHANGES = 60
REPS = 10  # schedule and surface changes
SCHEDULES = ("Step decay", "Cosine annealing", "Exponential decay", "Linear")
# every other surface is Rosenbrock: its lr preset (0.2) differs from the others' (0.05),
# so each change also changes the lr curve
SURFACES = ("Quadratic bowl", "Rosenbrock", "Elongated valley", "Rosenbrock")
REPLAYS = 20
WARM_RELOADS = 3
CHANGE_TIMEOUT_S = 15

GRAPHS = ("lr-graph", "loss-graph", "path-graph")
# What "the new data" is, per graph: (trace index, key) of Plotly's _fullData whose values
# must differ from before the change. The path graph's contour (0, z) changes only with
# the surface; its current path (2, x) with every change.
PLAYGROUND_SIG = {"lr-graph": [[0, "y"]], "loss-graph": [[0, "y"]],
                  "path-graph": [[0, "z"], [2, "x"]]}
BARE_SIG = {g: [[0, "y"]] for g in GRAPHS}

BARE_APP = textwrap.dedent('''
    """A bare Dash page: three 1,000-point line plots redrawn by one callback."""
    import os

    import numpy as np
    import plotly.graph_objects as go
    from dash import Dash, Input, Output, dcc, html

    N = 1000
    IDS = ("lr-graph", "loss-graph", "path-graph")
    rng = np.random.default_rng(0)


    def figure(title):
        fig = go.Figure(go.Scatter(x=np.arange(N), y=rng.random(N), mode="lines"))
        fig.update_layout(title=title)
        return fig


    app = Dash(__name__)
    app.layout = html.Div([
        dcc.Input(id="lr", type="number", value=0.01, debounce=True, step="any"),
        html.Div([dcc.Graph(id=i, figure=figure(i)) for i in IDS]),
    ])


    @app.callback(*[Output(i, "figure") for i in IDS], Input("lr", "value"),
                  prevent_initial_call=True)
    def update(lr):
        return tuple(figure(f"{i} (lr {lr})") for i in IDS)


    if __name__ == "__main__":
        app.run(host="127.0.0.1", port=int(os.environ["PORT"]), debug=False)
''')

# Runs in every new document: polls (every 4 ms) until the three graphs hold data and an
# SVG, recording performance.now() (ms since navigation start) for each.
LOAD_PROBE = """
(function () {
  var IDS = %s;
  var L = window.__load = {drawn: {}, all: null};
  function gd(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'));
  }
  function drawn(id) {
    var g = gd(id);
    if (!g || !g._fullData || !g._fullLayout || !g.querySelector('.main-svg')) { return false; }
    var t = g._fullData.find(function (d) { return d.index === 0; });
    var a = t && (t.y || t.z);
    return !!(a && a.length);
  }
  var iv = setInterval(function () {
    var now = performance.now();
    IDS.forEach(function (id) { if (L.drawn[id] === undefined && drawn(id)) { L.drawn[id] = now; } });
    if (IDS.every(function (id) { return L.drawn[id] !== undefined; })) {
      L.all = Math.max.apply(null, IDS.map(function (id) { return L.drawn[id]; }));
      clearInterval(iv);
    }
    if (now > 120000) { clearInterval(iv); }
  }, 4);
})();
""" % json.dumps(list(GRAPHS))

LOAD_RESULT = """
var L = window.__load;
if (!L || L.all === null) { return null; }
var nav = performance.getEntriesByType('navigation')[0] || {};
var res = performance.getEntriesByType('resource');
function sum(list, key) { return list.reduce(function (a, e) { return a + (e[key] || 0); }, 0); }
var upd = res.filter(function (e) { return e.name.indexOf('_dash-update-component') >= 0; });
var lay = res.filter(function (e) { return e.name.indexOf('_dash-layout') >= 0; });
return {all: L.all, drawn: L.drawn, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
        resources: res.length, transfer: sum(res, 'transferSize') + (nav.transferSize || 0),
        decoded: sum(res, 'decodedBodySize') + (nav.decodedBodySize || 0),
        layout_bytes: sum(lay, 'encodedBodySize'), update_bytes: sum(upd, 'encodedBodySize'),
        updates: upd.length,
        layout_end: lay.length ? lay[lay.length - 1].responseEnd : null,
        update_end: upd.length ? Math.max.apply(null, upd.map(function (e) { return e.responseEnd; })) : null};
"""

# The change harness: installed once the page is drawn.
HARNESS = """
(function (spec) {
  var IDS = Object.keys(spec);
  var B = window.__bench;
  if (!B) {
    B = window.__bench = {armed: false, t0: null, spec: spec, plots: [], reacts: []};
    // the events the controls act on: dcc.Input (debounce) commits on keypress Enter, a
    // dcc.Dropdown option on click (its radio input's change)
    ['keypress', 'click'].forEach(function (type) {
      window.addEventListener(type, function (ev) {
        if (!B.armed || B.t0 !== null) { return; }
        if (B.startOn === 'enter' && ev.type === 'keypress' && ev.key === 'Enter') { B.t0 = ev.timeStamp; }
        if (B.startOn === 'option' && ev.type === 'click' && ev.target && ev.target.closest &&
            ev.target.closest('[role="option"]')) { B.t0 = ev.timeStamp; }
      }, true);
    });
    // Plotly time: the synchronous part of each Plotly.react call (where it draws)
    var P = window.Plotly, react = P.react;
    P.react = function (gd) {
      var s = performance.now();
      var out = react.apply(this, arguments);
      var id = IDS.find(function (i) { var el = document.getElementById(i); return el && el.contains(gd); });
      B.reacts.push([id || '?', s, performance.now()]);
      return out;
    };
  }
  B.spec = spec;
  B.gd = function (id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'));
  };
  function digest(a) {  // a cheap fingerprint of a (possibly 2-D) array
    if (!a || a.length === undefined) { return 'none'; }
    var t = 0, n = a.length;
    for (var k = 0; k < n; k++) {
      var v = a[k];
      if (v && v.length !== undefined) { for (var j = 0; j < v.length; j++) { t += (+v[j] || 0) * (j % 7 + 1); } }
      else { t += (+v || 0) * (k % 7 + 1); }
    }
    return n + ':' + t;
  }
  B.sig = function (id) {
    var gd = B.gd(id), fd = gd && gd._fullData;
    if (!fd) { return null; }
    return B.spec[id].map(function (p) {
      var tr = fd.find(function (d) { return d.index === p[0]; });
      return digest(tr && tr[p[1]]);
    }).join('|');
  };
  B.len = function (id, index, key) {
    var gd = B.gd(id), fd = gd && gd._fullData;
    var tr = fd && fd.find(function (d) { return d.index === index; });
    var a = tr && tr[key];
    return a && a.length !== undefined ? a.length : -1;
  };
  function check() {
    if (!IDS.every(function (id) { return B.done[id] !== undefined; })) { return; }
    B.armed = false;
    B.tEnd = Math.max.apply(null, IDS.map(function (id) { return B.done[id]; }));
    requestAnimationFrame(function () { setTimeout(function () {
      B.tPaint = performance.now();
      if (B.resolve) { var r = B.resolve; B.resolve = null; r(B.result()); }
    }, 0); });
  }
  function hook() {
    IDS.forEach(function (id) {
      var gd = B.gd(id);
      if (!gd || !gd.on || gd.__benchHooked) { return; }
      gd.__benchHooked = true;
      gd.on('plotly_afterplot', function () {
        var now = performance.now();
        B.plots.push([id, now]);
        if (!B.armed || B.t0 === null || B.done[id] !== undefined) { return; }
        if (B.sig(id) !== B.before[id]) { B.done[id] = now; check(); }
      });
    });
  }
  B.arm = function (startOn) {
    hook();
    B.t0 = null; B.tEnd = null; B.tPaint = null; B.done = {}; B.before = {};
    B.plots = []; B.reacts = []; B.resolve = null;
    IDS.forEach(function (id) { B.before[id] = B.sig(id); });
    performance.clearResourceTimings();
    B.startOn = startOn;
    B.armed = true;
  };
  B.result = function () {
    var t0 = B.t0;
    var req = performance.getEntriesByType('resource').filter(function (e) {
      return e.name.indexOf('_dash-update-component') >= 0 && e.startTime >= t0;
    }).map(function (e) {
      return {start: e.startTime, reqStart: e.requestStart, respStart: e.responseStart,
              respEnd: e.responseEnd, body: e.encodedBodySize, decoded: e.decodedBodySize,
              connect: e.connectEnd - e.connectStart};
    });
    return {t0: t0, tEnd: B.tEnd, tPaint: B.tPaint, done: B.done, req: req,
            reacts: B.reacts.filter(function (r) { return r[1] >= t0; }),
            plots: B.plots.length};
  };
})(arguments[0]);
"""

WAIT_JS = """
var cb = arguments[arguments.length - 1], B = window.__bench;
if (B.tPaint !== null) { cb(B.result()); } else { B.resolve = cb; }
"""


# --- helpers ------------------------------------------------------------------------------

def make_driver():
    driver = chromium()
    driver.set_script_timeout(CHANGE_TIMEOUT_S)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOAD_PROBE})
    return driver


class Network:
    """The /_dash-update-component requests seen in Chrome's performance log, each tagged
    with the change during which its request was sent."""

    def __init__(self, driver):
        self.driver = driver
        self.requests: dict[str, dict] = {}

    def drain(self, label):
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            method, p = msg.get("method", ""), msg.get("params", {})
            if method == "Network.requestWillBeSent":
                if "_dash-update-component" not in p["request"]["url"]:
                    continue
                post = p["request"].get("postData")
                if post is None and p["request"].get("hasPostData"):
                    try:
                        post = self.driver.execute_cdp_cmd(
                            "Network.getRequestPostData", {"requestId": p["requestId"]}
                        )["postData"]
                    except Exception:  # noqa: BLE001 (gone already: size unknown)
                        post = None
                self.requests[p["requestId"]] = {
                    "label": label, "post": post,
                    "request_bytes": len(post.encode()) if post is not None else None}
            elif p.get("requestId") in self.requests:
                r = self.requests[p["requestId"]]
                if method == "Network.responseReceived":
                    resp = p["response"]
                    headers = {k.lower(): v for k, v in resp.get("headers", {}).items()}
                    timing = resp.get("timing") or {}
                    r.update(status=resp.get("status"), headers=headers,
                             server_timing=headers.get("server-timing"),
                             content_length=int(headers["content-length"])
                             if "content-length" in headers else None,
                             encoding=headers.get("content-encoding", "identity"),
                             ttfb=(timing["receiveHeadersEnd"] - timing["sendEnd"])
                             if timing else None)
                elif method == "Network.loadingFinished":
                    r["wire_bytes"] = p["encodedDataLength"]

    def of(self, label, settle_s=1.0):
        """The requests of one change, once all have finished loading."""
        end = time.time() + settle_s
        while True:
            self.drain(label)
            mine = [r for r in self.requests.values() if r["label"] == label]
            if all("wire_bytes" in r for r in mine) or time.time() > end:
                return mine
            time.sleep(0.05)


# --- measurements -------------------------------------------------------------------------

LOAD_FAILURES: list[str] = []
"""Page loads that never drew the plots (and were retried), with the browser's errors."""


def page_load(driver, url: str, attempts: int = 3) -> dict:
    for _ in range(attempts):
        driver.get(url)
        try:
            return wait_for(lambda: driver.execute_script(LOAD_RESULT), 30,
                            "the plots at " + url)
        except TimeoutError:
            errors = [e["message"] for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE"]
            LOAD_FAILURES.append(f"{url}: no plots after 30 s; browser errors: "
                                 + ("; ".join(errors[:2]) if errors else "none"))
    raise RuntimeError("the page never drew its plots:\n" + "\n".join(LOAD_FAILURES))


def type_into(driver, selector: str, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    el = driver.find_element(By.CSS_SELECTOR, selector)
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.BACKSPACE)
    el.send_keys(text + Keys.ENTER)


def open_option(driver, picker: str, label: str):
    """Open a dropdown and return its option labelled ``label`` (not clicked yet)."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#{picker}").click()
    return wait_for(lambda: next((o for o in driver.find_elements(
        By.CSS_SELECTOR, '[role="listbox"] [role="option"]') if o.text == label), None),
        10, f"option {label!r} of #{picker}")


def one_change(driver, net: Network, label, start_on: str, act) -> dict:
    """Arm the harness, make one change, wait until the three plots show new data."""
    from selenium.common.exceptions import TimeoutException

    net.drain("idle")
    driver.execute_script("window.__bench.arm(arguments[0])", start_on)
    act()
    try:
        res = driver.execute_async_script(WAIT_JS)
    except TimeoutException:
        state = driver.execute_script(
            "var B = window.__bench; B.armed = false;"
            "return {t0: B.t0, done: B.done, plots: B.plots.length};")
        res = {"timeout": True, "state": state}
    res["net"] = net.of(label)
    return res


def breakdown(res: dict) -> dict | None:
    """Where one change's time went (ms), from Resource Timing and the Plotly wrapper."""
    if res.get("timeout") or not res.get("req"):
        return None
    t0, end = res["t0"], res["tEnd"]
    req = res["req"]
    first = min(req, key=lambda r: r["start"])
    last = max(req, key=lambda r: r["respEnd"])
    reacts = res["reacts"]
    react_start = min((r[1] for r in reacts), default=last["respEnd"])
    return {
        "to_request": first["reqStart"] - t0,
        "server": last["respStart"] - last["reqStart"],
        "download": last["respEnd"] - last["respStart"],
        "dash": react_start - last["respEnd"],
        "plotly": end - react_start,
        "plotly_sync": sum(r[2] - r[1] for r in reacts),
        **{f"react:{g}": sum(r[2] - r[1] for r in reacts if r[0] == g) for g in GRAPHS},
        "to_paint": res["tPaint"] - end,
        "requests": len(req),
        "connect": sum(r["connect"] for r in req),
    }


def run_changes(driver, net: Network, name: str, changes: list, start_on: str,
                warmup: int) -> list[dict]:
    out = []
    for i, (text, act) in enumerate(changes):
        res = one_change(driver, net, f"{name}:{i}", start_on, act)
        res["warmup"] = i < warmup
        res["value"] = text
        out.append(res)
    return out


def lr_changes(driver, count: int) -> list:
    values = [LR_CYCLE[i % len(LR_CYCLE)] for i in range(count)]
    return [(v, (lambda v=v: type_into(driver, "#lr", v))) for v in values]


class _DeferredClick:
    """Clicks a dropdown option; ``prepare`` (untimed) opens the dropdown and finds it."""

    def __init__(self, driver, picker, label):
        self.driver, self.picker, self.label = driver, picker, label
        self.option = None

    def prepare(self):
        self.option = open_option(self.driver, self.picker, self.label)

    def __call__(self):
        self.option.click()


def measure_dropdown(driver, net, name, picker, labels, count, warmup=1):
    out = []
    for i in range(count + warmup):
        label = labels[i % len(labels)]
        click = _DeferredClick(driver, picker, label)
        click.prepare()
        res = one_change(driver, net, f"{name}:{i}", "option", click)
        res["warmup"] = i < warmup
        res["value"] = label
        out.append(res)
    return out


def summarize(results: list[dict]) -> dict:
    timed = [r for r in results if not r["warmup"]]
    ok = [r for r in timed if not r.get("timeout")]
    lat = [r["tEnd"] - r["t0"] for r in ok]
    paint = [r["tPaint"] - r["t0"] for r in ok]
    parts = [b for b in (breakdown(r) for r in ok) if b]
    nets = [r["net"] for r in timed]
    reqs = [n for net in nets for n in net]
    per_change_resp = [sum(n.get("wire_bytes", 0) for n in net) for net in nets if net]
    per_change_body = [sum(n.get("content_length") or 0 for n in net) for net in nets if net]
    per_change_req = [sum(n.get("request_bytes") or 0 for n in net) for net in nets if net]
    return {
        "n": len(timed), "timeouts": len(timed) - len(ok), "latency": stats(lat),
        "warmup_timeouts": sum(1 for r in results if r["warmup"] and r.get("timeout")),
        "paint": stats(paint),
        "parts": {k: statistics.median(b[k] for b in parts) for k in parts[0]} if parts else {},
        "requests_per_change": stats([len(n) for n in nets]),
        "response_wire": stats(per_change_resp), "response_body": stats(per_change_body),
        "request_body": stats(per_change_req),
        "ttfb_cdp": stats([n.get("ttfb") for n in reqs]),
        "encodings": sorted({n.get("encoding", "?") for n in reqs}),
        "server_timing": sorted({n["server_timing"] for n in reqs if n.get("server_timing")}),
        "posts": [n["post"] for n in reqs if n.get("post")],
    }


def replay(url: str, posts: list[str], n: int) -> dict:
    """POST captured callback requests straight to the server (no browser)."""
    if not posts:
        return stats([])
    sizes = []

    def post(i):
        req = urllib.request.Request(url + "/_dash-update-component",
                                     data=posts[i % len(posts)].encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            sizes.append(len(r.read()))
    return {**stats(repeat(post, n)), "bytes": statistics.median(sizes)}


# --- the two pages ------------------------------------------------------------------------

def bench_playground(driver, root: str = ROOT) -> dict:
    out = {}
    with Server([sys.executable, "app.py"], cwd=root, name="app.py", probe="/") as srv:
        out["server_ready_s"] = srv.ready_s
        out["server_kind"] = srv.kind
        out["load_cold"] = page_load(driver, srv.url + "/")
        out["load_warm"] = [page_load(driver, srv.url + "/") for _ in range(WARM_RELOADS)]
        net = Network(driver)
        driver.execute_script(HARNESS, PLAYGROUND_SIG)
        type_into(driver, "#steps", str(STEPS))
        wait_for(lambda: driver.execute_script(
            "var B = window.__bench; return B.len('lr-graph', 0, 'y') === %d && "
            "B.len('loss-graph', 0, 'y') === %d && B.len('path-graph', 2, 'x') === %d"
            % (STEPS, STEPS + 1, STEPS + 1)), 30, f"{STEPS}-step plots")
        out["address"] = driver.current_url
        # a warm reload of the 1,000-step page (its link), for comparison with the default
        out["load_1000"] = page_load(driver, driver.current_url)
        driver.execute_script(HARNESS, PLAYGROUND_SIG)
        net.drain("setup")
        lr = run_changes(driver, net, "lr", lr_changes(driver, WARMUP_CHANGES + CHANGES),
                         "enter", WARMUP_CHANGES)
        out["lr"] = summarize(lr)
        out["lr_raw"] = lr
        out["schedule"] = summarize(measure_dropdown(driver, net, "schedule", "schedule",
                                                     SCHEDULES, REPS))
        # untimed: an lr no surface preset has, so the first surface change (whose preset
        # lr replaces it) changes the lr curve too
        one_change(driver, net, "setup", "enter", lambda: type_into(driver, "#lr", "0.12"))
        out["surface"] = summarize(measure_dropdown(driver, net, "surface", "problem",
                                                    SURFACES, REPS))
        out["replay"] = replay(srv.url, out["lr"]["posts"][:4], REPLAYS)
        out["replay_surface"] = replay(srv.url, out["surface"]["posts"][:4], REPLAYS // 2)
    return out


def bench_bare(driver) -> dict:
    out = {}
    with tempfile.TemporaryDirectory(prefix="bare-dash-") as tmp:
        path = os.path.join(tmp, "bare_app.py")
        with open(path, "w") as f:
            f.write(BARE_APP)
        with Server([sys.executable, path], cwd=tmp, name="bare Dash app", probe="/") as srv:
            out["server_ready_s"] = srv.ready_s
            out["server_kind"] = srv.kind
            out["load_cold"] = page_load(driver, srv.url + "/")
            net = Network(driver)
            driver.execute_script(HARNESS, BARE_SIG)
            net.drain("setup")
            res = run_changes(driver, net, "bare", lr_changes(driver, WARMUP_CHANGES + CHANGES),
                              "enter", WARMUP_CHANGES)
            out["lr"] = summarize(res)
            out["replay"] = replay(srv.url, out["lr"]["posts"][:4], REPLAYS)
    return out


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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
