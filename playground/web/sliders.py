"""The sliders under numeric controls where a slider is natural (momentum, gamma, Adam's
beta1, T_max, the steps): each moves its box, and while it is dragged the plots follow it
(``scrub``).

A slider here is presentation only: its box stays the control (what the config is read
from, what a message points at). A released slider reaches the main callback itself
(``controls.read_form``), which writes its value into the box (``released_text``) and
runs the run in the same request; a typed box moves its slider from there too
(``typed_position``). A slider under a pair box (Adam's ``betas``) moves one element of
the pair; the box keeps the other as it has it.

Most ranges are fixed (``RANGES``); T_max's follows the run (``RUN_RANGES``): the page's
slider and the scrub's frames both take it from :func:`range_of`, so a position stands for
the same run on both, and a change of the run's steps moves the range (``follow_run``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import dash
import numpy as np
from dash import (ALL, ClientsideFunction, Input, Output, State, callback,
                  clientside_callback, dcc)

from ..config import STEPS, resolve
from ..params import ConfigError, RunContext
from . import state
from .form import BY_KEY, LR_SLIDER, LR_STEP, Field, lr_at, text_of


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    step: float
    element: int | None = None
    """For a slider under a pair box: the element it moves (None: the box's one number)."""
    name: str = ""
    """What a slider under a pair box moves, written by its low end (the box holds two
    numbers: the slider must say which it is)."""

    def positions(self) -> np.ndarray:
        count = int(round((self.high - self.low) / self.step)) + 1
        return np.round(self.low + self.step * np.arange(count), 6)

    def at(self, value: float) -> float:
        """Where the slider stands for ``value``: clamped to its ends (NaN: its low end;
        a NaN value would not survive the page's JSON)."""
        return self.low if math.isnan(value) else min(max(value, self.low), self.high)


RANGES = {"optimizer.sgd.momentum": Range(0.0, 0.99, 0.01),
          "optimizer.rmsprop.momentum": Range(0.0, 0.99, 0.01),
          "optimizer.adam.betas": Range(0.0, 0.99, 0.01, element=0, name="β₁"),
          "optimizer.adamw.betas": Range(0.0, 0.99, 0.01, element=0, name="β₁"),
          "schedule.StepLR.gamma": Range(0.05, 1.0, 0.01),
          "schedule.MultiStepLR.gamma": Range(0.05, 1.0, 0.01),
          "schedule.ExponentialLR.gamma": Range(0.9, 1.0, 0.001)}
"""The controls (form keys) that get a slider, and its range: about a hundred positions
each (a grab sweeps them all), where the parameter shows its effect (ExponentialLR's gamma
between 0.9 and 1: 0.95 already stalls a run, 0.999 barely decays; beta1 from none to
0.99, the heaviest averaging torch's Adam is used with)."""

POSITIONS = 100
"""About how many positions a run-dependent slider has."""


def span(run: dict) -> int:
    """The run's steps after its warmup (what an empty T_max box stands for)."""
    return RunContext(run["steps"], (run.get("warmup") or {}).get("steps", 0), 0.0).span


def t_max_range(run: dict) -> Range:
    """T_max from about 1 step to twice the run's steps after the warmup, in about
    ``POSITIONS`` integer positions with the run's own length among them (where an empty
    box puts the slider): a short T_max shows the cosine's rise after it, a long one a run
    that stops short of eta_min."""
    n = span(run)
    step = max(1, round(2 * n / POSITIONS))
    return Range(float((n - 1) % step + 1), float(n + step * (n // step)), float(step))


RUN_RANGES = {"schedule.CosineAnnealingLR.T_max": t_max_range}
"""The sliders whose range is a function of the resolved run."""

STEPS_SLIDER = Range(1.0, 3.301, 0.02301)
"""The steps slider, in log10 of the steps (like the lr's): 10 to 2,000 steps in 101
positions, each about 5 % more steps than the one before (a short run's growth is as
visible as a long one's; below 45 steps neighbours may round to the same step count)."""


STEPS_KEY = "run.run.steps"
"""The steps box's form key (its slider has the stable id ``steps-slider``)."""


def steps_at(position: float) -> int:
    """The steps a steps-slider position stands for."""
    return int(round(10 ** position))


def steps_position(steps: float) -> float:
    """Where the steps slider stands for ``steps`` (log10, clamped to its ends)."""
    return STEPS_SLIDER.at(math.log10(steps))


def steps_slider(steps):
    """The slider under the steps box (at the box's steps, clamped to its ends; at the
    default steps for a box that holds no number)."""
    try:
        at = steps_position(float(steps))
    except (TypeError, ValueError):
        at = math.log10(STEPS.default)
    rng = STEPS_SLIDER
    return dcc.Slider(id="steps-slider", min=rng.low, max=rng.high, step=rng.step, value=at,
                      marks={rng.low: str(steps_at(rng.low)),
                             rng.high: str(steps_at(rng.high))},
                      updatemode="mouseup", allow_direct_input=False,
                      className="param-slider steps-slider scrub-slider")


def range_of(key: str, run: dict | None) -> Range | None:
    """The range of ``key``'s slider for ``run`` (the resolved current run; None when the
    form describes none: a run-dependent slider then has no range), or None for no slider."""
    if key in RUN_RANGES:
        return None if run is None else RUN_RANGES[key](run)
    return RANGES.get(key)


TOP_LEVEL = {"lr-slider": "optimizer.lr", "steps-slider": "steps"}
"""The sliders of top-level controls (stable ids, like their boxes) and the field each
moves."""


def slider_id(key: str) -> dict:
    return {"type": "param-slider", "key": key}


def _number(value, element: int | None):
    """The number a box's value gives the slider (its element of a pair), or None."""
    if element is not None:
        items = value if isinstance(value, list) else str(value or "").split(",")
        value = items[element] if len(items) > element else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _marks(rng: Range) -> dict:
    return {rng.low: f"{rng.name} {rng.low:g}".strip(), rng.high: f"{rng.high:g}"}


def slider(field: Field, value, config: dict | None = None):
    """The slider under ``field``'s box (None for a field without one). ``config``: the
    run the form describes (a run-dependent range needs it; an empty box puts such a
    slider at the run's own value)."""
    if field.key == STEPS_KEY:
        return steps_slider(value)
    if field.key not in RANGES and field.key not in RUN_RANGES:
        return None
    try:
        run = None if config is None else resolve(config)
    except ConfigError:
        run = None
    rng = range_of(field.key, run)
    if rng is None:
        return None
    number = _number(value, rng.element)
    if number is None and run is not None and field.key in RUN_RANGES:
        number = float(run[field.section][field.param.name])
    at = rng.low if number is None else rng.at(number)
    return dcc.Slider(id=slider_id(field.key), min=rng.low, max=rng.high, step=rng.step,
                      value=at, marks=_marks(rng), updatemode="mouseup",
                      allow_direct_input=False,
                      className="param-slider scrub-slider" + (
                          "" if rng.element is None else " pair-slider"))


def box_field(slider_key: str) -> str:
    """The page query's key for a slider's box: ``optimizer.lr`` for the lr slider,
    ``steps`` for the steps', else the form key without its entry
    (``optimizer.sgd.momentum`` -> ``optimizer.momentum``)."""
    if slider_key in TOP_LEVEL:
        return TOP_LEVEL[slider_key]
    section, _, name = slider_key.split(".", 2)
    return f"{section}.{name}"


def query_field(slider_key: str) -> str | None:
    """The page query's key whose value a slider's frames do not depend on (they replace
    it): its box's, or None for a slider under a pair box (its frames keep the box's other
    element, so they depend on the whole box)."""
    rng = RANGES.get(slider_key)
    return None if rng is not None and rng.element is not None else box_field(slider_key)


def sweep_field(slider_key: str) -> str:
    """The config field a slider moves (``playground.sweep``'s dotted path): its box's
    field, with the element's index for a slider under a pair box
    (``optimizer.adam.betas`` -> ``optimizer.betas.0``)."""
    rng = RANGES.get(slider_key)
    field = box_field(slider_key)
    return field if rng is None or rng.element is None else f"{field}.{rng.element}"


def sweep_values(slider_key: str, run: dict) -> tuple[np.ndarray, list]:
    """Every position the slider can stop at for ``run`` (resolved) and the value each
    stands for (the lr slider is log10 of the lr, rounded as the lr box shows it; T_max an
    integer)."""
    if slider_key == "lr-slider":
        where = Range(LR_SLIDER[0], LR_SLIDER[1], LR_STEP).positions()
        return where, [lr_at(p) for p in where]
    if slider_key == "steps-slider":
        where = STEPS_SLIDER.positions()
        return where, [steps_at(p) for p in where]
    where = range_of(slider_key, run).positions()
    if slider_key in RUN_RANGES:
        return where, [int(p) for p in where]
    return where, [float(p) for p in where]


def box_texts(slider_key: str, run: dict, values: list) -> list[str] | None:
    """What a pair box shows at each value of its slider (the other element as the run
    has it, written as the form writes a pair), or None for a box of one number."""
    rng = RANGES.get(slider_key)
    if rng is None or rng.element is None:
        return None
    section, entry, name = slider_key.split(".", 2)
    pair = list(run[section][name])
    param = BY_KEY[f"{section}.{entry}.{name}"].param
    return [text_of(param, pair[:rng.element] + [v] + pair[rng.element + 1:])
            for v in values]


def known(slider_key) -> bool:
    return isinstance(slider_key, str) and (
        slider_key in TOP_LEVEL or slider_key in RANGES or slider_key in RUN_RANGES)


def number_text(value) -> str:
    """A slider's number as its box writes it: an integral value without a decimal point
    (T_max 450, not 450.0), else the shortest text that reads back as the number."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def released_text(key: str, value, box, placeholder) -> str | None:
    """What the box of ``key``'s slider holds once the slider is let go at ``value``, or
    None when it stays as it is: the slider's number (in its element of a pair box, the
    other as typed), except that an empty box whose slider stands at the run's own value
    (its placeholder "auto: 450", ``follow_run``) stays empty; and None for a value that is
    no number (the page sends numbers: anything else is not from the page)."""
    if not known(key) or isinstance(value, bool) \
            or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    text = "" if box is None else str(box)
    number = number_text(value)
    if not text.strip() and placeholder == f"auto: {number}":
        return None
    rng = RANGES.get(key)
    if rng is None or rng.element is None:
        new = number
    else:
        items = [item.strip() for item in text.split(",")] if text.strip() else []
        items += [""] * (rng.element + 1 - len(items))
        items[rng.element] = number
        new = ", ".join(items)
    return None if new == text else new


def typed_position(key: str, box, config: dict | None) -> float | None:
    """Where the slider of ``key`` stands for a typed box (its number clamped to the
    slider's ends; its element's, for a pair box), or None: no slider, or no number.
    ``config``: the form's run (None while a box is wrong), resolved only for a slider
    whose range follows the run (``RUN_RANGES``)."""
    if not known(key):
        return None
    rng = range_of(key, resolve(config) if key in RUN_RANGES and config is not None
                   else None)
    number = None if rng is None else _number(box, rng.element)
    return None if number is None or not math.isfinite(number) else rng.at(number)


# A released slider (the lr's, the steps', a parameter's) and its box follow each other in
# the main callback (controls.read_form): a release runs the run in one request.

_RUN_SLIDERS = {"type": "param-slider", "key": ALL}
PARAM_SLIDERS = Input(_RUN_SLIDERS, "value")
"""The parameter sliders' values, an input of the main callback (plots.update)."""

_LENGTH = re.compile(r"(steps|warmup|warmup\.steps)=")


def run_length(query: str) -> str:
    """The part of a page query the run-dependent ranges depend on (the steps and the
    warmup): ``follow_run`` runs when it changes, not on every change of the run
    (assets/scrub.js ``runLength`` reads it alike from the page's query)."""
    pairs = str(query or "").partition("?")[2].split("&")
    return "&".join(p for p in pairs if _LENGTH.match(p))


def stores(query: str):
    """The run's length as the ranges last followed it (``run_length`` of the page's
    ``query``)."""
    return [dcc.Store(id="slider-run", data=run_length(query))]


clientside_callback(ClientsideFunction("scrub", "runLength"), Output("slider-run", "data"),
                    Input("page-query", "data"), State("slider-run", "data"),
                    prevent_initial_call=True)


@callback(Output(_RUN_SLIDERS, "min"), Output(_RUN_SLIDERS, "max"),
          Output(_RUN_SLIDERS, "step"), Output(_RUN_SLIDERS, "marks"),
          Output(_RUN_SLIDERS, "value", allow_duplicate=True),
          Output({"type": "param", "key": ALL}, "placeholder"),
          Input("slider-run", "data"), State("page-query", "data"), State(_RUN_SLIDERS, "id"),
          State({"type": "param", "key": ALL}, "id"),
          State({"type": "param", "key": ALL}, "value"),
          prevent_initial_call=True)
def follow_run(_length, query, slider_ids, box_ids, box_values):
    """A run-dependent slider's range follows the run (its steps, its warmup): the range
    of ``range_of`` for the run the page now shows, and an empty box's slider at the run's
    own value (the empty box's placeholder says it: "auto: 450", which also tells the box
    to stay empty when the slider moves there)."""
    no = dash.no_update
    keys = [i["key"] for i in slider_ids]
    if not any(k in RUN_RANGES for k in keys):
        return [no] * len(keys), [no] * len(keys), [no] * len(keys), [no] * len(keys), \
            [no] * len(keys), [no] * len(box_ids)
    run = resolve(state.current_run(query))
    boxes = {i["key"]: v for i, v in zip(box_ids, box_values)}
    out = [[], [], [], [], []]
    placeholders = [no] * len(box_ids)
    for key in keys:
        rng = range_of(key, run) if key in RUN_RANGES else None
        if rng is None:
            for column in out:
                column.append(no)
            continue
        section, _, name = key.split(".", 2)
        box = boxes.get(key)
        empty = box is None or (isinstance(box, str) and not box.strip())
        auto = run[section][name]
        for column, value in zip(out, (rng.low, rng.high, rng.step, _marks(rng),
                                       rng.at(auto) if empty else no)):
            column.append(value)
        if empty:  # (a typed box's run holds the typed value, not the default)
            placeholders[[i["key"] for i in box_ids].index(key)] = f"auto: {auto}"
    return (*out, placeholders)
