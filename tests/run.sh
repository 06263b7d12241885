#!/usr/bin/env bash
# The test command (README): installs what the suite needs (Python packages into .venv,
# Chromium with apt if it is missing), then runs it all, browser tests headless.
# The suite runs in two pytest-xdist workers, one per core of the 2-core machine it is sized
# for: each starts on its half of the tests (the browser tests' files first: conftest.py)
# and takes tests from the other's half once its own are done; each has its own app server
# and Chromium. Extra arguments go to pytest after these, so they override them:
# `bash tests/run.sh -k parity -x`, or `-n 0` for one process.
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
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "== installing chromium and chromium-driver (Debian packages) for the browser tests"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi
echo "== running the tests"
exec "$VENV/bin/python" -m pytest --headless -n 2 --dist worksteal "$@"
