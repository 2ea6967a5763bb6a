"""Framing versus content: does a list's heading call its items normal, or warning signs?

A heading or the sentence that introduces a list *frames* the items: "Everyday challenges
that are not red flags" says each item is normal, "Red flags" says each one is a warning
sign. The frame is read from cue words with their negations ("not red flags" is a normal
frame, "not okay" a warning frame); a frame with cues both ways ("Normal challenges versus
red flags") is left undecided, and an undecided or cue-less heading takes its parent's
frame. Each item is then matched against the signals, and the rules decide whether the
frame contradicts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from .._enums import Level
from ._document import Document, ListBlock, Prose, Section
from ._finding import LintFinding, LintLevel
from ._phrases import PhraseIndex, SignalMatch, better_normal, strongest
from ._stance import qualified
from ._text import Token, analyse, lemma, words

__all__ = ["Frame", "aggravated", "check_framing", "frame_of"]


class Frame(Enum):
    normal = "normal"
    warning = "warning"
    undecided = "undecided"  # cues both ways, or a question
    none = "none"  # no cue: inherit


_NORMAL_WORDS = words(
    """
        normal healthy okay fine acceptable ordinary everyday common natural expected typical positive good
        beneficial benefit safe strong healthier supportive empower empowering green growth reassure
        reassuring harmless appropriate ethical professional care caring trustworthy great
        """
)
_WARNING_WORDS = words(
    """
        warn warning concern concerning worry worrying alarm alarming danger dangerous unhealthy unethical
        harmful harm violent toxic exploit exploitation exploitative violation violate inappropriate
        unacceptable trouble misconduct predatory groom grooming beware dealbreaker abusive unsafe wrong
        problem problematic bad
        """
)
# Two-word cues, as lemma pairs.
_WARNING_PAIRS = frozenset(
    {("red", "flag"), ("watch", "out"), ("be", "careful"), ("walk", "away"), ("cross", "line"), ("get", "help")}
)
_NORMAL_PAIRS = frozenset({("green", "flag"), ("part", "therapy"), ("part", "process")})
_BARE_NEGATION_OK = frozenset({"be", "what", "and", "or", "whether"})
# "Red flags you shouldn't ignore": a negation of these leaves the frame as it is.
_NEUTRAL_NEGATED = frozenset({"ignore", "miss", "overlook", "dismiss", "underestimate"})


def _cues(tokens: Sequence[Token]) -> Iterator[tuple[Frame, int]]:
    words = [t for t in tokens if not t.punct]
    skip = -1
    for index, token in enumerate(words):
        if index <= skip:
            continue
        pair = (token.lemma, words[index + 1].lemma) if index + 1 < len(words) else None
        pair_gap = (token.lemma, words[index + 2].lemma) if index + 2 < len(words) else None
        frame = None
        for candidate in (pair, pair_gap):
            if candidate in _WARNING_PAIRS:
                frame = Frame.warning
            elif candidate in _NORMAL_PAIRS:
                frame = Frame.normal
            if frame is not None:
                skip = index + (1 if candidate is pair else 2)
                break
        if frame is None:
            if token.lemma in _NORMAL_WORDS:
                frame = Frame.normal
            elif token.lemma in _WARNING_WORDS:
                frame = Frame.warning
        if frame is None:
            continue
        if token.negated:
            frame = Frame.warning if frame is Frame.normal else Frame.normal
        yield frame, index


def frame_of(text: str) -> Frame:
    """The frame a heading or an introducing sentence puts on the items after it."""
    stripped = text.strip().rstrip(":").strip()
    # "Is It Okay to Hug Your Therapist? What to Know": a question anywhere asks, it does not frame.
    if not stripped or "?" in stripped:
        return Frame.undecided if stripped else Frame.none
    tokens = analyse(stripped)
    cues = list(_cues(tokens))
    frames = {frame for frame, _ in cues}
    if len(frames) > 1:
        return Frame.undecided
    frame = frames.pop() if frames else Frame.none
    # "What healthy therapists never do", "Good therapists avoid:": a negation that no cue
    # consumed turns a normal frame into a warning one.
    words = [t for t in tokens if not t.punct]
    if not any(t.lemma == "not" for t in words):
        return frame
    after = _negated_after(words)
    for index, token in enumerate(words):
        if token.lemma != "not":
            continue
        cue, neutral, content = after[index]
        if cue or neutral:
            continue
        before = words[index - 1].lemma if index else ""
        if not content and before in _BARE_NEGATION_OK:
            return Frame.undecided  # "what's normal and what's not"
        if frame is Frame.normal:
            return Frame.warning
    return frame


def _negated_after(words: Sequence[Token]) -> list[tuple[bool, bool, bool]]:
    """For each word, whether a negated word after it is a cue, a neutral verb, or content.

    One pass from the end: asking each "not" about every word after it was quadratic in a
    heading of many negations.
    """
    cue = neutral = content = False
    after: list[tuple[bool, bool, bool]] = [(False, False, False)] * len(words)
    for index in range(len(words) - 1, -1, -1):
        after[index] = (cue, neutral, content)
        token = words[index]
        if token.negated:
            lemma = token.lemma
            cue = cue or lemma in _NORMAL_WORDS or lemma in _WARNING_WORDS or lemma == "flag"
            neutral = neutral or lemma in _NEUTRAL_NEGATED
            content = content or token.content
    return after


@dataclass(frozen=True)
class _Framed:
    frame: Frame
    source: Prose
    start: int
    end: int


class _Frames:
    """The frame of every list of one article, each heading and lead-in read once.

    A heading frames every list under it, and each list asked for its frame again: a long
    heading over many lists was read once per list.
    """

    def __init__(self, document: Document) -> None:
        self._known: dict[tuple[int, int, int], Frame] = {}
        # The top-level list that holds each item: a nested list takes its frame from it.
        self._owner = {id(item): block for block in document.lists if block.parent_item is None for item in block.items}

    def _frame(self, prose: Prose, start: int, end: int) -> Frame:
        key = (id(prose), start, end)
        if key not in self._known:
            self._known[key] = frame_of(prose.text[start:end])
        return self._known[key]

    def section(self, section: Section) -> _Framed | None:
        for current in section.chain():
            if current.heading is None:
                continue
            heading = current.heading
            frame = self._frame(heading, 0, len(heading.text))
            if frame is Frame.none:
                continue
            if frame is Frame.undecided:
                return None
            return _Framed(frame, heading, 0, len(heading.text))
        return None

    def of_list(self, block: ListBlock) -> _Framed | None:
        """The frame of a list: its introducing sentence's, else its nearest framed heading's."""
        if block.lead_in is not None:
            prose, start, end = block.lead_in
            frame = self._frame(prose, start, end)
            if frame is Frame.undecided:
                return None
            if frame is not Frame.none:
                return _Framed(frame, prose, start, end)
        if block.parent_item is not None:
            outer = self._owner.get(id(block.parent_item))
            if outer is not None and outer.section is block.section:
                found = self.of_list(outer)
                if found is not None:
                    return found
        return self.section(block.section)


_AGGRAVATING = words(
    """
        always constantly repeatedly every keep refuse dismiss defensive ignore mock blame punish week month
        year persistent persistently excessive excessively regularly often frequently still never worse
        unrepaired whenever defensiveness prickly snap irritate irritated annoy annoyed angry hostile cold
        sulk dismissive
        """
)


_AGGRAVATING_WORD = re.compile(r"[a-z]+")
# Time makes a pattern when it lasts ("for weeks", "every month", "months later"), not when
# it dates one event ("the next week").
_LASTING = re.compile(
    r"\b(?:(?:for|every|each|all|over|within)\s+(?:\w+\s+)?(?:weeks?|months?|years?)|weeks|months|years)\b"
)
_TIME = frozenset({"week", "month", "year"})


def aggravated(text: str) -> bool:
    """Words that make an everyday challenge a pattern the rules may escalate ("every session").

    Read from the words as written: analysis folds "never" into a negation, and "never
    cleared up" is a pattern before it is a negation.
    """
    lower = text.lower()
    if _LASTING.search(lower):
        return True
    return any(
        word not in _TIME and (word in _AGGRAVATING or lemma(word) in _AGGRAVATING - _TIME)
        for word in _AGGRAVATING_WORD.findall(lower)
    )


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def check_framing(document: Document, index: PhraseIndex, path: str) -> Iterator[LintFinding]:
    """framing.concern-listed-as-normal and framing.normal-listed-as-warning."""
    frames = _Frames(document)
    quoted: dict[tuple[int, int, int], str] = {}
    for block in document.lists:
        framed = frames.of_list(block)
        if framed is None or framed.frame not in (Frame.normal, Frame.warning):
            continue
        key = (id(framed.source), framed.start, framed.end)
        if key not in quoted:
            quoted[key] = _quote(framed.source.text[framed.start : framed.end].strip().rstrip(":"))
        frame_text = quoted[key]
        for item in block.items:
            prose = item.prose
            if prose is None or not prose.text.strip():
                continue
            tokens = analyse(prose.text)
            matches = index.match(tokens)
            if framed.frame is Frame.normal:
                finding = _concern_as_normal(prose, matches, frame_text, path)
            else:
                finding = _normal_as_warning(prose, tokens, matches, frame_text, path)
            if finding is not None:
                yield finding


def _span(prose: Prose) -> tuple[int, int, int, int]:
    text = prose.text
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    first_line = text[start:end].split("\n", 1)[0]
    line, column = prose.where(start)
    return line, column, line, column + len(first_line)


def _concern_as_normal(prose: Prose, matches: list[SignalMatch], frame: str, path: str) -> LintFinding | None:
    tokens = analyse(prose.text)
    concerns = [m for m in matches if m.signal.concern and not m.negated and not _denied_before(tokens, m)]
    if not concerns or better_normal(matches, concerns):
        return None
    best = strongest(concerns)
    if best.signal.level < Level.concern and qualified(tokens):
        return None  # "a hug, if you ask for one": what the rules themselves say
    signal = best.signal
    line, column, end_line, end_column = _span(prose)
    return LintFinding(
        path,
        line,
        column,
        end_line,
        end_column,
        LintLevel.error,
        "framing.concern-listed-as-normal",
        f'"{_quote(prose.text)}" is listed under "{frame}", which calls it normal, but it matches the signal '
        f"{signal.id} ({signal.label}): rule {signal.rule} is at level {signal.level.value}",
        signal.id,
        signal.rule,
        signal.level,
    )


_CONTRASTS = frozenset({"but", "except", "unless", "although", "though", "however", "yet"})
# A match whose negations differ from its phrasing's on less than this share of its weight
# agrees with it (the therapist of "your therapist doesn't want ..." weighs next to nothing).
_AGREES = 0.15


def _denied_before(tokens: Sequence[Token], match: SignalMatch) -> bool:
    """An item that starts by denying ("Your therapist never asks you for money, favours or
    help with their own business"): the denial reaches to the end of a list item, past the
    few words a negation covers in running prose, unless a "but" turns it round."""
    if match.flipped < _AGREES and any(t.content and t.negated for t in tokens if match.start <= t.start < match.end):
        return False  # the phrasing says it negated too: "doesn't want you to see another counselor"
    denied = False
    for token in tokens:
        if token.start >= match.start:
            return denied
        if token.lemma == "not":
            denied = True
        elif token.lemma in _CONTRASTS:
            denied = False
    return denied


def _normal_as_warning(
    prose: Prose, tokens: Sequence[Token], matches: list[SignalMatch], frame: str, path: str
) -> LintFinding | None:
    if not matches or any(m.signal.concern or m.signal.category.is_concern for m in matches):
        return None
    best = matches[0]
    if not best.signal.normal or best.negated or aggravated(prose.text):
        return None
    signal = best.signal
    line, column, end_line, end_column = _span(prose)
    return LintFinding(
        path,
        line,
        column,
        end_line,
        end_column,
        LintLevel.warning,
        "framing.normal-listed-as-warning",
        f'"{_quote(prose.text)}" is listed under "{frame}" as a warning sign, but it matches the signal '
        f"{signal.id} ({signal.label}), which rule {signal.rule} calls {signal.level.value}",
        signal.id,
        signal.rule,
        signal.level,
    )
