"""What only a browser shows: the page in headless Chromium (dash_duo), driven like a user."""
import time

import numpy as np
import pytest
from browser_helpers import choose, open_page, set_input, trace, wait_until
from selenium.webdriver.common.keys import Keys

import playground
from playground.web.figures import fmt
from playground.web.form import DEFAULT_CONFIG

pytestmark = pytest.mark.browser


def test_page_loads_with_three_plots_holding_data(page):
    want = playground.simulate(DEFAULT_CONFIG)
    np.testing.assert_allclose(trace(page, "lr-graph", 0), want["lr"], rtol=1e-6)
    np.testing.assert_allclose(trace(page, "loss-graph", 0), want["loss"], rtol=1e-5)
    np.testing.assert_allclose(trace(page, "path-graph", 2, "x"), want["path"][:, 0],
                               rtol=1e-5, atol=1e-7)
    assert len(trace(page, "path-graph", 0, "z")) > 10  # the hover/click grid
    # the contour map: a layout image Plotly drew under the data
    assert page.driver.execute_script(
        "return document.querySelectorAll('#path-graph .imagelayer image').length") == 1
    assert page.get_logs() == []


def test_plotly_redraws_with_the_browsers_own_trim_and_parse_float(page):
    """Dash's polyfill (core-js 2) replaces them with slower JavaScript in every current
    browser (assets/natives.js); the page puts the browser's own back, behaving as such."""
    replaced = page.driver.execute_script("""
        var frame = document.createElement('iframe');
        document.body.appendChild(frame);
        var native = frame.contentWindow.Function.prototype.toString;  // not core-js's
        var trims = ['trim', 'trimStart', 'trimEnd', 'trimLeft', 'trimRight'];
        var out = trims.filter(function (name) {
            return native.call(String.prototype[name]).indexOf('[native code]') < 0; })
          .concat(['parseFloat', 'parseInt'].filter(function (name) {
            return native.call(window[name]).indexOf('[native code]') < 0
                || native.call(Number[name]).indexOf('[native code]') < 0; }));
        frame.remove();
        return out;""")
    assert replaced == []
    assert page.driver.execute_script(
        "return [' \\u180e a\\t'.trim(), parseFloat(' 2.5e-3px'), parseInt('\\n08', 10)]"
    ) == ["\u180e a", 0.0025, 8]  # U+180E is no white space since ES2016
    assert page.get_logs() == []


def test_changing_schedule_lr_and_steps_redraws_the_lr_curve(page):
    choose(page, "schedule", "Step decay")
    set_input(page, "#lr", "0.05")
    set_input(page, "#steps", "300")
    config = {**DEFAULT_CONFIG, "steps": 300, "optimizer": {"name": "adam", "lr": 0.05},
              "schedule": {"name": "StepLR"}}
    want = playground.simulate(config)["lr"]
    got = wait_until(lambda: (lambda y: y if y and len(y) == 300 and
                              abs(y[-1] - want[-1]) < 1e-9 else None)(
        trace(page, "lr-graph", 0)), page=page)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert "schedule=StepLR" in page.driver.current_url
    assert "steps=300" in page.driver.current_url


def test_pinning_two_runs_shows_two_more_traces_in_every_plot(page):
    page.find_element("#pin").click()
    set_input(page, "#lr", "0.05")
    wait_until(lambda: trace(page, "lr-graph", 0)[100] != trace(page, "lr-graph", 3)[100]
               if trace(page, "lr-graph", 3) else None)
    page.find_element("#pin").click()
    set_input(page, "#lr", "0.01")
    wait_until(lambda: trace(page, "lr-graph", 6) and len(trace(page, "lr-graph", 6)) == 500)
    for graph, first in (("lr-graph", lambda s: 3 * s), ("loss-graph", lambda s: 2 * s),
                         ("path-graph", lambda s: 2 + 2 * s)):
        key = "x" if graph == "path-graph" else "y"
        filled = [s for s in range(7) if trace(page, graph, first(s), key)]
        assert filled == [0, 1, 2], (graph, filled)
    lrs = {round(trace(page, "lr-graph", 3 * s)[60], 6) for s in range(3)}
    assert len(lrs) == 3  # three different runs
    rows = page.find_elements("#summary table.summary tbody tr")
    assert len(rows) == 3


def test_a_copied_address_reproduces_the_page(page):
    choose(page, "optimizer", "RMSprop")
    set_input(page, "#lr", "0.02")
    page.find_element("#pin").click()
    choose(page, "schedule", "One-cycle")
    wait_until(lambda: "OneCycleLR" in page.driver.current_url and "p1." in
               page.driver.current_url)
    address = page.driver.current_url
    before = [trace(page, "lr-graph", i) for i in (0, 3)]
    history = page.driver.execute_script("return window.history.length")
    assert history <= 2  # the address was replaced, not pushed at every change
    page.driver.get(address)
    page.wait_for_element("#path-graph .js-plotly-plot", timeout=20)
    after = [trace(page, "lr-graph", i) for i in (0, 3)]
    np.testing.assert_allclose(after[0], before[0], rtol=1e-7)
    np.testing.assert_allclose(after[1], before[1], rtol=1e-7)


