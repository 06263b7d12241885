"""Take it home: the schedule's formula with this run's numbers, and the downloads (the
runs as CSV or JSON, the current run as PyTorch or Optax code)."""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

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


def formula_panel(config: dict):
    """The schedule's formula with this run's numbers (typeset by MathJax) and when to
    use it."""
    f = tools.formula(config)
    return [html.H3(f"The schedule: {SECTIONS['schedule'][f['schedule']].label}"),
            dcc.Markdown(f["latex"], mathjax=True, className="formula-tex"),
            html.P(f["when"], className="hint")]


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


@callback(Output("formula", "children"), Input("page-query", "data"),
          prevent_initial_call=True)
def update_formula(query):
    """The formula follows the run, in a request of its own after the plots' (MathJax
    typesetting costs the renderer ~15 ms; the plots need not wait for it)."""
    current = current_run(query)
    return formula_panel(current)


@callback(Output("download", "data"), Input({"type": "export", "kind": ALL}, "n_clicks"),
          State("page-query", "data"), State("pins", "data"), prevent_initial_call=True)
def download(_clicks, query, pins):
    """Take it home: the runs as CSV or JSON, the current run as PyTorch or Optax code."""
    if not ctx.triggered_id or not any(_clicks):
        return dash.no_update
    current = current_run(query)
    file = export_file(ctx.triggered_id["kind"], current, pins or [])
    return dcc.send_string(file["content"], file["filename"])
