"""One output, one run: the lock is on the output, whatever manifest or errors file a run names.

Issue 10, item 9: the lock used to be ``<manifest>.lock``, so two runs writing one output
with different ``--manifest`` paths both went ahead, truncating each other's lines, and
both said "complete" over a torn file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from therapy_signals import Engine, RuleBook
from therapy_signals.batch import Batch, BatchError, write_scenarios

from .conftest import SCRIPT, simple_scenarios

TIMEOUT = 300  # a guard against hanging, not a timing assertion


def _wait_for_progress(manifest: Path, process: subprocess.Popen[bytes], records: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(manifest.read_text())["counts"]["records"] >= records:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"no progress in {manifest}: {process.stderr.read().decode() if process.stderr else ''}")


def test_two_processes_with_different_manifests_never_write_one_output(
    tmp_path: Path, engine: Engine, book: RuleBook
) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 1500), source)
    whole = tmp_path / "whole.jsonl"
    Batch(engine=engine, chunk_size=50).run(source, whole).complete()

    out = tmp_path / "out.jsonl"
    first_manifest, second_manifest = tmp_path / "first.json", tmp_path / "second.json"
    first = subprocess.Popen(
        [str(SCRIPT), "batch", str(source), "-o", str(out), "--manifest", str(first_manifest), "--chunk-size", "50"],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for_progress(first_manifest, first, 100)
        first.send_signal(signal.SIGSTOP)  # frozen while it holds the output: no race with its end
        second = subprocess.run(
            [str(SCRIPT), "batch", str(source), "-o", str(out), "--manifest", str(second_manifest)],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, err.decode()
    assert second.returncode == 2
    assert second.stderr.decode().strip() == (
        f"error: {out}: another run is writing this output right now (process {first.pid}); "
        "wait for it, or stop it and add --resume"
    )
    assert not second_manifest.exists()
    assert out.read_bytes() == whole.read_bytes()  # untouched by the second run
    assert not Path(f"{out}.lock").exists()  # removed when the run ends


@pytest.mark.parametrize("option", ["manifest", "errors"])
def test_a_file_named_after_another_output_is_locked_with_it(
    tmp_path: Path, engine: Engine, book: RuleBook, option: str
) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 20), source)
    batch = Batch(engine=engine, chunk_size=5)
    first = batch.run(source, tmp_path / "a.jsonl")
    next(first)  # running, and holding a.jsonl
    suffix = ".manifest.json" if option == "manifest" else ".errors.jsonl"
    with pytest.raises(BatchError, match=rf"{tmp_path / 'a.jsonl'}: another run is writing this output"):
        next(batch.run(source, tmp_path / "b.jsonl", **{option: tmp_path / f"a.jsonl{suffix}"}))
    first.complete()  # the output is free again
    third = batch.run(source, tmp_path / "c.jsonl", **{option: tmp_path / f"a.jsonl{suffix}"})
    assert len(list(third)) == 20


def test_an_unfinished_run_that_is_still_going_is_not_called_unfinished(
    tmp_path: Path, engine: Engine, book: RuleBook
) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 20), source)
    batch = Batch(engine=engine, chunk_size=5)
    first = batch.run(source, tmp_path / "out.jsonl")
    next(first)
    with pytest.raises(BatchError, match=rf"another run is writing this output right now \(process {os.getpid()}\)"):
        batch.run(source, tmp_path / "out.jsonl")  # not "add --resume": that would meet the lock
    first.close()
    with pytest.raises(BatchError, match=r"an unfinished run .* add --resume"):
        batch.run(source, tmp_path / "out.jsonl")


def test_a_run_set_up_before_another_one_wrote_the_output_does_not_go_on(
    tmp_path: Path, engine: Engine, book: RuleBook
) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 20), source)
    batch = Batch(engine=engine, chunk_size=5)
    late = batch.run(source, tmp_path / "out.jsonl")  # set up, not started
    batch.run(source, tmp_path / "out.jsonl").complete()
    with pytest.raises(BatchError, match="another run wrote this output after this one was set up"):
        next(late)
