"""Sweeps: one config run for many values of one numeric field (docs/run-format.md §9.3).

``sweep(config, "optimizer.lr", values)`` returns one ``simulate`` result per value. Every
value is checked exactly as ``simulate`` would check it (a bad one is a ``ConfigError``
naming the field and the value's position) and the results are equal to ``simulate``'s.

How it runs. The engine packs a run into a float vector and an int vector; the int vector
holds the choices (surface, optimizer, schedule) that ``lax.switch`` branches on. A sweep
over a float field changes only the float vector, so it is one ``vmap`` of the engine's
trajectory over stacked float vectors with the int vector shared: the switch indices stay
unbatched, so only the branches this run uses execute (a batched index would run every
surface, optimizer and schedule for every value). The lanes are padded to a fixed width
(``LANES``) so that any number of values reuses one compiled program: a sweep never
compiles after warm-up. A sweep over an integer field (``steps``, ``T_max`` ...) changes the
int vector, hence the loop's length or a schedule's integers: those values run as a batch
of single runs through the engine's one program.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import jax
import numpy as np

from . import engine
from .config import resolve
from .params import ConfigError

LANES = 16
"""Values per vectorised call (a sweep of more values makes several calls)."""

_vmapped = jax.jit(jax.vmap(engine._trajectory, in_axes=(0, None, None)))


def _set(config: dict, base: dict, field: str, value) -> dict:
    """A deep copy of ``config`` with the dotted ``field`` set to ``value`` (a section the
    config leaves to its default is written out with the default's name, from ``base``, the
    resolved config)."""
    out = copy.deepcopy(config)
    parts = field.split(".")
    node, resolved = out, base
    for key in parts[:-1]:
        resolved = resolved.get(key) if isinstance(resolved, dict) else None
        if node.get(key) is None and isinstance(resolved, dict):
            node[key] = {"name": resolved["name"]} if "name" in resolved else {}
        node = node[key]
    node[parts[-1]] = value
    return out


def _check_field(run: dict, field: str) -> None:
    """The field must name a number in the resolved config."""
    node = run
    for key in field.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(field, "is not a field of this run (a dotted path to a number, "
                                     "such as optimizer.lr, schedule.gamma or steps)")
        node = node[key]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ConfigError(field, f"is not a number in this run (it holds {node!r})")


def sweep(config: dict, field: str, values: Sequence) -> list[dict]:
    """Run ``config`` once per value of ``field``; one ``simulate`` result per value."""
    if not isinstance(field, str) or not field:
        raise ConfigError("field", "must be a dotted path such as \"optimizer.lr\"")
    base = resolve(config)
    _check_field(base, field)
    values = list(values)
    if not values:
        return []
    runs = []
    for i, value in enumerate(values):
        try:
            runs.append(resolve(_set(config, base, field, value)))
        except ConfigError as e:
            raise ConfigError(e.field, f"{e.message} (value {i} of the sweep)") from None
    packed = [engine.pack(run) for run in runs]
    ivec, steps = packed[0][1], runs[0]["steps"]
    same_ints = all(np.array_equal(iv, ivec) for _, iv in packed)
    if not same_ints:  # an integer field: the engine's single program, value by value
        return engine.simulate_batch([_set(config, base, field, v) for v in values])
    fvecs = np.stack([fv for fv, _ in packed])
    out = []
    for lo in range(0, len(runs), LANES):
        chunk = fvecs[lo:lo + LANES]
        pad = LANES - len(chunk)
        if pad:  # repeat the last value: the lanes past the sweep's end are thrown away
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        tables, finals, diverged = _vmapped(chunk, ivec, np.int32(steps))
        tables, finals, diverged = (np.asarray(a) for a in (tables, finals, diverged))
        out += [engine._result(tables[k], finals[k], diverged[k], steps)
                for k in range(LANES - pad)]
    return out


def log_range(low: float, high: float, n: int) -> list[float]:
    """``n`` values evenly spaced in log10 from ``low`` to ``high`` (both included)."""
    if n == 1:
        return [low]
    a, b = math.log10(low), math.log10(high)
    return [float(10 ** (a + (b - a) * k / (n - 1))) for k in range(n)]


def warm_up() -> None:
    """Compile the vectorised program (once per process and dtype)."""
    sweep({}, "optimizer.lr", [0.01])
