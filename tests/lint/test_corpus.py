"""Accuracy on the labelled corpus, and the guide: the targets of issue 5."""

from __future__ import annotations

import pytest

from therapy_signals.lint import Linter

from ..conftest import GUIDE
from .corpus import HOLDOUT, articles, load_expected, load_items, score_articles, score_items


def test_the_corpus_is_big_enough() -> None:
    assert len(load_items()) + len(load_items(HOLDOUT)) >= 200
    assert len(articles()) >= 8


def test_framing_errors_meet_the_targets(linter: Linter) -> None:
    items = score_items(linter, load_items())
    documents = score_articles(linter)
    check = "framing.concern-listed-as-normal"
    total = items[check].merge(documents[check])
    assert total.precision >= 0.95, total.false_alarms
    assert total.recall >= 0.85, total.misses


def test_other_checks_on_the_development_set(linter: Linter) -> None:
    scores = score_items(linter, load_items())
    for check in ("framing.normal-listed-as-warning", "statement.normalises-concern"):
        assert scores[check].precision >= 0.9, scores[check].false_alarms
        assert scores[check].recall >= 0.8, scores[check].misses


@pytest.mark.parametrize("article", articles(), ids=lambda p: p.name)
def test_each_article_gets_exactly_its_expected_findings(linter: Linter, article: object) -> None:
    from pathlib import Path

    assert isinstance(article, Path)
    expected = load_expected(article)
    found = sorted({(f.line, f.check, f.signal) for f in linter.lint_file(article)}, key=str)
    assert found == sorted(set(expected), key=str)


def test_the_guide_has_no_finding_but_encoding_damage(linter: Linter) -> None:
    findings = linter.lint_file(GUIDE)
    assert findings, "the guide's U+0E42 damage should be found"
    assert {f.check for f in findings} == {"encoding.mojibake"}
    therapist_client = [f for f in findings if f.line == 1 and f.column == 130]
    assert therapist_client and therapist_client[0].fix is not None
    assert therapist_client[0].fix.replacement == "\u2013"
    apostrophes = [f for f in findings if f.fix is not None and f.fix.replacement == "\u2019"]
    assert len(apostrophes) >= 10
