"""The Dash app and its Flask server: the page, ``/health``, security headers and the
refusal of malformed callback requests.

Importing this module builds the app (``app``, its WSGI ``server``); gunicorn serves
``playground.web.server:server`` (see ``playground.web.serve`` for the exact command).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import dash
from dash import html
from dash.exceptions import DependencyException, UnsupportedRelativePath
from flask import jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from playground.web import fast_json, page
from playground.warmup import WarmUp
from playground.warmup import warm as warm_engine
from playground.web.form import LR_SLIDER
from playground.web.sliders import STEPS_SLIDER

_PACKAGE = Path(__file__).resolve().parents[1]
ASSETS = next(p for p in (_PACKAGE / "assets", _PACKAGE.parent / "assets") if p.is_dir())
"""The page's CSS and JS: ``assets/`` in a source checkout, ``playground/assets`` once
installed (pyproject.toml maps the one onto the other)."""

READY = {"engine": False}
FRAME_ANCESTORS = os.environ.get("FRAME_ANCESTORS", "'self'")
"""Who may embed the page in a frame (CSP frame-ancestors), e.g. "'self' https://course.example"."""
MAX_REQUEST_BYTES = 256 * 1024
"""A control change sends a few kB; nothing legitimate comes near this."""
UPDATE_PATH = "/_dash-update-component"
CLIENT_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
                 RecursionError, UnsupportedRelativePath)
"""What a callback raises on values no control of the page sends (a number where a list
belongs, an unknown option, a page path without its leading /): answered 400. Anything
else a callback raises is a bug: 500."""


def create_app() -> dash.Dash:
    fast_json.install()
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title="Optimization Playground",
                    update_title=None, suppress_callback_exceptions=True,
                    assets_folder=str(ASSETS))
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    _natives_first(app)
    dash.register_page("playground", path="/", layout=page.layout, title=app.title)
    app.layout = html.Div(dash.page_container)

    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    _secure(app)
    _refuse_bad_requests(app)

    @app.server.route("/health")
    def health():
        """200 once this process's engine is compiled, 503 before."""
        if READY["engine"]:
            return jsonify(status="ok")
        return jsonify(status="warming up"), 503

    return app


NATIVES = "natives.js"
"""The asset that keeps the browser's own trim and parseFloat from Dash's polyfill (see
the file): the page loads it before the polyfill too."""


def _natives_first(app: dash.Dash) -> None:
    """The page's scripts start with ``NATIVES`` (its URL under the app's path prefix, as
    a notebook's proxy sets it), before Dash's polyfill; Dash loads it again with the
    other assets."""
    plain = app.interpolate_index

    def interpolate_index(**parts):
        first = f'<script src="{app.get_asset_url(NATIVES)}"></script>'
        return plain(**{**parts, "scripts": first + parts["scripts"]})

    app.interpolate_index = interpolate_index


def _secure(app: dash.Dash) -> None:
    """Security headers on every response, with a Content-Security-Policy the page works
    under: scripts only from this origin plus the hashes of Dash's own inline scripts."""
    policy = {}

    @app.server.after_request
    def headers(response):
        if "csp" not in policy:  # after the first request Dash has all its inline scripts
            scripts = " ".join(["'self'", *app.csp_hashes()])
            policy["csp"] = "; ".join([
                "default-src 'self'", f"script-src {scripts}",
                "style-src 'self' 'unsafe-inline'",  # Plotly sets styles inline
                "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'",
                "object-src 'none'", "base-uri 'self'", "form-action 'self'",
                f"frame-ancestors {FRAME_ANCESTORS}"])
        response.headers["Content-Security-Policy"] = policy["csp"]
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


def _refuse_bad_requests(app: dash.Dash) -> None:
    """Client mistakes get a 4xx and a short JSON message, never a 500 or a traceback.

    A callback request must name a server-side callback and carry exactly its declared
    outputs, inputs and state (what Dash's renderer sends); two values that would make a
    request cost far more than any page change are refused up front. A callback that
    fails on the values it was sent answers 400; its traceback goes to the log (a value
    the page's controls can send should never get there)."""
    server = app.server

    @server.before_request
    def check_callback_request():
        if request.method != "POST" or request.path != UPDATE_PATH:
            return None
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            body = None
        reason = _malformed(app, body) or _too_much_work(body)
        if reason:
            server.logger.warning("refused a callback request from %s: %s",
                                  request.remote_addr, reason)
            return jsonify(error=reason), 400
        return None

    @server.errorhandler(DependencyException)
    def unknown_component_file(_):  # Dash raises it for a file it does not serve
        return jsonify(error="not found"), 404

    @server.errorhandler(Exception)
    def callback_failed(e):
        if isinstance(e, HTTPException):
            return e
        if request.path == UPDATE_PATH and isinstance(e, CLIENT_ERRORS) and _in_callback(e):
            output = (request.get_json(silent=True) or {}).get("output", "?")
            server.logger.error("callback %.80s failed on the values it was sent (answered "
                                "400)", output, exc_info=e)
            return jsonify(error="this change could not be computed from the values sent"), 400
        server.log_exception((type(e), e, e.__traceback__))
        return InternalServerError()


