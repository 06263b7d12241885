"""Optimization Playground: the web app.

``python app.py`` serves the page on http://127.0.0.1:8050 with gunicorn, the same server
and settings as the Docker image (``playground serve`` does the same); HOST and PORT are
honoured. ``python app.py --debug`` runs Dash's development server with hot reload.
The app itself is built in ``playground.web.server``; importing this module gives it.
"""
import sys

from playground.cli import main
from playground.web.server import app, server, warm  # noqa: F401  (the app, for importers)

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
