"""The page's form as data: which controls exist, how their values become a config, and
how a config fills them. No Dash here; ``playground.web.controls`` builds the components
from ``FIELDS``.

A control is keyed ``"section.entry.name"`` (e.g. ``"schedule.StepLR.gamma"``); the
top-level ones are ``"run.run.lr"``, ``"run.run.steps"``, ``"run.run.start_x"`` ...
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from ..config import CLIP_GRAD_NORM, INF_NORM, SECTIONS, STEPS, WARMUP, resolve, validate
from ..params import ConfigError, Param, RunContext, first_pick_values
from ..surfaces import SURFACES

DEFAULT_CONFIG = {
    "problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
    "optimizer": {"name": "adam", "lr": 0.2},
    "schedule": {"name": "CosineAnnealingLR"},
    "warmup": {"steps": 50, "start_factor": 0.01},
}
"""What the page opens with: warmup and cosine carry Adam through the whole valley."""

LR_PRESETS = {
    # (surface, optimizer) -> a learning rate whose constant-lr run makes clear progress
    # without diverging (tests/test_form.py checks every pair), so a first look shows
    # something meaningful.
    ("quadratic_bowl", "sgd"): 0.05, ("quadratic_bowl", "adam"): 0.05,
    ("quadratic_bowl", "adamw"): 0.05, ("quadratic_bowl", "rmsprop"): 0.01,
    ("elongated_valley", "sgd"): 0.03, ("elongated_valley", "adam"): 0.05,
    ("elongated_valley", "adamw"): 0.05, ("elongated_valley", "rmsprop"): 0.01,
    ("rosenbrock", "sgd"): 1e-3, ("rosenbrock", "adam"): 0.2,
    ("rosenbrock", "adamw"): 0.2, ("rosenbrock", "rmsprop"): 0.01,
    ("noisy_quadratic", "sgd"): 0.05, ("noisy_quadratic", "adam"): 0.05,
    ("noisy_quadratic", "adamw"): 0.05, ("noisy_quadratic", "rmsprop"): 0.01,
}

STEP_OF_WINDOW = {"adam": 0.01, "adamw": 0.01, "rmsprop": 0.002}
"""A new surface's lr per window width: Adam moves each coordinate by about its lr per
step, RMSprop by about ten times its lr in its first steps (its mean square starts at
zero): a hundredth and a fiftieth of the window."""


def lr_preset(problem: str, optimizer: str) -> float:
    """The lr a new surface or optimizer brings into the form: LR_PRESETS's, or for a pair
    it does not list, one sized to the surface at its default parameters
    (``STEP_OF_WINDOW``); SGD's first step moves a hundredth of the window and its lr
    stays below 1 / the largest curvature at the start and at the minimum (SGD diverges
    past 2 / that)."""
    if (problem, optimizer) in LR_PRESETS:
        return LR_PRESETS[(problem, optimizer)]
    surface = SURFACES[problem]
    prm = {p.name: p.default for p in surface.params}
    (x0, x1), (y0, y1) = surface.window(prm)
    width = min(x1 - x0, y1 - y0)
    if optimizer in STEP_OF_WINDOW:
        return float(f"{STEP_OF_WINDOW[optimizer] * width:.1g}")
    try:
        return _sgd_preset(surface, prm, width)
    except (TypeError, ValueError, KeyError, IndexError):  # a loss numpy cannot evaluate
        return 1e-3


def _sgd_preset(surface, prm: dict, width: float) -> float:
    h = 1e-3 * width

    def f(q):
        return float(surface.loss(np.asarray(q, float), prm))

    start = np.asarray(surface.start, float)
    e = (np.array([h, 0.0]), np.array([0.0, h]))
    grad = np.array([(f(start + d) - f(start - d)) / (2 * h) for d in e])
    curvature = 1e-12
    for p in [start] + ([np.asarray(surface.minimum(prm), float)] if surface.minimum else []):
        hessian = np.array([[(f(p + a + b) - f(p + a - b) - f(p - a + b) + f(p - a - b))
                             / (4 * h * h) for b in e] for a in e])
        curvature = max(curvature, *np.abs(np.linalg.eigvalsh((hessian + hessian.T) / 2)))
    lr = min(0.01 * width / max(float(np.linalg.norm(grad)), 1e-12), 1 / curvature)
    return float(f"{lr:.1g}") if math.isfinite(lr) and lr > 0 else 1e-3


LR = Param("lr", "float", 0.05, "Learning rate", "The base learning rate (log scale).",
           low=0.0, log=True)
START_X = Param("start_x", "float", None, "Start x", "Where the run starts (or click the map).")
START_Y = Param("start_y", "float", None, "Start y", "Where the run starts (or click the map).")
LR_SLIDER = (-5.0, 1.0)
"""The lr slider spans 10^-5 .. 10^1."""
LR_STEP = 0.05
"""The lr slider's step in decades: 20 positions a decade, 121 in all (a grab of a short
run sweeps them all, of a longer one every k-th: playground/web/scrub.py)."""


def lr_at(position: float) -> float:
    """The lr a slider position stands for: 10^position to three significant digits (as
    the lr box shows it)."""
    return float(f"{10 ** position:.3g}")


@dataclass(frozen=True)
class Field:
    section: str  # problem, optimizer, schedule, warmup, run
    entry: str  # the entry's name (or "warmup", "run")
    param: Param

    @property
    def key(self) -> str:
        return f"{self.section}.{self.entry}.{self.param.name}"

    @property
    def path(self) -> str:
        """The config path a message names (as ConfigError fields do)."""
        if self.section == "run":
            return {"lr": "optimizer.lr", "start_x": "start[0]",
                    "start_y": "start[1]"}.get(self.param.name, self.param.name)
        return f"{self.section}.{self.param.name}"


CLIP_FIELDS = (
    replace(CLIP_GRAD_NORM.param("max_norm"), default=None, nullable=True,
            null_means="off", label="Clip gradient at",
            help="torch.nn.utils.clip_grad_norm_ before each step: a gradient longer than "
                 "this is scaled down to it. Empty: no clipping."),
    replace(CLIP_GRAD_NORM.param("norm_type"), label="Norm type",
            help="2 (Euclidean), any p >= 1, or inf (the largest component)."),
)
"""The clipping controls: an empty max_norm is no clipping (the config has no
``clip_grad_norm``), so the page needs no separate switch."""


FORMULA_EXAMPLES = (
    ("Rosenbrock", "(1 - x)^2 + 100*(y - x^2)^2"),
    ("Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
    ("Saddle with walls", "x^2 - y^2 + y^4/4"),
    ("Rastrigin", "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)"),
    ("Bowl", "(x^2 + y^2) / 2"),
)
"""Formulas the typed surface's box offers (``playground.web.formula_box``)."""
FORMULA_F = Param("f", "text", FORMULA_EXAMPLES[0][1], "f(x, y) =",
                  "Your surface in x and y: + - * / ^, ( ), numbers, pi, e, sin cos tan exp "
                  "log sqrt abs tanh sinh cosh arctan, min(a, b), max(a, b).")
