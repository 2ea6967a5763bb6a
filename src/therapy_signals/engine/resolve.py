"""From the rules that fired to an overall level and ordered findings.

Supersession (docs/decisions/0003-supersession.md) runs in two passes:

1. a ``normal`` finding gives way to any higher finding that shares an observation with
   it, so no observation is ever both "normal" and "worth attention". A normal rule that
   is a single observation match holds on each observation alone, so it only lets go of
   the shared observations and stays for the rest;
2. among what is left, a rule gives way to a rule that names it in ``supersedes`` when
   that rule rests on every observation it rests on.

Neither pass removes a finding unless one at its level or above stays, so the overall
level is always the highest level of any rule that fired, and every observation stays
explained by at least one finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..conditions import Match
from ..errors import EngineDisagreementError
from ..model import Category, Level
from ..rulebook import Rule, RuleBook
from ._evaluate import Outcome, evaluate
from ._facts import EncodedScenario

__all__ = ["Matched", "Resolution", "ordered", "resolve", "rule_order"]

CATEGORY_ORDER = (
    Category.safety,
    Category.boundaries,
    Category.dependency,
    Category.everyday,
    Category.healthy,
)


@dataclass(frozen=True)
class Matched:
    """A rule that fired, with the observations and conditions it rests on."""

    rule: Rule
    outcome: Outcome


@dataclass(frozen=True)
class Gave:
    """A finding that gave way, to which rule, and whether by the normal-pass or by name."""

    matched: Matched
    by: Rule
    implicit: bool


@dataclass(frozen=True)
class Resolution:
    level: Level
    findings: tuple[Matched, ...]
    superseded: tuple[Gave, ...]


def rule_order(rule: Rule) -> tuple[int, int, str]:
    """Where a rule's finding is shown: highest level first, then by category and id."""
    return (-rule.level.rank, CATEGORY_ORDER.index(rule.category), rule.id)


def _order(matched: Matched) -> tuple[int, int, str]:
    return rule_order(matched.rule)


def ordered(found: Iterable[Matched]) -> tuple[Matched, ...]:
    """Findings in the order guidance shows them: highest level first, then by category and id."""
    return tuple(sorted(found, key=_order))


def _normal_pass(found: list[Matched]) -> tuple[list[Matched], list[Gave]]:
    higher = [m for m in found if m.rule.level > Level.normal]
    covered = frozenset().union(*(h.outcome.cited for h in higher))
    kept: list[Matched] = []
    gave: list[Gave] = []
    for item in found:
        shared = item.outcome.cited & covered
        if item.rule.level is not Level.normal or not shared:
            kept.append(item)
            continue
        rest = item.outcome.cited - covered
        if rest and isinstance(item.rule.when, Match):
            # A single match holds on each observation alone: keep it for the others.
            kept.append(Matched(item.rule, replace(item.outcome, cited=rest)))
            continue
        over = next(h for h in higher if h.outcome.cited & shared)
        gave.append(Gave(item, over.rule, implicit=True))
    return kept, gave


def _named_pass(found: list[Matched]) -> tuple[list[Matched], list[Gave]]:
    kept: list[Matched] = []
    gave: list[Gave] = []
    for item in found:
        over = next(
            (
                other
                for other in found
                if item.rule.id in other.rule.supersedes and item.outcome.cited <= other.outcome.cited
            ),
            None,
        )
        if over is None:
            kept.append(item)
        else:
            gave.append(Gave(item, over.rule, implicit=False))
    return kept, gave


def resolve(book: RuleBook, encoded: EncodedScenario, fired: frozenset[str]) -> Resolution:
    """Explain the rules that fired, apply supersession, and order what is left."""
    found: list[Matched] = []
    for rule_id in sorted(fired):
        rule = book.rules[rule_id]
        outcome = evaluate(rule.when, encoded)
        if not outcome.ok:
            raise EngineDisagreementError(
                f"durable_rules fired {rule_id} but its condition does not hold in Python; "
                "this is a bug in therapy-signals, please report it with the scenario"
            )
        found.append(Matched(rule, outcome))
    found.sort(key=_order)
    kept, gave_normal = _normal_pass(found)
    kept, gave_named = _named_pass(kept)
    level = max((m.rule.level for m in kept), default=Level.normal)
    superseded = sorted(gave_normal + gave_named, key=lambda g: _order(g.matched))
    return Resolution(level, tuple(kept), tuple(superseded))
