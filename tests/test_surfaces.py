"""The surface catalogue against the literature: every listed minimum where the papers put
it, with the published value and a vanishing gradient; each entry's formula text is the
loss it computes; default starts that a plain Adam run can leave without diverging."""
import math
import re
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

import playground
from playground.surfaces import GROUPS, SURFACES, catalogue

NAMED = {n: s for n, s in SURFACES.items() if n != "formula"}
"""The named surfaces (the typed one, "formula", has no formula of its own until a
config gives it one: tests/test_formula_engine.py covers it)."""

# --- The formula text, read by a tiny evaluator of our own (never Python's eval) ---------

_FUNCS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
          "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
          "arctan": np.arctan, "min": np.minimum, "max": np.maximum}
_CONSTS = {"pi": np.pi, "e": np.e}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                    r"|([A-Za-z_]\w*)|(\S))")


def _tokens(text):
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        num, name, op = m.groups()
        out.append(("num", float(num)) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    return out + [("end", None)]


def formula_value(text: str, env: dict):
    """The typed-surface notation evaluated with NumPy: + - * / ^ (right-associative,
    binding tighter than a unary minus), the allowed functions and constants, and the
    variables in ``env``."""
    toks, i = _tokens(text), 0

    def peek():
        return toks[i]

    def take(kind=None, value=None):
        nonlocal i
        tok = toks[i]
        assert (kind is None or tok[0] == kind) and (value is None or tok[1] == value), tok
        i += 1
        return tok

    def expr():
        v = term()
        while peek() in (("op", "+"), ("op", "-")):
            v = v + term() if take()[1] == "+" else v - term()
        return v

    def term():
        v = unary()
        while peek() in (("op", "*"), ("op", "/")):
            v = v * unary() if take()[1] == "*" else v / unary()
        return v

    def unary():
        if peek() in (("op", "-"), ("op", "+")):
            return -unary() if take()[1] == "-" else unary()
        return power()

    def power():
        v = atom()
        if peek() == ("op", "^"):
            take()
            return v ** unary()
        return v

    def atom():
        kind, value = take()
        if kind == "num":
            return value
        if kind == "op" and value == "(":
            v = expr()
            take("op", ")")
            return v
        assert kind == "name", (kind, value)
        if value in _FUNCS:
            take("op", "(")
            args = [expr()]
            while peek() == ("op", ","):
                take()
                args.append(expr())
            take("op", ")")
            return _FUNCS[value](*args)
        return env[value] if value in env else _CONSTS[value]

    v = expr()
    take("end")
    return v


def defaults(surface) -> dict:
    return {p.name: p.default for p in surface.params}


def test_the_evaluator_reads_the_notation():
    assert formula_value("-x^2 + 2^3^2 - (1 - 2)*3", {"x": 3.0}) == -9 + 512 + 3
    assert formula_value("max(x, 2*pi)/e", {"x": 1.0}) == pytest.approx(2 * np.pi / np.e)


# --- The literature ------------------------------------------------------------------------
# name: (every minimum listed, the value there, how many digits the coordinates have, source)
PUBLISHED = {
    # the three quadratics and Rosenbrock's valley: minima by inspection (a sum of squares)
    "quadratic_bowl": ([(0, 0)], 0.0, 9, "x = y = 0"),
    "elongated_valley": ([(0, 0)], 0.0, 9, "x = y = 0"),
    "rosenbrock": ([(1, 1)], 0.0, 9, "Rosenbrock 1960; (a, a^2) for a = 1"),
    "noisy_quadratic": ([(0, 0)], 0.0, 9, "x = y = 0"),
    # Jamil & Yang 2013, A literature survey of benchmark functions for global optimization
    # problems, Int. J. Math. Modelling & Num. Optimisation 4(2), entry "Booth Function"
    "booth": ([(1, 3)], 0.0, 9, "Jamil & Yang 2013, Booth"),
    # Jamil & Yang 2013, "Matyas Function"
    "matyas": ([(0, 0)], 0.0, 9, "Jamil & Yang 2013, Matyas"),
    # Jamil & Yang 2013, "Beale Function"; Surjanovic & Bingham, Virtual Library of
    # Simulation Experiments (SFU), "Beale Function"
    "beale": ([(3, 0.5)], 0.0, 9, "Jamil & Yang 2013, Beale"),
    # ours (no literature): x^2 - y^2 + y^4/4 has d/dy = -2y + y^3 = 0 at y = +-sqrt(2),
    # where f = -2 + 1 = -1
    "saddle": ([(0, math.sqrt(2)), (0, -math.sqrt(2))], -1.0, 12, "derived"),
    # ours: r^3 cos(3 theta) + 3/4 r^4 is least at cos(3 theta) = -1, r = 1: f = -1/4
    "monkey_saddle": ([(-1, 0), (0.5, math.sqrt(3) / 2), (0.5, -math.sqrt(3) / 2)], -0.25,
                      12, "derived"),
    # Himmelblau 1972, Applied Nonlinear Programming; all four minima as in Jamil & Yang
    # 2013, "Himmelblau Function" (the three irrational ones to 6 decimals)
    "himmelblau": ([(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186),
                    (3.584428, -1.848126)], 0.0, 6, "Himmelblau 1972"),
    # Surjanovic & Bingham (SFU), "Six-Hump Camel Function": the two global minima,
    # f = -1.0316 at (0.0898, -0.7126) and (-0.0898, 0.7126)
    "six_hump_camel": ([(0.0898, -0.7126), (-0.0898, 0.7126)], -1.0316, 4,
                       "Surjanovic & Bingham, Six-Hump Camel"),
    # Rastrigin 1974 (in 2D); Surjanovic & Bingham, "Rastrigin Function": f(0) = 0
    "rastrigin": ([(0, 0)], 0.0, 9, "Surjanovic & Bingham, Rastrigin"),
    # Ackley 1987; Surjanovic & Bingham, "Ackley Function" (a = 20, b = 0.2, c = 2 pi)
    "ackley": ([(0, 0)], 0.0, 9, "Surjanovic & Bingham, Ackley"),
    # Goldstein & Price 1971; Jamil & Yang 2013, "Goldstein Price Function": f(0, -1) = 3
    "goldstein_price": ([(0, -1)], 3.0, 9, "Goldstein & Price 1971"),
    # Styblinski & Tang 1990; Surjanovic & Bingham and Jamil & Yang 2013 give
    # f = -39.16599 d at x_i = -2.903534 (the exact value is -39.166166 d: the published
    # value is good to about 5 digits)
    "styblinski_tang": ([(-2.903534, -2.903534)], -39.16599 * 2, 6,
                        "Styblinski & Tang 1990"),
}


def test_every_surface_has_its_literature_and_a_group():
    assert set(NAMED) == set(PUBLISHED)
    assert len(NAMED) >= 12
    assert {s.group for s in NAMED.values()} == set(GROUPS)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_listed_minima_are_the_published_ones(name):
    surface, (points, f_star, digits, _) = NAMED[name], PUBLISHED[name]
    prm = defaults(surface)
    listed = surface.minima(prm)
    assert len(listed) == len(points)
    for got, want in zip(listed, points):
        np.testing.assert_allclose(got, want, atol=1e-12)
    assert tuple(surface.minimum(prm)) in [tuple(m) for m in listed]  # the page marks one
    value_tol = dict(rel=1e-5, abs=max(0.6 * 10.0 ** -digits, 1e-12))
    value_tol32 = dict(rel=1e-5, abs=max(0.6 * 10.0 ** -digits, 1e-6))
    for m in points:
        # the formula text gives the published value (float64)
        assert formula_value(surface.formula, {"x": m[0], "y": m[1], **prm}) == \
            pytest.approx(f_star, **value_tol)
        # so does the loss the engine runs, in float32
        assert float(surface.loss(jnp.asarray(m, jnp.float32), prm)) == \
            pytest.approx(f_star, **value_tol32)
        # the gradient vanishes there (to the published precision of the point) ...
        g = jax.grad(lambda q: surface.loss(q, prm))(jnp.asarray(m, jnp.float32))
        assert np.all(np.isfinite(g))
        assert float(jnp.linalg.norm(g)) <= max(1e-4, 20 * 10.0 ** -digits)
        # ... and a minimiser started there (on the formula text, float64) stays put:
        # the published point is a minimum to the digits it is given with
        res = minimize(lambda q: formula_value(surface.formula, {"x": q[0], "y": q[1], **prm}),
                       np.asarray(m, float), method="Nelder-Mead",
                       options={"xatol": 1e-9, "fatol": 1e-13, "initial_simplex":
                                np.asarray(m, float) + [[0, 0], [1e-3, 0], [0, 1e-3]]})
        np.testing.assert_allclose(res.x, m, atol=2 * 10.0 ** -digits + 1e-7)
        assert res.fun >= f_star - 1e-4 * max(1.0, abs(f_star))  # nothing lower nearby


@pytest.mark.parametrize("name", list(NAMED))
def test_the_formula_text_is_the_loss(name):
    """At random points of the window, for the default parameters and others."""
    surface = NAMED[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    prms = [defaults(surface)]
    prms += [{p.name: (p.default if p.kind != "float" else
                       float(rng.uniform(p.low if p.low is not None else 0.5,
                                         p.high if p.high is not None
                                         else (p.ui_high or 2 * p.default or 5.0))))
              for p in surface.params} for _ in range(3)] if surface.params else []
    for prm in prms:
        (x0, x1), (y0, y1) = surface.window(prm)
        pts = np.stack([rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20)])
        want = formula_value(surface.formula, {"x": pts[0], "y": pts[1], **prm})
        with jax.enable_x64(True):
            got = np.asarray(surface.loss(jnp.asarray(pts, jnp.float64), prm))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(NAMED))
