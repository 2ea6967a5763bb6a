"""Witnesses: for each rule, a small scenario that makes it fire.

A witness proves a rule can fire at all (no contradictory conditions), gives
``rules validate`` something to run every template on, and gives researchers a seed
scenario per rule. The search is a bounded backtracking over the condition tree; each
candidate is checked with the same evaluator the engine uses, so a returned witness
really does satisfy the rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ._fields import Encoded, FieldSpec
from .conditions import All, AnyOf, Condition, Count, Match, Not, Test
from .engine._evaluate import evaluate
from .engine._facts import encode
from .errors import Problem, TherapySignalsError
from .model import Scenario
from .rulebook import Rule, RuleBook

if TYPE_CHECKING:
    from .engine import Engine
    from .render._renderer import Format

__all__ = ["check_rulebook", "witness"]

_MAX_CANDIDATES = 400
_FORMATS: tuple[Format, ...] = ("text", "markdown", "html")


@dataclass(frozen=True)
class _Partial:
    observations: tuple[tuple[tuple[str, Any], ...], ...] = ()
    scenario: tuple[tuple[str, Any], ...] = field(default=())

    def merge(self, other: _Partial) -> _Partial | None:
        setting = dict(self.scenario)
        for key, value in other.scenario:
            if setting.get(key, value) != value:
                return None
            setting[key] = value
        observations = tuple(dict.fromkeys(self.observations + other.observations))
        return _Partial(observations, tuple(sorted(setting.items())))


def _word(spec: FieldSpec, encoded: Encoded) -> Any:
    if encoded == spec.unknown:
        return None
    if spec.kind == "bool":
        return encoded == "true"
    if spec.kind == "number":
        return int(encoded)
    return spec.decode(encoded)


def _choices(test: Test) -> list[Any]:
    if test.equals is not None:
        known = sorted((v for v in test.equals if v != test.field.unknown), key=str)
        unknown = [test.field.unknown] if test.field.unknown in test.equals else []
        return [_word(test.field, v) for v in known + unknown]
    assert test.low is not None and test.high is not None
    return [_word(test.field, v) for v in dict.fromkeys((test.low, test.high))]


def _observations(signal: str, tests: tuple[Test, ...]) -> Iterator[tuple[tuple[str, Any], ...]]:
    names = [t.field.name for t in tests]
    for values in itertools.product(*(_choices(t) for t in tests)):
        fields = {n: v for n, v in zip(names, values, strict=True) if v is not None}
        yield tuple(sorted({"signal": signal, **fields}.items()))


def _solutions(condition: Condition, book: RuleBook, negated: bool = False) -> Iterator[_Partial]:
    if isinstance(condition, Not):
        yield from _solutions(condition.not_, book, not negated)
    elif isinstance(condition, All | AnyOf):
        children = condition.all if isinstance(condition, All) else condition.any
        if isinstance(condition, All) != negated:
            yield from _joined(children, book, _Partial(), negated)
        else:
            for child in children:
                yield from _solutions(child, book, negated)
    elif negated and isinstance(condition, Match | Count):
        yield _Partial()  # satisfied by adding nothing; checked on the whole candidate
    elif isinstance(condition, Match):
        for signal in sorted(book.signals_reached(condition)):
            for observation in _observations(signal, condition.tests):
                yield _Partial((observation,))
    elif isinstance(condition, Count):
        yield from _counted(condition, book)
    else:
        choose = _avoid if negated else _choices
        for values in itertools.product(*(choose(t) for t in condition.tests)):
            pairs = {t.field.name: v for t, v in zip(condition.tests, values, strict=True) if v is not None}
            yield _Partial((), tuple(sorted(pairs.items())))


def _avoid(test: Test) -> list[Any]:
    """Values (None for "not given") that fail the test."""
    spec = test.field
    if spec.kind == "ordinal":
        candidates: list[Encoded] = [spec.unknown, *range(1, len(spec.values) + 1)]
    elif spec.kind == "number":
        candidates = [spec.unknown, spec.low, spec.high]
    elif spec.kind == "bool":
        candidates = [spec.unknown, "true", "false"]
    else:
        candidates = [spec.unknown, *spec.values]
    return [_word(spec, v) for v in candidates if not test.passes(v)]


def _joined(children: list[Condition], book: RuleBook, acc: _Partial, negated: bool = False) -> Iterator[_Partial]:
    if not children:
        yield acc
        return
    for part in itertools.islice(_solutions(children[0], book, negated), _MAX_CANDIDATES):
        merged = acc.merge(part)
        if merged is not None:
            yield from _joined(children[1:], book, merged, negated)


def _counted(condition: Count, book: RuleBook) -> Iterator[_Partial]:
    signals = sorted(book.signals_reached(condition.count))
    for start in range(len(signals) - condition.at_least + 1):
        chosen = signals[start : start + condition.at_least]
        observations = tuple(next(_observations(s, condition.count.tests)) for s in chosen)
        yield _Partial(observations)


def _scenario(partial: _Partial) -> Scenario | None:
    try:
        return Scenario.model_validate(
            {**dict(partial.scenario), "observations": [dict(o) for o in partial.observations]}
        )
    except ValidationError:
        return None


def witness(rule: Rule, book: RuleBook) -> Scenario | None:
    """A small scenario on which the rule's condition holds, or None if none was found."""
    categories = {name: s.category for name, s in book.signals.items()}
    for partial in itertools.islice(_solutions(rule.when, book), _MAX_CANDIDATES):
        for candidate in _with_observations(partial, book):
            scenario = _scenario(candidate)
            if scenario is not None and evaluate(rule.when, encode(scenario, categories)).ok:
                return scenario.model_copy(update={"id": f"witness:{rule.id}"})
    return None


def _with_observations(partial: _Partial, book: RuleBook) -> Iterator[_Partial]:
    """The partial itself, or (a scenario needs an observation) it plus any one signal."""
    if partial.observations:
        yield partial
        return
    for signal in sorted(book.signals):
        yield _Partial(((("signal", signal),),), partial.scenario)


def check_rulebook(engine: Engine) -> list[Problem]:
    """Every rule has a witness, fires on durable_rules for it, and its template renders, in
    the Engine's locale and in every other locale of the rule base."""
    from .render import Renderer

    book = engine.rulebook
    categories = {name: s.category for name, s in book.signals.items()}
    problems: list[Problem] = []
    others = [Renderer(book, locale, engine.renderer.limits) for locale in book.locales if locale != engine.locale]
    for rule in book.rules.values():
        where = book.where(rule.id)
        found = witness(rule, book)
        if found is None:
            problems.append(
                Problem(
                    where,
                    f"rule {rule.id}: no scenario makes it fire; are its conditions contradictory?",
                )
            )
            continue
        if rule.id not in engine.fired(found):
            problems.append(
                Problem(
                    where,
                    f"rule {rule.id}: durable_rules did not fire it on {found.model_dump_json()}",
                )
            )
            continue
        try:
            encoded = encode(found, categories)
            cited = sorted(evaluate(rule.when, encoded).cited)
            engine.renderer.explanation(rule, encoded, cited)
            guidance = engine.explain(found)
            for fmt in ("text", "markdown", "html"):
                engine.renderer.layout(guidance, fmt)
        except TherapySignalsError as error:
            problems.append(Problem(where, f"rule {rule.id}: {error}"))
            continue
        for renderer in others:
            try:
                renderer.explanation(rule, encoded, cited)
                for layout in _FORMATS:
                    renderer.layout(guidance, layout)
            except TherapySignalsError as error:
                problems.append(Problem(where, f"rule {rule.id} in locale {renderer.locale!r}: {error}"))
    return problems
