"""Encode a Scenario as the one durable_rules fact it is asserted as.

The scenario goes in as ONE fact with its observations in a list, not one fact per
observation: absence tests across separate facts are order-dependent in durable_rules
(see docs/decisions/0001-one-fact-per-scenario.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._fields import FACT_KEYS, OBSERVATION_FIELDS, SCENARIO_FIELDS, Encoded, presence_key
from ..model import Category, Scenario


@dataclass(frozen=True)
class EncodedScenario:
    """A scenario's observations and setting in the fact encoding, shared by both evaluators."""

    observations: tuple[Mapping[str, Encoded], ...]
    scenario: Mapping[str, Encoded]


def encode(scenario: Scenario, categories: Mapping[str, Category]) -> EncodedScenario:
    """Encode every field, known or not, so durable_rules sees each property on each item."""
    observations = []
    for observation in scenario.observations:
        item: dict[str, Encoded] = {
            "signal": observation.signal,
            "category": categories[observation.signal].value,
        }
        for name, spec in OBSERVATION_FIELDS.items():
            value = observation.was_raised if name == "raised" else getattr(observation, name)
            item[name] = spec.encode(value)
        observations.append(item)
    setting = {name: spec.encode(getattr(scenario, name)) for name, spec in SCENARIO_FIELDS.items()}
    return EncodedScenario(tuple(observations), setting)


def to_fact(encoded: EncodedScenario, sid: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """The fact asserted under a fresh sid; ``counts`` are derived values rules compare.

    Observation properties go in under their one-letter ``FACT_KEYS``, and each observed
    signal also as a top-level ``p_<signal>: 1`` for the rules that only ask if it was seen.
    """
    observations = [{FACT_KEYS[name]: value for name, value in o.items()} for o in encoded.observations]
    fact: dict[str, Any] = {"sid": sid, "observations": observations}
    fact.update((presence_key(str(o["signal"])), 1) for o in encoded.observations)
    fact.update(encoded.scenario)
    fact.update(counts)
    return fact
