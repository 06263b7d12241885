"""Fuzzing the config parser and the engine: every input runs or is refused naming the field.

Random and adversarial configs (hypothesis): values of every JSON type in every field, NaN,
infinities, huge and tiny numbers, integers beyond any float, unicode, deep nesting,
oversized lists and strings, unknown keys, and schedule parameters that contradict each
other or the run. Each one either

- runs: arrays of the contract's shapes; path and loss finite up to ``diverged_at``, every
  array NaN from there on; lr finite and >= 0 at every step but the one that diverged the
  run; its canonical form (``validate``) and its link (``to_query``/``from_query``)
  describe the same run; or
- is refused with a ConfigError whose ``field`` is a real key path of the config (or of
  the format) and whose message is short and not empty.

Any other exception fails. Random query strings go through ``from_query`` the same way.

The default suite runs a small sample (PLAYGROUND_FUZZ_EXAMPLES, default 80 per test). The
dedicated long run, opt in::

    PLAYGROUND_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest -m fuzz tests/test_fuzz_config.py

The bugs this fuzzer found are fixed; ``FOUND`` reproduces each and checks it stays fixed.
A new bug that cannot be fixed at once goes into ``KNOWN_BUGS`` (where it is raised) with
a strict xfail reproduction, so that fixing it fails the suite until its entry goes.
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback
from collections import Counter

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import playground
from playground import ConfigError
from playground.config import SECTIONS, TOP_LEVEL, WARMUP

pytestmark = [pytest.mark.fuzz,  # values past float32's range warn as they are packed
              pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")]

EXAMPLES = int(os.environ.get("PLAYGROUND_FUZZ_EXAMPLES", "80"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

F32_MAX = float(np.finfo(np.float32).max)
EDGE_FLOATS = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e-45, 1.17549435e-38, 1e-8, 0.5, 1.0,
               1.0000001, 0.9999999, 3.4028235e38, 3.5e38, 1e39, 1e300, 1.7976931348623157e308,
               -1.7976931348623157e308, -1.0, float("nan"), float("inf"), float("-inf")]
EDGE_INTS = [0, 1, -1, 2, 9_999, 10_000, 10_001, 2**31 - 1, 2**31, -2**31 - 1, 2**53 + 1,
             2**63, 10**400, -10**400]
WEIRD_TEXT = ["", " ", "adam ", "ADAM", "Adam", "\u0430dam", "rosenbrock\x00", "\ud800",
              "\U0001f600", "a" * 10_000, "constant\n", "None", "null", "NaN", "1e3",
              "CosineAnnealingLR".lower(), "__class__", "name"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(EDGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(EDGE_FLOATS),
    st.text(max_size=20), st.sampled_from(WEIRD_TEXT))


def _deep(depth: int, leaf=0):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


oversized = st.one_of(
    st.integers(500, 5000).map(_deep),  # deeper than repr (or json.loads) can go
    st.integers(65, 100_000).map(lambda n: [1] * n),
    st.integers(1000, 1_000_000).map(lambda n: "9" * n),
    st.integers(1000, 50_000).map(lambda n: {f"k{i}": i for i in range(n)}))
json_values = st.one_of(st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.text(max_size=8) | st.sampled_from(["name", "steps", "lr"]), inner, max_size=5),
    max_leaves=12), oversized)
"""Any JSON value (and Python's NaN and infinities, which json.loads accepts too),
sometimes nested thousands deep or oversized."""


def _all_params():
    for section, registry in SECTIONS.items():
        for entry in registry.values():
            for p in entry.params:
                yield section, entry, p
    for p in WARMUP.params:
        yield "warmup", WARMUP, p


def near(x: float) -> list[float]:
    return [x, math.nextafter(x, math.inf), math.nextafter(x, -math.inf)]


def in_domain(param, steps: int):
    """A value inside ``param``'s domain, at every magnitude it allows (float32's limits
    included), and integers tied to the run's length (where contradictions live)."""
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(list(param.choices))
    if param.kind == "int_list":
        return st.lists(st.integers(0, steps + 5), max_size=6)
    if param.kind == "int":
        lo = int(param.low) if param.low is not None else -1000
        hi = int(param.high) if param.high is not None else 2**31 - 1
        tied = [v for v in (steps - 1, steps, steps + 1, 2 * steps, steps // 2, steps // 3)
                if lo <= v <= hi]
        return st.one_of(st.integers(lo, min(hi, lo + 600)), st.sampled_from(tied or [lo]),
                         st.integers(lo, hi))
    lo = param.low if param.low is not None else -1e3
    if param.high is not None:
        number = st.floats(lo, param.high, exclude_min=param.low_open,
                           exclude_max=param.high_open)
    else:
        magnitude = st.floats(-40, 38.5).map(lambda e: 10.0 ** e)  # past float32's range
        number = st.one_of(st.floats(lo, lo + 10), magnitude.map(lambda m: lo + m))
        if param.low_open:
            number = number.filter(lambda x: x > lo)
    if param.kind == "float_pair":
        return st.lists(number, min_size=2, max_size=2)
    return st.one_of(number, st.none()) if param.nullable else number


def value_for(param, steps: int, wild: bool = True):
    """A value for ``param``: mostly in its domain; on and just past its bounds; of its
    type but anything at all; or (``wild``) any JSON value."""
    real_steps = steps
    steps = steps if 1 <= steps <= 10**6 else 500  # a bound for the strategies below
    domain = in_domain(param, steps)
    edges = [b for bound in (param.low, param.high) if bound is not None for b in near(bound)]
    if param.kind in ("bool", "choice"):
        typed = domain
    elif param.kind == "int":
        typed = st.one_of(st.sampled_from([int(e) for e in edges if math.isfinite(e)] or [0]),
                          st.sampled_from(EDGE_INTS), st.just(real_steps),
                          st.integers(-10, 10**6))
    elif param.kind == "int_list":
        items = st.one_of(st.integers(-2, steps + 2), st.sampled_from(EDGE_INTS))
        typed = st.one_of(st.lists(items, max_size=6),
                          st.lists(items, min_size=63, max_size=66))
    else:
        number = st.one_of(st.sampled_from(edges or [0.0]), st.sampled_from(EDGE_FLOATS),
                           st.floats(allow_nan=False, allow_infinity=False))
        typed = st.lists(number, min_size=0, max_size=4) if param.kind == "float_pair" \
            else number
    edge = st.one_of(typed, json_values) if wild else typed
    return st.one_of(domain, domain, domain, domain, edge)


@st.composite
def entries(draw, section: str, steps: int):
    registry = SECTIONS[section]
    name = draw(st.one_of(st.sampled_from(list(registry)), st.sampled_from(list(registry)),
                          st.sampled_from(list(registry)), scalars,
                          st.sampled_from([[], {}, ["adam"], {"name": "adam"}])))
    out = {} if draw(st.integers(0, 9)) == 0 else {"name": name}
    entry = registry.get(name) if isinstance(name, str) else None
    if entry is None:  # a bad name: give it another entry's parameters
        entry = registry[draw(st.sampled_from(list(registry)))]
    for p in entry.params:
        if draw(st.booleans()):
            out[p.name] = draw(value_for(p, steps))
    if draw(st.integers(0, 7)) == 0:  # an unknown field, often a near miss
        other = [p.name for _, e, p in _all_params() if p.name not in out]
        out[draw(st.sampled_from(other) | st.text(max_size=10) | st.sampled_from(
            [q.name.upper() for q in entry.params] + [" lr", "lr ", "T-max"]))] = \
            draw(json_values)
    return out


@st.composite
def configs(draw):
    """An adversarial config: mostly right in shape, wrong somewhere (or everywhere)."""
    if draw(st.integers(0, 24)) == 0:
        return draw(json_values)  # not even an object, or an object of anything
    steps = draw(st.one_of(st.integers(1, 300), st.integers(1, 300), st.integers(1, 10_000),
                           st.sampled_from(EDGE_INTS)))
    config = {}
    if draw(st.integers(0, 5)):
        config["steps"] = draw(st.one_of(st.just(steps), st.just(steps), json_values))
    for section in ("problem", "optimizer", "schedule"):
        if draw(st.integers(0, 4)):
            config[section] = draw(st.one_of(entries(section, steps), entries(section, steps),
                                             entries(section, steps), json_values))
    if draw(st.booleans()):
        config["start"] = draw(st.one_of(
            st.lists(st.floats(-5, 5), min_size=2, max_size=2),
            st.lists(st.sampled_from(EDGE_FLOATS), min_size=2, max_size=2), json_values))
    if draw(st.booleans()):
        config["warmup"] = draw(st.one_of(st.none(), st.fixed_dictionaries({}, optional={
            p.name: value_for(p, steps) for p in WARMUP.params}), json_values))
    if draw(st.integers(0, 9)) == 0:
        config[draw(st.text(max_size=12) | st.sampled_from(["epochs", "Steps", "seed"]))] = \
            draw(json_values)
    return config


@st.composite
def valid_shaped_configs(draw):
    """Configs of the right types everywhere, values anywhere in (and past) their domain:
    most of these run, so the arrays get checked."""
    steps = draw(st.integers(1, 400) | st.sampled_from([1, 2, 16, 17, 256, 257, 10_000]))
    config = {"steps": steps}
    for section, registry in SECTIONS.items():
        entry = registry[draw(st.sampled_from(list(registry)))]
        fields = {"name": entry.name}
        for p in entry.params:
            if draw(st.booleans()):
                fields[p.name] = draw(value_for(p, steps, wild=False))
        config[section] = fields
    if draw(st.booleans()):
        config["start"] = draw(st.lists(st.floats(-4, 4) | st.sampled_from(EDGE_FLOATS[:12]),
                                        min_size=2, max_size=2))
    if draw(st.booleans()):
        config["warmup"] = {"steps": draw(st.integers(1, max(1, steps))),
                            "start_factor": draw(st.floats(1e-6, 1.0) | st.sampled_from(
                                [1.0, 1e-30, 5e-324]))}
    return config


# --- The checks ---------------------------------------------------------------------------

def _paths(value, prefix: str, depth: int = 0):
    """Every key path in ``value`` (dotted keys, [i] for list items), a few levels deep."""
    if depth > 3:
        return
    if isinstance(value, dict):
        for k, v in list(value.items())[:200]:
            path = f"{prefix}.{k}" if prefix else str(k)
            yield path
            yield from _paths(v, path, depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:200]):
            yield f"{prefix}[{i}]"
            yield from _paths(v, f"{prefix}[{i}]", depth + 1)


