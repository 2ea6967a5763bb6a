"""The classes of meaning the linter must read, case by case, from ``meaning.yaml``.

Each case is a short article linted through the real linter; the findings of the four
meaning checks must be exactly the expected ones (line and check), and where a case names a
signal, the finding's signal must be it (or one of a list). The expectations follow from
what the article means and from the rule base, never from what the linter does today.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from therapy_signals.lint import Linter

HERE = Path(__file__).parent
CASES_FILE = HERE / "meaning.yaml"
SIGNALS_FILE = HERE.parents[1] / "rules" / "signals.yaml"

MEANING_CHECKS = frozenset(
    {
        "statement.normalises-concern",
        "framing.concern-listed-as-normal",
        "framing.normal-listed-as-warning",
        "safety.no-next-steps",
    }
)
CLASSES = (
    "question-answer",
    "reference",
    "acceptance-without-normal",
    "negation",
    "who-does-what",
    "word-sense",
    "paraphrase",
    "next-steps",
)
MIN_CASES = 6


def load_cases() -> list[dict[str, Any]]:
    data = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    return list(data["cases"])


CASES = load_cases()


def case_ids(cases: list[dict[str, Any]]) -> list[str]:
    seen: Counter[str] = Counter()
    ids = []
    for case in cases:
        seen[case["class"]] += 1
        ids.append(f"{case['class']}-{seen[case['class']]}")
    return ids


def allowed_signals(expected: dict[str, Any]) -> set[str] | None:
    signal = expected.get("signal")
    if signal is None:
        return None
    return {signal} if isinstance(signal, str) else set(signal)


def _marked(cases: list[dict[str, Any]]) -> list[Any]:
    """A case with a ``gap`` is a known limit, written down in docs/writers.md: it must still
    fail (strict), so that the day it passes its ``gap`` and the docs are updated."""
    return [
        pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=case["gap"])) if "gap" in case else case
        for case in cases
    ]


@pytest.mark.parametrize("case", _marked(CASES), ids=case_ids(CASES))
def test_case(linter: Linter, case: dict[str, Any]) -> None:
    findings = [f for f in linter.lint_text(case["markdown"]) if f.check in MEANING_CHECKS]
    found = {(f.line, f.check) for f in findings}
    expected = {(e["line"], e["check"]) for e in case["expect"]}
    described = [(f.line, f.check, f.signal) for f in findings]
    assert found == expected, f"found {described}"
    for e in case["expect"]:
        signals = allowed_signals(e)
        if signals is None:
            continue
        got = {f.signal for f in findings if (f.line, f.check) == (e["line"], e["check"])}
        assert got <= signals, (
            f"line {e['line']} {e['check']}: signal {sorted(map(str, got))}, expected one of {sorted(signals)}"
        )


def test_every_class_has_enough_cases_both_ways() -> None:
    for name in CLASSES:
        cases = [c for c in CASES if c["class"] == name]
        assert len(cases) >= MIN_CASES, f"{name}: {len(cases)} cases"
        assert any(c["expect"] for c in cases), f"{name}: no case that must be flagged"
        assert any(not c["expect"] for c in cases), f"{name}: no look-alike that must not be flagged"


def test_cases_are_well_formed() -> None:
    known = {s["id"] for s in yaml.safe_load(SIGNALS_FILE.read_text(encoding="utf-8"))["signals"]}
    for case_id, case in zip(case_ids(CASES), CASES, strict=True):
        assert case["class"] in CLASSES, case_id
        assert {"class", "markdown", "expect"} <= set(case) <= {"class", "markdown", "expect", "gap"}, case_id
        assert "patient" not in case["markdown"].lower(), f"{case_id}: write 'client'"
        lines = case["markdown"].count("\n") + 1
        for e in case["expect"]:
            assert e["check"] in MEANING_CHECKS, case_id
            assert 1 <= e["line"] <= lines, case_id
            assert (allowed_signals(e) or set()) <= known, f"{case_id}: unknown signal in {e}"
