"""Rule packs on top of the shipped rules: add, override, disable, and the limits on each."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from therapy_signals import BUILTIN, Engine, Guidance, Level, RuleBookError, UnknownRuleError

PACK_YAML = "name: clinic\nversion: 1.0.0\n"
NEW_SIGNAL = "signals:\n  - {id: therapist_late_often, category: everyday, label: your therapist running late}\n"
NEW_RULE = (
    "rules:\n"
    "  - id: everyday.therapist-late\n"
    "    title: Your therapist often runs late\n"
    "    category: everyday\n"
    "    level: discuss\n"
    "    when: {signal: therapist_late_often}\n"
    "    normal_when: Now and then, with an apology.\n"
    "    explain: everyday/therapist-late.j2\n"
    "    references: [guide#everyday-challenges]\n"
)


def make_pack(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in {"pack.yaml": PACK_YAML, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return make_pack(
        tmp_path / "clinic",
        {
            "signals.yaml": NEW_SIGNAL,
            "clinic.yaml": NEW_RULE,
            "templates/en/everyday/therapist-late.j2": "Running late {{ observations | length }} time(s) is worth a word.",
        },
    )


def test_a_pack_adds_a_signal_a_rule_and_a_template(pack: Path) -> None:
    engine = Engine(rule_paths=[BUILTIN, pack])
    g = engine.explain({"observations": [{"signal": "therapist_late_often"}]})
    assert g.level is Level.discuss
    assert g.findings[0].explanation == "Running late 1 time(s) is worth a word."
    assert g.rulebook.name.endswith("+clinic")
    assert g.rulebook.hash != Engine().rulebook.content_hash


def test_a_pack_overrides_a_rule_and_its_template(tmp_path: Path, book) -> None:  # type: ignore[no-untyped-def]
    base = book.rules["everyday.feeling-challenged"]
    text = (
        "rules:\n  - id: everyday.feeling-challenged\n    title: Being stretched in a session\n"
        f"    category: everyday\n    level: normal\n    when: {{signal: feeling_challenged_in_session}}\n"
        f"    normal_when: Usually.\n    explain: {base.explain}\n    references: [guide#everyday-challenges]\n"
    )
    pack = make_pack(tmp_path / "p", {"r.yaml": text, f"templates/en/{base.explain}": "Our clinic's words."})
    engine = Engine(rule_paths=[BUILTIN, pack])
    assert any("overrides everyday.feeling-challenged" in c for c in engine.rulebook.changes)
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    assert (g.findings[0].title, g.findings[0].explanation) == ("Being stretched in a session", "Our clinic's words.")


def test_a_pack_disables_a_rule(tmp_path: Path, engine: Engine) -> None:
    target = "boundaries.frequent-gifts"
    assert target in engine.rulebook.rules
    pack = make_pack(tmp_path / "p", {"pack.yaml": PACK_YAML + f"disable: [{target}]\n"})
    custom = Engine(rule_paths=[BUILTIN, pack])
    assert target not in custom.rulebook.rules
    assert f"clinic disables {target}" in custom.rulebook.changes


def test_a_pack_may_not_lower_or_disable_a_safety_rule(tmp_path: Path, book) -> None:  # type: ignore[no-untyped-def]
    rule = book.rules["safety.sexual-contact"]
    lowered = (
        f"rules:\n  - id: {rule.id}\n    title: Lowered\n    category: safety\n    level: concern\n"
        f"    when: {{signal: sexual_contact}}\n    normal_when: Never.\n    explain: {rule.explain}\n"
        "    references: [guide#emotional-safety]\n"
    )
    pack = make_pack(tmp_path / "p", {"r.yaml": lowered, "pack.yaml": PACK_YAML + "disable: [safety.self-harm-risk]\n"})
    with pytest.raises(RuleBookError) as caught:
        Engine(rule_paths=[BUILTIN, pack])
    message = str(caught.value)
    assert "rule safety.sexual-contact: a pack may not lower a built-in safety rule (serious)" in message
    assert "disable: safety.self-harm-risk is a safety rule; a pack may not turn it off" in message


def test_conflicts_are_named(tmp_path: Path) -> None:
    redefined = "signals:\n  - {id: sexual_contact, category: everyday, label: something else}\n"
    pack = make_pack(tmp_path / "p", {"signals.yaml": redefined, "pack.yaml": PACK_YAML + "disable: [everyday.nope]\n"})
    with pytest.raises(RuleBookError) as caught:
        Engine(rule_paths=[BUILTIN, pack])
    message = str(caught.value)
    assert "signal 'sexual_contact' is already defined differently" in message
    assert "disable: no rule 'everyday.nope'" in message


def test_pack_templates_run_in_the_sandbox(pack: Path) -> None:
    # Refused when the pack loads, with its file and line, not on the first request that uses it.
    (pack / "templates/en/everyday/therapist-late.j2").write_text("ok\n{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(RuleBookError, match=r"therapist-late\.j2:2: .*private"):
        Engine(rule_paths=[BUILTIN, pack])


def test_rules_validate_takes_a_pack(pack: Path) -> None:
    script = Path(sys.executable).parent / "therapy-signals"
    done = subprocess.run([str(script), "rules", "validate", str(pack)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "+clinic" in done.stdout and "every rule fires and renders" in done.stdout


LOCALES = Engine().rulebook.locales


@pytest.mark.parametrize("locale", LOCALES)
def test_a_pack_that_disables_a_rule_speaks_every_locale(tmp_path: Path, locale: str) -> None:
    # The base's wording.yaml still words the disabled rule; that is not a slip of the pack's.
    pack = make_pack(tmp_path / "p", {"pack.yaml": PACK_YAML + "disable: [boundaries.frequent-gifts]\n"})
    engine = Engine(rule_paths=[BUILTIN, pack], locale=locale)
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    assert g.locale == locale and g.findings
    assert "boundaries.frequent-gifts" not in engine.rulebook.rules


def test_asking_why_a_disabled_rule_did_not_fire_names_the_pack(tmp_path: Path) -> None:
    """The trace's "why not?" for a rule a pack turned off: the pack, not "no rule"."""
    pack = make_pack(tmp_path / "p", {"pack.yaml": PACK_YAML + "disable: [boundaries.frequent-gifts]\n"})
    engine = Engine(rule_paths=[BUILTIN, pack])
    gifts = {"observations": [{"signal": "gift_from_therapist", "frequency": "often"}]}
    said = f"rule 'boundaries.frequent-gifts' is turned off by {pack / 'pack.yaml'}"
    with pytest.raises(UnknownRuleError, match=re.escape(said)):
        engine.trace(gifts, "boundaries.frequent-gifts")
    with pytest.raises(UnknownRuleError, match=re.escape("no rule 'boundaries.frequent-gift'; did you mean")):
        engine.rulebook.rule("boundaries.frequent-gift")


