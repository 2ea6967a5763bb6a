"""A content linter for writers: check an article against the rule base before publishing.

    >>> from therapy_signals.lint import lint_text
    >>> findings = lint_text("## Not red flags\\n\\n- Your therapist asks you for a loan\\n")
    >>> [f.check for f in findings]
    ['framing.concern-listed-as-normal', 'safety.no-next-steps']

:func:`lint_text` and :func:`lint_file` use a shared :class:`Linter` with the default
configuration and the shipped rule base; build a ``Linter`` to choose either. Findings are
:class:`LintFinding` values, sorted by position. Needs the ``lint`` extra
(docs/getting-started.md, "Installing with pip").

The names load on first use: ``therapy-signals`` imports this package for its ``lint``
command, and no other command should pay for markdown-it, ftfy and lemminflect.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._checks import CHECKS, Check
    from ._config import LintConfig, find_config, load_config
    from ._finding import Fix, LintFinding, LintLevel
    from ._linter import Linter, lint_file, lint_text

__all__ = [
    "CHECKS",
    "Check",
    "Fix",
    "LintConfig",
    "LintFinding",
    "LintLevel",
    "Linter",
    "find_config",
    "lint_file",
    "lint_text",
    "load_config",
]

_WHERE = {
    "CHECKS": "._checks",
    "Check": "._checks",
    "LintConfig": "._config",
    "find_config": "._config",
    "load_config": "._config",
    "Fix": "._finding",
    "LintFinding": "._finding",
    "LintLevel": "._finding",
    "Linter": "._linter",
    "lint_file": "._linter",
    "lint_text": "._linter",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
