"""Scrubbing (playground/web/scrub.py): the frames a grab of the lr slider sends are the
exact runs of the slider's positions, decimated, at float16 precision; a request the page
does not send gets a message, never an exception."""
import base64

import numpy as np
import pytest

import playground
from playground.config import page_path
from playground.engine import TRACES
from playground.web import scrub
from playground.web.controls import read_form
from playground.web.figure_loss import loss_offset
from playground.web.form import DEFAULT_CONFIG, LR_SLIDER, LR_STEP

HALF_LOG = 2.0 ** -10  # float16's relative precision (what a frame carries)


def decode(b64: str, shape, log: bool) -> np.ndarray:
    v = np.frombuffer(base64.b64decode(b64), dtype="<f2").astype(np.float64).reshape(shape)
    return 10.0 ** v if log else v


@pytest.fixture(scope="module")
def frames():
    return scrub.frames(DEFAULT_CONFIG, [])


def test_the_slider_stops_at_every_position_a_grab_sweeps(frames):
    where = np.asarray(frames["positions"])
    assert where[0] == LR_SLIDER[0] and where[-1] == LR_SLIDER[1]
    np.testing.assert_allclose(np.diff(where), LR_STEP)
    assert len(where) == 121


@pytest.mark.parametrize("position", [-4.0, -1.3, -0.7, 0.35])
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
