"""The researcher's commands: generate, batch, report, diff, counterfactual.

Only Typer is imported here (Rich on the first output); everything else (the batch
machinery, pyarrow, matplotlib, dask) is imported inside the command that needs it, so
``therapy-signals explain`` starts as fast as before and works without the extras.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .._rule_options import PacksOption, RulesOption, load_book, make_engine
from ..limits import DEFAULT_INPUT_LIMITS

__all__ = ["register"]

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """Rich's Console, made on first use: importing Rich takes 0.02 s, and every command
    (``therapy-signals lint`` too) imports this module to register these ones."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
            if not self._console.is_terminal:
                # Rich fits a table to 80 columns when there is no terminal; a file or a pipe gets it whole.
                self._console = Console(**self._options, width=1_000_000)
        return getattr(self._console, name)


# Markup is off: paths and messages are text ("out[1].jsonl" must keep its "[1]"); the few
# styled prefixes are Text objects, which Rich never parses.
_out = _LazyConsole(soft_wrap=True, markup=False)
_err = _LazyConsole(stderr=True, soft_wrap=True, markup=False)
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")]


class Design(StrEnum):
    factorial = "factorial"
    random = "random"


class Backend(StrEnum):
    columnar = "columnar"
    durable = "durable"


EngineOption = Annotated[
    Backend | None,
    typer.Option(
        "--engine",
        help="columnar: NumPy, a whole chunk as arrays (default when installed); "
        "durable: durable_rules, one scenario at a time. Both give the same rows.",
        show_default=False,
    ),
]


class FileFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def _styled(style: str, label: str, text: object) -> Any:
    """``label`` in ``style``, then ``text`` as it is: a Text, which Rich never parses as markup
    (rich.markup.escape would leave a backslash before a bracket for markup to eat)."""
    from rich.text import Text

    return Text.assemble((label, style), " ", str(text))


def _fail(error: BaseException) -> NoReturn:
    _err.print(_styled("bold red", "error:", error), highlight=False)
    raise typer.Exit(2)


def _fault(error: OSError) -> NoReturn:
    """An OSError that no writer turned into a BatchError: still one line, never a traceback."""
    from ..errors import BatchError

    where = f"{error.filename}: " if error.filename else ""
    _fail(BatchError(f"{where}{error.strerror or error}; fix that, then run it again"))


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        _err.print(message, highlight=False)


def _command() -> list[str]:
    return [Path(sys.argv[0]).name, *sys.argv[1:]]


def generate_command(
    design: Annotated[Design, typer.Option("--design", help="factorial: every combination; random: seeded draws.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Scenario file to write, or - for stdout.")] = "-",
    signals: Annotated[
        str | None,
        typer.Option(help="Categories and/or signal ids, comma separated (default: every signal)."),
    ] = None,
    max_observations: Annotated[
        int | None, typer.Option(help="Most observations per scenario (default: 2 factorial, 5 random).")
    ] = None,
    min_observations: Annotated[int, typer.Option(help="Fewest observations per scenario.")] = 1,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help="factorial: a context field to cross, alone for every value (frequency) or with a list "
            "(response=repaired,dismissed; unknown = not given). Repeat for more fields."
        ),
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="random: how many scenarios.")] = None,
    seed: Annotated[int, typer.Option(help="random: the seed; the same seed writes the same file.")] = 0,
    settings: Annotated[str | None, typer.Option(help="random: settings to draw from, comma separated.")] = None,
    given: Annotated[float, typer.Option(help="random: chance that each context field is given.")] = 0.5,
    weight_rare: Annotated[
        bool, typer.Option("--weight-rare", help="random: keep the candidate whose level is rarest so far.")
    ] = False,
    candidates: Annotated[int, typer.Option(help="random --weight-rare: candidates drawn per scenario.")] = 8,
    count: Annotated[bool, typer.Option("--count", help="Only print how many scenarios the design makes.")] = False,
    output_format: Annotated[
        FileFormat | None, typer.Option("--output-format", help="Override the format the extension names.")
    ] = None,
    rules: RulesOption = None,
    pack: PacksOption = None,
    quiet: QuietOption = False,
) -> None:
    """Generate a scenario set: a factorial design or a seeded random one, with a manifest."""
    from ..errors import TherapySignalsError
    from ._generate import Factorial, RandomDesign, generate, parse_vary

    try:
        book = load_book(rules, pack)
        chosen: Factorial | RandomDesign
        if design is Design.factorial:
            for flag, value in (("--n", n), ("--settings", settings)):
                if value is not None:
                    raise typer.BadParameter(f"{flag} applies to --design random; use --vary setting=...")
            if weight_rare:
                raise typer.BadParameter("--weight-rare applies to --design random")
            chosen = Factorial(
                book,
                signals=signals,
                max_observations=max_observations,
                min_observations=min_observations,
                vary=parse_vary(book, vary or []),
            )
        else:
            if n is None:
                raise typer.BadParameter("--design random needs --n, the number of scenarios")
            if vary:
                raise typer.BadParameter("--vary applies to --design factorial; random draws every value")
            chosen = RandomDesign(
                book,
                n=n,
                seed=seed,
                signals=signals,
                min_observations=min_observations,
                max_observations=5 if max_observations is None else max_observations,
                settings=None if settings is None else [s.strip() for s in settings.split(",") if s.strip()],
                given=given,
                weight_rare=weight_rare,
                candidates=candidates,
            )
        if count:
            total = chosen.count() if isinstance(chosen, Factorial) else chosen.n
            _out.print(str(total), highlight=False)
            return
        manifest = generate(
            chosen,
            output,
            output_format=None if output_format is None else output_format.value,
            progress_bar=not quiet,
            command=_command(),
        )
    except (TherapySignalsError, ImportError) as error:
        _fail(error)
    except OSError as error:
        _fault(error)
    written = manifest["output"]["scenarios"]
    where = "standard output" if output == "-" else f"{output} (manifest: {output}.manifest.json)"
    _say(f"wrote {written:,} scenarios to {where}", quiet)


