"""The server's answers written by orjson (playground/web/fast_json.py): the same JSON as
Dash's own writer (plotly's encoder) on the page's own answers, NaN as null, and nothing
an answer holds able to close the page's <script> tag."""
import json

import dash._callback
import dash.dash
import numpy as np
import plotly.io.json
import pytest
from dash import Patch

from playground.web import fast_json, page, scrub, server, state
from playground.web.comparison import table
from playground.web.form import DEFAULT_CONFIG
from playground.web.plots import figure_updates, figures_for


def strict(text: str):
    """``text`` parsed as JSON that a browser's JSON.parse takes (no NaN, no Infinity)."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def dash_own(value) -> str:
    """What Dash writes without fast_json: plotly's encoder, standard library engine."""
    return plotly.io.json.to_json_plotly(value, engine="json")


DIVERGING = {**DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 5.0}}
PIN = {**DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 0.001}}


@pytest.fixture(scope="module")
def answers():
    """The page's answers: its layout (components), whole figures and patches of a run
    that diverges (NaN in its arrays), the comparison table, a grab's frames."""
    runs = state.runs(DIVERGING, [PIN])
    assert runs[0].result["diverged_at"] is not None  # (NaN in the answers)
    whole = figures_for(runs, "light")
    patches = figure_updates(runs, "dark", False, full=False, surface_changed=True)
    query = "/?optimizer=sgd&optimizer.lr=5.0"
    grab = scrub.answer({"slider": "lr-slider", "query": query}, query, [])
    return {"layout": page.layout(), "figures": list(whole.values()),
            "patches": list(patches),
            "table": table(runs, 1e-3, "dark"),
            "grab": grab}


@pytest.mark.parametrize("name", ["layout", "figures", "patches", "table", "grab"])
def test_the_page_answers_are_the_json_dash_writes(answers, name):
    value = answers[name]
    ours = fast_json.to_json(value)
    assert strict(ours) == strict(dash_own(value))


def test_nan_and_infinities_are_null_and_numpy_values_are_numbers():
    value = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5],
             "c": np.array([1.0, np.nan, 3.0]), "d": np.float32(0.25), "e": np.int64(7),
             1: "a key that is a number"}
    got = strict(fast_json.to_json(value))
    assert got == {"a": None, "b": [None, None, 1.5], "c": [1.0, None, 3.0], "d": 0.25,
                   "e": 7, "1": "a key that is a number"}
    assert got == strict(dash_own(value))


def test_no_answer_can_close_a_script_tag_or_a_line_of_script():
    text = "</script><script>alert(1)</script>\u2028\u2029"
    ours = fast_json.to_json({"title": text, "patch": Patch()})
    for char in "<>/\u2028\u2029":
        assert char not in ours
    assert strict(ours)["title"] == text


def test_what_orjson_refuses_is_written_as_dash_writes_it():
    big = 2 ** 70  # past orjson's 64-bit integers
    assert strict(fast_json.to_json({"n": big})) == {"n": big}


def test_the_server_writes_its_answers_with_it():
    assert server.app is not None
    assert dash._callback.to_json is fast_json.to_json
    assert dash.dash.to_json is fast_json.to_json
    layout = server.server.test_client().get("/_dash-layout")
    assert layout.status_code == 200 and strict(layout.get_data(as_text=True))
