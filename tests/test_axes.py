"""Axes that read right, on figures drawn from real runs (playground.simulate): log axes
label whole decades only, step axes end at the configured steps with the last step
ticked, a run that diverges at once still gets sensible axes."""
import math

import numpy as np
import pytest

import playground
from playground import tools
from playground.web import figures, state
from playground.web.figure_base import axis, log_ticks, step_ticks

BOWL = {"problem": {"name": "quadratic_bowl"}, "optimizer": {"name": "sgd", "lr": 0.1},
        "schedule": {"name": "constant"}, "steps": 500}
"""A run whose loss falls over many decades."""
BLOWS_UP = {"optimizer": {"name": "sgd", "lr": 1e4}}
"""Rosenbrock with a huge lr: diverges at step 1."""


def shown(ax: dict, lo: float, hi: float) -> list[tuple[float, str]]:
    """(value, label) of the labelled ticks of a Plotly axis dict between lo and hi."""
    return [(v, t) for v, t in zip(ax["tickvals"], ax["ticktext"]) if lo <= v <= hi]


def is_decade(v: float) -> bool:
    e = math.log10(v)
    return abs(e - round(e)) < 1e-9


def loss_axis_span(fig) -> tuple[float, float]:
    lo, hi = fig.layout.yaxis.range
    return 10.0 ** lo, 10.0 ** hi


@pytest.mark.parametrize("config", [{}, BOWL, {**BOWL, "steps": 40}],
                         ids=["rosenbrock", "bowl-500", "bowl-40"])
def test_the_loss_axis_labels_whole_decades_written_out(config):
    runs = state.runs(config, [])
    fig = figures.loss_figure(runs).to_plotly_json()["layout"]
    lo, hi = 10.0 ** np.array(fig["yaxis"]["range"])
    labels = shown(fig["yaxis"], lo, hi)
    loss = np.asarray(runs[0].result["loss"], dtype=np.float64)
    loss = loss[np.isfinite(loss) & (loss > 0)]
    decades = math.floor(math.log10(loss.max())) - math.ceil(math.log10(loss.min())) + 1
    assert len(labels) >= min(2, decades)
    for value, text in labels:
        # each label is the tick's own value, written out (0.01, 1e-5), never a bare "2"
        assert float(text) == pytest.approx(value, rel=1e-9)
        if decades >= 2:
            assert is_decade(value)
    assert len(labels) <= 8  # thinned when the loss spans many decades
    minor = fig["yaxis"]["minor"]
    assert minor["ticks"] == "outside" and "ticktext" not in minor  # unlabelled
    assert not set(minor["tickvals"]) & set(fig["yaxis"]["tickvals"])


def test_a_loss_falling_ten_decades_is_labelled_every_few_decades():
    runs = state.runs(BOWL, [])
    loss = np.asarray(runs[0].result["loss"], dtype=np.float64)
    loss = loss[loss > 0]
    assert math.log10(loss.max() / loss.min()) > 9  # the real run falls that far
    fig = figures.loss_figure(runs).to_plotly_json()["layout"]
    labels = shown(fig["yaxis"], *loss_axis_span(figures.loss_figure(runs)))
    exps = [round(math.log10(v)) for v, _ in labels]
    assert all(is_decade(v) for v, _ in labels)
    gaps = set(np.diff(exps))
    assert len(gaps) == 1 and gaps.pop() >= 2  # every k-th decade, evenly
    assert 3 <= len(labels) <= 8


def test_less_than_a_decade_is_labelled_in_full():
    ax = axis("light", "loss", type="log", range=[math.log10(0.05), math.log10(0.4)])
    labels = shown(ax, 0.05, 0.4)
    assert [t for _, t in labels] == ["0.05", "0.1", "0.2"]
    ax = axis("light", "loss", type="log", range=[math.log10(3), math.log10(8)])
    assert [t for _, t in shown(ax, 3, 8)] == ["3", "4", "5", "6", "7", "8"]


def test_decade_labels_read_like_numbers():
    ticks = log_ticks(1e-3, 1e4)
    labels = dict(shown(ticks, 1e-3, 1e4))
    assert [labels[10.0 ** e] for e in range(-3, 5)] == [
        "1e-3", "0.01", "0.1", "1", "10", "100", "1000", "1e4"]


