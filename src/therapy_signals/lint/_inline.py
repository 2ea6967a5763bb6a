"""Masking inline markup on one line, in time linear in the line.

The prose of a line keeps every column: code spans, images, comments, HTML tags, autolinks,
bare URLs, footnote references, entities, link targets, emphasis marks and escapes become
spaces of the same length. A regular expression such as ``\\[[^\\]]*\\]\\(...\\)`` looks simple,
but Python's engine retries it at every ``[`` and each retry reads to the end of the line:
200 KB of ``[`` took minutes. Constructs that need a closing mark far away are therefore
found by scanners that look each closing mark up once (:class:`_Next`); the regular
expressions that remain either cannot cross the next opening mark or are bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

__all__ = ["mask_inline"]

# A tag cannot contain "<", so each try stops at the next one.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
# CommonMark autolinks contain no "<" either; the older pattern allowed it, and each "<"
# then read to the end of the line (100,000 "<" took 38 s).
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^<>\s]*+>|<[^<@>\s]++@[^<>\s]++>")
_URL = re.compile(r"https?://[^\s)>\]]+")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_EMPHASIS = re.compile(r"\*+|~~|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_BACKTICKS = re.compile(r"`+")


class _Next:
    """Where ``mark`` next occurs at or after a position, for positions that never go back.

    Each answer is found once and reused until a later position passes it, so all the
    lookups on one line read it once: O(n) in all, where ``str.find`` at every try is O(n^2).
    """

    __slots__ = ("_found", "_from", "_line", "_mark")

    def __init__(self, line: str, mark: str) -> None:
        self._line = line
        self._mark = mark
        self._from = -1
        self._found = -1

    def at(self, position: int) -> int:
        """The index of the next ``mark`` at or after ``position``, or -1 for none."""
        stale = position < self._from or (self._found != -1 and position > self._found)
        if self._from == -1 or stale:
            self._from = position
            self._found = self._line.find(self._mark, position)
        return self._found


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _spans_to_spaces(line: str, spans: Iterator[tuple[int, int]]) -> str:
    parts: list[str] = []
    done = 0
    for start, end in spans:
        parts.append(line[done:start])
        parts.append(" " * (end - start))
        done = end
    if not parts:
        return line
    parts.append(line[done:])
    return "".join(parts)


def _code_spans(line: str) -> Iterator[tuple[int, int]]:
    """CommonMark code spans: a run of n backticks up to the next run of exactly n."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    cursor = dict.fromkeys(by_length, 0)  # per length: the first run not yet passed
    index = 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        position = cursor[end - start]
        while position < len(same) and same[position] <= index:
            position += 1
        cursor[end - start] = position
        if position == len(same):
            index += 1  # no closing run: the backticks are text
            continue
        closing = same[position]
        yield start, runs[closing][1]
        index = closing + 1


def _images(line: str) -> Iterator[tuple[int, int]]:
    """``![alt](target)``: the first ``]`` after ``![``, then ``(`` and the first ``)``."""
    close, paren = _Next(line, "]"), _Next(line, ")")
    position = line.find("![")
    while position != -1:
        label_end = close.at(position + 2)
        if label_end == -1:
            return
        if line.startswith("(", label_end + 1):
            target_end = paren.at(label_end + 2)
            if target_end == -1:
                return
            yield position, target_end + 1
            position = line.find("![", target_end + 1)
            continue
        position = line.find("![", position + 1)


def _comments(line: str) -> Iterator[tuple[int, int]]:
    position = line.find("<!--")
    while position != -1:
        end = line.find("-->", position + 4)
        if end == -1:
            return  # no later comment can close either
        yield position, end + 3
        position = line.find("<!--", end + 3)


def _footnotes(line: str) -> Iterator[tuple[int, int]]:
    """``[^label]``: a non-empty label up to the first ``]``."""
    close = _Next(line, "]")
    position = line.find("[^")
    while position != -1:
        end = close.at(position + 2)
        if end == -1:
            return
        if end > position + 2:
            yield position, end + 1
            position = line.find("[^", end + 1)
        else:
            position = line.find("[^", position + 1)


def _links(line: str) -> Iterator[tuple[int, int, int]]:
    """``[text](target)`` and ``[text][label]``: (start, end of text, end) of each."""
    close, paren = _Next(line, "]"), _Next(line, ")")
    label = _Next(line, "]")
    position = line.find("[")
    while position != -1:
        text_end = close.at(position + 1)
        if text_end == -1:
            return
        opener = line[text_end + 1 : text_end + 2]
        end = paren.at(text_end + 2) if opener == "(" else label.at(text_end + 2) if opener == "[" else -1
        if end != -1:
            yield position, text_end, end + 1
            position = line.find("[", end + 1)
        else:
            position = line.find("[", position + 1)


def _mask_links(line: str) -> str:
    """A link keeps its text and loses its brackets and target."""
    parts: list[str] = []
    done = 0
    for start, text_end, end in _links(line):
        parts.append(line[done:start])
        parts.append(" " + line[start + 1 : text_end] + " " * (end - text_end))
        done = end
    if not parts:
        return line
    parts.append(line[done:])
    return "".join(parts)


def _masked(line: str, scan: Callable[[str], Iterator[tuple[int, int]]]) -> str:
    return _spans_to_spaces(line, scan(line))


def _sub(pattern: re.Pattern[str]) -> Callable[[str], str]:
    return lambda line: pattern.sub(_blank, line)


# Any markup at all: most lines of prose have none and skip every step below.
_ANY_MARKUP = re.compile(r"[`!<&\[*_~\\]|://")

# (what a line must contain for the step to find anything, how to mask it), in the order
# they run: a code span hides a tag, a tag hides what looks like a link.
_STEPS: tuple[tuple[tuple[str, ...], Callable[[str], str]], ...] = (
    (("`",), lambda line: _masked(line, _code_spans)),
    (("![",), lambda line: _masked(line, _images)),
    (("<!--",), lambda line: _masked(line, _comments)),
    (("<",), _sub(_TAG)),
    (("<",), _sub(_AUTOLINK)),
    (("://",), _sub(_URL)),
    (("[^",), lambda line: _masked(line, _footnotes)),
    (("&",), _sub(_ENTITY)),
    (("[",), _mask_links),
    (("*", "_", "~~"), _sub(_EMPHASIS)),
    (("\\",), lambda line: _ESCAPE.sub(" ", line)),
)


def mask_inline(line: str) -> str:
    """The prose of one line: inline markup replaced by spaces of the same length."""
    if not _ANY_MARKUP.search(line):
        return line
    for needles, mask in _STEPS:
        for needle in needles:
            if needle in line:
                line = mask(line)
                break
    return line
