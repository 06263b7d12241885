"""Sweeps: one config run for many values of one numeric field (docs/run-format.md §9.3).

``sweep(config, "optimizer.lr", values)`` returns one ``simulate`` result per value. The
field is a dotted path to a number of the run; an element of a list is named by its index
(``"optimizer.betas.0"``: Adam's beta1, beta2 as the config has it). Every
value is checked exactly as ``simulate`` would check it (a bad one is a ``ConfigError``
naming the field and the value's position) and the results are equal to ``simulate``'s.

How it runs. The values' runs go through the engine's one compiled program in batches
(``engine.run_packed``): up to ``engine.BATCH`` runs per call, one after the other inside
the call, their steps written to one shared table. So a sweep never compiles, each result
is ``simulate``'s bit for bit (the same program, the same loops), and a run costs its steps
plus a few microseconds, not a call of its own.

A ``vmap`` of the trajectory over the values' float vectors (the int vector shared, so
that only the run's branches execute; 1,024-row buffers) was measured against this, 64
values of a 1,000-step float32 run, in the same processes: 40-53 ms in groups of 8 values
against 26-29 ms batched (the vmapped loop body is past the size under which XLA's CPU
backend compiles a loop into one native function). With that threshold raised for the
process (``XLA_FLAGS=--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold
=1048576``) the loops are native again, and groups of 16 to 64 values took 17-24 ms: still
about 0.3 us per value and step, as one run's loop takes. XLA does not spread the body
over the values, so more values per group cost in proportion; for ~1.3x it would take a
second program to compile at start-up and a flag for the whole process. Not taken.
bench/engine.py, section 7, measures a sweep against one call per value.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from . import engine
from .config import resolve
from .params import ConfigError


def _child(node, part: str):
    """The value at one path element: a dict's key, or a list's integer index (None where
    there is none)."""
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _copy(node):
    return dict(node) if isinstance(node, dict) else list(node) if isinstance(node, list) \
        else node


def with_field(config: dict, base: dict, field: str, value) -> dict:
    """``config`` with the dotted ``field`` set to ``value``: the dicts and lists on the
    field's path copied, the rest shared. A path element into a list is its index
    (``optimizer.betas.0``); a section or list the config leaves to its default is written
    out from ``base``, the resolved config (a section with the default's name, a list
    whole)."""
    out = dict(config)
    parts = field.split(".")
    node, resolved = out, base
    for part in parts[:-1]:
        resolved = _child(resolved, part)
        child = _child(node, part)
        if child is None and isinstance(resolved, dict):
            child = {"name": resolved["name"]} if "name" in resolved else {}
        elif child is None and isinstance(resolved, list):
            child = resolved
        child = _copy(child)
        node[int(part) if isinstance(node, list) else part] = child
        node = child
    node[int(parts[-1]) if isinstance(node, list) else parts[-1]] = value
    return out


def _check_field(run: dict, field: str) -> None:
    """The field must name a number in the resolved config: dotted keys, and an integer
    index for an element of a list (``optimizer.betas.0``)."""
    node = run
    for key in field.split("."):
        if not (key in node if isinstance(node, dict) else _child(node, key) is not None):
            raise ConfigError(field, "is not a field of this run (a dotted path to a number, "
                                     "such as optimizer.lr, schedule.gamma, steps or "
                                     "optimizer.betas.0)")
        node = _child(node, key)
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
            runs.append(resolve(with_field(config, base, field, value)))
        except ConfigError as e:
            raise ConfigError(e.field, f"{e.message} (value {i} of the sweep)") from None
    return run_resolved(runs)


def run_resolved(runs: list[dict]) -> list[dict]:
    """``simulate``'s results of runs already resolved (``config.resolve``), batched as a
    sweep's: for a caller that resolved each value itself (the page's scrub keeps the runs
    and skips the values the config refuses, resolving each once)."""
    return engine.run_packed([(*vectors, run["steps"])
                              for vectors, run in zip(engine.pack_all(runs), runs)])


def log_range(low: float, high: float, n: int) -> list[float]:
    """``n`` values evenly spaced in log10 from ``low`` to ``high`` (both included)."""
    if n == 1:
        return [low]
    a, b = math.log10(low), math.log10(high)
    return [float(10 ** (a + (b - a) * k / (n - 1))) for k in range(n)]
