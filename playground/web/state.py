"""The page's state -> the runs it shows. The one place the web shell calls the engine.

The whole state of a page is its address: the current run and the pinned ones
(``config.page_path``), which the page keeps in its ``page-query`` store and the pins
again in its ``pins`` store. Everything shown is computed from that, in one direction:

    query (and pins) --state--> runs (``RunView``: label, slot, config, result) --> views

Views never call the engine themselves: they take the runs from here (the tool panels'
experiments go through ``playground.tools``).
"""
from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlencode

from .. import tools
from ..config import from_query, resolve
from ..engine import simulate, simulate_batch
from ..sweeps import run_resolved
from ..params import ConfigError
from .form import DEFAULT_CONFIG
from .runs import MAX_RUNS, RunView, differs_labels

MAX_PINS = MAX_RUNS - 1
"""Pinned runs kept at most (the oldest is dropped); with the current run, MAX_RUNS."""


def read_link(query: dict) -> tuple[dict, list[dict], str]:
    """The runs a link describes (its query as a dict; ``lesson`` already taken out):
    (current, pins, ""), or the defaults and a note saying why not."""
    if not query:
        return DEFAULT_CONFIG, [], ""
    try:
        current, pins = from_query(query)
        resolve(current)
        for pin in pins:
            resolve(pin)
        return current, pins[:MAX_PINS], ""
    except ConfigError as e:
        return DEFAULT_CONFIG, [], (f"This link could not be opened ({e}). "
                                    "Showing the default run instead.")


def current_run(query: str | None) -> dict:
    """The current run of the page path in the ``page-query`` store (which the server wrote,
    so it parses; a forged one raises ConfigError, answered 400 by the server)."""
    current, _ = from_query((query or "/?").split("?", 1)[1])
    return current


def runs(current: dict, pins: list[dict], labels=None) -> list[RunView]:
    """RunViews for the current run (slot 0) and the pinned ones, labelled by what differs
    (or by ``labels``, a lesson's own)."""
    configs = [resolve(c) for c in [current, *pins]]
    results = [simulate(current), *pinned_results(json.dumps(pins, sort_keys=True))]
    labels = list(labels) if labels else differs_labels(configs)
    return [RunView(label=label, slot=i, run=run, result=result)
            for i, (label, run, result) in enumerate(zip(labels, configs, results))]


def runs_for(query: str | None, pins: list[dict] | None, labels=None) -> list[RunView]:
    """The runs a page shows for its ``page-query`` and ``pins`` stores."""
    return runs(current_run(query), pins or [], labels)


@lru_cache(maxsize=64)
def pinned_results(pins_json: str) -> list[dict]:
    """Pinned runs change only when pinned: compute them once, in one batch."""
    return simulate_batch(json.loads(pins_json))


def sweep_runs(runs: list[dict]) -> list[dict]:
    """The results of the current run at a slider's positions, each already resolved (a
    sweep's batches, ``sweeps.run_resolved``), for scrubbing (``scrub``)."""
    return run_resolved(runs)


def range_test(current: dict) -> dict:
    """Smith's LR range test on the current run's surface, start and optimizer
    (``tools.lr_range_config``, analysed by ``tools.lr_range_analysis``)."""
    return tools.lr_range_analysis(simulate(tools.lr_range_config(current)))


def surface_key(run: dict) -> str:
    """What identifies a run's surface (the ``surface-key`` store): the contour map is
    sent again only when it changes."""
    return urlencode(sorted(run["problem"].items()))
