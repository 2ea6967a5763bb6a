"""Terminology: the rule base's words, used one way ("client", not "patient").

The table maps a term to avoid to the preferred one; the configuration replaces it. Terms
match by lemma, so "patients" is found too, and the suggestion keeps the plural and the
capital. "Patient" the adjective ("be patient with yourself", "a patient listener") is
not the noun and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._document import Document
from ._finding import Fix, LintFinding, LintLevel
from ._text import base_lemma, words

__all__ = ["DEFAULT_TERMS", "TermTable", "check_terms"]

DEFAULT_TERMS: dict[str, str] = {"patient": "client", "committed suicide": "died by suicide"}

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
# Around "patient", these make it the adjective.
_ADJECTIVE_BEFORE = words(
    """
        be stay remain very so too more most less quite really extremely incredibly infinitely endlessly
        seem feel become get remarkably always how
        """
)
_ADJECTIVE_AFTER = words(
    """
        enough and listener person people approach attitude man woman teacher parent friend presence manner
        about while guide ear
        """
)


def _base(word: str) -> str:
    return base_lemma(word.lower())


@dataclass(frozen=True)
class _Term:
    avoid: str
    prefer: str
    lemmas: tuple[str, ...]


class TermTable:
    """Preferred terms, compiled for matching by lemma."""

    def __init__(self, terms: Mapping[str, str]) -> None:
        self.terms = [
            _Term(avoid, prefer, tuple(_base(w) for w in _WORD.findall(avoid)))
            for avoid, prefer in terms.items()
            if _WORD.findall(avoid)
        ]
        self._first = {term.lemmas[0] for term in self.terms}

    def find(self, text: str) -> Iterator[tuple[int, int, str, _Term]]:
        """(start, end, suggestion, term) for each use of a term to avoid."""
        if not self.terms:
            return
        words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
        lemmas: list[str | None] = [None] * len(words)
        for index, (word, _, _) in enumerate(words):
            base = _base(word)
            if base not in self._first:
                continue
            lemmas[index] = base
            for term in self.terms:
                size = len(term.lemmas)
                if term.lemmas[0] != base or index + size > len(words):
                    continue
                found = [lemmas[index]] + [_base(w[0]) for w in words[index + 1 : index + size]]
                if tuple(found) != term.lemmas:
                    continue
                if size == 1 and term.lemmas[0] == "patient" and _adjective(words, index):
                    continue
                start, end = words[index][1], words[index + size - 1][2]
                yield start, end, _inflect(text[start:end], term), term

    def __bool__(self) -> bool:
        return bool(self.terms)


def _adjective(words: list[tuple[str, int, int]], index: int) -> bool:
    before = _base(words[index - 1][0]) if index else ""
    after = _base(words[index + 1][0]) if index + 1 < len(words) else ""
    return before in _ADJECTIVE_BEFORE or after in _ADJECTIVE_AFTER or words[index][0].lower() == "patiently"


def _inflect(found: str, term: _Term) -> str:
    prefer = term.prefer
    last = found.split()[-1].lower() if found.split() else ""
    if len(term.lemmas) == 1 and last != term.avoid.lower() and last.endswith("s") and not prefer.endswith("s"):
        prefer += "s"
    if found[:1].isupper():
        prefer = prefer[:1].upper() + prefer[1:]
    return prefer


def check_terms(document: Document, table: TermTable, path: str) -> Iterator[LintFinding]:
    """terms.preferred, for every line of prose."""
    if not table:
        return
    for prose in document.prose:
        for start, end, suggestion, term in table.find(prose.text):
            line, column = prose.where(start)
            found = prose.text[start:end]
            yield LintFinding(
                path,
                line,
                column,
                line,
                column + len(found.split("\n")[0]),
                LintLevel.suggestion,
                "terms.preferred",
                f'prefer "{suggestion}" to "{found}" (the preferred term for "{term.avoid}" is "{term.prefer}")',
                fix=Fix(suggestion, f'replace "{found}" with "{suggestion}"'),
            )
