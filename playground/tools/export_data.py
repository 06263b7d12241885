"""Take-home exports, data: :func:`to_csv` and :func:`to_json` (columns :data:`COLUMNS`)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

import numpy as np

from ..config import validate
from ._results import _PER_STEP, _value


COLUMNS = ("step", "lr", "momentum", "loss", "observed_loss", "grad_norm",
           "clipped_grad_norm", "x", "y")
"""One row per path point p_0 .. p_steps; the per-step columns are empty at p_steps."""


def _columns(result: dict) -> dict[str, list]:
    steps = len(result["lr"])
    nan = np.full(1, np.nan)
    path = np.asarray(result["path"], dtype=np.float64)
    cols = {"step": list(range(steps + 1)), "loss": result["loss"], "x": path[:, 0],
            "y": path[:, 1]}
    cols.update({k: np.concatenate([np.asarray(result[k], dtype=np.float64), nan])
                 for k in _PER_STEP})
    return {k: [v if isinstance(v, int) else _value(v) for v in cols[k]] for k in COLUMNS}


def to_csv(runs: Sequence[tuple[str, dict, dict]]) -> str:
    """Runs given as (label, config, result) as CSV: a ``run`` column with the label, then
    ``COLUMNS``; missing values (NaN, the per-step columns at the final point) are empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("run",) + COLUMNS)
    for label, _config, result in runs:
        cols = _columns(result)
        for i in range(len(cols["step"])):
            writer.writerow([label] + ["" if cols[k][i] is None else repr(cols[k][i])
                                       for k in COLUMNS])
    return buf.getvalue()


def to_json(runs: Sequence[tuple[str, dict, dict]]) -> str:
    """Runs given as (label, config, result) as a JSON list of ``{"label", "config"
    (canonical, re-runnable), "diverged_at", "columns": {name: list}}``, NaN as null."""
    return json.dumps([{"label": label, "config": validate(config),
                        "diverged_at": result["diverged_at"], "columns": _columns(result)}
                       for label, config, result in runs], allow_nan=False)
