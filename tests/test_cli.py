"""The command line as a user meets it: a closed pipe ends it quietly, real read and write
errors are named, the surface catalogue, and ``pip install .`` giving ``playground``."""
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from playground import SURFACES, simulate

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "playground"]
LONG_RUN = json.dumps({"steps": 10_000})  # ~1 MB of JSON, far more than a pipe holds


def _run(env, *args, stdin=None, **kw):
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=env, **kw)


@pytest.mark.parametrize("args, stdin", [
    (("simulate", "-"), LONG_RUN),
    (("lessons", "--json"), None),
    (("surfaces",), None),
    (("url", "-"), "{}"),
])
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(args, stdin, cli_env):
    """`playground lessons --json | head`: the reader has gone before the command writes.
    Like Unix tools the command stops, says nothing and exits 128 + SIGPIPE."""
    proc = subprocess.Popen([*CLI, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env)
    proc.stdout.close()  # the reader is gone before the first byte is written
    _, err = proc.communicate(stdin.encode() if stdin else None, timeout=120)
    assert err.decode() == ""
    assert proc.returncode == 128 + signal.SIGPIPE


def test_a_reader_that_stops_halfway_ends_the_command_quietly(cli_env):
    """`playground simulate run.json | head -c 80`."""
    proc = subprocess.Popen([*CLI, "simulate", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
    proc.stdin.write(LONG_RUN.encode())
    proc.stdin.close()
    head = proc.stdout.read(80)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert head.startswith(b'{"lr": [')
    assert err == "" and proc.returncode == 128 + signal.SIGPIPE


def test_a_failing_write_is_named_as_a_write_error(cli_env):
    with open("/dev/full", "w") as full:
        out = subprocess.run([*CLI, "simulate", "-"], input="{}", stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=120, env=cli_env)
    assert out.returncode == 1
    assert out.stderr == "error: cannot write the output: No space left on device\n"


def test_a_failing_read_is_named_as_a_read_error(tmp_path, cli_env):
    out = _run(cli_env, "simulate", str(tmp_path))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"error: cannot read {tmp_path}: Is a directory\n"
    out = _run(cli_env, "url", str(tmp_path / "missing.json"))
    assert out.returncode == 2
    assert out.stderr.endswith("missing.json: No such file or directory\n")


def test_the_surface_catalogue_lists_every_surface_with_a_true_minimum(cli_env):
    out = _run(cli_env, "surfaces", "--json")
    assert out.returncode == 0, out.stderr
    entries = json.loads(out.stdout)
    assert [e["name"] for e in entries] == list(SURFACES)
    for e in entries:
        if e["name"] == "formula":  # the typed surface: no formula until a config has one
            assert e["minima"] == [] and e["params"] == []
            continue
        assert set(e) == {"name", "label", "summary", "formula", "noisy", "params", "window",
                          "start", "minima"}
        x0, x1, y0, y1 = e["window"]
        assert x0 < x1 and y0 < y1
        assert x0 <= e["start"][0] <= x1 and y0 <= e["start"][1] <= y1
        for m in e["minima"]:  # inside the window
            assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
        # a long run from the default start ends at one of the listed minima (on the
        # surfaces of many minima it may settle in a local one: that is their point)
        config = {"problem": {"name": e["name"], "noise_std": 0.0} if e["noisy"]
                  else {"name": e["name"]}, "start": e["start"], "steps": 5000,
                  "optimizer": {"name": "adam", "lr": 0.02},
                  "schedule": {"name": "CosineAnnealingLR"}}
        end = simulate(config)["path"][-1]
        gap = np.abs(np.array(e["minima"]) - end).max(axis=1).min()
        assert gap <= 2e-2 or SURFACES[e["name"]].group == "many minima", e["name"]
    text = _run(cli_env, "surfaces").stdout.splitlines()
    assert text[2].split() == ["rosenbrock", "f", "=", "(a", "-", "x)^2", "+",
                               "b*(y", "-", "x^2)^2", "a=1", "b=100"]


def test_pip_install_gives_the_playground_command_with_the_page_assets(tmp_path):
    """Build the wheel as `pip install .` does and install it outside the checkout: the
    console script, the package and the page's CSS and JS are all there."""
    wheels, target, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(  # builds leave build/ behind
        ".git", ".venv", "build", "*.egg-info", ".jax_cache", "__pycache__", ".*_cache"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "--disable-pip-version-check", "-w", str(wheels), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for asset in (ROOT / "assets").iterdir():
        assert f"playground/assets/{asset.name}" in names
    for module in (ROOT / "playground").rglob("*.py"):  # every package pyproject must list
        assert module.relative_to(ROOT).as_posix() in names
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                              "--disable-pip-version-check", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    script = (target / "bin" / "playground").read_text()
    assert "from playground.cli import main" in script
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", "import sys; from playground.cli import main;"
                          "import playground.web.server as s; print(s.ASSETS);"
                          "sys.exit(main(['surfaces']))"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assets, *rows = out.stdout.splitlines()
    assert Path(assets) == target / "playground" / "assets"
    assert [r.split()[0] for r in rows] == list(SURFACES)
