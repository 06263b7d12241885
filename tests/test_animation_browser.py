"""The animation bar and lecture mode (assets/animate.js) in headless Chromium (dash_duo):
all of it runs in the browser, so only a browser can show it works. A frame at step t
draws every run (current and pinned) up to step t on the three plots."""
import re
import time

import pytest
from browser_helpers import js, open_page, set_input, wait_until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import playground
from playground.config import page_path
from playground.web.form import DEFAULT_CONFIG

pytestmark = pytest.mark.browser

PATH = 2
"""The current run's path on path-graph; each figure's last trace is its cursor."""
PLAY, PAUSE = "▶ Play", "❚❚ Pause"
"""The play button's two texts."""


def cursor(page, graph: str, key: str = "x"):
    """What the graph's cursor trace (its last) shows."""
    return js(page, f"var gd = document.querySelector('#{graph} .js-plotly-plot');"
                    f"var v = gd.data[gd.data.length - 1]['{key}'];"
                    "return typeof v === 'string' ? v : v ? Array.from(v) : [];")


def points(page, graph: str, index: int, key: str = "x"):
    """The values Plotly draws for a trace (decoded: the server sends typed arrays)."""
    return js(page, f"var gd = document.querySelector('#{graph} .js-plotly-plot');"
                    f"var d = gd._fullData.find(function (d) {{ return d.index === {index}; }});"
                    f"return d && d['{key}'] ? Array.from(d['{key}']) : [];")


def traces(page, graph: str) -> int:
    return js(page, f"var gd = document.querySelector('#{graph} .js-plotly-plot');"
                    "return gd && gd.data ? gd.data.length : 0;")


def drawn(page, graph: str):
    """(lines, markers) Plotly drew in a graph's SVG."""
    return tuple(js(page, f"var gd = document.querySelector('#{graph} .js-plotly-plot');"
                          "return [gd.querySelectorAll('path.js-line[d^=M]').length,"
                          "        gd.querySelectorAll('path.point').length];"))


def readout(page) -> str:
    return page.find_element("#anim-readout").text


def step(page):
    """The step the readout shows, or None when it is empty."""
    m = re.match(r"step (\d+) / (\d+)", readout(page))
    return int(m.group(1)) if m else None


def play_text(page) -> str:
    return page.find_element("#anim-play").text


def press(page, *keys, shift=False):
    """Keys as a user types them with nothing focused (the page's body)."""
    js(page, "document.activeElement && document.activeElement.blur();")
    chain = ActionChains(page.driver)
    if shift:
        chain.key_down(Keys.SHIFT)
    for key in keys:
        chain.send_keys(key)
    if shift:
        chain.key_up(Keys.SHIFT)
    chain.perform()


