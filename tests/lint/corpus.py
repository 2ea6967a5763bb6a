"""The labelled corpus, and how the linter is scored on it (used by the tests and the benchmark).

``corpus/items.yaml`` holds list items and sentences with the signal they are about and
their stance; ``corpus/articles/*.md`` are whole articles, each with ``*.expected.yaml``
listing the findings it should get. Each item is linted twice through the real linter,
under a heading that frames it as normal and under one that frames it as a warning sign;
each sentence is linted as a paragraph. What a finding is expected follows from the labels
and the rule base (a concern the rules treat as more than normal, a signal they call
normal), never from the linter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from therapy_signals.lint import Linter
from therapy_signals.lint._phrases import signal_infos

CORPUS = Path(__file__).parent / "corpus"
ITEMS = CORPUS / "items.yaml"
HOLDOUT = CORPUS / "holdout.yaml"
ARTICLES = CORPUS / "articles"
NORMAL_HEADING = "## Everyday challenges that are not red flags"
WARNING_HEADING = "## Red flags"
SCORED = (
    "framing.concern-listed-as-normal",
    "framing.normal-listed-as-warning",
    "statement.normalises-concern",
    "safety.no-next-steps",
    "encoding.mojibake",
    "terms.preferred",
)


@dataclass(frozen=True)
class Entry:
    kind: str
    text: str
    signal: str | None
    stance: str
    pattern: bool = False
    qualified: bool = False


def load_items(path: Path = ITEMS) -> list[Entry]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Entry(
            e["kind"],
            e["text"],
            e.get("signal"),
            e["stance"],
            bool(e.get("pattern", False)),
            bool(e.get("qualified", False)),
        )
        for e in data["items"]
    ]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, expected: bool, found: bool, label: str) -> None:
        if expected and found:
            self.tp += 1
        elif found:
            self.fp += 1
            self.false_alarms.append(label)
        elif expected:
            self.fn += 1
            self.misses.append(label)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def merge(self, other: Score) -> Score:
        return Score(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.misses + other.misses,
            self.false_alarms + other.false_alarms,
        )


def _checks(linter: Linter, text: str) -> set[str]:
    return {f.check for f in linter.lint_text(text)}


def score_items(linter: Linter, entries: Iterable[Entry]) -> dict[str, Score]:
    """Per check, whether each item or sentence got the finding its labels call for."""
    infos = signal_infos(linter.rulebook)
    scores: dict[str, Score] = defaultdict(Score)
    for entry in entries:
        info = infos.get(entry.signal) if entry.signal else None
        concern = info is not None and info.concern
        normal = info is not None and info.normal
        label = f"{entry.text!r} ({entry.signal}, {entry.stance})"
        if entry.kind == "item":
            found = _checks(linter, f"{NORMAL_HEADING}\n\n- {entry.text}\n")
            scores["framing.concern-listed-as-normal"].add(
                concern and entry.stance == "present", "framing.concern-listed-as-normal" in found, label
            )
            found = _checks(linter, f"{WARNING_HEADING}\n\n- {entry.text}\n")
            scores["framing.normal-listed-as-warning"].add(
                normal and entry.stance == "present" and not entry.pattern,
                "framing.normal-listed-as-warning" in found,
                label,
            )
        else:
            found = _checks(linter, entry.text + "\n")
            scores["statement.normalises-concern"].add(
                concern and entry.stance == "acceptable" and not entry.qualified,
                "statement.normalises-concern" in found,
                label,
            )
    return dict(scores)


def score_signals(linter: Linter, entries: Iterable[Entry]) -> tuple[int, int, list[str]]:
    """How often the best match is the labelled signal (or nothing, for unlabelled text)."""
    index = linter._index
    right = total = 0
    wrong: list[str] = []
    for entry in entries:
        matches = index.match_text(entry.text)
        best = matches[0].signal.id if matches else None
        total += 1
        if best == entry.signal or (entry.signal is not None and entry.signal in {m.signal.id for m in matches[:2]}):
            right += 1
        else:
            wrong.append(f"{entry.text!r}: expected {entry.signal}, got {best}")
    return right, total, wrong


def load_expected(article: Path) -> list[tuple[int, str, str | None]]:
    """(line, check, signal) of each finding an article should get; signal None where none applies."""
    data: Any = yaml.safe_load(article.with_suffix(".expected.yaml").read_text(encoding="utf-8")) or {}
    return sorted((int(f["line"]), str(f["check"]), f.get("signal")) for f in data.get("findings") or [])


def articles() -> list[Path]:
    return sorted(ARTICLES.glob("*.md"))


def score_articles(linter: Linter) -> dict[str, Score]:
    """Per check, the findings of each article against its expected list, by line and signal."""
    scores: dict[str, Score] = defaultdict(Score)
    for article in articles():
        expected = {e for e in load_expected(article) if e[1] in SCORED}
        found = {(f.line, f.check, f.signal) for f in linter.lint_file(article) if f.check in SCORED}
        for key in sorted(expected | found, key=str):
            line, check, signal = key
            scores[check].add(key in expected, key in found, f"{article.name}:{line} {signal or ''}".rstrip())
    return dict(scores)


def combined(*parts: dict[str, Score]) -> dict[str, Score]:
    total: dict[str, Score] = {}
    for part in parts:
        for check, score in part.items():
            total[check] = total[check].merge(score) if check in total else score
    return total
