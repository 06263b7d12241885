"""The sliders under numeric controls where a slider is natural (momentum, gamma): each
moves its box, and while it is dragged the plots follow it (``scrub``).

A slider here is presentation only: its box stays the control (what the main callback
reads, what a message points at). Releasing the slider writes its value into the box in
the browser (a clientside callback, no round trip), and the box's change runs the run as
if it were typed; typing into the box moves the slider.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dash import MATCH, ClientsideFunction, Input, Output, clientside_callback, dcc

from .form import LR_SLIDER, LR_STEP, Field, lr_at


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    step: float

    def positions(self) -> np.ndarray:
        count = int(round((self.high - self.low) / self.step)) + 1
        return np.round(self.low + self.step * np.arange(count), 6)


RANGES = {"optimizer.sgd.momentum": Range(0.0, 0.99, 0.01),
          "optimizer.rmsprop.momentum": Range(0.0, 0.99, 0.01),
          "schedule.StepLR.gamma": Range(0.05, 1.0, 0.01),
          "schedule.MultiStepLR.gamma": Range(0.05, 1.0, 0.01),
          "schedule.ExponentialLR.gamma": Range(0.9, 1.0, 0.001)}
"""The controls (form keys) that get a slider, and its range: about a hundred positions
each (a grab sweeps them all), where the parameter shows its effect (ExponentialLR's gamma
between 0.9 and 1: 0.95 already stalls a run, 0.999 barely decays)."""


def slider_id(key: str) -> dict:
    return {"type": "param-slider", "key": key}


def slider(field: Field, value):
    """The slider under ``field``'s box (None for a field without one)."""
    rng = RANGES.get(field.key)
    if rng is None:
        return None
    try:
        at = min(max(float(value), rng.low), rng.high)
    except (TypeError, ValueError):
        at = rng.low
    return dcc.Slider(id=slider_id(field.key), min=rng.low, max=rng.high, step=rng.step,
                      value=at, marks={rng.low: f"{rng.low:g}", rng.high: f"{rng.high:g}"},
                      updatemode="mouseup", allow_direct_input=False,
                      className="param-slider scrub-slider")


def sweep_field(slider_key: str) -> str:
    """The config field a slider moves: ``optimizer.lr`` for the lr slider, else the form
    key without its entry (``optimizer.sgd.momentum`` -> ``optimizer.momentum``)."""
    if slider_key == "lr-slider":
        return "optimizer.lr"
    section, _, name = slider_key.split(".", 2)
    return f"{section}.{name}"


def sweep_values(slider_key: str) -> tuple[np.ndarray, list[float]]:
    """Every position the slider can stop at and the value each stands for (the lr slider
    is log10 of the lr, rounded as the lr box shows it)."""
    if slider_key == "lr-slider":
        where = Range(LR_SLIDER[0], LR_SLIDER[1], LR_STEP).positions()
        return where, [lr_at(p) for p in where]
    where = RANGES[slider_key].positions()
    return where, [float(p) for p in where]


def known(slider_key) -> bool:
    return slider_key == "lr-slider" or (isinstance(slider_key, str) and slider_key in RANGES)


# the box follows a released slider, the slider a typed box (in the browser)
clientside_callback(ClientsideFunction("scrub", "syncBox"),
                    Output({"type": "param", "key": MATCH}, "value"),
                    Output(slider_id(MATCH), "value"),
                    Input(slider_id(MATCH), "value"),
                    Input({"type": "param", "key": MATCH}, "value"),
                    prevent_initial_call=True)
