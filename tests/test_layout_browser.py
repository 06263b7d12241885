"""The page on every screen a lecture meets, measured in headless Chromium (geometry, not
pixels): the projector (1920x1080), two laptops (1366x768, 1280x800) and a phone (390x844,
touch). Each check returns the problems it finds, so a failure names the element."""
import pytest
from browser_helpers import choose, lecture, open_page, steady, trace, wait_until

pytestmark = pytest.mark.browser

DESKTOPS = [(1920, 1080), (1366, 768), (1280, 800)]
PHONE = (390, 844)


def emulate(page, width: int, height: int, phone: bool = False, path: str = "/"):
    """Give the (blank) tab exactly this viewport (a phone: touch, mobile layout), then
    load the page (at ``path``) in it."""
    d = page.driver
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 2 if phone else 1,
        "mobile": phone})
    d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone})
    open_page(page, path)
    page.wait_for_element("#path-graph .js-plotly-plot .main-svg", timeout=30)
    wait_until(lambda: d.execute_script(
        "return document.querySelectorAll('.js-plotly-plot .xtick').length > 0"), page=page)
    settle(page)


def settle(page):
    """Wait until the plots stop moving (Plotly redraws after a resize)."""
    steady(page)


# One script per family of checks: each returns a list of human-readable problems.
CUT = r"""
var W = document.documentElement.clientWidth, problems = [];
if (document.documentElement.scrollWidth > W + 1)
  problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + W);
function shown(e) { var r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; }
// a value or a label that does not fit its box
document.querySelectorAll('input[type=text], input[type=number], input:not([type])')
  .forEach(function (e) { if (shown(e) && e.scrollWidth > e.clientWidth + 1)
    problems.push('input ' + (e.id || e.name) + ' cuts its value "' + e.value + '"'); });
document.querySelectorAll('.control-label, .legend-item, .button, .dash-dropdown-value, ' +
                          '.plot-tabs label, .anim-readout, h1')
  .forEach(function (e) { if (shown(e) && e.scrollWidth > e.clientWidth + 1)
    problems.push('"' + e.textContent.trim().slice(0, 30) + '" is cut'); });
// every text on a plot inside its plot, and none under the toolbar or another title
document.querySelectorAll('.graph').forEach(function (g) {
  var gd = g.querySelector('.js-plotly-plot'); if (!gd || !shown(g)) return;
  var box = gd.getBoundingClientRect();
  var bar = gd.querySelector('.modebar'); var barBox = bar && bar.getBoundingClientRect();
  var texts = [...gd.querySelectorAll('.gtitle, .xtitle, .ytitle, .xtick text, .ytick text,' +
                                      '.y2tick text, .y2title, .annotation-text, .legendtext')]
    .filter(function (t) { return t.textContent.trim() && shown(t); });
  texts.forEach(function (t) {
    var r = t.getBoundingClientRect(), name = g.id || gd.parentElement.id;
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
        r.bottom > box.bottom + 1)
      problems.push(name + ': "' + t.textContent + '" is cut by the plot\'s edge');
    if (barBox && barBox.width && t.matches('.gtitle, .annotation-text, .ytitle, .y2title') &&
        r.right > barBox.left && r.left < barBox.right && r.bottom > barBox.top &&
        r.top < barBox.bottom)
      problems.push(name + ': "' + t.textContent + '" runs under the toolbar');
  });
});
return problems;
"""

ALIGNED = r"""
var g = [...document.querySelectorAll('.graph')].map(function (e) {
  return e.getBoundingClientRect(); });
var problems = [];
g.forEach(function (r, i) {
  if (Math.abs(r.top - g[0].top) > 1.5 || Math.abs(r.bottom - g[0].bottom) > 1.5)
    problems.push('plot ' + i + ' spans ' + r.top + '..' + r.bottom + ', plot 0 ' +
                  g[0].top + '..' + g[0].bottom);
  if (r.bottom > innerHeight + 0.5)
    problems.push('plot ' + i + ' ends at ' + r.bottom + ', below the fold ' + innerHeight);
});
return problems;
"""

