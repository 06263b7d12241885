"""The page: controls grown from the config definition, three linked plots, pinned runs.

Data flows one way: controls -> config (form.py) -> engine -> arrays -> figures
(figures.py) -> the browser. The callbacks here are thin: they decide what changed and
send only that (``Patch``); the contour is sent only when the surface changes.
"""
from __future__ import annotations

import base64
import json
import math
from functools import lru_cache
from urllib.parse import urlencode

import dash
import numpy as np
from dash import ALL, Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html

from . import figures as fig
from . import lessons, tools
from .config import SECTIONS, from_query, page_path, resolve, validate
from .engine import simulate, simulate_batch
from .form import (BY_KEY, DEFAULT_CONFIG, FIELDS, LR_PRESETS, LR_SLIDER, Field,
                   config_from_form, form_from_config, placeholder)
from .params import ConfigError
from .surfaces import SURFACES

MAX_PINS = fig.MAX_RUNS - 1
STABLE_IDS = {"run.run.lr": "lr", "run.run.steps": "steps", "run.run.start_x": "start-x",
              "run.run.start_y": "start-y"}
"""Controls with fixed ids (for scripting and tests); the rest are pattern-matched."""
DEFAULT_THRESHOLD = 1e-3
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                "modeBarButtons": [["toImage", "zoom2d", "pan2d", "resetScale2d"]],
                "toImageButtonOptions": {"format": "png", "scale": 2}}


# --- Controls ----------------------------------------------------------------------------

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


# --- Layout -------------------------------------------------------------------------------

def _read_query(query: dict) -> tuple[dict, list[dict], str]:
    """The runs a link describes, or the defaults and a note saying why not."""
    if not query:
        return DEFAULT_CONFIG, [], ""
    try:
        current, pins = from_query(query)
        resolve(current)
        for pin in pins:
            resolve(pin)
        return current, pins[:MAX_PINS], ""
    except ConfigError as e:
        return DEFAULT_CONFIG, [], (f"This link could not be opened ({e}). "
                                    "Showing the default run instead.")


def _read_lesson(query: dict):
    """The lesson a link names (``lesson=<name>``, taken out of the query), or None."""
    name = query.pop("lesson", None)
    return lessons.LESSONS.get(name) if isinstance(name, str) else None


def _is_lesson_setup(lesson, current: dict, pins: list[dict]) -> bool:
    """Whether the runs are exactly the lesson's (its marks describe those runs only)."""
    try:
        return [resolve(c) for c in (current, *pins)] == [resolve(c) for c in lesson.runs]
    except ConfigError:
        return False


def lesson_panel(lesson):
    """The lesson beside the plots: its title, two sentences, a reference to read next,
    and a link back to its exact setup."""
    if lesson is None:
        return None
    return html.Section([
        html.H2(lesson.title),
        dcc.Markdown(lesson.explanation, className="lesson-text"),
        html.P([html.A(lesson.reference.title, href=lesson.reference.url, target="_blank",
                       rel="noopener noreferrer"),
                html.Span(" · "),
                html.A("Back to the lesson's setup", href=lessons.lesson_path(lesson))],
               className="lesson-links"),
    ], className="lesson-panel", id="lesson-panel")


def _lesson_menu():
    return dcc.Dropdown(id="lesson-menu", clearable=False, searchable=False,
                        placeholder="Lessons…", className="lesson-menu",
                        options=[{"label": f"{i}. {ls.title}", "value": lessons.lesson_path(ls),
                                  "title": ls.summary}
                                 for i, ls in enumerate(lessons.LESSONS.values(), 1)])