"""The typed surface's formula: text, checked by ``playground.formula`` (its message
points at the column)."""


def _fields() -> tuple[Field, ...]:
    fields = [Field("run", "run", LR), Field("run", "run", STEPS),
              Field("run", "run", START_X), Field("run", "run", START_Y)]
    for section, registry in SECTIONS.items():
        for entry in registry.values():
            fields += [Field(section, entry.name, p) for p in entry.params
                       if not (section == "optimizer" and p.name == "lr")]
    fields.append(Field("problem", "formula", FORMULA_F))  # (not a Param of the entry)
    fields += [Field("warmup", "warmup", p) for p in WARMUP.params]
    fields += [Field("clip_grad_norm", "clip_grad_norm", p) for p in CLIP_FIELDS]
    return tuple(fields)


FIELDS = _fields()
BY_KEY = {f.key: f for f in FIELDS}


def text_of(param: Param, value) -> object:
    """How a config value shows in its control (lists and pairs as comma-separated text)."""
    if value is None:
        return None
    if param.kind in ("int_list", "float_pair"):
        return ", ".join(repr(v) for v in value)
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str):
    """A number as typed in a box ("-1", "1e9", "0.5"): an int when it is written as one,
    else a float; anything else (``abc``, ``nan``, ``1_0``) comes back as the text, for
    ``Param.check`` to refuse with its message."""
    text = text.strip()
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return text
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def typed(raw) -> str:
    """A value as the student typed it (for messages): the text itself, or a number
    written plainly (10, 1e-05 -> 1e-5, 1e9)."""
    if isinstance(raw, str):
        text = raw.strip()
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e6:
        return str(int(raw))
    if isinstance(raw, float):
        mantissa, _, exponent = f"{raw:g}".partition("e")
        return mantissa + ("e" + str(int(exponent)) if exponent else "")
    return str(raw)


