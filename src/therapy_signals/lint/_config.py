"""Linter configuration: ``[tool.therapy-signals.lint]`` in pyproject.toml, or ``.therapy-signals.toml``.

Looked for from the current folder up to the root, the way ruff and Vale find theirs; in
each folder ``.therapy-signals.toml`` (its ``[lint]`` table) wins over ``pyproject.toml``. A
pyproject.toml without the table does not stop the search. Paths in the file are relative to
the file's folder.

.. code-block:: toml

    [tool.therapy-signals.lint]
    fail-on = "warning"          # error (default), warning, suggestion or none
    disable = ["terms"]          # check ids or groups
    rules = "../my-rules"        # another rule base folder
    next-steps = ["our helpline"]  # more phrases that count as a resource

    max-bytes = 2097152            # the largest article, in bytes (default 1 MiB)

    [tool.therapy-signals.lint.levels]
    "safety.no-next-steps" = "error"

    [tool.therapy-signals.lint.terms]   # replaces the default table
    patient = "client"
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LintConfigError
from ._checks import matching_checks, suggest_check
from ._finding import LintLevel
from ._terms import DEFAULT_TERMS

__all__ = ["DEFAULT_MAX_BYTES", "LintConfig", "find_config", "load_config"]

_KEYS = ("fail-on", "disable", "rules", "next-steps", "levels", "terms", "max-bytes")

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest article the linter reads: 1 MiB, some 150 times the guide this project encodes.
Every step is linear in the input, so this bounds the work: the costliest shapes measured,
a megabyte of one-line list items or of nested ones, took up to 14 s and 370 MB
(docs/decisions/0009-linter-limits.md)."""


@dataclass(frozen=True)
class LintConfig:
    """What to check and how strictly. Every field has a default; ``LintConfig()`` is the default."""

    disable: frozenset[str] = frozenset()
    levels: Mapping[str, LintLevel] = field(default_factory=dict)
    terms: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TERMS))
    next_steps: tuple[str, ...] = ()
    fail_on: LintLevel | None = LintLevel.error
    rules: Path | None = None
    source: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        _check_max_bytes(self.max_bytes, "LintConfig(max_bytes=...)")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<config>", base: Path | None = None) -> LintConfig:
        """Build a configuration from a parsed table; LintConfigError names the key and the fix."""
        unknown = [key for key in data if key not in _KEYS]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the keys are {', '.join(_KEYS)}"
            raise LintConfigError(f"{source}: unknown key {key!r}{hint}")
        disable: set[str] = set()
        for selector in _strings(data.get("disable", []), "disable", source):
            named = matching_checks(selector)
            if not named:
                raise LintConfigError(f"{source}: disable: {selector!r} is no check{suggest_check(selector)}")
            disable |= named
        levels: dict[str, LintLevel] = {}
        raw_levels = data.get("levels", {})
        if not isinstance(raw_levels, Mapping):
            raise LintConfigError(f"{source}: levels must be a table of check id = level")
        for selector, value in raw_levels.items():
            named = matching_checks(selector)
            if not named:
                raise LintConfigError(f"{source}: levels: {selector!r} is no check{suggest_check(selector)}")
            if value == "off":
                disable |= named
                continue
            level = _level(value, f"levels.{selector}", source)
            for check in named:
                levels[check] = level
        terms = data.get("terms", DEFAULT_TERMS)
        if not isinstance(terms, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() for k, v in terms.items()
        ):
            raise LintConfigError(f'{source}: terms must be a table of "term to avoid" = "preferred term"')
        fail_on_raw = data.get("fail-on", "error")
        fail_on = None if fail_on_raw == "none" else _level(fail_on_raw, "fail-on", source)
        rules = data.get("rules")
        if rules is not None and not isinstance(rules, str):
            raise LintConfigError(f"{source}: rules must be a folder path (a string)")
        rules_path = None
        if rules is not None:
            rules_path = Path(rules)
            if base is not None and not rules_path.is_absolute():
                rules_path = base / rules_path
        max_bytes = data.get("max-bytes", DEFAULT_MAX_BYTES)
        _check_max_bytes(max_bytes, f"{source}: max-bytes")
        return cls(
            max_bytes=max_bytes,
            disable=frozenset(disable),
            levels=levels,
            terms=dict(terms),
            next_steps=tuple(_strings(data.get("next-steps", []), "next-steps", source)),
            fail_on=fail_on,
            rules=rules_path,
            source=source,
        )


def _check_max_bytes(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LintConfigError(
            f"{where} = {value!r}; use a whole number of bytes, 1 or more "
            f"(the default is {DEFAULT_MAX_BYTES:,}, 1 MiB; 4194304 is 4 MiB)"
        )


def _strings(value: Any, key: str, source: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LintConfigError(f"{source}: {key} must be a list of strings")
    return value


def _level(value: Any, key: str, source: str) -> LintLevel:
    try:
        return LintLevel(value)
    except ValueError:
        choices = ", ".join(level.value for level in LintLevel)
        raise LintConfigError(f"{source}: {key} = {value!r}; use one of {choices} (or 'none' / 'off')") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise LintConfigError(f"{path}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LintConfigError(f"{path}: cannot read: {error}") from None


def load_config(path: str | Path) -> LintConfig:
    """Read a configuration file: a ``.therapy-signals.toml`` ([lint]) or a pyproject.toml."""
    file = Path(path)
    if not file.is_file():
        raise LintConfigError(f"{file}: no such configuration file")
    data = _read_toml(file)
    if file.name == "pyproject.toml":
        table = data.get("tool", {}).get("therapy-signals", {}).get("lint", {})
    else:
        table = data.get("lint", {})
        extra = [key for key in data if key != "lint"]
        if extra and any(key in _KEYS for key in extra):
            raise LintConfigError(f"{file}: put the linter's settings under a [lint] table")
    if not isinstance(table, Mapping):
        raise LintConfigError(f"{file}: the lint settings must be a table")
    return LintConfig.from_mapping(table, str(file), file.parent)


def find_config(start: str | Path | None = None) -> LintConfig:
    """The configuration that applies in ``start`` (default: the current folder), or the default."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        dedicated = candidate / ".therapy-signals.toml"
        if dedicated.is_file():
            return load_config(dedicated)
        project = candidate / "pyproject.toml"
        if project.is_file():
            data = _read_toml(project)
            if "lint" in data.get("tool", {}).get("therapy-signals", {}):
                return load_config(project)
    return LintConfig()
