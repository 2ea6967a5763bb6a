"""The condition language of a rule's ``when``: a small tree, validated by Pydantic.

A condition is one of:

* an observation match: ``{signal: x, frequency: {at_least: often}}``; true when some
  observation has that signal (or category) and every named context field passes;
* ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``; joins across observations are an
  ``all`` of several matches;
* ``{count: {category: boundaries}, at_least: 3}``: how many distinct signals match;
* a scenario test: ``{setting: couples}``, ``{sessions: {at_least: 6}}``.

A context field's test is a value, a list of values (``unknown`` stands for "not
given"), or a range ``{at_least: a, at_most: b}``. A range never matches "not given".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from ._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS, UNKNOWN, Encoded, FieldSpec
from .model import Category

__all__ = [
    "All",
    "AnyOf",
    "Bounds",
    "Condition",
    "Count",
    "Match",
    "Not",
    "ScenarioTest",
    "Test",
    "children",
    "describe",
    "walk",
]

Scalar = str | int | bool
_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Bounds(BaseModel):
    """An inclusive range over an ordinal or numeric field."""

    model_config = _STRICT

    at_least: Scalar | None = None
    at_most: Scalar | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Bounds:
        if self.at_least is None and self.at_most is None:
            raise ValueError("a range needs at_least, at_most, or both")
        return self


FieldValue = Scalar | list[Scalar] | Bounds


@dataclass(frozen=True)
class Test:
    """A compiled test of one field: membership in a set, or an inclusive range."""

    field: FieldSpec
    equals: frozenset[Encoded] | None = None
    low: int | None = None
    high: int | None = None

    def passes(self, value: Encoded) -> bool:
        if self.equals is not None:
            return value in self.equals
        if value == self.field.unknown:
            return False
        number = int(value)
        assert self.low is not None and self.high is not None
        return self.low <= number <= self.high

    def describe(self) -> str:
        name = self.field.name
        if self.equals is not None:
            words = sorted(self.field.decode(v) for v in self.equals)
            return f"{name} is {words[0]}" if len(words) == 1 else f"{name} is one of {', '.join(words)}"
        assert self.low is not None and self.high is not None
        low, high = self.field.decode(self.low), self.field.decode(self.high)
        if self.low == self.field.smallest:
            return f"{name} at most {high}"
        if self.high == self.field.largest:
            return f"{name} at least {low}"
        return f"{name} from {low} to {high}"


def compile_test(spec: FieldSpec, value: FieldValue) -> Test:
    """Turn a field's value as written in a rule into a Test; ValueError names the choices."""
    if isinstance(value, Bounds):
        if spec.kind not in ("ordinal", "number"):
            raise ValueError(
                f"{spec.name}: at_least/at_most only work on ordered fields; "
                f"give a value or a list of values ({spec.allowed()})"
            )
        if UNKNOWN in (value.at_least, value.at_most):
            # A range never matches "not given", so "unknown" cannot bound one (durable_rules
            # would compare its encoding as a number, and answer otherwise than the evaluators).
            raise ValueError(
                f"{spec.name}: unknown cannot bound a range (a range never matches a value not given); "
                f"bound it with {spec.allowed()}, or list unknown among values instead"
            )
        low = spec.smallest if value.at_least is None else int(spec.encode_word(value.at_least))
        high = spec.largest if value.at_most is None else int(spec.encode_word(value.at_most))
        if low > high:
            raise ValueError(f"{spec.name}: at_least is above at_most, so nothing can match")
        return Test(spec, low=low, high=high)
    words = value if isinstance(value, list) else [value]
    if not words:
        raise ValueError(f"{spec.name}: an empty list matches nothing; use {spec.allowed()}")
    return Test(spec, equals=frozenset(spec.encode_word(w) for w in words))


