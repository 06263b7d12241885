"""Small pieces several views draw: a run's colour swatch and a number in a table cell."""
from __future__ import annotations

import math

from dash import html

from .runs import fmt
from .style import colour


def swatch(slot: int, theme: str):
    """A run's colour, as a square before its label."""
    return html.Span(className="swatch", style={"background": colour(slot, theme)})


def number(value) -> float | None:
    """A number from a text box (or a number): None for anything else, bools included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def cell(x) -> str:
    """A table cell: ``runs.fmt``, with a dash for nothing to show."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return fmt(x)
