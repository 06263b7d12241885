"""The three plots as a user meets them: every run in its fixed slot, carrying exactly its
simulated numbers, with the schedule's events, divergence and the surface drawn right.

Expected steps and labels are worked out here from the definitions (docs/run-format.md and
the PyTorch schedulers of docs/schedules.md §1), not read back from the code under test.
"""
import base64
import json
import math
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

import playground
from playground.web import figures as F
from playground.surfaces import SURFACES

STEP_WARMUP = {"problem": {"name": "elongated_valley"}, "steps": 100,
               "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
               "schedule": {"name": "StepLR", "step_size": 30, "gamma": 0.5},
               "warmup": {"steps": 10, "start_factor": 0.1}}
RESTARTS = {"problem": {"name": "rosenbrock"}, "steps": 200,
            "optimizer": {"name": "adam", "lr": 0.02},
            "schedule": {"name": "CosineAnnealingWarmRestarts", "T_0": 10, "T_mult": 2}}
PLATEAU = {"problem": {"name": "noisy_quadratic", "noise_std": 0.5, "seed": 3}, "steps": 200,
           "optimizer": {"name": "sgd", "lr": 0.3},
           "schedule": {"name": "ReduceLROnPlateau", "patience": 5, "factor": 0.5}}
DIVERGING = {"problem": {"name": "quadratic_bowl"}, "start": [1.0, 1.0], "steps": 50,
             "optimizer": {"name": "sgd", "lr": 3.0}}
ONE_CYCLE = {"problem": {"name": "rosenbrock"}, "steps": 150,
             "optimizer": {"name": "adam", "lr": 0.05}, "schedule": {"name": "OneCycleLR"}}
CONFIGS = {"step": STEP_WARMUP, "restarts": RESTARTS, "plateau": PLATEAU,
           "diverging": DIVERGING, "one_cycle": ONE_CYCLE}


@pytest.fixture(scope="module")
def sims():
    return {k: (playground.resolve(c), playground.simulate(c)) for k, c in CONFIGS.items()}


@pytest.fixture(scope="module")
def views(sims):
    """One RunView per config, in slots 0..4 in CONFIGS order."""
    return {k: F.RunView(k, i, *sims[k]) for i, k in enumerate(CONFIGS)}


def view(sims, key, slot, label=None):
    return F.RunView(label or key, slot, *sims[key])


def n_valid(result):
    """Steps (per-step arrays) and path points before the divergence."""
    d = result["diverged_at"]
    steps = len(result["lr"])
    return (steps, steps + 1) if d is None else (min(d, steps), d)


def arr(values):
    return np.asarray(values if values is not None else [], dtype=np.float64)


# --- Fixed trace slots ---------------------------------------------------------------------

@pytest.mark.parametrize("which", [[], ["step"], ["step", "plateau", "diverging"],
                                   list(CONFIGS)])
def test_slots_sit_at_fixed_indices_up_to_the_highest_one_used(sims, which):
    runs = [view(sims, k, slot) for slot, k in zip([0, 3, 6, 1, 2], which)]
    lr, loss = F.lr_figure(runs), F.loss_figure(runs)
    path = F.path_figure(F.surface_trace(sims["step"][0]), runs)
    k = max((r.slot for r in runs), default=0) + 1  # slots 0..k-1 have traces
    assert len(lr.data) == 3 * k + 1 == F.cursor_index("lr", k) + 1
    assert len(loss.data) == 2 * k + 1 == F.cursor_index("loss", k) + 1
    assert len(path.data) == 2 + 2 * k + 1 == F.cursor_index("path", k) + 1
    assert path.data[0].type == "heatmap" and path.data[1].name == "minimum"
    for fig in (lr, loss, path):
        assert fig.data[-1].name == "cursor" and len(fig.data[-1].x) == 0
    used = {r.slot: r for r in runs}
    for s in range(k):
        for kind, fig in (("lr", lr), ("loss", loss), ("path", path)):
            main = fig.data[F.slot_indices(kind, s)[0]]
            if s in used:
                assert main.name == used[s].label and len(main.x) > 0
            else:
                assert all(len(fig.data[i].x) == 0 for i in F.slot_indices(kind, s))
    # no slot ever touches the hover grid or the minimum: a Patch never resends them
    assert all(i >= 2 for s in range(F.MAX_RUNS) for i in F.slot_indices("path", s))