SCHEMA_PATHS = {*TOP_LEVEL, "config", *(f"{s}.name" for s in SECTIONS),
                *(f"{s}.{p.name}" for s, _, p in _all_params()),
                "problem.f", "problem.window", "problem.blowup"}  # the typed surface's
"""Fields of the format a cross-field rule may name although the config left them out
(``schedule.total_steps`` defaults to the run's steps and can conflict with it)."""


def check_refusal(config, e: ConfigError) -> None:
    assert isinstance(e.field, str) and isinstance(e.message, str)
    assert e.message.strip(), f"empty message for {e.field!r}"
    assert len(e.message) <= 600, f"a {len(e.message)}-character message: {e.message[:200]}"
    assert str(e).startswith(f"{e.field}:")
    real = set(_paths(config, "")) | SCHEMA_PATHS
    assert e.field in real, f"{e.field!r} is not a field of {str(config)[:300]}"
    if e.field == "config":  # the whole config (unless it has a key named so)
        assert not isinstance(config, dict) or "config" in config


def check_result(config, result: dict) -> None:
    run = playground.resolve(config)
    n = run["steps"]
    for key, shape in (("lr", (n,)), ("momentum", (n,)), ("observed_loss", (n,)),
                       ("grad_norm", (n,)), ("loss", (n + 1,)), ("path", (n + 1, 2))):
        assert result[key].shape == shape, (key, result[key].shape, shape)
    d = result["diverged_at"]
    assert d is None or (isinstance(d, int) and 0 <= d <= n), d
    end = n + 1 if d is None else d
    surface = playground.SURFACES[run["problem"]["name"]]
    loss, path = result["loss"], result["path"]
    assert np.all(np.isfinite(loss[:end])) and np.all(loss[:end] <= surface.blowup)
    assert np.all(np.isfinite(path[:end]))
    assert np.all(np.isnan(loss[end:])) and np.all(np.isnan(path[end:]))
    for key in ("lr", "momentum", "observed_loss", "grad_norm"):
        assert np.all(np.isnan(result[key][end:])), key
    # lr: finite and >= 0 at every step; only the step that diverged the run may have
    # overflowed the float type (PyTorch's lr, a Python float, would not have)
    lr = result["lr"][:end]
    ok = np.isfinite(lr) & (lr >= 0)
    bad = np.flatnonzero(~ok)
    assert bad.size == 0 or (bad.tolist() == [end - 1] and d is not None), \
        f"lr not finite at steps {bad[:5].tolist()} (diverged_at {d}): {lr[bad[:5]]}"
    assert not np.any(np.isnan(result["observed_loss"][:min(end, n)]))


