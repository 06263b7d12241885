"""The page's browser side: what runs in the browser alone, with no server round trip.

The animation bar (play the run step by step, lecture mode; ``assets/animate.js``) and
the page's clientside callbacks: the warmup fields shown or hidden, the theme's class,
the messages beside the controls (from the one ``errors`` dict), the address kept equal
to the page's state, the step inspector's cursor and the hover cursor linking the three
plots (``assets/hover.js``). Two more run in the browser beside the parts they serve: the
lesson menu's navigation (``lesson_view``) and the tool panels' gate (``tool_panels``).
"""
from __future__ import annotations

from dash import Input, Output, clientside_callback, dcc, html

from . import share

ANIMATION_SPEEDS = (10, 30, 100, 300)
"""Steps per second the animation can play at (assets/animate.js plays it in the browser)."""


def animation_bar():
    """Play the run step by step in the browser (no server round trip per frame): the
    path grows and a cursor moves on the other plots. Keys: space plays or pauses, the
    arrows step (shift: ten steps), Home goes back to step 0. Lecture mode hides the
    controls and enlarges the type; the same button (or Esc) brings them back. Share
    shows a QR code of the page's address for the hall (``share``)."""
    return html.Div([
        html.Button("▶ Play", id="anim-play", className="button small primary",
                    title="Play the current run step by step (space)"),
        # the symbols alone say nothing to a screen reader: each button has a name
        html.Button("|◀", id="anim-start", className="button small",
                    title="Back to step 0 (Home)", **{"aria-label": "Back to step 0"}),
        html.Button("◀", id="anim-back", className="button small",
                    title="One step back (←; shift: ten)", **{"aria-label": "One step back"}),
        html.Button("▶|", id="anim-forward", className="button small",
                    title="One step forward (→; shift: ten)",
                    **{"aria-label": "One step forward"}),
        html.Label(["Speed ", html.Select(
            [html.Option(f"{s} steps/s", value=str(s), selected=s == ANIMATION_SPEEDS[1])
             for s in ANIMATION_SPEEDS],
            id="anim-speed", className="control-input small")],
            className="control-label"),
        html.Span("", id="anim-readout", className="anim-readout", role="status"),
        html.Button("Lecture mode", id="lecture-toggle", className="button small",
                    title="Hide the controls and enlarge everything for a projector (Esc "
                          "to leave)"),
        share.share_button(),
        share.share_dialog(),
    ], className="animation-bar", id="animation-bar")


def hover_store():
    """The output of the hover callback (it draws in the browser and returns nothing)."""
    return dcc.Store(id="hover-sync")


# Showing the warmup fields needs no server.
clientside_callback(
    "function (on) { return !(on && on.length); }",
    Output("warmup-group", "hidden"), Input("warmup-on", "value"))

# The theme switch: the page's class.
clientside_callback(
    """function (theme) {
        // for widgets drawn outside the app; other body classes (lecture mode) stay
        document.body.classList.remove('theme-light', 'theme-dark');
        document.body.classList.add('theme-' + theme);
        return 'app theme-' + theme;
    }""",
    Output("app-root", "className"), Input("theme", "value"))

# Each control's message (and its invalid or noted mark) from the one errors dict.
clientside_callback(
    """function (errors) {
        errors = errors || {};
        var notes = errors._notes || [];  // keys whose message is a note, not an error
        document.querySelectorAll('.field[id]').forEach(function (el) {
            var key;
            try { key = JSON.parse(el.id).key; } catch (e) { return; }
            var message = errors[key] || '';
            var isNote = !!message && notes.indexOf(key) >= 0;
            el.classList.toggle('invalid', !!message && !isNote);
            el.classList.toggle('noted', isNote);
            var slot = el.querySelector('.control-msg');
            if (slot) { slot.textContent = message; }
        });
        return window.dash_clientside.no_update;
    }""",
    Output("errors-sync", "data"), Input("errors", "data"))

# The address always holds the whole state (a lesson's name too: assets/address.js);
# replace it (no flood of history entries).
clientside_callback(
    """function (path) {
        path = window.playgroundAddress(path);
        if (path && window.location.pathname + window.location.search !== path) {
            window.history.replaceState(null, '', path);
        }
        return window.dash_clientside.no_update;
    }""",
    Output("url-sync", "data"), Input("page-query", "data"))

# The step inspector's step is marked on all three plots (in the browser).
clientside_callback(
    "function (t) { return window.playgroundCursorAt(t); }",
    Output("inspect-step", "className"), Input("inspect-step", "value"),
    prevent_initial_call=True)

# Hovering a step in any plot highlights the same step in the other two (in the browser).
clientside_callback(
    """function (h1, h2, h3) {
        return window.playgroundHover(dash_clientside.callback_context);
    }""",
    Output("hover-sync", "data"), Input("lr-graph", "hoverData"),
    Input("loss-graph", "hoverData"), Input("path-graph", "hoverData"))
