"""Normalising statements: a sentence that calls a concern acceptable.

A finding needs, within one clause of one sentence, a concern the rules treat as more than
normal ("asks you for a loan") and a predicate that calls it acceptable ("it's fine if",
"is perfectly normal", "nothing to worry about", "just shows they care"). Stance decides
the rest:

- a negated predicate condemns ("it is never okay ..."); a negated concern is not there
  ("it's fine that your therapist never texts you");
- a question asks ("Is it normal for ...?");
- reported or hedged speech ("some therapists claim it's fine", "it may seem harmless")
  is not the writer's own claim;
- acceptance of the client's reaction is not acceptance of the concern ("it's okay to say
  no if your therapist asks you for a loan", "it's normal to feel confused when ...");
- a qualified acceptance of a crossing the rules only ask you to discuss ("a hug is fine if
  you want one") echoes the rules' own *normal when*; a concern-level rule has no such
  exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ..model import Level
from ._document import Document
from ._finding import LintFinding, LintLevel
from ._phrases import PhraseIndex, SignalMatch
from ._text import Token, analyse, words

__all__ = ["check_statements", "normalising_predicate"]

_ACCEPT = words(
    """
        okay fine normal acceptable appropriate healthy harmless natural common ethical professional
        standard usual expected typical understandable reasonable innocent benign allow permissible
        legitimate sweet flattering caring generous thoughtful nice good great compliment harmless
        """
)
# Negated, these call something acceptable: "nothing wrong with", "not a red flag".
_WARN = words(
    """
        wrong deal flag sign concern alarm worry problem unusual inappropriate unethical violation cross
        abuse harmful dangerous bad issue unprofessional alarming
        """
)
_COPULA = frozenset({"be", "consider", "count", "call", "remain", "perfectly", "totally", "completely", "quite"})
_CARE = frozenset({"care", "close", "special", "bond", "trust", "connection", "love", "like"})
_PART_OF = frozenset({"therapy", "process", "healing", "treatment", "relationship", "job", "work", "growth"})
_REPORTED = words(
    """
        think believe say myth misconception assume pretend convince persuade justify rationalize
        rationalise excuse argue hear seem appear sound imply suggest lie manipulate gaslight
        """
)
_REACTIONS = words(
    """
        feel say ask end report refuse decline question raise bring talk want wish seek find change switch
        walk set cry need take check consult notice wonder discuss share speak disagree pause push upset
        angry confuse uncomfortable unsure hurt fear attract miss grieve sad cope react respond laugh
        """
)
_QUALIFIERS = (
    ("as", "long", "as"),
    ("provided",),
    ("only", "if"),
    ("if", "you", "want"),
    ("if", "you", "ask"),
    ("if", "you", "be", "comfortable"),
    ("with", "your", "consent"),
    ("if", "you", "agree"),
    ("within", "limit"),
)
# A cheap first look: a sentence with none of these word beginnings has no predicate.
_PREDICATE_HINT = re.compile(
    r"\b(?:ok|alright|fine|normal|accept|appropriat|health|harmless|natural|common|ethic|profession|standard|"
    r"usual|expect|typical|understand|reasonabl|innocen|benign|allow|permiss|legit|sweet|flatter|caring|"
    r"generous|thought|nice|good|great|compliment|wrong|deal|flag|sign|concern|alarm|worr|problem|unusual|"
    r"inappropriat|unethical|violat|cross|abus|harm|danger|bad|issue|unprofessional|show|mean|prov|part)",
    re.IGNORECASE,
)
_CONTRAST = frozenset({"but", "however", "whereas", "although", "though", "unlike", "yet"})


def _clauses(tokens: Sequence[Token]) -> Iterator[list[Token]]:
    clause: list[Token] = []
    for token in tokens:
        if token.lemma in _CONTRAST or token.lemma in (";", "\u2014", "\u2013", "-", "(", ")"):
            if clause:
                yield clause
            clause = []
            continue
        clause.append(token)
    if clause:
        yield clause


def normalising_predicate(clause: list[Token]) -> int | None:
    """Index in ``clause`` of a predicate that calls something acceptable, or None.

    A predicate that condemns ("never okay", "a red flag") returns None too: the caller only
    needs the normalising ones.
    """
    words = [t for t in clause if not t.punct]
    for index, token in enumerate(words):
        lemma = token.lemma
        before = {t.lemma for t in words[max(0, index - 4) : index]}
        after = [t.lemma for t in words[index + 1 : index + 5]]
        if lemma in _ACCEPT and (before & _COPULA or lemma == "allow") and not _negated(words, index):
            return clause.index(token)
        if lemma in _WARN and token.negated:
            return clause.index(token)
        if lemma in ("show", "mean", "sign", "prove") and not _negated(words, index) and set(after) & _CARE:
            return clause.index(token)
        if lemma == "part" and not _negated(words, index) and set(after) & _PART_OF and "be" in before:
            return clause.index(token)
    return None


def _negated(words: list[Token], index: int) -> bool:
    """The word, or the phrase it heads ("not a normal part"), is negated."""
    return words[index].negated or any(t.lemma == "not" for t in words[max(0, index - 3) : index])


def _reaction_after(words: list[Token], at: int) -> bool:
    """'It's okay *to say no* if ...', 'it's normal *if you feel* ...': the client's reaction."""
    rest = [t.lemma for t in words[at + 1 : at + 8]]
    for position, lemma in enumerate(rest):
        if lemma == "to":
            following = rest[position + 1 : position + 3]
            return bool(following) and (following[0] in _REACTIONS or following[:2] == ["be", "upset"])
        if lemma in ("if", "when", "that") and position + 1 < len(rest):
            subject = rest[position + 1]
            if subject in ("you", "i", "client", "we"):
                verbs = [v for v in rest[position + 2 : position + 5] if v not in ("be", "do", "not", "still")]
                return bool(verbs) and verbs[0] in _REACTIONS
            return False
        if lemma in ("for",):
            subject = rest[position + 1] if position + 1 < len(rest) else ""
            return subject in ("you", "client", "i", "we")
    return False


