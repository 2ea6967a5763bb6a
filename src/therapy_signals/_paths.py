"""Find the shipped rule base from an installed wheel or from a source checkout."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import Problem, RuleBookError

ENV_VAR = "THERAPY_SIGNALS_RULES"


def default_rules_dir() -> Path:
    """``$THERAPY_SIGNALS_RULES``, else the wheel's ``therapy_signals/_rules``, else ``rules/``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    candidates = (here / "_rules", here.parent.parent / "rules")
    for candidate in candidates:
        if (candidate / "rulebook.yaml").is_file():
            return candidate
    raise RuleBookError(
        [
            Problem(
                str(candidates[0]),
                f"no rule base found here nor in {candidates[1]}; reinstall the package or set {ENV_VAR}",
            )
        ]
    )
