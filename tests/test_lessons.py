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

def test_there_are_the_lessons_of_the_issues():
    assert list(LESSONS) == ["lr-dilemma", "step-decay", "exponential-too-fast",
                             "cosine-vs-step", "adam-warmup", "sgdr", "one-cycle", "plateau",
                             "cyclic", "polynomial", "clip-first-steps", "plateau-validation",
                             "saddle-escape", "himmelblau-basins", "rastrigin-large-lr",
                             "lr-band"]


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
    assert lesson.open_panel in ("", *lessons.PANELS)


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
    if lesson.name in ("step-decay", "plateau", "lr-dilemma", "adam-warmup",
                       "plateau-validation"):
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


def rosenbrock_grad(x, y, a=1.0, b=100.0):
    return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])


def test_clip_first_steps():
    clipped, plain, warm = results("clip-first-steps")
    lesson = LESSONS["clip-first-steps"]
    lr, max_norm = 0.002, lesson.config["clip_grad_norm"]["max_norm"]
    g0 = np.linalg.norm(rosenbrock_grad(*lesson.config["start"]))
    assert g0 > 1000                                           # a steep start
    # unclipped, the first step is lr * |g|: several units, off the plotted window
    assert step_lengths(plain)[0] == pytest.approx(lr * g0, rel=1e-4) and lr * g0 > 4
    assert plain["diverged_at"] is not None and plain["diverged_at"] <= 5
    assert warm["diverged_at"] is not None                    # the warmup only postpones it
    assert warm["diverged_at"] > plain["diverged_at"] and warm["diverged_at"] <= 50
    # clipped: the first step is lr * max_norm long, the clip acts only on the steep start
    assert step_lengths(clipped)[0] == pytest.approx(lr * max_norm, rel=1e-4)
    np.testing.assert_allclose(clipped["grad_norm"][0], g0, rtol=1e-4)
    acting = np.flatnonzero(clipped["clipped_grad_norm"] < clipped["grad_norm"] * (1 - 1e-6))
    np.testing.assert_allclose(clipped["clipped_grad_norm"][acting], max_norm, rtol=1e-5)
    assert acting[0] == 0 and acting[-1] < 0.2 * len(clipped["lr"])
    assert clipped["diverged_at"] is None and clipped["loss"][-1] < 1e-3
    assert step_lengths(clipped).max() < 0.05 * step_lengths(plain)[0]


def test_plateau_validation():
    validation, train = results("plateau-validation")
    configs = LESSONS["plateau-validation"].runs
    assert [c["schedule"]["metric"] for c in configs] == ["validation", "train"]
    assert configs[0] == {**configs[1], "schedule": {**configs[1]["schedule"],
                                                     "metric": "validation"}}
    # SGD's stationary true loss on the bowl at lr 0.05 (the 'arrived' level):
    # per coordinate variance lr * s^2 / (2 - lr), the loss is half their sum
    lr, s = 0.05, 0.5
    floor = lr * s ** 2 / (2 - lr)
    cut_v, cut_t = lr_drops(validation, 1 - 1e-6)[0], lr_drops(train, 1 - 1e-6)[0]
    assert cut_t < cut_v                                      # the minibatch cuts first ...
    assert train["loss"][cut_t] > 5 * floor                   # ... still on its way down
    assert validation["loss"][cut_v] < 3 * floor              # the validation waits
    assert mean_tail(train, 50) > 3 * mean_tail(validation, 50)
    m_v, m_t = seed_means("plateau-validation")               # as the loss plot draws it
    assert m_t[-50:].mean() > 3 * m_v[-50:].mean()
    # every seed: the minibatch watcher cuts earlier and while the loss is higher
    ratios = []
    for k in range(1, 8):
        runs = [playground.simulate({**c, "problem": {**c["problem"], "seed": k}})
                for c in configs]
        first = [lr_drops(r, 1 - 1e-6)[0] for r in runs]
        assert first[1] < first[0]
        ratios.append(runs[1]["loss"][first[1]] / runs[0]["loss"][first[0]])
    assert min(ratios) > 1 and np.median(ratios) > 3


def escape_step(result, level=0.5):
    far = np.flatnonzero(np.abs(result["path"][:, 1]) > level)
    return int(far[0]) if far.size else None


