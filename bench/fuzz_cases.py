"""bench/fuzz_http.py's hostile requests, by category (json, shape, ids, outputs, types,
values, workcap, size, page; see its docstring), built from a :class:`Site`, and the
burst's mix of them; the values of wrong types, the numbers and texts a browser can send,
junk links.
"""
from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote

try:  # imported as bench.fuzz_cases (the tests, through bench.fuzz_http), or from bench/
    from .fuzz_checks import expect_message, expect_no_files, expect_status, expect_update
    from .fuzz_site import JSON, PAGES_OUTPUT, UPDATE, Response, Site, _outputs, discover, request
except ImportError:
    from fuzz_checks import expect_message, expect_no_files, expect_status, expect_update
    from fuzz_site import JSON, PAGES_OUTPUT, UPDATE, Response, Site, _outputs, discover, request

MAX_BODY = 256 * 1024  # app.MAX_REQUEST_BYTES (not imported: that would start JAX here)


# --- The cases ----------------------------------------------------------------------------

@dataclass
class Case:
    category: str
    name: str
    method: str = "POST"
    path: str = UPDATE
    body: bytes | None = None
    headers: dict = field(default_factory=lambda: dict(JSON))
    expect: Callable[[Response], str | None] | None = None  # a message when unmet
    known: str = ""  # a known, reported bug: counted apart, does not fail the run

    def send(self, base: str, timeout: float = 60.0) -> Response:
        return request(base, self.method, self.path, self.body, self.headers, timeout)


def _j(obj) -> bytes:
    return json.dumps(obj).encode()


def _nested(depth: int, leaf="0") -> bytes:
    return ("[" * depth + leaf + "]" * depth).encode()


WRONG_TYPES = [None, True, False, 0, -1, 1.5, -1e308, 10 ** 400, "", "x", "\u202e\U0001f600\x00",
               "a" * 10_000, [], [1, 2], [None], [[[[[]]]]], {}, {"a": 1}, {"points": 1},
               {"id": {"$ne": 1}}, "NaN", "-Infinity", "../../../etc/passwd",
               "<script>alert(1)</script>", "{\"__proto__\": 1}"]
"""Values of every wrong type; each input and state value is replaced by each of them."""

BIG_NUMBERS = [0, -0.0, -1, 1e-300, 5e-324, 1e-45, 0.30000000000000004, 1e38, 3.5e38, 1e39,
               1e300, 1.7976931348623157e308, -1.7976931348623157e308, 123456789012345680000,
               2 ** 31, 2 ** 53 + 1, None]
"""Numbers (and the empty box) a browser's number input can send."""

TEXTS = ["", " ", "1,2", "nan, inf", "1e999, 1", ",,,", "-0, 0", "9" * 300, "\u0661,\u0662",
         "1" + ",1" * 2000, "0x10, 1", "1_000, 2", "\U0001f600", "1e308,1e308", "null"]
"""Text a browser's text box can send (lists and pairs are typed as text)."""


