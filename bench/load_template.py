"""bench/load.py's template of a student's requests, made from a browser capture
(bench/load_capture.py): the page load's requests, the lr change's POST, and a scrub's two
POSTs (the grab's sweep request and the release's lr change), whose bodies the simulated
students edit (bench/load_users.py); the page's dropdown options; the server CPU of such
requests sent one at a time (:func:`serial_cpu`).

Only the standard library is imported here: no locust, no JAX (the load generator never
imports the app).
"""
from __future__ import annotations

import json
import re
import urllib.request


PAGE_NAMES = ("/", "/_dash-layout", "/_dash-dependencies", "page render")


def find_prop(items: list, cid, prop: str) -> dict | None:
    """The {id, property, value} entry of a callback body's inputs/state for cid.prop."""
    for item in items:
        for it in (item if isinstance(item, list) else [item]):
            if it.get("id") == cid and it.get("property") == prop:
                return it
    return None


class Template:
    def __init__(self, cap: dict):
        self.cap = cap
        self.page = []  # (name, method, path, body, headers)
        for r in cap["load"]:
            p = r["path"].split("?")[0]
            name = p if p in PAGE_NAMES else "page render"
            self.page.append((name, r["method"], r["path"], r["body"], _headers(r["headers"])))
        posts = [r for r in cap["change"] if r["method"] == "POST" and r["body"]]
        typed = float(cap["lr_typed"])
        lr_posts = [r for r in posts if "lr.value" in json.loads(r["body"]).get(
            "changedPropIds", []) and _number((find_prop(json.loads(r["body"])["inputs"], "lr",
                                                        "value") or {}).get("value")) == typed]
        if not lr_posts:
            raise RuntimeError(f"the capture holds no POST with changedPropIds lr.value and "
                               f"lr {typed}")
        self.change_requests = len(posts)
        self.change_path = lr_posts[0]["path"]
        self.change_headers = _headers(lr_posts[0]["headers"])
        self.change_body = json.loads(lr_posts[0]["body"])
        b = self.change_body
        lr = find_prop(b["inputs"], "lr", "value")
        if lr is None or find_prop(b["inputs"], "steps", "value") is None or find_prop(
                b["inputs"], "schedule", "value") is None:
            raise RuntimeError("the captured lr change has no lr/steps/schedule inputs")

        self.scrub = _scrub_requests(cap.get("scrub"))

    def describe(self) -> list[str]:
        b = self.change_body
        lr = find_prop(b["inputs"], "lr", "value")["value"]
        n_in = sum(len(i) if isinstance(i, list) else 1 for i in b["inputs"])
        n_state = sum(len(i) if isinstance(i, list) else 1 for i in b.get("state", []))
        return [
            f"page load: {' -> '.join(n for n, *_ in self.page)}",
            (f"lr change: POST {self.change_path}, {len(json.dumps(b))} bytes, "
             f"{n_in} inputs + {n_state} states, changedPropIds {b['changedPropIds']}, "
             f"lr typed {self.cap['lr_typed']!r} -> sent {lr!r} ({type(lr).__name__}); "
             f"the browser sent {self.change_requests} update request(s) for the change"),
            (f"scrub: {self.scrub.describe()}" if self.scrub else
             "scrub: none in this capture (a template saved before scrubbing; capture "
             "again)"),
            (f"not replayed (static files a browser caches): {len(self.cap['assets'])} "
             f"requests, e.g. {', '.join(p.split('?')[0] for p in self.cap['assets'][:3])}"),
        ]


class ScrubRequests:
    """A scrub as the browser sent it: the grab's POST (output ``scrub-data.data``: its
    input ``scrub-request.data`` = {"slider", "query"}, its states ``page-query.data`` and
    ``pins.data``) and the release's POST (the main callback, changedPropIds
    ``lr-slider.value``)."""

    def __init__(self, grab: dict, release: dict):
        self.grab_path, self.grab_headers = grab["path"], _headers(grab["headers"])
        self.grab_body = json.loads(grab["body"])
        self.release_path = release["path"]
        self.release_headers = _headers(release["headers"])
        self.release_body = json.loads(release["body"])
        g, r = self.grab_body, self.release_body
        request = find_prop(g["inputs"], "scrub-request", "data")
        query = find_prop(g.get("state", []), "page-query", "data")
        if request is None or query is None or find_prop(g.get("state", []), "pins",
                                                         "data") is None:
            raise RuntimeError("the captured grab has no scrub-request input or no "
                               "page-query / pins state")
        if not isinstance(request["value"], dict) or "query" not in request["value"]:
            raise RuntimeError(f"the captured scrub request is not {{slider, query}}: "
                               f"{request['value']!r}")
        if any(find_prop(r["inputs"], c, "value") is None
               for c in ("lr-slider", "steps", "schedule")):
            raise RuntimeError("the captured release has no lr-slider/steps/schedule inputs")
        self.query = query["value"]  # the page's query when the capture grabbed

    def grab(self, query: str) -> str:
        """The grab's body for the page whose page-query store holds ``query``."""
        b = self.grab_body
        find_prop(b["inputs"], "scrub-request", "data")["value"]["query"] = query
        find_prop(b["state"], "page-query", "data")["value"] = query
        return json.dumps(b)

    def describe(self) -> str:
        g, r = self.grab_body, self.release_body
        request = find_prop(g["inputs"], "scrub-request", "data")["value"]
        return (f"grab: POST {self.grab_path}, {len(json.dumps(g))} bytes, output "
                f"{g['output']!r}, slider {request.get('slider')!r}; release: POST "
                f"{self.release_path}, {len(json.dumps(r))} bytes, changedPropIds "
                f"{r['changedPropIds']}")