def layout(**query):
    """The whole page for a query string (so a copied link rebuilds exactly that page);
    ``lesson=<name>`` adds that lesson's explanation, and its marks while the runs are
    the lesson's own."""
    query = {k: v for k, v in query.items() if isinstance(v, str)}
    lesson = _read_lesson(query)
    current, pins, note = _read_query(query)
    choice, values, warmup_on = form_from_config(current)
    marked = lesson is not None and _is_lesson_setup(lesson, current, pins)
    runs = _views(current, pins, labels=lesson.labels if marked else None)
    theme = "light"
    surface = fig.surface_trace(runs[0].run, theme)
    figures = {"lr": fig.lr_figure(runs, log_y=False, theme=theme),
               "loss": fig.loss_figure(runs, theme=theme),
               "path": fig.path_figure(surface, runs, theme=theme)}
    if marked:
        figures = fig.with_marks(figures, lessons.marks(lesson, [r.result for r in runs]),
                                 runs, theme)
    return html.Div([
        dcc.Store(id="pins", data=[validate(p) for p in pins]),
        dcc.Store(id="lesson-marks", data=marked),
        dcc.Store(id="surface-key", data=_surface_key(runs[0].run)),
        dcc.Store(id="page-query", data=page_path(current, pins)),
        dcc.Store(id="url-sync"), dcc.Store(id="hover-sync"), dcc.Store(id="errors"),
        dcc.Store(id="errors-sync"),
        html.Header([
            html.H1("Optimization Playground"),
            html.P("Learning-rate schedules steering gradient descent", className="tagline"),
            html.Div([
                html.Button("Pin this run", id="pin", className="button primary",
                            title="Keep this run on the plots and keep changing controls"),
                html.Button("Clear pins", id="clear-pins", className="button"),
                _lesson_menu(),
                dcc.RadioItems(id="theme", options=[{"label": "Light", "value": "light"},
                                                    {"label": "Dark", "value": "dark"}],
                               value=theme, inline=True, className="theme-switch"),
            ], className="actions"),
        ], className="top"),
        html.Div(note, id="note", className="note" if note else "note empty", role="status"),
        html.Main([
            controls(choice, values, warmup_on, current),
            html.Section([
                lesson_panel(lesson),
                html.Div(_legend(runs, theme), id="legend", className="legend"),
                html.Div([
                    _graph("lr-graph", figures["lr"], "Learning rate",
                           dcc.Checklist(id="lr-log", options=LR_OPTIONS, value=[],
                                         inline=True, className="control-check small")),
                    _graph("loss-graph", figures["loss"], "Loss"),
                    _graph("path-graph", figures["path"], "Path on the surface",
                           html.Span("click the map to start there", className="hint")),
                ], className="plots"),
                animation_bar(),
                html.Div(id="status", className="status", role="status",
                         children=_status(runs[0])),
                html.Div([
                    html.Div([html.Label("Loss threshold", htmlFor="threshold",
                                         className="control-label"),
                              dcc.Input(id="threshold", type="number", value=DEFAULT_THRESHOLD,
                                        debounce=True, className="control-input small")],
                             className="threshold"),
                    html.Div(_table(runs, DEFAULT_THRESHOLD), id="summary"),
                ], className="below"),
                explore_panel(runs),
                html.Div([
                    html.Section(formula_panel(current), id="formula", className="formula"),
                    html.Section([
                        html.H3("Take it home"),
                        html.Div([html.Button(text, id={"type": "export", "kind": kind},
                                              className="button small", title=help_text)
                                  for kind, (text, help_text) in EXPORTS.items()],
                                 className="exports"),
                        dcc.Download(id="download"),
                    ], className="take-home"),
                ], className="extras"),
            ], className="results"),
        ], className="main"),
    ], id="app-root", className=f"app theme-{theme}")


LR_OPTIONS = [{"label": "log scale", "value": "log"},
              {"label": "SGD stability limit", "value": "stability",
               "title": "On the quadratic surfaces: the lr above which SGD diverges "
                        "(2/λ, with momentum 2(1+β)/λ), and the steps above it"},
              {"label": "effective step", "value": "effective",
               "title": "Each run's actual step per unit of gradient, |Δp|/|g| (dash-dot): "
                        "Adam's and RMSprop's real step size next to the nominal lr; for "
                        "plain SGD it is the lr itself"}]