def test_a_run_alone_in_slot_5_sits_at_slot_5s_indices(sims):
    run = view(sims, "restarts", 5)
    lr = F.lr_figure([run])
    assert F.slot_indices("lr", 5) == [15, 16, 17]
    assert lr.data[15].name == "restarts" and len(lr.data[0].x) == 0
    assert F.loss_figure([run]).data[10].name == "restarts"
    assert F.slot_indices("path", 5) == [12, 13]
    assert F.path_figure(F.surface_trace(run.run), [run]).data[12].name == "restarts"


def test_slot_functions_give_the_figures_traces_so_a_patch_matches_a_rebuild(views):
    runs = list(views.values())
    surface = F.surface_trace(views["step"].run)
    for kind, fig, slot_fn in (("lr", F.lr_figure(runs), F.lr_slot),
                               ("loss", F.loss_figure(runs), F.loss_slot),
                               ("path", F.path_figure(surface, runs), F.path_slot)):
        for s in range(max(r.slot for r in runs) + 1):
            run = next((r for r in runs if r.slot == s), None)
            traces = slot_fn(run, "light", slot=s)
            idx = F.slot_indices(kind, s)
            assert len(traces) == len(idx)
            for i, tr in zip(idx, traces):
                assert go.Figure(data=[tr]).to_json() == \
                    go.Figure(data=[fig.data[i]]).to_json(), (kind, s, i)


def test_slot_traces_are_json_ready_without_nan(views):
    from plotly.io.json import to_json_plotly
    for v in views.values():
        for tr in F.lr_slot(v) + F.loss_slot(v) + F.path_slot(v):
            text = to_json_plotly(tr)
            assert "NaN" not in text and "null" not in text


# --- Each trace carries its run's numbers ------------------------------------------------

def test_slot_traces_carry_exactly_the_simulated_arrays(views):
    runs = list(views.values())
    lr, loss = F.lr_figure(runs), F.loss_figure(runs)
    path = F.path_figure(F.surface_trace(views["step"].run), runs)
    for v in runs:
        r, (n, pts) = v.result, n_valid(v.result)
        line = lr.data[F.slot_indices("lr", v.slot)[0]]
        np.testing.assert_array_equal(line.x, np.arange(n))
        np.testing.assert_array_equal(line.y, r["lr"][:n])
        true = loss.data[F.slot_indices("loss", v.slot)[0]]
        np.testing.assert_array_equal(true.x, np.arange(pts))
        positive = r["loss"][:pts] > 0
        np.testing.assert_array_equal(arr(true.y)[positive], r["loss"][:pts][positive])
        p = path.data[F.slot_indices("path", v.slot)[0]]
        np.testing.assert_array_equal(p.x, r["path"][:pts, 0])
        np.testing.assert_array_equal(p.y, r["path"][:pts, 1])
        np.testing.assert_array_equal(p.customdata, np.arange(pts))  # hover knows the step
        ends = path.data[F.slot_indices("path", v.slot)[1]]
        assert list(ends.text) == ["start", "end"]
        np.testing.assert_array_equal(ends.customdata, [0, pts - 1])
        np.testing.assert_array_equal(ends.x, r["path"][[0, pts - 1], 0])
        np.testing.assert_array_equal(ends.x[:1], [v.run["start"][0]])


def test_momentum_line_only_where_momentum_moves(views):
    lr = F.lr_figure(list(views.values()))
    mom = {k: lr.data[F.slot_indices("lr", v.slot)[1]] for k, v in views.items()}
    for k in ("step", "restarts", "plateau", "diverging"):  # constant momentum/beta1
        assert len(mom[k].x) == 0, k
    cyc = views["one_cycle"].result
    assert mom["one_cycle"].yaxis == "y2"
    np.testing.assert_array_equal(mom["one_cycle"].y, cyc["momentum"])
    assert cyc["momentum"].min() == pytest.approx(0.85) and cyc["momentum"].max() == \
        pytest.approx(0.95)
    assert lr.layout.yaxis2.visible and lr.layout.yaxis2.side == "right"
    assert F.lr_figure([views["step"]]).layout.yaxis2.visible is False
    assert F.shows_momentum([views["one_cycle"]]) and not F.shows_momentum([views["step"]])


