"""HTTP fuzzing and faults, against the Dockerfile's gunicorn command on loopback.

A sample of bench/fuzz_http.py's hostile requests (every category; all of them with
PLAYGROUND_FUZZ_EXAMPLES >= 1000): no 5xx, no traceback, source path or exception name in
any answer, 413 over the size cap, browser-sendable values answered 200, and the server
healthy afterwards. Then the faults: a worker SIGKILLed mid-request is replaced and the
next request succeeds; runs beyond the work cap are refused with a message; clients that
disconnect mid-request leave no thread or file descriptor behind.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
import time
from collections import Counter

import pytest

from bench import fuzz_http as fz

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("PLAYGROUND_FUZZ_EXAMPLES", "0"))
SAMPLE = {"types": 150, "values": 150, "shape": 120, "ids": 100}
"""Cases per category in the default suite (the other categories run whole)."""


@pytest.fixture(scope="module")
def server():
    with fz.Server(workers=1) as s:
        yield s


@pytest.fixture(scope="module")
def site(server):
    return fz.discover(server.url)


def worker_stats(pid: int) -> tuple[int, int]:
    """(threads, open file descriptors) of a process."""
    with open(f"/proc/{pid}/status") as f:
        threads = int(next(line for line in f if line.startswith("Threads:")).split()[1])
    return threads, len(os.listdir(f"/proc/{pid}/fd"))


def update_body(site, **values):
    return site.body(site.callback("lr-graph.figure"), "lr.value",
                     {f"{k.replace('_', '-')}.value": v for k, v in values.items()})


def _failures(results):
    return [f"[{r.case.category}] {r.case.name}: {'; '.join(r.problems)}"
            for r in results if r.failed]


# --- Fuzzing ------------------------------------------------------------------------------

def test_hostile_requests_get_4xx_or_a_handled_answer_and_leak_nothing(server, site):
    rng = random.Random(1)
    todo = fz.cases(site, rng, scale=max(1, EXAMPLES // 1000))
    if EXAMPLES < 1000:  # the default suite: a sample of the big categories
        by_cat: dict = {}
        for c in todo:
            by_cat.setdefault(c.category, []).append(c)
        todo = [c for cat, cs in by_cat.items()
                for c in (rng.sample(cs, SAMPLE[cat]) if len(cs) > SAMPLE.get(cat, 10**9)
                          else cs)]
    for c in todo:
        c.known = fz.known_bug(c)
    results = fz.run(server.url, todo)
    statuses = Counter(r.response.status for r in results)
    assert _failures(results) == [], statuses
    assert statuses[500] == 0 and statuses[0] == 0
    assert fz.still_healthy(site) == []
    # what a client got wrong is logged in one line, no traceback
    assert "refused a callback request" in server.text()


def test_a_burst_of_hostile_and_normal_requests_leaves_the_server_healthy(server, site):
    rng = random.Random(2)
    todo = fz.burst(site, fz.cases(site, rng), rng, 240)
    for c in todo:
        c.known = fz.known_bug(c)
    results = fz.run(server.url, todo, concurrency=24)
    assert _failures(results) == []
    normal = [r for r in results if r.case.name == "normal update"]
    assert normal and all(r.response.status == 200 for r in normal)
    assert fz.still_healthy(site) == []


# --- The work cap -------------------------------------------------------------------------

def test_runs_beyond_the_work_cap_are_refused_with_a_message(server, site):
    r = fz.post(server.url, update_body(site, steps=10**6))
    assert r.status == 200
    answer = json.loads(r.body)["response"]
    assert "10000" in json.dumps(answer["errors"]["data"])  # beside the steps control
    assert answer["status"]["children"].startswith("Fix the highlighted field")

    for pins in ([{"steps": 10_000}] * 7, [{}] * 5000, "x"):
        body = update_body(site)
        next(i for i in body["inputs"] if isinstance(i, dict) and i["id"] == "pins")[
            "value"] = pins
        r = fz.post(server.url, body)
        assert r.status == 400 and b"pins: at most" in r.body and r.seconds < 5

    for slider in (2**31, 10**20, 1e308, -6):  # the lr is 10 ** slider
        r = fz.post(server.url, update_body(site, lr_slider=slider))
        assert r.status == 400 and b"lr-slider" in r.body and r.seconds < 5
    for slider in (2**31, 1e308, 9.0, -1, True):  # the steps are 10 ** slider too
        r = fz.post(server.url, update_body(site, steps_slider=slider))
        assert r.status == 400 and b"steps-slider" in r.body and r.seconds < 5


def test_bodies_over_256_kB_get_413(server, site):
    body = update_body(site)
    body["state"][0]["value"] = "a" * (256 * 1024)
    r = fz.post(server.url, body)
    assert r.status == 413 and not fz.leaks(r)
    r = fz.post(server.url, json.dumps(update_body(site)).encode() + b" " * (256 * 1024))
    assert r.status == 413


# --- Faults -------------------------------------------------------------------------------

def _half_request(url: str, body_bytes: int = 0) -> socket.socket:
    """A connection that sent its headers (and ``body_bytes`` of a body) and waits."""
    port = int(url.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
              + b"{" * body_bytes)
    return s


def test_a_worker_killed_mid_request_is_replaced_and_the_next_request_succeeds(server, site):
    [worker] = server.workers()
    heavy = update_body(site, steps=10_000)
    answers = []
    thread = threading.Thread(target=lambda: answers.append(fz.post(server.url, heavy)))
    hanging = _half_request(server.url, 100)  # surely in flight: its body never comes
    thread.start()
    time.sleep(0.3)
    os.kill(worker, signal.SIGKILL)
    thread.join(60)
    hanging.settimeout(10)
    try:
        got = hanging.recv(1024)
    except ConnectionResetError:
        got = b""
    assert got == b""  # its worker died: the connection closes without an answer
    hanging.close()
    assert answers and answers[0].status in (0, 200)  # cut off, or done before the kill

    waited = server.wait_healthy(timeout=120)
    [replacement] = server.workers()
    assert replacement != worker
    r = fz.post(server.url, update_body(site, lr=0.01))
    assert r.status == 200 and "lr-graph" in json.loads(r.body)["response"]
    assert f"(pid:{worker})" in server.text()  # the master saw it go
    print(f"replacement worker healthy {waited:.1f} s after the kill")


def test_clients_that_disconnect_mid_request_leave_nothing_behind(server, site):
    server.wait_healthy()
    [worker] = server.workers()
    url = server.url
    # fill the thread pool first, so that the baseline has every thread it will ever have
    fz.run(url, [fz.Case("warm", "update", body=json.dumps(update_body(site, lr=0.01 * i))
                         .encode()) for i in range(1, 25)], concurrency=24)
    time.sleep(1)
    before = worker_stats(worker)

    def disconnects(i):
        kind = i % 4
        if kind == 0:  # half the headers
            s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            s.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nContent-")
        elif kind == 1:  # the headers and half the body
            s = _half_request(url, 2500)
        elif kind == 2:  # a whole heavy request, gone before the answer
            s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            data = json.dumps(update_body(site, steps=10_000, lr=0.001 * i)).encode()
            s.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(data), data))
        else:  # connect, say nothing
            s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        time.sleep(0.05)
        s.close()

    for i in range(60):
        disconnects(i)
    deadline = time.time() + 30
    while time.time() < deadline:  # the abandoned runs finish, their sockets close
        after = worker_stats(worker)
        if after[0] <= before[0] and after[1] <= before[1]:
            break
        time.sleep(0.5)
    assert after[0] <= before[0], f"threads {before[0]} -> {after[0]}"
    assert after[1] <= before[1], f"file descriptors {before[1]} -> {after[1]}"
    assert server.workers() == [worker]  # nothing crashed
    assert fz.still_healthy(site) == []


# --- The bugs found, now fixed --------------------------------------------------------------

FOUND = {
    # link -> what went wrong before the fix (the page now opens the run, or the defaults
    # with a note next to the field)
    "?p\u00b2.steps=5": "config.from_query: int('\u00b2') raised ValueError",
    "?p" + "9" * 4301 + ".steps=5": "config.from_query: int() of 4301 digits raised",
    "?optimizer.lr=1e300": "lr became inf in float32; figures.path_slot: NaN marker sizes",
    "?optimizer.lr=3e38&schedule=CyclicLR": "an lr at float32's edge: inf lr in the run",
    "?problem.a=1e200": "surfaces: the Rosenbrock window squared a and overflowed",
}


@pytest.mark.parametrize("link", list(FOUND), ids=list(FOUND.values()))
def test_found_bug_stays_fixed(server, site, link):
    """Every link opens a page: the run it describes, or the defaults and a note."""
    r = fz.post(server.url, site.pages_body(link))
    assert r.status == 200


def test_export_buttons_download(server, site):
    """Each export button downloads its file."""
    download = next(d for d in site.server_callbacks if d["output"] == "download.data")
    r = fz.post(server.url, site.body(download))  # the first button (CSV), clicked
    assert r.status == 200 and "download" in json.loads(r.body)["response"]
