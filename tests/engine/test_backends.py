"""Engine(backend="columnar") answers exactly as durable_rules does: whole guidance one by one,
and verdicts for a batch at once, on the shipped rules and beside hostile packs (the floor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, Scenario
from therapy_signals.engine import Verdict
from therapy_signals.strategies import scenarios

from ..test_packs import make_pack
from ..test_safety_floor import _milder, _narrowed, _rule_yaml

DURABLE = Engine()
COLUMNAR = Engine(backend="columnar")


def verdict_of(guidance: object) -> Verdict:
    from therapy_signals import Guidance

    assert isinstance(guidance, Guidance)
    return Verdict(
        guidance.level,
        tuple(f.rule_id for f in guidance.findings),
        tuple(s.rule_id for s in guidance.superseded),
        tuple(dict.fromkeys(f.category.value for f in guidance.findings)),
    )


def test_an_unknown_backend_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown backend 'numpy'; use one of durable, columnar"):
        Engine(backend="numpy")


def test_the_backend_is_recorded() -> None:
    assert (DURABLE.backend, COLUMNAR.backend) == ("durable", "columnar")
    assert DURABLE.ruleset and COLUMNAR.ruleset == {}


@given(scenarios(max_observations=8))
def test_one_scenario_gets_the_same_guidance(scenario: Scenario) -> None:
    assert COLUMNAR.explain(scenario) == DURABLE.explain(scenario)
    assert COLUMNAR.fired(scenario) == DURABLE.fired(scenario)


@given(st.lists(scenarios(max_observations=8), min_size=1, max_size=30))
def test_verdicts_at_once_equal_guidance_one_by_one(given: list[Scenario]) -> None:
    expected = [verdict_of(DURABLE.explain(s, render=False)) for s in given]
    assert COLUMNAR.verdicts(given) == expected
    assert DURABLE.verdicts(given) == expected


def test_a_scenario_too_large_for_a_word_goes_through_the_python_evaluator(book: object) -> None:
    # 65 observations: one more than the columnar backend holds in a 64-bit word.
    signals = sorted(DURABLE.rulebook.signals)
    many = Scenario.model_validate(
        {"observations": [{"signal": signals[i % len(signals)], "months_after_ending": i} for i in range(65)]}
    )
    small = Scenario.model_validate({"observations": [{"signal": "sexual_contact"}]})
    expected = [verdict_of(DURABLE.explain(s, render=False)) for s in (small, many, small)]
    assert COLUMNAR.verdicts([small, many, small]) == expected
    assert COLUMNAR.explain(many) == DURABLE.explain(many)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = DURABLE.rulebook
    rules = [_narrowed(book, "safety.self-harm-risk"), _milder("client_self_harm_risk", "safety.talk-it-over")]
    lowered = book.rules["boundaries.business-or-loan"].model_dump(mode="json", by_alias=True, exclude_defaults=True)
    lowered["level"] = "discuss"
    return make_pack(tmp_path_factory.mktemp("packs") / "hostile", {"hostile.yaml": _rule_yaml([*rules, lowered])})


@settings(max_examples=60)
@given(data=st.data())
def test_the_floor_holds_the_same_on_both_backends(hostile: Path, data: st.DataObject) -> None:
    durable = _packed(hostile, "durable")
    columnar = _packed(hostile, "columnar")
    given = data.draw(
        st.lists(scenarios(durable.rulebook, categories=["safety", "boundaries"], max_observations=5), max_size=12)
    )
    expected = [verdict_of(durable.explain(s, render=False)) for s in given]
    assert columnar.verdicts(given) == expected
    for scenario in given[:3]:
        assert columnar.explain(scenario) == durable.explain(scenario)


_PACKED: dict[str, Engine] = {}


def _packed(pack: Path, backend: str) -> Engine:
    if backend not in _PACKED:
        _PACKED[backend] = Engine(rule_paths=[BUILTIN, pack], backend=backend)
    return _PACKED[backend]


def test_the_floor_raises_on_columns_as_it_does_on_durable(hostile: Path) -> None:
    # The pack narrows the self-harm rule away and lowers the loan rule; beside a safety
    # signal the base's answer comes back, on both backends, finding for finding.
    self_harm = {"signal": "client_self_harm_risk"}
    loan = {"signal": "business_or_loan"}
    romance = {"signal": "romance_after_ending", "months_after_ending": 100}
    given = [Scenario.model_validate({"observations": o}) for o in ([self_harm], [loan, romance], [loan])]
    durable, columnar = _packed(hostile, "durable"), _packed(hostile, "columnar")
    found = columnar.verdicts(given)
    assert found == [verdict_of(durable.explain(s, render=False)) for s in given]
    assert [v.level.value for v in found] == ["urgent", "serious", "discuss"]
    assert "safety.self-harm-risk" in found[0].findings  # the base's rule, in place of the pack's
