"""The Dask path on a real LocalCluster: the same results, byte for byte, as the local path."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from therapy_signals import RuleBook
from therapy_signals.batch import BatchError, run_batch, write_scenarios

from .conftest import BAD_LINES, simple_scenarios

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A two-worker cluster of processes, reached by its tcp:// address like a remote one."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def test_dask_gives_the_local_results(tmp_path: Path, book: RuleBook, scheduler: str) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 300), source)
    with source.open("a") as file:
        file.write(BAD_LINES[0] + "\n")
    local = tmp_path / "local.parquet"
    remote = tmp_path / "dask.parquet"
    run_batch(source, local, chunk_size=40).complete()
    manifest = run_batch(source, remote, chunk_size=40, dask=scheduler).complete()
    assert remote.read_bytes() == local.read_bytes()
    assert Path(f"{remote}.errors.jsonl").read_bytes() == Path(f"{local}.errors.jsonl").read_bytes()
    assert manifest is not None and manifest["parallel"]["dask"] == scheduler
    assert manifest["counts"] == json.loads(Path(f"{local}.manifest.json").read_text())["counts"]
    assert 1 <= manifest["parallel"]["processes_used"] <= 2


def test_a_worker_with_other_rules_is_refused(tmp_path: Path, book: RuleBook, scheduler: str) -> None:
    from therapy_signals.batch import Batch

    from ..conftest import FEATURES, copy_rulebook

    # The workers load the shipped rules (None), but this side holds another rule base.
    batch = Batch(copy_rulebook(FEATURES, tmp_path / "rules"), dask=scheduler)
    batch.config = dataclasses.replace(batch.config, rules=None)
    run = batch.run([{"observations": [{"signal": "sig_a"}]}])
    with pytest.raises(BatchError, match="has another rule base"):
        list(run)


def test_the_command_line_reaches_a_scheduler_by_address(tmp_path: Path, book: RuleBook, scheduler: str) -> None:
    import subprocess

    from .conftest import SCRIPT

    source = tmp_path / "in.parquet"
    write_scenarios(simple_scenarios(book, 120), source)
    local = tmp_path / "local.jsonl"
    remote = tmp_path / "remote.jsonl"
    for out, extra in ((local, []), (remote, ["--dask", scheduler])):
        done = subprocess.run(
            [str(SCRIPT), "batch", str(source), "-o", str(out), "--chunk-size", "25", *extra],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert remote.read_bytes() == local.read_bytes()
