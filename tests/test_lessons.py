"""Every lesson shows its claim with the engine's numbers: its own configs are simulated
and the claim its explanation makes is asserted on the results. Plus the lesson data
itself (valid configs, links, marks) and ``python -m playground lessons``."""
import io
import json
import math
import re
from contextlib import redirect_stdout
from functools import cache
from urllib.parse import parse_qsl, urlencode

import numpy as np
import pytest

import playground
from playground import lessons, tools
from playground.__main__ import main
from playground.lessons import LESSONS, first_reaching, lr_drops, restarts


@cache
def results(name: str) -> tuple[dict, ...]:
    return tuple(playground.simulate(c) for c in LESSONS[name].runs)


def mean_tail(result: dict, n: int) -> float:
    return float(np.mean(result["loss"][-n:]))


def step_lengths(result: dict) -> np.ndarray:
    return np.linalg.norm(np.diff(result["path"].astype(np.float64), axis=0), axis=1)


# --- The lesson data ---------------------------------------------------------------------

def test_there_are_the_ten_lessons_of_the_issue():
    assert list(LESSONS) == ["lr-dilemma", "step-decay", "exponential-too-fast",
                             "cosine-vs-step", "adam-warmup", "sgdr", "one-cycle", "plateau",
                             "cyclic", "polynomial"]


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=LESSONS.keys())
def test_lesson_is_well_formed(lesson):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", lesson.name)
    assert 1 <= len(lesson.runs) <= lessons.MAX_RUNS
    for config in lesson.runs:
        playground.validate(config)
    assert len(lesson.labels) == len(lesson.runs) and len(set(lesson.labels)) == len(lesson.labels)
    assert "\n" not in lesson.summary and len(lesson.summary) <= 130
    sentences = re.findall(r"[.!?](?=\s|$)", lesson.explanation)
    assert len(sentences) == 2, lesson.explanation
    assert lesson.reference.url.startswith("https://") and lesson.reference.title
    for mark in lesson.marks:
        assert mark.kind in lessons.MARK_KINDS and 0 <= mark.run < len(lesson.runs)


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=LESSONS.keys())
def test_lesson_path_opens_exactly_its_runs(lesson):
    path = lessons.lesson_path(lesson)
    pairs = parse_qsl(path.removeprefix("/?"), keep_blank_values=True)
    assert ("lesson", lesson.name) in pairs
    config, pins = playground.from_query(urlencode([p for p in pairs if p[0] != "lesson"]))
    assert config == playground.validate(lesson.config)
    assert pins == [playground.validate(p) for p in lesson.pins]


def test_from_query_refuses_the_lesson_key_so_the_page_must_take_it_out():
    with pytest.raises(playground.ConfigError) as e:
        playground.from_query(lessons.lesson_path(LESSONS["sgdr"]).removeprefix("/"))
    assert e.value.field == "lesson"


def test_get_names_the_known_lessons():
    assert lessons.get("sgdr") is LESSONS["sgdr"]
    with pytest.raises(KeyError, match="lr-dilemma"):
        lessons.get("no-such-lesson")


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=LESSONS.keys())
def test_marks_are_drawable_data(lesson):
    out = lessons.marks(lesson, list(results(lesson.name)))
    assert len(out) >= len(lesson.marks)
    steps = max(c["steps"] for c in lesson.runs)
    for m in out:
        assert m["plot"] in ("lr", "loss", "path") and isinstance(m["label"], str)
        data = m["data"]
        if m["kind"] == "hline":
            assert math.isfinite(data)
        elif m["kind"] == "vlines":
            assert all(isinstance(t, int) and 0 <= t <= steps for t in data)
        elif m["kind"] == "spans":
            assert all(0 <= a < b <= steps for a, b in data)
        elif m["kind"] == "series":
            assert len(data) == lesson.runs[m["run"]]["steps"]
        else:
            assert m["kind"] == "points" and all(len(p) == 2 for p in data)


# --- The claims --------------------------------------------------------------------------

def test_lr_dilemma():
    decay, high, low, too_high = results("lr-dilemma")
    threshold = tools.stability(LESSONS["lr-dilemma"].pins[0], high)["threshold"]
    assert 1.5 < threshold < 2.2 and too_high["diverged_at"] is not None
    rises = np.sum(np.diff(high["loss"]) > 0)
    assert rises > 0.25 * len(high["lr"])                     # it bounces, step after step
    assert mean_tail(high, 50) > 10 * mean_tail(decay, 50)    # ... and stays up there
    assert low["loss"][-1] > 10 * decay["loss"][-1]           # the low lr is still on its way
    assert mean_tail(decay, 50) < min(mean_tail(high, 50), mean_tail(low, 50))


