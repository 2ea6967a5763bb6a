"""Output formats: text (Vale and proselint style), JSON, SARIF 2.1.0, GitHub workflow commands."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from ._checks import CHECKS
from ._finding import LintFinding, LintLevel

__all__ = ["OutputFormat", "render"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {LintLevel.error: "error", LintLevel.warning: "warning", LintLevel.suggestion: "note"}
_GITHUB_COMMAND = {LintLevel.error: "error", LintLevel.warning: "warning", LintLevel.suggestion: "notice"}


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def render(
    findings: Sequence[LintFinding],
    fmt: OutputFormat,
    *,
    files: Sequence[str] = (),
    version: str = "0",
    rulebook: dict[str, str] | None = None,
) -> str:
    """Findings in one format; ``files`` lists every file linted, clean ones included."""
    if fmt is OutputFormat.json:
        return _json(findings, files, version, rulebook)
    if fmt is OutputFormat.sarif:
        return json.dumps(sarif(findings, files, version, rulebook), indent=2) + "\n"
    if fmt is OutputFormat.github:
        return "".join(_github(f) + "\n" for f in findings)
    return "".join(str(f) + "\n" for f in findings)


def _json(findings: Sequence[LintFinding], files: Sequence[str], version: str, rulebook: dict[str, str] | None) -> str:
    counts = {level.value: sum(1 for f in findings if f.level is level) for level in LintLevel}
    document = {
        "schema_version": "1",
        "tool": {"name": "therapy-signals", "version": version},
        "rulebook": rulebook,
        "files": list(files),
        "findings": [f.to_dict() for f in findings],
        "summary": {"files": len(files), "findings": len(findings), **counts},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/:@-._~!$&'()*+,;=")


def sarif(
    findings: Sequence[LintFinding], files: Sequence[str], version: str, rulebook: dict[str, str] | None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, every check as a rule, every finding as a result."""
    ids = list(CHECKS)
    rules = [
        {
            "id": check.id,
            "name": check.id.replace(".", "/"),
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.description},
            "helpUri": check.help_uri,
            "defaultConfiguration": {"level": _SARIF_LEVEL[check.level]},
        }
        for check in CHECKS.values()
    ]
    results = []
    for finding in findings:
        region = {
            "startLine": finding.line,
            "startColumn": finding.column,
            "endLine": max(finding.end_line, finding.line),
            "endColumn": max(finding.end_column, finding.column + 1)
            if finding.end_line <= finding.line
            else max(finding.end_column, 1),
        }
        location = {"physicalLocation": {"artifactLocation": {"uri": _uri(finding.path)}, "region": region}}
        result: dict[str, Any] = {
            "ruleId": finding.check,
            "ruleIndex": ids.index(finding.check),
            "level": _SARIF_LEVEL[finding.level],
            "message": {"text": finding.message},
            "locations": [location],
        }
        properties = {
            key: value
            for key, value in (
                ("signal", finding.signal),
                ("rule", finding.rule),
                ("ruleLevel", finding.rule_level.value if finding.rule_level else None),
            )
            if value is not None
        }
        if properties:
            result["properties"] = properties
        if finding.fix is not None:
            result["fixes"] = [
                {
                    "description": {"text": finding.fix.description},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": _uri(finding.path)},
                            "replacements": [
                                {"deletedRegion": dict(region), "insertedContent": {"text": finding.fix.replacement}}
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    driver: dict[str, Any] = {
        "name": "therapy-signals",
        "semanticVersion": version,
        "informationUri": "https://example.invalid/therapy-signals/docs/writers/",
        "rules": rules,
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "artifacts": [{"location": {"uri": _uri(path)}} for path in files],
        "results": results,
    }
    if rulebook:
        run["properties"] = {"rulebook": rulebook}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _github(finding: LintFinding) -> str:
    properties = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in (
            ("file", finding.path),
            ("line", finding.line),
            ("col", finding.column),
            ("endLine", finding.end_line),
            ("endColumn", finding.end_column),
            ("title", finding.check),
        )
    )
    return f"::{_GITHUB_COMMAND[finding.level]} {properties}::{_escape_data(finding.message)}"
