"""Typed surfaces, part 2: a formula's tree as a fixed-size program, and its interpreter.

The engine is one compiled program, so a formula reaches it as data: ``compile_program``
turns the tree into at most ``N`` instructions held in fixed-size arrays (an int vector
and a float vector, the shapes of every formula alike), and ``evaluate`` interprets them
in JAX. A new formula changes the arrays' values, never their shapes: nothing compiles.

The machine: ``R`` registers, each holding a value and its gradient (d/dx, d/dy);
registers 0 and 1 hold x and y. An instruction reads one or two registers (and its
constant) and writes one; a register is reused once its value is read for the last time,
so the state stays a few hundred bytes whatever the formula's length. Constant parts are
folded into one constant; a repeated subexpression is computed once.

Gradients: f has two inputs, so forward mode is the cheap direction: each instruction
applies the chain rule with the local derivatives ``torch.autograd`` uses (d|a| = sgn(a);
at a tie, min and max give each operand half; d(a^c) = 0 for the constant c = 0). To give
the same NaNs and infinities as PyTorch's reverse mode, each gradient component also
carries whether it is *live*. A component no path from x (or y) reaches is an exact zero
that no infinite factor turns into NaN (x^y at x < 0 has a finite d/dx, as in PyTorch),
and where PyTorch masks a gradient (the loser of min/max, the base of a^0) the operand
passes 0 times its gradient: an exact zero, or NaN if that gradient is not finite.
``evaluate`` wraps this in a ``jax.custom_jvp``, so ``jax.grad`` of it returns exactly
this gradient; nothing is differentiated in reverse through the interpreter, so an
operation that is not the instruction's cannot poison it.

The loop is a ``lax.fori_loop`` over the formula's own length, and each instruction's
operation is picked by a ``lax.switch``: only that operation runs, and XLA's CPU backend
counts the cost of one branch, which keeps the loop (and the engine's step loop around it)
under the size it compiles into one native function (measured: a 10,000-step descent on
Rosenbrock ~2 ms; a select over every operation instead took ~25 ms, an SSA register file
of N registers ~80 ms).

Powers: ``a^c`` with a constant exponent differentiates only in ``a`` (as ``x ** 2.0``
does in PyTorch), so ``(-2)^2`` has the finite gradient -4; ``c^b`` with a constant base
only in ``b``; ``a^b`` in both (its d/db, a^b log a, is NaN for a < 0, as in PyTorch).
XLA's pow is exact for integer exponents of negative numbers, so no multiply chain is
needed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .formula_parse import (BINARY, CONSTANTS, FIELD, MAX_NODES, UNARY, Node,
                            to_text)
from .params import FLOAT32_MAX, ConfigError

N = MAX_NODES
"""Instructions a program has room for (a tree of MAX_NODES nodes always fits)."""
R = 12
"""Registers: x, y and 10 for intermediate values (a formula needing more is refused).
Each costs 20 bytes per instruction step, which counts towards the ~1 kB under which XLA's
CPU backend runs the engine's step loop as one native function."""
INTS = 2 + N
"""Length of a program's int vector: [count, result register, instruction[N]], where an
instruction is op | a << 5 | b << 10 | dest << 15 | uses_a << 20 | uses_b << 21 (op
code, operand and result registers, which operands it reads)."""
FLOATS = N
"""Length of a program's float vector: the instructions' constants."""

OPS = ("const", "neg", "+", "-", "*", "/", "pow", "powc", "cpow", *UNARY, *BINARY)
"""Op codes are indices here. 'powc': a^c (c constant); 'cpow': c^a; 'pow': a^b."""
CODE = {name: i for i, name in enumerate(OPS)}
_TWO_OPERANDS = np.array([op in ("+", "-", "*", "/", "pow", *BINARY) for op in OPS])

_PY = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
       "log": math.log, "sqrt": math.sqrt, "abs": abs, "tanh": math.tanh,
       "sinh": math.sinh, "cosh": math.cosh, "arctan": math.atan, "neg": lambda a: -a,
       "min": min, "max": max, "+": lambda a, b: a + b, "-": lambda a, b: a - b,
       "*": lambda a, b: a * b, "/": lambda a, b: a / b, "^": lambda a, b: a ** b}