def test_step_decay():
    step, constant = results("step-decay")
    np.testing.assert_allclose(np.unique(step["lr"]), [0.001, 0.01, 0.1], rtol=1e-5)
    assert lr_drops(step) == [300, 450]
    loss = step["loss"]
    levels = [loss[200:300].mean(), loss[350:450].mean(), loss[-100:].mean()]
    assert levels[0] > 3 * levels[1] > 9 * levels[2], levels
    assert loss[280:300].mean() > 3 * loss[310:330].mean()    # right after the first drop
    assert mean_tail(constant, 100) > 10 * mean_tail(step, 100)


def test_exponential_too_fast():
    fast, gentle, cosine = results("exponential-too-fast")
    lr = fast["lr"]
    assert lr[90] <= 0.01 * lr[0] < lr[89]                    # the summary's "after 90 steps"
    assert lr.sum() < 20 * lr[0]                              # sum of 0.95^t < 1 / 0.05
    assert fast["loss"][-1] > 0.95 * fast["loss"][100]        # the last 100 steps: < 5% gain
    assert fast["loss"][-1] > 100 * max(gentle["loss"][-1], cosine["loss"][-1])
    assert abs(fast["path"][-1, 0]) > 0.3 > 10 * abs(cosine["path"][-1, 0])
    assert tools.robbins_monro(fast)["verdict"] == "too_fast"
    assert tools.robbins_monro(cosine)["verdict"] == "decays"


def test_cosine_vs_step():
    cosine, step = results("cosine-vs-step")
    sched = LESSONS["cosine-vs-step"].config["schedule"]
    lr0, eta_min, T = 0.1, sched["eta_min"], playground.resolve(
        LESSONS["cosine-vs-step"].config)["schedule"]["T_max"]
    # smooth: no step changes the lr by more than the cosine's steepest slope
    assert np.abs(np.diff(cosine["lr"])).max() <= (lr0 - eta_min) * math.pi / (2 * T) * 1.001
    assert np.abs(np.diff(step["lr"])).max() >= 0.09          # a tenfold drop in one step
    assert abs(cosine["lr"][-1] - eta_min) <= 1e-3 * (lr0 - eta_min)
    assert len(cosine["lr"]) == len(step["lr"])
    assert cosine["lr"].sum() == pytest.approx(step["lr"].sum(), rel=0.1)
    assert 1 / 3 < mean_tail(cosine, 50) / mean_tail(step, 50) < 3


def test_adam_warmup():
    warm, cold = results("adam-warmup")
    lr = LESSONS["adam-warmup"].pins[0]["optimizer"]["lr"]
    cold_steps, warm_steps = step_lengths(cold), step_lengths(warm)
    # Adam's first update is lr * sign(g) in each coordinate: lr * sqrt(2) long
    assert cold_steps[0] == pytest.approx(lr * math.sqrt(2), rel=1e-5)
    assert int(np.argmax(cold_steps)) == 0                    # the largest step of the run
    assert cold_steps.max() > 5 * warm_steps.max()
    eff = tools.effective_step(cold)
    assert eff[0] == pytest.approx(lr * math.sqrt(2) / cold["grad_norm"][0], rel=1e-5)


def cycle_starts(T_0: int, T_mult: int, steps: int) -> list[int]:
    starts, length, t = [], T_0, T_0
    while t < steps:
        starts.append(t)
        length *= T_mult
        t += length
    return starts


def test_sgdr():
    for result, config in zip(results("sgdr"), LESSONS["sgdr"].runs):
        s = config["schedule"]
        starts = restarts(result)
        assert starts == cycle_starts(s["T_0"], s["T_mult"], config["steps"])
        ends = starts + [config["steps"]]                     # the run ends with a cycle
        loss = result["loss"]
        for r, following in zip(starts, ends[1:]):
            kick = loss[r + 1:r + 11].max()
            assert kick > 10 * loss[r], (r, loss[r], kick)    # out of the minimum ...
            assert loss[following] < kick / 10, (following, loss[following])   # ... and back
        assert all(result["lr"][t - 1] < 0.01 * result["lr"][0] for t in ends)
    assert restarts(results("sgdr")[0]) == [25, 75, 175]     # T_mult 2: cycles 25, 50, 100


