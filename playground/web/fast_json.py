"""The JSON of every answer the server sends through Dash (callbacks, the layout, the
page's config), written by orjson.

Dash writes its answers with plotly's encoder (``plotly.io.json.to_json_plotly``): the
standard library's ``json`` with a Python ``default`` hook, or, when orjson is installed,
orjson after a pass in Python that cleans every value of the answer (which a Dash
component, not a type orjson knows, always needs). Either costs more than the answer's
own work: about 2 ms of a plain change's 9 (bench/load.py prints a change's CPU). Here
orjson writes the answer directly and asks ``default`` only for what it does not know:
a Dash component or a ``Patch`` (their ``to_plotly_json``), a NumPy value.

What reaches the browser is the same JSON: NaN and infinities as ``null`` (as plotly's
encoder writes them), ``<``, ``>`` and ``/`` escaped (so that an answer can sit in the
page's ``<script>`` tags), and U+2028/U+2029 escaped. tests/test_fast_json.py checks it
against plotly's encoder on the page's own answers.

:func:`install` points Dash at it (``dash._callback`` and ``dash.dash``, where Dash calls
its ``to_json``); requirements.txt pins the Dash it was written for.
"""
from __future__ import annotations

import dash._callback
import dash.dash
import orjson
from plotly.io.json import to_json_plotly

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"),
            ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _default(value):
    """What orjson does not know: a Dash component or Patch, a NumPy value."""
    to_plotly_json = getattr(value, "to_plotly_json", None)
    if to_plotly_json is not None:
        return to_plotly_json()
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")  # (to _plotly)


def _plotly(value) -> str:
    """Dash's own writer (plotly's encoder, with the standard library's json), for what
    orjson refuses: an integer past 64 bits, say, or a type only plotly's encoder knows
    (a date, a Decimal), which no answer of the page holds."""
    return to_json_plotly(value, engine="json")


def to_json(value) -> str:
    """``value`` as JSON text, as Dash's own ``to_json`` writes it."""
    try:
        text = orjson.dumps(value, default=_default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _plotly(value)
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


def install() -> None:
    """Dash writes its answers with :func:`to_json` from now on (in this process). A Dash
    whose modules no longer call a ``to_json`` of their own keeps its writer."""
    for module in (dash._callback, dash.dash):
        if callable(getattr(module, "to_json", None)):
            module.to_json = to_json
