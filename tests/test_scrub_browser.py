"""Scrubbing in a real browser: while a slider (the lr's, a parameter's, the steps') is
dragged the plots follow it from one sweep (no server round trip per position); let go,
they hold the exact run."""
import math
import time

import numpy as np
import pytest

import playground
from bench.page_scrub import devtools_mouse
from browser_helpers import open_page, set_input, wait_until
from playground.web import scrub, state
from playground.web.figure_base import log_ticks
from playground.web.figure_loss import loss_range
from playground.web.form import DEFAULT_CONFIG
from playground.web.runs import RunView

pytestmark = pytest.mark.browser

COUNT_REQUESTS = """
window.__requests = {main: 0, scrub: 0};
var fetch0 = window.fetch;
window.fetch = function (url, init) {
  var body = init && typeof init.body === 'string' ? init.body : '';
  if (String(url).indexOf('_dash-update-component') >= 0) {
    if (body.indexOf('lr-graph.figure') >= 0) {
      window.__requests.main++;
      (window.__order || []).push('request');
    }
    if (body.indexOf('scrub-data.data') >= 0) { window.__requests.scrub++; }
  }
  return fetch0.apply(this, arguments);
};
"""

HIDDEN = """return document.querySelectorAll(
  '.js-plotly-plot .point[style*="display: none"], .js-plotly-plot .js-line[style*="display: none"], '
  + '.js-plotly-plot .points[style*="display: none"]').length;"""

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


def move_by(driver, x, y, dx: int, moves: int) -> float:
    """Move the pressed pointer ``moves`` times by ``dx`` px, as a hand does (one move per
    30 ms); returns where it is."""
    for _ in range(moves):
        x += dx
        mouse(driver, "mouseMoved", x, y)
        time.sleep(0.03)
    return x


def grab_and_move(driver, x, y, dx: int, moves: int) -> float:
    """Press at (x, y) (a slider's thumb) and move ``moves`` times by ``dx`` px, the
    pointer kept down; returns where it is, for the release."""
    mouse(driver, "mouseMoved", x, y, 0)
    mouse(driver, "mousePressed", x, y)
    return move_by(driver, x, y, dx, moves)


THUMB_AT = ("return document.querySelector('.lr-slider [role=slider]')"
            ".getAttribute('aria-valuenow')")
"""Where the lr slider's thumb stands (log10 of the lr)."""