def test_window_start_and_blowup_fit_together(name):
    """The start is in the window, the map of the window can be drawn in float32 (a grid
    evaluation, as the contour map does), and nothing in it counts as a blow-up."""
    surface = NAMED[name]
    prm = defaults(surface)
    (x0, x1), (y0, y1) = surface.window(prm)
    assert x0 < x1 and y0 < y1
    assert x0 <= surface.start[0] <= x1 and y0 <= surface.start[1] <= y1
    for m in surface.minima(prm):
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
    xs, ys = np.linspace(x0, x1, 201), np.linspace(y0, y1, 201)
    grid = np.stack(np.meshgrid(xs, ys)).astype(np.float32)
    f = np.asarray(surface.loss(grid, prm))
    want = formula_value(surface.formula, {"x": grid[0].astype(float),
                                           "y": grid[1].astype(float), **prm})
    np.testing.assert_allclose(f, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))
    assert np.all(np.isfinite(f)) and f.max() < surface.blowup
    f_start = float(surface.loss(jnp.asarray(surface.start, jnp.float32), prm))
    f_min = min(float(surface.loss(jnp.asarray(m, jnp.float32), prm))
                for m in surface.minima(prm))
    assert math.isfinite(f_start) and f_start < surface.blowup
    assert f_start > f_min + 0.1  # something to see: the start is not at the bottom
    if surface.hessian_max is not None:  # a quadratic: its curvature from the formula
        h, p0 = 1e-2, np.array(surface.start, float)

        def fd(i, j):
            def f_at(dx, dy):
                q = p0 + [dx, dy]
                return formula_value(surface.formula, {"x": q[0], "y": q[1], **prm})
            e = np.eye(2)[i] * h, np.eye(2)[j] * h
            return (f_at(*(e[0] + e[1])) - f_at(*(e[0] - e[1])) - f_at(*(e[1] - e[0]))
                    + f_at(*(-e[0] - e[1]))) / (4 * h * h)

        hess = np.array([[fd(i, j) for j in range(2)] for i in range(2)])
        assert surface.hessian_max(prm) == pytest.approx(np.linalg.eigvalsh(hess).max(),
                                                         rel=1e-6)


