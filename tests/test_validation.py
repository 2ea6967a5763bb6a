"""Bad input gets a clear error naming the field and the allowed values; nothing runs."""

from __future__ import annotations

import pytest

from therapy_signals import Engine, InputError, Scenario, ScenarioError


def problems(engine: Engine, data: object) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        engine.validate(data)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def test_unknown_signal_suggests_the_near_one(features_engine: Engine) -> None:
    found = problems(features_engine, {"observations": [{"signal": "sig_aa"}]})
    assert len(found) == 1
    assert found[0].startswith("observations[0].signal: 'sig_aa' is not a known signal; did you mean 'sig_a'")


def test_far_off_signal_points_to_the_list(features_engine: Engine) -> None:
    (found,) = problems(features_engine, {"observations": [{"signal": "zzzzzzzz"}]})
    assert "therapy-signals signals" in found


def test_wrong_enum_value_lists_the_allowed_ones(features_engine: Engine) -> None:
    (found,) = problems(features_engine, {"observations": [{"signal": "sig_a", "frequency": "oftn"}]})
    assert found.startswith("observations[0].frequency:")
    for word in ("once", "occasionally", "often", "constantly"):
        assert word in found


def test_wrong_type_and_out_of_range(features_engine: Engine) -> None:
    found = problems(
        features_engine,
        {
            "sessions": -1,
            "observations": [{"signal": "sig_a", "raised": "perhaps", "months_after_ending": 5000}],
        },
    )
    paths = sorted(p.split(":")[0] for p in found)
    assert paths == ["observations[0].months_after_ending", "observations[0].raised", "sessions"]


def test_extra_field_names_the_allowed_fields(features_engine: Engine) -> None:
    (found,) = problems(features_engine, {"observations": [{"signal": "sig_a", "frequncy": "often"}]})
    assert found.startswith("observations[0].frequncy: unknown field; did you mean 'frequency'?")
    assert "months_after_ending" in found
    (top,) = problems(features_engine, {"observations": [{"signal": "sig_a"}], "setings": "couples"})
    assert top.startswith("setings: unknown field; did you mean 'setting'?")


def test_empty_and_missing_observations(features_engine: Engine) -> None:
    (empty,) = problems(features_engine, {"observations": []})
    assert empty.startswith("observations:") and "at least 1" in empty
    (missing,) = problems(features_engine, {"setting": "couples"})
    assert missing == "observations: required"
    (not_object,) = problems(features_engine, [1, 2])
    assert "expected an object" in not_object


def test_duplicate_observation_names_both_indexes(features_engine: Engine) -> None:
    (found,) = problems(
        features_engine,
        {"observations": [{"signal": "sig_a"}, {"signal": "sig_b"}, {"signal": "sig_a"}]},
    )
    assert "observations 0 and 2 are identical" in found


def test_response_with_raised_false(features_engine: Engine) -> None:
    (found,) = problems(
        features_engine,
        {"observations": [{"signal": "sig_a", "raised": False, "response": "repaired"}]},
    )
    assert "raised is false" in found


def test_all_problems_reported_at_once(features_engine: Engine) -> None:
    found = problems(features_engine, {"setting": "pairs", "observations": [{"signal": "sig_a", "impact": 3}]})
    assert len(found) == 2


def test_response_implies_raised(features_engine: Engine) -> None:
    scenario = features_engine.validate({"observations": [{"signal": "sig_c", "response": "dismissed"}]})
    assert scenario.observations[0].was_raised is True
    assert "dependency.c-unknown-initiator" in features_engine.fired(scenario)


def test_json_text_errors_name_line_and_column(features_engine: Engine) -> None:
    with pytest.raises(InputError, match=r"scenario:2:\d+: not valid JSON"):
        features_engine.validate('{"observations":\n [,]}')
    with pytest.raises(InputError, match="not UTF-8"):
        features_engine.validate(b'{"observations": [{"signal": "\xff"}]}')


def test_nothing_is_evaluated_for_invalid_input(features_engine: Engine) -> None:
    sid_before = features_engine._backend._sids
    next_before = next(sid_before)
    with pytest.raises(ScenarioError):
        features_engine.explain({"observations": [{"signal": "nope"}]})
    assert next(features_engine._backend._sids) == next_before + 1


def test_scenario_model_is_strict() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        Scenario.model_validate({"observations": [{"signal": "x"}], "extra": 1})


def test_enum_typo_suggests_and_messages_are_clean(features_engine: Engine) -> None:
    found = problems(features_engine, {"setting": "couple", "observations": [{"signal": "sig_a"}, {"signal": "sig_a"}]})
    assert any(p.startswith("setting:") and "did you mean 'couples'?" in p for p in found)
    assert any(p.startswith("observations: observations 0 and 1 are identical") for p in found)
    assert not any("Value error" in p for p in found)


def test_an_unknown_signal_is_reported_beside_a_field_error(engine: Engine) -> None:
    found = problems(
        engine,
        {"observations": [{"signal": "nope", "frequency": "sometimes"}, {"signal": "feeling_challenged_in_sesion"}]},
    )
    assert [p.split(":")[0] for p in found] == [
        "observations[0].frequency",
        "observations[0].signal",
        "observations[1].signal",
    ]
    assert "did you mean 'feeling_challenged_in_session'" in found[2]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            {"observations": [{"signal": "feeling_challenged_in_session", "sessions": 3}]},
            "observations[0].sessions: 'sessions' is a scenario field; put it on the scenario, beside 'observations'",
        ),
        (
            {"observations": [{"signal": "feeling_challenged_in_session"}], "frequency": "often"},
            "frequency: 'frequency' is an observation field; put it on each observation in 'observations'",
        ),
        (
            {"observations": [{"signal": "feeling_challenged_in_session", "setting": "couples"}]},
            "observations[0].setting: 'setting' is a scenario field",
        ),
    ],
)
def test_a_field_at_the_wrong_level_says_where_it_belongs(
    engine: Engine, scenario: dict[str, object], expected: str
) -> None:
    (found,) = problems(engine, scenario)
    assert found.startswith(expected)
    assert "did you mean" not in found
