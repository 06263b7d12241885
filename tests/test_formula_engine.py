"""Typed surfaces wired into the run (docs/run-format.md §9.1): the config and its query
string, the engine (a new formula never compiles; built-in and typed runs agree), and the
page's formula box. References: the built-in surfaces' own runs and torch.optim."""
import jax
import numpy as np
import pytest
import torch

import playground
from playground import ConfigError, engine
from playground.config import from_query, resolve, to_query, validate
from tests.torch_reference import run_torch

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
BOWL = "(x^2 + y^2) / 2"


def formula_run(f, **extra):
    return {"problem": {"name": "formula", "f": f}, **extra}


# --- config and the query string --------------------------------------------------------

@pytest.mark.parametrize("text", [
    ROSENBROCK, "x + y", "x*y - 2/x", "sin(x)^2 + (y - 1)^2 / 4", "  exp(-(x^2+y^2))  ",
    "max(x, y) + min(x, -y) + 1e-3*x^2", "x^-2 + y"])
def test_a_formula_survives_the_query_string(text):
    config = formula_run(text, steps=40, start=[0.5, -0.25])
    query = to_query(config)
    assert "+" not in query and " " not in query and "^" not in query
    back, pins = from_query(query)
    assert back["problem"]["f"] == text and pins == []
    assert resolve(back) == resolve(config)
    assert from_query("?" + query)[0] == validate(config)


def test_window_and_blowup_round_trip_and_fill_the_defaults():
    config = {"problem": {"name": "formula", "f": "x^2 + y^2", "window": [-1, 2, -3, 5],
                          "blowup": 1e5}}
    assert resolve(from_query(to_query(config))[0]) == resolve(config)
    run = resolve(formula_run("x^2"))
    assert run["problem"] == {"name": "formula", "f": "x^2", "window": [-3.0, 3.0, -3.0, 3.0],
                              "blowup": 1e8}
    # the default start: a quarter of the way in from the window's top-left corner
    assert run["start"] == [-1.5, 1.5]
    assert resolve(config)["start"] == [-0.25, 3.0]


@pytest.mark.parametrize("problem, field", [
    ({"name": "formula"}, "problem.f"),
    ({"name": "formula", "f": "x^^2"}, "problem.f"),
    ({"name": "formula", "f": "import os"}, "problem.f"),
    ({"name": "formula", "f": "x", "window": [1, 0, 0, 1]}, "problem.window"),
    ({"name": "formula", "f": "x", "blowup": -1}, "problem.blowup"),
    ({"name": "formula", "f": "x", "a": 1}, "problem.a"),
])
def test_a_bad_formula_problem_is_a_config_error_naming_its_field(problem, field):
    with pytest.raises(ConfigError) as e:
        validate({"problem": problem})
    assert e.value.field == field


def test_a_bad_formula_in_the_query_names_the_field():
    with pytest.raises(ConfigError) as e:
        from_query("problem=formula&problem.f=x%5E%5E2")
    assert e.value.field == "problem.f" and "column 3" in e.value.message
    with pytest.raises(ConfigError) as e:
        from_query("problem=formula&problem.f=x&problem.window=1,2,x,4")
    assert e.value.field == "problem.window"


def test_the_command_line_simulates_a_formula(tmp_path, capsys):
    from playground import cli
    path = tmp_path / "run.json"
    import json
    path.write_text(json.dumps(formula_run(BOWL, steps=5, optimizer={"name": "sgd",
                                                                      "lr": 0.5})))
    cli.main(["simulate", str(path)])
    out = json.loads(capsys.readouterr().out)
    assert np.allclose(out["path"][-1], np.array([-1.5, 1.5]) * 0.5 ** 5)


# --- the engine ---------------------------------------------------------------------------

