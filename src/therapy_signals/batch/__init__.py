"""Scenario batches for researchers: generate designs, run them, summarise and compare.

    from therapy_signals.batch import run_batch

    for item in run_batch("scenarios.jsonl", "results.parquet", workers=2):
        if item.ok:
            print(item.scenario_id, item.level)

Files are JSONL (optionally gzip), CSV (a flat layout) or Parquet, chosen by extension.
Parquet and the report's charts need the ``batch`` extra, Dask the ``dask`` extra; each is
imported only when used. Names are loaded on first access, so that the command line, which
registers the batch commands, starts as fast without them. See docs/researchers.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import BatchError, DesignError, ResumeError

if TYPE_CHECKING:
    from ._batch import Batch, BatchRun, run_batch
    from ._counterfactual import Counterfactual, Counterfactuals, Edit, counterfactuals
    from ._diff import Change, Diff, diff_results
    from ._generate import Factorial, RandomDesign, generate, parse_signals, parse_vary
    from ._io import read_results, read_scenarios, write_scenarios
    from ._report import Report, Summary, summarize, write_report
    from ._results import Rejected, Result

_WHERE = {
    "Batch": "_batch",
    "BatchRun": "_batch",
    "run_batch": "_batch",
    "Counterfactual": "_counterfactual",
    "Counterfactuals": "_counterfactual",
    "Edit": "_counterfactual",
    "counterfactuals": "_counterfactual",
    "Change": "_diff",
    "Diff": "_diff",
    "diff_results": "_diff",
    "Factorial": "_generate",
    "RandomDesign": "_generate",
    "generate": "_generate",
    "parse_signals": "_generate",
    "parse_vary": "_generate",
    "read_results": "_io",
    "read_scenarios": "_io",
    "write_scenarios": "_io",
    "Report": "_report",
    "Summary": "_report",
    "summarize": "_report",
    "write_report": "_report",
    "Rejected": "_results",
    "Result": "_results",
}

__all__ = [
    "Batch",
    "BatchError",
    "BatchRun",
    "Change",
    "Counterfactual",
    "Counterfactuals",
    "DesignError",
    "Diff",
    "Edit",
    "Factorial",
    "RandomDesign",
    "Rejected",
    "Report",
    "Result",
    "ResumeError",
    "Summary",
    "counterfactuals",
    "diff_results",
    "generate",
    "parse_signals",
    "parse_vary",
    "read_results",
    "read_scenarios",
    "run_batch",
    "summarize",
    "write_report",
    "write_scenarios",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
