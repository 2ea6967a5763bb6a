"""Rendering: user text is escaped, outputs carry the disclaimer and the rule base version."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine

NOTE = '<script>alert("x")</script> **bold** [link](http://x)'


def test_notes_are_escaped_in_html_and_markdown(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session", "note": NOTE}]})
    html = g.to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    markdown = g.to_markdown()
    assert "<script>" not in markdown
    assert r"\*\*bold\*\*" in markdown and r"\[link\]" in markdown


def test_notes_never_reach_explanations(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session", "note": "SECRET-NOTE"}]})
    assert all("SECRET-NOTE" not in (f.explanation or "") for f in g.findings)
    # Shown back only in its own section, after the findings and the steps.
    findings, told = g.to_text().split("\nWhat you told us:\n")
    assert "SECRET-NOTE" not in findings and "SECRET-NOTE" in told


def test_every_output_has_disclaimer_sources_and_version(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "business_or_loan"}]})
    for text in (g.to_text(), g.to_markdown(), g.to_html()):
        assert "not a diagnosis" in text
        assert g.findings[0].references[0].title in text
    assert g.rulebook.version in g.to_text()
    assert g.rulebook.hash == engine.rulebook.content_hash


def test_superseded_rules_say_why(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "therapist_self_disclosure", "frequency": "often"}]})
    assert g.superseded
    for item in g.superseded:
        assert item.by in {f.rule_id for f in g.findings} | {s.rule_id for s in g.superseded}
        assert item.reason


@pytest.mark.parametrize("locale, heading", [("en", "What you told us"), ("es", "Lo que nos contaste")])
def test_text_shows_what_you_told_us_as_markdown_and_html_do(locale: str, heading: str) -> None:
    engine = Engine(locale=locale)
    scenario = {
        "observations": [
            {"signal": "feeling_challenged_in_session", "note": "It was about my mother"},
            {"signal": "gift_to_therapist"},
        ]
    }
    g = engine.explain(scenario)
    label = engine.renderer.label("feeling_challenged_in_session")
    text = g.to_text()
    steps, told = text.split(f"\n{heading}:\n")
    assert engine.renderer.strings.headings["steps"] in steps  # after the findings and the steps
    section, after = told.split("\n\n", 1)
    assert " ".join(section.split()) == f"* {label}: It was about my mother"  # wrapped at 78 columns
    assert after.startswith(g.disclaimer.split()[0])
    for shown in (g.to_markdown(), g.to_html()):
        assert heading in shown and "It was about my mother" in shown
    assert heading not in engine.explain({"observations": [{"signal": "gift_to_therapist"}]}).to_text()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=st.text(min_size=1, max_size=300))
def test_a_note_in_text_is_one_line_a_terminal_only_shows(engine: Engine, note: str) -> None:
    """No ESC, carriage return or bidi override of the client's reaches a terminal, and the note cannot
    start a line of its own that would pass for a heading or a finding."""
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session", "note": note}]})
    told = g.to_text().split("\nWhat you told us:\n")[1].split("\n\n")[0]
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", told)
    lines = told.split("\n")
    assert lines[0].startswith("  * ") and all(line.startswith("    ") for line in lines[1:])


def test_card_topics_name_a_real_code_system_the_docs_give(engine: Engine) -> None:
    """An ``.invalid`` URL names nothing; the system is a fixed urn:uuid, the same on every card."""
    import uuid
    from pathlib import Path

    from therapy_signals.render.cards import TOPIC_SYSTEM

    g = engine.explain({"observations": [{"signal": "sexual_contact"}, {"signal": "gift_to_therapist"}]})
    systems = {card["source"]["topic"]["system"] for card in g.to_cards()}
    assert systems == {TOPIC_SYSTEM}
    scheme, kind, value = TOPIC_SYSTEM.split(":", 2)
    assert (scheme, kind) == ("urn", "uuid") and str(uuid.UUID(value)) == value
    assert value == str(uuid.uuid5(uuid.NAMESPACE_URL, "therapy-signals:rule-id"))  # as its docstring derives it
    assert ".invalid" not in TOPIC_SYSTEM
    guide = (Path(__file__).resolve().parent.parent / "docs" / "app-developers.md").read_text(encoding="utf-8")
    assert f"`{TOPIC_SYSTEM}`" in guide
