#!/usr/bin/env bash
# The test command (README): installs what the suite needs into .venv, then runs it all.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k parity -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "tests/run.sh: needs Python 3.11 as python3 (found $(python3 --version 2>&1))" >&2
    exit 1
}
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV"
    python3 -m venv "$VENV"
fi
echo "== installing requirements-test.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
echo "== running the tests"
exec "$VENV/bin/python" -m pytest "$@"
