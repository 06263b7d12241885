"""The run config: its one definition, its validation and its URL query form.

A config is a dict (JSON) as fixed by ``docs/run-format.md``::

    {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
     "optimizer": {"name": "adam", "lr": 0.05},
     "schedule": {"name": "CosineAnnealingLR", "T_max": 450, "eta_min": 0.0001},
     "warmup": {"steps": 50, "start_factor": 0.01},
     "clip_grad_norm": {"max_norm": 1.0, "norm_type": 2.0}}

The fields of each surface, optimizer and schedule come from their registries
(``SURFACES``, ``OPTIMIZERS``, ``SCHEDULES``); this module adds the top-level fields.

- :func:`validate` checks a config and returns its canonical explicit form (only the
  fields given; this is what links and the command line store).
- :func:`resolve` checks it and fills in every default (what the engine runs).
- :func:`to_query` / :func:`from_query` turn a config into the page's query string and
  back; pinned runs use the same keys behind a ``pN.`` prefix.
"""
from __future__ import annotations

import math
from urllib.parse import parse_qsl, quote

from . import formula
from .optimizers import OPTIMIZERS
from .params import (ConfigError, Derived, Entry, Param, RunContext, check_fields,
                     short_repr)
from .schedules import SCHEDULES
from .surfaces import SURFACES, formula_start

MAX_STEPS = 10_000
"""Longest run. Runs are computed in fixed buffers of this size (see engine.py)."""

