"""How bench/page.py measures, in headless Chromium: the driver, page loads, one control
change from its input event to the three plots redrawn (with the JavaScript of
bench/page_js.py), the /_dash-update-component requests in Chrome's performance log, the
breakdown and summary of a series of changes, and requests replayed from Python.

Only the standard library is imported here at the top (selenium where it is used).
"""
from __future__ import annotations

import json
import statistics
import time
import urllib.request

try:  # imported as bench.page_measure, or from bench/ (bench/page.py run as a script)
    from .harness import chromium, repeat, stats, wait_for
    from .page_js import GRAPHS, LOAD_PROBE, LOAD_RESULT, WAIT_JS
except ImportError:
    from harness import chromium, repeat, stats, wait_for
    from page_js import GRAPHS, LOAD_PROBE, LOAD_RESULT, WAIT_JS


CHANGE_TIMEOUT_S = 15


# --- helpers ------------------------------------------------------------------------------

def make_driver():
    driver = chromium()
    driver.set_script_timeout(CHANGE_TIMEOUT_S)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOAD_PROBE})
    return driver


class Network:
    """The /_dash-update-component requests seen in Chrome's performance log, each tagged
    with the change during which its request was sent."""

    def __init__(self, driver):
        self.driver = driver
        self.requests: dict[str, dict] = {}

    def drain(self, label):
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            method, p = msg.get("method", ""), msg.get("params", {})
            if method == "Network.requestWillBeSent":
                if "_dash-update-component" not in p["request"]["url"]:
                    continue
                post = p["request"].get("postData")
                if post is None and p["request"].get("hasPostData"):
                    try:
                        post = self.driver.execute_cdp_cmd(
                            "Network.getRequestPostData", {"requestId": p["requestId"]}
                        )["postData"]
                    except Exception:  # noqa: BLE001 (gone already: size unknown)
                        post = None
                self.requests[p["requestId"]] = {
                    "label": label, "post": post,
                    "request_bytes": len(post.encode()) if post is not None else None}
            elif p.get("requestId") in self.requests:
                r = self.requests[p["requestId"]]
                if method == "Network.responseReceived":
                    resp = p["response"]
                    headers = {k.lower(): v for k, v in resp.get("headers", {}).items()}
                    timing = resp.get("timing") or {}
                    r.update(status=resp.get("status"), headers=headers,
                             server_timing=headers.get("server-timing"),
                             content_length=int(headers["content-length"])
                             if "content-length" in headers else None,
                             encoding=headers.get("content-encoding", "identity"),
                             ttfb=(timing["receiveHeadersEnd"] - timing["sendEnd"])
                             if timing else None)
                elif method == "Network.loadingFinished":
                    r["wire_bytes"] = p["encodedDataLength"]

    def of(self, label, settle_s=1.0):
        """The requests of one change, once all have finished loading."""
        end = time.time() + settle_s
        while True:
            self.drain(label)
            mine = [r for r in self.requests.values() if r["label"] == label]
            if all("wire_bytes" in r for r in mine) or time.time() > end:
                return mine
            time.sleep(0.05)


# --- measurements -------------------------------------------------------------------------

LOAD_FAILURES: list[str] = []
"""Page loads that never drew the plots (and were retried), with the browser's errors."""


