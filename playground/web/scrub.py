"""Scrubbing: the plots follow a dragged slider with no server round trip per frame.

When a slider (the lr's, the steps', or one under a parameter's box: ``sliders``) is
grabbed, the browser (``assets/scrub.js``) asks once for the current run at every position
the slider can stop at: one sweep over those values (:func:`frames`: each value resolved
once, the runs batched as ``playground.sweep`` batches them), its curves decimated to at
most ``POINTS`` points. While the slider moves, each frame is drawn in the browser from
that answer (each line straight into the plot's SVG). When it is let go, the slider's
``value`` reaches the main callback (``plots.update``) like any change, and the plots
settle on the exact run. The frames are the exact runs of the slider's
positions (decimated): the value a position stands for is the one the main callback uses
(``sliders.sweep_values``; for T_max, positions that follow the run's steps). A steps
slider's frames each have their own length, decimated alike in Python and in the browser
(``decimate``).

What a grab costs: one sweep and its arrays, base64 float16 in one JSON answer
(bench/page.py --scrub prints the bytes per grab). The sweep runs at most ``STEP_BUDGET``
steps in all: a short run gets a frame at every position (the lr slider's 121), a longer
one at every k-th (``thinned``; never fewer than ``MIN_FRAMES``), and a position between
frames shows the nearest frame, its value in the box, until the release runs the exact
run. So a grab of a long run costs about what a short one does (a 10,000-step run swept at
all 121 positions cost 0.4 s of a core, and a hall's grabs starved its plain changes).
Answers are cached per run and pins (a hall whose students grab the same default run
computes it once per worker).
"""
from __future__ import annotations

import base64
import json
from functools import lru_cache

import numpy as np
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc

from ..config import resolve
from ..params import ConfigError
from ..surfaces import SURFACES
from ..sweeps import with_field
from . import state
from .figure_base import positive_span
from .figure_loss import loss_extent, loss_offset, positive, range_of
from .runs import lengths
from .sliders import box_texts, known, query_field, sweep_field, sweep_values

POINTS = 160
"""A scrub frame draws at most this many points per curve (the exact run has them all)."""
STEP_BUDGET = 61_000
"""A grab sweeps at most about this many steps in all (about 20 ms of the engine): the lr
slider's every position for a run of up to 504 steps (the default page's 500), and the
steps slider's every position (10 to 2,000 steps)."""
MIN_FRAMES = 31
"""A grab has at least this many frames (the lr slider's: five a decade), past the budget
if it must (a run of thousands of steps)."""


def _every(count: int, k: int) -> np.ndarray:
    """Every k-th of ``count`` positions from the first, and the last."""
    return np.unique(np.r_[np.arange(0, count, k), count - 1])


def thinned(steps: list[int], budget: int = STEP_BUDGET, least: int = MIN_FRAMES
            ) -> np.ndarray:
    """The positions a grab sweeps, given the steps of the run at each of the slider's
    positions: every k-th from the first, and the last, for the smallest k whose runs'
    steps add up to at most ``budget``, or that leaves at least ``least`` positions."""
    steps = np.asarray(steps)
    k = 1
    while steps[_every(len(steps), k)].sum() > budget \
            and len(_every(len(steps), k + 1)) >= least:
        k += 1
    return _every(len(steps), k)


def decimate(count: int, points: int = POINTS) -> np.ndarray:
    """At most ``points`` indices into ``count`` values, evenly spread, first and last kept:
    the k-th of m is k (count - 1) / (m - 1) rounded half up, in integers (assets/scrub.js
    computes the same for the frames of the steps slider, which differ in length)."""
    if count <= points:
        return np.arange(count)
    k = np.arange(points, dtype=np.int64)
    return (2 * k * (count - 1) + (points - 1)) // (2 * (points - 1))


def _half(array: np.ndarray) -> str:
    """``array`` as base64 float16 (little-endian): three significant digits, what a frame
    needs on screen, in half the bytes of float32."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f2").tobytes()).decode()


def _log_half(array: np.ndarray) -> str:
    """A positive quantity (lr, loss) as the float16 of its log10 (float16 alone would
    overflow at 65504 and lose small lrs); 0 travels as -inf, NaN as NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _half(np.log10(np.asarray(array, dtype=np.float64)))


def _runs(current: dict, run: dict, field: str, values: list) -> list[dict | None]:
    """The run (resolved) at each value, or None for a value that makes no run at all
    (SGD's nesterov needs a momentum above 0, say; a warmup needs a run at least as
    long): those get no frame (the plots keep the last one while the slider passes
    them). ``run``: the current run resolved."""
    out = []
    for v in values:
        try:
            out.append(resolve(with_field(current, run, field, v)))
        except ConfigError:
            out.append(None)
    return out


