"""Packs given in code (mappings or RulePack.from_data): the same checks, floor and provenance as folders."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import (
    BUILTIN,
    Category,
    Engine,
    Level,
    Rule,
    RuleBook,
    RuleBookError,
    RulePack,
    UnknownRuleError,
)
from therapy_signals.witness import witness

BASE = RuleBook.load()


def rule(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "everyday.constant-challenge",
        "title": "Challenged in every session",
        "category": "everyday",
        "level": "discuss",
        "when": {"signal": "feeling_challenged_in_session", "frequency": "constantly"},
        "normal_when": "Now and then, when the work is hard.",
        "explain": "everyday/feeling-challenged.j2",
        "references": ["guide#everyday-challenges"],
    }
    return {**data, **change}


def pack(*rules: dict[str, Any] | Rule, **meta: Any) -> dict[str, Any]:
    return {"name": "clinic-db", "version": "1.2.0", **meta, "rules": list(rules)}


CONSTANT = {"observations": [{"signal": "feeling_challenged_in_session", "frequency": "constantly"}]}


def test_a_pack_as_a_mapping_adds_a_rule() -> None:
    engine = Engine(rule_paths=[BUILTIN, pack(rule())])
    g = engine.explain(CONSTANT)
    assert "everyday.constant-challenge" in [f.rule_id for f in g.findings]
    assert g.rulebook.name.endswith("+clinic-db")
    (info,) = g.rulebook.packs
    assert (info.name, info.version, len(info.hash)) == ("clinic-db", "1.2.0", 64)
    assert g.rulebook.hash != BASE.content_hash


def test_models_and_mappings_give_the_same_pack_and_hash() -> None:
    as_model = RulePack.from_data(pack(Rule.model_validate(rule())))
    as_dict = RulePack.from_data(pack(rule()))
    assert as_model.info == as_dict.info and as_model.folder is None
    changed = RulePack.from_data(pack(rule(title="Challenged in each session")))
    assert changed.info.hash != as_dict.info.hash
    book = RuleBook.from_data([as_model])
    assert book.pack_info == (as_model.info,) and book.where("everyday.constant-challenge") == "<memory>:rules[0]"


def test_problems_name_a_pseudo_location_and_all_come_at_once() -> None:
    bad = pack(rule(level="sometimes"), rule(id="everyday.other", when={"signal": "no_such_signal"}))
    with pytest.raises(RuleBookError) as caught:
        Engine(rule_paths=[BUILTIN, bad])
    found = {str(p) for p in caught.value.problems}
    assert any(p.startswith("<memory>:rules[0].level: Input should be 'normal'") for p in found), found
    assert any(p.startswith("<memory>:rules[1]: rule everyday.other: signal 'no_such_signal'") for p in found), found
    with pytest.raises(RuleBookError, match=r"<memory>:version: String should match"):
        RulePack.from_data({"name": "x", "version": "one"})
    with pytest.raises(RuleBookError, match="a pack given in code is a mapping"):
        RulePack.from_data(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_a_pack_in_memory_may_not_lower_or_disable_a_safety_rule() -> None:
    safety = BASE.rules["safety.sexual-contact"]
    lowered = safety.model_copy(update={"level": Level.concern})
    data = pack(lowered, disable=["safety.self-harm-risk"])
    with pytest.raises(RuleBookError) as caught:
        Engine(rule_paths=[BUILTIN, data])
    message = str(caught.value)
    assert "<memory>:rules[0]: rule safety.sexual-contact: a pack may not lower a built-in safety rule" in message
    assert "disable: safety.self-harm-risk is a safety rule; a pack may not turn it off" in message


def test_a_rule_in_memory_may_not_call_a_safety_signal_normal() -> None:
    calm = rule(id="everyday.calm", level="normal", when={"signal": "sexual_contact"})
    with pytest.raises(RuleBookError, match=r"<memory>:rules\[0\]: rule everyday\.calm: a 'normal' rule may not match"):
        Engine(rule_paths=[BUILTIN, pack(calm)])


SAFETY = sorted(name for name, s in BASE.signals.items() if s.category is Category.safety)
# A pack in memory that tries to make a safety observation look ordinary: a broad rule that
# supersedes nothing it may not, at the lowest level it may use.
ORDINARY = pack(
    rule(id="boundaries.anything", category="boundaries", level="concern", when={"category": "safety"}),
)


@given(st.sampled_from(SAFETY))
def test_the_safety_floor_holds_for_a_pack_in_memory(signal: str) -> None:
    engine = _ENGINES.setdefault("packed", Engine(rule_paths=[BUILTIN, ORDINARY]))
    base = _ENGINES.setdefault("base", Engine())
    scenario = {"observations": [{"signal": signal}]}
    assert engine.explain(scenario).level >= base.explain(scenario).level


_ENGINES: dict[str, Engine] = {}


def test_every_rule_of_a_pack_in_memory_has_a_witness_and_renders() -> None:
    book = RuleBook.from_data([pack(rule())])
    found = witness(book.rules["everyday.constant-challenge"], book)
    assert found is not None
    g = Engine(book).explain(found)
    assert g.to_text() and g.to_html()


SAFETY_RULES = sorted(rule_id for rule_id, r in BASE.rules.items() if r.category is Category.safety)


@settings(max_examples=25)  # each example loads the whole base
@given(
    signal=st.sampled_from(SAFETY),
    level=st.sampled_from([Level.normal, Level.discuss]),
    category=st.sampled_from([c for c in Category if c is not Category.safety]),
)
def test_no_pack_in_memory_calls_a_safety_signal_mild(signal: str, level: Level, category: Category) -> None:
    mild = rule(id=f"{category.value}.mild-view", category=category.value, level=level.value, when={"signal": signal})
    with pytest.raises(RuleBookError, match=r"a safety concern is never called normal"):
        RuleBook.from_data([pack(mild)])


@settings(max_examples=25)
@given(rule_id=st.sampled_from(SAFETY_RULES), data=st.data())
def test_no_pack_in_memory_lowers_a_safety_rule(rule_id: str, data: st.DataObject) -> None:
    old = BASE.rules[rule_id]
    lower = [level for level in Level if level < old.level]
    if not lower:
        return
    lowered = old.model_copy(update={"level": data.draw(st.sampled_from(lower))})
    with pytest.raises(RuleBookError, match=rf"rule {rule_id}: a pack may not lower a built-in safety rule"):
        RuleBook.from_data([pack(lowered)])


@pytest.mark.parametrize(
    "name",
    ["safety/../safety/sexual-contact.j2", "./safety/sexual-contact.j2", "safety/./sexual-contact.j2", "/safety/x.j2"],
)
def test_a_template_path_that_leaves_its_folder_is_refused_at_load(name: str, tmp_path: Any) -> None:
    """A file check on disk passes "a/../a/b.j2" and Jinja refuses it when guidance renders: every
    explain of the rule, a safety rule's included, would then fail (a 500 from the service)."""
    safety = RuleBook.load().rule("safety.sexual-contact").model_dump(mode="json", exclude_none=True)
    with pytest.raises(RuleBookError, match=r"<memory>:rules\[0\]\.explain"):
        Engine(rule_paths=[BUILTIN, {"name": "x", "version": "1.0.0", "rules": [dict(safety, explain=name)]}])
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pack.yaml").write_text("name: p\nversion: 1.0.0\n")
    rule = RuleBook.load().rule("everyday.feeling-challenged").model_dump(mode="json", exclude_none=True)
    (folder / "r.yaml").write_text(yaml.safe_dump({"rules": [dict(rule, explain=name)]}))
    with pytest.raises(RuleBookError, match=r"r\.yaml:\d+"):
        Engine(rule_paths=[BUILTIN, str(folder)])


