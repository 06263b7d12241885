"""The loss surfaces. Adding a surface means adding one entry to ``SURFACES``.

Each entry carries its loss as a pure ``jnp`` function of the point ``p`` (shape (2,), or
(2, ...) for a grid: every function here is elementwise in ``p[0]`` and ``p[1]``) and its
parameters (a dict of traced scalars), plus what the page needs to draw it: the formula
as text, a plotting window, a default start, the known minima and a blow-up bound.
The literature behind each entry, and why its start is where it is: docs/surfaces.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp

from . import formula as _formula
from .params import Entry, Param
from .rounding import alone

GROUPS = ("bowls and valleys", "saddles", "many minima")
"""The families the surface picker groups the entries by, in order."""
FORMULA_GROUP = "formula"
"""The group of the typed surface (the last entry, "formula"): not one of ``GROUPS``; the
picker lists it on its own, after them."""


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
    """prm -> (x*, y*): where the true loss is smallest (the page marks it); default: the
    first of ``minima``."""
    minima: Callable = None
    """prm -> [(x*, y*), ...]: every known minimum (all of them where there are few, else
    the global ones); default: [minimum]."""
    start: tuple = (0.0, 0.0)
    """Default start point."""
    blowup: float = 1e6
    """A run whose loss exceeds this (or is not finite) has diverged."""
    hessian_max: Callable | None = None
    """prm -> largest Hessian eigenvalue, where it is constant (SGD is stable below 2/that)."""
    group: str = "bowls and valleys"
    """Which of ``GROUPS`` the picker lists it under."""
    value_and_grad: Callable | None = None
    """(p, prm) -> (loss, gradient) in torch autograd's order of operations, where
    ``jax.value_and_grad`` of ``loss`` rounds differently (the engine uses it when set)."""

    def __post_init__(self):
        if self.minimum is None and self.minima is not None:
            object.__setattr__(self, "minimum", lambda prm: self.minima(prm)[0])
        if self.minima is None and self.minimum is not None:
            object.__setattr__(self, "minima", lambda prm: [self.minimum(prm)])
        if self.group not in GROUPS + (FORMULA_GROUP,):
            raise ValueError(f"{self.name}: group {self.group!r} is not one of {GROUPS}")


# --- The losses (elementwise in x = p[0], y = p[1]) ------------------------------------

def quadratic_bowl(p, prm):
    """f(x, y) = (x^2 + y^2) / 2."""
    return (p[0] ** 2 + p[1] ** 2) / 2


def elongated_valley(p, prm):
    """f(x, y) = (x^2 + condition * y^2) / 2."""
    return (p[0] ** 2 + prm["condition"] * p[1] ** 2) / 2


def rosenbrock(p, prm):
    """f(x, y) = (a - x)^2 + b (y - x^2)^2."""
    return (prm["a"] - p[0]) ** 2 + prm["b"] * (p[1] - p[0] ** 2) ** 2


def rosenbrock_torch(p, prm):
    """Rosenbrock's loss and gradient rounded as torch's autograd computes them for
    ``(a - x)**2 + b * (y - x**2)**2``: each square and product rounded on its own (XLA
    would fuse them into the differences and sums that use them), and the backward pass of
    each operation: pow's ``grad * (2 * base)``, mul's ``grad * b``, sub's and rsub's
    negations, the two contributions to x's gradient added last. ``jax.grad`` of
    :func:`rosenbrock` gives the same gradient to a few ulps, not bit for bit, and a run on
    Rosenbrock then parts from torch's within a few hundred steps."""
    x, y, a, b = p[0], p[1], prm["a"], prm["b"]
    t = a - x
    d = y - alone(x * x)
    loss = alone(t * t) + alone(b * alone(d * d))
    grad_d = alone(b * (2 * d))           # (d**2)' * b: grad * (2 * d), grad = 1 * b
    grad_x = alone(-grad_d * (2 * x)) + -(2 * t)  # via x**2, then via a - x
    return loss, jnp.stack([grad_x, grad_d])


