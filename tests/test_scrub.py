"""Scrubbing (playground/web/scrub.py): the frames a grab of the lr slider sends are the
exact runs of the slider's positions, decimated, at float16 precision; a request the page
does not send gets a message, never an exception."""
import base64

import dash
import numpy as np
import pytest

import playground
from playground.config import page_path
from playground.engine import TRACES
from playground.sweeps import with_field
from playground.web import scrub, state
from playground.web.controls import read_form
from playground.web.figure_base import positive_span
from playground.web.figure_loss import loss_offset, loss_range
from playground.web.form import (BY_KEY, DEFAULT_CONFIG, LR_SLIDER, LR_STEP,
                                 config_from_form, form_from_config)
from playground.web.runs import RunView, lengths
from playground.web.sliders import (STEPS_KEY, follow_run, run_length, slider, slider_id,
                                    sweep_values)

HALF_LOG = 2.0 ** -10  # float16's relative precision (what a frame carries)


def decode(b64: str, shape, log: bool) -> np.ndarray:
    v = np.frombuffer(base64.b64decode(b64), dtype="<f2").astype(np.float64).reshape(shape)
    return 10.0 ** v if log else v


@pytest.fixture(scope="module")
def frames():
    return scrub.frames(DEFAULT_CONFIG, [])


def test_a_short_run_gets_a_frame_at_every_position_of_the_slider(frames):
    got = frames  # the default run: 500 steps
    where = np.asarray(got["positions"])
    assert where[0] == LR_SLIDER[0] and where[-1] == LR_SLIDER[1]
    np.testing.assert_allclose(np.diff(where), LR_STEP)
    assert len(where) == 121 and all(got["valid"])


def every(k: int, count: int = 121) -> int:
    """How many of ``count`` positions every k-th from the first, and the last, are."""
    return len(range(0, count, k)) + ((count - 1) % k != 0)


@pytest.mark.parametrize("steps, k", [(1000, 2), (2000, 4), (10_000, 4)])
def test_a_longer_run_gets_one_at_every_kth_within_the_grabs_step_budget(steps, k):
    """A grab sweeps at most STEP_BUDGET steps: every k-th position (and the last), the
    smallest such k, but never fewer than MIN_FRAMES frames, so a grab of a long run costs
    about what a short one does and still spans the whole slider (10,000 steps: 31 frames,
    past the budget)."""
    assert k == next(j for j in range(1, 121) if every(j) * steps <= scrub.STEP_BUDGET
                     or every(j + 1) < scrub.MIN_FRAMES)
    got = scrub.frames({**DEFAULT_CONFIG, "steps": steps}, [])
    where = np.asarray(got["positions"])
    assert where[0] == LR_SLIDER[0] and where[-1] == LR_SLIDER[1]
    stride = np.rint(np.diff(where) / LR_STEP).astype(int)
    assert np.all(stride[:-1] == k) and 1 <= stride[-1] <= k and len(where) == every(k)
    i = len(where) // 2  # a frame is the run at its position
    assert got["values"][i] == float(f"{10 ** where[i]:.3g}")
    adam = {"name": "adam", "lr": got["values"][i]}
    assert_frame_is(got, i, playground.simulate({**DEFAULT_CONFIG, "steps": steps,
                                                 "optimizer": adam}))


