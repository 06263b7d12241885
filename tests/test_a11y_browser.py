"""Accessibility of the page in headless Chromium: axe-core (through axe-selenium-python)
finds no serious or critical violation on the default page, with a lesson open, in the
dark theme, on a phone (390x844, touch) and with the share dialog open in lecture mode;
and every control a user can reach has an accessible name, as Chromium computes it.

Violations whose fix lies in a module the test cannot change are listed in
ELSEWHERE (rule -> where and how to fix it): a page with only those is an expected
failure naming them, any other serious or critical violation fails. Nothing is excluded
from the scan."""
import os

import pytest
from axe_selenium_python import Axe
from browser_helpers import js, open_page, steady, wait_until

from playground.lessons import LESSONS, lesson_path

pytestmark = pytest.mark.browser

SEVERE = ("serious", "critical")
AXE_SCRIPT = os.environ.get("AXE_CORE_JS")
"""axe-core to run instead of the one axe-selenium-python ships (a path to axe.min.js):
the last axe-selenium-python for Python 3.11 (2.1.6) ships axe-core 3.1.1."""

ELSEWHERE = {
    # axe-core 4 (AXE_CORE_JS) reports these in Dash 4's own component markup:
    "aria-input-field-name": "dcc.RadioItems/Checklist (role=listbox) and dcc.Slider "
                             "(role=slider) render without a name; they take no aria-label",
    "nested-interactive": "dcc.RadioItems/Checklist put each input in a role=option label",
    "aria-hidden-focus": "dcc.Dropdown renders a focusable aria-hidden input",
}
"""Serious or critical rules inside Dash's own components (only Dash can fix them)."""

UNNAMED_ELSEWHERE: dict[str, str] = {}
"""Controls without a name that the page cannot name, by kind: none (assets/a11y.js names
Dash's slider thumbs and MathJax's focusable formula)."""

CONTROLS = ("button, input:not([type=hidden]), select, textarea, a[href], summary, "
            "[role=button], [role=slider], [role=combobox], [role=checkbox], [role=radio], "
            "[role=switch], [role=tab], [role=option], [tabindex]:not([tabindex='-1'])")
"""What a user can operate (or reach with the keyboard)."""


def settle(page):
    """The plots drawn, no callback in flight and nothing moving."""
    page.wait_for_element("#path-graph .js-plotly-plot", timeout=20)
    steady(page)


def severe(page, context=None) -> list[dict]:
    """axe-core's serious and critical violations on the page (or in ``context``)."""
    axe = Axe(page.driver, AXE_SCRIPT) if AXE_SCRIPT else Axe(page.driver)
    axe.inject()
    result = axe.run(context=context, options='{"resultTypes": ["violations"]}')
    return [v for v in result["violations"] if v["impact"] in SEVERE]


