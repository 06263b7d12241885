"""The path plot in 3D: the surface as a rotatable Plotly surface, every run's path on it in
its colour, the minimum starred. The height is the contour map's: log10(f - f_min + eps),
so a valley a thousand times shallower than its walls still shows (the axis says so)."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go

from ..surfaces import SURFACES
from .figure_base import base_layout
from .figure_raster import surface_grid, surface_of
from .runs import RunView, lengths
from .style import FONT_SIZE, THEMES, THIN_LINE_WIDTH, colour

GRID = 60
"""Points per side of the 3D surface (60 x 60: smooth enough, light to rotate)."""


def _height(f, offset: float) -> np.ndarray:
    """The map's height of a loss value (``offset`` = f_min - eps of the grid)."""
    f = np.asarray(f, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log10(np.maximum(f - offset, 1e-300))


def surface_3d(runs: list[RunView], theme: str = "light") -> go.Figure:
    """The 3D view of the current run's surface with every run's path on it."""
    t = THEMES[theme]
    run = runs[0].run
    xs, ys, f, z = surface_grid(run, GRID, GRID)
    offset = float(f.flat[0] - 10.0 ** z.flat[0])  # z = log10(f - f_min + eps)
    lift = 0.01 * float(z.max() - z.min())  # paths drawn just above the surface
    data = [{"type": "surface", "x": xs, "y": ys, "z": z.astype(np.float32),
             "colorscale": t["contour"], "showscale": False, "opacity": 0.92,
             "name": SURFACES[run["problem"]["name"]].label, "hoverinfo": "skip",
             "contours": {"z": {"show": True, "usecolormap": False,
                                "color": t["contour_line"], "width": 1}}}]
    for view in reversed(runs):  # the current run last, on top
        n, pts = lengths(view.result)
        path = np.asarray(view.result["path"][:pts], dtype=np.float64)
        h = _height(view.result["loss"][:pts], offset) + lift
        col = colour(view.slot, theme)
        data.append({"type": "scatter3d", "mode": "lines", "x": path[:, 0], "y": path[:, 1],
                     "z": h, "name": view.label,
                     "line": {"color": col, "width": THIN_LINE_WIDTH * 2 + 2},
                     "customdata": np.arange(pts), "hovertemplate":
                         f"{view.label}<br>step %{{customdata}}<br>(%{{x:.4~g}}, "
                         "%{y:.4~g})<extra></extra>"})
        if pts:
            data.append({"type": "scatter3d", "mode": "markers", "showlegend": False,
                         "x": path[[0, -1], 0], "y": path[[0, -1], 1], "z": h[[0, -1]],
                         "name": f"{view.label} start/end", "hoverinfo": "skip",
                         "marker": {"symbol": ["circle", "x"], "size": 7, "color": col}})
    surf, prm = surface_of(run)
    mx, my = (float(v) for v in surf.minimum(prm))
    mz = _height([surf.loss(np.asarray([mx, my]), prm)], offset) + 2 * lift
    data.append({"type": "scatter3d", "mode": "markers+text", "x": [mx], "y": [my],
                 "z": mz, "text": ["minimum"], "name": "minimum", "showlegend": False,
                 "textfont": {"size": FONT_SIZE - 2, "color": t["font"]},
                 "marker": {"symbol": "diamond", "size": 9, "color": t["minimum"],
                            "line": {"color": t["minimum_line"], "width": 1}}})
    title = f"Path: {SURFACES[run['problem']['name']].label} (3D)"
    layout = base_layout(theme, title, "path3d:" + json.dumps(run["problem"], sort_keys=True),
                         runs, "closest")
    axis = {"color": t["font"], "gridcolor": t["grid"], "backgroundcolor": t["plot"],
            "showbackground": True, "title": {"font": {"size": FONT_SIZE - 1}},
            "tickfont": {"size": FONT_SIZE - 5}, "nticks": 4}
    layout["scene"] = {"xaxis": {**axis, "title": {**axis["title"], "text": "x"}},
                       "yaxis": {**axis, "title": {**axis["title"], "text": "y"}},
                       "zaxis": {**axis, "title": {**axis["title"], "text": "log loss"}},
                       "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.6},
                       "camera": {"eye": {"x": -1.15, "y": -1.3, "z": 0.8}}}
    layout["annotations"] = [a for a in layout["annotations"]
                             if a.get("xref") == "paper" and a.get("yref") == "paper"]
    layout["margin"] = {**layout["margin"], "l": 0, "b": 0}
    return go.Figure(data=data, layout=layout)