MENU = r"""
var id = arguments[0], done = arguments[arguments.length - 1];
var button = document.getElementById(id);
button.scrollIntoView({block: 'center'});
button.click();
var start = Date.now(), last = null;
function content() { return document.querySelector('.dash-dropdown-content'); }
// the menu open and placed: its box the same in two readings 100 ms apart
(function measure() {
  var c = content();
  if (!c) {
    if (Date.now() - start > 5000) { done(['menu ' + id + ' did not open']); return; }
    setTimeout(measure, 50); return;
  }
  var b = c.getBoundingClientRect();
  var now = [b.top, b.bottom, b.left, b.right, c.scrollHeight].join();
  if (now !== last && Date.now() - start < 5000) { last = now; setTimeout(measure, 100); return; }
  var problems = [];
  var r = c.getBoundingClientRect(), n = c.querySelectorAll('[role=option]').length;
  if (r.top < -0.5 || r.bottom > innerHeight + 0.5)
    problems.push('menu ' + id + ' spans ' + r.top + '..' + r.bottom + ' outside the screen');
  var shownOptions = [...c.querySelectorAll('[role=option]')].filter(function (o) {
    var b = o.getBoundingClientRect(); return b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5;
  }).length;
  var scrolls = c.scrollHeight > c.clientHeight + 1;
  if (scrolls && c.offsetWidth - c.clientWidth < 4)
    problems.push('menu ' + id + ' hides ' + (n - shownOptions) + ' of ' + n +
                  ' entries with no scrollbar');
  if (!scrolls && shownOptions < n)
    problems.push('menu ' + id + ' shows ' + shownOptions + ' of ' + n + ' entries');
  document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
  button.click();
  var closing = Date.now();
  (function closed() {  // the next menu opens on a page with this one gone
    if (content() && Date.now() - closing < 2000) { setTimeout(closed, 50); return; }
    done(problems);
  })();
})();
"""


