"""The figures of the tool panels beside the plots: the SGD stability guide on the lr
plot, Smith's LR range test and the pitfalls (a silent bug against the correct run)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figure_base import MODEBAR_MARGIN, axis, modebar, positive_span
from .runs import fmt
from .style import FONT_FAMILY, FONT_SIZE, STABILITY_COLOUR, THEMES

MAX_SPANS = 24


def stability_shapes(threshold: float | None, lr, theme: str = "light") -> list[dict]:
    """The SGD stability guide on the lr plot: a dashed line at ``threshold`` (2/lambda;
    see tools.stability) labelled with its value, and a faint band over each stretch of
    steps whose lr is above it. Nothing where no threshold applies."""
    if threshold is None:
        return []
    col = STABILITY_COLOUR[theme]
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
               "y0": threshold, "y1": threshold, "layer": "above",
               "line": {"color": col, "width": 2, "dash": "dash"},
               "label": {"text": f"SGD diverges above {fmt(threshold)}",
                         "textposition": "end", "yanchor": "bottom",
                         "font": {"size": FONT_SIZE - 3, "color": col}}}]
    lr = np.asarray(lr, dtype=np.float64)
    above = np.concatenate([[False], lr > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    for start, end in list(zip(edges[::2], edges[1::2]))[:MAX_SPANS]:
        shapes.append({"type": "rect", "xref": "x", "x0": start - 0.5, "x1": end - 0.5,
                       "yref": "paper", "y0": 0, "y1": 1, "layer": "below", "line": {"width": 0},
                       "fillcolor": col, "opacity": 0.12})
    return shapes


def range_test_figure(analysis: dict, theme: str = "light") -> go.Figure:
    """Smith's LR range test: the smoothed loss against the lr on a log axis, up to where
    the analysis stopped (divergence or 4x the best loss), with the steepest-descent and
    the minimum-loss lr marked, and the suggested lr (a tenth of the minimum's)."""
    t = THEMES[theme]
    stop = analysis["stop"]
    lr, smoothed = analysis["lr"][:stop], analysis["smoothed"][:stop]
    data = [{"type": "scatter", "mode": "lines", "x": lr, "y": smoothed,
             "name": "smoothed loss", "line": {"color": t["current"], "width": 3},
             "hovertemplate": "lr %{x:.3~g}<br>smoothed loss %{y:.4~g}<extra></extra>"}]
    marks = [("steepest descent", analysis["steepest_lr"], analysis["steepest_step"],
              "triangle-down", "top center"),
             ("minimum loss", analysis["min_loss_lr"], analysis["min_loss_step"], "star",
              "top left")]  # near the right end of the sweep: its label goes left
    for name, x, step, symbol, where in marks:
        if x is None:
            continue
        data.append({"type": "scatter", "mode": "markers+text", "x": [x],
                     "y": [analysis["smoothed"][step]], "name": name,
                     "text": [f"{name}: {fmt(x)}"], "textposition": where,
                     "textfont": {"size": FONT_SIZE - 3, "color": t["font"]},
                     "marker": {"symbol": symbol, "size": 16, "color": t["palette"][1],
                                "line": {"color": t["font"], "width": 1}},
                     "hovertemplate": f"{name}: lr %{{x:.3~g}}<extra></extra>"})
    layout = {"template": "none", "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
              "height": 320,
              "font": {"family": FONT_FAMILY, "size": FONT_SIZE - 2, "color": t["font"]},
              "margin": {"l": 70, "r": MODEBAR_MARGIN, "t": 50, "b": 60}, "showlegend": False,
              "title": {"text": "LR range test: smoothed loss as the lr grows", "x": 0.02},
              "modebar": modebar(theme),
              "xaxis": axis(theme, "learning rate (log scale)", type="log",
                             exponentformat="power", log_span=positive_span([lr])),
              "yaxis": axis(theme, "smoothed loss")}
    suggested = analysis["suggested_lr"]
    if suggested is not None:
        layout["shapes"] = [{"type": "line", "xref": "x", "x0": suggested, "x1": suggested,
                             "yref": "paper", "y0": 0, "y1": 1,
                             "line": {"color": t["axis"], "width": 2, "dash": "dot"},
                             "label": {"text": f"suggested {fmt(suggested)}",
                                       "textposition": "end", "textangle": 0,
                                       "xanchor": "left",
                                       "font": {"size": FONT_SIZE - 3, "color": t["font"]}}}]
    return go.Figure(data=data, layout=layout)


def pitfall_figure(correct: dict, buggy: dict, title: str, theme: str = "light") -> go.Figure:
    """A silent bug against the correct run: the lr (top) and the loss (bottom, log scale)
    of both, step by step, on a shared step axis."""
    t = THEMES[theme]
    pairs = [("correct", correct, t["palette"][0], "solid"),
             ("with the bug", buggy, t["palette"][1], "dash")]
    data = []
    for name, result, col, dash in pairs:
        lr = np.asarray(result["lr"], dtype=np.float64)
        loss = np.asarray(result["loss"], dtype=np.float64)
        data.append({"type": "scatter", "mode": "lines", "x": np.arange(len(lr)), "y": lr,
                     "name": name, "legendgroup": name, "xaxis": "x", "yaxis": "y",
                     "line": {"color": col, "width": 3, "dash": dash},
                     "hovertemplate": f"{name}: lr %{{y:.4~g}} at step %{{x}}<extra></extra>"})
        data.append({"type": "scatter", "mode": "lines", "x": np.arange(len(loss)),
                     "y": loss, "name": name, "legendgroup": name, "showlegend": False,
                     "xaxis": "x", "yaxis": "y2",
                     "line": {"color": col, "width": 3, "dash": dash},
                     "hovertemplate": f"{name}: loss %{{y:.4~g}} at step %{{x}}"
                                      "<extra></extra>"})
    layout = {"template": "none", "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
              "height": 420, "hovermode": "x unified",
              "font": {"family": FONT_FAMILY, "size": FONT_SIZE - 2, "color": t["font"]},
              "margin": {"l": 70, "r": MODEBAR_MARGIN, "t": 60, "b": 50},
              "title": {"text": title, "x": 0.02},
              "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
              "modebar": modebar(theme),
              "xaxis": axis(theme, "step", anchor="y2",
                             steps=max(len(correct["lr"]), len(buggy["lr"]))),
              "yaxis": axis(theme, "learning rate", domain=[0.56, 1.0],
                             exponentformat="power"),
              "yaxis2": axis(theme, "loss", domain=[0.0, 0.44], type="log",
                              exponentformat="power",
                              log_span=positive_span([correct["loss"], buggy["loss"]]))}
    return go.Figure(data=data, layout=layout)
