"""The path plot: each run's path over the surface's contour map, its start and end,
and the surface's minimum. data[0] the map's hover grid, data[1] the minimum, 2 traces per
slot from index 2, then the cursor; the map itself is ``layout.images[0]``."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go

from ..surfaces import SURFACES
from .figure_base import (axis, base_layout, by_slot, cursor_trace, empty_trace, esc,
                          slot_of, slot_range)
from .figure_raster import surface_image, surface_of
from .runs import RunView, lengths
from .style import FONT_SIZE, THEMES, THIN_LINE_WIDTH, colour

MARKER_MIN, MARKER_MAX = 3.0, 12.0
"""Path marker sizes (px) for lr = 0 and lr = the run's largest lr."""
MAX_MARKERS = 60
"""Path markers drawn at most per run (Plotly picks them); the line keeps every point."""


def minimum_trace(run: dict, theme: str = "light") -> dict:
    """The surface's minimum: a star labelled "minimum" (on a typed formula, whose minimum
    is not known, the lowest point of a grid over the window, and labelled so)."""
    surf, prm = surface_of(run)
    x, y = (float(v) for v in surf.minimum(prm))
    t = THEMES[theme]
    name = "lowest point on the grid" if run["problem"]["name"] == "formula" else "minimum"
    return {"type": "scatter", "x": [x], "y": [y], "mode": "markers+text", "name": name,
            "showlegend": False, "text": [name], "textposition": "bottom center",
            "textfont": {"size": FONT_SIZE - 2, "color": t["font"]},
            "marker": {"symbol": "star", "size": 22, "color": t["minimum"],
                       "line": {"color": t["minimum_line"], "width": 1.5}},
            "hovertemplate": name + " (%{x:.3~g}, %{y:.3~g})<extra></extra>"}


def path_slot(run: RunView | None, theme: str = "light",
              slot: int | None = None) -> list[dict]:
    """The path plot's two traces of one slot: the path (markers sized by the lr of the
    step taken from each point, MARKER_MIN..MARKER_MAX px relative to the run's largest
    lr) and its start (circle) / end (x) markers. ``customdata`` is the step."""
    s = slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [empty_trace("", col, s, mode="lines+markers"), empty_trace("", col, s, mode="markers")]
    n, pts = lengths(run.result)
    t = THEMES[theme]
    label = run.label
    path = run.result["path"][:pts]
    lr = np.asarray(run.result["lr"][:n], dtype=np.float64)
    # point i leaves with lr[i]; the last point (no step taken from it) keeps the last lr
    lr_at = np.concatenate([lr, lr[-1:]])[:pts] if n else np.zeros(pts)
    finite = np.isfinite(lr_at)  # an lr past float32 (a huge lr times a factor) is inf
    top = float(np.max(lr_at[finite])) if finite.any() else 0.0
    rel = np.where(finite, lr_at / top if top > 0 else 0.0, 1.0)
    size = MARKER_MIN + (MARKER_MAX - MARKER_MIN) * rel
    steps = np.arange(pts, dtype=np.int32)
    group = f"slot{s}"
    line = {"type": "scatter", "mode": "lines+markers", "x": path[:, 0], "y": path[:, 1],
            "customdata": steps, "name": label, "legendgroup": group, "showlegend": True,
            "line": {"color": col, "width": THIN_LINE_WIDTH},
            "marker": {"color": col, "size": np.round(size, 1).astype(np.float32),
                       "maxdisplayed": MAX_MARKERS,
                       "opacity": 0.8, "line": {"width": 0}},
            "hovertemplate": f"{esc(label)}<br>step %{{customdata}}"
                             "<br>(%{x:.4~g}, %{y:.4~g})<extra></extra>"}
    ends = [0, pts - 1] if pts > 1 else list(range(pts))
    marks = {"type": "scatter", "mode": "markers", "x": path[ends, 0], "y": path[ends, 1],
             "customdata": np.array(ends, dtype=np.int32), "name": f"{label} start/end",
             "legendgroup": group, "showlegend": False,
             "text": ["start", "end"][:len(ends)],
             "marker": {"symbol": ["circle", "x"][:len(ends)], "size": 17, "color": col,
                        "line": {"color": t["paper"], "width": 2}},
             "hovertemplate": f"{esc(label)}: %{{text}} (step %{{customdata}})"
                              "<br>(%{x:.4~g}, %{y:.4~g})<extra></extra>"}
    return [line, marks]


def path_figure(surface: dict, runs: list[RunView], theme: str = "light") -> go.Figure:
    """The paths over the surface's contour (``surface_trace``); the axes keep the surface
    window (a diverging path leaves it). data[0] the contour, data[1] the minimum, 2
    traces per slot from index 2, then the cursor (see module doc)."""
    slots = by_slot(runs)
    problem = surface["meta"]["problem"]
    x0, x1 = (float(surface["x"][0]), float(surface["x"][-1]))
    y0, y1 = (float(surface["y"][0]), float(surface["y"][-1]))
    data = [surface, minimum_trace({"problem": problem}, theme)]
    data += [tr for s in slot_range(slots) for tr in path_slot(slots.get(s), theme, slot=s)]
    # no zorder on this plot: Plotly (4.1) then skips layout images drawn below the data,
    # so the traces' order is their drawing order (the cursor last, on top)
    cursor = cursor_trace(theme)
    del cursor["zorder"]
    data.append(cursor)
    title = f"Path: {SURFACES[problem['name']].label}"
    layout = base_layout(theme, title, "path:" + json.dumps(problem, sort_keys=True), runs,
                     "closest")
    layout["xaxis"] = axis(theme, "x", range=[x0, x1], autorange=False, showgrid=False,
                            constrain="domain")
    layout["yaxis"] = axis(theme, "y", range=[y0, y1], autorange=False, showgrid=False,
                            scaleanchor="x", scaleratio=1, constrain="domain")
    layout["images"] = [surface_image({"problem": problem}, theme)]
    return go.Figure(data=data, layout=layout)
