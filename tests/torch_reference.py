"""PyTorch reference implementation of one playground run: the test oracle.

``run_torch(cfg, blowup)`` replays a *resolved* config (the output of
``playground.resolve``) with the canonical loop of docs/run-format.md §6, in float64, using
``torch.optim`` and ``torch.optim.lr_scheduler`` themselves. The parity tests
compare ``playground.simulate`` against it, so it deliberately contains no
re-implementation of any update rule or schedule: PyTorch does all the numbers.

Loop, for t = 0 .. steps-1:
  record lr_t and momentum_t (group['momentum'], or group['betas'][0]);
  zero grad; loss_t = f(p_t) (on noisy_quadratic f(p_t - c_t)); backward; record loss_t
  and |g_t|; with ``clip_grad_norm``, ``torch.nn.utils.clip_grad_norm_`` and record the
  clipped |g_t|; optimizer.step(); scheduler step (ReduceLROnPlateau: ``.step(loss_t)``,
  or ``.step(f(p_t))`` with ``metric: "validation"``).
The noisy quadratic's shifts c_t are docs/run-format.md §3.2's: JAX's PRNG, key ``seed``
folded with t, times noise_std (``noise_shifts``); everything else is torch.
Warmup {'steps': W, 'start_factor': s} is
``SequentialLR([LinearLR(s, 1.0, W), schedule], milestones=[W])`` (LinearLR
constructed first); with ``constant`` it is the LinearLR alone; with
ReduceLROnPlateau the LinearLR is stepped while t < W and the plateau from t = W
(docs/schedules.md §1.12).
Divergence: the first path index k whose loss is non-finite or > ``blowup``
ends the run; every array holds NaN from index k on.
"""
import contextlib
import math

import numpy as np
import torch
from torch.optim import lr_scheduler as S

SCHEDULES = ("constant", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
             "CosineAnnealingWarmRestarts", "PolynomialLR", "LinearLR", "CyclicLR",
             "OneCycleLR", "ReduceLROnPlateau")
OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
              "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}


def noise_shifts(problem, steps):
    """The noisy quadratic's shifts c_0 .. c_{steps-1} as docs/run-format.md §3.2 defines
    them: key ``seed`` folded with t, a standard normal pair, times noise_std (float64:
    call under ``jax.enable_x64``)."""
    import jax
    key = jax.random.key(problem["seed"])
    normal = jax.vmap(lambda t: jax.random.normal(jax.random.fold_in(key, t), (2,),
                                                  "float64"))
    return problem["noise_std"] * np.asarray(normal(np.arange(steps, dtype=np.int32)))


def surface_loss(problem, p):
    """The surface formula of docs/run-format.md §3.2 on a (2,) tensor, differentiable by
    autograd (the noisy quadratic's true loss: the bowl)."""
    x, y, name = p[0], p[1], problem["name"]
    if name in ("quadratic_bowl", "noisy_quadratic"):
        return (x ** 2 + y ** 2) / 2
    if name == "elongated_valley":
        return (x ** 2 + problem["condition"] * y ** 2) / 2
    if name == "rosenbrock":
        return (problem["a"] - x) ** 2 + problem["b"] * (y - x ** 2) ** 2
    raise NotImplementedError(f"no torch reference for problem {name!r}")


@contextlib.contextmanager
def sqrt_calls(correctly_rounded: bool):
    """Watch (and optionally replace) ``Tensor.sqrt`` and ``Tensor.sqrt_``, the square
    roots ``torch.optim.Adam``/``AdamW``/``RMSprop`` take once per step (foreach=False).

    Torch's CPU sqrt goes through MKL's vdSqrt (high-accuracy mode), which is not correctly
    rounded: for about 1 argument in 80 it returns a neighbour of the correctly rounded
    square root. Yields a list that gets, per call, whether torch's result differed from
    the correctly rounded one (NumPy's sqrt, IEEE 754). With ``correctly_rounded`` the call
    returns the correctly rounded root instead of torch's; every other operation stays
    torch's own."""
    sqrt, sqrt_ = torch.Tensor.sqrt, torch.Tensor.sqrt_
    off = []

    def root(x):
        theirs = sqrt(x)
        ours = torch.from_numpy(np.sqrt(x.detach().numpy()))
        off.append(not torch.equal(theirs, ours))
        return ours if correctly_rounded else theirs

    def root_(x):
        with torch.no_grad():
            x.copy_(root(x))
        return x

    torch.Tensor.sqrt, torch.Tensor.sqrt_ = root, root_
    try:
        yield off
    finally:
        torch.Tensor.sqrt, torch.Tensor.sqrt_ = sqrt, sqrt_


