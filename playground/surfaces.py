"""The loss surfaces. Adding a surface means adding one entry to ``SURFACES``.

Each entry carries its loss as a pure ``jnp`` function of the point ``p`` (shape (2,)) and
its parameters (a dict of traced scalars), plus what the page needs to draw it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .params import Entry, Param


@dataclass(frozen=True)
class Surface(Entry):
    loss: Callable = None
    """f(p, prm) -> scalar: the true loss."""
    formula: str = ""
    """The loss as text, in the typed-surface notation (``^`` for powers)."""
    noisy: bool = False
    """If true, the optimizer sees f(p - c_t) with c_t ~ N(0, noise_std^2 I) (a minibatch)."""
    window: Callable = None
    """prm -> ((x_min, x_max), (y_min, y_max)): a sensible plotting window."""
    minimum: Callable = None
    """prm -> (x*, y*): where the true loss is smallest."""
    start: tuple = (0.0, 0.0)
    """Default start point."""
    blowup: float = 1e6
    """A run whose loss exceeds this (or is not finite) has diverged."""
    hessian_max: Callable | None = None
    """prm -> largest Hessian eigenvalue, where it is constant (SGD is stable below 2/that)."""


def quadratic_bowl(p, prm):
    """f(x, y) = (x^2 + y^2) / 2."""
    return (p[0] ** 2 + p[1] ** 2) / 2


def elongated_valley(p, prm):
    """f(x, y) = (x^2 + condition * y^2) / 2."""
    return (p[0] ** 2 + prm["condition"] * p[1] ** 2) / 2


def rosenbrock(p, prm):
    """f(x, y) = (a - x)^2 + b (y - x^2)^2."""
    return (prm["a"] - p[0]) ** 2 + prm["b"] * (p[1] - p[0] ** 2) ** 2


_ORIGIN = lambda prm: (0.0, 0.0)  # noqa: E731

SURFACES: dict[str, Surface] = {s.name: s for s in [
    Surface(
        name="quadratic_bowl", label="Quadratic bowl",
        formula="(x^2 + y^2) / 2",
        summary="A round bowl: every direction has curvature 1.",
        loss=quadratic_bowl, window=lambda prm: ((-3.0, 3.0), (-3.0, 3.0)),
        minimum=_ORIGIN, start=(-2.5, 2.0), blowup=1e6, hessian_max=lambda prm: 1.0),
    Surface(
        name="elongated_valley", label="Elongated valley",
        formula="(x^2 + condition*y^2) / 2",
        summary="An ill-conditioned bowl: steep across, shallow along the valley.",
        params=(Param("condition", "float", 25.0, "Condition number",
                      "Curvature across the valley divided by curvature along it.",
                      low=0.0, low_open=True, log=True, ui_high=1000.0),),
        loss=elongated_valley, window=lambda prm: ((-3.0, 3.0), (-1.5, 1.5)),
        minimum=_ORIGIN, start=(-2.5, 1.0), blowup=1e6,
        hessian_max=lambda prm: max(1.0, prm["condition"])),
    Surface(
        name="rosenbrock", label="Rosenbrock",
        formula="(a - x)^2 + b*(y - x^2)^2",
        summary="A curved, flat-bottomed banana valley; the classic hard case.",
        params=(Param("a", "float", 1.0, "a", "The minimum sits at (a, a^2).",
                      low=-10.0, high=10.0),
                Param("b", "float", 100.0, "b", "Steepness of the valley walls.",
                      low=0.0, ui_high=1000.0)),
        loss=rosenbrock,
        window=lambda prm: ((prm["a"] - 3.0, prm["a"] + 1.0),
                            (min(-1.0, prm["a"] ** 2 - 2.0), prm["a"] ** 2 + 2.0)),
        minimum=lambda prm: (prm["a"], prm["a"] ** 2), start=(-1.5, 2.0), blowup=1e8),
    Surface(
        name="noisy_quadratic", label="Noisy quadratic",
        formula="(x^2 + y^2) / 2",
        summary="The bowl seen through minibatches: each step sees a randomly shifted bowl.",
        params=(Param("noise_std", "float", 0.5, "Noise std", "Standard deviation of the "
                      "per-step shift c_t ~ N(0, noise_std^2 I).", low=0.0, ui_high=3.0),
                Param("seed", "int", 0, "Seed", "Same seed, same run.", low=0)),
        loss=quadratic_bowl, noisy=True, window=lambda prm: ((-3.0, 3.0), (-3.0, 3.0)),
        minimum=_ORIGIN, start=(-2.5, 2.0), blowup=1e6, hessian_max=lambda prm: 1.0),
]}



def catalogue() -> list[dict]:
    """Every surface as plain data (``playground surfaces --json``): name, label, summary,
    formula, parameters with their defaults, the plotting window, the default start and
    the known minima, the last three for the default parameters. ``noisy`` surfaces show
    the optimizer a minibatch view of the formula (the true loss)."""
    out = []
    for s in SURFACES.values():
        prm = {p.name: p.default for p in s.params}
        (x0, x1), (y0, y1) = s.window(prm)
        out.append({"name": s.name, "label": s.label, "summary": s.summary,
                    "formula": s.formula, "noisy": s.noisy,
                    "params": [{"name": p.name, "default": p.default, "label": p.label,
                                "help": p.help} for p in s.params],
                    "window": [float(v) for v in (x0, x1, y0, y1)],
                    "start": [float(v) for v in s.start],
                    "minima": [[float(v) for v in s.minimum(prm)]]})
    return out