def test_a_control_change_stops_the_animation_and_a_new_run_plays_to_its_divergence(page):
    page.find_element("#anim-play").click()
    wait_until(lambda: (step(page) or 0) >= 3)
    assert len(points(page, "path-graph", PATH)) < 501  # the path grows, not drawn whole
    d = playground.simulate({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": 200}})[
        "diverged_at"]
    assert d is not None and d > 5
    set_input(page, "#lr", "200")  # the server sends new figures
    wait_until(lambda: readout(page) == "" and len(points(page, "path-graph", PATH)) == d,
               timeout=15)
    assert f"Diverged at step {d}" in page.find_element("#status").text
    assert play_text(page) == PLAY
    assert cursor(page, "path-graph") == [] and cursor(page, "lr-graph") == []
    time.sleep(0.2)
    assert readout(page) == ""  # stopped, not going on with the new run

    Select(page.find_element("#anim-speed")).select_by_value("300")
    page.find_element("#anim-play").click()
    wait_until(lambda: play_text(page) == PLAY)  # stopped by itself
    assert readout(page).startswith(f"step {d - 1} / 500")
    assert readout(page).endswith(f"diverged at step {d}")
    assert len(points(page, "path-graph", PATH)) == d  # points 0..d-1, the last finite one
    Select(page.find_element("#anim-speed")).select_by_value("10")
    page.find_element("#anim-play").click()  # at the end: from step 0 again
    assert step(page) < d - 1  # 2 s to get back to the end at 10 steps/s
    wait_until(lambda: step(page) >= 3)
    assert page.get_logs() == []


def test_a_nan_in_a_path_ends_the_run_there(page):
    # the server draws runs up to their divergence; a NaN, were one sent, ends a run too
    js(page, "var gd = document.querySelector('#path-graph .js-plotly-plot');"
             "var x = Array.from(gd._fullData.find(function (d) { return d.index === 2; }).x);"
             "x[30] = NaN; Plotly.restyle(gd, {x: [x]}, [2]);")
    press(page, *[Keys.ARROW_RIGHT] * 4, shift=True)
    assert readout(page).startswith("step 29 / 500")
    assert readout(page).endswith("diverged at step 30")


def test_keys_step_play_and_pause_but_not_while_typing(page):
    press(page, Keys.ARROW_RIGHT)
    assert step(page) == 1
    press(page, Keys.ARROW_RIGHT)
    assert step(page) == 2
    press(page, Keys.ARROW_LEFT)
    assert step(page) == 1
    press(page, Keys.ARROW_RIGHT, shift=True)
    assert step(page) == 11
    assert cursor(page, "lr-graph")[0] == 11 and cursor(page, "loss-graph")[0] == 11
    assert points(page, "lr-graph", 0) == list(range(12))  # the lr of steps 0..11
    assert points(page, "loss-graph", 0) == list(range(12))
    assert drawn(page, "loss-graph")[0] == 1 and drawn(page, "lr-graph")[0] == 1
    assert len(points(page, "path-graph", PATH)) == 12  # points 0..11
    page.find_element("#anim-forward").click()
    assert step(page) == 12
    press(page, Keys.HOME)
    assert step(page) == 0
    press(page, Keys.ARROW_LEFT)
    assert step(page) == 0  # clamped
    press(page, *[Keys.ARROW_RIGHT] * 3, shift=True)
    assert step(page) == 30
    # 10 steps/s: the replay outlasts the two key presses, however slow the machine
    Select(page.find_element("#anim-speed")).select_by_value("10")
    press(page, " ")
    assert play_text(page) == PAUSE
    press(page, " ")
    assert play_text(page) == PLAY
    paused = step(page)
    field = page.find_element("#lr")  # typing in a field is typing, not playing
    field.click()
    field.send_keys(" ", Keys.ARROW_RIGHT, Keys.HOME)
    time.sleep(0.2)
    assert play_text(page) == PLAY and step(page) == paused


SLOW = {**DEFAULT_CONFIG, "optimizer": {**DEFAULT_CONFIG["optimizer"], "lr": 0.05}}
"""A second run for the pinned slot: the same schedule at another lr."""


def open_with_pin(page, current, pinned):
    open_page(page, page_path(current, [pinned]))
    wait_until(lambda: traces(page, "path-graph") == 2 + 2 * 2 + 1, timeout=20)


def test_every_run_moves_in_step_and_nothing_is_drawn_ahead_of_the_cursor(blank_page):
    page = blank_page
    open_with_pin(page, DEFAULT_CONFIG, SLOW)
    runs = [playground.simulate(DEFAULT_CONFIG), playground.simulate(SLOW)]
    ranges = js(page, "return ['lr-graph', 'loss-graph'].map(function (id) {"
                      "var l = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout;"
                      "return [l.xaxis.range, l.yaxis.range]; });")
    press(page, *[Keys.ARROW_RIGHT] * 4, shift=True)
    t = 40
    assert step(page) == t
    for slot in (0, 1):  # the current run and the pinned one, both up to step t
        assert points(page, "lr-graph", 3 * slot) == list(range(t + 1))
        assert points(page, "lr-graph", 3 * slot, "y") == pytest.approx(
            runs[slot]["lr"][:t + 1].tolist(), rel=1e-6)
        assert max(points(page, "lr-graph", 3 * slot + 2) or [0]) <= t  # events reached
        assert points(page, "loss-graph", 2 * slot) == list(range(t + 1))
        assert points(page, "path-graph", 2 + 2 * slot, "customdata") == list(range(t + 1))
        assert points(page, "path-graph", 3 + 2 * slot, "customdata") == [0]  # no end yet
    # each run's position at step t, in the path plot's cursor
    heads = list(zip(cursor(page, "path-graph"), cursor(page, "path-graph", "y")))
    want = [tuple(r["path"][t]) for r in runs]
    assert sorted(heads) == pytest.approx(sorted(want), rel=1e-5)
    # the axes stay where the whole runs put them
    assert js(page, "return ['lr-graph', 'loss-graph'].map(function (id) {"
                    "var l = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout;"
                    "return [l.xaxis.range, l.yaxis.range]; });") == ranges
    # the end marker appears when the run reaches its end
    Select(page.find_element("#anim-speed")).select_by_value("300")
    page.find_element("#anim-play").click()
    wait_until(lambda: play_text(page) == PLAY, timeout=20)
    assert readout(page).startswith("step 500 / 500")
    for slot in (0, 1):
        assert points(page, "path-graph", 3 + 2 * slot, "customdata") == [0, 500]
        assert len(points(page, "lr-graph", 3 * slot)) == 500
    # a control change: every run whole again, the pinned one too
    set_input(page, "#lr", "0.1")
    wait_until(lambda: readout(page) == "", timeout=15)
    wait_until(lambda: len(points(page, "lr-graph", 3)) == 500
               and len(points(page, "path-graph", 4)) == 501)
    assert page.get_logs() == []


def test_with_reduced_motion_play_shows_the_whole_run_at_once(page):
    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    try:
        assert js(page, "return matchMedia('(prefers-reduced-motion: reduce)').matches")
        page.find_element("#anim-play").click()
        assert readout(page).startswith("step 500 / 500")  # at once: no frames in between
        assert play_text(page) == PLAY
        assert len(points(page, "path-graph", PATH)) == 501
        assert points(page, "path-graph", PATH + 1, "customdata") == [0, 500]
        press(page, Keys.ARROW_LEFT)  # stepping still steps
        assert step(page) == 499
    finally:
        page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_lecture_mode_play_grows_the_path_pause_stops_it_esc_leaves(page):
    def font(part):
        return js(page, "var gd = document.querySelector('#lr-graph .js-plotly-plot');"
                        f"return gd.layout.{part}.size;")

    def width():
        return js(page, "return document.querySelector('#path-graph .main-svg')"
                        ".getBoundingClientRect().width")

    page.driver.set_window_size(1920, 1080)  # wide enough for the controls beside the plots
    narrow = wait_until(lambda: (lambda w: w == (time.sleep(0.2) or width()) and w)(width()))
    base, title = font("font"), font("title.font")
    page.find_element("#lecture-toggle").click()
    assert "lecture" in page.find_element("body").get_attribute("class")
    assert not page.find_element("#controls").is_displayed()
    assert page.find_element("#lecture-toggle").text == "Leave lecture mode"
    assert font("font") > base and font("title.font") > title
    wait_until(lambda: width() > narrow + 80)  # the plots took the controls' width

    assert readout(page) == "" and len(points(page, "path-graph", PATH)) == 501
    page.find_element("#anim-play").click()
    assert play_text(page) == PAUSE
    first = wait_until(lambda: step(page) is not None and step(page) >= 3 and step(page))
    later = wait_until(lambda: (step(page) or 0) > first + 3 and step(page))
    assert re.fullmatch(r"step \d+ / 500 · lr [0-9.e-]+ · loss [0-9.e-]+", readout(page))
    assert len(points(page, "path-graph", PATH)) >= later + 1
    page.find_element("#anim-play").click()
    assert play_text(page) == PLAY
    paused = step(page)
    time.sleep(0.3)  # at 30 steps/s a running animation would move ~9 steps
    assert step(page) == paused
    assert cursor(page, "lr-graph")[0] == paused
    assert len(points(page, "path-graph", PATH)) == paused + 1

    press(page, Keys.ESCAPE)
    assert page.find_element("#controls").is_displayed()
    assert page.find_element("#lecture-toggle").text == "Lecture mode"
    assert (font("font"), font("title.font")) == (base, title)
    assert step(page) == paused  # leaving lecture mode keeps the frame on show
    assert len(points(page, "path-graph", PATH)) == paused + 1
    assert page.get_logs() == []
