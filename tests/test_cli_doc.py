"""docs/cli.md: the `explain` sessions on the shipped examples give the output the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .doc_sessions import pattern, sessions

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"


def test_the_explain_sessions_on_the_examples_give_the_output_shown() -> None:
    steps = [(c, shown) for c, shown in sessions(PAGE) if c.startswith("therapy-signals explain examples/")]
    assert steps
    for command, shown in steps:
        runnable = re.sub(r"^therapy-signals ", f"{sys.executable} -m therapy_signals ", command)
        done = subprocess.run(["bash", "-c", runnable], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert pattern(shown).search(done.stdout), (
            f"$ {command}\n--- shown:\n" + "\n".join(shown) + f"\n--- got:\n{done.stdout}"
        )