@pytest.mark.parametrize("position", [-4.0, -1.3, -0.7, 0.3])
def test_a_frame_draws_the_run_the_main_callback_runs_at_that_position(frames, position):
    """The frame of a position is the run a release there gives: the lr the form reads
    from the slider, simulated, decimated."""
    i = frames["positions"].index(position)
    form = read_form("lr-slider", {"problem": "rosenbrock", "optimizer": "adam",
                                   "schedule": "CosineAnnealingLR"}, ["on"], 0.2, position,
                     500, -1.5, 2.0, {}, None)
    assert form.lr == frames["values"][i]
    config = {**DEFAULT_CONFIG, "optimizer": {**DEFAULT_CONFIG["optimizer"],
                                              "lr": frames["values"][i]}}
    want = playground.simulate(config)
    n_lr, n_pts = len(frames["lr_steps"]), len(frames["points"])
    count = len(frames["positions"])
    lr = decode(frames["lr"], (count, n_lr), log=True)[i]
    loss = decode(frames["loss"], (count, n_pts), log=True)[i]
    path = decode(frames["path"], (count, n_pts, 2), log=False)[i]
    d = want["diverged_at"]
    assert frames["diverged_at"][i] == d
    end = n_pts if d is None else int(np.searchsorted(frames["points"], d))
    steps, points = np.asarray(frames["lr_steps"]), np.asarray(frames["points"])
    ok = steps < (len(want["lr"]) if d is None else min(d, len(want["lr"])))
    # log10 at float16: 10^(x +- |x| 2^-11) is within ~|x| 0.11 % of the value
    np.testing.assert_allclose(np.log10(lr[ok]), np.log10(want["lr"][steps[ok]]),
                               rtol=HALF_LOG, atol=HALF_LOG)
    true = np.asarray(want["loss"], np.float64)[points[:end]] - loss_offset(
        playground.resolve(config))
    np.testing.assert_allclose(np.log10(loss[:end]), np.log10(true), rtol=HALF_LOG,
                               atol=HALF_LOG)
    np.testing.assert_allclose(path[:end], want["path"][points[:end]], rtol=HALF_LOG,
                               atol=1e-3)
    assert np.all(np.isnan(path[end:]))


def test_frames_are_decimated_to_at_most_points_and_keep_both_ends(frames):
    assert len(frames["points"]) <= scrub.POINTS and len(frames["lr_steps"]) <= scrub.POINTS
    assert frames["points"][0] == 0 and frames["points"][-1] == 500
    assert frames["lr_steps"][0] == 0 and frames["lr_steps"][-1] == 499
    assert scrub.decimate(40).tolist() == list(range(40))  # short runs: every step


def test_a_large_lr_diverges_in_its_frame_and_says_at_which_step():
    sgd = {**DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 1e-4}}
    frames = scrub.frames(sgd, [])
    d = frames["diverged_at"]
    assert d[0] is None and d[-1] is not None  # 1e-5 crawls, 10 blows up on Rosenbrock
    config = {**sgd, "optimizer": {"name": "sgd", "lr": frames["values"][-1]}}
    assert playground.simulate(config)["diverged_at"] == d[-1]


def test_a_grab_never_compiles():
    scrub.frames(DEFAULT_CONFIG, [])
    before = TRACES["count"]
    scrub.frames({**DEFAULT_CONFIG, "problem": {"name": "himmelblau"}, "steps": 120}, [])
    assert TRACES["count"] == before


def test_queries_that_differ_only_in_the_lr_share_their_frames():
    a = page_path(DEFAULT_CONFIG)
    b = page_path({**DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": 0.003}})
    assert a != b and scrub.run_key(a, "optimizer.lr") == scrub.run_key(b, "optimizer.lr")
    got_a = scrub.answer({"slider": "lr-slider", "query": a}, a, [])
    got_b = scrub.answer({"slider": "lr-slider", "query": b}, b, [])
    assert got_a["frames"] is got_b["frames"]  # one sweep for both


def test_pinned_runs_set_the_loss_range_of_every_frame():
    pin = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
           "optimizer": {"name": "sgd", "lr": 1e-4}}
    alone = scrub.frames(DEFAULT_CONFIG, [])
    pinned = scrub.frames(DEFAULT_CONFIG, [pin])
    assert alone["loss_range"] != pinned["loss_range"]


SLOW_PIN = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
            "optimizer": {"name": "sgd", "lr": 1e-4}}


@pytest.mark.parametrize("config, pins, slider", [
    (DEFAULT_CONFIG, [], "lr-slider"),
    ({**DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 1e-3}}, [SLOW_PIN], "lr-slider"),
    ({**DEFAULT_CONFIG, "problem": {"name": "noisy_quadratic"}}, [], "lr-slider"),
    ({**DEFAULT_CONFIG, "problem": {"name": "six_hump_camel"}, "start": [-1.5, 1.0]}, [],
     "lr-slider"),
    ({**DEFAULT_CONFIG, "steps": 120}, [SLOW_PIN], "steps-slider"),
])
def test_every_frame_has_the_axes_the_figures_give_its_run(config, pins, slider):
    """Each frame's loss range and lr span are the ones the loss and lr figures compute
    for its run at rest with the same pins: diverging runs, a noisy surface (the minibatch
    loss counts), a surface whose minimum is negative (the loss drawn above it), the steps
    slider's frames of every length."""
    got = scrub.frames(config, pins, slider)
    run = playground.resolve(config)
    pinned = state.runs(config, pins)[1:]
    pinned_lr = [v.result["lr"][:lengths(v.result)[0]] for v in pinned]
    checked = diverging = 0
    for i, value in enumerate(got["values"]):
        if not got["valid"][i]:
            continue
        at = with_field(config, run, got["field"], value)
        result = playground.simulate(at)
        view = RunView("", 0, playground.resolve(at), result)
        assert got["loss_range"][i] == loss_range([view, *pinned]), value
        span = positive_span([result["lr"][:lengths(result)[0]], *pinned_lr])
        assert (got["lr_low"][i], got["lr_top"][i]) == (span or (None, None)), value
        assert got["diverged_at"][i] == result["diverged_at"]
        checked += 1
        diverging += result["diverged_at"] is not None
    assert checked > 20
    if config["optimizer"]["name"] == "sgd":
        assert 0 < diverging < checked  # both kinds of frame


