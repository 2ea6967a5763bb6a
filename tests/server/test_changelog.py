"""rules/CHANGELOG.md is what git history says, and the CLI writes it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from therapy_signals._changelog import ChangelogError, changelog

ROOT = Path(__file__).resolve().parents[2]


def in_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True)
    return done.returncode == 0 and Path(done.stdout.strip()).resolve() == ROOT.resolve()


needs_git = pytest.mark.skipif(
    not in_git_checkout(), reason="rules/CHANGELOG.md is built from git history; this is not a git checkout"
)


@needs_git
def test_committed_changelog_is_up_to_date() -> None:
    committed = (ROOT / "rules" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert committed == changelog(ROOT), (
        "rules/CHANGELOG.md is stale: run `therapy-signals rules changelog -o rules/CHANGELOG.md` and commit it"
    )


@needs_git
def test_the_first_rule_base_is_all_additions() -> None:
    text = changelog(ROOT)
    last = text.rsplit("\n## ", 1)[1]
    assert last.startswith("0.1.0")
    assert "### Added (" in last and "### Removed" not in last


@needs_git
def test_cli_writes_the_changelog(tmp_path: Path) -> None:
    out = tmp_path / "CHANGELOG.md"
    done = subprocess.run(
        [sys.executable, "-m", "therapy_signals", "rules", "changelog", "-o", str(out), "--repo", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == changelog(ROOT)


def test_outside_a_checkout_the_error_says_why(tmp_path: Path) -> None:
    with pytest.raises(ChangelogError, match="not a git checkout"):
        changelog(tmp_path)
