"""Lessons on the page: the lesson menu, the lesson panel beside the plots and a lesson's
marks on the figures (the lessons themselves, their runs and marks, are
``playground.lessons``).

A lesson opens by its link (``lesson=<name>`` plus its runs): the page rebuilds from the
address. Its marks describe its own runs only, so they are drawn while the runs are
exactly the lesson's, and the first change of the runs redraws without them (the
``lesson-marks`` store holds the name of the lesson whose marks are on the plots, or
False); a new theme redraws them in its colours. A lesson whose picture is in a folded panel
(``Lesson.open_panel``) has that panel under its claim, above the plots (page.py), and
opens it as the page loads.
"""
from __future__ import annotations

import json

from dash import Input, Output, clientside_callback, dcc, html

from .. import lessons, tools
from ..config import resolve
from ..params import ConfigError
from .figure_marks import lesson_figures


def read_lesson(query: dict):
    """The lesson a link names (``lesson=<name>``, taken out of the query), or None."""
    name = query.pop("lesson", None)
    return lessons.LESSONS.get(name) if isinstance(name, str) else None


def is_lesson_setup(lesson, current: dict, pins: list[dict]) -> bool:
    """Whether the runs are exactly the lesson's (its marks describe those runs only)."""
    try:
        return [resolve(c) for c in (current, *pins)] == [resolve(c) for c in lesson.runs]
    except ConfigError:
        return False


def lr_options(lesson) -> list[str]:
    """The lr plot's checkboxes a lesson turns on (the page's ``lr-log`` value while its
    marks are drawn): "log", "stability", "effective"."""
    return list(lesson.lr_options) if lesson is not None else []


def marked_figures(figures: dict, lesson, runs, theme: str) -> dict:
    """The figures with the lesson's marks drawn in (the runs must be the lesson's), and
    the lr plot as the lesson's checkboxes (:func:`lr_options`) say."""
    ordered = sorted(runs, key=lambda r: r.slot)
    marks = lessons.marks(lesson, [r.result for r in ordered])
    if "effective" in lesson.lr_options:
        marks += [{"kind": "series", "plot": "lr", "run": i, "data": tools.effective_step(
            v.result), "label": "effective step |dp|/|g|"} for i, v in enumerate(ordered)]
    threshold = tools.stability(ordered[0].run, ordered[0].result)["threshold"]
    return lesson_figures(figures, marks, runs, theme, lesson.lr_options, threshold)


PANEL_IDS = {"sensitivity": "sensitivity-tool"}
"""The element of each folded panel a lesson can open (``lessons.PANELS``)."""


def store(lesson, marked: bool):
    """The ``lesson-marks`` store: the lesson's name while its marks are drawn, else False."""
    return dcc.Store(id="lesson-marks", data=lesson.name if marked else False)


def marked_lesson(lesson_marks):
    """The lesson whose marks the page draws (the ``lesson-marks`` store), or None."""
    return lessons.LESSONS.get(lesson_marks) if isinstance(lesson_marks, str) else None


def lesson_panel(lesson):
    """The lesson above the plots: its claim as the headline, and folded away under the
    lesson's title its two sentences, a reference to read next and a link back to its
    exact setup. A lesson that opens a folded panel (``open_panel``) also says so to the
    page (the ``lesson-open-panel`` store)."""
    if lesson is None:
        return None
    number = list(lessons.LESSONS).index(lesson.name) + 1
    opens = [dcc.Store(id="lesson-open-panel", data=lesson.open_panel)] \
        if lesson.open_panel else []
    return html.Section([
        html.P(lesson.summary, className="lesson-claim", id="lesson-claim"),
        *opens,
        html.Details([
            html.Summary([html.Span(f"Lesson {number}: {lesson.title}",
                                    className="lesson-title"),
                          html.Span(" · why, and what to read", className="lesson-more")]),
            dcc.Markdown(lesson.explanation, className="lesson-text"),
            html.P([html.A(lesson.reference.title, href=lesson.reference.url,
                           target="_blank", rel="noopener noreferrer"),
                    html.Span(" · "),
                    html.A("Back to the lesson's setup", href=lessons.lesson_path(lesson))],
                   className="lesson-links"),
        ], className="lesson-details", id="lesson-details"),
    ], className="lesson-panel", id="lesson-panel")


def lesson_menu():
    # (values are the lessons' names, not their links: dcc.Dropdown indexes every option's
    # value for search, every substring of it, even when it is not searchable; the links'
    # ~300 characters each cost the page ~2 s of indexing on every load)
    return dcc.Dropdown(id="lesson-menu", clearable=False, searchable=False,
                        placeholder="Lessons…", className="lesson-menu",
                        options=[{"label": f"{i}. {ls.title}", "value": ls.name,
                                  "title": ls.summary}
                                 for i, ls in enumerate(lessons.LESSONS.values(), 1)])


# A lesson from the menu: open its link, looked up by the lesson's name (the page rebuilds
# from the address).
clientside_callback(
    """function (name) {
        var path = %s[name];
        if (path) { window.location.assign(path); }
        return window.dash_clientside.no_update;
    }""" % json.dumps({ls.name: lessons.lesson_path(ls) for ls in lessons.LESSONS.values()}),
    Output("lesson-menu", "className"), Input("lesson-menu", "value"),
    prevent_initial_call=True)


# A lesson that opens a folded panel: open it once the page is drawn (the panel then asks
# for its figure as if it had been clicked open).
for _panel, _element in PANEL_IDS.items():
    clientside_callback(
        """function (panel) {
            return panel === %r ? true : window.dash_clientside.no_update;
        }""" % _panel,
        Output(_element, "open"), Input("lesson-open-panel", "data"))
