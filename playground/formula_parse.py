"""Typed surfaces, part 1: the formula a student types, parsed into an allow-listed tree.

The language (docs/run-format.md §9.1), as a grammar:

    expr  := term (('+' | '-') term)*            left-associative
    term  := unary (('*' | '/') unary)*          left-associative
    unary := ('-' | '+') unary | power           so -x^2 is -(x^2), as in maths
    power := atom (('^' | '**') unary)?          right-associative: x^y^z is x^(y^z)
    atom  := NUMBER | 'x' | 'y' | 'pi' | 'e' | '(' expr ')'
           | FUNCTION '(' expr ')' | ('min' | 'max') '(' expr ',' expr ')'

The text is never evaluated as Python: a tokenizer that knows only numbers, ASCII names,
the operators above, commas and parentheses feeds a small recursive-descent parser, which
builds a tree of :class:`Node` from the allow-list alone. (A hand-written parser rather
than a parser generator: no dependency, and every refusal can say exactly what is wrong
and at which column, and stop at a depth limit long before Python's recursion limit.)

Bounds: at most ``MAX_CHARS`` characters, ``MAX_DEPTH`` levels of nesting (parentheses,
function calls, signs and exponents) and ``MAX_NODES`` nodes (numbers, names and
operations), which is also what the compiled program has room for.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .params import FLOAT32_MAX, ConfigError

FIELD = "problem.f"
MAX_CHARS = 500
MAX_DEPTH = 32
MAX_NODES = 96

UNARY = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "arctan")
BINARY = ("min", "max")
ALIASES = {"atan": "arctan"}
VARIABLES = ("x", "y")
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = ("+", "-", "*", "/", "^")
"""The binary operators; a tree's other ops are 'num', the variables, the constants,
'neg' and the function names."""

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}
_ATOM = 5


@dataclass(frozen=True)
class Node:
    """One node of a formula: ``op`` is 'num' (with ``value`` >= 0), 'x', 'y', 'pi', 'e',
    'neg', one of ``OPERATORS`` or a function name; ``args`` its operands. ``col`` (the
    1-based column it was typed at) is for messages only: two trees are equal when their
    ops, values and operands are."""

    op: str
    args: tuple = ()
    value: float = 0.0
    col: int = field(default=0, compare=False)

    def __hash__(self):  # cached: compiling looks nodes up in dicts (shared subexpressions)
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.op, self.args, self.value))
            object.__setattr__(self, "_hash", h)
        return h


def _error(message: str) -> ConfigError:
    return ConfigError(FIELD, message)


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^(),])
""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) for each token, then ('end', '', column past the end); a
    character outside the language ends the list as a 'bad' token, refused when the parser
    reaches it (so the leftmost mistake is the one reported)."""
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            return out + [("bad", text[pos], pos + 1)]
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group(), pos + 1))
        pos = m.end()
    out.append(("end", "", len(text) + 1))
    return out


