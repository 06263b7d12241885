"""Optimization Playground: learning-rate schedules steering gradient descent on 2D surfaces.

The functional core (no Dash here): ``simulate(config)`` runs one config as described in
``shared/CONTRACT.md``; ``simulate_batch(configs)`` runs several in one call.
"""
from .config import MAX_STEPS, from_query, page_path, resolve, to_query, validate
from .engine import simulate, simulate_batch, warm_up
from .optimizers import OPTIMIZERS
from .params import ConfigError
from .schedules import SCHEDULES
from .surfaces import SURFACES

__all__ = ["ConfigError", "MAX_STEPS", "OPTIMIZERS", "SCHEDULES", "SURFACES", "from_query",
           "page_path", "resolve", "simulate", "simulate_batch", "to_query", "validate",
           "warm_up"]