SECTIONS = {"problem": SURFACES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
"""Top-level fields that pick an entry by ``name`` and take its parameters beside it."""

DEFAULT_NAMES = {"problem": "rosenbrock", "optimizer": "adam", "schedule": "constant"}

STEPS = Param("steps", "int", 500, "Steps", "Number of optimizer steps.", low=1,
              high=MAX_STEPS, log=True, unit="steps")
START = Param("start", "float_pair", None, "Start", "Start point (x, y); default: the "
              "surface's own.")
WARMUP = Entry(
    name="warmup", label="Linear warmup",
    summary="Ramp the lr linearly up to the schedule's start, then run the schedule.",
    params=(Param("steps", "int", Derived("a tenth of the run",
                                          lambda c: max(1, c.steps // 10)),
                  "Warmup steps", "Steps of the ramp.", low=1, unit="steps"),
            Param("start_factor", "float", 0.01, "Start factor",
                  "The ramp starts at this fraction of the lr.", low=0.0, low_open=True,
                  high=1.0)))
CLIP_GRAD_NORM = Entry(
    name="clip_grad_norm", label="Gradient clipping",
    summary="Scale the gradient down to max_norm before each step "
            "(torch.nn.utils.clip_grad_norm_).",
    params=(Param("max_norm", "float", 1.0, "max_norm",
                  "Largest norm the gradient keeps; a longer one is scaled down to it.",
                  low=0.0, low_open=True, log=True, ui_high=100.0),
            Param("norm_type", "float", 2.0, "norm_type",
                  "Which norm: p >= 1 (2: Euclidean), or \"inf\" (the largest component).",
                  low=1.0, ui_high=10.0)))
"""The top-level ``clip_grad_norm`` field. ``norm_type`` also takes the string ``"inf"``,
which a ``float`` Param cannot say: :func:`_check_clip` handles it."""
INF_NORM = "inf"
TOP_LEVEL = ("problem", "start", "steps", "optimizer", "schedule", "warmup", "clip_grad_norm")


def validate(config: dict) -> dict:
    """Check ``config``; return it in canonical form (only the fields given)."""
    return _check(config, fill=False)


def resolve(config: dict) -> dict:
    """Check ``config`` and fill in every default: the complete run the engine performs."""
    return _check(config, fill=True)


def _check(config, fill: bool) -> dict:
    if not isinstance(config, dict):
        raise ConfigError("config", f"must be a JSON object (got {type(config).__name__})")
    for key in config:
        if key not in TOP_LEVEL:
            raise ConfigError(str(key), "unknown field (allowed: " + ", ".join(TOP_LEVEL) + ")")
    out: dict = {}
    entries = {sec: _pick(config, sec) for sec in SECTIONS}
    steps = STEPS.check(config["steps"], "steps") if "steps" in config else None
    n_steps = steps if steps is not None else STEPS.default

    warmup = config.get("warmup")
    if warmup is not None and not isinstance(warmup, dict):
        raise ConfigError("warmup", "must be an object like {\"steps\": 50, "
                                    "\"start_factor\": 0.01}, or null for none")
    wctx = RunContext(n_steps, 0, 0.0)
    warm = check_fields(WARMUP, warmup, "warmup", wctx if fill else None) \
        if warmup is not None else None
    w_steps = (warm.get("steps") if warm else None)
    if warm is not None and w_steps is None:
        w_steps = WARMUP.param("steps").default_for(wctx)
    if w_steps is not None and w_steps > n_steps:
        raise ConfigError("warmup.steps", f"must be at most steps ({n_steps}) (got {w_steps})")

    sections = {}
    for sec, entry in entries.items():
        given = {k: v for k, v in config.get(sec, {}).items() if k != "name"}
        ctx = None
        if fill:
            lr = sections["optimizer"]["lr"] if sec == "schedule" else 0.0
            ctx = RunContext(n_steps, w_steps or 0, lr)
        if sec == "problem" and entry.name == formula.NAME:  # typed: §9.1
            checked = formula.check(config["problem"])
            sections[sec] = checked if fill else {
                "name": entry.name, **{k: checked[k] for k in given}}
            continue
        sections[sec] = {"name": entry.name, **check_fields(entry, given, sec, ctx)}

    out["problem"] = sections["problem"]
    if "start" in config:
        out["start"] = START.check(config["start"], "start")
    elif fill and entries["problem"].name == formula.NAME:
        out["start"] = formula_start(out["problem"]["window"])
    elif fill:
        out["start"] = list(entries["problem"].start)
    if steps is not None or fill:
        out["steps"] = n_steps
    out["optimizer"] = sections["optimizer"]
    out["schedule"] = sections["schedule"]
    if warm is not None:
        out["warmup"] = warm
    elif fill:
        out["warmup"] = None
    clip = _check_clip(config.get("clip_grad_norm"), fill)
    if clip is not None:
        out["clip_grad_norm"] = clip
    elif fill:
        out["clip_grad_norm"] = None
    if fill:
        ctx = RunContext(n_steps, w_steps or 0, out["optimizer"]["lr"])
        entries["optimizer"].check(out["optimizer"])
        entries["schedule"].check(out["schedule"], ctx)
    return out


def _check_clip(clip, fill: bool) -> dict | None:
    """``clip_grad_norm``: null (none) or ``{"max_norm": ..., "norm_type": ...}``."""
    if clip is None:
        return None
    if not isinstance(clip, dict):
        raise ConfigError("clip_grad_norm", "must be an object like {\"max_norm\": 1.0, "
                                            "\"norm_type\": 2.0}, or null for none")
    given = dict(clip)
    inf = given.get("norm_type") == INF_NORM
    if inf:
        del given["norm_type"]
    elif "norm_type" in given:
        try:
            CLIP_GRAD_NORM.param("norm_type").check(given["norm_type"], "")
        except ConfigError:
            raise ConfigError("clip_grad_norm.norm_type", "must be a number >= 1 or \"inf\" "
                              f"(got {short_repr(given['norm_type'])})") from None
    out = check_fields(CLIP_GRAD_NORM, given, "clip_grad_norm",
                       RunContext(1, 0, 0.0) if fill else None)
    if inf:
        out["norm_type"] = INF_NORM
    return {p.name: out[p.name] for p in CLIP_GRAD_NORM.params if p.name in out}


def _pick(config: dict, sec: str) -> Entry:
    registry = SECTIONS[sec]
    value = config.get(sec, {"name": DEFAULT_NAMES[sec]})
    if not isinstance(value, dict):
        raise ConfigError(sec, f"must be an object like {{\"name\": \"{DEFAULT_NAMES[sec]}\"}} "
                               f"(got {short_repr(value)})")
    name = value.get("name", DEFAULT_NAMES[sec])
    if not isinstance(name, str) or name not in registry:
        raise ConfigError(f"{sec}.name", f"must be one of {', '.join(registry)} "
                                         f"(got {short_repr(name)})")
    return registry[name]


# --- The query string -------------------------------------------------------------------

def to_query(config: dict, prefix: str = "") -> str:
    """The query string (without '?') that describes ``config``'s explicit fields."""
    c = validate(config)
    pairs = []
    for key in TOP_LEVEL:
        if key not in c:
            continue
        value = c[key]
        if key in SECTIONS:
            pairs.append((key, value["name"]))
            pairs += [(f"{key}.{k}", _encode(v)) for k, v in value.items() if k != "name"]
        elif key in ("warmup", "clip_grad_norm"):
            pairs.append((key, "on"))
            pairs += [(f"{key}.{k}", _encode(v)) for k, v in value.items()]
        else:
            pairs.append((key, _encode(value)))
    return "&".join(f"{prefix}{k}={quote(v, safe=',.-:')}" for k, v in pairs)


def page_path(config: dict, pins: list[dict] = ()) -> str:
    """The page path whose query opens exactly this run (and these pinned runs)."""
    parts = [to_query(config)] + [to_query(p, f"p{i + 1}.") for i, p in enumerate(pins)]
    return "/?" + "&".join(p for p in parts if p)


def from_query(query: str | dict) -> tuple[dict, list[dict]]:
    """Parse a query string (or dict of its pairs) into (config, pinned configs).

    Every config is validated; a bad key or value raises ConfigError naming it.
    """
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) \
        else list(query.items())
    groups: dict[str, dict] = {}
    for key, value in pairs:
        prefix, _, rest = key.partition(".")
        if prefix[:1] == "p" and _pin_number(prefix[1:]) and rest:
            groups.setdefault(prefix + ".", {})[rest] = value
        else:
            groups.setdefault("", {})[key] = value
    configs = {prefix: _config_from_pairs(flat, prefix) for prefix, flat in groups.items()}
    pins = [configs[k] for k in sorted((k for k in configs if k), key=lambda k: int(k[1:-1]))]
    return configs.get("", {}), pins


_OPTIONAL = {"warmup": WARMUP, "clip_grad_norm": CLIP_GRAD_NORM}
"""The optional top-level objects: ``key=on`` switches one on, ``key.field=value`` sets
its fields."""


def _where(prefix: str, key: str) -> str:
    """The field a message names: the query key, cut short if someone sent a huge one."""
    return prefix + (key if len(key) <= 60 else key[:57] + "...")


def _pin_number(text: str) -> bool:
    """Whether ``text`` numbers a pinned run (``p1.`` ... ``p999.``): ASCII digits only, so
    ``p\u00b2.`` or a 5,000-digit prefix is an unknown field, not a crash in int()."""
    return text.isascii() and text.isdigit() and len(text) <= 3


def _config_from_pairs(flat: dict, prefix: str) -> dict:
    config: dict = {}
    for key, text in flat.items():
        head, _, tail = key.partition(".")
        where = _where(prefix, key)
        if head in SECTIONS and not tail:
            config.setdefault(head, {})["name"] = text
        elif head in SECTIONS or head in _OPTIONAL:
            config.setdefault(head, {})
        elif head == "steps" and not tail:
            config["steps"] = _decode(text, STEPS, where)
        elif head == "start" and not tail:
            config["start"] = _decode(text, START, where)
        else:
            raise ConfigError(where, "unknown field (allowed: " + ", ".join(TOP_LEVEL) + ")")
    for key, text in flat.items():
        head, _, tail = key.partition(".")
        if head in _OPTIONAL and not tail:
            if text not in ("on", "1", "true"):
                raise ConfigError(_where(prefix, key), "must be 'on' when present")
        elif head == "problem" and tail and config["problem"].get("name") == formula.NAME:
            config["problem"][tail] = _decode_formula_field(tail, text, _where(prefix, key))
        elif head in SECTIONS and tail:
            entry = _pick(config, head)
            param = next((p for p in entry.params if p.name == tail), None)
            if param is None:
                raise ConfigError(_where(prefix, key), f"unknown field for {entry.name!r}")
            config[head][tail] = _decode(text, param, _where(prefix, key))
        elif head in _OPTIONAL and tail:
            param = next((p for p in _OPTIONAL[head].params if p.name == tail), None)
            if param is None:
                raise ConfigError(_where(prefix, key), f"unknown field for {head}")
            if head == "clip_grad_norm" and tail == "norm_type":
                config[head][tail] = _decode_norm_type(text, param, _where(prefix, key))
            else:
                config[head][tail] = _decode(text, param, _where(prefix, key))
    try:
        validate(config)
    except ConfigError as e:
        raise ConfigError(prefix + e.field, e.message) from None
    return config


def _encode(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_encode(v) for v in value)
    if isinstance(value, str):
        return value
    return repr(value).replace("e+", "e")  # 1e16, not 1e+16: '+' is a space in a query


def _decode(text: str, param: Param, where: str):
    text = text.strip()
    if param.nullable and text == "null":
        return None
    try:
        if param.kind == "bool":
            return {"true": True, "false": False}[text]
        if param.kind == "choice":
            return text
        if param.kind in ("int_list", "float_pair"):
            items = [s for s in text.split(",")] if text else []
            return [_number(s, param.kind == "int_list") for s in items]
        return _number(text, param.kind == "int")
    except (KeyError, ValueError):
        raise ConfigError(where, f"must be {param.allowed()} (got {text!r:.40})") from None


def _decode_formula_field(name: str, text: str, where: str):
    """A field of a typed surface from the query: ``f`` is kept as text (exactly as
    typed, spaces included), ``window`` is four numbers, ``blowup`` one."""
    if name == "f":
        return text
    try:
        if name == "window":
            return [_number(s, False) for s in text.split(",")] if text.strip() else []
        if name == "blowup":
            return _number(text, False)
    except ValueError:
        raise ConfigError(where, f"must be {'four numbers' if name == 'window' else 'a number'}"
                                 f" (got {text!r:.40})") from None
    raise ConfigError(where, f"unknown field for {formula.NAME!r} (allowed: blowup, f, window)")


def _decode_norm_type(text: str, param: Param, where: str):
    if text.strip() == INF_NORM:
        return INF_NORM
    try:
        return _decode(text, param, where)
    except ConfigError:
        raise ConfigError(where, f"must be a number >= 1 or \"inf\" (got {text!r:.40})") \
            from None


def _number(text: str, integer: bool):
    value = float(text.strip())
    if integer and math.isfinite(value) and value.is_integer():
        return int(value)
    return value
