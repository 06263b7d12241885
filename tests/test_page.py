"""The page's callbacks called directly (Dash callbacks are plain functions): what they
send back for each kind of change, including the Patch contents."""
import base64
import json
from contextvars import copy_context

import dash
import numpy as np
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import app  # noqa: F401  (registers the callbacks)
import playground
from playground import lessons
from playground.config import from_query, page_path, validate
from playground.web import figures as fig
from playground.web import form, page
from playground.web.sliders import PARAM_SLIDERS

OUT = ["lr_fig", "loss_fig", "path_fig", "errors", "lr", "lr_slider", "lr_slider_class",
       "steps", "steps_slider", "start_x", "start_y", "surface_key", "query", "summary", "status", "legend",
       "problem_params", "optimizer_params", "schedule_params", "lesson_marks", "formula",
       "param_boxes", "param_sliders"]


PARAM_KEYS = {f.key for f in form.FIELDS if f.key not in page.STABLE_IDS}


def on_page(choice: dict) -> list[str]:
    """The parameter controls on the page for a choice: the chosen entries', warmup's and
    clipping's."""
    return [f.key for f in form.FIELDS if f.key in PARAM_KEYS
            and (f.section in ("warmup", "clip_grad_norm")
                 or f.entry == choice.get(f.section))]


def call(fn, trigger, inputs_list=None, **kwargs):
    """Call a callback as Dash does; a parameter control's key as ``trigger`` means its
    pattern-matching id (``{"type": "param", "key": ...}``)."""
    if trigger in PARAM_KEYS:
        trigger = json.dumps({"key": trigger, "type": "param"}, separators=(",", ":"))

    def run():
        context_value.set(AttributeDict(
            triggered_inputs=[{"prop_id": f"{trigger}.value", "value": None}],
            inputs_list=inputs_list or []))
        return fn(**kwargs)
    return copy_context().run(run)


def update(trigger, config=None, pins=(), surface_key="same", shown=None, sliders=None,
           placeholders=None, **controls):
    """Call the page's main callback as the browser would for the config's controls
    (``shown``: the choice whose controls are on the page, if not the config's own, as
    just after a picker changed; ``sliders``: the parameter sliders on the page and their
    values, by key; ``placeholders``: the boxes' placeholders, by key)."""
    choice, values, warmup_on = form.form_from_config(config or form.DEFAULT_CONFIG)
    keys = on_page(shown or choice)
    args = dict(problem=choice["problem"], optimizer=choice["optimizer"],
                schedule=choice["schedule"], warmup_on=["on"] if warmup_on else [],
                lr=values["run.run.lr"], lr_slider=-1.0, steps=values["run.run.steps"],
                steps_slider=None,
                start_x=values["run.run.start_x"], start_y=values["run.run.start_y"],
                param_values=[values[k] for k in keys], param_sliders=[], click=None,
                pins=list(pins),
                theme="light", lr_log=[], threshold=1e-3, path_3d=[], surface_key=surface_key,
                lesson_marks=False)
    overrides = {k: v for k, v in controls.items() if k in args}
    args.update(overrides)
    for key, value in controls.items():
        if key not in args:  # a parameter control, by its key
            args["param_values"][keys.index(key)] = value
    if surface_key == "same":
        run = playground.resolve(config or form.DEFAULT_CONFIG)
        args["surface_key"] = page._surface_key(run)
    inputs_list = [None] * len(page.FORM_INPUTS)
    inputs_list[page.FORM_INPUTS.index(page.PARAM_VALUES)] = [
        {"id": {"type": "param", "key": k}, "property": "value", "value": v}
        for k, v in zip(keys, args["param_values"])]
    sliders = sliders or {}
    inputs_list[page.FORM_INPUTS.index(PARAM_SLIDERS)] = [
        {"id": {"type": "param-slider", "key": k}, "property": "value", "value": v}
        for k, v in sliders.items()]
    args["param_sliders"] = list(sliders.values())
    args["placeholders"] = [(placeholders or {}).get(k) for k in keys]
    return dict(zip(OUT, call(page.update, trigger, inputs_list, **args)))