def report(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {n['target']}: {n['html'][:160]}" for n in v["nodes"][:8]]
    return "\n".join(lines)


def check(page, context=None, elsewhere=None):
    """Fail on a severe violation that is not in ELSEWHERE; an expected failure naming
    the rules when only those remain. With a list ``elsewhere``, the rules in ELSEWHERE
    are added to it instead, for expect_elsewhere to name once the test's other checks
    have run."""
    found = severe(page, context)
    ours = [v for v in found if v["id"] not in ELSEWHERE]
    assert not ours, "accessibility violations:\n" + report(ours)
    if elsewhere is not None:
        elsewhere += [v["id"] for v in found]
    else:
        expect_elsewhere([v["id"] for v in found])


def expect_elsewhere(rules, unnamed=()):
    """An expected failure naming the ELSEWHERE rules found and the UNNAMED_ELSEWHERE
    kinds of control without a name, if any."""
    why = []
    if rules:
        why.append("violations to fix outside browser.py/share.py: " + ", ".join(
            f"{rule} ({ELSEWHERE[rule]})" for rule in dict.fromkeys(rules)))
    if unnamed:
        why.append("controls without a name, to fix outside browser.py/share.py: " +
                   "; ".join(f"{kind} ({UNNAMED_ELSEWHERE[kind]})" for kind in sorted(unnamed)))
    if why:
        pytest.xfail("; ".join(why))


def unnamed_controls(page) -> list[tuple[str | None, str]]:
    """Every visible control without an accessible name (Chromium's computed name), with
    its kind in UNNAMED_ELSEWHERE (None: a kind with no known fix elsewhere)."""
    out = []
    for el in page.driver.find_elements("css selector", CONTROLS):
        if not el.is_displayed() or el.get_attribute("aria-hidden") == "true" \
                or (el.accessible_name or "").strip():
            continue
        kind = page.driver.execute_script("""var el = arguments[0];
            if (el.closest('#animation-bar, #share-dialog')) { return null; }
            if (el.matches('.dash-range-slider-input')) { return 'slider-input'; }
            if (el.getAttribute('role') === 'slider') { return 'slider'; }
            if (el.closest('mjx-container')) { return 'formula'; }
            if (el.closest('.field') && el.matches('input')) { return 'field'; }
            return null;""", el)
        out.append((kind, el.get_attribute("outerHTML")[:160]))
    return out


def click(page, selector: str):
    """Click as a user does, once the page has stopped moving under the pointer (lecture
    mode resizes the plots)."""
    def attempt():
        try:
            page.find_element(selector).click()
            return True
        except Exception as e:  # the plots still resizing over the button
            if "intercepted" not in str(e):
                raise
            return False
    wait_until(attempt)


def every_control_has_an_accessible_name(page) -> set[str]:
    """Fail unless the animation bar's buttons and every control, all folds open, have a
    name, but for the kinds in UNNAMED_ELSEWHERE: those found are returned."""
    js(page, "document.querySelectorAll('details').forEach(function (d) { d.open = true; });")
    wait_until(lambda: js(page, "return [...document.querySelectorAll('details')].every("
                                "function (d) { return d.open; })"))
    steady(page)
    bar = [el.accessible_name for el in page.find_elements("#animation-bar button")]
    assert bar[:4] == ["▶ Play", "Back to step 0", "One step back", "One step forward"]
    missing = unnamed_controls(page)
    ours = [html for kind, html in missing if kind not in UNNAMED_ELSEWHERE]
    assert not ours, "controls without an accessible name:\n" + "\n".join(ours)
    return {kind for kind, _ in missing}


def test_the_default_page_in_both_themes_and_every_control_named(page):
    """One page load, three checks in turn: axe-core on the default page, then in the dark
    theme, then (back in the light theme) every control's accessible name."""
    settle(page)
    elsewhere = []
    check(page, elsewhere=elsewhere)

    js(page, "document.querySelector('#theme input[value=dark]').click();")
    wait_until(lambda: js(page, "return document.body.classList.contains('theme-dark')"))
    settle(page)
    check(page, elsewhere=elsewhere)

    js(page, "document.querySelector('#theme input[value=light]').click();")
    wait_until(lambda: not js(page, "return document.body.classList.contains('theme-dark')"))
    settle(page)
    unnamed = every_control_has_an_accessible_name(page)
    expect_elsewhere(elsewhere, unnamed)


def test_a_lesson_open(blank_page):
    page = blank_page
    open_page(page, lesson_path(LESSONS["sgdr"]))
    settle(page)
    wait_until(lambda: page.find_elements(".lesson-panel"))
    check(page)


def test_a_phone_with_touch(blank_page):
    page = blank_page
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                                {"enabled": True, "maxTouchPoints": 5})
    open_page(page)
    settle(page)
    assert js(page, "return innerWidth") == 390
    check(page)


def test_the_animation_bar_and_the_share_dialog_have_no_violation(page):
    """The parts this change owns, checked strictly (no expected failures): the bar, and
    the share dialog open in lecture mode."""
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    settle(page)
    found = severe(page, {"include": [["#animation-bar"]]})
    assert not found, report(found)
    click(page, "#lecture-toggle")
    wait_until(lambda: js(page, "return document.body.classList.contains('lecture')"))
    click(page, "#share-toggle")
    wait_until(lambda: "pending" not in page.find_element("#share-qr").get_attribute("class"))
    found = severe(page, {"include": [["#share-dialog"]]})
    assert not found, report(found)
    assert page.find_element("#share-qr").accessible_name.startswith("QR code of this page")
    assert page.find_element("#share-dialog").accessible_name == "Scan to open this run"
