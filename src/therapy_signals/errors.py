"""Every error therapy-signals raises, each with a message a user can act on.

All derive from :class:`TherapySignalsError`, so ``except TherapySignalsError`` catches
anything the library reports about your input, your rules or your installation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BatchError",
    "DesignError",
    "DocumentError",
    "EngineDisagreementError",
    "EngineUnavailableError",
    "InputError",
    "LintConfigError",
    "LocaleError",
    "MissingExtraError",
    "Problem",
    "RenderError",
    "ResumeError",
    "RuleBookError",
    "ScenarioError",
    "ServeError",
    "TherapySignalsError",
    "UnknownRuleError",
]


class TherapySignalsError(Exception):
    """Base class of every error the library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and where: a field path (``observations[0].signal``) or file:line."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class _ProblemsError(TherapySignalsError):
    headline = "invalid input"

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        head = f"{self.headline} in {self.source}" if self.source else self.headline
        count = len(self.problems)
        lines = [f"{head} ({count} problem{'s' if count != 1 else ''}):"]
        lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)


class ScenarioError(_ProblemsError, ValueError):
    """A scenario failed validation; ``problems`` lists each field path and what is allowed."""

    headline = "invalid scenario"


class RuleBookError(_ProblemsError):
    """A rule, signal, source or template file is wrong; each problem names file:line."""

    headline = "invalid rule base"


class InputError(TherapySignalsError, ValueError):
    """A file or stream could not be read as UTF-8 JSON (names the file, line and column)."""


class LocaleError(TherapySignalsError, ValueError):
    """A locale has no templates; the message lists the locales there are."""


class RenderError(TherapySignalsError):
    """A template failed to render (an undefined variable, a syntax error); names the template."""


class UnknownRuleError(TherapySignalsError, KeyError):
    """No rule has that id; the message suggests the closest ids."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EngineDisagreementError(TherapySignalsError, RuntimeError):
    """durable_rules fired a rule whose condition does not hold in Python: a bug; please report it."""


class EngineUnavailableError(TherapySignalsError, ImportError):
    """durable_rules is missing or its C extension failed to import; the message says how to fix it."""


class BatchError(TherapySignalsError):
    """A batch run stopped: a rejected record under ``--fail-fast``, a worker with other rules,
    a Dask scheduler that cannot be reached, counts that do not add up, another run writing the
    same output, or a file that cannot be written (``generate`` and ``report`` raise it for that
    too); the message names the path, the cause and what to do."""


class ResumeError(BatchError):
    """``--resume`` cannot continue a run: no unfinished run is recorded, or its input, rules or
    options differ from this one; the message names what changed and how to start afresh."""


class DesignError(TherapySignalsError, ValueError):
    """A scenario design asks for something the rule base lacks (an unknown signal, category,
    field or value) or cannot produce a valid scenario; the message lists the choices."""


class DocumentError(InputError):
    """A file given to the linter cannot be read as text: missing, a folder, binary, or not
    UTF-8; the message names the file and, for bad bytes, the line and column."""


class LintConfigError(TherapySignalsError, ValueError):
    """The linter's configuration (``[tool.therapy-signals.lint]`` or ``.therapy-signals.toml``)
    is wrong; the message names the file, the key, and what is allowed."""


class ServeError(TherapySignalsError, OSError):
    """The HTTP service cannot start: its port is taken, or its workers keep exiting; the
    message names the address and what to change."""


class MissingExtraError(TherapySignalsError, ImportError):
    """A part of the library needs a package of an extra that is not installed (pyarrow and
    matplotlib of ``batch``, dask of ``dask``, pandas and polars of ``frames``); the message
    names the package, the extra and the ``pip install`` line."""

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message, name=module)
        self.extra = extra
