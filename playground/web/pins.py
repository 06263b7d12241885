"""Pinned runs: the ``pins`` store, the pin and clear buttons, and the callback that pins
the current run, removes one (the table's remove buttons) or clears them all. The
comparison of the runs is ``playground.web.comparison``.
"""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from ..config import validate
from .state import MAX_PINS, current_run


def store(pins: list[dict]):
    """The pinned runs' configs (the current run is in the ``page-query`` store)."""
    return dcc.Store(id="pins", data=[validate(p) for p in pins])


def pin_buttons():
    return [html.Button("Pin this run", id="pin", className="button primary",
                        title="Keep this run on the plots and keep changing controls"),
            html.Button("Clear pins", id="clear-pins", className="button")]


@callback(Output("pins", "data"), Input("pin", "n_clicks"), Input("clear-pins", "n_clicks"),
          Input({"type": "unpin", "index": ALL}, "n_clicks"), State("pins", "data"),
          State("page-query", "data"), prevent_initial_call=True)
def update_pins(_pin, _clear, unpins, pins, query):
    """Pin the current run (at most MAX_PINS, oldest dropped), remove one, or clear."""
    pins = list(pins or [])
    trigger = ctx.triggered_id
    if trigger == "clear-pins":
        return []
    if isinstance(trigger, dict) and trigger.get("type") == "unpin":
        if not any(unpins):  # the table was redrawn, nothing was clicked
            return dash.no_update
        index = trigger["index"]
        return [p for i, p in enumerate(pins) if i != index]
    current = current_run(query)
    return (pins + [current])[-MAX_PINS:]
