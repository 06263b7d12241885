"""The lr sensitivity view: each run's final loss against the lr over the whole lr range,
log-log (``playground.tools.lr_sensitivity``). The current lr is marked, the lrs at which
the current run diverges are shaded, the target loss is a dashed line, and a strip above
the plot draws each run's band of good lrs (``playground.tools.good_band``: the unbroken
stretch of lrs whose final loss is at most the target) as a bar in the run's colour, so
that which schedule has the wider band reads at a glance. A click on a point sets the
lr."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..tools.sensitivity import good_band, stretches
from .figure_base import MODEBAR_MARGIN, axis, modebar, positive_span
from .runs import fmt
from .style import FONT_FAMILY, FONT_SIZE, LINE_WIDTH, STABILITY_COLOUR, THEMES, colour

HEIGHT = 380
"""px of the figure without the strip of good-lr bands."""
MARGIN = {"l": 80, "r": MODEBAR_MARGIN, "t": 80, "b": 60}
"""The top margin holds the title, its subtitle and, under them, the current lr's label;
the strip of bands is added to it."""
BAND_ROW = 28
"""px per run in the strip of good-lr bands: room for a label in lecture mode's type (1.3x,
assets/animate.js)."""
BAND_WIDTH = 9
"""px: the thickness of a band's bar."""


def diverged_spans(lr, diverged) -> list[tuple[float, float]]:
    """The stretches of the lr grid where the runs diverge, as (from, to) lrs whose edges
    sit halfway (in log scale) between a diverging lr and its neighbour that did not."""
    return _cells(lr, stretches(diverged))


def _cells(lr, runs) -> list[tuple[float, float]]:
    """Stretches (first, last) of the lr grid as (from, to) lrs, each edge halfway (in log
    scale) to the next grid lr outside the stretch, or the grid's end."""
    lr = np.asarray(lr, dtype=np.float64)
    n = len(lr)
    return [(float(lr[i] if i == 0 else math.sqrt(lr[i - 1] * lr[i])),
             float(lr[j] if j == n - 1 else math.sqrt(lr[j] * lr[j + 1])))
            for i, j in runs]


def band_label(band: tuple[float, float]) -> str:
    """A band of good lrs as its label: its lowest and highest lr and their ratio (to two
    significant digits: ×4.2, ×130, ×1,000,000)."""
    lo, hi = band
    if hi <= lo:
        return f"only {fmt(lo)}"
    ratio = float(f"{hi / lo:.2g}")
    return f"{fmt(lo)} to {fmt(hi)} (×{ratio:,.0f})" if ratio >= 10 else \
        f"{fmt(lo)} to {fmt(hi)} (×{ratio:g})"


LABEL_ROOM = 1.2
"""Decades of the lr axis a band's label needs beside its bar (the narrowest plot, at
1366 px, gives a decade about 160 px); with less room on both sides it sits on the bar."""


def _band_strip(analyses, theme: str, rows_px: float, plot_px: float,
                x_range: tuple[float, float]) -> tuple[list[dict], list[dict]]:
    """The strip above the plot: per run (the current one on top) a bar over its band of
    good lrs in its colour, labelled on the side with more room; the shapes and the
    annotations."""
    t = THEMES[theme]
    shapes, notes = [], []
    lo_x, hi_x = (math.log10(v) for v in x_range)
    for row, (label, slot, a) in enumerate(analyses):
        y = 1 + (rows_px - (row + 0.5) * BAND_ROW) / plot_px  # paper: above the plot
        col = colour(slot, theme)
        band = good_band(a)
        note = {"xref": "x", "yref": "paper", "y": y, "yanchor": "middle", "showarrow": False,
                "font": {"size": FONT_SIZE - 2, "color": col}}
        if band is None:
            notes.append({**note, "x": lo_x, "xanchor": "left",
                          "text": f"{label}: no lr ends at loss ≤ {fmt(a['threshold'])}"})
            continue
        lr = np.asarray(a["lr"], dtype=np.float64)
        i, j = int(np.argmin(np.abs(lr - band[0]))), int(np.argmin(np.abs(lr - band[1])))
        (x0, x1), = _cells(lr, [(i, j)])
        shapes.append({"type": "line", "xref": "x", "x0": x0, "x1": x1, "yref": "paper",
                       "y0": y, "y1": y, "layer": "above",
                       "line": {"color": col, "width": BAND_WIDTH}})
        left, right = math.log10(x0) - lo_x, hi_x - math.log10(x1)
        if max(left, right) >= LABEL_ROOM:
            x, anchor, shift = (math.log10(x1), "left", 6) if right >= left else \
                (math.log10(x0), "right", -6)
            notes.append({**note, "x": x, "xanchor": anchor, "xshift": shift,
                          "text": band_label(band)})
        else:  # no room beside the bar: on it, on the plot's background
            notes.append({**note, "x": (math.log10(x0) + math.log10(x1)) / 2,
                          "xanchor": "center", "bgcolor": t["plot"],
                          "text": band_label(band)})
    return shapes, notes


