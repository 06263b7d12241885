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

import json
from dataclasses import dataclass, field as _field

import dash
from dash import ALL, Input, dcc, html

from ..config import SECTIONS, page_path
from ..surfaces import FORMULA_GROUP, GROUPS, SURFACES
from .form import (BY_KEY, FIELDS, LR_SLIDER, LR_STEP, Field, config_from_form, first_pick,
                   form_from_config, label_of, lr_at, lr_preset, placeholder, slider_note,
                   slider_position)
from .formula_box import formula_block
from .sliders import (STEPS_SLIDER, known, released_text, slider, steps_at, steps_position,
                      stores, typed_position)

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
    # numbers are typed as text, so a message can quote the box as it stands ("1e9",
    # "abc"); a type=number box would hand over a converted value, or nothing at all
    mode = {"float": "decimal", "int": "numeric"}.get(p.kind, "text")
    return dcc.Input(type="text", inputMode=mode, value=value, debounce=True,
                     placeholder=placeholder(field, config), **common)


def field_block(field: Field, value, config):
    """One control: its label (with unit), the input, the help text and a message slot."""
    p = field.param
    if p.kind == "text":  # the typed surface's formula
        return formula_block(value, field.key)
    label = label_of(p)
    target = control_id(field)  # the label names its input (by the id in the page)
    target = target if isinstance(target, str) else json.dumps(target, sort_keys=True,
                                                                separators=(",", ":"))
    children = [] if p.kind == "bool" else [html.Label(label, className="control-label",
                                                       title=p.help, htmlFor=target)]
    bar = slider(field, value, config)  # (a component with no children is falsy: test for None)
    children += [_input(field, value, config), *([] if bar is None else [bar]),
                 html.Div(className="control-msg", id={"type": "msg", "key": field.key},
                          role="alert")]
    return html.Div(children, className="field", id={"type": "field", "key": field.key},
                    title=p.help)


def picker_options(section: str) -> list[dict]:
    """A picker's entries; the surfaces under a heading per group (``surfaces.GROUPS``):
    a disabled entry whose value is no entry's name."""
    registry = SECTIONS[section]
    entry = lambda e: {"label": e.label, "value": e.name, "title": e.summary}  # noqa: E731
    if section != "problem":
        return [entry(e) for e in registry.values()]
    out = []
    for group in GROUPS:
        members = [e for e in registry.values() if e.group == group]
        if members:
            out.append({"label": html.Span(group.capitalize(), className="option-group"),
                        "value": f"group: {group}", "disabled": True})
            out += [entry(e) for e in members]
    typed = [e for e in registry.values() if e.group == FORMULA_GROUP]
    if typed:  # last, under its own heading
        out.append({"label": html.Span("Your own", className="option-group"),
                    "value": f"group: {FORMULA_GROUP}", "disabled": True})
        out += [entry(e) for e in typed]
    return out


def _picker(section: str, value: str, label: str):
    return html.Div([
        html.Label(label, className="control-label", htmlFor=section),
        dcc.Dropdown(id=section, value=value, clearable=False, searchable=False,
                     options=picker_options(section), className="picker"),
    ], className="field")


def entry_group(section: str, choice: str, values: dict, config):
    """The chosen entry's parameters. Only the chosen entry's controls are on the page:
    every component costs the renderer time on every change, hidden or not."""
    fields = [f for f in FIELDS if f.section == section and f.entry == choice]
    return html.Div([field_block(f, values[f.key], config) for f in fields]
                    or [html.P("No parameters.", className="hint")], className="param-group")


def warmup_toggle(warmup_on: bool, note: str = ""):
    """The warmup switch and the note beside it (why a pick turned it off). It is drawn
    with the schedule's parameters, so a new schedule can switch it off."""
    return html.Div([
        dcc.Checklist(id="warmup-on", options=[{"label": "Linear warmup", "value": "on"}],
                      value=["on"] if warmup_on else [], className="control-check"),
        html.Span(note, id="warmup-note", className="hint warmup-note", role="status",
                  hidden=not note),
    ], className="warmup-toggle")


def schedule_group(choice: str, values: dict, config, warmup_on: bool, note: str = ""):
    """The schedule's parameters and the warmup switch below them."""
    return html.Div([entry_group("schedule", choice, values, config),
                     warmup_toggle(warmup_on, note)])


def _entry_params(section: str, choice: str, values: dict, config, warmup_on=False):
    group = schedule_group(choice, values, config, warmup_on) if section == "schedule" \
        else entry_group(section, choice, values, config)
    return html.Div(group, id=f"{section}-params")