def test_the_toolbar_leaves_the_momentum_axis_free(views):
    """The toolbar stands upright in the right margin, unless that margin holds the
    momentum axis: then it lies in the title's row (a phone showed it over the axis's
    title)."""
    assert F.lr_figure([views["one_cycle"]]).layout.modebar.orientation == "h"
    assert F.lr_figure([views["step"]]).layout.modebar.orientation == "v"
    assert F.loss_figure([views["one_cycle"]]).layout.modebar.orientation == "v"


def test_observed_loss_is_drawn_faintly_only_on_the_noisy_surface(views):
    loss = F.loss_figure(list(views.values()))
    noisy = loss.data[F.slot_indices("loss", views["plateau"].slot)[1]]
    np.testing.assert_array_equal(noisy.y, views["plateau"].result["observed_loss"])
    assert noisy.opacity < 0.6
    assert not np.array_equal(noisy.y, views["plateau"].result["loss"][:-1])
    for k in ("step", "restarts", "one_cycle", "diverging"):
        assert len(loss.data[F.slot_indices("loss", views[k].slot)[1]].x) == 0, k


def test_path_markers_grow_with_the_lr_of_each_step(views):
    v = views["step"]
    trace = F.path_slot(v)[0]
    size = arr(trace["marker"]["size"])
    lr = v.result["lr"].astype(np.float64)
    lr_at = np.append(lr, lr[-1])  # point i leaves with lr[i]; the last keeps the last lr
    assert size.shape == (101,)
    assert size.min() >= F.MARKER_MIN and size.max() == pytest.approx(F.MARKER_MAX)
    np.testing.assert_allclose(size, F.MARKER_MIN + (F.MARKER_MAX - F.MARKER_MIN)
                               * lr_at / lr.max(), atol=0.06)
    assert np.all(np.diff(size[:11]) > 0)  # the warmup ramps the steps up
    assert size[41] < size[39]  # StepLR halves the lr at step 40


# --- Events ---------------------------------------------------------------------------------

def test_step_lr_milestones_follow_the_warmup(views):
    v = views["step"]
    # StepLR(step_size=30) starts after 10 warmup steps: drops at 10+30, 10+60; 10+90=100
    # is past the 100-step run
    ev = F.events(v.run, v.result)
    assert ev["milestone"] == [40, 70]
    assert ev["warmup_end"] == [10]
    assert ev["restart"] == [] and ev["reduction"] == []
    lr = v.result["lr"]
    for k in (40, 70):
        assert lr[k] == pytest.approx(0.5 * lr[k - 1])
    marks = F.lr_slot(v)[2]
    assert list(marks["x"]) == [10, 40, 70]
    np.testing.assert_array_equal(marks["y"], lr[[10, 40, 70]])
    assert marks["text"] == ["warmup end at step 10", "milestone at step 40",
                             "milestone at step 70"]
    symbols = marks["marker"]["symbol"]
    assert symbols[1] == symbols[2] != symbols[0]


def test_warm_restarts_with_t_mult_2(views):
    v = views["restarts"]
    # cycles of 10, 20, 40, 80, 160 steps start at 10, 30, 70, 150 (310 > 200 steps)
    assert F.events(v.run, v.result)["restart"] == [10, 30, 70, 150]
    lr = v.result["lr"]
    for k in (10, 30, 70, 150):
        assert lr[k] == pytest.approx(0.02) and lr[k - 1] < 0.02 * 0.1


def test_multistep_and_cyclic_events():
    run = playground.resolve({"problem": {"name": "quadratic_bowl"}, "steps": 120,
                              "optimizer": {"name": "sgd", "lr": 0.1},
                              "schedule": {"name": "MultiStepLR", "milestones": [70, 20, 200]},
                              "warmup": {"steps": 5}})
    ev = F.events(run, playground.simulate(run))
    assert ev["milestone"] == [25, 75] and ev["warmup_end"] == [5]
    run = playground.resolve({"problem": {"name": "quadratic_bowl"}, "steps": 100,
                              "optimizer": {"name": "sgd", "lr": 0.1},
                              "schedule": {"name": "CyclicLR", "step_size_up": 10,
                                           "step_size_down": 15}})
    assert F.events(run, playground.simulate(run))["restart"] == [25, 50, 75]


def test_plateau_reductions_are_where_the_lr_drops(views):
    v = views["plateau"]
    lr = v.result["lr"]
    drops = [t for t in range(1, len(lr)) if lr[t] < lr[t - 1]]
    assert drops, "the plateau run should cut its lr at least once"
    ev = F.events(v.run, v.result)
    assert ev["reduction"] == drops
    for t in drops:
        assert lr[t] == pytest.approx(0.5 * lr[t - 1])
    marks = F.lr_slot(v)[2]
    assert marks["text"][0] == f"reduction at step {drops[0]}"
    assert marks["marker"]["symbol"][0] not in (F.EVENT_SYMBOLS["milestone"],
                                                F.EVENT_SYMBOLS["restart"])


