"""Linter configuration: ``[tool.therapy-signals.lint]`` in pyproject.toml, or ``.therapy-signals.toml``.

Looked for from the current folder up to the root, the way ruff and Vale find theirs; in
each folder ``.therapy-signals.toml`` (its ``[lint]`` table) wins over ``pyproject.toml``. A
pyproject.toml without the table does not stop the search. Paths in the file are relative to
the file's folder.

Every problem in a file is reported at once, one a line, each naming the file, the key
(and its line when it can be found) and what is allowed: a writer fixing a configuration
should not have to run the linter once per mistake.

.. code-block:: toml

    [tool.therapy-signals.lint]
    fail-on = "warning"          # error (default), warning, suggestion or none
    disable = ["terms"]          # check ids or groups
    rules = "../my-rules"        # another rule base folder
    next-steps = ["our helpline"]  # more phrases that count as a resource

    max-bytes = 2097152            # the largest article, in bytes (default 1 MiB)
    exclude = ["drafts/**", "*.draft.md"]  # globs of files and folders not to lint


    [tool.therapy-signals.lint.levels]
    "safety.no-next-steps" = "error"

    [tool.therapy-signals.lint.terms]   # replaces the default table
    patient = "client"
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LintConfigError
from ._checks import matching_checks, suggest_check
from ._files import check_pattern
from ._finding import LintLevel
from ._terms import DEFAULT_TERMS

__all__ = ["DEFAULT_MAX_BYTES", "LintConfig", "find_config", "load_config"]

_KEYS = ("fail-on", "disable", "rules", "next-steps", "levels", "terms", "max-bytes", "exclude")

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest article the linter reads: 1 MiB, some 150 times the guide this project encodes.
Every step is linear in the input, so this bounds the work: the costliest shapes measured,
a megabyte of one-line list items or of nested ones, took up to 14 s and 370 MB
(docs/decisions/0009-linter-limits.md)."""


@dataclass(frozen=True)
class LintConfig:
    """What to check and how strictly. Every field has a default; ``LintConfig()`` is the default.

    ``exclude`` holds globs of files and folders the command line leaves out, relative to
    ``root`` (the configuration file's folder; the current folder when None).
    """

    disable: frozenset[str] = frozenset()
    levels: Mapping[str, LintLevel] = field(default_factory=dict)
    terms: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TERMS))
    next_steps: tuple[str, ...] = ()
    fail_on: LintLevel | None = LintLevel.error
    rules: Path | None = None
    source: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    exclude: tuple[str, ...] = ()
    root: Path | None = None

    def __post_init__(self) -> None:
        _check_max_bytes(self.max_bytes, "LintConfig(max_bytes=...)")
        for pattern in self.exclude:
            check_pattern(pattern, "LintConfig(exclude=...)")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<config>", base: Path | None = None) -> LintConfig:
        """Build a configuration from a parsed table; LintConfigError lists every key that is wrong."""
        return _parse(data, _Problems(source), base)


