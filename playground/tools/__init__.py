"""Engine-side tools the page calls beside the plots: pure functions of configs and results.

Nothing here compiles anything new: every experiment is built as ordinary configs and run
with :func:`playground.simulate`; everything else reads the arrays it returns (the layout
of docs/run-format.md). No dash, no plotly: the page (playground.web) imports this, not
the other way round.

- Formula panel (:mod:`.formulas`): :data:`FORMULAS` (one entry per schedule in
  ``SCHEDULES``) and :func:`formula`, the schedule's formula with the run's numbers, as
  LaTeX.
- Step inspector and diagnostics (:mod:`.diagnostics`): :func:`inspect_step`,
  :func:`robbins_monro`, :func:`stability`, :func:`effective_step`.
- Experiments as configs: :func:`lr_range_config` + :func:`lr_range_analysis` (Smith's
  LR range test, :mod:`.lr_range`), :func:`with_batch_size` (:mod:`.batch_size`), and the
  three pitfalls :func:`resume_without_scheduler_state`, :func:`stepped_per_epoch` and
  :func:`stepped_per_micro_batch` (gradient accumulation)
  (:mod:`.pitfalls`); the lr sensitivity view's sweep :func:`lr_sensitivity` (with
  :func:`lr_grid` and :func:`good_band`, :mod:`.sensitivity`).
- Take-home exports: :func:`to_csv`, :func:`to_json` (:mod:`.export_data`),
  :func:`pytorch_code` (:mod:`.export_pytorch`), :func:`optax_code` (and
  :func:`optax_gap`, why a config has no exact Optax twin; :mod:`.export_optax`), the
  surfaces as Python :data:`SURFACE_CODE` (:mod:`.export_code`).

Every name is re-exported here: ``from playground import tools; tools.formula(...)`` and
``from playground.tools import formula`` both work.
"""
from __future__ import annotations

from .batch_size import LR_FIELDS, with_batch_size
from .diagnostics import effective_step, inspect_step, robbins_monro, stability
from .export_code import SURFACE_CODE
from .export_data import COLUMNS, to_csv, to_json
from .export_optax import optax_code, optax_gap
from .export_pytorch import pytorch_code
from .formulas import FORMULAS, Formula, formula
from .lr_range import lr_range_analysis, lr_range_config
from .pitfalls import (resume_without_scheduler_state, stepped_per_epoch,
                       stepped_per_micro_batch)
from .sensitivity import good_band, lr_grid, lr_sensitivity

# The private helpers of the former single module playground/tools.py, still reachable as
# tools._name for any caller that reached into it.
from ._results import _PER_STEP, _finite_steps, _value  # noqa: F401
from .export_code import _comment, _header, _loss_def  # noqa: F401
from .export_data import _columns  # noqa: F401
from .export_optax import _optax_optimizer, _optax_schedule  # noqa: F401
from .export_pytorch import _explicit, _kwargs, _torch_scheduling  # noqa: F401
from .formulas import (  # noqa: F401
    _annealed_extra, _cyclic_extra, _one_cycle_extra, _plateau_extra, _tex)
from .pitfalls import _concat, _memoryless, _pad, _segment, _truncate  # noqa: F401

__all__ = [
    "COLUMNS", "FORMULAS", "Formula", "LR_FIELDS", "SURFACE_CODE", "effective_step",
    "formula", "good_band", "inspect_step", "lr_grid", "lr_sensitivity", "lr_range_analysis", "lr_range_config", "optax_code",
    "optax_gap", "pytorch_code", "resume_without_scheduler_state", "robbins_monro",
    "stability", "stepped_per_epoch", "stepped_per_micro_batch", "to_csv", "to_json", "with_batch_size",
]
