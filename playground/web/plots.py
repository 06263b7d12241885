"""The three linked plots (learning rate, loss, path on the surface) and the main
callback: the one path from a control change to redrawn plots.

Data flows one way: controls -> config (``controls.read_form``) -> runs (``state``) ->
figures (``playground.web.figures``) -> the browser. The callback is thin: it decides what
changed and sends only that (``Patch``); the contour map is sent only when the surface
changes. The legend, the comparison table and the status line follow in the same reply.
"""
from __future__ import annotations

import base64

import dash
import numpy as np
from dash import Input, Output, Patch, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from .. import tools
from ..config import SECTIONS, page_path
from . import lesson_view, state
from .controls import PARAM_VALUES, read_form
from .sliders import PARAM_SLIDERS
from .figures import (annotations, loss_figure, loss_range, loss_slot, lr_figure,
                      lr_slot, minimum_trace, modebar_orientation, path_figure, path_slot,
                      shows_momentum, stability_shapes, step_labels, surface_trace,
                      with_marks)
from .comparison import DEFAULT_THRESHOLD, legend, table
from .exports import formula_text
from .components import number
from .figure_3d import surface_3d
from .figure_loss import loss_title
from .figure_base import log_ticks, step_ticks, steps_of
from .style import GRAPH_CONFIG

LR_OPTIONS = [{"label": "log scale", "value": "log"},
              {"label": "SGD stability limit", "value": "stability",
               "title": "On the quadratic surfaces: the lr above which SGD diverges "
                        "(2/λ, with momentum 2(1+β)/λ), and the steps above it"},
              {"label": "effective step", "value": "effective",
               "title": "Each run's actual step per unit of gradient, |Δp|/|g| (dash-dot): "
                        "Adam's and RMSprop's real step size next to the nominal lr; for "
                        "plain SGD it is the lr itself"}]


def figures_for(runs, theme: str) -> dict:
    """The three figures of a page as it opens (kind -> go.Figure)."""
    surface = surface_trace(runs[0].run, theme)
    return {"lr": lr_figure(runs, log_y=False, theme=theme),
            "loss": loss_figure(runs, theme=theme),
            "path": path_figure(surface, runs, theme=theme)}


PLOT_TABS = [{"label": "Learning rate", "value": "lr"}, {"label": "Loss", "value": "loss"},
             {"label": "Path", "value": "path"}]
"""On a phone one plot shows at a time, picked by these tabs (CSS shows them only there)."""


def plots(figures: dict, lr_options=()):
    """The three plots side by side, each with its options above it; on a phone, tabs
    above them pick the one shown (``assets/style.css``: no round trip)."""
    return html.Div([
        html.Div(dcc.RadioItems(id="plot-tab", options=PLOT_TABS, value="lr", inline=True,
                                className="plot-tabs", inputClassName="plot-tab-input",
                                labelClassName="plot-tab"),
                 role="radiogroup", className="plot-tabs-group",
                 **{"aria-label": "Plot to show"}),
        graph("lr-graph", figures["lr"], "Learning rate",
              html.Div(dcc.Checklist(id="lr-log", options=LR_OPTIONS, value=list(lr_options),
                                     inline=True, className="control-check small"),
                       role="group", **{"aria-label": "Learning-rate plot options"})),
        graph("loss-graph", figures["loss"], "Loss"),
        graph("path-graph", figures["path"], "Path on the surface",
              [html.Span("click the map to start there", className="hint"),
               dcc.Checklist(id="path-3d", options=[{"label": "3D", "value": "3d"}],
                             value=[], inline=True, className="control-check small")]),
    ], className="plots")


def graph(graph_id: str, figure, title: str, extra=None):
    """A plot (its title is in the figure, so a saved PNG carries it) and its options."""
    kind = graph_id.split("-")[0]
    return html.Div([
        html.Div(extra, className="plot-head"),
        dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, className="graph"),
    ], className=f"plot plot-{kind}", title=title)


def surface_store(run: dict):
    """The surface the path plot shows (its map is sent again only when this changes)."""
    return dcc.Store(id="surface-key", data=state.surface_key(run))


def status(view) -> str:
    d = view.result["diverged_at"]
    if d is not None:
        return f"Diverged at step {d}: the loss left the surface's range. Try a smaller lr."
    return ""


def status_line(view):
    return html.Div(id="status", className="status", role="status", children=status(view))


# --- The main callback -------------------------------------------------------------------