def explore_panel(runs):
    """Tools beside the plots, each folded away until opened: the step inspector, the
    convergence checks (Robbins-Monro sums, the stability bound) and Smith's LR range
    test with "use this lr"."""
    n = len(runs[0].result["lr"])
    return html.Div([
        dcc.Store(id="tools-query"),
        html.Details([
            html.Summary("Step inspector", id="inspector-summary"),
            html.P("Pick a step: every run's lr, momentum, loss, gradient norm and "
                   "position there.", className="hint"),
            dcc.Slider(id="inspect-step", min=0, max=n, step=1, value=0,
                       marks=None, tooltip={"placement": "bottom", "always_visible": True},
                       updatemode="drag", className="inspect-slider"),
            html.Div(_inspector(runs, 0), id="inspector"),
        ], className="tool", id="inspector-tool"),
        html.Details([
            html.Summary("Will it converge?", id="diagnostics-summary"),
            html.Div(_diagnostics(runs), id="diagnostics"),
        ], className="tool", id="diagnostics-tool"),
        html.Details([
            html.Summary("Batch size (noisy quadratic)"),
            html.P("A minibatch of B samples averages B shifts: the gradient noise falls "
                   "by 1/√B. Grow the batch by a factor and rescale the lr by the linear "
                   "rule (×B, Goyal et al.) or the square-root rule (×√B).",
                   className="hint"),
            html.Div([
                html.Label("Grow the batch ×", htmlFor="batch-factor",
                           className="control-label"),
                dcc.Input(id="batch-factor", type="number", min=2, step=1, value=4,
                          className="control-input small"),
                *(html.Button(text, id={"type": "batch", "rule": rule},
                              className="button small")
                  for rule, text in BATCH_RULES.items()),
            ], className="exports"),
            html.Div(id="batch-msg", className="control-msg", role="alert"),
        ], className="tool"),
        html.Details([
            html.Summary("Pitfalls"),
            html.P("Two silent bugs of real training loops, each shown against the correct "
                   "run.", className="hint"),
            html.Div([
                html.Label("Resume from a checkpoint at step", htmlFor="resume-at",
                           className="control-label"),
                dcc.Input(id="resume-at", type="number", min=1, step=1, value=max(1, n // 2),
                          className="control-input small"),
                html.Span("without the scheduler's state", className="control-label"),
                html.Button("Show", id={"type": "pitfall", "kind": "resume"},
                            className="button small"),
            ], className="exports"),
            html.Div([
                html.Label("Step the schedule once per epoch of", htmlFor="epoch-steps",
                           className="control-label"),
                dcc.Input(id="epoch-steps", type="number", min=1, step=1, value=50,
                          className="control-input small"),
                html.Span("steps, not once per batch", className="control-label"),
                html.Button("Show", id={"type": "pitfall", "kind": "per-epoch"},
                            className="button small"),
            ], className="exports"),
            html.Div(id="pitfall-result"),
        ], className="tool"),
        html.Details([
            html.Summary("LR range test"),
            html.P("Smith's test: the same surface, start and optimizer, with the lr swept "
                   "from 1e-4 to 10 over 200 steps. The loss falls fastest near a good lr "
                   "and blows up past the largest usable one.", className="hint"),
            html.Button("Run the range test", id="range-run", className="button small"),
            html.Div(id="range-result"),
        ], className="tool"),
    ], className="explore")


BATCH_RULES = {"none": "Noise only", "linear": "Noise and lr ×B",
               "sqrt": "Noise and lr ×√B"}


def _inspector(runs, t: int):
    """The step inspector's table: each run at step ``t`` (a dash where a run is shorter
    or had diverged)."""
    head = html.Tr([html.Th(h) for h in ("Run", "lr", "momentum / β1", "loss",
                                         "gradient norm", "position (x, y)")])
    rows = []
    for view in runs:
        steps = len(view.result["lr"])
        s = tools.inspect_step(view.result, min(t, steps)) if t <= steps else {}
        pos = ("—" if s.get("x") is None else f"({fig.fmt(s['x'])}, {fig.fmt(s['y'])})")
        rows.append(html.Tr([html.Td([_swatch(view.slot, "light"), view.label]),
                             *(html.Td(_fmt(s.get(k))) for k in
                               ("lr", "momentum", "loss", "grad_norm")),
                             html.Td(pos)]))
    return [html.P(f"Step {t}", className="inspect-step-label"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="summary")]


def _diagnostics(runs):
    """The current run's convergence checks in words: the Robbins-Monro sums and, on the
    quadratic surfaces, the SGD stability bound."""
    current = runs[0]
    rm = tools.robbins_monro(current.result)
    st = tools.stability(current.run, current.result)
    return [html.H4("Robbins–Monro: do the steps add up, and the noise not?"),
            html.P(rm["text"]),
            html.H4("Stability: how large may the lr be?"),
            html.P(st["text"])]


ANIMATION_SPEEDS = (10, 30, 100, 300)
"""Steps per second the animation can play at (assets/animate.js plays it in the browser)."""


def animation_bar():
    """Play the run step by step in the browser (no server round trip per frame): the
    path grows and a cursor moves on the other plots. Keys: space plays or pauses, the
    arrows step (shift: ten steps), Home goes back to step 0. Lecture mode hides the
    controls and enlarges the type; the same button (or Esc) brings them back."""
    return html.Div([
        html.Button("▶ Play", id="anim-play", className="button small primary",
                    title="Play the current run step by step (space)"),
        html.Button("|◀", id="anim-start", className="button small",
                    title="Back to step 0 (Home)"),
        html.Button("◀", id="anim-back", className="button small",
                    title="One step back (←; shift: ten)"),
        html.Button("▶|", id="anim-forward", className="button small",
                    title="One step forward (→; shift: ten)"),
        html.Label(["Speed ", html.Select(
            [html.Option(f"{s} steps/s", value=str(s), selected=s == ANIMATION_SPEEDS[1])
             for s in ANIMATION_SPEEDS],
            id="anim-speed", className="control-input small")],
            className="control-label"),
        html.Span("", id="anim-readout", className="anim-readout", role="status"),
        html.Button("Lecture mode", id="lecture-toggle", className="button small",
                    title="Hide the controls and enlarge everything for a projector (Esc "
                          "to leave)"),
    ], className="animation-bar", id="animation-bar")


def formula_panel(config: dict):
    """The schedule's formula with this run's numbers (typeset by MathJax) and when to
    use it."""
    f = tools.formula(config)
    return [html.H3(f"The schedule: {SECTIONS['schedule'][f['schedule']].label}"),
            dcc.Markdown(f["latex"], mathjax=True, className="formula-tex"),
            html.P(f["when"], className="hint")]


EXPORTS = {
    "csv": ("CSV", "Every run's lr, momentum, loss and path, one row per step"),
    "json": ("JSON", "Every run's config and arrays (the config re-runs to the same numbers)"),
    "pytorch": ("PyTorch code", "A script reproducing the current run with torch.optim "
                                "and lr_scheduler"),
    "optax": ("Optax code", "A script reproducing the current run with Optax"),
}


def export_file(kind: str, current: dict, pins: list[dict]) -> dict:
    """What an export button downloads, as ``dcc.send_string`` arguments."""
    if kind == "pytorch":
        return {"content": tools.pytorch_code(current), "filename": "playground_torch.py"}
    if kind == "optax":
        return {"content": tools.optax_code(current), "filename": "playground_optax.py"}
    views = _views(current, pins)
    runs = [(v.label, v.run, v.result) for v in views]
    if kind == "csv":
        return {"content": tools.to_csv(runs), "filename": "playground_runs.csv"}
    return {"content": tools.to_json(runs), "filename": "playground_runs.json"}


def _graph(graph_id: str, figure, title: str, extra=None):
    """A plot (its title is in the figure, so a saved PNG carries it) and its options."""
    return html.Div([
        html.Div(extra, className="plot-head"),
        dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, className="graph"),
    ], className="plot", title=title)


