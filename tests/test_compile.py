"""durable_rules and the Python evaluator agree on every rule, for every scenario.

The feature rule base (tests/data/features) uses every form of the rule language,
including negation of each form, so this exercises every path of the compiler.
"""

from __future__ import annotations

from hypothesis import given

from therapy_signals import Engine, Scenario
from therapy_signals.engine._evaluate import evaluate
from therapy_signals.engine._facts import encode
from therapy_signals.strategies import scenarios
from therapy_signals.witness import witness


def python_fired(engine: Engine, scenario: Scenario) -> frozenset[str]:
    categories = {name: s.category for name, s in engine.rulebook.signals.items()}
    encoded = encode(scenario, categories)
    return frozenset(rule_id for rule_id, rule in engine.rulebook.rules.items() if evaluate(rule.when, encoded).ok)


def test_feature_rules_agree(features_engine: Engine) -> None:
    @given(scenarios(features_engine.rulebook, max_observations=5))
    def check(scenario: Scenario) -> None:
        assert features_engine.fired(scenario) == python_fired(features_engine, scenario)

    check()


def test_shipped_rules_agree(engine: Engine) -> None:
    @given(scenarios(engine.rulebook, max_observations=6))
    def check(scenario: Scenario) -> None:
        assert engine.fired(scenario) == python_fired(engine, scenario)

    check()


def test_every_rule_fires_on_its_witness(features_engine: Engine, engine: Engine) -> None:
    """The agreement tests above only mean something if every rule does fire."""
    for eng in (features_engine, engine):
        for rule_id, rule in eng.rulebook.rules.items():
            found = witness(rule, eng.rulebook)
            assert found is not None, rule_id
            assert rule_id in eng.fired(found)
            assert rule_id in python_fired(eng, found)


def test_order_of_observations_does_not_change_absence(features_engine: Engine) -> None:
    """The probe from DESIGN.md: absence across separate facts was order-dependent."""
    d_outside = {"signal": "sig_d", "where": "outside_session"}
    b = {"signal": "sig_b"}
    first = features_engine.fired({"observations": [d_outside, b]})
    second = features_engine.fired({"observations": [b, d_outside]})
    assert "boundaries.d-join-not" not in first
    assert first == second
    assert "boundaries.d-join-not" in features_engine.fired({"observations": [d_outside]})


def test_compiled_rule_shape(features_engine: Engine) -> None:
    """One durable rule per alternative (here: the two settings), each a plain conjunction."""
    names = sorted(n for n in features_engine.ruleset if n.startswith("boundaries.d-join-not#"))
    assert names == ["boundaries.d-join-not#0", "boundaries.d-join-not#1"]
    settings = []
    for name in names:
        compiled = features_engine.ruleset[name]
        assert compiled["run"] == "boundaries.d-join-not"
        parts = compiled["all"][0]["m"]["$and"]
        assert [next(iter(p)) for p in parts] == ["$iany", "$iall", "setting"]
        settings.append(parts[2]["setting"])
    assert sorted(settings) == ["group", "individual"]


def test_no_or_spans_two_properties(features_engine: Engine, engine: Engine) -> None:
    """durable_rules mis-evaluates $or across properties; only padded $iall complements may."""

    def props(expr: object) -> set[str]:
        if isinstance(expr, dict):
            found: set[str] = set()
            for key, value in expr.items():
                is_prop = key.startswith("$i.") or not key.startswith("$")
                found |= {key} if is_prop else props(value)
            return found
        if isinstance(expr, list):
            return set().union(*(props(e) for e in expr)) if expr else set()
        return set()

    def check(expr: object, inside_iall: bool) -> None:
        if isinstance(expr, dict):
            for key, value in expr.items():
                if key == "$or" and not inside_iall:
                    assert len(set().union(*(props(v) for v in value))) == 1, value
                if key == "$or" and inside_iall:
                    orders = {tuple(next(iter(a.values())).keys()) for v in value for a in v["$and"]}
                    assert all(len(o) == 1 for o in orders)
                check(value, inside_iall or key == "$iall")
        elif isinstance(expr, list):
            for item in expr:
                check(item, inside_iall)

    for eng in (features_engine, engine):
        for rule in eng.ruleset.values():
            check(rule["all"][0]["m"], inside_iall=False)


def test_no_item_test_ends_in_an_or(features_engine: Engine, engine: Engine) -> None:
    """durable_rules 2.0.28 reads uninitialised memory after an item test that ends in $or.

    It checks the type of the last node an ``$iany``/``$iall`` test built; an ``$or``'s
    last node is a forward node whose type it never sets, so create_ruleset sporadically
    failed with error 102 (decision 0007).
    """

    def bodies(expr: object) -> list[object]:
        if isinstance(expr, dict):
            found = [v["observations"] for k, v in expr.items() if k in ("$iany", "$iall")]
            return found + [b for v in expr.values() for b in bodies(v)]
        if isinstance(expr, list):
            return [b for item in expr for b in bodies(item)]
        return []

    def last(body: object) -> object:
        assert isinstance(body, dict)
        return last(body["$and"][-1]) if "$and" in body else body

    checked = 0
    for eng in (features_engine, engine):
        for rule in eng.ruleset.values():
            for body in bodies(rule["all"][0]["m"]):
                assert "$or" not in last(body), body
                checked += 1
    assert checked > 50