FORM_INPUTS = [Input("problem", "value"), Input("optimizer", "value"),
               Input("schedule", "value"), Input("warmup-on", "value"),
               Input("lr", "value"), Input("lr-slider", "value"), Input("steps", "value"),
               Input("steps-slider", "value"), Input("start-x", "value"),
               Input("start-y", "value"), PARAM_VALUES, PARAM_SLIDERS,
               Input("path-graph", "clickData"), Input("pins", "data"),
               Input("theme", "value"), Input("lr-log", "value"), Input("threshold", "value"),
               Input("path-3d", "value")]


@callback(
    Output("lr-graph", "figure"), Output("loss-graph", "figure"),
    Output("path-graph", "figure"), Output("errors", "data"),
    Output("lr", "value"), Output("lr-slider", "value"), Output("lr-slider", "className"),
    Output("steps", "value"), Output("steps-slider", "value"),
    Output("start-x", "value"), Output("start-y", "value"),
    Output("surface-key", "data"), Output("page-query", "data"),
    Output("summary", "children"), Output("status", "children"), Output("legend", "children"),
    *(Output(f"{section}-params", "children") for section in SECTIONS),
    Output("lesson-marks", "data"), Output("formula-text", "data"),
    Output(PARAM_VALUES.component_id, "value", allow_duplicate=True),
    Output(PARAM_SLIDERS.component_id, "value", allow_duplicate=True),
    *FORM_INPUTS, State("surface-key", "data"), State("lesson-marks", "data"),
    State(PARAM_VALUES.component_id, "placeholder"),
    prevent_initial_call=True)
def update(problem, optimizer, schedule, warmup_on, lr, lr_slider, steps, steps_slider,
           start_x, start_y, param_values, param_sliders, click, pins, theme, lr_log,
           threshold, path_3d, surface_key, lesson_marks=False, placeholders=None):
    """The one path from a control change to redrawn plots.

    The messages beside the controls travel as one dict (``errors``), drawn in the
    browser: a list output per control costs the renderer ~100 ms per change. The
    schedule's formula's texts come with the plots (a request of their own cost the
    server a second request per change); the page typesets them after the plots."""
    trigger = ctx.triggered_id
    no = dash.no_update
    box_keys, slider_keys = (
        [item["id"]["key"] for item in ctx.inputs_list[FORM_INPUTS.index(i)] or []]
        for i in (PARAM_VALUES, PARAM_SLIDERS))
    form = read_form(trigger, {"problem": problem, "optimizer": optimizer,
                               "schedule": schedule}, warmup_on, lr, lr_slider, steps,
                     start_x, start_y, dict(zip(box_keys, param_values)), click,
                     steps_slider, dict(zip(slider_keys, param_sliders or [])),
                     dict(zip(box_keys, placeholders or [])))
    if form is None:  # a slider's release that changes no box
        raise PreventUpdate
    # the parameter boxes a released slider writes, the sliders a typed box moves
    controls = ([form.boxes.get(k, no) for k in box_keys],
                [form.sliders.get(k, no) for k in slider_keys])
    if form.config is None:  # keep the last good run on the plots
        return (no, no, no, form.errors, form.lr, form.slider, form.slider_class, form.steps,
                form.steps_slider, *form.start,
                no, no, no,
                "Fix the highlighted field to update the plots.", no, *form.groups, no, no,
                *controls)
    # a new theme keeps a lesson's marks (the runs are the lesson's still), in its colours
    lesson = lesson_view.marked_lesson(lesson_marks) if trigger == "theme" else None
    runs = state.runs(form.config, pins or [], labels=lesson.labels if lesson else None)
    threshold = number(threshold)
    threshold = threshold if threshold is not None and 0 < threshold < float("inf") \
        else DEFAULT_THRESHOLD
    # a lesson's marks describe its own runs: the first change redraws without them
    options = lr_log or []
    # the effective-step series sit between the slots and the cursor: whole figures
    full = trigger in ("theme", "pins") or bool(lesson_marks) or "effective" in options \
        or trigger == "lr-log"
    new_key = state.surface_key(runs[0].run)
    if lesson is not None:  # the lesson's own figures, marks and all, in the new colours
        marked = lesson_view.marked_figures(figures_for(runs, theme), lesson, runs, theme)
        figures = (marked["lr"], marked["loss"],
                   surface_3d(runs, theme) if path_3d else marked["path"])
    else:
        figures = _figures(runs, theme, options, trigger, path_3d, full=full,
                           surface_changed=new_key != surface_key)
    return (*figures, form.errors, form.lr, form.slider, form.slider_class, form.steps,
            form.steps_slider, *form.start,
            new_key,
            page_path(form.config, pins or []), table(runs, threshold, theme),
            status(runs[0]), legend(runs, theme), *form.groups,
            False if lesson_marks and lesson is None else no, formula_text(form.config),
            *controls)