class _Problems:
    """What is wrong with one configuration, collected so that all of it is reported at once."""

    def __init__(self, source: str, text: str | None = None) -> None:
        self.source = source
        self._found: list[tuple[float, str]] = []  # (line, or infinity when unknown; message)
        self._lines = text.splitlines() if text is not None else []
        self._table = self._header("lint") or 0

    def add(self, message: str, key: str | None = None, value: object = None, within: str | None = None) -> None:
        """``message`` about ``key`` (in the sub-table ``within``), after the file's name."""
        self._note(f"{self.source}: {message}", key, value, within)

    def add_error(self, error: LintConfigError, key: str) -> None:
        """A message already made whole elsewhere (it names the file), with the key's line."""
        self._note(str(error), key, None, None)

    def _note(self, message: str, key: str | None, value: object, within: str | None) -> None:
        line = self._locate(key, value, within) if key is not None else None
        self._found.append((line or float("inf"), message + (f" (line {line})" if line else "")))

    def _header(self, table: str) -> int | None:
        """The 0-based line of a ``[....table]`` header."""
        header = re.compile(rf"\s*\[[^\]]*\b{re.escape(table)}\s*\]\s*(?:#.*)?$")
        return next((n for n, line in enumerate(self._lines) if header.match(line)), None)

    def _locate(self, key: str, value: object, within: str | None) -> int | None:
        """The 1-based line of ``key`` (of ``value`` in its list), if it can be told."""
        name = rf"[\"']?{re.escape(key)}[\"']?"
        # ``key =`` at the start of a line or in an inline table, or a ``[....key]`` table header.
        assignment = re.compile(rf"(?:^\s*|[{{,]\s*){name}\s*=|^\s*\[[^\]]*\.{name}\s*\]\s*$")
        first = (self._header(within) if within else None) or self._table
        for number in range(first, len(self._lines)):
            if assignment.search(self._lines[number]):
                return self._value_line(number, value) if isinstance(value, str) else number + 1
        return None

    def _value_line(self, number: int, value: str) -> int:
        quoted = re.compile(rf"[\"']{re.escape(value)}[\"']")
        return next((n + 1 for n in range(number, len(self._lines)) if quoted.search(self._lines[n])), number + 1)

    def raise_any(self) -> None:
        """LintConfigError naming every problem, in the order of the file, if there is any."""
        messages = [message for _, message in sorted(self._found, key=lambda found: found[0])]
        if len(messages) == 1:
            raise LintConfigError(messages[0])
        if messages:
            raise LintConfigError(
                f"{self.source}: {len(messages)} problems in the configuration:\n"
                + "\n".join(f"  {m}" for m in messages)
            )


def _parse(data: Mapping[str, Any], problems: _Problems, base: Path | None) -> LintConfig:
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the keys are {', '.join(_KEYS)}"
            problems.add(f"unknown key {key!r}{hint}", key)
    disable = _disable(data, problems)
    levels = _levels(data, problems, disable)
    terms = _terms(data, problems)
    fail_on = _fail_on(data, problems)
    rules = _rules(data, problems, base)
    max_bytes = data.get("max-bytes", DEFAULT_MAX_BYTES)
    try:
        _check_max_bytes(max_bytes, f"{problems.source}: max-bytes")
    except LintConfigError as error:
        problems.add_error(error, "max-bytes")
    next_steps = _strings(data.get("next-steps", []), "next-steps", problems)
    exclude = _exclude(data, problems)
    problems.raise_any()
    return LintConfig(
        max_bytes=max_bytes,
        disable=frozenset(disable),
        levels=levels,
        terms=terms,
        next_steps=tuple(next_steps),
        fail_on=fail_on,
        rules=rules,
        source=problems.source,
        exclude=tuple(exclude),
        root=base,
    )


def _disable(data: Mapping[str, Any], problems: _Problems) -> set[str]:
    disable: set[str] = set()
    for selector in _strings(data.get("disable", []), "disable", problems):
        named = matching_checks(selector)
        if not named:
            problems.add(f"disable: {selector!r} is no check{suggest_check(selector)}", "disable", selector)
        disable |= named
    return disable


def _levels(data: Mapping[str, Any], problems: _Problems, disable: set[str]) -> dict[str, LintLevel]:
    levels: dict[str, LintLevel] = {}
    raw = data.get("levels", {})
    if not isinstance(raw, Mapping):
        problems.add("levels must be a table of check id = level", "levels")
        return levels
    for selector, value in raw.items():
        named = matching_checks(selector)
        if not named:
            problems.add(f"levels: {selector!r} is no check{suggest_check(selector)}", selector, within="levels")
            continue
        if value == "off":
            disable |= named
            continue
        level = _level(value, f"levels.{selector}", "off", problems, selector, within="levels")
        if level is not None:
            levels.update(dict.fromkeys(named, level))
    return levels


