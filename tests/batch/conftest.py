"""Helpers for the batch tests: scenario files with known good and bad records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from therapy_signals import RuleBook, Scenario

SCRIPT = Path(sys.executable).parent / "therapy-signals"
FORMATS = ["jsonl", "jsonl.gz", "csv", "parquet"]


def simple_scenarios(book: RuleBook, count: int, prefix: str = "t") -> list[Scenario]:
    """``count`` distinct scenarios cycling through the rule base's signals, one to three each."""
    signals = sorted(book.signals)
    scenarios = []
    for number in range(count):
        size = 1 + number % 3
        chosen = [signals[(number * 7 + k * 11) % len(signals)] for k in range(size)]
        observations = [{"signal": s, "frequency": ["once", "often"][number % 2]} for s in dict.fromkeys(chosen)]
        scenarios.append(Scenario.model_validate({"id": f"{prefix}{number}", "observations": observations}))
    return scenarios


BAD_LINES = [
    "not json at all",
    json.dumps({"observations": [{"signal": "no_such_signal_here"}]}),
    json.dumps({"id": "bad-field", "observations": [{"signal": "x", "frequncy": "often"}]}),
    json.dumps([1, 2, 3]),
    json.dumps({"observations": []}),
]


@pytest.fixture
def mixed_jsonl(tmp_path: Path, book: RuleBook) -> tuple[Path, int, int]:
    """A JSONL file of valid scenarios with bad lines and a blank line among them."""
    good = [s.model_dump_json(exclude_none=True) for s in simple_scenarios(book, 40)]
    lines = good[:10] + BAD_LINES[:2] + [""] + good[10:30] + BAD_LINES[2:] + good[30:]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(good), len(BAD_LINES)
