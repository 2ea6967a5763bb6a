"""Evaluate a condition tree in Python, recording which observations it rests on.

durable_rules decides *whether* a rule fires; its action sees only the whole fact, so
the *because* of a finding (which observations, which conditions) comes from evaluating
the same tree here. A property test checks that both evaluators always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._fields import Encoded
from ..conditions import All, AnyOf, Condition, Count, Match, Not, ScenarioTest, describe
from ._facts import EncodedScenario


@dataclass(frozen=True)
class Outcome:
    ok: bool
    cited: frozenset[int] = frozenset()
    held: tuple[str, ...] = ()


def observation_matches(match: Match, observation: Mapping[str, Encoded]) -> bool:
    signals = match.signals
    if signals is not None and observation["signal"] not in signals:
        return False
    categories = match.category_values
    if categories is not None and observation["category"] not in categories:
        return False
    return all(test.passes(observation[test.field.name]) for test in match.tests)


def count_distinct(match: Match, encoded: EncodedScenario) -> int:
    """How many distinct signals among the observations that match."""
    return len({o["signal"] for o in encoded.observations if observation_matches(match, o)})


def evaluate(condition: Condition, encoded: EncodedScenario) -> Outcome:
    """Whether the condition holds, with the observations and conditions behind it."""
    if isinstance(condition, Match):
        cited = frozenset(i for i, o in enumerate(encoded.observations) if observation_matches(condition, o))
        return Outcome(bool(cited), cited, (describe(condition),) if cited else ())
    if isinstance(condition, All):
        return _all(condition, encoded)
    if isinstance(condition, AnyOf):
        return _any(condition, encoded)
    if isinstance(condition, Not):
        inner = evaluate(condition.not_, encoded)
        return Outcome(not inner.ok, frozenset(), () if inner.ok else (describe(condition),))
    if isinstance(condition, Count):
        return _count(condition, encoded)
    return _scenario(condition, encoded)


def _all(condition: All, encoded: EncodedScenario) -> Outcome:
    cited: set[int] = set()
    held: list[str] = []
    for child in condition.all:
        outcome = evaluate(child, encoded)
        if not outcome.ok:
            return Outcome(False)
        cited |= outcome.cited
        held.extend(outcome.held)
    return Outcome(True, frozenset(cited), tuple(held))


def _any(condition: AnyOf, encoded: EncodedScenario) -> Outcome:
    outcomes = [o for o in (evaluate(c, encoded) for c in condition.any) if o.ok]
    if not outcomes:
        return Outcome(False)
    cited = frozenset().union(*(o.cited for o in outcomes))
    return Outcome(True, cited, tuple(h for o in outcomes for h in o.held))


def _count(condition: Count, encoded: EncodedScenario) -> Outcome:
    if count_distinct(condition.count, encoded) < condition.at_least:
        return Outcome(False)
    cited = frozenset(i for i, o in enumerate(encoded.observations) if observation_matches(condition.count, o))
    return Outcome(True, cited, (describe(condition),))


def _scenario(condition: ScenarioTest, encoded: EncodedScenario) -> Outcome:
    ok = all(t.passes(encoded.scenario[t.field.name]) for t in condition.tests)
    return Outcome(ok, frozenset(), (describe(condition),) if ok else ())
