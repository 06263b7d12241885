"""The command line: ``playground simulate | url | lessons | surfaces | compile | serve``.

Installed (``pip install .``) it is the ``playground`` command; from a checkout,
``python -m playground`` is the same. Output goes to standard output, messages to standard
error. Exit status: 0 done; 2 a bad config or an unreadable input; 1 the result could not
be written; 141 (128 + SIGPIPE, as Unix tools) when the reader closed the pipe early,
which ends the command quietly (``playground lessons --json | head``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys

import numpy as np

from . import lessons, surfaces
from .config import page_path
from .engine import simulate
from .params import ConfigError

PIPE_CLOSED = 128 + signal.SIGPIPE


class _ReadError(Exception):
    """The input could not be read (a missing file, a directory, a failing device)."""


def _load(source: str) -> dict:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
    except UnicodeDecodeError:
        raise ConfigError("config", "is not UTF-8 text") from None
    except OSError as e:
        raise _ReadError(f"cannot read {source}: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError("config", f"is not valid JSON ({e.msg} at line {e.lineno}, "
                                    f"column {e.colno})") from None
    except RecursionError:
        raise ConfigError("config", "is nested too deeply to be a run config") from None
    except ValueError:  # an integer literal past Python's 4,300-digit limit
        raise ConfigError("config", "has a number with more than 4,300 digits") from None


def _plain(value):
    """Arrays as lists, NaN and infinities as null."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a:<{width}}  {b}" for a, b in rows)


def _simulate(args) -> str:
    result = simulate(_load(args.config))
    return json.dumps({k: _plain(v) for k, v in result.items()}, allow_nan=False)


def _url(args) -> str:
    return page_path(_load(args.config))


def _lessons(args) -> str:
    entries = lessons.catalogue()
    if args.json:
        return json.dumps(entries, indent=2)
    return _table([(e["name"], e["summary"]) for e in entries])


def _surfaces(args) -> str:
    entries = surfaces.catalogue()
    if args.json:
        return json.dumps(entries, indent=2)
    return _table([(e["name"], "   ".join([f"f = {e['formula']}", *(
        f"{p['name']}={p['default']:g}" for p in e["params"])])) for e in entries])


def _compile(args) -> str:
    from .warmup import warm

    report = warm(args.cache_dir)
    if report.cache_dir is None:
        print("note: no cache directory (--cache-dir or JAX_COMPILATION_CACHE_DIR): "
              "nothing was kept", file=sys.stderr)
    return str(report)


def _serve(args) -> str:
    from .web.serve import serve

    serve(debug=args.debug)  # replaces this process (gunicorn) or runs until stopped
    return ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground", description="Learning-rate schedules steering gradient descent: "
        "run a config, list the lessons and surfaces, or serve the page.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, run, help_text in (
            ("simulate", _simulate, "run CONFIG and print the result as one JSON object"),
            ("url", _url, "print the page path that opens CONFIG")):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("config", help="a JSON config file, or - for standard input")
        p.set_defaults(run=run)
    for name, run, help_text, json_help in (
            ("lessons", _lessons, "list the lessons: name and one-line summary",
             "a JSON list (name, title, summary, explanation, reference, url)"),
            ("surfaces", _surfaces, "list the surfaces: name, formula, parameters",
             "a JSON list (name, label, summary, formula, noisy, params, window, start, "
             "minima)")):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help=f"print {json_help}")
        p.set_defaults(run=run)
    p = sub.add_parser("compile", help="compile the engine into JAX's persistent cache",
                       description="Compile everything a server process runs into JAX's "
                       "persistent compilation cache, so that servers started with "
                       "JAX_COMPILATION_CACHE_DIR=DIR load it instead of compiling (the "
                       "Docker image does this at build time).")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="the cache directory (default: $JAX_COMPILATION_CACHE_DIR)")
    p.set_defaults(run=_compile)
    p = sub.add_parser("serve", help="serve the page (gunicorn, as the Docker image does)",
                       description="Serve the page with gunicorn and the image's settings "
                       "on http://$HOST:$PORT (default 127.0.0.1:8050; WEB_CONCURRENCY "
                       "workers, default one per CPU).")
    p.add_argument("--debug", action="store_true",
                   help="Dash's development server with hot reload (never in production)")
    p.set_defaults(run=_serve)
    return parser


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        text = args.run(args)
    except (ConfigError, _ReadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if text:
            _write(text)
    except OSError as e:
        # Point stdout at /dev/null so that the interpreter's last flush of what is still
        # buffered does not fail a second time, with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(e, BrokenPipeError):  # the reader has gone (| head): stop quietly
            return PIPE_CLOSED
        print(f"error: cannot write the output: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0
