"""MDX, Quarto and R Markdown, read as Markdown once what is not prose is masked.

MDX is Markdown with JSX (``<Callout type="warning">``, ``<Chart data={rows} />``), ESM
(``import``/``export`` blocks) and ``{expressions}``; none of it is prose, and read as
text a component's attributes and an import's names would be linted as sentences. Each
is replaced by spaces of the same length, so every other character keeps its line and
column. The text between a component's tags is Markdown and stays prose. Inside a
component it is usually indented, and four spaces would make it a code block to a
Markdown parser (MDX has no indented code): each run of lines at one component depth is
dedented by its common indent, and findings are moved back by what was removed
(:func:`restore`). ``{/* therapy-signals-disable ... */}``, the only comment MDX has,
becomes ``<!--therapy-signals-disable ... -->`` so suppression works as in Markdown.

Quarto and R Markdown, like MDX and Docusaurus, open and close fenced divs with ``:::``
lines, which are masked; their code chunks are fences already.

Every step is linear in the text (docs/decisions/0009-linter-limits.md): braces are paired
in one pass with a stack, and a tag is read only up to its ``>``, the next ``<``, an
unpaired brace or a blank line, so a run of unclosed ``<`` or ``{`` costs no more than text.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ._finding import LintFinding

__all__ = ["Masked", "prepare", "restore"]

_NEWLINES = re.compile(r"\r\n?")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
_ESM = re.compile(r"(?:import|export)(?=[\s{*])")
_DIV = re.compile(r"[ \t]*:{3,}")
_TAG_START = re.compile(r"<(?=[A-Za-z/>])")
_DIRECTIVE = re.compile(r"\{/\*(?=\s+therapy-signals-)")
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
_NAME = re.compile(r"</?\s*([A-Za-z][\w.:-]*)")


@dataclass(frozen=True)
class Masked:
    """The text to lint, and per line how many leading characters the dedent removed."""

    text: str
    shifts: tuple[int, ...]


def prepare(text: str, dialect: str) -> Masked:
    """The prose of an article in a dialect (``mdx`` or ``divs``), positions kept."""
    text = _NEWLINES.sub("\n", text)
    chars = list(text)
    lines = text.split("\n")
    starts = _line_starts(lines)
    code = _code(lines, starts, len(text))
    _mask_divs(lines, starts, code, chars)
    if dialect != "mdx":
        return Masked("".join(chars), (0,) * len(lines))
    _mask_esm(lines, starts, code, chars)
    depths = _mask_jsx(text, code, chars, starts)
    masked = "".join(chars).split("\n")
    shifts = _dedent(masked, depths)
    return Masked("\n".join(masked), tuple(shifts))


def restore(findings: Iterable[LintFinding], shifts: tuple[int, ...]) -> list[LintFinding]:
    """Findings on the masked text, at the columns of the original one."""
    restored = []
    for finding in findings:
        start = shifts[finding.line - 1] if finding.line <= len(shifts) else 0
        end = shifts[finding.end_line - 1] if finding.end_line <= len(shifts) else 0
        if start or end:
            finding = replace(finding, column=finding.column + start, end_column=finding.end_column + end)
        restored.append(finding)
    return restored


def _line_starts(lines: list[str]) -> list[int]:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def _blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, end):
        if chars[index] != "\n":
            chars[index] = " "


def _code(lines: list[str], starts: list[int], size: int) -> bytearray:
    """1 for each character of a fenced code block or an inline code span."""
    code = bytearray(size)
    fence: str | None = None
    for number, line in enumerate(lines):
        start = starts[number]
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        else:
            _code_spans(line, start, code)
            continue
        code[start : start + len(line)] = b"\x01" * len(line)
    return code


def _code_spans(line: str, start: int, code: bytearray) -> None:
    """Backtick runs paired with the next run of the same length on the line."""
    runs = [(m.start(), m.end()) for m in re.finditer("`+", line)]
    later: defaultdict[int, deque[int]] = defaultdict(deque)
    for index, (left, right) in enumerate(runs):
        later[right - left].append(index)
    index = 0
    while index < len(runs):
        left, right = runs[index]
        same = later[right - left]
        while same and same[0] <= index:
            same.popleft()
        if not same:
            index += 1
            continue
        close = same.popleft()
        end = runs[close][1]
        code[start + left : start + end] = b"\x01" * (end - left)
        index = close + 1


def _mask_divs(lines: list[str], starts: list[int], code: bytearray, chars: list[str]) -> None:
    for number, line in enumerate(lines):
        if _DIV.match(line) and not code[starts[number]]:
            _blank(chars, starts[number], starts[number] + len(line))


def _mask_esm(lines: list[str], starts: list[int], code: bytearray, chars: list[str]) -> None:
    """``import``/``export`` at the start of a block, to the next blank line (as MDX reads it)."""
    inside = False
    after_front_matter = _front_matter_end(lines)
    for number, line in enumerate(lines):
        start = starts[number]
        if not line.strip():
            inside = False
        elif not inside and (number in (0, after_front_matter) or not lines[number - 1].strip()):
            inside = bool(_ESM.match(line)) and not code[start]
        if inside:
            _blank(chars, start, start + len(line))
            code[start : start + len(line)] = b"\x01" * len(line)


def _front_matter_end(lines: list[str]) -> int:
    """The line after a ``---`` or ``+++`` front matter block (-1 without one)."""
    if not lines or lines[0].rstrip() not in ("---", "+++"):
        return -1
    closers = ("---", "...") if lines[0].rstrip() == "---" else ("+++",)
    for number in range(1, len(lines)):
        if lines[number].rstrip() in closers:
            return number + 1
    return -1


def _pairs(text: str, code: bytearray) -> dict[int, int]:
    """Each ``{`` outside code to its closing ``}``; an unpaired one is text."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    escaped = False
    for index, char in enumerate(text):
        if escaped or code[index]:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "{":
            stack.append(index)
        elif char == "}" and stack:
            pairs[stack.pop()] = index
    return pairs


