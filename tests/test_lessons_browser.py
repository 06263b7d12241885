"""Every lesson stays legible in the browser: its claim on the first screen of a laptop,
and no text drawn on a plot (title, axis title, annotation, legend, button) cut by the
plot's edge or lying on another text, and no label of the lesson's under the plot's
toolbar. Measured on the page as Chromium draws it."""
import pytest
from browser_helpers import js, lecture, open_page, steady, wait_until

from playground import lessons
from playground.web import lesson_view

pytestmark = pytest.mark.browser

# Every text a plot draws, with its bounding box in the page and the graph's own box.
TEXTS_JS = """
var out = [];
document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
  var graph = gd.closest('[id]') ? gd.closest('[id]').id : '';
  var frame = gd.getBoundingClientRect();
  var bar = gd.querySelector('.modebar'), b = bar && bar.getBoundingClientRect();
  bar = b && b.width ? [b.left, b.top, b.right, b.bottom] : null;
  gd.querySelectorAll('.annotation-text, .gtitle, .g-xtitle text, .g-ytitle text, ' +
                      '.legendtext, .updatemenu-item-text').forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (!t.textContent.trim() || r.width === 0 || r.height === 0) { return; }
    out.push({graph: graph, text: t.textContent.trim(), cls: t.getAttribute('class'),
              box: [r.left, r.top, r.right, r.bottom],
              frame: [frame.left, frame.top, frame.right, frame.bottom], bar: bar});
  });
});
return out;
"""

TOLERANCE = 1.5
"""Pixels a text may touch another, or the plot's edge, by (anti-aliasing, rounding)."""


def problems(texts: list[dict]) -> list[str]:
    """What is wrong with the texts of the plots: each one cut by its plot's edge, each
    label (annotation) under the plot's toolbar, and each pair of one plot's texts that
    overlap."""
    out = []
    for t in texts:
        (l, tp, r, b), (fl, ft, fr, fb) = t["box"], t["frame"]
        if l < fl - TOLERANCE or tp < ft - TOLERANCE or r > fr + TOLERANCE \
                or b > fb + TOLERANCE:
            out.append(f"{t['graph']}: {t['text']!r} is cut by the plot's edge")
        bar = t.get("bar")
        if bar and "annotation" in (t.get("cls") or "") and _overlap(t["box"], bar):
            out.append(f"{t['graph']}: {t['text']!r} runs under the toolbar")
    for i, a in enumerate(texts):
        for c in texts[i + 1:]:
            if a["graph"] == c["graph"] and _overlap(a["box"], c["box"]):
                out.append(f"{a['graph']}: {a['text']!r} lies on {c['text']!r}")
    return out


def _overlap(a: list, c: list) -> bool:
    w = min(a[2], c[2]) - max(a[0], c[0])
    h = min(a[3], c[3]) - max(a[1], c[1])
    return w > TOLERANCE and h > TOLERANCE


def test_problems_finds_a_cut_and_an_overlap():
    frame = [0, 0, 100, 100]
    texts = [{"graph": "g", "text": "a", "box": [10, 10, 50, 20], "frame": frame},
             {"graph": "g", "text": "b", "box": [40, 15, 60, 25], "frame": frame},
             {"graph": "g", "text": "c", "box": [90, 50, 110, 60], "frame": frame},
             {"graph": "h", "text": "d", "box": [10, 10, 50, 20], "frame": frame},
             {"graph": "k", "text": "e", "box": [60, 5, 95, 15], "frame": frame,
              "cls": "annotation-text", "bar": [90, 0, 100, 40]},
             {"graph": "k", "text": "f", "box": [60, 50, 95, 60], "frame": frame,
              "cls": "annotation-text", "bar": [90, 0, 100, 40]}]
    assert problems(texts) == ["g: 'c' is cut by the plot's edge",
                               "k: 'e' runs under the toolbar", "g: 'a' lies on 'b'"]


