"""Lessons: ready-made experiments, each a current run plus pinned runs that show one idea.

A :class:`Lesson` carries its runs as ordinary configs (so the page, the URL and the
command line treat them like any other run), a one-line summary (its claim, the page's
headline), a two-sentence explanation (folded under it), the lr plot's options it turns
on, how many seeds its loss plot averages over (noisy surface), a reference to read next,
a label per run, what the plots should draw (:class:`Mark`) and the folded panel the page
opens with it when that panel's picture carries the claim (``open_panel``). :func:`marks`
turns those into plain data from the runs' results; :func:`lesson_path` is the page path
that opens a lesson, :func:`catalogue` the menu's entries.

Every lesson's claim is checked against the engine's own numbers in tests/test_lessons.py.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .config import page_path, resolve
from .lesson_catalogue import (  # noqa: F401 (the records are part of this API)
    LESSON_LIST, PANELS, SEEDS, Lesson, Mark, Reference)

MAX_RUNS = 6
"""The page shows at most this many runs (the current one and its pins)."""


LR_OPTIONS = ("log", "stability", "effective")


def lesson_path(lesson: Lesson) -> str:
    """The page path that opens ``lesson``: its runs as :func:`config.page_path` writes
    them, plus ``lesson=<name>`` (which the page must take out of the query before
    :func:`config.from_query`, which refuses keys it does not know)."""
    return page_path(lesson.config, list(lesson.pins)) + "&lesson=" + lesson.name


def get(name: str) -> Lesson:
    """The lesson called ``name``; KeyError naming the known ones otherwise."""
    if name not in LESSONS:
        raise KeyError(f"no lesson {name!r} (known: {', '.join(LESSONS)})")
    return LESSONS[name]


def catalogue() -> list[dict]:
    """Every lesson as plain data: name, title, summary, explanation, reference
    ({title, url}) and url (the page path)."""
    return [{"name": ls.name, "title": ls.title, "summary": ls.summary,
             "explanation": ls.explanation,
             "reference": {"title": ls.reference.title, "url": ls.reference.url},
             "url": lesson_path(ls)} for ls in LESSONS.values()]


# --- Marks -------------------------------------------------------------------------------
# Each builder gets (config, result, mark) and returns plain dicts the page draws without
# knowing the lesson: {"kind": "hline" | "vlines" | "spans" | "series" | "points" | "text" |
# "band", "plot": "lr" | "loss" | "path", "run": index, "label": text, "data": ...} where
# data is a number (hline), a list of steps (vlines), a list of [first, end) step pairs (spans), an array over the
# steps (series), a list of [x, y] (points; y None: on the run's line), [x, y] (text, the
# label is the text; None, None: a note at the top of the plot) or {"mean", "low", "high"} arrays over the path points (band).


def lr_drops(result: dict, factor: float = 0.5) -> list[int]:
    """The steps t whose lr is at most ``factor`` times lr[t-1]: step-decay milestones and
    plateau reductions (cosine's tiny steps do not count)."""
    lr = np.asarray(result["lr"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return [int(t) for t in np.flatnonzero(lr[1:] <= factor * lr[:-1]) + 1]


def restarts(result: dict) -> list[int]:
    """The steps t whose lr is above lr[t-1]: where a warm restart begins. The weights a
    snapshot ensemble keeps are the path point at each of them (the end of a cycle)."""
    lr = np.asarray(result["lr"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return [int(t) for t in np.flatnonzero(lr[1:] > lr[:-1]) + 1]


def first_reaching(result: dict, target: float) -> int | None:
    """The first path index whose true loss is at most ``target`` (as the page's table)."""
    loss = np.asarray(result["loss"], dtype=np.float64)
    hit = np.flatnonzero(np.isfinite(loss) & (loss <= target))
    return int(hit[0]) if hit.size else None


def seed_configs(config: dict, n: int) -> list[dict]:
    """``config`` with ``n`` seeds of its noisy surface: its own first, then the next."""
    problem = resolve(config)["problem"]
    return [{**config, "problem": {**config["problem"], "seed": problem["seed"] + k}}
            for k in range(n)]


def seed_band(results: list[dict]) -> dict:
    """The true loss of several seeds of one run, per path point: the mean and the band
    from the 10th to the 90th percentile (a diverged seed counts as infinite)."""
    loss = np.stack([np.where(np.isfinite(r["loss"]), r["loss"], np.inf)
                     for r in results]).astype(np.float64)
    with np.errstate(invalid="ignore"):
        mean = loss.mean(axis=0)
    low, high = np.percentile(loss, [10, 90], axis=0)
    return {"mean": mean, "low": low, "high": high}


def _drops(config, result, mark):
    drops = lr_drops(result)
    lr = np.asarray(result["lr"], dtype=np.float64)
    ratio = {float(f"{lr[t - 1] / lr[t]:.3g}") for t in drops if lr[t] > 0}
    text = f"lr ÷{ratio.pop():g}" if len(ratio) == 1 else "lr cut"
    return [{"kind": "vlines", "plot": "loss", "label": text, "data": drops}]


def _snapshots(config, result, mark):
    ends = restarts(result)
    if np.isfinite(result["loss"][-1]):
        ends = ends + [len(result["lr"])]
    path = np.asarray(result["path"], dtype=np.float64)
    return [{"kind": "points", "plot": "path", "label": "cycle end (snapshot)",
             "data": [path[t].tolist() for t in ends]},
            {"kind": "points", "plot": "loss", "label": "cycle end (snapshot)",
             "data": [[t, None] for t in ends]}]


def _best_so_far(config, result, mark):
    metric = resolve(config)["schedule"].get("metric", "train")
    steps = len(result["lr"])  # the loss the scheduler saw at each step
    loss = result["loss"][:steps] if metric == "validation" else result["observed_loss"]
    return [{"kind": "series", "plot": "loss", "label": "best so far",
             "data": np.fmin.accumulate(np.asarray(loss, np.float64))}]


def _patience(config, result, mark):
    p = resolve(config)["schedule"]["patience"]
    return [{"kind": "spans", "plot": "loss", "label": f"{p + 1} steps without a new best",
             "data": [[max(0, r - p - 1), r] for r in lr_drops(result, 1.0 - 1e-6)]}]


def _step_length(config, result, mark):
    path = np.asarray(result["path"], dtype=np.float64)
    length = np.linalg.norm(np.diff(path, axis=0), axis=1)
    first = int(np.nanargmax(length))
    return [{"kind": "series", "plot": "lr", "label": "step length |Δp|", "data": length},
            {"kind": "points", "plot": "lr", "label": "largest step",
             "data": [[first, float(length[first])]]},
            {"kind": "text", "plot": "lr", "data": [None, None],
             "label": f"largest step {length[first]:.2g}, at step {first}"}]


def _target(config, result, mark):
    hit = first_reaching(result, mark.value)
    return [{"kind": "hline", "plot": "loss", "label": f"target {mark.value:g}",
             "data": mark.value},
            {"kind": "vlines", "plot": "loss", "label": f"target reached at step {hit}",
             "data": [] if hit is None else [hit]}]


def _lr_fraction(config, result, mark):
    lr = np.asarray(result["lr"], dtype=np.float64)
    below = np.flatnonzero(lr <= mark.value * lr[0])
    return [{"kind": "vlines", "plot": "lr", "label": f"lr < {mark.value:.0%} of start",
             "data": [int(below[0])] if below.size else []}]


def _budget(config, result, mark):
    return [{"kind": "text", "plot": "lr", "data": [None, None],
             "label": f"sum of lr: {float(np.sum(result['lr'], dtype=np.float64)):.1f}"}]


def _escape(config, result, mark):
    far = np.flatnonzero(np.abs(np.asarray(result["path"], dtype=np.float64)[:, 1]) > mark.value)
    return [{"kind": "vlines", "plot": "loss", "label": f"|y| > {mark.value:g} at step "
             f"{int(far[0]) if far.size else 'never'}", "data": [int(far[0])] if far.size else []}]


MARK_KINDS = {
    "drops": _drops,                # each lr drop (milestones, plateau reductions)
    "snapshots": _snapshots,        # SGDR cycle ends, on the loss plot and the path
    "best_so_far": _best_so_far,    # the running best of the plateau's metric
    "patience": _patience,          # ReduceLROnPlateau's window before each reduction
    "step_length": _step_length,    # the length of each step, |p_t+1 - p_t|
    "target": _target,              # a target loss and where the run reaches it
    "lr_fraction": _lr_fraction,    # where the lr falls below a fraction of its start
    "budget": _budget,              # the lr the run spends, sum over the steps
    "escape": _escape,              # where the path first leaves the band |y| <= value
}


@lru_cache(maxsize=32)
def _bands(name: str) -> tuple[dict, ...]:
    from .engine import simulate_batch  # JAX only once a band is drawn

    lesson = LESSONS[name]
    configs = [c for run in lesson.runs for c in seed_configs(run, lesson.seeds)]
    out = simulate_batch(configs)
    return tuple(seed_band(out[i:i + lesson.seeds])
                 for i in range(0, len(out), lesson.seeds))


def marks(lesson: Lesson, results: list[dict]) -> list[dict]:
    """The lesson's marks as drawable data, given the results of ``lesson.runs`` (in that
    order). Each dict also names its ``run``. A lesson with ``seeds`` adds each run's
    seed band (its mean over the seeds, with the 10-90% band) to the loss plot."""
    out = []
    if lesson.seeds and lesson.name in LESSONS and LESSONS[lesson.name] == lesson:
        out += [{"kind": "band", "plot": "loss", "run": i, "data": band,
                 "label": f"mean of {lesson.seeds} seeds"}
                for i, band in enumerate(_bands(lesson.name))]
    for mark in lesson.marks:
        config, result = lesson.runs[mark.run], results[mark.run]
        for m in MARK_KINDS[mark.kind](config, result, mark):
            named = f"{lesson.labels[mark.run]}: {m['label']}"
            if m["kind"] == "text" and len(lesson.runs) > 1 and len(named) <= 32:
                m = {**m, "label": named}  # which run it speaks of, where that fits
            out.append({**m, "run": mark.run})
    return out


# --- The lessons (playground/lesson_catalogue.py) ----------------------------------------

LESSONS: dict[str, Lesson] = {ls.name: ls for ls in LESSON_LIST}
"""The lessons by name, in menu order."""
