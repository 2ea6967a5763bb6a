"""The Linter: one rule base and one configuration, applied to any number of articles."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ._checks import CHECKS
from ._config import LintConfig
from ._document import parse
from ._encoding import check_encoding
from ._files import dialect
from ._finding import LintFinding, LintLevel
from ._framing import check_framing
from ._phrases import PhraseIndex
from ._prebuilt import RuleBaseId, load_phrases
from ._read import check_size, decode, read_document, read_stream
from ._safety import check_next_steps, next_steps_pattern
from ._statements import check_statements
from ._suppress import suppress, unknown_checks
from ._terms import TermTable, check_terms

if TYPE_CHECKING:
    from ..rulebook import RuleBook

__all__ = ["Linter", "lint_file", "lint_text"]

_NEWLINES = re.compile(r"\r\n?")


class Linter:
    """Checks articles against one rule base with one configuration; reusable and thread-safe.

    ``rulebook`` is a loaded :class:`~therapy_signals.RuleBook`, a rule base folder, or None for
    the configuration's ``rules`` (default: the shipped rule base).

    Given a folder whose rule files are those the linter's prebuilt index was computed from
    (lint/_prebuilt.py), the Linter uses that index and loads the rule base only when
    :attr:`rulebook` is asked for; otherwise it loads and checks the rule base at once.
    """

    def __init__(self, config: LintConfig | None = None, rulebook: RuleBook | str | Path | None = None) -> None:
        self.config = config if config is not None else LintConfig()
        self._book: RuleBook | None = None
        self._book_lock = threading.Lock()
        self._source: Path | None = None
        self._rule_base: RuleBaseId | None = None
        if rulebook is None or isinstance(rulebook, str | os.PathLike):
            self._source = Path(rulebook) if rulebook is not None else self.config.rules
            prebuilt = load_phrases(self._source)
            if prebuilt is not None:
                self._index, self._rule_base = prebuilt
            else:
                from ..rulebook import RuleBook

                self._book = RuleBook.load(self._source)
        else:
            self._book = rulebook
        if self._book is not None:
            self._index = PhraseIndex(self._book)
        self._terms = TermTable(self.config.terms)
        self._next_steps = next_steps_pattern(self.config.next_steps)

    @property
    def rulebook(self) -> RuleBook:
        """The rule base the Linter checks against (loaded and checked on first use when the
        prebuilt index stood in for it)."""
        with self._book_lock:
            if self._book is None:
                from ..rulebook import RuleBook

                self._book = RuleBook.load(self._source)
            return self._book

    @property
    def rule_base(self) -> RuleBaseId:
        """The rule base's name, version and content hash, as the linter's output reports them."""
        if self._rule_base is None:
            book = self.rulebook
            self._rule_base = RuleBaseId(book.name, book.version, book.content_hash)
        return self._rule_base

    def lint_text(self, text: str, path: str = "<text>") -> list[LintFinding]:
        """Findings for one article given as text; ``path`` is what findings report.

        ``path`` also names the dialect: an ``.mdx`` article has its JSX and imports blanked,
        a Quarto or R Markdown one its ``:::`` fences, with every position kept.
        DocumentError when the text takes more than the configuration's ``max_bytes``.
        """
        check_size(text, path, self.config.max_bytes)
        kind = dialect(path)
        if kind == "markdown":
            return self._lint(text, path)
        from ._mdx import prepare, restore  # only for the dialects that need it

        masked = prepare(text, kind)
        return restore(self._lint(masked.text, path), masked.shifts)

    def _lint(self, text: str, path: str) -> list[LintFinding]:
        text = _NEWLINES.sub("\n", text.removeprefix("\ufeff"))
        if not text.strip():
            return []
        document = parse(text)
        findings: list[LintFinding] = []
        framing = list(check_framing(document, self._index, path))
        findings.extend(framing)
        flagged = {(f.line, f.column) for f in framing}
        skip = {id(p) for p in document.prose if p.where(_first_char(p.text)) in flagged}
        findings.extend(check_statements(document, self._index, path, skip))
        findings.extend(check_next_steps(document, text, self._index, path, self._next_steps))
        findings.extend(check_encoding(document, path))
        findings.extend(check_terms(document, self._terms, path))
        findings.extend(unknown_checks(document.directives, path))
        findings = self._configure(findings)
        findings = suppress(findings, document.directives)
        return sorted(findings, key=lambda f: (f.line, f.column, f.check))

    def lint_bytes(self, data: bytes, path: str = "<bytes>") -> list[LintFinding]:
        """Findings for UTF-8 bytes; DocumentError for binary, non-UTF-8 or too much data."""
        check_size(data, path, self.config.max_bytes)
        return self.lint_text(decode(data, path), path)

    def lint_file(self, path: str | Path) -> list[LintFinding]:
        """Findings for one file; DocumentError when it is missing, not a regular file, over
        ``max_bytes``, binary or not UTF-8."""
        return self.lint_text(read_document(path, self.config.max_bytes), str(path))

    def lint_stream(self, stream: BinaryIO, path: str = "<stdin>") -> list[LintFinding]:
        """Findings for a byte stream such as standard input, read up to ``max_bytes`` and no further."""
        return self.lint_text(read_stream(stream, path, self.config.max_bytes), path)

    def _configure(self, findings: Iterable[LintFinding]) -> list[LintFinding]:
        config = self.config
        kept = []
        for finding in findings:
            if finding.check in config.disable:
                continue
            level = config.levels.get(finding.check)
            if level is not None and level is not finding.level:
                finding = _with_level(finding, level)
            kept.append(finding)
        return kept

    def level_of(self, check: str) -> LintLevel:
        """The level a check reports at under this configuration."""
        return self.config.levels.get(check, CHECKS[check].level)


def _first_char(text: str) -> int:
    return len(text) - len(text.lstrip())


def _with_level(finding: LintFinding, level: LintLevel) -> LintFinding:
    return replace(finding, level=level)


_default: Linter | None = None
_lock = threading.Lock()


def _shared() -> Linter:
    global _default
    with _lock:
        if _default is None:
            _default = Linter()
        return _default


def lint_text(text: str, path: str = "<text>", *, config: LintConfig | None = None) -> list[LintFinding]:
    """Lint one article given as text, with the default configuration unless ``config`` is given."""
    linter = _shared() if config is None else Linter(config)
    return linter.lint_text(text, path)


def lint_file(path: str | Path, *, config: LintConfig | None = None) -> list[LintFinding]:
    """Lint one file, with the default configuration unless ``config`` is given."""
    linter = _shared() if config is None else Linter(config)
    return linter.lint_file(path)
