"""The image's server, as the Dockerfile runs it (no Docker engine here): the exact CMD
from the installed requirements, started on a compile cache filled by the image's own
build step and probed over HTTP; and the Dockerfile itself, linted."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from playground.web.serve import SERVER_ARGV

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_cmd() -> list[str]:
    return json.loads(re.findall(r"^CMD (\[.*\])$", DOCKERFILE, re.M)[-1])


def dockerfile_compile() -> tuple[list[str], str]:
    """The image's build-time compile step: its arguments after ``playground`` and the
    cache directory it fills."""
    line = re.search(r"\S*/playground (compile .*)$", DOCKERFILE, re.M).group(1).split()
    return line, line[line.index("--cache-dir") + 1]


def test_the_dockerfile_is_clean_under_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    out = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert dockerfile_cmd() == SERVER_ARGV  # what `playground serve` runs too
    assert re.search(r"^USER 10001$", text, re.M) and "HEALTHCHECK" in text
    assert "--no-cache-dir" in text and "--debug" not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_image_serves_from_the_cache_its_build_step_fills():
    args, cache_dir = dockerfile_compile()
    assert re.search(rf"^\s*JAX_COMPILATION_CACHE_DIR={re.escape(cache_dir)}\s", DOCKERFILE,
                     re.M), "the image's server must read the cache its build step filled"
    assert DOCKERFILE.index(f"COPY --from=build {cache_dir}") > DOCKERFILE.index("FROM", 10)


class Server:
    """The image's CMD on a free port, its log in a file (a pipe would fill and block)."""

    def __init__(self, tmp: Path, cache_dir: Path, cpus: list[int] | None = None,
                 **env_extra: str):
        self.log = tmp / "server.log"
        self.port = _free_port()
        cmd = dockerfile_cmd()
        cmd[0] = str(Path(sys.executable).parent / cmd[0])  # gunicorn from these requirements
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port),
               "WEB_CONCURRENCY": "1", "FRAME_ANCESTORS": "'self' https://course.example",
               "JAX_COMPILATION_CACHE_DIR": str(cache_dir),
               "PYTHONPATH": str(ROOT),  # the checkout's package, as the image installs it
               **env_extra}
        with open(self.log, "w") as out:  # started outside the checkout, like the image
            self.proc = subprocess.Popen(  # (cpus: the CPUs the server may use)
                cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus))
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, seconds: float = 120) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if _get(self.base + "/health")[0] == 200:
                    return
            except OSError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.2)
        raise AssertionError("the server never became healthy:\n" + self.log.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A compile cache filled by the image's own build step (``playground compile``)."""
    args, _ = dockerfile_compile()
    cache_dir = tmp_path_factory.mktemp("jax-cache")
    args[args.index("--cache-dir") + 1] = str(cache_dir)
    out = subprocess.run([sys.executable, "-m", "playground", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert re.search(r"[1-9]\d* programs compiled, 0 loaded", out.stdout), out.stdout
    return cache_dir


@pytest.fixture(scope="module")
def started(tmp_path_factory, cache):
    srv = Server(tmp_path_factory.mktemp("server"), cache)
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(started):
    return started.base


def test_a_server_started_on_the_image_cache_compiles_nothing(started, cache):
    line = re.search(r"engine ready in .*", started.log.read_text())
    assert line, started.log.read_text()
    assert re.search(r": 0 programs compiled, [1-9]\d* loaded from the cache \(cache "
                     + re.escape(str(cache)) + r"\)", line.group(0)), line.group(0)


def test_health_answers_once_the_engine_is_warm(server):
    status, _, body = _get(server + "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_the_page_is_served_with_security_headers(server):
    status, headers, body = _get(server + "/")
    assert status == 200 and b"Optimization Playground" in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'self' https://course.example" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_an_oversized_request_is_refused_without_a_trace(server):
    status, _, body = _get(server + "/_dash-update-component", data=b"x" * 400_000,
                           headers={"Content-Type": "application/json"})
    assert status == 413
    assert b"Traceback" not in body and b"/site-packages/" not in body


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def _cpu_list(cpus: list[int]) -> str:
    """CPUs as /proc writes them ("0-1", "3")."""
    return str(cpus[0]) if len(cpus) == 1 else (
        f"{cpus[0]}-{cpus[-1]}" if cpus == list(range(cpus[0], cpus[-1] + 1))
        else ",".join(map(str, cpus)))


def _cpus_allowed(pid) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return re.search(r"^Cpus_allowed_list:\s*(\S+)", status, re.M).group(1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_image_server_keeps_each_worker_to_a_cpu_of_its_own(tmp_path, cache):
    """The image's CMD with one worker per CPU (its default where no quota is narrower),
    on at most two of this machine's CPUs (a worker each, whatever the machine's size):
    each worker on a CPU of its own, as the plan for those CPUs says."""
    from playground.web.gunicorn_conf import _allowed, _quota, pin_cpus

    cpus = _allowed()[:2]
    n = len(cpus)
    plan = pin_cpus("auto", cpus, _quota(), n)
    srv = Server(tmp_path, cache, cpus=cpus, WEB_CONCURRENCY=str(n))
    try:
        srv.wait_healthy()
        deadline = time.time() + 120  # every worker up and warm
        while srv.log.read_text().count("engine ready") < n and time.time() < deadline:
            time.sleep(0.2)
        workers = _worker_pids(srv.proc.pid)
        assert len(workers) == n, workers
        allowed = sorted(_cpus_allowed(pid) for pid in workers)
        log = srv.log.read_text()
    finally:
        srv.stop()
    if plan:
        assert allowed == sorted(str(c) for c in plan), allowed
        assert all(f"(pinned to CPU {c})" in log for c in plan), log
    else:  # a cgroup quota narrower than the CPUs: left to the kernel
        assert "pinned to CPU" not in log and set(allowed) == {_cpu_list(cpus)}


def test_workers_are_pinned_only_one_to_each_cpu_and_under_no_narrower_quota():
    from playground.web.gunicorn_conf import pin_cpus

    assert pin_cpus("auto", [0, 1], None, 2) == [0, 1]          # one worker per CPU
    assert pin_cpus("auto", [2, 5], None, 2) == [2, 5]          # a CPU set, not 0..n
    assert pin_cpus("auto", [0, 1], None, 3) == []              # more workers than CPUs
    assert pin_cpus("auto", list(range(16)), None, 2) == []     # a replica of several
    assert pin_cpus("auto", list(range(16)), 2.0, 2) == []      # docker --cpus 2 on 16
    assert pin_cpus("auto", [0, 1], 2.0, 2) == [0, 1]           # a quota of all of them
    assert pin_cpus("1", [0, 1], None, 3) == [0, 1]             # asked for: shared round
    assert pin_cpus("0", [0, 1], None, 2) == []
    with pytest.raises(ValueError, match="PIN_WORKERS"):
        pin_cpus("yes", [0, 1], None, 2)


def test_a_new_worker_takes_the_cpu_the_fewest_live_workers_hold():
    from playground.web.gunicorn_conf import next_cpu

    assert next_cpu([0, 1], []) == 0
    assert next_cpu([0, 1], [0]) == 1
    assert next_cpu([0, 1], [None, 1]) == 0       # a restart takes the CPU left free
    assert next_cpu([0, 1], [0, 1, 0]) == 1       # more workers than CPUs: round the set
    assert next_cpu([4, 7], [4, 7]) == 4
