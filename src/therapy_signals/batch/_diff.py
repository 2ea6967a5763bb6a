"""What changed between two results files, say before and after a change to the rules.

Scenarios are matched by ``scenario_id``. The first file is held as a small map of id to
level and findings; the second is streamed past it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Level
from ._io import read_results

__all__ = ["LEVEL_ONLY", "Change", "Diff", "diff_results"]

LEVEL_ONLY = "(no finding added or removed: a rule's level changed)"
"""The group of changes whose findings are the same on both sides."""


@dataclass(frozen=True)
class Change:
    """One scenario whose overall level differs, and the findings that came and went."""

    scenario_id: str
    before: Level
    after: Level
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def direction(self) -> str:
        """``up``, ``down``, or ``same`` for a scenario whose findings changed but not its level."""
        if self.after == self.before:
            return "same"
        return "up" if self.after > self.before else "down"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "before": self.before.value,
            "after": self.after.value,
            "direction": self.direction,
            "added": list(self.added),
            "removed": list(self.removed),
        }


@dataclass
class Diff:
    """Level changes between two results files, grouped by the rule behind them."""

    compared: int = 0
    same_level: int = 0
    findings_changed: int = 0
    changes: list[Change] = field(default_factory=list)
    same_level_changes: list[Change] = field(default_factory=list)
    """The scenarios whose findings changed while their level stayed (``direction`` ``same``)."""
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)

    @property
    def by_rule(self) -> dict[str, list[Change]]:
        """For each rule that appeared or disappeared in a changed scenario, those scenarios.

        A scenario can sit under several rules; changes with the same findings on both
        sides are under :data:`LEVEL_ONLY`. Rules with the most changes come first.
        """
        return _grouped(self.changes)

    @property
    def same_level_by_rule(self) -> dict[str, list[Change]]:
        """:attr:`by_rule` for the scenarios whose findings changed but not their level."""
        return _grouped(self.same_level_changes)

    @property
    def changed(self) -> bool:
        """Whether anything differs: a level, a finding, or a scenario in one file only."""
        return bool(self.changes or self.same_level_changes or self.only_before or self.only_after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "level_changed": len(self.changes),
            "up": sum(c.direction == "up" for c in self.changes),
            "down": sum(c.direction == "down" for c in self.changes),
            "same_level": self.same_level,
            "findings_changed_same_level": self.findings_changed,
            "only_before": self.only_before,
            "only_after": self.only_after,
            "by_rule": _groups_dict(self.by_rule),
            "changes": [c.to_dict() for c in self.changes],
            "same_level_by_rule": _groups_dict(self.same_level_by_rule),
            "same_level_changes": [c.to_dict() for c in self.same_level_changes],
        }


def _grouped(changes: list[Change]) -> dict[str, list[Change]]:
    groups: dict[str, list[Change]] = {}
    for change in changes:
        for rule in (*change.added, *change.removed) or (LEVEL_ONLY,):
            groups.setdefault(rule, []).append(change)
    return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))


def _groups_dict(groups: dict[str, list[Change]]) -> dict[str, Any]:
    return {
        rule: {
            "scenarios": len(changes),
            "added_in": sum(rule in c.added for c in changes),
            "removed_in": sum(rule in c.removed for c in changes),
            "up": sum(c.direction == "up" for c in changes),
            "down": sum(c.direction == "down" for c in changes),
            "scenario_ids": [c.scenario_id for c in changes],
        }
        for rule, changes in groups.items()
    }


def _index(path: Path, given: str | None) -> dict[str, tuple[Level, tuple[str, ...]]]:
    seen: dict[str, tuple[Level, tuple[str, ...]]] = {}
    for result in read_results(path, given):
        if result.scenario_id in seen:
            raise InputError(f"{path}: scenario_id {result.scenario_id!r} appears twice; diff matches scenarios by id")
        seen[result.scenario_id] = (result.level, result.findings)
    return seen


def diff_results(
    before: str | Path, after: str | Path, *, before_format: str | None = None, after_format: str | None = None
) -> Diff:
    """Compare two results files scenario by scenario (matched by id), in the second's order."""
    old = _index(Path(before), before_format)
    diff = Diff()
    seen: set[str] = set()
    for result in read_results(after, after_format):
        if result.scenario_id in seen:
            raise InputError(f"{after}: scenario_id {result.scenario_id!r} appears twice; diff matches scenarios by id")
        seen.add(result.scenario_id)
        previous = old.get(result.scenario_id)
        if previous is None:
            diff.only_after.append(result.scenario_id)
            continue
        diff.compared += 1
        level, findings = previous
        if level is result.level:
            diff.same_level += 1
            if set(findings) == set(result.findings):
                continue
            diff.findings_changed += 1
        change = Change(
            result.scenario_id,
            level,
            result.level,
            added=_missing(result.findings, findings),
            removed=_missing(findings, result.findings),
        )
        (diff.same_level_changes if level is result.level else diff.changes).append(change)
    diff.only_before = [s for s in old if s not in seen]
    return diff


def _missing(these: Iterable[str], there: Iterable[str]) -> tuple[str, ...]:
    others = set(there)
    return tuple(r for r in these if r not in others)