def _serve(pack: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`serve` with a bad pack must exit before it binds; the timeout only guards a regression."""
    command = [sys.executable, "-m", "therapy_signals", "serve", "--port", "0", "--pack", str(pack), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("broken", LOCALES)
def test_a_template_that_does_not_compile_in_any_locale_stops_engine_and_serve(pack: Path, broken: str) -> None:
    template = pack / f"templates/{broken}/everyday/therapist-late.j2"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text("Running late.\n{% if observations %}\n")
    for locale in LOCALES:  # whichever locale the Engine speaks
        with pytest.raises(RuleBookError, match=rf"templates/{broken}/everyday/therapist-late\.j2:2: Unexpected end"):
            Engine(rule_paths=[BUILTIN, pack], locale=locale)
    done = _serve(pack)
    assert done.returncode == 2
    assert f"templates/{broken}/everyday/therapist-late.j2:2" in done.stderr
    assert "serving" not in done.stderr and "Traceback" not in done.stderr


def test_a_rule_base_of_ones_own_is_checked_like_a_pack(rules_copy: Path) -> None:
    (rules_copy / "templates/es/everyday/feeling-challenged.j2").write_text("{{ rule.title ")
    with pytest.raises(RuleBookError, match=r"templates/es/everyday/feeling-challenged\.j2:1"):
        Engine(rules_copy)


def test_guidance_names_every_pack_with_its_version_and_hash(pack: Path, tmp_path: Path) -> None:
    second = make_pack(tmp_path / "second", {"pack.yaml": "name: second\nversion: 2.3.4\n"})
    engine = Engine(rule_paths=[BUILTIN, pack, second])
    g = engine.explain({"observations": [{"signal": "therapist_late_often"}]})
    packs = [(p.name, p.version) for p in g.rulebook.packs]
    assert packs == [("clinic", "1.0.0"), ("second", "2.3.4")]
    assert all(len(p.hash) == 64 for p in g.rulebook.packs)
    assert g.rulebook.packs[0].hash != g.rulebook.packs[1].hash
    data = json.loads(g.model_dump_json())
    assert data["rulebook"]["packs"][1] == {"name": "second", "version": "2.3.4", "hash": g.rulebook.packs[1].hash}
    assert Guidance.model_validate_json(g.model_dump_json()).rulebook == g.rulebook
    short = [f"{p.name} {p.version}, {p.hash[:12]}" for p in g.rulebook.packs]
    assert all(s in g.to_text() for s in short)
    assert all(f"{p.name} {p.version} {p.hash}" in g.to_markdown() for p in g.rulebook.packs)
    assert f'data-packs="clinic 1.0.0 {g.rulebook.packs[0].hash[:12]}; second 2.3.4' in g.to_html()


def test_a_pack_hash_follows_its_files(pack: Path) -> None:
    before = Engine(rule_paths=[BUILTIN, pack]).rulebook.pack_info[0].hash
    (pack / "templates/en/everyday/therapist-late.j2").write_text("Other words.")
    assert Engine(rule_paths=[BUILTIN, pack]).rulebook.pack_info[0].hash != before


def test_without_packs_guidance_lists_none(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    assert g.rulebook.packs == []
    assert "data-packs" not in g.to_html()


def test_a_pack_problem_names_the_pack_not_the_built_in_files(tmp_path: Path) -> None:
    # Turning off the one rule that explains a signal is the pack's doing: name its pack.yaml.
    pack = make_pack(tmp_path / "p", {"pack.yaml": PACK_YAML + "disable: [everyday.feeling-challenged]\n"})
    with pytest.raises(RuleBookError) as caught:
        Engine(rule_paths=[BUILTIN, pack])
    (only,) = caught.value.problems
    assert only.where == str(pack / "pack.yaml")
    assert "'feeling_challenged_in_session' has no rule that fires on it alone" in only.message


def _validate(pack: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "therapy-signals"
    return subprocess.run([str(script), "rules", "validate", str(pack)], capture_output=True, text=True, timeout=120)


def test_rules_validate_warns_of_a_pack_rule_with_no_words_in_a_locale(pack: Path) -> None:
    others = [locale for locale in LOCALES if locale != "en"]
    assert others
    done = _validate(pack)
    assert done.returncode == 0, done.stderr
    for locale in others:
        assert (
            f"warning: {pack / 'clinic.yaml'}:2: rule everyday.therapist-late: no template "
            f"'everyday/therapist-late.j2' and no title in wording.yaml in locale {locale!r}"
        ) in done.stderr
        assert f"signal 'therapist_late_often': no label in wording.yaml in locale {locale!r}" in done.stderr
    assert "every rule fires and renders" in done.stdout


def test_a_pack_translated_into_every_locale_gets_no_warning(pack: Path) -> None:
    for locale in LOCALES:
        if locale == "en":
            continue
        folder = pack / "templates" / locale
        (folder / "everyday").mkdir(parents=True)
        (folder / "everyday/therapist-late.j2").write_text("Llega tarde.")
        (folder / "wording.yaml").write_text(
            "signals: {therapist_late_often: que tu terapeuta llegue tarde}\n"
            "rules: {everyday.therapist-late: {title: Tu terapeuta suele llegar tarde}}\n"
        )
    done = _validate(pack)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr


def test_a_pack_name_cannot_close_the_markdown_comment_it_is_shown_in(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", {"pack.yaml": 'name: "x --> <img src=y onerror=alert(1)> --!>"\nversion: 1.0.0\n'})
    g = Engine(rule_paths=[BUILTIN, pack]).explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    footer = g.to_markdown().rstrip().splitlines()[-1]
    assert footer.startswith("<!-- ") and footer.endswith(" -->")
    assert ">" not in footer[len("<!-- ") : -len(" -->")]
    assert "&lt;img" in g.to_html() and "<img" not in g.to_html()


def test_rules_validate_renders_every_rule_in_every_locale(pack: Path) -> None:
    # Compiles, but fails when rendered: only a render in that locale finds it.
    for locale in LOCALES:
        if locale == "en":
            continue
        template = pack / f"templates/{locale}/everyday/therapist-late.j2"
        template.parent.mkdir(parents=True, exist_ok=True)
        template.write_text("Tarde {{ no_such_name }}")
    done = _validate(pack)
    assert done.returncode == 2
    for locale in LOCALES:
        if locale != "en":
            assert f"rule everyday.therapist-late in locale {locale!r}: " in done.stderr
            assert f"templates/{locale}/everyday/therapist-late.j2:1" in done.stderr
    assert "'no_such_name' is undefined" in done.stderr and "ok:" not in done.stdout
