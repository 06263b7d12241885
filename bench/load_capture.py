"""bench/load.py's browser capture: the requests headless Chromium makes to load the page,
to change the lr input, and to scrub the lr slider (a grab, a drag, a release), read from
Chrome's performance log.

It runs in a child process (``load.py --capture-child URL FILE``) with the app's
interpreter, where selenium lives with the urllib3 it needs: only the standard library is
imported here at the top (no locust; selenium when :func:`capture` is called).
"""
from __future__ import annotations

import json
import time

try:  # imported as bench.load_capture, or from bench/ (bench/load.py run as a script)
    from .harness import chromium, wait_for
except ImportError:
    from harness import chromium, wait_for

DRAG_MOVES = 40
"""Mouse moves of the capture's drag (3 px each, every 1/60 s, toward smaller lrs)."""


def _path(url: str, base: str) -> str | None:
    return url[len(base):] or "/" if url.startswith(base) else None


def _mouse(driver, kind: str, x: float, y: float, buttons: int = 1) -> None:
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {
        "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1})


def _is_update(r: dict) -> bool:
    return r["method"] == "POST" and r["path"].startswith("/_dash-update-component") \
        and bool(r["body"])


def _output(r: dict) -> str:
    return json.loads(r["body"]).get("output", "")


def _changed(r: dict) -> list:
    return json.loads(r["body"]).get("changedPropIds", [])


def capture(url: str) -> dict:
    """Load the page in headless Chromium, change #lr, drag the lr slider (Chrome DevTools
    mouse events: press on its handle, DRAG_MOVES moves, release), and return the requests
    it made: {"load": [{method, path, body, headers}...], "change": [...], "scrub": [...],
    "assets": [paths]}; "scrub" holds the grab's request (output ``scrub-data.data``) and
    the release's (changedPropIds ``lr-slider.value``)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = chromium()

    def requests_sent() -> list[dict]:
        out = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            p = msg["params"]
            req = p["request"]
            path = _path(req["url"], url)
            if path is None:
                continue
            body = req.get("postData")
            if body is None and req.get("hasPostData"):
                body = driver.execute_cdp_cmd("Network.getRequestPostData",
                                              {"requestId": p["requestId"]})["postData"]
            out.append({"method": req["method"], "path": path, "body": body,
                        "headers": req.get("headers", {})})
        return out

    try:
        driver.get(url + "/")
        drawn = ("return ['lr-graph','loss-graph','path-graph'].every(function (id) {"
                 " var el = document.getElementById(id);"
                 " return el && el.querySelector('.main-svg'); });")
        wait_for(lambda: driver.execute_script(drawn), 60, "the three plots", 0.05)
        time.sleep(1.0)  # anything the page sends after drawing
        load = requests_sent()
        box = driver.find_element(By.ID, "lr")
        old = box.get_attribute("value")
        new = "0.0123" if old != "0.0123" else "0.0234"
        # select the old text and type over it (clear() would commit an empty value first)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(new)
        box.send_keys(Keys.ENTER)
        change: list[dict] = []

        def got_change():
            change.extend(requests_sent())
            return any(r["path"].startswith("/_dash-update-component") for r in change)

        wait_for(got_change, 30, "the lr change request", 0.05)
        time.sleep(1.5)  # follow-up requests, if the browser sends any
        change.extend(requests_sent())
        scrub = _drag(driver, requests_sent)
    finally:
        driver.quit()
    dash_paths = ("/", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component")
    return {
        "captured_from": "headless Chromium, Chrome performance log (Network.requestWillBeSent)",
        "lr_typed": new,
        "load": [r for r in load if r["path"].split("?")[0] in dash_paths],
        "change": [r for r in change if r["path"].startswith("/_dash-update-component")],
        "scrub": scrub,
        "assets": [r["path"] for r in load if r["path"].split("?")[0] not in dash_paths],
    }


def _drag(driver, requests_sent) -> list[dict]:
    """Grab the lr slider's handle, move it DRAG_MOVES x 3 px to the left at 60 moves a
    second, wait for the grab's request, let go, wait for the release's request; the
    update requests sent meanwhile."""
    x, y, left = driver.execute_script(
        "var h = document.querySelector('.lr-slider [role=slider]');"
        "var r = h.getBoundingClientRect(), s = document.querySelector('.lr-slider')"
        ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2,"
        " s.left + 8];")
    sent: list[dict] = []

    def seen(test) -> bool:
        sent.extend(r for r in requests_sent() if _is_update(r))
        return any(test(r) for r in sent)

    _mouse(driver, "mouseMoved", x, y, 0)
    _mouse(driver, "mousePressed", x, y)
    t0 = time.perf_counter()
    for k in range(1, DRAG_MOVES + 1):
        x = max(left, x - 3)
        _mouse(driver, "mouseMoved", x, y)
        time.sleep(max(0.0, t0 + k / 60 - time.perf_counter()))
    wait_for(lambda: seen(lambda r: _output(r).startswith("scrub-data.")), 30,
             "the grab's request (scrub-data)", 0.05)
    _mouse(driver, "mouseReleased", x, y, 0)
    wait_for(lambda: seen(lambda r: "lr-slider.value" in _changed(r)), 30,
             "the release's request (lr-slider.value)", 0.05)
    time.sleep(1.0)  # follow-up requests, if the browser sends any
    seen(lambda r: False)
    return sent
