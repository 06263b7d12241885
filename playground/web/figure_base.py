"""What the three plots share: where each slot's traces sit in a figure, the axes and
the layout, the "diverged" notes, the cursor and the small trace helpers.

See ``playground.web.figures`` for the trace layout (``slot_indices``, ``cursor_index``).
"""
from __future__ import annotations

import html
import math

import numpy as np

from .runs import MAX_RUNS, RunView
from .style import (CURRENT_LINE_WIDTH, FONT_FAMILY, FONT_SIZE, LINE_WIDTH, THEMES,
                    TITLE_SIZE)

_PER_SLOT = {"lr": (0, 3), "loss": (0, 2), "path": (2, 2)}
"""kind -> (index of slot 0's first trace, traces per slot)."""


def cursor_index(kind: str, runs: int) -> int:
    """Index of the cursor trace (the last one) in a ``kind`` figure drawn with slots
    ``0..runs-1``."""
    first, per = _PER_SLOT[kind]
    return first + per * runs


def slot_indices(kind: str, slot: int) -> list[int]:
    """Indices in ``figure["data"]`` of slot ``slot``'s traces in the ``kind`` figure
    ("lr", "loss" or "path"), in the order ``lr_slot``/``loss_slot``/``path_slot`` return
    them."""
    first, per = _PER_SLOT[kind]
    if not 0 <= slot < MAX_RUNS:
        raise ValueError(f"slot must be in 0..{MAX_RUNS - 1} (got {slot})")
    return list(range(first + per * slot, first + per * (slot + 1)))


def axis(theme: str, title: str, *, steps: int | None = None, step_labels: int = 0,
         log_span: tuple[float, float] | None = None, **kw) -> dict:
    """An axis in the theme's colours. Tick labels that read right:

    - ``steps``: a step axis over the configured steps, ``[0, steps]`` whatever the runs
      drew (a run that diverged at step 1 still shows the whole run's axis), with the last
      step ticked (``step_ticks``; at most ``step_labels`` labels, else STEP_TICKS);
    - a log axis (``type="log"``) with a ``range`` (log10 units) or a ``log_span`` (the
      smallest and largest positive value drawn): every labelled tick a whole decade
      written out (1e-3, 0.01, 0.1, 1, ...), the 2..9 between them unlabelled minor
      ticks (``log_ticks``). Without either, Plotly picks the ticks.
    """
    t = THEMES[theme]
    out = {"title": {"text": title, "font": {"size": FONT_SIZE + 1}, "standoff": 8},
           "showgrid": True, "gridcolor": t["grid"], "gridwidth": 1, "zeroline": False,
           "showline": True, "linecolor": t["axis"], "linewidth": 1.5, "ticks": "outside",
           "tickcolor": t["axis"], "tickfont": {"size": FONT_SIZE - 1, "color": t["font"]},
           "automargin": True,
           # labels past the plot's div are clipped by its SVG anyway: Plotly's check for
           # them ("hide past div") measures every label, ~10% of a redraw here
           "ticklabeloverflow": "allow", **kw}
    if steps is not None:
        out.pop("rangemode", None)
        out.update(step_ticks(steps, step_labels or STEP_TICKS))
    if kw.get("type") == "log":
        span = log_span
        if span is None and kw.get("range") is not None:
            lo, hi = kw["range"]
            span = (10.0 ** lo, 10.0 ** hi)
        if span is not None:
            out.pop("nticks", None)
            out.pop("rangemode", None)  # no "tozero" on a log axis
            out.update(log_ticks(*span, theme=theme))
    return out


STEP_TICKS = 6
"""Labelled ticks on a step axis at most (the last step among them)."""
LOG_LABELS = 7
"""Labelled decades on a log axis at most; over more, every 2nd (3rd, ...) is labelled."""
_DECADES = range(-46, 41)
"""The decades a log axis carries ticks for (float32's smallest to well past any loss):
the ticks stay right when the page patches an axis's range without its ticks."""


