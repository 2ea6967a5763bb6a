"""Which files ``therapy-signals lint`` reads: folders walked, globs excluded, formats told apart.

Named files are always linted, whatever their name, unless ``force_exclude`` is set (as
ruff does): a writer who names ``drafts/new.md`` means it, while pre-commit names every
staged file and passes ``--force-exclude`` so the configuration's ``exclude`` still holds.
Folders found while walking are left out when hidden (``.git``, ``.github``), vendored or
generated (:data:`SKIPPED_FOLDERS`), or matched by an exclude glob.

Globs follow .gitignore: a pattern without a ``/`` matches a file or folder name at any
depth (``*.draft.md``, ``drafts``); one with a ``/`` is anchored at its base folder (the
configuration file's folder, or the current folder for ``--exclude``), where ``**``
spans folders (``drafts/**``, ``**/old/*.md``); a trailing ``/`` matches folders only.
Only the standard library is imported: the command line imports this before it knows
whether anything will be linted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LintConfigError

__all__ = [
    "JSX_SUFFIXES",
    "MARKDOWN_SUFFIXES",
    "SKIPPED_FOLDERS",
    "Discovery",
    "Exclude",
    "check_pattern",
    "dialect",
    "discover",
]

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".mdx", ".qmd", ".rmd")
"""Names a folder is searched for (any case): Markdown, MDX, Quarto and R Markdown."""
JSX_SUFFIXES = frozenset({".mdx"})
# Quarto and R Markdown are Markdown with ``:::`` fenced divs (and code chunks, which are
# fences already); MDX adds JSX and ESM on top of that.
_DIV_SUFFIXES = frozenset({".mdx", ".qmd", ".rmd"})
SKIPPED_FOLDERS = frozenset(
    {"node_modules", "bower_components", "vendor", "venv", "site-packages", "__pycache__", "__pypackages__"}
)
"""Folders never walked into (hidden ones neither): installed packages and caches hold
other projects' READMEs and changelogs, which are not the writer's to fix."""


def dialect(path: str) -> str:
    """``mdx`` (JSX and ESM), ``divs`` (Quarto, R Markdown: ``:::`` fences) or ``markdown``."""
    suffix = Path(path).suffix.lower()
    if suffix in JSX_SUFFIXES:
        return "mdx"
    return "divs" if suffix in _DIV_SUFFIXES else "markdown"


def check_pattern(pattern: object, where: str) -> str:
    """The glob itself; LintConfigError says what is wrong with one that cannot work."""
    if not isinstance(pattern, str):
        raise LintConfigError(f'{where}: {pattern!r} is not a string; write a glob such as "drafts/**"')
    if not pattern.strip("/ "):
        raise LintConfigError(f'{where}: {pattern!r} matches nothing; write a glob such as "drafts/**"')
    if ".." in pattern.split("/"):
        raise LintConfigError(
            f"{where}: {pattern!r} climbs out of its folder; globs are relative to the configuration "
            "file's folder (or the current folder for --exclude)"
        )
    return pattern


def _segment(glob: str) -> str:
    """One path segment of a glob as a regular expression: ``*`` and ``?`` stop at ``/``."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        index += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (close := glob.find("]", index + 1)) != -1:
            body = glob[index:close].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body[:1] in ("!", "^") else "[" + body + "]")
            index = close + 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate(pattern: str) -> re.Pattern[str]:
    parts = pattern.strip("/").split("/")
    regex = ""
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _segment(part) + ("" if last else "/")
    return re.compile(regex + r"\Z")


@dataclass(frozen=True)
class Exclude:
    """One exclude glob and the folder it is relative to."""

    pattern: str
    base: Path
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _anchored: bool = field(init=False, repr=False, compare=False)
    _folders_only: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", _translate(self.pattern))
        object.__setattr__(self, "_anchored", "/" in self.pattern.rstrip("/"))
        object.__setattr__(self, "_folders_only", self.pattern.endswith("/"))

    def matches(self, path: str, is_folder: bool) -> bool:
        """Whether ``path`` (as given) or a folder it is in, below the base, matches."""
        parts = self._parts(path)
        if parts is None:
            return False
        for count in range(1, len(parts) + 1):
            folder = count < len(parts) or is_folder
            if self._folders_only and not folder:
                continue
            subject = "/".join(parts[:count]) if self._anchored else parts[count - 1]
            if self._regex.match(subject):
                return True
        return False

    def _parts(self, path: str) -> list[str] | None:
        try:
            relative = os.path.relpath(path, self.base)  # both made absolute, neither resolved
        except ValueError:  # another drive (Windows)
            relative = ".."
        parts = Path(relative).parts
        if parts and parts[0] == "..":
            # Outside the base: an anchored glob cannot match; a name glob still matches
            # the names the path was given with.
            return None if self._anchored else [p for p in Path(path).parts if p not in ("..", ".", "/")]
        return [p for p in parts if p != "."]


def _excluded(path: str, is_folder: bool, excludes: Sequence[Exclude]) -> bool:
    return any(rule.matches(path, is_folder) for rule in excludes)


@dataclass
class Discovery:
    """The files to lint, in order, and how many were left out by an exclude glob."""

    files: list[str] = field(default_factory=list)
    excluded: int = 0


def discover(paths: Iterable[str], excludes: Sequence[Exclude] = (), *, force_exclude: bool = False) -> Discovery:
    """Files to lint: folders become the Markdown files inside them (sorted), ``-`` stays."""
    found = Discovery()
    for path in paths:
        if path != "-" and Path(path).is_dir():
            if force_exclude and _excluded(path, True, excludes):
                found.excluded += 1
                continue
            _walk(Path(path), excludes, found)
        elif path != "-" and force_exclude and _excluded(path, False, excludes):
            found.excluded += 1
        else:
            found.files.append(path)
    return found


def _walk(folder: Path, excludes: Sequence[Exclude], found: Discovery) -> None:
    """The Markdown files under ``folder``, without hidden, vendored or excluded ones.

    Links to folders are not followed, so a link back up cannot loop. Whatever else has a
    Markdown name is kept, a named pipe or a device too: linting it then says what it is
    instead of skipping it silently (reading one would block or never end).
    """
    files: list[str] = []
    for root, folders, names in os.walk(folder):
        kept = []
        for name in folders:
            if name.startswith(".") or name in SKIPPED_FOLDERS:
                continue
            if _excluded(str(Path(root) / name), True, excludes):
                found.excluded += 1
                continue
            kept.append(name)
        folders[:] = kept
        for name in names:
            file = str(Path(root) / name)
            if name.startswith(".") or Path(name).suffix.lower() not in MARKDOWN_SUFFIXES or not Path(file).exists():
                continue
            if _excluded(file, False, excludes):
                found.excluded += 1
            else:
                files.append(file)
    found.files.extend(sorted(files, key=Path))
