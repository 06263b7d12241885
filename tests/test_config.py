"""The config: every kind of bad value is refused with a message naming the field; links
and the command line agree with the engine."""
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import playground
from playground import ConfigError, cli, from_query, page_path, resolve, to_query, validate

GOOD = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
        "optimizer": {"name": "adam", "lr": 0.05, "betas": [0.9, 0.999], "eps": 1e-8},
        "schedule": {"name": "CosineAnnealingLR", "T_max": 450, "eta_min": 0.0001},
        "warmup": {"steps": 50, "start_factor": 0.01}}


def with_(path: str, value):
    """GOOD with one field replaced (path like 'schedule.T_max'; value DELETE removes it)."""
    config = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


BAD = [  # (config, field named in the message, words the message must contain)
    (with_("problem.name", "no_such_surface"), "problem.name", "one of"),
    (with_("optimizer.name", "lbfgs"), "optimizer.name", "sgd"),
    (with_("schedule.name", "CosineLR"), "schedule.name", "CosineAnnealingLR"),
    ({**GOOD, "epochs": 3}, "epochs", "unknown field"),
    (with_("optimizer.momentum", 0.9), "optimizer.momentum", "unknown field"),
    (with_("schedule.gamma", 0.5), "schedule.gamma", "unknown field"),
    (with_("optimizer.lr", "0.05"), "optimizer.lr", "a number"),
    (with_("optimizer.lr", True), "optimizer.lr", "a number"),
    (with_("optimizer.lr", float("nan")), "optimizer.lr", "finite"),
    (with_("optimizer.lr", float("inf")), "optimizer.lr", "finite"),
    (with_("optimizer.lr", -0.1), "optimizer.lr", ">= 0"),
    (with_("steps", 0), "steps", ">= 1"),
    (with_("steps", playground.MAX_STEPS + 1), "steps", f"<= {playground.MAX_STEPS}"),
    (with_("steps", 12.5), "steps", "integer"),
    (with_("schedule.T_max", 0), "schedule.T_max", ">= 1"),
    (with_("start", [1.0]), "start", "pair"),
    (with_("start", [1.0, "a"]), "start[1]", "pair of numbers"),
    (with_("optimizer.betas", [0.9, 1.0]), "optimizer.betas[1]", "< 1"),
    (with_("warmup.start_factor", 0.0), "warmup.start_factor", "> 0"),
    (with_("warmup.steps", 501), "warmup.steps", "at most steps"),
    (with_("warmup", 5), "warmup", "object"),
    (with_("problem", "rosenbrock"), "problem", "object"),
    ({**GOOD, "schedule": {"name": "MultiStepLR", "milestones": [30, "x"]}},
     "schedule.milestones[1]", "integer"),
    ({**GOOD, "schedule": {"name": "MultiStepLR", "milestones": [30, -1]}},
     "schedule.milestones[1]", ">= 0"),
    ({**GOOD, "schedule": {"name": "MultiStepLR", "milestones": [2.5]}},
     "schedule.milestones[0]", "integer"),
    ({**GOOD, "schedule": {"name": "MultiStepLR", "milestones": 30}},
     "schedule.milestones", "list"),
    ({**GOOD, "schedule": {"name": "StepLR", "gamma": 0}}, "schedule.gamma", "> 0"),
    ({**GOOD, "schedule": {"name": "ExponentialLR", "gamma": -0.5}}, "schedule.gamma", "> 0"),
    ({**GOOD, "schedule": {"name": "LinearLR", "start_factor": 0}},
     "schedule.start_factor", "> 0"),
    ({**GOOD, "schedule": {"name": "CyclicLR", "mode": "sawtooth"}}, "schedule.mode",
     "triangular2"),
    ({**GOOD, "schedule": {"name": "CyclicLR", "step_size_up": 0}},
     "schedule.step_size_up", ">= 1"),
    ({**GOOD, "warmup": None, "schedule": {"name": "OneCycleLR", "total_steps": 10,
                                           "pct_start": 0.1}}, "schedule.total_steps",
     "at least"),
    ({**GOOD, "warmup": None, "steps": 10,
      "schedule": {"name": "OneCycleLR", "pct_start": 0.1}}, "schedule.pct_start",
     "zero length"),
    ({**GOOD, "schedule": {"name": "ReduceLROnPlateau", "factor": 1.0}},
     "schedule.factor", "< 1"),
    ({**GOOD, "schedule": {"name": "CosineAnnealingWarmRestarts", "T_mult": 0}},
     "schedule.T_mult", ">= 1"),
    ({**GOOD, "optimizer": {"name": "sgd", "nesterov": True}}, "optimizer.nesterov",
     "momentum > 0"),
    ({**GOOD, "problem": {"name": "noisy_quadratic", "seed": -1}}, "problem.seed", ">= 0"),
    ({**GOOD, "problem": {"name": "elongated_valley", "condition": 0}},
     "problem.condition", "> 0"),
    ([1, 2], "config", "JSON object"),
]


@pytest.mark.parametrize("config, field, words", BAD, ids=[f"{b[1]}-{i}" for i, b in
                                                           enumerate(BAD)])
def test_bad_values_are_refused_naming_the_field(config, field, words):
    with pytest.raises(ConfigError) as e:
        playground.simulate(config)
    assert e.value.field == field
    assert str(e.value).startswith(field + ":")
    assert words in str(e.value), str(e.value)


