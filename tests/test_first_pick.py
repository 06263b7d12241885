"""A schedule picked on the page shows its character in the run at hand.

The page opens with 500 steps (50 of them warmup). PyTorch's defaults are sized for
training runs of thousands of steps (CyclicLR's step_size_up is 2000), so the page writes
its own first-pick values (``Param.first_pick``) into the form when a student picks a
schedule. Each test goes the student's way through the functions the main callback calls
(``controls.read_form`` for a surface, an optimizer, the warmup switch, a schedule), runs
the config the form then holds with ``playground.simulate`` and counts what a student
would look for on the lr plot: cycles, drops, restarts, reductions. Every surface in the
registry, every optimizer at its preset lr, the warmup on and off.

The API's defaults stay PyTorch's: checked against the signatures of
``torch.optim.lr_scheduler`` itself.
"""
import inspect

import numpy as np
import pytest

import playground
from playground.config import SECTIONS, from_query, page_path
from playground.optimizers import OPTIMIZERS
from playground.schedules import SCHEDULES
from playground.surfaces import SURFACES
from playground.web import form
from playground.web.controls import STABLE_IDS, read_form

WARMUP_SCHEDULES = [name for name, s in SCHEDULES.items() if s.warms_up]


# --- The student's way through the form ---------------------------------------------------

def change(config: dict, trigger: str, value=None):
    """What the page's form holds after ``trigger`` changes on a page showing ``config``:
    a picker gets the entry ``value``, the warmup switch is set to ``value`` (a bool).
    The controls sent are those on the page: the chosen entries' and the warmup's."""
    choice, values, warmup_on = form.form_from_config(config)
    params = {f.key: values[f.key] for f in form.FIELDS if f.key not in STABLE_IDS
              and (f.section == "warmup" or f.entry == choice.get(f.section))}
    if trigger in SECTIONS:
        choice = {**choice, trigger: value}
    elif trigger == "warmup-on":
        warmup_on = value
    read = read_form(trigger, choice, ["on"] if warmup_on else [], values["run.run.lr"],
                     None, values["run.run.steps"], values["run.run.start_x"],
                     values["run.run.start_y"], params, None)
    assert read.config is not None, read.errors
    return read


def page_for(surface: str, optimizer: str, warmup_on: bool) -> dict:
    """The config of the page after a student picked the surface and the optimizer (each
    brings its preset lr) and set the warmup switch, starting from the page as it opens."""
    config = form.DEFAULT_CONFIG
    if surface != config["problem"]["name"]:
        config = change(config, "problem", surface).config
    if optimizer != config["optimizer"]["name"]:
        config = change(config, "optimizer", optimizer).config
    return change(config, "warmup-on", warmup_on).config


def pick(surface, optimizer, warmup_on, schedule):
    """(the form's config after picking ``schedule``, its FormRead, its result)."""
    read = change(page_for(surface, optimizer, warmup_on), "schedule", schedule)
    return read.config, read, playground.simulate(read.config)


def cases():
    return [(o, w) for o in OPTIMIZERS for w in (True, False)]


def scheduled(config, result) -> tuple[np.ndarray, int]:
    """The lr from the schedule's first step on (after any warmup), and the span."""
    run = playground.resolve(config)
    w = (run["warmup"] or {}).get("steps", 0)
    return np.asarray(result["lr"], float)[w:], run["steps"] - w


def ups_and_downs(lr: np.ndarray):
    """Indices where the lr jumps up / falls by more than rounding."""
    d = np.diff(lr)
    scale = np.max(np.abs(lr))
    return np.flatnonzero(d > 1e-6 * scale) + 1, np.flatnonzero(d < -1e-6 * scale) + 1


def full_cycles(lr: np.ndarray) -> int:
    """Full triangles: each time the lr came back to its lowest after reaching its peak."""
    low, high = lr.min(), lr.max()
    near_low, near_high = lr <= low + 0.02 * (high - low), lr >= high - 0.02 * (high - low)
    cycles, been_high = 0, False
    for lo, hi in zip(near_low, near_high):
        been_high |= hi
        if lo and been_high:
            cycles, been_high = cycles + 1, False
    return cycles


def where(surface, optimizer, warmup_on):
    return f"{surface}, {optimizer} at its preset lr, warmup {'on' if warmup_on else 'off'}"