def make_optimizer(opt_cfg, params):
    kwargs = {k: v for k, v in opt_cfg.items() if k != "name"}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return OPTIMIZERS[opt_cfg["name"]](params, foreach=False, **kwargs)


def make_schedule(opt, sched_cfg):
    """The torch scheduler for cfg['schedule'] (None for 'constant')."""
    name = sched_cfg["name"]
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}")
    kwargs = {k: v for k, v in sched_cfg.items() if k not in ("name", "metric")}
    if name == "constant":
        return None
    if name == "ReduceLROnPlateau":
        return S.ReduceLROnPlateau(opt, mode="min", **kwargs)
    return getattr(S, name)(opt, **kwargs)


def run_torch(cfg, blowup=float("inf"), loss_fn=None):
    """Run a resolved config with torch.optim in float64; returns the result of
    docs/run-format.md §7. ``loss_fn``: the loss as a torch function of the point, for a
    problem this module has no reference for (a typed formula, written out by the test)."""
    steps, problem = cfg["steps"], cfg["problem"]
    f = loss_fn or (lambda q: surface_loss(problem, q))
    if loss_fn is None and problem["name"] not in ("quadratic_bowl", "elongated_valley", "rosenbrock",
                               "noisy_quadratic"):
        raise NotImplementedError(f"no torch reference for problem {problem['name']!r}")
    shifts = noise_shifts(problem, steps) if problem["name"] == "noisy_quadratic" else None
    clip = cfg.get("clip_grad_norm")
    validation = cfg["schedule"].get("metric") == "validation"
    p = torch.nn.Parameter(torch.tensor(cfg["start"], dtype=torch.float64))
    opt = make_optimizer(cfg["optimizer"], [p])
    group = opt.param_groups[0]

    warm, W = None, 0
    if cfg.get("warmup") is not None:
        W = cfg["warmup"]["steps"]
        warm = S.LinearLR(opt, start_factor=cfg["warmup"]["start_factor"],
                          end_factor=1.0, total_iters=W)
    sched = make_schedule(opt, cfg["schedule"])
    plateau = isinstance(sched, S.ReduceLROnPlateau)
    if warm is not None and sched is None:          # constant: the LinearLR alone
        sched, warm = warm, None
    elif warm is not None and not plateau:          # the usual SequentialLR warmup
        sched, warm = S.SequentialLR(opt, [warm, sched], milestones=[W]), None

    def schedule_step(t, metric_t):
        if warm is not None and t < W:              # plateau run, still warming up
            warm.step()
        elif plateau:
            sched.step(metric_t)
        elif sched is not None:
            sched.step()

    nan = float("nan")
    out = {"lr": np.full(steps, nan), "momentum": np.full(steps, nan),
           "path": np.full((steps + 1, 2), nan), "loss": np.full(steps + 1, nan),
           "observed_loss": np.full(steps, nan), "grad_norm": np.full(steps, nan),
           "clipped_grad_norm": np.full(steps, nan), "diverged_at": None}
    for t in range(steps + 1):
        opt.zero_grad()
        loss = f(p)
        loss_t = loss.item()
        if not math.isfinite(loss_t) or loss_t > blowup:
            out["diverged_at"] = t
            break
        out["path"][t] = p.detach().numpy()
        out["loss"][t] = loss_t
        if t == steps:
            break
        out["lr"][t] = group["lr"]
        out["momentum"][t] = group["betas"][0] if "betas" in group else group["momentum"]
        seen = loss
        if shifts is not None:                      # the minibatch's view of the bowl
            seen = surface_loss(problem, p - torch.tensor(shifts[t], dtype=torch.float64))
        seen.backward()
        out["observed_loss"][t] = seen.item()
        out["grad_norm"][t] = torch.linalg.vector_norm(p.grad).item()
        if clip is not None:
            norm_type = clip["norm_type"]
            torch.nn.utils.clip_grad_norm_(
                [p], clip["max_norm"], float("inf") if norm_type == "inf" else norm_type)
        out["clipped_grad_norm"][t] = torch.linalg.vector_norm(p.grad).item()
        opt.step()
        schedule_step(t, loss_t if validation else seen.item())
    return out