def slider_trigger(key: str) -> str:
    return json.dumps({"key": key, "type": "param-slider"}, separators=(",", ":"))


def operations(patch):
    return {tuple(op["location"]): op["params"]["value"]
            for op in patch.to_plotly_json()["operations"] if op["operation"] == "Assign"}


def decode(value):
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def test_a_control_change_patches_only_the_current_run():
    config = {**form.DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": 0.07}}
    out = update("lr", config)
    want = playground.simulate(config)
    lr_ops = operations(out["lr_fig"])
    np.testing.assert_allclose(decode(lr_ops[("data", 0)]["y"]), want["lr"], rtol=1e-6)
    assert not any(loc[:2] == ("data", 3) and len(loc) == 2 for loc in lr_ops)  # pins untouched
    loss_ops = operations(out["loss_fig"])
    np.testing.assert_allclose(decode(loss_ops[("data", 0)]["y"]), want["loss"], rtol=1e-5)
    path_ops = operations(out["path_fig"])
    np.testing.assert_allclose(decode(path_ops[("data", 2)]["x"]), want["path"][:, 0],
                               rtol=1e-5, atol=1e-7)
    assert ("data", 0) not in path_ops  # the contour is not resent
    assert out["errors"] == {}
    assert playground.resolve(from_query(out["query"].split("?", 1)[1])[0]) == \
        playground.resolve(config)


def test_a_surface_change_resends_the_contour_and_window():
    config = {**form.DEFAULT_CONFIG, "problem": {"name": "elongated_valley"},
              "start": [-2.5, 1.0]}
    out = update("problem", config, surface_key="rosenbrock")
    path_ops = operations(out["path_fig"])
    assert path_ops[("data", 0)]["type"] == "heatmap"  # the new hover/click grid
    image, = path_ops[("layout", "images")]
    assert image["source"] == fig.surface_image(playground.resolve(config))["source"]
    assert (image["x"], image["sizex"]) == (-3.0, 6.0)
    assert list(path_ops[("layout", "xaxis", "range")]) == [-3.0, 3.0]
    assert list(path_ops[("layout", "yaxis", "range")]) == [-1.5, 1.5]
    # a new surface brings its preset lr and its own start point
    assert out["lr"] == form.LR_PRESETS[("elongated_valley", "adam")]
    assert (out["start_x"], out["start_y"]) == playground.SURFACES["elongated_valley"].start


def _control_keys(component) -> list[str]:
    """The parameter keys of the controls in a rendered group."""
    return [c.id["key"] for c in _find(component, lambda c: isinstance(
        getattr(c, "id", None), dict) and c.id.get("type") == "param")]


def test_a_new_schedule_brings_its_own_controls_at_their_defaults():
    """The browser still sends the old schedule's controls; the run uses the new one's
    defaults and the page gets exactly the new schedule's controls."""
    old = {**form.DEFAULT_CONFIG, "schedule": {"name": "CosineAnnealingLR", "eta_min": 0.01}}
    new = {**old, "schedule": {"name": "StepLR"}}
    shown = form.form_from_config(old)[0]
    out = update("schedule", new, shown=shown)
    assert out["errors"] == {}
    step = playground.SCHEDULES["StepLR"]
    assert _control_keys(out["schedule_params"]) == [
        f"schedule.StepLR.{p.name}" for p in step.params]
    assert out["problem_params"] is dash.no_update and out["optimizer_params"] is dash.no_update
    lr = operations(out["lr_fig"])[("data", 0)]["y"]
    np.testing.assert_allclose(decode(lr), playground.simulate(new)["lr"], rtol=1e-6)
    # an lr change leaves the controls alone
    assert update("lr", new)["schedule_params"] is dash.no_update


def test_a_bad_value_keeps_the_plots_and_says_what_is_allowed():
    config = {**form.DEFAULT_CONFIG, "schedule": {"name": "MultiStepLR"}}
    out = update("schedule.MultiStepLR.milestones", config,
                 **{"schedule.MultiStepLR.milestones": "30, x"})
    assert out["lr_fig"] is dash.no_update and out["path_fig"] is dash.no_update
    assert list(out["errors"]) == ["schedule.MultiStepLR.milestones"]
    assert "integers" in out["errors"]["schedule.MultiStepLR.milestones"]


@pytest.mark.parametrize("lr, message", [(None, "Required"), (-1.0, ">= 0")])
def test_an_empty_or_negative_lr_is_marked(lr, message):
    out = update("lr", lr=lr)
    assert message in out["errors"]["run.run.lr"]
    assert out["loss_fig"] is dash.no_update


def test_the_lr_slider_sets_the_lr_on_a_log_scale():
    out = update("lr-slider", lr_slider=-2.0)
    assert out["lr"] == 0.01
    ops = operations(out["lr_fig"])
    want = playground.simulate({**form.DEFAULT_CONFIG,
                                "optimizer": {"name": "adam", "lr": 0.01}})["lr"]
    np.testing.assert_allclose(decode(ops[("data", 0)]["y"]), want, rtol=1e-6)


SGD = {**form.DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 0.001, "momentum": 0.5}}
MOMENTUM = "optimizer.sgd.momentum"


