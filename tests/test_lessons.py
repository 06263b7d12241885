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


@cache
def seed_means(name: str) -> tuple[np.ndarray, ...]:
    """Each run's true loss averaged over the lesson's seeds (its own and the next ones),
    each seed simulated on its own."""
    lesson = LESSONS[name]
    out = []
    for config in lesson.runs:
        seed = playground.resolve(config)["problem"]["seed"]
        runs = [playground.simulate({**config, "problem": {**config["problem"], "seed": seed + k}})
                for k in range(lesson.seeds)]
        out.append(np.mean([r["loss"].astype(np.float64) for r in runs], axis=0))
    return tuple(out)


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
        elif m["kind"] == "text":
            assert m["label"] and len(data) == 2
        elif m["kind"] == "band":
            n = lesson.runs[m["run"]]["steps"] + 1
            assert all(len(data[k]) == n for k in ("mean", "low", "high"))
            assert np.all(data["low"] <= data["mean"] * (1 + 1e-9)) and \
                np.all(data["low"] <= data["high"])
        elif m["kind"] == "vlines":
            assert all(isinstance(t, int) and 0 <= t <= steps for t in data)
        elif m["kind"] == "spans":
            assert all(0 <= a < b <= steps for a, b in data)
        elif m["kind"] == "series":
            assert len(data) == lesson.runs[m["run"]]["steps"]
        else:
            assert m["kind"] == "points" and all(len(p) == 2 for p in data)


@pytest.mark.parametrize("lesson", [ls for ls in LESSONS.values() if ls.seeds],
                         ids=[n for n, ls in LESSONS.items() if ls.seeds])
def test_a_seed_band_is_the_mean_of_the_seeds_each_simulated_alone(lesson):
    assert all(c["problem"]["name"] == "noisy_quadratic" for c in lesson.runs)
    bands = [m for m in lessons.marks(lesson, list(results(lesson.name))) if m["kind"] == "band"]
    assert [m["run"] for m in bands] == list(range(len(lesson.runs)))
    for band, mean in zip(bands, seed_means(lesson.name)):
        np.testing.assert_allclose(band["data"]["mean"], mean, rtol=1e-5)


@pytest.mark.parametrize("lesson", LESSONS.values(), ids=LESSONS.keys())
def test_a_lesson_turns_on_only_known_lr_options_and_seeds_only_on_noise(lesson):
    assert set(lesson.lr_options) <= set(lessons.LR_OPTIONS)
    noisy = all(c["problem"]["name"] == "noisy_quadratic" for c in lesson.runs)
    assert lesson.seeds == 0 or (noisy and lesson.seeds >= 8)
    # a level that spans decades is read on a log axis
    lr = np.concatenate([r["lr"][r["lr"] > 0] for r in results(lesson.name)])
    if lesson.name in ("step-decay", "plateau", "lr-dilemma", "adam-warmup"):
        assert lr.max() / lr.min() >= 99 and "log" in lesson.lr_options


# --- The claims --------------------------------------------------------------------------

def test_lr_dilemma():
    decay, high, low = results("lr-dilemma")
    lesson = LESSONS["lr-dilemma"]
    threshold = tools.stability(lesson.pins[0], high)["threshold"]
    assert 1.5 < threshold < 2.2                              # the dashed line at 2/lambda
    above = {**lesson.pins[0], "optimizer": {"name": "sgd", "lr": 2.2}}
    assert playground.simulate(above)["diverged_at"] is not None   # ... above it: diverges
    rises = np.sum(np.diff(high["loss"]) > 0)
    assert rises > 0.25 * len(high["lr"])                     # it bounces, step after step
    assert mean_tail(high, 50) > 10 * mean_tail(decay, 50)    # ... and stays up there
    assert low["loss"][-1] > 10 * decay["loss"][-1]           # the low lr is still on its way
    assert mean_tail(decay, 50) < min(mean_tail(high, 50), mean_tail(low, 50))
    # what the loss plot draws: the means over the seeds say the same
    m_decay, m_high, m_low = seed_means("lr-dilemma")
    assert m_high[-50:].mean() > 10 * m_decay[-50:].mean() < m_low[-50:].mean() / 10
    assert np.all(np.diff(m_low) < 0)                         # crawling, but steadily


def test_step_decay():
    step, constant = results("step-decay")
    np.testing.assert_allclose(np.unique(step["lr"]), [0.001, 0.01, 0.1], rtol=1e-5)
    assert lr_drops(step) == [300, 450]
    loss = step["loss"]
    levels = [loss[200:300].mean(), loss[350:450].mean(), loss[-100:].mean()]
    assert levels[0] > 3 * levels[1] > 9 * levels[2], levels
    assert loss[280:300].mean() > 3 * loss[310:330].mean()    # right after the first drop
    assert mean_tail(constant, 100) > 10 * mean_tail(step, 100)
    mean, _ = seed_means("step-decay")                        # as the loss plot draws it
    assert mean[270:300].mean() > 5 * mean[320:350].mean()    # the first drop
    assert mean[420:450].mean() > 5 * mean[570:600].mean()    # and the second one


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
    # the budget the lr plot states: each run's sum of lr
    notes = [m for m in lessons.marks(LESSONS["cosine-vs-step"], [cosine, step])
             if m["kind"] == "text"]
    assert [n["run"] for n in notes] == [0, 1]
    for n, r in zip(notes, (cosine, step)):
        assert n["label"].endswith(f"{float(np.sum(r['lr'], dtype=np.float64)):.1f}")


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
    # the warmup is the only difference: the same lr from its end on
    np.testing.assert_array_equal(warm["lr"][50:], cold["lr"][50:])
    assert warm["lr"][0] == pytest.approx(0.01 * lr) and np.all(np.diff(warm["lr"][:51]) > 0)


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
    for mean, result in zip(seed_means("sgdr"), results("sgdr")):   # as the plot draws it
        starts = restarts(result)
        for r, following in zip(starts, starts[1:] + [len(result["lr"])]):
            kick = mean[r + 1:r + 11].max()
            assert kick > 5 * mean[r] and mean[following] < kick / 5


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
    config = playground.resolve(LESSONS["plateau"].config)["schedule"]
    p, threshold = config["patience"], config["threshold"]
    assert config["metric"] == "validation"                  # the true loss, not a minibatch
    metric = plateau["loss"].astype(np.float64)
    best = np.concatenate([[np.inf], np.minimum.accumulate(metric)[:-1]])
    improved = metric < best * (1 - threshold)                # rel mode, as PyTorch's
    cuts = lr_drops(plateau, 1 - 1e-6)
    assert len(cuts) == 2                                     # 0.5 -> 0.05 -> 0.005 = min_lr
    assert np.flatnonzero(np.diff(plateau["lr"])).tolist() == [t - 1 for t in cuts]
    for t in cuts:
        assert plateau["lr"][t] == pytest.approx(0.1 * plateau["lr"][t - 1])
        assert not improved[t - p - 1:t].any()                # p + 1 steps without a new best
        assert improved[:t - p - 1].any()                     # ... and not before
    assert plateau["lr"][-1] == pytest.approx(config["min_lr"])
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
    for r in (tri, tri2, exp):                                # no momentum triangles
        assert np.all(r["momentum"] == r["momentum"][0])
    m_tri, m_tri2, m_exp = seed_means("cyclic")
    assert max(m_tri2[-50:].mean(), m_exp[-50:].mean()) < m_tri[-50:].mean() / 3


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
    means = dict(zip((1.0, 0.5, 2.0), seed_means("polynomial")))   # as the plot draws them
    assert means[2.0][-1] < means[1.0][-1] < means[0.5][-1]


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
