"""A condition tree in disjunctive normal form: alternatives of conjunctions of its leaves.

The rule language bounds how far a condition may expand (``MAX_BRANCHES``), and the rule
base checks every rule against that bound when it loads; the durable_rules compiler then
builds its branches with the same walk, so a rule that loads always compiles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .conditions import All, AnyOf, Condition, Count, Match, Not, ScenarioTest

__all__ = ["MAX_BRANCHES", "TooComplexError", "branch_count", "normal_form"]

MAX_BRANCHES = 64

T = TypeVar("T")
Leaf = Callable[[Match | Count | ScenarioTest, bool], list[list[T]]]


class TooComplexError(ValueError):
    """A condition expands to more than MAX_BRANCHES conjunctions."""


def _product(parts: list[list[list[T]]]) -> list[list[T]]:
    product: list[list[T]] = [[]]
    for options in parts:
        product = [b + o for b in product for o in options]
        if len(product) > MAX_BRANCHES:
            raise TooComplexError(f"expands to more than {MAX_BRANCHES} alternatives; split the rule")
    return product


def _union(parts: list[list[list[T]]]) -> list[list[T]]:
    # An any grows the count as surely as an all does: YAML aliases nested in any: once
    # expanded into millions of branches, and the Engine never finished building.
    union = [b for p in parts for b in p]
    if len(union) > MAX_BRANCHES:
        raise TooComplexError(f"expands to more than {MAX_BRANCHES} alternatives; split the rule")
    return union


def normal_form(condition: Condition, leaf: Leaf[T], negated: bool = False) -> list[list[T]]:
    """The condition (or its complement) as alternatives of conjunctions of what ``leaf`` makes."""
    if isinstance(condition, Not):
        return normal_form(condition.not_, leaf, not negated)
    if isinstance(condition, All | AnyOf):
        children = condition.all if isinstance(condition, All) else condition.any
        parts = [normal_form(c, leaf, negated) for c in children]
        conjunctive = isinstance(condition, All) != negated
        return _product(parts) if conjunctive else _union(parts)
    return leaf(condition, negated)


def scenario_alternatives(condition: ScenarioTest, negated: bool) -> int:
    """How many alternatives a scenario test is: one per value it allows, or per way it fails."""
    if negated:
        return sum(1 if t.equals is not None else 2 for t in condition.tests)
    count = 1
    for test in condition.tests:
        count *= len(test.equals) if test.equals is not None else 1
    return count


def branch_count(condition: Condition) -> int:
    """How many conjunctions the condition expands to; TooComplexError past MAX_BRANCHES."""

    def leaf(node: Match | Count | ScenarioTest, negated: bool) -> list[list[None]]:
        if isinstance(node, ScenarioTest):
            return [[None] for _ in range(scenario_alternatives(node, negated))]
        return [[None]]

    return len(normal_form(condition, leaf))
