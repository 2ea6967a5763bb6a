"""rules/CHANGELOG.md, generated from the git history of ``rules/``.

For each commit that touched ``rules/*.yaml``, the rule files are loaded as they were at
that commit (``git show <rev>:rules/<file>``) and compared with the commit before: rules
added, rules removed, levels raised or lowered, and rules otherwise changed. Git is the
record, so the changelog cannot drift from what shipped; a test regenerates it and
compares, and ``therapy-signals rules changelog -o rules/CHANGELOG.md`` refreshes it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import TherapySignalsError
from .model import Level

__all__ = ["ChangelogError", "Entry", "changelog", "entries"]

_SEP = "\x1f"  # a unit separator cannot occur in a commit subject


class ChangelogError(TherapySignalsError):
    """The changelog cannot be built: not a git checkout, or git failed; the message says which."""


@dataclass(frozen=True)
class _Rule:
    level: str
    title: str
    body: str  # the whole definition, to notice any other change


@dataclass
class Entry:
    """What one commit changed in the rules."""

    commit: str
    date: str
    subject: str
    version: str
    added: list[tuple[str, _Rule]] = field(default_factory=list)
    removed: list[tuple[str, _Rule]] = field(default_factory=list)
    raised: list[tuple[str, str, str]] = field(default_factory=list)
    lowered: list[tuple[str, str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ChangelogError("git is not installed; the changelog is read from git history") from None
    if done.returncode != 0:
        raise ChangelogError(f"git {' '.join(args[:2])} failed in {repo}: {done.stderr.strip()}")
    return done.stdout


def _toplevel(repo: Path) -> Path:
    if not repo.is_dir():
        raise ChangelogError(f"{repo}: no such folder")
    try:
        return Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    except ChangelogError:
        raise ChangelogError(
            f"{repo.resolve()} is not a git checkout; the rule changelog is built from the history of rules/, "
            "so run it inside a clone of the repository (or pass --repo)"
        ) from None


def _state(root: Path, rev: str) -> tuple[str, dict[str, _Rule]]:
    names = _git(root, "ls-tree", "--name-only", rev, "rules/").split()
    version = "unversioned"
    rules: dict[str, _Rule] = {}
    for name in names:
        if not name.endswith((".yaml", ".yml")):
            continue
        data: Any = yaml.safe_load(_git(root, "show", f"{rev}:{name}"))
        if not isinstance(data, dict):
            continue
        if Path(name).name == "rulebook.yaml":
            version = str(data.get("version", version))
        for rule in data.get("rules") or []:
            if isinstance(rule, dict) and "id" in rule:
                body = yaml.safe_dump(rule, sort_keys=True)
                rules[str(rule["id"])] = _Rule(str(rule.get("level")), str(rule.get("title", "")), body)
    return version, rules


def _rank(level: str) -> int:
    return Level(level).rank if level in Level.__members__ else 0


def entries(repo: str | Path = ".") -> list[Entry]:
    """One entry per commit that touched rules/*.yaml, oldest first."""
    root = _toplevel(Path(repo))
    log = _git(root, "log", "--reverse", "--date=short", f"--format=%H{_SEP}%ad{_SEP}%s", "HEAD", "--", "rules/*.yaml")
    out: list[Entry] = []
    before: dict[str, _Rule] = {}
    for line in log.splitlines():
        commit, date, subject = line.split(_SEP, 2)
        version, after = _state(root, commit)
        entry = Entry(commit[:7], date, subject, version)
        for rule_id in sorted(after.keys() - before.keys()):
            entry.added.append((rule_id, after[rule_id]))
        for rule_id in sorted(before.keys() - after.keys()):
            entry.removed.append((rule_id, before[rule_id]))
        for rule_id in sorted(after.keys() & before.keys()):
            old, new = before[rule_id], after[rule_id]
            if _rank(new.level) > _rank(old.level):
                entry.raised.append((rule_id, old.level, new.level))
            elif _rank(new.level) < _rank(old.level):
                entry.lowered.append((rule_id, old.level, new.level))
            elif old.body != new.body:
                entry.changed.append(rule_id)
        out.append(entry)
        before = after
    return out


def changelog(repo: str | Path = ".") -> str:
    """rules/CHANGELOG.md as text, newest commit first."""
    lines = [
        "# Rule base changelog",
        "",
        "Generated from the git history of `rules/` by `therapy-signals rules changelog -o rules/CHANGELOG.md`;",
        "do not edit by hand. Each commit that changed a rule file is listed, newest first, with the",
        "rule base version (`rules/rulebook.yaml`) it left. Versioning: patch = wording, minor = rules",
        "added or levels raised, major = rules removed, levels lowered or ids renamed.",
    ]
    for entry in reversed(entries(repo)):
        lines += ["", f"## {entry.version} ({entry.date}, {entry.commit})", "", entry.subject]
        sections: list[tuple[str, list[str]]] = [
            ("Added", [f"- `{i}` ({r.level}): {r.title}" for i, r in entry.added]),
            ("Removed", [f"- `{i}` ({r.level}): {r.title}" for i, r in entry.removed]),
            ("Level raised", [f"- `{i}`: {old} → {new}" for i, old, new in entry.raised]),
            ("Level lowered", [f"- `{i}`: {old} → {new}" for i, old, new in entry.lowered]),
            ("Changed (condition or wording)", [f"- `{i}`" for i in entry.changed]),
        ]
        shown = [(title, items) for title, items in sections if items]
        if not shown:
            lines += ["", "No rule changed."]
        for title, items in shown:
            lines += ["", f"### {title} ({len(items)})", "", *items]
    return "\n".join(lines) + "\n"