def _nice(rough: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at least ``rough``."""
    p = 10.0 ** math.floor(math.log10(rough))
    return next(m * p for m in (1, 2, 2.5, 5, 10) if m * p >= rough)


def _even_tick(steps: int, dtick: int) -> int:
    """``dtick``, or a round step up to 2.5 times it that divides ``steps`` into at least
    two spans (so the last step is a round tick too and the labels stand evenly spaced:
    500 steps as 0, 250, 500 rather than 0, 200, 500)."""
    if steps % dtick == 0:
        return dtick
    p = 10 ** math.floor(math.log10(dtick))
    for m in (2, 2.5, 5, 10):
        d = m * p
        if dtick < d <= 2.5 * dtick and d == int(d) and steps % d == 0 and steps // d >= 2:
            return int(d)
    return dtick


def step_ticks(steps: int, labels: int = STEP_TICKS) -> dict:
    """A step axis from 0 to ``steps``: round ticks (0, 100, 200, ...) and the last step
    itself, at most about ``labels`` of them, a round tick too close to the last dropped
    so their labels never touch; where a slightly coarser round step ends on the last
    step, that one (evenly spaced labels)."""
    steps = max(int(steps), 1)
    dtick = _even_tick(steps, max(1, int(_nice(steps / labels)))) if steps >= labels else 1
    vals = [v for v in range(0, steps, dtick) if steps - v >= 0.6 * dtick or v == 0]
    if vals[-1] != steps:
        vals.append(steps)
    return {"range": [0, steps], "autorange": False, "tickmode": "array",
            "tickvals": vals, "ticktext": [str(v) for v in vals]}


def decade_text(e: int, mantissa: int = 1) -> str:
    """mantissa x 10^e as a tick label: 0.01, 0.5, 1, 20, 1000 written out, 1e-3, 5e-5,
    1e4 beyond."""
    if -2 <= e <= 3:
        value = mantissa * 10.0 ** e
        return f"{value:.{max(0, -e)}f}"
    return f"{mantissa}e{e}"


def log_ticks(lo: float, hi: float, theme: str = "light") -> dict:
    """Ticks of a log axis showing ``lo``..``hi`` (positive values).

    Three decades or more on show: whole decades labelled (every k-th when more than
    LOG_LABELS would show), the others unlabelled minor ticks (2..9 x 10^e when every
    decade is labelled, else the skipped decades). Fewer (two decade labels alone leave
    most values unreadable, as a loss from 12 down to 0.2 read "10, 1"): 1, 2, 5 (or
    every digit) times its power of ten, each labelled in full (0.2, 0.5, 1, 2, 5, 10)."""
    t = THEMES[theme]
    lo, hi = sorted((float(lo), float(hi)))
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0:
        lo, hi = 1e-3, 1.0
    a, b = math.log10(lo), math.log10(hi)
    span = b - a
    minor = {"ticks": "outside", "ticklen": 4, "tickcolor": t["axis"], "showgrid": False}
    first, last = math.floor(a), math.ceil(b)
    inside = [e for e in range(first, last + 1) if a - 1e-9 <= e <= b + 1e-9]
    if len(inside) >= 3:
        k = max(1, math.ceil(span / LOG_LABELS))
        major = [e for e in _DECADES if e % k == 0]
        vals, text = [10.0 ** e for e in major], [decade_text(e) for e in major]
        if k == 1:
            near = range(max(first - 8, _DECADES[0]), min(last + 8, _DECADES[-1]))
            minor["tickvals"] = [m * 10.0 ** e for e in near for m in range(2, 10)]
        else:
            minor["tickvals"] = [10.0 ** e for e in _DECADES if e % k]
    else:  # under two decades on show: 1-2-5 (or every digit) labelled in full
        for digits in ((1, 2, 5), tuple(range(1, 10))):
            pts = [(e, m) for e in range(first - 1, last + 1) for m in digits
                   if a - 1e-9 <= math.log10(m) + e <= b + 1e-9]
            if len(pts) >= 3:
                break
        near = range(first - 2, last + 2)
        pts = sorted({(e, m) for e in near for m in digits} | {(e, 1) for e in _DECADES})
        vals = [m * 10.0 ** e for e, m in pts]
        text = [decade_text(e, m) for e, m in pts]
        minor["tickvals"] = [m * 10.0 ** e for e in near for m in range(2, 10)
                             if m not in digits]
    return {"tickmode": "array", "tickvals": vals, "ticktext": text, "minor": minor}


def steps_of(runs) -> int:
    """The step axis's length: the most steps any run is configured for."""
    return max((int(r.run["steps"]) for r in runs), default=1)


def positive_span(arrays) -> tuple[float, float] | None:
    """The smallest and largest finite positive value in ``arrays`` (None if none)."""
    lo, hi = math.inf, -math.inf
    for arr in arrays:
        v = np.asarray(arr, dtype=np.float64)
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    return (lo, hi) if lo <= hi else None


MODEBAR_MARGIN = 34
"""px kept free at the right of every plot for the upright toolbar."""


MODEBAR_ORIENTATION = "v"
"""The plots' toolbar stands upright (the lr plot's lies down while its momentum axis
shows: figure_lr.modebar_orientation)."""


def modebar(theme: str) -> dict:
    """The plots' toolbar: upright at the top right (in a ``MODEBAR_MARGIN`` px margin),
    its icons in the theme's axis colour (visible on the dark background too)."""
    t = THEMES[theme]
    return {"orientation": MODEBAR_ORIENTATION, "bgcolor": "rgba(0,0,0,0)", "color": t["axis"],
            "activecolor": t["font"]}


def base_layout(theme: str, title: str, uirevision: str, runs, hovermode: str) -> dict:
    t = THEMES[theme]
    return {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": t["font"]},
        "paper_bgcolor": t["paper"], "plot_bgcolor": t["plot"],
        # the toolbar (shown on hover) stands upright in the right margin, beside the
        # plot and never over the title, whatever the title's length or the plot's width
        "margin": {"l": 10, "r": MODEBAR_MARGIN, "t": 44, "b": 10, "pad": 0},
        "modebar": modebar(theme),
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
    """"diverged at step k": one note at the top right of the plot area (the same list
    serves all three figures), a line per diverged run in its colour. With several runs
    each run's label is a line of its own above its step, so that the note stays narrow
    enough for a phone's plot (one line per run was cut at the plot's left edge) and
    several notes never overlap."""
    t = THEMES[theme]
    diverged = [r for r in sorted(runs, key=lambda r: r.slot)
                if r.result.get("diverged_at") is not None]
    if not diverged:
        return []
    lines = []
    for r in diverged:
        colour = r.colour(theme)
        if len(runs) > 1:
            lines.append(f"<span style='color:{colour}'>{html.escape(r.label)}:</span>")
        lines.append(f"<span style='color:{colour}'>diverged at step "
                     f"{r.result['diverged_at']}</span>")
    border = diverged[0].colour(theme) if len(diverged) == 1 else t["axis"]
    return [{"text": "<br>".join(lines), "xref": "paper", "yref": "paper", "x": 0.99,
             "y": 0.98, "xanchor": "right", "yanchor": "top", "showarrow": False,
             "align": "right", "font": {"size": FONT_SIZE, "color": diverged[0].colour(theme)},
             "bgcolor": t["label_bg"], "bordercolor": border, "borderwidth": 2,
             "borderpad": 4}]


def cursor_trace(theme: str = "light") -> dict:
    """The hover cursor: an empty ring marker trace the page moves client-side (set its
    ``x``/``y`` to the hovered step's points)."""
    t = THEMES[theme]
    return {"type": "scatter", "x": [], "y": [], "mode": "markers", "name": "cursor",
            "showlegend": False, "hoverinfo": "skip", "cliponaxis": False, "zorder": 10,
            "marker": {"symbol": "circle-open", "size": 20,
                       "line": {"width": 3.5, "color": t["font"]}, "color": t["font"]}}


def empty_trace(name: str, col: str, slot: int, **kw) -> dict:
    return {"type": "scatter", "x": [], "y": [], "name": name, "legendgroup": f"slot{slot}",
            "showlegend": False, "line": {"color": col, "width": LINE_WIDTH},
            "marker": {"color": col}, **kw}


def slot_of(run: RunView | None, slot: int | None) -> int:
    s = run.slot if run is not None else slot
    if s is None:
        raise ValueError("an empty slot needs its slot number")
    if not 0 <= s < MAX_RUNS:
        raise ValueError(f"slot must be in 0..{MAX_RUNS - 1} (got {s})")
    return s


def line_width(slot: int) -> float:
    return CURRENT_LINE_WIDTH if slot == 0 else LINE_WIDTH


def z_order(slot: int) -> int:
    """Drawing order of a run's main line: the current run above the pinned ones (faint
    lines 1, pinned 2, current 3, the minimum 4, markers 5, the cursor 10)."""
    return 3 if slot == 0 else 2


def slot_range(slots: dict[int, RunView]) -> range:
    """The slots a figure holds traces for: 0 up to the highest one used. Unused slots
    above it get no traces at all (each empty trace costs Plotly ~1 ms per redraw); a
    new set of pinned runs means a new figure anyway."""
    return range(max(slots, default=0) + 1)


def by_slot(runs: list[RunView]) -> dict[int, RunView]:
    out = {}
    for r in runs:
        if r.slot in out:
            raise ValueError(f"two runs in slot {r.slot}")
        slot_of(r, None)
        out[r.slot] = r
    return out


def esc(text: str) -> str:
    """A label safe inside a Plotly hovertemplate."""
    return text.replace("%{", "% {").replace("<", "&lt;")
