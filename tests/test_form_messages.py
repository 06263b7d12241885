"""The messages beside the controls agree with what the controls show.

Through the functions the page's main callback calls (``controls.read_form``, which calls
``form.config_from_form`` and the message builders) and the components the controls are
drawn with: a required box has no "auto" placeholder beside "Required"; a number is quoted
as it was typed ("got -1", "got 1e9"); an lr past the slider's ends is used by the run and
the box says so, while the slider stops at its end, marked; no label repeats its unit.
"""
import math

import pytest
from hypothesis import given, strategies as st

import playground
from playground.params import ConfigError
from playground.web import form
from playground.web.controls import STABLE_IDS, field_block, read_form
from playground.web.form import BY_KEY, FIELDS, LR_SLIDER


def read(trigger="lr", config=None, **controls):
    """The form after a change on the page showing ``config`` (the opening page by
    default); ``controls``: what the boxes hold now, by key (``lr``, ``steps`` or a
    parameter control's key)."""
    choice, values, warmup_on = form.form_from_config(config or form.DEFAULT_CONFIG)
    params = {f.key: values[f.key] for f in FIELDS if f.key not in STABLE_IDS
              and (f.section == "warmup" or f.entry == choice.get(f.section))}
    boxes = {"lr": values["run.run.lr"], "steps": values["run.run.steps"]}
    for key, value in controls.items():
        if key in boxes:
            boxes[key] = value
        else:
            params[key] = value
    return read_form(trigger, choice, ["on"] if warmup_on else [], boxes["lr"], None,
                     boxes["steps"], values["run.run.start_x"], values["run.run.start_y"],
                     params, None)


def component(block, kind):
    """The first component of type ``kind`` (e.g. ``Input``, ``Label``) in a block."""
    stack = [block]
    while stack:
        c = stack.pop(0)
        if type(c).__name__ == kind:
            return c
        children = getattr(c, "children", None)
        stack += [x for x in (children if isinstance(children, list) else [children])
                  if hasattr(x, "to_plotly_json")]
    return None


# --- Placeholders ---------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["abc", "", None])
def test_a_required_box_shows_no_auto_placeholder_beside_its_message(typed):
    out = read(lr=typed)
    assert out.config is None
    message = out.errors["run.run.lr"]
    assert "number" in message and ">= 0" in message
    if typed:
        assert "(got abc)" in message  # what the box shows, not "Required"
    else:
        assert message.startswith("Required")
    box = component(field_block(BY_KEY["run.run.lr"], typed, form.DEFAULT_CONFIG), "Input")
    assert box.placeholder == ""


def test_only_fields_that_follow_the_run_say_auto():
    config = {**form.DEFAULT_CONFIG, "schedule": {"name": "OneCycleLR"}}
    for field in FIELDS:
        shown = form.placeholder(field, config)
        if "auto" in shown:
            assert field.param.follows_run, field.key
        if not field.param.follows_run:
            assert shown == "", field.key


def test_a_derived_placeholder_says_the_value_the_run_uses():
    field = BY_KEY["schedule.CosineAnnealingLR.T_max"]
    assert form.placeholder(field, form.DEFAULT_CONFIG) == "auto: 450"  # 500 - 50 warmup
    assert playground.resolve(form.DEFAULT_CONFIG)["schedule"]["T_max"] == 450


# --- Numbers as typed -------------------------------------------------------------------------

@pytest.mark.parametrize("key, typed, quoted", [
    ("lr", "-1", "got -1)"), ("lr", "-1.50", "got -1.50)"), ("lr", "-2e-3", "got -2e-3)"),
    ("steps", "0", "got 0)"), ("steps", "2.5", "got 2.5)"), ("steps", "20000", "got 20000)"),
    ("steps", "ten", "got ten)"),
    ("schedule.CosineAnnealingLR.eta_min", "-0.10", "got -0.10)"),
])
def test_a_refused_number_is_quoted_as_typed(key, typed, quoted):
    out = read(**{key: typed})
    key = {"lr": "run.run.lr", "steps": "run.run.steps"}.get(key, key)
    assert out.config is None
    assert list(out.errors) == [key]
    assert out.errors[key].endswith(quoted + "."), out.errors[key]