def test_events_stop_at_the_divergence(sims):
    cfg = {**DIVERGING, "schedule": {"name": "StepLR", "step_size": 4, "gamma": 0.9}}
    run = playground.resolve(cfg)
    result = playground.simulate(cfg)
    d = result["diverged_at"]
    assert d is not None and d < 50
    expected = [k for k in range(4, 50, 4) if k < d]
    assert F.events(run, result)["milestone"] == expected


# --- Divergence ----------------------------------------------------------------------------

def test_diverged_run_is_annotated_in_its_colour_on_all_three_plots(views):
    runs = [views["diverging"]]
    div = views["diverging"]
    assert div.result["diverged_at"] == 10  # (1 - 3)^t doubles |p|: loss 4^10 > 1e6
    for fig in (F.lr_figure(runs), F.loss_figure(runs),
                F.path_figure(F.surface_trace(div.run), runs)):
        notes = [a for a in fig.layout.annotations if "diverged" in a.text]
        assert len(notes) == 1 and "diverged at step 10" in notes[0].text
        assert notes[0].font.color == div.colour()
    assert all("diverged" not in a["text"]
               for a in F.annotations([views["step"], views["one_cycle"]]))
    both = F.annotations(list(views.values()))
    assert len(both) == 1 and "diverging" in both[0]["text"]  # names the run among several


def test_several_diverged_runs_share_one_narrow_note_a_line_each_in_their_colours(sims):
    """Each diverged run's label on a line above its step, so the note is as narrow as
    its longest label (a phone's plot cut the one-line form) and notes never overlap; a
    label is text, never markup."""
    runs = [view(sims, "one_cycle", 0, "current"), view(sims, "diverging", 1, "lr <3> & up"),
            view(sims, "diverging", 2, "Constant, SGD, lr 50")]
    notes = F.annotations(runs)
    assert len(notes) == 1
    lines = notes[0]["text"].split("<br>")
    assert [re.sub("<[^>]+>", "", line) for line in lines] == [
        "lr &lt;3&gt; &amp; up:", "diverged at step 10", "Constant, SGD, lr 50:",
        "diverged at step 10"]
    assert [re.search("color:([^']+)'", line).group(1) for line in lines] == [
        runs[1].colour()] * 2 + [runs[2].colour()] * 2
    fig = F.loss_figure(runs)
    drawn = [a for a in fig.layout.annotations if "diverged" in a.text]
    assert len(drawn) == 1 and drawn[0].xanchor == "right"


def test_loss_axis_stays_usable_after_a_divergence(views):
    runs = list(views.values())
    fig = F.loss_figure(runs)
    y = fig.layout.yaxis
    assert y.type == "log" and y.autorange is False
    lo, hi = y.range
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    assert 10 ** hi < 1e8  # not stretched to the blow-up
    starts = [float(v.result["loss"][0]) for v in runs]
    assert 10 ** hi >= max(starts)  # every run's start is visible
    for v in runs:
        _, pts = n_valid(v.result)
        ys = arr(fig.data[F.slot_indices("loss", v.slot)[0]].y)
        assert ys.size == pts and np.isfinite(ys).all() and (ys > 0).all()
    assert F.loss_range([]) is None


def test_diverged_path_leaves_the_window_but_the_axes_keep_it(views):
    div = views["diverging"]
    prm = {k: v for k, v in div.run["problem"].items() if k != "name"}
    (x0, x1), (y0, y1) = SURFACES["quadratic_bowl"].window(prm)
    fig = F.path_figure(F.surface_trace(div.run), [div])
    assert list(fig.layout.xaxis.range) == [x0, x1] and list(fig.layout.yaxis.range) == [y0, y1]
    assert np.abs(arr(fig.data[F.slot_indices("path", div.slot)[0]].x)).max() > 100


