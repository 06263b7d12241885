"""Optimization Playground: the web app.

``python app.py`` serves the page on http://127.0.0.1:8050 with gunicorn (the same server
and settings as the Docker image, gunicorn.conf.py); HOST and PORT are honoured.
``python app.py --debug`` runs Dash's development server with hot reload instead.
"""
from __future__ import annotations

import argparse
import os
import sys

import dash
from dash import html
from flask import jsonify

from playground import page, warm_up

READY = {"engine": False}
FRAME_ANCESTORS = os.environ.get("FRAME_ANCESTORS", "'self'")
"""Who may embed the page in a frame (CSP frame-ancestors), e.g. "'self' https://course.example"."""
MAX_REQUEST_BYTES = 256 * 1024
"""A control change sends a few kB; nothing legitimate comes near this."""


def create_app() -> dash.Dash:
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title="Optimization Playground",
                    update_title=None, suppress_callback_exceptions=True)
    dash.register_page("playground", path="/", layout=page.layout, title=app.title)
    app.layout = html.Div(dash.page_container)

    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    _secure(app)

    @app.server.route("/health")
    def health():
        """200 once this process's engine is compiled, 503 before."""
        if READY["engine"]:
            return jsonify(status="ok")
        return jsonify(status="warming up"), 503

    return app


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


def warm() -> None:
    """Compile the engine in this process, so no control change ever waits for it."""
    warm_up()
    READY["engine"] = True


app = create_app()
server = app.server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="Dash's development server with hot reload (never in production)")
    args = parser.parse_args(argv)
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8050")
    if args.debug:
        warm()
        app.run(host=host, port=int(port), debug=True)
        return
    os.environ["HOST"], os.environ["PORT"] = host, port
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                              "app:server"])


if __name__ == "__main__":
    main()
