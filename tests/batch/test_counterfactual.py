"""Counterfactuals: every change reported does what it says, and none smaller was missed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Level, Scenario
from therapy_signals.batch import counterfactuals
from therapy_signals.batch._counterfactual import _apply, _single_edits
from therapy_signals.strategies import scenarios

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _check(engine: Engine, scenario: Scenario, max_changes: int) -> None:
    found = counterfactuals(scenario, engine, max_changes=max_changes)
    base = engine.explain(scenario, render=False)
    assert found.level is base.level
    singles = _single_edits(found.scenario, engine.rulebook)
    for direction, items in (("up", found.up), ("down", found.down)):
        for item in items:
            changed = engine.explain(item.scenario, render=False)
            assert changed.level is item.level
            assert (item.level > base.level) if direction == "up" else (item.level < base.level)
            assert _apply(found.scenario, item.edits) == item.scenario
            before = {f.rule_id for f in base.findings}
            after = {f.rule_id for f in changed.findings}
            assert set(item.added) == after - before and set(item.removed) == before - after
        sizes = {len(item.edits) for item in items}
        assert len(sizes) <= 1  # only the smallest size that works
        if sizes == {2}:
            # Then no single edit moves the level this way: the search would have stopped at one.
            for edit in singles:
                changed_scenario = _apply(found.scenario, (edit,))
                if changed_scenario is None:
                    continue
                level = engine.explain(changed_scenario, render=False).level
                assert not ((level > base.level) if direction == "up" else (level < base.level))
    if base.level is Level.urgent:
        assert not found.up
    if base.level is Level.normal:
        assert not found.down


@settings(max_examples=12, suppress_health_check=FIXTURES, deadline=None)
@given(scenario=scenarios(max_observations=2))
def test_counterfactuals_are_real_and_minimal(engine: Engine, scenario: Scenario) -> None:
    _check(engine, scenario, max_changes=1)


def test_two_edits_when_one_is_not_enough(features_engine: Engine) -> None:
    """Two concerns from two observations: lowering the level needs both dealt with."""
    scenario = Scenario.model_validate(
        {
            "id": "two-sources",
            "observations": [
                {"signal": "sig_f"},
                {"signal": "sig_c", "initiated_by": "therapist", "raised": True},
            ],
        }
    )
    found = counterfactuals(scenario, features_engine, max_changes=2)
    assert found.level is Level.concern
    assert found.down and all(len(item.edits) == 2 for item in found.down)
    assert any(
        {e.kind for e in item.edits} == {"remove", "change"} and item.level is Level.discuss for item in found.down
    )
    _check(features_engine, scenario, max_changes=2)


def test_one_edit_only_when_asked(features_engine: Engine) -> None:
    scenario = {"observations": [{"signal": "sig_f"}, {"signal": "sig_c", "initiated_by": "therapist", "raised": True}]}
    found = counterfactuals(scenario, features_engine, max_changes=1)
    assert not found.down and found.up


def _one_at_a_time(engine: Engine, scenario: Scenario, limit: int) -> tuple[list[tuple[object, ...]], int, bool]:
    """The search as it ran before blocks: each single edit, in order, through explain."""
    base = engine.explain(scenario, render=False)
    found, tried = [], 0
    for edit in _single_edits(scenario, engine.rulebook):
        if tried >= limit:
            return found, tried, False
        changed = _apply(scenario, (edit,))
        if changed is None:
            continue
        tried += 1
        level = engine.explain(changed, render=False).level
        if level is not base.level:
            found.append((edit, level))
    return found, tried, True


_COLUMNAR: list[Engine] = []


def _columnar() -> Engine:
    if not _COLUMNAR:
        _COLUMNAR.append(Engine(backend="columnar"))
    return _COLUMNAR[0]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(max_observations=3), limit=st.sampled_from([0, 1, 2, 7, 40, 20_000]))
def test_blocks_find_what_one_at_a_time_finds(engine: Engine, scenario: Scenario, limit: int) -> None:
    expected, tried, complete = _one_at_a_time(engine, scenario, limit)
    for which in (engine, _columnar()):
        found = counterfactuals(scenario, which, max_changes=1, limit=limit)
        got = [(c.edits[0], c.level) for c in (*found.up, *found.down)]
        assert sorted(map(repr, got)) == sorted(map(repr, expected))
        assert (found.tried, found.complete) == (tried, complete)