def test_omitted_fields_take_pytorch_defaults_and_the_surface_start():
    run = resolve({"problem": {"name": "elongated_valley"}, "optimizer": {"name": "rmsprop"},
                   "schedule": {"name": "OneCycleLR"}})
    assert run["problem"] == {"name": "elongated_valley", "condition": 25.0}
    assert run["start"] == list(playground.SURFACES["elongated_valley"].start)
    assert run["optimizer"] == {"name": "rmsprop", "lr": 0.01, "alpha": 0.99, "eps": 1e-8,
                                "momentum": 0.0, "centered": False, "weight_decay": 0.0}
    one_cycle = run["schedule"]
    assert (one_cycle["total_steps"], one_cycle["max_lr"], one_cycle["pct_start"],
            one_cycle["div_factor"]) == (run["steps"], 0.01, 0.3, 25.0)
    assert run["warmup"] is None


def test_derived_defaults_span_the_run_after_warmup():
    run = resolve({"steps": 400, "warmup": {"steps": 100},
                   "schedule": {"name": "CosineAnnealingLR"}})
    assert run["schedule"]["T_max"] == 300
    run = resolve({"steps": 400, "schedule": {"name": "MultiStepLR"}})
    assert run["schedule"]["milestones"] == [200, 300]


def test_validate_keeps_only_what_was_given():
    assert validate({"optimizer": {"name": "sgd", "lr": 0.1}}) == {
        "problem": {"name": "rosenbrock"}, "optimizer": {"name": "sgd", "lr": 0.1},
        "schedule": {"name": "constant"}}


QUERY_CASES = [GOOD, {},
               {"schedule": {"name": "MultiStepLR", "milestones": [10, 10, 40]}},
               {"schedule": {"name": "CyclicLR", "step_size_down": None, "mode": "exp_range",
                             "gamma": 0.99, "cycle_momentum": False}},
               {"problem": {"name": "noisy_quadratic", "noise_std": 0.25, "seed": 42},
                "start": [0.1 + 0.2, -1e-7]}]


@pytest.mark.parametrize("config", QUERY_CASES)
def test_query_round_trips_to_the_same_run(config):
    query = to_query(config)
    back, pins = from_query(query)
    assert pins == []
    assert resolve(back) == resolve(config)


def test_page_path_carries_pinned_runs():
    pin = {"schedule": {"name": "StepLR", "step_size": 30}}
    path = page_path(GOOD, [pin, {}])
    assert path.startswith("/?problem=rosenbrock&")
    current, pins = from_query(path.split("?", 1)[1])
    assert resolve(current) == resolve(GOOD)
    assert [resolve(p) for p in pins] == [resolve(pin), resolve({})]


@pytest.mark.parametrize("query, field", [
    ("optimizer=adam&optimizer.lr=fast", "optimizer.lr"),
    ("schedule=StepLR&schedule.T_max=3", "schedule.T_max"),
    ("colour=red", "colour"),
    ("p1.steps=-4", "p1.steps"),
    ("schedule=MultiStepLR&schedule.milestones=30,x", "schedule.milestones"),
])
def test_bad_queries_name_the_key(query, field):
    with pytest.raises(ConfigError) as e:
        from_query(query)
    assert e.value.field == field


def _cli(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "playground", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


def test_cli_simulate_prints_the_result_as_json(tmp_path, cli_env):
    config = {"problem": {"name": "quadratic_bowl"}, "start": [1.0, 1.0], "steps": 20,
              "optimizer": {"name": "sgd", "lr": 3.0}}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(config))
    out = _cli(cli_env, "simulate", str(path))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    want = playground.simulate(config)
    assert got["diverged_at"] == want["diverged_at"] == 10
    assert got["path"][10] == [None, None]  # NaN is written as null
    np.testing.assert_allclose(np.array(got["lr"][:10]), want["lr"][:10])
    np.testing.assert_allclose(np.array(got["path"][:10]), want["path"][:10], rtol=1e-6)


def _cli_here(monkeypatch, capsys, *args, stdin=None):
    """The command's ``main`` in this process (its exit status, stdout, stderr): its
    reading and refusing are the same code as in a process of its own (which
    test_cli_simulate_prints_the_result_as_json and tests/test_cli.py run), without a
    JAX start-up per call."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    capsys.readouterr()
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_reads_standard_input_and_refuses_bad_configs_with_status_2(monkeypatch, capsys):
    status, out, err = _cli_here(monkeypatch, capsys, "simulate", "-", stdin='{"steps": 0}')
    assert status == 2 and out == ""
    assert "steps:" in err and "Traceback" not in err
    status, _, err = _cli_here(monkeypatch, capsys, "simulate", "-", stdin="{not json")
    assert status == 2 and "not valid JSON" in err
    status, _, err = _cli_here(monkeypatch, capsys, "simulate", "/nonexistent/run.json")
    assert status == 2 and "cannot read" in err


def test_cli_refuses_hostile_documents_with_status_2_and_no_traceback(tmp_path, monkeypatch,
                                                                        capsys):
    binary = tmp_path / "run.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    for args, stdin, says in [
            (("simulate", "-"), "[" * 100_000 + "]" * 100_000, "nested too deeply"),
            (("simulate", "-"), '{"steps": ' + "9" * 5000 + "}", "4,300 digits"),
            (("url", "-"), '{"optimizer": {"name": "sgd", "lr": 1e39}}', "optimizer.lr"),
            (("simulate", str(binary)), None, "not UTF-8")]:
        status, out, err = _cli_here(monkeypatch, capsys, *args, stdin=stdin)
        assert status == 2, err[-300:]
        assert says in err and out == ""


def test_cli_url_prints_the_page_path(monkeypatch, capsys):
    status, out, _ = _cli_here(monkeypatch, capsys, "url", "-", stdin=json.dumps(GOOD))
    assert status == 0
    assert out.strip() == page_path(GOOD)
    current, _ = from_query(out.strip().split("?", 1)[1])
    assert resolve(current) == resolve(GOOD)
    assert math.isclose(resolve(current)["schedule"]["eta_min"], 0.0001)
