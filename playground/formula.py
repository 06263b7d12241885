"""Typed surfaces (docs/run-format.md §9.1): a surface f(x, y) the student types.

``{"problem": {"name": "formula", "f": "(1 - x)^2 + 100*(y - x^2)^2"}}``

- :func:`parse` (text -> an allow-listed tree) and :func:`to_text` (the tree's canonical
  text) live in ``formula_parse``; the text is never evaluated as Python.
- :func:`compile_program` (tree -> fixed-size arrays) and :func:`evaluate` /
  :func:`value_and_grad` (the arrays, interpreted in JAX) live in ``formula_eval``: a new
  formula is new data for the one compiled engine, never a new compile.
- :func:`loss` is f for a ``Surface`` entry (JAX when traced, NumPy on a concrete grid);
  :func:`values` evaluates a program on many points in NumPy, without a compile.
- :func:`check` validates a whole ``problem`` section; :func:`lowest_point` finds where
  the surface is lowest on a grid of its window (a cheap stand-in for a known minimum).
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .formula_eval import (FLOATS, INTS, OPS, Program, compile_program, constant_value,
                           describe, evaluate, value_and_grad)
from .formula_parse import (FIELD, MAX_CHARS, MAX_DEPTH, MAX_NODES, Node, parse, to_text)
from .params import FLOAT32_MAX, ConfigError, Param, short_repr

__all__ = ["FLOATS", "INTS", "MAX_CHARS", "MAX_DEPTH", "MAX_NODES", "OPS", "Node",
           "Program", "check", "compile_program", "constant_value", "describe", "evaluate",
           "loss", "lowest_point", "parse", "program_for", "to_text", "value_and_grad", "values"]

NAME = "formula"
DEFAULT_WINDOW = (-3.0, 3.0, -3.0, 3.0)
DEFAULT_BLOWUP = 1e8
BLOWUP = Param("blowup", "float", DEFAULT_BLOWUP, "Blow-up bound",
               "A run whose loss exceeds this (or is not finite) has diverged.",
               low=0.0, low_open=True)
_FIELDS = ("name", "f", "window", "blowup")


def program_for(text: str) -> Program:
    """``compile_program(parse(text))``: the program of a formula, or a ConfigError.
    Cached (a page redraws the same formula many times); programs are read-only."""
    if not isinstance(text, str):
        raise ConfigError(FIELD, f"must be a formula in x and y, as text (got "
                                 f"{short_repr(text)})")
    return _program(text)


@functools.lru_cache(maxsize=512)
def _program(text: str) -> Program:
    return compile_program(parse(text))


def _window(value) -> list[float]:
    path = "problem.window"
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ConfigError(path, "must be [xmin, xmax, ymin, ymax], four numbers "
                                f"(got {short_repr(value)})")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or abs(v) > FLOAT32_MAX \
                or (isinstance(v, float) and not math.isfinite(v)):
            raise ConfigError(f"{path}[{i}]", f"must be a finite number (got {short_repr(v)})")
        out.append(float(v))
    for lo, hi, axis in ((0, 1, "x"), (2, 3, "y")):
        if not out[lo] < out[hi]:
            raise ConfigError(path, f"the {axis} range must have min < max "
                                    f"(got {out[lo]:g} and {out[hi]:g})")
    return out


def check(problem: dict) -> dict:
    """The ``problem`` section of a formula run, validated, with its defaults filled:
    ``{"name": "formula", "f": text, "window": [xmin, xmax, ymin, ymax], "blowup": b}``.
    The text is kept as typed (``to_text(parse(f))`` is its canonical form). Raises
    ConfigError naming the field (``problem.f``, ``problem.window``, ...)."""
    if not isinstance(problem, dict):
        raise ConfigError("problem", f"must be an object (got {short_repr(problem)})")
    for key in problem:
        if key not in _FIELDS:
            raise ConfigError(f"problem.{key}", f"unknown field for {NAME!r} (allowed: "
                                                "blowup, f, window)")
    if problem.get("name", NAME) != NAME:
        raise ConfigError("problem.name", f"must be {NAME!r} (got "
                                          f"{short_repr(problem.get('name'))})")
    if "f" not in problem:
        raise ConfigError(FIELD, "required: the formula in x and y, e.g. "
                                 "\"(1 - x)^2 + 100*(y - x^2)^2\"")
    text = problem["f"]
    if not isinstance(text, str):
        raise ConfigError(FIELD, f"must be a formula in x and y, as text (got "
                                 f"{short_repr(text)})")
    program_for(text)  # refuses what does not parse or has a non-finite constant part
    window = _window(problem.get("window", list(DEFAULT_WINDOW)))
    blowup = BLOWUP.check(problem.get("blowup", DEFAULT_BLOWUP), "problem.blowup")
    return {"name": NAME, "f": text, "window": window, "blowup": blowup}


_NP = {"neg": np.negative, "+": np.add, "-": np.subtract, "*": np.multiply,
       "/": np.divide, "pow": np.power, "min": np.minimum, "max": np.maximum,
       "arctan": np.arctan, **{name: getattr(np, name) for name in (
           "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh")}}


def values(program, xs, ys) -> np.ndarray:
    """f at many points at once, in NumPy float64 (values only; for maps and searches,
    without a JAX compile). ``program``: a Program or its ``(ints, floats)`` arrays."""
    ints, consts = (program.ints, program.consts) if isinstance(program, Program) else program
    ints, consts = np.asarray(ints), np.asarray(consts, np.float64)
    xs, ys = np.broadcast_arrays(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    regs = {0: xs, 1: ys}
    with np.errstate(all="ignore"):
        for i in range(int(ints[0])):
            w = int(ints[2 + i])
            op, a, b, d = OPS[w & 31], (w >> 5) & 31, (w >> 10) & 31, (w >> 15) & 31
            c = float(consts[i])
            if op == "const":
                regs[d] = np.full_like(regs[0], c)
            elif op == "powc":
                regs[d] = np.power(regs[a], c)
            elif op == "cpow":
                regs[d] = np.power(c, regs[a])
            elif op in ("+", "-", "*", "/", "pow", "min", "max"):
                regs[d] = _NP[op](regs[a], regs[b])
            else:
                regs[d] = _NP[op](regs[a])
    return np.array(np.broadcast_to(regs[int(ints[1])], xs.shape))


def loss(program, p):
    """f(p) as a surface's ``loss``: ``p`` of shape (2,) or (2, ...) (a grid). Traced (in
    the engine): the JAX interpreter, differentiable. Concrete NumPy input (the page's
    contour map): ``values``, in NumPy, without compiling anything."""
    if isinstance(p, (np.ndarray, list, tuple)) and all(
            isinstance(a, np.ndarray) for a in program):
        p = np.asarray(p, np.float64)
        return values(program, p[0], p[1])
    p = jnp.asarray(p)
    if p.ndim == 1:
        return evaluate(program, p)
    flat = p.reshape(2, -1)
    return jax.vmap(lambda q: evaluate(program, q), in_axes=1)(flat).reshape(p.shape[1:])


def lowest_point(program: Program, window=DEFAULT_WINDOW, n: int = 101):
    """(x, y, f) at the lowest finite value of f on an n x n grid over the window, or
    None if f is nowhere finite there. An approximation, to the grid's spacing, of the
    global minimum inside the window; not a proof that there is one."""
    x0, x1, y0, y1 = window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    v = values(program, gx.ravel(), gy.ravel())
    v = np.where(np.isfinite(v), v, np.inf)
    k = int(np.argmin(v))
    if not np.isfinite(v[k]):
        return None
    return float(gx.ravel()[k]), float(gy.ravel()[k]), float(v[k])
