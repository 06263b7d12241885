"""A lesson's marks (``playground.lessons.marks``) drawn into the figures.

:func:`with_marks` draws marks: step lines and spans as shapes, hlines, series, points
and seed bands as traces just before the cursor (which stays last), and every label as a
text inside the plot, stacked in rows from the top so that no two cover each other.
:func:`lesson_figures` adds what a lesson's page needs around them: the lr plot's options
the lesson turns on (log axis, stability limit), one "diverged" note per run instead of a
box on every plot, the minimum and the start/end markers on top of the paths, and the
single seeds on request (a button) where the loss plot shows seed means.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .figure_base import esc, line_width, slot_indices
from .figure_tools import stability_shapes
from .runs import RunView, lengths
from .style import FONT_SIZE, THEMES, THIN_LINE_WIDTH, colour

_FIGURE_KINDS = ("lr", "loss", "path")
ROW_PX = 26
"""Height of one row of labels at the top of a plot (pixels: the labels' type, also when
lecture mode enlarges it by 1.3, stays apart at any plot height)."""
ROW = 0.085
"""About one row in paper units at the usual plot height (the data's headroom)."""
NOTE_SIZE = FONT_SIZE - 3
NOTE_CHAR_PX = 0.5 * NOTE_SIZE
"""A label's character, about (the page's sans-serif averages under half an em)."""
PLOT_AREA_PX = 190
"""The narrowest plot area a row label must fit in: a third of a 1280-px laptop's page.
(Lecture mode sets the labels 1.3x larger and the plots more than 1.3x wider.)"""


def lesson_figures(figures: dict, marks: list[dict], runs: list[RunView], theme: str = "light",
                   lr_options: tuple = (), threshold: float | None = None) -> dict:
    """The page's figures for a lesson: its marks (:func:`with_marks`), the lr plot's
    options it turns on ("log", "stability" with ``threshold``; "effective" comes as
    series marks), each divergence said once (on the loss plot, where the line leaves),
    the minimum and the start/end markers above the paths and, where the loss plot shows
    seed means, the single seeds behind a button."""
    ordered = sorted(runs, key=lambda r: r.slot)
    figs = {k: go.Figure(f) for k, f in figures.items()}
    for fig in figs.values():  # the "diverged" boxes: said once below, on the loss plot
        fig.layout.annotations = [a for a in fig.layout.annotations
                                  if "diverged at step" not in (a.text or "")]
    span = max(len(v.result["lr"]) for v in ordered)
    for kind in ("lr", "loss"):  # the steps only: a label near the end must not widen it
        figs[kind].layout.xaxis.update(range=[0, span], autorange=False)
    lr = figs["lr"]
    if "log" in lr_options:
        lr.layout.yaxis.update(type="log", dtick=1)  # decades only: no crowded minor labels
    if "stability" in lr_options:
        lr.layout.shapes = list(lr.layout.shapes) + stability_shapes(
            threshold, ordered[0].result["lr"], theme)
    for view in ordered[1:]:  # a thinner pinned line above the current one, not under it
        lr.data[slot_indices("lr", view.slot)[0]].zorder = 3 + view.slot
    marks = list(marks) + [
        {"kind": "text", "plot": "loss", "run": i, "data": [v.result["diverged_at"], None],
         "label": f"{v.label}: diverged at step {v.result['diverged_at']}"}
        for i, v in enumerate(ordered) if v.result.get("diverged_at") is not None]
    figs, rows = with_marks(figs, marks, runs, theme, rows=True)
    bands = [m for m in marks if m["kind"] == "band"]
    if bands:
        _seed_means(figs["loss"], bands, ordered)
    else:  # one seed: its minibatch losses (not what the lesson is about) on request
        observed = [i for i in (slot_indices("loss", v.slot)[1] for v in ordered)
                    if figs["loss"].data[i].x is not None and len(figs["loss"].data[i].x)]
        for i in observed:
            figs["loss"].data[i].visible = False
        if observed:
            _toggle(figs["loss"], "show minibatch loss", observed)
    shapes = (threshold,) if "stability" in lr_options and threshold is not None else ()
    _headroom(figs["lr"], rows["lr"] + len(shapes), shapes)
    _headroom(figs["loss"], rows["loss"])
    _on_top(figs["path"], ordered, faint=bool(bands))
    return figs


def _seed_means(fig: go.Figure, bands: list[dict], runs: list[RunView]) -> None:
    """The loss plot of seed means: the single seed's traces hidden behind a button, the
    axis fitted to the bands and saying what the lines are."""
    single = [i for v in runs for i in slot_indices("loss", v.slot)]
    for i in single:
        fig.data[i].visible = False
    values = np.concatenate([np.asarray(b["data"][k], dtype=np.float64)
                             for b in bands for k in ("low", "high", "mean")])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        top = math.log10(values.max())
        low = max(math.log10(values.min()), top - 12)
        pad = max(0.04 * (top - low), 0.15)
        fig.layout.yaxis.range = [low - pad, top + pad]
        fig.layout.yaxis.autorange = False
    fig.layout.yaxis.title.text = bands[0]["label"]  # "mean of 32 seeds": short
    _toggle(fig, "show one seed", single)


def _toggle(fig: go.Figure, label: str, traces: list[int]) -> None:
    """A button in the plot's title row that shows (and hides again) ``traces``."""
    fig.layout.updatemenus = [{
        "type": "buttons", "direction": "left", "showactive": False,
        "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom", "pad": {"b": 6},
        "font": {"size": NOTE_SIZE}, "buttons": [{
            "label": label, "method": "restyle",
            "args": [{"visible": True}, traces], "args2": [{"visible": False}, traces]}]}]


def _headroom(fig: go.Figure, rows: int, extra: tuple = ()) -> None:
    """The y axis stretched upwards so the data (and the ``extra`` values, lines drawn as
    shapes) stays below ``rows`` rows of labels."""
    if rows == 0 and not extra:
        return
    log = fig.layout.yaxis.type == "log"
    rng = fig.layout.yaxis.range
    if rng is None or fig.layout.yaxis.autorange not in (False, None):
        ys = [np.asarray(t.y, dtype=np.float64) for t in fig.data
              if t.y is not None and t.visible is not False and (t.yaxis in (None, "y"))
              and len(t.y) and t.name != "cursor"]
        ys = np.concatenate(ys + [np.asarray(extra, dtype=np.float64)])
        ys = ys[np.isfinite(ys) & ((ys > 0) if log else True)]
        if not ys.size:
            return
        if log:
            lo, hi = math.log10(ys.min()), math.log10(ys.max())
            pad = max(0.04 * (hi - lo), 0.05)
            rng = [lo - pad, hi + pad]
        else:
            lo = min(0.0, float(ys.min()))
            rng = [lo, float(ys.max()) + 0.04 * (float(ys.max()) - lo)]
    lo, hi = rng
    fig.layout.yaxis.range = [lo, lo + (hi - lo) / (1.0 - ROW * rows - 0.02)]
    fig.layout.yaxis.autorange = False


def _on_top(fig: go.Figure, runs: list[RunView], faint: bool) -> None:
    """The minimum and each run's start/end markers again above every path (the path
    plot draws in trace order); on a noisy surface the paths drawn fainter."""
    copies = [fig.data[1]] + [fig.data[slot_indices("path", v.slot)[1]] for v in runs]
    if faint:  # the current run's path above the pinned ones, which are drawn faint
        copies.insert(0, fig.data[slot_indices("path", runs[0].slot)[0]])
    extra = []
    for trace in copies:
        t = trace.to_plotly_json()
        t.update(name=f"{t.get('name', '')} (on top)", hoverinfo="skip")
        t.pop("hovertemplate", None)
        extra.append(t)
    if faint:
        for v in runs[1:]:
            fig.data[slot_indices("path", v.slot)[0]].opacity = 0.35
    data = list(fig.data)
    fig.data = []
    fig.add_traces(data[:-1] + extra + data[-1:])


def with_marks(figures: dict, marks: list[dict], runs: list[RunView],
               theme: str = "light", rows: bool = False):
    """The figures (kind -> go.Figure, any of them) with a lesson's marks
    (``lessons.marks``) drawn in, each in its run's colour; labels as annotations inside
    the plot, one row each. With ``rows``: also how many rows of labels each figure
    got (kind -> count), as a second value."""
    by_run = {i: r for i, r in enumerate(sorted(runs, key=lambda r: r.slot))}
    out, counts = {}, {}
    for kind in (k for k in _FIGURE_KINDS if k in figures):
        fig = go.Figure(figures[kind])
        log = kind == "loss" or fig.layout.yaxis.type == "log"
        bands = {m["run"]: m["data"] for m in marks if m["plot"] == kind and m["kind"] == "band"}
        span = max((len(r.result["lr"]) for r in runs), default=1)
        traces, shapes, notes = [], [], _Notes(theme, log, span)
        series_labels = []
        for m in (m for m in marks if m["plot"] == kind):
            view = by_run.get(m["run"])
            col = colour(view.slot if view else 0, theme)
            traces += _mark_traces(m, col, view, theme, bands)
            shapes += _mark_shapes(m, col)
            if m["kind"] == "series" and m["label"] not in series_labels:
                series_labels.append(m["label"])
                notes.row(f"dash-dot: {m['label']}", THEMES[theme]["font"])
            _label(m, col, notes)
        if kind == "path":  # zorder here would hide the map (see figure_path)
            traces = [{k: v for k, v in t.items() if k != "zorder"} for t in traces]
        data = list(fig.data)
        fig.data = []
        fig.add_traces(data[:-1] + traces + data[-1:])
        fig.layout.shapes = list(fig.layout.shapes) + shapes
        fig.layout.annotations = list(fig.layout.annotations) + notes.items
        out[kind], counts[kind] = fig, notes.rows
    return (out, counts) if rows else out


class _Notes:
    """The labels of one plot: rows from the top (x where the mark is), or an arrow."""

    def __init__(self, theme: str, log: bool, span: int):
        self.items, self.rows, self.theme, self.log, self.span = [], 0, theme, log, span

    def _base(self, text: str, col: str) -> dict:
        return {"text": esc(text), "showarrow": False, "bgcolor": THEMES[self.theme]["label_bg"],
                "font": {"size": NOTE_SIZE, "color": col}, "borderpad": 2}

    def row(self, text: str, col: str, x: float | None = None):
        """A label in the next free rows from the top: at step ``x`` (right of it in the
        first quarter of the steps, left of it in the last, centred on it between; another
        of the three where that would leave the plot area), or at the plot's right edge
        without one. A label too wide for the narrowest plot breaks after its colon (or
        its middle word) and takes two rows: past the plot area it ran under the toolbar."""
        lines = _lines(text)
        down = -2 - ROW_PX * self.rows
        self.rows += len(lines)
        where = {"xref": "paper", "x": 0.99, "xanchor": "right"} if x is None else \
            _beside(x / max(self.span, 1), x, max(map(_note_px, lines)))
        self.items.append({**self._base(text, col), "text": "<br>".join(map(esc, lines)),
                           **where, "yref": "paper", "y": 1.0, "yshift": down,
                           "yanchor": "top"})

    def at(self, text: str, col: str, x: float, y: float, below: bool):
        """A label with an arrow to the point (x, y) of the data."""
        self.items.append({**self._base(text, col), "showarrow": True, "arrowcolor": col,
                           "arrowwidth": 1.5, "arrowhead": 2, "xref": "x", "yref": "y",
                           "x": x, "y": math.log10(y) if self.log else y,
                           "ax": 40, "ay": 40 if below else -30, "xanchor": "left"})


def _note_px(line: str) -> float:
    """About how wide a line of a row label is drawn, px (its padding included)."""
    return len(line) * NOTE_CHAR_PX + 8


def _lines(text: str) -> list[str]:
    """A row label's lines: itself, or two when it is wider than the narrowest plot area
    (broken after its first colon, else at the space nearest its middle)."""
    if _note_px(text) <= PLOT_AREA_PX or " " not in text:
        return [text]
    if ": " in text:
        head, tail = text.split(": ", 1)
        return [head + ":", tail]
    spaces = [i for i, c in enumerate(text) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return [text[:cut], text[cut + 1:]]


def _beside(at: float, x: float, width: float) -> dict:
    """Where a row label of ``width`` px goes for the mark at step ``x`` (``at`` of the
    way along the steps): its usual side (right of the mark early on, left late, centred
    between) if the label stays inside the narrowest plot area there, else the first of
    the others that does; else against the plot's nearer edge."""
    px = at * PLOT_AREA_PX
    sides = {"left": (4, px + 4 + width <= PLOT_AREA_PX), "right": (-4, px - 4 - width >= 0),
             "center": (0, width / 2 <= px <= PLOT_AREA_PX - width / 2)}
    usual = "left" if at < 0.25 else "right" if at > 0.75 else "center"
    order = [usual] + (["right", "left", "center"] if at > 0.5 else ["left", "right", "center"])
    for anchor in order:
        shift, fits = sides[anchor]
        if fits:
            return {"xref": "x", "x": x, "xanchor": anchor, "xshift": shift}
    return {"xref": "paper", "x": 0.99, "xanchor": "right"} if at > 0.5 else \
        {"xref": "paper", "x": 0.01, "xanchor": "left"}


def _label(m: dict, col: str, notes: _Notes) -> None:
    data = m["data"]
    if m["kind"] == "vlines" and data:
        notes.row(m["label"], col, data[0])
    elif m["kind"] == "spans" and data:
        notes.row(m["label"], col, data[0][0])
    elif m["kind"] == "text":
        x, y = data
        if y is None:
            notes.row(m["label"], col, x)
        else:
            notes.at(m["label"], col, x, y, below=len(notes.items) % 2 == 1)
    elif m["kind"] == "hline":
        notes.items.append({**notes._base(m["label"], col), "xref": "paper", "x": 0.99,
                            "xanchor": "right", "yref": "y", "yanchor": "bottom",
                            "y": math.log10(data) if notes.log else data})


def _positive(y: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(y) & (y > 0), y, np.nan)


def _mark_traces(m: dict, col: str, view: RunView | None, theme: str,
                 bands: dict) -> list[dict]:
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
                 "opacity": 0.9, "zorder": 4,
                 "line": {"color": col, "width": THIN_LINE_WIDTH, "dash": "dashdot"},
                 "hovertemplate": f"{label}: %{{y:.4~g}}<extra></extra>"}]
    if m["kind"] == "points" and m["data"]:
        xy = np.array([[x, np.nan if y is None else y] for x, y in m["data"]], np.float64)
        if np.isnan(xy[:, 1]).any() and view is not None:  # on the run's (mean) line
            line = bands[m["run"]]["mean"] if m["run"] in bands else view.result["loss"]
            line = np.asarray(line, dtype=np.float64)
            at = np.clip(xy[:, 0].astype(int), 0, len(line) - 1)
            xy[:, 1] = np.where(np.isnan(xy[:, 1]), line[at], xy[:, 1])
        return [{**common, "mode": "markers", "x": xy[:, 0], "y": xy[:, 1], "zorder": 6,
                 "cliponaxis": False,
                 "marker": {"symbol": "diamond", "size": 15, "color": col,
                            "line": {"color": THEMES[theme]["paper"], "width": 1.5}},
                 "hovertemplate": f"{label} (%{{x:.3~g}}, %{{y:.3~g}})<extra></extra>"}]
    if m["kind"] == "band" and view is not None:
        band = {k: _positive(np.asarray(v, dtype=np.float64)) for k, v in m["data"].items()}
        pts = lengths(view.result)[1]
        x = np.arange(len(band["mean"]), dtype=np.int32)[:max(pts, 1)]
        hi, lo = band["high"][:len(x)], band["low"][:len(x)]
        keep = np.isfinite(hi) & np.isfinite(lo)
        edge = np.concatenate([x[keep], x[keep][::-1]])
        fill = {**common, "name": f"{m['label']} band", "mode": "lines", "x": edge,
                "y": np.concatenate([hi[keep], lo[keep][::-1]]), "fill": "toself",
                "fillcolor": _rgba(col, 0.16), "line": {"width": 0}, "hoverinfo": "skip",
                "zorder": 1}
        mean = {**common, "name": f"{view.label} ({m['label']})", "mode": "lines",
                "x": x, "y": band["mean"][:len(x)], "zorder": 3 if view.slot else 2,
                "line": {"color": col, "width": line_width(view.slot)},
                "hovertemplate": f"{esc(view.label)}: {label} %{{y:.4~g}}<extra></extra>"}
        return [fill, mean]
    return []


def _rgba(col: str, alpha: float) -> str:
    c = col.lstrip("#")
    if len(c) != 6:
        return col
    return f"rgba({int(c[0:2], 16)}, {int(c[2:4], 16)}, {int(c[4:6], 16)}, {alpha})"


def _mark_shapes(m: dict, col: str) -> list[dict]:
    if m["kind"] == "vlines":
        return [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0,
                 "y1": 1, "line": {"color": col, "width": 2, "dash": "dot"}}
                for t in m["data"]]
    if m["kind"] == "spans":
        return [{"type": "rect", "xref": "x", "yref": "paper", "x0": a, "x1": b, "y0": 0,
                 "y1": 1, "fillcolor": col, "opacity": 0.14, "line": {"width": 0},
                 "layer": "below"} for a, b in m["data"]]
    return []