def test_a_new_formula_never_compiles():
    playground.warm_up()
    before = engine.TRACES["count"]
    seen = []
    for i, f in enumerate([ROSENBROCK, HIMMELBLAU, "3*x^2 + sin(y)", "abs(x) + y^4",
                           "exp(x/3) + cosh(y) - x*y", "max(x^2, y) + min(1, x*y)"]):
        r = playground.simulate(formula_run(f, steps=50 + i, optimizer={"name": "adam",
                                                                         "lr": 0.01}))
        seen.append(r["path"][-1])
    playground.simulate_batch([formula_run(BOWL), {"problem": {"name": "himmelblau"}},
                               formula_run("x^2 - y^2 + y^4/4", start=[-2.0, 0.01])])
    assert engine.TRACES["count"] == before
    assert all(np.all(np.isfinite(p)) for p in seen)


BUILT_IN = [("rosenbrock", ROSENBROCK, [-1.5, 2.0]),
            ("himmelblau", HIMMELBLAU, [-0.3, -0.9]),
            ("quadratic_bowl", BOWL, [-2.5, 2.0])]
OPTIMIZERS = [{"name": "sgd", "lr": 1e-3, "momentum": 0.9, "nesterov": True},
              {"name": "adam", "lr": 0.02}, {"name": "rmsprop", "lr": 0.01},
              {"name": "adagrad", "lr": 0.3}, {"name": "adamw", "lr": 0.05}]


@pytest.mark.parametrize("name, f, start", BUILT_IN)
def test_a_formula_runs_as_the_built_in_surface_it_spells(name, f, start):
    """The same function typed or built in: the same run, to float64 precision (every
    optimizer, with a schedule, warmup and clipping)."""
    common = {"start": start, "steps": 300, "warmup": {"steps": 20},
              "schedule": {"name": "CosineAnnealingLR", "T_max": 280},
              "clip_grad_norm": {"max_norm": 10.0}}
    with jax.enable_x64(True):
        for opt in OPTIMIZERS:
            if opt["name"] not in playground.OPTIMIZERS:
                continue
            want = playground.simulate({"problem": {"name": name}, "optimizer": opt, **common})
            got = playground.simulate(formula_run(f, optimizer=opt, **common))
            for key in ("path", "loss", "grad_norm", "clipped_grad_norm", "lr", "momentum"):
                # (the typed gradient sums its terms in another order: ulp-level
                # differences, which Rosenbrock's curvature and RMSprop's division amplify
                # over 300 steps to ~1e-7; one step agrees to the last bits, see below)
                np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=1e-9,
                                           err_msg=f"{name} {opt['name']} {key}")
            assert got["diverged_at"] == want["diverged_at"]


@pytest.mark.parametrize("name, f, start", BUILT_IN)
def test_one_step_from_many_points_agrees_to_the_last_bits(name, f, start):
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for point in rng.uniform(-3, 3, (8, 2)):
            common = {"start": list(point), "steps": 1, "optimizer": {"name": "sgd",
                                                                       "lr": 1e-4}}
            want = playground.simulate({"problem": {"name": name}, **common})
            got = playground.simulate(formula_run(f, **common))
            for key in ("path", "loss", "grad_norm"):
                np.testing.assert_allclose(got[key], want[key], rtol=1e-13, atol=1e-13)


def test_a_formula_run_diverges_at_its_own_blowup():
    with jax.enable_x64(True):
        cfg = {"problem": {"name": "formula", "f": "x^2 + y^2", "blowup": 100.0},
               "start": [1.0, 1.0], "steps": 50, "optimizer": {"name": "sgd", "lr": 1.5}}
        r = playground.simulate(cfg)
        torch_r = run_torch(resolve(cfg), blowup=100.0, loss_fn=lambda p: p[0]**2 + p[1]**2)
    # the loss grows 4x a step from 2: 2, 8, 32, 128 > 100 at step 3
    assert r["diverged_at"] == torch_r["diverged_at"] == 3


