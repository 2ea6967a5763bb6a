"""Summaries of a results file: tables, matplotlib charts, and one self-contained HTML page.

The summary is computed in one streaming pass (counters only), so a report on millions of
results needs little memory. Charts are drawn on ``matplotlib.figure.Figure`` directly,
never through pyplot, so nothing global is touched and no display is needed.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import Category, Level
from ..rulebook import RuleBook
from ._csv import neutral
from ._faults import AGAIN, writing
from ._io import read_results
from ._manifest import manifest_path, read_manifest
from ._results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Report", "Summary", "summarize", "write_report"]

LEVEL_COLOURS = {
    Level.normal: "#2e7d32",
    Level.discuss: "#9e9d24",
    Level.concern: "#f9a825",
    Level.serious: "#ef6c00",
    Level.urgent: "#c62828",
}
LEVELS = [level.value for level in Level]


@dataclass
class Summary:
    """Counts over a results file; every count is of scenarios."""

    scenarios: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    superseded: Counter[str] = field(default_factory=Counter)
    signal_levels: dict[str, Counter[str]] = field(default_factory=dict)
    size_levels: dict[int, Counter[str]] = field(default_factory=dict)
    setting_levels: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        level = result.level.value
        self.scenarios += 1
        self.levels[level] += 1
        self.categories.update(result.categories)
        self.findings.update(result.findings)
        self.superseded.update(result.superseded)
        for signal in result.signals:
            self.signal_levels.setdefault(signal, Counter())[level] += 1
        self.size_levels.setdefault(result.observations, Counter())[level] += 1
        self.setting_levels.setdefault(result.setting, Counter())[level] += 1

    def never_fired(self, book: RuleBook) -> list[str]:
        """Rules of the rule base that no scenario matched, not even to be superseded."""
        return [r for r in sorted(book.rules) if not self.findings[r] and not self.superseded[r]]

    def to_dict(self, book: RuleBook | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "scenarios": self.scenarios,
            "levels": {level: self.levels[level] for level in LEVELS},
            "categories": {c.value: self.categories[c.value] for c in Category},
            "rules": {
                rule: {"findings": self.findings[rule], "superseded": self.superseded[rule]}
                for rule in sorted(set(self.findings) | set(self.superseded))
            },
            "signal_levels": {
                s: {level: counts[level] for level in LEVELS} for s, counts in sorted(self.signal_levels.items())
            },
            "observations_levels": {
                str(n): {level: counts[level] for level in LEVELS} for n, counts in sorted(self.size_levels.items())
            },
            "setting_levels": {
                s: {level: counts[level] for level in LEVELS} for s, counts in sorted(self.setting_levels.items())
            },
        }
        if book is not None:
            data["never_fired"] = self.never_fired(book)
        return data


def summarize(results: Iterable[Result]) -> Summary:
    summary = Summary()
    for result in results:
        summary.add(result)
    return summary


# -- charts -----------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(figure: Figure, path: Path) -> Path:
    # No Software/date metadata: the same results draw the same file.
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def _chart_levels(summary: Summary, path: Path) -> Path:
    figure = _figure(6.4, 3.6)
    axes = figure.subplots()
    counts = [summary.levels[level] for level in LEVELS]
    bars = axes.bar(LEVELS, counts, color=[LEVEL_COLOURS[Level(level)] for level in LEVELS])
    axes.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=2, fontsize=8)
    axes.set_title(f"Overall level of {summary.scenarios:,} scenarios")
    axes.set_ylabel("scenarios")
    axes.margins(y=0.15)
    return _save(figure, path)


def _chart_categories(summary: Summary, path: Path) -> Path:
    figure = _figure(6.4, 3.6)
    axes = figure.subplots()
    names = [c.value for c in Category]
    counts = [summary.categories[name] for name in names]
    bars = axes.barh(names[::-1], counts[::-1], color="#5c6bc0")
    axes.bar_label(bars, labels=[f"{c:,}" for c in counts[::-1]], padding=2, fontsize=8)
    axes.set_title("Scenarios with at least one finding in each category")
    axes.set_xlabel("scenarios")
    axes.margins(x=0.15)
    return _save(figure, path)


_TOP_RULES = 40


def _ranked_rules(summary: Summary, book: RuleBook | None) -> list[str]:
    """Every rule seen or in the rule base, the most frequent (finding or superseded) first."""
    every = set(summary.findings) | set(summary.superseded) | set(book.rules if book else ())
    return sorted(every, key=lambda r: (-(summary.findings[r] + summary.superseded[r]), r))


def rules_left_out(summary: Summary, book: RuleBook | None, top: int = _TOP_RULES) -> list[str]:
    """The rules the rules chart has no room for, most frequent first (rules.csv has them all)."""
    return _ranked_rules(summary, book)[top:]


def _left_out_note(summary: Summary, left: Sequence[str]) -> str:
    never = sum(1 for r in left if not summary.findings[r] and not summary.superseded[r])
    fired = len(left) - never
    most = max((summary.findings[r] + summary.superseded[r] for r in left), default=0)
    parts = [f"{fired} less frequent (at most {most:,} scenarios each)"] if fired else []
    if never:
        parts.append(f"{never} that never fired")
    return f"Not shown: {len(left)} rules, " + " and ".join(parts) + "; rules.csv and the page list them all"


def draw_rules(summary: Summary, book: RuleBook | None, top: int = _TOP_RULES) -> Figure:
    from matplotlib.patches import Patch

    ranked = _ranked_rules(summary, book)
    rules = ranked[:top][::-1]  # barh draws bottom up: the most frequent on top
    left = ranked[top:]
    figure = _figure(7.5, max(3.0, 0.2 * len(rules) + 1.4 + (0.3 if left else 0)))
    axes = figure.subplots()
    found = [summary.findings[r] for r in rules]
    gave = [summary.superseded[r] for r in rules]
    colours = [LEVEL_COLOURS[book.rules[r].level] if book is not None and r in book.rules else "#757575" for r in rules]
    axes.barh(rules, found, color=colours)
    axes.barh(rules, gave, left=found, color="#bdbdbd")
    axes.set_xlim(0, max([f + g for f, g in zip(found, gave, strict=True)] + [1]) * 1.05)
    axes.tick_params(axis="y", labelsize=7)
    shown = f"the {len(rules)} most frequent of {len(ranked)} rules" if left else "every rule"
    figure.suptitle(f"How often each rule fired: {shown}")  # over the figure: long rule ids push the axes right
    axes.set_xlabel("scenarios")
    if left:  # a reader must not take the chart for the whole rule base
        figure.supxlabel(_left_out_note(summary, left), fontsize=7, color="#424242")
    handles = [Patch(color=LEVEL_COLOURS[level], label=f"finding, {level.value}") for level in Level]
    handles.append(Patch(color="#bdbdbd", label="matched, superseded"))
    axes.legend(handles=handles, loc="lower right", fontsize=7)
    return figure


def _chart_rules(summary: Summary, book: RuleBook | None, path: Path) -> Path:
    return _save(draw_rules(summary, book), path)


def _shares(rows: Mapping[Any, Counter[str]], keys: Sequence[Any]) -> list[list[float]]:
    shares = []
    for key in keys:
        counts = rows[key]
        total = sum(counts.values()) or 1
        shares.append([counts[level] / total for level in LEVELS])
    return shares


def signal_order(summary: Summary, book: RuleBook | None) -> list[tuple[str, str]]:
    """The signals seen, as (category, signal), grouped by category in the vocabulary's order
    (everyday first, safety last) and in the rule base's order within one; signals the rule
    base does not know come last, under "other"."""
    known = list(book.signals) if book is not None else []
    rank = {signal: index for index, signal in enumerate(known)}
    categories = [c.value for c in Category]

    def key(signal: str) -> tuple[int, int, str]:
        if book is None or signal not in book.signals:
            return (len(categories), 0, signal)
        return (categories.index(book.category_of(signal).value), rank[signal], signal)

    ordered = sorted(summary.signal_levels, key=key)
    return [(book.category_of(s).value if book is not None and s in book.signals else "other", s) for s in ordered]


def draw_signal_levels(summary: Summary, book: RuleBook | None) -> Figure:
    order = signal_order(summary, book)
    signals = [s for _, s in order]
    figure = _figure(7.5, max(3.0, 0.24 * len(signals) + 1.5))
    axes = figure.subplots()
    shares = _shares(summary.signal_levels, signals) if signals else [[0.0] * len(LEVELS)]
    image = axes.imshow(shares, aspect="auto", cmap="Oranges", vmin=0, vmax=1)
    axes.set_xticks(range(len(LEVELS)), LEVELS)
    axes.set_yticks(range(len(signals)), signals, fontsize=7)
    for row, values in enumerate(shares if signals else []):
        for column, value in enumerate(values):
            if value:
                colour = "white" if value > 0.6 else "black"
                axes.text(column, row, f"{value:.0%}", ha="center", va="center", fontsize=6, color=colour)
    groups = _groups([c for c, _ in order])
    if book is not None and groups:
        # One band per category: a line between them, the category's name on the right.
        for _, start, _ in groups[1:]:
            axes.axhline(start - 0.5, color="#212121", linewidth=0.8)
        side = axes.secondary_yaxis("right")
        side.set_yticks([(start + end - 1) / 2 for _, start, end in groups], [name for name, _, _ in groups])
        side.tick_params(length=0, labelsize=8)
    axes.set_title("Overall level of the scenarios that contain each signal, by category (row shares)")
    figure.colorbar(image, ax=axes, label="share of the signal's scenarios", shrink=0.6, pad=0.12)
    return figure


def _groups(categories: Sequence[str]) -> list[tuple[str, int, int]]:
    """Runs of one category: (name, first row, row after the last)."""
    runs: list[tuple[str, int, int]] = []
    for row, name in enumerate(categories):
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1], row + 1)
        else:
            runs.append((name, row, row + 1))
    return runs


def _chart_signal_levels(summary: Summary, book: RuleBook | None, path: Path) -> Path:
    return _save(draw_signal_levels(summary, book), path)


def _chart_size_levels(summary: Summary, path: Path) -> Path:
    sizes = sorted(summary.size_levels)
    figure = _figure(6.4, 3.6)
    axes = figure.subplots()
    shares = _shares(summary.size_levels, sizes)
    bottom = [0.0] * len(sizes)
    labels = [str(s) for s in sizes]
    for index, level in enumerate(LEVELS):
        values = [row[index] for row in shares]
        axes.bar(labels, values, bottom=bottom, color=LEVEL_COLOURS[Level(level)], label=level)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title("Level mix by number of observations")
    axes.set_xlabel("observations in the scenario")
    axes.set_ylabel("share of scenarios")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(figure, path)


# -- the page ---------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], numeric_from: int = 1) -> str:
    out = ["<table><thead><tr>"]
    out.extend(f"<th>{html.escape(h)}</th>" for h in head)
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = f"{cell:,}" if isinstance(cell, int) else html.escape(str(cell))
            cls = ' class="n"' if index >= numeric_from and isinstance(cell, int | float) else ""
            cells.append(f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}
body{color:#212121}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f5f5f5}img{max-width:100%;height:auto;border:1px solid #eee}
code{background:#f5f5f5;padding:0 .2rem}.meta td:first-child{font-weight:600}
"""