def test_summary(views):
    r = views["step"].result
    s = F.summary(r, threshold=1e-3)
    loss = r["loss"].astype(np.float64)
    assert s["final_loss"] == pytest.approx(loss[-1])
    assert s["best_loss"] == pytest.approx(loss.min())
    first = next((i for i, x in enumerate(loss) if x <= 1e-3), None)
    assert s["steps_to_threshold"] == first and s["diverged_at"] is None
    d = F.summary(views["diverging"].result, threshold=1e-3)
    assert d == {"final_loss": pytest.approx(4.0 ** 9), "best_loss": pytest.approx(1.0),
                 "steps_to_threshold": None, "diverged_at": 10}


# --- The surface ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["restarts", "step", "plateau"])
def test_contour_shows_the_true_loss_with_its_minimum_in_place(sims, key):
    run = sims[key][0]
    surf = SURFACES[run["problem"]["name"]]
    prm = {k: v for k, v in run["problem"].items() if k != "name"}
    tr = F.surface_trace(run, n=80)
    x, y, z, f = (np.asarray(tr[k]) for k in ("x", "y", "z", "customdata"))
    (x0, x1), (y0, y1) = surf.window(prm)
    assert (x[0], x[-1], y[0], y[-1]) == (x0, x1, y0, y1) and z.shape == (80, 80)
    j, i = np.unravel_index(np.argmin(z), z.shape)  # rows are y, columns x
    mx, my = surf.minimum(prm)
    assert abs(x[i] - mx) <= 1.01 * (x[1] - x[0]) and abs(y[j] - my) <= 1.01 * (y[1] - y[0])
    # f is the true loss at the grid points, z a monotone (log) view of it
    np.testing.assert_allclose(f[j, i], float(surf.loss(np.array([x[i], y[j]]), prm)))
    order = np.argsort(f.ravel(), kind="stable")
    assert np.all(np.diff(z.ravel()[order]) >= -1e-12)
    # log-spaced levels: the lower half of the levels covers far less than half the loss
    mid = (z.min() + z.max()) / 2
    assert f[z <= mid].max() < 0.1 * f.max()
    assert tr["type"] == "heatmap" and tr["opacity"] == 0  # hover and clicks only


def _decode_png(uri: str) -> np.ndarray:
    """An (h, w, 3) RGB array from a palette PNG data URI (as surface_image makes)."""
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = {}, 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        chunks[data[i + 4:i + 8]] = chunks.get(data[i + 4:i + 8], b"") + data[i + 8:i + 8 + n]
        i += 12 + n
    w, h = int.from_bytes(chunks[b"IHDR"][:4], "big"), int.from_bytes(chunks[b"IHDR"][4:8], "big")
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, w + 1)
    assert not rows[:, 0].any()  # filter type 0 on every row
    palette = np.frombuffer(chunks[b"PLTE"], np.uint8).reshape(-1, 3)
    return palette[rows[:, 1:]]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("key", ["restarts", "step"])
def test_the_contour_map_image_covers_the_window_darkening_away_from_the_minimum(
        sims, key, theme):
    run = sims[key][0]
    surf = SURFACES[run["problem"]["name"]]
    prm = {k: v for k, v in run["problem"].items() if k != "name"}
    (x0, x1), (y0, y1) = surf.window(prm)
    im = F.surface_image(run, theme, px=200)
    assert (im["x"], im["y"], im["sizex"], im["sizey"]) == (x0, y1, x1 - x0, y1 - y0)
    assert (im["xanchor"], im["yanchor"], im["layer"]) == ("left", "top", "below")
    rgb = _decode_png(im["source"]).astype(float)
    assert rgb.shape == (200, 200, 3)

    def pixel(x, y):  # image rows run top down
        return rgb[int((y1 - y) / (y1 - y0) * 199.999), int((x - x0) / (x1 - x0) * 199.999)]

    scale = F.THEMES[theme]["contour"]
    lowest, highest = F._rgb(scale[0][1])[:3], F._rgb(scale[-1][1])[:3]
    mx, my = surf.minimum(prm)
    at_min = pixel(mx, my)
    # the minimum sits in the lowest band, the window's worst corner in the highest
    corners = [(x, y) for x in (x0, x1) for y in (y0, y1)]
    worst = max(corners, key=lambda c: float(surf.loss(np.array(c), prm)))
    assert np.abs(at_min - lowest).sum() < np.abs(at_min - highest).sum()
    assert np.abs(pixel(*worst) - highest).sum() < np.abs(pixel(*worst) - lowest).sum()
    # filled bands with level lines: a few dozen colours, not a gradient
    assert 10 <= len(np.unique(rgb.reshape(-1, 3), axis=0)) <= 2 * F.CONTOUR_LEVELS