def lr_thumb(driver) -> tuple[float, float]:
    """Where the lr slider's thumb stands on the screen (its centre, px)."""
    return driver.execute_script(
        "var r = document.querySelector('.lr-slider [role=slider]').getBoundingClientRect();"
        "return [r.left + r.width / 2, r.top + r.height / 2];")


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
    hidden_at_rest = driver.execute_script(HIDDEN)
    x, y = lr_thumb(driver)
    x = grab_and_move(driver, x, y, -4, 12)  # to the left: smaller lrs
    # a frame of the drag: the lr box, and the lr curve drawn as the frame of that lr (a
    # longer run has a frame at every k-th position only: the box says which it draws)
    wait_until(lambda: lr_box(page) < 0.2 and driver.execute_script(
        "return window.__scrubStats.frames") > 0)
    time.sleep(0.3)
    shown = lr_box(page)
    last = driver.execute_script("return window.__scrubStats.last")
    assert last["value"] == shown
    frame = playground.simulate({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": shown}})
    np.testing.assert_allclose(last["lr"], frame["lr"][last["steps"]], rtol=2e-2)  # float16
    # the release runs the lr where the thumb stands (the nearest frame's, or next to it)
    lr = float(f"{10 ** float(driver.execute_script(THUMB_AT)):.3g}")
    assert abs(math.log10(lr / shown)) <= 1.5 * 0.05 + 1e-9
    want = playground.simulate({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": lr}})
    # ... drawn: the lr plot's line is no longer the one drawn at rest
    assert driver.execute_script(LR_LINE) != rest_line
    requests = driver.execute_script("return window.__requests")
    assert requests == {"main": 0, "scrub": 1}, "a drag must not run the main callback"

    # what happens after the release, in order: the release's request must leave before
    # any plot is redrawn (a redraw first holds the page's thread, and the request, back)
    driver.execute_script(
        "window.__order = [];"
        "['lr-graph', 'loss-graph', 'path-graph'].forEach(function (id) {"
        "  document.querySelector('#' + id + ' .js-plotly-plot').on('plotly_afterplot',"
        "    function () { window.__order.push('redraw'); }); });")
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"],
               timeout=30)
    assert driver.execute_script("return window.__order")[0] == "request"
    # what the frames hid (markers, the minibatch loss) shows again with the exact run
    wait_until(lambda: driver.execute_script(HIDDEN) == hidden_at_rest)
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



def test_a_slider_let_go_where_it_was_grabbed_shows_the_exact_run_again(page):
    """A drag that ends where it began sends nothing (the value is the same): the plots go
    back to the exact run they held, not to the drag's last (decimated) frame, and what
    the frames hid shows again."""
    driver = page.driver
    driver.set_window_size(1366, 900)
    # an lr on the slider's grid (10^-1), so that the same position is the same value
    query = "/?optimizer.lr=0.1"
    config = state.current_run(query)  # the run the page shows for that address
    driver.get(page.server_url + query)
    want = playground.simulate(config)["lr"]
    wait_until(lambda: driver.execute_script(
        "return !!document.querySelector('#lr-graph .js-plotly-plot')") and len(
        driver.execute_script(LR_TRACE)[0]) == len(want), timeout=30)
    driver.execute_script("document.querySelector('.lr-slider').scrollIntoView("
                          "{block: 'center'})")
    driver.execute_script(COUNT_REQUESTS)
    hidden_at_rest = driver.execute_script(HIDDEN)
    lr_at_rest = lr_box(page)
    assert lr_at_rest == 0.1
    x, y = lr_thumb(driver)
    # far to the left (decades of lr: the axes change on the way)
    x = grab_and_move(driver, x, y, -10, 12)
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and lr_box(page) < lr_at_rest)
    time.sleep(0.3)
    assert driver.execute_script(HIDDEN) > hidden_at_rest  # a frame is drawn by hand
    x = move_by(driver, x, y, 10, 12)  # and back ...
    for _ in range(40):  # ... to the very position it was grabbed at, pixel by pixel
        time.sleep(0.15)
        at = float(driver.execute_script(THUMB_AT))
        if abs(at - (-1.0)) < 1e-9:
            break
        x += 1 if at < -1.0 else -1
        mouse(driver, "mouseMoved", x, y)
    assert abs(float(driver.execute_script(THUMB_AT)) - (-1.0)) < 1e-9
    assert lr_box(page) == lr_at_rest  # (10^-1 has a frame: the box draws its value)
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == len(want))
    np.testing.assert_allclose(driver.execute_script(LR_TRACE)[1], want, rtol=1e-6)
    wait_until(lambda: driver.execute_script(HIDDEN) == hidden_at_rest)
    assert lr_box(page) == lr_at_rest
    assert driver.execute_script("return window.__requests.main") == 0

Y_LABELS = """
var out = [];
['lr-graph', 'loss-graph'].forEach(function (id) {
  var gd = document.querySelector('#' + id + ' .js-plotly-plot');
  var svg = gd.querySelector('.main-svg').getBoundingClientRect();
  var title = gd.querySelector('.ytitle'), tb = title && title.getBoundingClientRect();
  gd.querySelectorAll('g.ytick text').forEach(function (t) {
    var b = t.getBoundingClientRect();
    if (!t.textContent) { return; }
    out.push({plot: id, text: t.textContent, inside: b.left >= svg.left - 0.5,
              on_title: !!tb && b.left < tb.right && b.right > tb.left && b.top < tb.bottom
                        && b.bottom > tb.top});
  });
});
return out;
"""
LOSS_AXIS = ("var gd = document.querySelector('#loss-graph .js-plotly-plot');"
             "return gd._fullLayout.yaxis.range;")


def readable(driver) -> list[str]:
    """Every y tick label of the lr and loss plots inside its plot and off its axis
    title; the loss plot's labels those the page gives that axis range at rest
    (figure_base.log_ticks: whole decades from three decades on, else 1, 2, 5 times
    them), written as it writes them. Returns the loss plot's labels."""
    labels = driver.execute_script(Y_LABELS)
    assert labels
    for label in labels:
        assert label["inside"] and not label["on_title"], label
    loss = [label["text"] for label in labels if label["plot"] == "loss-graph"]
    lo, hi = sorted(driver.execute_script(LOSS_AXIS))
    ticks = log_ticks(10 ** lo, 10 ** hi)
    page = [t for v, t in zip(ticks["tickvals"], ticks["ticktext"])
            if lo - 1e-6 <= math.log10(v) <= hi + 1e-6]
    assert loss and sorted(loss) == sorted(page), (loss, page, [lo, hi])
    return loss


def test_held_at_any_lr_the_plots_axis_labels_read_as_they_do_at_rest(page):
    """While the lr slider is held, the axes follow the frames (decades of lr; a diverging
    run's loss climbing to 1e6): their labels stay inside the plot, off the axis title,
    and the loss's read as the page labels that range at rest (1e4, 100, 1, never
    0.01x10^6; 1, 2, 5 under three decades); let go, the plot's own margins
    come back."""
    driver = page.driver
    driver.set_window_size(1366, 900)
    driver.execute_script("document.querySelector('.lr-slider').scrollIntoView("
                          "{block: 'center'})")
    margins = ("return ['lr-graph', 'loss-graph'].map(function (id) {"
               "  var gd = document.querySelector('#' + id + ' .js-plotly-plot');"
               "  return [gd._fullLayout._size.l, gd._fullLayout.yaxis.automargin]; })")
    at_rest = driver.execute_script(margins)
    rest_loss = [lb["text"] for lb in driver.execute_script(Y_LABELS)
                 if lb["plot"] == "loss-graph"]
    x, y = lr_thumb(driver)
    x = grab_and_move(driver, x, y, -8, 12)  # small lrs: 1e-4 and its kin on the lr axis
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and lr_box(page) < 1e-3)
    time.sleep(0.3)
    readable(driver)
    x = move_by(driver, x, y, 8, 40)  # the far right: runs that diverge
    wait_until(lambda: lr_box(page) > 1)
    time.sleep(0.3)
    assert readable(driver) != rest_loss
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"],
               timeout=30)
    time.sleep(0.5)
    assert [m[1] for m in driver.execute_script(margins)] == [m[1] for m in at_rest] == [
        True, True]
    readable(driver)


