"""Scenario and results files: every format round-trips, and the CSV flat layout is as documented."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, InputError, Level, RuleBook, Scenario
from therapy_signals.batch import read_results, read_scenarios, run_batch, write_scenarios
from therapy_signals.batch._io import Target, _jsonl_chunks, _jsonl_records, count_records
from therapy_signals.strategies import scenarios

from .conftest import FORMATS, simple_scenarios

notes = st.none() | st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
)


@st.composite
def scenario_sets(draw: st.DrawFn) -> list[Scenario]:
    """Distinct ids, and notes with commas, quotes and newlines to stress the CSV layout."""
    drawn = draw(st.lists(scenarios(max_observations=3), min_size=0, max_size=6))
    out = []
    for number, scenario in enumerate(drawn):
        observations = [o.model_copy(update={"note": draw(notes)}) for o in scenario.observations]
        if len(set(observations)) != len(observations):
            observations = list(scenario.observations)
        out.append(scenario.model_copy(update={"id": f"id-{number}", "observations": observations}))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=scenario_sets())
def test_scenarios_round_trip(tmp_path: Path, fmt: str, items: list[Scenario]) -> None:
    path = tmp_path / f"s.{fmt}"
    assert write_scenarios(items, path) == len(items)
    assert list(read_scenarios(path)) == items


def test_csv_flat_layout_as_documented(tmp_path: Path, engine: Engine) -> None:
    signals = sorted(engine.rulebook.signals)
    path = tmp_path / "s.csv"
    path.write_text(
        "scenario_id,setting,sessions,signal,frequency,raised,note\n"
        f'a,couples,12,{signals[0]},often,true,"said, loudly"\n'
        f"a,couples,12,{signals[1]},,,\n"
        "\n"
        f",,,{signals[2]},once,false,\n"
        f',,,{signals[3]},,,"two\nlines"\n'
        f"b,individual,,{signals[4]},,,\n",
        encoding="utf-8",
    )
    got = list(read_scenarios(path))
    assert [s.id for s in got] == ["a", None, None, "b"]
    assert got[0].setting.value == "couples" and got[0].sessions == 12
    assert [o.signal for o in got[0].observations] == signals[:2]
    assert got[0].observations[0].raised is True and got[0].observations[0].note == "said, loudly"
    assert got[2].observations[0].note == "two\nlines"
    results = [r for r in run_batch(path) if r.ok]
    assert [r.scenario_id for r in results] == ["a", "s2", "s3", "b"]  # no id: s<record>


def test_csv_rows_that_disagree_are_rejected_with_their_line(tmp_path: Path, engine: Engine) -> None:
    signal = sorted(engine.rulebook.signals)[0]
    other = sorted(engine.rulebook.signals)[1]
    path = tmp_path / "s.csv"
    path.write_text(
        "scenario_id,setting,signal,frequency\n"
        f"a,couples,{signal},often\n"
        f"a,individual,{other},\n"
        f"b,individual,{signal},sometimes\n"
        f"c,individual,{signal},often,extra\n",
        encoding="utf-8",
    )
    items = list(run_batch(path))
    assert [i.ok for i in items] == [False, False, False]
    first, second, third = items
    assert first.line == 2 and "line 3: setting is 'individual' but 'couples' on line 2" in first.message
    assert second.line == 4 and "observations[0].frequency" in second.message
    assert third.line == 5 and "5 cells for 4 columns" in third.message
    assert third.input == [["c", "individual", signal, "often", "extra"]]  # as read, nothing lost


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("scenario_id,signal,colour\n", "unknown column 'colour'"),
        ("scenario_id,setting\n", "no 'signal' column"),
        ("signal,signal\n", "column 'signal' appears twice"),
    ],
)
def test_csv_header_problems_name_the_column(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(header + "x,y,z\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(run_batch(path))


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "csv", "parquet"])
def test_results_round_trip_in_every_format(tmp_path: Path, book: RuleBook, fmt: str) -> None:
    items = simple_scenarios(book, 30)
    out = tmp_path / f"r.{fmt}"
    produced = [r for r in run_batch(items, out, text=True) if r.ok]
    assert list(read_results(out)) == produced
    assert all(r.text for r in produced)


def test_parquet_results_keep_statistics_on_the_flat_columns(tmp_path: Path, book: RuleBook) -> None:
    # A reader skips row groups by id, setting or level; the lists' least and greatest items
    # would tell nobody anything, so they have none.
    import pyarrow.parquet as pq

    out = tmp_path / "r.parquet"
    run_batch(simple_scenarios(book, 25), out, chunk_size=10).complete()
    metadata = pq.ParquetFile(out).metadata
    assert metadata.num_row_groups == 3
    for group in range(metadata.num_row_groups):
        columns = [metadata.row_group(group).column(i) for i in range(metadata.num_columns)]
        with_stats = {c.path_in_schema for c in columns if c.is_stats_set}
        assert {"scenario_id", "setting", "level"} <= with_stats
        assert not {c for c in with_stats if ".list." in c}
    level = metadata.schema.names.index("level")
    statistics = metadata.row_group(0).column(level).statistics
    assert {statistics.min, statistics.max} <= {lvl.value for lvl in Level}  # the levels themselves


def test_gzip_output_is_one_readable_gzip_file(tmp_path: Path, book: RuleBook) -> None:
    out = tmp_path / "r.jsonl.gz"
    run_batch(simple_scenarios(book, 25), out, chunk_size=7).complete()
    lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert len(lines) == 25


def test_parquet_scenarios_reject_unknown_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"observations": [[{"signal": "x"}]], "colour": ["red"]}), path)
    with pytest.raises(InputError, match="unknown column 'colour'"):
        list(run_batch(path))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("s.txt", "cannot tell the format from the extension '.txt'"),
        ("s.parquet.gz", "Parquet compresses itself"),
        ("s", r"extension '\(none\)'"),
    ],
)
def test_unknown_extensions_are_explained(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Target.parse(name)


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        run_batch(tmp_path / "nope.jsonl")


@given(
    data=st.lists(st.sampled_from([b"\n", b"\r\n", b" ", b"\t", b"{}", b"x" * 7, b"\xff", b"\x0c"]), max_size=60),
    block=st.integers(1, 9),
    limit=st.integers(1, 12),
)
def test_counting_records_by_blocks_counts_what_the_reader_reads(data: list[bytes], block: int, limit: int) -> None:
    text = b"".join(data)
    read = sum(1 for _ in _jsonl_records(io.BytesIO(text), limit))
    assert count_records(io.BytesIO(text), block) == read


@given(
    data=st.lists(
        st.sampled_from([b"\n", b"\r\n", b" ", b"\t", b"{}", b'{"a":1}', b"x" * 7, b"\xff", b"\x0c", b"\r"]),
        max_size=60,
    ),
    block=st.integers(1, 9),
    limit=st.integers(1, 12),
    size=st.integers(1, 7),
    skip=st.integers(0, 20),
)
def test_chunks_of_lines_hold_the_records_the_reader_reads(
    data: list[bytes], block: int, limit: int, size: int, skip: int
) -> None:
    text = b"".join(data)
    expected = list(_jsonl_records(io.BytesIO(text), limit))[skip:]
    chunks = list(_jsonl_chunks(io.BytesIO(text), limit, size, skip, block))
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert [record for chunk in chunks for record in chunk] == expected


def test_an_errors_file_is_synced_at_a_checkpoint_only_when_it_grew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from therapy_signals.batch import _io

    synced: list[int] = []
    real = os.fsync

    def counting(descriptor: int) -> None:
        synced.append(descriptor)
        real(descriptor)

    monkeypatch.setattr(_io.os, "fsync", counting)
    path = tmp_path / "errors.jsonl"
    sink = _io.error_sink(path)
    assert sink.position() == {"bytes": 0} and len(synced) == 1  # the new file, on disk once
    assert sink.position() == {"bytes": 0} and len(synced) == 1  # nothing since: no sync
    rejected = [r for r in run_batch([{"observations": []}]) if not r.ok]
    sink.write(rejected)
    grown = sink.position()
    assert grown["bytes"] == path.stat().st_size > 0 and len(synced) == 2
    assert sink.position() == grown and len(synced) == 2
    sink.close()
