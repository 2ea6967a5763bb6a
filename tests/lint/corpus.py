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
HELD_OUT_ARTICLES = CORPUS / "holdout"
# Articles 01-10 each check one feature with exact findings; 11-34 are web-style articles.
FEATURE_ARTICLES = 10
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
    """(line, check, signal) of each finding an article should get; signal None where none applies.

    Where a label allows several signals, each is listed (any of them is right).
    """
    found = []
    for line, check, signals in load_labels(article):
        found.extend((line, check, signal) for signal in (signals or (None,)))
    return sorted(found, key=str)


def load_labels(article: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, check, signals any of which is right) of each finding an article should get."""
    data: Any = yaml.safe_load(article.with_suffix(".expected.yaml").read_text(encoding="utf-8")) or {}
    labels = []
    for finding in data.get("findings") or []:
        signal = finding.get("signal")
        signals = tuple(signal) if isinstance(signal, list) else (signal,) if signal else ()
        labels.append((int(finding["line"]), str(finding["check"]), signals))
    return sorted(labels)


def article_kind(article: Path) -> str:
    data: Any = yaml.safe_load(article.with_suffix(".expected.yaml").read_text(encoding="utf-8")) or {}
    return str(data.get("kind", "feature"))


def articles() -> list[Path]:
    """The development articles: the feature checks 01-10 and the web-style articles after them."""
    return sorted(ARTICLES.glob("*.md"))


def feature_articles() -> list[Path]:
    return articles()[:FEATURE_ARTICLES]


def web_articles(held_out: bool = False) -> list[Path]:
    """The web-style articles of the development part (11 on), or the held-out ones (h01 on)."""
    return sorted(HELD_OUT_ARTICLES.glob("*.md")) if held_out else articles()[FEATURE_ARTICLES:]


ERRORS = ("statement.normalises-concern", "framing.concern-listed-as-normal")
WARNINGS = ("framing.normal-listed-as-warning", "safety.no-next-steps")


@dataclass
class Targets:
    """The figures of issue 12, over whole articles.

    - error precision: error findings (a sentence or a list item that calls a concern
      normal) on lines labelled as normalising, over all error findings; the two error
      checks say the same thing of a line, so either counts on such a line;
    - warning precision: warnings on a line labelled with that warning, over all warnings;
      ``safety.no-next-steps`` is one finding per article and counts when the article is
      labelled with it, wherever it lands;
    - recall: lines labelled as normalising that got an error finding, over all such lines;
    - signal agreement: right error findings that name one of the labelled signals.
    """

    errors_right: int = 0
    errors: int = 0
    warnings_right: int = 0
    warnings: int = 0
    normalising_caught: int = 0
    normalising: int = 0
    signal_right: int = 0
    false_alarms: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def error_precision(self) -> float:
        return self.errors_right / self.errors if self.errors else 1.0

    @property
    def warning_precision(self) -> float:
        return self.warnings_right / self.warnings if self.warnings else 1.0

    @property
    def recall(self) -> float:
        return self.normalising_caught / self.normalising if self.normalising else 1.0

    def add_article(self, article: Path, findings: Iterable[tuple[int, str, str | None]]) -> None:
        labels = load_labels(article)
        normalising = {line: set(signals) for line, check, signals in labels if check in ERRORS}
        warned = {(line, check) for line, check, _ in labels if check == WARNINGS[0]}
        needs_steps = any(check == WARNINGS[1] for _, check, _ in labels)
        flagged: set[int] = set()
        for line, check, signal in sorted(set(findings), key=str):
            where = f"{article.name}:{line} {check} {signal or ''}".rstrip()
            if check in ERRORS:
                self.errors += 1
                if line in normalising:
                    self.errors_right += 1
                    allowed = normalising[line]
                    self.signal_right += int(not allowed or signal in allowed)
                    flagged.add(line)
                else:
                    self.false_alarms.append(where)
            elif check in WARNINGS:
                self.warnings += 1
                right = (line, check) in warned if check == WARNINGS[0] else needs_steps
                self.warnings_right += int(right)
                if not right:
                    self.false_alarms.append(where)
        self.normalising += len(normalising)
        self.normalising_caught += len(flagged)
        self.misses.extend(f"{article.name}:{line}" for line in sorted(set(normalising) - flagged))
        found_warnings = {(line, check) for line, check, _ in findings if check in WARNINGS}
        self.misses.extend(f"{article.name}:{line} {check}" for line, check in sorted(warned - found_warnings))
        if needs_steps and not any(check == WARNINGS[1] for _, check in found_warnings):
            self.misses.append(f"{article.name} {WARNINGS[1]}")


def score_targets(linter: Linter, paths: Iterable[Path]) -> Targets:
    """The issue-12 figures of a linter over some articles."""
    targets = Targets()
    for article in paths:
        targets.add_article(article, [(f.line, f.check, f.signal) for f in linter.lint_file(article)])
    return targets


def score_articles(linter: Linter, paths: Iterable[Path] | None = None) -> dict[str, Score]:
    """Per check, the findings of each article against its expected list, by line and signal."""
    scores: dict[str, Score] = defaultdict(Score)
    for article in articles() if paths is None else paths:
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
