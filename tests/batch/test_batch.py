"""run_batch and Batch from Python: the invariants of issue 4, as properties where they can be.

- results are exactly what Engine.explain says;
- input count = results + errors, each record exactly once, in input order;
- results are identical whatever the worker count (and chunk size);
- a resumed run neither duplicates nor skips, even after torn writes;
- streaming: an endless input yields results without being read to its end.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Level, RuleBook, Scenario
from therapy_signals.batch import (
    Batch,
    BatchError,
    Rejected,
    Result,
    ResumeError,
    read_results,
    run_batch,
    write_scenarios,
)
from therapy_signals.batch._io import read_errors
from therapy_signals.batch._parallel import Processes, WorkerConfig
from therapy_signals.strategies import scenarios

from .conftest import BAD_LINES, FORMATS, simple_scenarios

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _lines(draws: list[Scenario | str]) -> list[str]:
    return [d if isinstance(d, str) else d.model_dump_json(exclude_none=True) for d in draws]


records = st.lists(scenarios(max_observations=3) | st.sampled_from(BAD_LINES), min_size=0, max_size=25)


def test_results_are_what_explain_says(engine: Engine, book: RuleBook) -> None:
    items = simple_scenarios(book, 60)
    results = list(Batch(engine=engine, chunk_size=7).run(items))
    assert [r.record for r in results] == list(range(1, 61))
    for scenario, result in zip(items, results, strict=True):
        assert isinstance(result, Result)
        guidance = engine.explain(scenario, render=False)
        assert result.scenario_id == scenario.id
        assert result.level is guidance.level
        assert result.findings == tuple(f.rule_id for f in guidance.findings)
        assert result.superseded == tuple(s.rule_id for s in guidance.superseded)
        assert set(result.categories) == {f.category.value for f in guidance.findings}
        assert result.signals == tuple(sorted({o.signal for o in scenario.observations}))


def test_no_durable_rules_state_is_left_behind(book: RuleBook) -> None:
    engine = Engine()  # its own, so the last session is this batch's
    list(Batch(engine=engine, chunk_size=10).run(simple_scenarios(book, 35)))
    backend = engine._backend
    last = next(backend._sids) - 1
    assert last >= 34 and all(backend.state_size(str(sid)) == 0 for sid in range(last + 1))


def test_text_is_the_guidance_as_text(engine: Engine, book: RuleBook) -> None:
    items = simple_scenarios(book, 5)
    for scenario, result in zip(items, Batch(engine=engine, text=True).run(items), strict=True):
        assert isinstance(result, Result)
        assert result.text == engine.explain(scenario).to_text()


@settings(max_examples=30, suppress_health_check=FIXTURES)
@given(draws=records, chunk_size=st.integers(1, 8))
def test_every_record_comes_out_exactly_once(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine, draws: list[Scenario | str], chunk_size: int
) -> None:
    folder = tmp_path_factory.mktemp("once")
    source = folder / "in.jsonl"
    source.write_text("".join(line + "\n" for line in _lines(draws)), encoding="utf-8")
    run = Batch(engine=engine, chunk_size=chunk_size).run(source, folder / "out.jsonl")
    items = list(run)
    assert [i.record for i in items] == list(range(1, len(draws) + 1))
    assert [i.ok for i in items] == [not isinstance(d, str) for d in draws]
    assert run.records == len(draws) == run.results + run.errors
    manifest = json.loads((folder / "out.jsonl.manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["records"] == manifest["counts"]["results"] + manifest["counts"]["errors"]
    assert sum(manifest["counts"]["levels"].values()) == manifest["counts"]["results"]
    assert len(list(read_results(folder / "out.jsonl"))) == run.results
    rejected = list(read_errors(folder / "out.jsonl.errors.jsonl"))
    assert [r.line for r in rejected] == [n for n, d in enumerate(draws, 1) if isinstance(d, str)]
    assert [r.input for r in rejected] == [d for d in draws if isinstance(d, str)]
    assert all(r.problems for r in rejected)


def test_rejected_records_say_where_and_why(tmp_path: Path, mixed_jsonl: tuple[Path, int, int]) -> None:
    source, good, bad = mixed_jsonl
    run = run_batch(source, tmp_path / "out.parquet")
    rejected = [i for i in run if isinstance(i, Rejected)]
    assert (run.results, run.errors) == (good, bad)
    messages = [r.message for r in rejected]
    assert messages[0].startswith("line 11: invalid JSON: line 11: not valid JSON at column 1")
    assert "observations[0].signal: 'no_such_signal_here' is not a known signal" in messages[1]
    assert rejected[1].line == 12  # the blank line 13 is not a record, but it is counted as a line
    assert "observations[0].frequncy: unknown field; did you mean 'frequency'?" in messages[2]
    assert rejected[2].scenario_id == "bad-field"
    assert "(top): expected an object" in messages[3]
    assert "observations" in messages[4]


def test_fail_fast_stops_at_the_first_rejected_record(tmp_path: Path, mixed_jsonl: tuple[Path, int, int]) -> None:
    source, _, _ = mixed_jsonl
    run = run_batch(source, tmp_path / "out.jsonl", fail_fast=True, chunk_size=4)
    with pytest.raises(BatchError, match=r"line 11: invalid JSON.*--fail-fast.*out.jsonl.errors.jsonl"):
        list(run)
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["counts"] | {"levels": None} == {"records": 11, "results": 10, "errors": 1, "levels": None}
    assert len((tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()) == 1


@settings(max_examples=3, suppress_health_check=FIXTURES, deadline=None)
@given(workers=st.integers(2, 3), chunk_size=st.integers(3, 40), fmt=st.sampled_from(["jsonl", "parquet", "csv"]))
def test_results_identical_whatever_the_worker_count(
    tmp_path_factory: pytest.TempPathFactory, book: RuleBook, workers: int, chunk_size: int, fmt: str
) -> None:
    folder = tmp_path_factory.mktemp("workers")
    source = folder / "in.jsonl"
    write_scenarios(simple_scenarios(book, 100), source)
    with source.open("a") as file:
        file.write(BAD_LINES[1] + "\n")
    one = folder / f"one.{fmt}"
    many = folder / f"many.{fmt}"
    run_batch(source, one, chunk_size=chunk_size).complete()
    manifest = run_batch(source, many, chunk_size=chunk_size, workers=workers).complete()
    assert manifest is not None and manifest["parallel"]["workers"] == workers
    assert many.read_bytes() == one.read_bytes()
    assert Path(f"{many}.errors.jsonl").read_bytes() == Path(f"{one}.errors.jsonl").read_bytes()


def test_each_worker_process_builds_its_engine_once() -> None:
    from therapy_signals.batch._io import Record

    chunks = [[Record(n, n, {"observations": [{"signal": "x"}]})] for n in range(12)]
    pool = Processes(WorkerConfig(None, None, False), 2)
    try:
        outcomes = list(pool.map(chunks))
    finally:
        pool.close()
    assert [o.items[0].record for o in outcomes] == list(range(12))
    assert {o.engines_built for o in outcomes} == {1}
    assert len({o.pid for o in outcomes}) <= 2


def _garble(output: Path) -> None:
    """What a run killed mid-write leaves after its last checkpoint."""
    if output.suffix == ".parquet":
        parts = output.with_name(output.name + ".parts")
        (parts / "part-999999.parquet").write_bytes(b"half a part")
        (parts / ".part-000500.parquet").write_bytes(b"a temporary file")
    else:
        with output.open("ab") as file:
            file.write(b'{"scenario_id": "torn')
    with Path(f"{output}.errors.jsonl").open("ab") as file:
        file.write(b'{"record": 99')


@settings(max_examples=20, suppress_health_check=FIXTURES, deadline=None)
@given(
    draws=st.lists(scenarios(max_observations=2) | st.sampled_from(BAD_LINES), min_size=2, max_size=30),
    chunk_size=st.integers(1, 6),
    fmt=st.sampled_from(FORMATS),
    torn=st.booleans(),
    data=st.data(),
)
def test_resume_neither_duplicates_nor_skips(
    tmp_path_factory: pytest.TempPathFactory,
    engine: Engine,
    draws: list[Scenario | str],
    chunk_size: int,
    fmt: str,
    torn: bool,
    data: st.DataObject,
) -> None:
    stop = data.draw(st.integers(1, len(draws) - 1), label="stop after")
    folder = tmp_path_factory.mktemp("resume")
    source = folder / "in.jsonl"
    source.write_text("".join(line + "\n" for line in _lines(draws)), encoding="utf-8")
    batch = Batch(engine=engine, chunk_size=chunk_size)
    whole = folder / f"whole.{fmt}"
    batch.run(source, whole).complete()

    cut = folder / f"cut.{fmt}"
    first = batch.run(source, cut)
    seen = list(itertools.islice(first, stop))
    first.close()
    manifest = json.loads(Path(f"{cut}.manifest.json").read_text())
    event(f"first run {manifest['status']}")
    if manifest["status"] != "complete":
        assert manifest["status"] == "interrupted"
        assert manifest["counts"]["records"] >= len(seen)
        # The merge begun beside the parts goes; the parts stay, for the resumed run to merge.
        assert not cut.with_name(f".{cut.name}.merging").exists()
        assert not cut.exists() or fmt != "parquet"
        if torn:
            _garble(cut)
        with pytest.raises(BatchError, match="add --resume"):
            batch.run(source, cut)
    rest = batch.run(source, cut, resume=True)
    later = list(rest)
    done = manifest["counts"]["records"] if manifest["status"] != "complete" else len(draws)
    assert [i.record for i in later] == list(range(done + 1, len(draws) + 1))
    assert cut.read_bytes() == whole.read_bytes()
    assert Path(f"{cut}.errors.jsonl").read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()
    final = json.loads(Path(f"{cut}.manifest.json").read_text())
    assert final["status"] == "complete"
    assert final["counts"] == json.loads(Path(f"{whole}.manifest.json").read_text())["counts"]
    assert final["output"]["sha256"] == hashlib.sha256(cut.read_bytes()).hexdigest()
    assert not cut.with_name(cut.name + ".parts").exists()


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 30), source)
    out = tmp_path / "out.jsonl"
    batch = Batch(engine=engine, chunk_size=5)
    with pytest.raises(ResumeError, match="no manifest, so no run to resume"):
        batch.run(source, out, resume=True)
    run = batch.run(source, out)
    next(run)
    run.close()
    write_scenarios(simple_scenarios(book, 31), source)
    with pytest.raises(ResumeError, match="is not the same file"):
        batch.run(source, out, resume=True)
    with pytest.raises(ResumeError, match="--text was off"):
        Batch(engine=engine, text=True).run(source, out, resume=True)
    with pytest.raises(ResumeError, match="needs an input file"):
        batch.run(simple_scenarios(book, 3), out, resume=True)
    batch.run(source, out.with_suffix(".csv")).complete()
    assert batch.run(source, out.with_suffix(".csv"), resume=True).already_complete


def test_two_runs_never_write_one_output_at_once(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    write_scenarios(simple_scenarios(book, 20), source)
    out = tmp_path / "out.jsonl"
    batch = Batch(engine=engine, chunk_size=5)
    first = batch.run(source, out)
    next(first)  # running, and holding the output
    second = batch.run(source, out, resume=True)
    with pytest.raises(BatchError, match="another run is writing this output right now"):
        next(second)
    first.close()
    assert list(batch.run(source, out, resume=True))  # once it stopped, the output is free
    assert len(out.read_text().splitlines()) == 20


def test_manifest_records_what_made_the_output(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    source = tmp_path / "in.csv"
    write_scenarios(simple_scenarios(book, 12), source)
    out = tmp_path / "out.parquet"
    manifest = Batch(engine=engine, chunk_size=5).run(source, out, command=["therapy-signals", "batch"]).complete()
    assert manifest is not None
    assert manifest == json.loads((tmp_path / "out.parquet.manifest.json").read_text())
    assert manifest["library"]["name"] == "therapy-signals" and manifest["library"]["version"]
    assert manifest["rulebook"] == {
        "name": book.name,
        "version": book.version,
        "hash": book.content_hash,
        "packs": [],
        "packs_in_code": [],
    }
    assert manifest["input"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["input"]["format"] == "csv"
    assert manifest["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["command"] == "therapy-signals batch"
    assert manifest["counts"]["results"] == 12 and manifest["counts"]["errors"] == 0
    assert list(manifest["counts"]["levels"]) == [level.value for level in Level]
    assert manifest["timing"]["seconds"] > 0 and manifest["timing"]["finished"]
    assert manifest["options"]["chunk_size"] == 5


def _endless(book: RuleBook) -> Iterator[dict[str, object]]:
    signals = sorted(book.signals)
    for number in itertools.count():
        yield {"observations": [{"signal": signals[number % len(signals)]}]}


@pytest.mark.parametrize("workers", [1, 2])
def test_streams_an_endless_input(book: RuleBook, workers: int) -> None:
    run = run_batch(_endless(book), workers=workers, chunk_size=50)
    first = list(itertools.islice(run, 220))
    run.close()
    assert [r.record for r in first] == list(range(1, 221))
    assert first[0].scenario_id == "s1"


def test_the_output_may_not_overwrite_the_input(tmp_path: Path, book: RuleBook) -> None:
    from therapy_signals import InputError

    source = tmp_path / "s.jsonl"
    write_scenarios(simple_scenarios(book, 2), source)
    with pytest.raises(InputError, match="would overwrite the input"):
        run_batch(source, source)