def _scrub_requests(sent: list[dict] | None) -> ScrubRequests | None:
    """The grab's and the release's requests among a capture's "scrub" requests."""
    if not sent:
        return None
    bodies = [(r, json.loads(r["body"])) for r in sent if r["method"] == "POST" and r["body"]]
    grabs = [r for r, b in bodies if b.get("output") == "scrub-data.data"]
    releases = [r for r, b in bodies if "lr-slider.value" in b.get("changedPropIds", [])]
    if not grabs or not releases:
        raise RuntimeError(f"the capture's drag holds no grab (scrub-data.data) or no "
                           f"release (lr-slider.value): {[b.get('output') for _, b in bodies]}")
    return ScrubRequests(grabs[0], releases[0])


def dropdown_values(url: str, template: Template, cid: str) -> list[str]:
    """The option values of dropdown ``cid`` in the layout the page-render POST returns
    (the load generator never imports the app: no JAX in this process)."""
    _, method, path, body, headers = next(p for p in template.page
                                              if p[0] == "page render")
    req = urllib.request.Request(url + path, data=body.encode(), method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        data = json.loads(r.read())
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == cid and "options" in props:
                found.extend(o["value"] if isinstance(o, dict) else o for o in props["options"])
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return found


SERIAL_CHANGES = 60
SERIAL_GRABS = 20
SERIAL_LOADS = 20
WARM_GRABS = 4


def _post(url: str, path: str, body: str, headers: dict) -> dict:
    req = urllib.request.Request(url + path, data=body.encode(), method="POST",
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def with_steps(query: str, steps: int) -> str:
    """The page's query with its number of steps set to ``steps``."""
    if re.search(r"([?&])steps=\d+", query):
        return re.sub(r"([?&])steps=\d+", rf"\g<1>steps={steps}", query, count=1)
    return f"{query}&steps={steps}"


def serial_cpu(url: str, template: Template, cpu) -> dict:
    """The server's CPU per request with one request at a time (no queue, no contention
    between its own requests): ``cpu()`` is the workers' CPU seconds so far. Plain lr
    changes (SERIAL_CHANGES), whole page loads of the captured page (SERIAL_LOADS, its
    four requests each), grabs of runs not swept before (SERIAL_GRABS runs of 520 + i
    steps, about the load's average: a sweep each) and grabs of one run (after
    WARM_GRABS of it, so that every worker has it cached: from the cache); ms per
    request, each request checked for an answer; WARM_GRABS changes and grabs first, not
    counted (a fresh worker's first calls)."""
    out = {}
    body = json.loads(json.dumps(template.change_body))
    box = find_prop(body["inputs"], "lr", "value")
    # first requests of a fresh worker (Dash's and the engine's first calls): not counted
    for i in range(WARM_GRABS):
        box["value"] = str(0.5 - 0.01 * i) if isinstance(box["value"], str) else 0.5 - 0.01 * i
        _post(url, template.change_path, json.dumps(body), template.change_headers)
        if template.scrub is not None:
            sc = template.scrub
            _post(url, sc.grab_path, sc.grab(with_steps(sc.query, 510 + i)), sc.grab_headers)
    c0 = cpu()
    for i in range(SERIAL_CHANGES):
        lr = round(0.001 * 1.1 ** i, 6)
        box["value"] = str(lr) if isinstance(box["value"], str) else lr
        body["changedPropIds"] = ["lr.value"]
        if "lr-graph" not in _post(url, template.change_path, json.dumps(body),
                                   template.change_headers).get("response", {}):
            raise RuntimeError("a serial lr change was not answered with plots")
    out["change"] = (cpu() - c0) / SERIAL_CHANGES * 1000
    # whole page loads of the captured page (the bootstrap's requests), as a hall's
    # students open the same link
    c0 = cpu()
    for _ in range(SERIAL_LOADS):
        for _, method, path, body, headers in template.page:
            req = urllib.request.Request(url + path, method=method, headers=headers,
                                         data=body.encode() if body else None)
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
    out["page load"] = (cpu() - c0) / SERIAL_LOADS * 1000
    if template.scrub is None:
        return out
    sc = template.scrub
    for key, queries in (("sweep", [with_steps(sc.query, 520 + i)
                                    for i in range(SERIAL_GRABS)]),
                         ("cached grab", [with_steps(sc.query, 519)] * SERIAL_GRABS)):
        if key == "cached grab":  # each connection goes to whichever worker accepts it
            for _ in range(WARM_GRABS):
                _post(url, sc.grab_path, sc.grab(queries[0]), sc.grab_headers)
        c0 = cpu()
        for q in queries:
            answer = _post(url, sc.grab_path, sc.grab(q), sc.grab_headers)
            if "frames" not in (answer.get("response", {}).get("scrub-data") or {}).get(
                    "data", {}):
                raise RuntimeError(f"a serial grab was not answered with frames: "
                                   f"{str(answer)[:200]}")
        out[key] = (cpu() - c0) / len(queries) * 1000
    return out


def _number(value) -> float | None:
    """The lr box's value as a number (the page sends it as typed, a string; older pages
    sent a number)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _headers(h: dict) -> dict:
    keep = {"content-type", "accept", "accept-language", "x-csrftoken"}
    return {k: v for k, v in h.items() if k.lower() in keep}
