"""The page's form as data: which controls exist, how their values become a config, and
how a config fills them. No Dash here; ``playground.web.controls`` builds the components
from ``FIELDS``.

A control is keyed ``"section.entry.name"`` (e.g. ``"schedule.StepLR.gamma"``); the
top-level ones are ``"run.run.lr"``, ``"run.run.steps"``, ``"run.run.start_x"`` ...
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import SECTIONS, STEPS, WARMUP, resolve, validate
from ..params import ConfigError, Param
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

LR = Param("lr", "float", 0.05, "Learning rate", "The base learning rate (log scale).",
           low=0.0, log=True)
START_X = Param("start_x", "float", None, "Start x", "Where the run starts (or click the map).")
START_Y = Param("start_y", "float", None, "Start y", "Where the run starts (or click the map).")
LR_SLIDER = (-5.0, 1.0)
"""The lr slider spans 10^-5 .. 10^1."""


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


def _fields() -> tuple[Field, ...]:
    fields = [Field("run", "run", LR), Field("run", "run", STEPS),
              Field("run", "run", START_X), Field("run", "run", START_Y)]
    for section, registry in SECTIONS.items():
        for entry in registry.values():
            fields += [Field(section, entry.name, p) for p in entry.params
                       if not (section == "optimizer" and p.name == "lr")]
    fields += [Field("warmup", "warmup", p) for p in WARMUP.params]
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


def _parse(field: Field, raw):
    """A control's raw value as a config value; None means "left empty"."""
    p = field.param
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
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
        if field.key not in values:
            continue  # a control not on the page: its default
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
            errors[field.key] = _sentence(e.message)
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
        given = (c.get("warmup") or {}) if field.section == "warmup" else (
            c[field.section] if c[field.section]["name"] == field.entry else {})
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
    if head == "warmup":
        return f"warmup.warmup.{name}"
    if path.startswith("start"):
        return "run.run.start_y" if path.endswith("[1]") else "run.run.start_x"
    return f"run.run.{head}"


def _sentence(message: str) -> str:
    if message.startswith("must"):
        message = "M" + message[1:]
    return message + ("" if message.endswith(".") else ".")


def with_lr_preset(values: dict, problem: str, optimizer: str) -> dict:
    """The control values with the learning rate set to the (surface, optimizer) preset."""
    return {**values, "run.run.lr": LR_PRESETS[(problem, optimizer)]}


__all__ = ["BY_KEY", "DEFAULT_CONFIG", "FIELDS", "Field", "LR_PRESETS", "config_from_form",
           "form_from_config", "placeholder", "text_of", "with_lr_preset"]
