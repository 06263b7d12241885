"""What the benchmarks share (bench/page.py, bench/load.py, bench/fuzz_http.py): the server
they measure, the browser, timing and percentiles, tables.

- The server: :class:`Server` starts the production command (the Dockerfile's ``CMD``,
  :func:`production_command`) or any other (``python app.py``, a bare Dash app) on a free
  loopback port with its output in a log file, waits until it answers and every gunicorn
  worker has logged its engine warm-up, and stops it by its pid; :func:`children` and the
  other /proc readers watch its processes.
- The browser: :func:`chromium` (headless Chromium through Selenium with
  :data:`CHROME_FLAGS`), :func:`wait_for`.
- Timing: :class:`Stopwatch`, :func:`repeat`, :func:`quantile`, :func:`stats`,
  :func:`summary`.
- Printing: :func:`table`, :func:`met`, :func:`cpu_model`, :func:`mem_gb`.

Only the standard library is imported here (bench/load.py runs in a virtualenv with locust
and without selenium or JAX); :func:`chromium` imports selenium when it is called.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1920,1080")


# --- The server command ---------------------------------------------------------------------

def dockerfile_cmd() -> list[str]:
    """The production server command: the Dockerfile's CMD."""
    with open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8") as f:
        return json.loads(re.findall(r"^CMD (\[.*\])$", f.read(), re.M)[-1])


def find_gunicorn(explicit: str | None = None) -> str:
    """``explicit``, else the gunicorn next to this interpreter (a venv's, then the one it
    was made from), else the first on PATH."""
    if explicit:
        return explicit
    for d in (os.path.dirname(sys.executable),
              os.path.dirname(os.path.realpath(sys.executable))):
        path = os.path.join(d, "gunicorn")
        if os.access(path, os.X_OK):
            return path
    path = shutil.which("gunicorn")
    if not path:
        sys.exit("no gunicorn found next to this python nor on PATH: pass --gunicorn PATH")
    return path


def production_command(gunicorn: str | None = None) -> list[str]:
    """The Dockerfile's CMD with the gunicorn of :func:`find_gunicorn`."""
    return [find_gunicorn(gunicorn), *dockerfile_cmd()[1:]]


def app_python(gunicorn: str) -> str:
    """The interpreter gunicorn runs under (its script's shebang), else this one's base."""
    try:
        with open(gunicorn, "rb") as f:
            first = f.readline().decode(errors="replace")
        if first.startswith("#!") and "python" in os.path.basename(first[2:].split()[0]):
            return first[2:].split()[0]
    except OSError:
        pass
    return os.path.realpath(sys.executable)


def warmed_workers(log: str) -> int:
    """How many gunicorn workers have logged their engine warm-up (this version's line,
    and the older "engine warm in worker" of checkouts measured with --against)."""
    return log.count("engine ready in") + log.count("engine warm in worker")


# --- Processes (/proc) ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers), from /proc."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return sorted(out)


def status_kb(pid: int, key: str) -> int | None:
    """VmRSS / VmHWM (peak RSS) of a process, in kB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return float("nan")


def all_processes_cpu() -> dict[int, tuple[str, float]]:
    """Every process's (command, CPU seconds), to name who else used the cores."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            out[int(d)] = (cmd or f"[pid {d}]", cpu_seconds(int(d)))
    return out


def _proc_stat() -> list[int]:
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def kernel_irq_cpu() -> float:
    """irq + softirq CPU seconds of the machine (loopback networking shows up here)."""
    v = _proc_stat()
    return (v[5] + v[6]) / TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    v = _proc_stat()
    idle = v[3] + v[4]  # idle + iowait
    total = sum(v[:8])  # without guest time (already in user)
    return (total - idle) / TICK, total / TICK


# --- The server -----------------------------------------------------------------------------

