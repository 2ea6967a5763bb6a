"""The row of a batch for many scenarios at once: level, findings, superseded and categories.

A verdict is what a batch writes of a guidance, without its words. On the columnar backend
a whole sequence of scenarios is evaluated and resolved on arrays; on durable_rules, one by
one. Either way it equals what :meth:`Engine.explain` answers, floor included (a test holds
the two to it on generated scenarios and packs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Category, Level, Scenario
from ..rulebook import Rule, RuleBook
from ._facts import encode
from .resolve import Resolution, resolve, rule_order

if TYPE_CHECKING:
    from ._backends import Fires
    from ._columnar import ColumnarBackend, Resolved
    from ._columns import Columns
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
    categories = engine._categories
    found = _verdicts(engine.rulebook, engine._fires, scenarios, categories)
    if engine._floor is not None:
        _raise_to_floor(engine.rulebook, engine._floor, scenarios, found, categories)
    return found


def _verdicts(
    book: RuleBook, fires: Fires, scenarios: Sequence[Scenario], categories: Mapping[str, Category]
) -> list[Verdict]:
    columnar: ColumnarBackend | None = getattr(fires, "columnar", None)
    if columnar is None:
        return [_one(book, fires, scenario, categories) for scenario in scenarios]
    from ._columns import MAX_CITED, from_scenarios

    small = [i for i, s in enumerate(scenarios) if len(s.observations) <= MAX_CITED]
    columns = from_scenarios([scenarios[i] for i in small], columnar.signal_index)
    found = dict(zip(small, _on_columns(columnar, columns), strict=True))
    # More observations than a word holds: the Python evaluator, which the columns agree with.
    return [found[i] if i in found else _one(book, fires, s, categories) for i, s in enumerate(scenarios)]


def _one(book: RuleBook, fires: Fires, scenario: Scenario, categories: Mapping[str, Category]) -> Verdict:
    encoded = encode(scenario, categories)
    return of_resolution(resolve(book, encoded, fires.fired(encoded)))


def column_verdicts(engine: Engine, columns: Columns, signals: Sequence[Sequence[str]]) -> list[Verdict]:
    """:func:`verdicts` for scenarios already in columns (each scenario's ``signals`` given);
    the engine's backend is columnar."""
    found = _on_columns(columnar_of(engine), columns)
    floor = engine._floor
    if floor is not None:
        at = [i for i, names in enumerate(signals) if not floor.safety.isdisjoint(names)]
        base = _on_columns(_columnar(floor._fires), columns.take(at))
        _merge_floor(engine.rulebook, floor, at, base, found)
    return found


def resolve_columns(engine: Engine, columns: Columns) -> Resolved | None:
    """Evaluate and resolve columns on arrays; None when packs' floor must merge verdicts
    (then use :func:`column_verdicts`)."""
    if engine._floor is not None:
        return None
    columnar = columnar_of(engine)
    return columnar.resolve(columnar.evaluate(columns), reuse=True)


def columnar_of(engine: Engine) -> ColumnarBackend:
    """The engine's columnar backend (its signal index codes the columns it reads)."""
    return _columnar(engine._fires)


def _columnar(fires: Fires) -> ColumnarBackend:
    columnar: ColumnarBackend | None = getattr(fires, "columnar", None)
    if columnar is None:
        raise ValueError("this Engine runs on durable_rules; build it with backend='columnar'")
    return columnar


def _on_columns(columnar: ColumnarBackend, columns: Columns) -> list[Verdict]:
    import numpy as np

    size = columns.size
    if not size:
        return []
    resolved = columnar.resolve(columnar.evaluate(columns), reuse=True)
    ids = np.array(columnar.ids, dtype=object)
    categories = np.array([r.category.value for r in columnar.rules], dtype=object)
    kept_rows, kept_cols = np.nonzero(resolved.kept.T)
    gave_rows, gave_cols = np.nonzero(resolved.gave.T)
    kept_at = np.searchsorted(kept_rows, np.arange(size + 1))
    gave_at = np.searchsorted(gave_rows, np.arange(size + 1))
    levels = [_BY_RANK[int(rank)] for rank in resolved.level]
    out = []
    for row in range(size):
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


def _raise_to_floor(
    book: RuleBook,
    floor: SafetyFloor,
    scenarios: Sequence[Scenario],
    found: list[Verdict],
    categories: Mapping[str, Category],
) -> None:
    """The safety floor (_floor.py) on verdicts: what the base says above the packs' answer is
    added in place of the packs' own findings of the same ids."""
    at = [i for i, s in enumerate(scenarios) if floor.applies(s)]
    base = _verdicts(floor.book, floor._fires, [scenarios[i] for i in at], categories)
    _merge_floor(book, floor, at, base, found)


def _merge_floor(
    book: RuleBook, floor: SafetyFloor, at: Sequence[int], base: Sequence[Verdict], found: list[Verdict]
) -> None:
    for i, below in zip(at, base, strict=True):
        mine = found[i]
        if below.level <= mine.level:
            continue
        above = [floor.book.rules[f] for f in below.findings if floor.book.rules[f].level > mine.level]
        replaced = {r.id for r in above}
        kept = [book.rules[f] for f in mine.findings if f not in replaced]
        rules = sorted([*above, *kept], key=rule_order)
        found[i] = Verdict(below.level, tuple(r.id for r in rules), mine.superseded, _categories(rules))
