#!/usr/bin/env bash
# The start command (README): installs the app's requirements into .venv, then serves the
# page on http://127.0.0.1:8050 (HOST and PORT are honoured). Extra arguments go to app.py.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV"
    python3 -m venv "$VENV"
fi
echo "== installing requirements.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "== serving on http://${HOST:-127.0.0.1}:${PORT:-8050} (the engine compiles first, ~10 s)"
exec "$VENV/bin/python" app.py "$@"