class Server:
    """A web server in a child process on a free loopback port, its output in a log file.

    ``argv`` defaults to the production command (:func:`production_command`); ``python
    app.py`` execs the same gunicorn. ``workers`` and ``threads`` set WEB_CONCURRENCY and
    THREADS (unset: the gunicorn settings' defaults, one worker per CPU). ``probe`` is the
    path that must answer 200 (a bare Dash app has no /health). The server runs in its own
    session (so :meth:`kill_group` reaches all of it) and is stopped by its pid. As a
    context manager it is started (ready) on entry and stopped on exit; the log is deleted
    then unless ``keep_log``.
    """

    def __init__(self, argv: list[str] | None = None, *, cwd: str = ROOT,
                 name: str = "gunicorn", port: int | None = None, workers: int | None = None,
                 threads: int | None = None, env: dict | None = None, probe: str = "/health",
                 log_prefix: str = "bench-server-", keep_log: bool = False):
        self.argv = list(argv) if argv else production_command()
        self.cwd, self.name, self.probe, self.keep_log = cwd, name, probe, keep_log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port),
                    "PYTHONUNBUFFERED": "1"}
        if workers:
            self.env["WEB_CONCURRENCY"] = str(workers)
        if threads:
            self.env["THREADS"] = str(threads)
        self.env.update(env or {})
        fd, self.log_path = tempfile.mkstemp(prefix=log_prefix, suffix=".log")
        os.close(fd)
        self.proc: subprocess.Popen | None = None
        self.ready_s = float("nan")

    def start(self, timeout: float = 180.0) -> "Server":
        """Start it and wait until it is ready (:meth:`wait_ready`); stopped again if not."""
        with open(self.log_path, "ab") as out:  # O_APPEND: readers never move its offset
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.ready_s = self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def healthy(self, timeout: float = 30.0) -> bool:
        """Whether ``probe`` answers 200."""
        try:
            with urllib.request.urlopen(self.url + self.probe, timeout=timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def warm(self) -> bool:
        """Every gunicorn worker (booted, or alive) has logged its engine warm-up; true for
        a server without workers (a bare Dash app)."""
        log = self.text()
        return warmed_workers(log) >= max(log.count("Booting worker"), len(self.workers()))

    def _wait(self, ready, timeout: float, what: str) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n"
                                   + self.tail())
            if ready():
                return time.perf_counter() - t0
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not {what} within {timeout:.0f} s:\n{self.tail()}")

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until ``probe`` answers 200 and every worker is warm (raises if the
        server exits or is not ready within ``timeout``)."""
        return self._wait(lambda: self.healthy() and self.warm(), timeout, "ready")

    def wait_healthy(self, timeout: float = 180.0) -> float:
        """Seconds until ``probe`` answers 200 (raises as :meth:`wait_ready`)."""
        return self._wait(self.healthy, timeout, "healthy")

    def workers(self) -> list[int]:
        """The worker pids (children of the gunicorn master, from /proc)."""
        return children(self.proc.pid) if self.proc else []

    @property
    def kind(self) -> str:
        log = self.text()
        if "gunicorn" in log or "Booting worker" in log:
            return f"gunicorn, {log.count('Booting worker')} worker(s)"
        if "Running on" in log:
            return "Flask/Werkzeug development server"
        return "?"

    def text(self) -> str:
        """The log so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-n:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGINT to the server (gunicorn's master stops its workers), SIGKILL if it is not
        gone within ``grace`` seconds, then SIGKILL to any of its workers still alive."""
        if self.proc is not None and self.proc.poll() is None:
            workers = self.workers()
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            for pid in workers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if not self.keep_log:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def kill_group(self) -> None:
        """SIGKILL to the server's whole process group, without waiting (a hard timeout:
        this may run in a signal handler)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- The browser ----------------------------------------------------------------------------

def chromium(performance_log: bool = True):
    """Headless Chromium through Selenium (imported here), with :data:`CHROME_FLAGS`, a
    1920x1080 window and, with ``performance_log``, Chrome's performance log (the network
    events, read with ``driver.get_log("performance")``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    if performance_log:
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_window_size(1920, 1080)
    return driver


def wait_for(cond, timeout: float = 30.0, what: str = "the page", poll: float = 0.03):
    """``cond()``'s first true value, polled every ``poll`` s (TimeoutError after
    ``timeout``)."""
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out waiting for {what}")


# --- Timing ---------------------------------------------------------------------------------

class Stopwatch:
    """Started when made: ``.s`` seconds (``.ms`` milliseconds) since."""

    def __init__(self):
        self.t0 = time.perf_counter()

    @property
    def s(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def ms(self) -> float:
        return self.s * 1e3


def repeat(fn, n: int, warmup: int = 0) -> list[float]:
    """Milliseconds of each of ``n`` calls ``fn(i)``, after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def quantile(xs, q):
    """The q-quantile of xs, linearly interpolated (NaN when empty)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats(xs) -> dict:
    """n, median, p95, min and max of xs (Nones left out; NaN when empty)."""
    xs = [x for x in xs if x is not None]
    if not xs:
        nan = float("nan")
        return {"n": 0, "median": nan, "p95": nan, "min": nan, "max": nan}
    return {"n": len(xs), "median": statistics.median(xs), "p95": quantile(xs, 0.95),
            "min": min(xs), "max": max(xs)}


def summary(xs, unit: str = "ms") -> str:
    """One line: n, median, p95, p99 and max."""
    if not xs:
        return "n/a"
    return (f"n {len(xs):6d}  median {quantile(xs, .5):7.1f}  p95 {quantile(xs, .95):7.1f}  "
            f"p99 {quantile(xs, .99):7.1f}  max {max(xs):7.1f} {unit}")


# --- Printing -------------------------------------------------------------------------------

def table(rows, header=None, align: str | None = None, indent: str = "  ",
          sep: str = "  ") -> str:
    """Rows of cells as aligned columns (cells printed with str()): the first column
    left-aligned and the others right-aligned, unless ``align`` gives one of "<" or ">"
    per column. A column is as wide as its widest cell (the header's included)."""
    lines = [[str(c) for c in row] for row in ([header] if header else []) + list(rows)]
    n = max((len(r) for r in lines), default=0)
    widths = [max(len(r[i]) for r in lines if i < len(r)) for i in range(n)]
    align = align or "<" + ">" * (n - 1)
    return "\n".join(
        (indent + sep.join(f"{c:{align[i]}{widths[i]}}" for i, c in enumerate(r))).rstrip()
        for r in lines)


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def mem_gb() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "?"