def sensitivity_figure(analyses: list[tuple[str, int, dict]], theme: str = "light",
                       metric: str = "final") -> go.Figure:
    """``analyses``: (label, colour slot, ``lr_sensitivity`` result) per run, the current
    run first. ``metric``: ``final`` or ``best`` loss on the y axis (the bands of good lrs
    are always the final loss's)."""
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
    target = float(current["threshold"])
    warn = STABILITY_COLOUR[theme]
    shapes = [{"type": "rect", "xref": "x", "x0": lo, "x1": hi, "yref": "y domain",
               "y0": 0, "y1": 1, "layer": "below", "line": {"width": 0}, "fillcolor": warn,
               "opacity": 0.14} for lo, hi in diverged_spans(current["lr"],
                                                             current["diverged"])]
    lr0 = current["current_lr"]
    rows_px = BAND_ROW * len(analyses) + 6
    plot_px = HEIGHT - MARGIN["t"] - MARGIN["b"]
    # the current lr's line runs through the strip of bands, its label above the strip
    shapes.append({"type": "line", "xref": "x", "x0": lr0, "x1": lr0, "yref": "paper",
                   "y0": 0, "y1": 1 + rows_px / plot_px, "layer": "above",
                   "line": {"color": t["font"], "width": 2, "dash": "dot"},
                   "label": {"text": f"lr {fmt(lr0)}", "textposition": "end",
                             "textangle": 0, "xanchor": "left",
                             "font": {"size": FONT_SIZE - 2, "color": t["font"]}}})
    shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y",
                   "y0": target, "y1": target, "layer": "below",
                   "line": {"color": t["axis"], "width": 2, "dash": "dash"}})
    notes = [{"xref": "x domain", "yref": "y", "x": 0, "y": math.log10(target),
              "xanchor": "left", "yanchor": "top", "xshift": 4, "showarrow": False,
              "text": f"target {fmt(target)}",
              "font": {"size": FONT_SIZE - 2, "color": t["font"]}}]
    if any(a["diverged"].any() for _, _, a in analyses[:1]):
        lo = diverged_spans(current["lr"], current["diverged"])[0][0]
        notes.append({"xref": "x", "yref": "y domain", "x": math.log10(lo), "y": 0.98,
                      "xanchor": "left", "yanchor": "top", "showarrow": False,
                      "text": "diverges", "font": {"size": FONT_SIZE - 1, "color": warn}})
    x_lo, x_hi = float(np.min(current["lr"])), float(np.max(current["lr"]))
    band_shapes, band_notes = _band_strip(analyses, theme, rows_px, plot_px, (x_lo, x_hi))
    span = positive_span([d["y"] for d in data] + [[target]])
    layout = {"template": "none", "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
              "height": HEIGHT + rows_px, "hovermode": "closest", "clickmode": "event",
              "font": {"family": FONT_FAMILY, "size": FONT_SIZE - 1, "color": t["font"]},
              "margin": {**MARGIN, "t": MARGIN["t"] + rows_px},
              # the bars' meaning as a subtitle: a line of its own, which fits a phone
              "title": {"text": f"{metric.capitalize()} loss against the lr",
                        "subtitle": {"text": "bars: the lrs whose final loss is ≤ "
                                             f"{fmt(target)}"},
                        "x": 0.02, "y": 1, "yref": "container", "yanchor": "top",
                        "pad": {"t": 12}},
              "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top",
                         "traceorder": "reversed"},
              "modebar": modebar(theme), "shapes": shapes + band_shapes,
              "annotations": notes + band_notes,
              "xaxis": axis(theme, "learning rate (log scale)", type="log",
                            range=[math.log10(x_lo), math.log10(x_hi)]),
              "yaxis": axis(theme, f"{metric} loss (log scale)", type="log",
                            log_span=span,
                            **({"range": [math.log10(span[0]) - 0.2,
                                          math.log10(span[1]) + 0.2]} if span else {}))}
    return go.Figure(data=data, layout=layout)