def _figures(runs, theme: str, options: list, trigger, path_3d, *, full: bool,
             surface_changed: bool) -> tuple:
    """The three figures (or their patches) after a change: the lr plot with the options
    its checkboxes ask for, the path as a map or in 3D."""
    figures = figure_updates(runs, theme, "log" in options, full=full,
                             surface_changed=surface_changed)
    if "effective" in options:
        figures = (with_effective_step(figures[0], runs, theme), *figures[1:])
    stability_guide(figures[0], runs[0], theme, "stability" in options)
    if path_3d:  # the 3D view is drawn whole (no patches: its traces are not the map's)
        figures = (*figures[:2], surface_3d(runs, theme))
    elif trigger == "path-3d":  # back to the map
        figures = (*figures[:2], path_figure(surface_trace(runs[0].run, theme), runs, theme))
    return figures


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


def figure_updates(runs, theme: str, log_y: bool, full: bool, surface_changed: bool):
    """Whole figures when the theme or the pinned runs change; otherwise Patches that
    replace only the current run's traces (and the contour if the surface changed)."""
    if full:
        surface = surface_trace(runs[0].run, theme)
        return (lr_figure(runs, log_y=log_y, theme=theme),
                loss_figure(runs, theme=theme), path_figure(surface, runs, theme))
    current = runs[0]
    notes = annotations(runs, theme)
    lr, loss, path = Patch(), Patch(), Patch()
    for patch, slot_fn, width in ((lr, lr_slot, 3), (loss, loss_slot, 2)):
        for i, trace in enumerate(slot_fn(current, theme)):
            patch["data"][i] = _compact(trace)
        for view in runs[1:]:  # labels say what differs from the current run
            for i in range(width):
                patch["data"][width * view.slot + i]["name"] = view.label
        patch["layout"]["annotations"] = notes
    steps = steps_of(runs)  # the configured steps, ticked
    momentum = shows_momentum(runs)
    for key, value in step_ticks(steps, step_labels(momentum)).items():
        lr["layout"]["xaxis"][key] = value
    for key, value in step_ticks(steps).items():
        loss["layout"]["xaxis"][key] = value
    rng = loss_range(runs)
    if rng:
        for key, value in log_ticks(10.0 ** rng[0], 10.0 ** rng[1], theme).items():
            loss["layout"]["yaxis"][key] = value
    lr["layout"]["yaxis"]["type"] = "log" if log_y else "linear"
    lr["layout"]["yaxis"]["autorange"] = True  # a scrub (assets/scrub.js) may have fixed it
    lr["layout"]["yaxis2"]["visible"] = momentum
    lr["layout"]["modebar"]["orientation"] = modebar_orientation(momentum)
    loss["layout"]["yaxis"]["range"] = rng
    loss["layout"]["yaxis"]["title"]["text"] = loss_title(runs)
    for i, trace in enumerate(path_slot(current, theme)):
        path["data"][2 + i] = _compact(trace)
    for view in runs[1:]:
        for i in range(2):
            path["data"][2 + 2 * view.slot + i]["name"] = view.label
    path["layout"]["annotations"] = notes
    path["data"][1]["textposition"] = minimum_trace(current.run, theme,
                                                    current.result["path"])["textposition"]
    if surface_changed:
        surface = surface_trace(current.run, theme)
        full_path = path_figure(surface, runs, theme)
        path["data"][0] = _compact(surface)
        path["data"][1] = full_path.data[1]
        path["layout"]["images"] = full_path.layout.images
        path["layout"]["xaxis"]["range"] = full_path.layout.xaxis.range
        path["layout"]["yaxis"]["range"] = full_path.layout.yaxis.range
        path["layout"]["title"] = full_path.layout.title
        path["layout"]["uirevision"] = full_path.layout.uirevision
    return lr, loss, path


def with_effective_step(lr_fig, runs, theme: str):
    """The lr figure with each run's effective step |dp|/|g| drawn as a series."""
    marks = [{"kind": "series", "plot": "lr", "run": i, "label": "effective step |dp|/|g|",
              "data": tools.effective_step(v.result)} for i, v in enumerate(runs)]
    return with_marks({"lr": lr_fig}, marks, runs, theme)["lr"]


def stability_guide(lr_fig, current, theme: str, show: bool) -> None:
    """Draw (or take away) the SGD stability limit on the lr plot (a figure or a Patch)."""
    shapes = []
    if show:
        threshold = tools.stability(current.run, current.result)["threshold"]
        shapes = stability_shapes(threshold, current.result["lr"], theme)
    if isinstance(lr_fig, Patch):
        lr_fig["layout"]["shapes"] = shapes
    else:
        lr_fig.layout.shapes = shapes
