"""Guidance as HL7 CDS Hooks cards, for apps and clinical systems that already show cards.

One card per finding, in the guidance's order; for serious and urgent guidance a card
with the resources (crisis lines, licensing boards) comes first, because those levels
lead with where to turn. The shape follows the CDS Hooks specification's Card:
``summary`` (under 140 characters), ``indicator`` (info, warning or critical), ``detail``
(Markdown), ``source`` (label, url, topic) and ``links`` (label, url, type "absolute").
Nothing a user typed (an observation's ``note``) goes into a card, so the Markdown is the
rule base's own wording, used as written, the way the Markdown layout uses it.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Literal

from ..model import Finding, Level

if TYPE_CHECKING:
    from ..model import Guidance
    from ._renderer import Strings

__all__ = ["INDICATORS", "TOPIC_SYSTEM", "Indicator", "to_cards"]

Indicator = Literal["info", "warning", "critical"]

INDICATORS: dict[Level, Indicator] = {
    Level.normal: "info",
    Level.discuss: "info",
    Level.concern: "warning",
    Level.serious: "critical",
    Level.urgent: "critical",
}
"""How a level maps onto a card's indicator; discuss is information, not a warning."""

TOPIC_SYSTEM = "urn:uuid:7fb0bf8d-15e7-58c1-878c-92411aa8f5bd"
"""The Coding system of ``source.topic``: its code is the rule id (or ``resources``).

The project has no web address of its own to name a code system by, and an ``.invalid`` URL
names nothing; FHIR's other form for a system identifier is a ``urn:uuid:`` (RFC 9562), and
this one is fixed: ``uuid5(NAMESPACE_URL, "therapy-signals:rule-id")``. It never changes, so
an app may match on it (docs/decisions/0026-command-line-output.md)."""

_SUMMARY_LIMIT = 140  # the specification: "<140 characters"
# A fixed namespace makes card uuids reproducible: the same guidance gives the same cards,
# so a feedback call can name a card without the app storing anything.
_NAMESPACE = uuid.UUID("5b0c8a51-6a38-4b0e-9a55-2f3e3f8e4c11")


def to_cards(guidance: Guidance) -> list[dict[str, Any]]:
    """The guidance as a list of CDS Hooks cards (plain dicts, ready for JSON)."""
    strings = guidance._layout().strings
    seed = _seed(guidance)
    cards: list[dict[str, Any]] = []
    if guidance.level >= Level.serious and guidance.resources:
        cards.append(_resources_card(guidance, strings, seed))
    cards.extend(_finding_card(guidance, finding, strings, seed) for finding in guidance.findings)
    return cards


def _seed(guidance: Guidance) -> str:
    # The rule base and the findings, not the observations: a uuid must not encode what a user said.
    text = "\0".join([guidance.rulebook.hash, guidance.locale, *(f.rule_id for f in guidance.findings)])
    return hashlib.sha256(text.encode()).hexdigest()


def _summary(text: str) -> str:
    return text if len(text) < _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 2].rstrip() + "…"


def _source(guidance: Guidance, code: str, display: str) -> dict[str, Any]:
    info = guidance.rulebook
    return {
        "label": f"{info.name} {info.version}",
        "topic": {"system": TOPIC_SYSTEM, "code": code, "display": _summary(display)},
    }


def _resources_card(guidance: Guidance, strings: Strings, seed: str) -> dict[str, Any]:
    level = guidance.level
    lines = []
    for r in guidance.resources:
        url = f" (<{r.url}>)" if r.url else ""
        lines.append(f"- **{r.name}**: {r.contact}{url}")
    detail = "\n".join([strings.levels[level].summary, "", *lines, "", f"*{guidance.disclaimer}*"])
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{seed}/resources")),
        "summary": _summary(f"{strings.levels[level].name}: {strings.headings['resources']}"),
        "indicator": INDICATORS[level],
        "detail": detail,
        "source": _source(guidance, "resources", strings.headings["resources"]),
    }
    links = [{"label": r.name, "url": r.url, "type": "absolute"} for r in guidance.resources if r.url]
    if links:
        card["links"] = links
    return card


def _finding_card(guidance: Guidance, finding: Finding, strings: Strings, seed: str) -> dict[str, Any]:
    heads = strings.headings
    parts: list[str] = []
    if finding.explanation:
        parts.append(finding.explanation)
    parts.append(f"*{heads['normal_when']}:* {finding.normal_when}")
    if finding.say:
        parts.append(f"*{heads['say']}:*\n\n" + "\n".join(f"> {line}" for line in finding.say))
    if finding.steps:
        parts.append(f"*{heads['steps']}:*\n\n" + "\n".join(f"- {s}" for s in finding.steps))
    sources = "; ".join(r.title for r in finding.references)
    parts.append(f"*{heads['sources']}:* {sources}")
    parts.append(f"*{guidance.disclaimer}*")
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{seed}/{finding.rule_id}")),
        "summary": _summary(f"{strings.levels[finding.level].name}: {finding.title}"),
        "indicator": INDICATORS[finding.level],
        "detail": "\n\n".join(parts),
        "source": _source(guidance, finding.rule_id, finding.title),
    }
    # The first cited source with a web page is the card's source; every such source is a link.
    cited = [r for r in finding.references if r.url]
    if cited:
        card["source"]["url"] = cited[0].url
        card["links"] = [{"label": _summary(r.title), "url": r.url, "type": "absolute"} for r in cited]
    return card
