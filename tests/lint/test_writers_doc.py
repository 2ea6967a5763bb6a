"""docs/writers.md says what the linter understands and what it does not: every example is true.

Each Markdown block of the section "What the linter understands, and what it does not" is
linted as written, without its annotations. A line marked ``<- error`` must get an error of a
meaning check, ``<- warning`` a warning, ``<- fine`` nothing, and ``<- missed`` (a known limit)
no error: the day the linter reads it, this fails and the page must change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from therapy_signals.lint import Linter, LintLevel

PAGE = Path(__file__).resolve().parents[2] / "docs" / "writers.md"
SECTION = "## What the linter understands, and what it does not"
MEANING = frozenset(
    {
        "statement.normalises-concern",
        "framing.concern-listed-as-normal",
        "framing.normal-listed-as-warning",
        "safety.no-next-steps",
    }
)
_MARK = re.compile(r"\s{2,}<- (error|warning|fine|missed)\s*$")


def _blocks() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    # The next section's heading outside a fence: the examples hold headings of their own.
    fences = re.finditer(r"^```.*?^```|^## .*$", text[start + len(SECTION) :], flags=re.S | re.M)
    end = next((start + len(SECTION) + m.start() for m in fences if m.group().startswith("## ")), len(text))
    return re.findall(r"^```markdown\n(.*?)^```", text[start:end], flags=re.S | re.M)


BLOCKS = _blocks()


def test_the_section_has_examples_of_each_kind() -> None:
    marks = [m.group(1) for block in BLOCKS for line in block.splitlines() if (m := _MARK.search(line))]
    assert len(BLOCKS) >= 8
    assert {"error", "warning", "fine", "missed"} <= set(marks)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{n}" for n in range(1, len(BLOCKS) + 1)])
def test_each_example_is_what_the_page_says(linter: Linter, block: str) -> None:
    lines = block.splitlines()
    marks = {n: m.group(1) for n, line in enumerate(lines, 1) if (m := _MARK.search(line))}
    article = "\n".join(_MARK.sub("", line) for line in lines) + "\n"
    findings = [f for f in linter.lint_text(article) if f.check in MEANING]
    assert marks, "a block without annotations says nothing"
    for number, mark in marks.items():
        on_line = [f for f in findings if f.line == number]
        shown = [(f.check, f.signal) for f in on_line]
        if mark == "error":
            assert any(f.level is LintLevel.error for f in on_line), (lines[number - 1], shown)
        elif mark == "warning":
            assert any(f.level is LintLevel.warning for f in on_line), (lines[number - 1], shown)
        elif mark == "fine":
            assert not on_line, (lines[number - 1], shown)
        else:
            assert not any(f.level is LintLevel.error for f in on_line), (lines[number - 1], shown)