@dataclass
class Report:
    """What :func:`write_report` wrote: the page, the charts and the tables."""

    index: Path
    charts: list[Path]
    tables: list[Path]
    summary: Summary
    warnings: list[str] = field(default_factory=list)


def _provenance(manifest: Mapping[str, Any] | None, results: Path) -> str:
    if manifest is None:
        return f"<p>Results: <code>{html.escape(str(results))}</code> (no manifest beside it).</p>"
    book = manifest.get("rulebook", {})
    source = manifest.get("input", {})
    counts = manifest.get("counts", {})
    rows = [
        ("results", str(results)),
        ("rule base", f"{book.get('name')} {book.get('version')} (hash {str(book.get('hash'))[:12]})"),
        ("input", f"{source.get('path')} (sha256 {str(source.get('sha256'))[:12]})"),
        (
            "records",
            f"{counts.get('records', 0):,} in: {counts.get('results', 0):,} results, "
            f"{counts.get('errors', 0):,} rejected",
        ),
        ("command", str(manifest.get("command"))),
        ("library", f"therapy-signals {manifest.get('library', {}).get('version')}"),
        ("finished", str(manifest.get("timing", {}).get("finished"))),
    ]
    return (
        '<table class="meta">'
        + "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


def _left_out_html(summary: Summary, left: Sequence[str]) -> str:
    if not left:
        return "<p>The chart shows every rule.</p>"
    items = ", ".join(f"<code>{html.escape(r)}</code> ({summary.findings[r] + summary.superseded[r]:,})" for r in left)
    return f"<p>{html.escape(_left_out_note(summary, left))}. Not in the chart: {items}.</p>"


def _write_csv(path: Path, head: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A table for a spreadsheet: no cell can start a formula (a rule title from a pack could)."""
    with path.open("w", newline="", encoding="utf-8") as file:
        # "\r\n", as RFC 4180 says: the csv module quotes a cell holding a character of the line
        # end, and with "\n" alone a cell's lone "\r" went out bare and started a new row.
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow([neutral(h) for h in head])
        writer.writerows([neutral(str(cell)) for cell in row] for row in rows)
    return path


def write_report(
    results: str | Path,
    out: str | Path,
    *,
    book: RuleBook | None = None,
    results_format: str | None = None,
) -> Report:
    """Summarise a results file into ``out/``: index.html, PNG charts and CSV tables.

    ``book`` (the rule base the results came from) adds rule titles, levels and the rules
    that never fired; without it those are left out.
    """
    from ._extras import require

    # Before reading what may be a large file.
    require("matplotlib.figure", "drawing the report's charts", "summarize() counts without it")
    results = Path(results)
    folder = Path(out)
    summary = summarize(read_results(results, results_format))
    with writing(folder, AGAIN):
        return _write(results, folder, summary, book)


def _write(results: Path, folder: Path, summary: Summary, book: RuleBook | None) -> Report:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(manifest_path(results))
    warnings = []
    made_with = (manifest or {}).get("rulebook", {})
    if book is not None and made_with.get("hash") not in (None, book.content_hash):
        warnings.append(
            f"the results were made with rule base {made_with.get('name')} {made_with.get('version')} "
            f"({str(made_with.get('hash'))[:12]}), but titles, levels and 'never fired' come from "
            f"{book.name} {book.version} ({book.content_hash[:12]}); pass that rule base with --rules"
        )
    never = summary.never_fired(book) if book is not None else []
    total = summary.scenarios

    charts = [
        (_chart_levels(summary, folder / "levels.png"), "Scenarios by overall level"),
        (_chart_categories(summary, folder / "categories.png"), "Scenarios by category of finding"),
        (_chart_rules(summary, book, folder / "rules.png"), "Rule firing frequency"),
        (_chart_signal_levels(summary, book, folder / "signal_levels.png"), "Signal by level, grouped by category"),
        (_chart_size_levels(summary, folder / "observations_levels.png"), "Level by number of observations"),
    ]

    level_rows = [(level, summary.levels[level], _percent(summary.levels[level], total)) for level in LEVELS]
    category_rows = [
        (c.value, summary.categories[c.value], _percent(summary.categories[c.value], total)) for c in Category
    ]
    rule_ids = sorted(
        set(summary.findings) | set(summary.superseded) | set(book.rules if book else ()),
        key=lambda r: (-summary.findings[r], -summary.superseded[r], r),
    )

    def rule_row(rule_id: str) -> tuple[Any, ...]:
        rule = book.rules.get(rule_id) if book is not None else None
        title = rule.title if rule is not None else "(not in this rule base)"
        level = rule.level.value if rule is not None else ""
        return (rule_id, title, level, summary.findings[rule_id], summary.superseded[rule_id])

    rule_rows = [rule_row(r) for r in rule_ids]
    signal_rows = [
        (s, category, *(summary.signal_levels[s][level] for level in LEVELS), sum(summary.signal_levels[s].values()))
        for category, s in signal_order(summary, book)
    ]
    left_out = rules_left_out(summary, book)
    size_rows = [(str(n), *(summary.size_levels[n][level] for level in LEVELS)) for n in sorted(summary.size_levels)]
    setting_rows = [
        (s, *(summary.setting_levels[s][level] for level in LEVELS)) for s in sorted(summary.setting_levels)
    ]

    tables = [
        _write_csv(folder / "levels.csv", ["level", "scenarios", "share"], level_rows),
        _write_csv(folder / "categories.csv", ["category", "scenarios", "share"], category_rows),
        _write_csv(folder / "rules.csv", ["rule", "title", "level", "findings", "superseded"], rule_rows),
        _write_csv(folder / "signal_levels.csv", ["signal", "category", *LEVELS, "scenarios"], signal_rows),
    ]
    summary_file = folder / "summary.json"
    summary_file.write_text(json.dumps(summary.to_dict(book), indent=2) + "\n", encoding="utf-8")
    tables.append(summary_file)

    never_html = (
        "<ul>"
        + "".join(f"<li><code>{html.escape(r)}</code>: {html.escape(book.rules[r].title)}</li>" for r in never)
        + "</ul>"
        if never and book is not None
        else ("<p>Every rule fired at least once.</p>" if book is not None else "<p>No rule base given.</p>")
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>therapy-signals report: {html.escape(results.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Report on {total:,} scenarios</h1>",
        _provenance(manifest, results),
        *(f"<p><strong>Note:</strong> {html.escape(w)}.</p>" for w in warnings),
        "<h2>Levels</h2>",
        _table(["level", "scenarios", "share"], level_rows),
        _image(charts[0][0], charts[0][1]),
        "<h2>Categories</h2>",
        "<p>Scenarios with at least one finding (after supersession) in each category.</p>",
        _table(["category", "scenarios", "share"], category_rows),
        _image(charts[1][0], charts[1][1]),
        "<h2>Rules</h2>",
        "<p>Scenarios in which each rule is a finding, and in which it matched but gave way.</p>",
        _image(charts[2][0], charts[2][1]),
        _left_out_html(summary, left_out),
        _table(["rule", "title", "level", "findings", "superseded"], rule_rows, numeric_from=3),
        f"<h2>Rules that never fired ({len(never)})</h2>",
        never_html,
        "<h2>Signal by level</h2>",
        "<p>For each signal, how many scenarios containing it ended at each overall level; "
        "signals grouped by category (everyday, healthy, dependency, boundaries, safety).</p>",
        _image(charts[3][0], charts[3][1]),
        _table(["signal", "category", *LEVELS, "scenarios"], signal_rows, numeric_from=2),
        "<h2>Level by number of observations</h2>",
        _image(charts[4][0], charts[4][1]),
        _table(["observations", *LEVELS], size_rows),
        "<h2>Level by setting</h2>",
        _table(["setting", *LEVELS], setting_rows),
        "<p><small>Made by therapy-signals. This summarises what the rules say about the "
        "scenarios; it is not a diagnosis of anyone.</small></p>",
        "</body></html>",
    ]
    index = folder / "index.html"
    index.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return Report(index, [c[0] for c in charts], tables, summary, warnings)
