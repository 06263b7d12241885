"""The learning-rate plot: each run's lr (and momentum / beta1 on the right axis) at each
step, with the schedule's events marked. 3 traces per slot, then the cursor."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figure_base import (MODEBAR_ORIENTATION, STEP_TICKS, axis, base_layout, by_slot,
                          cursor_trace, empty_trace, esc, line_width, positive_span, slot_of,
                          slot_range, steps_of, z_order)
from .runs import RunView, events, lengths
from .style import THEMES, THIN_LINE_WIDTH, colour

EVENT_TEXT = {"milestone": "milestone", "restart": "restart", "reduction": "reduction",
              "warmup_end": "warmup end"}
EVENT_SYMBOLS = {"milestone": "triangle-down", "restart": "triangle-up",
                 "reduction": "diamond", "warmup_end": "square"}


def momentum_name(run: dict) -> str:
    return "β1" if run["optimizer"]["name"] in ("adam", "adamw") else "momentum"


def varies(values: np.ndarray) -> bool:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return v.size > 1 and float(v.max() - v.min()) > 1e-9 * max(1.0, float(np.abs(v).max()))


def shows_momentum(runs: list[RunView]) -> bool:
    """Whether any run's momentum (beta1) varies, i.e. the lr plot's right axis is used."""
    return any(varies(r.result["momentum"][:lengths(r.result)[0]]) for r in runs)


def lr_slot(run: RunView | None, theme: str = "light", slot: int | None = None) -> list[dict]:
    """The lr plot's three traces of one slot: lr line, momentum/beta1 line (y2; empty
    unless it varies), event markers. ``run=None`` gives the empty traces of ``slot``."""
    s = slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [empty_trace("", col, s), empty_trace("", col, s, yaxis="y2"),
                empty_trace("", col, s, mode="markers")]
    n, _ = lengths(run.result)
    steps = np.arange(n, dtype=np.int32)
    lr = run.result["lr"][:n]
    label = run.label
    group = f"slot{s}"
    line = {"type": "scatter", "mode": "lines", "x": steps, "y": lr, "name": label,
            "legendgroup": group, "showlegend": True, "zorder": z_order(s),
            "line": {"color": col, "width": line_width(s)},
            "hovertemplate": f"{esc(label)}: lr %{{y:.4~g}}<extra></extra>"}
    mom = run.result["momentum"][:n]
    mname = momentum_name(run.run)
    momentum = empty_trace(f"{label} {mname}", col, s, yaxis="y2", mode="lines")
    if varies(mom):
        momentum.update(x=steps, y=mom, zorder=1,
                        line={"color": col, "width": THIN_LINE_WIDTH, "dash": "dot"},
                        hovertemplate=f"{esc(label)}: {mname} %{{y:.3~g}}<extra></extra>")
    ev = events(run.run, run.result)
    points = sorted((k, kind) for kind, ks in ev.items() for k in ks)
    ks = np.array([k for k, _ in points], dtype=np.int32)
    marks = {"type": "scatter", "mode": "markers", "x": ks,
             "y": np.asarray(lr)[ks] if len(ks) else np.zeros(0, np.float32),
             "name": f"{label} events", "legendgroup": group, "showlegend": False,
             "zorder": 5, "cliponaxis": False,
             "text": [f"{EVENT_TEXT[kind]} at step {k}" for k, kind in points],
             "hovertemplate": f"{esc(label)}: %{{text}}<extra></extra>",
             "marker": {"symbol": [EVENT_SYMBOLS[kind] for _, kind in points], "size": 15,
                        "color": col, "line": {"color": THEMES[theme]["paper"], "width": 1.5}}}
    return [line, momentum, marks]


NARROW_STEP_TICKS = 4
"""Step labels at most on the lr plot while its momentum axis takes the right margin: on a
laptop's third of the page six would not fit side by side, and Plotly would stand them
upright."""


def step_labels(momentum: bool) -> int:
    """How many step labels the lr plot's step axis carries at most (``momentum``: its
    momentum axis is shown)."""
    return NARROW_STEP_TICKS if momentum else STEP_TICKS


def lr_figure(runs: list[RunView], log_y: bool = False, theme: str = "light") -> go.Figure:
    """The learning rate (and momentum/beta1 on the right axis) at each step, with the
    schedule's events marked; 3 traces per slot then the cursor (see module doc)."""
    slots = by_slot(runs)
    data = [tr for s in slot_range(slots) for tr in lr_slot(slots.get(s), theme, slot=s)]
    data.append(cursor_trace(theme))
    layout = base_layout(theme, "Learning rate", "lr", runs, "x unified")
    momentum = shows_momentum(runs)
    layout["xaxis"] = axis(theme, "step", steps=steps_of(runs),
                            step_labels=step_labels(momentum),
                            unifiedhovertitle={"text": "step %{x}"})
    span = positive_span(r.result["lr"][:lengths(r.result)[0]] for r in runs) \
        if log_y else None
    layout["yaxis"] = axis(theme, "learning rate", type="log" if log_y else "linear",
                            exponentformat="power", rangemode="tozero", nticks=8,
                            log_span=span)
    layout["yaxis2"] = axis(theme, "momentum / β1 (dotted)", overlaying="y", side="right",
                             showgrid=False, tickmode="auto", tickformat=".3~f",
                             visible=momentum)
    layout["modebar"] = {**layout["modebar"], "orientation": modebar_orientation(momentum)}
    return go.Figure(data=data, layout=layout)


def modebar_orientation(momentum: bool) -> str:
    """The lr plot's toolbar: upright in the right margin as on the other plots, except
    while that margin holds the momentum axis; then it lies in the title's row (this
    plot's title is short), not over the axis's title."""
    return "h" if momentum else MODEBAR_ORIENTATION
