"""Scrubbing in a real browser: while the lr slider is dragged the plots follow it from
one sweep (no server round trip per position); let go, they hold the exact run."""
import time

import numpy as np
import pytest

import playground
from browser_helpers import wait_until
from playground.web.figure_loss import loss_range
from playground.web.form import DEFAULT_CONFIG
from playground.web.runs import RunView
from playground.web.scrub import POINTS

pytestmark = pytest.mark.browser

COUNT_REQUESTS = """
window.__requests = {main: 0, scrub: 0};
var fetch0 = window.fetch;
window.fetch = function (url, init) {
  var body = init && typeof init.body === 'string' ? init.body : '';
  if (String(url).indexOf('_dash-update-component') >= 0) {
    if (body.indexOf('lr-graph.figure') >= 0) { window.__requests.main++; }
    if (body.indexOf('scrub-data.data') >= 0) { window.__requests.scrub++; }
  }
  return fetch0.apply(this, arguments);
};
"""

LR_TRACE = """
var gd = document.querySelector('#lr-graph .js-plotly-plot');
var t = gd._fullData.find(function (d) { return d.index === 0; });
return [Array.from(t.x), Array.from(t.y)];
"""

LR_LINE = """
var gd = document.querySelector('#lr-graph .js-plotly-plot');
var uid = gd._fullData.find(function (d) { return d.index === 0; }).uid;
return gd.querySelector('g.trace' + uid + ' path.js-line').getAttribute('d');
"""


def mouse(driver, kind, x, y, buttons=1):
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {
        "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1})


def lr_box(page) -> float:
    return float(page.driver.execute_script("return document.getElementById('lr').value"))


def test_a_dragged_lr_slider_redraws_in_the_browser_and_settles_on_the_exact_run(page):
    driver = page.driver
    driver.set_window_size(1366, 900)
    driver.execute_script("document.querySelector('.lr-slider').scrollIntoView("
                          "{block: 'center'})")
    # at rest the page holds the exact run, and opening it asked for no frames
    assert len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"]
    driver.execute_script(COUNT_REQUESTS)
    rest_line = driver.execute_script(LR_LINE)
    x, y = driver.execute_script(
        "var r = document.querySelector('.lr-slider [role=slider]').getBoundingClientRect();"
        "return [r.left + r.width / 2, r.top + r.height / 2];")
    mouse(driver, "mouseMoved", x, y, 0)
    mouse(driver, "mousePressed", x, y)
    for _ in range(12):  # to the left: smaller lrs
        x -= 4
        mouse(driver, "mouseMoved", x, y)
        time.sleep(0.03)
    # a frame of the drag: the lr box, and the lr curve drawn as the frame of that lr
    wait_until(lambda: lr_box(page) < 0.2 and driver.execute_script(
        "return window.__scrubStats.frames") > 0)
    time.sleep(0.3)
    lr = lr_box(page)
    last = driver.execute_script("return window.__scrubStats.last")
    assert last["value"] == lr
    want = playground.simulate({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": lr}})
    np.testing.assert_allclose(last["lr"], want["lr"][last["steps"]], rtol=2e-2)  # float16
    # ... drawn: the lr plot's line is no longer the one drawn at rest
    assert driver.execute_script(LR_LINE) != rest_line
    requests = driver.execute_script("return window.__requests")
    assert requests == {"main": 0, "scrub": 1}, "a drag must not run the main callback"

    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"],
               timeout=30)
    steps, drawn = driver.execute_script(LR_TRACE)
    np.testing.assert_allclose(drawn, want["lr"], rtol=1e-6)  # the exact run at rest
    assert lr_box(page) == lr
    assert driver.execute_script("return window.__requests.main") == 1
    # the axes are the server's again: the lr's autoranged, the loss's ticks its own
    assert driver.execute_script(
        "var lr = document.querySelector('#lr-graph .js-plotly-plot')._fullLayout;"
        "var loss = document.querySelector('#loss-graph .js-plotly-plot')._fullLayout;"
        "return [lr.yaxis.autorange, loss.yaxis.tickmode];") == [True, "array"]
    config = {**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": lr}}
    server_range = loss_range([RunView("", 0, playground.resolve(config), want)])
    np.testing.assert_allclose(driver.execute_script(
        "return document.querySelector('#loss-graph .js-plotly-plot')._fullLayout.yaxis.range"),
        server_range, rtol=1e-6)
    assert not [e for e in page.get_logs() if e.get("level") == "SEVERE"]


SGD_PAGE = ("/?problem=elongated_valley&steps=200&optimizer=sgd&optimizer.lr=0.01"
            "&optimizer.momentum=0.5&schedule=ExponentialLR")
MOMENTUM_BOX = '{"key":"optimizer.sgd.momentum","type":"param"}'


def test_a_parameter_slider_scrubs_and_its_release_writes_the_box_and_runs_the_run(page):
    driver = page.driver
    driver.set_window_size(1366, 900)
    driver.get(page.server_url + SGD_PAGE)
    wait_until(lambda: driver.execute_script(
        "return document.querySelectorAll('.param-slider [role=slider]').length") == 2)
    thumb = driver.execute_script(
        "var t = document.querySelector('.param-slider [role=slider]');"
        "t.scrollIntoView({block: 'center'}); return t.getAttribute('aria-label');")
    assert thumb == "momentum (slider)"
    x, y = driver.execute_script(
        "var r = document.querySelector('.param-slider [role=slider]')"
        ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];")
    driver.execute_script(COUNT_REQUESTS)
    mouse(driver, "mouseMoved", x, y, 0)
    mouse(driver, "mousePressed", x, y)
    for _ in range(15):  # to the right: more momentum
        x += 4
        mouse(driver, "mouseMoved", x, y)
        time.sleep(0.03)
    box = lambda: float(driver.execute_script(  # noqa: E731
        "return document.getElementById(arguments[0]).value", MOMENTUM_BOX))
    wait_until(lambda: box() > 0.6)
    momentum = box()
    assert driver.execute_script("return window.__requests") == {"main": 0, "scrub": 1}
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"optimizer.momentum={momentum:g}" in driver.current_url, timeout=30)
    want = playground.simulate({"problem": {"name": "elongated_valley"}, "steps": 200,
                                "optimizer": {"name": "sgd", "lr": 0.01,
                                              "momentum": momentum},
                                "schedule": {"name": "ExponentialLR"}})
    xs = wait_until(lambda: (lambda v: v if len(v) == 201 else None)(driver.execute_script(
        "var gd = document.querySelector('#path-graph .js-plotly-plot');"
        "return Array.from(gd._fullData.find(function (d) { return d.index === 2; }).x);")))
    np.testing.assert_allclose(xs, want["path"][:, 0], rtol=1e-5, atol=1e-6)
    assert driver.execute_script("return window.__requests.main") == 1
