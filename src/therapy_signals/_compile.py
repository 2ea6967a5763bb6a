"""Compile rule conditions to durable_rules' JSON ruleset format.

Each rule becomes ``{rule_id: {"all": [{"m": EXPR}], "run": rule_id}}`` over the one fact
per scenario. Observation matches become ``$iany`` over ``$i.field``; ``not`` is pushed
down to the leaves (De Morgan), a negated match becoming ``$iall`` over the complement,
because durable_rules has no general negation operator. Every complement is exact under
the encoding in ``_fields``: "not given" fails every positive test and passes its negation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .conditions import All, Any_, Condition, Count, Match, Not, ScenarioTest, Test

Expr = dict[str, Any]
CountKey = Callable[[Match], str]


def _conjoin(op: str, parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else {op: parts}


def _equals(key: str, value: Any, negated: bool) -> Expr:
    return {"$neq": {key: value}} if negated else {key: value}


def _field(key: str, test: Test, negated: bool) -> Expr:
    if test.equals is not None:
        values = sorted(test.equals, key=str)
        parts = [_equals(key, v, negated) for v in values]
        return _conjoin("$and" if negated else "$or", parts)
    if negated:
        return {"$or": [{"$lt": {key: test.low}}, {"$gt": {key: test.high}}]}
    return {"$and": [{"$gte": {key: test.low}}, {"$lte": {key: test.high}}]}


def _item(match: Match, negated: bool) -> Expr:
    """The test of one list item ($i) for a match, or its exact complement."""
    parts: list[Expr] = []
    if match.signals is not None:
        parts.append(_one_of("$i.signal", match.signals))
    if match.categories is not None:
        parts.append(_one_of("$i.category", {c.value for c in match.categories}))
    parts.extend(_field(f"$i.{t.field.name}", t, False) for t in match.tests)
    if not negated:
        return _conjoin("$and", parts)
    negated_parts = [_negate_item(p) for p in parts]
    return _conjoin("$or", negated_parts)


def _one_of(key: str, values: Iterable[str]) -> Expr:
    return _conjoin("$or", [{key: v} for v in sorted(values)])


def _negate_item(expr: Expr) -> Expr:
    """Exact complement of an item expression built by ``_field``."""
    (op, body), = expr.items()
    if op == "$or":
        return _conjoin("$and", [_negate_item(p) for p in body])
    if op == "$and":
        return _conjoin("$or", [_negate_item(p) for p in body])
    flips = {"$neq": None, "$gte": "$lt", "$lte": "$gt", "$lt": "$gte", "$gt": "$lte"}
    if op in flips:
        flipped = flips[op]
        return dict(body) if flipped is None else {flipped: body}
    return {"$neq": {op: body}}


def compile_condition(condition: Condition, count_key: CountKey, negated: bool = False) -> Expr:
    """The durable_rules expression for a condition (or its complement when ``negated``)."""
    if isinstance(condition, All):
        parts = [compile_condition(c, count_key, negated) for c in condition.all]
        return _conjoin("$or" if negated else "$and", parts)
    if isinstance(condition, Any_):
        parts = [compile_condition(c, count_key, negated) for c in condition.any]
        return _conjoin("$and" if negated else "$or", parts)
    if isinstance(condition, Not):
        return compile_condition(condition.not_, count_key, not negated)
    if isinstance(condition, Match):
        quantifier = "$iall" if negated else "$iany"
        return {quantifier: {"observations": _item(condition, negated)}}
    if isinstance(condition, Count):
        op = "$lt" if negated else "$gte"
        return {op: {count_key(condition.count): condition.at_least}}
    return _scenario(condition, negated)


def _scenario(condition: ScenarioTest, negated: bool) -> Expr:
    parts = [_field(t.field.name, t, False) for t in condition.tests]
    if negated:
        return _conjoin("$or", [_negate_item(p) for p in parts])
    return _conjoin("$and", parts)


def compile_ruleset(conditions: Mapping[str, Condition], count_key: CountKey) -> dict[str, Any]:
    """A durable_rules ruleset: one rule per rule id, whose action is named by the id."""
    return {
        rule_id: {"all": [{"m": compile_condition(cond, count_key)}], "run": rule_id}
        for rule_id, cond in conditions.items()
    }