def _qualified(clause: list[Token]) -> bool:
    lemmas = [t.lemma for t in clause if not t.punct]
    for pattern in _QUALIFIERS:
        size = len(pattern)
        for start in range(len(lemmas) - size + 1):
            if tuple(lemmas[start : start + size]) == pattern:
                return True
    return False


def statement_finding(clause: list[Token], index: PhraseIndex) -> tuple[SignalMatch, int] | None:
    """The concern a clause calls acceptable, with the predicate's index, if it does."""
    at = normalising_predicate(clause)
    if at is None:
        return None
    words = [t for t in clause if not t.punct]
    predicate = clause[at]
    position = words.index(predicate)
    if any(t.lemma in _REPORTED for t in words[:position]):
        return None
    if _reaction_after(words, position):
        return None
    concerns = [m for m in index.match(clause) if m.signal.concern and not m.negated]
    if not concerns:
        return None
    best = max(concerns, key=lambda m: (m.signal.level.rank, m.score))
    if best.signal.level < Level.concern and _qualified(clause):
        return None
    return best, at


def check_statements(document: Document, index: PhraseIndex, path: str, skip: set[int]) -> Iterator[LintFinding]:
    """statement.normalises-concern, for every sentence of every prose block.

    ``skip`` holds ``id()`` of prose already reported by the framing check.
    """
    for prose in document.prose:
        if id(prose) in skip:
            continue
        text = prose.text
        for start, end in prose.sentences():
            sentence = text[start:end]
            if sentence.rstrip(" \"'\u201d\u2019)*_").endswith("?"):
                continue
            if not _PREDICATE_HINT.search(sentence):
                continue
            tokens = analyse(sentence)
            for clause in _clauses(tokens):
                found = statement_finding(clause, index)
                if found is None:
                    continue
                match, _ = found
                signal = match.signal
                line, column = prose.where(start)
                first_line = sentence.split("\n", 1)[0]
                quoted = " ".join(sentence[match.start : match.end].split())
                yield LintFinding(
                    path,
                    line,
                    column,
                    line,
                    column + len(first_line),
                    LintLevel.error,
                    "statement.normalises-concern",
                    f'this sentence calls "{quoted}" acceptable, but it matches the signal {signal.id} '
                    f"({signal.label}): rule {signal.rule} is at level {signal.level.value}",
                    signal.id,
                    signal.rule,
                    signal.level,
                )
                break
