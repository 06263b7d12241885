"""The lr sensitivity panel: the final (or best) loss of the current run and of every pinned
run against the lr over its whole range, each from one sweep
(``playground.tools.lr_sensitivity``); a click on a point makes its lr the run's lr.

Folded until opened, like the other tools: a folded panel costs no request per change.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from ..tools.sensitivity import lr_sensitivity
from .comparison import DEFAULT_THRESHOLD
from .components import number
from .figure_sensitivity import sensitivity_figure
from .state import current_run, runs_for
from .style import GRAPH_CONFIG

METRICS = [{"label": "final loss", "value": "final"}, {"label": "best loss", "value": "best"}]


def panel():
    """The folded panel under the plots (above them when a lesson opens it: page.py)."""
    return html.Details([
        html.Summary("Loss against the lr (sensitivity)", id="sensitivity-summary"),
        html.P("Every lr from 1e-5 to 10 for the current run and each pinned one: too "
               "small crawls, too large diverges (shaded). The band between is what a "
               "schedule widens or narrows. Click a point to use its lr.", className="hint"),
        html.Div(dcc.RadioItems(id="sensitivity-metric", options=METRICS, value="final",
                                inline=True, className="control-radio"),
                 role="radiogroup", **{"aria-label": "Loss to plot against the lr"}),
        dcc.Store(id="sensitivity-query"),
        # the graph is made when the panel first opens: an empty plot would cost every
        # page load a Plotly draw
        dcc.Loading(html.Div(id="sensitivity-result"), type="dot"),
    ], className="tool", id="sensitivity-tool")


@lru_cache(maxsize=32)
def _analysis(config_json: str, threshold: float) -> dict:
    return lr_sensitivity(json.loads(config_json), threshold=threshold)


@callback(Output("sensitivity-result", "children"), Input("sensitivity-query", "data"),
          Input("sensitivity-metric", "value"), State("pins", "data"),
          Input("theme", "value"), Input("threshold", "value"), prevent_initial_call=True)
def update_sensitivity(query, metric, pins, theme, threshold):
    """One sweep per run (cached: a pinned run is swept once). Once the panel has been
    opened, also redrawn when the page's theme or loss threshold (the target) changes."""
    if not query:
        return dash.no_update
    threshold = number(threshold)
    threshold = threshold if threshold is not None and 0 < threshold < math.inf \
        else DEFAULT_THRESHOLD
    runs = runs_for(query, pins)
    # each run's config as written, not resolved: a default that follows the lr (OneCycleLR's
    # and CyclicLR's max_lr) must follow it through the sweep too
    configs = [current_run(query), *(pins or [])]
    analyses = [(v.label, v.slot, _analysis(json.dumps(c, sort_keys=True), threshold))
                for v, c in zip(runs, configs)]
    metric = metric if metric in ("final", "best") else "final"
    figure = sensitivity_figure(analyses, theme if theme in ("light", "dark") else "light",
                                metric)
    return dcc.Graph(id="sensitivity-graph", figure=figure, config=GRAPH_CONFIG,
                     className="sensitivity-graph")


@callback(Output("lr", "value", allow_duplicate=True),
          Input("sensitivity-graph", "clickData"), prevent_initial_call=True)
def use_clicked_lr(click):
    """A clicked point's lr becomes the run's lr (the plots follow as for typing it)."""
    try:
        lr = float(click["points"][0]["x"])
    except (TypeError, KeyError, IndexError, ValueError):
        return dash.no_update
    return float(f"{lr:.3g}") if math.isfinite(lr) and lr > 0 else dash.no_update


# The panel asks for its figure when it is opened (a click on its summary, or a lesson
# that opens it: ``lesson_view``) and on every change while it is open.
clientside_callback(
    """function (query, clicks, open) {
        var el = document.getElementById('sensitivity-tool');
        var trig = (dash_clientside.callback_context.triggered || []).map(function (t) {
            return t.prop_id; });
        var opened = trig.indexOf('sensitivity-summary.n_clicks') >= 0 ||
                     (trig.indexOf('sensitivity-tool.open') >= 0 && open);
        return (opened || (el && el.open)) ? query : window.dash_clientside.no_update;
    }""",
    Output("sensitivity-query", "data"), Input("page-query", "data"),
    Input("sensitivity-summary", "n_clicks"), Input("sensitivity-tool", "open"),
    prevent_initial_call=True)