MARGIN_ROOM = """
return ['lr-graph', 'loss-graph'].map(function (id) {
  var full = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout;
  return [full.margin.l, full._pushmargin['y.automargin'].l.size, full.yaxis.tickfont.size];
});"""
"""Per plot (lr, loss): its layout's left margin (Plotly's lower bound, before its labels
push), the room its y tick labels and axis title need (Plotly's own measure) and the
labels' type size, px."""


def test_a_released_scrub_draws_the_exact_run_once_with_room_for_its_labels(page):
    """Let go far from where it was grabbed (0.0005 on the lr axis where 0.1 stood), the
    exact run is drawn with a left margin its new labels fit in from the start, so Plotly
    never draws it a second time to widen it (~30 ms per plot), and with little room to
    spare; the next change draws with the figure's own margins again."""
    driver = page.driver
    driver.set_window_size(1366, 900)
    driver.execute_script("document.querySelector('.lr-slider').scrollIntoView("
                          "{block: 'center'})")
    at_rest = driver.execute_script(MARGIN_ROOM)
    assert all(lower < need for lower, need, _ in at_rest)  # the labels push, at rest
    x, y = lr_thumb(driver)
    x = grab_and_move(driver, x, y, -8, 12)
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and lr_box(page) < 1e-3)
    time.sleep(0.3)
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"]
               and lr_box(page) < 1e-3, timeout=30)
    time.sleep(0.5)
    released = driver.execute_script(MARGIN_ROOM)
    assert released[0][1] != at_rest[0][1]  # the lr axis's labels changed width
    for lower, need, font in released:
        assert need - 1 <= lower <= need + 2 * font, (released, at_rest)
    readable(driver)
    set_input(page, "#lr", "0.05")
    wait_until(lambda: abs(max(driver.execute_script(LR_TRACE)[1]) - 0.05) < 1e-6, timeout=30)
    time.sleep(0.5)
    assert all(lower < need for lower, need, _ in driver.execute_script(MARGIN_ROOM))