SURFACE_NAMES = [n for n in SURFACES if n != "formula"]  # typed: tests/test_formula_engine


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_every_preset_lr_makes_progress_without_diverging(surface):
    """The lr a surface or optimizer brings into the form (LR_PRESETS, or sized to a
    surface it does not list yet): a constant-lr run lowers the loss and stays finite."""
    for optimizer in OPTIMIZERS:
        config = {"problem": {"name": surface}, "steps": 500,
                  "optimizer": {"name": optimizer, "lr": form.lr_preset(surface, optimizer)}}
        result = playground.simulate(config)
        assert result["diverged_at"] is None, (surface, optimizer)
        assert result["loss"][-1] < result["loss"][0], (surface, optimizer)


# --- Each schedule's character ------------------------------------------------------------

@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_cyclic_lr_makes_at_least_two_full_cycles(surface):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, "CyclicLR")
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        lr, span = scheduled(config, result)
        assert full_cycles(lr) >= 2, f"{at}: {full_cycles(lr)} cycles"


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_one_cycle_rises_once_falls_once_and_ends_at_its_final_lr(surface):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, "OneCycleLR")
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        lr, span = scheduled(config, result)
        run = playground.resolve(config)["schedule"]
        peak = int(np.argmax(lr))
        assert np.all(np.diff(lr[:peak + 1]) > 0) and np.all(np.diff(lr[peak:]) < 0), at
        assert lr[peak] == pytest.approx(run["max_lr"], rel=1e-3), at
        final = run["max_lr"] / (run["div_factor"] * run["final_div_factor"])
        assert lr[-1] == pytest.approx(final, rel=1e-3), at  # at the run's last step
        assert lr[-1] < lr[0] / 1000, at  # far below its start: not stopped at 5% of peak


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_warm_restarts_restart_at_least_twice(surface):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, "CosineAnnealingWarmRestarts")
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        lr, _ = scheduled(config, result)
        restarts, _ = ups_and_downs(lr)
        assert len(restarts) >= 2, at
        assert np.all(lr[restarts] == pytest.approx(lr[0], rel=1e-5)), at  # to the full lr


@pytest.mark.parametrize("schedule", ["StepLR", "MultiStepLR"])
@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_step_decays_drop_at_least_twice(surface, schedule):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, schedule)
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        lr, _ = scheduled(config, result)
        rises, drops = ups_and_downs(lr)
        assert len(drops) >= 2 and len(rises) == 0, at


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_reduce_on_plateau_cuts_the_lr_where_the_loss_stalls(surface):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, "ReduceLROnPlateau")
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        run = playground.resolve(config)
        p, w = run["schedule"], (run["warmup"] or {}).get("steps", 0)
        lr = np.asarray(result["lr"], float)
        _, cuts = ups_and_downs(lr[w:])
        assert len(cuts) >= 1, f"{at}: the lr never fell"
        # before the first cut, the loss the plateau watched had stalled: over the last
        # `patience` + 1 steps it never beat the best before them by the threshold
        t = w + cuts[0]  # lr[t] is the first reduced lr: decided on the losses up to t - 1
        seen = np.asarray(result["observed_loss"], float)
        window = seen[t - p["patience"] - 1:t]
        before = seen[w:t - p["patience"] - 1].min()
        assert p["threshold_mode"] == "abs"
        assert window.min() >= before - p["threshold"] - 1e-6 * abs(before), at


