"""gunicorn settings, shared by `playground serve` (and `python app.py`) and the Docker
image (`gunicorn -c python:playground.web.gunicorn_conf playground.web.server:server`).

Each worker imports the app and compiles its own engine after the fork (the master never
touches JAX: XLA's threads do not survive a fork), then answers /health with 200.
"""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"


def _cpus() -> int:
    """CPUs this container may use (cgroup quota, else affinity)."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            return max(1, int(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


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
    worker.log.info("worker %s: %s", worker.pid, report)