def test_held_where_the_loss_spans_under_three_decades_its_axis_reads_1_2_5(blank_page):
    """SGD on the bowl: its loss at rest falls twelve decades; held at the smallest lrs it
    barely moves, and the loss axis the frames need spans under three decades. Its labels
    are then 1, 2 and 5 times the powers of ten, as the page labels such a range at rest
    (two decade labels alone would leave the loss unreadable)."""
    page, driver = blank_page, blank_page.driver
    driver.set_window_size(1366, 900)
    open_page(page, "/?problem=quadratic_bowl&optimizer=sgd&optimizer.lr=0.1")
    driver.execute_script("document.querySelector('.lr-slider').scrollIntoView("
                          "{block: 'center'})")
    assert len(readable(driver)) <= 8  # at rest: every other decade of twelve
    x, y = lr_thumb(driver)
    x = grab_and_move(driver, x, y, -8, 30)
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and lr_box(page) < 2e-5)
    time.sleep(0.3)
    held = readable(driver)
    assert any(t.lstrip("0.")[:1] in ("2", "5") for t in held), held
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == 500, timeout=30)
    time.sleep(0.5)
    readable(driver)
    assert page.get_logs() == []


SGD_PAGE = ("/?problem=elongated_valley&steps=200&optimizer=sgd&optimizer.lr=0.01"
            "&optimizer.momentum=0.5&schedule=ExponentialLR")
MOMENTUM_BOX = '{"key":"optimizer.sgd.momentum","type":"param"}'


def flick(driver, x, y, x_end):
    """Press at (x, y), move as a hand does for a third of a second, then a last move to
    ``x_end`` and the release at once (a quick flick): both reach the page together."""
    async def script(mouse, trio):
        await mouse("mouseMoved", x, 0)
        await mouse("mousePressed", x)
        for k in range(1, 21):
            await mouse("mouseMoved", x + 3 * k)
            await trio.sleep(1 / 60)
        await mouse("mouseMoved", x_end)
        await mouse("mouseReleased", x_end, 0)
        await trio.sleep(0.1)

    devtools_mouse(driver, y, script)


def test_a_flicked_slider_settles_where_its_thumb_stands_every_time(page):
    """A quick flick's last move and its release arrive together: the thumb is drawn at
    the last move after the release was committed. The page then runs the thumb's lr
    (the box, the address and the plots all say it), and so does the next flick (Dash's
    value had stayed behind the thumb: a release there sent nothing, and the plots kept
    the drag's decimated frame)."""
    driver = page.driver
    driver.set_window_size(1366, 900)
    thumb_value = lambda: driver.execute_script(  # noqa: E731
        "return document.querySelector('.lr-slider [role=slider]').getAttribute('aria-valuenow')")
    for _ in range(3):
        x, y, left, right = driver.execute_script(
            "var h = document.querySelector('.lr-slider [role=slider]');"
            "var r = h.getBoundingClientRect(), s = document.querySelector('.lr-slider')"
            ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2,"
            " s.left + 8, s.right - 8];")
        flick(driver, x, y, x - 40 if x > (left + right) / 2 else x + 100)
        thumb = 10 ** float(thumb_value())
        wait_until(lambda: abs(lr_box(page) / thumb - 1) < 5e-3
                   and len(driver.execute_script(LR_TRACE)[1]) == 500, page=page)
        lrs = driver.execute_script(LR_TRACE)[1]
        assert max(lrs) == pytest.approx(lr_box(page), rel=1e-6)  # the exact run's peak
        assert f"optimizer.lr={lr_box(page):g}" in driver.current_url


def test_a_parameter_slider_scrubs_and_its_release_writes_the_box_and_runs_the_run(page):
    driver = page.driver
    driver.set_window_size(1366, 900)
    driver.get(page.server_url + SGD_PAGE)
    wait_until(lambda: driver.execute_script(
        "return document.querySelectorAll('.param-slider [role=slider]').length")
        == 3)  # momentum, gamma, steps
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


def field_id(key: str, kind: str = "param") -> str:
    return '{"key":"%s","type":"%s"}' % (key, kind)


def box_text(driver, key: str) -> str:
    return driver.execute_script("return document.getElementById(arguments[0]).value",
                                 field_id(key))


