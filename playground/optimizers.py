"""Optimizers with ``torch.optim``'s update rules. Adding one means adding an entry.

Each ``update(g, p, state, lr, momentum, hp)`` is a pure function: gradient ``g`` at point
``p`` (shape (2,)), the shared state below, this step's lr and momentum (momentum or beta1,
which CyclicLR/OneCycleLR may cycle), and the optimizer's other parameters ``hp``.

Every update is written by hand, in the order of floating-point operations of
``torch.optim``'s single-tensor implementation (``foreach=False``; torch 2.13), so that a
float64 run reproduces torch's numbers bit for bit wherever the gradient, the lr and
torch's square roots do (tests/test_parity.py checks it, and says where they do not;
torch's CPU sqrt is MKL's, which is not correctly rounded). Two details matter:

* Roundings. Torch's CPU kernels for ``add(other, alpha=a)``, ``addcmul``, ``lerp`` and
  ``mul_`` followed by ``add_`` round like this: ``x.add(y, alpha=a)`` is one fused
  multiply-add fma(a, y, x) (one rounding), but ``x.mul_(m)`` is a kernel of its own, so
  its product is rounded before anything adds to it; ``addcdiv`` rounds ``value * t1``,
  then the quotient, then the sum. XLA's CPU backend contracts every product that feeds a
  sum or a difference into a fused multiply-add, whichever of the sum's two products it
  picks. ``_alone`` keeps a product out of that contraction where torch rounds it alone;
  ``_divisor`` keeps XLA from turning a division by a scalar into a multiplication.
* Bias corrections. Torch computes Adam's ``beta ** step`` and ``bias_correction2 ** 0.5``
  with C's ``pow`` on Python floats. XLA calls the same ``pow`` when the exponent is not a
  constant, but rewrites ``x ** 0.5`` with a constant 0.5 into ``sqrt(x)``, which differs
  from ``pow(x, 0.5)`` in the last bit for about 1 argument in 1,000.

Optax is not used: ``optax.scale_by_adam`` computes ``m / bias_correction1`` and divides by
``sqrt(v / bias_correction2) + eps``, another order of operations than torch's
``lr / bias_correction1`` and ``sqrt(v) / sqrt(bias_correction2) + eps``, so its updates
differ from torch's in the last bits (tests/test_optax_oracle.py still checks that optax's
and these updates agree to float precision).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax.numpy as jnp

from .params import ConfigError, Entry, Param
from .rounding import alone as _alone


class OptState(NamedTuple):
    """One state shape for every optimizer, so the choice of optimizer is data."""

    count: jnp.ndarray  # steps taken (Adam's bias correction)
    mu: jnp.ndarray  # first moment (Adam) / mean gradient (centered RMSprop)
    nu: jnp.ndarray  # second moment (Adam, RMSprop)
    buf: jnp.ndarray  # momentum buffer (SGD, RMSprop)
    has_buf: jnp.ndarray  # SGD: the buffer has been started


def init_state(p) -> OptState:
    zeros = jnp.zeros_like(p)
    return OptState(jnp.zeros((), jnp.int32), zeros, zeros, zeros, jnp.zeros((), bool))


def _divisor(x, like):
    """The scalar ``x`` as an array shaped like ``like`` (NaN where ``like`` is NaN), to
    divide by. XLA rewrites a division by a scalar into a multiplication by its reciprocal
    (and a division by ``y ** e`` into a multiplication by ``y ** -e``): two roundings
    where torch divides with one. A select is neither, so the division stays."""
    return jnp.where(jnp.isnan(like), jnp.nan, x)


def _lerp(start, end, weight):
    """``torch.lerp(start, end, weight)`` for a scalar weight, as torch's CPU kernel
    computes it: fma(weight, end - start, start) if |weight| < 0.5, else
    fma(-(end - start), 1 - weight, end). (Here 0 <= weight <= 1.)"""
    d = end - start
    return jnp.where(weight < 0.5, start + weight * d, end - d * (1 - weight))


def sgd(g, p, s: OptState, lr, momentum, hp):
    """torch.optim.SGD: d = g + weight_decay * p (fused); the buffer starts as d, then is
    momentum * buf (rounded) + (1 - dampening) * d (fused); Nesterov steps along
    d + momentum * buf (fused); p - lr * step (fused). Torch leaves the buffer untouched
    (and starts it as d) on steps whose momentum is 0."""
    d = _alone(g) + hp["weight_decay"] * p
    on = momentum != 0
    buf = jnp.where(s.has_buf, _alone(momentum * s.buf) + (1 - hp["dampening"]) * d, d)
    buf = jnp.where(on, buf, s.buf)
    step = jnp.where(on, jnp.where(hp["nesterov"], d + momentum * buf, buf), d)
    return p - lr * step, s._replace(buf=buf, has_buf=s.has_buf | on)


def _adam(g, p, s: OptState, lr, beta1, hp, decoupled: bool):
    """torch.optim.Adam / AdamW (amsgrad=False), in torch's order: weight decay (AdamW:
    p * (1 - lr * weight_decay), each rounded; Adam: g + weight_decay * p, fused);
    m = lerp(m, g, 1 - beta1); v = beta2 * v (rounded) + ((1 - beta2) * g) * g (fused);
    step_size = lr / (1 - beta1 ** t); denom = sqrt(v) / (1 - beta2 ** t) ** 0.5 + eps;
    p + (-step_size * m) / denom, each rounded."""
    beta2, eps, wd = hp["betas"][1], hp["eps"], hp["weight_decay"]
    g = _alone(g)
    if decoupled:
        p = _alone(p * (1 - _alone(lr * wd)))
    else:
        g = g + wd * p
    count = s.count + 1
    t = count.astype(p.dtype)
    mu = _lerp(s.mu, g, 1 - beta1)
    nu = _alone(s.nu * beta2) + ((1 - beta2) * g) * g
    step_size = lr / (1 - beta1 ** t)
    half = t / (t + t)  # 0.5 exactly, but not a constant: pow, not sqrt (module docstring)
    denom = jnp.sqrt(nu) / _divisor((1 - beta2 ** t) ** half, nu) + eps
    return p + (-step_size * mu) / denom, s._replace(count=count, mu=mu, nu=nu)


def adam(g, p, s, lr, beta1, hp):
    """torch.optim.Adam (L2 weight decay added to the gradient)."""
    return _adam(g, p, s, lr, beta1, hp, decoupled=False)


def adamw(g, p, s, lr, beta1, hp):
    """torch.optim.AdamW (decoupled weight decay, applied to p before the step)."""
    return _adam(g, p, s, lr, beta1, hp, decoupled=True)


def rmsprop(g, p, s: OptState, lr, momentum, hp):
    """torch.optim.RMSprop, plain or centered in one formula, in torch's order:
    g + weight_decay * p (fused); v = alpha * v (rounded) + ((1 - alpha) * g) * g (fused);
    centered: mean gradient mu = lerp(mu, g, 1 - alpha), else mu stays 0;
    avg = sqrt(v - mu * mu) + eps (the difference fused; v - 0 * 0 is v exactly).
    With momentum: buf = momentum * buf (rounded) + g / avg, then p - lr * buf (fused);
    without: p + (-lr * g) / avg, each rounded. Torch skips the buffer on steps whose
    momentum is 0."""
    alpha = hp["alpha"]
    # 1 - alpha, plus 0 * momentum (0: the momentum is finite): a step's value, which XLA
    # computes inside the loop; hoisted out of it, it and the lerp's 1 - w and w < 0.5
    # would be three more operands of two of the loop's kernels, and the loop would
    # outgrow XLA's 1 kB fast path (see engine.py)
    w = (1 - alpha) + 0 * momentum
    g = _alone(g) + hp["weight_decay"] * p
    nu = _alone(s.nu * alpha) + (w * g) * g
    mu = jnp.where(hp["centered"], _lerp(s.mu, g, w), s.mu)
    on = momentum > 0
    # one division for both cases: g / avg with momentum, (-lr * g) / avg without (a
    # second division would split the loop body into more kernels: see engine.py)
    q = jnp.where(on, g, -lr * g) / (jnp.sqrt(nu - mu * mu) + hp["eps"])
    buf = jnp.where(on, _alone(s.buf * momentum) + q, s.buf)
    # (_alone: else LLVM turns the select of p - lr * buf and p + q into p plus a select
    # of -lr * buf and q, and the product is no longer fused into the difference)
    p_new = jnp.where(on, _alone(p - lr * buf), p + q)
    return p_new, s._replace(mu=mu, nu=nu, buf=buf)


@dataclass(frozen=True)
class Optimizer(Entry):
    update: Callable = None
    momentum: Callable = None
    """hp -> the momentum (or beta1) this optimizer uses when nothing cycles it."""
    check: Callable = staticmethod(lambda hp: None)


def _sgd_check(hp):
    if hp["nesterov"] and (hp["momentum"] <= 0 or hp["dampening"] != 0):
        raise ConfigError("optimizer.nesterov",
                          "Nesterov momentum needs momentum > 0 and dampening = 0")


_LR = Param("lr", "float", 1e-3, "Learning rate", "The base learning rate.", low=0.0,
            log=True, ui_high=10.0)
_WD = Param("weight_decay", "float", 0.0, "weight_decay",
            "L2 penalty added to the gradient.", low=0.0, log=True)
_ADAM = (Param("betas", "float_pair", [0.9, 0.999], "betas",
               "Decay rates of the first and second moment.", low=0.0, high=1.0,
               high_open=True),
         Param("eps", "float", 1e-8, "eps", "Added to the denominator.", low=0.0, log=True))

OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in [
    Optimizer(
        name="sgd", label="SGD", summary="Gradient descent, with optional (Nesterov) momentum.",
        update=sgd, momentum=lambda hp: hp["momentum"], check=_sgd_check,
        params=(_LR,
                Param("momentum", "float", 0.0, "momentum", "Heavy-ball momentum.",
                      low=0.0, high=1.0, high_open=True),
                Param("dampening", "float", 0.0, "dampening",
                      "Scales down each new gradient in the momentum buffer.",
                      low=0.0, high=1.0),
                Param("nesterov", "bool", False, "nesterov", "Nesterov momentum."),
                _WD)),
    Optimizer(
        name="adam", label="Adam", summary="Adaptive moments (Kingma & Ba).",
        update=adam, momentum=lambda hp: hp["betas"][0], params=(_LR, *_ADAM, _WD)),
    Optimizer(
        name="adamw", label="AdamW", summary="Adam with decoupled weight decay "
                                             "(Loshchilov & Hutter).",
        update=adamw, momentum=lambda hp: hp["betas"][0],
        params=(_LR, *_ADAM, Param("weight_decay", "float", 1e-2, "weight_decay",
                                   "Decoupled decay: p -= lr * weight_decay * p.",
                                   low=0.0, log=True))),
    Optimizer(
        name="rmsprop", label="RMSprop",
        summary="Divide by a running RMS of the gradient (Hinton).",
        update=rmsprop, momentum=lambda hp: hp["momentum"],
        params=(Param("lr", "float", 1e-2, "Learning rate", "The base learning rate.",
                      low=0.0, log=True, ui_high=10.0),
                Param("alpha", "float", 0.99, "alpha", "Decay of the squared-gradient average.",
                      low=0.0, high=1.0),
                Param("eps", "float", 1e-8, "eps", "Added to the denominator.", low=0.0,
                      log=True),
                Param("momentum", "float", 0.0, "momentum", "Momentum on the scaled step.",
                      low=0.0, high=1.0, high_open=True),
                Param("centered", "bool", False, "centered",
                      "Divide by the gradient's variance instead of its second moment."),
                _WD)),
]}
