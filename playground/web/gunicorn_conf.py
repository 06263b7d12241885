"""gunicorn settings, shared by `playground serve` (and `python app.py`) and the Docker
image (`gunicorn -c python:playground.web.gunicorn_conf playground.web.server:server`).

Each worker imports the app and compiles its own engine after the fork (the master never
touches JAX: XLA's threads do not survive a fork), then answers /health with 200.
"""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"


def _allowed() -> list[int]:
    """The CPUs this process may run on (its affinity), in order."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _quota() -> float | None:
    """The CPUs the cgroup's quota allows (Docker's --cpus), or None without a quota."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _cpus() -> int:
    """CPUs this container may use (cgroup quota, else affinity)."""
    quota = _quota()
    return max(1, int(quota)) if quota is not None else len(_allowed())


# A run takes about a millisecond of CPU; the rest of a request is JSON and waiting on the
# network, so threads carry the concurrency and one worker per CPU carries the compute.
workers = int(os.environ.get("WEB_CONCURRENCY", _cpus()))
threads = int(os.environ.get("THREADS", "8"))
worker_class = "gthread"
preload_app = False
timeout = 60  # a worker answers once warm (~1 s from the cache, ~3 s compiling cold)
graceful_timeout = 20
# No keep-alive: each request comes on a new connection, which whichever worker is free
# accepts. Kept-alive connections stay on the worker that accepted them: after a worker
# restart every student sat on the other worker, which alone cannot carry the hall
# (measured: throughput fell to one worker's ~135 changes/s, below the 150/s offered, and
# latency stayed at ~2.3 s for minutes; with a 1-s keep-alive it still happened, since a
# backlogged connection is never idle). A connection on the LAN costs well under a
# millisecond; behind nginx (compose.yaml) the browser keeps its connection to nginx.
keepalive = 0
# Restart a worker after this many requests (a guard against slow leaks); the wide jitter
# keeps two workers from restarting at the same moment.
max_requests = 20000
max_requests_jitter = 10000
# request size limits (a page change is a few kB)
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def pin_cpus(setting: str, allowed: list[int], quota: float | None, n_workers: int
             ) -> list[int]:
    """The CPUs to pin the workers to, one worker to each (none: leave them to the kernel).

    A run's compiled program is a few hundred tiny kernels that XLA's CPU runtime hands
    round its thread pool. Left to the kernel, a worker's pool threads wake each other
    across CPUs, and two workers' threads meet on both: a warm run then costs more CPU and
    time (bench/engine.py, section 9), and a hall's changes queue behind each other
    (bench/load.py on 2 cores, 300 students: plain-change p95 1.0-2.2 s left to the
    kernel, 67-95 ms pinned, for the same ~8 ms of CPU per change). So with one worker
    per CPU (the default), each worker keeps to a CPU of its own, as uWSGI's cpu-affinity
    does. ``PIN_WORKERS=auto`` (the default) pins only when there is one worker for each
    CPU the process may use and no cgroup quota is narrower than those CPUs. Fewer workers
    than CPUs may be one of several replicas on a bigger host (compose.yaml), which would
    all pin to the same first CPUs; under a quota (Docker's --cpus, a Kubernetes limit)
    the share may come from any CPU, which pinned workers would give up. ``1`` pins
    regardless (workers share CPUs round the set), ``0`` never."""
    if setting not in ("auto", "0", "1"):
        raise ValueError(f"PIN_WORKERS is {setting!r}: auto (the default), 1 or 0")
    if setting == "0" or not allowed:
        return []
    if setting == "auto" and (n_workers != len(allowed)
                              or (quota is not None and quota < len(allowed))):
        return []
    return allowed


def next_cpu(cpus: list[int], taken: list) -> int:
    """The CPU for a new worker: the one the fewest live workers hold (the first of
    those), so a restarted worker takes the CPU its predecessor left."""
    return min(cpus, key=lambda c: (sum(t == c for t in taken), cpus.index(c)))


PIN_WORKERS = os.environ.get("PIN_WORKERS", "auto")
_PIN_CPUS = pin_cpus(PIN_WORKERS, _allowed(), _quota(), workers) \
    if hasattr(os, "sched_setaffinity") else []


def pre_fork(server, worker):
    # (in the master: it knows which CPU each live worker holds)
    if _PIN_CPUS:
        worker.playground_cpu = next_cpu(
            _PIN_CPUS, [getattr(w, "playground_cpu", None) for w in server.WORKERS.values()])


def post_fork(server, worker):
    # (in the new worker, before its threads and XLA's start: they inherit the affinity)
    cpu = getattr(worker, "playground_cpu", None)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def post_worker_init(worker):
    # Workers share compiled engines through JAX's persistent cache: the Docker image
    # ships one filled at build time (JAX_COMPILATION_CACHE_DIR); elsewhere the first
    # worker fills one under $TMPDIR and the others and every restart load it.
    from playground.web.server import server, warm

    report = warm(os.environ.get("JAX_COMPILATION_CACHE_DIR") or os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "playground-jax-cache"))
    # Serve one page to ourselves before any client: Dash sets itself up on its first
    # request, and concurrent first requests can catch it half done (plotly/dash#3971:
    # "dash is not a registered library", a blank page).
    server.test_client().get("/")
    cpu = getattr(worker, "playground_cpu", None)
    worker.log.info("worker %s%s: %s", worker.pid,
                    "" if cpu is None else f" (pinned to CPU {cpu})", report)