def test_the_log_lr_axis_of_the_range_test_labels_decades():
    analysis = tools.lr_range_analysis(playground.simulate(tools.lr_range_config({})))
    fig = figures.range_test_figure(analysis).to_plotly_json()["layout"]
    lr = np.asarray(analysis["lr"][:analysis["stop"]], dtype=np.float64)
    labels = shown(fig["xaxis"], lr.min(), lr.max())
    assert len(labels) >= 2
    assert all(is_decade(v) and float(t) == pytest.approx(v) for v, t in labels)


@pytest.mark.parametrize("steps", [500, 480, 1000, 37, 7, 1])
def test_a_step_axis_ends_at_the_last_step_and_ticks_it(steps):
    ax = step_ticks(steps)
    assert ax["range"] == [0, steps] and ax["autorange"] is False
    assert ax["tickvals"][0] == 0 and ax["tickvals"][-1] == steps
    assert ax["ticktext"][-1] == str(steps)
    gaps = np.diff(ax["tickvals"])
    assert gaps.min() >= 0.6 * gaps[:-1].max(initial=gaps.min())  # no two labels crowd


@pytest.mark.parametrize("steps,labels", [(500, 4), (500, 6), (1000, 4), (300, 4), (600, 4),
                                          (2000, 4), (150, 4)])
def test_a_step_axis_whose_end_is_a_round_step_labels_evenly(steps, labels):
    """The lr plot beside its momentum axis carries at most 4 step labels: 500 steps read
    0, 250, 500 (not 0, 200, 500, whose last gap looks like a missing label)."""
    vals = step_ticks(steps, labels)["tickvals"]
    assert vals[0] == 0 and vals[-1] == steps and 3 <= len(vals) <= labels + 1
    assert len(set(np.diff(vals))) == 1, vals


def test_the_pitfall_plot_spans_the_configured_steps():
    config = {**BOWL, "steps": 480}
    out = tools.resume_without_scheduler_state(config, 200)
    fig = figures.pitfall_figure(out["correct"], out["buggy"], "t").to_plotly_json()["layout"]
    assert fig["xaxis"]["range"] == [0, 480] and fig["xaxis"]["ticktext"][-1] == "480"


def test_a_run_diverging_at_step_1_keeps_a_sensible_loss_axis():
    runs = state.runs(BLOWS_UP, [])
    assert runs[0].result["diverged_at"] == 1
    fig = figures.loss_figure(runs)
    lo, hi = fig.layout.yaxis.range
    start = float(runs[0].result["loss"][0])
    assert lo < math.log10(start) < hi and 0.5 < hi - lo < 4  # the start, not 0..1
    labels = shown(fig.to_plotly_json()["layout"]["yaxis"], 10.0 ** lo, 10.0 ** hi)
    assert labels and all(float(t) == pytest.approx(v) for v, t in labels)


@pytest.mark.parametrize("config", [{}, BLOWS_UP], ids=["500-steps", "diverges-at-1"])
def test_the_step_axes_span_the_configured_steps(config):
    runs = state.runs(config, [])
    steps = runs[0].run["steps"]
    for fig in (figures.lr_figure(runs), figures.loss_figure(runs)):
        ax = fig.to_plotly_json()["layout"]["xaxis"]
        assert ax["range"] == [0, steps]
        assert ax["ticktext"][-1] == str(steps)


def test_every_plot_keeps_its_toolbar_off_the_title():
    runs = state.runs({}, [])
    for fig in figures.lr_figure(runs), figures.loss_figure(runs), figures.path_figure(
            figures.surface_trace(runs[0].run), runs):
        layout = fig.to_plotly_json()["layout"]
        assert layout["modebar"]["orientation"] == "v"  # upright, in the right margin
        assert layout["title"]["xanchor"] == "left"


def test_under_three_decades_the_loss_axis_labels_1_2_5_not_just_two_decades():
    """A loss from 12 down to 0.2 showed only "10" and "1": its end could not be read."""
    labels = [t for _, t in shown(log_ticks(0.2, 12), 0.2, 12)]
    assert labels == ["0.2", "0.5", "1", "2", "5", "10"]
    # three decades on show: the decades alone
    assert [t for _, t in shown(log_ticks(0.09, 11), 0.09, 11)] == ["0.1", "1", "10"]
