"""Scrubbing sliders in a real browser (the lr's on the default page, SGD's momentum's,
the steps'): frames per second during a drag, the time to settle on the exact run after
letting go, and the bytes a grab costs (``bench/page.py --scrub``; figures, never
asserts).

A drag is driven like a hand: Chrome DevTools mouse events sent on the page's DevTools
socket (press on the slider's handle,
a move of 3 px every 1/60 s across the rail and back for DRAG_S seconds, release). In the
page, every ``plotly_afterplot`` (a redraw), ``plotly_animated`` (traces moved without a
redraw) and ``playground:scrubframe`` (a scrub frame drawn straight into the plots' SVG) of
the three graphs is time-stamped:

- frames per second: redraws of the lr plot during the drag, per second, counting only
  redraws after which the three plots show one slider position (the lr, loss and path
  plots each redrawn since the previous counted frame);
- settle: from the release (the ``pointerup`` event's time stamp) to the last redraw of a
  plot after it (none follows within QUIET_S), and whether the plots then hold the exact
  run (the lr plot holds all the run's steps, as many as the steps box says, not a
  decimated frame);
- bytes per grab: the bodies of every ``/_dash-update-component`` response during the
  drag and the settle (Chrome's performance log, on the wire);
- Plotly's floor in the same browser, after the drags: three line plots the size of the
  page's, 250 points each, redrawn with new data (``Plotly.react``, axes autoranged), ms
  per frame of all three, as the brief's floor (about 33 ms on this machine when issue 15
  set its targets); and the page's own three figures redrawn by ``Plotly.react`` with
  their curves scaled, as the exact run's settle must redraw them. The settle is printed
  in those floors too, so a busy or slower machine can be told from a slower page;
- where the settle goes: from the release to the release's request leaving the page
  (the slider committing its value and Dash's renderer dispatching the callback), from
  the request to its answer (the server's callback and the wire), and from the answer
  to the last redraw (Dash's renderer and Plotly drawing the exact run), timed in the
  page by a wrapper around ``window.fetch``.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

try:
    from .harness import ROOT, Server, quantile, wait_for
    from .page_measure import Network, page_load
except ImportError:
    from harness import ROOT, Server, quantile, wait_for
    from page_measure import Network, page_load

DRAG_S = 3.0
MOVE_HZ = 60
MOVE_PX = 3
QUIET_S = 1.0
DRAGS = 9
GRAPHS = ("lr-graph", "loss-graph", "path-graph")

COUNTER = """
window.__scrub = {events: [], up: null, down: null, requests: []};
['lr-graph', 'loss-graph', 'path-graph'].forEach(function (id) {
  var el = document.getElementById(id);
  var gd = el && (el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'));
  // a redraw (Plotly.react, restyle, update) ends in plotly_afterplot; a scrub frame that
  // moves traces without a redraw (Plotly.animate) in plotly_animated
  var seen = function () {
    var tr = gd.data && gd.data[id === 'path-graph' ? 2 : 0];
    window.__scrub.events.push([id, performance.now(), tr && tr.y ? tr.y.length || 0 : 0]);
  };
  gd.on('plotly_afterplot', seen);
  gd.on('plotly_animated', seen);
  // a scrub frame drawn straight into the plots' SVG (assets/scrub.js) tells the document
  document.addEventListener('playground:scrubframe', seen);
});
document.addEventListener('pointerup', function (e) { window.__scrub.up = e.timeStamp; }, true);
// each callback request: when it left, and when its answer came
if (!window.fetch.__timed) {
  var fetch0 = window.fetch;
  window.fetch = function (url, options) {
    var sent = performance.now();
    return fetch0.apply(this, arguments).then(function (response) {
      // (the answer's headers: its body, tens of kB on loopback, follows within ~2 ms,
      // and a promise on it resolves only after Dash has drawn what it holds)
      if (String(url).indexOf('_dash-update-component') >= 0) {
        window.__scrub.requests.push([sent, performance.now()]);
      }
      return response;
    });
  };
  window.fetch.__timed = true;
}
document.addEventListener('pointerdown', function (e) { window.__scrub.down = e.timeStamp; }, true);
"""


FLOOR_JS = """
var points = arguments[0], frames = arguments[1], ids = arguments[2];
var done = arguments[arguments.length - 1];
function gdOf(id) {
  var el = document.getElementById(id);
  return el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
}
(async function () {
  var page = ids.map(gdOf);
  var box = page[0].getBoundingClientRect();
  // Plotly alone: three plain line plots over the page, the size of its plots
  var cover = document.createElement('div');
  cover.style.cssText = 'position:fixed;left:0;top:0;z-index:99999;background:#fff';
  document.body.appendChild(cover);
  var gds = [0, 1, 2].map(function () {
    var g = document.createElement('div');
    g.style.cssText = 'display:inline-block;width:' + box.width + 'px;height:' +
      box.height + 'px';
    cover.appendChild(g);
    return g;
  });
  function line(k) {
    var y = new Array(points);
    for (var i = 0; i < points; i++) { y[i] = Math.sin(i / 20 + k) * (1 + k % 3); }
    return [{y: y, type: 'scatter', mode: 'lines'}];
  }
  var plain = [], own = [];
  for (const g of gds) { await Plotly.newPlot(g, line(0), {}); }
  for (var k = 1; k <= frames; k++) {
    var t0 = performance.now();
    for (const g of gds) { await Plotly.react(g, line(k), {}); }
    plain.push(performance.now() - t0);
  }
  gds.forEach(function (g) { Plotly.purge(g); });
  cover.remove();
  // the page's own figures, their curves scaled (a new run), redrawn by Plotly.react
  var rest = page.map(function (gd) { return {data: gd.data, layout: gd.layout}; });
  for (var r = 1; r <= frames; r++) {
    var t1 = performance.now();
    for (const gd of page) {
      var f = 1 + 0.01 * (r % 5 + 1);
      var data = gd.data.map(function (t) {
        return t.type === 'heatmap' || !t.y || t.y.length < 10 ? t
          : Object.assign({}, t, {y: Array.from(t.y, function (v) { return v * f; })});
      });
      await Plotly.react(gd, data, Object.assign({}, gd.layout, {datarevision: r}));
    }
    own.push(performance.now() - t1);
  }
  for (var j = 0; j < page.length; j++) {
    await Plotly.react(page[j], rest[j].data, rest[j].layout);
  }
  done({plain: plain, own: own});
})();
"""
FLOOR_FRAMES = 25


def plotly_floor(driver) -> dict:
    """Plotly's redraw on this page's browser (FLOOR_JS): ms per frame of three plain
    250-point line plots, and of the page's own three figures; medians of FLOOR_FRAMES."""
    driver.set_script_timeout(120)
    got = driver.execute_async_script(FLOOR_JS, 250, FLOOR_FRAMES, list(GRAPHS))
    return {k: statistics.median(v) for k, v in got.items()}


def page_socket(driver) -> str:
    """The DevTools WebSocket of the driver's page: mouse events sent on it directly take
    about a millisecond each, where a round trip through chromedriver takes tens (too slow
    for a 60 Hz drag on a busy machine)."""
    import urllib.request

    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen(f"http://{address}/json") as r:
        targets = json.load(r)
    url = driver.current_url
    page = next(t for t in targets if t.get("type") == "page" and t.get("url") == url)
    return page["webSocketDebuggerUrl"]


def devtools_mouse(driver, y: float, script):
    """Run ``await script(mouse, trio)`` on the driver's page socket (``page_socket``):
    ``await mouse(kind, x, buttons=1)`` sends one Chrome DevTools mouse event at (x, y)
    without waiting for its answer (the answers are read and dropped), so events follow
    each other as closely as the script sends them. Returns what the script returns. (trio
    and trio-websocket come with selenium; tests/test_scrub_browser.py uses this too.)"""
    import trio
    from trio_websocket import open_websocket_url

    async def run():
        async with open_websocket_url(page_socket(driver), max_message_size=2 ** 24) as ws:
            ids = iter(range(1, 10 ** 9))

            async def mouse(kind, px, buttons=1):
                await ws.send_message(json.dumps({
                    "id": next(ids), "method": "Input.dispatchMouseEvent",
                    "params": {"type": kind, "x": px, "y": y, "button": "left",
                               "buttons": buttons, "clickCount": 1}}))

            async def drain():  # the answers are not needed; read them so none pile up
                while True:
                    await ws.get_message()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(drain)
                out = await script(mouse, trio)
                await trio.sleep(0.2)
                nursery.cancel_scope.cancel()
            return out

    return trio.run(run)


def _drag(driver, x: float, y: float, left: float, right: float) -> int:
    """Press at (x, y), move MOVE_PX every 1/MOVE_HZ s across [left, right] and back for
    DRAG_S s, release; returns the moves made."""
    async def drag(mouse, trio):
        await mouse("mouseMoved", x, 0)
        await mouse("mousePressed", x)
        start, moves, px, step = trio.current_time(), 0, x, -MOVE_PX
        while trio.current_time() - start < DRAG_S:
            px += step
            if px <= left or px >= right:
                step = -step
            await mouse("mouseMoved", px)
            moves += 1
            await trio.sleep_until(start + moves / MOVE_HZ)
        await mouse("mouseReleased", px, 0)
        return moves

    return devtools_mouse(driver, y, drag)


def _frames(events: list, start: float, end: float) -> int:
    """Redraws of the lr plot in [start, end] after which all three plots were redrawn
    since the previous counted one (one slider position on all three)."""
    seen, count = set(), 0
    for graph, t, _ in events:
        if not start <= t <= end:
            continue
        seen.add(graph)
        if len(seen) == len(GRAPHS):
            count += 1
            seen = set()
    return count


SLIDERS = {
    "lr": ("/", "document.querySelector('.lr-slider')"),
    "momentum (SGD)": ("/?problem=elongated_valley&steps=200&optimizer=sgd&optimizer.lr=0.01"
                       "&optimizer.momentum=0.5&schedule=ExponentialLR",
                       "document.getElementById('{\"key\":\"optimizer.sgd.momentum\","
                       "\"type\":\"field\"}').querySelector('.scrub-slider')"),
    "steps": ("/", "document.querySelector('.steps-slider')"),
}
"""The sliders measured: name -> (the page's address, JavaScript giving the slider)."""


def one_drag(driver, net: Network, label: str, slider_js: str) -> dict:
    driver.execute_script("window.__scrub.events = []; window.__scrub.up = null;"
                          "window.__scrub.requests = [];")
    driver.execute_script(f"{slider_js}.scrollIntoView({{block: 'center'}})")
    time.sleep(0.3)
    handle = driver.execute_script(
        f"var s = {slider_js}, h = s.querySelector('[role=slider]');"
        "var r = h.getBoundingClientRect(), b = s.getBoundingClientRect();"
        "return [r.left + r.width / 2, r.top + r.height / 2, b.left + 8, b.right - 8];")
    x, y, left, right = handle
    net.drain("before")
    moves = _drag(driver, x, y, left, right)
    # settle: wait for a quiet second after the last redraw
    last, quiet_since = None, time.perf_counter()
    while time.perf_counter() - quiet_since < QUIET_S:
        n = driver.execute_script("return window.__scrub.events.length")
        if n != last:
            last, quiet_since = n, time.perf_counter()
        time.sleep(0.05)
    s = driver.execute_script("return window.__scrub")
    events, down, up = s["events"], s["down"], s["up"]
    after = [t for _, t, _ in events if t >= up]
    exact = driver.execute_script(
        "var el = document.getElementById('lr-graph').querySelector('.js-plotly-plot');"
        "var n = el.data[0].y.length || (el._fullData[0].y || []).length;"
        "return n === parseInt(document.getElementById('steps').value, 10)")
    reqs = net.of(label, settle_s=2.0)
    outputs = sorted({_output(r.get("post")) for r in reqs})
    # the release's request: the first to leave after the pointer went up
    release = min((r for r in s["requests"] if r[0] >= up), default=None)
    split = None if release is None or not after else (
        release[0] - up, release[1] - release[0], max(after) - release[1])
    return {"fps": _frames(events, down, up) / ((up - down) / 1000.0),
            "split": split,
            "redraws": sum(1 for g, t, _ in events if g == "lr-graph" and down <= t <= up),
            "moves_per_s": moves / DRAG_S,
            "settle_ms": (max(after) - up) if after else 0.0,
            "exact": exact, "requests": len(reqs),
            "bytes": sum(r.get("wire_bytes") or 0 for r in reqs), "outputs": outputs}


def _output(post) -> str:
    """The first output a callback request asked for (what the request was for)."""
    try:
        return json.loads(post)["output"].strip(".").split("...")[0]
    except (TypeError, ValueError, KeyError, AttributeError):
        return "?"


def _open_at_rest(driver, url: str) -> None:
    """Load the page at ``url`` and wait until its three plots are drawn, then a second
    more for it to come to rest."""
    page_load(driver, url)
    wait_for(lambda: driver.execute_script(
        "return arguments[0].every(function (id) { var el = document.getElementById(id);"
        " return !!(el && el.querySelector('.js-plotly-plot')); })", list(GRAPHS)),
        30, "plots")
    time.sleep(1.0)


def bench_scrub(driver, root: str = ROOT) -> dict:
    """Per slider (SLIDERS), DRAGS drags on its page served from ``root``; the first is a
    warm-up (its grab fills the server's caches) and is reported apart."""
    out = {}
    with Server([sys.executable, "app.py"], cwd=root, name="app.py", probe="/") as srv:
        for name, (address, slider_js) in SLIDERS.items():
            _open_at_rest(driver, srv.url + address)
            driver.execute_script(COUNTER)
            net = Network(driver)
            drags = [one_drag(driver, net, f"{name} drag{i}", slider_js)
                     for i in range(DRAGS)]
            out[name] = {"first": drags[0], "drags": drags[1:]}
        _open_at_rest(driver, srv.url)  # the default page
        out["floor"] = plotly_floor(driver)
    return out


def report(results: dict[str, dict]) -> None:
    """``results``: page (this checkout, --against) -> slider -> bench_scrub's figures."""
    print()
    print(f"Scrubbing sliders ({DRAG_S:.0f} s drags, a {MOVE_PX} px move every "
          f"1/{MOVE_HZ} s, back and forth)")
    print("-" * 78)
    print(f"  {'slider, page, grab':<38} {'fps':>5} {'settle ms':>10} {'p90':>5} "
          f"{'floors':>7} {'exact':>6} {'kB/grab':>8} {'req':>4}")
    for slider in SLIDERS:
        for page, sliders in results.items():
            r = sliders[slider]
            floor = sliders["floor"]["plain"]
            for tag, drags in (("first", [r["first"]]), ("later", r["drags"])):
                med = lambda k: statistics.median(d[k] for d in drags)  # noqa: E731
                p90 = quantile([d["settle_ms"] for d in drags], 0.9) if len(drags) > 1 \
                    else None
                print(f"  {f'{slider}, {page}, {tag}':<38} {med('fps'):5.1f} "
                      f"{med('settle_ms'):10.0f} {'-' if p90 is None else f'{p90:.0f}':>5} "
                      f"{med('settle_ms') / floor:7.1f} "
                      f"{'yes' if all(d['exact'] for d in drags) else 'NO':>6} "
                      f"{med('bytes') / 1000:8.1f} {med('requests'):4.0f}")
    for page, sliders in results.items():
        outputs = sorted({o for k in SLIDERS for o in sliders[k]["drags"][-1]["outputs"]})
        print(f"  {page}: requests of later grabs: {', '.join(outputs)}")
    print()
    print("  where a later grab's settle goes (median ms): release -> its request leaves,")
    print("  request -> its answer (server and wire), answer -> last redraw")
    for slider in SLIDERS:
        for page, sliders in results.items():
            splits = [d["split"] for d in sliders[slider]["drags"] if d["split"]]
            if not splits:
                continue
            med = [statistics.median(x[k] for x in splits) for k in range(3)]
            print(f"  {f'{slider}, {page}':<38} {med[0]:6.0f} {med[1]:6.0f} {med[2]:6.0f}")
    print()
    print("  Plotly's floor in the same browser (median ms per frame of three plots):")
    for page, sliders in results.items():
        f = sliders["floor"]
        print(f"  {page}: three plain 250-point line plots {f['plain']:.0f}; the page's own "
              f"three figures {f['own']:.0f}")
    print("  fps: redraws of all three plots per second during the drag (target >= 24);")
    print("  settle: release -> last redraw (target <= 150 ms; median, and the 90th")
    print("  percentile of the later grabs); floors: the median settle in frames of the")
    print("  three plain plots (the target was set when they took ~33 ms: 150 ms = 4.5")
    print("  floors); exact: the plots then hold the run's every step; kB/grab: responses")
    print("  on the wire during drag and settle.")