def test_reduce_on_plateau_reduces_on_the_page_as_it_opens():
    config, _, result = pick("rosenbrock", "adam", True, "ReduceLROnPlateau")
    assert config["optimizer"]["lr"] == form.DEFAULT_CONFIG["optimizer"]["lr"]
    assert playground.resolve(config)["warmup"] == \
        playground.resolve(form.DEFAULT_CONFIG)["warmup"]
    lr = np.asarray(result["lr"])
    assert lr[-1] < lr[50] / 2


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_exponential_decay_shows_in_the_first_tenth_and_ends_near_one_percent(surface):
    for optimizer, warmup_on in cases():
        config, _, result = pick(surface, optimizer, warmup_on, "ExponentialLR")
        at = where(surface, optimizer, warmup_on)
        assert result["diverged_at"] is None, at
        lr, span = scheduled(config, result)
        assert 0.3 < lr[span // 10] / lr[0] < 0.97, at
        assert 0.005 < lr[-1] / lr[0] < 0.02, at


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_polynomial_and_linear_schedules_span_the_run(surface):
    for optimizer, warmup_on in cases():
        at = where(surface, optimizer, warmup_on)
        config, _, result = pick(surface, optimizer, warmup_on, "PolynomialLR")
        lr, span = scheduled(config, result)
        assert lr[span // 2] == pytest.approx(lr[0] / 2, rel=0.02), at  # power 1: a line
        assert 0 < lr[-1] < lr[0] / 50, at
        config, _, result = pick(surface, optimizer, warmup_on, "LinearLR")
        lr, span = scheduled(config, result)
        assert lr[0] < lr[span // 4] < lr[span // 2 - 1] < lr[-1], at  # still rising mid-run


# --- The warmup and the link ---------------------------------------------------------------

def _find(component, predicate):
    found, stack = [], [component]
    while stack:
        c = stack.pop()
        if predicate(c):
            found.append(c)
        children = getattr(c, "children", None)
        stack += [x for x in (children if isinstance(children, list) else [children])
                  if hasattr(x, "to_plotly_json")]
    return found


def _by_id(component, component_id):
    found = _find(component, lambda c: getattr(c, "id", None) == component_id)
    assert len(found) == 1, component_id
    return found[0]


@pytest.mark.parametrize("schedule", WARMUP_SCHEDULES)
def test_a_schedule_that_warms_up_itself_turns_the_warmup_off_and_says_why(schedule):
    config, read, _ = pick("rosenbrock", "adam", True, schedule)
    assert "warmup" not in config
    group = read.groups[list(SECTIONS).index("schedule")]
    assert _by_id(group, "warmup-on").value == []
    note = _by_id(group, "warmup-note")
    assert note.children == f"{schedule} warms up by itself: warmup off"
    assert not note.hidden
    # the student may switch it back on: the warmup comes back, and stays
    back = change(config, "warmup-on", True).config
    assert back["warmup"] == {} and back["schedule"]["name"] == schedule
    result = playground.simulate(back)
    assert result["diverged_at"] is None
    if schedule == "OneCycleLR":  # its length follows the span: it still ends on time
        run = playground.resolve(back)["schedule"]
        final = run["max_lr"] / (run["div_factor"] * run["final_div_factor"])
        assert result["lr"][-1] == pytest.approx(final, rel=1e-3)


def test_other_schedules_leave_the_warmup_as_it_was():
    for warmup_on in (True, False):
        config, read, _ = pick("rosenbrock", "adam", warmup_on, "StepLR")
        assert ("warmup" in config) == warmup_on
        group = read.groups[list(SECTIONS).index("schedule")]
        assert _by_id(group, "warmup-on").value == (["on"] if warmup_on else [])
        assert _by_id(group, "warmup-note").hidden


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_the_link_after_a_pick_holds_the_whole_run(schedule):
    """The first-pick values are explicit in the config, hence in the address: the link
    opens the same run however the API's defaults follow the run."""
    config, read, result = pick("rosenbrock", "adam", True, schedule)
    linked, _ = from_query(page_path(config).split("?", 1)[1])
    np.testing.assert_array_equal(playground.simulate(linked)["lr"], result["lr"])
    first_picks = [p.name for p in SCHEDULES[schedule].params if p.first_pick is not None]
    for name in first_picks:
        value = playground.resolve(config)["schedule"][name]
        if value != SCHEDULES[schedule].param(name).default:
            assert name in config["schedule"], name
    # the controls drawn for the new schedule show those values
    group = read.groups[list(SECTIONS).index("schedule")]
    for name in first_picks:
        control = _by_id(group, {"type": "param", "key": f"schedule.{schedule}.{name}"})
        shown = control.value
        want = playground.resolve(config)["schedule"][name]
        assert shown == want or (isinstance(want, bool) and shown == (["on"] if want else []))


# --- The API's defaults stay PyTorch's ------------------------------------------------------

def _torch_defaults(name: str) -> dict:
    torch = pytest.importorskip("torch")
    signature = inspect.signature(getattr(torch.optim.lr_scheduler, name).__init__)
    return {k: p.default for k, p in signature.parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("schedule", [n for n in SCHEDULES if n != "constant"])
def test_the_api_defaults_are_pytorchs_constructor_defaults(schedule):
    torch_defaults = _torch_defaults(schedule)
    compared = 0
    for p in SCHEDULES[schedule].params:
        if p.name not in torch_defaults or torch_defaults[p.name] is None:
            continue  # PyTorch requires it (or computes it): the playground derives it
        theirs = torch_defaults[p.name]
        if p.name == "mode" and schedule == "ReduceLROnPlateau":
            continue
        assert p.default == theirs, (schedule, p.name, p.default, theirs)
        compared += 1
    assert compared or schedule == "ExponentialLR"


def test_pytorch_required_or_derived_defaults_are_unchanged_except_one_cycles_length():
    def run(schedule):
        return playground.resolve({"steps": 300, "warmup": {"steps": 60},
                                   "optimizer": {"name": "adam", "lr": 0.1},
                                   "schedule": {"name": schedule}})["schedule"]

    assert run("ExponentialLR")["gamma"] == 0.99
    assert run("CyclicLR")["step_size_up"] == 2000
    assert (run("ReduceLROnPlateau")["patience"], run("ReduceLROnPlateau")["threshold"],
            run("ReduceLROnPlateau")["threshold_mode"]) == (10, 1e-4, "rel")
    # OneCycleLR's total_steps: the scheduler's steps after the warmup, so the cycle ends
    # on the run's last step (equal to `steps` without a warmup)
    assert run("OneCycleLR")["total_steps"] == 240
    assert playground.resolve({"schedule": {"name": "OneCycleLR"}})["schedule"][
        "total_steps"] == 500


@pytest.mark.parametrize("config", [
    {"steps": 120, "warmup": {"steps": 20, "start_factor": 0.1},
     "problem": {"name": "quadratic_bowl"}, "optimizer": {"name": "sgd", "lr": 0.3},
     "schedule": {"name": "OneCycleLR"}},
    {"steps": 90, "problem": {"name": "elongated_valley"},
     "optimizer": {"name": "adam", "lr": 0.05}, "schedule": {"name": "OneCycleLR"}},
], ids=["warmup", "no-warmup"])
def test_one_cycles_default_length_gives_pytorchs_numbers(config):
    """The new default for total_steps against torch: the warmup's LinearLR, then
    OneCycleLR(total_steps=span), the loop of docs/run-format.md section 6."""
    pytest.importorskip("torch")
    import jax
    from torch_reference import run_torch
    with jax.enable_x64(True):
        resolved = playground.resolve(config)
        ours = playground.simulate(config)
    theirs = run_torch(resolved)
    np.testing.assert_allclose(ours["lr"], theirs["lr"], rtol=1e-9)
    np.testing.assert_allclose(ours["path"], theirs["path"], rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_first_picks_on_the_opening_page_give_pytorchs_numbers(schedule):
    """What a student sees after a pick is what torch.optim computes for that config."""
    pytest.importorskip("torch")
    import jax
    from torch_reference import run_torch
    config, _, _ = pick("rosenbrock", "adam", True, schedule)
    with jax.enable_x64(True):
        resolved = playground.resolve(config)
        ours = playground.simulate(config)
    if resolved["schedule"].get("metric") == "train":  # the plateau's own field (section
        resolved["schedule"].pop("metric")           # 9.5): torch watches what it is given
    theirs = run_torch(resolved, blowup=SURFACES["rosenbrock"].blowup)
    assert ours["diverged_at"] == theirs["diverged_at"]
    np.testing.assert_allclose(ours["lr"], theirs["lr"], rtol=1e-9)


# --- In the browser: the switch the pick turned off is off on the page ----------------------

@pytest.mark.browser
def test_picking_one_cycle_on_the_page_switches_the_warmup_off_visibly(page):
    """The only part a browser must show: the re-drawn switch is unchecked, the note
    beside it visible, the warmup's fields hidden, and the next change keeps it off."""
    from browser_helpers import choose, set_input, trace, wait_until
    choose(page, "schedule", SCHEDULES["OneCycleLR"].label)
    note = wait_until(lambda: [e.text for e in page.find_elements("#warmup-note")
                               if e.is_displayed() and e.text], page=page)[0]
    assert note == "OneCycleLR warms up by itself: warmup off"
    assert not page.find_element("#warmup-on input").is_selected()
    wait_until(lambda: not page.find_element("#warmup-group").is_displayed(), page=page)
    set_input(page, "#steps", "300")  # the next change reads the switch as the page shows it
    want = playground.simulate({**form.DEFAULT_CONFIG, "steps": 300, "warmup": None,
                                "schedule": {"name": "OneCycleLR"}})["lr"]
    wait_until(lambda: (lambda got: got is not None and len(got) == 300)(
        trace(page, "lr-graph", 0)), page=page)
    np.testing.assert_allclose(trace(page, "lr-graph", 0), want, rtol=1e-6)