class Match(BaseModel):
    """True when at least one observation has the signal (or category) and passes every test."""

    model_config = _STRICT

    signal: str | list[str] | None = None
    category: Category | list[Category] | None = None
    frequency: FieldValue | None = None
    duration: FieldValue | None = None
    impact: FieldValue | None = None
    initiated_by: FieldValue | None = None
    where: FieldValue | None = None
    response: FieldValue | None = None
    raised: FieldValue | None = None
    months_after_ending: FieldValue | None = None

    @model_validator(mode="before")
    @classmethod
    def _scenario_fields(cls, data: Any) -> Any:
        misplaced = sorted(set(data) & set(SCENARIO_FIELDS)) if isinstance(data, dict) else []
        if misplaced:
            names = ", ".join(repr(m) for m in misplaced)
            raise ValueError(
                f"{names} is a field of the scenario, not of an observation: test it in a condition of its own "
                f"beside this match, e.g. all: [{{signal: ...}}, {{{misplaced[0]}: ...}}]"
            )
        return data

    @model_validator(mode="after")
    def _compile(self) -> Match:
        if self.signal is None and self.category is None:
            raise ValueError("an observation match needs 'signal' or 'category'")
        if isinstance(self.signal, list) and not self.signal:
            raise ValueError("signal: an empty list matches nothing")
        _ = self.tests  # compile now, so a bad value is an error at load time
        return self

    # Matches are evaluated for every observation of every scenario: derived values are
    # computed once (the model is frozen, so they cannot go stale).
    @cached_property
    def tests(self) -> tuple[Test, ...]:
        return tuple(
            compile_test(spec, getattr(self, name))
            for name, spec in OBSERVATION_FIELDS.items()
            if getattr(self, name) is not None
        )

    @cached_property
    def signals(self) -> frozenset[str] | None:
        """The signal ids named, or None when the match goes by category only."""
        if self.signal is None:
            return None
        return frozenset([self.signal] if isinstance(self.signal, str) else self.signal)

    @cached_property
    def categories(self) -> frozenset[Category] | None:
        if self.category is None:
            return None
        return frozenset([self.category] if isinstance(self.category, Category) else self.category)

    @cached_property
    def category_values(self) -> frozenset[str] | None:
        return None if self.categories is None else frozenset(c.value for c in self.categories)

    @property
    def is_presence(self) -> bool:
        """A bare ``{signal: ...}`` with no context: fires on the signal alone."""
        return self.signal is not None and self.category is None and not self.tests

    def describe(self) -> str:
        return self.description

    @cached_property
    def description(self) -> str:
        parts = []
        if self.signals is not None:
            names = sorted(self.signals)
            parts.append(f"signal is {names[0]}" if len(names) == 1 else f"signal is one of {', '.join(names)}")
        if self.categories is not None:
            names = sorted(c.value for c in self.categories)
            parts.append(f"category is {' or '.join(names)}")
        parts.extend(test.describe() for test in self.tests)
        return " and ".join(parts)


class Count(BaseModel):
    """True when at least ``at_least`` distinct signals match ``count``."""

    model_config = _STRICT

    count: Match
    at_least: Annotated[int, Field(ge=1, le=100)]


class ScenarioTest(BaseModel):
    """A test of the scenario itself: its setting and how many sessions so far."""

    model_config = _STRICT

    setting: FieldValue | None = None
    sessions: FieldValue | None = None

    @model_validator(mode="after")
    def _compile(self) -> ScenarioTest:
        if not self.tests:
            raise ValueError("a scenario test needs 'setting' or 'sessions'")
        return self

    @cached_property
    def tests(self) -> tuple[Test, ...]:
        return tuple(
            compile_test(spec, getattr(self, name))
            for name, spec in SCENARIO_FIELDS.items()
            if getattr(self, name) is not None
        )


class All(BaseModel):
    """True when every condition is true."""

    model_config = _STRICT

    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(BaseModel):
    """True when at least one condition is true."""

    model_config = _STRICT

    any: Annotated[list[Condition], Field(min_length=1)]


class Not(BaseModel):
    """True when the condition is false."""

    model_config = _STRICT

    not_: Condition = Field(alias="not")


def _kind(value: Any) -> str:
    keys = set(value) if isinstance(value, dict) else set(type(value).model_fields)
    if isinstance(value, BaseModel):
        return {All: "all", AnyOf: "any", Not: "not", Count: "count", ScenarioTest: "scenario"}.get(
            type(value), "match"
        )
    for key in ("all", "any", "not", "count"):
        if key in keys:
            return key
    if keys & {"signal", "category"}:
        return "match"  # Match says where a scenario field among its keys belongs
    if keys & set(SCENARIO_FIELDS):
        return "scenario"
    return "match"


Condition = Annotated[
    Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Count, Tag("count")]
    | Annotated[ScenarioTest, Tag("scenario")]
    | Annotated[Match, Tag("match")],
    Discriminator(_kind),
]

All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def children(condition: All | AnyOf | Not) -> list[Condition]:
    """The conditions directly under an ``all``, ``any`` or ``not``, in the order written."""
    if isinstance(condition, All):
        return list(condition.all)
    if isinstance(condition, AnyOf):
        return list(condition.any)
    return [condition.not_]


def walk(condition: Condition, negated: bool = False) -> Iterator[tuple[Condition, bool]]:
    """Every node of a condition tree with whether an odd number of ``not`` is above it."""
    yield condition, negated
    if isinstance(condition, All):
        for child in condition.all:
            yield from walk(child, negated)
    elif isinstance(condition, AnyOf):
        for child in condition.any:
            yield from walk(child, negated)
    elif isinstance(condition, Not):
        yield from walk(condition.not_, not negated)
    elif isinstance(condition, Count):
        yield condition.count, negated


def describe(condition: Condition) -> str:
    """A condition in words, for explanations and the rules reference."""
    if isinstance(condition, Match):
        return f"some observation where {condition.describe()}"
    if isinstance(condition, All):
        return "(" + " and ".join(describe(c) for c in condition.all) + ")"
    if isinstance(condition, AnyOf):
        return "(" + " or ".join(describe(c) for c in condition.any) + ")"
    if isinstance(condition, Not):
        inner = condition.not_
        if isinstance(inner, Match):
            return f"no observation where {inner.describe()}"
        return f"not {describe(inner)}"
    if isinstance(condition, Count):
        return f"at least {condition.at_least} distinct signals where {condition.count.describe()}"
    return "the scenario's " + " and ".join(t.describe() for t in condition.tests)
