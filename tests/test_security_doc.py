"""docs/security.md, run as written: every shell session in a scratch folder, compared with the
output the page shows, and its Python blocks (whose asserts are what the page claims)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .doc_sessions import blocks, pattern, sessions

PAGE = Path(__file__).resolve().parent.parent / "docs" / "security.md"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shell_sessions_give_the_output_shown(workdir: Path) -> None:
    steps = sessions(PAGE)
    assert len(steps) >= 10
    for command, shown in steps:
        runnable = re.sub(r"(^|; )therapy-signals ", rf"\1{sys.executable} -m therapy_signals ", command)
        done = subprocess.run(
            ["bash", "-c", runnable], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120
        )
        output = done.stdout  # standard error interleaved, as a terminal shows it
        assert "Traceback" not in output
        assert pattern(shown).search(output), f"$ {command}\n--- shown:\n" + "\n".join(shown) + f"\n--- got:\n{output}"


def test_the_python_blocks_hold(workdir: Path) -> None:
    found = blocks(PAGE, "python")
    assert found
    for block in found:
        exec(compile(block, str(PAGE), "exec"), {})  # the page's own code, with its own asserts
