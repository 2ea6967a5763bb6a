"""Find the shipped rule base from an installed wheel or from a source checkout."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import Problem, RuleBookError

ENV_VAR = "THERAPY_SIGNALS_RULES"


def _candidates() -> tuple[Path, Path]:
    here = Path(__file__).resolve().parent
    return here / "_rules", here.parent.parent / "rules"


def shipped_rules_dir() -> Path | None:
    """The wheel's ``therapy_signals/_rules``, else a source checkout's ``rules/``, else None."""
    return next((c for c in _candidates() if (c / "rulebook.yaml").is_file()), None)


def default_rules_dir() -> Path:
    """``$THERAPY_SIGNALS_RULES``, else the wheel's ``therapy_signals/_rules``, else ``rules/``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    found = shipped_rules_dir()
    if found is not None:
        return found
    candidates = _candidates()
    raise RuleBookError(
        [
            Problem(
                str(candidates[0]),
                f"no rule base found here nor in {candidates[1]}; reinstall the package or set {ENV_VAR}",
            )
        ]
    )


@cache
def _shipped_root() -> Path | None:
    """The package's own rule base, found once (never ``$THERAPY_SIGNALS_RULES``)."""
    found = shipped_rules_dir()
    return None if found is None else found.resolve()


def is_shipped(path: Path) -> bool:
    """Whether a file or folder is part of the rule base shipped with the package."""
    root = _shipped_root()
    return root is not None and path.resolve().is_relative_to(root)
