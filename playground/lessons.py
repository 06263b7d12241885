"""Lessons: ready-made experiments, each a current run plus pinned runs that show one idea.

A :class:`Lesson` carries its runs as ordinary configs (so the page, the URL and the
command line treat them like any other run), a one-line summary (its claim, the page's
headline), a two-sentence explanation (folded under it), the lr plot's options it turns
on, how many seeds its loss plot averages over (noisy surface), a reference to read next, a label per run and what the
plots should draw (:class:`Mark`). :func:`marks` turns those into plain data from the runs'
results; :func:`lesson_path` is the page path that opens a lesson, :func:`catalogue` the
menu's entries.

Every lesson's claim is checked against the engine's own numbers in tests/test_lessons.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .config import page_path, resolve

MAX_RUNS = 6
"""The page shows at most this many runs (the current one and its pins)."""


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True)
class Mark:
    """Something the plots should draw for run ``run`` (an index into ``Lesson.runs``);
    ``value`` parametrises some kinds (the target loss). See :data:`MARK_KINDS`."""

    kind: str
    run: int = 0
    value: float | None = None


@dataclass(frozen=True)
class Lesson:
    name: str
    """URL-safe slug."""
    title: str
    summary: str
    """The claim, in one line: the headline above the plots."""
    explanation: str
    reference: Reference
    config: dict
    pins: tuple[dict, ...] = ()
    labels: tuple[str, ...] = ()
    """One per run: the current config's first, then the pins'."""
    marks: tuple[Mark, ...] = field(default=())
    lr_options: tuple[str, ...] = ()
    """What the lesson turns on beside the lr plot (the page's checkboxes): "log" (log
    lr axis), "stability" (SGD's 2/lambda limit), "effective" (the effective step)."""
    seeds: int = 0
    """On a noisy surface: the loss plot shows each run's mean over this many seeds (its
    own and the next ones) with a band, the single seed's traces on request. 0: one seed."""

    @property
    def runs(self) -> tuple[dict, ...]:
        """The current config followed by the pins."""
        return (self.config, *self.pins)


LR_OPTIONS = ("log", "stability", "effective")


def lesson_path(lesson: Lesson) -> str:
    """The page path that opens ``lesson``: its runs as :func:`config.page_path` writes
    them, plus ``lesson=<name>`` (which the page must take out of the query before
    :func:`config.from_query`, which refuses keys it does not know)."""
    return page_path(lesson.config, list(lesson.pins)) + "&lesson=" + lesson.name


def get(name: str) -> Lesson:
    """The lesson called ``name``; KeyError naming the known ones otherwise."""
    if name not in LESSONS:
        raise KeyError(f"no lesson {name!r} (known: {', '.join(LESSONS)})")
    return LESSONS[name]


def catalogue() -> list[dict]:
    """Every lesson as plain data: name, title, summary, explanation, reference
    ({title, url}) and url (the page path)."""
    return [{"name": ls.name, "title": ls.title, "summary": ls.summary,
             "explanation": ls.explanation,
             "reference": {"title": ls.reference.title, "url": ls.reference.url},
             "url": lesson_path(ls)} for ls in LESSONS.values()]


# --- Marks -------------------------------------------------------------------------------
# Each builder gets (config, result, mark) and returns plain dicts the page draws without
# knowing the lesson: {"kind": "hline" | "vlines" | "spans" | "series" | "points" | "text" |
# "band", "plot": "lr" | "loss" | "path", "run": index, "label": text, "data": ...} where
# data is a number (hline), a list of steps (vlines), a list of [first, end) step pairs (spans), an array over the
# steps (series), a list of [x, y] (points; y None: on the run's line), [x, y] (text, the
# label is the text; None, None: a note at the top of the plot) or {"mean", "low", "high"} arrays over the path points (band).


def lr_drops(result: dict, factor: float = 0.5) -> list[int]:
    """The steps t whose lr is at most ``factor`` times lr[t-1]: step-decay milestones and
    plateau reductions (cosine's tiny steps do not count)."""
    lr = np.asarray(result["lr"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return [int(t) for t in np.flatnonzero(lr[1:] <= factor * lr[:-1]) + 1]


def restarts(result: dict) -> list[int]:
    """The steps t whose lr is above lr[t-1]: where a warm restart begins. The weights a
    snapshot ensemble keeps are the path point at each of them (the end of a cycle)."""
    lr = np.asarray(result["lr"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return [int(t) for t in np.flatnonzero(lr[1:] > lr[:-1]) + 1]


def first_reaching(result: dict, target: float) -> int | None:
    """The first path index whose true loss is at most ``target`` (as the page's table)."""
    loss = np.asarray(result["loss"], dtype=np.float64)
    hit = np.flatnonzero(np.isfinite(loss) & (loss <= target))
    return int(hit[0]) if hit.size else None


def seed_configs(config: dict, n: int) -> list[dict]:
    """``config`` with ``n`` seeds of its noisy surface: its own first, then the next."""
    problem = resolve(config)["problem"]
    return [{**config, "problem": {**config["problem"], "seed": problem["seed"] + k}}
            for k in range(n)]


def seed_band(results: list[dict]) -> dict:
    """The true loss of several seeds of one run, per path point: the mean and the band
    from the 10th to the 90th percentile (a diverged seed counts as infinite)."""
    loss = np.stack([np.where(np.isfinite(r["loss"]), r["loss"], np.inf)
                     for r in results]).astype(np.float64)
    with np.errstate(invalid="ignore"):
        mean = loss.mean(axis=0)
    low, high = np.percentile(loss, [10, 90], axis=0)
    return {"mean": mean, "low": low, "high": high}


def _drops(config, result, mark):
    drops = lr_drops(result)
    lr = np.asarray(result["lr"], dtype=np.float64)
    ratio = {float(f"{lr[t - 1] / lr[t]:.3g}") for t in drops if lr[t] > 0}
    text = f"lr ÷{ratio.pop():g}" if len(ratio) == 1 else "lr cut"
    return [{"kind": "vlines", "plot": "loss", "label": text, "data": drops}]


def _snapshots(config, result, mark):
    ends = restarts(result)
    if np.isfinite(result["loss"][-1]):
        ends = ends + [len(result["lr"])]
    path = np.asarray(result["path"], dtype=np.float64)
    return [{"kind": "points", "plot": "path", "label": "cycle end (snapshot)",
             "data": [path[t].tolist() for t in ends]},
            {"kind": "points", "plot": "loss", "label": "cycle end (snapshot)",
             "data": [[t, None] for t in ends]}]


def _best_so_far(config, result, mark):
    metric = resolve(config)["schedule"].get("metric", "train")
    steps = len(result["lr"])  # the loss the scheduler saw at each step
    loss = result["loss"][:steps] if metric == "validation" else result["observed_loss"]
    return [{"kind": "series", "plot": "loss", "label": "best so far",
             "data": np.fmin.accumulate(np.asarray(loss, np.float64))}]


def _patience(config, result, mark):
    p = resolve(config)["schedule"]["patience"]
    return [{"kind": "spans", "plot": "loss", "label": f"{p + 1} steps without a new best",
             "data": [[max(0, r - p - 1), r] for r in lr_drops(result, 1.0 - 1e-6)]}]


def _step_length(config, result, mark):
    path = np.asarray(result["path"], dtype=np.float64)
    length = np.linalg.norm(np.diff(path, axis=0), axis=1)
    first = int(np.nanargmax(length))
    return [{"kind": "series", "plot": "lr", "label": "step length |Δp|", "data": length},
            {"kind": "points", "plot": "lr", "label": "largest step",
             "data": [[first, float(length[first])]]},
            {"kind": "text", "plot": "lr", "data": [None, None],
             "label": f"largest step {length[first]:.2g}, at step {first}"}]


def _target(config, result, mark):
    hit = first_reaching(result, mark.value)
    return [{"kind": "hline", "plot": "loss", "label": f"target {mark.value:g}",
             "data": mark.value},
            {"kind": "vlines", "plot": "loss", "label": f"target reached at step {hit}",
             "data": [] if hit is None else [hit]}]


def _lr_fraction(config, result, mark):
    lr = np.asarray(result["lr"], dtype=np.float64)
    below = np.flatnonzero(lr <= mark.value * lr[0])
    return [{"kind": "vlines", "plot": "lr", "label": f"lr < {mark.value:.0%} of start",
             "data": [int(below[0])] if below.size else []}]


def _budget(config, result, mark):
    return [{"kind": "text", "plot": "lr", "data": [None, None],
             "label": f"sum of lr: {float(np.sum(result['lr'], dtype=np.float64)):.1f}"}]


MARK_KINDS = {
    "drops": _drops,                # each lr drop (milestones, plateau reductions)
    "snapshots": _snapshots,        # SGDR cycle ends, on the loss plot and the path
    "best_so_far": _best_so_far,    # the running best of the plateau's metric
    "patience": _patience,          # ReduceLROnPlateau's window before each reduction
    "step_length": _step_length,    # the length of each step, |p_t+1 - p_t|
    "target": _target,              # a target loss and where the run reaches it
    "lr_fraction": _lr_fraction,    # where the lr falls below a fraction of its start
    "budget": _budget,              # the lr the run spends, sum over the steps
}


@lru_cache(maxsize=32)
def _bands(name: str) -> tuple[dict, ...]:
    from .engine import simulate_batch  # JAX only once a band is drawn

    lesson = LESSONS[name]
    configs = [c for run in lesson.runs for c in seed_configs(run, lesson.seeds)]
    out = simulate_batch(configs)
    return tuple(seed_band(out[i:i + lesson.seeds])
                 for i in range(0, len(out), lesson.seeds))


def marks(lesson: Lesson, results: list[dict]) -> list[dict]:
    """The lesson's marks as drawable data, given the results of ``lesson.runs`` (in that
    order). Each dict also names its ``run``. A lesson with ``seeds`` adds each run's
    seed band (its mean over the seeds, with the 10-90% band) to the loss plot."""
    out = []
    if lesson.seeds and lesson.name in LESSONS and LESSONS[lesson.name] == lesson:
        out += [{"kind": "band", "plot": "loss", "run": i, "data": band,
                 "label": f"mean of {lesson.seeds} seeds"}
                for i, band in enumerate(_bands(lesson.name))]
    for mark in lesson.marks:
        config, result = lesson.runs[mark.run], results[mark.run]
        for m in MARK_KINDS[mark.kind](config, result, mark):
            named = f"{lesson.labels[mark.run]}: {m['label']}"
            if m["kind"] == "text" and len(lesson.runs) > 1 and len(named) <= 32:
                m = {**m, "label": named}  # which run it speaks of, where that fits
            out.append({**m, "run": mark.run})
    return out


# --- The lessons -------------------------------------------------------------------------

NOISY = {"name": "noisy_quadratic"}
VALLEY = {"name": "elongated_valley"}
ROSENBROCK = {"name": "rosenbrock"}
CYCLIC = {"name": "CyclicLR", "base_lr": 0.005, "max_lr": 0.1, "step_size_up": 25,
          "cycle_momentum": False}
SEEDS = 32
"""The seeds a lesson on the noisy surface averages its loss over."""


def _run(problem, steps, optimizer, schedule=None, warmup=None) -> dict:
    config = {"problem": problem, "steps": steps, "optimizer": optimizer,
              "schedule": schedule or {"name": "constant"}}
    return {**config, "warmup": warmup} if warmup else config


def _sgd(lr, momentum=0.0):
    return {"name": "sgd", "lr": lr, **({"momentum": momentum} if momentum else {})}


_LESSONS = [
    Lesson(
        name="lr-dilemma", title="The learning-rate dilemma",
        summary="Constant high lr bounces, constant low lr crawls; a decaying lr gets both.",
        explanation="A constant lr has to choose: 1.5 rushes to the bottom of the noisy bowl "
                    "and then bounces around it with every minibatch (above the dashed line, "
                    "2/lambda = 2, it would diverge), while 0.003 is calm but still far from "
                    "it after 300 steps. A decaying schedule starts at the high lr and lowers "
                    "it on the way, so it gets the fast start and the quiet finish.",
        reference=Reference("Bottou, Curtis & Nocedal (2018), Optimization Methods for "
                            "Large-Scale Machine Learning, section 4",
                            "https://arxiv.org/abs/1606.04838"),
        config=_run(NOISY, 300, _sgd(1.5), {"name": "CosineAnnealingLR"}),
        pins=(_run(NOISY, 300, _sgd(1.5)), _run(NOISY, 300, _sgd(0.003))),
        labels=("cosine from 1.5", "constant 1.5", "constant 0.003"),
        lr_options=("log", "stability"), seeds=SEEDS),
    Lesson(
        name="step-decay", title="Step decay as in ResNet training",
        summary="MultiStepLR with gamma 0.1: a staircase lr, and the loss drops at each step.",
        explanation="The CIFAR-10 ResNets were trained with SGD, momentum 0.9 and lr 0.1, "
                    "divided by 10 at 50% and 75% of training (MultiStepLR with gamma 0.1). "
                    "Each drop shrinks the minibatch noise the steps carry, so the loss falls "
                    "to a new, lower level right after it, while the constant lr stays at its "
                    "first level.",
        reference=Reference("He, Zhang, Ren & Sun (2015), Deep Residual Learning for Image "
                            "Recognition", "https://arxiv.org/abs/1512.03385"),
        config=_run(NOISY, 600, _sgd(0.1, 0.9),
                    {"name": "MultiStepLR", "milestones": [300, 450], "gamma": 0.1}),
        pins=(_run(NOISY, 600, _sgd(0.1, 0.9)),),
        labels=("MultiStepLR 300, 450", "constant 0.1"),
        marks=(Mark("drops"),), lr_options=("log",), seeds=SEEDS),
    Lesson(
        name="exponential-too-fast", title="Exponential decay decays too fast",
        summary="ExponentialLR with gamma 0.95 has lost 99% of its lr after 90 steps and "
                "stalls.",
        explanation="With gamma 0.95 the lr after t steps is 0.95^t of the start, so all "
                    "steps together add up to only 20 times the first one: the path stops "
                    "short along the valley and the last 100 steps change almost nothing. "
                    "A gentler gamma (0.99) or a cosine over the same 200 steps keeps the lr "
                    "alive long enough to arrive.",
        reference=Reference("Robbins & Monro (1951), A Stochastic Approximation Method "
                            "(the steps must add up to infinity)",
                            "https://doi.org/10.1214/aoms/1177729586"),
        config=_run(VALLEY, 200, _sgd(0.05), {"name": "ExponentialLR", "gamma": 0.95}),
        pins=(_run(VALLEY, 200, _sgd(0.05), {"name": "ExponentialLR", "gamma": 0.99}),
              _run(VALLEY, 200, _sgd(0.05), {"name": "CosineAnnealingLR"})),
        labels=("gamma 0.95", "gamma 0.99", "cosine"),
        marks=(Mark("lr_fraction", 0, 0.01),)),
    Lesson(
        name="cosine-vs-step", title="Cosine annealing against step decay",
        summary="Same budget, same peak: cosine gets as far without milestones, smoothly, "
                "and ends at eta_min.",
        explanation="Over the same 600 steps from the same lr, cosine annealing lowers the lr "
                    "a little every step instead of tenfold at hand-picked milestones, and "
                    "arrives exactly at eta_min at the end. It spends about the same total lr "
                    "as the ResNet staircase (the sums on the lr plot) and ends at a similar "
                    "loss, with nothing to tune but the length of the run.",
        reference=Reference("Loshchilov & Hutter (2016), SGDR: Stochastic Gradient Descent "
                            "with Warm Restarts", "https://arxiv.org/abs/1608.03983"),
        config=_run(NOISY, 600, _sgd(0.1, 0.9),
                    {"name": "CosineAnnealingLR", "eta_min": 1e-4}),
        pins=(_run(NOISY, 600, _sgd(0.1, 0.9),
                   {"name": "MultiStepLR", "milestones": [300, 450], "gamma": 0.1}),),
        labels=("cosine", "step decay"),
        marks=(Mark("budget", 0), Mark("budget", 1), Mark("drops", 1)), seeds=SEEDS),
    Lesson(
        name="adam-warmup", title="Warmup for Adam",
        summary="Without warmup Adam's first steps are the largest of the run; a linear "
                "warmup tames them.",
        explanation="Adam divides by a running RMS of the gradient that is still a guess in "
                    "the first steps, so its first updates are about lr in every coordinate "
                    "however large or small the gradient: without warmup the very first step "
                    "is the largest of the run. A linear warmup over 50 steps (then the same "
                    "constant lr) keeps the early steps small until the averages have settled; "
                    "the dashed curves are the length of each step next to the lr.",
        reference=Reference("Goyal et al. (2017), Accurate, Large Minibatch SGD: Training "
                            "ImageNet in 1 Hour", "https://arxiv.org/abs/1706.02677"),
        config=_run(ROSENBROCK, 500, {"name": "adam", "lr": 0.2}, None,
                    {"steps": 50, "start_factor": 0.01}),
        pins=(_run(ROSENBROCK, 500, {"name": "adam", "lr": 0.2}),),
        labels=("50 warmup steps", "no warmup"),
        marks=(Mark("step_length", 0), Mark("step_length", 1)), lr_options=("log",)),
    Lesson(
        name="sgdr", title="Warm restarts (SGDR)",
        summary="Each restart kicks the path out of the minimum and the next cycle brings it "
                "back; T_mult 1 against 2.",
        explanation="CosineAnnealingWarmRestarts anneals the lr to eta_min and then jumps "
                    "back to the full lr, which kicks the path out of the minimum it had "
                    "settled in before the next cycle brings it back. Each cycle end "
                    "(diamond) is a good model to keep (a snapshot ensemble); with T_mult 2 "
                    "each cycle is twice as long as the one before.",
        reference=Reference("Loshchilov & Hutter (2016), SGDR: Stochastic Gradient Descent "
                            "with Warm Restarts", "https://arxiv.org/abs/1608.03983"),
        config=_run(NOISY, 375, _sgd(1.0),
                    {"name": "CosineAnnealingWarmRestarts", "T_0": 25, "T_mult": 2}),
        pins=(_run(NOISY, 375, _sgd(1.0),
                   {"name": "CosineAnnealingWarmRestarts", "T_0": 75, "T_mult": 1}),),
        labels=("T_0 25, T_mult 2", "T_0 75, T_mult 1"),
        marks=(Mark("snapshots", 0), Mark("snapshots", 1)), seeds=SEEDS),
    Lesson(
        name="one-cycle", title="One-cycle and super-convergence",
        summary="One-cycle reaches the target loss where neither its peak nor its start lr, "
                "held constant, does; momentum moves the other way.",
        explanation="OneCycleLR warms up from max_lr/25 to a peak and then anneals far below "
                    "its start, moving the momentum the opposite way (low while the lr is "
                    "high). Held constant, its peak lr diverges within a few steps and its "
                    "start lr crawls, yet the cycle through them reaches loss 0.001 in about "
                    "half the run.",
        reference=Reference("Smith & Topin (2017), Super-Convergence: Very Fast Training of "
                            "Neural Networks Using Large Learning Rates",
                            "https://arxiv.org/abs/1708.07120"),
        config=_run(ROSENBROCK, 500, _sgd(0.004, 0.9), {"name": "OneCycleLR"}),
        pins=(_run(ROSENBROCK, 500, _sgd(0.004, 0.9)),
              _run(ROSENBROCK, 500, _sgd(0.004 / 25, 0.9))),
        labels=("one-cycle to 0.004", "constant 0.004", "constant 0.00016"),
        marks=(Mark("target", 0, 1e-3),)),
    Lesson(
        name="plateau", title="Reduce on plateau",
        summary="ReduceLROnPlateau cuts the lr tenfold after the loss stops improving for "
                "patience steps, and only then.",
        explanation="ReduceLROnPlateau keeps the best validation loss seen so far (the dashed "
                    "line) and cuts the lr only after more than `patience` steps without "
                    "beating it (the shaded stretches), so every cut comes at least that "
                    "late. Each cut lowers the level the noisy steps settle at, until min_lr "
                    "stops the cuts.",
        reference=Reference("PyTorch documentation: torch.optim.lr_scheduler."
                            "ReduceLROnPlateau",
                            "https://docs.pytorch.org/docs/stable/generated/"
                            "torch.optim.lr_scheduler.ReduceLROnPlateau.html"),
        config=_run(NOISY, 400, _sgd(0.5),
                    {"name": "ReduceLROnPlateau", "factor": 0.1, "patience": 20,
                     "min_lr": 0.005, "metric": "validation"}),
        pins=(_run(NOISY, 400, _sgd(0.5)),),
        labels=("reduce on plateau", "constant 0.5"),
        marks=(Mark("best_so_far"), Mark("patience"), Mark("drops")), lr_options=("log",)),
    Lesson(
        name="cyclic", title="Cyclical learning rates",
        summary="CyclicLR's triangular, triangular2 and exp_range: constant, halving and "
                "decaying cycles.",
        explanation="CyclicLR sweeps the lr between base_lr and max_lr in triangles: "
                    "triangular keeps every cycle the same height, triangular2 halves it each "
                    "cycle and exp_range shrinks it by gamma every step (all three alike in "
                    "the first cycle). The shrinking modes end at small lrs and so at a lower "
                    "loss, while triangular keeps bouncing to the end.",
        reference=Reference("Smith (2015), Cyclical Learning Rates for Training Neural "
                            "Networks", "https://arxiv.org/abs/1506.01186"),
        config=_run(NOISY, 300, _sgd(0.1, 0.9), {**CYCLIC}),
        pins=(_run(NOISY, 300, _sgd(0.1, 0.9), {**CYCLIC, "mode": "triangular2"}),
              _run(NOISY, 300, _sgd(0.1, 0.9), {**CYCLIC, "mode": "exp_range",
                                                "gamma": 0.99})),
        labels=("triangular", "triangular2", "exp_range 0.99"), seeds=SEEDS),
    Lesson(
        name="polynomial", title="Polynomial decay: the power",
        summary="PolynomialLR with power 0.5, 1 and 2: all reach zero, but spend their lr "
                "differently.",
        explanation="PolynomialLR decays to exactly zero at total_iters along (1 - t/T)^power: "
                    "power 0.5 keeps the lr high for longest (two thirds of the constant lr's "
                    "total), power 2 drops it early (a third). On the noisy bowl the early "
                    "drop wins, since more steps at a small lr average away more of the "
                    "minibatch noise.",
        reference=Reference("Chen et al. (2016), DeepLab (the 'poly' learning rate policy)",
                            "https://arxiv.org/abs/1606.00915"),
        config=_run(NOISY, 220, _sgd(0.5),
                    {"name": "PolynomialLR", "total_iters": 200, "power": 1.0}),
        pins=(_run(NOISY, 220, _sgd(0.5),
                   {"name": "PolynomialLR", "total_iters": 200, "power": 0.5}),
              _run(NOISY, 220, _sgd(0.5),
                   {"name": "PolynomialLR", "total_iters": 200, "power": 2.0})),
        labels=("power 1", "power 0.5", "power 2"), marks=(Mark("budget", 0),
                                                          Mark("budget", 1), Mark("budget", 2)),
        seeds=SEEDS),
]

LESSONS: dict[str, Lesson] = {ls.name: ls for ls in _LESSONS}
"""The lessons by name, in menu order."""
