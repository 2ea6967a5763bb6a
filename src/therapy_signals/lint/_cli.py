"""``therapy-signals lint``: the command line of the linter.

Only typer and the standard library are imported at module level: ``register`` runs every
time the ``therapy-signals`` command starts, and ``therapy-signals explain`` must not pay
for markdown-it, ftfy or lemminflect.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

MAX_FINDINGS = 10_000
"""Findings listed per file by default: a real article has tens; a hostile one had 210,000."""
_MARKDOWN = (".md", ".markdown", ".mdown", ".mkd")


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


def _expand(paths: list[str]) -> list[str]:
    """Files to lint: folders become the Markdown files inside them (sorted)."""
    found: list[str] = []
    for path in paths:
        if path != "-" and Path(path).is_dir():
            found.extend(str(file) for file in _markdown_in(Path(path)))
        else:
            found.append(path)
    return found


def _markdown_in(folder: Path) -> list[Path]:
    """The Markdown files under ``folder``, hidden ones and those in hidden folders left out.

    Links to folders are not followed, so a link back up cannot loop. Whatever else has a
    Markdown name is kept, a named pipe or a device too: linting it then says what it is
    instead of skipping it silently (reading one would block or never end).
    """
    files: list[Path] = []
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            file = Path(root) / name
            if not name.startswith(".") and file.suffix.lower() in _MARKDOWN and file.exists():
                files.append(file)
    return sorted(files)


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def register(app: typer.Typer) -> None:
    """Add the top-level ``lint`` command to the ``therapy-signals`` app."""

    @app.command("lint")
    def lint_command(
        paths: Annotated[
            list[str],
            typer.Argument(help="Markdown files or folders to lint, or - for standard input.", show_default=False),
        ],
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
            typer.Option("--rules", help="A rule base folder (default: the shipped one).", show_default=False),
        ] = None,
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
    ) -> None:
        """Check Markdown articles against the rule base, for writers.

        Exit 0 when clean, 1 when a finding is at or above --fail-on, 2 for a usage or input
        error (a missing, binary, non-UTF-8 or too large file, something that is not a regular
        file, a bad configuration).
        """
        from dataclasses import replace

        from .. import __version__
        from ..errors import DocumentError, TherapySignalsError

        try:
            from ._checks import matching_checks, suggest_check
            from ._config import LintConfig, find_config, load_config
            from ._finding import LintFinding, LintLevel
            from ._formats import OutputFormat, render
            from ._linter import Linter
        except ImportError as missing:
            _error(
                f"the linter needs the 'lint' extra ({missing.name} is missing): pip install 'therapy-signals[lint]'"
            )
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
            linter = Linter(settings, rules if rules is not None else settings.rules)
        except TherapySignalsError as problem:
            _error(str(problem))
            raise typer.Exit(2) from None

        files = _expand(paths)
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
                    found = linter.lint_stream(sys.stdin.buffer, stdin_filename)
                    linted.append(stdin_filename)
                else:
                    found = linter.lint_file(path)
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

        book = linter.rulebook
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
        if failed:
            raise typer.Exit(2)
        threshold = (
            settings.fail_on if fail_on is None else None if fail_on is _FailOn.none else LintLevel(fail_on.value)
        )
        if threshold is not None and any(f.level.rank >= threshold.rank for f in findings):
            raise typer.Exit(1)
