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

import ftfy

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


def _word_around(line: str, start: int, end: int) -> tuple[int, int]:
    """The span of the word(s) around ``start:end``; a lone mark takes its neighbours along."""
    left = start
    while left > 0 and not line[left - 1].isspace() and start - left < 30:
        left -= 1
    right = end
    while right < len(line) and not line[right].isspace() and right - end < 30:
        right += 1
    if right - left == end - start:  # a lone mark: show the words on both sides
        left = max(line.rfind(" ", 0, max(left - 1, 0)) + 1, 0)
        next_space = line.find(" ", min(right + 1, len(line)))
        right = len(line) if next_space == -1 else next_space
    return left, right


def _repair_thai(line: str, left: int, right: int) -> str:
    return "".join(
        guess_thai_damage(line, offset) if line[offset] == "\u0e42" else line[offset] for offset in range(left, right)
    )


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
    fixed = ftfy.fix_encoding(line)
    if fixed != line:
        matcher = difflib.SequenceMatcher(None, line, fixed, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
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
                f'encoding damage: "{before}" was decoded with the wrong encoding; write "{fixed[j1:j2]}" '
                f'for "{line[i1:i2]}"',
                fix=Fix(fixed[j1:j2], f'replace "{line[i1:i2]}" with "{fixed[j1:j2]}"'),
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
