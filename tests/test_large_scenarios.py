"""Scenarios up to the 100-observation limit: durable_rules 2.0.28 corrupts its heap when one
fact fires 65 rules or more (a valid scenario of 59 observations aborted the process), so such a
fact is asserted on chunks of the ruleset. These tests drive facts past that point."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Level, RuleBook
from therapy_signals.engine._durable import MAX_FIRED
from therapy_signals.engine._evaluate import evaluate
from therapy_signals.engine._facts import to_fact
from therapy_signals.strategies import scenarios

from .conftest import encoded_with_counts

_EVERY_FIELD = {
    "frequency": "often",
    "duration": "months",
    "impact": "severe",
    "initiated_by": "therapist",
    "where": "online",
    "response": "defensive",
    "months_after_ending": 3,
}


def _largest(book: RuleBook) -> dict[str, Any]:
    """Every signal with every field given, then more of the same signals, to 100 observations."""
    observations: list[dict[str, Any]] = [{"signal": s, **_EVERY_FIELD} for s in sorted(book.signals)]
    extra = [{"signal": s, "frequency": "once"} for s in sorted(book.signals)]
    return {"setting": "couples", "sessions": 40, "observations": (observations + extra)[:100]}


def _python_fired(engine: Engine, scenario: Any) -> frozenset[str]:
    encoded, _ = encoded_with_counts(engine, scenario)
    return frozenset(r for r, rule in engine.rulebook.rules.items() if evaluate(rule.when, encoded).ok)


def test_the_largest_scenario_is_answered_in_a_process_of_its_own(book: RuleBook) -> None:
    # In a subprocess, so a heap corruption shows as a failed test, not a crashed test run.
    script = (
        "import json, sys\n"
        "from therapy_signals import Engine\n"
        "g = Engine().explain(json.loads(sys.stdin.read()))\n"
        "g.to_text(); g.to_html()\n"
        "print(g.level.value, len(g.findings))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(_largest(book)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "urgent"


def test_a_fact_past_the_bound_takes_the_chunked_path_and_fires_the_same_rules(engine: Engine, book: RuleBook) -> None:
    scenario = _largest(book)
    encoded, counts = encoded_with_counts(engine, scenario)
    assert engine._backend._might_fire(to_fact(encoded, "", counts)) > MAX_FIRED
    fired = engine.fired(scenario)
    assert len(fired) > MAX_FIRED  # more rules than one Host may fire for one fact
    assert fired == _python_fired(engine, scenario)
    assert engine.explain(scenario).level is Level.urgent


@settings(max_examples=40, deadline=None)
@given(scenarios(min_observations=30, max_observations=100))
def test_large_scenarios_fire_what_the_python_evaluator_says(engine: Engine, scenario: Any) -> None:
    assert engine.fired(scenario) == _python_fired(engine, scenario)


@settings(max_examples=40, deadline=None)
@given(st.integers(30, 87), st.booleans())
def test_many_distinct_signals_with_or_without_context(engine: Engine, book: RuleBook, count: int, full: bool) -> None:
    signals = sorted(book.signals)[:count]
    scenario = {"observations": [{"signal": s, **(_EVERY_FIELD if full else {})} for s in signals]}
    assert engine.fired(scenario) == _python_fired(engine, scenario)
