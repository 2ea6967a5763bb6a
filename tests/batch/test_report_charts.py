"""The report's charts say how they are arranged and what they leave out (issue 14): the
signal heatmap is grouped by category, not alphabetical, and the rules chart names the
rules it has no room for."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from therapy_signals import Engine, RuleBook
from therapy_signals.batch import Batch, read_results, summarize, write_report
from therapy_signals.batch._report import draw_rules, draw_signal_levels, rules_left_out
from therapy_signals.model import Category

from .conftest import simple_scenarios

ORDER = [c.value for c in Category]


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory, engine: Engine, book: RuleBook) -> Path:
    out = tmp_path_factory.mktemp("charts") / "results.jsonl"
    Batch(engine=engine, chunk_size=50).run(simple_scenarios(book, 150), out).complete()
    return out


def _labels(axis: object) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels()]  # type: ignore[attr-defined]


def test_the_signal_heatmap_is_grouped_by_category(results_file: Path, book: RuleBook) -> None:
    summary = summarize(read_results(results_file))
    figure = draw_signal_levels(summary, book)
    axes = figure.axes[0]
    signals = _labels(axes.yaxis)
    assert sorted(signals) == sorted(summary.signal_levels)
    categories = [book.category_of(s).value for s in signals]
    assert categories == sorted(categories, key=ORDER.index)  # everyday first, safety last
    assert signals != sorted(signals)  # not the alphabet
    present = list(dict.fromkeys(categories))
    assert len(present) == len(ORDER)
    assert [_labels(a.yaxis) for a in axes.child_axes] == [present]  # the band names, on the right
    lines = [line.get_ydata()[0] for line in axes.get_lines()]  # one rule between each pair of bands
    assert len(lines) == len(present) - 1
    for y in lines:
        above, below = int(y - 0.5), int(y + 0.5)
        assert categories[above] != categories[below]


def test_without_a_rule_base_the_heatmap_is_alphabetical_and_unlabelled(results_file: Path) -> None:
    summary = summarize(read_results(results_file))
    figure = draw_signal_levels(summary, None)
    assert _labels(figure.axes[0].yaxis) == sorted(summary.signal_levels)
    assert not figure.axes[0].get_lines() and not figure.axes[0].child_axes


def test_the_signal_table_follows_the_chart_with_a_category_column(
    tmp_path: Path, results_file: Path, book: RuleBook
) -> None:
    report = write_report(results_file, tmp_path / "report", book=book)
    with (tmp_path / "report" / "signal_levels.csv").open(encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["signal", "category", "normal", "discuss", "concern", "serious", "urgent", "scenarios"]
    assert [r[0] for r in rows[1:]] == _labels(draw_signal_levels(report.summary, book).axes[0].yaxis)
    assert all(book.category_of(r[0]).value == r[1] for r in rows[1:])


def test_the_rules_chart_names_what_it_leaves_out(tmp_path: Path, results_file: Path, book: RuleBook) -> None:
    summary = summarize(read_results(results_file))
    left = rules_left_out(summary, book)
    assert len(left) == len(book.rules) - 40 > 0
    never = [r for r in left if not summary.findings[r] and not summary.superseded[r]]
    figure = draw_rules(summary, book)
    note = figure.get_supxlabel()
    assert note.startswith(f"Not shown: {len(left)} rules, {len(left) - len(never)} less frequent")
    assert f"and {len(never)} that never fired" in note and "rules.csv" in note
    assert figure.get_suptitle() == f"How often each rule fired: the 40 most frequent of {len(book.rules)} rules"
    shown = _labels(figure.axes[0].yaxis)
    assert not set(shown) & set(left) and len(shown) == 40

    page = write_report(results_file, tmp_path / "report", book=book).index.read_text(encoding="utf-8")
    listed = re.search(r"Not in the chart: (.*?)\.</p>", page)
    assert listed is not None
    assert re.findall(r"<code>([^<]+)</code>", listed.group(1)) == left

    everything = draw_rules(summary, book, top=len(book.rules))
    assert everything.get_supxlabel() == "" and everything.get_suptitle().endswith("every rule")
