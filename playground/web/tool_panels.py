"""The tool panels beside the plots, each folded away until opened: the step inspector,
"Will it converge?" (the Robbins-Monro sums, the SGD stability bound), the batch size
(noisy quadratic), two pitfalls of real training loops, and Smith's LR range test with
"use this lr". The computations are ``playground.tools``; the figures
``playground.web.figure_tools``.
"""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from .. import tools
from ..params import ConfigError
from .components import cell, number, swatch
from .figures import pitfall_figure, range_test_figure
from .form import form_from_config
from .runs import fmt
from .state import current_run, range_test, runs_for
from .style import GRAPH_CONFIG


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
                       allow_direct_input=False, marks=None, tooltip={"placement": "bottom", "always_visible": True},
                       updatemode="drag", className="inspect-slider"),
            html.Div(inspector(runs, 0), id="inspector"),
        ], className="tool", id="inspector-tool"),
        html.Details([
            html.Summary("Will it converge?", id="diagnostics-summary"),
            html.Div(diagnostics(runs), id="diagnostics"),
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
                dcc.Input(id="batch-factor", type="text", inputMode="numeric", value="4",
                          className="control-input small"),
                *(html.Button(text, id={"type": "batch", "rule": rule},
                              className="button small")
                  for rule, text in BATCH_RULES.items()),
            ], className="exports"),
            html.Div(id="batch-msg", className="control-msg", role="alert"),
        ], className="tool"),
        html.Details([
            html.Summary("Pitfalls"),
            html.P("Three silent bugs of real training loops, each shown against the "
                   "correct run.", className="hint"),
            html.Div([
                html.Label("Resume from a checkpoint at step", htmlFor="resume-at",
                           className="control-label"),
                dcc.Input(id="resume-at", type="text", inputMode="numeric", value=str(max(1, n // 2)),
                          className="control-input small"),
                html.Span("without the scheduler's state", className="control-label"),
                html.Button("Show", id={"type": "pitfall", "kind": "resume"},
                            className="button small"),
            ], className="exports"),
            html.Div([
                html.Label("Step the schedule once per epoch of", htmlFor="epoch-steps",
                           className="control-label"),
                dcc.Input(id="epoch-steps", type="text", inputMode="numeric", value="50",
                          className="control-input small"),
                html.Span("steps, not once per batch", className="control-label"),
                html.Button("Show", id={"type": "pitfall", "kind": "per-epoch"},
                            className="button small"),
            ], className="exports"),
            html.Div([
                html.Label("Accumulate gradients over", htmlFor="accumulate",
                           className="control-label"),
                dcc.Input(id="accumulate", type="text", inputMode="numeric", value="4",
                          className="control-input small"),
                html.Span("micro-batches, stepping the scheduler after each one",
                          className="control-label"),
                html.Button("Show", id={"type": "pitfall", "kind": "accumulate"},
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


def inspector(runs, t: int):
    """The step inspector's table: each run at step ``t`` (a dash where a run is shorter
    or had diverged); with a run that clips its gradient, the norm after clipping beside
    the raw one."""
    clips = any(v.run.get("clip_grad_norm") for v in runs)
    norms = ("grad_norm", "clipped_grad_norm") if clips else ("grad_norm",)
    head = html.Tr([html.Th(h) for h in ("Run", "lr", "momentum / β1", "loss",
                                         "gradient norm",
                                         *(["after clipping"] if clips else []),
                                         "position (x, y)")])
    rows = []
    for view in runs:
        steps = len(view.result["lr"])
        s = tools.inspect_step(view.result, min(t, steps)) if t <= steps else {}
        pos = ("—" if s.get("x") is None else f"({fmt(s['x'])}, {fmt(s['y'])})")
        rows.append(html.Tr([html.Td([swatch(view.slot, "light"), view.label]),
                             *(html.Td(cell(s.get(k))) for k in
                               ("lr", "momentum", "loss", *norms)),
                             html.Td(pos)]))
    return [html.P(f"Step {t}", className="inspect-step-label"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="summary")]


def diagnostics(runs):
    """The current run's convergence checks in words: the Robbins-Monro sums and, on the
    quadratic surfaces, the SGD stability bound."""
    current = runs[0]
    rm = tools.robbins_monro(current.result)
    st = tools.stability(current.run, current.result)
    return [html.H4("Robbins–Monro: do the steps add up, and the noise not?"),
            html.P(rm["text"]),
            html.H4("Stability: how large may the lr be?"),
            html.P(st["text"])]


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
    runs = runs_for(query, pins)
    n = max(len(v.result["lr"]) for v in runs)
    t = min(max(0, int(t or 0)), n)
    return inspector(runs, t), diagnostics(runs), n


@callback(Output("range-result", "children"), Input("range-run", "n_clicks"),
          State("page-query", "data"), prevent_initial_call=True)
def run_range_test(_clicks, query):
    """Smith's LR range test on the current surface and optimizer, with "use this lr"."""
    current = current_run(query)
    analysis = range_test(current)
    picks = [("Use the suggested lr", analysis["suggested_lr"],
              "a tenth of the minimum-loss lr (fastai's rule)"),
             ("Use the steepest-descent lr", analysis["steepest_lr"],
              "where the loss falls fastest (Smith)")]
    buttons = [html.Button(f"{text}: {fmt(lr)}", id={"type": "use-lr", "lr": lr},
                           className="button small", title=why)
               for text, lr, why in picks if lr is not None]
    if not buttons:
        return html.P("The loss never fell steadily in this sweep: the test has nothing to "
                      "suggest for this start and optimizer.", className="hint")
    return [dcc.Graph(figure=range_test_figure(analysis), config=GRAPH_CONFIG,
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
    factor = number(factor)
    if factor is None or not 2 <= factor <= 4096 or factor != int(factor):
        return unchanged, dash.no_update, "The factor must be a whole number from 2 to 4096."
    current = current_run(query)
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
          State("epoch-steps", "value"), State("accumulate", "value"),
          State("page-query", "data"), prevent_initial_call=True)
def show_pitfall(clicks, resume_at, epoch_steps, accumulate, query):
    """A pitfall replayed on the current run: the buggy loop against the correct one."""
    kind = ctx.triggered_id.get("kind") if isinstance(ctx.triggered_id, dict) else None
    if not any(clicks) or kind not in ("resume", "per-epoch", "accumulate"):
        return dash.no_update
    current = current_run(query)
    resume_at, epoch_steps = number(resume_at), number(epoch_steps)
    accumulate = number(accumulate)
    whole = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) \
        and abs(v) < 2**31 and v == int(v)  # noqa: E731
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
        elif kind == "accumulate":
            if not whole(accumulate):
                raise ConfigError("accumulate", "must be a whole number of micro-batches")
            out = tools.stepped_per_micro_batch(current, int(accumulate))
            k = out["accumulate"]
            title = f"Scheduler stepped after each of {k} accumulated micro-batches"
            text = (f"With the gradient accumulated over {k} micro-batches the optimizer "
                    f"steps once per {k} backward passes, but the scheduler was stepped "
                    f"after each: the schedule runs {k} times too fast and is over after a "
                    f"{k}th of the run. Step the scheduler only when the optimizer steps.")
            if out.get("raises_at") is not None:
                text += (f" PyTorch raises ValueError (OneCycleLR stepped past total_steps) "
                         f"after step {out['raises_at'] - 1}: the buggy curve stops there.")
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
        text += (" (On the noisy surface a real loop's micro-batches would each draw their "
                 "own noise: close to, not exactly, the PyTorch loop.)" if kind == "accumulate"
                 else " (Replayed with fresh optimizer state at each restart and, on the "
                 "noisy surface, fresh noise: close to, not exactly, the PyTorch loop.)")
    return [dcc.Graph(figure=pitfall_figure(out["correct"], out["buggy"], title),
                      config=GRAPH_CONFIG, className="range-graph"), html.P(text)]
