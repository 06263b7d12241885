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


def create_app() -> dash.Dash:
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title="Optimization Playground",
                    update_title=None, suppress_callback_exceptions=True)
    dash.register_page("playground", path="/", layout=page.layout, title=app.title)
    app.layout = html.Div(dash.page_container)

    @app.server.route("/health")
    def health():
        """200 once this process's engine is compiled, 503 before."""
        if READY["engine"]:
            return jsonify(status="ok")
        return jsonify(status="warming up"), 503

    return app


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
