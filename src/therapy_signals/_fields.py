"""The context fields a rule may test, and how each is encoded on a durable_rules fact.

One table serves the rule-file validator, the fact encoder, the Python evaluator and the
durable_rules compiler, so the four cannot disagree about what a value means.

Encoding: ordinals become their 1-based rank and "not given" is 0; nominal and boolean
values become strings and "not given" is ""; numbers stay numbers and "not given" is
NUMBER_UNKNOWN, above every allowed value. No encoded value is negative (first suspected
of durable_rules' sporadic error 102, whose cause is in decision 0007; kept, as it costs
nothing).
Every field is always present on the fact, because durable_rules never matches a
comparison on a missing property, not even a negated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from .model import Duration, Frequency, Impact, Initiator, Response, Setting, Where

Kind = Literal["ordinal", "nominal", "bool", "number"]
Encoded = int | str

NUMBER_UNKNOWN = 1_000_000
"""The encoding of a number "not given": above every field's ``high``, so no range holds it."""

UNKNOWN = "unknown"
"""The word a rule uses for "not given" in a list of values."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    scope: Literal["observation", "scenario"]
    values: tuple[str, ...] = ()
    low: int = 0
    high: int = 0

    @property
    def unknown(self) -> Encoded:
        if self.kind == "ordinal":
            return 0
        if self.kind == "number":
            return NUMBER_UNKNOWN
        return ""

    @property
    def smallest(self) -> int:
        """The smallest encoded value that means "given" (ordinals and numbers)."""
        return 1 if self.kind == "ordinal" else self.low

    @property
    def largest(self) -> int:
        return len(self.values) if self.kind == "ordinal" else self.high

    def allowed(self) -> str:
        if self.kind in ("ordinal", "nominal"):
            return ", ".join(self.values)
        if self.kind == "bool":
            return "true, false"
        return f"a whole number from {self.low} to {self.high}"

    def encode(self, value: object) -> Encoded:
        """Encode a model value (enum member, bool, int or None) for the fact."""
        if value is None:
            return self.unknown
        if isinstance(value, Enum):
            value = value.value
        if self.kind == "ordinal":
            return self.values.index(str(value)) + 1
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "number":
            return int(str(value))
        return str(value)

    def encode_word(self, word: object) -> Encoded:
        """Encode a value as written in a rule file; raise ValueError naming the choices."""
        if word == UNKNOWN:
            return self.unknown
        if self.kind == "bool":
            if isinstance(word, bool):
                return "true" if word else "false"
            raise ValueError(f"{self.name}: {word!r} is not allowed; use {self.allowed()}")
        if self.kind == "number":
            if isinstance(word, int) and not isinstance(word, bool) and self.low <= word <= self.high:
                return word
            raise ValueError(f"{self.name}: {word!r} is not allowed; use {self.allowed()}")
        if not isinstance(word, str) or word not in self.values:
            raise ValueError(f"{self.name}: {word!r} is not allowed; use {self.allowed()}")
        return self.encode(word)

    def decode(self, encoded: Encoded) -> str:
        """The word for an encoded value, for explanations."""
        if encoded == self.unknown:
            return UNKNOWN
        if self.kind == "ordinal":
            return self.values[int(encoded) - 1]
        return str(encoded)


def _words(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum)


OBSERVATION_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("frequency", "ordinal", "observation", _words(Frequency)),
        FieldSpec("duration", "ordinal", "observation", _words(Duration)),
        FieldSpec("impact", "ordinal", "observation", _words(Impact)),
        FieldSpec("initiated_by", "nominal", "observation", _words(Initiator)),
        FieldSpec("where", "nominal", "observation", _words(Where)),
        FieldSpec("response", "nominal", "observation", _words(Response)),
        FieldSpec("raised", "bool", "observation"),
        FieldSpec("months_after_ending", "number", "observation", low=0, high=1200),
    )
}

SCENARIO_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("setting", "nominal", "scenario", _words(Setting)),
        FieldSpec("sessions", "number", "scenario", low=0, high=10000),
    )
}

IDENTITY_FIELDS = ("signal", "category")
"""Observation keys that name what was observed rather than its context."""

FACT_KEYS: dict[str, str] = {
    "signal": "s",
    "category": "c",
    "frequency": "f",
    "duration": "d",
    "impact": "i",
    "initiated_by": "b",
    "where": "w",
    "response": "r",
    "raised": "a",
    "months_after_ending": "m",
}
"""Each observation property's key on the durable_rules fact: one letter, because
durable_rules parses every observation again for every rule that tests the list, and
short keys cut that parse by a fifth (docs/decisions/0008-serving-latency.md). The
Python side (encoder, evaluator, templates) keeps the full names."""


def presence_key(signal: str) -> str:
    """The top-level fact property that says a signal was observed: ``p_<signal>``, value 1.

    A rule that asks only "was this one signal observed?" tests this property instead of
    walking the observation list: durable_rules indexes top-level properties, but walks
    and re-parses the list for every rule that tests it, and most rules are such presence
    rules (decision 0008). The property is absent when the signal was not observed, so it
    is only ever tested positively: durable_rules never matches a missing property.
    """
    return f"p_{signal}"
