"""Warm-up: compile the engine once per process, loading it from JAX's persistent
compilation cache when one is set up.

A server process compiles its engine before it answers ``/health``, so no visitor ever
waits for XLA. With a cache directory (``JAX_COMPILATION_CACHE_DIR``; the Docker image
fills one at build time with ``playground compile``) a process loads the compiled programs
instead of compiling them: ``warm()`` reports how many it compiled and how many it loaded,
which is how the tests prove that a started server compiled nothing.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import jax
from jax import monitoring

from .engine import warm_up

CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"
"""The environment variable JAX itself reads for its persistent cache directory."""

_COUNTS = {"programs": 0, "from_cache": 0}
_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"  # per program, hit or miss
_CACHE_HIT = "/jax/compilation_cache/cache_hits"


def _on_duration(event: str, duration: float, **_) -> None:
    if event == _BACKEND_COMPILE:
        _COUNTS["programs"] += 1


def _on_event(event: str, **_) -> None:
    if event == _CACHE_HIT:
        _COUNTS["from_cache"] += 1


monitoring.register_event_duration_secs_listener(_on_duration)
monitoring.register_event_listener(_on_event)


@dataclass(frozen=True)
class WarmUp:
    """What one warm-up cost: wall time, and the programs compiled or loaded from cache."""
    seconds: float
    programs: int
    from_cache: int
    cache_dir: str | None

    @property
    def compiled(self) -> int:
        return self.programs - self.from_cache

    def __str__(self) -> str:
        where = f"cache {self.cache_dir}" if self.cache_dir else "no persistent cache"
        return (f"engine ready in {self.seconds:.1f} s: {self.compiled} programs compiled, "
                f"{self.from_cache} loaded from the cache ({where})")


def use_cache(cache_dir: str | os.PathLike | None) -> str | None:
    """Point JAX's persistent compilation cache at ``cache_dir`` (default: the environment's
    ``JAX_COMPILATION_CACHE_DIR``, else none) and cache every program, however quick to
    compile. Returns the directory in use."""
    cache_dir = cache_dir or os.environ.get(CACHE_ENV) or None
    if cache_dir:
        cache_dir = os.path.abspath(cache_dir)
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return cache_dir


def warm(cache_dir: str | os.PathLike | None = None) -> WarmUp:
    """Compile (or load) everything the page runs, once in this process."""
    cache_dir = use_cache(cache_dir)
    before = dict(_COUNTS)
    t0 = time.perf_counter()
    warm_up()
    return WarmUp(seconds=time.perf_counter() - t0,
                  programs=_COUNTS["programs"] - before["programs"],
                  from_cache=_COUNTS["from_cache"] - before["from_cache"],
                  cache_dir=cache_dir)
