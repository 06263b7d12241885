"""Typed surfaces (docs/run-format.md §9.1): the formula a student types, as a user meets it.

The reference for values and gradients is PyTorch's autograd in float64, on the same
formulas written as PyTorch code by hand (or, for random trees, translated node by node).
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jax import lax, monitoring

from playground import formula as F
from playground.formula import Node
from playground.formula_parse import UNARY
from playground.params import ConfigError

T = torch.float64

# (text as typed, the same function written in PyTorch, points to check it at)
GRID = [(-1.5, 2.0), (0.3, -0.7), (1.2, 1.1), (-2.2, -0.4), (2.5, -2.9)]
FORMULAS = [
    ("(1 - x)^2 + 100*(y - x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2),
    ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
     lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2),
    ("(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
     lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
     + (2.625 - x + x * y ** 3) ** 2),
    ("20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
     lambda x, y: 20 + x ** 2 - 10 * torch.cos(2 * math.pi * x) + y ** 2
     - 10 * torch.cos(2 * math.pi * y)),
    ("-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
     lambda x, y: -20 * torch.exp(-0.2 * torch.sqrt(0.5 * (x ** 2 + y ** 2)))
     - torch.exp(0.5 * (torch.cos(2 * math.pi * x) + torch.cos(2 * math.pi * y)))
     + math.e + 20),
    ("abs(x) + 2*abs(y - 0.1)", lambda x, y: torch.abs(x) + 2 * torch.abs(y - 0.1)),
    ("max(x, y)^2 + min(x, -y)", lambda x, y: torch.maximum(x, y) ** 2 + torch.minimum(x, -y)),
    ("tanh(x*y) + log(1 + x^2 + y^2) - atan(y/(1 + x^2))",
     lambda x, y: torch.tanh(x * y) + torch.log(1 + x ** 2 + y ** 2)
     - torch.atan(y / (1 + x ** 2))),
    ("sinh(x/3)*cosh(y/4) + tan(0.3*x) - sqrt(x^2 + 1)/(y^2 + 2)",
     lambda x, y: torch.sinh(x / 3) * torch.cosh(y / 4) + torch.tan(0.3 * x)
     - torch.sqrt(x ** 2 + 1) / (y ** 2 + 2)),
    ("2^x + x**3 - -y^2 + (x^2 + 2)^(y/3) + exp(x)^0.5",
     lambda x, y: 2 ** x + x ** 3 - -y ** 2 + (x ** 2 + 2) ** (y / 3) + torch.exp(x) ** 0.5),
    ("(2*x^2 - 1.05*x^4 + x^6/6 + x*y + y^2)/10",
     lambda x, y: (2 * x ** 2 - 1.05 * x ** 4 + x ** 6 / 6 + x * y + y ** 2) / 10),
]


def torch_value_and_grad(fn, x, y):
    p = torch.tensor([x, y], dtype=T, requires_grad=True)
    v = fn(p[0], p[1])
    (g,) = torch.autograd.grad(v, p)
    return v.item(), g.numpy()


_VG = jax.jit(jax.value_and_grad(F.evaluate, argnums=1))
"""One jitted function for every formula: the program is an argument (traced data)."""


def ours(text, x, y):
    prog = F.program_for(text)
    dtype = jax.dtypes.canonicalize_dtype(np.float64)
    v, g = _VG(prog.arrays(), jnp.asarray([x, y], dtype))
    return float(v), np.asarray(g, np.float64)


@pytest.mark.parametrize("text,fn", FORMULAS, ids=[f[0][:30] for f in FORMULAS])
def test_value_and_gradient_match_torch_autograd(text, fn):
    for x, y in GRID:
        v_ref, g_ref = torch_value_and_grad(fn, x, y)
        assert F.values(F.program_for(text), [x], [y])[0] == pytest.approx(v_ref, rel=1e-13)
        v, g = ours(text, x, y)  # float32 (JAX's default)
        assert v == pytest.approx(v_ref, rel=2e-6, abs=1e-5), (x, y)
        np.testing.assert_allclose(g, g_ref, rtol=2e-5, atol=2e-5 * (1 + np.abs(g_ref).max()))
        with jax.enable_x64(True):
            v, g = ours(text, x, y)
        assert v == pytest.approx(v_ref, rel=1e-13, abs=1e-13), (x, y)
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text,fn,point", [
    ("abs(x) + abs(y)", lambda x, y: torch.abs(x) + torch.abs(y), (0.0, -1.0)),
    ("max(x, y)", lambda x, y: torch.maximum(x, y), (0.5, 0.5)),
    ("min(x, y) + 3*max(x, 1)", lambda x, y: torch.minimum(x, y) + 3 * torch.maximum(x, 1 + 0 * x),
     (1.0, 1.0)),
    ("x^2 + y^3", lambda x, y: x ** 2 + y ** 3, (-2.0, -3.0)),
    ("(x - y)^4 - x^-2", lambda x, y: (x - y) ** 4 - x ** -2, (-1.5, 0.5)),
    ("x^0 + y", lambda x, y: x ** 0 + y, (0.0, 1.0)),
    ("0^x + x^y", lambda x, y: 0 ** x + x ** y, (0.0, 2.0)),
    ("log(x) + y", lambda x, y: torch.log(x) + y, (-1.0, 1.0)),  # nan, as in torch
    ("sqrt(x^2 + y^2)", lambda x, y: torch.sqrt(x ** 2 + y ** 2), (0.0, 0.0)),  # nan grad
    ("x^y", lambda x, y: x ** y, (-2.0, 2.0)),  # d/dy = 4 log(-2) = nan, as in torch
    # a gradient cut off by min/max or by a zero exponent stays 0 after an infinite factor
    ("log(max(0, y)) + x", lambda x, y: torch.log(torch.clamp(y, min=0)) + x, (1.0, -2.0)),
    ("log(x*y^0)", lambda x, y: torch.log(x * y ** 0), (0.0, 0.0)),
    ("log(max(sqrt(x), y))", lambda x, y: torch.log(torch.maximum(torch.sqrt(x), y)),
     (0.0, -1.0)),
    # ... but 0 times an infinite gradient is NaN, as in torch
    ("sqrt(x)^0 + y", lambda x, y: torch.sqrt(x) ** 0 + y, (0.0, 1.0)),
    ("log(abs(x)) + log(0^y)", lambda x, y: torch.log(torch.abs(x)) + torch.log(0.0 ** y),
     (0.0, 2.0)),
])
def test_kinks_ties_and_edges_follow_torch(text, fn, point):
    """Where a derivative is a convention (abs at 0, a tie of min/max) or undefined, the
    gradient is PyTorch's: the same numbers, the same NaNs."""
    v_ref, g_ref = torch_value_and_grad(fn, *point)
    v, g = ours(text, *point)
    np.testing.assert_allclose(v, v_ref, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(g, g_ref, rtol=1e-6, equal_nan=True)


def test_integer_powers_of_negative_numbers_have_exact_gradients():
    v, g = ours("x^2 + y^3", -2.0, -3.0)
    assert v == 4 - 27 and list(g) == [-4.0, 27.0]


def test_jax_grad_is_the_interpreters_gradient_under_jit_and_vmap():
    prog = F.program_for("sin(x)*y^2 + max(x, y)")
    pts = jnp.asarray(GRID, jnp.float32)
    grads = jax.jit(jax.vmap(jax.grad(F.evaluate, argnums=1), in_axes=(None, 0)))(
        prog.arrays(), pts)
    for (x, y), g in zip(GRID, np.asarray(grads)):
        _, g_ref = torch_value_and_grad(
            lambda x, y: torch.sin(x) * y ** 2 + torch.maximum(x, y), x, y)
        np.testing.assert_allclose(g, g_ref, rtol=2e-5, atol=1e-5)


def test_loss_on_a_grid_matches_pointwise_values_in_numpy_and_in_jax():
    prog = F.program_for("(1 - x)^2 + 100*(y - x^2)^2")
    gx, gy = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5))
    grid = np.stack([gx, gy])
    expected = (1 - gx) ** 2 + 100 * (gy - gx ** 2) ** 2
    np.testing.assert_allclose(F.loss(prog.arrays(np.float64), grid), expected, rtol=1e-14)
    traced = jax.jit(F.loss)(prog.arrays(), jnp.asarray(grid, jnp.float32))
    assert traced.shape == (5, 7)
    np.testing.assert_allclose(traced, expected, rtol=1e-5)


