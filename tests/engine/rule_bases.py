"""Hypothesis strategies for whole rule bases that use every form of the rule language.

A generated base reuses the shipped one's signals (a handful of them, so that rules and
observations meet often), sources and templates; only its rules are new. It skips the
rule checker on purpose: the backends must agree on every condition tree the language
can express, not only on the ones a rule file may hold.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from therapy_signals import RuleBook, load_rulebook
from therapy_signals._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS, FieldSpec
from therapy_signals._normal_form import TooComplexError, branch_count
from therapy_signals.model import Category, Level
from therapy_signals.rulebook import Rule

SHIPPED = load_rulebook()
# Two signals of each category: matches by signal and by category both meet observations.
POOL = tuple(
    name
    for category in Category
    for name in sorted(n for n, s in SHIPPED.signals.items() if s.category is category)[:2]
)


def _word(spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.kind in ("ordinal", "nominal"):
        return st.sampled_from(spec.values)
    if spec.kind == "bool":
        return st.booleans()
    return st.integers(spec.low, min(spec.high, 200))


def field_value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A value as a rule writes it: one word, a list (with ``unknown``), or a range."""
    one = _word(spec)
    many = st.lists(one | st.just("unknown"), min_size=1, max_size=3, unique=True)
    forms = [one, many]
    if spec.kind in ("ordinal", "number"):
        low, high = (1, len(spec.values)) if spec.kind == "ordinal" else (spec.low, 200)

        def bounds(pair: tuple[int, int]) -> dict[str, Any]:
            a, b = sorted(pair)
            word = (lambda i: spec.values[i - 1]) if spec.kind == "ordinal" else (lambda i: i)
            return {"at_least": word(a), "at_most": word(b)}

        pair = st.tuples(st.integers(low, high), st.integers(low, high))
        forms += [
            pair.map(bounds),
            pair.map(bounds).map(lambda b: {"at_least": b["at_least"]}),
            pair.map(bounds).map(lambda b: {"at_most": b["at_most"]}),
        ]
    return st.one_of(forms)


@st.composite
def match(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    by = draw(st.sampled_from(("signal", "signals", "category", "both")))
    if by in ("signal", "both"):
        found["signal"] = draw(st.sampled_from(POOL))
    if by == "signals":
        found["signal"] = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True))
    if by in ("category", "both"):
        found["category"] = draw(st.sampled_from([c.value for c in Category]))
    for name in draw(st.lists(st.sampled_from(sorted(OBSERVATION_FIELDS)), max_size=3, unique=True)):
        found[name] = draw(field_value(OBSERVATION_FIELDS[name]))
    return found


@st.composite
def scenario_test(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(SCENARIO_FIELDS)), min_size=1, max_size=2, unique=True))
    return {name: draw(field_value(SCENARIO_FIELDS[name])) for name in names}


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    count = st.builds(lambda m, n: {"count": m, "at_least": n}, match(), st.integers(1, 3))
    return st.one_of(match(), match(), count, scenario_test())


def conditions() -> st.SearchStrategy[dict[str, Any]]:
    """Condition trees of every form: matches, counts, scenario tests, all, any and not."""
    return st.recursive(
        leaves(),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda c: {"all": c}),
            st.lists(inner, min_size=1, max_size=3).map(lambda c: {"any": c}),
            inner.map(lambda c: {"not": c}),
        ),
        max_leaves=6,
    )


def _expands_within_bounds(rule: Rule) -> bool:
    try:
        branch_count(rule.when)
    except TooComplexError:
        return False
    return True


@st.composite
def rule(draw: st.DrawFn, index: int) -> Rule:
    category = draw(st.sampled_from(list(Category)))
    return Rule.model_validate(
        {
            "id": f"{category.value}.generated-{index}",
            "title": f"Generated rule {index}",
            "category": category.value,
            "level": draw(st.sampled_from([level.value for level in Level])),
            "when": draw(conditions()),
            "normal_when": "When it is generated.",
            "explain": "everyday/feeling-challenged.j2",
            "references": ["guide#everyday-challenges"],
        }
    )


@st.composite
def rule_bases(draw: st.DrawFn, max_rules: int = 6) -> RuleBook:
    """A rule base of generated rules, some superseding others, over the signal pool."""
    size = draw(st.integers(1, max_rules))
    rules = [draw(rule(i).filter(_expands_within_bounds)) for i in range(size)]
    ids = [r.id for r in rules]
    chosen = []
    for r in rules:
        others = [i for i in ids if i != r.id]
        supersedes = draw(st.lists(st.sampled_from(others), max_size=2, unique=True)) if others else []
        chosen.append(r.model_copy(update={"supersedes": supersedes}))
    signals = {name: SHIPPED.signals[name] for name in POOL}
    return RuleBook(
        SHIPPED.root,
        SHIPPED.meta,
        signals,
        SHIPPED.sources,
        SHIPPED.resources,
        {r.id: r for r in chosen},
        {},
    )