def _level_summary(levels: dict[str, int]) -> str:
    return ", ".join(f"{level} {count:,}" for level, count in levels.items())


def batch_command(
    source: Annotated[str, typer.Argument(help="Scenarios: .jsonl, .jsonl.gz, .csv, .parquet, or - for stdin.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Results: .jsonl, .jsonl.gz, .csv, .parquet, or - for stdout.")
    ] = "-",
    workers: Annotated[int, typer.Option(help="Worker processes (or Dask LocalCluster workers).", min=1)] = 1,
    dask: Annotated[
        str | None,
        typer.Option(help="Run on dask.distributed: 'local' for a LocalCluster, or a scheduler address."),
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="Add each guidance as plain text, in a 'text' column.")] = False,
    chunk_size: Annotated[int, typer.Option(help="Scenarios per task and per checkpoint.", min=1)] = 5000,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first invalid record.")] = False,
    max_errors: Annotated[
        int,
        typer.Option(
            "--max-errors",
            help="Rejected records allowed before the exit code is 1 (the run still goes to the end).",
            min=0,
        ),
    ] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run into this output.")] = False,
    errors: Annotated[
        Path | None, typer.Option(help="Where rejected records go (default: <output>.errors.jsonl).")
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="Where the manifest goes (default: <output>.manifest.json).")
    ] = None,
    input_format: Annotated[FileFormat | None, typer.Option(help="Override the input's format.")] = None,
    output_format: Annotated[FileFormat | None, typer.Option(help="Override the output's format.")] = None,
    locale: Annotated[str | None, typer.Option(help="Template locale for --text.")] = None,
    max_bytes: Annotated[
        int,
        typer.Option(
            "--max-bytes",
            help="The most bytes one scenario may take (a JSONL line, a CSV scenario's rows); "
            "a larger one is rejected like an invalid one.",
            min=1,
        ),
    ] = DEFAULT_INPUT_LIMITS.max_bytes,
    rules: RulesOption = None,
    pack: PacksOption = None,
    engine: EngineOption = None,
    verify: Annotated[
        int,
        typer.Option(
            "--verify",
            help="Re-run this many random rows on the other backend at the end (durable_rules "
            "for a columnar run) and fail on any difference.",
            min=0,
        ),
    ] = 0,
    quiet: QuietOption = False,
) -> None:
    """Explain every scenario of a file, in chunks, on local processes or Dask; resumable."""
    from ..errors import TherapySignalsError
    from ..limits import InputLimits

    if dask is None:  # this process and its workers: a Dask worker or client may use pandas through pyarrow
        from ._startup import settle_pyarrow_without_pandas

        settle_pyarrow_without_pandas()
    from ._batch import Batch

    run = None
    try:
        # Loaded here, packs included: Batch hands every worker the same folders, and checks the hash.
        batch = Batch(
            load_book(rules, pack),
            locale=locale,
            text=text,
            workers=workers,
            dask=dask,
            chunk_size=chunk_size,
            fail_fast=fail_fast,
            limits=InputLimits(max_bytes=max_bytes),
            backend=None if engine is None else engine.value,
        )
        run = batch.run(
            source,
            output,
            errors=errors,
            manifest=manifest,
            resume=resume,
            input_format=None if input_format is None else input_format.value,
            output_format=None if output_format is None else output_format.value,
            progress=not quiet,
            command=_command(),
            verify=verify,
            notify=lambda line: _say(line, quiet),
        )
        if run.already_complete:
            _say(f"nothing to resume: {output} is complete", quiet)
            _too_many_rejected(run, max_errors)
            return
        run.complete()
    except KeyboardInterrupt:
        where = f"; run the same command with --resume to continue into {output}" if output != "-" else ""
        _err.print(f"interrupted after {run.records if run else 0:,} records{where}", highlight=False)
        raise typer.Exit(130) from None
    except (TherapySignalsError, ImportError, ValueError) as error:
        _fail(error)
    except OSError as error:
        _fault(error)
    assert run is not None
    levels = {level: run.levels.get(level, 0) for level in ("normal", "discuss", "concern", "serious", "urgent")}
    message = f"{run.records:,} records: {run.results:,} results ({_level_summary(levels)})"
    if run.errors:
        message += f"; {run.errors:,} rejected, see {run.errors_file or 'standard error'}"
    if verify:
        message += f"; --verify: {min(verify, run.results):,} rows the same on the other backend"
    _say(message, quiet)
    _too_many_rejected(run, max_errors)