def drag_slider(driver, key: str, dx: int, moves: int = 15):
    """Grab the thumb of ``key``'s slider and move it ``moves`` times by ``dx`` px (the
    pointer stays down); returns where it is, for the release."""
    x, y = driver.execute_script(
        "var t = document.getElementById(arguments[0]).querySelector("
        "'.param-slider [role=slider]'); t.scrollIntoView({block: 'center'});"
        "var r = t.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];",
        field_id(key, "field"))
    driver.execute_script(COUNT_REQUESTS)
    return grab_and_move(driver, x, y, dx, moves), y


PATH_X = """
var gd = document.querySelector('#path-graph .js-plotly-plot');
return Array.from(gd._fullData.find(function (d) { return d.index === 2; }).x);
"""


def settled_path(driver, steps: int):
    """The path plot's x values once they are a run of ``steps`` steps drawn by Plotly."""
    return wait_until(lambda: (lambda v: v if len(v) == steps + 1 else None)(
        driver.execute_script(PATH_X)), timeout=30)


BETAS = "optimizer.adam.betas"


def test_the_beta1_slider_scrubs_and_its_release_writes_the_pair_and_runs_the_run(page):
    driver = page.driver
    driver.set_window_size(1366, 900)
    assert box_text(driver, BETAS) == "0.9, 0.999"
    # a screen reader says which number of the pair the slider moves
    wait_until(lambda: driver.execute_script(
        "var r = document.querySelector('.pair-slider');"
        "var box = r && (r.closest('.dash-slider-container') || r.parentElement);"
        "var t = box && box.querySelector('[role=slider]');"
        "return t && t.getAttribute('aria-label');") == "betas: first number (slider)")
    x, y = drag_slider(driver, BETAS, -4)  # to the left: less averaging
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and float(box_text(driver, BETAS).split(",")[0]) < 0.85)
    time.sleep(0.3)
    text = box_text(driver, BETAS)  # the box shows the pair while the slider moves
    beta1 = float(text.split(",")[0])
    assert text == f"{beta1!r}, 0.999"
    assert driver.execute_script("return window.__requests") == {"main": 0, "scrub": 1}
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"optimizer.betas={beta1!r},0.999" in driver.current_url, timeout=30)
    want = playground.simulate({**DEFAULT_CONFIG, "optimizer": {
        "name": "adam", "lr": 0.2, "betas": [beta1, 0.999]}})
    np.testing.assert_allclose(settled_path(driver, 500), want["path"][:, 0], rtol=1e-5,
                               atol=1e-6)
    assert box_text(driver, BETAS) == text
    assert driver.execute_script("return window.__requests.main") == 1
    # a typed pair moves the slider
    set_input(page, f"[id='{field_id(BETAS)}']", "0.5, 0.99")
    wait_until(lambda: driver.execute_script(
        "return document.getElementById(arguments[0]).querySelector('[role=slider]')"
        ".getAttribute('aria-valuenow')", field_id(BETAS, "field")) == "0.5")
    assert not [e for e in page.get_logs() if e.get("level") == "SEVERE"]


T_MAX = "schedule.CosineAnnealingLR.T_max"
THUMB = ("return document.getElementById(arguments[0]).querySelector('[role=slider]')"
         ".getAttribute(arguments[1])")


