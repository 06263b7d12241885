"""Optimization Playground: the web app.

``python app.py`` serves the page on http://127.0.0.1:8050 (HOST and PORT are honoured);
``--debug`` runs Dash's development server with hot reload instead.
"""
from __future__ import annotations

import argparse
import os

import dash
from dash import html

from playground import page, warm_up


def create_app() -> dash.Dash:
    warm_up()  # compile the engine now, so no control change ever waits for it
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title="Optimization Playground",
                    update_title=None, suppress_callback_exceptions=True)
    dash.register_page("playground", path="/", layout=page.layout, title=app.title)
    app.layout = html.Div(dash.page_container)
    return app


app = create_app()
server = app.server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="Dash's development server")
    args = parser.parse_args(argv)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8050"))
    app.run(host=host, port=port, debug=args.debug)


if __name__ == "__main__":
    main()