@dataclass(frozen=True)
class Program:
    """A compiled formula: ``ints`` (int32[INTS]) and ``consts`` (float64[FLOATS])."""

    ints: np.ndarray
    consts: np.ndarray

    @property
    def length(self) -> int:
        return int(self.ints[0])

    def arrays(self, dtype=None) -> tuple[np.ndarray, np.ndarray]:
        """(ints, floats) for ``evaluate``; floats in ``dtype`` (JAX's default float)."""
        dtype = dtype or jax.dtypes.canonicalize_dtype(np.float64)
        return self.ints, self.consts.astype(dtype)


def constant_value(node: Node, memo: dict | None = None) -> float | None:
    """The value of a subtree without x and y (in float64), else None. A constant part
    that is not a finite float32 number is refused: it would make the whole surface
    infinite or undefined."""
    memo = {} if memo is None else memo
    if node in memo:
        return memo[node]
    if node.op == "num":
        value = node.value
    elif node.op in CONSTANTS:
        value = CONSTANTS[node.op]
    elif node.op in ("x", "y"):
        value = None
    else:
        args = [constant_value(a, memo) for a in node.args]
        value = None
        if all(a is not None for a in args):
            try:
                value = float(_PY[node.op](*args))
                bad = isinstance(value, complex) or not abs(value) <= FLOAT32_MAX
            except (ArithmeticError, ValueError, TypeError):
                bad = True
            if bad:
                raise ConfigError(FIELD, f"{to_text(node)[:60]} at column {node.col} is not "
                                         "a finite number")
    memo[node] = value
    return value


def _schedule(tree: Node, known: dict) -> list[Node]:
    """The nodes to compute, each once, operands before their users (the deeper operand
    first, which keeps few values alive at a time)."""
    order, seen, depth = [], set(), {}

    def height(node):  # constants last: computed just before their use, they hold a
        if node not in depth:  # register for the shortest time
            depth[node] = 0 if constant_value(node, known) is not None else \
                1 + max((height(a) for a in node.args), default=0)
        return depth[node]

    def visit(node):
        if node in seen or node.op in ("x", "y"):
            return
        seen.add(node)
        if constant_value(node, known) is None:
            operands = node.args
            if node.op == "^":  # a constant base or exponent is not computed: folded in
                operands = [a for a in node.args if constant_value(a, known) is None]
            for a in sorted(operands, key=height, reverse=True):
                visit(a)
        order.append(node)

    visit(tree)
    return order


def compile_program(tree: Node) -> Program:
    """The tree as a program of at most N instructions (see the module's docstring)."""
    known: dict = {}
    order = _schedule(tree, known)
    uses: dict = {}  # node -> index of the last instruction reading it
    operands: dict = {}
    for i, node in enumerate(order):
        ops = node.args
        if node.op == "^":
            ops = [a for a in node.args if constant_value(a, known) is None]
        if constant_value(node, known) is not None:
            ops = []
        operands[node] = list(ops)
        for a in ops:
            uses[a] = i
    words = np.zeros(N, np.int32)
    consts = np.zeros(N, np.float64)
    where = {Node("x"): 0, Node("y"): 1}
    free = list(range(R - 1, 1, -1))  # registers 2 .. R-1; pop() takes the lowest
    for i, node in enumerate(order):
        c = constant_value(node, known)
        if node.op == "/" and constant_value(node.args[1], known) == 0:
            raise ConfigError(FIELD, f"division by zero at column {node.col}")
        regs = [where[a] for a in operands[node]]
        for a in set(operands[node]):  # operands read for the last time free their register
            if uses[a] == i and a.op not in ("x", "y") and a is not tree:
                free.append(where[a])
        free.sort(reverse=True)
        if not free:
            raise ConfigError(FIELD, f"too complex: needs more than {R - 2} intermediate "
                                     "values at once; simplify the formula")
        dest = free.pop()
        where[node] = dest
        if c is not None:
            op = "const"
        elif node.op == "^":
            base, expo = node.args
            ce, cb = constant_value(expo, known), constant_value(base, known)
            op, c = ("powc", ce) if ce is not None else (("cpow", cb) if cb is not None
                                                           else ("pow", 0.0))
        else:
            op = node.op
        a, b = (regs + regs + [0, 0])[:2]  # one operand: b = a
        used = len(operands[node])  # 0: a constant; 1: a only; 2: a and b
        words[i] = CODE[op] | a << 5 | b << 10 | dest << 15 | (used >= 1) << 20 | \
            (used == 2) << 21
        consts[i] = c or 0.0
    out = where[tree]
    ints = np.concatenate([[len(order), out], words]).astype(np.int32)
    ints.setflags(write=False)
    consts.setflags(write=False)
    return Program(ints, consts)