@pytest.mark.parametrize("given", ["my_rules/", BUILTIN, {"name": "x", "version": "1.0.0"}])
def test_rule_paths_alone_is_a_type_error(given: Any) -> None:
    with pytest.raises(TypeError, match=r"rule_paths is a list, the base first"):
        Engine(rule_paths=given)


def test_a_rule_the_floor_brings_back_traces_as_the_base_wrote_it() -> None:
    """A pack rewrites a safety rule so it cannot fire; the floor shows the base's: the trace says so."""
    safety = RuleBook.load().rule("safety.sexual-contact").model_dump(mode="json", exclude_none=True)
    impossible = {"signal": "sexual_contact", "months_after_ending": {"at_least": 1200}}
    narrowed = dict(safety, when={"all": [safety["when"], impossible]})
    milder = {  # the hostile pack's own answer for the signal, so every observation is still explained
        "id": "safety.worth-a-word",
        "title": "Something to talk over with your therapist",
        "category": "safety",
        "level": "concern",
        "when": {"signal": "sexual_contact"},
        "normal_when": "It is worth a word.",
        "explain": "safety/self-harm-risk.j2",
        "references": ["guide#emotional-safety"],
    }
    engine = Engine(rule_paths=[BUILTIN, {"name": "sp", "version": "1.0.0", "rules": [narrowed, milder]}])
    scenario = {"observations": [{"signal": "sexual_contact"}]}
    assert any(f.rule_id == "safety.sexual-contact" for f in engine.explain(scenario).findings)
    trace = engine.trace(scenario, "safety.sexual-contact")
    assert trace.floor and trace.fired and trace.shown and trace.when.held
    plain = Engine().trace(scenario, "safety.sexual-contact")
    assert not plain.floor and plain.when == trace.when


def test_a_disabled_rule_the_floor_brings_back_traces_as_the_base_wrote_it() -> None:
    pack = {"name": "cp", "version": "1.0.0", "disable": ["boundaries.selling-after-refusal"]}
    engine = Engine(rule_paths=[BUILTIN, pack])
    selling = {"signal": "therapist_selling_products", "raised": True, "response": "dismissed"}
    scenario = {"observations": [selling, {"signal": "partner_violence_disclosed", "frequency": "once"}]}
    assert "boundaries.selling-after-refusal" in {f.rule_id for f in engine.explain(scenario).findings}
    trace = engine.trace(scenario, "boundaries.selling-after-refusal")
    assert trace.floor and trace.fired and trace.shown
    alone = {"observations": [selling]}  # no safety signal: no floor, and the pack's answer stands
    with pytest.raises(UnknownRuleError, match="turned off by"):
        engine.trace(alone, "boundaries.selling-after-refusal")