def test_a_released_parameter_slider_writes_its_box_and_runs_the_run_in_one_call():
    out = update(slider_trigger(MOMENTUM), SGD, sliders={MOMENTUM: 0.87})
    keys = on_page(form.form_from_config(SGD)[0])
    assert out["param_boxes"][keys.index(MOMENTUM)] == "0.87"
    assert [b for b in out["param_boxes"] if b is not dash.no_update] == ["0.87"]
    assert out["param_sliders"] == [dash.no_update]  # the slider stands where it was let go
    want = playground.simulate({**SGD, "optimizer": {**SGD["optimizer"], "momentum": 0.87}})
    np.testing.assert_allclose(decode(operations(out["path_fig"])[("data", 2)]["x"]),
                               want["path"][:, 0], rtol=1e-6)
    assert "optimizer.momentum=0.87" in out["query"]


def test_the_beta1_slider_writes_its_element_of_the_pair_and_keeps_the_other():
    betas = "optimizer.adam.betas"
    out = update(slider_trigger(betas), sliders={betas: 0.5}, **{betas: "0.9, 0.95"})
    keys = on_page(form.form_from_config(form.DEFAULT_CONFIG)[0])
    assert out["param_boxes"][keys.index(betas)] == "0.5, 0.95"
    assert "optimizer.betas=0.5,0.95" in out["query"]


def test_a_slider_the_run_moved_to_its_own_value_leaves_its_empty_box_and_the_plots():
    """sliders.follow_run puts an empty T_max box's slider at the run's own T_max: that
    is no release, and no run is drawn again."""
    t_max = "schedule.CosineAnnealingLR.T_max"
    with pytest.raises(dash.exceptions.PreventUpdate):
        update(slider_trigger(t_max), sliders={t_max: 450}, placeholders={t_max: "auto: 450"},
               **{t_max: ""})
    out = update(slider_trigger(t_max), sliders={t_max: 200},
                 placeholders={t_max: "auto: 450"}, **{t_max: ""})
    keys = on_page(form.form_from_config(form.DEFAULT_CONFIG)[0])
    assert out["param_boxes"][keys.index(t_max)] == "200"


@pytest.mark.parametrize("value", ["x", None, True, float("nan"), [1]])
def test_a_slider_value_that_is_no_number_changes_nothing(value):
    with pytest.raises(dash.exceptions.PreventUpdate):
        update(slider_trigger(MOMENTUM), SGD, sliders={MOMENTUM: value})


