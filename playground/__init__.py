"""Optimization Playground: learning-rate schedules steering gradient descent on 2D surfaces.

The functional core (no Dash here): ``simulate(config)`` runs one config as described in
``docs/run-format.md``; ``simulate_batch(configs)`` runs several in one call;
``sweep(config, field, values)`` runs one config for many values of one field; ``show(...)``
puts the page in a Jupyter notebook.

Names are loaded on first use, so that importing a submodule (the gunicorn settings in
``playground.web.gunicorn_conf``, read by gunicorn's master process) does not import JAX.
"""
from importlib import import_module

_WHERE = {
    "ConfigError": "params", "MAX_STEPS": "config", "OPTIMIZERS": "optimizers",
    "SCHEDULES": "schedules", "SURFACES": "surfaces", "from_query": "config",
    "page_path": "config", "resolve": "config", "simulate": "engine",
    "simulate_batch": "engine", "sweep": "sweeps", "to_query": "config", "validate": "config",
    "warm_up": "engine", "show": "web.notebook",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'playground' has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
