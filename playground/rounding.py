"""Floating-point order: keeping XLA from fusing what torch rounds.

XLA's CPU backend contracts a product feeding a sum (``a * b + c``) into one fused
multiply-add, which rounds once where torch's eager kernels round the product, then the
sum. Where the engine follows torch bit for bit (the optimizers' updates, a surface's
gradient as autograd computes it), a product torch rounds on its own goes through
:func:`alone`.
"""
from __future__ import annotations

import jax.numpy as jnp


def alone(x):
    """``x`` unchanged, rounded on its own: a value XLA cannot contract into a fused
    multiply-add with the sum that uses it (a select between ``x`` and NaN, on whether
    ``x`` is NaN: the same value, but no longer a product in XLA's eyes)."""
    return jnp.where(jnp.isnan(x), jnp.nan, x)