def _too_many_rejected(run: Any, allowed: int) -> None:
    """Exit 1 when more records were rejected than ``--max-errors`` allows: a pipeline must not
    take a run that silently dropped records for a clean one (the files are complete all the same)."""
    if run.errors <= allowed:
        return
    where = f"; {run.errors_file} lists them" if run.errors_file else ""
    message = f"{run.errors:,} records rejected, more than --max-errors {allowed:,} allows{where}"
    _err.print(_styled("bold red", "error:", message), highlight=False)
    raise typer.Exit(1)


def report_command(
    results: Annotated[Path, typer.Argument(help="A results file from `therapy-signals batch`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the report into.")] = Path("report"),
    results_format: Annotated[FileFormat | None, typer.Option("--format", help="Override the format.")] = None,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """Summarise results: tables, PNG charts and a self-contained index.html."""
    from ..errors import TherapySignalsError
    from ._report import LEVELS, write_report

    try:
        report = write_report(
            results,
            output,
            book=load_book(rules, pack),
            results_format=None if results_format is None else results_format.value,
        )
    except (TherapySignalsError, ImportError) as error:
        _fail(error)
    except OSError as error:
        _fault(error)
    for warning in report.warnings:
        _err.print(_styled("yellow", "warning:", warning), highlight=False)
    summary = report.summary
    from rich.table import Table

    table = Table("level", "scenarios", "share", title=f"{summary.scenarios:,} scenarios")
    for level in LEVELS:
        count = summary.levels[level]
        share = f"{count / summary.scenarios:.1%}" if summary.scenarios else "-"
        table.add_row(level, f"{count:,}", share)
    _out.print(table)
    _out.print(
        f"wrote {report.index} with {len(report.charts)} charts and {len(report.tables)} tables", highlight=False
    )


def _print_groups(title: str, groups: dict[str, Any], show: int, levels: bool) -> None:
    if not groups:
        return
    _out.print(f"\n{title} (a scenario is under every rule that appeared or disappeared in it):", highlight=False)
    for rule, group in groups.items():
        ids = group["scenario_ids"]
        examples = ", ".join(ids[:show]) + (f", ... ({len(ids) - show} more)" if len(ids) > show else "")
        moved = f"{group['up']:,} up, {group['down']:,} down; " if levels else ""
        _out.print(
            f"  {rule}: {group['scenarios']:,} scenario{'s' if group['scenarios'] != 1 else ''} "
            f"({moved}fires in {group['added_in']:,}, no longer in {group['removed_in']:,})"
            + (f", e.g. {examples}" if examples else ""),
            highlight=False,
        )


def diff_command(
    before: Annotated[Path, typer.Argument(help="Results before (e.g. with the old rules).")],
    after: Annotated[Path, typer.Argument(help="Results after, of the same scenarios.")],
    as_json: Annotated[bool, typer.Option("--json", help="Every change as one JSON document.")] = False,
    show: Annotated[int, typer.Option(help="Scenario ids to list per rule.", min=0)] = 5,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit with 1 when anything changed (a level, a finding, a scenario in one file only), "
            "as git diff --exit-code does; 0 when nothing did.",
        ),
    ] = False,
) -> None:
    """List the scenarios whose level or findings changed between two result files, grouped by rule."""
    from ..errors import TherapySignalsError
    from ._diff import diff_results

    try:
        diff = diff_results(before, after)
    except (TherapySignalsError, ImportError) as error:
        _fail(error)
    data = diff.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _out.print(
            f"compared {diff.compared:,} scenarios: {len(diff.changes):,} changed level "
            f"({data['up']:,} up, {data['down']:,} down); {diff.findings_changed:,} more changed findings "
            f"but not level; {len(diff.only_before):,} only in {before.name}, "
            f"{len(diff.only_after):,} only in {after.name}",
            highlight=False,
        )
        _print_groups("By rule", data["by_rule"], show, levels=True)
        _print_groups("Findings changed, level the same, by rule", data["same_level_by_rule"], show, levels=False)
    if exit_code and diff.changed:
        raise typer.Exit(1)


