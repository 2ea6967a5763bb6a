"""Warmth: a sentence that speaks well of what the sentence before it described.

Writers who normalise a red flag seldom say "normal". They follow the description with a
verdict in everyday words: "Flattering, really.", "There's nothing sinister in that.",
"Everyone wins.", "Take that as the compliment it is." No list of predicates covers them all,
so the verdict's polarity is read with VADER (vaderSentiment: a rule-based sentiment lexicon
of some 7,500 words with negation and intensity handling, shipped inside its wheel, MIT).

Warmth alone is not acceptance. A sentence that condemns, points to help, advises talking it
over, reports what someone said, or speaks to the reader ("you deserve better", "help is
available", "that isn't a rejection of you") is not a verdict on the therapist, whatever its
polarity: such cues veto it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Protocol

from ._text import Token

__all__ = ["WARM", "qualified", "warm"]

WARM = 0.3
"""The compound polarity (-1 to 1) at or above which a sentence reads as approving."""

_VETO = re.compile(
    r"\b(?:not okay|never okay|isn't okay|not ok|wrong|red flags?|warning signs?|abus\w*|exploit\w*|unethical|"
    r"inappropriate|violat\w*|cross\w* (?:a|the) line|report\w*|complain\w*|licens\w*|board|harm\w*|unsafe|"
    r"illegal|should(?:n't| not)|must(?:n't| not)|never|don't|do not|leave|walk away|end (?:it|therapy)|"
    r"find (?:another|someone)|deserve|fault|alone|help is|trust your|support(?:ed)? you|safe|"
    r"boundar\w*|consent|permission|ask first|asked first|if you want|only if|as long as|"
    r"feel(?:ing|s)? (?:better|good|great|proud|relieved|safe|heard|seen)|proud of you|brave|"
    r"said|says|told|tells|claim\w*|insist\w*|talk\w* (?:it|this|that) (?:through|over)|discuss\w*|"
    r"bring (?:it|this|that) up|rais\w*|declin\w*|turn\w* (?:it |them )?down|say no|help\w*|you|\?)",
    re.IGNORECASE,
)


class _Analyzer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


@cache
def _analyzer() -> _Analyzer:
    # Imported on first use: only sentences right after a concern are ever weighed.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    analyzer: _Analyzer = SentimentIntensityAnalyzer()
    return analyzer


def warm(sentence: str) -> bool:
    """The sentence approves, and nothing in it condemns, points to help or consoles."""
    if _VETO.search(sentence):
        return False
    return _analyzer().polarity_scores(sentence)["compound"] >= WARM


# The rules' own condition for a crossing they only ask you to discuss: "a hug is fine *if
# you want one*". A concern-level rule has no such exception; the callers check the level.
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
    ("you", "ask", "for"),
    ("you", "want"),
    ("you", "welcome"),
    ("you", "invite"),
    ("free", "to", "decline"),
    ("you", "be", "okay", "with"),
    ("ask", "before"),
    ("ask", "first"),
    ("free", "to", "say", "no"),
    ("when", "you", "agree"),
    ("you", "agree", "to"),
    ("with", "your", "permission"),
    # "They check with you before any hug": asking first, in other words
    ("check", "with", "you"),
)


def qualified(tokens: Sequence[Token]) -> bool:
    """The text makes its acceptance depend on the client's wish or consent."""
    lemmas = [t.lemma for t in tokens if not t.punct]
    for pattern in _QUALIFIERS:
        size = len(pattern)
        for start in range(len(lemmas) - size + 1):
            if tuple(lemmas[start : start + size]) == pattern:
                return True
    return False