def _parse(field: Field, raw):
    """A control's raw value as a config value; None means "left empty"."""
    p = field.param
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if p.kind in ("float", "int") and isinstance(raw, str):
        return parse_number(raw)
    if p.kind in ("int_list", "float_pair"):
        if not isinstance(raw, str):
            return raw
        items = [s.strip() for s in raw.split(",")]
        out = []
        for item in items:
            try:
                number = float(item)
            except ValueError:
                return item  # left for Param.check to refuse with its message
            out.append(int(number) if p.kind == "int_list" and number.is_integer() else number)
        return out
    if p.kind == "bool":
        return bool(raw) if isinstance(raw, list) else raw
    return raw


def config_from_form(choice: dict, values: dict, warmup_on: bool) -> tuple[dict | None, dict]:
    """The config the controls describe, and a message for each control that is wrong.

    ``choice`` maps problem/optimizer/schedule to entry names; ``values`` maps control keys
    to raw values. Only the chosen entries' controls count; one missing from ``values``
    (not on the page yet) means its default. Returns (config, {}) when all
    is well, or (None, {key: message}).
    """
    errors: dict[str, str] = {}
    config: dict = {sec: {"name": choice[sec]} for sec in SECTIONS}
    for field in FIELDS:
        if field.section in SECTIONS and field.entry != choice[field.section]:
            continue
        if field.section == "warmup" and not warmup_on:
            continue
        if field.param.kind == "text":  # the formula, as typed (resolve checks it)
            text = values.get(field.key, field.param.default)
            if not isinstance(text, str) or not text.strip():
                errors[field.key] = "Required: a formula in x and y, e.g. x^2 + y^2."
            else:
                config["problem"]["f"] = text
            continue
        if field.key not in values:
            continue  # a control not on the page: its default
        if field.section == "clip_grad_norm" and _parse(
                BY_KEY["clip_grad_norm.clip_grad_norm.max_norm"],
                values.get("clip_grad_norm.clip_grad_norm.max_norm")) is None:
            continue  # no max_norm: no clipping, and its norm type does not matter
        if field.param.name == "norm_type" and isinstance(values[field.key], str) \
                and values[field.key].strip().lower() == INF_NORM:
            config.setdefault("clip_grad_norm", {})["norm_type"] = INF_NORM
            continue
        value = _parse(field, values[field.key])
        p = field.param
        if value is None:
            if p.follows_run:
                continue  # empty: a default that follows the run (T_max, the start ...)
            errors[field.key] = f"Required: {p.allowed()}."
            continue
        try:
            value = p.check(value, field.path)
        except ConfigError as e:
            message = e.message
            if p.kind in ("float", "int") and isinstance(values[field.key], str):
                # the number as it stands in the box: "got -1", "got abc"
                shown = f"(got {typed(values[field.key])})"
                message = re.sub(r"\(got .*\)$", lambda _: shown, message)
            errors[field.key] = _sentence(message)
            continue
        if field.section != "run" and value == p.default:
            continue  # the default: links stay short and say only what was chosen
        if field.section == "run":
            if p.name == "lr":
                config["optimizer"]["lr"] = value
            elif p.name == "steps":
                config["steps"] = value
            else:
                config.setdefault("start", [None, None])["xy".index(p.name[-1])] = value
        elif field.section == "warmup":
            config.setdefault("warmup", {})[p.name] = value
        elif field.section == "clip_grad_norm":
            config.setdefault("clip_grad_norm", {})[p.name] = value
        else:
            config[field.section][p.name] = value
    if warmup_on:
        config.setdefault("warmup", {})
    if "start" in config and None in config["start"]:
        surface = SURFACES[choice["problem"]].start
        config["start"] = [surface[i] if v is None else v for i, v in enumerate(config["start"])]
    if errors:
        return None, errors
    try:
        resolve(config)
    except ConfigError as e:  # a rule across fields: shown beside the field it names
        return None, {_key_for(e.field, choice): _sentence(e.message)}
    return validate(config), {}