def test_the_api_quotes_a_number_as_given():
    for lr, quoted in ((-1, "(got -1)"), (-1.0, "(got -1.0)"), (-0.5, "(got -0.5)")):
        with pytest.raises(ConfigError) as e:
            playground.resolve({"optimizer": {"name": "adam", "lr": lr}})
        assert str(e.value) == f"optimizer.lr: must be a number >= 0 {quoted}"


@pytest.mark.parametrize("typed, value", [("1e3", 1000), (" 300 ", 300), ("3e2", 300)])
def test_numbers_typed_in_any_notation_are_taken(typed, value):
    out = read("steps", steps=typed)
    assert out.errors == {}
    assert out.config["steps"] == value


# --- The lr slider's ends ---------------------------------------------------------------------

@pytest.mark.parametrize("typed, value, end, note", [
    ("1e9", 1e9, LR_SLIDER[1], "1e9 is past the slider's end (10); the run uses 1e9."),
    ("50", 50, LR_SLIDER[1], "50 is past the slider's end (10); the run uses 50."),
    ("1e-7", 1e-7, LR_SLIDER[0],
     "1e-7 is below the slider's start (1e-5); the run uses 1e-7."),
    ("0", 0, LR_SLIDER[0], "0 is below the slider's start (1e-5); the run uses 0."),
])
def test_an_lr_past_the_slider_is_used_and_the_box_says_so(typed, value, end, note):
    out = read(lr=typed)
    assert out.config is not None  # not an error: the run uses it
    assert playground.resolve(out.config)["optimizer"]["lr"] == value
    assert out.errors == {"run.run.lr": note, "_notes": ["run.run.lr"]}
    assert out.slider == end  # the slider stops at its end ...
    assert "past-end" in out.slider_class.split()  # ... marked


def test_an_lr_on_the_slider_moves_it_with_no_note():
    out = read(lr="0.05")
    assert out.errors == {}
    assert out.slider == pytest.approx(math.log10(0.05))
    assert out.slider_class == "lr-slider"


def test_a_link_past_the_slider_draws_it_at_its_end_marked():
    from playground.web.controls import controls
    config = {**form.DEFAULT_CONFIG, "optimizer": {"name": "adam", "lr": 1e9}}
    choice, values, warmup_on = form.form_from_config(config)
    page = controls(choice, values, warmup_on, config)
    slider = component(page, "Slider")
    assert slider.value == LR_SLIDER[1] and "past-end" in slider.className.split()


def test_a_run_that_diverges_at_once_still_spans_its_steps():
    """lr 1e9 leaves the valley at the first step: the arrays keep the run's length (the
    plots' step axes are the figures' business) and the status says it diverged."""
    out = read(lr="1e9")
    result = playground.simulate(out.config)
    assert result["diverged_at"] == 1
    assert len(result["lr"]) == out.config["steps"] == 500


# --- Labels -----------------------------------------------------------------------------------

def test_no_label_repeats_its_unit():
    for field in FIELDS:
        block = field_block(field, None, form.DEFAULT_CONFIG)
        label = component(block, "Label")
        if label is None:  # a check box carries its label itself
            continue
        text = label.children.lower()
        unit = field.param.unit.lower()
        if unit:
            assert text.count(unit) == 1, label.children  # "Steps", "T_0 (steps)"
    assert form.label_of(BY_KEY["run.run.steps"].param) == "Steps"
    assert form.label_of(BY_KEY["warmup.warmup.steps"].param) == "Warmup steps"
    assert form.label_of(BY_KEY["schedule.StepLR.step_size"].param) == "step_size (steps)"


# --- What a box's text means ------------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**30, 10**30))
def test_a_number_typed_in_a_box_is_that_number(x):
    assert form.parse_number(repr(x)) == x
    assert type(form.parse_number(repr(x))) is type(x)  # "3" an int, "3.0" a float


@given(st.text(max_size=80))
def test_any_text_in_a_box_is_a_number_or_comes_back_for_the_message(text):
    value = form.parse_number(text)
    assert isinstance(value, (int, float, str))
    if isinstance(value, str):
        assert value == text.strip()
        out = read(lr=text)
        if text.strip():
            assert out.config is None and out.errors["run.run.lr"].endswith(
                f"(got {form.typed(text)}).")