# --- the program is data: one compile for every formula ----------------------------------

_COMPILES = {"n": 0}


def _on_duration(event, duration, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES["n"] += 1


monitoring.register_event_duration_secs_listener(_on_duration)


def test_a_new_formula_compiles_nothing():
    def descend(program, p0):  # 50 steps of gradient descent, as the engine runs a surface
        def body(t, p):
            return p - 1e-3 * jax.grad(F.evaluate, argnums=1)(program, p)
        return lax.fori_loop(0, 50, body, p0)

    run = jax.jit(descend)
    p0 = jnp.asarray([-1.5, 2.0], jnp.float32)
    first = run(F.program_for("(1 - x)^2 + 100*(y - x^2)^2").arrays(), p0)
    before = _COMPILES["n"]
    others = [run(F.program_for(t).arrays(), p0) for t, _ in FORMULAS[1:]]
    assert _COMPILES["n"] == before and run._cache_size() == 1
    assert np.isfinite(np.asarray(first)).all() and len(others) == len(FORMULAS) - 1


def test_programs_have_one_shape():
    shapes = {tuple(a.shape for a in F.program_for(t).arrays()) for t, _ in FORMULAS}
    assert shapes == {((F.INTS,), (F.FLOATS,))}


# --- refusals --------------------------------------------------------------------------

@pytest.mark.parametrize("text,says", [
    ("__import__('os').system('x')", "unknown name '__import__' at column 1"),
    ("x.real", "unexpected character '.' at column 2"),
    ("x.__class__", "unexpected character '.' at column 2"),
    ("__builtins__", "unknown name '__builtins__' at column 1"),
    ("lambda: x", "unknown name 'lambda' at column 1"),
    ("[1]", "unexpected character '[' at column 1"),
    ("x + 'a'", "unexpected character \"'\" at column 5"),
    ('"x"', "unexpected character '\"' at column 1"),
    ("x; y", "unexpected character ';' at column 2"),
    ("x y", "expected an operator (+ - * / ^) or the end at column 3, found 'y'"),
    ("2x", "at column 2, found 'x'"),
    ("foo(x)", "unknown name 'foo' at column 1"),
    ("exp", "expected '(' after 'exp' at column 4"),
    ("x(2)", "at column 2"),
    ("sin(x, y)", "sin takes 1 argument (got 2)"),
    ("min(x)", "min takes 2 arguments"),
    ("max(x, y, 1)", "max takes 2 arguments (got 3)"),
    ("x + * y", "expected a number, a name or '(' at column 5, found '*'"),
    ("(x + y", "expected ')' at column 7 (to close the '(' at column 1), found the end"),
    ("x + y)", "a ')' without its '('"),
    ("1e999", "number too large at column 1"),
    ("1e39 * x", "number too large at column 1"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("x" * 10_000, "too long (10000 characters; at most 500)"),
    ("(" * 500 + "x" + ")" * 500, "too long (1001 characters; at most 500)"),
    ("(" * 40 + "x" + ")" * 40, "too deeply nested"),
    ("-" * 40 + "x", "too deeply nested"),
    ("x" + "^x" * 40, "too deeply nested"),
    ("x" + "+x" * 100, "too many terms: more than 96"),
    ("log(0) + x", "log(0) at column 1 is not a finite number"),
    ("x + exp(1000)", "exp(1000) at column 5 is not a finite number"),
    ("x * (-1)^0.5", "is not a finite number"),
    ("x/(2 - 2)", "division by zero at column 2"),
    ("x ^^ 2", "expected a number, a name or '(' at column 4, found '^'"),
    ("x é", "unexpected character 'é' at column 3"),
])
def test_hostile_or_broken_formulas_are_refused_saying_what_and_where(text, says):
    with pytest.raises(ConfigError) as err:
        F.check({"name": "formula", "f": text})
    assert err.value.field == "problem.f"
    assert says in err.value.message


def test_a_formula_too_complex_for_the_registers_is_refused():
    # eleven shared values, all still needed when the last is computed
    s = [f"x^{k}" for k in range(2, 13)]
    text = f"({' + '.join(s)}) * {'*'.join(s)}"
    with pytest.raises(ConfigError, match="too complex"):
        F.check({"f": text})


@pytest.mark.parametrize("problem,field,says", [
    ({"f": 3}, "problem.f", "as text"),
    ({"f": None}, "problem.f", "as text"),
    ({}, "problem.f", "required"),
    ({"f": "x", "g": "y"}, "problem.g", "unknown field for 'formula'"),
    ({"f": "x", "window": [1, 2, 3]}, "problem.window", "four numbers"),
    ({"f": "x", "window": [1, 0, 0, 1]}, "problem.window", "min < max"),
    ({"f": "x", "window": [0, 1, 0, float("nan")]}, "problem.window[3]", "finite"),
    ({"f": "x", "window": [0, 1, 0, "1"]}, "problem.window[3]", "finite"),
    ({"f": "x", "window": [0, 10 ** 400, 0, 1]}, "problem.window[1]", "finite"),
    ({"f": "x", "blowup": 0}, "problem.blowup", "> 0"),
    ({"f": "x", "blowup": True}, "problem.blowup", "number"),
    ({"name": "rosenbrock", "f": "x"}, "problem.name", "'formula'"),
])
def test_check_refuses_bad_fields(problem, field, says):
    with pytest.raises(ConfigError) as err:
        F.check(problem)
    assert err.value.field == field and says in err.value.message


def test_check_fills_defaults_and_keeps_the_text_as_typed():
    assert F.check({"name": "formula", "f": "x**2 + atan(y)"}) == {
        "name": "formula", "f": "x**2 + atan(y)", "window": [-3.0, 3.0, -3.0, 3.0],
        "blowup": 1e8}
    assert F.check({"f": "x", "window": [0, 1, -2, 2.5], "blowup": 10})["window"] == [
        0.0, 1.0, -2.0, 2.5]


# --- the grammar -------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("-x^2", "-(x^2)"), ("x^y^2", "x^(y^2)"), ("x**y**2", "x^(y^2)"), ("x - y - 1", "(x - y) - 1"),
    ("x/y/2", "(x/y)/2"), ("2^-x", "2^(-x)"), ("-x*y", "(-x)*y"), ("+x", "x"),
    ("atan(x)", "arctan(x)"), ("1e-3*x", "0.001*x"), (".5*x", "0.5*x"), ("x*-y", "x*(-y)"),
])
def test_precedence_is_that_of_maths(a, b):
    assert F.parse(a) == F.parse(b)