# --- Legend labels -------------------------------------------------------------------------

def test_differs_labels():
    base = {"problem": {"name": "rosenbrock"}, "steps": 300,
            "optimizer": {"name": "adam", "lr": 0.05}}
    cos = playground.resolve({**base, "schedule": {"name": "CosineAnnealingLR"}})
    step = playground.resolve({**base, "schedule": {"name": "StepLR"}})
    step_fast = playground.resolve({**base, "optimizer": {"name": "adam", "lr": 0.1},
                                    "schedule": {"name": "StepLR"}})
    cos_label = playground.SCHEDULES["CosineAnnealingLR"].label
    step_label = playground.SCHEDULES["StepLR"].label
    assert F.differs_labels([cos, step]) == [cos_label, step_label]
    a, b = F.differs_labels([cos, step_fast])
    assert cos_label in a and "lr 0.05" in a and step_label in b and "lr 0.1" in b
    assert F.differs_labels([step, step_fast]) == ["lr 0.05", "lr 0.1"]
    assert F.differs_labels([cos]) == [f"{cos_label}, lr 0.05"]
    assert F.differs_labels([cos, dict(cos)]) == ["run 1", "run 2"]
    tiny = playground.resolve({**base, "optimizer": {"name": "adam", "lr": 0.000123456}})
    assert F.differs_labels([tiny, playground.resolve(base)])[0] == "lr 0.000123"
    assert F.fmt(1e-5) == "1e-5" and F.fmt(0.05) == "0.05" and F.fmt(300) == "300"
    assert len(set(F.differs_labels([cos, step, dict(step)]))) == 3  # never two alike


# --- Look and behaviour --------------------------------------------------------------------

@pytest.mark.parametrize("theme", ["light", "dark"])
def test_readable_from_the_back_of_the_hall(views, theme):
    runs = list(views.values())
    figs = [F.lr_figure(runs, theme=theme), F.loss_figure(runs, theme=theme),
            F.path_figure(F.surface_trace(views["step"].run, theme), runs, theme=theme)]
    for fig in figs:
        lay = fig.layout
        assert lay.font.size >= 16 and lay.title.font.size >= 20
        assert lay.legend.orientation == "h" and lay.uirevision
        assert lay.paper_bgcolor == F.THEMES[theme]["paper"]
        for tr in fig.data:
            if tr.type == "scatter" and tr.mode and "lines" in tr.mode and len(tr.x):
                assert tr.line.width >= 2.5
        shown = {tr.legendgroup: tr.line.color for tr in fig.data
                 if tr.type == "scatter" and tr.showlegend}
        assert shown == {f"slot{v.slot}": F.colour(v.slot, theme) for v in runs}
    assert figs[0].layout.hovermode == "x unified" and figs[2].layout.hovermode == "closest"
    assert len(set(F.THEMES[theme]["palette"])) == F.MAX_RUNS == len(F.PALETTE)
    assert F.colour(0, "dark") != F.colour(0, "light")


def test_log_toggle_and_figures_serialise(views):
    runs = list(views.values())
    assert F.lr_figure(runs, log_y=True).layout.yaxis.type == "log"
    assert F.lr_figure(runs).layout.yaxis.type == "linear"
    for fig in (F.lr_figure(runs), F.loss_figure(runs),
                F.path_figure(F.surface_trace(views["step"].run), runs)):
        json.loads(fig.to_json())


def test_figures_module_does_not_import_dash():
    code = "import sys, playground.web.figures; sys.exit('dash' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- A lesson's figures ------------------------------------------------------------------
# What a lesson draws, checked against its runs' own numbers: the marks of
# playground.lessons (their data is tested in test_lessons.py) as the plots show them.

from functools import cache as _cache  # noqa: E402

from playground import lessons  # noqa: E402
from playground import tools  # noqa: E402


@_cache
def lesson_figures(name: str) -> tuple[dict, list]:
    from playground.web import lesson_view, plots, state

    lesson = lessons.LESSONS[name]
    views = state.runs(lesson.config, list(lesson.pins), labels=lesson.labels)
    return lesson_view.marked_figures(plots.figures_for(views, "light"), lesson, views,
                                      "light"), views


def _is_stability(shape) -> bool:
    return shape.type == "line" and shape.label.text is not None \
        and "diverges above" in shape.label.text