def _print_direction(name: str, found: list[Any], book: Any, show: int) -> None:
    if not found:
        _out.print(f"\nNothing within reach moves it {name}.", highlight=False)
        return
    size = len(found[0].edits)
    edits = "one edit" if size == 1 else f"{size} edits"
    ways = f"{len(found)} way{'s' if len(found) != 1 else ''}"
    _out.print(f"\nTo move it {name} ({ways} with {edits}):", highlight=False)
    for item in found[:show]:
        _out.print(f"  -> {item.level.value}: {item.describe()}", highlight=False)
        for label, ids in (("no longer applies", item.removed), ("now applies", item.added)):
            for rule in ids:
                title = book.rules[rule].title if rule in book.rules else ""
                _out.print(f"       {label}: {rule} ({title})", highlight=False)
    if len(found) > show:
        _out.print(f"  ... and {len(found) - show} more (--show, or --json for all)", highlight=False)


def counterfactual_command(
    scenario: Annotated[str, typer.Argument(help="A scenario JSON file, or - for standard input.")],
    max_changes: Annotated[int, typer.Option(help="The most edits to combine (1 or 2).", min=1, max=2)] = 2,
    limit: Annotated[int, typer.Option(help="Stop after this many changed scenarios.", min=1)] = 20_000,
    show: Annotated[int, typer.Option(help="Changes to show per direction.", min=0)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Everything found, as JSON.")] = False,
    rules: RulesOption = None,
    pack: PacksOption = None,
) -> None:
    """The smallest changes to a scenario that move its level up or down, explained."""
    from .._io import read_json
    from ..errors import TherapySignalsError
    from ._counterfactual import counterfactuals
    from ._parallel import build_engine

    try:
        engine = build_engine(lambda: make_engine(rules, pack))
        found = counterfactuals(read_json(scenario), engine, max_changes=max_changes, limit=limit)
    except TherapySignalsError as error:
        _fail(error)
    book = engine.rulebook
    if as_json:
        sys.stdout.write(json.dumps(found.to_dict(book), indent=2) + "\n")
        return
    name = found.scenario.id or scenario
    _out.print(f"Scenario {name}: level {found.level.value}", highlight=False)
    _out.print(f"findings: {', '.join(found.findings)}", highlight=False)
    _print_direction("up", found.up, book, show)
    _print_direction("down", found.down, book, show)
    note = "" if found.complete else f"; stopped at --limit {limit}, so larger changes were not all tried"
    _out.print(f"\n(tried {found.tried:,} changed scenarios{note})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the researcher's commands to the ``therapy-signals`` app."""
    app.command("generate")(generate_command)
    app.command("batch")(batch_command)
    app.command("report")(report_command)
    app.command("diff")(diff_command)
    app.command("counterfactual")(counterfactual_command)