def _config(name, start=None, steps=300, lr=0.05, schedule=None):
    surface = NAMED[name]
    config = {"problem": {"name": name}, "steps": steps,
              "optimizer": {"name": "adam", "lr": lr}}
    if start is not None:
        config["start"] = list(start)
    if schedule:
        config["schedule"] = {"name": schedule}
    if surface.noisy:
        config["problem"]["noise_std"] = 0.0
    return config


def test_adam_from_every_default_start_runs_and_goes_down():
    names = list(NAMED)
    results = playground.simulate_batch([_config(n) for n in names])
    for name, r in zip(names, results):
        assert r["diverged_at"] is None, name
        assert np.all(np.isfinite(r["loss"])), name
        assert r["loss"][-1] < r["loss"][0], name
        np.testing.assert_allclose(r["path"][0], NAMED[name].start, rtol=1e-6)


# the surfaces with several minima, all of them listed: runs from all over the window find
# each one, and nothing else
ALL_LISTED = ["saddle", "monkey_saddle", "himmelblau"]


@pytest.mark.parametrize("name", ALL_LISTED)
def test_runs_from_all_over_the_window_end_at_the_listed_minima(name):
    surface = NAMED[name]
    prm = defaults(surface)
    (x0, x1), (y0, y1) = surface.window(prm)
    starts = [(x0 + (x1 - x0) * (i + 0.5) / 6, y0 + (y1 - y0) * (j + 0.5) / 6 + 1e-3)
              for i in range(6) for j in range(6)]
    results = playground.simulate_batch(
        [_config(name, s, steps=3000, lr=0.02, schedule="CosineAnnealingLR") for s in starts])
    minima = np.array(surface.minima(prm))
    found = set()
    for start, r in zip(starts, results):
        end = r["path"][-1]
        dist = np.linalg.norm(minima - end, axis=1)
        assert dist.min() < 2e-2, (start, end)
        found.add(int(dist.argmin()))
    assert found == set(range(len(minima)))