@pytest.mark.parametrize("name", lessons.LESSONS)
def test_a_lesson_draws_a_checkbox_line_only_when_it_turns_the_checkbox_on(name):
    figs, views = lesson_figures(name)
    options = lessons.LESSONS[name].lr_options
    lr = figs["lr"]
    assert (lr.layout.yaxis.type == "log") == ("log" in options)
    stability = [s for s in lr.layout.shapes if _is_stability(s)]
    threshold = tools.stability(views[0].run, views[0].result)["threshold"]
    if "stability" in options:
        assert [s.y0 for s in stability] == [pytest.approx(threshold)]
    else:
        assert stability == []
    effective = [t for t in lr.data if "effective step" in (t.name or "")]
    assert bool(effective) == ("effective" in options)


@pytest.mark.parametrize("name", lessons.LESSONS)
def test_a_lesson_says_each_divergence_once_on_the_loss_plot(name):
    figs, views = lesson_figures(name)
    want = [f"{v.label}: diverged at step {v.result['diverged_at']}" for v in views
            if v.result["diverged_at"] is not None]
    for kind in ("lr", "loss", "path"):
        notes = [a.text.replace("<br>", " ") for a in figs[kind].layout.annotations
                 if "diverged" in a.text]
        assert notes == (want if kind == "loss" else [])
    diverging = {"one-cycle": 1, "clip-first-steps": 2}  # the lessons that show a blow-up
    assert len(want) == diverging.get(name, 0)


@pytest.mark.parametrize("name", lessons.LESSONS)
def test_a_lesson_puts_the_minimum_and_the_ends_above_every_path(name):
    figs, views = lesson_figures(name)
    data = figs["path"].data
    assert data[-1].name == "cursor"
    paths = [F.slot_indices("path", v.slot)[0] for v in views]
    minimum = [i for i, t in enumerate(data) if t.name == "minimum (on top)"]
    ends = [i for i, t in enumerate(data) if (t.name or "").endswith("start/end (on top)")]
    assert len(minimum) == 1 and len(ends) == len(views)
    assert min(minimum + ends) > max(paths)
    for v, i in zip(views, ends):
        path = v.result["path"]
        n = F.lengths(v.result)[1]
        np.testing.assert_allclose(data[i].x, [path[0, 0], path[n - 1, 0]], rtol=1e-6)
        assert data[i].hoverinfo == "skip"


@pytest.mark.parametrize("name", [n for n, ls in lessons.LESSONS.items() if ls.seeds])
def test_a_seed_lesson_draws_seed_means_and_keeps_one_seed_behind_a_button(name):
    figs, views = lesson_figures(name)
    loss = figs["loss"]
    single = sorted(i for v in views for i in F.slot_indices("loss", v.slot))
    assert [i for i, t in enumerate(loss.data) if t.visible is False] == single
    for v in views:  # the single seed's numbers are still there, shown on request
        np.testing.assert_allclose(loss.data[F.slot_indices("loss", v.slot)[0]].y,
                                   v.result["loss"], rtol=1e-5)
    (button,) = loss.layout.updatemenus[0].buttons
    assert sorted(button.args[1]) == single and button.args[0] == {"visible": True}
    assert button.args2[0] == {"visible": False}
    seeds = lessons.LESSONS[name].seeds
    means = [t for t in loss.data if (t.name or "").endswith(f"(mean of {seeds} seeds)")]
    assert len(means) == len(views)
    for v, t in zip(views, means):
        config = v.run
        want = np.mean([playground.simulate(c)["loss"] for c in
                        lessons.seed_configs(config, seeds)], axis=0)
        np.testing.assert_allclose(t.y, want, rtol=1e-5)


@pytest.mark.parametrize("name", lessons.LESSONS)
def test_a_lesson_keeps_its_labels_in_rows_above_the_data(name):
    figs, views = lesson_figures(name)
    # a diverging run leaves through the top on purpose (its note says where)
    gone = {v.label for v in views if v.result["diverged_at"] is not None}
    for kind in ("lr", "loss"):
        fig = figs[kind]
        rows = [a.y + a.yshift / 330 for a in fig.layout.annotations if a.yref == "paper"]
        assert len(set(rows)) == len(rows)                    # one row each (a usual plot)
        if not rows:
            continue
        lo, hi = fig.layout.yaxis.range
        log = fig.layout.yaxis.type == "log"
        shown = [np.asarray(t.y, dtype=np.float64) for t in fig.data
                 if t.visible is not False and t.y is not None and len(t.y)
                 and t.yaxis in (None, "y") and t.name != "cursor" and t.name not in gone]
        ys = np.concatenate(shown)
        ys = ys[np.isfinite(ys) & (ys > 0)] if log else ys[np.isfinite(ys)]
        top = float(np.log10(ys.max()) if log else ys.max())
        lowest_row = min(rows) - 0.06                         # a row's text is below its y
        assert (top - lo) / (hi - lo) <= lowest_row + 1e-9, (kind, top, lo, hi, ys)


