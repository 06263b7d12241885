"""The typed surface's controls (docs/run-format.md §9.1): the box for f(x, y), its
message slot, and a few examples to start from.

The box is one of the form's pattern-matched controls (key ``problem.formula.f``), so the
main callback reads it like any other: the text goes into the config as typed, and
``playground.formula`` checks it; its message (which points at the column) shows beside
the box. Picking an example writes it into the box, in the browser.
"""
from __future__ import annotations

import json

from dash import ALL, Input, Output, clientside_callback, dcc, html

from .form import FORMULA_EXAMPLES, FORMULA_F

FORMULA_KEY = f"problem.formula.{FORMULA_F.name}"
BOX_ID = {"type": "param", "key": FORMULA_KEY}
TYPING_PAUSE = 0.6
"""Seconds without typing after which the box sends its text (live checking without a
run per keystroke); Enter or leaving the box sends it at once."""
LOWEST_NOTE = ("The star marks the lowest point on a 101 x 101 grid over the window: "
               "the true minimum is unknown.")


def formula_block(value, field_id: str = "problem.formula.f"):
    """The formula box, its message slot, the examples and what the map's star means."""
    return html.Div([
        html.Label(FORMULA_F.label, className="control-label", title=FORMULA_F.help,
                   htmlFor='{"key":"%s","type":"param"}' % FORMULA_KEY),
        dcc.Input(id=BOX_ID, type="text", value=value, debounce=TYPING_PAUSE,
                  className="control-input formula-input", spellCheck=False,
                  autoComplete="off", maxLength=500,
                  placeholder="e.g. (1 - x)^2 + 100*(y - x^2)^2"),
        html.Div(className="control-msg", id={"type": "msg", "key": FORMULA_KEY},
                 role="alert"),
        dcc.Dropdown(id="formula-example", options=[
            {"label": name, "value": text, "title": text} for name, text in FORMULA_EXAMPLES],
            placeholder="Examples", clearable=False, searchable=False,
            className="picker formula-examples"),
        html.P(LOWEST_NOTE, className="hint formula-note"),
    ], className="field formula-box", id={"type": "field", "key": field_id},
        title=FORMULA_F.help)


# (an exact dict id with dots in it cannot be a callback's output: Dash escapes the dots
# and the renderer cannot parse the id back; so: every param control, and no_update for
# all but the formula box)
clientside_callback(
    """function(text) {
        var dc = window.dash_clientside, outs = dc.callback_context.outputs_list;
        return outs.map(function (o) {
            return text && o.id.key === %s ? text : dc.no_update; });
    }""" % json.dumps(FORMULA_KEY),
    Output({"type": "param", "key": ALL}, "value", allow_duplicate=True),
    Input("formula-example", "value"), prevent_initial_call=True)