def controls(choice: dict, values: dict, warmup_on: bool, config: dict):
    position, past_end = slider_position(values["run.run.lr"])
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
            dcc.Slider(id="lr-slider", min=LR_SLIDER[0], max=LR_SLIDER[1], step=LR_STEP,
                       value=LR_SLIDER[0] if position is None else position,
                       marks={e: {"label": f"1e{e}"} for e in range(-5, 2)},
                       updatemode="mouseup", allow_direct_input=False,
                       className="lr-slider past-end" if past_end else "lr-slider"),
            _entry_params("optimizer", choice["optimizer"], values, config),
            html.Div([field_block(f, values[f.key], config) for f in FIELDS
                      if f.section == "clip_grad_norm"], className="pair clip-group"),
        ], className="panel"),
        html.Section([
            _picker("schedule", choice["schedule"], "Schedule"),
            _entry_params("schedule", choice["schedule"], values, config, warmup_on),
            html.Div([field_block(f, values[f.key], config) for f in FIELDS
                      if f.section == "warmup"], id="warmup-group", className="param-group",
                     hidden=not warmup_on),
            field_block(BY_KEY["run.run.steps"], values["run.run.steps"], config),
        ], className="panel"),
        *stores(page_path(config)),
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
    """Per section (problem, optimizer, schedule): its parameters when its entry changed
    (the schedule's come with the warmup switch, which a new schedule may turn off)."""
    slider_class: str = "lr-slider"
    """The slider's class: ``lr-slider past-end`` while the lr lies past its ends."""
    steps: object = dash.no_update
    """The steps box (a released steps slider writes its steps there)."""
    steps_slider: object = dash.no_update
    """The steps slider (follows typed steps, to its nearer end past them)."""
    boxes: dict = _field(default_factory=dict)
    """Parameter boxes to write, by key (a released slider's number)."""
    sliders: dict = _field(default_factory=dict)
    """Parameter sliders to move, by key (to a typed box's number)."""


def read_form(trigger, choice: dict, warmup_on, lr, lr_slider, steps, start_x, start_y,
              params: dict, click, steps_slider=None, param_sliders: dict | None = None,
              placeholders: dict | None = None) -> FormRead | None:
    """The form after a change (``trigger``: the id of the component that changed):
    ``choice`` the pickers' values, ``params`` the pattern-matched controls' values by key
    (``param_sliders`` their sliders', ``placeholders`` their placeholders), ``click`` the
    path plot's click (a new start). Every slider is read here, not through its box, so
    that a release runs the run in one request. None: a slider's release that changes
    nothing (one the run moved to its own value, ``sliders.follow_run``)."""
    no = dash.no_update
    params = dict(params)
    boxes = {}
    if isinstance(trigger, dict) and trigger.get("type") == "param-slider":
        key = trigger.get("key")
        text = released_text(key, (param_sliders or {}).get(key), params.get(key),
                             (placeholders or {}).get(key)) \
            if known(key) and key in params else None
        if text is None:
            return None
        params[key] = boxes[key] = text
    problem, optimizer = choice["problem"], choice["optimizer"]
    steps_out = steps_slider_out = no
    if trigger == "steps-slider" and isinstance(steps_slider, (int, float)):
        steps = steps_out = str(steps_at(STEPS_SLIDER.at(float(steps_slider))))
    if trigger == "lr-slider" and lr_slider is not None:
        lr = lr_at(lr_slider)
    elif trigger in ("problem", "optimizer"):
        lr = lr_preset(problem, optimizer)
    if trigger == "path-graph" and click and click.get("points"):
        point = click["points"][0]
        start_x, start_y = round(point["x"], 3), round(point["y"], 3)
    if trigger == "problem":
        start_x, start_y = SURFACES[problem].start  # the new surface's own start
    values = dict(params)
    values.update({"run.run.lr": lr, "run.run.steps": steps, "run.run.start_x": start_x,
                   "run.run.start_y": start_y})
    warmup_on, note = bool(warmup_on), ""
    picked = isinstance(trigger, str) and trigger in SECTIONS
    if picked:  # a new entry: its first-pick values, sized to this run (form.first_pick)
        pick = first_pick(choice, trigger, values, warmup_on)
        values, warmup_on, note = pick.values, pick.warmup_on, pick.note
    config, errors = config_from_form(choice, values, warmup_on)
    position, past_end = slider_position(lr)
    slider = no if position is None or trigger == "lr-slider" else position
    if config is not None and past_end:
        # not an error: the run uses the lr; the box says why the slider stopped short
        errors = {**errors, "run.run.lr": slider_note(lr), "_notes": ["run.run.lr"]}
    lr_out = lr if trigger in ("lr-slider", "problem", "optimizer") else no
    start_out = (start_x, start_y) if trigger in ("path-graph", "problem") else (no, no)
    # a new entry brings its own controls (the config holds their first-pick values)
    groups = [no] * len(SECTIONS)
    if picked:
        shown = config or {sec: {"name": name} for sec, name in choice.items()}
        shown_values = form_from_config(shown)[1]
        groups[list(SECTIONS).index(trigger)] = schedule_group(
            choice[trigger], shown_values, shown, warmup_on, note) if trigger == "schedule" \
            else entry_group(trigger, choice[trigger], shown_values, shown)
    if trigger == "steps" and config is not None:  # typed steps move the slider
        steps_slider_out = steps_position(config["steps"])
    moved = {}
    key = trigger.get("key") if isinstance(trigger, dict) and trigger.get("type") == "param" \
        else None
    if known(key) and key in (param_sliders or {}):
        # a typed box moves its slider (T_max's range needs the run: not while a box is wrong)
        at = typed_position(key, params.get(key), config)
        if at is not None:
            moved[key] = at
    return FormRead(config, errors, lr_out, slider, start_out, groups,
                    "lr-slider past-end" if past_end else "lr-slider", steps_out,
                    steps_slider_out, boxes, moved)