@pytest.mark.parametrize("kind", ["param", "param-slider"])
def test_a_forged_key_that_names_no_control_changes_no_slider_and_no_box(kind):
    trigger = json.dumps({"key": [1], "type": kind}, separators=(",", ":"))
    try:
        out = update(trigger, SGD, sliders={MOMENTUM: 0.5})
    except dash.exceptions.PreventUpdate:
        return
    assert out["param_sliders"] == [dash.no_update]
    assert all(b is dash.no_update for b in out["param_boxes"])


def test_a_typed_box_moves_its_slider_to_its_number_clamped_to_the_slider():
    for typed, at in (("0.3", 0.3), ("0.995", 0.99)):
        out = update(MOMENTUM, SGD, sliders={MOMENTUM: 0.5}, **{MOMENTUM: typed})
        assert out["param_sliders"] == [at]
        assert all(b is dash.no_update for b in out["param_boxes"])
    out = update(MOMENTUM, SGD, sliders={MOMENTUM: 0.5}, **{MOMENTUM: "lots"})
    assert out["param_sliders"] == [dash.no_update] and MOMENTUM in out["errors"]
    # another box being wrong keeps no slider from its box
    out = update(MOMENTUM, SGD, sliders={MOMENTUM: 0.5}, lr="x", **{MOMENTUM: "0.2"})
    assert out["param_sliders"] == [0.2] and "run.run.lr" in out["errors"]


def test_clicking_the_map_starts_the_run_there():
    out = update("path-graph", click={"points": [{"x": 0.51234, "y": -0.25}]})
    assert (out["start_x"], out["start_y"]) == (0.512, -0.25)
    ops = operations(out["path_fig"])
    assert decode(ops[("data", 2)]["x"])[0] == pytest.approx(0.512)


def test_pinned_runs_redraw_whole_figures_with_labels_saying_what_differs():
    pins = [validate({**form.DEFAULT_CONFIG, "schedule": {"name": "StepLR"}})]
    out = update("pins", pins=pins)
    lr_fig = out["lr_fig"]
    names = [lr_fig.data[0].name, lr_fig.data[3].name]
    assert names == ["Cosine annealing", "Step decay"]
    assert len(lr_fig.data[3].y) == 500
    assert "p1.schedule=StepLR" in out["query"]


def test_pins_are_added_removed_and_cleared():
    query = playground.page_path(form.DEFAULT_CONFIG)
    pins = []
    for _ in range(8):
        pins = call(page.update_pins, "pin", None, _pin=1, _clear=None, unpins=[None] * len(pins),
                    pins=pins, query=query)
    assert len(pins) == page.MAX_PINS  # the oldest are dropped
    removed = copy_context().run(lambda: (context_value.set(AttributeDict(triggered_inputs=[
        {"prop_id": '{"index":0,"type":"unpin"}.n_clicks', "value": 1}])),
        page.update_pins(1, None, [1] + [None] * 5, pins, query))[1])
    assert len(removed) == page.MAX_PINS - 1
    assert call(page.update_pins, "clear-pins", None, _pin=None, _clear=1, unpins=[], pins=pins,
                query=query) == []


def test_a_link_rebuilds_the_page_and_a_broken_one_shows_a_note():
    config = {**form.DEFAULT_CONFIG, "optimizer": {"name": "sgd", "lr": 0.001,
                                                   "momentum": 0.9}}
    query = dict(pair.split("=") for pair in
                 playground.page_path(config).split("?", 1)[1].split("&"))
    html = str(page.layout(**query))
    assert "could not be opened" not in html and "'sgd'" in html
    broken = str(page.layout(**{"optimizer.lr": "fast", "optimizer": "adam"}))
    assert "could not be opened" in broken and "optimizer.lr" in broken


# --- Lessons and the tools around the plots ------------------------------------------------

