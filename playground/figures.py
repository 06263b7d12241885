"""The three plots (learning rate, loss, path on the surface) as pure functions.

Arrays and configs in, Plotly figures or trace dicts out; no Dash here. Every figure has a
FIXED trace layout, so a callback can replace one run's traces with a Dash ``Patch``
without resending the rest (in particular never the contour map). A figure drawn for
``k`` runs (slots 0..k-1) holds:

=========  ==========================================================  ==============
figure     data                                                        cursor (last)
=========  ==========================================================  ==============
lr         slot s at 3s, 3s+1, 3s+2: lr line, momentum/beta1 (y2),     3k
           event markers
loss       slot s at 2s, 2s+1: true loss, observed (noisy) loss        2k
path       0: hover/click grid, 1: minimum; slot s at 2+2s, 2+2s+1:    2 + 2k
           path, start/end markers. The contour map is an image,
           ``layout.images[0]``
=========  ==========================================================  ==============

``slot_indices(kind, s)`` gives those indices; ``lr_slot``/``loss_slot``/``path_slot``
give the matching trace dicts (empty ones for an unused slot). Slot 0 is the current run,
slots 1..6 the pinned runs. Every point knows its step: ``x`` is the step on the lr and
loss plots, ``customdata`` is the step on the path plot.

Layout pieces a callback may have to patch after replacing a slot: ``annotations(runs)``
(``layout.annotations``, all three figures), ``loss_range(runs)`` (``layout.yaxis.range``
of the loss plot) and ``shows_momentum(runs)`` (``layout.yaxis2.visible`` of the lr plot).
A new surface means a new path figure (the map changes anyway).

Runs are drawn up to their divergence: the traces hold the finite prefix of the arrays
(``diverged_at`` points), never NaN.
"""
from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES
from .surfaces import SURFACES

