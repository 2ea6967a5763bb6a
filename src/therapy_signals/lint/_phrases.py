"""Finding the rule base's signals in prose, from the ``phrasings`` of ``rules/signals.yaml``.

Each phrasing becomes a bag of canonical lemmas, each lemma weighted by how specific it is
to one signal (an inverse document frequency over the signals: "loan" says much more than
"therapist"). A piece of text matches a phrasing when the lemmas it shares cover most of
the phrasing's weight, close together. The match then compares negations: when the text
negates what the phrasing affirms ("your therapist never borrows money" against "my
therapist borrowed money from me"), the match is *negated*: the text says it does not
happen, or should not.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._enums import Category, Level
from ._roles import about_someone_else, therapist_roles
from ._text import Token, analyse

if TYPE_CHECKING:  # the rule base is loaded, and its rules evaluated, only when no prebuilt index fits
    from ..rulebook import RuleBook

__all__ = ["PhraseIndex", "SignalInfo", "SignalMatch", "better_normal", "strongest"]

# A phrasing matches when the text covers this share of its weight.
THRESHOLD = 0.74
# Lemmas that appear in more than this share of signals do not propose candidates alone.
_GENERIC_SHARE = 0.12
# The specific (non-generic) words a match shares with a phrasing must weigh at least this.
_MIN_ANCHOR_WEIGHT = 3.3
_FULL = 0.95
_MIN_FULL_ANCHOR_WEIGHT = 2.55
# How many extra words may sit between the matched words of one phrasing.
_SLACK = 6


@dataclass(frozen=True, slots=True)
class SignalInfo:
    """What the linter needs to know about one signal: its class and the rule that says so."""

    id: str
    category: Category
    label: str
    rule: str | None  # the rule that fires on the signal alone
    level: Level  # that rule's level

    @property
    def concern(self) -> bool:
        """Calling it normal contradicts the rules: a concern category above normal, or a concern-level rule."""
        return (self.category.is_concern and self.level > Level.normal) or self.level >= Level.concern

    @property
    def normal(self) -> bool:
        """The rules call it normal on its own (an everyday challenge or a healthy sign)."""
        return not self.category.is_concern and self.level is Level.normal

    @property
    def serious(self) -> bool:
        """Serious or urgent on its own, or a safety signal: an article about it needs next steps."""
        return self.category is Category.safety or self.level >= Level.serious


@dataclass(frozen=True, slots=True)
class SignalMatch:
    """A signal found in a text: how well, where, and whether the text negates it."""

    signal: SignalInfo
    score: float
    negated: bool
    start: int
    end: int
    phrasing: str
    flipped: float = 0.0  # share of the matched weight whose negation differs from the phrasing
    words: int = 0  # how many of the phrasing's words the text has


def strongest(matches: Sequence[SignalMatch]) -> SignalMatch:
    """The match a finding names: the highest level, then the best score, then safety first
    ("threatened to tell my family" is a threat before it is a breach of confidence)."""
    return max(matches, key=lambda m: (m.signal.level.rank, m.score, m.signal.category is Category.safety))


# How much better a normal reading must fit than every concern to win ("a text reminder the
# day before your appointment" is a scheduling message, not growing contact).
_NORMAL_MARGIN = 0.04


def better_normal(matches: Sequence[SignalMatch], concerns: Sequence[SignalMatch]) -> bool:
    """A signal the rules call normal fits the text clearly better than any concern."""
    best = max(concerns, key=lambda m: m.score)
    # Only a reading of the same words competes: a normal signal elsewhere in the text is
    # something else the text says.
    normal = [m for m in matches if m.signal.normal and not m.negated and m.start < best.end and best.start < m.end]
    if not normal:
        return False
    # Or one that fits as well with at least as many of its words: "an email to move your
    # session" says as much of scheduling as of personal messages, and a reading that is
    # as good both ways is no basis for an error.
    return any(
        m.score >= best.score + _NORMAL_MARGIN or (m.score >= best.score and m.words >= best.words) for m in normal
    )


@dataclass(frozen=True, slots=True)
class _Phrasing:
    signal: str
    text: str
    lemmas: tuple[str, ...]
    negated: tuple[bool, ...]
    weights: tuple[float, ...]
    total: float
    # Whether the therapist acts or receives in the phrasing (None: no therapist in it).
    role: str | None = None

    @property
    def negates(self) -> bool:
        return any(self.negated)


def signal_infos(book: RuleBook) -> dict[str, SignalInfo]:
    """Each signal with the highest-level rule that fires on it alone.

    By evaluation, not by the rules' shape: a hug is worth discussing on its own because of a
    rule that also asks that the therapist did not ask first, while its presence rule is normal.
    """
    from ..engine._evaluate import evaluate
    from ..engine._facts import encode
    from ..model import Observation, Scenario

    categories = {name: s.category for name, s in book.signals.items()}
    infos: dict[str, SignalInfo] = {}
    for name, signal in book.signals.items():
        alone = encode(Scenario(observations=[Observation(signal=name)]), categories)
        rule_id, level = None, Level.normal
        for rule in book.rules.values():
            if (rule_id is None or rule.level > level) and evaluate(rule.when, alone).ok:
                rule_id, level = rule.id, rule.level
        infos[name] = SignalInfo(name, signal.category, signal.label, rule_id, level)
    return infos


class PhraseIndex:
    """Every phrasing of a rule base, indexed by lemma for fast lookup."""

    @classmethod
    def prebuilt(
        cls,
        signals: dict[str, SignalInfo],
        weight: dict[str, float],
        anchor: frozenset[str],
        phrasings: list[_Phrasing],
        by_lemma: dict[str, list[int]],
    ) -> PhraseIndex:
        """The index from what ``__init__`` computes, computed ahead of time (lint/_prebuilt.py)."""
        index = cls.__new__(cls)
        index.signals = signals
        index._weight = weight
        index._anchor = anchor
        index._phrasings = phrasings
        index._by_lemma = by_lemma
        return index

    def __init__(self, book: RuleBook) -> None:
        self.signals = signal_infos(book)
        raw: list[tuple[str, str, list[Token]]] = []
        for name, signal in book.signals.items():
            for text in [*signal.phrasings, signal.label]:
                tokens = [t for t in analyse(text) if t.content]
                if tokens:
                    raw.append((name, text, tokens))
        # Document frequency over signals, not phrasings: a signal with many phrasings
        # must not make its own words look common.
        signal_lemmas: dict[str, set[str]] = defaultdict(set)
        for name, _, tokens in raw:
            signal_lemmas[name].update(t.lemma for t in tokens)
        df: dict[str, int] = defaultdict(int)
        for lemmas in signal_lemmas.values():
            for lemma in lemmas:
                df[lemma] += 1
        count = max(len(signal_lemmas), 1)
        self._weight = {lemma: math.log((count + 1) / (n + 0.5)) for lemma, n in df.items()}
        generic = {lemma for lemma, n in df.items() if n > _GENERIC_SHARE * count}
        self._anchor = frozenset(df) - generic
        self._phrasings: list[_Phrasing] = []
        self._by_lemma: dict[str, list[int]] = defaultdict(list)
        for name, text, tokens in raw:
            seen: dict[str, bool] = {}
            for token in tokens:
                seen.setdefault(token.lemma, token.negated)
            ordered = tuple(seen)
            weights = tuple(self._weight[lemma] for lemma in ordered)
            index = len(self._phrasings)
            roles = [role for role in therapist_roles(analyse(text)) if role is not None]
            self._phrasings.append(
                _Phrasing(
                    name,
                    text,
                    ordered,
                    tuple(seen.values()),
                    weights,
                    sum(weights) or 1.0,
                    roles[0] if roles else None,
                )
            )
            anchors = [lemma for lemma in ordered if lemma not in generic]
            # A phrasing of generic words only ("my therapist is always there") would match
            # any sentence about a therapist: it proposes no candidates.
            for lemma in anchors:
                self._by_lemma[lemma].append(index)

    def match_text(self, text: str, threshold: float = THRESHOLD) -> list[SignalMatch]:
        """Signals found in ``text``, best first (one match per signal); offsets index ``text``."""
        return self.match(analyse(text), threshold)

    def match(self, tokens: Sequence[Token], threshold: float = THRESHOLD) -> list[SignalMatch]:
        """Signals found in analysed tokens, best first (one match per signal)."""
        content = [t for t in tokens if t.content]
        if not content:
            return []
        where: dict[str, list[int]] = defaultdict(list)
        for position, token in enumerate(content):
            where[token.lemma].append(position)
        candidates: set[int] = set()
        for lemma in where:
            candidates.update(self._by_lemma.get(lemma, ()))
        best: dict[str, SignalMatch] = {}
        roles = therapist_roles(tokens)
        for index in candidates:
            phrasing = self._phrasings[index]
            found = self._score(phrasing, content, where, threshold, roles)
            if found is None:
                continue
            known = best.get(phrasing.signal)
            # Between equally good phrasings, the one whose negations agree with the text wins.
            if known is None or (found.score, -found.flipped) > (known.score, -known.flipped):
                best[phrasing.signal] = found
        return sorted(best.values(), key=lambda m: (-m.score, m.start, m.signal.id))

    def _score(
        self,
        phrasing: _Phrasing,
        content: Sequence[Token],
        where: dict[str, list[int]],
        threshold: float,
        roles: Sequence[str | None] = (),
    ) -> SignalMatch | None:
        matched = [i for i, lemma in enumerate(phrasing.lemmas) if lemma in where]
        covered = sum(phrasing.weights[i] for i in matched)
        if covered / phrasing.total < threshold:
            return None
        # A word the phrasing negates carries its meaning ("contact you did not *want*",
        # "doesn't want me to see anyone else"): without it, or with it affirmed ("wanting a
        # hug"), the text says something else.
        if phrasing.negates:
            pairs = zip(phrasing.lemmas, phrasing.negated, strict=True)
            if any(negated and not any(content[i].negated for i in where.get(lemma, ())) for lemma, negated in pairs):
                return None
        if about_someone_else(where, phrasing.lemmas):
            return None
        # One common word ("understood") is not enough: two specific words, one rare one, or
        # a moderately specific one covering the whole phrasing.
        anchors = [phrasing.weights[i] for i in matched if phrasing.lemmas[i] in self._anchor]
        coverage = covered / phrasing.total
        if not (
            len(anchors) >= 2
            or sum(anchors) >= _MIN_ANCHOR_WEIGHT
            or (coverage >= _FULL and sum(anchors) >= _MIN_FULL_ANCHOR_WEIGHT)
        ):
            return None
        positions = _closest(phrasing, matched, where)
        if positions is None:
            return None
        # "A crush on your therapist" is the client's; "your therapist has a crush on you" is not.
        if phrasing.role is not None and roles and "therapist" in phrasing.lemmas:
            at = positions.get(phrasing.lemmas.index("therapist"))
            if at is not None and roles[at] != phrasing.role:
                return None
        span = max(positions.values()) - min(positions.values()) + 1
        if span > len(phrasing.lemmas) + _SLACK:
            return None
        flipped = sum(phrasing.weights[i] for i in matched if content[positions[i]].negated != phrasing.negated[i])
        first = content[min(positions.values())]
        last = content[max(positions.values())]
        return SignalMatch(
            self.signals[phrasing.signal],
            round(covered / phrasing.total, 4),
            flipped * 2 > covered,
            first.start,
            last.end,
            phrasing.text,
            round(flipped / covered, 4) if covered else 0.0,
            len(matched),
        )


def _closest(phrasing: _Phrasing, matched: list[int], where: dict[str, list[int]]) -> dict[int, int] | None:
    """For each matched lemma, the occurrence that keeps them all closest together."""
    if not matched:
        return None
    events = sorted((position, i) for i in matched for position in where[phrasing.lemmas[i]])
    need = len(matched)
    have: dict[int, int] = {}
    counts: dict[int, int] = defaultdict(int)
    best: tuple[int, int] | None = None
    left = 0
    for right in range(len(events)):
        counts[events[right][1]] += 1
        while len(counts) == need:
            width = events[right][0] - events[left][0]
            if best is None or width < best[1] - best[0]:
                best = (events[left][0], events[right][0])
            lemma_index = events[left][1]
            counts[lemma_index] -= 1
            if counts[lemma_index] == 0:
                del counts[lemma_index]
            left += 1
    if best is None:
        return None
    low, high = best
    for position, i in events:
        if low <= position <= high and i not in have:
            have[i] = position
    return have