def form_from_config(config: dict) -> tuple[dict, dict, bool]:
    """(choice, control values, warmup on) that show ``config`` (its explicit fields)."""
    c = validate(config)
    choice = {sec: c[sec]["name"] for sec in SECTIONS}
    run = resolve(config)
    values = {}
    for field in FIELDS:
        p = field.param
        if field.section == "run":
            values[field.key] = {"lr": run["optimizer"]["lr"], "steps": run["steps"],
                                 "start_x": run["start"][0],
                                 "start_y": run["start"][1]}[p.name]
            continue
        if field.section in ("warmup", "clip_grad_norm"):
            given = c.get(field.section) or {}
        else:
            given = c[field.section] if c[field.section]["name"] == field.entry else {}
        if p.name in given:
            values[field.key] = text_of(p, given[p.name])
        elif not p.follows_run:
            values[field.key] = text_of(p, p.default)
        else:
            values[field.key] = None  # derived: empty shows "auto"
    return choice, values, "warmup" in c


def placeholder(field: Field, config: dict | None) -> str:
    """What an empty control means (derived defaults follow the run)."""
    p = field.param
    if p.name in ("start_x", "start_y"):
        return "surface default"
    if not p.follows_run:
        return ""  # a required field: empty is an error, not "auto"
    if p.nullable:
        return p.null_means
    if config is not None and p.follows_run:
        try:
            run = resolve(config)
        except ConfigError:
            return "auto"
        section = run.get(field.section) or {}
        if section.get("name", field.entry) == field.entry and p.name in section:
            return f"auto: {text_of(p, section[p.name])}"
    return "auto"


def _key_for(path: str, choice: dict) -> str:
    """The control key for a ConfigError field path like 'schedule.total_steps'."""
    head, _, rest = path.partition(".")
    name = rest.split("[")[0]
    if head in SECTIONS:
        if head == "optimizer" and name == "lr":
            return "run.run.lr"
        return f"{head}.{choice[head]}.{name}"
    if head in ("warmup", "clip_grad_norm"):
        return f"{head}.{head}.{name}"
    if path.startswith("start"):
        return "run.run.start_y" if path.endswith("[1]") else "run.run.start_x"
    return f"run.run.{head}"


def _sentence(message: str) -> str:
    if message.startswith("must"):
        message = "M" + message[1:]
    return message + ("" if message.endswith(".") else ".")


def with_lr_preset(values: dict, problem: str, optimizer: str) -> dict:
    """The control values with the learning rate set to the (surface, optimizer) preset."""
    return {**values, "run.run.lr": lr_preset(problem, optimizer)}


def label_of(p: Param) -> str:
    """A control's label with its unit, unless the label already says it ("Steps", not
    "Steps (steps)")."""
    return p.label + (f" ({p.unit})" if p.unit and p.unit.lower() not in p.label.lower()
                      else "")


def _lr_number(raw):
    """The lr box's value as a number >= 0, or None (empty, not a number, negative)."""
    lr = parse_number(raw) if isinstance(raw, str) else raw
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) \
            or lr < 0:
        return None
    return lr


