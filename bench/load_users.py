"""bench/load.py's simulated student (a locust user): loads the page once, then makes one
control change every 2 s on its own grid (mostly lr, now and then steps or the schedule);
one student in ``1 / scrub_share`` scrubs instead: each of its turns grabs the lr slider
(one sweep request) and lets it go (the release's lr change); and the :class:`Recorder`
of every request and page load.

It imports gevent and locust, as bench/load.py does (which imports them first: locust
monkey-patches the standard library).
"""
from __future__ import annotations

import gevent
from locust import FastHttpUser, task

import copy
import json
import math
import random
import time

try:  # imported as bench.load_users, or from bench/ (bench/load.py run as a script)
    from .load_template import Template, find_prop
except ImportError:
    from load_template import Template, find_prop


PACING_S = 2.0

# what a student does after the page load (the rest of the changes are to lr)
P_STEPS = 0.08
P_SCHEDULE = 0.08
LR_RANGE = (1e-3, 0.5)
STEPS_CHOICES = (100, 200, 300, 400, 500, 600, 800, 1000)
# a scrubbing student's turn: the grab's sweep request, then after DRAG_S the release;
# with its own runs (SCRUB_RUNS "own") the release also sets a random number of steps in
# OWN_STEPS (and with P_OWN_SCHEDULE a random schedule), so that each grab sweeps a run
# that no other student has asked for (the server caches 32 runs' sweeps per worker)
DRAG_S = (0.3, 1.5)
OWN_STEPS = (100, 1000)
P_OWN_SCHEDULE = 0.15
SCRUB_RUNS = ("own", "shared")
GRAB = "scrub grab (sweep)"
RELEASE = "lr release"
CHANGE_NAMES = ("lr change", "steps change", "schedule change", RELEASE)
"""The plain changes: one run each (the release of a scrub is one too)."""


def _lr() -> float:
    lo, hi = (math.log10(x) for x in LR_RANGE)
    return float(f"{10 ** random.uniform(lo, hi):.3g}")


# --- recording ------------------------------------------------------------------------------

class Recorder:
    """Every request (start time, name, latency, error) and every whole page load."""

    def __init__(self):
        self.requests: list[tuple[float, str, float, str | None]] = []
        self.page_loads: list[tuple[float, float, bool]] = []
        self.sizes: dict[str, list[int]] = {}
        self.computed = 0
        self.not_computed = 0
        self.scrubbers = 0

    def on_request(self, request_type, name, response_time, response_length, exception=None,
                   start_time=None, **_):
        self.requests.append((start_time or time.time(), name, response_time,
                              None if exception is None else _kind(exception)))
        if exception is None:
            self.sizes.setdefault(name, []).append(response_length or 0)


def _kind(exc) -> str:
    text = str(exc)[:100]
    if type(exc).__name__ == "CatchResponseError":  # our own checks: the message says it
        return text
    return f"{type(exc).__name__}: {text}"


# --- the simulated student -------------------------------------------------------------------