def test_precedence_by_value():
    # -x^2 is -(x^2); 2^3^2 is 2^9; 8/4/2 is 1
    assert ours("-x^2", 3.0, 0.0)[0] == -9.0
    assert ours("2^3^2 + 0*x", 0.0, 0.0)[0] == 512.0
    assert ours("8/4/2 + 0*y", 0.0, 0.0)[0] == 1.0


_leaf = st.one_of(
    st.sampled_from([Node("x"), Node("y"), Node("pi"), Node("e")]),
    st.floats(0, 1e30, allow_nan=False).map(lambda v: Node("num", value=v)),
    st.integers(0, 12).map(lambda v: Node("num", value=float(v))))


def _grow(children):
    unary = st.sampled_from(["neg", *UNARY]).flatmap(
        lambda op: children.map(lambda a: Node(op, (a,))))
    binary = st.sampled_from(["+", "-", "*", "/", "^", "min", "max"]).flatmap(
        lambda op: st.tuples(children, children).map(lambda ab: Node(op, ab)))
    return unary | binary


TREES = st.recursive(_leaf, _grow, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_printing_then_parsing_gives_the_same_tree(tree):
    text = F.to_text(tree)
    assert F.parse(text) == tree
    assert F.to_text(F.parse(text)) == text


_TOKENS = ["x", "y", "pi", "e", "2", "0.5", "1e-3", "+", "-", "*", "/", "^", "**", "(", ")",
           ",", " ", "sin", "min", "atan", "foo", ".", "'", "1e999"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join))