def _find(component, predicate):
    """Every component under ``component`` for which ``predicate`` holds."""
    out = []

    def walk(c):
        if predicate(c):
            out.append(c)
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)
    walk(component)
    return out


def _by_id(component, cid):
    found = _find(component, lambda c: getattr(c, "id", None) == cid)
    assert len(found) == 1, cid
    return found[0]


def _lesson_query(name):
    return dict(kv.split("=", 1) for kv in
                lessons.lesson_path(lessons.LESSONS[name]).split("?", 1)[1].split("&"))


def test_a_lesson_link_opens_its_runs_with_explanation_labels_and_marks():
    lesson = lessons.LESSONS["step-decay"]
    root = page.layout(**_lesson_query("step-decay"))
    panel = _by_id(root, "lesson-panel")
    assert lesson.title in str(panel.to_plotly_json())
    assert lesson.reference.url in str(panel.to_plotly_json())
    assert _by_id(root, "lesson-marks").data == "step-decay"
    loss = _by_id(root, "loss-graph").figure
    results = [playground.simulate(c) for c in lesson.runs]
    for slot, result in enumerate(results):
        trace = loss.data[fig.slot_indices("loss", slot)[0]]
        assert trace.name == lesson.labels[slot]
        np.testing.assert_allclose(trace.y, result["loss"], rtol=1e-5)  # pins: batched
    # each lr drop of the step-decay run is a dotted line on the loss plot
    drops = lessons.lr_drops(results[0])
    assert drops and sorted(sh.x0 for sh in loss.layout.shapes
                            if sh.line.dash == "dot") == sorted(drops)
    assert loss.data[-1].name == "cursor"


def test_a_link_naming_only_a_lesson_opens_the_lessons_runs():
    """``?lesson=<name>`` (short enough to write on a board) is the lesson's own link."""
    lesson = lessons.LESSONS["step-decay"]
    short, full = page.layout(lesson="step-decay"), page.layout(**_lesson_query("step-decay"))
    assert _by_id(short, "lesson-marks").data == "step-decay"
    assert _by_id(short, "page-query").data == _by_id(full, "page-query").data == \
        page_path(lesson.config, list(lesson.pins))
    assert _by_id(short, "loss-graph").figure == _by_id(full, "loss-graph").figure
    assert not _by_id(short, "note").children


def test_an_edited_lesson_link_keeps_the_explanation_but_draws_no_marks():
    query = {**_lesson_query("step-decay"), "optimizer.lr": "0.123"}
    root = page.layout(**query)
    assert _by_id(root, "lesson-marks").data is False
    assert not _by_id(root, "loss-graph").figure.layout.shapes
    assert _find(root, lambda c: getattr(c, "id", None) == "lesson-panel")
    # an unknown lesson is no error: the runs open, no panel
    root = page.layout(**{**_lesson_query("sgdr"), "lesson": "nonsense"})
    assert not _find(root, lambda c: getattr(c, "id", None) == "lesson-panel")
    assert "could not be opened" not in str(_by_id(root, "note").children)


