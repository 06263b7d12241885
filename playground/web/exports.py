"""Take it home: the schedule's formula with this run's numbers, and the downloads (the
runs as CSV or JSON, the current run as PyTorch or Optax code)."""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from .. import tools
from ..config import SECTIONS
from .state import current_run, runs

EXPORTS = {
    "csv": ("CSV", "Every run's lr, momentum, loss and path, one row per step"),
    "json": ("JSON", "Every run's config and arrays (the config re-runs to the same numbers)"),
    "pytorch": ("PyTorch code", "A script reproducing the current run with torch.optim "
                                "and lr_scheduler"),
    "optax": ("Optax code", "A script reproducing the current run with Optax"),
}


def formula_text(config: dict) -> dict:
    """The formula panel's texts for a run: its title, the schedule's formula with the
    run's numbers (LaTeX, which MathJax typesets) and when to use it."""
    f = tools.formula(config)
    return {"title": f"The schedule: {SECTIONS['schedule'][f['schedule']].label}",
            "latex": f["latex"], "when": f["when"]}


def formula_panel(config: dict):
    """The formula panel of a run, as the page opens (the main callback then sends its
    texts, ``formula_text``, through the ``formula-text`` store)."""
    f = formula_text(config)
    return [html.H3(f["title"], id="formula-title"),
            dcc.Markdown(f["latex"], mathjax=True, className="formula-tex", id="formula-tex"),
            html.P(f["when"], className="hint", id="formula-when"),
            dcc.Store(id="formula-text")]


# The main callback writes the texts into the store; this puts them on the page once the
# plots' frame is painted (typesetting the formula in the plots' render held their redraw
# back by ~18 ms; a callback of its own on the server cost a request per change).
clientside_callback(
    """function (f) {
        var no = window.dash_clientside.no_update;
        if (!f) { return [no, no, no]; }
        return new Promise(function (resolve) {  // after the plots' frame is painted
            window.requestAnimationFrame(function () {
                window.setTimeout(function () { resolve([f.title, f.latex, f.when]); }, 0);
            });
        });
    }""",
    Output("formula-title", "children"), Output("formula-tex", "children"),
    Output("formula-when", "children"), Input("formula-text", "data"),
    prevent_initial_call=True)


def extras(current: dict):
    """The formula and the export buttons, at the bottom of the results."""
    return html.Div([
        html.Section(formula_panel(current), id="formula", className="formula"),
        html.Section([
            html.H3("Take it home"),
            html.Div([html.Button(text, id={"type": "export", "kind": kind},
                                  className="button small", title=help_text)
                      for kind, (text, help_text) in EXPORTS.items()],
                     className="exports"),
            dcc.Download(id="download"),
        ], className="take-home"),
    ], className="extras")


def export_file(kind: str, current: dict, pins: list[dict]) -> dict:
    """What an export button downloads, as ``dcc.send_string`` arguments."""
    if kind == "pytorch":
        return {"content": tools.pytorch_code(current), "filename": "playground_torch.py"}
    if kind == "optax":
        return {"content": tools.optax_code(current), "filename": "playground_optax.py"}
    views = runs(current, pins)
    data = [(v.label, v.run, v.result) for v in views]
    if kind == "csv":
        return {"content": tools.to_csv(data), "filename": "playground_runs.csv"}
    return {"content": tools.to_json(data), "filename": "playground_runs.json"}


@callback(Output("download", "data"), Input({"type": "export", "kind": ALL}, "n_clicks"),
          State("page-query", "data"), State("pins", "data"), prevent_initial_call=True)
def download(_clicks, query, pins):
    """Take it home: the runs as CSV or JSON, the current run as PyTorch or Optax code."""
    if not ctx.triggered_id or not any(_clicks):
        return dash.no_update
    current = current_run(query)
    file = export_file(ctx.triggered_id["kind"], current, pins or [])
    return dcc.send_string(file["content"], file["filename"])