def test_a_surface_with_a_negative_minimum_plots_the_loss_above_it():
    """On the saddle (minimum -1) a log axis cannot show the loss: the plot shows
    loss - f(minimum), and says so."""
    from playground.web import state
    from playground.web.figure_loss import loss_figure
    config = {"problem": {"name": "saddle"}, "steps": 300,
              "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}}
    runs = state.runs(config, [])
    fig = loss_figure(runs)
    want = playground.simulate(config)["loss"]
    got = np.asarray(fig.data[0].y, dtype=np.float64)
    finite = want + 1.0 > 0
    np.testing.assert_allclose(got[finite], want[finite] + 1.0, rtol=1e-5, atol=1e-6)
    assert fig.layout.yaxis.title.text.startswith("loss − f(minimum)")
    plain = loss_figure(state.runs({"steps": 50}, []))
    assert plain.layout.yaxis.title.text == "loss (log scale)"


def _assigned(patch, *location):
    """What a Patch assigns at ``location`` (None if it does not)."""
    for op in patch.to_plotly_json()["operations"]:
        if op["operation"] == "Assign" and op["location"] == list(location):
            return op["params"]["value"]
    return None


def test_the_lr_plot_with_its_momentum_axis_carries_fewer_step_labels_drawn_or_patched():
    """The momentum axis takes the lr plot's right margin: its step axis carries at most
    four labels (six stood upright on a laptop), whether the figure is drawn whole or a
    change patches it; the loss plot keeps six."""
    from playground.web.plots import figure_updates
    from playground.web.state import runs as views

    config = {"optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
              "schedule": {"name": "OneCycleLR"}, "steps": 500}
    runs = views(config, [])
    assert F.shows_momentum(runs)
    lr_fig, loss_fig, _ = figure_updates(runs, "light", False, True, False)
    lr_ticks = lr_fig.layout.xaxis.tickvals
    assert list(lr_ticks) == [0, 250, 500] and len(loss_fig.layout.xaxis.tickvals) == 6
    lr_patch, loss_patch, _ = figure_updates(runs, "light", False, False, False)
    assert _assigned(lr_patch, "layout", "xaxis", "tickvals") == list(lr_ticks)
    assert len(_assigned(loss_patch, "layout", "xaxis", "tickvals")) == 6
    plain = views({**config, "schedule": {"name": "CosineAnnealingLR"}}, [])
    assert not F.shows_momentum(plain)
    lr_patch, _, _ = figure_updates(plain, "light", False, False, False)
    assert len(_assigned(lr_patch, "layout", "xaxis", "tickvals")) == 6


def test_the_minimums_label_sits_on_the_side_the_path_does_not_come_from_drawn_or_patched():
    """Rosenbrock's path comes up the valley and stops short below the star: the label
    goes above it. A path straight down onto the bowl's minimum: the label goes below.
    The patch of a change moves the label as the whole figure places it."""
    from playground.web.plots import figure_updates
    from playground.web.state import runs as views

    valley = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 500,
              "optimizer": {"name": "adam", "lr": 0.2},
              "schedule": {"name": "CosineAnnealingLR", "T_max": 450}, "warmup": {"steps": 50}}
    from_above = {"problem": {"name": "quadratic_bowl"}, "start": [0.3, 2.5], "steps": 60,
                  "optimizer": {"name": "sgd", "lr": 0.05}}
    for config, side in ((valley, "top"), (from_above, "bottom")):
        runs = views(config, [])
        path = runs[0].result["path"]
        assert (path[-1, 1] < 1.0) if side == "top" else (path[len(path) // 2, 1] > 0.0)
        whole = figure_updates(runs, "light", False, True, False)[2]
        assert whole.data[1].name == "minimum"
        assert whole.data[1].textposition.startswith(side)
        patch = figure_updates(runs, "light", False, False, False)[2]
        assert _assigned(patch, "data", 1, "textposition") == whole.data[1].textposition