def test_the_t_max_slider_scrubs_and_its_range_follows_the_steps(page):
    driver = page.driver
    driver.set_window_size(1366, 900)
    slider_of = field_id(T_MAX, "field")
    # the empty box (the whole run: 450 steps after the warmup) puts the slider there
    assert box_text(driver, T_MAX) == ""
    assert driver.execute_script(THUMB, slider_of, "aria-valuenow") == "450"
    assert driver.execute_script(THUMB, slider_of, "aria-valuemax") == "900"
    x, y = drag_slider(driver, T_MAX, 4)  # to the right: a longer cosine
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and box_text(driver, T_MAX) not in ("", "450"))
    time.sleep(0.3)
    t_max = int(box_text(driver, T_MAX))
    assert t_max > 450 and driver.execute_script(
        "return window.__requests") == {"main": 0, "scrub": 1}
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"schedule.T_max={t_max}" in driver.current_url, timeout=30)
    want = playground.simulate({**DEFAULT_CONFIG, "schedule": {
        "name": "CosineAnnealingLR", "T_max": t_max}})
    np.testing.assert_allclose(settled_path(driver, 500), want["path"][:, 0], rtol=1e-5,
                               atol=1e-6)
    assert driver.execute_script("return window.__requests.main") == 1
    # the box emptied again and fewer steps (200, 150 after the 50 of warmup): the
    # range is about twice the new run's, the slider at its length
    set_input(page, f"[id='{field_id(T_MAX)}']", "")
    wait_until(lambda: "T_max" not in driver.current_url, timeout=30)
    set_input(page, "#steps", "200")
    wait_until(lambda: driver.execute_script(THUMB, slider_of, "aria-valuenow") == "150",
               timeout=30)
    assert 285 <= float(driver.execute_script(THUMB, slider_of, "aria-valuemax")) <= 315
    assert box_text(driver, T_MAX) == ""  # still the whole run
    assert "T_max" not in driver.current_url and "steps=200" in driver.current_url
    assert driver.execute_script(
        "return document.getElementById(arguments[0]).placeholder",
        field_id(T_MAX)) == "auto: 150"
    # a drag now sweeps the 200-step run: its frames are 200 steps long
    x, y = drag_slider(driver, T_MAX, -4, moves=6)
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and box_text(driver, T_MAX) not in ("", "150"))
    assert driver.execute_script("return window.__scrubStats.last.steps.slice(-1)[0]") == 199
    t_max = int(box_text(driver, T_MAX))
    # back at the run's own length, the box is empty again (its placeholder says 150), as
    # it stays when let go there; then away again, to let go there
    back = move_by(driver, x, y, 4, 6)
    wait_until(lambda: driver.execute_script(THUMB, slider_of, "aria-valuenow") == "150"
               and box_text(driver, T_MAX) == "", timeout=10)
    assert move_by(driver, back, y, -4, 6) == x
    wait_until(lambda: box_text(driver, T_MAX) == str(t_max), timeout=10)
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"schedule.T_max={t_max}" in driver.current_url, timeout=30)
    want = playground.simulate({**DEFAULT_CONFIG, "steps": 200, "schedule": {
        "name": "CosineAnnealingLR", "T_max": t_max}})
    np.testing.assert_allclose(settled_path(driver, 200), want["path"][:, 0], rtol=1e-5,
                               atol=1e-6)
    assert not [e for e in page.get_logs() if e.get("level") == "SEVERE"]


X_TOP = """
return ['lr-graph', 'loss-graph'].map(function (id) {
  var r = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout.xaxis.range;
  return Math.max(r[0], r[1]);
});
"""


def test_the_steps_slider_grows_and_shrinks_the_run_against_fixed_axes(page):
    """A steps drag draws each frame at its own length (the box follows) while the step
    axes stay put; let go, the plots hold the exact run of the box's steps, their axes
    the run's."""
    driver = page.driver
    driver.set_window_size(1366, 900)
    x, y = driver.execute_script(
        "var t = document.querySelector('.steps-slider [role=slider]');"
        "t.scrollIntoView({block: 'center'});"
        "var r = t.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];")
    assert driver.execute_script(X_TOP) == [500, 500]
    assert driver.execute_script(
        "return document.querySelector('.steps-slider [role=slider]')"
        ".getAttribute('aria-label')") == "Steps (slider)"
    driver.execute_script(COUNT_REQUESTS)
    x = grab_and_move(driver, x, y, -4, 12)  # to the left: shorter runs
    steps = lambda: int(driver.execute_script(  # noqa: E731
        "return document.getElementById('steps').value"))
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0
               and steps() < 400)
    time.sleep(0.3)
    n = steps()
    last = driver.execute_script("return window.__scrubStats.last")
    assert last["value"] == n and last["steps"] == scrub.decimate(n).tolist()
    # the axes stay (at the longest run of the drag: the grab may have snapped to a
    # position just past 500 steps): the run shrinks inside them
    tops = driver.execute_script(X_TOP)
    assert tops[0] == tops[1] and tops[0] in (500, 1000) and n < 400
    assert driver.execute_script("return window.__requests") == {"main": 0, "scrub": 1}
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"steps={n}&" in driver.current_url, timeout=30)
    want = playground.simulate({**DEFAULT_CONFIG, "steps": n})
    np.testing.assert_allclose(settled_path(driver, n), want["path"][:, 0], rtol=1e-5,
                               atol=1e-6)
    wait_until(lambda: driver.execute_script(X_TOP) == [n, n])  # the run's own axes
    assert steps() == n  # the box holds the released steps
    assert driver.execute_script("return window.__requests.main") == 1
    # a drag to longer runs grows the axes past them (in round steps, not every frame)
    x, y = driver.execute_script(
        "var r = document.querySelector('.steps-slider [role=slider]')"
        ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];")
    mouse(driver, "mouseMoved", x, y, 0)
    mouse(driver, "mousePressed", x, y)
    for _ in range(30):
        x += 4
        mouse(driver, "mouseMoved", x, y)
        time.sleep(0.03)
    wait_until(lambda: steps() > 600)
    time.sleep(0.3)
    longest = steps()
    tops = driver.execute_script(X_TOP)
    assert tops[0] == tops[1] and longest <= tops[0] <= 2.5 * longest
    mouse(driver, "mouseReleased", x, y, 0)
    wait_until(lambda: f"steps={longest}&" in driver.current_url, timeout=30)
    wait_until(lambda: driver.execute_script(X_TOP) == [longest, longest], timeout=30)
    # typed steps move the slider (log10 of the steps); past its end it stops there, and
    # the run keeps the typed steps (one request: the slider's move runs nothing)
    thumb = ("return document.querySelector('.steps-slider [role=slider]')"
             ".getAttribute('aria-valuenow')")
    set_input(page, "#steps", "1000")
    wait_until(lambda: driver.execute_script(thumb) == "3")
    driver.execute_script("window.__requests.main = 0")
    set_input(page, "#steps", "5000")
    wait_until(lambda: "steps=5000&" in driver.current_url, timeout=30)
    wait_until(lambda: driver.execute_script(thumb) == "3.301")
    time.sleep(1.0)
    assert steps() == 5000 and "steps=5000&" in driver.current_url
    assert driver.execute_script("return window.__requests.main") == 1
    assert not [e for e in page.get_logs() if e.get("level") == "SEVERE"]


