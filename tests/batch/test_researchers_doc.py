"""The rules edit of docs/researchers.md (step 5), as the page's commands make it.

tests/test_docs_sessions.py runs every session of the page, the edit and the factorial
comparison included, and matches the outputs shown; here the edit itself is held to what
the page's text says it is: in a copy of a checkout's ``rules/``, the threshold of
``dependency.no-review-after-many-sessions`` goes from 12 sessions to 8, and nothing else
in the rule base changes.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from therapy_signals import load_rulebook
from therapy_signals.rulebook import Rule

from ..doc_sessions import sessions

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "researchers.md"
RULE = "dependency.no-review-after-many-sessions"


def _edit_commands() -> list[str]:
    found = [command for command, _ in sessions(PAGE) if command.split()[0] in {"cp", "sed"}]
    assert [command.split()[0] for command in found] == ["cp", "sed"], found
    return found


def _sessions_threshold(book_rules: Mapping[str, Rule]) -> object:
    when = book_rules[RULE].model_dump()["when"]
    (bound,) = [part["sessions"] for part in when["all"] if part.get("sessions")]
    return bound["at_least"]


def test_the_pages_rules_edit_changes_that_rule_only(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")  # what a reader's checkout has
    for command in _edit_commands():
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (command, done.stderr)
    before, after = load_rulebook(tmp_path / "rules"), load_rulebook(tmp_path / "reviewed-rules")
    assert set(before.rules) == set(after.rules)
    changed = {rule for rule in before.rules if before.rules[rule].model_dump() != after.rules[rule].model_dump()}
    assert changed == {RULE}
    assert (_sessions_threshold(before.rules), _sessions_threshold(after.rules)) == (12, 8)
    assert before.content_hash != after.content_hash


def test_the_page_says_what_the_edit_does() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert f"`{RULE}`" in text
    assert "should apply after 8 sessions instead of 12" in text
