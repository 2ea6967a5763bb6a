"""Invariants, with Hypothesis: linting never raises, positions point inside the text, suppression
removes exactly what it names, and SARIF always validates."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals.lint import CHECKS, Linter
from therapy_signals.lint._formats import sarif

from ..conftest import ROOT
from .corpus import load_items

SARIF_SCHEMA = json.loads((ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json").read_text())
_LINTER = Linter()
_TEXTS = [entry.text for entry in load_items()]
_HEADINGS = ["Not red flags", "Red flags", "Healthy signs", "What is not okay", "Notes", "Is it normal?"]

text_pieces = st.one_of(
    st.sampled_from(_TEXTS),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.sampled_from(
        ["A patient.", "It\u00e2\u20ac\u2122s", "therapist\u0e42client", "Call 988.", "**bold**", "`code`"]
    ),
)
blocks = st.one_of(
    st.builds(lambda level, h: "#" * level + " " + h, st.integers(1, 4), st.sampled_from(_HEADINGS)),
    st.builds(
        lambda items: "\n".join("- " + i.replace("\n", " ") for i in items),
        st.lists(text_pieces, min_size=1, max_size=4),
    ),
    text_pieces.map(lambda t: t.replace("\n", " ") or "Text."),
)
articles = st.lists(blocks, min_size=1, max_size=8).map(lambda parts: "\n\n".join(parts) + "\n")


def _positions_inside(text: str) -> None:
    # Line breaks as editors count them: \r\n, \r and \n.
    lines = re.split(r"\r\n?|\n", text.removeprefix("\ufeff"))
    for finding in _LINTER.lint_text(text):
        assert 1 <= finding.line <= len(lines), finding
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1, finding
        assert finding.level is not None and finding.check in CHECKS


@given(st.text(max_size=400))
def test_arbitrary_text_never_raises_and_positions_are_inside(text: str) -> None:
    _positions_inside(text)


@given(articles)
def test_article_like_text_never_raises_and_positions_are_inside(text: str) -> None:
    _positions_inside(text)


@given(articles, st.sampled_from(sorted(CHECKS)))
@settings(max_examples=100)
def test_a_disable_comment_removes_exactly_its_check(text: str, check: str) -> None:
    before = _LINTER.lint_text(text)
    after = _LINTER.lint_text(f"<!-- therapy-signals-disable {check} -->\n\n{text}")
    expected = sorted(
        (replace(f, line=f.line + 2, end_line=f.end_line + 2) for f in before if f.check != check),
        key=lambda f: (f.line, f.column, f.check),
    )
    assert after == expected


@given(articles)
@settings(max_examples=60)
def test_disable_next_line_removes_only_that_line(text: str) -> None:
    before = _LINTER.lint_text(text)
    if not before:
        return
    target = before[0]
    lines = text.split("\n")
    if target.line == 1 or lines[target.line - 2].strip():
        return  # only where a comment can stand on a line of its own without changing the blocks
    lines.insert(target.line - 1, f"<!-- therapy-signals-disable-next-line {target.check} -->")
    after = _LINTER.lint_text("\n".join(lines))
    shifted = [f if f.line < target.line else replace(f, line=f.line + 1, end_line=f.end_line + 1) for f in before]
    assert after == [f for f in shifted if not (f.line == target.line + 1 and f.check == target.check)]


@given(articles)
@settings(max_examples=40)
def test_sarif_always_validates(text: str) -> None:
    findings = _LINTER.lint_text(text, "dir/some file.md")
    jsonschema.validate(sarif(findings, ["dir/some file.md"], "1.0.0", None), SARIF_SCHEMA)
