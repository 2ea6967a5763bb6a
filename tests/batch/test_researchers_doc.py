"""The factorial comparison of docs/researchers.md (step 5), run as the page shows it.

The sessions that use ``dependency.csv`` and ``dep-v*.parquet`` run with bash in a folder
holding ``my-rules/``, a copy of the shipped rules with the change the page describes; the
output must match what the page shows (``…`` is text left out, see tests/doc_sessions.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from therapy_signals._paths import default_rules_dir

from ..doc_sessions import pattern, sessions

PAGE = Path(__file__).parents[2] / "docs" / "researchers.md"


def test_the_factorial_comparison_runs_as_shown(tmp_path: Path) -> None:
    rules = shutil.copytree(default_rules_dir(), tmp_path / "my-rules")
    dependency = rules / "dependency.yaml"
    text = dependency.read_text(encoding="utf-8")
    rule = text.index("id: dependency.no-review-after-many-sessions")
    at = text.index("sessions: {at_least: 12}", rule)
    dependency.write_text(text[:at] + "sessions: {at_least: 8}" + text[at + 24 :], encoding="utf-8")
    steps = [(c, out) for c, out in sessions(PAGE) if "dependency.csv" in c or "dep-v" in c]
    assert [c.split()[1] for c, _ in steps] == ["generate", "batch", "batch", "diff", "diff"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command, shown in steps:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, (command, done.stderr)
        assert pattern(shown).search(done.stdout + done.stderr), (command, done.stdout + done.stderr)
