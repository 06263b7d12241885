"""The plots as a lecture hall sees them, in headless Chromium (dash_duo): lecture mode
enlarges every text on the plots, the toolbar never covers a title, the path map keeps
its aspect, and the dark theme's plot colours stand out from its background."""
import pytest
from browser_helpers import js, lecture, open_page, steady, wait_until

from playground.config import page_path
from playground.web.form import DEFAULT_CONFIG

pytestmark = pytest.mark.browser

GRAPHS = ("lr-graph", "loss-graph", "path-graph")
BLOWS_UP = {**DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 1e4}}
"""A pinned run that diverges at step 1: its note is an annotation on every plot."""


def open_at(page, width=1920, height=1080, pins=(BLOWS_UP,)):
    """Load the page in a window of this size with these runs pinned, once its plots are
    drawn and still."""
    page.driver.set_window_size(width, height)
    open_page(page, page_path(DEFAULT_CONFIG, list(pins)))
    wait_until(lambda: js(page, "var gd = document.querySelector('#path-graph .js-plotly-plot');"
                                "return !!(gd && gd._fullLayout && gd.data.length >= 5);"))
    steady(page)


TEXTS = """
var out = [];
arguments[0].forEach(function (id) {
  document.querySelectorAll('#' + id + ' svg text').forEach(function (t) {
    var text = t.textContent.trim();
    var box = t.getBoundingClientRect();
    if (!text || !box.width) { return; }
    var fill = getComputedStyle(t).fill;
    out.push([id + '|' + (t.getAttribute('class') || '') + '|' + text,
              parseFloat(getComputedStyle(t).fontSize), fill]);
  });
});
return out;
"""


def texts(page):
    """{graph|class|text: font size in px} of every text drawn on the three plots."""
    return {key: size for key, size, _ in js(page, TEXTS, list(GRAPHS))}


def test_lecture_mode_enlarges_every_text_on_the_plots(blank_page):
    page = blank_page
    open_at(page)
    before = texts(page)
    assert any(k.endswith("|minimum") for k in before)
    assert any("diverged at step 1" in k for k in before)  # the annotation
    assert any("gtitle" in k for k in before)
    lecture(page, True)
    after = texts(page)
    common = set(before) & set(after)
    assert len(common) >= 0.8 * len(before)  # the same texts (a few ticks may change)
    for key in common:
        assert 1.2 <= after[key] / before[key] <= 1.4, key
    # the hover label: a hovered step's box on the loss plot
    size = js(page, """
        var gd = document.querySelector('#loss-graph .js-plotly-plot');
        Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 100}]);
        var t = gd.querySelector('.hoverlayer text');
        return t ? parseFloat(getComputedStyle(t).fontSize) : null;""")
    base = js(page, "return document.querySelector('#loss-graph .js-plotly-plot')"
                    "._lectureFonts['hoverlabel.font.size'].orig;")
    assert size is not None and 1.2 <= size / base <= 1.4
    js(page, "Plotly.Fx.unhover(document.querySelector('#loss-graph .js-plotly-plot'));")
    lecture(page, False)
    back = texts(page)
    assert {k: back[k] for k in common} == {k: before[k] for k in common}  # and back
    assert page.get_logs() == []


def boxes(page, graph):
    return js(page, """
        var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        var bar = gd.querySelector('.modebar'), title = gd.querySelector('.gtitle');
        function box(el) { var r = el.getBoundingClientRect();
                           return [r.left, r.top, r.right, r.bottom]; }
        return [box(title), box(bar), box(gd)];""", graph)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


