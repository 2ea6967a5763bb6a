"""The scenario suite in tests/scenarios/: cases written from the guide and DOMAIN.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from therapy_signals import Engine, Level, Setting
from therapy_signals.suite import Case, check_case, load_suite

SUITE = Path(__file__).parent / "scenarios"
CASES = load_suite([SUITE]) if SUITE.is_dir() else []


def test_the_suite_is_big_and_varied() -> None:
    assert len(CASES) >= 80
    assert {c.level for c in CASES} == set(Level)
    scenarios = [c.scenario for c in CASES]
    couples = [s for s in scenarios if s.get("setting") == Setting.couples.value]
    responded = [s for s in scenarios if any("response" in o for o in s["observations"])]
    assert len(couples) >= 8 and len(responded) >= 10
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names), "case names are unique"


def test_mixed_cases_everyday_plus_one_safety_sign(engine: Engine) -> None:
    book = engine.rulebook
    mixed = [
        c
        for c in CASES
        if {book.category_of(o["signal"]).value for o in c.scenario["observations"]} >= {"everyday", "safety"}
    ]
    assert len(mixed) >= 5
    assert all(c.level >= Level.concern for c in mixed)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(engine: Engine, case: Case) -> None:
    result = check_case(engine, case)
    assert result.passed, f"{case.where}: " + "; ".join(result.problems)
