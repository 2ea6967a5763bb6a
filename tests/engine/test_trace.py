"""The "why not?" trace: each condition's outcome, in agreement with what explain answers."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, Trace, TraceNode, UnknownRuleError, trace
from therapy_signals.strategies import scenarios

DISCLOSED_ONCE = {"observations": [{"signal": "therapist_self_disclosure", "frequency": "once"}]}
TAKES_OVER_BUT_REFOCUSES = {
    "observations": [
        {"signal": "therapist_self_disclosure", "frequency": "often", "response": "dismissed"},
        {"signal": "therapist_refocuses_on_client"},
    ]
}


def test_a_rule_that_gave_way_names_the_rule_it_gave_way_to() -> None:
    result = trace(DISCLOSED_ONCE, "boundaries.self-disclosure")
    assert (result.fired, result.shown, result.gave_way, result.by) == (
        True,
        False,
        True,
        "boundaries.brief-self-disclosure",
    )
    assert result.when.kind == "match" and result.when.held and result.when.observations == [0]


def test_a_rule_that_did_not_fire_shows_which_condition_failed_and_on_what() -> None:
    result = trace(TAKES_OVER_BUT_REFOCUSES, "boundaries.self-disclosure-takes-over")
    assert (result.fired, result.shown, result.gave_way, result.by) == (False, False, False, None)
    root = result.when
    assert root.kind == "all" and not root.held
    disclosed, refocus = root.children
    assert disclosed.held and disclosed.observations == [0]
    assert disclosed.condition == {
        "signal": "therapist_self_disclosure",
        "frequency": {"at_least": "often"},
        "response": ["dismissed", "defensive", "retaliated", "unknown"],
    }
    assert refocus.kind == "not" and not refocus.held
    assert refocus.children[0].held and refocus.children[0].observations == [1]


def test_a_near_miss_names_the_context_field_that_failed() -> None:
    match = trace(DISCLOSED_ONCE, "boundaries.self-disclosure-takes-over").when.children[0]
    assert not match.held and match.observations == []
    assert [(n.observation, n.failed) for n in match.near] == [(0, ["frequency"])]


def test_a_trace_is_json_and_reads_back() -> None:
    result = trace(TAKES_OVER_BUT_REFOCUSES, "boundaries.self-disclosure-takes-over")
    assert Trace.model_validate(json.loads(result.model_dump_json())) == result


@pytest.mark.parametrize("given", ["boundaries.self-disclosur", "BOUNDARIES.SELF-DISCLOSURE", ""])
def test_an_unknown_rule_id_suggests_the_closest(engine: Engine, given: str) -> None:
    with pytest.raises(UnknownRuleError, match="no rule") as raised:
        engine.trace(DISCLOSED_ONCE, given)
    if given:
        assert "did you mean 'boundaries.self-disclosure'" in str(raised.value)


def _consistent(node: TraceNode) -> None:
    """Each composite node's outcome follows from its children's."""
    held = [c.held for c in node.children]
    if node.kind == "all":
        assert node.held == all(held)
    elif node.kind == "any":
        assert node.held == any(held)
    elif node.kind == "not":
        assert node.held == (not held[0])
    elif node.kind == "count":
        assert node.held == (node.distinct is not None and node.at_least is not None and node.distinct >= node.at_least)
    for child in node.children:
        _consistent(child)


@given(st.data())
def test_the_trace_agrees_with_explain(engine: Engine, data: st.DataObject) -> None:
    """A finding traces as fired and shown, a superseded rule as fired and given way to its
    rule, and any rule's trace holds at the root exactly when the engine fired it."""
    scenario = data.draw(scenarios(engine.rulebook))
    guidance = engine.explain(scenario, render=False)
    fired = engine.fired(scenario)
    for finding in guidance.findings:
        result = engine.trace(scenario, finding.rule_id)
        assert result.fired and result.shown and not result.gave_way and result.when.held
    for gave in guidance.superseded:
        result = engine.trace(scenario, gave.rule_id)
        assert result.fired and not result.shown and result.gave_way and result.by == gave.by
    rule_id = data.draw(st.sampled_from(sorted(engine.rulebook.rules)))
    result = engine.trace(scenario, rule_id)
    assert result.fired == result.when.held == (rule_id in fired)
    assert result.shown == any(f.rule_id == rule_id for f in guidance.findings)
    if not result.fired:
        assert not result.shown and not result.gave_way
    _consistent(result.when)


@pytest.fixture(scope="module")
def other_engines(tmp_path_factory: pytest.TempPathFactory) -> list[Engine]:
    # A pack turns the safety floor on; this one also changes which rule a self-disclosure gives way to.
    pack = tmp_path_factory.mktemp("trace") / "clinic"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\ndisable: [boundaries.brief-self-disclosure]\n")
    engines = [Engine(rule_paths=[BUILTIN, str(pack)])]
    with contextlib.suppress(ImportError):  # the columnar backend needs the batch extra
        engines.append(Engine(backend="columnar"))
    return engines


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_the_trace_agrees_with_explain_with_a_pack_and_on_columns(
    other_engines: list[Engine], data: st.DataObject
) -> None:
    """With a pack (and its safety floor) and on the columnar backend, findings still trace as
    fired and shown, and superseded rules as given way to the rule the guidance names."""
    for engine in other_engines:
        scenario = data.draw(scenarios(engine.rulebook))
        guidance = engine.explain(scenario, render=False)
        for finding in guidance.findings:
            result = engine.trace(scenario, finding.rule_id)
            assert result.fired and result.shown and result.rulebook == guidance.rulebook
        for gave in guidance.superseded:
            result = engine.trace(scenario, gave.rule_id)
            assert result.fired and result.gave_way and result.by == gave.by