# --- Runs ---------------------------------------------------------------------------------

def _views(current: dict, pins: list[dict], labels=None):
    """RunViews for the current run (slot 0) and the pinned ones, labelled by what differs
    (or by ``labels``, a lesson's own)."""
    runs = [resolve(c) for c in [current, *pins]]
    results = [simulate(current), *_pinned_results(json.dumps(pins, sort_keys=True))]
    labels = list(labels) if labels else fig.differs_labels(runs)
    return [fig.RunView(label=label, slot=i, run=run, result=result)
            for i, (label, run, result) in enumerate(zip(labels, runs, results))]


@lru_cache(maxsize=64)
def _pinned_results(pins_json: str) -> list[dict]:
    """Pinned runs change only when pinned: compute them once, in one batch."""
    return simulate_batch(json.loads(pins_json))


def _current_run(query: str | None) -> dict:
    """The current run of the page path in the ``page-query`` store (which the server wrote,
    so it parses; a forged one raises ConfigError, answered 400 by app.py)."""
    current, _ = from_query((query or "/?").split("?", 1)[1])
    return current


def _surface_key(run: dict) -> str:
    return urlencode(sorted(run["problem"].items()))


def _status(view) -> str:
    d = view.result["diverged_at"]
    if d is not None:
        return f"Diverged at step {d}: the loss left the surface's range. Try a smaller lr."
    return ""


def _fmt(x) -> str:
    """A table cell: figures.fmt, with a dash for nothing to show."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return fig.fmt(x)


def _swatch(slot: int, theme: str):
    return html.Span(className="swatch", style={"background": fig.colour(slot, theme)})


def _legend(runs, theme: str):
    """One legend for all three plots: each run's colour and what sets it apart."""
    return [html.Span([_swatch(v.slot, theme), v.label,
                       html.Span("\u00a0(current)", className="hint") if v.slot == 0 else None],
                      className="legend-item") for v in runs]