def touch(driver, kind: str, x: float = 0, y: float = 0):
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})


def test_on_a_phone_a_finger_scrubs_the_lr_and_the_release_runs_the_run(blank_page):
    """A student's phone: a finger dragged along the lr slider moves the thumb (the page
    does not scroll instead), the plots follow it with no request but the grab's, and the
    lift runs the exact run at the thumb's lr."""
    page, driver = blank_page, blank_page.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                           {"enabled": True, "maxTouchPoints": 5})
    open_page(page)
    wait_until(lambda: len(driver.execute_script(LR_TRACE)[0]) == DEFAULT_CONFIG["steps"])
    # the slider just below the plot, which stays on screen on a phone (sticky)
    driver.execute_script(
        "var s = document.querySelector('.lr-slider'); s.scrollIntoView({block: 'center'});"
        "var p = document.querySelector('.plots').getBoundingClientRect();"
        "window.scrollBy(0, s.getBoundingClientRect().top - p.bottom - 60);")
    x, y = lr_thumb(driver)
    assert driver.execute_script(
        "var e = document.elementFromPoint(arguments[0], arguments[1]);"
        "return !!e.closest('.lr-slider')", x, y), "the thumb is under something"
    scrolled = driver.execute_script("return window.scrollY")
    driver.execute_script(COUNT_REQUESTS + "window.__cancelled = 0;"
                          "document.addEventListener('pointercancel', function () {"
                          "  window.__cancelled++; }, true);")
    touch(driver, "touchStart", x, y)
    for _ in range(20):  # to the left, a finger's pace
        x -= 6
        touch(driver, "touchMove", x, y)
        time.sleep(0.03)
    wait_until(lambda: driver.execute_script("return window.__scrubStats.frames") > 0)
    assert driver.execute_script("return window.__cancelled") == 0, "the page took the drag"
    assert driver.execute_script("return window.scrollY") == scrolled
    assert driver.execute_script("return window.__requests") == {"main": 0, "scrub": 1}
    touch(driver, "touchEnd")
    lr = float(f"{10 ** float(driver.execute_script(THUMB_AT)):.3g}")
    assert lr < 0.05  # the thumb moved: 120 px is about two decades
    want = playground.simulate({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": lr}})
    wait_until(lambda: lr_box(page) == lr and np.allclose(
        driver.execute_script(LR_TRACE)[1], want["lr"], rtol=1e-6), timeout=30)
    assert driver.execute_script("return window.__requests")["main"] == 1
