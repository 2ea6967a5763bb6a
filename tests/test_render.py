"""Rendering: user text is escaped, outputs carry the disclaimer and the rule base version."""

from __future__ import annotations

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
    assert "SECRET-NOTE" not in g.to_text()


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
