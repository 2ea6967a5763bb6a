"""The catalog of checks: stable ids, default levels, and what each one means.

Ids never change once published: CI configurations, suppression comments and SARIF
baselines refer to them. A new check gets a new id.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ._finding import LintLevel

__all__ = ["CHECKS", "Check", "matching_checks", "suggest_check"]

DOCS = "https://example.invalid/therapy-signals/docs/writers/"


@dataclass(frozen=True)
class Check:
    id: str
    level: LintLevel
    title: str
    description: str

    @property
    def help_uri(self) -> str:
        return DOCS + "#" + self.id.replace(".", "")


CHECKS: dict[str, Check] = {
    check.id: check
    for check in (
        Check(
            "framing.concern-listed-as-normal",
            LintLevel.error,
            "A concern is listed under a heading that calls its items normal",
            "A section framed as normal or healthy ('not red flags', 'healthy signs') lists an item "
            "that matches a dependency, boundaries or safety signal the rules treat as more than normal.",
        ),
        Check(
            "framing.normal-listed-as-warning",
            LintLevel.warning,
            "Something the rules call normal is listed as a warning sign",
            "A section framed as warning signs ('red flags', 'when to worry') lists an everyday "
            "challenge or a healthy sign that the rules call normal on its own.",
        ),
        Check(
            "statement.normalises-concern",
            LintLevel.error,
            "A sentence calls a concern acceptable",
            "A sentence says that something the rules treat as a concern is fine, normal or nothing "
            "to worry about. Negated and questioning sentences are not findings.",
        ),
        Check(
            "safety.no-next-steps",
            LintLevel.warning,
            "Serious or urgent concerns without a next step",
            "The article discusses a safety concern or a serious boundary violation but names no "
            "resource or next step: another professional, a licensing board, a crisis line.",
        ),
        Check(
            "encoding.mojibake",
            LintLevel.error,
            "Encoding damage",
            "Characters that were decoded with the wrong encoding (mojibake), such as a curly quote "
            "or dash that became 'โ' or 'â€™'. A fix is proposed where the original can be told.",
        ),
        Check(
            "terms.preferred",
            LintLevel.suggestion,
            "Use the preferred term",
            "A term the configuration lists under [terms] has a preferred alternative "
            "(by default 'client' rather than 'patient').",
        ),
        Check(
            "lint.unknown-check",
            LintLevel.warning,
            "A suppression comment names no known check",
            "A therapy-signals-disable or -enable comment names a check id that does not exist, so it "
            "suppresses nothing.",
        ),
    )
}


def matching_checks(selector: str) -> set[str]:
    """Check ids a suppression or configuration selector names: an id, a prefix, or 'all'."""
    selector = selector.strip().lower()
    if selector in ("all", "*"):
        return set(CHECKS)
    if selector in CHECKS:
        return {selector}
    prefix = selector.rstrip(".*") + "."
    return {check for check in CHECKS if check.startswith(prefix)}


def suggest_check(selector: str) -> str:
    """A "did you mean" for a selector that names nothing: a check id or, for "termz", a group."""
    groups = [] if "." in selector else sorted({check.split(".", 1)[0] for check in CHECKS})
    close = difflib.get_close_matches(selector, [*CHECKS, *groups], n=2, cutoff=0.5)
    return f"; did you mean {' or '.join(close)}?" if close else f"; known checks: {', '.join(CHECKS)}"
