"""The loss plot: each run's true loss at each step on a log axis (the observed,
minibatch loss faintly on a noisy surface). 2 traces per slot, then the cursor."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..surfaces import SURFACES
from .figure_base import (axis, base_layout, by_slot, cursor_trace, empty_trace, esc,
                          line_width, slot_of, slot_range, steps_of, z_order)
from .runs import RunView, lengths
from .style import THEMES, THIN_LINE_WIDTH, colour

LOSS_DECADES = 12
"""The loss plot shows at most this many decades below the largest finite loss."""
_TINY = 1e-300
"""Where a loss of exactly 0 is drawn on the log axis (below the shown range)."""


def positive(values) -> np.ndarray:
    """Losses for a log axis: exact zeros (and negatives) drawn just below any range."""
    v = np.asarray(values)
    if np.all(v > 0):
        return v
    return np.where(v > 0, v.astype(np.float64), _TINY)


def loss_offset(run: dict) -> float:
    """What the loss plot subtracts from a run's loss: the surface's lowest known value
    where it is negative (the saddles, the six-hump camel, Styblinski-Tang), so that the
    log axis shows how far above the minimum the run is; else 0 (the loss as it is)."""
    surf = SURFACES[run["problem"]["name"]]
    prm = {k: v for k, v in run["problem"].items() if k != "name"}
    try:
        lowest = min(float(surf.loss(np.asarray(m, dtype=np.float64), prm))
                     for m in surf.minima(prm))
    except (TypeError, ValueError):  # no minima known (a typed formula's may be None)
        return 0.0
    return lowest if lowest < 0 else 0.0


def loss_title(runs: list[RunView]) -> str:
    """The loss axis's title: it says when the plot shows the loss above the minimum."""
    shifted = any(loss_offset(r.run) for r in runs)
    return "loss − f(minimum) (log scale)" if shifted else "loss (log scale)"


def loss_slot(run: RunView | None, theme: str = "light",
              slot: int | None = None) -> list[dict]:
    """The loss plot's two traces of one slot: the true loss, and the observed (minibatch)
    loss drawn faintly on a noisy surface (empty elsewhere, where it equals the true one)."""
    s = slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [empty_trace("", col, s), empty_trace("", col, s)]
    n, pts = lengths(run.result)
    label = run.label
    off = loss_offset(run.run)
    true = {"type": "scatter", "mode": "lines", "x": np.arange(pts, dtype=np.int32),
            "y": positive(np.asarray(run.result["loss"][:pts]) - off), "name": label,
            "legendgroup": f"slot{s}", "showlegend": True, "zorder": z_order(s),
            "line": {"color": col, "width": line_width(s)},
            "hovertemplate": f"{esc(label)}: loss %{{y:.4~g}}<extra></extra>"}
    observed = empty_trace(f"{label} (observed)", col, s, mode="lines")
    if SURFACES[run.run["problem"]["name"]].noisy:
        observed.update(x=np.arange(n, dtype=np.int32),
                        y=positive(np.asarray(run.result["observed_loss"][:n]) - off),
                        zorder=1,
                        opacity=THEMES[theme]["faint_opacity"],
                        line={"color": col, "width": THIN_LINE_WIDTH},
                        hovertemplate=f"{esc(label)}: observed %{{y:.3~g}}<extra></extra>")
    return [true, observed]


def loss_extent(run: dict, result: dict) -> tuple[float, float] | None:
    """What one run gives the loss plot's y range (``loss_range``): (its smallest finite
    positive loss, its top), or None without any. Its top is its largest loss, or for a run
    that diverged its start (where finite and positive): a diverging run climbs out of the
    top instead of squeezing the others flat. The losses are as the plot draws them
    (``loss_offset`` subtracted), the observed (minibatch) ones too on a noisy surface."""
    n, pts = lengths(result)
    off = loss_offset(run)
    vals = [np.asarray(result["loss"][:pts], dtype=np.float64) - off]
    if SURFACES[run["problem"]["name"]].noisy:
        vals.append(np.asarray(result["observed_loss"][:n], dtype=np.float64) - off)
    v = np.concatenate(vals)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return None
    start = float(result["loss"][0]) - off
    if result.get("diverged_at") is not None and math.isfinite(start) and start > 0:
        return float(v.min()), start
    return float(v.min()), float(v.max())


def range_of(extents, diverged: bool) -> list[float] | None:
    """The loss plot's y range (log10 units) from its runs' ``loss_extent`` (None ones
    skipped): a decade above the highest top when a run diverged (``diverged``), the bottom
    the smallest loss, at most LOSS_DECADES below the top. None without any extent."""
    extents = [e for e in extents if e is not None]
    if not extents:
        return None
    hi = math.log10(max(top for _, top in extents)) + (1.0 if diverged else 0.0)
    lo = max(math.log10(min(low for low, _ in extents)), hi - LOSS_DECADES)
    pad = max(0.04 * (hi - lo), 0.2)
    return [lo - pad, hi + pad]


def loss_range(runs: list[RunView]) -> list[float] | None:
    """The loss plot's y range (log10 units), from the finite positive losses drawn.

    The top is set by the runs that did not diverge and by every run's start, a decade
    above them: a diverging run visibly climbs out of the top (its annotation says where)
    instead of squeezing the others flat. The bottom is the smallest loss, at most
    LOSS_DECADES below the top. None without any losses (autorange).
    """
    return range_of([loss_extent(r.run, r.result) for r in runs],
                    any(r.result.get("diverged_at") is not None for r in runs))


def loss_figure(runs: list[RunView], theme: str = "light") -> go.Figure:
    """The true loss at each step on a log axis (observed loss faintly on noisy surfaces);
    2 traces per slot then the cursor (see module doc)."""
    slots = by_slot(runs)
    data = [tr for s in slot_range(slots) for tr in loss_slot(slots.get(s), theme, slot=s)]
    data.append(cursor_trace(theme))
    layout = base_layout(theme, "Loss", "loss", runs, "x unified")
    layout["xaxis"] = axis(theme, "step", steps=steps_of(runs),
                            unifiedhovertitle={"text": "step %{x}"})
    rng = loss_range(runs)
    layout["yaxis"] = axis(theme, loss_title(runs), type="log", exponentformat="power",
                            nticks=8, **({"range": rng, "autorange": False} if rng else {}))
    return go.Figure(data=data, layout=layout)
