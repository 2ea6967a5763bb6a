"""Locales: every rule renders in every shipped locale, and a shipped locale is complete.

A non-default locale that lacks a template or a piece of wording still works, because the
renderer falls back to the default (English) one; these tests make sure a *shipped* locale
never relies on that, so nothing silently shows up in English.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from therapy_signals import Engine, LocaleError, RuleBook, explain, load_rulebook
from therapy_signals.engine._evaluate import evaluate
from therapy_signals.engine._facts import encode
from therapy_signals.witness import witness

BOOK = load_rulebook()
LOCALES = BOOK.locales
OTHER_LOCALES = [locale for locale in LOCALES if locale != BOOK.meta.default_locale]
DEBRIS = ("{{", "}}", "{%", "%}", "{#", "None", "Undefined")
# Context values reach templates as English enum words; a translated text must not print them.
ENGLISH_WORDS = re.compile(
    r"\b(often|occasionally|constantly|days|weeks|months|years|mild|moderate|severe|therapist|client|"
    r"mutual|in_session|outside_session|repaired|adjusted|dismissed|defensive|retaliated|couples|family|group)\b"
)

GLUED = re.compile(r"[.!?,;:][^\s\d»)]")  # "querías.Eso": a template line break eaten by trim_blocks


@pytest.fixture(scope="module", params=LOCALES)
def locale_engine(request: pytest.FixtureRequest) -> Engine:
    return Engine(BOOK, locale=request.param)


def _debris(text: str) -> list[str]:
    return [piece for piece in DEBRIS if piece in text]


def _explanation(engine: Engine, rule_id: str) -> str:
    """The rule's own explanation on its witness (even when another rule supersedes it)."""
    book = engine.rulebook
    rule = book.rules[rule_id]
    scenario = witness(rule, book)
    assert scenario is not None, f"{rule_id}: no witness"
    encoded = encode(scenario, {name: s.category for name, s in book.signals.items()})
    return engine.renderer.explanation(rule, encoded, sorted(evaluate(rule.when, encoded).cited))


def test_shipped_locales_include_the_default_and_spanish() -> None:
    assert BOOK.meta.default_locale in LOCALES
    assert "es" in LOCALES


@pytest.mark.parametrize("rule_id", sorted(BOOK.rules))
def test_every_rule_renders_in_every_locale(locale_engine: Engine, rule_id: str) -> None:
    text = _explanation(locale_engine, rule_id)
    assert text.strip(), f"{locale_engine.locale}/{rule_id}: empty explanation"
    assert not _debris(text), f"{locale_engine.locale}/{rule_id}: {_debris(text)} in {text!r}"
    assert not GLUED.search(text), f"{locale_engine.locale}/{rule_id}: no space after punctuation in {text!r}"
    if locale_engine.locale != BOOK.meta.default_locale:
        assert not ENGLISH_WORDS.findall(text), f"{locale_engine.locale}/{rule_id}: English words in {text!r}"

    scenario = witness(BOOK.rules[rule_id], BOOK)
    guidance = locale_engine.explain(scenario)
    assert guidance.locale == locale_engine.locale
    for output in (guidance.to_text(), guidance.to_markdown(), guidance.to_html()):
        assert guidance.disclaimer[:30] in output
        assert not _debris(output), f"{locale_engine.locale}/{rule_id}: {_debris(output)}"