def test_saddle_escape():
    momentum, plain = results("saddle-escape")
    lesson = LESSONS["saddle-escape"]
    lr, beta = 0.02, 0.9
    y0 = lesson.config["start"][1]
    # near the saddle y grows like (1 + 2 lr)^t for SGD; with heavy-ball momentum like
    # the larger root of z^2 - (1 + beta + 2 lr) z + beta
    sgd_theory = math.log(0.5 / y0) / math.log(1 + 2 * lr)
    b = 1 + beta + 2 * lr
    z = (b + math.sqrt(b * b - 4 * beta)) / 2
    mom_theory = math.log(0.5 / y0) / math.log(z)
    assert escape_step(plain) == pytest.approx(sgd_theory, rel=0.1)
    assert escape_step(momentum) == pytest.approx(mom_theory, rel=0.15)
    assert escape_step(plain) > 3.5 * escape_step(momentum)
    near = [int(np.sum(np.linalg.norm(r["path"], axis=1) < 0.5)) for r in (plain, momentum)]
    assert near[0] > 100 and near[0] > 4 * near[1]            # lingering at the saddle
    for r in (plain, momentum):                                # both end in a minimum
        assert r["loss"][-1] == pytest.approx(-1.0, abs=0.01)
    drawn = [m for m in lessons.marks(lesson, [momentum, plain]) if m["kind"] == "vlines"]
    assert [m["data"] for m in drawn] == [[escape_step(momentum)], [escape_step(plain)]]


def test_himmelblau_basins():
    minima = np.array(playground.surfaces.SURFACES["himmelblau"].minima({}))
    ends = []
    for result, config in zip(results("himmelblau-basins"), LESSONS["himmelblau-basins"].runs):
        assert config.get("start") == LESSONS["himmelblau-basins"].config.get("start")
        assert config["schedule"] == {"name": "CosineAnnealingLR"}
        distance = np.linalg.norm(minima - result["path"][-1], axis=1)
        assert distance.min() < 1e-3 and result["loss"][-1] < 1e-6
        ends.append(int(np.argmin(distance)))
    assert len(set(ends)) == 3                                 # three runs, three minima
    small, *large = results("himmelblau-basins")
    assert np.all(np.diff(small["loss"]) <= 1e-6)              # the small lr walks downhill
    for r in large:                                            # the large ones overshoot
        assert np.max(np.diff(r["loss"])) > 1


def rastrigin_local_min(x0, A=10.0):
    """The local minimum of x^2 - A cos(2 pi x) next to the integer x0 (Newton's method)."""
    x = float(x0)
    for _ in range(50):
        g = 2 * x + 2 * math.pi * A * math.sin(2 * math.pi * x)
        h = 2 + 4 * math.pi ** 2 * A * math.cos(2 * math.pi * x)
        x -= g / h
    return x, x * x + A - A * math.cos(2 * math.pi * x)


def test_rastrigin_large_lr():
    decayed, small, large = results("rastrigin-large-lr")
    start = playground.resolve(LESSONS["rastrigin-large-lr"].config)["start"]
    # the small lr stays in the dip next to its start
    local = [rastrigin_local_min(round(c)) for c in start]
    np.testing.assert_allclose(small["path"][-1], [x for x, _ in local], atol=1e-3)
    assert small["loss"][-1] == pytest.approx(sum(f for _, f in local), rel=1e-3)
    # the decayed large lr settles in a local minimum far lower
    assert decayed["loss"][-1] < small["loss"][-1] / 5
    assert np.all(np.abs(decayed["path"][-1]) <= 1.01)         # next to the global minimum
    assert np.std(decayed["loss"][-20:]) < 1e-3 * small["loss"][-1]   # settled
    # held constant, the same large lr keeps bouncing, higher than either
    assert np.std(large["loss"][-50:]) > 1 and mean_tail(large, 50) > small["loss"][-1]


def band_decades(band) -> float:
    lo, hi = band
    return math.log10(hi / lo)


