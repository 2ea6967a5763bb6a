"""The row of a batch for many scenarios at once: level, findings, superseded and categories.

A verdict is what a batch writes of a guidance, without its words. On the columnar backend
a whole sequence of scenarios is evaluated and resolved on arrays; on durable_rules, one by
one. Either way it equals what :meth:`Engine.explain` answers, floor included (a test holds
the two to it on generated scenarios and packs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Level, Scenario
from ..rulebook import Rule, RuleBook
from ._facts import encode
from .resolve import Resolution, resolve, rule_order

if TYPE_CHECKING:
    from ._backends import Fires
    from ._columnar import ColumnarBackend
    from ._engine import Engine
    from ._floor import SafetyFloor

__all__ = ["Verdict", "verdicts"]

_BY_RANK = {level.rank: level for level in Level}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The batch row of one scenario's guidance: ids in the order guidance shows them."""

    level: Level
    findings: tuple[str, ...]
    superseded: tuple[str, ...]
    categories: tuple[str, ...]


def _categories(rules: Sequence[Rule]) -> tuple[str, ...]:
    # Findings are ordered by level, then category: the first category is the most pressing.
    return tuple(dict.fromkeys(rule.category.value for rule in rules))


def of_resolution(resolution: Resolution) -> Verdict:
    return Verdict(
        resolution.level,
        tuple(m.rule.id for m in resolution.findings),
        tuple(g.matched.rule.id for g in resolution.superseded),
        _categories([m.rule for m in resolution.findings]),
    )


def verdicts(engine: Engine, scenarios: Sequence[Scenario]) -> list[Verdict]:
    """Each scenario's verdict, in order; the scenarios are valid for the engine's rule base."""
    found = _verdicts(engine.rulebook, engine._fires, scenarios)
    if engine._floor is not None:
        _raise_to_floor(engine.rulebook, engine._floor, scenarios, found)
    return found


def _verdicts(book: RuleBook, fires: Fires, scenarios: Sequence[Scenario]) -> list[Verdict]:
    columnar: ColumnarBackend | None = getattr(fires, "columnar", None)
    if columnar is None:
        return [_one(book, fires, scenario) for scenario in scenarios]
    from ._columns import MAX_CITED

    small = [i for i, s in enumerate(scenarios) if len(s.observations) <= MAX_CITED]
    found = dict(zip(small, _on_columns(columnar, [scenarios[i] for i in small]), strict=True))
    # More observations than a word holds: the Python evaluator, which the columns agree with.
    return [found[i] if i in found else _one(book, fires, s) for i, s in enumerate(scenarios)]


def _one(book: RuleBook, fires: Fires, scenario: Scenario) -> Verdict:
    encoded = encode(scenario, {name: s.category for name, s in book.signals.items()})
    return of_resolution(resolve(book, encoded, fires.fired(encoded)))


def _on_columns(columnar: ColumnarBackend, scenarios: Sequence[Scenario]) -> list[Verdict]:
    import numpy as np

    from ._columns import from_scenarios

    if not scenarios:
        return []
    resolved = columnar.resolve(columnar.evaluate(from_scenarios(scenarios, columnar.signal_index)))
    ids = np.array(columnar.ids, dtype=object)
    categories = np.array([r.category.value for r in columnar.rules], dtype=object)
    kept_rows, kept_cols = np.nonzero(resolved.kept.T)
    gave_rows, gave_cols = np.nonzero(resolved.gave.T)
    kept_at = np.searchsorted(kept_rows, np.arange(len(scenarios) + 1))
    gave_at = np.searchsorted(gave_rows, np.arange(len(scenarios) + 1))
    levels = [_BY_RANK[int(rank)] for rank in resolved.level]
    out = []
    for row in range(len(scenarios)):
        cols = kept_cols[kept_at[row] : kept_at[row + 1]]
        out.append(
            Verdict(
                levels[row],
                tuple(ids[cols]),
                tuple(ids[gave_cols[gave_at[row] : gave_at[row + 1]]]),
                tuple(dict.fromkeys(categories[cols])),
            )
        )
    return out


def _raise_to_floor(book: RuleBook, floor: SafetyFloor, scenarios: Sequence[Scenario], found: list[Verdict]) -> None:
    """The safety floor (_floor.py) on verdicts: what the base says above the packs' answer is
    added in place of the packs' own findings of the same ids."""
    at = [i for i, s in enumerate(scenarios) if floor.applies(s)]
    base = _verdicts(floor.book, floor._fires, [scenarios[i] for i in at])
    for i, below in zip(at, base, strict=True):
        mine = found[i]
        if below.level <= mine.level:
            continue
        above = [floor.book.rules[f] for f in below.findings if floor.book.rules[f].level > mine.level]
        replaced = {r.id for r in above}
        kept = [book.rules[f] for f in mine.findings if f not in replaced]
        rules = sorted([*above, *kept], key=rule_order)
        found[i] = Verdict(below.level, tuple(r.id for r in rules), mine.superseded, _categories(rules))