def booth(p, prm):
    x, y = p[0], p[1]
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def matyas(p, prm):
    x, y = p[0], p[1]
    return 0.26 * (x ** 2 + y ** 2) - 0.48 * x * y


def beale(p, prm):
    x, y = p[0], p[1]
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def saddle(p, prm):
    """x^2 - y^2, walled in y by y^4/4 so that runs stay finite."""
    x, y = p[0], p[1]
    return x ** 2 - y ** 2 + y ** 4 / 4


def monkey_saddle(p, prm):
    """x^3 - 3xy^2 (r^3 cos 3theta), walled by 3/4 r^4: three valleys meet at a flat saddle."""
    x, y = p[0], p[1]
    return x ** 3 - 3 * x * y ** 2 + 0.75 * (x ** 2 + y ** 2) ** 2


def himmelblau(p, prm):
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def six_hump_camel(p, prm):
    x, y = p[0], p[1]
    return (4 - 2.1 * x ** 2 + x ** 4 / 3) * x ** 2 + x * y + (-4 + 4 * y ** 2) * y ** 2


def rastrigin(p, prm):
    x, y, a = p[0], p[1], prm["A"]
    return (2 * a + x ** 2 - a * jnp.cos(2 * jnp.pi * x)
            + y ** 2 - a * jnp.cos(2 * jnp.pi * y))


def _sqrt0(s):
    """sqrt(s) for s >= 0 whose gradient at s = 0 is 0, not NaN: Ackley's cone tip is its
    minimum, and a run that lands on it exactly must not turn NaN (0 is a subgradient)."""
    pos = s > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, s, 1.0)), 0.0)


def ackley(p, prm):
    """The standard a = 20, b = 0.2, c = 2 pi, fixed (why: at its entry in ``SURFACES``)."""
    x, y = p[0], p[1]
    return (-20 * jnp.exp(-0.2 * _sqrt0((x ** 2 + y ** 2) / 2))
            - jnp.exp((jnp.cos(2 * jnp.pi * x) + jnp.cos(2 * jnp.pi * y)) / 2) + 20 + jnp.e)


def goldstein_price(p, prm):
    x, y = p[0], p[1]
    return ((1 + (x + y + 1) ** 2
             * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2))
            * (30 + (2 * x - 3 * y) ** 2
               * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2)))


def styblinski_tang(p, prm):
    x, y = p[0], p[1]
    return (x ** 4 - 16 * x ** 2 + 5 * x + y ** 4 - 16 * y ** 2 + 5 * y) / 2


# --- The registry --------------------------------------------------------------------------

_ORIGIN = lambda prm: (0.0, 0.0)  # noqa: E731


def _box(x0, x1, y0=None, y1=None):
    """A window that does not depend on the parameters."""
    y0, y1 = (x0, x1) if y0 is None else (y0, y1)
    return lambda prm: ((x0, x1), (y0, y1))


def _const(*points):
    return lambda prm: list(points)


_ST = -2.903534  # Styblinski-Tang's minimiser in each coordinate (published to 7 digits)

