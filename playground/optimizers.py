"""Optimizers with ``torch.optim``'s update rules. Adding one means adding an entry.

Each ``update(g, p, state, lr, momentum, hp)`` is a pure function: gradient ``g`` at point
``p`` (shape (2,)), the shared state below, this step's lr and momentum (momentum or beta1,
which CyclicLR/OneCycleLR may cycle), and the optimizer's other parameters ``hp``. Optax's
transformations are used where they reproduce ``torch.optim`` exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax.numpy as jnp
import optax

from .params import ConfigError, Entry, Param


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


def sgd(g, p, s: OptState, lr, momentum, hp):
    """torch.optim.SGD. Written by hand: optax.trace has no dampening, and torch leaves the
    buffer untouched (and starts it as g) on steps whose momentum is 0."""
    d = g + hp["weight_decay"] * p
    on = momentum != 0
    buf = jnp.where(s.has_buf, momentum * s.buf + (1 - hp["dampening"]) * d, d)
    buf = jnp.where(on, buf, s.buf)
    step = jnp.where(on, jnp.where(hp["nesterov"], d + momentum * buf, buf), d)
    return p - lr * step, s._replace(buf=buf, has_buf=s.has_buf | on)


def _adam(g, p, s: OptState, lr, beta1, hp, decoupled: bool):
    adam = optax.scale_by_adam(b1=beta1, b2=hp["betas"][1], eps=hp["eps"])
    g = g if decoupled else g + hp["weight_decay"] * p
    u, st = adam.update(g, optax.ScaleByAdamState(s.count, s.mu, s.nu))
    if decoupled:
        u = u + hp["weight_decay"] * p
    return p - lr * u, s._replace(count=st.count, mu=st.mu, nu=st.nu)


def adam(g, p, s, lr, beta1, hp):
    """torch.optim.Adam (L2 weight decay added to the gradient): optax.scale_by_adam."""
    return _adam(g, p, s, lr, beta1, hp, decoupled=False)


def adamw(g, p, s, lr, beta1, hp):
    """torch.optim.AdamW (decoupled weight decay): optax.scale_by_adam plus lr*wd*p."""
    return _adam(g, p, s, lr, beta1, hp, decoupled=True)


def rmsprop(g, p, s: OptState, lr, momentum, hp):
    """torch.optim.RMSprop, plain or centered in one formula: the mean gradient ``mu``
    stays 0 unless centered, and sqrt(nu - 0) is sqrt(nu) exactly (optax.scale_by_rms and
    scale_by_stddev with eps_in_sqrt=False, in one pass). The momentum buffer is by hand:
    torch skips it on steps whose momentum is 0, optax.trace does not."""
    g = g + hp["weight_decay"] * p
    decay = hp["alpha"]
    nu = (1 - decay) * g ** 2 + decay * s.nu
    mu = jnp.where(hp["centered"], (1 - decay) * g + decay * s.mu, s.mu)
    u = g / (jnp.sqrt(nu - mu ** 2) + hp["eps"])
    on = momentum > 0
    buf = jnp.where(on, momentum * s.buf + u, s.buf)
    return p - lr * jnp.where(on, buf, u), s._replace(mu=mu, nu=nu, buf=buf)


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