def _pow(base, expo, pw):
    """d(base^expo)/dbase and d/dexpo as torch.autograd takes them (d/dexpo is 0 where
    base = 0 and expo >= 0)."""
    zero = jnp.zeros((), pw.dtype)
    d_base = expo * jnp.power(base, expo - 1)
    d_expo = jnp.where((base == 0) & (expo >= 0), zero, pw * jnp.log(base))
    return d_base, d_expo


def _sign(a):
    """torch.sgn: -1, 0 or 1, and 0 for NaN."""
    return jnp.where(a > 0, 1, jnp.where(a < 0, -1, 0)).astype(a.dtype)


def _unary(f, df):
    return lambda a, b, c: (lambda v: (v, df(a, v), jnp.zeros_like(a)))(f(a))


def _branches():
    """op: (a, b, c) -> (value, d/da, d/db), the local derivatives of torch.autograd."""
    one, z = jnp.ones_like, jnp.zeros_like
    half_or_one = lambda a, b: jnp.where(a == b, 0.5, 1.0).astype(a.dtype)  # noqa: E731
    return {
        "const": lambda a, b, c: (c, z(a), z(a)),
        "neg": lambda a, b, c: (-a, -one(a), z(a)),
        "+": lambda a, b, c: (a + b, one(a), one(a)),
        "-": lambda a, b, c: (a - b, one(a), -one(a)),
        "*": lambda a, b, c: (a * b, b, a),
        "/": lambda a, b, c: (lambda q: (q, 1 / b, -q / b))(a / b),
        "pow": lambda a, b, c: (lambda v: (v, *_pow(a, b, v)))(jnp.power(a, b)),
        "powc": lambda a, b, c: (lambda v: (v, _pow(a, c, v)[0], z(a)))(jnp.power(a, c)),
        "cpow": lambda a, b, c: (lambda v: (v, _pow(c, a, v)[1], z(a)))(jnp.power(c, a)),
        "sin": _unary(jnp.sin, lambda a, v: jnp.cos(a)),
        "cos": _unary(jnp.cos, lambda a, v: -jnp.sin(a)),
        "tan": _unary(jnp.tan, lambda a, v: 1 + v * v),
        "exp": _unary(jnp.exp, lambda a, v: v),
        "log": _unary(jnp.log, lambda a, v: 1 / a),
        "sqrt": _unary(jnp.sqrt, lambda a, v: 1 / (2 * v)),
        "abs": _unary(jnp.abs, lambda a, v: _sign(a)),
        "tanh": _unary(jnp.tanh, lambda a, v: 1 - v * v),
        "sinh": _unary(jnp.sinh, lambda a, v: jnp.cosh(a)),
        "cosh": _unary(jnp.cosh, lambda a, v: jnp.sinh(a)),
        "arctan": _unary(jnp.arctan, lambda a, v: 1 / (a * a + 1)),
        "min": lambda a, b, c: (jnp.minimum(a, b), half_or_one(a, b), half_or_one(a, b)),
        "max": lambda a, b, c: (jnp.maximum(a, b), half_or_one(a, b), half_or_one(a, b)),
    }


def _lanes(op, a, b, c):
    """The instruction's operation on (a, b, c) by a ``lax.switch``: only that operation
    runs (and XLA counts the cost of one branch)."""
    branches = _branches()
    return lax.switch(op, [branches[name] for name in OPS], a, b, c)


