"""How one parameter of a surface, optimizer or schedule is described and checked.

A :class:`Param` is the single source of truth for a field: its type, default, allowed
domain, label, unit, help text and log-scale hint. The run config (``config.py``), the
command line, the page's controls and the tests are all derived from these entries.
"""
from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass, field
from typing import Any, Callable

INT32_MAX = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38
"""The engine computes in float32: a larger magnitude would silently become inf."""


class ConfigError(ValueError):
    """A config value that is not allowed. ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Derived:
    """A default computed from the rest of the run (e.g. ``T_max`` spans the run)."""

    describe: str
    compute: Callable[["RunContext"], Any]


@dataclass(frozen=True)
class RunContext:
    """What a derived default (or a first-pick value, see ``Param.first_pick``) may look at.

    ``loss_drop`` is how far the loss can fall on the run at hand (the loss at the start
    minus the loss at the surface's minimum); only the page's first-pick values use it,
    and it stays 1.0 where nobody measured it (the API's defaults never depend on it).
    """

    steps: int
    warmup_steps: int
    lr: float
    loss_drop: float = 1.0

    @property
    def span(self) -> int:
        """Scheduler steps after the warmup."""
        return max(1, self.steps - self.warmup_steps)


@dataclass(frozen=True)
class Param:
    """One field of a config entry.

    kind: ``float``, ``int``, ``bool``, ``choice``, ``int_list`` or ``float_pair``.
    ``low``/``high`` bound the value (``low_open``/``high_open`` make a bound strict);
    ``nullable`` allows ``None`` (with ``null_means`` saying what that does).
    """

    name: str
    kind: str
    default: Any
    label: str
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    log: bool = False
    unit: str = ""
    step: float | None = None
    nullable: bool = False
    null_means: str = ""
    max_len: int = 64
    ui_high: float | None = None  # a sensible slider end where the domain is open
    first_pick: Derived | None = None
    """The value the page writes into its form when a student picks the entry, sized to
    the run at hand so the entry shows its character (e.g. CyclicLR's step_size_up: a
    few cycles, not PyTorch's 2000). Never an API default: ``resolve`` ignores it."""

    @property
    def follows_run(self) -> bool:
        """Whether leaving the field empty means something: a default that follows the run
        (``Derived``, e.g. T_max = the steps), the surface's own start, or null."""
        return self.default is None or isinstance(self.default, Derived) or self.nullable

    def default_for(self, ctx: RunContext) -> Any:
        return self.default.compute(ctx) if isinstance(self.default, Derived) else self.default

    def allowed(self) -> str:
        """Plain-English description of the allowed values, for messages and help."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {"float": "a number", "int": "an integer", "int_list": "a list of integers",
                "float_pair": "a pair of numbers"}[self.kind]
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {_fmt(self.low)}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {_fmt(self.high)}")
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind == "int_list":
            text = f"a list of at most {self.max_len} integers" + (
                " each " + " and ".join(bounds) if bounds else "")
        if self.kind == "float_pair":
            text = "a pair of numbers" + (" each " + " and ".join(bounds) if bounds else "")
        if self.nullable:
            text += f", or null ({self.null_means})"
        return text

    def check(self, value: Any, path: str) -> Any:
        """Return the value in canonical form, or raise ConfigError naming ``path``."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(path, f"must be {self.allowed()} (got null)")
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._bad(path, value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise self._bad(path, value)
        if self.kind == "float":
            return self._number(value, path, integer=False)
        if self.kind == "int":
            return self._number(value, path, integer=True)
        if self.kind in ("int_list", "float_pair"):
            if not isinstance(value, (list, tuple)):
                raise self._bad(path, value)
            if self.kind == "float_pair" and len(value) != 2:
                raise ConfigError(path, f"must be {self.allowed()} (got {len(value)} values)")
            if len(value) > self.max_len:
                raise ConfigError(path, f"must be {self.allowed()} (got {len(value)} values)")
            integer = self.kind == "int_list"
            return [self._number(v, f"{path}[{i}]", integer=integer) for i, v in enumerate(value)]
        raise AssertionError(self.kind)

    def _number(self, value: Any, path: str, integer: bool) -> float | int:
        given = value  # messages show the number as it was given: -1, not -1.0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(path, value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(path, f"must be a finite number, {self.allowed()} (got {value})")
        if not integer and abs(value) > FLOAT32_MAX:  # also a Python int past float range
            raise ConfigError(path, f"must be {self.allowed()} and at most 3.4e38 in size, "
                                    f"the largest float32 (got {short_repr(value)})")
        if integer:
            if isinstance(value, float) and not value.is_integer():
                raise self._bad(path, value)
            value = int(value)
            if abs(value) > INT32_MAX:
                raise ConfigError(path, f"must be {self.allowed()} and at most {INT32_MAX} "
                                        f"(got {short_repr(value)})")
        else:
            value = float(value)
        too_low = self.low is not None and (value <= self.low if self.low_open
                                            else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open
                                              else value > self.high)
        if too_low or too_high:
            raise self._bad(path, given)
        return value

    def _bad(self, path: str, value: Any) -> ConfigError:
        return ConfigError(path, f"must be {self.allowed()} (got {short_repr(value)})")


@dataclass(frozen=True)
class Entry:
    """A named choice (a surface, optimizer or schedule) and the fields it takes."""

    name: str
    label: str
    summary: str
    params: tuple[Param, ...] = field(default=())

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


_REPR = reprlib.Repr()  # keyword arguments only from Python 3.12
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple = 3, 4, 6, 6
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 40


def short_repr(value: Any) -> str:
    """A short repr for messages: bounded in depth and length, whatever the value."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int past Python's 4,300-digit str() limit
        text = f"an integer of {value.bit_length()} bits"
    return text if len(text) <= 60 else text[:57] + "..."


def first_pick_values(entry: Entry, ctx: RunContext) -> dict:
    """The values the page writes into its form when ``entry`` is picked (the params with
    a ``first_pick``), computed for the run at hand."""
    return {p.name: p.first_pick.compute(ctx) for p in entry.params
            if p.first_pick is not None}


def check_fields(entry: Entry, given: dict, path: str, ctx: RunContext | None) -> dict:
    """Validate ``given`` (without its ``name``) against ``entry``.

    Returns the canonical explicit fields; with ``ctx`` also fills every default.
    """
    known = {p.name for p in entry.params}
    for key in given:
        if key not in known:
            allowed = ", ".join(sorted(known)) or "no parameters"
            raise ConfigError(f"{path}.{key}", f"unknown field for {entry.name!r} "
                                               f"(allowed: {allowed})")
    out = {}
    for p in entry.params:
        if p.name in given:
            out[p.name] = p.check(given[p.name], f"{path}.{p.name}")
        elif ctx is not None:
            out[p.name] = p.default_for(ctx)
    return out