@pytest.mark.parametrize("size", DESKTOPS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_desktop_size_fits_aligns_and_cuts_nothing(blank_page, size):
    page = blank_page
    emulate(page, *size)
    d = page.driver
    assert d.execute_script(CUT) == []
    assert d.execute_script(ALIGNED) == []
    for menu in ("problem", "optimizer", "schedule", "lesson-menu"):
        assert d.execute_async_script(MENU, menu) == []
    d.execute_script("window.scrollTo(0, 0)")
    page.find_element("#lecture-toggle").click()
    settle(page)
    assert d.execute_script(CUT) == []
    assert d.execute_script(ALIGNED) == []  # lecture mode: the plots still on one screen


def test_the_phone_shows_the_plots_first_and_keeps_them_in_view_while_a_control_changes(
        blank_page):
    page = blank_page
    emulate(page, *PHONE, phone=True)
    d = page.driver
    assert d.execute_script(CUT) == []
    top = lambda sel: d.execute_script(  # noqa: E731
        f"return document.querySelector('{sel}').getBoundingClientRect().top")
    assert top(".plots") < top("#controls") and top(".plots") < 844 / 3
    visible = d.execute_script(
        "return [...document.querySelectorAll('.graph')].filter(function (g) {"
        " return g.getBoundingClientRect().width > 0; }).map(function (g) { return g.id; })")
    assert visible == ["lr-graph"]  # one plot at a time, as wide as the phone
    assert d.execute_script("return document.getElementById('lr-graph')"
                            ".getBoundingClientRect().width") > 340
    # every tab a thumb's size, and each shows its plot
    for tab, graph in (("Loss", "loss-graph"), ("Path", "path-graph"),
                       ("Learning rate", "lr-graph")):
        label = next(e for e in page.find_elements(".plot-tabs label") if e.text == tab)
        assert label.size["height"] >= 44 and label.size["width"] >= 44
        label.click()
        wait_until(lambda: d.execute_script(
            f"var r = document.getElementById('{graph}').getBoundingClientRect();"
            "return r.width > 340 && r.height > 200;"), page=page)
        settle(page)
        assert d.execute_script(CUT) == []
    # the schedule picker far down the controls: scrolled to, the plot stays on screen
    d.execute_script("document.getElementById('schedule').scrollIntoView({block: 'end'})")
    settle(page)
    plot = d.execute_script("var r = document.getElementById('lr-graph')"
                            ".getBoundingClientRect(); return [r.top, r.bottom];")
    picker = d.execute_script("var r = document.getElementById('schedule')"
                              ".getBoundingClientRect(); return [r.top, r.bottom];")
    assert 0 <= plot[0] and plot[1] <= picker[0] and picker[1] <= 844.5
    choose(page, "schedule", "Step decay")
    wait_until(lambda: (lambda y: y and len(set(round(v, 9) for v in y[60:])) == 3)(
        trace(page, "lr-graph", 0)), page=page)  # warmup, then three lr levels
    plot = d.execute_script("var r = document.getElementById('lr-graph')"
                            ".getBoundingClientRect(); return [r.top, r.bottom];")
    assert 0 <= plot[0] and plot[1] <= 844  # the change drawn where the student looks
    assert page.get_logs() == []


LECTURE_TEXT = r"""
function sizes() {
  var out = {};
  document.querySelectorAll('.app *').forEach(function (e) {
    if (e.closest('svg') || e.closest('.controls')) return;
    var own = [...e.childNodes].some(function (n) {
      return n.nodeType === 3 && n.textContent.trim(); });
    var r = e.getBoundingClientRect();
    if (own && r.width > 0 && r.height > 0)
      out[e.tagName + ':' + e.textContent.trim().slice(0, 24)] =
        parseFloat(getComputedStyle(e).fontSize);
  });
  return out;
}
return sizes();
"""


THREE_RUNS = ("/?problem=rosenbrock&optimizer=adam&schedule=CosineAnnealingLR"
              "&p1.problem=rosenbrock&p1.optimizer=sgd&p1.optimizer.lr=0.001"
              "&p1.schedule=OneCycleLR&p2.problem=rosenbrock&p2.optimizer=sgd"
              "&p2.optimizer.lr=50")
"""The current run and two pinned ones, one of which diverges: the widest table."""


def test_on_a_phone_the_comparison_table_shows_every_column_and_remove_button(blank_page):
    """A student who pinned runs on a phone sees the whole table, the Remove buttons
    included, without scrolling it sideways."""
    page = blank_page
    emulate(page, *PHONE, phone=True, path=THREE_RUNS)
    d = page.driver
    for lecturing in (False, True):  # lecture mode sets the page's type larger
        d.execute_script(  # (below the plots, which stay at the top of a phone's screen)
            "document.getElementById('lecture-toggle').scrollIntoView({block: 'end'})")
        lecture(page, lecturing)
        d.execute_script("document.querySelector('table.summary').scrollIntoView()")
        table = d.execute_script(
            "var t = document.querySelector('table.summary');"
            "return {scroll: t.scrollWidth, width: t.clientWidth, right: "
            "t.getBoundingClientRect().right, page: document.documentElement.clientWidth,"
            " rows: t.querySelectorAll('tbody tr').length, diverged: t.textContent,"
            " buttons: [...t.querySelectorAll('button')].map(function (b) {"
            "   var r = b.getBoundingClientRect(); return [b.textContent, r.left, r.right]; })}")
        assert table["rows"] == 3 and "at step" in table["diverged"]
        assert table["scroll"] <= table["width"] + 1, (lecturing, table)
        assert table["right"] <= table["page"]
        assert [b[0] for b in table["buttons"]] == ["Remove", "Remove"]
        assert all(0 <= left and right <= table["page"]
                   for _, left, right in table["buttons"]), (lecturing, table)


MOMENTUM_RUN = "/?optimizer=sgd&optimizer.momentum=0.9&schedule=OneCycleLR"
"""A run whose momentum cycles: the lr plot's right margin holds the momentum axis."""


@pytest.mark.parametrize("size", [PHONE, (1366, 768)], ids=["phone", "1366x768"])
def test_the_toolbar_keeps_off_the_momentum_axis_title(blank_page, size):
    """On a phone the upright toolbar stood over the momentum axis's title; with that
    axis shown, the toolbar lies in the title's row."""
    page = blank_page
    emulate(page, *size, phone=size == PHONE, path=MOMENTUM_RUN)
    d = page.driver
    assert d.execute_script(
        "return document.querySelector('#lr-graph .y2title').textContent") == \
        "momentum / β1 (dotted)"
    assert d.execute_script(CUT) == []


def test_the_toolbar_moves_off_the_momentum_axis_when_a_change_brings_the_axis(blank_page):
    """Picking one-cycle on the page (a change patches the figure) brings the momentum
    axis: the toolbar lies down as when the page opens with it, then stands again when the
    axis goes (it stood over the axis's title after the change)."""
    page = blank_page
    emulate(page, 1366, 768)
    d = page.driver
    orientation = "return document.querySelector('#lr-graph .js-plotly-plot')" \
                  "._fullLayout.modebar.orientation"
    choose(page, "schedule", "One-cycle")
    wait_until(lambda: d.execute_script(
        "var t = document.querySelector('#lr-graph .y2title'); return !!t"), page=page)
    settle(page)
    assert d.execute_script(orientation) == "h"
    assert d.execute_script(CUT) == []
    choose(page, "schedule", "Cosine annealing")
    wait_until(lambda: not d.execute_script(
        "return !!document.querySelector('#lr-graph .y2title')"), page=page)
    settle(page)
    assert d.execute_script(orientation) == "v"
    assert d.execute_script(CUT) == []


UPRIGHT_STEP_LABELS = """
return Array.from(document.querySelectorAll('#lr-graph g.xtick text')).filter(function (t) {
  return /rotate\\((-?90)/.test(t.getAttribute('transform') || '');
}).map(function (t) { return t.textContent; });
"""


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), PHONE],
                         ids=["1280x800", "1366x768", "phone"])
