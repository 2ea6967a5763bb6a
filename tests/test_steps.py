"""Next steps: a finding's own steps stand alone, and no step is said twice, even in other
words (issue 11: "reach the resources above now" came twice, and partner violence was told
to raise it with the therapist)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings

from therapy_signals import Engine, Level
from therapy_signals.strategies import scenarios

_WORD = re.compile(r"[a-z']+")
_SMALL = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "to",
        "of",
        "you",
        "your",
        "it",
        "is",
        "be",
        "can",
        "if",
        "in",
        "on",
        "for",
        "with",
        "this",
        "that",
        "now",
        "one",
    ]
)


def _content(step: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(step.lower()) if w not in _SMALL)


def _near_repeats(steps: list[str]) -> list[tuple[str, str]]:
    found = []
    for a, b in itertools.combinations(steps, 2):
        wa, wb = _content(a), _content(b)
        if wa and wb and len(wa & wb) / min(len(wa), len(wb)) >= 0.8:
            found.append((a, b))
    return found


@settings(max_examples=400, deadline=None)
@given(scenarios(max_observations=6))
def test_no_step_is_said_twice_even_in_other_words(engine: Engine, scenario: Any) -> None:
    steps = engine.explain(scenario, render=False).steps
    assert len(steps) == len(set(steps))
    assert not _near_repeats(steps)


def test_partner_violence_is_never_told_to_raise_it_with_the_therapist(engine: Engine) -> None:
    for frequency in ("once", "often"):
        g = engine.explain({"observations": [{"signal": "partner_violence_disclosed", "frequency": frequency}]})
        assert not any("raise it directly" in s.lower() for s in g.steps), g.steps


def test_a_findings_own_steps_replace_the_levels_general_ones(engine: Engine) -> None:
    general = engine.renderer.strings.steps
    g = engine.explain({"observations": [{"signal": "client_self_harm_risk"}]})
    assert g.level is Level.urgent
    assert g.steps and not set(general[Level.urgent]) & set(g.steps)


def test_the_general_steps_come_when_no_finding_gives_its_own(engine: Engine, book: Any) -> None:
    bare = [
        r
        for r in book.rules.values()
        if not r.steps and getattr(r.when, "is_presence", False) and r.level > Level.normal
    ]
    assert bare, "the rule base has no presence rule without steps to try"
    for rule in bare[:10]:
        signal = sorted(rule.when.signals)[0]
        g = engine.explain({"observations": [{"signal": signal}]})
        if all(not f.steps for f in g.findings if f.level is g.level):
            assert g.steps == engine.renderer.strings.steps[g.level]