def _describe(token) -> str:
    kind, text, _ = token
    return "the end of the formula" if kind == "end" else repr(text)


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # --- helpers ---
    @property
    def tok(self):
        kind, text, col = self.toks[self.i]
        if kind == "bad":
            raise _error(f"unexpected character {text!r} at column {col}")
        return kind, text, col

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def node(self, op, args=(), value=0.0, col=0) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(f"too many terms: more than {MAX_NODES} numbers, names and "
                         f"operations (at most {MAX_NODES})")
        return Node(op, tuple(args), value, col)

    def enter(self, col: int):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"too deeply nested at column {col} (at most {MAX_DEPTH} levels of "
                         "parentheses, functions, signs and powers)")

    def expect(self, text: str, what: str, why: str = ""):
        t = self.tok
        if t[1] != text or t[0] == "end":
            raise _error(f"expected {what} at column {t[2]}{why}, found {_describe(t)}")
        return self.take()

    # --- grammar ---
    def formula(self) -> Node:
        tree = self.expr()
        t = self.tok
        if t[0] != "end":
            hint = "a ',' outside min(a, b) or max(a, b)" if t[1] == "," else (
                "a ')' without its '('" if t[1] == ")" else _describe(t))
            raise _error(f"expected an operator (+ - * / ^) or the end at column {t[2]}, "
                         f"found {hint}")
        return tree

    def expr(self) -> Node:
        left = self.term()
        while self.tok[1] in ("+", "-") and self.tok[0] == "op":
            _, op, col = self.take()
            left = self.node(op, (left, self.term()), col=col)
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.tok[1] in ("*", "/") and self.tok[0] == "op":
            _, op, col = self.take()
            left = self.node(op, (left, self.unary()), col=col)
        return left

    def unary(self) -> Node:
        kind, text, col = self.tok
        if kind == "op" and text in ("-", "+"):
            self.take()
            self.enter(col)
            operand = self.unary()
            self.depth -= 1
            return self.node("neg", (operand,), col=col) if text == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        kind, text, col = self.tok
        if kind == "op" and text in ("^", "**"):
            self.take()
            self.enter(col)
            exponent = self.unary()
            self.depth -= 1
            return self.node("^", (base, exponent), col=col)
        return base

    def atom(self) -> Node:
        kind, text, col = self.tok
        if kind == "num":
            self.take()
            value = float(text)
            if not value <= FLOAT32_MAX:
                raise _error(f"number too large at column {col} (at most 3.4e38, the "
                             "largest float32)")
            return self.node("num", value=value, col=col)
        if kind == "name":
            self.take()
            name = ALIASES.get(text, text)
            if name in VARIABLES or name in CONSTANTS:
                return self.node(name, col=col)
            if name in UNARY or name in BINARY:
                return self.call(name, text, col)
            raise _error(f"unknown name {text[:40]!r} at column {col} (the names are x, y, "
                         f"pi, e and the functions {', '.join(UNARY + BINARY)}, atan)")
        if kind == "op" and text == "(":
            self.take()
            self.enter(col)
            inner = self.expr()
            self.expect(")", "')'", f" (to close the '(' at column {col})")
            self.depth -= 1
            return inner
        raise _error(f"expected a number, a name or '(' at column {col}, found "
                     f"{_describe(self.tok)}")

    def call(self, name: str, spelled: str, col: int) -> Node:
        self.expect("(", f"'(' after {spelled!r}")
        self.enter(col)
        args = [self.expr()]
        while self.tok[1] == "," and self.tok[0] == "op":
            self.take()
            args.append(self.expr())
        self.expect(")", "',' or ')'", f" (in the call of {spelled!r} at column {col})")
        self.depth -= 1
        want = 2 if name in BINARY else 1
        if len(args) != want:
            raise _error(f"{spelled} takes {want} argument{'s' if want > 1 else ''} "
                         f"(got {len(args)}) at column {col}")
        return self.node(name, args, col=col)


def parse(text: str) -> Node:
    """The formula's tree, or a ConfigError on ``problem.f`` saying what is wrong, where."""
    if not isinstance(text, str):
        raise _error("must be a formula in x and y, as text")
    if len(text) > MAX_CHARS:
        raise _error(f"too long ({len(text)} characters; at most {MAX_CHARS})")
    if not text.strip():
        raise _error("is empty: type a formula in x and y, e.g. x^2 + y^2")
    return _Parser(text).formula()


def _number_text(v: float) -> str:
    if v.is_integer() and v < 1e16:
        return str(int(v))
    return repr(v)  # shortest text that reads back as the same float


def to_text(tree: Node, _min: int = 0) -> str:
    """The tree as text in canonical form (``^`` for powers, spaces around + and -, the
    fewest parentheses): ``parse(to_text(t)) == t`` for every tree ``parse`` returns."""
    op, args = tree.op, tree.args
    if op == "num":
        text, prec = _number_text(tree.value), _ATOM
    elif not args:
        text, prec = op, _ATOM
    elif op == "neg":
        text, prec = "-" + to_text(args[0], 3), 3
    elif op == "^":  # base: an atom; exponent: any unary (right-associative)
        text, prec = f"{to_text(args[0], _ATOM)}^{to_text(args[1], 3)}", 4
    elif op in OPERATORS:  # left-associative: the right operand binds tighter
        prec = _PRECEDENCE[op]
        sep = f" {op} " if prec == 1 else op
        right = to_text(args[1], prec + 1 if prec == 1 else 3)
        text = to_text(args[0], prec) + sep + right
    else:
        text, prec = f"{op}({', '.join(to_text(a) for a in args)})", _ATOM
    return f"({text})" if prec < _min else text
