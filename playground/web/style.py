"""The page's look in one place: themes, fonts, line widths, the run colours and the
plots' toolbar. Plain data (no Dash, no Plotly): the figures and the views both read it.

The CSS in ``assets/`` draws the rest of the page; keep the two in step (the theme names
are also the page's ``theme-light`` / ``theme-dark`` classes).
"""
from __future__ import annotations

DEFAULT_THEME = "light"
"""The theme a page opens in (the switch at the top changes it in the browser)."""

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
# Slot 0 (the current run) is black; the yellow is left out on white (too faint).
PALETTE = ("#000000", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
DARK_PALETTE = ("#F5F5F5", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#D55E00")

FONT_FAMILY = "'Source Sans Pro', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
FONT_SIZE = 17
"""Base font (px): readable from the back of a lecture hall at a third of a screen."""
TITLE_SIZE = 22
LINE_WIDTH = 3.0
CURRENT_LINE_WIDTH = 4.0
THIN_LINE_WIDTH = 2.5
"""No line is thinner than this (projectors wash thin lines out)."""

THEMES = {
    "light": {
        "paper": "#FFFFFF", "plot": "#FFFFFF", "font": "#1A1A1A", "grid": "#DDDDDD",
        "axis": "#444444", "current": PALETTE[0], "palette": PALETTE,
        # low loss light, high loss darker: the coloured paths stay the strongest ink
        "contour": [[0.0, "#FFFFFF"], [0.35, "#E4EBF2"], [0.7, "#B7C5D3"],
                    [1.0, "#7F93A8"]],
        "contour_line": "rgba(40, 60, 80, 0.25)",
        "minimum": "#F0E442", "minimum_line": "#000000",
        "label_bg": "rgba(255, 255, 255, 0.85)", "faint_opacity": 0.3,
    },
    "dark": {
        "paper": "#15181C", "plot": "#15181C", "font": "#EDEDED", "grid": "#4A515B",
        "axis": "#A0A0A0", "current": DARK_PALETTE[0], "palette": DARK_PALETTE,
        "contour": [[0.0, "#0E1013"], [0.35, "#1F2933"], [0.7, "#33465A"],
                    [1.0, "#4F6A85"]],
        "contour_line": "rgba(200, 215, 230, 0.18)",
        "minimum": "#F0E442", "minimum_line": "#000000",
        "label_bg": "rgba(21, 24, 28, 0.85)", "faint_opacity": 0.3,
    },
}

STABILITY_COLOUR = {"light": "#B00020", "dark": "#FF8A8A"}
"""The SGD stability guide on the lr plot (a warning red per theme)."""

GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                "modeBarButtons": [["toImage", "zoom2d", "pan2d", "resetScale2d"]],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
"""Every ``dcc.Graph``'s config: a small toolbar on hover, PNGs at twice the size."""


def colour(slot: int, theme: str = "light") -> str:
    """The colour of a slot in a theme (slot 0, the current run, is the theme's
    ``current``)."""
    t = THEMES[theme]
    return t["current"] if slot == 0 else t["palette"][slot]
