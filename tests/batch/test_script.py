"""The Python example of docs/researchers.md, saved as a script and run as one.

Issue 14: the example started two worker processes from the script's top level. Workers
start fresh (spawn) and import the script again, so the batch started once more in each,
died on the output's lock, and the run failed with a broken pool. Now the example has the
``__main__`` guard and runs; without it the run stops at once and says what to add; and a
run that stopped before its first record does not block the next one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, RuleBook
from therapy_signals.batch import Batch, write_scenarios
from therapy_signals.batch._main_guard import _guarded

from .conftest import simple_scenarios

DOC = Path(__file__).parents[2] / "docs" / "researchers.md"
TIMEOUT = 300  # a guard against hanging, not a timing assertion
GUARD = 'if __name__ == "__main__":  # worker processes import this script again: it must not start a batch there\n    main()\n'


def _example() -> str:
    """The Python block of the "From Python" section, as the page shows it."""
    section = DOC.read_text(encoding="utf-8").split("## From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, script.name], cwd=script.parent, capture_output=True, text=True, timeout=TIMEOUT
    )


def test_the_example_runs_as_a_script_and_without_the_guard_says_what_to_add(tmp_path: Path) -> None:
    example = _example()
    assert GUARD in example and "workers=2" in example
    unguarded = tmp_path / "unguarded.py"
    unguarded.write_text(example.replace(GUARD, "main()\n"), encoding="utf-8")
    failed = _run(unguarded)
    assert failed.returncode == 1
    line = next(n for n, text in enumerate(unguarded.read_text().splitlines(), 1) if text == "main()")
    assert (
        f"therapy_signals.errors.BatchError: {unguarded}, line {line}: a batch with 2 workers starts worker processes, "
        "which import this script again and would run it once more each; put the code that runs the batch under "
        '`if __name__ == "__main__":`'
    ) in failed.stderr
    assert "BrokenProcessPool" not in failed.stderr and "stopped unexpectedly" not in failed.stderr
    assert not (tmp_path / "results.parquet.manifest.json").exists()  # stopped before writing anything

    guarded = tmp_path / "guarded.py"
    guarded.write_text(example, encoding="utf-8")
    done = _run(guarded)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "results.parquet.manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["parallel"]["workers"] == 2
    assert manifest["counts"]["results"] == int(done.stdout.splitlines()[0])
    assert (tmp_path / "report" / "index.html").exists()


def test_top_level_code_without_a_function_is_refused_too(tmp_path: Path, book: RuleBook) -> None:
    write_scenarios(simple_scenarios(book, 4), tmp_path / "s.jsonl")
    script = tmp_path / "flat.py"
    script.write_text(
        "from therapy_signals.batch import run_batch\n"
        "import sys\n"
        "try:\n"
        "    run = run_batch('s.jsonl', 'out.jsonl', workers=2)\n"
        "except Exception as error:\n"
        "    sys.exit(f'{type(error).__name__}: {error}')\n"
        "print(len(list(run)))\n",
        encoding="utf-8",
    )
    failed = _run(script)
    assert failed.returncode == 1 and failed.stderr.startswith(f"BatchError: {script}, line 4: a batch with 2 workers")


@pytest.mark.parametrize(
    ("source", "line", "guarded"),
    [
        ('if __name__ == "__main__":\n    run()\n', 2, True),
        ('if "__main__" == __name__:\n    run()\n', 2, True),
        ('def f():\n    pass\nif __name__ == "__main__":\n    f()\nrun()\n', 5, False),
        ('if __name__ != "__main__":\n    run()\n', 2, False),
        ("try:\n    if __name__ == '__main__':\n        run()\nfinally:\n    pass\n", 3, True),
        ("if x:\n    run()\n", 2, False),
        ("def broken(:\n", 1, True),  # cannot tell: never refuse a script for our parser's sake
        ('if __name__ == "__main__" and not quiet:\n    run()\n', 2, True),
        ('if __name__ != "__main__":\n    pass\nelse:\n    run()\n', 4, True),
        ('if __name__ == "__main__":\n    pass\nelse:\n    run()\n', 4, False),
        ('if __name__ == "__main__":\n    def f():\n        run()\nf()\n', 4, False),
    ],
)
def test_what_counts_as_guarded(source: str, line: int, guarded: bool) -> None:
    assert _guarded(source, line) is guarded


@settings(max_examples=200, deadline=None)
@given(
    source=st.one_of(st.text(max_size=300), st.just("(" * 300 + ")" * 300), st.just("if x:\n" * 120 + " run()")),
    line=st.integers(-5, 400),
)
def test_any_text_is_judged_without_raising(source: str, line: int) -> None:
    assert isinstance(_guarded(source, line), bool)


def _stopped_at_start() -> Iterator[str]:
    raise KeyboardInterrupt
    yield  # pragma: no cover - makes this a generator


def test_a_run_that_stopped_before_any_record_does_not_block_the_next(
    tmp_path: Path, engine: Engine, book: RuleBook
) -> None:
    batch = Batch(engine=engine, chunk_size=5)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        list(batch.run(_stopped_at_start(), out))
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["counts"]["records"] == 0
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 12), source)
    again = batch.run(source, out)
    assert len(list(again)) == 12
    assert json.loads((tmp_path / "out.jsonl.manifest.json").read_text())["status"] == "complete"
    assert len(out.read_text().splitlines()) == 12
