"""Resources by role (decision 0018): rules name roles, locales and apps map them to services."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from therapy_signals import Engine, Level, RuleBook, RuleBookError
from therapy_signals.model import ROLES
from therapy_signals.strategies import scenarios

ROOT = Path(__file__).resolve().parent.parent
SPAIN = ROOT / "examples" / "resources" / "es-ES.yaml"

# Wording in a rule's English steps or explanation that sends the client to a service, and
# the role that service has: a rule that says it must show it, at any level.
_SENDS_TO = {
    "crisis-line": re.compile(r"crisis (line|resource)", re.I),
    "sexual-assault": re.compile(r"sexual assault hotline", re.I),
    "domestic-violence": re.compile(r"domestic violence (advocate|hotline|line)", re.I),
}


def _template_text(book: RuleBook, rule_id: str) -> str:
    rule = book.rules[rule_id]
    return (book.root / "templates" / "en" / rule.explain).read_text(encoding="utf-8")


def test_a_rule_that_sends_the_client_to_a_service_names_its_role(book: RuleBook) -> None:
    missing = []
    for rule in book.rules.values():
        text = " ".join([*rule.steps, _template_text(book, rule.id)])
        for role, pattern in _SENDS_TO.items():
            if pattern.search(text) and role not in rule.resources:
                missing.append(f"{rule.id}: says {pattern.pattern!r} but does not name {role!r}")
    assert not missing, "\n".join(missing)


def test_every_locale_gives_every_role(book: RuleBook) -> None:
    for locale in ("en", "es"):
        roles = {r.role for r in Engine(locale=locale)._rendered().resources}
        assert roles == set(ROLES), locale


@settings(max_examples=150, deadline=None)
@given(scenarios(max_observations=8))
def test_urgent_guidance_shows_emergency_help_and_every_named_role(engine: Engine, scenario: Any) -> None:
    g = engine.explain(scenario, render=False)
    shown = [r.role for r in g.resources]
    assert len(shown) == len(set(r.id for r in g.resources)), "a resource is listed twice"
    if g.level is Level.urgent:
        assert "emergency" in shown
    named = {role for f in g.findings for role in engine.rulebook.rules[f.rule_id].resources}
    assert named <= set(shown)


def test_partner_violence_shows_the_domestic_violence_line_first(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "partner_violence_disclosed", "frequency": "often"}]})
    assert [r.role for r in g.resources][:2] == ["domestic-violence", "emergency"]


def test_self_harm_shows_the_crisis_line_first(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "client_self_harm_risk"}]})
    assert [r.id for r in g.resources][:2] == ["988-lifeline", "emergency-911"]


def test_a_crisis_line_shows_below_urgent_when_the_steps_point_to_one(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "therapist_abandoned_client"}]})
    assert g.level < Level.urgent
    assert "crisis-line" in [r.role for r in g.resources]


def test_the_licensing_board_is_not_listed_as_support(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "sexual_contact"}]})
    text = g.to_text()
    support, _, rest = text.partition("Next steps:")
    assert "licensing board" not in support.split("What we found:")[0].lower()
    assert "Where to make a complaint:" in rest and "licensing board" in rest.lower()
    assert 'class="complaint"' in g.to_html() and "### Where to make a complaint" in g.to_markdown()


def test_spanish_is_not_spain_by_default() -> None:
    g = Engine(locale="es").explain({"observations": [{"signal": "client_self_harm_risk"}]})
    contacts = " ".join(r.contact for r in g.resources)
    assert "988" in contacts and "español" in contacts
    assert "024" not in contacts and "112" not in contacts


def test_spain_is_a_choice_the_app_makes() -> None:
    g = Engine(locale="es", resources=SPAIN).explain({"observations": [{"signal": "client_self_harm_risk"}]})
    assert [r.id for r in g.resources][:2] == ["crisis-line-024", "emergencias-112"]
    assert "Busca apoyo ahora" in g.to_text()


def test_resources_that_leave_out_a_named_role_are_refused() -> None:
    given_ = [{"id": "help", "role": "emergency", "name": "Help", "contact": "Call 112", "levels": ["urgent"]}]
    with pytest.raises(RuleBookError) as caught:
        Engine(resources=given_)
    message = str(caught.value)
    assert "rules name resource roles you did not give" in message
    assert "crisis-line" in message and "domestic-violence" in message


def test_an_unknown_role_is_refused_naming_the_allowed_ones() -> None:
    given_ = [{"id": "help", "role": "hotline", "name": "Help", "contact": "Call"}]
    with pytest.raises(RuleBookError) as caught:
        Engine(resources=given_)
    assert "role" in str(caught.value) and "crisis-line" in str(caught.value)