def test_any_text_parses_or_is_refused_with_a_config_error(text):
    try:
        tree = F.parse(text)
    except ConfigError as err:
        assert err.field == "problem.f" and err.message
        return
    assert F.parse(F.to_text(tree)) == tree


# random smooth formulas: the gradient against torch and against central differences
def _smooth(children):
    unary = st.sampled_from(["neg", "sin", "cos", "tanh", "arctan", "exp"]).flatmap(
        lambda op: children.map(lambda a: Node(op, (a,))))
    binary = st.sampled_from(["+", "-", "*"]).flatmap(
        lambda op: st.tuples(children, children).map(lambda ab: Node(op, ab)))
    power = st.tuples(children, st.integers(2, 4)).map(
        lambda an: Node("^", (an[0], Node("num", value=float(an[1])))))
    return unary | binary | power


SMOOTH = st.recursive(st.one_of(st.sampled_from([Node("x"), Node("y"), Node("pi")]),
                                st.integers(1, 5).map(lambda v: Node("num", value=float(v)))),
                      _smooth, max_leaves=8)


def _torch(tree, x, y):
    """The tree in PyTorch, node by node (the reference for random formulas)."""
    op, args = tree.op, [_torch(a, x, y) for a in tree.args]
    leaves = {"x": x, "y": y, "pi": torch.tensor(math.pi, dtype=T),
              "e": torch.tensor(math.e, dtype=T)}
    if op in leaves:
        return leaves[op]
    if op == "num":
        return torch.tensor(tree.value, dtype=T)
    binary = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "^": torch.pow,
              "min": torch.minimum, "max": torch.maximum}
    if op in binary:
        return binary[op](*args)
    return {"neg": torch.neg, "arctan": torch.atan}.get(op, getattr(torch, op, None))(*args)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMOOTH, st.floats(-2, 2), st.floats(-2, 2))
