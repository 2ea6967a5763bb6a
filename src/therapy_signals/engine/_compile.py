"""Compile rule conditions to durable_rules' JSON ruleset format.

A rule's condition is put in disjunctive normal form at the fact level: each branch is a
conjunction, and becomes its own durable_rules rule ``"<rule id>#<n>"`` whose action is
the rule id. Inside a branch:

* a positive observation match is ``$iany`` over a conjunction of per-property tests, on
  the properties' one-letter fact keys (``_fields.FACT_KEYS``); a match on one signal and
  nothing else is the top-level ``p_<signal> == 1`` instead (``_fields.presence_key``);
* a negated match is ``$iall`` over its complement, a disjunction of per-property
  complements (``not`` is pushed down by De Morgan; durable_rules has no negation);
* counts and scenario tests compare top-level fact properties.

Why this shape (docs/decisions/0007-durable-or-normal-form.md): durable_rules 2.0.28
mis-evaluates ``$or`` whose alternatives test different properties in different orders,
at the fact level and inside ``$iany``/``$iall`` (probed: ``$iany`` of
``$or[signal == a, impact > 2]`` missed an observation with signal a). So no ``$or``
here ever spans properties, except the complement inside ``$iall``, where every
alternative tests the same properties in the same order, padded with tautologies;
that form was probed to evaluate correctly, and a property test checks every compiled
rule against the Python evaluator.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from .._fields import FACT_KEYS, OBSERVATION_FIELDS, presence_key
from .._normal_form import normal_form
from ..conditions import Condition, Count, Match, ScenarioTest, Test

Expr = dict[str, Any]
Branch = list[Expr]
CountKey = Callable[[Match], str]

_ORDER = ("signal", "category", *OBSERVATION_FIELDS)
_NEVER = "~"  # no encoded string value is this, so `!= _NEVER` always holds; printable, so the
# ruleset has no escapes (first suspected for error 102, whose cause was _item_body's $or)
_LOWEST = 0  # every encoded number is at least 0 (see _fields: nothing is negative)


def _item(prop: str) -> str:
    """The durable_rules path of an observation property (its one-letter fact key)."""
    return f"$i.{FACT_KEYS[prop]}"


def _tautology(prop: str) -> Expr:
    key = _item(prop)
    spec = OBSERVATION_FIELDS.get(prop)
    if spec is not None and spec.kind in ("ordinal", "number"):
        return {"$gte": {key: _LOWEST}}
    return {"$neq": {key: _NEVER}}


def _groups(match: Match) -> dict[str, Test | frozenset[str]]:
    """The per-property tests of a match, by property name."""
    groups: dict[str, Test | frozenset[str]] = {}
    if match.signals is not None:
        groups["signal"] = match.signals
    if match.categories is not None:
        groups["category"] = frozenset(c.value for c in match.categories)
    for test in match.tests:
        groups[test.field.name] = test
    return {p: groups[p] for p in _ORDER if p in groups}


def _holds(key: str, group: Test | frozenset[str]) -> list[Expr]:
    """Atoms (ANDed) that hold when the property passes; one same-property $or at most."""
    values = group if isinstance(group, frozenset) else group.equals
    if values is not None:
        ordered = sorted(values, key=str)
        if len(ordered) == 1:
            return [{key: ordered[0]}]
        return [{"$or": [{key: v} for v in ordered]}]
    assert isinstance(group, Test)
    return [{"$gte": {key: group.low}}, {"$lte": {key: group.high}}]


def _fails(key: str, group: Test | frozenset[str]) -> list[list[Expr]]:
    """Alternatives (ORed), each a list of atoms (ANDed), that hold when the property fails."""
    values = group if isinstance(group, frozenset) else group.equals
    if values is not None:
        return [[{"$neq": {key: v}} for v in sorted(values, key=str)]]
    assert isinstance(group, Test)
    return [[{"$lt": {key: group.low}}], [{"$gt": {key: group.high}}]]


def _positive(match: Match) -> Expr:
    groups = _groups(match)
    signals = groups.get("signal")
    if len(groups) == 1 and isinstance(signals, frozenset) and len(signals) == 1:  # "was it observed?"
        (signal,) = signals
        return {presence_key(signal): 1}
    atoms = [a for prop, group in groups.items() for a in _holds(_item(prop), group)]
    return {"$iany": {"observations": _item_body(atoms)}}


def _negative(match: Match) -> Expr:
    groups = _groups(match)
    alternatives: list[Expr] = []
    for prop, group in groups.items():
        for failing in _fails(_item(prop), group):
            atoms: list[Expr] = []
            for other in groups:
                atoms.extend(failing if other == prop else [_tautology(other)])
            alternatives.append({"$and": atoms})
    return {"$iall": {"observations": _item_body([{"$or": alternatives}] if len(alternatives) > 1 else alternatives)}}


def _item_body(atoms: list[Expr]) -> Expr:
    """The test inside ``$iany``/``$iall``: the atoms ANDed, never ending in an ``$or``.

    durable_rules 2.0.28 checks the type of the last node an item test built, and for an
    ``$or`` that node is a forward node whose type it never set: uninitialised memory, so
    now and then ``create_ruleset`` failed with error 102 (seen under valgrind as a
    conditional jump on uninitialised values in createAlpha; decision 0007). A trailing
    tautology on the signal key makes the last node an ordinary comparison.
    """
    if "$or" in atoms[-1]:
        atoms = [*atoms, _tautology("signal")]
    return atoms[0] if len(atoms) == 1 else {"$and": atoms}


def _scenario(condition: ScenarioTest, negated: bool) -> list[Branch]:
    if negated:
        return [alt for t in condition.tests for alt in _fails(t.field.name, t)]
    per_test: list[list[Branch]] = []
    for test in condition.tests:
        if test.equals is not None:
            per_test.append([[{test.field.name: v}] for v in sorted(test.equals, key=str)])
        else:
            per_test.append([_holds(test.field.name, test)])
    return [[a for part in combo for a in part] for combo in itertools.product(*per_test)]


def branches(condition: Condition, count_key: CountKey) -> list[Branch]:
    """The condition as alternatives of conjunctions of durable atoms."""

    def atoms(node: Match | Count | ScenarioTest, negated: bool) -> list[Branch]:
        if isinstance(node, Match):
            return [[_negative(node) if negated else _positive(node)]]
        if isinstance(node, Count):
            op = "$lt" if negated else "$gte"
            return [[{op: {count_key(node.count): node.at_least}}]]
        return _scenario(node, negated)

    return normal_form(condition, atoms)


Reach = Callable[[Match], frozenset[str]]


def needs(condition: Condition, reach: Reach) -> list[frozenset[str] | None]:
    """For each branch, in the order of :func:`branches`: fact keys of which at least one must
    be present for it to fire (from its tightest positive match or count), or None if any fact
    might fire it. A bound on how many rules a fact can fire, computed before asserting it."""

    def leaf(node: Match | Count | ScenarioTest, negated: bool) -> list[list[frozenset[str]]]:
        if isinstance(node, ScenarioTest):
            return [[] for _ in _scenario(node, negated)]
        if negated:
            return [[]]
        return [[reach(node if isinstance(node, Match) else node.count)]]

    return [min(branch, key=len) if branch else None for branch in normal_form(condition, leaf)]


ALWAYS = "_always"
"""A durable rule that fires on every scenario fact; its firing is not reported.

