"""The linter's prebuilt data (lint/_data/) is what a fresh build gives, and is used only then.

When a test here fails with "stale", the data no longer matches the code or the rules it was
computed from: run the command the message names (``make lint-data``), and commit the files.
Until then the linter computes everything in the process, as it did before the data existed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from therapy_signals import RuleBook, RuleBookError
from therapy_signals.lint import Linter, _lemmas, _prebuilt
from therapy_signals.lint._phrases import PhraseIndex
from therapy_signals.lint._text import _dictionary_form

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
STALE = f"stale prebuilt linter data; regenerate it with: {_prebuilt.REGENERATE} (or make lint-data)"
ARTICLE = "# Red flags\n\n- Your therapist asks you for a loan\n- Your counsellor texts you at midnight\n"


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return RuleBook.load()


@pytest.fixture(scope="module")
def dictionary() -> list[str]:
    return _lemmas.dictionary_words()


def _first_difference(shipped: dict[str, object] | None, fresh: dict[str, object]) -> str:
    if shipped is None:
        return "the file is missing or unreadable"
    for key in [*fresh, *(key for key in shipped if key not in fresh)]:  # the fingerprints first
        if shipped.get(key) != fresh.get(key):
            return f"{key!r} differs"
    return "nothing differs"


def test_phrases_file_is_a_fresh_build(book: RuleBook) -> None:
    fresh = _prebuilt.phrases_data(book)
    shipped = _prebuilt.read_data(_prebuilt.PHRASES)
    assert shipped == fresh, f"{STALE}: {_prebuilt.PHRASES.name}: {_first_difference(shipped, fresh)}"


def test_prebuilt_index_equals_the_index_built_from_the_rule_book(book: RuleBook) -> None:
    loaded = _prebuilt.load_phrases(None)
    assert loaded is not None, f"{STALE}: {_prebuilt.PHRASES.name} is not used for the shipped rules"
    prebuilt, rule_base = loaded
    built = PhraseIndex(book)
    # Every attribute: one that PhraseIndex gains must be carried by the data too (_prebuilt.py).
    assert vars(prebuilt).keys() == vars(built).keys(), "PhraseIndex and PhraseIndex.prebuilt set other attributes"
    for name, value in vars(built).items():
        assert getattr(prebuilt, name) == (dict(value) if isinstance(value, defaultdict) else value), name
    assert rule_base == _prebuilt.RuleBaseId(book.name, book.version, book.content_hash)


def test_lemma_table_is_a_fresh_generation() -> None:
    fresh = _lemmas.lemmas_data()
    shipped = _lemmas.read_lemmas()
    assert shipped == fresh, f"{STALE}: {_prebuilt.LEMMAS.name}: {_first_difference(shipped, fresh)}"
    lines = _prebuilt.LEMMAS.read_text(encoding="utf-8").splitlines()[1:]
    assert lines == sorted(lines), "the table is looked up by bisection: its lines must be sorted"


def test_every_word_lemminflect_knows_has_the_same_form_with_the_table(dictionary: list[str]) -> None:
    assert _lemmas.table_in_use(), f"{STALE}: {_prebuilt.LEMMAS.name} is not used"
    # Every entry of lemminflect's dictionary (capitalised and hyphenated ones too), and the
    # forms those give, which the second pass of _lemma looks up.
    words = sorted({*dictionary, *(_dictionary_form(w) for w in dictionary)})
    with_table = [_dictionary_form(w) for w in words]
    with _lemmas.bypassed():
        without = [_dictionary_form(w) for w in words]
    differ = [(w, a, b) for w, a, b in zip(words, with_table, without, strict=True) if a != b]
    assert not differ, f"{len(differ)} words differ, e.g. {differ[:5]}"


def test_every_lower_case_word_of_lemminflect_is_in_the_table(dictionary: list[str]) -> None:
    # What lets a lower-case word missing from the table skip lemminflect: it has no entry there.
    assert _lemmas.table_in_use(), f"{STALE}: {_prebuilt.LEMMAS.name} is not used"
    missing = [w for w in dictionary if w.isalpha() and w == w.lower() and _lemmas.known_form(w) is None]
    assert not missing, f"{len(missing)} words of lemminflect's dictionary are not in the table, e.g. {missing[:5]}"


OUT_OF_VOCABULARY = [
    "zoomified",
    "blorping",
    "glarbed",
    "snerks",
    "xyzzy",
    "qwop",
    "Blorped",
    "LOANS",
    "Therapists",
    "ABCs",
    "caf\u00e9s",
    "na\u00efvet\u00e9s",
    "stra\u00dfen",
    "\u0130stanbul",
    "d\u00e9j\u00e0",
    "",
    "don't",
    "self-harm",
    "x" * 41,
    "textings",
    "overthinkings",
    "ghostings",
]


@pytest.mark.parametrize("word", OUT_OF_VOCABULARY)
def test_out_of_vocabulary_words_have_the_same_form_with_the_table(word: str) -> None:
    with_table = _dictionary_form(word)
    with _lemmas.bypassed():
        assert _dictionary_form(word) == with_table


def test_all_lemmas_answers_as_lemminflect_does(dictionary: list[str]) -> None:
    import lemminflect  # type: ignore[import-untyped]

    sample = [*dictionary[::97], *(w.lower() for w in OUT_OF_VOCABULARY if w)]
    assert [_lemmas.all_lemmas(w) for w in sample] == [lemminflect.getAllLemmas(w) for w in sample]


def _run(code: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=ROOT.parent,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


_COLD = f"""
import json, sys
from therapy_signals.lint import Linter
linter = Linter()
findings = linter.lint_text({ARTICLE!r})
heavy = ("therapy_signals.engine", "therapy_signals.rulebook", "durable", "yaml", "lemminflect", "numpy", "ftfy")
print(json.dumps({{
    "loaded": [m for m in heavy if m in sys.modules],
    "book": linter._book is not None,
    "findings": [[f.check, f.line, f.signal] for f in findings],
    "rule_base": [linter.rule_base.name, linter.rule_base.version, linter.rule_base.content_hash],
}}))
"""


def test_a_cold_linter_loads_no_rule_base_and_no_lemminflect(book: RuleBook) -> None:
    if _prebuilt.load_phrases(None) is None or not _lemmas.table_in_use():
        pytest.fail(f"{STALE}: the prebuilt data is not used")
    fast = json.loads(_run(_COLD))
    slow = json.loads(_run(_COLD, {_prebuilt.ENV_VAR: "1"}))
    assert fast["loaded"] == [] and not fast["book"]
    assert slow["book"] and "therapy_signals.rulebook" in slow["loaded"]
    assert fast["findings"] == slow["findings"] and fast["findings"]
    assert fast["rule_base"] == slow["rule_base"] == [book.name, book.version, book.content_hash]


def test_the_rulebook_loads_when_asked_for(book: RuleBook) -> None:
    linter = Linter()
    assert linter.rulebook.content_hash == book.content_hash
    assert linter.rulebook is linter.rulebook


def test_rule_files_hash_is_the_rule_books_content_hash(book: RuleBook) -> None:
    files = _prebuilt.rule_files(RULES)
    assert files is not None and files.content_hash == book.content_hash


def test_a_copy_of_the_shipped_rules_uses_the_prebuilt_index(tmp_path: Path, book: RuleBook) -> None:
    if _prebuilt.load_phrases(None) is None:
        pytest.fail(f"{STALE}: the prebuilt data is not used")
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    (copy / "templates" / "en" / "extra.md.j2").write_text("a template the linter never reads\n")
    linter = Linter(rulebook=copy)
    assert linter._book is None
    # The hash covers the templates, and is computed from the files as they are.
    assert linter.rule_base.content_hash == RuleBook.load(copy).content_hash != book.content_hash


def test_changed_rules_are_loaded_and_indexed_as_before(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    signals = copy / "signals.yaml"
    signals.write_text(signals.read_text(encoding="utf-8") + "\n# a comment is a change too\n", encoding="utf-8")
    linter = Linter(rulebook=copy)
    assert linter._book is not None
    assert linter.rule_base.content_hash == linter.rulebook.content_hash


def test_a_folder_with_a_link_is_refused_as_before(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    (copy / "link.txt").symlink_to(tmp_path)
    assert _prebuilt.rule_files(copy) is None
    with pytest.raises(RuleBookError, match="symbolic link"):
        Linter(rulebook=copy)


def test_a_missing_folder_is_refused_as_before(tmp_path: Path) -> None:
    with pytest.raises(RuleBookError, match="not a folder"):
        Linter(rulebook=tmp_path / "nowhere")


def test_stale_or_damaged_data_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = _prebuilt.read_data(_prebuilt.PHRASES)
    if shipped is None:
        pytest.fail(f"{STALE}: {_prebuilt.PHRASES.name} is missing")
    stale = tmp_path / "phrases.json"
    stale.write_text(json.dumps({**shipped, "analyser": "0" * 64}), encoding="utf-8")
    monkeypatch.setattr(_prebuilt, "PHRASES", stale)
    assert _prebuilt.load_phrases(None) is None
    assert Linter()._book is not None
    stale.write_text('{"format": 1, "analyser": ', encoding="utf-8")
    assert _prebuilt.load_phrases(None) is None
    monkeypatch.setattr(_prebuilt, "PHRASES", tmp_path / "missing.json")
    assert _prebuilt.load_phrases(None) is None


def test_a_lemma_table_for_other_sources_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head, _, body = _prebuilt.LEMMAS.read_text(encoding="utf-8").partition("\n")
    stale = tmp_path / "lemmas.tsv"
    stale.write_text(json.dumps({**json.loads(head), "key": "0" * 64}) + "\n" + body, encoding="utf-8")
    monkeypatch.setattr(_lemmas, "LEMMAS", stale)
    assert _lemmas._load() is None


def test_the_environment_variable_turns_the_data_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_prebuilt.ENV_VAR, "1")
    assert _prebuilt.load_phrases(None) is None
    assert _lemmas._load() is None
    assert Linter()._book is not None


def test_the_script_checks_the_data() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lint_data.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_the_wheel_ships_the_data_and_uses_it(tmp_path: Path) -> None:
    """From an unpacked wheel, outside the checkout: the data is there, and fits the wheel's rules."""
    if _prebuilt.load_phrases(None) is None or not _lemmas.table_in_use():
        pytest.fail(f"{STALE}: the prebuilt data is not used")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "therapy_signals/lint/_data/phrases.json" in names
    assert "therapy_signals/lint/_data/lemmas.tsv" in names
    code = (
        "import sys, therapy_signals; from therapy_signals.lint import Linter; linter = Linter();"
        f"linter.lint_text({ARTICLE!r});"
        "print(therapy_signals.__file__, linter._book is None, 'lemminflect' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
    )
    assert done.returncode == 0, done.stderr
    where, unloaded, lemminflect = done.stdout.split()
    assert where.startswith(str(unpacked)) and unloaded == "True" and lemminflect == "False"


def test_every_source_the_fingerprint_reads_exists() -> None:
    # A module that moved would drop out of the fingerprint and leave the data never trusted.
    package = Path(_prebuilt.__file__).parent.parent
    missing = [
        name for name in (*_prebuilt._PHRASE_SOURCES, *_prebuilt._LEMMA_SOURCES) if not (package / name).is_file()
    ]
    assert missing == []
