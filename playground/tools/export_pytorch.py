"""Take-home export: :func:`pytorch_code`, a standalone ``torch.optim`` script of a run."""
from __future__ import annotations

from ..config import resolve, validate
from ..optimizers import OPTIMIZERS
from ..params import Derived
from ..schedules import SCHEDULES
from ..surfaces import SURFACES
from .export_code import _header, _loss_def


def _explicit(section: str, run: dict, base: dict) -> dict:
    """The fields to spell out: those the user gave, and defaults that PyTorch lacks
    (ours follow the run, e.g. T_max)."""
    entry = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}[section][run[section]["name"]]
    given = base.get(section, {})
    return {p.name: run[section][p.name] for p in entry.params
            if (p.name in given or isinstance(p.default, Derived))
            and run[section][p.name] is not None and p.name not in _NOT_TORCH}


_NOT_TORCH = ("metric",)
"""Fields that are the playground's, not a torch constructor argument (ReduceLROnPlateau's
metric says what its ``step`` is fed)."""


def _kwargs(fields: dict) -> str:
    return ", ".join(f"{k}={tuple(v) if k == 'betas' else v!r}" for k, v in fields.items())


def _torch_scheduling(run: dict, base: dict) -> tuple[list[str], list[str]]:
    """The lines that build the scheduler (warmup included, as docs/run-format.md says)
    and the loop's lines that step it."""
    sched, w = run["schedule"], run["warmup"]
    plateau = sched["name"] == "ReduceLROnPlateau"
    watched = "val_loss" if plateau and sched["metric"] == "validation" else "loss.item()"
    args = ", ".join(filter(None, ["optimizer", 'mode="min"' if plateau else "",
                                   _kwargs(_explicit("schedule", run, base))]))
    make = None if sched["name"] == "constant" else f"lr_scheduler.{sched['name']}({args})"
    build = [] if not w else [
        f"warmup = lr_scheduler.LinearLR(optimizer, start_factor={w['start_factor']!r}, "
        f"end_factor=1.0, total_iters={w['steps']})"]
    if w and plateau:
        return build + [f"scheduler = {make}  # stepped once the warmup is over"], [
            f"    if t < {w['steps']}:", "        warmup.step()", "    else:",
            f"        scheduler.step({watched})"]
    if plateau:
        return [f"scheduler = {make}"], [f"    scheduler.step({watched})"]
    if w and make:
        build += [f"schedule = {make}", "scheduler = lr_scheduler.SequentialLR(optimizer, "
                                        f"[warmup, schedule], milestones=[{w['steps']}])"]
    elif w:
        build.append("scheduler = warmup")
    elif make:
        build.append(f"scheduler = {make}")
    return build, ["    scheduler.step()"] if build else []


def pytorch_code(config: dict) -> str:
    """A standalone script reproducing ``config`` with ``torch.optim`` and
    ``torch.optim.lr_scheduler`` (in float64, the playground's x64 precision). It leaves
    ``lrs``, ``losses`` and ``path`` (lists) behind and prints the final point. The warmup
    is ``SequentialLR([LinearLR(start_factor, 1.0, W), schedule], milestones=[W])`` as in
    docs/run-format.md (the LinearLR alone for a constant schedule; stepped by hand before
    a ReduceLROnPlateau). On the noisy quadratic the minibatch shifts come from torch's
    generator, so the path matches the playground's only in distribution. With
    ``clip_grad_norm`` the gradient goes through ``torch.nn.utils.clip_grad_norm_`` before
    each step; a ReduceLROnPlateau with ``metric: "validation"`` is stepped with the true
    loss f(p_t) instead of the minibatch's."""
    base, run = validate(config), resolve(config)
    opt = run["optimizer"]
    noisy = SURFACES[run["problem"]["name"]].noisy
    cls = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[opt["name"]]
    opt_args = _kwargs({"lr": opt["lr"], **_explicit("optimizer", run, base)})
    lines = [_header(run, "torch.optim"), "import math", "", "import torch",
             "from torch.optim import lr_scheduler", "",
             f"STEPS = {run['steps']}",
             f"BLOWUP = {SURFACES[run['problem']['name']].blowup!r}  "
             "# the playground stops a run whose loss passes this"]
    if noisy:
        lines += [f"NOISE_STD, SEED = {run['problem']['noise_std']!r}, "
                  f"{run['problem']['seed']!r}",
                  "# Each step sees the bowl shifted by a random c_t ~ N(0, NOISE_STD^2 I): a "
                  "minibatch.",
                  "# torch draws other numbers than the playground (JAX), so the path "
                  "differs in detail.",
                  "generator = torch.Generator().manual_seed(SEED)"]
    lines += ["", "", _loss_def(run), "",
              f"p = torch.nn.Parameter(torch.tensor({list(run['start'])!r}, "
              "dtype=torch.float64))",
              f"optimizer = torch.optim.{cls}([p], {opt_args})"]
    build, step = _torch_scheduling(run, base)
    lines += build
    sched, clip = run["schedule"], run.get("clip_grad_norm")
    validation = sched["name"] == "ReduceLROnPlateau" and sched["metric"] == "validation"
    lines += ["", "lrs, losses, path = [], [], [p.tolist()]", "for t in range(STEPS):",
              "    optimizer.zero_grad()"]
    if noisy:
        lines += ["    shift = NOISE_STD * torch.randn(2, generator=generator, "
                  "dtype=torch.float64)",
                  "    loss = loss_fn(p - shift)  # what this step's minibatch sees"]
    else:
        lines.append("    loss = loss_fn(p)")
    lines += ["    if not math.isfinite(loss.item()) or loss.item() > BLOWUP:",
              '        print(f"diverged at step {t}")', "        break",
              '    lrs.append(optimizer.param_groups[0]["lr"])',
              "    losses.append(loss.item())"]
    if validation:
        lines.append("    val_loss = loss_fn(p).item()  # the plateau watches the true loss "
                     "(what a validation set measures)")
    lines.append("    loss.backward()")
    if clip:
        norm = 'float("inf")' if clip["norm_type"] == "inf" else repr(clip["norm_type"])
        lines.append(f"    torch.nn.utils.clip_grad_norm_([p], max_norm={clip['max_norm']!r}, "
                     f"norm_type={norm})")
    lines.append("    optimizer.step()")
    lines += step + ["    path.append(p.tolist())", "",
              'print(f"final loss {loss_fn(p).item():.6g} at {p.tolist()}")']
    return "\n".join(lines) + "\n"
