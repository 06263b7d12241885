"""The three plots (learning rate, loss, path on the surface) and the tool panels' figures
as pure functions, one module per plot family.

Arrays and configs in, Plotly figures or trace dicts out; no Dash here. Every figure has a
FIXED trace layout, so a callback can replace one run's traces with a Dash ``Patch``
without resending the rest (in particular never the contour map). A figure drawn for
``k`` runs (slots 0..k-1) holds:

=========  ==========================================================  ==============
figure     data                                                        cursor (last)
=========  ==========================================================  ==============
lr         slot s at 3s, 3s+1, 3s+2: lr line, momentum/beta1 (y2),     3k
           event markers
loss       slot s at 2s, 2s+1: true loss, observed (noisy) loss        2k
path       0: hover/click grid, 1: minimum; slot s at 2+2s, 2+2s+1:    2 + 2k
           path, start/end markers. The contour map is an image,
           ``layout.images[0]``
=========  ==========================================================  ==============

``slot_indices(kind, s)`` gives those indices; ``lr_slot``/``loss_slot``/``path_slot``
give the matching trace dicts (empty ones for an unused slot). Slot 0 is the current run,
slots 1..6 the pinned runs. Every point knows its step: ``x`` is the step on the lr and
loss plots, ``customdata`` is the step on the path plot.

Layout pieces a callback may have to patch after replacing a slot: ``annotations(runs)``
(``layout.annotations``, all three figures), ``loss_range(runs)`` (``layout.yaxis.range``
of the loss plot) and ``shows_momentum(runs)`` (``layout.yaxis2.visible`` of the lr plot).
A new surface means a new path figure (the map changes anyway).

Runs are drawn up to their divergence: the traces hold the finite prefix of the arrays
(``diverged_at`` points), never NaN.

One module per plot family, beside this one: ``figure_base`` (slots, axes, layout,
cursor), ``figure_lr``, ``figure_loss``, ``figure_path`` (the paths) and ``figure_raster``
(the contour map), ``figure_marks`` (a lesson's marks), ``figure_tools`` (the tool panels'
stability guide, range test and pitfalls). Their style comes from ``playground.web.style``,
the runs they draw (``RunView``) from ``playground.web.runs``. This module gathers all
their names (and those it draws with), so ``from playground.web import figures`` is the
one import a notebook or a test needs.
"""
from __future__ import annotations

from .figure_base import annotations, cursor_index, cursor_trace, slot_indices
from .figure_loss import LOSS_DECADES, loss_figure, loss_range, loss_slot
from .figure_lr import (EVENT_SYMBOLS, EVENT_TEXT, lr_figure, lr_slot, modebar_orientation,
                        shows_momentum, step_labels)
from .figure_marks import with_marks
from .figure_path import (MARKER_MAX, MARKER_MIN, MAX_MARKERS, minimum_trace, path_figure,
                          path_slot)
from .figure_raster import CONTOUR_LEVELS, RASTER_PX, _rgb, surface_image, surface_trace
from .figure_tools import MAX_SPANS, pitfall_figure, range_test_figure, stability_shapes
from .runs import (EVENT_KINDS, MAX_RUNS, RunView, differs_labels, events, fmt, lengths,
                   summary)
from .style import (CURRENT_LINE_WIDTH, DARK_PALETTE, FONT_FAMILY, FONT_SIZE, LINE_WIDTH,
                    PALETTE, STABILITY_COLOUR, THEMES, THIN_LINE_WIDTH, TITLE_SIZE, colour)

__all__ = [
    "CONTOUR_LEVELS", "CURRENT_LINE_WIDTH", "DARK_PALETTE", "EVENT_KINDS", "EVENT_SYMBOLS",
    "EVENT_TEXT", "FONT_FAMILY", "FONT_SIZE", "LINE_WIDTH", "LOSS_DECADES", "MARKER_MAX",
    "MARKER_MIN", "MAX_MARKERS", "MAX_RUNS", "MAX_SPANS", "PALETTE", "RASTER_PX",
    "STABILITY_COLOUR", "THEMES", "THIN_LINE_WIDTH", "TITLE_SIZE", "RunView", "_rgb",
    "annotations", "colour", "cursor_index", "cursor_trace", "differs_labels", "events",
    "fmt", "lengths", "loss_figure", "loss_range", "loss_slot", "lr_figure", "lr_slot",
    "minimum_trace", "modebar_orientation", "path_figure", "path_slot", "pitfall_figure",
    "range_test_figure", "shows_momentum", "slot_indices", "stability_shapes", "step_labels",
    "summary", "surface_image", "surface_trace", "with_marks"]
