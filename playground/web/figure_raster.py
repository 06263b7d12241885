"""The contour map under the path plot, drawn once as a PNG (``surface_image``) and its
invisible hover and click target (``surface_trace``): both from the true loss on a grid
over the surface's window."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from functools import lru_cache

import numpy as np

from ..surfaces import SURFACES
from .style import THEMES


def surface_of(run: dict):
    prob = run["problem"]
    surf = SURFACES[prob["name"]]
    return surf, {k: v for k, v in prob.items() if k != "name"}


CONTOUR_LEVELS = 18
"""Filled bands of the contour map (log-spaced in the loss)."""
RASTER_PX = 640
"""Pixels per side of the contour map's image (about twice its size on a 1080p screen, so
the browser only ever scales it down)."""


def surface_grid(run: dict, nx: int, ny: int, centres: bool = False):
    """The true loss f on an nx-by-ny grid over the surface's window (rows are y, ascending)
    and z = log10(f - f_min + eps), eps a small fraction of the loss's range in the window.
    ``centres``: pixel centres (for the image) instead of a grid spanning the window."""
    surf, prm = surface_of(run)
    (x0, x1), (y0, y1) = surf.window(prm)
    if centres:
        xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
        ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    else:
        xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    grid = np.stack(np.meshgrid(xs, ys))  # (2, ny, nx): [x, y] at row j (y), column i (x)
    f = np.asarray(surf.loss(grid, prm), dtype=np.float64)
    f_min = min(float(f.min()), float(surf.loss(np.asarray(surf.minimum(prm)), prm)))
    eps = max(1e-3 * (float(f.max()) - f_min), 1e-12)
    return xs, ys, f, np.log10(f - f_min + eps)


def surface_trace(run: dict, theme: str = "light", n: int = 90) -> dict:
    """The contour map's hover and click target: an invisible heatmap of the true loss on
    an n-by-n grid over the surface's window (the map itself is ``surface_image``, which
    Plotly never redraws). z = log10(f - f_min + eps) as in the image; ``customdata``
    holds f for the hover (both float32: half the bytes, and the eye cannot tell);
    ``meta.problem`` the surface it shows."""
    xs, ys, f, z = surface_grid(run, n, n)
    return {
        "type": "heatmap", "x": xs, "y": ys, "z": z.astype(np.float32),
        "customdata": f.astype(np.float32), "opacity": 0, "showscale": False,
        "name": SURFACES[run["problem"]["name"]].label,
        "meta": {"problem": dict(run["problem"])}, "showlegend": False,
        "hovertemplate": "(%{x:.3~g}, %{y:.3~g})<br>loss %{customdata:.4~g}<extra></extra>",
    }


def _rgb(colour: str) -> np.ndarray:
    """'#RRGGBB' or 'rgba(r, g, b, a)' -> (r, g, b, a) floats, a in 0..1."""
    if colour.startswith("#"):
        return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)] + [1.0], dtype=float)
    parts = [float(v) for v in colour[colour.index("(") + 1:-1].split(",")]
    return np.array(parts + [1.0] * (4 - len(parts)), dtype=float)


def _colorscale_at(scale, u: np.ndarray) -> np.ndarray:
    """RGB (0..255) of a Plotly colorscale [[pos, colour], ...] at positions u in [0, 1]."""
    pos = np.array([p for p, _ in scale])
    cols = np.array([_rgb(c)[:3] for _, c in scale])
    return np.stack([np.interp(u, pos, cols[:, k]) for k in range(3)], axis=-1)


def _png(indices: np.ndarray, palette: np.ndarray) -> bytes:
    """A palette PNG (colour type 3) of an (h, w) array of palette indices."""
    h, w = indices.shape
    raw = np.hstack([np.zeros((h, 1), np.uint8), indices.astype(np.uint8)]).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", palette.astype(np.uint8).tobytes())
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


@lru_cache(maxsize=32)
def _surface_png(problem_json: str, theme: str, px: int) -> str:
    problem = json.loads(problem_json)
    _, _, _, z = surface_grid({"problem": problem}, px, px, centres=True)
    lo, hi = float(z.min()), float(z.max())
    levels = CONTOUR_LEVELS
    band = np.clip(((z - lo) / (hi - lo) * levels).astype(int) if hi > lo
                   else np.zeros(z.shape, int), 0, levels - 1)
    t = THEMES[theme]
    fill = _colorscale_at(t["contour"], (np.arange(levels) + 0.5) / levels)
    line = _rgb(t["contour_line"])
    edged = fill * (1 - line[3]) + line[:3] * line[3]  # each band with its line drawn over
    # a level line runs where the band changes to the right or downwards
    edge = np.zeros(band.shape, bool)
    edge[:, :-1] |= band[:, 1:] != band[:, :-1]
    edge[:-1, :] |= band[1:, :] != band[:-1, :]
    index = band + levels * edge
    png = _png(index[::-1], np.round(np.concatenate([fill, edged])))  # image rows: top down
    return "data:image/png;base64," + base64.b64encode(png).decode()


def surface_image(run: dict, theme: str = "light", px: int = RASTER_PX) -> dict:
    """The contour map as a ``layout.images`` entry: the true loss's log-spaced filled
    levels (``CONTOUR_LEVELS`` bands of z = log10(f - f_min + eps)) with their level lines,
    drawn once as a PNG stretched over the surface's window under the data. An image, not
    a Plotly contour trace: Plotly recomputes and redraws a contour on every update (~35 ms
    per change here), an image it leaves alone."""
    surf, prm = surface_of(run)
    (x0, x1), (y0, y1) = surf.window(prm)
    return {"source": _surface_png(json.dumps(dict(run["problem"]), sort_keys=True), theme, px),
            "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
            "xanchor": "left", "yanchor": "top", "sizing": "stretch", "layer": "below",
            "name": "contour map"}
