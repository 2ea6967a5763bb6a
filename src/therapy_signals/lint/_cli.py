"""``therapy-signals lint``: the command line of the linter.

Only typer and the standard library are imported at module level: ``register`` runs every
time the ``therapy-signals`` command starts, and ``therapy-signals explain`` must not pay
for markdown-it, ftfy or lemminflect.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._rule_options import PacksOption

if TYPE_CHECKING:
    from ..rulebook import RuleBook
    from ._files import Exclude
    from ._finding import LintFinding
    from ._linter import Linter

__all__ = ["register"]

MAX_FINDINGS = 10_000
"""Findings listed per file by default: a real article has tens; a hostile one had 210,000."""
_FIX_ROUNDS = 3
"""A repair can uncover damage beneath it (text encoded wrongly twice): fix, lint, fix again."""


class _Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class _FailOn(StrEnum):
    error = "error"
    warning = "warning"
    suggestion = "suggestion"
    none = "none"


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _catalog(list_checks: bool, explain: str | None, fmt: _Format, paths: list[str] | None) -> None:
    """``--list-checks`` and ``--explain``: what the checks are, without linting anything."""
    import json

    from ._checks import CHECKS, matching_checks, suggest_check

    if paths:
        _error("--list-checks and --explain lint nothing; give them without files")
        raise typer.Exit(2)
    if fmt not in (_Format.text, _Format.json):
        _error(f"--list-checks and --explain print text or json, not {fmt.value}")
        raise typer.Exit(2)
    checks = list(CHECKS.values())
    if explain is not None:
        named = matching_checks(explain)
        if not named:
            _error(f"{explain!r} is no check{suggest_check(explain)} (--list-checks lists them)")
            raise typer.Exit(2)
        checks = [check for check in checks if check.id in named]
    if fmt is _Format.json:
        rows = [{**vars(check), "level": check.level.value, "help_uri": check.help_uri} for check in checks]
        typer.echo(json.dumps({"checks": rows}, indent=2, ensure_ascii=False))
    elif explain is not None:
        typer.echo(
            "\n\n".join(f"{c.id} ({c.level.value})\n{c.title}.\n\n{c.description}\n{c.help_uri}" for c in checks)
        )
    else:
        width = max(len(check.id) for check in checks)
        for check in checks:
            typer.echo(f"{check.id:<{width}}  {check.level.value:<10}  {check.title}")


def _usage(paths: list[str] | None, fix: bool) -> list[str]:
    """The paths to lint; exit 2 when there are none, or standard input is to be fixed."""
    if not paths:
        _error("no files to lint: give Markdown files or folders, or - for standard input (--help for more)")
        raise typer.Exit(2)
    if fix and "-" in paths:
        _error("--fix rewrites files in place and cannot fix standard input; save it to a file, or drop --fix")
        raise typer.Exit(2)
    return paths


def _excludes(root: Path | None, configured: tuple[str, ...], given: list[str] | None) -> list[Exclude]:
    """The configuration's globs (relative to its folder) and --exclude's (to the current one)."""
    from ._files import Exclude, check_pattern

    excludes = [Exclude(pattern, root or Path.cwd()) for pattern in configured]
    excludes += [Exclude(check_pattern(pattern, "--exclude"), Path.cwd()) for pattern in given or []]
    return excludes


def _lint_text(linter: Linter, text: str, path: str) -> list[LintFinding]:
    """Findings for an article's text, read in the dialect its name says (MDX, Quarto, Markdown)."""
    return linter.lint_text(text, path)


