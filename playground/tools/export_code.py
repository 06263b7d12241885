"""What the take-home scripts share: :data:`SURFACE_CODE` (each surface's loss as Python),
the loss function's definition and the header comment."""
from __future__ import annotations

import textwrap

from ..surfaces import SURFACES


SURFACE_CODE = {
    "quadratic_bowl": "(x ** 2 + y ** 2) / 2",
    "elongated_valley": "(x ** 2 + {condition!r} * y ** 2) / 2",
    "rosenbrock": "({a!r} - x) ** 2 + {b!r} * (y - x ** 2) ** 2",
    "noisy_quadratic": "(x ** 2 + y ** 2) / 2",
    "booth": '(x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2',
    "matyas": '0.26 * (x ** 2 + y ** 2) - 0.48 * x * y',
    "beale": '(1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2',
    "saddle": 'x ** 2 - y ** 2 + y ** 4 / 4',
    "monkey_saddle": 'x ** 3 - 3 * x * y ** 2 + 0.75 * (x ** 2 + y ** 2) ** 2',
    "himmelblau": '(x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2',
    "six_hump_camel": '(4 - 2.1 * x ** 2 + x ** 4 / 3) * x ** 2 + x * y + (-4 + 4 * y ** 2) * y ** 2',
    "rastrigin": '2 * {A!r} + x ** 2 - {A!r} * {lib}.cos(2 * 3.141592653589793 * x) + y ** 2 - {A!r} * {lib}.cos(2 * 3.141592653589793 * y)',
    "ackley": '-20 * {lib}.exp(-0.2 * {lib}.sqrt((x ** 2 + y ** 2) / 2)) - {lib}.exp(({lib}.cos(2 * 3.141592653589793 * x) + {lib}.cos(2 * 3.141592653589793 * y)) / 2) + 20 + 2.718281828459045',
    "goldstein_price": '(1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2)) * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2))',
    "styblinski_tang": '(x ** 4 - 16 * x ** 2 + 5 * x + y ** 4 - 16 * y ** 2 + 5 * y) / 2',
}
"""Each surface's loss as a Python expression in x and y, valid for torch tensors and jax
arrays alike, ``{lib}`` standing for the script's array library (``torch`` or ``jnp``) where
a function is needed (tests/test_tools.py checks it against every entry of ``SURFACES``)."""


_FUNCTION_CODE = {"arctan": "atan", "min": "minimum", "max": "maximum"}
"""Function names of the typed-surface notation that the array libraries spell otherwise
(jnp says ``arctan``: see ``formula_code``)."""


def formula_code(text: str, lib: str = "torch") -> str:
    """A typed formula (the ``formula`` surface) as a Python expression in x and y for
    ``lib`` (``torch``, ``jnp`` or ``np``), fully parenthesised from its parsed tree."""
    from ..formula_parse import CONSTANTS, parse

    def code(node) -> str:
        op, args = node.op, node.args
        if op == "num":
            return repr(float(node.value))
        if op in CONSTANTS:
            return repr(CONSTANTS[op])
        if not args:
            return op  # x or y
        if op == "neg":
            return f"(-{code(args[0])})"
        if op == "^":
            return f"({code(args[0])} ** {code(args[1])})"
        if op in ("+", "-", "*", "/"):
            return f"({code(args[0])} {op} {code(args[1])})"
        name = "arctan" if op == "arctan" and lib != "torch" else _FUNCTION_CODE.get(op, op)
        return f"{lib}.{name}({', '.join(code(a) for a in args)})"

    return code(parse(text))


def _loss_def(run: dict, lib: str = "torch") -> str:
    if run["problem"]["name"] == "formula":
        expr = formula_code(run["problem"]["f"], lib)
        return f"def loss_fn(p):\n    x, y = p[0], p[1]\n    return {expr}\n"
    expr = SURFACE_CODE[run["problem"]["name"]].format(lib=lib, **run["problem"])
    return f"def loss_fn(p):\n    x, y = p[0], p[1]\n    return {expr}\n"


def _comment(text: str) -> str:
    return textwrap.fill(text, 88, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False) + "\n"


def _header(run: dict, library: str) -> str:
    surface = SURFACES[run["problem"]["name"]]
    return _comment(f"This Optimization Playground run, with {library}: {run['steps']} steps "
                    f"of {run['optimizer']['name']} on {surface.label.lower()}. Each step as "
                    "in the playground: the lr, the loss and gradient at p_t, the optimizer "
                    "step, the scheduler step.")