def junk_queries(rng: random.Random, n: int) -> list[str]:
    """Query strings a link can carry: real keys with junk values, junk keys, encodings."""
    keys = ["steps", "start", "problem", "optimizer", "schedule", "warmup", "optimizer.lr",
            "schedule.T_max", "schedule.milestones", "warmup.steps", "p1.steps", "p7.problem",
            "p0.steps", "p\u00b2.steps", "p" + "9" * 5000 + ".steps", "p1.p2.steps",
            "problem.name", "..", ".", "", "__proto__", "optimizer.betas", "\U0001f600",
            "start.x", "p1", "p-1.steps", "p1e3.steps", "P1.steps", "p\u0663.steps"]
    values = ["", "1", "-1", "0", "1e999", "nan", "inf", "-inf", "1,2", "1,2,3", "null",
              "true", "on", "off", "rosenbrock", "lbfgs", "%", "%zz", "%00", "%ff%fe",
              "\U0001f600", "9" * 400, "1e-400", "1" * 30, "0x1p3", "\u0661", "CyclicLR",
              "OneCycleLR", "ReduceLROnPlateau", "a" * 3000, "1e300", "3.5e38"]
    out = ["", "?", "?&&&", "?=", "?==", "?%", "?a=%zz", "?steps=1&steps=2",
           "?p\u00b2.steps=5", "?p" + "9" * 5000 + ".steps=5", "?optimizer.lr=1e300",
           "?optimizer=sgd&optimizer.lr=1e39", "?steps=10001", "?steps=" + "9" * 400]
    for _ in range(n):
        pairs = [(rng.choice(keys), rng.choice(values)) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.3:
            q = "&".join(f"{k}={v}" for k, v in pairs)  # raw: encodings as typed
        else:
            q = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
        out.append("?" + q)
    return out


def _proto(output):
    """An output (a pattern's: each of its items) asking for the property __proto__."""
    if isinstance(output, list):
        return [{**item, "property": "__proto__"} for item in output]
    return {"id": output["id"], "property": "__proto__"}


def cases(site: Site, rng: random.Random, scale: int = 1) -> list[Case]:
    """Every hostile request, by category (``scale`` multiplies the random ones)."""
    out: list[Case] = []
    update = site.callback("lr-graph.figure")
    pins_cb = site.callback("pins.data")
    good = site.body(update, "lr.value")
    good_pins = site.body(pins_cb, "pin.n_clicks", {"pin.n_clicks": 1})
    pages = site.pages_body("?steps=20")
    bodies = {"update": good, "pins": good_pins, "pages": pages}
    for dep in site.server_callbacks:  # and every other server-side callback, as clicked
        first = _outputs(dep)[0]["id"]
        if dep not in (update, pins_cb) and dep["output"] != PAGES_OUTPUT:
            bodies[str(first)] = site.body(dep)

    # json: not JSON, not an object
    raw = [b"", b"{", b"{not json", b"[1,2]", b"null", b"1", b'"x"', b"true", b"[]",
           _j(good)[:-7], _j(good) + b"}", b"\xff\xfe\x00{", b"\xef\xbb\xbf" + _j(good),
           b'{"output": NaN}', b'{"output": 1e999}', b'{"output": "a", "output": "b"}',
           _j(good).replace(b'"lr.value"', b'"lr.\xed\xa0\x80value"'),
           b'{"output": "\\ud800"}', _nested(200), _nested(990), _nested(1100),
           _nested(100_000), ("{\"a\":" * 50_000 + "0" + "}" * 50_000).encode(),
           b"0" * 5000, b"9" * 5000, b"\x00" * 1000, b"{}" * 1000]
    for i, body in enumerate(raw):
        out.append(Case("json", f"raw-{i}", body=body))
    for ctype in ["text/plain", "application/x-www-form-urlencoded", "",
                  "application/json; charset=utf-16", "multipart/form-data; boundary=x",
                  "application/json" + "; a=b" * 500]:
        out.append(Case("json", f"content-type {ctype[:30]!r}", body=_j(good),
                        headers={"Content-Type": ctype} if ctype else {}))

    # shape: a key missing or of the wrong type
    for name, base_body in bodies.items():
        for key in ["output", "outputs", "inputs", "state", "changedPropIds"]:
            b = copy.deepcopy(base_body)
            del b[key]
            out.append(Case("shape", f"{name} without {key}", body=_j(b)))
            for bad in [None, 1, "x", [], {}, [1], [None], [{}], [[]], {"id": "lr"},
                        [{"id": "lr"}], "a" * 5000]:
                b = copy.deepcopy(base_body)
                b[key] = bad
                out.append(Case("shape", f"{name} {key}={json.dumps(bad)[:20]}", body=_j(b)))
        b = copy.deepcopy(base_body)
        b["extra"] = {"x": [1] * 100}
        out.append(Case("shape", f"{name} with an extra key", body=_j(b)))
        for key in ("inputs", "state"):
            for item in range(len(base_body[key])):
                for drop in ("id", "property", "value"):
                    b = copy.deepcopy(base_body)
                    target = b[key][item]
                    target = target[0] if isinstance(target, list) and target else target
                    if isinstance(target, dict):
                        target.pop(drop, None)
                    out.append(Case("shape", f"{name} {key}[{item}] without {drop}",
                                    body=_j(b)))

    # ids: outputs that are not server callbacks, inputs that are not what they say
    for output in ["nope", "", ".", "..", "....", "lr-graph.figure", "pins.data..",
                   "..pins.data...lr.value..", "note.children", "\U0001f600.value",
                   "x" * 10_000, *site.clientside_outputs[:8]]:
        b = copy.deepcopy(good)
        b["output"] = output
        out.append(Case("ids", f"output={output[:30]!r}", body=_j(b)))
    for name, base_body in bodies.items():
        for i in range(len(base_body["inputs"])):
            for cid, prop in [("nope", "value"), ("lr", "nope"), ({"type": "param"}, "value"),
                              ({"type": "param", "key": 1}, "value"), ("", ""),
                              ("__proto__", "constructor")]:
                b = copy.deepcopy(base_body)
                item = b["inputs"][i]
                items = item if isinstance(item, list) else [item]
                for it in items[:1]:
                    it["id"], it["property"] = cid, prop
                out.append(Case("ids", f"{name} inputs[{i}] id={cid!r}.{prop}", body=_j(b)))
        for changed in [[], ["nope.value"], ["{bad json.value"], ['{"type":1}.value'],
                        ["lr"], [1], [None], ["lr.value"] * 1000, "lr.value",
                        ['{"index":9999,"type":"unpin"}.n_clicks']]:
            b = copy.deepcopy(base_body)
            b["changedPropIds"] = changed
            out.append(Case("ids", f"{name} changedPropIds={json.dumps(changed)[:30]}",
                            body=_j(b)))
        for key in ("inputs", "state"):
            for delta in (-1, +1, +50):
                b = copy.deepcopy(base_body)
                b[key] = b[key][:delta] if delta < 0 else b[key] + b[key][-1:] * delta \
                    if b[key] else [{"id": "lr", "property": "value", "value": 1}] * delta
                out.append(Case("ids", f"{name} {key} count {delta:+d}", body=_j(b)))
    # pattern-matched inputs: wrong lengths, foreign ids
    params_at = next(i for i, s in enumerate(update["inputs"]) if "param" in s["id"])
    for variant in ("empty", "one", "double", "foreign", "dup"):
        b = copy.deepcopy(good)
        items = b["inputs"][params_at]
        b["inputs"][params_at] = {"empty": [], "one": items[:1], "double": items + items,
                                  "foreign": [{"id": {"type": "param", "key": "x.y.z"},
                                               "property": "value", "value": 1}] + items,
                                  "dup": [items[0]] * 500}[variant]
        out.append(Case("ids", f"pattern inputs {variant}", body=_j(b)))

    # outputs: forged
    outs = good["outputs"]
    for name, forged in [("none", []), ("one", outs[:1]), ("short", outs[:-1]),
                         ("long", outs + outs[:3]), ("reversed", outs[::-1]),
                         ("foreign", [{"id": "note", "property": "children"}] * len(outs)),
                         ("dict", outs[0]), ("strings", [json.dumps(o) if isinstance(o, list)
                                                         else f"{o['id']}.{o['property']}"
                                                         for o in outs]),
                         ("pattern", [{"id": {"type": "msg", "key": ["ALL"]},
                                       "property": "children"}] * len(outs)),
                         ("props", [_proto(o) for o in outs])]:
        b = copy.deepcopy(good)
        b["outputs"] = forged
        out.append(Case("outputs", f"update outputs {name}", body=_j(b)))
    for name, forged in [("list", [good_pins["outputs"]] * 2), ("none", []),
                         ("foreign", {"id": "note", "property": "children"})]:
        b = copy.deepcopy(good_pins)
        b["outputs"] = forged
        out.append(Case("outputs", f"pins outputs {name}", body=_j(b)))

    # types: every value, wrong types
    for name, base_body in bodies.items():
        for key in ("inputs", "state"):
            for i, item in enumerate(base_body[key]):
                what = item[0]["id"] if isinstance(item, list) and item else (
                    item.get("id") if isinstance(item, dict) else "?")
                for bad in WRONG_TYPES:
                    b = copy.deepcopy(base_body)
                    target = b[key][i]
                    for t in (target if isinstance(target, list) else [target]):
                        t["value"] = bad
                    out.append(Case("types", f"{name} {key}[{i}] ({what}) = "
                                             f"{json.dumps(bad)[:24]}", body=_j(b)))
    # values nested as deep as the JSON parser goes (the answer may echo them)
    for name, base_body in bodies.items():
        for key in ("inputs", "state"):
            for i in range(len(base_body[key])):
                for depth in (500, 900, 960, 990):
                    for leaf in ("[]", '{"a": 1}'):
                        text = _j(base_body).decode()
                        b = copy.deepcopy(base_body)
                        target = b[key][i]
                        for t in (target if isinstance(target, list) else [target]):
                            t["value"] = "@@DEEP@@"
                        nested = "[" * depth + leaf + "]" * depth
                        if name == "pins" and key == "state" and i == 0:  # pins: objects
                            nested = "[" + '{"a": ' * depth + "1" + "}" * depth + "]"
                        text = _j(b).decode().replace('"@@DEEP@@"', nested)
                        out.append(Case("types", f"{name} {key}[{i}] nested {depth} deep",
                                        body=text.encode()))
    # pattern-matched values of the wrong type, one control at a time (a random sample)
    params = good["inputs"][params_at]
    for _ in range(20 * scale):
        b = copy.deepcopy(good)
        k = rng.randrange(len(params))
        b["inputs"][params_at][k]["value"] = rng.choice(WRONG_TYPES)
        key = params[k]["id"]["key"]
        out.append(Case("types", f"param {key} wrong type", body=_j(b)))

    # values: what a browser can send; must be answered (200), refusals as messages
    for cid in ["lr", "steps", "start-x", "start-y", "threshold"]:  # number inputs
        for v in BIG_NUMBERS:
            b = site.body(update, f"{cid}.value", {f"{cid}.value": v})
            out.append(Case("values", f"{cid}={v!r}", body=_j(b), expect=expect_update))
    for v in (-5, -5.0, 1, 0.5, -0.7):  # the lr slider's range (it sends nothing outside)
        b = site.body(update, "lr-slider.value", {"lr-slider.value": v})
        out.append(Case("values", f"lr-slider={v!r}", body=_j(b), expect=expect_update))
    for v in BIG_NUMBERS:  # not from a browser: the slider keeps to its range
        b = site.body(update, "lr-slider.value", {"lr-slider.value": v})
        out.append(Case("types", f"lr-slider={v!r}", body=_j(b)))
    # every parameter control of every surface, optimizer and schedule, on the page a link
    # to that entry opens (the page may show only the chosen entry's controls)
    seen = set()
    for section in ("problem", "optimizer", "schedule"):
        options = site.components.get(section, ("", {}))[1].get("options") or []
        for entry in [o["value"] if isinstance(o, dict) else o for o in options]:
            page = discover(site.base, f"?{section}={quote(str(entry))}", site.deps)
            body = page.body(update, "lr.value")
            items = body["inputs"][params_at]
            for k, item in enumerate(items):
                key = item["id"]["key"]
                if key in seen:
                    continue
                seen.add(key)
                ctype, props = page.components[json.dumps(item["id"], sort_keys=True)]
                if ctype == "Checklist":
                    choices = [[], ["on"]]
                elif ctype in ("RadioItems", "Dropdown"):
                    choices = [o["value"] if isinstance(o, dict) else o
                               for o in props.get("options", [])]
                elif props.get("type") == "text":
                    choices = TEXTS
                else:
                    choices = BIG_NUMBERS
                picked = choices if scale > 1 else rng.sample(choices, min(4, len(choices)))
                for v in picked:
                    b = copy.deepcopy(body)
                    b["inputs"][params_at][k]["value"] = v
                    b["changedPropIds"] = [json.dumps(item["id"], sort_keys=True,
                                                      separators=(",", ":")) + ".value"]
                    out.append(Case("values", f"{key}={json.dumps(v)[:24]}", body=_j(b),
                                    expect=expect_update))
    for dep in site.server_callbacks:  # buttons: each clicked once
        b = site.body(dep)
        if '["ALL"]' in json.dumps(dep.get("output", "")) or '"ALL"' in json.dumps(
                b.get("outputs", "")):
            continue  # an ALL-wildcard output: the page fills it with the components it
            # holds, which this harness does not know (Dash answers 400 to an empty one)
        pattern = b["inputs"][0]
        if isinstance(pattern, list) and pattern and pattern[0]["property"] == "n_clicks":
            for item in pattern:
                c = copy.deepcopy(b)
                for it in c["inputs"][0]:
                    it["value"] = 1 if it["id"] == item["id"] else None
                c["changedPropIds"] = [json.dumps(item["id"], sort_keys=True,
                                                  separators=(",", ":")) + ".n_clicks"]
                out.append(Case("values", f"click {json.dumps(item['id'])}", body=_j(c),
                                expect=expect_update))
    for click in [{"points": [{"x": 1e308, "y": -1e308}]}, {"points": []}, {},
                  {"points": [{"x": 0.5, "y": 0.25, "curveNumber": 0}]}]:
        b = site.body(update, "path-graph.clickData", {"path-graph.clickData": click})
        out.append(Case("values", f"click {json.dumps(click)[:30]}", body=_j(b),
                        expect=expect_update))
    for q in junk_queries(rng, 30 * scale):
        out.append(Case("values", f"link {q[:40]!r}", body=_j(site.pages_body(q)),
                        expect=expect_update))
    for pathname in ["/nope", "/" + "a" * 5000, "//", "/../..", "/\U0001f600", "/?x"]:
        out.append(Case("values", f"pathname {pathname[:20]!r}",
                        body=_j(site.pages_body("", pathname)), expect=expect_update))
    for query in ["", "/?steps=10001", "/?p1.steps=5&p2.steps=6&p3.steps=7",
                  "/?p\u00b2.steps=5", "?", "/" * 3000, "/?" + "p1.steps=5&" * 10_000]:
        b = site.body(pins_cb, "pin.n_clicks", {"pin.n_clicks": 1, "page-query.data": query})
        out.append(Case("values", f"pin with page-query {query[:30]!r}", body=_j(b)))

    # workcap: beyond the per-request work
    for steps in [10_001, 10 ** 6, 2 ** 31, 10 ** 18]:
        b = site.body(update, "steps.value", {"steps.value": steps})
        out.append(Case("workcap", f"steps={steps}", body=_j(b),
                        expect=expect_message("10000", "Fix the highlighted field")))
    for n in (7, 50, 2000):
        b = site.body(update, "pins.data", {"pins.data": [{"steps": 10_000}] * n})
        out.append(Case("workcap", f"{n} pinned runs of 10,000 steps", body=_j(b),
                        expect=expect_status(400)))
    b = site.body(update, "pins.data", {"pins.data": [{"steps": 10_000}] * 6})
    out.append(Case("workcap", "6 pinned runs of 10,000 steps (allowed)", body=_j(b),
                    expect=expect_update))
    b = site.body(update, "pins.data", {"pins.data": [{"steps": 10 ** 6}] * 3})
    out.append(Case("workcap", "pinned runs beyond the step cap", body=_j(b)))

    # size: near and over the cap
    def padded(total: int) -> bytes:
        b = copy.deepcopy(good)
        b["state"][0]["value"] = ""
        room = total - len(_j(b))
        b["state"][0]["value"] = "a" * room
        data = _j(b)
        assert len(data) == total, (len(data), total)
        return data
    for total in (MAX_BODY - 1024, MAX_BODY):
        out.append(Case("size", f"{total} bytes", body=padded(total)))
    for total in (MAX_BODY + 1, 2 * MAX_BODY, 4 * 1024 * 1024):
        out.append(Case("size", f"{total} bytes", body=padded(total),
                        expect=expect_status(413)))
    out.append(Case("size", "chunked, over the cap", body=padded(2 * MAX_BODY),
                    headers={**JSON, "Transfer-Encoding": "chunked"},
                    expect=expect_status(400, 413)))
    out.append(Case("size", "chunked, small", body=_j(good),
                    headers={**JSON, "Transfer-Encoding": "chunked"}))
    sentinel = 0.123456789
    b = _j(site.body(update, "lr.value", {"lr.value": sentinel}))
    out.append(Case("size", "a 250 kB number in the lr input",
                    body=b.replace(b"0.123456789", b"0." + b"1" * (MAX_BODY - 20_000), 1)))
    out.append(Case("size", "a 250 kB integer in the steps input",
                    body=_j(site.body(update, "steps.value", {"steps.value": sentinel}))
                    .replace(b"0.123456789", b"9" * (MAX_BODY - 20_000), 1)))
    long_lr = site.body(update, "lr.value", {"lr.value": "1" * (MAX_BODY - 20_000)})
    out.append(Case("size", "a 250 kB string in the lr input", body=_j(long_lr)))
    out.append(Case("size", "huge header", method="GET", path="/",
                    headers={"X-Junk": "a" * 9000}, expect=expect_status(400, 431)))
    out.append(Case("size", "many headers", method="GET", path="/",
                    headers={f"X-J{i}": "a" for i in range(150)},
                    expect=expect_status(400, 431)))

    # page: GET with junk, paths, methods
    for q in junk_queries(rng, 20 * scale):
        out.append(Case("page", f"GET /{q[:40]}", method="GET",
                        path="/" + quote(q, safe="?=&%"), body=None, headers={}))
    out.append(Case("page", "GET / with a request line over the limit", method="GET",
                    path="/?" + "a" * 9000, body=None, headers={},
                    expect=expect_status(400, 414)))
    for path in ["/nope", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/app.py",
                 "/assets/../app.py", "/assets/..%2fapp.py", "/assets/style.css",
                 "/assets/%2e%2e/gunicorn.conf.py", "/_dash-component-suites/../app.py",
                 "/_dash-component-suites/dash/nope.js",
                 "/_dash-component-suites/dash/..%2f..%2fapp.py",
                 "/_dash-component-suites/dash/dash_table/../../../../app.py",
                 "/_dash-layout", "/_dash-dependencies", "/_reload-hash", "/_favicon.ico",
                 "/health", "/.env", "/.git/config", "/static/../app.py", "/\U0001f600",
                 "/_dash-update-component", "/" + "a" * 5000, "//etc/passwd", "/?%",
                 "/_alive_" + "x", "/console", "/debug"]:
        p = path if path.isascii() else quote(path)
        out.append(Case("page", f"GET {path[:40]}", method="GET", path=p, body=None,
                        headers={}, expect=expect_no_files))
    for method, path in [("PUT", "/"), ("DELETE", "/"), ("PATCH", UPDATE), ("GET", UPDATE),
                         ("POST", "/health"), ("POST", "/"), ("OPTIONS", UPDATE),
                         ("TRACE", "/"), ("HEAD", "/"), ("PROPFIND", "/"), ("GET", "*"),
                         ("CONNECT", "127.0.0.1:1"), ("POST", "/_dash-layout"),
                         ("DELETE", UPDATE)]:
        out.append(Case("page", f"{method} {path}", method=method, path=path,
                        body=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                        headers=dict(JSON) if method in ("POST", "PUT", "PATCH") else {}))
    return out


def burst(site: Site, all_cases: list[Case], rng: random.Random, n: int) -> list[Case]:
    """``n`` requests for the burst: a mix of the hostile cases and normal updates."""
    update = site.callback("lr-graph.figure")
    picked = []
    for i in range(n):
        if i % 4 == 0:
            lr = round(10 ** rng.uniform(-3, -0.5), 4)
            body = site.body(update, "lr.value", {"lr.value": lr})
            picked.append(Case("burst", "normal update", body=_j(body), expect=expect_update))
        else:
            c = rng.choice([c for c in all_cases if c.category not in ("size", "workcap")])
            picked.append(Case("burst", c.name, c.method, c.path, c.body, c.headers, c.expect,
                               c.known))
    return picked