def test_the_first_change_after_a_lesson_redraws_without_its_marks():
    config = {**form.DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": 0.07}}
    out = update("lr", config, lesson_marks="step-decay")
    assert out["lesson_marks"] is False
    loss = out["loss_fig"]
    assert not isinstance(loss, dash.Patch) and not loss.layout.shapes
    assert update("lr", config)["lesson_marks"] is dash.no_update


def test_a_new_theme_redraws_a_lesson_with_its_marks_in_the_new_colours():
    """Switching to the dark theme (a lecturer before projecting) changes no run: the
    lesson's marks, labels and checkboxes stay, drawn in the dark theme's colours."""
    lesson = lessons.LESSONS["step-decay"]
    light = _by_id(page.layout(**_lesson_query("step-decay")), "loss-graph").figure
    out = update("theme", lesson.config, pins=list(lesson.pins), theme="dark",
                 lesson_marks="step-decay")
    assert out["lesson_marks"] is dash.no_update  # still drawn
    loss = out["loss_fig"]
    assert not isinstance(loss, dash.Patch)
    drops = lessons.lr_drops(playground.simulate(lesson.runs[0]))
    assert sorted(sh.x0 for sh in loss.layout.shapes if sh.line.dash == "dot") == \
        sorted(drops)
    assert [loss.data[fig.slot_indices("loss", s)[0]].name for s in range(len(lesson.runs))] \
        == list(lesson.labels)
    assert loss.layout.paper_bgcolor != light.layout.paper_bgcolor
    assert [a.text for a in loss.layout.annotations] == \
        [a.text for a in light.layout.annotations]
    # a change of a run still drops them
    assert update("lr", lesson.config, pins=list(lesson.pins), lr=0.123,
                  lesson_marks="step-decay")["lesson_marks"] is False


def test_the_formula_panel_follows_the_run():
    """The formula comes with the plots (one request per change), with the run's numbers;
    a form the page cannot run leaves the last one."""
    config = {**form.DEFAULT_CONFIG, "schedule": {"name": "StepLR", "step_size": 37},
              "optimizer": {"name": "adam", "lr": 0.0125}}
    text = update("lr", config)["formula"]
    assert "Step" in text["title"] and "$$" in text["latex"] and "37" in text["latex"]
    assert "0.0125" in text["latex"] and text["when"]
    assert update("lr", config, lr="-1")["formula"] is dash.no_update


@pytest.mark.parametrize("kind", ["csv", "json", "pytorch", "optax"])
def test_exports_carry_the_runs_on_the_page(kind):
    current = {**form.DEFAULT_CONFIG, "steps": 40, "warmup": {"steps": 5}}
    pin = {**current, "optimizer": {"name": "sgd", "lr": 0.001}}
    out = page.export_file(kind, current, [pin])
    assert out["filename"].endswith({"csv": ".csv", "json": ".json"}.get(kind, ".py"))
    text = out["content"]
    if kind == "csv":
        lines = text.strip().splitlines()
        assert len(lines) == 1 + 2 * 41  # a header, then every path point of both runs
    elif kind == "json":
        runs = json.loads(text)
        runs = runs["runs"] if isinstance(runs, dict) else runs
        assert len(runs) == 2
    else:
        compile(text, out["filename"], "exec")  # a script, not a stub
        assert ("torch.optim" if kind == "pytorch" else "optax") in text


def test_an_export_click_downloads_the_file():
    query = update("lr", {**form.DEFAULT_CONFIG, "steps": 60})["query"]

    def run():
        context_value.set(AttributeDict(
            triggered_inputs=[{"prop_id": '{"kind":"csv","type":"export"}.n_clicks',
                               "value": 1}], inputs_list=[]))
        return page.download([1, None, None, None], query, [])
    out = copy_context().run(run)
    assert out["filename"] == "playground_runs.csv"
    assert len(out["content"].strip().splitlines()) == 1 + 61


# --- The tools under the plots -------------------------------------------------------------

def _cells(table_children):
    """The step inspector's rows as lists of cell texts (the run label last in its cell)."""
    _, table = table_children
    rows = table.children[1].children
    return [[c.children[-1] if isinstance(c.children, list) else c.children
             for c in row.children] for row in rows]


def test_the_step_inspector_reads_every_run_at_the_chosen_step():
    current = {"problem": {"name": "quadratic_bowl"}, "steps": 100,
               "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}}
    pinned = {**current, "steps": 40, "optimizer": {"name": "adam", "lr": 0.05}}
    query = playground.page_path(current, [pinned])
    table, _, n = call(page.update_inspector, "inspect-step", t=57, _opened=None,
                       query=query, pins=[pinned])
    assert n == 100  # the slider reaches the longest run's last point
    rows = _cells(table)
    want = playground.simulate(current)
    # torch's SGD: the step from p_57 uses lr 0.1 and momentum 0.9
    assert rows[0][1:3] == [fig.fmt(0.1), fig.fmt(0.9)]
    assert rows[0][3] == fig.fmt(float(want["loss"][57]))
    x, y = want["path"][57]
    assert rows[0][5] == f"({fig.fmt(float(x))}, {fig.fmt(float(y))})"
    assert rows[1][1:] == ["—"] * 5  # the pinned run has only 40 steps


def test_the_stability_limit_is_drawn_where_it_applies():
    valley = {"problem": {"name": "elongated_valley", "condition": 20.0},
              "start": [-2.5, 1.0], "steps": 60,
              "optimizer": {"name": "sgd", "lr": 0.105},
              "schedule": {"name": "StepLR", "step_size": 20, "gamma": 0.5}}
    out = update("lr", valley, lr_log=["stability"])
    shapes = operations(out["lr_fig"])[("layout", "shapes")]
    line, *bands = shapes
    assert line["y0"] == pytest.approx(2 / 20.0)  # 2 / lambda_max
    # lr 0.105 for steps 0-19 is above 0.1; 0.0525 after the first drop is below
    assert [(b["x0"], b["x1"]) for b in bands] == [(-0.5, 19.5)]
    # ticking the box redraws the whole figure, with the same guide
    toggled = update("lr-log", valley, lr_log=["stability"])["lr_fig"]
    assert [s.y0 for s in toggled.layout.shapes if s.type == "line"] == [line["y0"]]
    adam = {**valley, "optimizer": {"name": "adam", "lr": 0.105}}
    assert operations(update("lr", adam, lr_log=["stability"])["lr_fig"])[
        ("layout", "shapes")] == []
    assert operations(update("lr", valley, lr_log=[])["lr_fig"])[
        ("layout", "shapes")] == []


def test_the_range_test_suggests_an_lr_that_the_page_then_uses():
    config = {"problem": {"name": "elongated_valley"}, "start": [-2.5, 1.0],
              "optimizer": {"name": "sgd", "lr": 0.01}}
    graph, buttons = call(page.run_range_test, "range-run", _clicks=1,
                          query=playground.page_path(config))
    assert graph.figure.layout.xaxis.type == "log"
    suggested = buttons.children[0].id["lr"]
    # SGD on this valley (condition 25) diverges above lr 2/25: the suggestion is below
    assert 0.005 < suggested < 2 / 25
    chosen = call(page.use_lr, json.dumps(buttons.children[0].id, separators=(",", ":"),
                                          sort_keys=True), clicks=[1])
    assert chosen == float(f"{suggested:.3g}")
    run = playground.simulate({**config, "optimizer": {"name": "sgd", "lr": chosen}})
    assert run["diverged_at"] is None and run["loss"][-1] < 1e-6


def test_adams_effective_step_can_be_shown_beside_the_lr_on_any_run():
    config = {"problem": {"name": "rosenbrock"}, "steps": 200,
              "optimizer": {"name": "adam", "lr": 0.01}}
    out = update("lr-log", config, lr_log=["effective"])
    lr_fig = out["lr_fig"]  # a whole figure: the series sits before the cursor
    series = [tr for tr in lr_fig.data if tr.name == "effective step |dp|/|g|"]
    assert len(series) == 1 and lr_fig.data[-1].name == "cursor"
    run = playground.simulate(config)
    # Adam's first step moves each coordinate by about lr: |dp| ~ lr * sqrt(2), far more
    # per unit of gradient than the nominal lr when the gradient is large
    dp = np.linalg.norm(run["path"][1] - run["path"][0])
    assert series[0].y[0] == pytest.approx(dp / run["grad_norm"][0], rel=1e-4)
    assert series[0].y[0] != pytest.approx(0.01, rel=0.1)
    plain = update("lr", config, lr_log=[])["lr_fig"]
    assert isinstance(plain, dash.Patch)  # without the option changes stay patches


def test_the_3d_view_draws_the_surface_and_every_runs_path_on_it_and_goes_back_to_the_map():
    config = {**form.DEFAULT_CONFIG, "steps": 200}
    pin = {**config, "optimizer": {"name": "adam", "lr": 0.05}}
    out = update("path-3d", config, pins=[pin], path_3d=["3d"])
    fig = out["path_fig"]
    kinds = [tr.type for tr in fig.data]
    assert kinds[0] == "surface" and kinds.count("surface") == 1
    lines = [tr for tr in fig.data if tr.type == "scatter3d" and tr.mode == "lines"]
    assert len(lines) == 2  # the pinned run, then the current one on top
    want = playground.simulate(config)
    np.testing.assert_allclose(lines[-1].x, want["path"][:, 0], rtol=1e-6)
    # the paths lie on the surface: their height is the surface's at the same point
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    xs, ys = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    i, j = np.abs(xs - lines[-1].x[0]).argmin(), np.abs(ys - lines[-1].y[0]).argmin()
    assert abs(lines[-1].z[0] - z[j, i]) < 0.1 * (z.max() - z.min())
    back = update("path-3d", config, pins=[pin], path_3d=[])
    assert [tr.type for tr in back["path_fig"].data][:2] == ["heatmap", "scatter"]


def test_the_surface_picker_lists_every_surface_once_under_its_group():
    from playground.surfaces import GROUPS, SURFACES
    from playground.web.controls import picker_options
    options = picker_options("problem")
    headings = [o for o in options if o.get("disabled")]
    assert [h["label"].children for h in headings] == \
        [g.capitalize() for g in GROUPS] + ["Your own"]
    names = [o["value"] for o in options if not o.get("disabled")]
    assert sorted(names) == sorted(SURFACES)
    group = None
    for o in options:  # each surface under its own group's heading
        if o.get("disabled"):
            group = o["value"].split(": ")[1]
        else:
            assert SURFACES[o["value"]].group == group


def test_every_menu_option_is_short_so_the_page_loads_without_indexing_for_seconds():
    """dcc.Dropdown indexes every substring of each option's value (and text label) for its
    search when the page loads, searchable or not: a lesson's ~300-character link as a
    value cost every page load ~2 s in Chromium. Every menu on the page, a lesson's
    included, keeps its options' values and labels short; the lesson menu opens a lesson
    by its name."""
    pages = [page.layout(), page.layout(**_lesson_query("lr-dilemma")),
             page.layout(**{"problem": "formula", "problem.f": "x^2 + 3*y^2"})]
    menus = [m for root in pages for m in _find(root, lambda c: isinstance(c, dash.dcc.Dropdown))]
    assert {m.id for m in menus} >= {"lesson-menu", "problem", "optimizer", "schedule",
                                     "formula-example"}
    for menu in menus:
        for option in menu.options:
            for key in ("value", "label"):
                text = option[key]
                if isinstance(text, str):
                    assert len(text) <= 80, (menu.id, key, text)
    names = {o["value"] for o in _by_id(pages[0], "lesson-menu").options}
    assert names == set(lessons.LESSONS)


def test_a_page_asked_for_again_is_the_same_page_and_each_link_gets_its_own():
    """The server keeps the last pages it built (a hall opens the same link): a page asked
    for again is the one built first, whatever the order of the query's keys, and a kept
    page never stands in for another link's."""
    from dash._utils import to_json

    a = {"optimizer": "sgd", "optimizer.lr": "0.05", "steps": "120"}
    b = {**a, "optimizer.lr": "0.2"}
    first = to_json(page.layout(**a))
    other = to_json(page.layout(**b))
    again = page.layout(**dict(reversed(list(a.items()))))
    assert to_json(again) == first != other
    assert "optimizer.lr=0.05" in _by_id(again, "page-query").data
    assert "optimizer.lr=0.2" in _by_id(page.layout(**b), "page-query").data
    assert page.layout(**a) is again