def _terms(data: Mapping[str, Any], problems: _Problems) -> dict[str, str]:
    terms = data.get("terms", DEFAULT_TERMS)
    shape = 'terms must be a table of "term to avoid" = "preferred term"'
    if not isinstance(terms, Mapping):
        problems.add(shape, "terms")
        return dict(DEFAULT_TERMS)
    good: dict[str, str] = {}
    for avoid, prefer in terms.items():
        if isinstance(avoid, str) and isinstance(prefer, str) and avoid.strip():
            good[avoid] = prefer
        else:
            problems.add(f"terms: {avoid!r} = {prefer!r}; {shape}", str(avoid), within="terms")
    return good


def _fail_on(data: Mapping[str, Any], problems: _Problems) -> LintLevel | None:
    raw = data.get("fail-on", "error")
    return None if raw == "none" else _level(raw, "fail-on", "none", problems, "fail-on")


def _rules(data: Mapping[str, Any], problems: _Problems, base: Path | None) -> Path | None:
    rules = data.get("rules")
    if rules is None:
        return None
    if not isinstance(rules, str):
        problems.add(f"rules = {rules!r}; rules must be a folder path (a string)", "rules")
        return None
    path = Path(rules)
    return base / path if base is not None and not path.is_absolute() else path


def _exclude(data: Mapping[str, Any], problems: _Problems) -> list[str]:
    patterns = []
    for pattern in _strings(data.get("exclude", []), "exclude", problems):
        try:
            patterns.append(check_pattern(pattern, f"{problems.source}: exclude"))
        except LintConfigError as error:
            problems.add_error(error, "exclude")
    return patterns


def _check_max_bytes(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LintConfigError(
            f"{where} = {value!r}; use a whole number of bytes, 1 or more "
            f"(the default is {DEFAULT_MAX_BYTES:,}, 1 MiB; 4194304 is 4 MiB)"
        )


def _strings(value: Any, key: str, problems: _Problems) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(f"{key} = {value!r}; {key} must be a list of strings", key)
        return []
    return value


def _level(
    value: Any, key: str, other: str, problems: _Problems, located: str, within: str | None = None
) -> LintLevel | None:
    try:
        return LintLevel(value)
    except ValueError:
        choices = [level.value for level in LintLevel]
        close = difflib.get_close_matches(str(value), [*choices, other], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.add(f"{key} = {value!r}; {hint}use one of {', '.join(choices)} or {other}", located, within=within)
        return None


def _table(data: Mapping[str, Any], *keys: str) -> Any:
    """``data[keys[0]][keys[1]]...``, or {} where a level is missing or is not a table."""
    for key in keys:
        data = data.get(key, {}) if isinstance(data, Mapping) else {}
    return data


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise LintConfigError(f"{path}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LintConfigError(f"{path}: cannot read: {error}") from None


def load_config(path: str | Path) -> LintConfig:
    """Read a configuration file: a ``.therapy-signals.toml`` ([lint]) or a pyproject.toml."""
    file = Path(path)
    if not file.is_file():
        raise LintConfigError(f"{file}: no such configuration file")
    data, text = _read_toml(file)
    if file.name == "pyproject.toml":
        table = _table(data, "tool", "therapy-signals", "lint")
    else:
        table = data.get("lint", {})
        extra = [key for key in data if key != "lint"]
        if extra and any(key in _KEYS for key in extra):
            raise LintConfigError(f"{file}: put the linter's settings under a [lint] table")
    if not isinstance(table, Mapping):
        raise LintConfigError(f"{file}: the lint settings must be a table")
    return _parse(table, _Problems(str(file), text), file.parent)


def find_config(start: str | Path | None = None) -> LintConfig:
    """The configuration that applies in ``start`` (default: the current folder), or the default."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        dedicated = candidate / ".therapy-signals.toml"
        if dedicated.is_file():
            return load_config(dedicated)
        project = candidate / "pyproject.toml"
        if project.is_file():
            data, _ = _read_toml(project)
            if "lint" in _table(data, "tool", "therapy-signals"):
                return load_config(project)
    return LintConfig()
