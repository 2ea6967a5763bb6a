"""Encoding damage (mojibake), with a proposed fix.

Two kinds are found. Text that was UTF-8 decoded as Windows-1252 or Latin-1 ("donâ€™t",
"cafÃ©") still holds every byte, and ftfy restores it exactly. Text that went through a
Thai code page (Windows-874) lost the bytes after the first of each curly quote or dash:
every one became U+0E42 "โ", as in the guide's "therapistโclient". The original cannot be
recovered from the bytes, so the fix is read from the context: between a word and "t" or
"s" it was an apostrophe, between words a dash, at the start of a word an opening quote.
A "โ" before a Thai consonant is Thai and is left alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from ._document import Document, Prose
from ._finding import Fix, LintFinding, LintLevel

__all__ = ["check_encoding", "guess_thai_damage"]

_SUSPECT = re.compile(
    "[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2020-\u2022\u2026"
    "\u2030\u2039\u203a\u20ac\u2122\u0e42\ufffd]"
)
_THAI_DAMAGE = re.compile("\u0e42(?![\u0e01-\u0e2e])")
_CONTRACTION = re.compile(r"(?:t|s|re|ve|ll|d|m)\b", re.IGNORECASE)
_NAMES = {
    "\u2019": "an apostrophe",
    "\u2013": "a dash",
    "\u2014": "a dash",
    "\u201c": "an opening quote",
    "\u201d": "a closing quote",
}


def guess_thai_damage(line: str, offset: int) -> str:
    """The character a U+0E42 at ``offset`` most likely stood for."""
    before = line[offset - 1] if offset else " "
    after = line[offset + 1] if offset + 1 < len(line) else " "
    if before.isalnum() and _CONTRACTION.match(line, offset + 1):
        return "\u2019"
    if before.isspace() and after.isspace():
        return "\u2014"
    if before.isalnum() and after.isalnum():
        return "\u2013"
    if before.isspace() or before in "([{":
        return "\u201c"
    if after.isspace() or after in ".,;:!?)]}" or offset + 1 == len(line):
        return "\u201d"
    return "\u2019"


# How far the context of a finding reaches on each side of the damage.
_REACH = 30


def _word_around(line: str, start: int, end: int) -> tuple[int, int]:
    """The span of the word(s) around ``start:end``; a lone mark takes its neighbours along."""
    left = start
    while left > 0 and not line[left - 1].isspace() and start - left < _REACH:
        left -= 1
    right = end
    while right < len(line) and not line[right].isspace() and right - end < _REACH:
        right += 1
    if right - left == end - start:  # a lone mark: show the words on both sides
        floor = max(left - 1 - _REACH, 0)
        space = line.rfind(" ", floor, max(left - 1, 0))
        left = floor if space == -1 else space + 1
        stop = min(right + 1 + _REACH, len(line))
        space = line.find(" ", min(right + 1, len(line)), stop)
        right = stop if space == -1 else space
    return left, right


def _repair_thai(line: str, left: int, right: int) -> str:
    return "".join(
        guess_thai_damage(line, offset) if line[offset] == "\u0e42" else line[offset] for offset in range(left, right)
    )


# ftfy repairs a line in linear time, but finding what it changed takes difflib's
# SequenceMatcher, whose time grows with the cube of a line full of damage: 33 s for 5,000
# characters, and 2 ms for 120. Lines are therefore repaired in pieces of at most _PIECE
# characters, cut between two characters that no byte of a UTF-8 sequence decodes to (so
# no repair is cut in two), else before what reads as the first byte of a sequence. A line
# up to that length is one piece, as before.
_PIECE = 32
# What a byte 0x80-0xFF reads as in Windows-1252 or Latin-1.
_BYTE_LIKE = re.compile(
    "[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LEAD = re.compile("[\u00c2-\u00f4]")  # the first byte of a UTF-8 sequence


def _pieces(line: str) -> Iterator[tuple[int, int]]:
    start = 0
    while len(line) - start > _PIECE:
        end = _cut(line, start)
        yield start, end
        start = end
    yield start, len(line)


def _clean(line: str, position: int) -> bool:
    """Not a byte-like character, nor a space next to one (a no-break space may have become one)."""
    if _BYTE_LIKE.match(line, position):
        return False
    if line[position].isspace():
        return not any(_BYTE_LIKE.match(line, p) for p in (position - 1, position + 1) if 0 <= p < len(line))
    return True


def _cut(line: str, start: int) -> int:
    """Where the piece that starts at ``start`` ends."""
    low, high = start + _PIECE // 2, start + _PIECE
    for position in range(high, low, -1):
        if _clean(line, position - 1) and _clean(line, position):
            return position
    for position in range(high - 1, low, -1):
        if _LEAD.match(line, position):
            return position
    return high


def _repairs(line: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) for each stretch ftfy changes."""
    for start, end in _pieces(line):
        piece = line[start:end]
        if not _SUSPECT.search(piece):
            continue
        import ftfy  # only for text with suspect characters: importing it takes 0.04 s

        fixed = ftfy.fix_encoding(piece)
        if fixed == piece:
            continue
        matcher = difflib.SequenceMatcher(None, piece, fixed, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                yield start + i1, start + i2, fixed[j1:j2]


def _line_findings(prose: Prose, number: int, line: str, offset: int, path: str) -> Iterator[LintFinding]:
    if _THAI_DAMAGE.search(line) and not re.search("[\u0e01-\u0e2e]", line):
        for match in _THAI_DAMAGE.finditer(line):
            guess = guess_thai_damage(line, match.start())
            left, right = _word_around(line, match.start(), match.end())
            context, repaired = line[left:right], _repair_thai(line, left, right)
            row, column = prose.where(offset + match.start())
            yield LintFinding(
                path,
                row,
                column,
                row,
                column + 1,
                LintLevel.error,
                "encoding.mojibake",
                f'encoding damage: "{context}" has "\u0e42" (U+0E42) where {_NAMES[guess]} was probably meant; '
                f'write "{repaired}"',
                fix=Fix(guess, f'replace "\u0e42" with "{guess}"'),
            )
        return
    changes = list(_repairs(line))
    if changes:
        for i1, i2, replacement in changes:
            row, column = prose.where(offset + i1)
            left, right = _word_around(line, i1, i2)
            before = line[left:right]
            yield LintFinding(
                path,
                row,
                column,
                row,
                column + max(i2 - i1, 1),
                LintLevel.error,
                "encoding.mojibake",
                f'encoding damage: "{before}" was decoded with the wrong encoding; write "{replacement}" '
                f'for "{line[i1:i2]}"',
                fix=Fix(replacement, f'replace "{line[i1:i2]}" with "{replacement}"'),
            )
        return
    for match in re.finditer("\ufffd", line):
        row, column = prose.where(offset + match.start())
        left, right = _word_around(line, match.start(), match.end())
        yield LintFinding(
            path,
            row,
            column,
            row,
            column + 1,
            LintLevel.error,
            "encoding.mojibake",
            f'encoding damage: "{line[left:right]}" has the replacement character U+FFFD: '
            ": the original character was lost in a conversion; retype it",
        )


def check_encoding(document: Document, path: str) -> Iterator[LintFinding]:
    """encoding.mojibake, for every line of prose (code blocks and inline code are not prose)."""
    for prose in document.prose:
        text = prose.text
        if not _SUSPECT.search(text):
            continue
        offset = 0
        for number, line in enumerate(text.split("\n")):
            if _SUSPECT.search(line):
                yield from _line_findings(prose, number, line, offset, path)
            offset += len(line) + 1
