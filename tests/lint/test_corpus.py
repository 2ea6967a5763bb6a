"""Accuracy on the labelled corpus, and the guide: the targets of issues 5 and 12.

The held-out articles (``corpus/holdout``) are never used while tuning the linter or its
vocabulary. Their test reports only the figures, never which lines were missed, so that a
failure here does not turn them into development material.
"""

from __future__ import annotations

import pytest

from therapy_signals.lint import Linter

from ..conftest import GUIDE
from .corpus import (
    HOLDOUT,
    Targets,
    article_kind,
    feature_articles,
    load_expected,
    load_items,
    score_articles,
    score_items,
    score_targets,
    web_articles,
)


def test_the_corpus_is_big_enough() -> None:
    assert len(load_items()) + len(load_items(HOLDOUT)) >= 200
    development, held_out = web_articles(), web_articles(held_out=True)
    every = development + held_out
    kinds = [article_kind(article) for article in every]
    assert len(every) >= 40
    assert kinds.count("modelled") >= 10
    assert kinds.count("adversarial") >= 15
    assert len(held_out) >= 0.3 * len(every)
    assert all(kind in ("modelled", "adversarial", "clean", "mixed") for kind in kinds)


def test_framing_errors_meet_the_targets(linter: Linter) -> None:
    """Issue 5's target, on the items and the feature articles it was set on (the web-style
    articles have issue 12's figures, below)."""
    items = score_items(linter, load_items())
    documents = score_articles(linter, feature_articles())
    check = "framing.concern-listed-as-normal"
    total = items[check].merge(documents[check])
    assert total.precision >= 0.95, total.false_alarms
    assert total.recall >= 0.85, total.misses


def test_other_checks_on_the_development_set(linter: Linter) -> None:
    scores = score_items(linter, load_items())
    for check in ("framing.normal-listed-as-warning", "statement.normalises-concern"):
        assert scores[check].precision >= 0.9, scores[check].false_alarms
        assert scores[check].recall >= 0.8, scores[check].misses


@pytest.mark.parametrize("article", feature_articles(), ids=lambda p: p.name)
def test_each_feature_article_gets_exactly_its_expected_findings(linter: Linter, article: object) -> None:
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


def _figures(targets: Targets) -> str:
    return (
        f"error precision {targets.errors_right}/{targets.errors}, warning precision "
        f"{targets.warnings_right}/{targets.warnings}, recall {targets.normalising_caught}/{targets.normalising}"
    )


# Floors under the figures measured when they were written (docs/performance.md has the
# figures): a change that loses accuracy fails here. They are not the targets,
# which the held-out articles do not reach yet (docs/writers.md says so).
DEVELOPMENT_FLOORS = (0.93, 0.88, 0.48)
HELD_OUT_FLOORS = (0.4, 0.7, 0.15)


def test_development_articles_keep_their_accuracy(linter: Linter) -> None:
    targets = score_targets(linter, web_articles())
    figures = (targets.error_precision, targets.warning_precision, targets.recall)
    assert all(f >= floor for f, floor in zip(figures, DEVELOPMENT_FLOORS, strict=True)), (
        _figures(targets),
        targets.false_alarms,
        targets.misses,
    )


def test_held_out_articles_keep_their_accuracy(linter: Linter) -> None:
    targets = score_targets(linter, web_articles(held_out=True))
    figures = (targets.error_precision, targets.warning_precision, targets.recall)
    assert all(f >= floor for f, floor in zip(figures, HELD_OUT_FLOORS, strict=True)), _figures(targets)