def _masked(op, a, b, c):
    """Whether operand a's, and b's, gradient is masked: the loser of min or max, the base
    of a power whose exponent is 0 (torch's masked_fill or where around the gradient)."""
    is_min, is_max = op == CODE["min"], op == CODE["max"]
    mask_a = (is_max & (a < b)) | (is_min & (a > b)) | (op == CODE["pow"]) & (b == 0) | \
        (op == CODE["powc"]) & (c == 0)
    return mask_a, (is_max & (b < a)) | (is_min & (b > a))


def _share(d, grad, live, used, masked):
    """One operand's share of an instruction's gradient (per component x, y) and whether
    it is live. A component that is not live is an exact zero that nothing turns into NaN:
    no path from x (or y) reaches it, or masks cut every path. A masked operand passes
    0 * its gradient: zero, or NaN if that gradient is not finite (as torch does)."""
    live = live & used
    finite = jnp.isfinite(grad)
    share = jnp.where(masked, jnp.where(finite, jnp.zeros_like(grad), grad * 0), d * grad)
    alive = live & (~masked | ~finite)
    return jnp.where(alive, share, 0), alive


def value_and_grad(program, p):
    """f(p) and its gradient (2,) for a program given as ``(ints, floats)`` arrays (traced
    or not); ``p`` is a point of shape (2,)."""
    ints, consts = program
    p = jnp.asarray(p)
    dtype = p.dtype
    one, zero = jnp.ones((), dtype), jnp.zeros((), dtype)
    # a register: value, d/dx, d/dy, and whether d/dx and d/dy are live (1) or exact
    # zeros (0); liveness kept as floats in the same array (a separate boolean array
    # costs the loop several hundred bytes a step)
    regs = jnp.zeros((R, 5), dtype)
    regs = regs.at[0].set(jnp.stack([p[0], one, zero, one, zero]))
    regs = regs.at[1].set(jnp.stack([p[1], zero, one, zero, one]))

    def step(i, regs):
        # the program is read here, a word at a time (not sliced up front): the loop then
        # reads and writes few bytes per step, and XLA's CPU backend runs it natively
        w = ints[i + 2]
        op, a, b, d = w & 31, (w >> 5) & 31, (w >> 10) & 31, (w >> 15) & 31
        ra, rb, c = regs[a], regs[b], consts[i].astype(dtype)
        v, da, db = _lanes(op, ra[0], rb[0], c)
        mask_a, mask_b = _masked(op, ra[0], rb[0], c)
        ga, la = _share(da, ra[1:3], ra[3:] != 0, (w >> 20) & 1 == 1, mask_a)
        gb, lb = _share(db, rb[1:3], rb[3:] != 0, (w >> 21) & 1 == 1, mask_b)
        row = jnp.concatenate([v[None], ga + gb, (la | lb).astype(dtype)])
        return lax.dynamic_update_index_in_dim(regs, row, d, 0)

    regs = lax.fori_loop(0, ints[0], step, regs)
    r = regs[ints[1]]
    return r[0], r[1:3]


def evaluate(program, p):
    """f(p) for a program given as ``(ints, floats)``; pure ``jnp``, jit-able with the
    program as traced arrays, and differentiable in ``p`` (``jax.grad`` gives the exact
    gradient of ``value_and_grad``)."""

    @jax.custom_jvp
    def f(q):
        return value_and_grad(program, q)[0]

    @f.defjvp
    def f_jvp(primals, tangents):
        (q,), (dq,) = primals, tangents
        v, g = value_and_grad(program, q)
        return v, jnp.dot(g, dq)

    return f(jnp.asarray(p))


def describe(program: Program) -> list[str]:
    """The program as text, one instruction a line (for debugging and the docs)."""
    out = []
    for i in range(program.length):
        w = int(program.ints[2 + i])
        op, a, b, d = OPS[w & 31], (w >> 5) & 31, (w >> 10) & 31, (w >> 15) & 31
        c = float(program.consts[i])
        args = {"const": repr(c), "powc": f"r{a} ^ {c!r}", "cpow": f"{c!r} ^ r{a}"}.get(op) \
            or (f"r{a}, r{b}" if _TWO_OPERANDS[CODE[op]] else f"r{a}")
        out.append(f"r{d} = {op} {args}")
    return out + [f"result r{int(program.ints[1])}"]
