"""bench/load.py's browser capture: the requests headless Chromium makes to load the page
and to change the lr input, read from Chrome's performance log.

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


def _path(url: str, base: str) -> str | None:
    return url[len(base):] or "/" if url.startswith(base) else None


def capture(url: str) -> dict:
    """Load the page in headless Chromium, change #lr, and return the requests it made:
    {"load": [{method, path, body, headers}...], "change": [...], "assets": [paths]}."""
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
    finally:
        driver.quit()
    dash_paths = ("/", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component")
    return {
        "captured_from": "headless Chromium, Chrome performance log (Network.requestWillBeSent)",
        "lr_typed": new,
        "load": [r for r in load if r["path"].split("?")[0] in dash_paths],
        "change": [r for r in change if r["path"].startswith("/_dash-update-component")],
        "assets": [r["path"] for r in load if r["path"].split("?")[0] not in dash_paths],
    }