TORCH_FORMULAS = [
    ("sin(x)*y^2 + (x - 1)^2 / 4 + exp(-y) + abs(x*y)",
     lambda p: torch.sin(p[0]) * p[1] ** 2 + (p[0] - 1) ** 2 / 4 + torch.exp(-p[1])
     + torch.abs(p[0] * p[1]), [1.2, 0.7]),
    ("log(1 + x^2) + sqrt(y^2 + 1) + tanh(x - y) + max(x, -y)^2",
     lambda p: torch.log(1 + p[0] ** 2) + torch.sqrt(p[1] ** 2 + 1) + torch.tanh(p[0] - p[1])
     + torch.maximum(p[0], -p[1]) ** 2, [-1.0, 2.0]),
]


@pytest.mark.parametrize("f, torch_f, start", TORCH_FORMULAS)
@pytest.mark.parametrize("opt", [{"name": "sgd", "lr": 0.02, "momentum": 0.5},
                                 {"name": "adam", "lr": 0.05}])
def test_a_formula_run_matches_torch_autograd_and_optim(f, torch_f, start, opt):
    cfg = formula_run(f, start=start, steps=200, optimizer=opt,
                      schedule={"name": "StepLR", "step_size": 50, "gamma": 0.5})
    with jax.enable_x64(True):
        got = playground.simulate(cfg)
    want = run_torch(resolve(cfg), loss_fn=torch_f)
    for key in ("path", "loss", "grad_norm", "lr"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-12, err_msg=key)
    assert got["diverged_at"] == want["diverged_at"] is None


def test_a_vmap_of_the_trajectory_and_a_sweep_run_formula_runs():
    """``_trajectory(fvec, ivec, n_active)`` vmapped over the float vector (the int vector
    shared), and ``playground.sweep``: each run is the single run's."""
    from playground import sweeps
    runs = [resolve(formula_run(ROSENBROCK, steps=100, optimizer={"name": "adam", "lr": lr}))
            for lr in (0.01, 0.03)]
    packed = [engine.pack(r) for r in runs]
    assert np.array_equal(packed[0][1], packed[1][1])
    vmapped = jax.jit(jax.vmap(engine._trajectory, in_axes=(0, None, None)))
    _, finals, _ = vmapped(np.stack([fv for fv, _ in packed]), packed[0][1], np.int32(100))
    for k, run in enumerate(runs):
        np.testing.assert_allclose(np.asarray(finals)[k, 1:],
                                   playground.simulate(run)["path"][-1], rtol=1e-5)
    swept = sweeps.sweep(formula_run(HIMMELBLAU, steps=60), "optimizer.lr", [0.01, 0.05])
    for lr, got in zip([0.01, 0.05], swept):
        want = playground.simulate(formula_run(HIMMELBLAU, steps=60,
                                               optimizer={"name": "adam", "lr": lr}))
        np.testing.assert_array_equal(got["path"], want["path"])


# --- the page: the formula box through the main callback ----------------------------------

FORMULA_KEY = "problem.formula.f"


def _page_config(f):
    from playground.web import form
    return {**form.DEFAULT_CONFIG, "problem": {"name": "formula", "f": f}, "start": [-1.5, 1.5]}


def _find(component, pred):
    out = [component] if pred(component) else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            out += _find(child, pred)
    return out


def test_your_formula_is_last_in_the_picker_under_its_own_heading():
    from playground.web.controls import picker_options
    options = picker_options("problem")
    assert [o["value"] for o in options[-2:]] == ["group: formula", "formula"]
    assert options[-2]["disabled"] and options[-1]["label"] == "Your formula"
    assert sum(o["value"] == "formula" for o in options) == 1


