"""An article as a tree of sections: headings with their paragraphs and lists, with positions.

markdown-it-py parses the Markdown and gives every block its source lines. The prose of each
block is then taken straight from those lines with the markup *masked*: list markers, ``#``,
emphasis, link targets, inline code and HTML tags become spaces of the same length, so an
offset into the prose is an offset into the source line and every finding gets an exact line
and column.

Writers' drafts are not always tidy Markdown, and the guide itself is plain text: headings
are lines on their own without ``#``, and lists run straight into the next paragraph. Two
rules make such text read as its writer meant it: a short title-cased line (or a line that
is only bold text) at the start of a paragraph is a heading, and an unindented line that
starts with a capital letter after a list item ends the list instead of continuing the item.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token as MdToken

from ._inline import _Next, mask_inline
from ._text import line_starts, position, sentences, words

__all__ = ["Directive", "Document", "ListBlock", "ListItem", "Prose", "Section", "parse"]

# markdown-it skips whatever lies deeper than this; such lines are still linted as prose.
_MAX_NESTING = 40


# Slots: an article of 250,000 one-line list items holds one of these records per item.
@dataclass(eq=False, slots=True)
class Prose:
    """A run of prose: whole source lines with the markup masked (offsets = columns)."""

    kind: str  # heading, paragraph, item, row, html
    text: str
    line: int  # 0-based line of the first character of ``text``
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = line_starts(self.text)

    def where(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset into :attr:`text`."""
        line, column = position(self.starts, offset)
        return self.line + line + 1, column + 1

    def sentences(self) -> Iterator[tuple[int, int]]:
        return sentences(self.text)

    @property
    def stripped(self) -> str:
        return " ".join(self.text.split())


@dataclass(eq=False, slots=True)
class ListItem:
    prose: Prose | None
    lists: list[ListBlock] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class ListBlock:
    """A list (or a table's rows) and the sentence just before it that may frame it."""

    section: Section
    lead_in: tuple[Prose, int, int] | None  # the prose and the span of its framing sentence
    parent_item: ListItem | None
    items: list[ListItem] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Section:
    heading: Prose | None
    level: int
    parent: Section | None
    children: list[Section] = field(default_factory=list)
    lists: list[ListBlock] = field(default_factory=list)

    def chain(self) -> Iterator[Section]:
        """This section, then each enclosing one."""
        section: Section | None = self
        while section is not None:
            yield section
            section = section.parent


@dataclass(frozen=True)
class Directive:
    """A suppression comment: ``<!-- therapy-signals-disable rule-id -->`` and friends."""

    line: int  # 1-based line of the comment's end
    column: int
    kind: str  # disable, enable, disable-next-line, disable-line
    checks: tuple[str, ...]  # empty: every check


@dataclass
class Document:
    lines: list[str]
    root: Section
    prose: list[Prose]
    lists: list[ListBlock]
    directives: list[Directive]