def test_one_cycle():
    cycle, peak, start = results("one-cycle")
    target = 1e-3
    assert first_reaching(cycle, target) <= 0.6 * len(cycle["lr"])
    assert peak["diverged_at"] is not None and peak["diverged_at"] < 10
    assert first_reaching(start, target) is None and start["loss"][-1] > 100 * target
    lr, mom = cycle["lr"].astype(np.float64), cycle["momentum"].astype(np.float64)
    dl, dm = np.diff(lr), np.diff(mom)
    moving = (np.abs(dl) > 0) & (np.abs(dm) > 0)
    assert moving.sum() > 0.9 * len(dl)
    assert np.all(np.sign(dl[moving]) == -np.sign(dm[moving]))  # opposite, step by step
    assert mom[np.argmax(lr)] == pytest.approx(mom.min()) == pytest.approx(0.85)


def test_plateau():
    plateau, constant = results("plateau")
    p = LESSONS["plateau"].config["schedule"]["patience"]
    threshold = playground.resolve(LESSONS["plateau"].config)["schedule"]["threshold"]
    observed = plateau["observed_loss"].astype(np.float64)
    best = np.concatenate([[np.inf], np.minimum.accumulate(observed)[:-1]])
    improved = observed < best * (1 - threshold)              # rel mode, as PyTorch's
    cuts = lr_drops(plateau, 1 - 1e-6)
    assert len(cuts) >= 3
    assert np.flatnonzero(np.diff(plateau["lr"])).tolist() == [t - 1 for t in cuts]
    for t in cuts:
        assert plateau["lr"][t] == pytest.approx(0.5 * plateau["lr"][t - 1])
        assert not improved[t - p - 1:t].any()                # p + 1 steps without a new best
    assert np.all(np.diff(cuts) >= p + 1)
    assert mean_tail(constant, 50) > 10 * mean_tail(plateau, 50)


def test_cyclic():
    tri, tri2, exp = results("cyclic")
    base, top = 0.005, 0.1
    for k in range(6):                                        # cycles of 50 steps
        window = slice(50 * k, 50 * k + 50)
        assert tri["lr"][window].max() == pytest.approx(top, rel=1e-5)
        assert tri2["lr"][window].max() - base == pytest.approx((top - base) / 2 ** k, rel=1e-4)
        t = 50 * k + int(np.argmax(exp["lr"][window]))
        assert exp["lr"][t] - base <= (top - base) * 0.99 ** t * (1 + 1e-5)
    assert mean_tail(tri2, 50) < mean_tail(tri, 50) / 3
    assert mean_tail(exp, 50) < mean_tail(tri, 50) / 3


def test_polynomial():
    runs = dict(zip((1.0, 0.5, 2.0), results("polynomial")))
    lr = {power: r["lr"].astype(np.float64) for power, r in runs.items()}
    inside = slice(1, 200)
    assert np.all(lr[0.5][inside] > lr[1.0][inside])
    assert np.all(lr[1.0][inside] > lr[2.0][inside])
    for power, r in runs.items():
        assert np.all(lr[power][200:] == 0)                   # exactly zero from total_iters
        assert np.all(r["path"][200:] == r["path"][200])       # ... so the path stops there
        assert lr[power].sum() == pytest.approx(0.5 * 200 / (power + 1), rel=0.03)
    finals = {power: r["loss"][-1] for power, r in runs.items()}
    assert finals[2.0] < finals[1.0] < finals[0.5]


# --- The command line --------------------------------------------------------------------

def run_cli(*argv) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_cli_lists_the_lessons():
    lines = run_cli("lessons").splitlines()
    assert len(lines) == len(LESSONS)
    for line, lesson in zip(lines, LESSONS.values()):
        name, summary = line.split(maxsplit=1)
        assert name == lesson.name and summary == lesson.summary


def test_cli_lists_the_lessons_as_json():
    data = json.loads(run_cli("lessons", "--json"))
    assert [d["name"] for d in data] == list(LESSONS)
    for d in data:
        lesson = LESSONS[d["name"]]
        assert set(d) == {"name", "title", "summary", "explanation", "reference", "url"}
        assert d["reference"] == {"title": lesson.reference.title, "url": lesson.reference.url}
        assert d["url"] == lessons.lesson_path(lesson) and d["explanation"] == lesson.explanation
