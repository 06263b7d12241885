"""The training-loop practice on the page: the clipping control, the clipped norm in the
step inspector and the gradient-accumulation pitfall, through the functions the callbacks
call."""
import dash
import numpy as np
import pytest
from dash import html

import playground
from playground.web import form
from playground.web.state import runs
from playground.web.tool_panels import inspector, show_pitfall
from test_page import call, update

MAX = "clip_grad_norm.clip_grad_norm.max_norm"
NORM = "clip_grad_norm.clip_grad_norm.norm_type"
STEEP = {"problem": {"name": "rosenbrock"}, "start": [-2.0, 3.0], "steps": 200,
         "optimizer": {"name": "sgd", "lr": 0.001, "momentum": 0.9},
         "schedule": {"name": "constant"}}


def form_config(config, **typed):
    choice, values, warmup_on = form.form_from_config(config)
    values.update({{"max_norm": MAX, "norm_type": NORM}[k]: v for k, v in typed.items()})
    return form.config_from_form(choice, values, warmup_on)


def test_an_empty_max_norm_is_no_clipping_and_a_number_clips():
    config, errors = form_config(STEEP)
    assert errors == {} and "clip_grad_norm" not in config
    config, errors = form_config(STEEP, max_norm="1.5")
    assert errors == {} and config["clip_grad_norm"] == {"max_norm": 1.5}
    config, errors = form_config(STEEP, max_norm="1", norm_type="inf")
    assert config["clip_grad_norm"] == {"max_norm": 1.0, "norm_type": "inf"}
    config, errors = form_config(STEEP, max_norm="2", norm_type=" 3.5")
    assert config["clip_grad_norm"] == {"max_norm": 2.0, "norm_type": 3.5}


@pytest.mark.parametrize("field,text,message", [
    ("max_norm", "-1", "got -1"), ("max_norm", "abc", "got abc"),
    ("norm_type", "0.5", "got 0.5")])
def test_a_bad_clipping_value_is_a_message_beside_its_box(field, text, message):
    typed = {"max_norm": "1", field: text}
    config, errors = form_config(STEEP, **typed)
    key = MAX if field == "max_norm" else NORM
    assert config is None and message in errors[key]


def test_a_clipped_config_fills_the_form_and_comes_back_the_same():
    clipped = {**STEEP, "clip_grad_norm": {"max_norm": 0.5, "norm_type": "inf"}}
    _, values, _ = form.form_from_config(clipped)
    assert values[MAX] == 0.5 and values[NORM] == "inf"
    config, errors = form_config(clipped)
    assert errors == {} and playground.resolve(config) == playground.resolve(clipped)


def test_the_page_runs_the_clipped_config_when_the_box_is_filled():
    out = update(MAX, STEEP, **{MAX: "1"})
    assert "clip_grad_norm=on" in out["query"] and "clip_grad_norm.max_norm=1" in out["query"]


def test_the_step_inspector_shows_the_clipped_norm_beside_the_raw_one():
    clipped = {**STEEP, "clip_grad_norm": {"max_norm": 1.0}}
    views = runs(clipped, [STEEP])
    table = inspector(views, 0)[1]
    head = [th.children for th in table.children[0].children.children]
    assert head[4:6] == ["gradient norm", "after clipping"]
    want = playground.simulate(clipped)
    row = table.children[1].children[0].children
    raw, after = row[4].children, row[5].children
    assert float(raw) == pytest.approx(float(want["grad_norm"][0]), rel=1e-2)
    assert float(after) == pytest.approx(1.0, rel=1e-3) and float(after) < float(raw)
    plain = inspector(runs(STEEP, []), 0)[1]
    assert "after clipping" not in [th.children for th in plain.children[0].children.children]


def test_the_accumulation_pitfall_runs_the_schedule_k_times_too_fast():
    query = playground.page_path({**STEEP, "schedule": {"name": "StepLR", "step_size": 50}})
    out = call(show_pitfall, '{"kind":"accumulate","type":"pitfall"}', clicks=[None, None, 1],
               resume_at="50", epoch_steps="10", accumulate="4", query=query)
    graph, text = out
    lr_bug = np.asarray(graph.figure.data[2].y, dtype=float)
    lr_ok = np.asarray(graph.figure.data[0].y, dtype=float)
    # StepLR(50) stepped 4 times per optimizer step: its first drop at step 12, not 50
    assert lr_ok[49] == lr_ok[0] and lr_ok[50] < lr_ok[0]
    assert lr_bug[12] < lr_bug[0] == lr_ok[0] and lr_bug[11] == lr_bug[0]
    assert "4 times too fast" in text.children
    bad = call(show_pitfall, '{"kind":"accumulate","type":"pitfall"}', clicks=[None, None, 2],
               resume_at="50", epoch_steps="10", accumulate="two", query=query)
    assert isinstance(bad, html.P) and "whole number" in bad.children


def test_the_sensitivity_panel_sweeps_each_run_and_a_click_sets_the_lr():
    from playground.web.sensitivity import update_sensitivity, use_clicked_lr
    bowl = {"problem": {"name": "quadratic_bowl"}, "steps": 100,
            "optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"name": "constant"}}
    pin = {**bowl, "schedule": {"name": "CosineAnnealingLR"}}
    graph = update_sensitivity(playground.page_path(bowl), "final", [pin], "light", "0.001")
    names = [tr.name for tr in graph.figure.data]
    assert len(names) == 2  # the pinned run first, the current one drawn on top
    current = graph.figure.data[-1]
    k = int(np.argmin(np.abs(np.asarray(current.x) - 1.0)))
    want = playground.simulate({**bowl, "optimizer": {"name": "sgd", "lr": float(current.x[k])}})
    assert current.y[k] == pytest.approx(float(want["loss"][-1]), rel=1e-5)
    assert use_clicked_lr({"points": [{"x": 0.0123456}]}) == 0.0123
    assert use_clicked_lr({"points": [{"x": "nan"}]}) is dash.no_update
    assert use_clicked_lr(None) is dash.no_update
