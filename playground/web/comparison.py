"""The runs side by side: the one legend for all three plots and the comparison table
under them (final and best loss, steps to a loss threshold, divergence, a remove button
per pinned run). The main callback (``playground.web.plots``) redraws both on every
change."""
from __future__ import annotations

from dash import dcc, html

from .components import cell, swatch
from .runs import summary

DEFAULT_THRESHOLD = 1e-3
"""The loss threshold the table counts steps to, until the reader changes it."""


def legend(runs, theme: str):
    """One legend for all three plots: each run's colour and what sets it apart."""
    return [html.Span([swatch(v.slot, theme), v.label,
                       html.Span("\u00a0(current)", className="hint") if v.slot == 0 else None],
                      className="legend-item") for v in runs]


def legend_block(runs, theme: str):
    return html.Div(legend(runs, theme), id="legend", className="legend")


def table(runs, threshold: float, theme: str = "light"):
    """The comparison table, one row per run."""
    head = html.Tr([html.Th(h) for h in ("Run", "Final loss", "Best loss",
                                         f"Steps to loss ≤ {threshold:g}", "Diverged", "")])
    rows = []
    for view in runs:
        s = summary(view.result, threshold)
        mark = swatch(view.slot, theme)
        remove = (html.Button("Remove", id={"type": "unpin", "index": view.slot - 1},
                              className="button small") if view.slot else
                  html.Span("current", className="hint"))
        rows.append(html.Tr([
            html.Td([mark, view.label]), html.Td(cell(s["final_loss"])),
            html.Td(cell(s["best_loss"])),
            html.Td("—" if s["steps_to_threshold"] is None else str(s["steps_to_threshold"])),
            html.Td("no" if s["diverged_at"] is None else f"at step {s['diverged_at']}"),
            html.Td(remove)]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="summary",
                      tabIndex="0", **{"aria-label": "Comparison of the runs"})


def table_block(runs):
    """The loss threshold and the comparison table, under the plots."""
    return html.Div([
        html.Div([html.Label("Loss threshold", htmlFor="threshold",
                             className="control-label"),
                  dcc.Input(id="threshold", type="text", inputMode="decimal",
                            value=str(DEFAULT_THRESHOLD), debounce=True,
                            className="control-input small")],
                 className="threshold"),
        html.Div(table(runs, DEFAULT_THRESHOLD), id="summary"),
    ], className="below")
