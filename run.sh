#!/usr/bin/env bash
# The start command (README): installs the app into .venv (requirements.txt, then this
# package, which gives .venv/bin/playground), compiles the engine into .jax_cache, then
# serves the page on http://127.0.0.1:8050 with gunicorn (HOST and PORT are honoured).
# Extra arguments go to `playground serve` (e.g. --debug for Dash's development server).
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
python3 -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || {
    echo "run.sh: needs Python 3.11 or newer as python3 (found $(python3 --version 2>&1))" >&2
    exit 1
}
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV"
    python3 -m venv "$VENV"
fi
# Install only when requirements.txt or pyproject.toml changed since the last install.
stamp="$VENV/.playground-installed"
want="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== installing requirements.txt into $VENV (the first time takes a few minutes)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
        -r requirements.txt | grep -v "^Requirement already satisfied" || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
    echo "== installing the playground package (editable)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
    echo "$want" > "$stamp"
fi
export JAX_COMPILATION_CACHE_DIR="${JAX_COMPILATION_CACHE_DIR:-$PWD/.jax_cache}"
echo "== compiling the engine into $JAX_COMPILATION_CACHE_DIR (later starts load it)"
"$VENV/bin/playground" compile
echo "== serving on http://${HOST:-127.0.0.1}:${PORT:-8050} (Ctrl-C stops)"
exec "$VENV/bin/playground" serve "$@"
