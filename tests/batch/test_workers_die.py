"""Worker processes exit when their parent dies, however it dies.

Issue 10, item 9: killing only the parent of ``batch --workers N`` (SIGKILL, the OOM killer)
left its workers running for good: each holds both ends of the pool's pipes, so it never
sees its input end. Here the parent is killed and every process it started must be gone.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from therapy_signals import RuleBook
from therapy_signals.batch import write_scenarios

from .conftest import SCRIPT, simple_scenarios

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux")
TIMEOUT = 120  # a guard against hanging, not a timing assertion
_HAS_DASK = importlib.util.find_spec("distributed") is not None


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat, or None once the process is gone or a zombie (it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="processes"),
        # distributed's worker processes watch their parent themselves; this keeps it so.
        pytest.param(["--dask", "local"], id="dask-local", marks=pytest.mark.skipif(not _HAS_DASK, reason="no dask")),
    ],
)
def test_workers_exit_when_the_parent_is_killed(tmp_path: Path, book: RuleBook, options: list[str]) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 6000), source)
    out = tmp_path / "out.jsonl"
    parent = subprocess.Popen(
        [str(SCRIPT), "batch", str(source), "-o", str(out), "--workers", "2", "--chunk-size", "20", "-q", *options],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + TIMEOUT
    workers: dict[int, str | None] = {}
    while time.monotonic() < deadline and parent.poll() is None:
        try:
            started = json.loads(Path(f"{out}.manifest.json").read_text())["counts"]["records"] >= 100
        except (OSError, ValueError, KeyError):
            started = False
        if started:  # both workers are up and working
            workers = {pid: _start_time(pid) for pid in _children(parent.pid)}
            break
        time.sleep(0.05)
    assert parent.poll() is None, "the batch ended before it could be killed; give it more scenarios"
    assert len(workers) >= 2 and all(workers.values()), workers

    parent.send_signal(signal.SIGKILL)  # only the parent: its workers are not signalled
    parent.wait(timeout=TIMEOUT)
    left = dict(workers)
    deadline = time.monotonic() + TIMEOUT
    while left and time.monotonic() < deadline:
        left = {pid: start for pid, start in left.items() if _start_time(pid) == start}
        time.sleep(0.1)
    assert not left, f"still running after their parent was killed: {sorted(left)}"
