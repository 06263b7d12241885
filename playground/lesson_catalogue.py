"""The lessons themselves: the :class:`Lesson` record and every lesson's runs, labels,
marks and words, in menu order. :mod:`playground.lessons` reads them from here (and
re-exports the records); everything that draws or tests a lesson goes through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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
    open_panel: str = ""
    """A folded panel the page opens with the lesson, because its picture carries the
    claim: one of :data:`PANELS` ("sensitivity": the final loss against the lr), or ""."""

    @property
    def runs(self) -> tuple[dict, ...]:
        """The current config followed by the pins."""
        return (self.config, *self.pins)


PANELS = ("sensitivity",)
"""The folded panels a lesson can open (``Lesson.open_panel``)."""


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


LESSON_LIST = [
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

BAND_NOISE = {"name": "noisy_quadratic", "noise_std": 0.25, "seed": 1}
"""The noisy bowl of the lr-band lesson: noisy enough that a constant lr's bouncing ends
above the page's target loss (0.001) from lr 0.03 on, quiet enough that a decaying lr ends
well below it from any lr up to the stability limit. Seed 1: its bands are the typical
ones (those of the mean over 16 seeds, within a grid step)."""

SADDLE_START = [-2.0, 1e-4]
"""Almost exactly on the saddle's ridge (y = 0), where the gradient hardly pushes sideways."""


def _plateau(metric):
    return {"name": "ReduceLROnPlateau", "factor": 0.5, "patience": 10, "min_lr": 1e-4,
            "metric": metric}


