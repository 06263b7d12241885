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


LABEL_SIDES = {  # textposition -> the label's box beside the star: (x0, x1, y0, y1) in px
    # from the star's centre, y up, w the label's width (the star's radius is 11 px)
    "bottom center": lambda w: (-w / 2, w / 2, -32, -12),
    "top center": lambda w: (-w / 2, w / 2, 12, 32),
    "middle right": lambda w: (12, 12 + w, -10, 10),
    "middle left": lambda w: (-12 - w, -12, -10, 10),
    "top right": lambda w: (6, 6 + w, 6, 26),
    "top left": lambda w: (-6 - w, -6, 6, 26),
    "bottom right": lambda w: (6, 6 + w, -26, -6),
    "bottom left": lambda w: (-6 - w, -6, -26, -6),
}
"""Where the minimum's label may go, in the order preferred when several are as clear."""
PLOT_PX = 230
"""The path plot's drawing area (px, its longer side) the label is placed for: a laptop's
(larger plots leave the label more room, so what is clear here is clear there)."""


def label_side(minimum: tuple[float, float], window, path: np.ndarray | None,
               text: str = "minimum") -> str:
    """Where the minimum's label goes (a textposition): the side of the star the path's
    line and markers cover least (none, mostly), inside the window, so that the end marker
    and the last steps do not hide the word. The path's segments are sampled between its
    points, as the line is drawn; a side where the label would leave the window is not
    used."""
    (x0, x1), (y0, y1) = window
    scale = PLOT_PX / max(x1 - x0, y1 - y0)  # px per unit (the plot keeps x and y alike)
    mx, my = (minimum[0] - x0) * scale, (minimum[1] - y0) * scale
    w = 0.55 * (FONT_SIZE - 2) * len(text) + 4
    pts = np.zeros((0, 2))
    p = np.zeros((0, 2)) if path is None else np.asarray(path, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1)] if len(p) else p
    if len(p):
        p = np.round((p - minimum) * scale)  # whole px from the star, y up
        keep = np.ones(len(p), bool)  # a point in the same px as the one before adds nothing
        keep[1:] = (p[1:] != p[:-1]).any(axis=1)
        keep[-1] = True
        p = p[keep]
        ring = 11 * np.column_stack([np.cos(np.arange(8) * np.pi / 4),
                                     np.sin(np.arange(8) * np.pi / 4)])
        ends = (p[[0, -1]][:, None, :] + ring[None]).reshape(-1, 2)  # the end markers' disks
        near = w + 48  # only the line near the star can cover the label
        a, b = p[:-1], p[1:]
        seg = ((np.minimum(a, b) <= near) & (np.maximum(a, b) >= -near)).all(axis=1)
        f = np.linspace(0.0, 1.0, 9)[:, None, None]  # the line between the points, as drawn
        line = (a[seg] + f * (b[seg] - a[seg])).reshape(-1, 2)
        pts = np.concatenate([p, ends, line])
    best, fewest = "bottom center", None
    for side, box in LABEL_SIDES.items():
        bx0, bx1, by0, by1 = box(w)
        if not (0 <= mx + bx0 and mx + bx1 <= (x1 - x0) * scale
                and 0 <= my + by0 and my + by1 <= (y1 - y0) * scale):
            continue
        inside = int(np.count_nonzero((pts[:, 0] >= bx0 - 4) & (pts[:, 0] <= bx1 + 4)
                                      & (pts[:, 1] >= by0 - 4) & (pts[:, 1] <= by1 + 4)))
        if fewest is None or inside < fewest:
            best, fewest = side, inside
    return best


def minimum_trace(run: dict, theme: str = "light", path: np.ndarray | None = None) -> dict:
    """The surface's minimum: a star labelled "minimum" (on a typed formula, whose minimum
    is not known, the lowest point of a grid over the window, and labelled so), the label
    on the side ``path`` (the current run's) covers least (:func:`label_side`)."""
    surf, prm = surface_of(run)
    x, y = (float(v) for v in surf.minimum(prm))
    t = THEMES[theme]
    name = "lowest point on the grid" if run["problem"]["name"] == "formula" else "minimum"
    return {"type": "scatter", "x": [x], "y": [y], "mode": "markers+text", "name": name,
            "showlegend": False, "text": [name],
            "textposition": label_side((x, y), surf.window(prm), path, name),
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
    data = [surface, minimum_trace({"problem": problem}, theme,
                                   runs[0].result["path"] if runs else None)]
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