def _in_callback(e: BaseException) -> bool:
    """Whether ``e`` was raised inside a callback function (not in Dash's own dispatch)."""
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "_invoke_callback" and tb.tb_frame.f_globals.get(
                "__name__") == "dash._callback":
            return True
        tb = tb.tb_next
    return False


def _split_output(output: str) -> list[tuple[str, str]]:
    """Dash's output key ("id.prop" or "..id.prop...id.prop..") as (id, prop) pairs."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(part.rsplit(".", 1)) for part in parts]


def _fits(cid: str, prop: str, item) -> bool:
    """Whether a request's item (a list of items, for a pattern) is the declared cid.prop."""
    if not cid.startswith("{"):
        return isinstance(item, dict) and item.get("id") == cid and item.get("property") == prop
    pattern = json.loads(cid)
    return isinstance(item, list) and all(
        isinstance(i, dict) and i.get("property") == prop and isinstance(i.get("id"), dict)
        and set(i["id"]) == set(pattern) and all(
            isinstance(i["id"][k], (str, int, float)) and not isinstance(i["id"][k], bool)
            if isinstance(v, list) else i["id"][k] == v for k, v in pattern.items())
        for i in item)


def _malformed(app: dash.Dash, body) -> str | None:
    """Why a callback request is not one Dash's renderer sends, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (Content-Type: application/json)"
    output = body.get("output")
    spec = app.callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:
        return "output: not a server-side callback of this page"
    if not spec.get("no_output"):
        declared = _split_output(output)
        outputs = body.get("outputs")
        outputs = outputs if len(declared) > 1 else [outputs]  # one output: not in a list
        if not isinstance(outputs, list) or len(outputs) != len(declared) or not all(
                _fits(cid, prop, item) for (cid, prop), item in zip(declared, outputs)):
            return "outputs: not the callback's outputs"
    for key in ("inputs", "state"):
        deps = spec[key]
        items = body.get(key, None if deps else [])  # the renderer leaves out an empty state
        if not isinstance(items, list) or len(items) != len(deps) or not all(
                _fits(d["id"], d["property"], item) for d, item in zip(deps, items)):
            return f"{key}: not the callback's {key}"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: must be a list of strings"
    return None


_SLIDER_ENDS = {"lr-slider": tuple(LR_SLIDER),
                "steps-slider": (STEPS_SLIDER.low, STEPS_SLIDER.high)}
"""The sliders whose value the server raises 10 to, and their ends."""


def _too_much_work(body: dict) -> str | None:
    """Why a request would cost far more than a page change ever does, or None: more pinned
    runs than the page keeps (each one a run), or an lr or steps slider beyond its range
    (the lr and the steps are 10 ** slider: a huge integer there takes minutes and
    gigabytes)."""
    for item in body["inputs"] + body.get("state", []):
        if not isinstance(item, dict):
            continue
        value = item.get("value")
        if item["id"] == "pins" and value is not None and not (
                isinstance(value, list) and len(value) <= page.MAX_PINS
                and all(isinstance(p, dict) for p in value)):
            return f"pins: at most {page.MAX_PINS} pinned runs, each a config object"
        ends = _SLIDER_ENDS.get(item["id"]) if isinstance(item["id"], str) else None
        if ends and value is not None and not (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and ends[0] <= value <= ends[1]):
            return f"{item['id']}: a number from {ends[0]:g} to {ends[1]:g}"
    return None


def warm(cache_dir: str | None = None) -> WarmUp:
    """Compile the engine in this process (or load it from the persistent cache in
    ``cache_dir``, default ``$JAX_COMPILATION_CACHE_DIR``), so no control change ever
    waits for it; from then on ``/health`` answers 200."""
    report = warm_engine(cache_dir)
    READY["engine"] = True
    return report


app = create_app()
server = app.server