@pytest.mark.parametrize("request_, query, pins, message", [
    ({"slider": "steps"}, page_path(DEFAULT_CONFIG), [], "unknown slider"),
    ("lr-slider", page_path(DEFAULT_CONFIG), [], "unknown slider"),
    ({"slider": "lr-slider", "query": "/?steps=10"}, page_path(DEFAULT_CONFIG), [], "stale"),
    ({"slider": "lr-slider", "query": "/?steps=ten"}, "/?steps=ten", [], "steps"),
    ({"slider": "lr-slider", "query": "/?__import__=os"}, "/?__import__=os", [], "__import__"),
    ({"slider": "lr-slider", "query": "/"}, "/", [{}] * 9, "pins"),
])
def test_a_request_the_page_does_not_send_gets_a_message(request_, query, pins, message):
    got = scrub.answer(request_, query, pins)
    assert "frames" not in got and message in got["error"]


SGD = {"problem": {"name": "elongated_valley"}, "steps": 200,
       "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.5},
       "schedule": {"name": "ExponentialLR", "gamma": 0.99}}


@pytest.mark.parametrize("slider, field", [("optimizer.sgd.momentum", "momentum"),
                                           ("schedule.ExponentialLR.gamma", "gamma")])
def test_a_parameter_slider_frames_the_run_at_each_of_its_values(slider, field):
    got = scrub.frames(SGD, [], slider)
    section = slider.split(".")[0]
    assert got["field"] == f"{section}.{field}" and all(got["valid"])
    count, n_pts = len(got["values"]), len(got["points"])
    path = decode(got["path"], (count, n_pts, 2), log=False)
    for i in (0, count // 2, count - 1):
        config = {**SGD, section: {**SGD[section], field: got["values"][i]}}
        want = playground.simulate(config)
        assert got["diverged_at"][i] == want["diverged_at"]
        if want["diverged_at"] is None:
            np.testing.assert_allclose(path[i], want["path"][got["points"]], rtol=HALF_LOG,
                                       atol=1e-3)


def test_positions_that_make_no_run_get_no_frame():
    """Nesterov needs a momentum above 0: the slider's 0 has no frame, the rest do."""
    nesterov = {**SGD, "optimizer": {**SGD["optimizer"], "nesterov": True}}
    got = scrub.frames(nesterov, [], "optimizer.sgd.momentum")
    assert got["values"][0] == 0.0 and got["valid"][0] is False
    assert all(got["valid"][1:]) and got["diverged_at"][0] is None


CHOICE = {"problem": "rosenbrock", "optimizer": "adam", "schedule": "CosineAnnealingLR"}


def page_config(values: dict, choice=CHOICE, warmup_on=True) -> dict:
    """The config the page builds from its boxes (the form, as the main callback reads
    it), ``values`` over the default page's."""
    config, errors = config_from_form(choice, {**form_from_config(DEFAULT_CONFIG)[1],
                                               **values}, warmup_on)
    assert not errors
    return config


def assert_frame_is(got: dict, i: int, want: dict):
    """Frame ``i`` of ``got`` is the run ``want`` (simulate's result), decimated."""
    count, n_pts = len(got["values"]), len(got["points"])
    path = decode(got["path"], (count, n_pts, 2), log=False)[i]
    assert got["diverged_at"][i] == want["diverged_at"]
    end = len(want["path"]) if want["diverged_at"] is None else want["diverged_at"]
    points = np.asarray(got["points"])
    shown = points < min(end, len(want["path"]))
    np.testing.assert_allclose(path[shown], want["path"][points[shown]], rtol=HALF_LOG,
                               atol=1e-3)
    assert np.all(np.isnan(path[~shown]))


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_the_beta1_slider_frames_the_run_of_the_pair_its_release_writes(optimizer):
    """The beta1 slider under the betas box: each frame is the run of the box as a
    release writes it ("b1, b2", beta2 as the box has it), which the form reads as the
    main callback does."""
    key = f"optimizer.{optimizer}.betas"
    choice = {**CHOICE, "optimizer": optimizer}
    current = page_config({key: "0.9, 0.98"}, choice)
    got = scrub.frames(current, [], key)
    assert got["field"] == "optimizer.betas.0" and all(got["valid"])
    assert got["values"][0] == 0.0 and got["values"][-1] == 0.99
    for i in (0, 37, len(got["values"]) - 1):
        assert got["texts"][i] == f"{got['values'][i]!r}, 0.98"
        assert_frame_is(got, i, playground.simulate(page_config({key: got["texts"][i]},
                                                                choice)))


def test_the_slider_under_a_pair_box_says_which_of_the_two_it_moves():
    """The betas box holds "beta1, beta2" and its slider moves beta1 only: its scale says
    so; a slider under a box of one number needs no name."""
    for optimizer in ("adam", "adamw"):
        marks = slider(BY_KEY[f"optimizer.{optimizer}.betas"], "0.9, 0.999").marks
        assert list(marks.values()) == ["β₁ 0", "0.99"]
    assert list(slider(BY_KEY["optimizer.sgd.momentum"], "0.9").marks.values()) == ["0", "0.99"]


def test_the_beta1_frames_depend_on_beta2_and_are_asked_again_when_it_changes():
    a = page_path(page_config({"optimizer.adam.betas": "0.9, 0.999"}))
    b = page_path(page_config({"optimizer.adam.betas": "0.9, 0.9"}))
    assert scrub.run_key(a, None) != scrub.run_key(b, None)
    got = scrub.answer({"slider": "optimizer.adam.betas", "query": b}, b, [])
    assert got["frames"]["texts"][0] == "0.0, 0.9"


T_MAX = "schedule.CosineAnnealingLR.T_max"


@pytest.mark.parametrize("steps, warmup", [(500, True), (120, False), (2000, True)])
def test_the_t_max_slider_spans_twice_the_run_and_frames_the_run_at_each_position(
        steps, warmup):
    """T_max's positions follow the run's steps after the warmup (from a step or so to
    twice them, the run's own length among them); each frame is the run of the T_max a
    release writes, with the steps the page has."""
    current = page_config({"run.run.steps": str(steps), "warmup.warmup.steps": None},
                          warmup_on=warmup)
    run = playground.resolve(current)
    span = steps - (steps // 10 if warmup else 0)
    got = scrub.frames(current, [], T_MAX)
    _, positions = sweep_values(T_MAX, run)  # where the slider stops
    assert 1 <= positions[0] <= 0.03 * span and 1.9 * span <= positions[-1] <= 2.1 * span
    assert span in positions and 70 <= len(positions) <= 130
    assert all(isinstance(v, int) for v in positions) and positions == sorted(set(positions))
    assert run["schedule"]["T_max"] == span  # the empty box: the whole run
    # the page's slider has those positions (the box empty: at the run's length) ...
    bar = slider(BY_KEY[T_MAX], None, current)
    assert (bar.min, bar.max, bar.value) == (positions[0], positions[-1], span)
    assert bar.step == positions[1] - positions[0]
    # ... and the frames are runs at those positions, both ends among them
    values = got["values"]
    assert got["field"] == "schedule.T_max" and all(got["valid"])
    assert set(values) <= set(positions) and values[0] == positions[0] \
        and values[-1] == positions[-1]
    assert len(values) == len(positions) or len(values) * steps <= scrub.STEP_BUDGET \
        or len(values) >= scrub.MIN_FRAMES
    for i in (0, len(values) // 3, len(values) - 1):
        assert_frame_is(got, i, playground.simulate(
            page_config({"run.run.steps": str(steps), "warmup.warmup.steps": None,
                         T_MAX: str(values[i])}, warmup_on=warmup)))


def test_the_t_max_range_follows_the_steps_on_the_page():
    """A change of the steps moves the T_max slider's range (and an empty box's slider to
    the new run's length), to the positions the frames of the new run have."""
    short = page_config({"run.run.steps": "200", "warmup.warmup.steps": None})
    query = page_path(short)
    assert run_length(query) != run_length(page_path(DEFAULT_CONFIG))  # so it runs
    out = follow_run(run_length(query), query,
                     [slider_id(T_MAX), slider_id("optimizer.adam.betas")],
                     [{"type": "param", "key": T_MAX}], [None])
    got = scrub.answer({"slider": T_MAX, "query": query}, query, [])["frames"]
    (low, _), (high, _), (step, _), _, (value, _), placeholder = out
    assert [low, high, step] == [got["values"][0], got["values"][-1],
                                 got["values"][1] - got["values"][0]]
    assert value == 180 and placeholder == ["auto: 180"]  # 200 steps, 20 of warmup
    typed = follow_run(run_length(query), query, [slider_id(T_MAX)],
                       [{"type": "param", "key": T_MAX}], ["90"])
    assert typed[4] == [dash.no_update]  # a typed T_max stays where it is


def test_a_t_max_slider_position_past_the_run_stops_short_of_eta_min():
    current = page_config({"run.run.steps": "300", "warmup.warmup.steps": None})
    got = scrub.frames(current, [], T_MAX)
    count, n_lr = len(got["values"]), len(got["lr_steps"])
    lr = decode(got["lr"], (count, n_lr), log=True)
    top = playground.resolve(current)["optimizer"]["lr"]
    assert lr[-1, -1] > 0.4 * top  # T_max twice the run: the run ends mid-cosine
    # T_max of a few steps: the lr falls to eta_min and climbs back, again and again
    shortest = lr[0][np.asarray(got["lr_steps"]) >= 30]  # after the warmup
    assert shortest.min() < 0.1 * top and shortest.max() > 0.9 * top


def test_the_steps_slider_frames_each_run_at_its_own_length():
    """The steps slider: log-spaced from 10 to 2,000 steps; each frame is the run of the
    steps a release writes into the box, its own length, with the derived defaults (T_max
    the whole run, the warmup a tenth) following the steps as the form's do."""
    derived = {"warmup.warmup.steps": None}
    got = scrub.frames(page_config(derived), [], "steps-slider")
    values = got["values"]
    assert got["field"] == "steps" and values[0] == 10 and values[-1] == 2000
    assert 90 <= len(values) <= 110 and all(got["valid"])
    ratios = np.asarray(values[40:], float)[1:] / np.asarray(values[40:], float)[:-1]
    assert np.all((ratios > 1.03) & (ratios < 1.08))  # evenly spread in log
    assert got["steps_of"] == values
    count, n_pts = len(values), len(got["points"])
    path = decode(got["path"], (count, n_pts, 2), log=False)
    for i in (0, 30, 61, count - 1):
        n = values[i]
        config = page_config({**derived, "run.run.steps": str(n)})
        run = playground.resolve(config)
        assert run["schedule"]["T_max"] == n - max(1, n // 10)  # the derived defaults
        want = playground.simulate(config)
        points = scrub.decimate(n + 1)
        assert points[-1] == n and len(points) == min(n + 1, scrub.POINTS)
        assert want["diverged_at"] is None and got["diverged_at"][i] is None
        np.testing.assert_allclose(path[i, :len(points)], want["path"][points],
                                   rtol=HALF_LOG, atol=1e-3)
        assert np.all(np.isnan(path[i, len(points):]))


def test_steps_that_make_no_run_get_no_steps_frame():
    """A warmup of 50 steps (the default page's) needs a run at least as long."""
    got = scrub.frames(DEFAULT_CONFIG, [], "steps-slider")
    for n, ok in zip(got["values"], got["valid"]):
        assert ok == (n >= 50)


@pytest.mark.parametrize("typed", ["nan", "inf", "-5", None, "0.5, x"])
def test_a_slider_stands_inside_its_range_whatever_its_box_holds(typed):
    """A box holding no usable number puts its slider at an end, never at NaN (which the
    page's JSON could not carry)."""
    for key in ("optimizer.sgd.momentum", "optimizer.adam.betas", STEPS_KEY):
        bar = slider(BY_KEY[key], typed)
        assert bar.min <= bar.value <= bar.max
