"""The lr sensitivity view: each run's final loss against the lr over the whole lr range,
log-log (``playground.tools.lr_sensitivity``). The current lr is marked, the lrs at which
the current run diverges are shaded, and a click on a point sets the lr."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..tools.sensitivity import stretches
from .figure_base import MODEBAR_MARGIN, axis, modebar, positive_span
from .runs import fmt
from .style import FONT_FAMILY, FONT_SIZE, LINE_WIDTH, STABILITY_COLOUR, THEMES, colour


def diverged_spans(lr, diverged) -> list[tuple[float, float]]:
    """The stretches of the lr grid where the runs diverge, as (from, to) lrs whose edges
    sit halfway (in log scale) between a diverging lr and its neighbour that did not."""
    lr = np.asarray(lr, dtype=np.float64)
    n = len(lr)
    return [(float(lr[i] if i == 0 else math.sqrt(lr[i - 1] * lr[i])),
             float(lr[j] if j == n - 1 else math.sqrt(lr[j] * lr[j + 1])))
            for i, j in stretches(diverged)]


def sensitivity_figure(analyses: list[tuple[str, int, dict]], theme: str = "light",
                       metric: str = "final") -> go.Figure:
    """``analyses``: (label, colour slot, ``lr_sensitivity`` result) per run, the current
    run first. ``metric``: ``final`` or ``best`` loss on the y axis."""
    t = THEMES[theme]
    data = []
    for label, slot, a in reversed(analyses):  # the current run drawn last, on top
        y = np.asarray(a[metric], dtype=np.float64)
        y = np.where(np.isfinite(y), np.maximum(y, 1e-30), np.nan)
        col = colour(slot, theme)
        steps = ["—" if s < 0 else str(s) for s in a["steps_to"]]
        fate = [f"diverged at step {d}" if d >= 0 else "converging" for d in a["diverged_at"]]
        data.append({"type": "scatter", "mode": "lines+markers", "x": a["lr"], "y": y,
                     "name": label, "line": {"color": col, "width": LINE_WIDTH},
                     "marker": {"size": 7, "color": col}, "connectgaps": False,
                     "customdata": np.stack([steps, fate], axis=1),
                     "hovertemplate": (f"{label}<br>lr %{{x:.3~g}}: {metric} loss "
                                       "%{y:.3~g}<br>steps to loss ≤ "
                                       f"{fmt(a['threshold'])}: %{{customdata[0]}}"
                                       "<br>%{customdata[1]}<extra></extra>")})
    current = analyses[0][2]
    warn = STABILITY_COLOUR[theme]
    shapes = [{"type": "rect", "xref": "x", "x0": lo, "x1": hi, "yref": "paper", "y0": 0,
               "y1": 1, "layer": "below", "line": {"width": 0}, "fillcolor": warn,
               "opacity": 0.14} for lo, hi in diverged_spans(current["lr"],
                                                             current["diverged"])]
    lr0 = current["current_lr"]
    shapes.append({"type": "line", "xref": "x", "x0": lr0, "x1": lr0, "yref": "paper",
                   "y0": 0, "y1": 1, "layer": "above",
                   "line": {"color": t["font"], "width": 2, "dash": "dot"},
                   "label": {"text": f"lr {fmt(lr0)}", "textposition": "end",
                             "textangle": 0, "xanchor": "left",
                             "font": {"size": FONT_SIZE - 2, "color": t["font"]}}})
    notes = []
    if any(a["diverged"].any() for _, _, a in analyses[:1]):
        lo = diverged_spans(current["lr"], current["diverged"])[0][0]
        notes.append({"xref": "x", "yref": "paper", "x": math.log10(lo), "y": 0.98,
                      "xanchor": "left", "yanchor": "top", "showarrow": False,
                      "text": "diverges", "font": {"size": FONT_SIZE - 1, "color": warn}})
    span = positive_span([d["y"] for d in data])
    x_lo, x_hi = float(np.min(current["lr"])), float(np.max(current["lr"]))
    layout = {"template": "none", "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
              "height": 380, "hovermode": "closest", "clickmode": "event",
              "font": {"family": FONT_FAMILY, "size": FONT_SIZE - 1, "color": t["font"]},
              "margin": {"l": 80, "r": MODEBAR_MARGIN, "t": 56, "b": 60},
              "title": {"text": f"{metric.capitalize()} loss against the lr "
                                "(click a point to use its lr)", "x": 0.02},
              "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top",
                         "traceorder": "reversed"},
              "modebar": modebar(theme), "shapes": shapes, "annotations": notes,
              "xaxis": axis(theme, "learning rate (log scale)", type="log",
                            range=[math.log10(x_lo), math.log10(x_hi)]),
              "yaxis": axis(theme, f"{metric} loss (log scale)", type="log",
                            log_span=span,
                            **({"range": [math.log10(span[0]) - 0.2,
                                          math.log10(span[1]) + 0.2]} if span else {}))}
    return go.Figure(data=data, layout=layout)