def viewport(page, width: int, height: int):
    """Resize the window so that the page itself (not the window) is width x height."""
    driver = page.driver
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def open_lesson(page, lesson):
    """Load the lesson's link and wait until its plots are drawn, annotated and still."""
    open_page(page, lessons.lesson_path(lesson))
    page.wait_for_element("#lesson-claim", timeout=30)
    wait_until(lambda: js(  # all three plots drawn, with their annotations
        page, "return document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6 "
              "&& Array.from(document.querySelectorAll('.js-plotly-plot')).every("
              "function (g) { return g._fullLayout && g.data && g.data.length; })"),
        timeout=30, page=page)
    if lesson.open_panel:  # and the panel the lesson opens, drawn
        wait_until(lambda: js(page, "var gd = document.querySelector(%r);"
                                    "return !!(gd && gd._fullLayout && gd.data.length)"
                              % picture(lesson)), timeout=30, page=page)
    steady(page)  # the last relayout (axes, annotations) of each plot


def picture(lesson) -> str:
    """The CSS selector of what carries the lesson's claim: its three plots, or the plot of
    the panel it opens (``open_panel``)."""
    if lesson.open_panel:
        return f"#{lesson_view.PANEL_IDS[lesson.open_panel]} .js-plotly-plot"
    return ".plot"


def claim_on_first_screen(page, lesson) -> str | None:
    """What keeps the lesson's claim (or its picture: its plots, or the plot area of the
    panel it opens) off the first screen, if anything."""
    assert page.find_element("#lesson-claim").text == lesson.summary
    assert not page.find_element("#lesson-details").get_attribute("open")  # folded away
    box = page.driver.execute_script(
        "var claim = document.getElementById('lesson-claim');"
        "var r = claim.getBoundingClientRect();"
        "var inner = arguments[1];"  # a panel's plot: its plot area
        "var plots = Array.from(document.querySelectorAll(arguments[0])).map(function (p) {"
        "  var area = inner ? p.querySelector('.nsewdrag') : p;"
        "  return area.getBoundingClientRect().bottom; });"
        "return {top: r.top, bottom: r.bottom, plots: Math.max.apply(null, plots),"
        "        height: window.innerHeight,"
        "        font: parseFloat(getComputedStyle(claim).fontSize),"
        "        body: parseFloat(getComputedStyle(document.body).fontSize)};",
        picture(lesson), bool(lesson.open_panel))
    if not 0 <= box["top"] < box["bottom"] <= box["height"]:
        return f"claim at {box['top']:.0f}-{box['bottom']:.0f}px of {box['height']}"
    if box["plots"] > box["height"] + TOLERANCE:
        return f"{'plots' if not lesson.open_panel else lesson.open_panel + ' plot'} end " \
               f"at {box['plots']:.0f}px of {box['height']}"
    if box["font"] < 1.1 * box["body"]:
        return "the claim is not set larger than the text around it"
    return None


# 1366x768 only: the tightest screen a lecturer projects from (at 1920x1080 every plot has
# more room and lecture mode scales the same 1.3x); both sizes took twice the suite's time.
# One test per lesson, so that the suite's two workers share them.
@pytest.mark.parametrize("lesson", lessons.LESSONS.values(), ids=lessons.LESSONS.keys())
def test_a_lesson_shows_its_claim_first_and_its_plot_texts_uncut_and_apart(blank_page,
                                                                            lesson):
    """The lesson as it opens and in lecture mode: every text on its plots inside the plot
    and clear of the others; at 1366x768 the claim and the plots on the first screen."""
    page = blank_page
    viewport(page, 1366, 768)
    open_lesson(page, lesson)
    assert not js(page, "return document.body.classList.contains('lecture')")
    bad = problems(page.driver.execute_script(TEXTS_JS))
    bad += [p for p in [claim_on_first_screen(page, lesson)] if p]
    lecture(page, True)
    # lecture mode: the lesson's own texts (the plots' titles and axes are the page's)
    own = [t for t in page.driver.execute_script(TEXTS_JS)
           if "annotation" in t["cls"] or "updatemenu" in t["cls"]]
    bad += [f"lecture mode: {p}" for p in problems(own)]
    assert not bad, "\n".join(bad)
