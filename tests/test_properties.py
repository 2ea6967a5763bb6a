"""The invariants the library promises, as hypothesis properties over the shipped rules."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from therapy_signals import Category, Engine, Guidance, Level, Scenario
from therapy_signals.strategies import observations, scenarios

CONCERN = [Category.dependency, Category.boundaries, Category.safety]
TEMPLATE_DEBRIS = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\bNone\b|\bUndefined\b|\bunknown\b")


def categories_of(engine: Engine, guidance: Guidance) -> dict[int, Category]:
    return {i: engine.rulebook.category_of(o.signal) for i, o in enumerate(guidance.observations)}


@given(st.data())
def test_safety_dominance(engine: Engine, data: st.DataObject) -> None:
    """The overall level is at least every finding's, and a safety sign is at least a concern."""
    guidance = engine.explain(data.draw(scenarios(engine.rulebook)), render=False)
    assert all(guidance.level >= f.level for f in guidance.findings)
    if any(c is Category.safety for c in categories_of(engine, guidance).values()):
        assert guidance.level >= Level.concern


@given(st.data())
def test_a_safety_observation_is_never_called_normal(engine: Engine, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(engine.rulebook, max_observations=4))
    safety = data.draw(observations(engine.rulebook, [Category.safety]))
    if safety in scenario.observations:
        return
    guidance = engine.explain(scenario.model_copy(update={"observations": [*scenario.observations, safety]}))
    index = len(guidance.observations) - 1
    citing = [f for f in guidance.findings if index in f.because.observations]
    assert citing, "the safety observation is explained"
    assert all(f.level >= Level.concern for f in citing)
    assert guidance.level >= Level.concern
    assert "normal" not in guidance.summary.lower()


@given(st.data())
def test_monotonicity(engine: Engine, data: st.DataObject) -> None:
    """Adding a dependency, boundary or safety observation never lowers the level."""
    scenario = data.draw(scenarios(engine.rulebook, max_observations=5))
    extra = data.draw(observations(engine.rulebook, CONCERN))
    if extra in scenario.observations:
        return
    before = engine.explain(scenario, render=False).level
    grown = scenario.model_copy(update={"observations": [*scenario.observations, extra]})
    assert engine.explain(grown, render=False).level >= before


def signature(guidance: Guidance) -> tuple[object, ...]:
    """What must not depend on observation order: level, findings and what each cites."""
    cited = {
        f.rule_id: sorted(guidance.observations[i].model_dump_json() for i in f.because.observations)
        for f in guidance.findings
    }
    return (
        guidance.level,
        [f.rule_id for f in guidance.findings],
        cited,
        sorted(s.rule_id for s in guidance.superseded),
    )


@given(st.data())
def test_order_independence(engine: Engine, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(engine.rulebook))
    shuffled = data.draw(st.permutations(scenario.observations))
    other = scenario.model_copy(update={"observations": list(shuffled)})
    assert signature(engine.explain(scenario)) == signature(engine.explain(other))


@given(scenarios())
def test_determinism(engine: Engine, scenario: Scenario) -> None:
    assert engine.explain(scenario).model_dump_json() == engine.explain(scenario).model_dump_json()


@given(scenarios())
def test_rendered_text_is_clean(engine: Engine, scenario: Scenario) -> None:
    guidance = engine.explain(scenario)
    for finding in guidance.findings:
        assert finding.explanation, finding.rule_id
        assert not TEMPLATE_DEBRIS.search(finding.explanation), (
            finding.rule_id,
            finding.explanation,
        )
    for text in (guidance.to_text(), guidance.to_markdown(), guidance.to_html()):
        assert not TEMPLATE_DEBRIS.search(text.replace("unknown field", "")), text


@given(scenarios())
def test_every_observation_is_explained_and_sourced(engine: Engine, scenario: Scenario) -> None:
    guidance = engine.explain(scenario, render=False)
    cited = {i for f in guidance.findings for i in f.because.observations}
    assert cited == set(range(len(scenario.observations)))
    assert all(f.references for f in guidance.findings)
    assert guidance.disclaimer


@given(scenarios())
def test_no_observation_is_both_normal_and_not(engine: Engine, scenario: Scenario) -> None:
    guidance = engine.explain(scenario, render=False)
    normal = {i for f in guidance.findings if f.level is Level.normal for i in f.because.observations}
    higher = {i for f in guidance.findings if f.level > Level.normal for i in f.because.observations}
    assert not normal & higher


@given(scenarios())
def test_json_round_trip_is_lossless(engine: Engine, scenario: Scenario) -> None:
    guidance = engine.explain(scenario)
    again = Guidance.model_validate_json(guidance.model_dump_json())
    assert again.model_dump() == guidance.model_dump()
    assert again.model_dump_json() == guidance.model_dump_json()
    assert again.to_text() == guidance.to_text()


def test_every_signal_is_used_by_some_rule(engine: Engine) -> None:
    from therapy_signals.conditions import Match, walk

    used: set[str] = set()
    for rule in engine.rulebook.rules.values():
        for node, _ in walk(rule.when):
            if isinstance(node, Match):
                used |= engine.rulebook.signals_reached(node)
    assert used == set(engine.rulebook.signals)


def test_every_level_and_category_is_used(engine: Engine) -> None:
    rules = engine.rulebook.rules.values()
    assert {r.level for r in rules} == set(Level)
    assert {r.category for r in rules} == set(Category)


def test_guidance_echoes_the_scenario_and_compares_by_data(engine: Engine) -> None:
    data = {"id": "s1", "setting": "couples", "sessions": 4, "observations": [{"signal": "therapist_takes_sides"}]}
    guidance = engine.explain(data)
    assert (guidance.scenario_id, guidance.setting.value, guidance.sessions) == ("s1", "couples", 4)
    assert guidance.schema_version == "1" and '"schema_version":"1"' in guidance.model_dump_json()
    assert Guidance.model_validate_json(guidance.model_dump_json()) == guidance