def _table(results: list[dict | None], longest: int, offset: float, noisy: bool) -> dict:
    """The swept runs' arrays, one row per slider position (NaN rows for positions with no
    run), each padded with NaN past the run's end and its divergence: ``lr`` (positions,
    longest), ``loss`` as the loss plot draws it (``offset`` subtracted) and ``path``
    (positions, longest + 1[, 2]); and per row what the plots' axes need, as the figures
    compute it for the run at rest: ``extents`` (``loss_extent``), ``spans`` (the finite
    positive lr's smallest and largest, or None), ``diverged`` (the step, or None) and
    ``ends`` (the last finite point, the path's end marker). In whole arrays, not run by
    run: a grab has up to 121 rows. The offset is the run's: no slider moves the surface;
    the observed (minibatch) loss counts on a ``noisy`` one only, as in the figures."""
    count = len(results)
    lr = np.full((count, longest), np.nan)
    loss = np.full((count, longest + 1), np.nan)
    observed = np.full((count, longest), np.nan)
    path = np.full((count, longest + 1, 2), np.nan)
    ends = np.full((count, 2), np.nan, np.float32)
    diverged = []
    for i, result in enumerate(results):
        if result is None:
            diverged.append(None)
            continue
        steps, pts = lengths(result)
        lr[i, :steps] = result["lr"][:steps]
        loss[i, :pts] = result["loss"][:pts]
        if noisy:
            observed[i, :steps] = result["observed_loss"][:steps]
        path[i, :pts] = result["path"][:pts]
        if pts:
            ends[i] = result["path"][pts - 1]
        d = result["diverged_at"]
        diverged.append(None if d is None else int(d))
    loss -= offset
    observed -= offset
    return {"lr": lr, "loss": loss, "path": path, "ends": ends, "diverged": diverged,
            "extents": _extents(loss, observed, np.array([d is not None for d in diverged])),
            "spans": _spans(lr)}


def _finite_positive(a: np.ndarray, axis: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``a``: the smallest and largest finite positive value, and whether it has
    any."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(a) & (a > 0)
    return (np.min(a, axis=axis, where=ok, initial=np.inf),
            np.max(a, axis=axis, where=ok, initial=-np.inf), ok.any(axis=axis))


def _extents(loss, observed, divergent) -> list[tuple[float, float] | None]:
    """``figure_loss.loss_extent`` of every row (``observed``: NaN where it does not
    count; a row with no run, all NaN, has none)."""
    low, high, some = _finite_positive(np.concatenate([loss, observed], axis=1))
    start = loss[:, 0]
    with np.errstate(invalid="ignore"):
        top = np.where(divergent & np.isfinite(start) & (start > 0), start, high)
    return [(float(lo), float(t)) if ok else None for lo, t, ok in zip(low, top, some)]


def _spans(lr: np.ndarray) -> list[tuple[float, float] | None]:
    """``figure_base.positive_span`` of every row."""
    low, high, some = _finite_positive(lr)
    return [(float(lo), float(hi)) if ok else None for lo, hi, ok in zip(low, high, some)]


def _joined(a, b):
    """The span covering two spans (either may be None)."""
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), max(a[1], b[1]))