MAX_RUNS = 7
"""Trace slots per figure: slot 0 is the current run, slots 1..6 pinned runs."""

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
# Slot 0 (the current run) is black; the yellow is left out on white (too faint).
PALETTE = ("#000000", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
_DARK_PALETTE = ("#F5F5F5", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#D55E00")

FONT_FAMILY = "'Source Sans Pro', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
FONT_SIZE = 17
"""Base font (px): readable from the back of a lecture hall at a third of a screen."""
TITLE_SIZE = 22
LINE_WIDTH = 3.0
CURRENT_LINE_WIDTH = 4.0
THIN_LINE_WIDTH = 2.5
"""No line is thinner than this (projectors wash thin lines out)."""

THEMES = {
    "light": {
        "paper": "#FFFFFF", "plot": "#FFFFFF", "font": "#1A1A1A", "grid": "#DDDDDD",
        "axis": "#444444", "current": PALETTE[0], "palette": PALETTE,
        # low loss light, high loss darker: the coloured paths stay the strongest ink
        "contour": [[0.0, "#FFFFFF"], [0.35, "#E4EBF2"], [0.7, "#B7C5D3"],
                    [1.0, "#7F93A8"]],
        "contour_line": "rgba(40, 60, 80, 0.25)",
        "minimum": "#F0E442", "minimum_line": "#000000",
        "label_bg": "rgba(255, 255, 255, 0.85)", "faint_opacity": 0.3,
    },
    "dark": {
        "paper": "#15181C", "plot": "#15181C", "font": "#EDEDED", "grid": "#363B42",
        "axis": "#A0A0A0", "current": _DARK_PALETTE[0], "palette": _DARK_PALETTE,
        "contour": [[0.0, "#0E1013"], [0.35, "#1F2933"], [0.7, "#33465A"],
                    [1.0, "#4F6A85"]],
        "contour_line": "rgba(200, 215, 230, 0.18)",
        "minimum": "#F0E442", "minimum_line": "#000000",
        "label_bg": "rgba(21, 24, 28, 0.85)", "faint_opacity": 0.3,
    },
}

EVENT_KINDS = ("milestone", "restart", "reduction", "warmup_end")
EVENT_TEXT = {"milestone": "milestone", "restart": "restart", "reduction": "reduction",
              "warmup_end": "warmup end"}
EVENT_SYMBOLS = {"milestone": "triangle-down", "restart": "triangle-up",
                 "reduction": "diamond", "warmup_end": "square"}

_PER_SLOT = {"lr": (0, 3), "loss": (0, 2), "path": (2, 2)}
"""kind -> (index of slot 0's first trace, traces per slot)."""


def cursor_index(kind: str, runs: int) -> int:
    """Index of the cursor trace (the last one) in a ``kind`` figure drawn with slots
    ``0..runs-1``."""
    first, per = _PER_SLOT[kind]
    return first + per * runs

LOSS_DECADES = 12
"""The loss plot shows at most this many decades below the largest finite loss."""
_TINY = 1e-300
"""Where a loss of exactly 0 is drawn on the log axis (below the shown range)."""
MARKER_MIN, MARKER_MAX = 3.0, 12.0
"""Path marker sizes (px) for lr = 0 and lr = the run's largest lr."""
MAX_MARKERS = 60
"""Path markers drawn at most per run (Plotly picks them); the line keeps every point."""


@dataclass
class RunView:
    """One run as the figures see it: its legend label, its slot, config and result."""

    label: str
    slot: int
    run: dict
    """The resolved config (``playground.resolve``)."""
    result: dict
    """``playground.simulate(run)``."""

    def colour(self, theme: str = "light") -> str:
        return colour(self.slot, theme)


def colour(slot: int, theme: str = "light") -> str:
    """The colour of a slot in a theme (slot 0, the current run, is the theme's
    ``current``)."""
    t = THEMES[theme]
    return t["current"] if slot == 0 else t["palette"][slot]


def slot_indices(kind: str, slot: int) -> list[int]:
    """Indices in ``figure["data"]`` of slot ``slot``'s traces in the ``kind`` figure
    ("lr", "loss" or "path"), in the order ``lr_slot``/``loss_slot``/``path_slot`` return
    them."""
    first, per = _PER_SLOT[kind]
    if not 0 <= slot < MAX_RUNS:
        raise ValueError(f"slot must be in 0..{MAX_RUNS - 1} (got {slot})")
    return list(range(first + per * slot, first + per * (slot + 1)))


# --- What a run did ----------------------------------------------------------------------

def _lengths(result: dict) -> tuple[int, int]:
    """(steps with finite values, path points with finite values)."""
    steps = len(result["lr"])
    d = result.get("diverged_at")
    if d is None:
        return steps, steps + 1
    return min(int(d), steps), int(d)


def events(run: dict, result: dict) -> dict[str, list[int]]:
    """The steps worth marking on the lr plot, by kind (each list sorted, each step < the
    divergence step or the run's length):

    - ``milestone``: StepLR every ``step_size``, MultiStepLR at its milestones;
    - ``restart``: CosineAnnealingWarmRestarts and CyclicLR cycle starts;
    - ``reduction``: ReduceLROnPlateau, the steps t whose lr is below lr[t-1];
    - ``warmup_end``: the first step after the warmup.

    Schedule events are shifted by the warmup steps (the schedule starts after it).
    """
    end, _ = _lengths(result)
    sch = run["schedule"]
    name = sch["name"]
    w = run["warmup"]["steps"] if run.get("warmup") else 0
    out: dict[str, list[int]] = {k: [] for k in EVENT_KINDS}
    span = end - w  # scheduler steps inside the shown part of the run

    def keep(ts):
        return sorted({w + int(t) for t in ts if 0 <= t < span})

    if name == "StepLR":
        size = int(sch["step_size"])
        out["milestone"] = keep(range(size, max(span, 0), size))
    elif name == "MultiStepLR":
        out["milestone"] = keep(sch["milestones"])
    elif name == "CosineAnnealingWarmRestarts":
        t0, tm = int(sch["T_0"]), int(sch["T_mult"])
        starts, start, length = [], t0, t0
        while start < span:  # exact integers: cycle i starts at T_0 (1 + T_mult + ...)
            starts.append(start)
            length *= tm
            start += length
        out["restart"] = keep(starts)
    elif name == "CyclicLR":
        up = int(sch["step_size_up"])
        down = up if sch.get("step_size_down") is None else int(sch["step_size_down"])
        out["restart"] = keep(range(up + down, max(span, 0), up + down))
    elif name == "ReduceLROnPlateau":
        lr = np.asarray(result["lr"][:end], dtype=np.float64)
        drops = np.flatnonzero(lr[1:] < lr[:-1]) + 1
        out["reduction"] = [int(t) for t in drops]
    if w and w < end:
        out["warmup_end"] = [w]
    return out


def summary(result: dict, threshold: float) -> dict:
    """``final_loss`` (the last finite true loss), ``best_loss``, ``steps_to_threshold``
    (the first step whose true loss is <= threshold, else None) and ``diverged_at``."""
    loss = np.asarray(result["loss"], dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(loss))
    hit = np.flatnonzero(np.isfinite(loss) & (loss <= threshold))
    return {
        "final_loss": float(loss[finite[-1]]) if finite.size else None,
        "best_loss": float(loss[finite].min()) if finite.size else None,
        "steps_to_threshold": int(hit[0]) if hit.size else None,
        "diverged_at": result.get("diverged_at"),
    }


# --- Legend labels -----------------------------------------------------------------------

def fmt(value) -> str:
    """A value for a label: 3 significant digits, short exponents (0.05, 0.000123, 1e-5,
    2.5e3), integers as they are, pairs as (x, y), int lists as 50,75."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, np.integer)) for v in value):
            return ",".join(fmt(v) for v in value)
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    if isinstance(value, str) or value is None:
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    text = f"{v:.3g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text


_ENTRY_LABEL = {"schedule": SCHEDULES, "optimizer": OPTIMIZERS, "problem": SURFACES}
_FIELD_ORDER = ("optimizer", "schedule", "warmup", "problem", "start", "steps")
_MAX_PARTS = 4
_MISSING = object()


def _fields(run: dict) -> dict[tuple, object]:
    """A resolved config flattened to {(section, field): value} (entry names left out;
    ``(warmup, steps)`` is None without a warmup)."""
    out = {}
    for sec in _FIELD_ORDER:
        value = run.get(sec)
        if sec == "warmup":
            out[(sec, "steps")] = value["steps"] if value else None
            if value:
                out[(sec, "start_factor")] = value["start_factor"]
        elif isinstance(value, dict):
            out.update(((sec, k), v) for k, v in value.items() if k != "name")
        else:
            out[(sec, None)] = value
    return out


def _field_text(sec: str, key, value) -> str:
    if sec == "warmup":
        if key == "steps":
            return "no warmup" if value is None else f"warmup {fmt(value)}"
        return f"warmup {key.replace('_', ' ')} {fmt(value)}"
    return f"{sec if key is None else key} {fmt(value)}"


def differs_labels(runs: list[dict]) -> list[str]:
    """A short legend label per resolved config saying what differs between them.

    The schedule's label when the schedules differ (then the optimizer's and surface's
    when those differ), then each differing field as "name value" (3 significant digits):
    ``["Cosine annealing, lr 0.05", "Step decay, lr 0.1"]``. A schedule's or surface's
    field is compared only between runs using the same one (CyclicLR's gamma is not
    StepLR's), an optimizer's between the runs that have it (``lr`` between all); at most
    four parts, then "…". A single run: its schedule label and lr. Identical runs: "run 1",
    "run 2", ...; other equal labels get " (2)", " (3)", ...
    """
    if not runs:
        return []
    if len(runs) == 1:
        r = runs[0]
        return [f"{SCHEDULES[r['schedule']['name']].label}, lr {fmt(r['optimizer']['lr'])}"]
    flat = [_fields(r) for r in runs]
    labels = []
    for i, run in enumerate(runs):
        parts = [_ENTRY_LABEL[sec][run[sec]["name"]].label
                 for sec in ("schedule", "optimizer", "problem")
                 if len({r[sec]["name"] for r in runs}) > 1]
        for (sec, key), value in flat[i].items():
            if sec in ("schedule", "problem"):  # same name, different meaning elsewhere
                peers = [f for f, r in zip(flat, runs) if r[sec]["name"] == run[sec]["name"]]
            else:
                peers = [f for f in flat if (sec, key) in f]
            if len(peers) > 1 and any(p.get((sec, key), _MISSING) != value for p in peers):
                parts.append(_field_text(sec, key, value))
        if len(parts) > _MAX_PARTS:
            parts = parts[:_MAX_PARTS] + ["…"]
        labels.append(", ".join(parts))
    if not any(labels):
        return [f"run {i + 1}" for i in range(len(runs))]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        lab = lab or "same"
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


# --- Shared layout -----------------------------------------------------------------------

def _axis(theme: str, title: str, **kw) -> dict:
    t = THEMES[theme]
    return {"title": {"text": title, "font": {"size": FONT_SIZE + 1}, "standoff": 8},
            "showgrid": True, "gridcolor": t["grid"], "gridwidth": 1, "zeroline": False,
            "showline": True, "linecolor": t["axis"], "linewidth": 1.5, "ticks": "outside",
            "tickcolor": t["axis"], "tickfont": {"size": FONT_SIZE - 1}, "automargin": True,
            **kw}


def _layout(theme: str, title: str, uirevision: str, runs, hovermode: str) -> dict:
    t = THEMES[theme]
    return {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": t["font"]},
        "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10, "pad": 0},
        # the title sits top left; the runs' colours are explained once, by the page's
        # shared legend (and the comparison table), not three times inside the plots
        "title": {"text": f"<b>{title}</b>", "x": 0.01, "xanchor": "left", "y": 0.985,
                  "yanchor": "top", "font": {"size": TITLE_SIZE}},
        "legend": {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.0,
                   "yanchor": "bottom", "font": {"size": FONT_SIZE - 1},
                   "bgcolor": "rgba(0,0,0,0)"},
        "hovermode": hovermode,
        "hoverlabel": {"font": {"size": FONT_SIZE - 1, "family": FONT_FAMILY,
                                "color": t["font"]},
                       "bgcolor": t["label_bg"], "bordercolor": t["axis"]},
        "hoverdistance": 30,
        "uirevision": uirevision,
        "annotations": annotations(runs, theme),
        "showlegend": False,
    }


def annotations(runs: list[RunView], theme: str = "light") -> list[dict]:
    """"diverged at step k" notes, one per diverged run in its colour, stacked at the top
    right of the plot area (the same list serves all three figures)."""
    t = THEMES[theme]
    diverged = [r for r in sorted(runs, key=lambda r: r.slot)
                if r.result.get("diverged_at") is not None]
    out = []
    for i, r in enumerate(diverged):
        text = f"diverged at step {r.result['diverged_at']}"
        if len(runs) > 1:
            text = f"{r.label}: {text}"
        out.append({"text": text, "xref": "paper", "yref": "paper", "x": 0.99,
                    "y": 0.98 - 0.1 * i, "xanchor": "right", "yanchor": "top",
                    "showarrow": False, "align": "right",
                    "font": {"size": FONT_SIZE, "color": r.colour(theme)},
                    "bgcolor": t["label_bg"], "bordercolor": r.colour(theme),
                    "borderwidth": 2, "borderpad": 4})
    return out


def cursor_trace(theme: str = "light") -> dict:
    """The hover cursor: an empty ring marker trace the page moves client-side (set its
    ``x``/``y`` to the hovered step's points)."""
    t = THEMES[theme]
    return {"type": "scatter", "x": [], "y": [], "mode": "markers", "name": "cursor",
            "showlegend": False, "hoverinfo": "skip", "cliponaxis": False, "zorder": 10,
            "marker": {"symbol": "circle-open", "size": 20,
                       "line": {"width": 3.5, "color": t["font"]}, "color": t["font"]}}


def _empty(name: str, col: str, slot: int, **kw) -> dict:
    return {"type": "scatter", "x": [], "y": [], "name": name, "legendgroup": f"slot{slot}",
            "showlegend": False, "line": {"color": col, "width": LINE_WIDTH},
            "marker": {"color": col}, **kw}


def _slot_of(run: RunView | None, slot: int | None) -> int:
    s = run.slot if run is not None else slot
    if s is None:
        raise ValueError("an empty slot needs its slot number")
    if not 0 <= s < MAX_RUNS:
        raise ValueError(f"slot must be in 0..{MAX_RUNS - 1} (got {s})")
    return s


def _width(slot: int) -> float:
    return CURRENT_LINE_WIDTH if slot == 0 else LINE_WIDTH


def _z(slot: int) -> int:
    """Drawing order of a run's main line: the current run above the pinned ones (faint
    lines 1, pinned 2, current 3, the minimum 4, markers 5, the cursor 10)."""
    return 3 if slot == 0 else 2


def _slot_range(slots: dict[int, RunView]) -> range:
    """The slots a figure holds traces for: 0 up to the highest one used. Unused slots
    above it get no traces at all (each empty trace costs Plotly ~1 ms per redraw); a
    new set of pinned runs means a new figure anyway."""
    return range(max(slots, default=0) + 1)


def _by_slot(runs: list[RunView]) -> dict[int, RunView]:
    out = {}
    for r in runs:
        if r.slot in out:
            raise ValueError(f"two runs in slot {r.slot}")
        _slot_of(r, None)
        out[r.slot] = r
    return out


# --- Learning rate -----------------------------------------------------------------------

def _momentum_name(run: dict) -> str:
    return "β1" if run["optimizer"]["name"] in ("adam", "adamw") else "momentum"


def _varies(values: np.ndarray) -> bool:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return v.size > 1 and float(v.max() - v.min()) > 1e-9 * max(1.0, float(np.abs(v).max()))


def shows_momentum(runs: list[RunView]) -> bool:
    """Whether any run's momentum (beta1) varies, i.e. the lr plot's right axis is used."""
    return any(_varies(r.result["momentum"][:_lengths(r.result)[0]]) for r in runs)


def lr_slot(run: RunView | None, theme: str = "light", slot: int | None = None) -> list[dict]:
    """The lr plot's three traces of one slot: lr line, momentum/beta1 line (y2; empty
    unless it varies), event markers. ``run=None`` gives the empty traces of ``slot``."""
    s = _slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [_empty("", col, s), _empty("", col, s, yaxis="y2"),
                _empty("", col, s, mode="markers")]
    n, _ = _lengths(run.result)
    steps = np.arange(n, dtype=np.int32)
    lr = run.result["lr"][:n]
    label = run.label
    group = f"slot{s}"
    line = {"type": "scatter", "mode": "lines", "x": steps, "y": lr, "name": label,
            "legendgroup": group, "showlegend": True, "zorder": _z(s),
            "line": {"color": col, "width": _width(s)},
            "hovertemplate": f"{_esc(label)}: lr %{{y:.4~g}}<extra></extra>"}
    mom = run.result["momentum"][:n]
    mname = _momentum_name(run.run)
    momentum = _empty(f"{label} {mname}", col, s, yaxis="y2", mode="lines")
    if _varies(mom):
        momentum.update(x=steps, y=mom, zorder=1,
                        line={"color": col, "width": THIN_LINE_WIDTH, "dash": "dot"},
                        hovertemplate=f"{_esc(label)}: {mname} %{{y:.3~g}}<extra></extra>")
    ev = events(run.run, run.result)
    points = sorted((k, kind) for kind, ks in ev.items() for k in ks)
    ks = np.array([k for k, _ in points], dtype=np.int32)
    marks = {"type": "scatter", "mode": "markers", "x": ks,
             "y": np.asarray(lr)[ks] if len(ks) else np.zeros(0, np.float32),
             "name": f"{label} events", "legendgroup": group, "showlegend": False,
             "zorder": 5, "cliponaxis": False,
             "text": [f"{EVENT_TEXT[kind]} at step {k}" for k, kind in points],
             "hovertemplate": f"{_esc(label)}: %{{text}}<extra></extra>",
             "marker": {"symbol": [EVENT_SYMBOLS[kind] for _, kind in points], "size": 15,
                        "color": col, "line": {"color": THEMES[theme]["paper"], "width": 1.5}}}
    return [line, momentum, marks]


def lr_figure(runs: list[RunView], log_y: bool = False, theme: str = "light") -> go.Figure:
    """The learning rate (and momentum/beta1 on the right axis) at each step, with the
    schedule's events marked; 3 traces per slot then the cursor (see module doc)."""
    slots = _by_slot(runs)
    data = [tr for s in _slot_range(slots) for tr in lr_slot(slots.get(s), theme, slot=s)]
    data.append(cursor_trace(theme))
    layout = _layout(theme, "Learning rate", "lr", runs, "x unified")
    layout["xaxis"] = _axis(theme, "step", rangemode="tozero",
                            unifiedhovertitle={"text": "step %{x}"})
    layout["yaxis"] = _axis(theme, "learning rate", type="log" if log_y else "linear",
                            exponentformat="power", rangemode="tozero", nticks=8)
    layout["yaxis2"] = _axis(theme, "momentum / β1 (dotted)", overlaying="y", side="right",
                             showgrid=False, tickmode="auto", tickformat=".3~f",
                             visible=shows_momentum(runs))
    return go.Figure(data=data, layout=layout)


def _esc(text: str) -> str:
    """A label safe inside a Plotly hovertemplate."""
    return text.replace("%{", "% {").replace("<", "&lt;")


# --- Loss ---------------------------------------------------------------------------------

def _positive(values) -> np.ndarray:
    """Losses for a log axis: exact zeros (and negatives) drawn just below any range."""
    v = np.asarray(values)
    if np.all(v > 0):
        return v
    return np.where(v > 0, v.astype(np.float64), _TINY)


def loss_slot(run: RunView | None, theme: str = "light",
              slot: int | None = None) -> list[dict]:
    """The loss plot's two traces of one slot: the true loss, and the observed (minibatch)
    loss drawn faintly on a noisy surface (empty elsewhere, where it equals the true one)."""
    s = _slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [_empty("", col, s), _empty("", col, s)]
    n, pts = _lengths(run.result)
    label = run.label
    true = {"type": "scatter", "mode": "lines", "x": np.arange(pts, dtype=np.int32),
            "y": _positive(run.result["loss"][:pts]), "name": label,
            "legendgroup": f"slot{s}", "showlegend": True, "zorder": _z(s),
            "line": {"color": col, "width": _width(s)},
            "hovertemplate": f"{_esc(label)}: loss %{{y:.4~g}}<extra></extra>"}
    observed = _empty(f"{label} (observed)", col, s, mode="lines")
    if SURFACES[run.run["problem"]["name"]].noisy:
        observed.update(x=np.arange(n, dtype=np.int32),
                        y=_positive(run.result["observed_loss"][:n]), zorder=1,
                        opacity=THEMES[theme]["faint_opacity"],
                        line={"color": col, "width": THIN_LINE_WIDTH},
                        hovertemplate=f"{_esc(label)}: observed %{{y:.3~g}}<extra></extra>")
    return [true, observed]


def loss_range(runs: list[RunView]) -> list[float] | None:
    """The loss plot's y range (log10 units), from the finite positive losses drawn.

    The top is set by the runs that did not diverge and by every run's start, a decade
    above them: a diverging run visibly climbs out of the top (its annotation says where)
    instead of squeezing the others flat. The bottom is the smallest loss, at most
    LOSS_DECADES below the top. None without any losses (autorange).
    """
    tops, lows = [], []
    for r in runs:
        n, pts = _lengths(r.result)
        vals = [np.asarray(r.result["loss"][:pts], dtype=np.float64)]
        if SURFACES[r.run["problem"]["name"]].noisy:
            vals.append(np.asarray(r.result["observed_loss"][:n], dtype=np.float64))
        v = np.concatenate(vals)
        v = v[np.isfinite(v) & (v > 0)]
        if not v.size:
            continue
        lows.append(v.min())
        start = float(r.result["loss"][0])
        if r.result.get("diverged_at") is None:
            tops.append(v.max())
        elif math.isfinite(start) and start > 0:
            tops.append(start)
        else:
            tops.append(v.max())
    if not tops:
        return None
    hi = math.log10(max(tops)) + (1.0 if any(r.result.get("diverged_at") is not None
                                             for r in runs) else 0.0)
    lo = max(math.log10(min(lows)), hi - LOSS_DECADES)
    pad = max(0.04 * (hi - lo), 0.2)
    return [lo - pad, hi + pad]


def loss_figure(runs: list[RunView], theme: str = "light") -> go.Figure:
    """The true loss at each step on a log axis (observed loss faintly on noisy surfaces);
    2 traces per slot then the cursor (see module doc)."""
    slots = _by_slot(runs)
    data = [tr for s in _slot_range(slots) for tr in loss_slot(slots.get(s), theme, slot=s)]
    data.append(cursor_trace(theme))
    layout = _layout(theme, "Loss", "loss", runs, "x unified")
    layout["xaxis"] = _axis(theme, "step", rangemode="tozero",
                            unifiedhovertitle={"text": "step %{x}"})
    rng = loss_range(runs)
    layout["yaxis"] = _axis(theme, "loss (log scale)", type="log", exponentformat="power",
                            nticks=8, **({"range": rng, "autorange": False} if rng else {}))
    return go.Figure(data=data, layout=layout)


# --- Path on the surface -----------------------------------------------------------------

def _surface(run: dict):
    prob = run["problem"]
    surf = SURFACES[prob["name"]]
    return surf, {k: v for k, v in prob.items() if k != "name"}


CONTOUR_LEVELS = 18
"""Filled bands of the contour map (log-spaced in the loss)."""
RASTER_PX = 640
"""Pixels per side of the contour map's image (about twice its size on a 1080p screen, so
the browser only ever scales it down)."""


def _surface_grid(run: dict, nx: int, ny: int, centres: bool = False):
    """The true loss f on an nx-by-ny grid over the surface's window (rows are y, ascending)
    and z = log10(f - f_min + eps), eps a small fraction of the loss's range in the window.
    ``centres``: pixel centres (for the image) instead of a grid spanning the window."""
    surf, prm = _surface(run)
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
    xs, ys, f, z = _surface_grid(run, n, n)
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
    _, _, _, z = _surface_grid({"problem": problem}, px, px, centres=True)
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
    surf, prm = _surface(run)
    (x0, x1), (y0, y1) = surf.window(prm)
    return {"source": _surface_png(json.dumps(dict(run["problem"]), sort_keys=True), theme, px),
            "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
            "xanchor": "left", "yanchor": "top", "sizing": "stretch", "layer": "below",
            "name": "contour map"}


def minimum_trace(run: dict, theme: str = "light") -> dict:
    """The surface's minimum: a star labelled "minimum"."""
    surf, prm = _surface(run)
    x, y = (float(v) for v in surf.minimum(prm))
    t = THEMES[theme]
    return {"type": "scatter", "x": [x], "y": [y], "mode": "markers+text", "name": "minimum",
            "showlegend": False, "text": ["minimum"], "textposition": "bottom center",
            "textfont": {"size": FONT_SIZE - 2, "color": t["font"]},
            "marker": {"symbol": "star", "size": 22, "color": t["minimum"],
                       "line": {"color": t["minimum_line"], "width": 1.5}},
            "hovertemplate": "minimum (%{x:.3~g}, %{y:.3~g})<extra></extra>"}


def path_slot(run: RunView | None, theme: str = "light",
              slot: int | None = None) -> list[dict]:
    """The path plot's two traces of one slot: the path (markers sized by the lr of the
    step taken from each point, MARKER_MIN..MARKER_MAX px relative to the run's largest
    lr) and its start (circle) / end (x) markers. ``customdata`` is the step."""
    s = _slot_of(run, slot)
    col = colour(s, theme)
    if run is None:
        return [_empty("", col, s, mode="lines+markers"), _empty("", col, s, mode="markers")]
    n, pts = _lengths(run.result)
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
            "hovertemplate": f"{_esc(label)}<br>step %{{customdata}}"
                             "<br>(%{x:.4~g}, %{y:.4~g})<extra></extra>"}
    ends = [0, pts - 1] if pts > 1 else list(range(pts))
    marks = {"type": "scatter", "mode": "markers", "x": path[ends, 0], "y": path[ends, 1],
             "customdata": np.array(ends, dtype=np.int32), "name": f"{label} start/end",
             "legendgroup": group, "showlegend": False,
             "text": ["start", "end"][:len(ends)],
             "marker": {"symbol": ["circle", "x"][:len(ends)], "size": 17, "color": col,
                        "line": {"color": t["paper"], "width": 2}},
             "hovertemplate": f"{_esc(label)}: %{{text}} (step %{{customdata}})"
                              "<br>(%{x:.4~g}, %{y:.4~g})<extra></extra>"}
    return [line, marks]


def path_figure(surface: dict, runs: list[RunView], theme: str = "light") -> go.Figure:
    """The paths over the surface's contour (``surface_trace``); the axes keep the surface
    window (a diverging path leaves it). data[0] the contour, data[1] the minimum, 2
    traces per slot from index 2, then the cursor (see module doc)."""
    slots = _by_slot(runs)
    problem = surface["meta"]["problem"]
    x0, x1 = (float(surface["x"][0]), float(surface["x"][-1]))
    y0, y1 = (float(surface["y"][0]), float(surface["y"][-1]))
    data = [surface, minimum_trace({"problem": problem}, theme)]
    data += [tr for s in _slot_range(slots) for tr in path_slot(slots.get(s), theme, slot=s)]
    # no zorder on this plot: Plotly (4.1) then skips layout images drawn below the data,
    # so the traces' order is their drawing order (the cursor last, on top)
    cursor = cursor_trace(theme)
    del cursor["zorder"]
    data.append(cursor)
    title = f"Path: {SURFACES[problem['name']].label}"
    layout = _layout(theme, title, "path:" + json.dumps(problem, sort_keys=True), runs,
                     "closest")
    layout["xaxis"] = _axis(theme, "x", range=[x0, x1], autorange=False, showgrid=False,
                            constrain="domain")
    layout["yaxis"] = _axis(theme, "y", range=[y0, y1], autorange=False, showgrid=False)
    layout["images"] = [surface_image({"problem": problem}, theme)]
    return go.Figure(data=data, layout=layout)


# --- Lesson marks ------------------------------------------------------------------------

_FIGURE_KINDS = ("lr", "loss", "path")


def with_marks(figures: dict, marks: list[dict], runs: list[RunView],
               theme: str = "light") -> dict:
    """The figures (kind -> go.Figure, any of them) with a lesson's marks
    (``lessons.marks``) drawn in: step lines and spans as shapes over the plot's height, lines, series and points as
    traces just before the cursor (which stays last), each in its run's colour."""
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
    label = _esc(m["label"])
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


# --- Tools around the plots ----------------------------------------------------------------

STABILITY_COLOUR = {"light": "#B00020", "dark": "#FF8A8A"}
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
              "margin": {"l": 70, "r": 20, "t": 50, "b": 60}, "showlegend": False,
              "title": {"text": "LR range test: smoothed loss as the lr grows", "x": 0.02},
              "xaxis": _axis(theme, "learning rate (log scale)", type="log",
                             exponentformat="power"),
              "yaxis": _axis(theme, "smoothed loss")}
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
              "margin": {"l": 70, "r": 20, "t": 60, "b": 50},
              "title": {"text": title, "x": 0.02},
              "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
              "xaxis": _axis(theme, "step", anchor="y2"),
              "yaxis": _axis(theme, "learning rate", domain=[0.56, 1.0],
                             exponentformat="power"),
              "yaxis2": _axis(theme, "loss", domain=[0.0, 0.44], type="log",
                              exponentformat="power")}
    return go.Figure(data=data, layout=layout)
