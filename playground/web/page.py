"""The page: its skeleton, built for the address it is opened at (``layout(**query)``,
which the server registers as the page at ``/``), and the one import that registers every
callback of the page.

Each part of the page is a module of its own that draws its piece and owns its callbacks:
``controls`` (the form), ``plots`` (the three plots and the main callback),
``comparison`` (legend and table), ``pins``, ``lesson_view``, ``tool_panels``, ``exports``
and ``browser`` (the animation bar and the callbacks that run in the browser alone). They
all read the runs from ``state``. Importing this module imports them all, so importing
``playground.web.server`` registers each callback exactly once.
"""
from __future__ import annotations

import functools

from dash import dcc, html

from ..config import page_path

# The modules with callbacks, in the order they register them (the order
# /_dash-dependencies lists them in): keep it when adding one, append the new module.
from . import plots  # the main callback first
from . import tool_panels
from . import pins
from . import exports
from . import lesson_view
from . import browser
from . import sensitivity
from . import scrub

from . import comparison, controls, state
from .form import form_from_config
from .style import DEFAULT_THEME

# What the server and the tests reach through the page (each defined in its own module).
from .controls import PARAM_VALUES, STABLE_IDS
from .exports import download, export_file
from .pins import update_pins
from .plots import FORM_INPUTS, update
from .state import MAX_PINS
from .state import surface_key as _surface_key
from .tool_panels import run_range_test, update_inspector, use_lr

__all__ = ["FORM_INPUTS", "MAX_PINS", "PARAM_VALUES", "STABLE_IDS", "_surface_key",
           "download", "export_file", "header", "layout", "run_range_test", "update",
           "update_inspector", "update_pins", "use_lr"]

def layout(**query):
    """The whole page for a query string (so a copied link rebuilds exactly that page);
    ``lesson=<name>`` adds that lesson's explanation, and its marks while the runs are
    the lesson's own; a query of that alone opens the lesson's runs. The page is a
    function of the query alone, so the last pages asked for are kept (a hall opens the
    same few links: building one costs ~40 ms of a core, a kept one is only sent)."""
    return _layout(tuple(sorted((k, v) for k, v in query.items() if isinstance(v, str))))


@functools.lru_cache(maxsize=32)
def _layout(items: tuple[tuple[str, str], ...]):
    query = dict(items)
    lesson = lesson_view.read_lesson(query)
    if lesson is not None and not query:  # a bare ?lesson=<name> (a link on a board)
        current, pinned, note = lesson.config, list(lesson.pins), ""
    else:
        current, pinned, note = state.read_link(query)
    choice, values, warmup_on = form_from_config(current)
    marked = lesson is not None and lesson_view.is_lesson_setup(lesson, current, pinned)
    runs = state.runs(current, pinned, labels=lesson.labels if marked else None)
    theme = DEFAULT_THEME
    figures = plots.figures_for(runs, theme)
    if marked:
        figures = lesson_view.marked_figures(figures, lesson, runs, theme)
    # a lesson whose picture is a folded panel (open_panel) has that panel first, under
    # its claim: the picture that carries the claim is on the first screen
    panels = {"sensitivity": sensitivity.panel()}
    lead = panels.pop(lesson.open_panel) if lesson is not None and lesson.open_panel \
        else None
    if lead is not None:
        lead.className += " lesson-lead"
    return html.Div([
        pins.store(pinned),
        lesson_view.store(lesson, marked),
        plots.surface_store(runs[0].run),
        dcc.Store(id="page-query", data=page_path(current, pinned)),
        dcc.Store(id="url-sync"), browser.hover_store(), *controls.errors_store(),
        *scrub.stores(),
        header(theme),
        html.Div(note, id="note", className="note" if note else "note empty", role="status"),
        html.Main([
            controls.controls(choice, values, warmup_on, current),
            html.Section([
                lesson_view.lesson_panel(lesson),
                comparison.legend_block(runs, theme),
                lead,
                plots.plots(figures, lesson_view.lr_options(lesson) if marked else []),
                browser.animation_bar(),
                plots.status_line(runs[0]),
                comparison.table_block(runs),
                tool_panels.explore_panel(runs),
                *panels.values(),
                exports.extras(current),
            ], className="results"),
        ], className="main"),
    ], id="app-root", className=f"app theme-{theme}")


def header(theme: str):
    """The title and the page's actions: pin, clear pins, the lessons, the theme."""
    return html.Header([
        html.H1("Optimization Playground"),
        html.P("Learning-rate schedules steering gradient descent", className="tagline"),
        html.Div([
            *pins.pin_buttons(),
            lesson_view.lesson_menu(),
            html.Div(dcc.RadioItems(id="theme", options=[{"label": "Light", "value": "light"},
                                                         {"label": "Dark", "value": "dark"}],
                                    value=theme, inline=True, className="theme-switch"),
                     role="radiogroup", **{"aria-label": "Theme"}),
        ], className="actions"),
    ], className="top")
