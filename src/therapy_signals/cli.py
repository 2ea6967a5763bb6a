"""The ``therapy-signals`` command line: explain scenarios, inspect and validate rules.

Exit codes: 0 success, 2 invalid input (scenario, file, rule base) or usage, 1 a result the
command was asked to report (a failed suite case, rejected records past ``--max-errors``, a
change under ``diff --exit-code``, a lint finding at ``--fail-on``) or an unexpected failure.

Each command imports what it needs (the engine, the rule base loader, Rich) when it runs:
this module is imported by every command, ``therapy-signals lint`` too, which needs none of
them. Only the enums that command options are typed with are imported here: Typer reads the
annotations when it builds the command line.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ._enums import Category, Level
from ._rule_options import PacksOption, RulesOption, load_book, make_engine
from .errors import TherapySignalsError
from .limits import DEFAULT_INPUT_LIMITS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from .model import Guidance
    from .rulebook import RuleBook

app = typer.Typer(
    name="therapy-signals",
    help="Is this normal? Explained guidance about therapist-client relationships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="List, show and validate the rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


_UNBOUNDED = 1_000_000
"""The width of output that is not a terminal: a table written to a file or a pipe is kept whole."""


# Markup is off: paths, ids and messages are text ("notes[draft].json" must not lose "[draft]");
# the few styled prefixes are Text objects, which Rich never parses.
@cache
def _out() -> Console:
    from rich.console import Console

    console = Console(soft_wrap=True, markup=False)
    if not console.is_terminal:
        # Rich fits a table to 80 columns when there is no terminal, cutting ids with "…".
        console = Console(soft_wrap=True, markup=False, width=_UNBOUNDED)
    return console


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, markup=False)


def _styled(style: str, label: str, text: object) -> Text:
    """``label`` in ``style``, then ``text`` as it is: a Text, which Rich never parses as markup
    (rich.markup.escape would leave a backslash before a bracket for markup to eat)."""
    from rich.text import Text

    return Text.assemble((label, style), " ", str(text))


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


ListFormatOption = Annotated[
    ListFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="table (the default), json: one document, jsonl: one JSON object a line.",
        show_default=False,
    ),
]
JsonLinesOption = Annotated[bool, typer.Option("--json", help="The same as --format jsonl.")]


def _list_format(fmt: ListFormat | None, json_lines: bool) -> ListFormat:
    if json_lines and fmt not in (None, ListFormat.jsonl):
        raise typer.BadParameter(f"--json means --format jsonl; drop one of them (not --format {fmt})")
    return ListFormat.jsonl if json_lines else fmt or ListFormat.table


def _write_list(fmt: ListFormat, key: str, rows: list[dict[str, Any]], book: RuleBook) -> None:
    """The rows of a list as JSON: one document naming the rule base, or a line per row."""
    if fmt is ListFormat.jsonl:
        sys.stdout.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return
    document = {"rulebook": _rulebook_id(book), key: rows}
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _rulebook_id(book: RuleBook) -> dict[str, object]:
    """The ``rulebook`` member guidance and the service give: each pack by name, version and hash."""
    from .model import RuleBookInfo

    info = RuleBookInfo(name=book.name, version=book.version, hash=book.content_hash, packs=list(book.pack_info))
    return info.model_dump(mode="json")


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


class SchemaName(StrEnum):
    scenario = "scenario"
    guidance = "guidance"


def _fail(error: Exception) -> NoReturn:
    _err().print(_styled("bold red", "error:", error), highlight=False)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        _out().print(f"therapy-signals {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Is this normal? Explained guidance about therapist-client relationships."""


def _print_guidance(guidance: Guidance, fmt: Format) -> None:
    if fmt is Format.json:
        sys.stdout.write(guidance.model_dump_json(indent=2) + "\n")
    elif fmt is Format.markdown:
        sys.stdout.write(guidance.to_markdown())
    elif fmt is Format.html:
        sys.stdout.write(guidance.to_html())
    else:
        sys.stdout.write(guidance.to_text())