def _blank_line_after(text: str) -> set[int]:
    """The positions of newlines that a blank line follows: a tag does not run past one."""
    found = set()
    offset = text.find("\n")
    while offset != -1:
        following = text.find("\n", offset + 1)
        if not text[offset + 1 : following if following != -1 else len(text)].strip():
            found.add(offset)
        offset = following
    return found


def _tag_end(text: str, start: int, pairs: dict[int, int], stops: set[int]) -> int:
    """The index of the ``>`` that closes the tag at ``start``, or -1 if it is not a tag."""
    index, previous = start + 1, "<"
    while index < len(text):
        char = text[index]
        if char == ">":
            return index
        if char == "<" or index in stops:
            return -1
        if char == "{":
            if index not in pairs:
                return -1
            index = pairs[index] + 1
            previous = "}"
            continue
        if char in "\"'" and previous == "=":
            line_end = text.find("\n", index)
            close = text.find(char, index + 1, line_end if line_end != -1 else len(text))
            if close == -1:
                return -1
            index = close + 1
            previous = char
            continue
        if not char.isspace():
            previous = char
        index += 1
    return -1


def _depth_change(tag: str) -> int:
    if tag.startswith("</"):
        return -1
    if tag.endswith("/>"):
        return 0
    name = _NAME.match(tag)
    return 0 if name and name.group(1) in _VOID else 1


def _mask_jsx(text: str, code: bytearray, chars: list[str], starts: list[int]) -> list[int]:
    """Mask tags and expressions; the component depth at the start of each line."""
    pairs = _pairs(text, code)
    stops = _blank_line_after(text)
    changes: list[tuple[int, int]] = []  # (position, depth after it)
    depth, index = 0, 0
    while index < len(text):
        char = text[index]
        if code[index]:
            index += 1
        elif char == "\\":
            index += 2
        elif char == "{" and index in pairs:
            close = pairs[index]
            if _DIRECTIVE.match(text, index) and text.startswith("*/}", close - 2) and "\n" not in text[index:close]:
                chars[index : index + 4] = "<!--"
                chars[close - 2 : close + 1] = "-->"
            else:
                _blank(chars, index, close + 1)
            index = close + 1
        elif char == "<" and _TAG_START.match(text, index) and (close := _tag_end(text, index, pairs, stops)) != -1:
            _blank(chars, index, close + 1)
            depth = max(depth + _depth_change(text[index : close + 1]), 0)
            changes.append((close, depth))
            index = close + 1
        else:
            index += 1
    return _depth_at_line_starts(changes, starts)


def _depth_at_line_starts(changes: list[tuple[int, int]], starts: list[int]) -> list[int]:
    depths, depth, pointer = [], 0, 0
    for start in starts:
        while pointer < len(changes) and changes[pointer][0] < start:
            depth = changes[pointer][1]
            pointer += 1
        depths.append(depth)
    return depths


def _dedent(lines: list[str], depths: list[int]) -> list[int]:
    """Dedent each run of lines at one component depth by its common indent, in place."""
    shifts = [0] * len(lines)
    number = 0
    while number < len(lines):
        if depths[number] == 0:
            number += 1
            continue
        end = number
        while end < len(lines) and depths[end] == depths[number]:
            end += 1
        indents = [len(line) - len(line.lstrip()) for line in lines[number:end] if line.strip()]
        common = min(indents, default=0)
        for row in range(number, end):
            removed = min(common, len(lines[row]) - len(lines[row].lstrip()))
            lines[row] = lines[row][removed:]
            shifts[row] = removed
        number = end
    return shifts
