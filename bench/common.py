"""What the benchmarks share: where the repo is, how Chromium is started, small helpers."""
import json
import os
import re
import socket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1920,1080")


def dockerfile_cmd() -> list[str]:
    """The production server command: the Dockerfile's CMD."""
    with open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8") as f:
        return json.loads(re.findall(r"^CMD (\[.*\])$", f.read(), re.M)[-1])


def warmed_workers(log: str) -> int:
    """How many gunicorn workers have logged their engine warm-up (this version's line,
    and the older "engine warm in worker" of checkouts measured with --against)."""
    return log.count("engine ready in") + log.count("engine warm in worker")


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


def quantile(xs, q):
    """The q-quantile of xs, linearly interpolated (NaN when empty)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"