def test_a_bad_value_shows_its_message_and_keeps_the_plots(page):
    choose(page, "schedule", "Multi-step decay")
    wait_until(lambda: "MultiStepLR" in page.driver.current_url)
    before = trace(page, "lr-graph", 0)
    box = 'input[id*="schedule.MultiStepLR.milestones"]'
    set_input(page, box, "30, x")
    message = wait_until(lambda: page.driver.execute_script(
        "var m = document.getElementById(JSON.stringify("
        "{key: 'schedule.MultiStepLR.milestones', type: 'msg'})); return m && m.innerText;"))
    assert "integers" in message
    assert trace(page, "lr-graph", 0) == before


def test_a_malformed_link_opens_the_defaults_with_a_note(blank_page):
    page = blank_page
    open_page(page, "/?optimizer=adam&optimizer.lr=fast")
    assert "could not be opened" in page.find_element("#note").text
    want = playground.simulate(DEFAULT_CONFIG)
    np.testing.assert_allclose(trace(page, "lr-graph", 0), want["lr"], rtol=1e-6)


def test_a_lesson_from_the_menu_opens_its_runs_explanation_and_typeset_formula(page):
    from playground import lessons

    lesson = lessons.LESSONS["sgdr"]
    choose(page, "lesson-menu", f"{list(lessons.LESSONS).index('sgdr') + 1}. {lesson.title}")
    wait_until(lambda: "lesson=sgdr" in page.driver.current_url, page=page)
    page.wait_for_element("#lesson-panel", timeout=20)
    assert lesson.title in page.find_element("#lesson-panel").text
    want = [playground.simulate(c)["lr"] for c in lesson.runs]
    wait_until(lambda: trace(page, "lr-graph", 3) is not None, page=page)
    np.testing.assert_allclose(trace(page, "lr-graph", 0), want[0], rtol=1e-6)
    np.testing.assert_allclose(trace(page, "lr-graph", 3), want[1], rtol=1e-5)
    # MathJax typeset the schedule's formula (an SVG or CHTML rendering, not raw TeX)
    wait_until(lambda: page.driver.execute_script(
        "return document.querySelectorAll('#formula mjx-container').length"), page=page)
    assert "$$" not in page.find_element("#formula").text
    assert page.get_logs() == []


def test_the_typeset_formula_follows_a_changed_lr_without_a_request_of_its_own(page):
    """The formula's texts come with the plots' answer and are typeset after them."""
    formula = "var m = document.querySelector('#formula mjx-assistive-mml');" \
              "return m ? m.textContent : '';"
    wait_until(lambda: "0.2(" in page.driver.execute_script(formula), page=page)
    page.driver.execute_script(
        "window.__updates = 0; var f = window.fetch; window.fetch = function (u, o) {"
        "  if (String(u).indexOf('_dash-update-component') >= 0) { window.__updates += 1; }"
        "  return f.apply(this, arguments); };")
    set_input(page, "#lr", "0.0234")
    wait_until(lambda: "0.0234(" in page.driver.execute_script(formula), page=page)
    assert "0.2(" not in page.driver.execute_script(formula)
    assert "$$" not in page.find_element("#formula").text
    time.sleep(1)
    assert page.driver.execute_script("return window.__updates") == 1
    assert page.get_logs() == []


def test_the_step_inspector_follows_the_runs_once_opened_and_marks_the_step(page):
    set_input(page, "#lr", "0.0234")  # a change while the inspector is folded away
    wait_until(lambda: "0.0234" in page.driver.current_url, page=page)
    page.find_element("#inspector-summary").click()
    config, _ = playground.from_query(page.driver.current_url.split("?", 1)[1])
    lr = playground.simulate(config)["lr"]
    first_lr = "#inspector table.summary tbody tr td:nth-child(2)"
    wait_until(lambda: page.find_element(first_lr).text == fmt(float(lr[0])), page=page)
    # the slider picks a step: the table moves there and the lr plot's cursor marks it
    slider = page.find_element("#inspect-step .rc-slider, #inspect-step [role='slider']")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys(Keys.ARROW_RIGHT * 5)
    wait_until(lambda: page.find_element(".inspect-step-label").text == "Step 5", page=page)
    assert page.find_element(first_lr).text == fmt(float(lr[5]))
    cursor = page.driver.execute_script(
        "return document.querySelector('#lr-graph .js-plotly-plot').data.length - 1")
    wait_until(lambda: trace(page, "lr-graph", cursor, "x") == [5], page=page)
