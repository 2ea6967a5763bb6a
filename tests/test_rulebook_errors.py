"""A rule base with a mistake fails to load, and the error names file:line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from therapy_signals import Engine, RuleBookError, load_rulebook


def load_error(folder: Path) -> str:
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(folder)
    return str(caught.value)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def features(tmp_path: Path, features_dir: Path) -> Path:
    import shutil

    return Path(shutil.copytree(features_dir, tmp_path / "rules"))


def test_features_load(features: Path) -> None:
    assert len(load_rulebook(features).rules) == 17


def test_typo_in_a_level_names_file_line_and_choices(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "level: discuss\n    when: {signal: sig_a, frequency",
        "level: discus\n    when: {signal: sig_a, frequency",
    )
    message = load_error(features)
    assert f"{features / 'rules.yaml'}:10: rules[5].level:" in message
    assert "'normal', 'discuss', 'concern', 'serious' or 'urgent'" in message


def test_unknown_signal_in_a_rule_suggests(features: Path) -> None:
    edit(features / "rules.yaml", "when: {signal: sig_c}", "when: {signal: sig_cc}")
    message = load_error(features)
    assert "rules.yaml:4: rule dependency.c: signal 'sig_cc' is not in signals.yaml; did you mean 'sig_c'" in message


def test_unknown_context_value_lists_choices(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "frequency: {at_least: occasionally",
        "frequency: {at_least: sometimes",
    )
    message = load_error(features)
    assert (
        "rules.yaml:" in message and "'sometimes' is not allowed; use once, occasionally, often, constantly" in message
    )


def test_missing_template_and_reference(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "explain: t.j2, references: [test#source]}",
        "explain: u.j2, references: [test#sourc]}",
    )
    message = load_error(features)
    assert "template 'u.j2' is missing for locale 'en'" in message
    assert "reference 'test#sourc' is not in sources.yaml; did you mean 'test#source'" in message


def test_duplicate_rule_id_names_both_places(features: Path) -> None:
    edit(features / "rules.yaml", "id: everyday.a-range", "id: everyday.a")
    message = load_error(features)
    assert "duplicate rule id 'everyday.a', first at" in message


def test_id_must_carry_its_category(features: Path) -> None:
    edit(features / "rules.yaml", "id: everyday.a-range", "id: healthy.a-range")
    assert "id must start with its category, 'everyday.'" in load_error(features)


def test_supersession_may_not_lower(features: Path) -> None:
    edit(features / "rules.yaml", "supersedes: [dependency.c]", "supersedes: [safety.f-urgent]")
    assert "supersession may never lower a level" in load_error(features)


def test_not_may_not_name_a_concern(features: Path) -> None:
    edit(features / "rules.yaml", "- not: {signal: sig_b}", "- not: {signal: sig_c}")
    assert "'not' may only name everyday or healthy signals, but reaches sig_c" in load_error(features)


def test_a_safety_signal_is_never_normal(features: Path) -> None:
    edit(features / "rules.yaml", "when: {signal: sig_a}", "when: {signal: [sig_a, sig_f]}")
    assert "a 'normal' rule may not match safety signals (sig_f)" in load_error(features)
    edit(features / "rules.yaml", "when: {signal: [sig_a, sig_f]}", "when: {signal: sig_a}")
    edit(
        features / "rules.yaml",
        "category: safety, level: concern",
        "category: safety, level: discuss",
    )
    message = load_error(features)
    assert "a safety rule must be at least 'concern'" in message
    assert "safety signal 'sig_f' needs a rule at 'concern' or above" in message


def test_every_signal_needs_a_presence_rule(features: Path) -> None:
    edit(features / "rules.yaml", "when: {signal: sig_b}", "when: {signal: sig_b, frequency: once}")
    assert "signal 'sig_b' has no rule that fires on it alone" in load_error(features)


def test_yaml_syntax_error_names_the_line(features: Path) -> None:
    (features / "more.yaml").write_text("rules:\n  - id: everyday.x\n    title: [unclosed\n")
    assert f"{features / 'more.yaml'}:" in load_error(features)


def test_non_utf8_rule_file(features: Path) -> None:
    (features / "more.yaml").write_bytes(b"rules:\n  - id: \xff\n")
    assert "not UTF-8" in load_error(features)


def test_empty_condition_and_bad_range(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "duration: {at_most: weeks}",
        "duration: {at_least: years, at_most: weeks}",
    )
    assert "at_least is above at_most" in load_error(features)


@pytest.mark.parametrize("bound", ["{at_least: unknown}", "{at_least: unknown, at_most: months}"])
def test_unknown_cannot_bound_a_range(features: Path, bound: str) -> None:
    # durable_rules compared unknown's encoding (0) as a number and fired where the Python
    # evaluator, and the documented rule ("a range never matches not given"), did not.
    edit(features / "rules.yaml", "duration: {at_most: weeks}", f"duration: {bound}")
    message = load_error(features)
    assert "duration: unknown cannot bound a range" in message
    assert "once, occasionally" not in message  # it names duration's own values
    assert "list unknown among values instead" in message


def test_range_on_a_nominal_field(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "initiated_by: [therapist, unknown]",
        "initiated_by: {at_least: therapist}",
    )
    assert "at_least/at_most only work on ordered fields" in load_error(features)


def test_count_under_not_is_refused(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "when: {count: {category: boundaries}, at_least: 2}",
        "when: {all: [{signal: sig_a}, {not: {count: {category: healthy}, at_least: 2}}]}",
    )
    edit(
        features / "rules.yaml",
        "category: boundaries\n    level: concern\n    when: {all",
        "category: everyday\n    level: concern\n    when: {all",
    )
    assert "a count may not sit under 'not'" in load_error(features)


def test_missing_folder(tmp_path: Path) -> None:
    assert "not a folder" in load_error(tmp_path / "nowhere")


def test_resources_override_must_cover_named_ones(features_dir: Path) -> None:
    with pytest.raises(RuleBookError, match="rules name resource roles you did not give: crisis-line"):
        Engine(
            features_dir,
            resources=[{"id": "other", "role": "emergency", "name": "Other", "contact": "x", "levels": ["urgent"]}],
        )


def test_broken_template_is_reported_by_name(features: Path) -> None:
    from therapy_signals import RenderError

    (features / "templates" / "en" / "t.j2").write_text("{{ rule.nope }}")
    engine = Engine(features)
    with pytest.raises(
        RenderError,
        match=r"t\.j2:1 \(rule everyday\.a[a-z-]*\): .dict object. has no attribute .nope.",
    ):
        engine.explain({"observations": [{"signal": "sig_a"}]})


def test_supersession_cycles_are_refused(features: Path) -> None:
    edit(
        features / "rules.yaml",
        "when: {signal: sig_c}, normal_when",
        "supersedes: [dependency.c-not-couples], when: {signal: sig_c}, normal_when",
    )
    edit(
        features / "rules.yaml",
        "level: discuss\n    when:\n      all:\n        - {signal: sig_c, frequency",
        "level: discuss\n    supersedes: [dependency.c]\n    when:\n      all:\n        - {signal: sig_c, frequency",
    )
    assert (
        "supersession goes round in a circle: dependency.c -> dependency.c-not-couples -> dependency.c"
        in load_error(features)
    )


def test_too_complex_condition_is_a_rule_file_error(features: Path) -> None:
    many = ", ".join(
        f"{{any: [{{signal: sig_a, impact: {i}}}, {{signal: sig_b}}]}}" for i in ("none", "mild", "moderate", "severe")
    )
    wide = "{all: [" + ", ".join([many] * 2) + "]}"
    edit(
        features / "rules.yaml",
        "when: {signal: sig_a, frequency: {at_least: occasionally, at_most: often}, duration: {at_most: weeks}}",
        f"when: {wide}",
    )
    message = load_error(features)
    assert "rules.yaml:7: rule everyday.a-range: the condition expands to more than 64 alternatives" in message


def test_a_rule_on_setting_and_absence_alone_gets_a_witness(features: Path) -> None:
    from therapy_signals.witness import witness

    (features / "more.yaml").write_text(
        "rules:\n  - {id: everyday.couples-without-b, title: Couples therapy without b, category: everyday, level: normal,"
        " when: {all: [{setting: couples}, {not: {signal: sig_b}}]}, normal_when: Always., explain: t.j2, references: [test#source]}\n"
    )
    engine = Engine(features)
    rule = engine.rulebook.rule("everyday.couples-without-b")
    found = witness(rule, engine.rulebook)
    assert found is not None and found.setting.value == "couples"
    assert rule.id in engine.fired(found)


def test_every_problem_comes_in_one_pass(features: Path) -> None:
    # A field error in one rule, a bad signal definition, and an unknown signal in another rule:
    # all three in the first report, not one per attempt.
    edit(
        features / "rules.yaml",
        "level: discuss\n    when: {signal: sig_a, frequency",
        "level: discus\n    when: {signal: sig_a, frequency",
    )
    edit(features / "rules.yaml", "when: {signal: sig_c}", "when: {signal: sig_cc}")
    text = (features / "signals.yaml").read_text()
    (features / "signals.yaml").write_text(
        text.replace("signals:\n", "signals:\n  - {id: sig_new, category: nope, label: a new one}\n", 1)
    )
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(features)
    message = str(caught.value)
    assert f"{features / 'rules.yaml'}:10: rules[5].level:" in message
    assert "rule dependency.c: signal 'sig_cc' is not in signals.yaml; did you mean 'sig_c'" in message
    assert f"{features / 'signals.yaml'}:2: signals[0].category:" in message
    # The rule left out for its level is not reported again as missing, nor its signal as unexplained.
    assert len(caught.value.problems) == 3, message


def test_a_reference_to_an_item_left_out_is_not_reported_twice(features: Path) -> None:
    text = (features / "signals.yaml").read_text()
    assert "- {id: sig_c," in text
    (features / "signals.yaml").write_text(text.replace("- {id: sig_c,", "- {id: sig_c, colour: red,", 1))
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(features)
    (only,) = caught.value.problems
    assert only.where.startswith(str(features / "signals.yaml")) and "colour" in only.message


def test_a_scenario_field_in_an_observation_match_says_where_it_belongs(features: Path) -> None:
    edit(features / "rules.yaml", "when: {signal: sig_c}", "when: {signal: sig_c, sessions: {at_least: 3}}")
    message = load_error(features)
    assert "rules[2].when: 'sessions' is a field of the scenario, not of an observation" in message
    assert "Value error" not in message and "Extra inputs" not in message