def make_user(base, template: Template, rec: Recorder, schedules: list[str],
              scrub_share: float = 0.0, scrub_runs: str = "own"):
    """The locust user class; of the students started, student n scrubs when
    floor(n * scrub_share) > floor((n - 1) * scrub_share) (exactly one in ten at 0.1)."""
    if scrub_share > 0 and template.scrub is None:
        raise RuntimeError("the template holds no scrub requests: capture again")
    started = [0]

    class Student(base):
        def on_start(self):
            started[0] += 1
            n = started[0]
            self.scrubs = math.floor(n * scrub_share) > math.floor((n - 1) * scrub_share)
            rec.scrubbers += self.scrubs
            # Each student gets a random phase in the 2-s period: locust starts its users in
            # batches at one instant, and students do not click in step.
            gevent.sleep(random.uniform(0, PACING_S))
            self.body = copy.deepcopy(template.change_body)
            if self.scrubs:
                self.release = copy.deepcopy(template.scrub.release_body)
                # the page's query (its page-query store): the captured page's run, until
                # a release's answer brings the next; "own" runs start with one of their own
                self.query = template.scrub.query if scrub_runs == "shared" else None
            t0 = time.time()
            ok = True
            for name, method, path, body, headers in template.page:
                ok &= self._send(name, method, path, body, headers,
                                 need_response=method == "POST",
                                 json_body=path != "/") is not None
            rec.page_loads.append((t0, (time.time() - t0) * 1000, ok))
            self.next_at = time.time()

        def wait_time(self):
            """Until the next change on this student's own 2-s grid. Not locust's
            constant_pacing: with it (locust 2.47, measured here) 97% of all requests left
            less than 1 ms apart, in one or two bursts per period, even with random start
            phases and a trivial endpoint; on an absolute grid the phases stay spread."""
            return max(0.0, self.next_at - time.time())

        def _send(self, name, method, path, body, headers, need_response, json_body=True):
            """Send one request, check it, record what it computed; its JSON (None on a
            failure or a non-JSON body)."""
            kw = {"data": body} if body is not None else {}
            with self.client.request(method, path, name=name, headers=headers,
                                     catch_response=True, **kw) as r:
                if r.status_code != 200:
                    r.failure(f"HTTP {r.status_code}")
                    return False
                if not json_body:
                    r.success()
                    return {}
                try:
                    data = json.loads(r.content)
                except (ValueError, TypeError):
                    r.failure("body is not JSON")
                    return None
                if need_response and not (isinstance(data, dict) and "response" in data):
                    r.failure('JSON without "response"')
                    return None
                if name == GRAB:
                    answer = (data["response"].get("scrub-data") or {}).get("data")
                    if not isinstance(answer, dict) or "frames" not in answer:
                        error = answer.get("error") if isinstance(answer, dict) else answer
                        r.failure(f"the grab was answered without frames: {error!r}"[:100])
                        return None
                r.success()
                if name in CHANGE_NAMES:
                    if "lr-graph" in data["response"]:
                        rec.computed += 1
                    else:
                        rec.not_computed += 1
                return data

        @task
        def change_control(self):
            self.next_at = max(self.next_at + PACING_S, time.time())
            if self.scrubs:
                self.scrub()
                return
            b = self.body
            u = random.random()
            if u < P_STEPS:
                prop, name = "steps", "steps change"
                current = find_prop(b["inputs"], "steps", "value")
                current["value"] = random.choice(
                    [s for s in STEPS_CHOICES if s != current["value"]])
            elif u < P_STEPS + P_SCHEDULE and schedules:
                prop, name = "schedule", "schedule change"
                current = find_prop(b["inputs"], "schedule", "value")
                current["value"] = random.choice(
                    [s for s in schedules if s != current["value"]])
            else:
                prop, name = "lr", "lr change"
                lr = _lr()
                box = find_prop(b["inputs"], "lr", "value")
                box["value"] = str(lr) if isinstance(box["value"], str) else lr  # as typed
            b["changedPropIds"] = [f"{prop}.value"]
            self._send(name, "POST", template.change_path, json.dumps(b),
                       template.change_headers, need_response=True)
            if prop == "lr":  # the response moves the slider, as in the browser
                slider = find_prop(b["inputs"], "lr-slider", "value")
                if slider is not None:
                    slider["value"] = max(-5.0, min(1.0, math.log10(lr)))

        def scrub(self):
            """A grab (one sweep over the lr slider's positions), a drag of DRAG_S seconds
            (none of it reaches the server), a release at a random slider position."""
            b = self.release
            if self.query is not None:
                grabbed = time.time()
                if self._send(GRAB, "POST", template.scrub.grab_path,
                              template.scrub.grab(self.query), template.scrub.grab_headers,
                              need_response=True) is None:
                    return
                gevent.sleep(max(0.0, grabbed + random.uniform(*DRAG_S) - time.time()))
                name = RELEASE
            else:  # an "own" run's first turn: set its steps (a plain change), no grab
                name = "steps change"
            lr = _lr()
            slider = find_prop(b["inputs"], "lr-slider", "value")
            slider["value"] = round(round(math.log10(lr) / 0.05) * 0.05, 2)
            b["changedPropIds"] = ["lr-slider.value"]
            if scrub_runs == "own":  # the next grab's run: new steps, sometimes a schedule
                find_prop(b["inputs"], "steps", "value")["value"] = random.randint(*OWN_STEPS)
                if schedules and random.random() < P_OWN_SCHEDULE:
                    find_prop(b["inputs"], "schedule", "value")["value"] = random.choice(
                        schedules)
            data = self._send(name, "POST", template.scrub.release_path, json.dumps(b),
                              template.scrub.release_headers, need_response=True)
            query = ((data or {}).get("response", {}).get("page-query") or {}).get("data")
            if isinstance(query, str):
                self.query = query

    if base is FastHttpUser:
        Student.network_timeout = 30.0
        Student.connection_timeout = 10.0
    return Student
