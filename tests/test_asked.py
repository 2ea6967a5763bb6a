"""The suite of what people ask (tests/asked/asked.yaml), with its held-out part.

Each case paraphrases a kind of question people post about their therapy, with the level
its source supports, set before the engine was run. A case the engine answers differently
must say why the rule base keeps its answer (`reviewed`), so a disagreement is a recorded
decision and never a silent one; a note on a case the engine now gets right is stale. The
held-out cases were never used to change a rule: their figures are reported apart, in
docs/asked.md, and this test keeps that table true.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from therapy_signals import Engine, Level, RuleBook

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(__file__).parent / "asked" / "asked.yaml"
DOC = ROOT / "docs" / "asked.md"
KEYS = {"name", "asked_in", "source", "level", "why", "split"}
SPLITS = ("tune", "held_out")


def _cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load(SUITE.read_text(encoding="utf-8"))["cases"])


CASES = _cases()


def test_every_case_is_well_formed(book: RuleBook) -> None:
    problems = []
    for number, case in enumerate(CASES):
        where = f"case {number} ({case.get('name', '?')[:40]})"
        missing = KEYS - set(case)
        extra = set(case) - KEYS - {"scenario", "needs", "reviewed"}
        if missing or extra:
            problems.append(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
        if ("scenario" in case) == ("needs" in case):
            problems.append(f"{where}: give a scenario or say what it needs, not both or neither")
        if case.get("source") not in book.sources:
            problems.append(f"{where}: source {case.get('source')!r} is not in sources.yaml")
        if case.get("split") not in SPLITS:
            problems.append(f"{where}: split must be one of {SPLITS}")
        if case.get("level") not in {level.value for level in Level}:
            problems.append(f"{where}: level {case.get('level')!r} is not a level")
    assert not problems, "\n".join(problems)


def _answers(engine: Engine) -> list[tuple[dict[str, Any], str]]:
    return [(case, engine.explain(case["scenario"], render=False).level.value) for case in CASES if "scenario" in case]


def test_every_disagreement_is_reviewed_and_no_note_is_stale(engine: Engine) -> None:
    unreviewed, stale = [], []
    for case, got in _answers(engine):
        if got != case["level"] and not case.get("reviewed"):
            unreviewed.append(f"{case['split']}: {case['name']!r}: sources {case['level']}, engine {got}")
        if got == case["level"] and "reviewed" in case:
            stale.append(case["name"])
    assert not unreviewed, "disagreements without a `reviewed` reason:\n" + "\n".join(unreviewed)
    assert not stale, f"`reviewed` notes on cases the engine now answers as the sources do: {stale}"


def figures(engine: Engine) -> dict[str, Counter[str]]:
    """Per split: cases, how many the vocabulary can say, and how many get the sources' level."""
    found: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    for case in CASES:
        found[case["split"]]["cases"] += 1
    for case, got in _answers(engine):
        found[case["split"]]["said"] += 1
        found[case["split"]]["agree"] += got == case["level"]
    return found


def _doc_row(split: str) -> tuple[int, int, int]:
    label = {"tune": "tuned on", "held_out": "held out"}[split]
    match = re.search(rf"^\| {label} \| (\d+) \| (\d+) \| (\d+) \|", DOC.read_text(encoding="utf-8"), re.M)
    assert match, f"docs/asked.md has no row for the {label} cases"
    cases, said, agree = map(int, match.groups())
    return cases, said, agree


@pytest.mark.parametrize("split", SPLITS)
def test_the_figures_in_the_docs_are_the_ones_measured(engine: Engine, split: str) -> None:
    measured = figures(engine)[split]
    assert _doc_row(split) == (measured["cases"], measured["said"], measured["agree"])
