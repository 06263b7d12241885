"""The engine's fixed layout: where each parameter of a run lives in the two packed
vectors (one float, one int) that the compiled run takes (see engine.py).

The layout is built once from the registries; :func:`pack` writes a resolved config into
it, and :func:`_unpack` gives the compiled run views that slice each parameter out where
it is read.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import numpy as np
from jax import lax

from . import formula
from .config import INF_NORM, SECTIONS, WARMUP
from .params import INT32_MAX, Entry, RunContext


# --- The fixed layout: where each parameter lives in the packed vectors ------------------

@dataclass(frozen=True)
class _Slot:
    section: str
    entry: str
    name: str
    kind: str
    index: int  # into the float vector for float kinds, else into the int vector
    size: int


_REGISTRIES = {**SECTIONS, "warmup": {"warmup": WARMUP}}
"""Every entry whose parameters the packed vectors hold, by config section."""


def _build_layout():
    slots, nf, ni = [], 0, 0
    for section, registry in _REGISTRIES.items():
        for entry in registry.values():
            for p in entry.params:
                size = {"float_pair": 2, "int_list": p.max_len}.get(p.kind, 1)
                if p.kind in ("float", "float_pair"):
                    slots.append(_Slot(section, entry.name, p.name, p.kind, nf, size))
                    nf += size
                else:
                    slots.append(_Slot(section, entry.name, p.name, p.kind, ni, size))
                    ni += size
    # top-level fields
    slots.append(_Slot("run", "run", "start", "float_pair", nf, 2))
    nf += 2
    for name in ("max_norm", "norm_type"):  # clip_grad_norm (max_norm inf: no clipping)
        slots.append(_Slot("run", "run", name, "float", nf, 1))
        nf += 1
    for name in ("steps", "warmup_steps", "problem", "optimizer", "schedule",
                 "sched_stride", "sched_offset"):  # (the last two: see simulate_strided)
        slots.append(_Slot("run", "run", name, "int", ni, 1))
        ni += 1
    return tuple(slots), nf, ni


_SLOTS, _NF_MAIN, _NI_MAIN = _build_layout()
"""Every built-in parameter lives in the first ``_NF_MAIN`` floats and ``_NI_MAIN`` ints."""

# The typed surface ("formula", docs/run-format.md §9.1) at the end of the vectors:
# floats [blowup, consts[FLOATS]] from _NF_MAIN, ints [program[INTS]] from _NI_MAIN. The
# built-in step loops see only the first parts (engine.py): a loop that read the formula's
# few hundred bytes every step would leave XLA's fast native-loop path.
FORMULA_F, FORMULA_I = _NF_MAIN, _NI_MAIN
_NF = _NF_MAIN + 1 + formula.FLOATS
_NI = _NI_MAIN + formula.INTS
_INDEX = {section: list(registry) for section, registry in SECTIONS.items()}
"""The entries' order: a run's choice of each is its index here (for lax.switch)."""


def _float_dtype():
    return jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless x64 is enabled


def _encode(slot: _Slot, value, entry: Entry | None):
    if slot.kind == "bool":
        return [int(bool(value))]
    if slot.kind == "choice":
        return [entry.param(slot.name).choices.index(value)]
    if slot.kind == "int_list":
        return list(value) + [INT32_MAX] * (slot.size - len(value))
    if slot.kind == "float_pair":
        return list(value)
    if value is None:  # a nullable int (CyclicLR.step_size_down)
        return [-1]
    return [value]


_ENTRY_SLOTS: dict = {}
for _s in _SLOTS:
    _ENTRY_SLOTS.setdefault((_s.section, _s.entry), []).append(_s)


def _write(fvec, ivec, section: str, name: str, values: dict) -> None:
    entry = _REGISTRIES[section][name] if section != "run" else None
    for slot in _ENTRY_SLOTS.get((section, name), ()):
        target = fvec if slot.kind in ("float", "float_pair") else ivec
        target[slot.index:slot.index + slot.size] = _encode(slot, values[slot.name], entry)


def _base_vectors(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Packed vectors holding valid values for every entry (most of a run's are unused)."""
    fvec, ivec = np.zeros(_NF, dtype), np.zeros(_NI, np.int32)
    fvec[FORMULA_F] = formula.DEFAULT_BLOWUP  # and an empty program (f = x)
    ctx = RunContext(steps=100, warmup_steps=0, lr=0.1)
    for section, registry in _REGISTRIES.items():
        for entry in registry.values():
            _write(fvec, ivec, section, entry.name,
                   {p.name: p.default_for(ctx) for p in entry.params})
    return fvec, ivec


_BASE: dict = {}


_ENTRIES = ("problem", "optimizer", "schedule")
"""The sections of a run that name an entry of a registry (each packed by its entry)."""


