"""What the three plots share: where each slot's traces sit in a figure, the axes and
the layout, the "diverged" notes, the cursor and the small trace helpers.

See ``playground.web.figures`` for the trace layout (``slot_indices``, ``cursor_index``).
"""
from __future__ import annotations

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


def axis(theme: str, title: str, **kw) -> dict:
    t = THEMES[theme]
    return {"title": {"text": title, "font": {"size": FONT_SIZE + 1}, "standoff": 8},
            "showgrid": True, "gridcolor": t["grid"], "gridwidth": 1, "zeroline": False,
            "showline": True, "linecolor": t["axis"], "linewidth": 1.5, "ticks": "outside",
            "tickcolor": t["axis"], "tickfont": {"size": FONT_SIZE - 1}, "automargin": True,
            **kw}


def base_layout(theme: str, title: str, uirevision: str, runs, hovermode: str) -> dict:
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