def test_the_lr_plot_with_its_momentum_axis_reads_its_steps_across(blank_page, size):
    """With the momentum axis in its right margin, the lr plot on a laptop's third of the
    page stood its six step labels upright; it carries fewer, side by side."""
    page = blank_page
    emulate(page, *size, phone=size == PHONE, path=MOMENTUM_RUN)
    d = page.driver
    labels = d.execute_script(
        "return Array.from(document.querySelectorAll('#lr-graph g.xtick text'))"
        ".map(function (t) { return t.textContent; })")
    assert labels[0] == "0" and labels[-1] == "500", labels
    assert d.execute_script(UPRIGHT_STEP_LABELS) == []


@pytest.mark.parametrize("size", [(1366, 768), (1280, 800)], ids=["1366x768", "1280x800"])
def test_a_lesson_projected_in_lecture_mode_keeps_its_plots_tall(blank_page, size):
    """A lecturer projecting a lesson from a laptop: the claim, the plots and the play bar
    on one screen, the plots taking more than half of it (they fell to their 300-px
    floor, two fifths of a 768-px screen, with the axis titles running into each other)."""
    from playground import lessons

    page = blank_page
    emulate(page, *size, path=lessons.lesson_path(lessons.LESSONS["one-cycle"]))
    lecture(page, True)
    d = page.driver
    d.execute_script("window.scrollTo(0, 0)")
    box = d.execute_script(
        "var r = document.querySelector('.plots').getBoundingClientRect(),"
        "    bar = document.querySelector('.animation-bar').getBoundingClientRect(),"
        "    claim = document.getElementById('lesson-claim').getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, bar: bar.bottom, claim: claim.top,"
        "        screen: innerHeight};")
    assert box["bottom"] - box["top"] > 0.55 * box["screen"], box
    assert 0 <= box["claim"] and box["bar"] <= box["screen"], box
    if size == (1366, 768):  # (at 1280 a lesson's label set 1.3x larger can reach the
        assert d.execute_script(CUT) == []  # toolbar: placed for the page's type)
    lecture(page, False)


def test_lecture_mode_enlarges_every_text_on_the_page_and_the_plots_fill_the_screen(
        blank_page):
    page = blank_page
    emulate(page, 1920, 1080)
    d = page.driver
    before = d.execute_script(LECTURE_TEXT)
    page.find_element("#lecture-toggle").click()
    settle(page)
    after = d.execute_script(LECTURE_TEXT)
    common = set(before) & set(after)
    assert len(common) > 20
    small = {k: (before[k], after[k]) for k in common if after[k] < 1.25 * before[k]}
    assert small == {}
    height = d.execute_script("return document.querySelector('.plots')"
                              ".getBoundingClientRect().height")
    assert height > 0.7 * 1080