KNOWN_BUGS: dict = {
    # (exception, module, function where raised): the report's description, for a bug found
    # and not fixed yet. The ones found so far are fixed; their reproductions are below.
}
HITS: Counter = Counter()


def known_bug(e: BaseException) -> str | None:
    """The reported bug ``e`` is, judged by where in playground/ it was raised."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "playground" in f.filename]
    if not frames:
        return None
    where = (type(e), os.path.basename(frames[-1].filename)[:-3], frames[-1].name)
    return KNOWN_BUGS.get(where)


def run_or_refuse(config):
    """simulate(config): the result, or None if refused as the contract says."""
    try:
        result = playground.simulate(config)
    except ConfigError as e:
        check_refusal(config, e)
        HITS["refused"] += 1
        return None
    except Exception as e:  # noqa: BLE001 - anything else is a failure, unless reported
        bug = known_bug(e)
        if bug is None:
            raise
        HITS[bug] += 1
        note(f"known bug: {bug}")
        return None
    HITS["ran"] += 1
    return result


@pytest.fixture(scope="module", autouse=True)
def warm_engine():
    playground.warm_up()
    yield
    if HITS:
        sys.stderr.write("\nfuzz outcomes: " + json.dumps(HITS, indent=1) + "\n")


# --- The properties -----------------------------------------------------------------------

@FUZZ
@given(configs())
def test_adversarial_configs_run_or_are_refused_naming_the_field(config):
    result = run_or_refuse(config)
    if result is not None:
        check_result(config, result)


@FUZZ
@given(valid_shaped_configs())
def test_well_typed_configs_give_contract_arrays_or_a_named_refusal(config):
    result = run_or_refuse(config)
    if result is None:
        return
    check_result(config, result)
    # the canonical form and the link describe the same run
    canonical = playground.validate(config)
    assert playground.resolve(canonical) == playground.resolve(config)
    query = playground.to_query(config)
    try:
        back, pins = playground.from_query(query)
    except ConfigError:
        if "e+" not in query:
            raise
        HITS[LINK_PLUS_BUG] += 1  # reported: see LINK_PLUS_BUG
        return
    assert pins == [] and playground.resolve(back) == playground.resolve(config)


LINK_PLUS_BUG = ("to_query leaves the '+' of an exponent (1e+16 and up) unescaped; the "
                 "query decodes it as a space and the link is refused")


@FUZZ
@given(configs())
def test_validate_and_resolve_agree_with_simulate(config):
    """validate and resolve refuse exactly what simulate refuses, naming the same field."""
    outcomes = []
    for fn in (playground.validate, playground.resolve):
        try:
            fn(config)
            outcomes.append(None)
        except ConfigError as e:
            check_refusal(config, e)
            outcomes.append(e.field)
        except Exception as e:  # noqa: BLE001
            if known_bug(e) is None:
                raise
            HITS[known_bug(e)] += 1
            return
    # validate checks each field; resolve adds the rules across fields (filled defaults)
    if outcomes[0] is not None:
        assert outcomes[1] == outcomes[0]


QUERY_KEYS = ["steps", "start", "problem", "optimizer", "schedule", "warmup", "optimizer.lr",
              "optimizer.betas", "schedule.T_max", "schedule.milestones", "schedule.mode",
              "schedule.step_size_down", "schedule.total_steps", "warmup.steps",
              "warmup.start_factor", "problem.seed", "problem.a", "p1.steps", "p2.schedule",
              "p3.schedule.gamma", "p0.steps", "p10.optimizer", "p01.steps", "p1.",
              "p1.p2.steps", "p.steps", "P1.steps", "p-1.steps", "problem.name", "", ".",
              "..", "\U0001f600", "optimizer.LR", "warmup.x", "start.0"]
QUERY_VALUES = ["", "1", "0", "-1", "5", "500", "10000", "10001", "1.5", "1e-3", "1e999",
                "-1e999", "nan", "inf", "null", "true", "false", "on", "off", "1,2", "1,2,3",
                ",", " 1 , 2 ", "rosenbrock", "sgd", "adam", "CyclicLR", "OneCycleLR",
                "StepLR", "MultiStepLR", "triangular2", "exp_range", "lbfgs", "\u0661",
                "1" * 400, "0x10", "1_000", "%", "\x00", "\U0001f600"]


@st.composite
def query_strings(draw):
    pairs = draw(st.lists(st.tuples(
        st.sampled_from(QUERY_KEYS) | st.text(max_size=10),
        st.sampled_from(QUERY_VALUES) | st.text(max_size=10)), max_size=8))
    from urllib.parse import quote
    if draw(st.booleans()):
        return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    return draw(st.just("&".join(f"{k}={v}" for k, v in pairs)) | st.text(max_size=60))


@FUZZ
@given(query_strings())
def test_any_query_gives_valid_configs_or_a_refusal_naming_its_key(query):
    """from_query's documented behaviour: validated configs, or a ConfigError naming the
    key (the page then shows the defaults and that message)."""
    from urllib.parse import parse_qsl
    try:
        current, pins = playground.from_query(query)
    except ConfigError as e:
        assert e.message.strip()
        keys = {k for k, _ in parse_qsl(query.lstrip("?"), keep_blank_values=True)}
        prefixes = {k.split(".", 1)[0] + "." for k in keys} | {""}
        assert e.field in keys or any(
            e.field.startswith(p) and (e.field[len(p):].split("[")[0] in SCHEMA_PATHS)
            for p in prefixes), (e.field, query)
        HITS["query refused"] += 1
        return
    except Exception as e:  # noqa: BLE001
        if known_bug(e) is None:
            raise
        HITS[known_bug(e)] += 1
        return
    HITS["query opened"] += 1
    for config in [current, *pins]:
        assert isinstance(config, dict)
        playground.validate(config)


# --- The bugs found, exactly ----------------------------------------------------------------

def refused(call):
    def check():
        with pytest.raises(ConfigError):
            call()
    return check


def round_trips(config):
    def check():
        back, _ = playground.from_query(playground.to_query(config))
        assert playground.resolve(back) == playground.resolve(config)
    return check


def linear_decay_ends_at_zero(dtype_x64: bool):
    """LinearLR down to end_factor 0: from total_iters on the lr is 0, not a rounding's
    -3e-11 (optax.linear_schedule and PyTorch's closed form give exactly base * end)."""
    def check():
        config = {"steps": 256, "problem": {"name": "quadratic_bowl"},
                  "optimizer": {"name": "adam"},
                  "schedule": {"name": "LinearLR", "end_factor": 0.0, "total_iters": 25}}
        with jax.enable_x64(dtype_x64):
            lr = playground.simulate(config)["lr"]
        assert np.all(lr >= 0) and np.all(lr[25:] == 0), lr[20:30]
    return check


FOUND = {  # the bugs this fuzzer found (now fixed): what the contract says should happen
    "linear decay to 0 in float32": linear_decay_ends_at_zero(False),
    "linear decay to 0 in float64": linear_decay_ends_at_zero(True),
    "huge integer": refused(lambda: playground.simulate({"steps": 10**400})),
    "huge integer lr": refused(lambda: playground.simulate(
        {"optimizer": {"name": "sgd", "lr": 10**400}})),
    "list as a name": refused(lambda: playground.simulate({"problem": {"name": []}})),
    "object as a name": refused(lambda: playground.simulate({"schedule": {"name": {}}})),
    "deep value": refused(lambda: playground.simulate(
        {"optimizer": {"name": "sgd", "lr": _deep(5000)}})),
    "deep section": refused(lambda: playground.simulate({"problem": _deep(5000)})),
    "non-ASCII digit pin": refused(lambda: playground.from_query("p\u00b2.steps=5")),
    "4301-digit pin": refused(lambda: playground.from_query("p" + "9" * 4301 + ".steps=5")),
    "exponent in a link": round_trips({"schedule": {"name": "OneCycleLR",
                                                    "final_div_factor": 1e16}}),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_found_bug_stays_fixed(name):
    FOUND[name]()


def test_messages_name_the_field_and_stay_short():
    """A hostile value is refused with a message of readable length, naming the field."""
    for config, field in [({"optimizer": {"name": "sgd", "lr": _deep(5000)}}, "optimizer.lr"),
                          ({"problem": {"name": "x" * 100_000}}, "problem.name"),
                          ({"steps": 10**400}, "steps"),
                          ({"optimizer": {"name": "sgd", "lr": 1e39}}, "optimizer.lr")]:
        with pytest.raises(ConfigError) as e:
            playground.simulate(config)
        assert e.value.field == field
        assert len(str(e.value)) < 400, str(e.value)[:200]
