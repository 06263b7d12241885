"""What bench/fuzz_http.py checks in an answer: what a response must not carry (a
traceback, a source path, ``site-packages``, an exception's name the request did not
contain) and what a category expects (a status, a handled update, a refusal's message, no
file of the server's).
"""
from __future__ import annotations

import builtins
import json
import os
import re

try:  # imported as bench.fuzz_checks (the tests, through bench.fuzz_http), or from bench/
    from .fuzz_site import Response
    from .harness import ROOT
except ImportError:
    from fuzz_site import Response
    from harness import ROOT


# --- What a response must not carry -------------------------------------------------------

EXCEPTION_NAMES = sorted(
    {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
     and n not in ("Exception", "BaseException", "Warning")}
    | {"ConfigError", "XlaRuntimeError", "JaxRuntimeError", "PreventUpdate",
       "InvalidCallbackReturnValue", "MissingCallbackContextException", "IncorrectTypeException",
       "JSONDecodeError", "BadRequest", "InternalServerError"}, key=len, reverse=True)
_SITE_PACKAGES = os.path.dirname(os.path.dirname(json.__file__))
LEAK_MARKERS = ["Traceback", 'File "', "site-packages", ROOT + "/", _SITE_PACKAGES + "/",
                "/work/"]
_EXC_RE = re.compile(r"\b(" + "|".join(map(re.escape, EXCEPTION_NAMES)) + r")\b")


def leaks(response: Response, sent: bytes = b"") -> list[str]:
    """Markers of an internal error in ``response`` that the request itself did not carry
    (a callback may legitimately echo what it was sent)."""
    body = response.body.decode("utf-8", "replace")
    echo = sent.decode("utf-8", "replace")
    found = [m for m in LEAK_MARKERS if m in body and m not in echo]
    found += sorted({m for m in _EXC_RE.findall(body) if m not in echo})
    return found


# --- What a category expects --------------------------------------------------------------

def expect_status(*codes: int):
    def check(r: Response):
        return None if r.status in codes else f"expected {codes}, got {r.status}"
    return check


FILE_MARKERS = [b"def create_app", b"import dash", b"worker_class", b"root:x:0:0",
                b"[core]", b"MAX_STEPS"]


def expect_no_files(r: Response):
    """No file of the server's besides what it serves (the page, assets, Dash's bundles)."""
    found = [m.decode() for m in FILE_MARKERS if m in r.body]
    return f"serves a file it should not ({found})" if found else None


def expect_update(r: Response):
    """A callback answered (200 with a response, or 204: nothing to update)."""
    if r.status == 204:
        return None
    if r.status != 200:
        return f"expected 200 (a handled answer), got {r.status}"
    try:
        return None if "response" in json.loads(r.body) else "200 without a response"
    except ValueError:
        return "200 without JSON"


def expect_message(*words: str):
    """200 and the refusal's message in the response (the errors dict, the status line)."""
    def check(r: Response):
        bad = expect_update(r)
        if bad:
            return bad
        text = r.body.decode("utf-8", "replace")
        missing = [w for w in words if w not in text]
        return f"no message with {missing} in the answer" if missing else None
    return check