ASPECT = """
var gd = document.querySelector('#path-graph .js-plotly-plot'), l = gd._fullLayout;
return [(l.xaxis.range[1] - l.xaxis.range[0]) / l.xaxis._length,
        (l.yaxis.range[1] - l.yaxis.range[0]) / l.yaxis._length];
"""


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1920, 1080), (390, 844)])
def test_the_toolbar_never_covers_a_plot_title_and_the_path_map_keeps_its_aspect(
        blank_page, size):
    """In and out of lecture mode (on a phone the toolbar is checked out of it only: a
    phone has no room for lecture mode)."""
    page = blank_page
    open_at(page, *size, pins=())
    for lecturing in (False, True):
        if lecturing:
            before = boxes(page, "path-graph")[1]
            lecture(page, True)
            if size[0] >= 1280:
                after = boxes(page, "path-graph")[1]
                assert (after[3] - after[1]) / (before[3] - before[1]) == pytest.approx(1.3, 0.05)
        x, y = js(page, ASPECT)
        assert x == pytest.approx(y, rel=0.01), lecturing  # as many x units per px as y units
        if lecturing and size[0] < 1280:
            continue
        for graph in GRAPHS:
            title, bar, plot = boxes(page, graph)
            if size[0] < 1280 and bar[2] - bar[0] == 0:
                continue  # no toolbar drawn at this width: nothing to cover the title
            assert bar[2] - bar[0] > 0 and bar[3] - bar[1] > 0
            assert bar[2] <= plot[2] + 1  # inside the plot's box
            assert not overlap(title, bar), (graph, lecturing, title, bar)


def luminance(css: str) -> float:
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    rgb = [float(v) / 255 for v in parts[:3]]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


STROKES = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
function stroke(sel) { var el = gd.querySelector(sel);
                       return el ? getComputedStyle(el).stroke : null; }
var bg = gd.querySelector('.main-svg rect.bg') || gd.querySelector('.main-svg');
var icon = gd.querySelector('.modebar-btn path');
return {paper: getComputedStyle(gd.querySelector('.main-svg')).backgroundColor,
        grid: stroke('.gridlayer path'), tick: stroke('path.ytick, path.xtick'),
        line: stroke('path[class*=lines-above]'), icon: icon ? getComputedStyle(icon).fill : null};
"""


def test_in_the_dark_theme_every_plot_colour_stands_out(blank_page):
    page = blank_page
    open_at(page)
    page.find_element("#theme input[value='dark']").click()
    wait_until(lambda: js(page, "return getComputedStyle(document.querySelector("
                                "'#lr-graph .main-svg')).backgroundColor") == "rgb(21, 24, 28)")
    steady(page)
    for graph in ("lr-graph", "loss-graph"):
        c = js(page, STROKES, graph)
        paper = c["paper"]
        assert contrast(c["tick"], paper) >= 3 and contrast(c["line"], paper) >= 3, c
        assert contrast(c["grid"], paper) >= 1.8, c  # faint, but there on a projector
        assert contrast(c["icon"], paper) >= 3, c
    for key, _, fill in js(page, TEXTS, list(GRAPHS)):
        if "|minimum" in key:
            continue  # drawn over the contour map, not the paper
        assert contrast(fill, "rgb(21, 24, 28)") >= 4.5, key
    assert page.get_logs() == []


def test_lecture_mode_enlarges_the_panel_a_lesson_leads_with_and_keeps_it_on_a_redraw(
        blank_page):
    """The band lesson leads with the "Loss against the lr" panel: lecture mode enlarges
    its plot's texts as the run's, also after the server redraws it (the other metric),
    and leaving puts them back."""
    from playground import lessons
    page = blank_page
    page.driver.set_window_size(1366, 768)
    open_page(page, lessons.lesson_path(lessons.LESSONS["lr-band"]))
    graph = "var gd = document.querySelector('#sensitivity-graph .js-plotly-plot');"

    def drawn(metric):
        wait_until(lambda: js(page, graph + "return !!(gd && gd._fullLayout && "
                                            "gd.layout.yaxis.title.text.startsWith(arguments[0]))",
                              metric))
        steady(page)
        return {key: size for key, size, _ in js(page, TEXTS, ["sensitivity-graph"])}

    before = drawn("final")
    assert any(k.endswith("|target 0.001") for k in before)  # an annotation
    assert any("gtitle" in k for k in before)
    lecture(page, True)
    after = drawn("final")
    assert set(before) <= set(after)
    for key in before:
        assert 1.2 <= after[key] / before[key] <= 1.4, key
    page.driver.find_element("css selector", "#sensitivity-metric input[value=best]").click()
    best = drawn("best")  # a new figure from the server, at the page's sizes
    title = [k for k in best if "gtitle" in k]
    assert title and best[title[0]] == after[[k for k in after if "gtitle" in k][0]]
    lecture(page, False)
    back = drawn("best")
    assert back[title[0]] == before[[k for k in before if "gtitle" in k][0]]
    assert page.get_logs() == []