def test_lr_band():
    """The picture the lesson opens with (the sensitivity panel): each run's final loss
    against the lr, one sweep per run, and the band of lrs that end at the page's target."""
    from playground.web.comparison import DEFAULT_THRESHOLD
    lesson = LESSONS["lr-band"]
    assert lesson.open_panel == "sensitivity"
    same = [{k: v for k, v in c.items() if k != "schedule"} for c in lesson.runs]
    assert same[0] == same[1] == same[2]                      # one surface, optimizer, budget
    assert [c["schedule"]["name"] for c in lesson.runs] == ["CosineAnnealingLR", "constant",
                                                            "OneCycleLR"]
    for r in results("lr-band"):                              # plain SGD in all three: the
        assert np.all(r["momentum"] == 0)                     # one-cycle moves the lr only
    target = DEFAULT_THRESHOLD
    assert target == 1e-3
    analyses = [tools.lr_sensitivity(c, threshold=target) for c in lesson.runs]
    cosine, constant, cycle = bands = [tools.good_band(a) for a in analyses]
    # the headline's numbers
    words = [f"{lo:.2g} to {hi:.2g}" for lo, hi in bands]
    assert words == ["0.013 to 1.8", "0.0056 to 0.024", "0.013 to 1.8"]
    assert all(w in lesson.summary for w in words)
    # the decaying bands' bars are over three times as long as the constant's (2.1 decades
    # against 0.6; ×134 against ×4.2)
    assert min(band_decades(cosine), band_decades(cycle)) > 3 * band_decades(constant)
    assert min(cosine[1] / cosine[0], cycle[1] / cycle[0]) > 30 * constant[1] / constant[0]
    # each band is every lr that ends at the target, no stray lr outside it
    for a, (lo, hi) in zip(analyses, bands):
        good = np.isfinite(a["final"]) & (a["final"] <= target)
        assert np.array_equal(good, (a["lr"] >= lo) & (a["lr"] <= hi))
    lr = analyses[0]["lr"]
    step = lr[1] / lr[0]                                      # one grid step
    # above: all three diverge past the stability limit 2/lambda = 2 (curvature 1); the
    # decaying bands reach it, the constant's stops where its bouncing reaches the target
    for a in analyses:
        assert np.array_equal(a["diverged"], a["lr"] > 2.0)
    assert cosine[1] == cycle[1] == lr[lr < 2.0].max()
    sigma, steps = lesson.config["problem"]["noise_std"], lesson.config["steps"]
    bounce = 2 * target / (sigma ** 2 + target)               # sigma^2 lr / (2 - lr) = target
    assert bounce / step ** 2 < constant[1] <= bounce
    # below: too small to arrive in the budget. A constant lr arrives once
    # loss_0 exp(-2 lr T) is the target; a schedule once the lr it spends over the run,
    # sum(lr_t) (about half of lr T for cosine and one-cycle), is as large: the lowest good
    # lr is the first grid lr past that
    for r, (lo, _) in zip(results("lr-band"), bands):
        spent = float(np.sum(r["lr"], dtype=np.float64)) / lesson.config["optimizer"]["lr"]
        crawl = math.log(float(r["loss"][0]) / target) / (2 * spent)
        assert crawl <= lo < crawl * step
    assert cosine[0] == cycle[0] > 2 * constant[0]
    # the lesson's lr (the dotted line) lies in the decaying bands, above the constant's
    lr0 = lesson.config["optimizer"]["lr"]
    assert cosine[0] < lr0 < cosine[1] and cycle[0] < lr0 < cycle[1] and lr0 > constant[1]
    # not one lucky seed: the mean final loss over 16 seeds has the same bands, to a step
    for config, band in zip(lesson.runs, bands):
        runs = [tools.lr_sensitivity({**config, "problem": {**config["problem"], "seed": k}},
                                     threshold=target) for k in range(16)]
        mean = {**runs[0], "final": np.mean([r["final"] for r in runs], axis=0)}
        lo, hi = tools.good_band(mean)
        assert band[0] / step <= lo * (1 + 1e-9) and lo <= band[0] * step * (1 + 1e-9)
        assert band[1] / step <= hi * (1 + 1e-9) and hi <= band[1] * step * (1 + 1e-9)


def test_lr_band_picture_draws_the_bands_and_the_page_opens_it():
    from playground.web import lesson_view, sensitivity
    from playground.web.figure_sensitivity import band_label, sensitivity_figure
    lesson = LESSONS["lr-band"]
    analyses = [tools.lr_sensitivity(c, threshold=1e-3) for c in lesson.runs]
    fig = sensitivity_figure([(label, i, a) for i, (label, a)
                              in enumerate(zip(lesson.labels, analyses))])
    bars = [s for s in fig.layout.shapes if s.type == "line" and s.line.width > 5]
    assert len(bars) == 3
    for bar, a in zip(bars, analyses):
        lo, hi = tools.good_band(a)
        assert bar.x0 < lo < hi < bar.x1 and bar.x1 / bar.x0 < hi / lo * 1.34
    texts = [n.text for n in fig.layout.annotations]
    assert [band_label(tools.good_band(a)) for a in analyses] == texts[-3:]
    assert texts[-3:] == ["0.0133 to 1.78 (×130)", "0.00562 to 0.0237 (×4.2)",
                          "0.0133 to 1.78 (×130)"]
    assert any(t == "target 0.001" for t in texts)
    # the page: the lesson's panel says which panel to open, and that is the sensitivity one
    stores = [c for c in lesson_view.lesson_panel(lesson).children
              if getattr(c, "id", None) == "lesson-open-panel"]
    assert [s.data for s in stores] == ["sensitivity"]
    assert sensitivity.panel().id == lesson_view.PANEL_IDS["sensitivity"]
    other = lesson_view.lesson_panel(LESSONS["lr-dilemma"])
    assert not [c for c in other.children if getattr(c, "id", None) == "lesson-open-panel"]
    # the panel the page opens sweeps the runs as written: one-cycle's max_lr (its default,
    # the lr) follows the lr through the sweep, as the engine's sweep of the lesson's config
    graph = sensitivity.update_sensitivity(lessons.lesson_path(lesson).split("&lesson=")[0],
                                           "final", list(lesson.pins), "light", "0.001")
    drawn = {tr.name: np.asarray(tr.y, dtype=np.float64) for tr in graph.figure.data}
    np.testing.assert_array_equal(drawn["One-cycle"], analyses[2]["final"])


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
