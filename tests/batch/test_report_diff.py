"""Reports (tables, charts, a self-contained page) and diffs between rule versions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from therapy_signals import Engine, Level, RuleBook
from therapy_signals.batch import Batch, Factorial, diff_results, parse_vary, read_results, summarize, write_report
from therapy_signals.batch._diff import LEVEL_ONLY
from therapy_signals.batch._results import Result

from ..conftest import FEATURES, copy_rulebook
from .conftest import simple_scenarios


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory, engine: Engine, book: RuleBook) -> Path:
    out = tmp_path_factory.mktemp("report") / "results.parquet"
    Batch(engine=engine, chunk_size=50).run(simple_scenarios(book, 200), out).complete()
    return out


def test_summary_counts_every_scenario_once(results_file: Path, book: RuleBook) -> None:
    results = list(read_results(results_file))
    summary = summarize(results)
    assert summary.scenarios == 200 == sum(summary.levels.values())
    assert summary.findings == Counter(r for result in results for r in result.findings)
    for signal, counts in summary.signal_levels.items():
        assert sum(counts.values()) == sum(signal in r.signals for r in results)
    fired = {r for result in results for r in (*result.findings, *result.superseded)}
    assert summary.never_fired(book) == sorted(set(book.rules) - fired)


def test_report_is_self_contained_with_charts_and_tables(tmp_path: Path, results_file: Path, book: RuleBook) -> None:
    report = write_report(results_file, tmp_path / "report", book=book)
    page = report.index.read_text(encoding="utf-8")
    assert len(report.charts) >= 3
    for chart in report.charts:
        assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == len(report.charts) and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(?:src|href)="(?!data:)', page)  # nothing fetched from elsewhere
    for heading in ("Levels", "Categories", "Rules", "Rules that never fired", "Signal by level"):
        assert f"<h2>{heading}" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["scenarios"] == 200
    assert summary["never_fired"] == report.summary.never_fired(book)
    rules_csv = (tmp_path / "report" / "rules.csv").read_text().splitlines()
    assert rules_csv[0] == "rule,title,level,findings,superseded"
    assert len(rules_csv) - 1 == len(book.rules)  # every rule of the rule base, fired or not


def _result(sid: str, level: Level, findings: tuple[str, ...]) -> Result:
    return Result(1, sid, "individual", None, 1, ("x",), level, findings, (), ())


def test_diff_groups_level_changes_by_rule(tmp_path: Path) -> None:
    from therapy_signals.batch._io import Target, result_sink

    before = [
        _result("a", Level.discuss, ("r.one",)),
        _result("b", Level.normal, ("r.two",)),
        _result("c", Level.concern, ("r.three",)),
        _result("d", Level.discuss, ("r.one",)),
        _result("gone", Level.normal, ("r.two",)),
    ]
    after = [
        _result("a", Level.concern, ("r.new", "r.one")),  # up: r.new fired
        _result("b", Level.normal, ("r.two", "r.other")),  # same level, other findings
        _result("c", Level.discuss, ("r.three",)),  # down: r.three's own level changed
        _result("d", Level.normal, ()),  # down: r.one no longer fires
        _result("new", Level.urgent, ("r.x",)),
    ]
    paths = []
    for name, rows in (("before.jsonl", before), ("after.parquet", after)):
        sink = result_sink(Target.parse(tmp_path / name), False)
        sink.write(rows)
        sink.close()
        paths.append(tmp_path / name)
    diff = diff_results(*paths)
    assert [(c.scenario_id, c.direction) for c in diff.changes] == [("a", "up"), ("c", "down"), ("d", "down")]
    assert {rule: [c.scenario_id for c in group] for rule, group in diff.by_rule.items()} == {
        "r.new": ["a"],
        "r.one": ["d"],
        LEVEL_ONLY: ["c"],
    }
    assert (diff.compared, diff.same_level, diff.findings_changed) == (4, 1, 1)
    assert (diff.only_before, diff.only_after) == (["gone"], ["new"])


def test_diff_across_two_versions_of_a_rule_base(tmp_path: Path) -> None:
    """A rule's threshold lowered: the scenarios it now reaches change level, under its id."""
    old = copy_rulebook(FEATURES, tmp_path / "old")
    new = copy_rulebook(FEATURES, tmp_path / "new")
    rules = new / "rules.yaml"
    text = rules.read_text()
    widened = text.replace("{sessions: {at_least: 12}}", "{sessions: {at_least: 2}}")
    assert widened != text
    rules.write_text(widened)
    book = Engine(old).rulebook
    design = Factorial(
        book, signals=["sig_a", "sig_c"], max_observations=2, vary=parse_vary(book, ["sessions=unknown,1,5,20"])
    )
    outputs = []
    for version in (old, new):
        out = tmp_path / f"{version.name}.jsonl"
        Batch(version).run(design, out).complete()
        outputs.append(out)
    diff = diff_results(*outputs)
    assert diff.changes and all(c.direction == "up" for c in diff.changes)
    assert list(diff.by_rule) == ["dependency.c-many-sessions"]
    assert {c.after for c in diff.changes} == {Level.concern}
    assert diff.compared == design.count() and not diff.only_before and not diff.only_after


def test_report_warns_when_the_rules_are_not_the_results_rules(tmp_path: Path, book: RuleBook) -> None:
    rules = copy_rulebook(FEATURES, tmp_path / "rules")
    out = tmp_path / "results.jsonl"
    Batch(rules).run([{"observations": [{"signal": "sig_a"}]}], out).complete()
    report = write_report(out, tmp_path / "report", book=book)
    assert report.warnings and "were made with rule base" in report.warnings[0]
    assert "<strong>Note:</strong>" in report.index.read_text()