@app.command("explain")
def explain_command(
    path: Annotated[str, typer.Argument(help="A scenario JSON file, or - for standard input.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    locale: Annotated[str | None, typer.Option(help="Template locale (default: the rule base's).")] = None,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Refuse a scenario file larger than this.", min=1)
    ] = DEFAULT_INPUT_LIMITS.max_bytes,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Explain one scenario: its level, why, words to say, next steps and sources."""
    from dataclasses import replace

    from ._io import read_json

    try:
        limits = replace(DEFAULT_INPUT_LIMITS, max_bytes=max_bytes)
        engine = make_engine(rules, pack, locale=locale, limits=limits)
        guidance = engine.explain(read_json(path, limits))
    except TherapySignalsError as error:
        _fail(error)
    _print_guidance(guidance, fmt)


@app.command("signals")
def signals_command(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    fmt: ListFormatOption = None,
    json_lines: JsonLinesOption = False,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """List the observation vocabulary: every signal a scenario may name."""
    from rich.table import Table

    chosen_format = _list_format(fmt, json_lines)
    try:
        book = load_book(rules, pack)
    except TherapySignalsError as error:
        _fail(error)
    chosen = [s for s in book.signals.values() if category is None or s.category is category]
    if chosen_format is not ListFormat.table:
        rows = [{"id": s.id, "category": s.category.value, "label": s.label} for s in chosen]
        _write_list(chosen_format, "signals", rows, book)
        return
    table = Table("signal", "category", "label", title=f"{len(chosen)} signals")
    for signal in chosen:
        table.add_row(signal.id, signal.category.value, signal.label)
    _out().print(table)


@app.command("schema")
def schema_command(
    name: Annotated[SchemaName, typer.Argument(help="Which JSON Schema to print.")],
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Print the JSON Schema of a scenario (input) or of guidance (output), with the rule base's signal ids."""
    from ._schema import json_schema

    try:
        book = load_book(rules, pack)
    except TherapySignalsError as error:
        _fail(error)
    schema = json_schema("scenario" if name is SchemaName.scenario else "guidance", book)
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@rules_app.command("list")
def rules_list(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    fmt: ListFormatOption = None,
    json_lines: JsonLinesOption = False,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """List the rules: id, level, category and title."""
    from rich.table import Table

    chosen_format = _list_format(fmt, json_lines)
    try:
        book = load_book(rules, pack)
    except TherapySignalsError as error:
        _fail(error)
    chosen = [
        r
        for r in book.rules.values()
        if (category is None or r.category is category) and (level is None or r.level is level)
    ]
    if chosen_format is not ListFormat.table:
        rows = [{"id": r.id, "level": r.level.value, "category": r.category.value, "title": r.title} for r in chosen]
        _write_list(chosen_format, "rules", rows, book)
        return
    table = Table("id", "level", "category", "title", title=f"{book.name} {book.version}: {len(chosen)} rules")
    for rule in chosen:
        table.add_row(rule.id, rule.level.value, rule.category.value, rule.title)
    _out().print(table)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. everyday.feeling-challenged.")],
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Show one rule as written, with where it is defined."""
    from .conditions import describe

    try:
        book = load_book(rules, pack)
        rule = book.rule(rule_id)
    except TherapySignalsError as error:
        _fail(error)
    _out().print(_styled("bold", rule.id, f" ({book.where(rule.id)})"), highlight=False)
    _out().print(
        f"{rule.title}\nlevel: {rule.level.value}   category: {rule.category.value}",
        highlight=False,
    )
    _out().print(f"when: {describe(rule.when)}", highlight=False)
    _out().print(f"normal when: {rule.normal_when}", highlight=False)
    for line in rule.say:
        _out().print(f'say: "{line}"', highlight=False)
    _out().print(f"references: {', '.join(rule.references)}", highlight=False)
    if rule.supersedes:
        _out().print(f"supersedes: {', '.join(rule.supersedes)}", highlight=False)
    _out().print(f"template: {rule.explain}", highlight=False)


class TraceFormat(StrEnum):
    text = "text"
    json = "json"


@rules_app.command("why")
def rules_why(
    path: Annotated[str, typer.Argument(help="A scenario JSON file, or - for standard input.")],
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. boundaries.self-disclosure-takes-over.")],
    fmt: Annotated[TraceFormat, typer.Option("--format", "-f", help="Output format.")] = TraceFormat.text,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Why a rule did or did not fire for a scenario: each condition, held or failed, and on what."""
    from ._io import read_json
    from ._why import trace_text

    try:
        engine = make_engine(rules, pack)
        result = engine.trace(read_json(path, engine.limits), rule_id)
    except TherapySignalsError as error:
        _fail(error)
    if fmt is TraceFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        book = engine.rulebook.base if result.floor else engine.rulebook
        sys.stdout.write(trace_text(result, book.rules[result.rule_id].when))


@rules_app.command("validate")
def rules_validate(
    path: Annotated[
        Path | None,
        typer.Argument(help="A rule base folder, or a rule pack folder (checked on top of the shipped rules)."),
    ] = None,
    pack: PacksOption = None,
) -> None:
    """Check a rule base or pack: files, cross-references, invariants, and that every rule can fire."""
    from .engine import Engine
    from .render import translation_gaps
    from .rulebook import RuleBook
    from .witness import check_rulebook

    try:
        is_pack = path is not None and (path / "pack.yaml").is_file()
        if is_pack and path is not None:
            book = RuleBook.load(None, packs=[path, *(pack or [])])
        else:
            book = load_book(path, pack)
        engine = Engine(book)
        problems = check_rulebook(engine)
        gaps = translation_gaps(book)
    except TherapySignalsError as error:
        _fail(error)
    for gap in gaps:  # English inside a Spanish answer is worth knowing, not worth refusing the pack
        _err().print(_styled("yellow", "warning:", gap), highlight=False)
    for problem in problems:
        _err().print(_styled("red", "error:", problem), highlight=False)
    if problems:
        raise typer.Exit(2)
    for change in book.changes:
        _out().print(f"note: {change}", highlight=False)
    _out().print(
        f"ok: {book.name} {book.version}: {len(book.rules)} rules, {len(book.signals)} signals, "
        f"{len(book.sources)} sources, locales {', '.join(book.locales)}; every rule fires and renders",
        highlight=False,
    )


@rules_app.command("coverage")
def rules_coverage(
    examples: Annotated[
        list[Path] | None,
        typer.Argument(help="Example scenarios: .json files, suite .yaml files, or folders of them."),
    ] = None,
    fmt: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table (the default) or json: one document.")
    ] = ListFormat.table,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """How much of the guide the rules cover, and which rules no example exercises."""
    from rich.table import Table

    from ._coverage import exercised, guide_coverage

    if fmt is ListFormat.jsonl:
        raise typer.BadParameter("coverage is one report: use --format json or table", param_hint="--format")
    default = [p for p in (Path("examples/scenarios"), Path("tests/scenarios")) if p.is_dir()]
    try:
        engine = make_engine(rules, pack)
        sections = guide_coverage(engine)
        count, fired = exercised(engine, examples or default)
    except TherapySignalsError as error:
        _fail(error)
    idle = sorted(set(engine.rulebook.rules) - fired)
    if fmt is ListFormat.json:
        _write_coverage(engine.rulebook, sections, count, idle)
        return
    table = Table("guide section", "bullets", "covered", title="Guide coverage (rules/guide-map.yaml)")
    for section in sections:
        table.add_row(section.heading, str(section.bullets), str(section.covered))
    _out().print(table)
    total = sum(s.bullets for s in sections)
    covered = sum(s.covered for s in sections)
    _out().print(f"guide bullets covered: {covered}/{total}", highlight=False)
    for section in sections:
        for text in section.missing:
            _out().print(f"  not covered: {section.heading}: {text}", highlight=False)
    _out().print(
        f"rules exercised by {count} examples: {len(engine.rulebook.rules) - len(idle)}/{len(engine.rulebook.rules)}",
        highlight=False,
    )
    for rule_id in idle:
        _out().print(f"  no example exercises {rule_id}", highlight=False)


def _write_coverage(book: RuleBook, sections: list[Any], examples: int, idle: list[str]) -> None:
    document = {
        "rulebook": _rulebook_id(book),
        "guide": {
            "bullets": sum(s.bullets for s in sections),
            "covered": sum(s.covered for s in sections),
            "sections": [
                {"heading": s.heading, "bullets": s.bullets, "covered": s.covered, "missing": list(s.missing)}
                for s in sections
            ],
        },
        "rules": {
            "examples": examples,
            "total": len(book.rules),
            "exercised": len(book.rules) - len(idle),
            "not_exercised": idle,
        },
    }
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@rules_app.command("catalog")
def rules_catalog(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the pages into.")] = Path("docs/rules"),
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Write the rule catalog: one Markdown page per category, plus an index."""
    from ._catalog import write_catalog

    try:
        written = write_catalog(load_book(rules, pack), out)
    except TherapySignalsError as error:
        _fail(error)
    _out().print(f"wrote {len(written)} pages to {out}", highlight=False)


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[Path], typer.Argument(help="Suite .yaml files or folders of them.")],
    fmt: Annotated[
        ListFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table: the failures and a count (the default); json: every case in one document; "
            "jsonl: a case a line.",
            show_default=False,
        ),
    ] = None,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Run scenario suites: each case's expected level and findings (exit 1 on a failure)."""
    from .suite import load_suite, run_suite

    chosen_format = _list_format(fmt, False)
    try:
        engine = make_engine(rules, pack)
        results = run_suite(engine, load_suite(paths))
    except TherapySignalsError as error:
        _fail(error)
    failed = [r for r in results if not r.passed]
    if chosen_format is not ListFormat.table:
        rows = [
            {"where": r.case.where, "name": r.case.name, "passed": r.passed, "problems": list(r.problems)}
            for r in results
        ]
        _write_list(chosen_format, "cases", rows, engine.rulebook)
        raise typer.Exit(1 if failed else 0)
    for result in failed:
        _err().print(_styled("red", "FAIL", f"{result.case.where}: {result.case.name}"), highlight=False)
        for problem in result.problems:
            _err().print(f"    {problem}", highlight=False)
    _out().print(f"{len(results) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        raise typer.Exit(1)


# Commands of the optional parts register last, so they follow the core ones in --help; each
# imports its heavy dependencies (pyarrow, dask, matplotlib, FastAPI, markdown-it) only when run.
from ._serve_cli import register as _register_serve  # noqa: E402
from .batch._cli import register as _register_batch  # noqa: E402
from .lint._cli import register as _register_lint  # noqa: E402

_register_batch(app)
_register_lint(app)
_register_serve(app)


def main() -> None:
    """Entry point of the ``therapy-signals`` script."""
    app()