def test_the_global_minima_are_the_lowest_points_of_the_window():
    """Many-minima surfaces list only their global minima: no point of a fine grid over
    the window is lower (to the published precision)."""
    for name, surface in NAMED.items():
        prm = defaults(surface)
        (x0, x1), (y0, y1) = surface.window(prm)
        xs, ys = np.linspace(x0, x1, 601), np.linspace(y0, y1, 601)
        x, y = np.meshgrid(xs, ys)
        f = formula_value(surface.formula, {"x": x, "y": y, **prm})
        f_star = PUBLISHED[name][1]
        assert f.min() >= f_star - 1e-4 * max(1.0, abs(f_star)), name


def test_ackley_run_from_its_minimum_stays_there():
    """Ackley's minimum is the tip of a cone: its gradient there is 0 (a subgradient), not
    NaN, so a run started exactly on it is a run, not a divergence."""
    g = jax.grad(lambda q: NAMED["ackley"].loss(q, defaults(NAMED["ackley"])))(
        jnp.zeros(2))
    np.testing.assert_array_equal(g, [0.0, 0.0])
    r = playground.simulate(_config("ackley", (0.0, 0.0), steps=20))
    assert r["diverged_at"] is None
    np.testing.assert_allclose(r["path"][-1], [0.0, 0.0], atol=1e-6)


def test_the_catalogue_lists_every_minimum():
    entries = {e["name"]: e for e in catalogue()}
    assert [n for n in entries if n != "formula"] == list(NAMED)
    for name, (points, *_rest) in PUBLISHED.items():
        np.testing.assert_allclose(entries[name]["minima"], np.array(points, float),
                                   atol=1e-12)


def test_default_starts_show_what_the_summaries_promise():
    """A long Adam run from the default start: on Himmelblau and the six-hump camel it
    finds a global minimum; on the surfaces chosen to show a trap it settles (the gradient
    vanishes) in a local minimum above the global one, e.g. Goldstein-Price's local minimum
    30 at (-0.6, -0.4) (Goldstein & Price 1971)."""
    names = ["himmelblau", "six_hump_camel", "rastrigin", "ackley", "goldstein_price",
             "styblinski_tang", "saddle", "monkey_saddle"]
    results = playground.simulate_batch(
        [_config(n, steps=5000, lr=0.02, schedule="CosineAnnealingLR") for n in names])
    ends = dict(zip(names, results))
    for name in ("himmelblau", "six_hump_camel", "saddle", "monkey_saddle"):
        minima = np.array(NAMED[name].minima(defaults(NAMED[name])))
        assert np.linalg.norm(minima - ends[name]["path"][-1], axis=1).min() < 1e-2, name
    for name in ("rastrigin", "ackley", "styblinski_tang"):
        r, f_star = ends[name], PUBLISHED[name][1]
        assert r["grad_norm"][-1] < 1e-2, name
        assert r["loss"][-1] > f_star + 1.0, name
    # Goldstein-Price's valley is too steep for the run to settle to the digit: it ends in it
    assert 30.0 <= ends["goldstein_price"]["loss"][-1] < 31.0
    np.testing.assert_allclose(ends["goldstein_price"]["path"][-1], [-0.6, -0.4], atol=3e-2)