def _lint_path(linter: Linter, path: str, fix: bool) -> list[LintFinding]:
    """Findings for one file; with ``fix``, those left after its fixes are written to it."""
    from ._fix import apply_fixes, fixable, write_fixed
    from ._read import read_document

    original = text = read_document(path, linter.config.max_bytes)
    findings = _lint_text(linter, text, path)
    total = 0
    for _ in range(_FIX_ROUNDS if fix else 0):
        if not fixable(findings):
            break
        text, count = apply_fixes(text, findings)
        if not count:  # no span could be placed: linting again would find the same
            break
        total += count
        findings = _lint_text(linter, text, path)
    if total:
        write_fixed(path, original, text)
        typer.echo(f"fixed {_plural(total, 'issue')} in {path}", err=True)
    return findings


def _rule_base(rules: Path | None, packs: list[Path] | None) -> RuleBook | Path | None:
    """The folder, for the prebuilt index to stand in for it; with packs, the rule base loaded
    with them (the index knows only the shipped rules' phrasings)."""
    from .._rule_options import check_base, load_book

    if packs:
        return load_book(rules, packs)
    if rules is not None:
        check_base(rules)
    return rules


def register(app: typer.Typer) -> None:
    """Add the top-level ``lint`` command to the ``therapy-signals`` app."""

    @app.command("lint")
    def lint_command(
        paths: Annotated[
            list[str] | None,
            typer.Argument(help="Markdown files or folders to lint, or - for standard input.", show_default=False),
        ] = None,
        fmt: Annotated[_Format, typer.Option("--format", "-f", help="Output format.")] = _Format.text,
        fail_on: Annotated[
            _FailOn | None,
            typer.Option(
                "--fail-on",
                help="Exit 1 when a finding is at this level or above (default: the configuration's, else error).",
                show_default=False,
            ),
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option(
                "--config",
                help="A .therapy-signals.toml or pyproject.toml (default: found from the current folder up).",
                show_default=False,
            ),
        ] = None,
        no_config: Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")] = False,
        disable: Annotated[
            list[str] | None,
            typer.Option("--disable", help="Turn off a check or group (repeatable).", show_default=False),
        ] = None,
        rules: Annotated[
            Path | None,
            typer.Option(
                "--rules",
                help="A rule base folder (default: the configuration's, else the shipped one).",
                show_default=False,
            ),
        ] = None,
        pack: PacksOption = None,
        stdin_filename: Annotated[
            str, typer.Option("--stdin-filename", help="The name findings give standard input.")
        ] = "<stdin>",
        max_bytes: Annotated[
            int | None,
            typer.Option(
                "--max-bytes",
                min=1,
                help="The largest article to read, in bytes (default: the configuration's, else 1 MiB).",
                show_default=False,
            ),
        ] = None,
        max_findings: Annotated[
            int,
            typer.Option(
                "--max-findings",
                min=1,
                help="List at most this many findings per file (the counts and the exit code include them all).",
            ),
        ] = MAX_FINDINGS,
        exclude: Annotated[
            list[str] | None,
            typer.Option(
                "--exclude",
                metavar="GLOB",
                help="Leave out files and folders matching a glob, relative to the current folder (repeatable).",
                show_default=False,
            ),
        ] = None,
        force_exclude: Annotated[
            bool,
            typer.Option("--force-exclude", help="Apply the exclude globs to files named on the command line too."),
        ] = False,
        fix: Annotated[
            bool,
            typer.Option("--fix", help="Repair encoding damage in the files, in place, then report what is left."),
        ] = False,
        list_checks: Annotated[
            bool, typer.Option("--list-checks", help="List every check: its id, default level and title.")
        ] = False,
        explain: Annotated[
            str | None,
            typer.Option(
                "--explain", metavar="CHECK", help="Say what a check (or a group) looks for.", show_default=False
            ),
        ] = None,
    ) -> None:
        """Check Markdown articles against the rule base, for writers.

        Exit 0 when clean, 1 when a finding is at or above --fail-on, 2 for a usage or input
        error (a missing, binary, non-UTF-8 or too large file, something that is not a regular
        file, a bad configuration).
        """
        if list_checks or explain is not None:
            _catalog(list_checks, explain, fmt, paths)
            return
        paths = _usage(paths, fix)
        from dataclasses import replace

        from .. import __version__
        from ..errors import DocumentError, TherapySignalsError

        try:
            from ._checks import matching_checks, suggest_check
            from ._config import LintConfig, find_config, load_config
            from ._files import discover
            from ._finding import LintLevel
            from ._formats import OutputFormat, render
            from ._linter import Linter
            from ._read import read_stream
        except ImportError as missing:
            from .._install import install_command

            _error(f"the linter needs the 'lint' extra ({missing.name} is missing): {install_command('lint')}")
            raise typer.Exit(2) from None

        try:
            settings = LintConfig() if no_config else load_config(config) if config else find_config()
            extra: set[str] = set()
            for selector in disable or []:
                named = matching_checks(selector)
                if not named:
                    raise typer.BadParameter(
                        f"{selector!r} is no check{suggest_check(selector)}", param_hint="--disable"
                    )
                extra |= named
            if extra:
                settings = replace(settings, disable=settings.disable | extra)
            if max_bytes is not None:
                settings = replace(settings, max_bytes=max_bytes)
            excludes = _excludes(settings.root, settings.exclude, exclude)
            linter = Linter(settings, _rule_base(rules if rules is not None else settings.rules, pack))
        except TherapySignalsError as problem:
            _error(str(problem))
            raise typer.Exit(2) from None

        discovery = discover(paths, excludes, force_exclude=force_exclude)
        files = discovery.files
        if not files and discovery.excluded:
            why = "--force-exclude applies them to named files" if force_exclude else "name a file to lint it anyway"
            left_out = _plural(discovery.excluded, "path")
            typer.echo(f"nothing to lint: {left_out} excluded by the exclude globs ({why})", err=True)
            return
        if not files:
            _error("no Markdown files found in the folders given")
            raise typer.Exit(2)
        findings: list[LintFinding] = []
        shown: list[LintFinding] = []
        linted: list[str] = []
        failed = False
        for path in files:
            try:
                if path == "-":
                    text = read_stream(sys.stdin.buffer, stdin_filename, linter.config.max_bytes)
                    found = _lint_text(linter, text, stdin_filename)  # the name tells MDX from Markdown
                    linted.append(stdin_filename)
                else:
                    found = _lint_path(linter, path, fix)
                    linted.append(path)
            except DocumentError as problem:
                _error(str(problem))
                failed = True
                continue
            findings.extend(found)
            shown.extend(found[:max_findings])
            if len(found) > max_findings:
                # SARIF for 210,000 findings of one hostile megabyte took 2.7 GB; no article has so many.
                typer.echo(
                    f"warning: {linted[-1]}: {len(found):,} findings; the first {max_findings:,} are listed "
                    "(--max-findings), the counts and the exit code include them all",
                    err=True,
                )

        book = linter.rule_base  # name, version and content hash, without loading the rule base
        output = render(
            shown,
            OutputFormat(fmt.value),
            files=linted,
            version=__version__,
            rulebook={"name": book.name, "version": book.version, "hash": book.content_hash},
        )
        sys.stdout.write(output)
        if fmt is _Format.text and findings:
            counts = {level: sum(1 for f in findings if f.level is level) for level in LintLevel}
            typer.echo(
                f"{counts[LintLevel.error]} errors, {counts[LintLevel.warning]} warnings, "
                f"{counts[LintLevel.suggestion]} suggestions in {len(linted)} file{'s' if len(linted) != 1 else ''}",
                err=True,
            )
        elif fmt is _Format.text and linted:
            typer.echo(f"no findings in {_plural(len(linted), 'file')}", err=True)
        if failed:
            raise typer.Exit(2)
        threshold = (
            settings.fail_on if fail_on is None else None if fail_on is _FailOn.none else LintLevel(fail_on.value)
        )
        if threshold is not None and any(f.level.rank >= threshold.rank for f in findings):
            raise typer.Exit(1)
