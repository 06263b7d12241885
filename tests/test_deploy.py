"""The image's server, as the Dockerfile runs it (no Docker engine here): the exact CMD
from the installed requirements, probed over HTTP; and the Dockerfile itself, linted."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    return json.loads(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])


def test_the_dockerfile_is_clean_under_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    out = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert dockerfile_cmd()[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert re.search(r"^USER 10001$", text, re.M) and "HEALTHCHECK" in text
    assert "--no-cache-dir" in text and "--debug" not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    cmd = dockerfile_cmd()
    cmd[0] = str(Path(sys.executable).parent / cmd[0])  # gunicorn from these requirements
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1",
           "FRAME_ANCESTORS": "'self' https://course.example"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            try:
                if _get(base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.5)
        else:
            raise AssertionError("the server never became healthy")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_health_answers_once_the_engine_is_warm(server):
    status, _, body = _get(server + "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_the_page_is_served_with_security_headers(server):
    status, headers, body = _get(server + "/")
    assert status == 200 and b"Optimization Playground" in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'self' https://course.example" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_an_oversized_request_is_refused_without_a_trace(server):
    status, _, body = _get(server + "/_dash-update-component", data=b"x" * 400_000,
                           headers={"Content-Type": "application/json"})
    assert status == 413
    assert b"Traceback" not in body and b"/site-packages/" not in body