def slider_position(raw) -> tuple[float | None, bool]:
    """Where the lr slider (log10 of the lr) stands for the lr box's value: at the lr, or
    at its nearer end when the lr lies past it (then also True); None for a box that holds
    no usable lr (the slider stays)."""
    lr = _lr_number(raw)
    if lr is None:
        return None, False
    exponent = math.log10(lr) if lr > 0 else -math.inf
    position = max(LR_SLIDER[0], min(LR_SLIDER[1], exponent))
    return position, position != exponent


def slider_note(raw) -> str:
    """What the lr box says when its lr lies past the slider's ends (the slider stops at
    its end; the run uses the lr in the box), quoting ``raw`` as typed; '' otherwise."""
    lr = _lr_number(raw)
    if lr is None:
        return ""
    low, high = 10.0 ** LR_SLIDER[0], 10.0 ** LR_SLIDER[1]
    shown = typed(raw)
    if lr > high:
        return f"{shown} is past the slider's end ({typed(high)}); the run uses {shown}."
    if 0 <= lr < low:
        return f"{shown} is below the slider's start ({typed(low)}); the run uses {shown}."
    return ""


# --- First pick ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Pick:
    """The form right after a student picks an entry: its control values (the entry's
    first-pick values written in, so the link holds them), whether the warmup is on, and
    a note beside the warmup toggle ('' for none)."""

    values: dict
    warmup_on: bool
    note: str


def first_pick(choice: dict, section: str, values: dict, warmup_on: bool) -> Pick:
    """The form after ``choice[section]`` was picked: the entry's ``first_pick`` values
    (``Param.first_pick``) sized to the run at hand, and the warmup off for a schedule
    that warms up by itself. A form with a wrong control elsewhere keeps the defaults."""
    entry = SECTIONS[section][choice[section]]
    if not getattr(entry, "warms_up", False) and \
            not any(p.first_pick is not None for p in entry.params):
        return Pick(values, warmup_on, "")  # nothing to size: the defaults
    note = ""
    if getattr(entry, "warms_up", False) and warmup_on:
        warmup_on = False
        note = f"{entry.name} warms up by itself: warmup off"
    keys = {p.name: f"{section}.{entry.name}.{p.name}" for p in entry.params}
    base = {k: v for k, v in values.items() if k not in keys.values()}
    config, _ = config_from_form(choice, base, warmup_on)
    if config is None:
        return Pick(base, warmup_on, note)
    run = resolve(config)
    ctx = RunContext(run["steps"], (run["warmup"] or {}).get("steps", 0),
                     run["optimizer"]["lr"], loss_drop(run))
    picked = first_pick_values(entry, ctx)
    base.update({keys[name]: text_of(entry.param(name), v) for name, v in picked.items()})
    return Pick(base, warmup_on, note)


def loss_drop(run: dict) -> float:
    """How far the loss can fall on this run: the loss at its start minus the loss at the
    surface's minimum (1.0 where the surface cannot say)."""
    surface = SURFACES[run["problem"]["name"]]
    prm = {k: v for k, v in run["problem"].items() if k != "name"}
    try:
        start = float(surface.loss(np.asarray(run["start"], float), prm))
        low = float(surface.loss(np.asarray(surface.minimum(prm), float), prm)) \
            if surface.minimum is not None else 0.0
    except (TypeError, ValueError, KeyError, IndexError):
        return 1.0
    drop = start - low
    return drop if math.isfinite(drop) and drop > 0 else 1.0


__all__ = ["BY_KEY", "DEFAULT_CONFIG", "FIELDS", "FORMULA_EXAMPLES", "FORMULA_F", "Field",
           "LR_PRESETS", "Pick",
           "config_from_form", "first_pick", "form_from_config", "label_of", "loss_drop",
           "lr_preset", "parse_number", "placeholder", "slider_note", "slider_position",
           "text_of", "typed", "with_lr_preset"]