def _table(runs, threshold: float, theme: str = "light"):
    head = html.Tr([html.Th(h) for h in ("Run", "Final loss", "Best loss",
                                         f"Steps to loss ≤ {threshold:g}", "Diverged", "")])
    rows = []
    for view in runs:
        s = fig.summary(view.result, threshold)
        swatch = _swatch(view.slot, theme)
        remove = (html.Button("Remove", id={"type": "unpin", "index": view.slot - 1},
                              className="button small") if view.slot else
                  html.Span("current", className="hint"))
        rows.append(html.Tr([
            html.Td([swatch, view.label]), html.Td(_fmt(s["final_loss"])),
            html.Td(_fmt(s["best_loss"])),
            html.Td("—" if s["steps_to_threshold"] is None else str(s["steps_to_threshold"])),
            html.Td("no" if s["diverged_at"] is None else f"at step {s['diverged_at']}"),
            html.Td(remove)]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="summary")


# --- Callbacks ----------------------------------------------------------------------------

PARAM_VALUES = Input({"type": "param", "key": ALL}, "value")
FORM_INPUTS = [Input("problem", "value"), Input("optimizer", "value"),
               Input("schedule", "value"), Input("warmup-on", "value"),
               Input("lr", "value"), Input("lr-slider", "value"), Input("steps", "value"),
               Input("start-x", "value"), Input("start-y", "value"), PARAM_VALUES,
               Input("path-graph", "clickData"), Input("pins", "data"),
               Input("theme", "value"), Input("lr-log", "value"), Input("threshold", "value")]


@callback(
    Output("lr-graph", "figure"), Output("loss-graph", "figure"),
    Output("path-graph", "figure"), Output("errors", "data"),
    Output("lr", "value"), Output("lr-slider", "value"),
    Output("start-x", "value"), Output("start-y", "value"),
    Output("surface-key", "data"), Output("page-query", "data"),
    Output("summary", "children"), Output("status", "children"), Output("legend", "children"),
    *(Output(f"{section}-params", "children") for section in SECTIONS),
    Output("lesson-marks", "data"),
    *FORM_INPUTS, State("surface-key", "data"), State("lesson-marks", "data"),
    prevent_initial_call=True)
def update(problem, optimizer, schedule, warmup_on, lr, lr_slider, steps, start_x, start_y,
           param_values, click, pins, theme, lr_log, threshold, surface_key,
           lesson_marks=False):
    """The one path from a control change to redrawn plots.

    The messages beside the controls travel as one dict (``errors``), drawn in the
    browser: a list output per control costs the renderer ~100 ms per change."""
    trigger = ctx.triggered_id
    no = dash.no_update
    if trigger == "lr-slider" and lr_slider is not None:
        lr = float(f"{10 ** lr_slider:.3g}")
    elif trigger in ("problem", "optimizer"):
        lr = LR_PRESETS[(problem, optimizer)]
    if trigger == "path-graph" and click and click.get("points"):
        point = click["points"][0]
        start_x, start_y = round(point["x"], 3), round(point["y"], 3)
    if trigger == "problem":
        start_x, start_y = SURFACES[problem].start  # the new surface's own start
    param_ids = [item["id"] for item in ctx.inputs_list[FORM_INPUTS.index(PARAM_VALUES)]]
    values = {pid["key"]: v for pid, v in zip(param_ids, param_values)}
    values.update({"run.run.lr": lr, "run.run.steps": steps, "run.run.start_x": start_x,
                   "run.run.start_y": start_y})
    choice = {"problem": problem, "optimizer": optimizer, "schedule": schedule}
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
    if config is None:  # keep the last good run on the plots
        return (no, no, no, errors, lr_out, slider, *start_out, no, no, no,
                "Fix the highlighted field to update the plots.", no, *groups, no)
    runs = _views(config, pins or [])
    threshold = threshold if isinstance(threshold, (int, float)) and threshold > 0 \
        else DEFAULT_THRESHOLD
    # a lesson's marks describe its own runs: the first change redraws without them
    options = lr_log or []
    # the effective-step series sit between the slots and the cursor: whole figures
    full = trigger in ("theme", "pins") or bool(lesson_marks) or "effective" in options \
        or trigger == "lr-log"
    new_key = _surface_key(runs[0].run)
    figures = _figure_updates(runs, theme, "log" in options, full=full,
                              surface_changed=new_key != surface_key)
    if "effective" in options:
        figures = (_with_effective_step(figures[0], runs, theme), *figures[1:])
    _stability_guide(figures[0], runs[0], theme, "stability" in options)
    return (*figures, errors, lr_out, slider, *start_out, new_key,
            page_path(config, pins or []), _table(runs, threshold, theme), _status(runs[0]),
            _legend(runs, theme), *groups, False if lesson_marks else no)


_TYPED = {np.dtype(np.float32): "f4", np.dtype(np.float64): "f8", np.dtype(np.int32): "i4",
          np.dtype(np.uint8): "u1", np.dtype(np.int8): "i1", np.dtype(np.int16): "i2"}


def _compact(value):
    """Arrays as Plotly's base64 typed arrays (a 1,000-step trace: 4 kB, not 12 kB);
    encoded here directly, since plotly's own helper costs ~3 ms per array."""
    if isinstance(value, np.ndarray):
        if value.dtype not in _TYPED:
            value = value.astype(np.float32 if value.dtype.kind == "f" else np.int32)
        spec = {"dtype": _TYPED[value.dtype],
                "bdata": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()}
        if value.ndim > 1:
            spec["shape"] = ",".join(map(str, value.shape))
        return spec
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _figure_updates(runs, theme: str, log_y: bool, full: bool, surface_changed: bool):
    """Whole figures when the theme or the pinned runs change; otherwise Patches that
    replace only the current run's traces (and the contour if the surface changed)."""
    if full:
        surface = fig.surface_trace(runs[0].run, theme)
        return (fig.lr_figure(runs, log_y=log_y, theme=theme),
                fig.loss_figure(runs, theme=theme), fig.path_figure(surface, runs, theme))
    current = runs[0]
    notes = fig.annotations(runs, theme)
    lr, loss, path = Patch(), Patch(), Patch()
    for patch, slot_fn, width in ((lr, fig.lr_slot, 3), (loss, fig.loss_slot, 2)):
        for i, trace in enumerate(slot_fn(current, theme)):
            patch["data"][i] = _compact(trace)
        for view in runs[1:]:  # labels say what differs from the current run
            for i in range(width):
                patch["data"][width * view.slot + i]["name"] = view.label
        patch["layout"]["annotations"] = notes
    lr["layout"]["yaxis"]["type"] = "log" if log_y else "linear"
    lr["layout"]["yaxis2"]["visible"] = fig.shows_momentum(runs)
    loss["layout"]["yaxis"]["range"] = fig.loss_range(runs)
    for i, trace in enumerate(fig.path_slot(current, theme)):
        path["data"][2 + i] = _compact(trace)
    for view in runs[1:]:
        for i in range(2):
            path["data"][2 + 2 * view.slot + i]["name"] = view.label
    path["layout"]["annotations"] = notes
    if surface_changed:
        surface = fig.surface_trace(current.run, theme)
        full_path = fig.path_figure(surface, runs, theme)
        path["data"][0] = _compact(surface)
        path["data"][1] = full_path.data[1]
        path["layout"]["images"] = full_path.layout.images
        path["layout"]["xaxis"]["range"] = full_path.layout.xaxis.range
        path["layout"]["yaxis"]["range"] = full_path.layout.yaxis.range
        path["layout"]["title"] = full_path.layout.title
        path["layout"]["uirevision"] = full_path.layout.uirevision
    return lr, loss, path


def _with_effective_step(lr_figure, runs, theme: str):
    """The lr figure with each run's effective step |dp|/|g| drawn as a series."""
    marks = [{"kind": "series", "plot": "lr", "run": i, "label": "effective step |dp|/|g|",
              "data": tools.effective_step(v.result)} for i, v in enumerate(runs)]
    return fig.with_marks({"lr": lr_figure}, marks, runs, theme)["lr"]


def _stability_guide(lr_figure, current, theme: str, show: bool) -> None:
    """Draw (or take away) the SGD stability limit on the lr plot (a figure or a Patch)."""
    shapes = []
    if show:
        threshold = tools.stability(current.run, current.result)["threshold"]
        shapes = fig.stability_shapes(threshold, current.result["lr"], theme)
    if isinstance(lr_figure, Patch):
        lr_figure["layout"]["shapes"] = shapes
    else:
        lr_figure.layout.shapes = shapes


# The inspector and the checks follow the runs only while one of them is open: a folded
# panel costs no request per change. Opening one brings it up to date.
clientside_callback(
    """function (query, c1, c2) {
        var trig = (dash_clientside.callback_context.triggered || []).map(function (t) {
            return t.prop_id; });
        var opened = trig.some(function (p) { return p.indexOf('-summary.') > 0; });
        var open = ['inspector-tool', 'diagnostics-tool'].some(function (id) {
            var el = document.getElementById(id); return el && el.open; });
        return (opened || open) ? query : window.dash_clientside.no_update;
    }""",
    Output("tools-query", "data"), Input("page-query", "data"),
    Input("inspector-summary", "n_clicks"), Input("diagnostics-summary", "n_clicks"),
    prevent_initial_call=True)


@callback(Output("inspector", "children"), Output("diagnostics", "children"),
          Output("inspect-step", "max"), Input("inspect-step", "value"),
          Input("tools-query", "data"), State("page-query", "data"), State("pins", "data"),
          prevent_initial_call=True)
def update_inspector(t, _opened, query, pins):
    """The step inspector and the convergence checks follow the runs and the step."""
    current = _current_run(query)
    runs = _views(current, pins or [])
    n = max(len(v.result["lr"]) for v in runs)
    t = min(max(0, int(t or 0)), n)
    return _inspector(runs, t), _diagnostics(runs), n


@callback(Output("range-result", "children"), Input("range-run", "n_clicks"),
          State("page-query", "data"), prevent_initial_call=True)
def run_range_test(_clicks, query):
    """Smith's LR range test on the current surface and optimizer, with "use this lr"."""
    current = _current_run(query)
    analysis = tools.lr_range_analysis(simulate(tools.lr_range_config(current)))
    picks = [("Use the suggested lr", analysis["suggested_lr"],
              "a tenth of the minimum-loss lr (fastai's rule)"),
             ("Use the steepest-descent lr", analysis["steepest_lr"],
              "where the loss falls fastest (Smith)")]
    buttons = [html.Button(f"{text}: {fig.fmt(lr)}", id={"type": "use-lr", "lr": lr},
                           className="button small", title=why)
               for text, lr, why in picks if lr is not None]
    if not buttons:
        return html.P("The loss never fell steadily in this sweep: the test has nothing to "
                      "suggest for this start and optimizer.", className="hint")
    return [dcc.Graph(figure=fig.range_test_figure(analysis), config=GRAPH_CONFIG,
                      className="range-graph"),
            html.Div(buttons, className="exports")]


@callback(Output("lr", "value", allow_duplicate=True),
          Input({"type": "use-lr", "lr": ALL}, "n_clicks"), prevent_initial_call=True)
def use_lr(clicks):
    """A range-test suggestion becomes the run's lr (the plots follow as for typing it)."""
    lr = ctx.triggered_id["lr"] if isinstance(ctx.triggered_id, dict) else None
    if not any(clicks) or not isinstance(lr, (int, float)) or isinstance(lr, bool):
        return dash.no_update
    return float(f"{lr:.3g}")


@callback(Output({"type": "param", "key": ALL}, "value", allow_duplicate=True),
          Output("lr", "value", allow_duplicate=True), Output("batch-msg", "children"),
          Input({"type": "batch", "rule": ALL}, "n_clicks"), State("batch-factor", "value"),
          State("page-query", "data"), prevent_initial_call=True)
def grow_batch(clicks, factor, query):
    """Grow the minibatch: the noise control falls by 1/sqrt(B) and the lr follows the
    chosen rule (tools.with_batch_size); the plots follow as for typing the values."""
    keys = [o["id"]["key"] for o in ctx.outputs_list[0]]
    unchanged = [dash.no_update] * len(keys)
    rule = ctx.triggered_id.get("rule") if isinstance(ctx.triggered_id, dict) else None
    if not any(clicks) or rule not in BATCH_RULES:
        return unchanged, dash.no_update, dash.no_update
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 2 \
            or factor != int(factor) or factor > 4096:
        return unchanged, dash.no_update, "The factor must be a whole number from 2 to 4096."
    current = _current_run(query)
    try:
        grown = tools.with_batch_size(current, int(factor),
                                      None if rule == "none" else rule)
    except ConfigError as e:
        return unchanged, dash.no_update, (
            "Pick the noisy quadratic first: batch size only matters where the gradient "
            "is noisy." if e.field == "problem.name" else str(e))
    _, values, _ = form_from_config(grown)
    return ([values[k] if k in values else dash.no_update for k in keys],
            values["run.run.lr"], "")


@callback(Output("pitfall-result", "children"),
          Input({"type": "pitfall", "kind": ALL}, "n_clicks"), State("resume-at", "value"),
          State("epoch-steps", "value"), State("page-query", "data"), prevent_initial_call=True)
def show_pitfall(clicks, resume_at, epoch_steps, query):
    """A pitfall replayed on the current run: the buggy loop against the correct one."""
    kind = ctx.triggered_id.get("kind") if isinstance(ctx.triggered_id, dict) else None
    if not any(clicks) or kind not in ("resume", "per-epoch"):
        return dash.no_update
    current = _current_run(query)
    whole = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) \
        and v == int(v)  # noqa: E731
    try:
        if kind == "resume":
            if not whole(resume_at):
                raise ConfigError("at", "must be a whole number of steps")
            out = tools.resume_without_scheduler_state(current, int(resume_at))
            title = f"Resumed at step {out['at']} without the scheduler's state"
            text = (f"At step {out['at']} the rebuilt scheduler starts its schedule again: "
                    "the lr jumps back to its first value (warmup included), and the "
                    "optimizer's moments restart from zero. Save and restore "
                    "scheduler.state_dict() (and the optimizer's) with the weights.")
        else:
            if not whole(epoch_steps):
                raise ConfigError("steps_per_epoch", "must be a whole number of steps")
            out = tools.stepped_per_epoch(current, int(epoch_steps))
            title = f"Scheduler stepped once per epoch of {out['steps_per_epoch']} steps"
            text = ("Stepped once per epoch, the scheduler has taken only e steps in epoch e: "
                    "a per-batch schedule such as OneCycleLR barely leaves its start. Call "
                    "scheduler.step() after every optimizer.step().")
    except ConfigError as e:
        return html.P(f"Cannot show this for the current run: {e.message}.",
                      className="control-msg")
    if not out["exact"]:
        text += (" (Replayed with fresh optimizer state at each restart and, on the noisy "
                 "surface, fresh noise: close to, not exactly, the PyTorch loop.)")
    return [dcc.Graph(figure=fig.pitfall_figure(out["correct"], out["buggy"], title),
                      config=GRAPH_CONFIG, className="range-graph"), html.P(text)]


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
    current = _current_run(query)
    return (pins + [current])[-MAX_PINS:]