def test_picking_your_formula_shows_the_box_and_draws_its_map():
    from tests.test_page import operations, update
    from playground.web import figures as fig
    from playground.web import form
    config = _page_config(form.FORMULA_F.default)
    out = update("problem", config, surface_key="rosenbrock",
                 shown=form.form_from_config(form.DEFAULT_CONFIG)[0])
    assert out["errors"] == {}
    boxes = _find(out["problem_params"], lambda c: getattr(c, "id", None) == {
        "type": "param", "key": FORMULA_KEY})
    assert len(boxes) == 1 and boxes[0].value == form.FORMULA_F.default
    examples = _find(out["problem_params"], lambda c: getattr(c, "id", None) ==
                     "formula-example")
    assert {o["label"] for o in examples[0].options} >= {"Rosenbrock", "Himmelblau",
                                                         "Saddle with walls", "Rastrigin"}
    # the address holds the formula, and opens the same run
    assert from_query(out["query"].split("?", 1)[1])[0]["problem"] == config["problem"]
    path_ops = operations(out["path_fig"])
    image, = path_ops[("layout", "images")]
    assert image["source"] == fig.surface_image(resolve(config))["source"]
    assert list(path_ops[("layout", "xaxis", "range")]) == [-3.0, 3.0]


def test_a_new_formula_redraws_the_map_from_the_formula_without_compiling():
    """The map's values are the built-in Himmelblau's on the same grid; the star sits at
    the lowest point of the grid search; nothing compiles."""
    from tests.test_page import decode, operations, update
    from playground.surfaces import himmelblau
    playground.warm_up()
    before = engine.TRACES["count"]
    out = update(FORMULA_KEY, _page_config(HIMMELBLAU), surface_key="other",
                 **{FORMULA_KEY: HIMMELBLAU})
    assert out["errors"] == {} and engine.TRACES["count"] == before
    heat = operations(out["path_fig"])[("data", 0)]
    xs, ys = decode(heat["x"]), decode(heat["y"])
    f = decode(heat["customdata"]).reshape(len(ys), len(xs))
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_allclose(f, himmelblau(np.stack([gx, gy]), {}), rtol=1e-6, atol=1e-4)
    star = operations(out["path_fig"])[("data", 1)]
    lowest = playground.formula.lowest_point(playground.formula.program_for(HIMMELBLAU))
    assert np.allclose([decode(star["x"])[0], decode(star["y"])[0]], lowest[:2])
    assert abs(himmelblau(np.array(lowest[:2]), {})) < 0.5  # near one of its four zeros
    assert "problem.f=%28x%5E2%20%2B%20y%20-%2011%29" in out["query"]


def test_a_wrong_formula_gets_its_message_beside_the_box_and_keeps_the_plots():
    from tests.test_page import update
    out = update(FORMULA_KEY, _page_config(ROSENBROCK), **{FORMULA_KEY: "(1 - x)^2 + 100*y)"})
    message = out["errors"][FORMULA_KEY]
    assert "column 18" in message
    assert out["path_fig"] is dash_no_update() and out["query"] is dash_no_update()
    out = update(FORMULA_KEY, _page_config(ROSENBROCK), **{FORMULA_KEY: "   "})
    assert out["errors"][FORMULA_KEY].startswith("Required")


def dash_no_update():
    import dash
    return dash.no_update


@pytest.mark.browser
def test_the_formula_box_in_a_browser(page):
    """Pick "Your formula", type a wrong formula (its message), pick an example (the box,
    the address and the plots follow)."""
    from browser_helpers import choose, set_input, trace, wait_until
    choose(page, "problem", "Your formula")
    wait_until(lambda: "problem=formula" in page.driver.current_url, page=page)
    box = 'input[id*="problem.formula.f"]'
    set_input(page, box, "(1 - x)^2 + 100*y)")
    message = wait_until(lambda: page.driver.execute_script(
        "var m = document.getElementById(JSON.stringify("
        "{key: 'problem.formula.f', type: 'msg'})); return m && m.innerText;"), page=page)
    assert "column 18" in message
    choose(page, "formula-example", "Himmelblau")
    wait_until(lambda: "problem.f=%28x%5E2%20%2B%20y%20-%2011%29" in page.driver.current_url,
               page=page)
    assert page.find_element(box).get_attribute("value") == HIMMELBLAU
    config = from_query(page.driver.current_url.split("?", 1)[1])[0]
    want = playground.simulate(config)
    wait_until(lambda: np.allclose(trace(page, "loss-graph", 0), want["loss"], rtol=1e-5),
               page=page)
