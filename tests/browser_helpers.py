"""Helpers the browser tests share: waiting on a condition of the page, running a script
in it, reading what Plotly drew, and driving its controls as a user does. ``page`` is the
conftest's page fixture (dash.testing's browser: driver, server_url, find_element(s))."""
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys

PLOTS = "#path-graph .js-plotly-plot"
"""An element that is there once the page's plots are drawn."""
LOAD_TIMEOUT = 60
"""Seconds a page may take to load and draw its plots: the first load of a session parses
Plotly and MathJax, and a busy two-core machine took over 20 s."""


def wait_until(condition, timeout=15.0, page=None):
    """condition()'s first true value, polled every 50 ms; fails after ``timeout`` s,
    naming the page's address when ``page`` is given. An element the page re-rendered
    while the condition read it counts as not yet."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            value = condition()
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the page" +
                         (f" at {page.driver.current_url}" if page else ""))


def js(page, script: str, *args):
    return page.driver.execute_script(script, *args)


def trace(page, graph: str, index: int, key: str = "y"):
    """The values Plotly drew (its decoded full data) for one trace of a graph."""
    return page.driver.execute_script(
        f"var gd = document.querySelector('#{graph} .js-plotly-plot');"
        f"var t = gd && gd._fullData && gd._fullData.find(function (d) {{"
        f"  return d.index === {index}; }});"
        f"var v = t && t['{key}'];"
        "return v && v.length ? Array.from(v) : null;")


def choose(page, picker: str, label: str):
    """Pick an option of one of the page's dropdowns by its visible label."""
    page.find_element(f"#{picker}").click()
    options = wait_until(lambda: [o for o in page.find_elements('[role="listbox"] [role="option"]')
                                  if o.text == label])
    options[0].click()


def set_input(page, selector: str, text: str):
    """Type ``text`` in place of a box's content, then Enter."""
    element = page.find_element(selector)
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.BACKSPACE)
    element.send_keys(text + Keys.ENTER)


def open_page(page, path: str = "/", timeout: float = LOAD_TIMEOUT):
    """Load the app at ``path`` (the address after the server's) and wait for its plots."""
    page.driver.get(page.server_url + path)
    page.wait_for_element(PLOTS, timeout=timeout)


GEOMETRY = """
if (document.querySelector('[data-dash-is-loading], .dash-graph--pending')) { return null; }
var plots = [...document.querySelectorAll('.js-plotly-plot')];
if (!plots.length || plots.some(function (gd) { return !gd._fullLayout; })) { return null; }
return plots.map(function (gd) {
  var r = gd.getBoundingClientRect(), svg = gd.querySelector('.main-svg');
  var texts = gd.querySelectorAll('svg text');
  var sizes = 0;
  texts.forEach(function (t) { sizes += parseFloat(getComputedStyle(t).fontSize) || 0; });
  return [r.top, r.left, r.width, r.height, svg ? svg.getAttribute('width') : null,
          svg ? svg.getAttribute('height') : null, gd.data ? gd.data.length : 0,
          texts.length, sizes];
}).concat([[document.documentElement.scrollWidth, document.documentElement.scrollHeight,
            document.body.className]]);
"""
"""Every plot's box, its SVG's size, its traces and its texts' sizes, and the page's
size; null while a callback is in flight, a plot is not drawn yet or dcc.Graph is
resizing one (it marks the plot dash-graph--pending until Plotly's resize ends)."""


def steady(page, timeout: float = 30, interval: float = 0.2):
    """Wait until no callback is in flight and the plots stop changing: the same geometry
    (GEOMETRY) in three readings ``interval`` s apart (dcc.Graph resizes a plot on a
    debounced ResizeObserver, then Plotly redraws it after ~100 ms)."""
    end = time.time() + timeout
    last, same = None, 0
    while time.time() < end:
        now = page.driver.execute_script(GEOMETRY)
        same = same + 1 if now is not None and now == last else 0
        if same >= 2:
            return
        last = now
        time.sleep(interval)
    raise AssertionError(f"the plots kept changing at {page.driver.current_url}")


def lecture(page, on: bool):
    """Turn lecture mode on or off with its button, and wait until the plots are redrawn
    at their new size and type."""
    lecturing = js(page, "return document.body.classList.contains('lecture')")
    if lecturing != on:
        page.find_element("#lecture-toggle").click()
    wait_until(lambda: js(page, LECTURE_DONE, on), page=page)
    steady(page)


LECTURE_DONE = """
var on = arguments[0];
return document.body.classList.contains('lecture') === on &&
  ['lr-graph', 'loss-graph', 'path-graph'].every(function (id) {
    var gd = document.querySelector('#' + id + ' .js-plotly-plot');
    return !gd || !!gd._lectureFonts === on; });
"""
"""Lecture mode is ``arguments[0]`` and each main plot's fonts follow it."""