def frames(current: dict, pins: list[dict], slider: str = "lr-slider") -> dict:
    """The scrub frames of ``slider`` for the current run (and its pinned runs, which stay):
    per slider position, the current run's lr, loss (as the loss plot draws it) and path,
    decimated (``decimate``), with the loss plot's y range and the divergence step.

    Arrays travel as base64 float16, row-major: ``lr`` and ``loss`` as log10 (positions,
    len(lr_steps)) and (positions, len(points)), ``path`` (positions, len(points), 2);
    NaN past a divergence. ``lr_steps`` and ``points`` are the steps each frame holds;
    for the steps slider, whose frames differ in length, ``steps_of`` gives each frame's
    steps, its row holds ``decimate`` of them to ``decimated_to`` points (then NaN), and
    ``lr_steps`` and ``points`` are the longest frame's. ``ends``: each run's last finite
    point (the path's end marker); ``lr_low``, ``lr_top``: the smallest and largest
    positive lr the lr plot shows with the frame (pins included), for its y axis;
    ``texts`` (a slider under a pair box only): what the box shows at each position."""
    field = sweep_field(slider)
    run = resolve(current)
    where, values = sweep_values(slider, run)
    keep = thinned(values if field == "steps" else [run["steps"]] * len(values))
    where, values = where[keep], [values[i] for i in keep]
    runs = _runs(current, run, field, values)
    valid = [r is not None for r in runs]
    swept = iter(state.sweep_runs([r for r in runs if r is not None]))
    results = [next(swept) if ok else None for ok in valid]
    pinned = state.runs(current, pins)[1:] if pins else []
    steps_of = [r["steps"] if r is not None else None for r in runs]
    longest = max([n for n in steps_of if n is not None] + [run["steps"]]) \
        if field == "steps" else run["steps"]
    lr_steps, points = decimate(longest), decimate(longest + 1)
    # every run padded with NaN to the longest, past its end and its divergence
    table = _table(results, longest, loss_offset(run), SURFACES[run["problem"]["name"]].noisy)
    lr = np.full((len(values), len(lr_steps)), np.nan)
    loss = np.full((len(values), len(points)), np.nan)
    path = np.full((len(values), len(points), 2), np.nan)
    if field == "steps":  # each frame decimated to its own length
        for i, n in enumerate(steps_of):
            if n is not None:
                at, pt = decimate(n), decimate(n + 1)
                lr[i, :len(at)] = table["lr"][i, at]
                loss[i, :len(pt)] = table["loss"][i, pt]
                path[i, :len(pt)] = table["path"][i, pt]
    else:  # (every other slider's frames share one length)
        lr[:], loss[:], path[:] = (table["lr"][:, lr_steps], table["loss"][:, points],
                                   table["path"][:, points])
    with np.errstate(invalid="ignore"):
        loss = np.where(np.isnan(loss), np.nan, positive(loss))  # as the loss plot draws it
    ends = table["ends"]
    pin_extents = [loss_extent(v.run, v.result) for v in pinned]
    pin_diverged = any(v.result.get("diverged_at") is not None for v in pinned)
    pin_span = positive_span([v.result["lr"][:lengths(v.result)[0]] for v in pinned])
    ranges = [range_of([e, *pin_extents], pin_diverged or d is not None) if ok else None
              for ok, e, d in zip(valid, table["extents"], table["diverged"])]
    spans = [_joined(s, pin_span) if ok else None for ok, s in zip(valid, table["spans"])]
    lr_low = [s and s[0] for s in spans]
    lr_top = [s and s[1] for s in spans]
    diverged = table["diverged"]
    texts = box_texts(slider, run, values)
    return {"slider": slider, "field": field, "positions": where.tolist(), "values": values,
            **({} if texts is None else {"texts": texts}),
            **({"steps_of": steps_of, "decimated_to": POINTS} if field == "steps" else {}),
            "lr_steps": lr_steps.tolist(), "points": points.tolist(),
            "lr": _log_half(lr), "loss": _log_half(loss), "path": _half(path),
            "ends": _half(ends),
            "loss_range": ranges, "diverged_at": diverged, "valid": valid,
            "lr_low": lr_low, "lr_top": lr_top,
            "noisy": SURFACES[run["problem"]["name"]].noisy}


def run_key(query: str, field: str | None) -> str:
    """The page's query without the swept field (``sliders.query_field``; None: keep them
    all) and the lesson's name, which the address keeps (assets/address.js): the frames
    depend on nothing else (the sweep replaces the field), so they stay good while only
    that field changes."""
    pairs = str(query).split("?", 1)[-1].split("&")
    return "&".join(p for p in pairs if p and p.split("=", 1)[0] not in (field, "lesson"))


@lru_cache(maxsize=32)
def _cached(key: str, pins_json: str, slider: str) -> dict:
    """The frames of a run (read only: the cache hands the same dict to every caller)."""
    return frames(state.current_run("/?" + key), json.loads(pins_json), slider)


def answer(request, query, pins) -> dict:
    """The frames the browser asked for (``request``: {"slider": id, "query": the page's
    query when it asked}), or {"error": why} for a request the page does not send."""
    if not isinstance(request, dict) or not known(request.get("slider")):
        return {"error": "unknown slider"}
    field = query_field(request["slider"])
    if not isinstance(query, str) or run_key(request.get("query"), field) != run_key(
            query, field):
        return {"error": "stale"}  # the run changed since: the next move asks again
    if not isinstance(pins, list) or len(pins) > state.MAX_PINS or not all(
            isinstance(p, dict) for p in pins):
        return {"error": f"pins: a list of at most {state.MAX_PINS} run configs"}
    try:
        body = _cached(run_key(query, field), json.dumps(pins, sort_keys=True),
                       request["slider"])
    except ConfigError as e:
        return {"error": str(e)}
    return {"query": query, "frames": body}


def stores():
    """The scrub's request (written in the browser on a grab) and its answer."""
    return [dcc.Store(id="scrub-request"), dcc.Store(id="scrub-data")]


@callback(Output("scrub-data", "data"), Input("scrub-request", "data"),
          State("page-query", "data"), State("pins", "data"), prevent_initial_call=True)
def sweep_for_scrub(request, query, pins):
    """One sweep per grab of a slider (see the module docstring)."""
    return answer(request, query, pins)


# the answer: draw the slider's latest position from it
clientside_callback(ClientsideFunction("scrub", "arrived"), Input("scrub-data", "data"),
                    prevent_initial_call=True)