def test_random_smooth_formulas_match_torch_and_central_differences(tree, x, y):
    text = F.to_text(tree)
    try:
        F.program_for(text)
    except ConfigError:  # a constant part too large for float32, e.g. exp(exp(5))
        assume(False)
    with jax.enable_x64(True):
        v, g = ours(text, x, y)
        assume(np.isfinite(v) and abs(v) < 1e6 and np.isfinite(g).all())
        h = 1e-5
        fd = [(ours(text, x + h, y)[0] - ours(text, x - h, y)[0]) / (2 * h),
              (ours(text, x, y + h)[0] - ours(text, x, y - h)[0]) / (2 * h)]
    p = torch.tensor([x, y], dtype=T, requires_grad=True)
    ref = _torch(tree, p[0], p[1])
    g_ref = torch.autograd.grad(ref, p, allow_unused=True)[0] if ref.requires_grad else None
    g_ref = np.zeros(2) if g_ref is None else g_ref.numpy()
    assert v == pytest.approx(ref.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10)
    scale = 1 + abs(v) + np.abs(g).max()
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * scale)


# --- the lowest point on the map ----------------------------------------------------------

def test_lowest_point_finds_the_known_minima():
    # Rosenbrock's minimum is (1, 1); Booth's is (1, 3); both have f = 0
    x, y, v = F.lowest_point(F.program_for("(1 - x)^2 + 100*(y - x^2)^2"), (-2, 2, -1, 3))
    assert abs(x - 1) <= 0.05 and abs(y - 1) <= 0.1 and v < 0.01
    x, y, v = F.lowest_point(F.program_for("(x + 2*y - 7)^2 + (2*x + y - 5)^2"), (-5, 5, -5, 5))
    assert (x, y) == pytest.approx((1, 3), abs=0.06) and v < 0.02
    assert F.lowest_point(F.program_for("log(-1 - x^2) + y"), (-1, 1, -1, 1)) is None