def page_load(driver, url: str, attempts: int = 3) -> dict:
    for _ in range(attempts):
        driver.get(url)
        try:
            return wait_for(lambda: driver.execute_script(LOAD_RESULT), 30,
                            "the plots at " + url)
        except TimeoutError:
            errors = [e["message"] for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE"]
            LOAD_FAILURES.append(f"{url}: no plots after 30 s; browser errors: "
                                 + ("; ".join(errors[:2]) if errors else "none"))
    raise RuntimeError("the page never drew its plots:\n" + "\n".join(LOAD_FAILURES))


def type_into(driver, selector: str, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    el = driver.find_element(By.CSS_SELECTOR, selector)
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.BACKSPACE)
    el.send_keys(text + Keys.ENTER)


def open_option(driver, picker: str, label: str):
    """Open a dropdown and return its option labelled ``label`` (not clicked yet)."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#{picker}").click()
    return wait_for(lambda: next((o for o in driver.find_elements(
        By.CSS_SELECTOR, '[role="listbox"] [role="option"]') if o.text == label), None),
        10, f"option {label!r} of #{picker}")


def one_change(driver, net: Network, label, start_on: str, act) -> dict:
    """Arm the harness, make one change, wait until the three plots show new data."""
    from selenium.common.exceptions import TimeoutException

    net.drain("idle")
    driver.execute_script("window.__bench.arm(arguments[0])", start_on)
    act()
    try:
        res = driver.execute_async_script(WAIT_JS)
    except TimeoutException:
        state = driver.execute_script(
            "var B = window.__bench; B.armed = false;"
            "return {t0: B.t0, done: B.done, plots: B.plots.length};")
        res = {"timeout": True, "state": state}
    res["net"] = net.of(label)
    return res


def breakdown(res: dict) -> dict | None:
    """Where one change's time went (ms), from Resource Timing and the Plotly wrapper."""
    if res.get("timeout") or not res.get("req"):
        return None
    t0, end = res["t0"], res["tEnd"]
    req = res["req"]
    first = min(req, key=lambda r: r["start"])
    last = max(req, key=lambda r: r["respEnd"])
    reacts = res["reacts"]
    react_start = min((r[1] for r in reacts), default=last["respEnd"])
    return {
        "to_request": first["reqStart"] - t0,
        "server": last["respStart"] - last["reqStart"],
        "download": last["respEnd"] - last["respStart"],
        "dash": react_start - last["respEnd"],
        "plotly": end - react_start,
        "plotly_sync": sum(r[2] - r[1] for r in reacts),
        **{f"react:{g}": sum(r[2] - r[1] for r in reacts if r[0] == g) for g in GRAPHS},
        "to_paint": res["tPaint"] - end,
        "requests": len(req),
        "connect": sum(r["connect"] for r in req),
    }


def run_changes(driver, net: Network, name: str, changes: list, start_on: str,
                warmup: int) -> list[dict]:
    out = []
    for i, (text, act) in enumerate(changes):
        res = one_change(driver, net, f"{name}:{i}", start_on, act)
        res["warmup"] = i < warmup
        res["value"] = text
        out.append(res)
    return out


class _DeferredClick:
    """Clicks a dropdown option; ``prepare`` (untimed) opens the dropdown and finds it."""

    def __init__(self, driver, picker, label):
        self.driver, self.picker, self.label = driver, picker, label
        self.option = None

    def prepare(self):
        self.option = open_option(self.driver, self.picker, self.label)

    def __call__(self):
        self.option.click()


def measure_dropdown(driver, net, name, picker, labels, count, warmup=1):
    out = []
    for i in range(count + warmup):
        label = labels[i % len(labels)]
        click = _DeferredClick(driver, picker, label)
        click.prepare()
        res = one_change(driver, net, f"{name}:{i}", "option", click)
        res["warmup"] = i < warmup
        res["value"] = label
        out.append(res)
    return out


def summarize(results: list[dict]) -> dict:
    timed = [r for r in results if not r["warmup"]]
    ok = [r for r in timed if not r.get("timeout")]
    lat = [r["tEnd"] - r["t0"] for r in ok]
    paint = [r["tPaint"] - r["t0"] for r in ok]
    parts = [b for b in (breakdown(r) for r in ok) if b]
    nets = [r["net"] for r in timed]
    reqs = [n for net in nets for n in net]
    per_change_resp = [sum(n.get("wire_bytes", 0) for n in net) for net in nets if net]
    per_change_body = [sum(n.get("content_length") or 0 for n in net) for net in nets if net]
    per_change_req = [sum(n.get("request_bytes") or 0 for n in net) for net in nets if net]
    return {
        "n": len(timed), "timeouts": len(timed) - len(ok), "latency": stats(lat),
        "warmup_timeouts": sum(1 for r in results if r["warmup"] and r.get("timeout")),
        "paint": stats(paint),
        "parts": {k: statistics.median(b[k] for b in parts) for k in parts[0]} if parts else {},
        "requests_per_change": stats([len(n) for n in nets]),
        "response_wire": stats(per_change_resp), "response_body": stats(per_change_body),
        "request_body": stats(per_change_req),
        "ttfb_cdp": stats([n.get("ttfb") for n in reqs]),
        "encodings": sorted({n.get("encoding", "?") for n in reqs}),
        "server_timing": sorted({n["server_timing"] for n in reqs if n.get("server_timing")}),
        "posts": [n["post"] for n in reqs if n.get("post")],
    }


def replay(url: str, posts: list[str], n: int) -> dict:
    """POST captured callback requests straight to the server (no browser)."""
    if not posts:
        return stats([])
    sizes = []

    def post(i):
        req = urllib.request.Request(url + "/_dash-update-component",
                                     data=posts[i % len(posts)].encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            sizes.append(len(r.read()))
    return {**stats(repeat(post, n)), "bytes": statistics.median(sizes)}
