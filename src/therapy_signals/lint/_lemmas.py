"""Dictionary forms ahead of time: lemminflect's answers without loading lemminflect.

Importing lemminflect costs 0.06 s (it imports numpy), and its first lookup 0.15 s more (it
parses ``lemma_lu.csv.gz``): most of what linting a short article took. ``lemmas.json``
(:mod:`._prebuilt`) holds what ``_text._dictionary_form`` returns for every lower-case word
lemminflect knows, and for every form those reduce to; :func:`known_form` answers from it.

For a word not in the table, ``_dictionary_form`` asks lemminflect as before, through
:func:`all_lemmas` and :func:`all_lemmas_oov`, which import it only then. Since the table
holds every lower-case word of lemminflect's dictionary, a lower-case word missing from it is
one lemminflect has no entry for: :func:`all_lemmas` answers ``{}`` for it, as lemminflect
would, and only its guess for an unknown word (:func:`all_lemmas_oov`, for "-ing", "-ed" and
"-s" words) still needs lemminflect, its small model and not the dictionary.

The answers are lemminflect's, so every result is the same as without the table
(``tests/lint/test_prebuilt.py`` checks every word lemminflect knows, and unknown ones). The
table is used only when its fingerprint is the current one (``_text.py``, lemminflect's
version, :data:`._prebuilt.ANALYSER_VERSION`).
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._prebuilt import FORMAT, LEMMAS, enabled, lemma_key, lemminflect_version

__all__ = [
    "all_lemmas",
    "all_lemmas_oov",
    "bypassed",
    "known_form",
    "lemmas_data",
    "read_lemmas",
    "table_in_use",
    "write_lemmas",
]

# The table is one line per word, sorted: "word<TAB>form", or "word" alone when the form is
# the word itself. Looked up by bisection in the list of lines, it is ready as soon as the
# file is split into lines: 4 ms, where a dict from JSON, marshal or pickle took 12-17 ms.
_UNLOADED: list[str] = []
_lines: list[str] | None = _UNLOADED  # None: no table (stale, missing or turned off)
_bypass = False
_lock = threading.Lock()


def _table() -> list[str] | None:
    global _lines
    if _lines is _UNLOADED:
        with _lock:
            if _lines is _UNLOADED:
                _lines = _load()
    return None if _bypass else _lines


def _load() -> list[str] | None:
    if not enabled():
        return None
    key = lemma_key()
    if key is None:
        return None
    try:
        head, _, body = LEMMAS.read_text(encoding="utf-8").partition("\n")
        meta = json.loads(head)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
        return None
    return body.rstrip("\n").split("\n")


def read_lemmas() -> dict[str, Any] | None:
    """What ``lemmas.tsv`` holds, in the form :func:`lemmas_data` returns; None when it is missing or unreadable."""
    try:
        head, _, body = LEMMAS.read_text(encoding="utf-8").partition("\n")
        meta = json.loads(head)
    except (OSError, ValueError):
        return None
    forms = {}
    for line in body.rstrip("\n").split("\n"):
        word, _, form = line.partition("\t")
        forms[word] = form
    return {**meta, "forms": forms}


def write_lemmas(data: dict[str, Any]) -> None:
    """Write ``lemmas.tsv`` from what :func:`lemmas_data` returns."""
    head = json.dumps({k: v for k, v in data.items() if k != "forms"}, separators=(",", ":"))
    lines = sorted(f"{word}\t{form}" if form else word for word, form in data["forms"].items())
    LEMMAS.parent.mkdir(parents=True, exist_ok=True)
    LEMMAS.write_text(head + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _find(lines: list[str], word: str) -> str | None:
    # Every line that starts with the word, a tab and its form sorts right after the word
    # itself: a tab sorts before any letter.
    at = bisect_left(lines, word)
    if at == len(lines):
        return None
    line = lines[at]
    if line == word:
        return word
    if line.startswith(word) and line[len(word) : len(word) + 1] == "\t":
        return line[len(word) + 1 :]
    return None


def table_in_use() -> bool:
    """Whether :func:`known_form` answers from the prebuilt table (it is current, and not turned off)."""
    return _table() is not None


def known_form(word: str) -> str | None:
    """What ``_dictionary_form(word)`` returns for an alphabetic word, from the table; None for a word not in it."""
    lines = _table()
    return None if lines is None else _find(lines, word)


def _lemminflect() -> Any:
    import lemminflect  # type: ignore[import-untyped]

    return lemminflect


def all_lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """``lemminflect.getAllLemmas(word)``, without lemminflect for a lower-case word the table
    shows it does not know."""
    lines = _table()
    if lines is not None and word.isalpha() and word == word.lower() and _find(lines, word) is None:
        return {}
    found: dict[str, tuple[str, ...]] = _lemminflect().getAllLemmas(word)
    return found


def all_lemmas_oov(word: str, upos: str) -> dict[str, tuple[str, ...]]:
    """``lemminflect.getAllLemmasOOV(word, upos)``: its guess for a word it does not know."""
    found: dict[str, tuple[str, ...]] = _lemminflect().getAllLemmasOOV(word, upos)
    return found


@contextmanager
def bypassed() -> Iterator[None]:
    """Answer from lemminflect alone, as without the table (to generate or check it)."""
    global _bypass
    with _lock:
        before, _bypass = _bypass, True
    try:
        yield
    finally:
        with _lock:
            _bypass = before


def dictionary_words() -> list[str]:
    """Every word form lemminflect's lemma dictionary and overrides have an entry for."""
    from lemminflect.core.Lemmatizer import Lemmatizer  # type: ignore[import-untyped]

    lemmatizer = Lemmatizer()
    return sorted({*lemmatizer._getLemmaDict(), *lemmatizer._getOverridesDict()})


def lemmas_data() -> dict[str, Any]:
    """What ``lemmas.json`` holds: ``_dictionary_form`` of every lower-case alphabetic word
    lemminflect knows, then of every form those give that is not among them, and so on.

    Only entries whose form differs from the word need a value; the others are "" (the word
    itself), and are kept so that a lower-case word missing from the table is known to be
    missing from lemminflect's dictionary too.
    """
    from ._text import _dictionary_form

    forms: dict[str, str] = {}
    with bypassed():
        todo = [w for w in dictionary_words() if w.isalpha() and w == w.lower()]
        while todo:
            found: set[str] = set()
            for word in todo:
                form = _dictionary_form(word)
                forms[word] = form
                if form.isalpha():
                    found.add(form)
            todo = sorted(found - forms.keys())
    return {
        "format": FORMAT,
        "key": lemma_key(),
        "lemminflect": lemminflect_version(),
        "forms": {word: ("" if form == word else form) for word, form in sorted(forms.items())},
    }
