"""Scenario suites: expected answers for a rule base, as data, like Semgrep's rule tests.

A suite file is YAML::

    cases:
      - name: a misunderstanding the therapist repaired is normal
        scenario: {observations: [{signal: temporary_misunderstanding, response: repaired}]}
        level: normal
        rules: [everyday.temporary-misunderstanding]     # must be among the findings
        not_rules: [everyday.misunderstanding-not-repaired]  # optional: must not be

``therapy-signals rules test PATH...`` runs suites from the command line; rule-pack
authors keep one beside their rules. The shipped rule base's suite is tests/scenarios/.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from . import _yaml
from .engine import Engine
from .errors import InputError, ScenarioError
from .model import Guidance, Level

__all__ = ["Case", "CaseResult", "load_suite", "run_suite"]


class Case(BaseModel):
    """One scenario with the answer the rules must give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=3)]
    scenario: dict[str, Any]
    level: Level
    rules: list[str] = Field(default_factory=list, description="Rule ids that must be among the findings.")
    not_rules: list[str] = Field(default_factory=list, description="Rule ids that must not be among them.")
    source: str | None = Field(None, description="Where the expectation comes from (a source id).")
    where: str = Field("", exclude=True, description="file:line, filled in when loaded.")


class _SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cases: Annotated[list[Case], Field(min_length=1)]


@dataclass(frozen=True)
class CaseResult:
    """A case and what went wrong with it (nothing when it passed)."""

    case: Case
    problems: tuple[str, ...]
    guidance: Guidance | None

    @property
    def passed(self) -> bool:
        return not self.problems


def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{path}: no such file or folder")


def load_suite(paths: Iterable[str | Path]) -> list[Case]:
    """Every case in the given files and folders, each knowing its file:line."""
    cases: list[Case] = []
    for path in _files(paths):
        raw = _yaml.load(path)
        parsed = _yaml.validate(_SuiteFile, raw, path, error=ScenarioError)
        for index, case in enumerate(parsed.cases):
            where = f"{path}:{_yaml.line_of(raw, ['cases', index])}"
            cases.append(case.model_copy(update={"where": where}))
    return cases


def check_case(engine: Engine, case: Case) -> CaseResult:
    """Run one case; a problem for each expectation the guidance does not meet."""
    try:
        guidance = engine.explain(case.scenario, render=False)
    except ScenarioError as error:
        return CaseResult(case, tuple(f"invalid scenario: {p}" for p in error.problems), None)
    shown = {f.rule_id for f in guidance.findings}
    problems = []
    if guidance.level is not case.level:
        problems.append(f"level is {guidance.level.value}, expected {case.level.value}")
    unknown = [r for r in [*case.rules, *case.not_rules] if r not in engine.rulebook.rules]
    problems.extend(f"no rule {r!r} in the rule base" for r in unknown)
    missing = [r for r in case.rules if r not in shown and r not in unknown]
    if missing:
        problems.append(f"expected findings {missing}; got {sorted(shown)}")
    unwanted = [r for r in case.not_rules if r in shown]
    if unwanted:
        problems.append(f"unexpected findings {unwanted}")
    return CaseResult(case, tuple(problems), guidance)


def run_suite(engine: Engine, cases: Iterable[Case]) -> list[CaseResult]:
    """Run every case, in order."""
    return [check_case(engine, case) for case in cases]
