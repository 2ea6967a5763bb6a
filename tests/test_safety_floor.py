"""The safety floor is about outcomes: whatever a pack does, a scenario with a safety signal gets
guidance at least as high as the rule base alone gives, with every resource the base shows.
The tests attack it the way a hostile pack author would, then fuzz packs with hypothesis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, Level, RuleBook, RuleBookError, Scenario
from therapy_signals.conditions import Match
from therapy_signals.model import Category, Response
from therapy_signals.strategies import scenarios

from .test_packs import make_pack

SELF_HARM = {"observations": [{"signal": "client_self_harm_risk"}]}
SEXUAL_CONTACT = {"observations": [{"signal": "sexual_contact"}]}


def _rule_yaml(rules: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"rules": rules}, sort_keys=False)


def _narrowed(book: RuleBook, rule_id: str) -> dict[str, Any]:
    """The built-in rule with its condition made impossible to meet: id and level kept."""
    rule = book.rules[rule_id].model_dump(mode="json", by_alias=True, exclude_defaults=True)
    rule["when"] = {"all": [rule["when"], {"signal": "sexual_contact", "months_after_ending": {"at_least": 1200}}]}
    return rule


def _milder(signal: str, rule_id: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "title": "Something to talk over with your therapist",
        "category": "safety",
        "level": "concern",
        "when": {"signal": signal},
        "normal_when": "It is worth a word.",
        "explain": "safety/self-harm-risk.j2",
        "references": ["guide#emotional-safety"],
    }


@pytest.mark.parametrize(
    ("scenario", "rule_id", "signal", "resource"),
    [
        (SELF_HARM, "safety.self-harm-risk", "client_self_harm_risk", "988-lifeline"),
        (SEXUAL_CONTACT, "safety.sexual-contact", "sexual_contact", "licensing-board"),
    ],
)
def test_the_reported_attack_no_longer_lowers_safety(
    tmp_path: Path, book: RuleBook, engine: Engine, scenario: dict[str, Any], rule_id: str, signal: str, resource: str
) -> None:
    # Keep the safety rule's id and level, narrow its condition so it never fires, and add a
    # milder rule on the same signal: the loader sees nothing lowered, by id.
    rules = [_narrowed(book, rule_id), _milder(signal, "safety.talk-it-over")]
    pack = make_pack(tmp_path / "hostile", {"hostile.yaml": _rule_yaml(rules)})
    hostile = Engine(rule_paths=[BUILTIN, pack])
    assert "safety.talk-it-over" in hostile.fired(scenario)
    assert rule_id not in hostile.fired(scenario)  # the narrowing worked on the pack's rules
    alone = engine.explain(scenario)
    answered = hostile.explain(scenario)
    assert answered.level is alone.level >= Level.serious
    assert {r.id for r in alone.resources} <= {r.id for r in answered.resources}
    assert resource in {r.id for r in answered.resources}
    assert rule_id in [f.rule_id for f in answered.findings]


def test_a_lowered_rule_still_counts_beside_a_safety_signal(tmp_path: Path, book: RuleBook, engine: Engine) -> None:
    # The pack lowers a serious boundaries rule; alone it may, but not beside a safety signal.
    lowered = book.rules["boundaries.business-or-loan"].model_dump(mode="json", by_alias=True, exclude_defaults=True)
    lowered["level"] = "discuss"
    pack = make_pack(tmp_path / "p", {"p.yaml": _rule_yaml([lowered])})
    packed = Engine(rule_paths=[BUILTIN, pack])
    loan = {"signal": "business_or_loan"}
    romance = {"signal": "romance_after_ending", "months_after_ending": 100}  # a safety signal at concern
    assert engine.explain({"observations": [loan]}).level is Level.serious
    assert packed.explain({"observations": [loan]}).level is Level.discuss  # the pack's own choice
    both = {"observations": [loan, romance]}
    assert engine.explain(both).level is Level.serious
    answered = packed.explain(both)
    assert answered.level is Level.serious
    found = [(f.rule_id, f.level) for f in answered.findings]
    assert ("boundaries.business-or-loan", Level.serious) in found  # the base's version, in place of the pack's
    assert ("boundaries.business-or-loan", Level.discuss) not in found


def test_a_pack_may_not_redefine_a_crisis_line(tmp_path: Path) -> None:
    fake = (
        "resources:\n  - {id: 988-lifeline, role: crisis-line, name: Help, contact: Call 555-0100, levels: [urgent]}\n"
    )
    for where in ("resources.yaml", "templates/en/resources.yaml", "templates/es/resources.yaml"):
        pack = make_pack(tmp_path / where.replace("/", "-"), {where: fake})
        with pytest.raises(RuleBookError, match="resource '988-lifeline' is already defined differently"):
            Engine(rule_paths=[BUILTIN, pack], locale="es" if "/es/" in where else None)


def test_a_pack_may_add_a_resource(tmp_path: Path) -> None:
    extra = "resources:\n  - {id: clinic-line, role: crisis-line, name: Clinic line, contact: Call the front desk, levels: [urgent]}\n"
    pack = make_pack(tmp_path / "p", {"resources.yaml": extra})
    ids = [r.id for r in Engine(rule_paths=[BUILTIN, pack]).explain(SELF_HARM).resources]
    assert ids == ["988-lifeline", "clinic-line", "emergency-911"]  # the crisis-line role first, then urgent's


def test_a_pack_may_not_rename_a_level(tmp_path: Path) -> None:
    strings = yaml.safe_load((Path(__file__).parents[1] / "rules/templates/en/strings.yaml").read_text())
    strings["levels"]["serious"]["name"] = "Normal"
    pack = make_pack(tmp_path / "p", {"templates/en/strings.yaml": yaml.safe_dump(strings)})
    with pytest.raises(RuleBookError, match="a pack may not rename levels"):
        Engine(rule_paths=[BUILTIN, pack])


def test_a_new_locale_may_not_give_a_level_another_levels_name(tmp_path: Path) -> None:
    strings = yaml.safe_load((Path(__file__).parents[1] / "rules/templates/en/strings.yaml").read_text())
    for level, name in zip(Level, ["Bien", "Hablar", "Atención", "Grave", "Urgente"], strict=True):
        strings["levels"][level.value]["name"] = name
    good = make_pack(tmp_path / "good", {"templates/xx/strings.yaml": yaml.safe_dump(strings)})
    assert Engine(rule_paths=[BUILTIN, good], locale="xx").explain(SEXUAL_CONTACT).summary.startswith("Grave:")
    strings["levels"]["serious"]["name"] = "NORMAL "
    bad = make_pack(tmp_path / "bad", {"templates/xx/strings.yaml": yaml.safe_dump(strings)})
    with pytest.raises(RuleBookError, match=r"levels\.serious\.name: 'NORMAL ' is what the level 'normal' is called"):
        Engine(rule_paths=[BUILTIN, bad], locale="xx")


# -- the property, over generated packs ---------------------------------------------------------

_FIELDS = {
    "frequency": ["once", "often", {"at_least": "often"}],
    "impact": ["severe", {"at_most": "mild"}],
    "initiated_by": ["client", "therapist"],
    "response": ["repaired", "dismissed", "unknown"],
    "months_after_ending": [{"at_least": 1200}, {"at_most": 3}],
}


def _presence(book: RuleBook, rule_id: str) -> str | None:
    when = book.rules[rule_id].when
    return next(iter(when.signals or ()), None) if isinstance(when, Match) and when.is_presence else None


@st.composite
def _pack_rules(draw: st.DrawFn, book: RuleBook) -> tuple[list[dict[str, Any]], list[str]]:
    """What a hostile pack can do and still load: narrow built-in rules (keeping id and level
    for safety ones) with a new presence rule in place of a narrowed one, lower or raise the
    others, add rules on any signal, supersede, drop resources, and disable rules."""
    ids = sorted(book.rules)
    signals = sorted(book.signals)
    ceiling = {r: min((o.level for o in book.rules.values() if r in o.supersedes), default=Level.urgent) for r in ids}
    rules: list[dict[str, Any]] = []
    for index, rule_id in enumerate(draw(st.lists(st.sampled_from(ids), max_size=6, unique=True))):
        rule = book.rules[rule_id].model_dump(mode="json", by_alias=True, exclude_defaults=True)
        field = draw(st.sampled_from(sorted(_FIELDS)))
        narrowing = {"signal": draw(st.sampled_from(signals)), field: draw(st.sampled_from(_FIELDS[field]))}
        rule["when"] = {"all": [rule["when"], narrowing]}
        if book.rules[rule_id].category is not Category.safety:
            rule["level"] = draw(st.sampled_from([lv.value for lv in Level if lv <= ceiling[rule_id]]))
            rule["supersedes"] = []
        if draw(st.booleans()):
            rule["resources"] = []
        rules.append(rule)
        signal = _presence(book, rule_id)
        if signal is not None:  # the narrowed rule was the signal's presence rule: put a milder one there
            rules.append(_new_rule(draw, book, signal, f"{book.signals[signal].category.value}.in-place-{index}", ids))
    for index in range(draw(st.integers(0, 3))):
        signal = draw(st.sampled_from(signals))
        rules.append(_new_rule(draw, book, signal, f"{book.signals[signal].category.value}.pack-rule-{index}", ids))
    mapped = (
        {r for section in book.guide_map.sections for b in section.bullets for r in b.rules}
        if book.guide_map
        else set()
    )
    free = [
        r
        for r in ids
        if book.rules[r].category is not Category.safety and _presence(book, r) is None and r not in mapped
    ]
    overridden = {r["id"] for r in rules}
    disabled = draw(st.lists(st.sampled_from([r for r in free if r not in overridden]), max_size=4, unique=True))
    return rules, disabled


def _new_rule(draw: st.DrawFn, book: RuleBook, signal: str, rule_id: str, ids: list[str]) -> dict[str, Any]:
    category = book.signals[signal].category
    lowest = Level.concern if category is Category.safety else Level.normal
    level = draw(st.sampled_from([lv for lv in Level if lv >= lowest]))
    rule = _milder(signal, rule_id)
    rule.update(category=category.value, level=level.value)
    below = [r for r in ids if book.rules[r].level <= level]
    rule["supersedes"] = draw(st.lists(st.sampled_from(below), max_size=2, unique=True))
    return rule


def _with_safety(book: RuleBook) -> st.SearchStrategy[Scenario]:
    safety = sorted(n for n, s in book.signals.items() if s.category is Category.safety)

    def add(scenario: Scenario, signal: str) -> Scenario:
        if any(o.signal == signal for o in scenario.observations):
            return scenario
        observations = [*scenario.observations, {"signal": signal}][:100]
        return Scenario.model_validate({**scenario.model_dump(exclude_none=True), "observations": observations})

    return st.builds(add, scenarios(book, max_observations=4), st.sampled_from(safety))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_no_pack_lowers_guidance_beside_a_safety_signal(
    tmp_path_factory: pytest.TempPathFactory, book: RuleBook, engine: Engine, data: st.DataObject
) -> None:
    rules, disabled = data.draw(_pack_rules(book), label="pack")
    files = {"pack.yaml": yaml.safe_dump({"name": "fuzz", "version": "1.0.0", "disable": disabled})}
    if rules:
        files["fuzz.yaml"] = _rule_yaml(rules)
    pack = make_pack(tmp_path_factory.mktemp("pack") / "fuzz", files)
    try:
        packed = Engine(rule_paths=[BUILTIN, pack])
    except RuleBookError:
        assume(False)  # the loader refused the pack outright, which is also safe
        return
    for scenario in data.draw(st.lists(_with_safety(book), min_size=20, max_size=20), label="scenarios"):
        alone, answered = engine.explain(scenario, render=False), packed.explain(scenario, render=False)
        assert answered.level >= alone.level, (scenario, alone.level, answered.level)
        assert {r.id for r in alone.resources} <= {r.id for r in answered.resources}
        assert answered.level >= Level.concern


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scenario=scenarios(max_observations=4),
    pick=st.integers(min_value=0),
    backend=st.sampled_from(["durable", "columnar"]),
)
def test_being_punished_for_speaking_up_is_never_below_serious(
    engine: Engine, scenario: Scenario, pick: int, backend: str
) -> None:
    """A response of ``retaliated`` on any observation, of any category, healthy ones included:
    the random generator drew exactly that on healthy signals, and they came out normal."""
    observations = list(scenario.observations)
    index = pick % len(observations)
    observations[index] = observations[index].model_copy(update={"raised": True, "response": Response.retaliated})
    punished = scenario.model_copy(update={"observations": observations})
    assume(len({o.model_dump_json() for o in observations}) == len(observations))
    guidance = engine.explain(punished) if backend == "durable" else _columnar(engine).explain(punished)
    assert guidance.level.rank >= Level.serious.rank
    assert any(f.rule_id == "safety.punished-for-speaking-up" for f in guidance.findings) or guidance.level.rank > (
        Level.serious.rank
    )


_COLUMNAR: list[Engine] = []


def _columnar(engine: Engine) -> Engine:
    if not _COLUMNAR:
        _COLUMNAR.append(Engine(backend="columnar"))
    return _COLUMNAR[0]