@callback(Output("formula", "children"), Input("page-query", "data"),
          prevent_initial_call=True)
def update_formula(query):
    """The formula follows the run, in a request of its own after the plots' (MathJax
    typesetting costs the renderer ~15 ms; the plots need not wait for it)."""
    current = _current_run(query)
    return formula_panel(current)


@callback(Output("download", "data"), Input({"type": "export", "kind": ALL}, "n_clicks"),
          State("page-query", "data"), State("pins", "data"), prevent_initial_call=True)
def download(_clicks, query, pins):
    """Take it home: the runs as CSV or JSON, the current run as PyTorch or Optax code."""
    if not ctx.triggered_id or not any(_clicks):
        return dash.no_update
    current = _current_run(query)
    file = export_file(ctx.triggered_id["kind"], current, pins or [])
    return dcc.send_string(file["content"], file["filename"])


# A lesson from the menu: open its link (the page rebuilds from the address).
clientside_callback(
    """function (path) {
        if (path) { window.location.assign(path); }
        return window.dash_clientside.no_update;
    }""",
    Output("lesson-menu", "className"), Input("lesson-menu", "value"),
    prevent_initial_call=True)

# Showing the warmup fields needs no server.
clientside_callback(
    "function (on) { return !(on && on.length); }",
    Output("warmup-group", "hidden"), Input("warmup-on", "value"))