# Contexts beyond the witness, so that every branch of a translated template is rendered.
_CONTEXTS = [
    {"frequency": None, "impact": None, "response": None, "initiated_by": None, "raised": None},
    {"frequency": "once", "impact": "mild", "response": "adjusted", "initiated_by": "client", "raised": True},
    {"frequency": "often", "impact": "severe", "response": "dismissed", "initiated_by": "therapist", "raised": True},
    {"frequency": "constantly", "impact": "moderate", "response": "defensive", "initiated_by": "mutual"},
    {"frequency": "occasionally", "impact": "none", "response": None, "initiated_by": "client", "raised": False},
]
_MORE = [
    {"duration": None, "months_after_ending": None, "setting": None, "sessions": None},
    {"duration": "days", "months_after_ending": 0, "setting": "individual", "sessions": 0},
    {"duration": "weeks", "months_after_ending": 1, "setting": "couples", "sessions": 3},
    {"duration": "months", "months_after_ending": 30, "setting": "family", "sessions": 20},
    {"duration": "years", "months_after_ending": 70, "setting": "group", "sessions": 1},
]


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_every_branch_of_a_translated_template_renders_cleanly(locale: str) -> None:
    engine = Engine(BOOK, locale=locale)
    categories = {name: s.category for name, s in BOOK.signals.items()}
    problems = []
    for rule in BOOK.rules.values():
        found = witness(rule, BOOK)
        assert found is not None
        for context, more in itertools.product(_CONTEXTS, _MORE):
            fields = {**context, "duration": more["duration"], "months_after_ending": more["months_after_ending"]}
            observations = [o.model_copy(update=fields) for o in found.observations]
            scenario = found.model_copy(
                update={"observations": observations, "setting": more["setting"], "sessions": more["sessions"]}
            )
            encoded = encode(scenario, categories)
            text = engine.renderer.explanation(rule, encoded, list(range(len(observations))))
            bad = _debris(text) + ENGLISH_WORDS.findall(text) + GLUED.findall(text)
            if bad:
                problems.append(f"{rule.id} {bad}: {text}")
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_explanations_differ_from_the_default_locale(locale: str) -> None:
    """A translated template is not a leftover copy of the English one."""
    default = Engine(BOOK)
    other = Engine(BOOK, locale=locale)
    same = [r for r in sorted(BOOK.rules) if _explanation(default, r) == _explanation(other, r)]
    assert not same, f"{locale}: explanations identical to {BOOK.meta.default_locale}: {same}"


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_non_default_shipped_locale_is_complete(locale: str) -> None:
    """Every template, label and rule wording exists, so nothing falls back to English."""
    folder = BOOK.root / "templates" / locale
    problems = [f"template {r.explain}" for r in BOOK.rules.values() if not (folder / r.explain).is_file()]
    assert (folder / "strings.yaml").is_file()
    wording = yaml.safe_load((folder / "wording.yaml").read_text(encoding="utf-8"))
    labels = wording.get("signals") or {}
    problems += [f"label of signal {s}" for s in BOOK.signals if not labels.get(s)]
    rules = wording.get("rules") or {}
    for rule in BOOK.rules.values():
        words = rules.get(rule.id) or {}
        problems += [f"{key} of rule {rule.id}" for key in ("title", "normal_when") if not words.get(key)]
        for key in ("say", "steps"):
            given = words.get(key) or []
            if len(given) != len(getattr(rule, key)):
                problems.append(f"{key} of rule {rule.id}: {len(given)} lines for {len(getattr(rule, key))}")
    titles = wording.get("sources") or {}
    problems += [f"title of source {s}" for s in BOOK.sources if not titles.get(s)]
    assert not problems, f"locale {locale} is incomplete: " + "; ".join(problems)


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_references_carry_the_locales_source_titles(locale: str) -> None:
    engine = Engine(BOOK, locale=locale)
    g = engine.explain({"observations": [{"signal": "sexual_contact"}, {"signal": "therapist_late_or_cancelling"}]})
    for finding in g.findings:
        for ref in finding.references:
            assert ref.title == engine.renderer.source_title(ref.id)
            assert ref.title != BOOK.sources[ref.id].title or ref.id.startswith("law#"), ref.id


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_non_default_locale_has_its_own_layouts_strings_and_resources(locale: str) -> None:
    engine = Engine(BOOK, locale=locale)
    default = Engine(BOOK)
    assert engine.renderer.strings.disclaimer != default.renderer.strings.disclaimer
    assert engine.renderer.resources is not None, f"{locale}: no resources.yaml of its own"
    roles = {r.role for r in engine.renderer.resources}
    named = {r for rule in BOOK.rules.values() for r in rule.resources}
    assert named <= roles, f"{locale}: resources.yaml lacks the roles {sorted(named - roles)}"
    for level in ("urgent", "serious"):
        assert any(level in {lv.value for lv in r.levels} for r in engine.renderer.resources), level
    assert (BOOK.root / "templates" / locale / "_layout" / "_macros.j2").is_file()