SURFACES: dict[str, Surface] = {s.name: s for s in [
    # -- bowls and valleys
    Surface(
        name="quadratic_bowl", label="Quadratic bowl",
        formula="(x^2 + y^2) / 2",
        summary="A round bowl: every direction has curvature 1.",
        loss=quadratic_bowl, window=_box(-3.0, 3.0),
        minimum=_ORIGIN, start=(-2.5, 2.0), blowup=1e6, hessian_max=lambda prm: 1.0),
    Surface(
        name="elongated_valley", label="Elongated valley",
        formula="(x^2 + condition*y^2) / 2",
        summary="An ill-conditioned bowl: steep across, shallow along the valley.",
        params=(Param("condition", "float", 25.0, "Condition number",
                      "Curvature across the valley divided by curvature along it.",
                      low=0.0, low_open=True, log=True, ui_high=1000.0),),
        loss=elongated_valley, window=_box(-3.0, 3.0, -1.5, 1.5),
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
        loss=rosenbrock, value_and_grad=rosenbrock_torch,
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
        loss=quadratic_bowl, noisy=True, window=_box(-3.0, 3.0),
        minimum=_ORIGIN, start=(-2.5, 2.0), blowup=1e6, hessian_max=lambda prm: 1.0),
    Surface(
        name="booth", label="Booth",
        formula="(x + 2*y - 7)^2 + (2*x + y - 5)^2",
        summary="A tilted bowl with curvatures 18 and 2: a gentle ill-conditioned quadratic.",
        loss=booth, window=_box(-10.0, 10.0),
        minimum=lambda prm: (1.0, 3.0), start=(-6.0, 8.0), blowup=1e6,
        hessian_max=lambda prm: 18.0),
    Surface(
        name="matyas", label="Matyas",
        formula="0.26*(x^2 + y^2) - 0.48*x*y",
        summary="A bowl whose valley runs along the diagonal at curvature 0.04: nearly flat.",
        loss=matyas, window=_box(-10.0, 10.0),
        minimum=_ORIGIN, start=(-8.0, -6.0), blowup=1e6, hessian_max=lambda prm: 1.0),
    Surface(
        name="beale", label="Beale",
        formula="(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
        summary="Steep walls around a long, almost flat valley that bends towards (3, 0.5).",
        loss=beale, window=_box(-4.5, 4.5),
        minimum=lambda prm: (3.0, 0.5), start=(-1.0, -1.5), blowup=1e8),
    # -- saddles
    Surface(
        name="saddle", label="Saddle",
        formula="x^2 - y^2 + y^4/4", group="saddles",
        summary="A saddle at the origin (x^2 - y^2), walled in y by y^4/4: a start just off "
                "the ridge shows how long it takes to roll off.",
        loss=saddle, window=_box(-2.5, 2.5),
        minima=_const((0.0, 2.0 ** 0.5), (0.0, -(2.0 ** 0.5))), start=(-2.0, 0.01),
        blowup=1e6),
    Surface(
        name="monkey_saddle", label="Monkey saddle",
        formula="x^3 - 3*x*y^2 + 0.75*(x^2 + y^2)^2", group="saddles",
        summary="Three valleys meet at a saddle with no curvature at all (x^3 - 3xy^2, "
                "walled by 3/4 r^4): from a start on the ridge, plain SGD stalls at the "
                "origin, where the gradient fades to nothing.",
        loss=monkey_saddle, window=_box(-1.5, 1.5),
        minima=_const((-1.0, 0.0), (0.5, 0.75 ** 0.5), (0.5, -(0.75 ** 0.5))),
        start=(0.9, 0.001), blowup=1e6),
    # -- many minima
    Surface(
        name="himmelblau", label="Himmelblau",
        formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2", group="many minima",
        summary="Four equal minima around one hump: which one a run finds depends on the "
                "start and the step.",
        loss=himmelblau, window=_box(-5.0, 5.0),
        minima=_const((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                      (3.584428, -1.848126)),
        start=(-0.3, -0.9), blowup=1e6),
    Surface(
        name="six_hump_camel", label="Six-hump camel",
        formula="(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2", group="many minima",
        summary="Six valleys, two of them global (mirror images); a run from the middle "
                "falls into one.",
        loss=six_hump_camel, window=_box(-3.0, 3.0, -2.0, 2.0),
        minima=_const((0.0898, -0.7126), (-0.0898, 0.7126)), start=(0.5, 0.2),
        blowup=1e6),
    Surface(
        name="rastrigin", label="Rastrigin",
        formula="2*A + x^2 - A*cos(2*pi*x) + y^2 - A*cos(2*pi*y)", group="many minima",
        summary="A bowl covered in a grid of ripples: each ripple is a local minimum that "
                "traps a small step; the global one is at the origin.",
        params=(Param("A", "float", 10.0, "A", "Height of the ripples (0: a plain bowl).",
                      low=0.0, ui_high=20.0),),
        loss=rastrigin, window=_box(-5.12, 5.12),
        minimum=_ORIGIN, start=(-3.3, 2.7), blowup=1e6),
    Surface(
        name="ackley", label="Ackley",
        formula="-20*exp(-0.2*sqrt((x^2 + y^2)/2)) - exp((cos(2*pi*x) + cos(2*pi*y))/2)"
                " + 20 + e",
        group="many minima",
        summary="A nearly flat plain of ripples around one deep funnel at the origin.",
        # No parameters (a, b would be natural): the engine hands a surface that reads one
        # the whole packed float vector inside every step, and a second such surface (with
        # Rastrigin's A) pushes the optimizer loops past the size XLA's CPU backend
        # compiles into one native function: every run several times slower.
        loss=ackley, window=_box(-5.0, 5.0),
        minimum=_ORIGIN, start=(-3.5, 3.1), blowup=1e6),
    Surface(
        name="goldstein_price", label="Goldstein-Price",
        formula="(1 + (x + y + 1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2))"
                "*(30 + (2*x - 3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))",
        group="many minima",
        summary="Losses from 3 to a million in one window and narrow valleys with local "
                "minima: from its start a run settles at 30, not at the global 3 at (0, -1).",
        loss=goldstein_price, window=_box(-2.0, 2.0),
        minimum=lambda prm: (0.0, -1.0), start=(-1.0, 1.2), blowup=1e7),
    Surface(
        name="styblinski_tang", label="Styblinski-Tang",
        formula="(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y) / 2", group="many minima",
        summary="Four valleys of different depth; the deepest at (-2.90, -2.90), the "
                "shallowest where a run from the upper right ends.",
        loss=styblinski_tang, window=_box(-5.0, 5.0),
        minimum=lambda prm: (_ST, _ST), start=(0.3, 0.5), blowup=1e6),
    Surface(
        name="formula", label="Your formula", group=FORMULA_GROUP,
        summary="Type your own surface f(x, y) and watch the optimizers on it.",
        loss=lambda p, prm: _formula_loss(p, prm), window=lambda prm: _formula_window(prm),
        minima=lambda prm: _formula_minima(prm), start=(-1.5, 1.5),
        minimum=lambda prm: (_formula_minima(prm) or [_centre(prm)])[0],
        blowup=_formula.DEFAULT_BLOWUP),
]}
"""The last entry, "formula", is the typed surface: its fields are not ``Param``s (config.py
checks them with ``formula.check``), the engine reads its program from the packed vectors
(layout.py), and its start depends on the window (:func:`formula_start`)."""


def _formula_arrays(prm):
    """The program arrays of a formula surface's parameters: the engine's packed views
    (``program``, ``consts``) or a problem section (``f``: NumPy arrays, for the map)."""
    if "f" in prm:
        program = _formula.program_for(prm["f"])
        return program.ints, program.consts
    return prm["program"], prm["consts"]


def _formula_loss(p, prm):
    return _formula.loss(_formula_arrays(prm), p)


def _formula_window(prm):
    x0, x1, y0, y1 = prm.get("window", _formula.DEFAULT_WINDOW)
    return (x0, x1), (y0, y1)


def _formula_minima(prm):
    """The lowest point of f on a grid over its window (not a proven minimum: the page says
    so), or [] if f is nowhere finite there or no formula is given."""
    if "f" not in prm:
        return []
    low = _formula.lowest_point(_formula.program_for(prm["f"]),
                                prm.get("window", _formula.DEFAULT_WINDOW))
    return [] if low is None else [(low[0], low[1])]


def _centre(prm):
    (x0, x1), (y0, y1) = _formula_window(prm)
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def formula_start(window=_formula.DEFAULT_WINDOW) -> list[float]:
    """The default start of a typed surface: a quarter of the way in from the window's
    top-left corner (for the default window [-3, 3, -3, 3]: (-1.5, 1.5))."""
    x0, x1, y0, y1 = (float(v) for v in window)
    return [x0 + (x1 - x0) / 4, y1 - (y1 - y0) / 4]


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
                    "minima": [[float(v) for v in m] for m in s.minima(prm)]})
    return out
