"""Suppression comments, as markdownlint users write them.

``<!-- therapy-signals-disable CHECK ... -->`` turns checks off from its line on, and
``<!-- therapy-signals-enable CHECK ... -->`` turns them back on; without a check id they
apply to every check. ``<!-- therapy-signals-disable-next-line CHECK -->`` covers the line
after the comment, ``<!-- therapy-signals-disable-line CHECK -->`` its own line. A check is
named by its id (``framing.concern-listed-as-normal``), its group (``framing``) or ``all``.
Comments inside code blocks are examples, not directives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ._checks import CHECKS, matching_checks, suggest_check
from ._document import Directive
from ._finding import LintFinding, LintLevel

__all__ = ["suppress", "unknown_checks"]


def _named(directive: Directive) -> set[str]:
    if not directive.checks:
        return set(CHECKS)
    named: set[str] = set()
    for selector in directive.checks:
        named |= matching_checks(selector)
    return named


def suppress(findings: Iterable[LintFinding], directives: Sequence[Directive]) -> list[LintFinding]:
    """The findings no directive suppresses, in the order they came."""
    findings = list(findings)
    if not directives:
        return findings
    # Each directive's checks are resolved once. Findings are then visited in position
    # order while the disable/enable comments before each are applied once, in one sweep:
    # replaying every comment for every finding was quadratic in a file full of both.
    ranges = sorted(
        (((d.line, d.column), d.kind == "disable", _named(d)) for d in directives if d.kind in ("disable", "enable")),
        key=lambda entry: entry[0],
    )
    by_line: dict[int, set[str]] = {}
    for directive in directives:
        if directive.kind == "disable-next-line":
            by_line.setdefault(directive.line + 1, set()).update(_named(directive))
        elif directive.kind == "disable-line":
            by_line.setdefault(directive.line, set()).update(_named(directive))
    disabled: set[str] = set()
    applied = 0
    keep = [False] * len(findings)
    for index in sorted(range(len(findings)), key=lambda i: (findings[i].line, findings[i].column)):
        finding = findings[index]
        while applied < len(ranges) and ranges[applied][0] <= (finding.line, finding.column):
            _, disable, named = ranges[applied]
            disabled = disabled | named if disable else disabled - named
            applied += 1
        keep[index] = finding.check not in disabled and finding.check not in by_line.get(finding.line, ())
    return [finding for finding, kept in zip(findings, keep, strict=True) if kept]


def unknown_checks(directives: Sequence[Directive], path: str) -> Iterator[LintFinding]:
    """lint.unknown-check: a directive that names a check that does not exist."""
    for directive in directives:
        for selector in directive.checks:
            if matching_checks(selector):
                continue
            yield LintFinding(
                path,
                directive.line,
                directive.column,
                directive.line,
                directive.column + 1,
                LintLevel.warning,
                "lint.unknown-check",
                f"therapy-signals-{directive.kind} names {selector!r}, which is no check{suggest_check(selector)}",
            )
