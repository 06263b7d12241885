"""bench/load.py's template of a student's requests, made from a browser capture
(bench/load_capture.py): the page load's requests and the lr change's POST, whose body the
simulated students edit (bench/load_users.py); the page's dropdown options.

Only the standard library is imported here: no locust, no JAX (the load generator never
imports the app).
"""
from __future__ import annotations

import json
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
            "changedPropIds", []) and (find_prop(json.loads(r["body"])["inputs"], "lr", "value")
                                       or {}).get("value") == typed]
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
            (f"not replayed (static files a browser caches): {len(self.cap['assets'])} "
             f"requests, e.g. {', '.join(p.split('?')[0] for p in self.cap['assets'][:3])}"),
        ]


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


def _headers(h: dict) -> dict:
    keep = {"content-type", "accept", "accept-language", "x-csrftoken"}
    return {k: v for k, v in h.items() if k.lower() in keep}