clientside_callback(
    """function (theme) {
        // for widgets drawn outside the app; other body classes (lecture mode) stay
        document.body.classList.remove('theme-light', 'theme-dark');
        document.body.classList.add('theme-' + theme);
        return 'app theme-' + theme;
    }""",
    Output("app-root", "className"), Input("theme", "value"))

# Each control's message (and its invalid mark) from the one errors dict.
clientside_callback(
    """function (errors) {
        errors = errors || {};
        document.querySelectorAll('.field[id]').forEach(function (el) {
            var key;
            try { key = JSON.parse(el.id).key; } catch (e) { return; }
            var message = errors[key] || '';
            el.classList.toggle('invalid', !!message);
            var slot = el.querySelector('.control-msg');
            if (slot) { slot.textContent = message; }
        });
        return window.dash_clientside.no_update;
    }""",
    Output("errors-sync", "data"), Input("errors", "data"))

# The address always holds the whole state; replace it (no flood of history entries).
clientside_callback(
    """function (path) {
        if (path && window.location.pathname + window.location.search !== path) {
            window.history.replaceState(null, '', path);
        }
        return window.dash_clientside.no_update;
    }""",
    Output("url-sync", "data"), Input("page-query", "data"))

# The step inspector's step is marked on all three plots (in the browser).
clientside_callback(
    "function (t) { return window.playgroundCursorAt(t); }",
    Output("inspect-step", "className"), Input("inspect-step", "value"),
    prevent_initial_call=True)

# Hovering a step in any plot highlights the same step in the other two (in the browser).
clientside_callback(
    """function (h1, h2, h3) {
        return window.playgroundHover(dash_clientside.callback_context);
    }""",
    Output("hover-sync", "data"), Input("lr-graph", "hoverData"),
    Input("loss-graph", "hoverData"), Input("path-graph", "hoverData"))
