"""The ``therapy-signals`` command line: explain scenarios, inspect and validate rules.

Exit codes: 0 success, 2 invalid input (scenario, file, rule base) or usage, 1 an
unexpected failure.

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
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ._enums import Category, Level
from .errors import TherapySignalsError
from .limits import DEFAULT_INPUT_LIMITS

if TYPE_CHECKING:
    from rich.console import Console

    from .model import Guidance

app = typer.Typer(
    name="therapy-signals",
    help="Is this normal? Explained guidance about therapist-client relationships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="List, show and validate the rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@cache
def _out() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="A rule base folder (default: the shipped one).", show_default=False),
]


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


class SchemaName(StrEnum):
    scenario = "scenario"
    guidance = "guidance"


def _fail(error: Exception) -> NoReturn:
    _err().print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
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
) -> None:
    """Explain one scenario: its level, why, words to say, next steps and sources."""
    from dataclasses import replace

    from ._io import read_json
    from .engine import Engine

    try:
        limits = replace(DEFAULT_INPUT_LIMITS, max_bytes=max_bytes)
        engine = Engine(rules, locale=locale, limits=limits)
        guidance = engine.explain(read_json(path, limits))
    except TherapySignalsError as error:
        _fail(error)
    _print_guidance(guidance, fmt)


@app.command("signals")
def signals_command(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    rules: RulesOption = None,
) -> None:
    """List the observation vocabulary: every signal a scenario may name."""
    from rich.table import Table

    from .rulebook import RuleBook

    try:
        book = RuleBook.load(rules)
    except TherapySignalsError as error:
        _fail(error)
    chosen = [s for s in book.signals.values() if category is None or s.category is category]
    table = Table("signal", "category", "label", title=f"{len(chosen)} signals")
    for signal in chosen:
        table.add_row(signal.id, signal.category.value, signal.label)
    _out().print(table)


@app.command("schema")
def schema_command(
    name: Annotated[SchemaName, typer.Argument(help="Which JSON Schema to print.")],
) -> None:
    """Print the JSON Schema of a scenario (input) or of guidance (output)."""
    from .model import Guidance, Scenario

    model = Scenario if name is SchemaName.scenario else Guidance
    schema = model.model_json_schema(mode="validation" if name is SchemaName.scenario else "serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@rules_app.command("list")
def rules_list(
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    rules: RulesOption = None,
) -> None:
    """List the rules: id, level, category and title."""
    from rich.table import Table

    from .rulebook import RuleBook

    try:
        book = RuleBook.load(rules)
    except TherapySignalsError as error:
        _fail(error)
    chosen = [
        r
        for r in book.rules.values()
        if (category is None or r.category is category) and (level is None or r.level is level)
    ]
    if as_json:
        for rule in chosen:
            sys.stdout.write(
                json.dumps(
                    {
                        "id": rule.id,
                        "level": rule.level.value,
                        "category": rule.category.value,
                        "title": rule.title,
                    }
                )
                + "\n"
            )
        return
    table = Table("id", "level", "category", "title", title=f"{book.name} {book.version}: {len(chosen)} rules")
    for rule in chosen:
        table.add_row(rule.id, rule.level.value, rule.category.value, rule.title)
    _out().print(table)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. everyday.feeling-challenged.")],
    rules: RulesOption = None,
) -> None:
    """Show one rule as written, with where it is defined."""
    from .conditions import describe
    from .rulebook import RuleBook

    try:
        book = RuleBook.load(rules)
        rule = book.rule(rule_id)
    except TherapySignalsError as error:
        _fail(error)
    _out().print(f"[bold]{rule.id}[/]  ({book.where(rule.id)})", highlight=False)
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


@rules_app.command("validate")
def rules_validate(
    path: Annotated[
        Path | None,
        typer.Argument(help="A rule base folder, or a rule pack folder (checked on top of the shipped rules)."),
    ] = None,
) -> None:
    """Check a rule base or pack: files, cross-references, invariants, and that every rule can fire."""
    from .engine import Engine
    from .render import translation_gaps
    from .rulebook import RuleBook
    from .witness import check_rulebook

    try:
        is_pack = path is not None and (path / "pack.yaml").is_file()
        book = RuleBook.load(None, packs=[path]) if is_pack and path is not None else RuleBook.load(path)
        engine = Engine(book)
        problems = check_rulebook(engine)
        gaps = translation_gaps(book)
    except TherapySignalsError as error:
        _fail(error)
    for gap in gaps:  # English inside a Spanish answer is worth knowing, not worth refusing the pack
        _err().print(f"[yellow]warning:[/] {gap}", highlight=False)
    for problem in problems:
        _err().print(f"[red]error:[/] {problem}", highlight=False)
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
    rules: RulesOption = None,
) -> None:
    """How much of the guide the rules cover, and which rules no example exercises."""
    from rich.table import Table

    from ._coverage import exercised, guide_coverage
    from .engine import Engine

    default = [p for p in (Path("examples/scenarios"), Path("tests/scenarios")) if p.is_dir()]
    try:
        engine = Engine(rules)
        sections = guide_coverage(engine)
        count, fired = exercised(engine, examples or default)
    except TherapySignalsError as error:
        _fail(error)
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
    idle = sorted(set(engine.rulebook.rules) - fired)
    _out().print(
        f"rules exercised by {count} examples: {len(engine.rulebook.rules) - len(idle)}/{len(engine.rulebook.rules)}",
        highlight=False,
    )
    for rule_id in idle:
        _out().print(f"  no example exercises {rule_id}", highlight=False)


@rules_app.command("catalog")
def rules_catalog(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the pages into.")] = Path("docs/rules"),
    rules: RulesOption = None,
) -> None:
    """Write the rule catalog: one Markdown page per category, plus an index."""
    from ._catalog import write_catalog
    from .rulebook import RuleBook

    try:
        written = write_catalog(RuleBook.load(rules), out)
    except TherapySignalsError as error:
        _fail(error)
    _out().print(f"wrote {len(written)} pages to {out}", highlight=False)


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[Path], typer.Argument(help="Suite .yaml files or folders of them.")],
    rules: RulesOption = None,
) -> None:
    """Run scenario suites: each case's expected level and findings (exit 1 on a failure)."""
    from .engine import Engine
    from .suite import load_suite, run_suite

    try:
        results = run_suite(Engine(rules), load_suite(paths))
    except TherapySignalsError as error:
        _fail(error)
    failed = [r for r in results if not r.passed]
    for result in failed:
        _err().print(f"[red]FAIL[/] {result.case.where}: {result.case.name}", highlight=False)
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
