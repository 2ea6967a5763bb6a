"""What the linter reports: a finding with its check, level, position and, sometimes, a fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .._enums import Level

__all__ = ["Fix", "LintFinding", "LintLevel"]


class LintLevel(StrEnum):
    """How much a finding matters, in the words Vale and markdownlint users know."""

    suggestion = "suggestion"
    warning = "warning"
    error = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {LintLevel.suggestion: 1, LintLevel.warning: 2, LintLevel.error: 3}


@dataclass(frozen=True, slots=True)
class Fix:
    """Replace the finding's span (line, column to end_line, end_column) with ``replacement``."""

    replacement: str
    description: str


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One thing an article says that the rule base disagrees with, or a problem of form.

    ``line`` and ``column`` are 1-based and count Unicode code points; ``end_column`` is
    exclusive. ``check`` is the stable check id (``framing.concern-listed-as-normal``);
    ``signal``, ``rule`` and ``rule_level`` name what the rule base says, when a check rests
    on a rule.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    level: LintLevel
    check: str
    message: str
    signal: str | None = None
    rule: str | None = None
    rule_level: Level | None = None
    fix: Fix | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "level": self.level.value,
            "check": self.check,
            "message": self.message,
            "signal": self.signal,
            "rule": self.rule,
            "rule_level": self.rule_level.value if self.rule_level is not None else None,
            "fix": None
            if self.fix is None
            else {"replacement": self.fix.replacement, "description": self.fix.description},
        }

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.level.value} {self.check} {self.message}"
