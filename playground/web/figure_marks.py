"""A lesson's marks (``playground.lessons.marks``) drawn into the figures: step lines and
spans as shapes, lines, series and points as traces just before the cursor."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figure_base import esc
from .runs import RunView
from .style import FONT_SIZE, THEMES, THIN_LINE_WIDTH, colour

_FIGURE_KINDS = ("lr", "loss", "path")


def with_marks(figures: dict, marks: list[dict], runs: list[RunView],
               theme: str = "light") -> dict:
    """The figures (kind -> go.Figure, any of them) with a lesson's marks
    (``lessons.marks``) drawn in: step lines and spans as shapes over the plot's height,
    lines, series and points as traces just before the cursor (which stays last), each in
    its run's colour."""
    by_run = {i: r for i, r in enumerate(sorted(runs, key=lambda r: r.slot))}
    out = {}
    for kind in (k for k in _FIGURE_KINDS if k in figures):
        fig = go.Figure(figures[kind])
        traces, shapes = [], []
        for m in (m for m in marks if m["plot"] == kind):
            view = by_run.get(m["run"])
            col = colour(view.slot if view else 0, theme)
            traces += _mark_traces(m, col, view)
            shapes += _mark_shapes(m, col)
        data = list(fig.data)
        fig.data = []
        fig.add_traces(data[:-1] + traces + data[-1:])
        fig.layout.shapes = list(fig.layout.shapes) + shapes
        out[kind] = fig
    return out


def _mark_traces(m: dict, col: str, view: RunView | None) -> list[dict]:
    label = esc(m["label"])
    common = {"type": "scatter", "name": m["label"], "showlegend": False,
              "legendgroup": "marks"}
    if m["kind"] == "hline":
        end = len(view.result["lr"]) if view else 1
        return [{**common, "mode": "lines", "x": [0, end], "y": [m["data"]] * 2,
                 "line": {"color": col, "width": THIN_LINE_WIDTH, "dash": "dash"},
                 "hovertemplate": f"{label}: %{{y:.4~g}}<extra></extra>"}]
    if m["kind"] == "series":
        y = np.asarray(m["data"], dtype=np.float64)
        ok = np.flatnonzero(np.isfinite(y) & (y > 0))
        return [{**common, "mode": "lines", "x": ok.astype(np.int32), "y": y[ok],
                 "opacity": 0.8,
                 "line": {"color": col, "width": THIN_LINE_WIDTH, "dash": "dashdot"},
                 "hovertemplate": f"{label}: %{{y:.4~g}}<extra></extra>"}]
    if m["kind"] == "points" and m["data"]:
        xy = np.asarray(m["data"], dtype=np.float64)
        return [{**common, "mode": "markers", "x": xy[:, 0], "y": xy[:, 1],
                 "marker": {"symbol": "diamond", "size": 15, "color": col,
                            "line": {"color": THEMES["light"]["paper"], "width": 1.5}},
                 "hovertemplate": f"{label} (%{{x:.3~g}}, %{{y:.3~g}})<extra></extra>"}]
    return []


def _mark_shapes(m: dict, col: str) -> list[dict]:
    if m["kind"] == "vlines":
        return [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0,
                 "y1": 1, "line": {"color": col, "width": 2, "dash": "dot"},
                 **({"label": {"text": m["label"], "textposition": "end",
                               "font": {"size": FONT_SIZE - 3, "color": col}}}
                    if i == 0 else {})}
                for i, t in enumerate(m["data"])]
    if m["kind"] == "spans":
        return [{"type": "rect", "xref": "x", "yref": "paper", "x0": a, "x1": b, "y0": 0,
                 "y1": 1, "fillcolor": col, "opacity": 0.12, "line": {"width": 0},
                 "layer": "below"} for a, b in m["data"]]
    return []