# A directive's opening, matched at a "<!--"; its end is found by _directives_in.
_DIRECTIVE_HEAD = re.compile(r"\s*therapy-signals-(disable-next-line|disable-line|disable|enable)\b", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\n.*?\n(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|\Z)", re.DOTALL)
# Possessive quantifiers: blanks and ">" can be split between the parts of the prefix in
# many ways, and on a line of 100,000 spaces that does not end in a marker the engine
# tried every split (quadratic). The possessive form matches exactly the same lines.
_CONTAINER = re.compile(r"^[ \t]*+(?:>[ \t]?+)*+")
_MARKER = re.compile(r"^([ \t]*+(?:>[ \t]?+)*+[ \t]*+)((?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?)(?=[ \t]|$)")
_ATX_OPEN = re.compile(r"^([ \t]*+(?:>[ \t]?+)*+[ \t]*+)(#{1,6})(?=[ \t]|$)")
# Tried only where a run of blanks starts: a try inside the run ends where the run does.
_ATX_CLOSE = re.compile(r"(?<![ \t])[ \t]++#++[ \t]*+$")
_SETEXT_UNDERLINE = re.compile(r"[ \t>]*(=+|-+)[ \t]*")
_BOLD_LINE = re.compile(r"^\s*+(\*\*|__)(?=\S)(.+?)(?<=\S)\1\s*+(?::\s*+)?$")
_SMALL = words("a an the and or but of to in on at for with by from as is are vs not nor so")
_LEAVES = frozenset({"paragraph_open", "heading_open", "fence", "code_block", "html_block", "hr"})
_LIST_START = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _mask_prefix(line: str, pattern: re.Pattern[str]) -> str:
    match = pattern.match(line)
    return " " * match.end() + line[match.end() :] if match else line


def _mask_marker(line: str) -> str:
    match = _MARKER.match(line)
    return " " * match.end() + line[match.end() :] if match else _mask_prefix(line, _CONTAINER)


def _title_like(line: str) -> bool:
    """A short line on its own in title case, without closing punctuation: a plain-text heading."""
    text = line.strip()
    if not text or len(text) > 100 or not text[0].isupper() or text[-1] in ".,;:!\"'":
        return False
    words = re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", text)
    if not 1 <= len(words) <= 14:
        return False
    significant = [w for w in words if w.lower() not in _SMALL]
    if not significant:
        return False
    capital = sum(1 for w in significant if w[0].isupper())
    return capital / len(significant) >= 0.75 and (len(words) > 1 or len(text) > 3)


class _Builder:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.root = Section(None, 0, None)
        self.section = self.root
        self.real_heading_level = 0
        self.prose: list[Prose] = []
        self.lists: list[ListBlock] = []
        self.covered = bytearray(len(lines))  # 1 for each line a leaf block covers
        self.last_paragraph: Prose | None = None
        self.last_paragraph_end = -1
        self._text_from = (-1, -1)  # (line, the first line of text at or after it)
        self._section_lines = [-1]  # where each section opens, in order, for section_at
        self._sections = [self.root]
        self._last_sentence: dict[int, tuple[int, int] | None] = {}

    # -- prose -------------------------------------------------------------------------
    def _prose(self, kind: str, start: int, end: int, first_marker: bool = False) -> Prose:
        masked = []
        for number in range(start, end):
            raw = self.lines[number]
            if kind == "heading":
                line = _mask_prefix(raw, _ATX_OPEN)
                line = _ATX_CLOSE.sub(_blank, line) if _ATX_OPEN.match(raw) else line
                if number > start and _SETEXT_UNDERLINE.fullmatch(raw):
                    line = " " * len(raw)
            elif kind == "row":
                line = raw.replace("|", " ")
            elif first_marker and number == start:
                line = _mask_marker(raw)
            else:
                line = _mask_prefix(raw, _CONTAINER)
            masked.append(mask_inline(line))
        return Prose(kind, "\n".join(masked), start)

    def cover(self, start: int, end: int) -> None:
        end = min(end, len(self.covered))
        self.covered[start:end] = b"\x01" * max(end - start, 0)

    def _add(self, prose: Prose) -> Prose:
        self.prose.append(prose)
        return prose

    # -- sections ----------------------------------------------------------------------
    def _open_section(self, heading: Prose, level: int) -> None:
        parent = self.section
        while parent.parent is not None and parent.level >= level:
            parent = parent.parent
        section = Section(heading, level, parent)
        parent.children.append(section)
        self.section = section
        self.last_paragraph = None
        self._section_lines.append(heading.line)
        self._sections.append(section)

    def section_at(self, line: int) -> Section:
        """The section a line of the article is in."""
        return self._sections[bisect_right(self._section_lines, line) - 1]

    def heading(self, start: int, end: int, level: int) -> None:
        self.real_heading_level = level
        self._open_section(self._add(self._prose("heading", start, end)), level)

    def paragraph(self, start: int, end: int) -> None:
        """A top-level paragraph; title-like lines in it (plain text) open sections."""
        run = start
        for number in range(start, end):
            raw = self.lines[number]
            after_sentence = number == run or self.lines[number - 1].rstrip().endswith(
                (".", "!", "?", ":", '"', "\u201d")
            )
            rest_is_text = number + 1 < end or self._block_follows(number + 1)
            if not (_BOLD_LINE.match(raw) or (after_sentence and rest_is_text and _title_like(raw))):
                continue
            self._paragraph_run(run, number)
            level = self.real_heading_level + 1 if self.real_heading_level else 2
            self._open_section(self._add(self._prose("heading", number, number + 1)), level)
            run = number + 1
        self._paragraph_run(run, end)

    def _paragraph_run(self, start: int, end: int) -> None:
        if start < end:
            prose = self._add(self._prose("paragraph", start, end))
            self.last_paragraph = prose
            self.last_paragraph_end = end

    def _block_follows(self, line: int) -> bool:
        while line < len(self.lines) and not self.lines[line].strip():
            line += 1
        return line < len(self.lines)

    # -- lists -------------------------------------------------------------------------
    def lead_in(self, start: int) -> tuple[Prose, int, int] | None:
        """The last sentence of the paragraph right before line ``start``, if it frames a list."""
        prose = self.last_paragraph
        if prose is None or self._first_text_at(self.last_paragraph_end) < start:
            return None
        span = self._final_sentence(prose)
        return None if span is None else (prose, *span)

    def _first_text_at(self, line: int) -> int:
        """The first line at or after ``line`` that is text, not blank or a comment.

        Remembered for the paragraph it was asked for: a paragraph followed by many tables
        asks once per table, and each asking read every line in between again.
        """
        if self._text_from[0] != line:
            found = line
            while found < len(self.lines) and (
                not self.lines[found].strip() or self.lines[found].strip().startswith("<!--")
            ):
                found += 1
            self._text_from = (line, found)
        return self._text_from[1]

    def _final_sentence(self, prose: Prose) -> tuple[int, int] | None:
        key = id(prose)
        if key not in self._last_sentence:
            spans = list(prose.sentences())
            self._last_sentence[key] = spans[-1] if spans else None
        return self._last_sentence[key]

    def new_list(self, start: int, parent_item: ListItem | None) -> ListBlock:
        if parent_item is not None:
            lead = None
            if parent_item.prose is not None and parent_item.prose.text.rstrip().endswith(":"):
                span = self._final_sentence(parent_item.prose)
                lead = None if span is None else (parent_item.prose, *span)
        else:
            lead = self.lead_in(start)
        block = ListBlock(self.section, lead, parent_item)
        if parent_item is not None:
            parent_item.lists.append(block)
        else:
            self.section.lists.append(block)
        self.lists.append(block)
        return block


def parse(text: str) -> Document:
    """Read Markdown (or plain text) into a :class:`Document`; never raises on any text."""
    lines = text.split("\n")
    source = text
    front = _FRONT_MATTER.match(text)
    skipped: set[int] = set()
    if front:
        count = front.group().count("\n")
        skipped.update(range(count))
        source = "\n" * count + text[front.end() :]
    tokens = _MARKDOWN.parse(source)
    builder = _Builder(lines)
    _walk(tokens, builder, skipped)
    walked = len(builder.prose)
    _uncovered(builder, skipped)
    if len(builder.prose) > walked:  # checks read prose in order: the first mention is the first
        builder.prose.sort(key=lambda prose: prose.line)
    directives = list(_directives(lines, skipped))
    return Document(lines, builder.root, builder.prose, builder.lists, directives)


# The only tokens _walk reads. markdown-it's other tokens (inline content, closing tags,
# table rows and cells) cost about 350 bytes each and were thrown away unread: a 2 MB table
# of short cells took 1.4 GB, three tokens a cell.
_KEPT = frozenset(
    {
        "heading_open",
        "paragraph_open",
        "bullet_list_open",
        "bullet_list_close",
        "ordered_list_open",
        "ordered_list_close",
        "list_item_open",
        "list_item_close",
        "table_open",
        "fence",
        "code_block",
        "html_block",
        "hr",
    }
)


def _lean_block(state: StateCore) -> None:
    """markdown-it's core block rule, keeping only the tokens in _KEPT.

    The block rules are markdown-it's own, so what is a block and where it ends do not
    change. A dropped token still moves the nesting level as markdown-it's ``push`` does:
    ``maxNesting`` and the levels of the kept tokens stay what they were.
    """
    if not state.src:
        return
    block = StateBlock(state.src, state.md, state.env, state.tokens)
    push = block.push
    dropped = MdToken("dropped", "", 0)

    def lean_push(kind: str, tag: str, nesting: Literal[-1, 0, 1]) -> MdToken:
        if kind in _KEPT:
            return push(kind, tag, nesting)
        block.level += nesting
        return dropped

    setattr(block, "push", lean_push)  # noqa: B010  (an instance attribute over the method)
    state.md.block.tokenize(block, block.line, block.lineMax)


def _bounded(tokenize: Callable[[StateBlock, int, int], None]) -> Callable[[StateBlock, int, int], None]:
    """markdown-it's block tokenizer, skipping only the deep block when nesting runs out.

    Past ``maxNesting`` markdown-it skips to the end of the enclosing range, and a list
    item's range is the rest of the document: one line of 20 "- " hid every heading and
    list after it. Here the skipped lines end where the deep block does, at the first line
    indented less than its content; they are still linted as prose (``_uncovered``).
    """

    def run(state: StateBlock, start: int, end: int) -> None:
        if state.level < state.md.options.maxNesting:
            tokenize(state, start, end)
            return
        line = start
        while line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
            line += 1
        state.line = line

    return run


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": _MAX_NESTING}).enable("table")
    md.core.ruler.at("block", _lean_block)
    setattr(md.block, "tokenize", _bounded(md.block.tokenize))  # noqa: B010
    # Only the blocks and their lines are used: inline parsing (links, emphasis) built
    # tokens nobody read, and 200 KB of "[" spent seconds in it.
    md.disable("inline")
    return md


_MARKDOWN = _markdown()


def _walk(tokens: list[MdToken], builder: _Builder, skipped: set[int]) -> None:
    lists: list[ListBlock | None] = []  # None: a list we split and whose rest starts later
    items: list[ListItem] = []
    item_indent: list[int] = []
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                builder.last_paragraph = None
            continue
        if kind == "list_item_close":
            items.pop()
            item_indent.pop()
            continue
        span = token.map
        if span is None:
            continue
        # Only leaf blocks cover lines: a list item's range also spans what markdown-it skipped.
        if kind in _LEAVES:
            builder.cover(span[0], span[1])
        if kind == "heading_open":
            builder.heading(span[0], span[1], int(token.tag[1]))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            parent = items[-1] if items else None
            lists.append(builder.new_list(span[0], parent))
        elif kind == "list_item_open":
            item = ListItem(None)
            current = lists[-1] if lists else None
            if current is None and lists:
                # The list was cut by a plain-text paragraph: its remaining items form a new one.
                lists[-1] = current = builder.new_list(span[0], items[-1] if items else None)
            if current is not None:
                current.items.append(item)
            items.append(item)
            item_indent.append(_content_indent(builder.lines[span[0]]))
        elif kind == "paragraph_open":
            if items:
                _item_paragraph(builder, items[-1], item_indent[-1], span[0], span[1], lists)
            else:
                builder.paragraph(span[0], span[1])
        elif kind == "table_open":
            _table(builder, span[0], span[1], items[-1] if items else None)
        elif kind in ("fence", "code_block"):
            skipped.update(range(span[0], span[1]))
            builder.last_paragraph = None
        elif kind == "html_block":
            if not token.content.lstrip().startswith("<!--"):
                builder._add(builder._prose("html", span[0], span[1]))
        elif kind == "hr":
            builder.last_paragraph = None


def _table(builder: _Builder, start: int, end: int, parent: ListItem | None) -> None:
    """A table is a list of its body rows: line ``start`` is the header, the next its delimiter."""
    block = builder.new_list(start, parent)
    builder.covered[start] = 1
    for row in range(start + 2, end):
        builder.covered[row] = 1
        block.items.append(ListItem(builder._add(builder._prose("row", row, row + 1))))


def _content_indent(line: str) -> int:
    match = _MARKER.match(line)
    if not match:
        return 0
    rest = line[match.end() :]
    return match.end() + min(len(rest) - len(rest.lstrip(" ")), 4) if rest.strip() else match.end() + 1


def _item_paragraph(
    builder: _Builder, item: ListItem, indent: int, start: int, end: int, lists: list[ListBlock | None]
) -> None:
    """A paragraph inside a list item; an unindented capitalised line ends the list there."""
    first = _MARKER.match(builder.lines[start]) is not None and item.prose is None
    cut = end
    for number in range(start + 1, end):
        line = builder.lines[number]
        stripped = line.lstrip(" \t>")
        lazy = len(line) - len(line.lstrip(" ")) < indent
        if lazy and stripped[:1].isupper():
            cut = number
            break
    prose = builder._add(builder._prose("item", start, cut, first_marker=first))
    if item.prose is None:
        item.prose = prose
    if cut < end:
        # Plain text: the rest is a paragraph of the section, and later items a new list.
        builder.paragraph(cut, end)
        for depth in range(len(lists)):
            lists[depth] = None


def _uncovered(builder: _Builder, skipped: set[int]) -> None:
    """Lines markdown-it skipped (nesting deeper than it parses): still linted, as list items."""
    lines = builder.lines
    run_start = None
    block: ListBlock | None = None
    for number in range(len(lines) + 1):
        ok = number < len(lines)
        line = lines[number] if ok else ""
        gap = (
            ok
            and not builder.covered[number]
            and number not in skipped
            and line.strip()
            and not _REFERENCE.match(line)
            and not line.lstrip(" >").startswith("<!--")
        )
        if gap and _LIST_START.match(line.lstrip(" >") or ""):
            if block is None:
                # In the section the line is in (they are read after the rest), with no lead-in.
                builder.section, builder.last_paragraph = builder.section_at(number), None
                block = builder.new_list(number, None)
            block.items.append(ListItem(builder._add(builder._prose("item", number, number + 1, first_marker=True))))
            run_start = None
            continue
        if gap:
            if run_start is None:
                run_start = number
            continue
        if run_start is not None:
            builder._add(builder._prose("paragraph", run_start, number))
            run_start = None
        if ok and builder.covered[number]:
            block = None


def _directives(lines: list[str], skipped: set[int]) -> Iterator[Directive]:
    for number, line in enumerate(lines):
        if number in skipped or "therapy-signals-" not in line:
            continue
        for start, kind, names in _directives_in(line):
            checks = tuple(c for c in re.split(r"[\s,]+", names.strip()) if c)
            yield Directive(number + 1, start + 1, kind.lower(), checks)


def _directives_in(line: str) -> Iterator[tuple[int, str, str]]:
    """(column, kind, names) of each ``<!-- therapy-signals-KIND names -->`` on a line.

    The names run to the first ``-->`` and may not hold a ``>``. As one regular expression
    (a lazy ``[^>]*?`` before ``\\s*-->``) every unclosed comment read to the end of the
    line, and a run of blanks was read once per blank.
    """
    closing, bracket = _Next(line, "-->"), _Next(line, ">")
    start = line.find("<!--")
    while start != -1:
        head = _DIRECTIVE_HEAD.match(line, start + 4)
        if head is None:
            start = line.find("<!--", start + 1)
            continue
        end = closing.at(head.end())
        if end == -1:
            return  # no comment after this one is closed either
        if 0 <= bracket.at(head.end()) < end:
            start = line.find("<!--", start + 1)
            continue
        names = line[head.end() : end].rstrip()
        yield start, head.group(1), names
        start = line.find("<!--", end + 3)
