"""How the page is served: gunicorn with ``playground.web.gunicorn_conf``, exactly as the
Docker image's ``CMD`` runs it (a test checks the two agree), or Dash's development server.
"""
from __future__ import annotations

import os
import sys

SERVER_ARGV = ["gunicorn", "-c", "python:playground.web.gunicorn_conf",
               "playground.web.server:server"]
"""The production server command (the Dockerfile's CMD)."""


def serve(debug: bool = False) -> None:
    """Serve on http://$HOST:$PORT (127.0.0.1:8050 unless set). Production: replace this
    process with gunicorn. ``debug``: Dash's development server with hot reload."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8050")
    if debug:
        from .server import app, warm

        warm()
        app.run(host=host, port=int(port), debug=True)
        return
    os.environ["HOST"], os.environ["PORT"] = host, port
    os.execv(sys.executable, [sys.executable, "-m", *SERVER_ARGV])