durable_rules 2.0.28 frees uninitialised memory in ``delete_state`` when a state's fact
fired no rule (seen under valgrind, and as sporadic aborts), so every fact fires this.
"""


def fire_needs(conditions: Mapping[str, Condition], reach: Reach) -> dict[str, frozenset[str] | None]:
    """:func:`needs` for every durable rule :func:`compile_ruleset` makes, by its name."""
    found: dict[str, frozenset[str] | None] = {ALWAYS: None}
    for rule_id, condition in conditions.items():
        for index, need in enumerate(needs(condition, reach)):
            found[f"{rule_id}#{index}"] = need
    return found


def compile_ruleset(conditions: Mapping[str, Condition], count_key: CountKey) -> dict[str, Any]:
    """A durable_rules ruleset: one durable rule per branch, its action named by the rule id."""
    ruleset: dict[str, Any] = {ALWAYS: {"all": [{"m": {"$gte": {"sessions": _LOWEST}}}], "run": ALWAYS}}
    for rule_id, condition in conditions.items():
        for index, branch in enumerate(branches(condition, count_key)):
            expression = branch[0] if len(branch) == 1 else {"$and": branch}
            ruleset[f"{rule_id}#{index}"] = {"all": [{"m": expression}], "run": rule_id}
    return ruleset
