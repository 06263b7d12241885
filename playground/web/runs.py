"""The runs the page shows, as plain data: :class:`RunView` (a run's label, slot, config
and result), what a run did (``events``, ``summary``) and how it is named (``fmt``,
``differs_labels``). No Dash, no Plotly, no engine calls: ``playground.web.state`` makes
the runs, the figures and the views read them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..optimizers import OPTIMIZERS
from ..schedules import SCHEDULES
from ..surfaces import SURFACES
from .style import colour

MAX_RUNS = 7
"""Runs on the page at most (trace slots per figure): slot 0 is the current run, slots
1..6 pinned runs."""

EVENT_KINDS = ("milestone", "restart", "reduction", "warmup_end")


@dataclass
class RunView:
    """One run as the page shows it: its legend label, its slot, config and result."""

    label: str
    slot: int
    run: dict
    """The resolved config (``playground.resolve``)."""
    result: dict
    """``playground.simulate(run)``."""

    def colour(self, theme: str = "light") -> str:
        return colour(self.slot, theme)


# --- What a run did ----------------------------------------------------------------------

def lengths(result: dict) -> tuple[int, int]:
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
    end, _ = lengths(result)
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