LESSON_LIST += [
    Lesson(
        name="clip-first-steps", title="Gradient clipping on a steep start",
        summary="On a steep wall SGD's first step flies off; a warmup only delays the "
                "blow-up, clipping the gradient norm prevents it.",
        explanation="Far up Rosenbrock's wall the gradient is about 2,400 long, so SGD with "
                    "lr 0.002 jumps almost 5 units in its first step and blows up three steps "
                    "later, and a 50-step warmup only postpones that: its lr has grown too "
                    "large while the path is still on the wall. Clipping the gradient to norm "
                    "10 (torch.nn.utils.clip_grad_norm_) shortens just the steep first steps, "
                    "to lr times 10, and stops acting once the path is down in the valley.",
        reference=Reference("Pascanu, Mikolov & Bengio (2013), On the difficulty of training "
                            "recurrent neural networks", "https://arxiv.org/abs/1211.5063"),
        config={**_run(ROSENBROCK, 500, _sgd(0.002, 0.9)), "start": [1.9, 0.5],
                "clip_grad_norm": {"max_norm": 10.0, "norm_type": 2.0}},
        pins=({**_run(ROSENBROCK, 500, _sgd(0.002, 0.9)), "start": [1.9, 0.5]},
              {**_run(ROSENBROCK, 500, _sgd(0.002, 0.9), None,
                      {"steps": 50, "start_factor": 0.01}), "start": [1.9, 0.5]}),
        labels=("clipped to norm 10", "no clipping", "warmup 50"),
        marks=(Mark("step_length", 0), Mark("step_length", 1)), lr_options=("log",)),
    Lesson(
        name="plateau-validation", title="Reduce on plateau: which loss to watch",
        summary="Watching the minibatch loss, ReduceLROnPlateau cuts while the path still "
                "descends; watching the validation loss, it waits.",
        explanation="A minibatch loss is noisy, so one lucky minibatch sets a best that the "
                    "next ones rarely beat, and the scheduler starts halving the lr every "
                    "patience + 1 steps while the path is still far from the bottom. Watching "
                    "the true (validation) loss, the first cut comes only once the path has "
                    "arrived, and the run ends several times lower.",
        reference=Reference("PyTorch documentation: torch.optim.lr_scheduler."
                            "ReduceLROnPlateau",
                            "https://docs.pytorch.org/docs/stable/generated/"
                            "torch.optim.lr_scheduler.ReduceLROnPlateau.html"),
        config=_run(NOISY, 300, _sgd(0.05), _plateau("validation")),
        pins=(_run(NOISY, 300, _sgd(0.05), _plateau("train")),),
        labels=("watching validation", "watching minibatch"),
        marks=(Mark("drops", 1),), lr_options=("log",), seeds=SEEDS),
    Lesson(
        name="saddle-escape", title="Escaping a saddle point",
        summary="Started on the ridge, plain SGD lingers at the saddle for over 100 steps; "
                "momentum leaves almost four times sooner.",
        explanation="On x^2 - y^2 + y^4/4 the path first slides down to the saddle at the "
                    "origin, where the only way down is along y, and the push along y is "
                    "proportional to y itself, so a path started at y = 0.0001 grows it by only "
                    "a factor 1 + 2 lr per step. Momentum compounds that push from step to "
                    "step and leaves the saddle (|y| > 0.5, the dotted lines) long before "
                    "plain SGD does.",
        reference=Reference("Jin, Ge, Netrapalli, Kakade & Jordan (2017), How to Escape "
                            "Saddle Points Efficiently", "https://arxiv.org/abs/1703.00887"),
        config={**_run({"name": "saddle"}, 300, _sgd(0.02, 0.9)), "start": SADDLE_START},
        pins=({**_run({"name": "saddle"}, 300, _sgd(0.02)), "start": SADDLE_START},),
        labels=("momentum 0.9", "plain SGD"),
        marks=(Mark("escape", 0, 0.5), Mark("escape", 1, 0.5))),
    Lesson(
        name="himmelblau-basins", title="Which minimum? Himmelblau's four basins",
        summary="Same start, same cosine schedule: lr 0.01, 0.025 and 0.03 end in three "
                "different minima.",
        explanation="Himmelblau's function has four minima of equal depth, and a large first "
                    "step can throw the path over a ridge into a neighbouring basin before the "
                    "lr decays. From the same start, lr 0.01 walks steadily downhill into one "
                    "minimum while 0.025 and 0.03 overshoot into two others, so where you end up is a "
                    "property of the lr as much as of the start.",
        reference=Reference("Himmelblau (1972), Applied Nonlinear Programming (the test "
                            "function)", "https://en.wikipedia.org/wiki/Himmelblau%27s_function"),
        config=_run({"name": "himmelblau"}, 300, _sgd(0.01), {"name": "CosineAnnealingLR"}),
        pins=(_run({"name": "himmelblau"}, 300, _sgd(0.025), {"name": "CosineAnnealingLR"}),
              _run({"name": "himmelblau"}, 300, _sgd(0.03), {"name": "CosineAnnealingLR"})),
        labels=("cosine from 0.01", "cosine from 0.025", "cosine from 0.03")),
    Lesson(
        name="rastrigin-large-lr", title="A large lr that decays finds a lower basin",
        summary="On Rastrigin a small constant lr stays in the first local minimum; a large "
                "lr with cosine decay settles far lower.",
        explanation="Rastrigin's bowl is covered in bumps, and a small lr simply rolls into "
                    "the nearest dip and stays there (loss about 18). A large lr bounces over "
                    "the bumps and, held constant, keeps bouncing, but with a cosine decay it "
                    "calms down near the centre and settles in a basin next to the global "
                    "minimum.",
        reference=Reference("Rastrigin function (test function for global optimization)",
                            "https://en.wikipedia.org/wiki/Rastrigin_function"),
        config=_run({"name": "rastrigin"}, 300, _sgd(0.02), {"name": "CosineAnnealingLR"}),
        pins=(_run({"name": "rastrigin"}, 300, _sgd(0.002)),
              _run({"name": "rastrigin"}, 300, _sgd(0.02))),
        labels=("cosine from 0.02", "constant 0.002", "constant 0.02"),
        lr_options=("log",)),
]

LESSON_LIST += [
    Lesson(
        name="lr-band", title="The band of good learning rates",
        summary="Decay widens the band of good lrs: cosine and one-cycle reach the target "
                "from 0.013 to 1.8, a constant lr from 0.0056 to 0.024.",
        explanation="On the noisy bowl a constant lr ends bouncing at a loss proportional to "
                    "the lr, so only a narrow band of lrs, between those too small to arrive "
                    "in 800 steps and those that bounce above the target, ends below loss "
                    "0.001. Cosine and one-cycle spend the same 800 steps with large steps "
                    "early and small ones at the end, which average the noise away whatever "
                    "lr they start from, so every lr from about 0.013 up to the stability "
                    "limit 2/lambda = 2 ends below the target.",
        reference=Reference("Smith (2018), A disciplined approach to neural network "
                            "hyper-parameters: Part 1", "https://arxiv.org/abs/1803.09820"),
        config=_run(BAND_NOISE, 800, _sgd(0.5), {"name": "CosineAnnealingLR"}),
        pins=(_run(BAND_NOISE, 800, _sgd(0.5)),
              _run(BAND_NOISE, 800, _sgd(0.5), {"name": "OneCycleLR",
                                                "cycle_momentum": False})),
        labels=("cosine from 0.5", "constant 0.5", "one-cycle to 0.5"),
        seeds=SEEDS, open_panel="sensitivity"),
]
