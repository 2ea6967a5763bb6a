"""A local Dask cluster says where its dashboard is (issue 14), and the dashboard is there."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from therapy_signals import RuleBook
from therapy_signals.batch import run_batch, write_scenarios

from .conftest import SCRIPT, simple_scenarios

pytest.importorskip("distributed")
pytest.importorskip("bokeh")
LINK = re.compile(r"Dask dashboard: (http://127\.0\.0\.1:\d+/status)")


def test_the_dashboard_of_a_local_cluster_is_announced_and_served(tmp_path: Path, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 40), source)
    heard: list[str] = []
    run = run_batch(source, tmp_path / "out.jsonl", dask="local", workers=1, chunk_size=10, notify=heard.append)
    next(run)  # the cluster is up and working
    try:
        assert len(heard) == 1
        found = LINK.fullmatch(heard[0])
        assert found is not None, heard
        with urllib.request.urlopen(found.group(1), timeout=60) as page:  # loopback only
            assert page.status == 200 and b"Dask" in page.read()
    finally:
        run.close()


def test_the_command_line_prints_it_unless_quiet(tmp_path: Path, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 20), source)
    command = [str(SCRIPT), "batch", str(source), "--dask", "local", "--workers", "1"]
    done = subprocess.run([*command, "-o", str(tmp_path / "a.jsonl")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert LINK.search(done.stderr.splitlines()[0])
    quiet = subprocess.run(
        [*command, "-o", str(tmp_path / "b.jsonl"), "-q"], capture_output=True, text=True, timeout=300
    )
    assert quiet.returncode == 0 and "dashboard" not in quiet.stderr
    serial = subprocess.run(
        [*command[:3], "-o", str(tmp_path / "c.jsonl")], capture_output=True, text=True, timeout=300
    )
    assert serial.returncode == 0 and "dashboard" not in serial.stderr
