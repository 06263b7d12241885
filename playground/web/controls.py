"""The run controls: grown from the form's fields (``playground.web.form``), and the
update of the form when one of them changes.

``controls(...)`` draws the three panels (surface, optimizer, schedule); only the chosen
entries' parameters are on the page. ``read_form(...)`` turns a change into the config
the controls describe and what the controls themselves must show next (the lr box and
slider, the start, a new entry's parameters); the main callback (``playground.web.plots``)
calls it. The messages beside the controls travel as one dict (the ``errors`` store),
drawn in the browser (``playground.web.browser``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import dash
from dash import ALL, Input, dcc, html

from ..config import SECTIONS
from ..surfaces import SURFACES
from .form import (BY_KEY, FIELDS, LR_PRESETS, LR_SLIDER, Field, config_from_form,
                   form_from_config, placeholder)

STABLE_IDS = {"run.run.lr": "lr", "run.run.steps": "steps", "run.run.start_x": "start-x",
              "run.run.start_y": "start-y"}
"""Controls with fixed ids (for scripting and tests); the rest are pattern-matched."""
PARAM_VALUES = Input({"type": "param", "key": ALL}, "value")
"""The pattern-matched controls' values (the main callback's input)."""


def control_id(field: Field):
    return STABLE_IDS.get(field.key, {"type": "param", "key": field.key})


def _input(field: Field, value, config):
    p = field.param
    common = dict(id=control_id(field), className="control-input")
    if p.kind == "bool":
        return dcc.Checklist(options=[{"label": p.label, "value": "on"}],
                             value=["on"] if value else [], id=common["id"],
                             className="control-check", inputClassName="check-box")
    if p.kind == "choice":
        return dcc.RadioItems(options=list(p.choices), value=value, inline=True,
                              id=common["id"], className="control-radio")
    if p.kind in ("int_list", "float_pair"):
        return dcc.Input(type="text", value=value, debounce=True,
                         placeholder=placeholder(field, config), **common)
    step = "any" if p.kind == "float" else 1
    return dcc.Input(type="number", value=value, debounce=True, step=step,
                     placeholder=placeholder(field, config), **common)


def field_block(field: Field, value, config):
    """One control: its label (with unit), the input, the help text and a message slot."""
    p = field.param
    label = p.label + (f" ({p.unit})" if p.unit else "")
    children = [] if p.kind == "bool" else [html.Label(label, className="control-label",
                                                       title=p.help)]
    children += [_input(field, value, config),
                 html.Div(className="control-msg", id={"type": "msg", "key": field.key},
                          role="alert")]
    return html.Div(children, className="field", id={"type": "field", "key": field.key},
                    title=p.help)


def _picker(section: str, value: str, label: str):
    registry = SECTIONS[section]
    return html.Div([
        html.Label(label, className="control-label", htmlFor=section),
        dcc.Dropdown(id=section, value=value, clearable=False, searchable=False,
                     options=[{"label": e.label, "value": e.name, "title": e.summary}
                              for e in registry.values()], className="picker"),
    ], className="field")


def entry_group(section: str, choice: str, values: dict, config):
    """The chosen entry's parameters. Only the chosen entry's controls are on the page:
    every component costs the renderer time on every change, hidden or not."""
    fields = [f for f in FIELDS if f.section == section and f.entry == choice]
    return html.Div([field_block(f, values[f.key], config) for f in fields]
                    or [html.P("No parameters.", className="hint")], className="param-group")


def _entry_params(section: str, choice: str, values: dict, config):
    return html.Div(entry_group(section, choice, values, config), id=f"{section}-params")


def controls(choice: dict, values: dict, warmup_on: bool, config: dict):
    lr_log = math.log10(values["run.run.lr"]) if values["run.run.lr"] else LR_SLIDER[0]
    return html.Aside([
        html.Section([
            _picker("problem", choice["problem"], "Surface"),
            _entry_params("problem", choice["problem"], values, config),
            html.Div([field_block(BY_KEY["run.run.start_x"], values["run.run.start_x"], config),
                      field_block(BY_KEY["run.run.start_y"], values["run.run.start_y"], config)],
                     className="pair"),
        ], className="panel"),
        html.Section([
            _picker("optimizer", choice["optimizer"], "Optimizer"),
            field_block(BY_KEY["run.run.lr"], values["run.run.lr"], config),
            dcc.Slider(id="lr-slider", min=LR_SLIDER[0], max=LR_SLIDER[1], step=0.01,
                       value=max(LR_SLIDER[0], min(LR_SLIDER[1], lr_log)),
                       marks={e: {"label": f"1e{e}"} for e in range(-5, 2)},
                       updatemode="drag", className="lr-slider", allow_direct_input=False),
            _entry_params("optimizer", choice["optimizer"], values, config),
        ], className="panel"),
        html.Section([
            _picker("schedule", choice["schedule"], "Schedule"),
            _entry_params("schedule", choice["schedule"], values, config),
            dcc.Checklist(id="warmup-on", options=[{"label": "Linear warmup", "value": "on"}],
                          value=["on"] if warmup_on else [], className="control-check"),
            html.Div([field_block(f, values[f.key], config) for f in FIELDS
                      if f.section == "warmup"], id="warmup-group", className="param-group",
                     hidden=not warmup_on),
            field_block(BY_KEY["run.run.steps"], values["run.run.steps"], config),
        ], className="panel"),
    ], className="controls", id="controls")


def errors_store():
    """Where the messages beside the controls travel (one dict, key -> message), and the
    store the browser-side drawing of them writes to."""
    return [dcc.Store(id="errors"), dcc.Store(id="errors-sync")]


# --- The update of the form --------------------------------------------------------------

@dataclass
class FormRead:
    """What a change of the controls means: the config they describe (None while a control
    is wrong), each wrong control's message, and what the controls must show next
    (``dash.no_update`` where nothing changes)."""

    config: dict | None
    errors: dict
    lr: object
    """The lr box (a slider move, or a new surface's or optimizer's preset)."""
    slider: object
    """The lr slider (follows the lr box)."""
    start: tuple
    """start-x, start-y (a click on the map, or a new surface's own start)."""
    groups: list
    """Per section (problem, optimizer, schedule): its parameters when its entry changed."""


def read_form(trigger, choice: dict, warmup_on, lr, lr_slider, steps, start_x, start_y,
              params: dict, click) -> FormRead:
    """The form after a change (``trigger``: the id of the component that changed):
    ``choice`` the pickers' values, ``params`` the pattern-matched controls' values by key,
    ``click`` the path plot's click (a new start)."""
    no = dash.no_update
    problem, optimizer = choice["problem"], choice["optimizer"]
    if trigger == "lr-slider" and lr_slider is not None:
        lr = float(f"{10 ** lr_slider:.3g}")
    elif trigger in ("problem", "optimizer"):
        lr = LR_PRESETS[(problem, optimizer)]
    if trigger == "path-graph" and click and click.get("points"):
        point = click["points"][0]
        start_x, start_y = round(point["x"], 3), round(point["y"], 3)
    if trigger == "problem":
        start_x, start_y = SURFACES[problem].start  # the new surface's own start
    values = dict(params)
    values.update({"run.run.lr": lr, "run.run.steps": steps, "run.run.start_x": start_x,
                   "run.run.start_y": start_y})
    config, errors = config_from_form(choice, values, bool(warmup_on))
    slider = no if lr is None or lr <= 0 or trigger == "lr-slider" else max(
        LR_SLIDER[0], min(LR_SLIDER[1], math.log10(lr)))
    lr_out = lr if trigger in ("lr-slider", "problem", "optimizer") else no
    start_out = (start_x, start_y) if trigger in ("path-graph", "problem") else (no, no)
    # a new entry brings its own controls (at their defaults; the config has them so)
    groups = [no] * len(SECTIONS)
    if isinstance(trigger, str) and trigger in SECTIONS:
        shown = config or {sec: {"name": name} for sec, name in choice.items()}
        groups[list(SECTIONS).index(trigger)] = entry_group(
            trigger, choice[trigger], form_from_config(shown)[1], shown)
    return FormRead(config, errors, lr_out, slider, start_out, groups)