def test_spanish_context_words_and_headings() -> None:
    scenario = {
        "id": "ctx",
        "setting": "couples",
        "observations": [
            {
                "signal": "therapist_self_disclosure",
                "frequency": "often",
                "duration": "weeks",
                "initiated_by": "therapist",
                "where": "in_session",
                "impact": "moderate",
                "response": "defensive",
            }
        ],
    }
    guidance = explain(scenario, locale="es")
    text = guidance.to_text()
    assert "frecuencia: a menudo" in text
    assert "duración: semanas" in text
    assert "iniciado por: tu terapeuta" in text
    assert "respuesta: se puso a la defensiva" in text
    assert "Escenario: ctx" in text
    assert "Lo que encontramos" in text and "Próximos pasos" in text
    why = [line for line in text.splitlines() if "Por qué:" in line]
    assert why and not ENGLISH_WORDS.findall(" ".join(why))
    for finding in guidance.findings:
        assert not ENGLISH_WORDS.findall(finding.explanation or ""), finding.explanation
    assert guidance.superseded
    for item in guidance.superseded:
        assert not re.search(r"\b(discuss|concern|serious|urgent)\b", item.reason), item.reason


def test_spanish_self_harm_leads_with_the_crisis_line_in_spanish() -> None:
    # A locale is a language, not a country: the default is the US 988 line, in Spanish
    # (decision 0018); Spain's 024 is an application's choice (tests/test_resources.py).
    guidance = explain({"observations": [{"signal": "client_self_harm_risk"}]}, locale="es")
    assert guidance.level.value == "urgent"
    assert guidance.locale == "es"
    first = guidance.resources[0]
    assert first.role == "crisis-line" and "988" in first.contact and "español" in first.contact
    assert all("024" not in r.name + r.contact for r in guidance.resources)
    assert guidance.findings[0].title == "Pensamientos de suicidio o de hacerte daño"
    text = guidance.to_text()
    assert text.startswith("URGENTE:")
    assert text.index("988") < text.index("Lo que encontramos")
    assert "Busca apoyo ahora" in text
    assert guidance.disclaimer.startswith("Esto es información general, no un diagnóstico")


def test_spanish_partner_violence_names_the_domestic_violence_line_in_spanish() -> None:
    guidance = explain({"observations": [{"signal": "partner_violence_disclosed"}]}, locale="es")
    first = guidance.resources[0]
    assert first.id == "dv-hotline" and "español" in first.contact


def test_unknown_locale_lists_the_available_ones() -> None:
    with pytest.raises(LocaleError) as caught:
        Engine(BOOK, locale="xx")
    message = str(caught.value)
    assert "'xx'" in message
    for locale in LOCALES:
        assert locale in message
    with pytest.raises(LocaleError):
        explain({"observations": [{"signal": "feeling_challenged_in_session"}]}, locale="xx")


def test_a_missing_locale_template_falls_back_to_english(rules_copy: Path) -> None:
    rule = BOOK.rules["everyday.feeling-challenged"]
    (rules_copy / "templates" / "es" / rule.explain).unlink()
    book = RuleBook.load(rules_copy)
    scenario = {"observations": [{"signal": "feeling_challenged_in_session"}]}
    english = Engine(book).explain(scenario).findings[0]
    spanish = Engine(book, locale="es").explain(scenario).findings[0]
    assert spanish.rule_id == rule.id
    assert spanish.explanation == english.explanation
    assert spanish.explanation.startswith("Feeling challenged")
    # Only the template fell back: the rule's wording and the layout stay Spanish.
    assert spanish.title == "Sentir que te retan en las sesiones"
    assert "Lo que encontramos" in Engine(book, locale="es").explain(scenario).to_text()
    # Other rules keep their Spanish templates.
    other = Engine(book, locale="es").explain({"observations": [{"signal": "feeling_judged"}]})
    assert (
        other.findings[0].explanation
        != Engine(book).explain({"observations": [{"signal": "feeling_judged"}]}).findings[0].explanation
    )
