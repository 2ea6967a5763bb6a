"""Guidance as HL7 CDS Hooks cards, validated against the card schema of the specification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from therapy_signals import Engine, Level
from therapy_signals.render.cards import INDICATORS, to_cards
from therapy_signals.strategies import scenarios

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "cds-hooks-card.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
EXAMPLES = sorted((ROOT / "examples" / "scenarios").glob("*.json"))
CARD_KEYS = {
    "uuid",
    "summary",
    "detail",
    "indicator",
    "source",
    "suggestions",
    "selectionBehavior",
    "overrideReasons",
    "links",
}


def check(cards: list[dict[str, Any]]) -> None:
    assert cards
    for card in cards:
        errors = [e.message for e in VALIDATOR.iter_errors(card)]
        assert not errors, (card["summary"], errors)
        assert set(card) <= CARD_KEYS
        assert len(card["summary"]) < 140


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert not VALIDATOR.is_valid({"summary": "x" * 140, "indicator": "info", "source": {"label": "a"}})
    assert not VALIDATOR.is_valid({"summary": "x", "indicator": "urgent", "source": {"label": "a"}})
    assert not VALIDATOR.is_valid({"summary": "x", "indicator": "info"})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gives_valid_cards(engine: Engine, path: Path) -> None:
    guidance = engine.explain(json.loads(path.read_text()))
    cards = guidance.to_cards()
    check(cards)
    finding_cards = [c for c in cards if c["source"]["topic"]["code"] != "resources"]
    assert [c["source"]["topic"]["code"] for c in finding_cards] == [f.rule_id for f in guidance.findings]
    for card, finding in zip(finding_cards, guidance.findings, strict=True):
        assert card["indicator"] == INDICATORS[finding.level]
        assert finding.normal_when in card["detail"]
        assert guidance.disclaimer in card["detail"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_generated_scenarios_give_valid_cards(engine: Engine, scenario: Any) -> None:
    check(to_cards(engine.explain(scenario)))


def test_indicator_mapping() -> None:
    assert {level: INDICATORS[level] for level in Level} == {
        Level.normal: "info",
        Level.discuss: "info",
        Level.concern: "warning",
        Level.serious: "critical",
        Level.urgent: "critical",
    }


def test_serious_and_urgent_lead_with_resources(engine: Engine) -> None:
    urgent = engine.explain(json.loads((ROOT / "examples/scenarios/self-harm-risk.json").read_text()))
    assert urgent.level is Level.urgent
    cards = urgent.to_cards()
    assert cards[0]["source"]["topic"]["code"] == "resources"
    assert cards[0]["indicator"] == "critical"
    assert {link["url"] for link in cards[0]["links"]} == {r.url for r in urgent.resources if r.url}
    assert all(link["type"] == "absolute" for link in cards[0]["links"])
    for resource in urgent.resources:
        assert resource.contact in cards[0]["detail"]
    normal = engine.explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    assert [c["source"]["topic"]["code"] for c in normal.to_cards()] == ["everyday.feeling-challenged"]


def test_cards_are_reproducible_and_carry_no_note(engine: Engine) -> None:
    scenario = {"observations": [{"signal": "sexual_contact", "note": "PRIVATE-NOTE-41"}]}
    first, second = engine.explain(scenario).to_cards(), engine.explain(scenario).to_cards()
    assert first == second
    assert len({c["uuid"] for c in first}) == len(first)
    assert "PRIVATE-NOTE-41" not in json.dumps(first)


def test_cards_over_http(client: httpx.Client, engine: Engine) -> None:
    scenario = json.loads((ROOT / "examples/scenarios/mixed-everyday-and-safety.json").read_text())
    expected = engine.explain(scenario).to_cards()
    for response in (client.post("/v1/cards", json=scenario), client.post("/v1/explain?format=cards", json=scenario)):
        assert response.status_code == 200
        body = response.json()
        check(body["cards"])
        assert body["cards"] == expected
        assert body["rulebook"]["hash"] == engine.rulebook.content_hash