def pack(run: dict, sched_stride: int = 1, sched_offset: int = 0
         ) -> tuple[np.ndarray, np.ndarray]:
    """A resolved config as (float vector, int vector) in the fixed layout (for the
    strides, see :func:`simulate_strided`)."""
    dtype = np.dtype(_float_dtype())
    if dtype not in _BASE:
        _BASE[dtype] = _base_vectors(dtype)
    fvec, ivec = (v.copy() for v in _BASE[dtype])
    for section in _ENTRIES:
        _write_section(fvec, ivec, run, section, dtype)
    if run["warmup"]:
        _write(fvec, ivec, "warmup", "warmup", run["warmup"])
    _write(fvec, ivec, "run", "run", _run_values(run, sched_stride, sched_offset))
    return fvec, ivec


def pack_all(runs: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`pack` of each run, equal to it bit for bit, cheaper for runs alike (a sweep's
    differ in one field): a run whose sections name the same entries as the run before it
    (and that has a warmup where that one has) starts from a copy of that one's vectors,
    and only its sections that differ are written again (each one whole)."""
    dtype = np.dtype(_float_dtype())
    out, prev = [], None
    for run in runs:
        values = _run_values(run, 1, 0)
        if prev is not None and _alike(run, prev[0]):
            fvec, ivec = (v.copy() for v in prev[2])
            for section in _ENTRIES:
                if run[section] != prev[0][section]:
                    _write_section(fvec, ivec, run, section, dtype)
            if run["warmup"] != prev[0]["warmup"]:
                _write(fvec, ivec, "warmup", "warmup", run["warmup"])
            if values != prev[1]:
                _write(fvec, ivec, "run", "run", values)
        else:
            fvec, ivec = pack(run)
        out.append((fvec, ivec))
        prev = (run, values, (fvec, ivec))
    return out


def _alike(run: dict, other: dict) -> bool:
    """Whether ``run`` names the same entries as ``other`` and has a warmup where it has:
    then packing it writes the same slots."""
    return all(run[s]["name"] == other[s]["name"] for s in _ENTRIES) \
        and bool(run["warmup"]) == bool(other["warmup"])


def _write_section(fvec, ivec, run: dict, section: str, dtype) -> None:
    """A run's problem, optimizer or schedule (a typed surface: its program)."""
    if section == "problem" and run["problem"]["name"] == formula.NAME:
        _write_formula(fvec, ivec, run["problem"], dtype)
    else:
        _write(fvec, ivec, section, run[section]["name"], run[section])


def _run_values(run: dict, sched_stride: int, sched_offset: int) -> dict:
    """The values of the run's own slots: start, steps, clipping, warmup length, strides,
    the choices."""
    clip = run.get("clip_grad_norm") or {"max_norm": math.inf, "norm_type": 2.0}
    return {"start": run["start"], "steps": run["steps"], "max_norm": clip["max_norm"],
            "norm_type": math.inf if clip["norm_type"] == INF_NORM else clip["norm_type"],
            "warmup_steps": run["warmup"]["steps"] if run["warmup"] else 0,
            "sched_stride": sched_stride, "sched_offset": sched_offset,
            **{sec: _INDEX[sec].index(run[sec]["name"]) for sec in _INDEX}}


def _write_formula(fvec, ivec, problem: dict, dtype) -> None:
    """A typed surface's program (its ints and constants) and blow-up bound."""
    ints, consts = formula.program_for(problem["f"]).arrays(dtype)
    fvec[FORMULA_F] = problem.get("blowup", formula.DEFAULT_BLOWUP)
    fvec[FORMULA_F + 1:FORMULA_F + 1 + formula.FLOATS] = consts
    ivec[FORMULA_I:FORMULA_I + formula.INTS] = ints


class _View(Mapping):
    """One entry's parameters, each sliced out of the packed vectors when it is read."""

    def __init__(self, slots: dict, fvec, ivec):
        self._slots, self._fvec, self._ivec = slots, fvec, ivec

    def __getitem__(self, name):
        s = self._slots[name]
        vec = self._fvec if s.kind in ("float", "float_pair") else self._ivec
        value = lax.slice_in_dim(vec, s.index, s.index + s.size)  # (lax: cheaper to trace)
        if s.size == 1:
            value = lax.squeeze(value, (0,))
        return lax.ne(value, np.int32(0)) if s.kind == "bool" else value

    def __iter__(self):
        return iter(self._slots)

    def __len__(self):
        return len(self._slots)


_SLOT_NAMES: dict = {section: {name: {} for name in registry}
                     for section, registry in _REGISTRIES.items()}
for _s in _SLOTS:
    _SLOT_NAMES.setdefault(_s.section, {}).setdefault(_s.entry, {})[_s.name] = _s


def _unpack(fvec, ivec) -> dict:
    """The packed vectors as P[section][entry][name]: views that slice a parameter out
    where it is read, so a scope traces (and XLA compiles) only the slices it uses."""
    return {section: {entry: _View(slots, fvec, ivec) for entry, slots in entries.items()}
            for section, entries in _SLOT_NAMES.items()}
