"""``lint --fix``: apply the fixes findings propose, in place, and nothing else.

Only encoding damage is repaired (:data:`FIXABLE`): its fix restores what the writer
typed. A preferred term is a suggestion to weigh ("patient" in a quotation stays), so its
fix is shown but never applied. Every byte outside a fixed span is written back as it was:
the byte order mark, CRLF or CR line ends, the rest of each line. The file is replaced
atomically (a temporary file in the same folder, then ``os.replace``), so a reader never
sees half an article, and left alone when it changed after it was read.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import DocumentError
from ._finding import LintFinding

__all__ = ["FIXABLE", "apply_fixes", "fixable", "write_fixed"]

FIXABLE = frozenset({"encoding.mojibake"})
"""Checks whose fixes ``--fix`` applies."""
_LINE_ENDS = re.compile(r"\r\n|\r|\n")  # what the linter reads as a line end


def fixable(findings: Iterable[LintFinding]) -> list[LintFinding]:
    """The findings ``--fix`` would change the text for."""
    return [f for f in findings if f.fix is not None and f.check in FIXABLE]


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, without its line end."""
    # The linter drops one leading U+FEFF before it counts columns.
    start = 1 if text.startswith("\ufeff") else 0
    lines = []
    for match in _LINE_ENDS.finditer(text):
        lines.append((start, match.start()))
        start = match.end()
    lines.append((start, len(text)))
    return lines


def _offset(lines: list[tuple[int, int]], line: int, column: int) -> int | None:
    """The offset of a 1-based (line, column), or None when it is not on that line."""
    if not 1 <= line <= len(lines) or column < 1:
        return None
    start, end = lines[line - 1]
    offset = start + column - 1
    return offset if offset <= end else None


def apply_fixes(text: str, findings: Iterable[LintFinding]) -> tuple[str, int]:
    """The text with each fixable finding's span replaced, and how many were applied.

    Positions are those the linter reports for ``text`` (line ends of any kind). Spans
    that overlap an earlier one are left for the next run to find again.
    """
    lines = _lines(text)
    edits: list[tuple[int, int, str]] = []
    for finding in fixable(findings):
        start = _offset(lines, finding.line, finding.column)
        end = _offset(lines, finding.end_line, finding.end_column)
        if start is not None and end is not None and start <= end and finding.fix is not None:
            edits.append((start, end, finding.fix.replacement))
    applied: list[tuple[int, int, str]] = []
    for edit in sorted(edits):
        if not applied or edit[0] >= applied[-1][1]:
            applied.append(edit)
    for start, end, replacement in reversed(applied):
        text = text[:start] + replacement + text[end:]
    return text, len(applied)


def write_fixed(path: str | Path, original: str, fixed: str) -> None:
    """Replace the file that reads as ``original`` with ``fixed``, atomically.

    DocumentError when the file changed since it was read (nothing is written) or cannot
    be written. A link is followed: the file it points to is replaced, the link stays.
    """
    target = Path(os.path.realpath(path))
    try:
        data = target.read_bytes()
        info = target.stat()
    except OSError as error:
        raise DocumentError(f"{path}: cannot read it again to fix it ({error.strerror})") from None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        current = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        current = None
    if current != original:
        raise DocumentError(f"{path}: changed while it was linted; not fixed (run the linter again)")
    if not os.access(target, os.W_OK):
        # Replacing the file would succeed in a writable folder, and undo the protection.
        raise DocumentError(f"{path}: read-only; not fixed (make it writable, or fix it by hand)")
    _replace(target, (codecs.BOM_UTF8 if bom else b"") + fixed.encode("utf-8"), info, str(path))


def _replace(target: Path, data: bytes, info: os.stat_result, shown: str) -> None:
    # A hidden name: a linter walking the folder meanwhile does not pick the file up.
    try:
        descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise DocumentError(f"{shown}: cannot write the fixes ({error.strerror})") from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.chmod(stat.S_IMODE(info.st_mode))
        with contextlib.suppress(OSError):  # only root may give a file to someone else
            os.chown(temporary, info.st_uid, info.st_gid)
        temporary.replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise DocumentError(f"{shown}: cannot write the fixes ({error.strerror})") from None
