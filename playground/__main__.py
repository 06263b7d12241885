"""Command line: ``python -m playground simulate CONFIG|-``, ``... url CONFIG|-`` and
``... lessons [--json]``."""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from . import ConfigError, lessons, page_path, simulate


def _load(source: str) -> dict:
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    except UnicodeDecodeError:
        raise ConfigError("config", "is not UTF-8 text") from None
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


def _print_lessons(as_json: bool) -> None:
    entries = lessons.catalogue()
    if as_json:
        json.dump(entries, sys.stdout, indent=2)
        print()
        return
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        print(f"{e['name']:<{width}}  {e['summary']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground",
                                     description="Run learning-rate schedule experiments.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("simulate", "run CONFIG and print the result as JSON"),
                            ("url", "print the page path that opens CONFIG")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("config", help="a JSON config file, or - for standard input")
    listing = sub.add_parser("lessons", help="list the lessons: name and one-line summary")
    listing.add_argument("--json", action="store_true",
                         help="print them as a JSON list (name, title, summary, explanation, "
                              "reference, url)")
    args = parser.parse_args(argv)
    if args.command == "lessons":
        _print_lessons(args.json)
        return 0
    try:
        config = _load(args.config)
        if args.command == "url":
            print(page_path(config))
        else:
            result = simulate(config)
            json.dump({k: _plain(v) for k, v in result.items()}, sys.stdout, allow_nan=False)
            print()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot read {args.config}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