CONTRAST = r"""
function rgb(c) { var m = c.match(/[\d.]+/g).map(Number); return m.slice(0, 3); }
function lum(c) { return rgb(c).map(function (v) { v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
  .reduce(function (s, v, i) { return s + v * [0.2126, 0.7152, 0.0722][i]; }, 0); }
function bg(e) { while (e) { var c = getComputedStyle(e).backgroundColor;
  if (c && !/rgba\(.*, 0\)$/.test(c) && c !== 'transparent') return c; e = e.parentElement; }
  return 'rgb(255, 255, 255)'; }
return [...document.querySelectorAll('.dash-dropdown-trigger-icon')].map(function (i) {
  var a = lum(getComputedStyle(i).color), b = lum(bg(i));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); });
"""


def test_in_the_dark_theme_every_menu_shows_its_arrow(blank_page):
    page = blank_page
    emulate(page, 1366, 768)
    page.find_element("#theme input[value=dark]").click()
    wait_until(lambda: "theme-dark" in page.find_element("#app-root").get_attribute("class"))
    ratios = page.driver.execute_script(CONTRAST)
    assert len(ratios) >= 4 and min(ratios) >= 3  # WCAG's minimum for graphics


MINIMUM_LABEL_COVER = r"""
var gd = document.querySelector('#path-graph .js-plotly-plot');
var label = [...gd.querySelectorAll('.scatterlayer .textpoint text')]
  .find(function (t) { return t.textContent === 'minimum'; });
if (!label) { return ['no "minimum" label on the path plot']; }
var r = label.getBoundingClientRect(), problems = [];
function inside(x, y) {
  return x > r.left + 1 && x < r.right - 1 && y > r.top + 1 && y < r.bottom - 1; }
function overlaps(b) {
  return b.right > r.left + 1 && b.left < r.right - 1 && b.bottom > r.top + 1 &&
         b.top < r.bottom - 1; }
var traces = gd.querySelectorAll('.scatterlayer .trace');
// the current run's path (its line and markers) and its start/end markers
[traces[1], traces[2]].forEach(function (tr) {
  tr.querySelectorAll('path.point').forEach(function (p) {
    if (overlaps(p.getBoundingClientRect())) { problems.push('a marker covers the label'); } });
  tr.querySelectorAll('path.js-line').forEach(function (line) {
    var m = line.getScreenCTM(), n = line.getTotalLength();
    for (var s = 0; s <= n; s += 1) {
      var q = line.getPointAtLength(s);
      if (inside(m.a * q.x + m.c * q.y + m.e, m.b * q.x + m.d * q.y + m.f)) {
        problems.push('the path\'s line crosses the label'); break; } } });
});
return problems;
"""


@pytest.mark.parametrize("path", [
    "/",  # Rosenbrock: the path comes up the valley to the star and ends just below it
    "/?problem=quadratic_bowl&steps=100&optimizer=sgd&optimizer.lr=0.05"
    "&optimizer.momentum=0.9",  # momentum swings through the minimum, corner to corner
    "/?problem=quadratic_bowl&start=0.3,2.5&steps=60&optimizer=sgd&optimizer.lr=0.05",
], ids=["rosenbrock", "bowl-momentum", "bowl-from-above"])
def test_the_path_leaves_the_minimums_label_readable(blank_page, path):
    """The star's label sits where the current run's line, markers and end marker do
    not cover it (under the star it was hidden by the path's last steps on Rosenbrock)."""
    emulate(blank_page, 1366, 768, path=path)
    assert blank_page.driver.execute_script(MINIMUM_LABEL_COVER) == []


PICKED_FITS = r"""
var ids = arguments[0], labels = arguments[1], cut = [];
ids.forEach(function (id) {
  var value = document.getElementById(id).querySelector('.dash-dropdown-value');
  var shown = value.textContent;
  labels[id].forEach(function (label) {
    value.textContent = label;
    if (value.scrollWidth > value.clientWidth + 1) { cut.push(id + ': "' + label + '"'); }
  });
  value.textContent = shown;
});
return cut;
"""


def test_every_surface_optimizer_and_schedule_reads_whole_once_picked_on_a_laptop(blank_page):
    """Picked, an entry's name shows in its menu's box, which on a 1280-px laptop holds
    about 22 characters: none is cut off with an ellipsis ("Cosine with warm rest…")."""
    from playground.config import SECTIONS

    emulate(blank_page, 1280, 800)
    labels = {section: [e.label for e in registry.values()]
              for section, registry in SECTIONS.items()}
    assert blank_page.driver.execute_script(PICKED_FITS, list(labels), labels) == []
