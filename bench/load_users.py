"""bench/load.py's simulated student (a locust user): loads the page once, then makes one
control change every 2 s on its own grid (mostly lr, now and then steps or the schedule);
and the :class:`Recorder` of every request and page load.

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
CHANGE_NAMES = ("lr change", "steps change", "schedule change")


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

def make_user(base, template: Template, rec: Recorder, schedules: list[str]):
    class Student(base):
        def on_start(self):
            # Each student gets a random phase in the 2-s period: locust starts its users in
            # batches at one instant, and students do not click in step.
            gevent.sleep(random.uniform(0, PACING_S))
            self.body = copy.deepcopy(template.change_body)
            t0 = time.time()
            ok = True
            for name, method, path, body, headers in template.page:
                ok &= self._send(name, method, path, body, headers,
                                 need_response=method == "POST", json_body=path != "/")
            rec.page_loads.append((t0, (time.time() - t0) * 1000, ok))
            self.next_at = time.time()

        def wait_time(self):
            """Until the next change on this student's own 2-s grid. Not locust's
            constant_pacing: with it (locust 2.47, measured here) 97% of all requests left
            less than 1 ms apart, in one or two bursts per period, even with random start
            phases and a trivial endpoint; on an absolute grid the phases stay spread."""
            return max(0.0, self.next_at - time.time())

        def _send(self, name, method, path, body, headers, need_response, json_body=True):
            kw = {"data": body} if body is not None else {}
            with self.client.request(method, path, name=name, headers=headers,
                                     catch_response=True, **kw) as r:
                if r.status_code != 200:
                    r.failure(f"HTTP {r.status_code}")
                    return False
                if not json_body:
                    r.success()
                    return True
                try:
                    data = json.loads(r.content)
                except (ValueError, TypeError):
                    r.failure("body is not JSON")
                    return False
                if need_response and not (isinstance(data, dict) and "response" in data):
                    r.failure('JSON without "response"')
                    return False
                r.success()
                if name in CHANGE_NAMES:
                    if "lr-graph" in data["response"]:
                        rec.computed += 1
                    else:
                        rec.not_computed += 1
                return True

        @task
        def change_control(self):
            self.next_at = max(self.next_at + PACING_S, time.time())
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
                find_prop(b["inputs"], "lr", "value")["value"] = lr
            b["changedPropIds"] = [f"{prop}.value"]
            self._send(name, "POST", template.change_path, json.dumps(b),
                       template.change_headers, need_response=True)
            if prop == "lr":  # the response moves the slider, as in the browser
                slider = find_prop(b["inputs"], "lr-slider", "value")
                if slider is not None:
                    slider["value"] = max(-5.0, min(1.0, math.log10(lr)))

    if base is FastHttpUser:
        Student.network_timeout = 30.0
        Student.connection_timeout = 10.0
    return Student
