"""Parquet straight into columns is a fast path, never a second judge: for any row of a scenario
file, valid or not, a columnar chunk gives the very item the strict path (the row as a record,
then the Scenario model, then durable_rules) gives for it alone. Rows are valid scenarios
changed one value at a time, in files of several schemas, cut into chunks anywhere."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Scenario
from therapy_signals.batch import run_batch
from therapy_signals.batch._arrow import SCENARIO_SCHEMA, TableChunk, observation_type, read_scenario_records
from therapy_signals.batch._arrow import scenario_chunks as chunks_of
from therapy_signals.batch._blocks import ColumnarItems
from therapy_signals.batch._parallel import explain_record, explain_records
from therapy_signals.limits import DEFAULT_INPUT_LIMITS
from therapy_signals.strategies import scenarios

DURABLE = Engine()
COLUMNAR = Engine(backend="columnar")
SIGNALS = sorted(DURABLE.rulebook.signals)
FIELDS = ["frequency", "duration", "impact", "initiated_by", "where", "response", "raised", "note"]
SETTINGS = settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _row(scenario: Scenario) -> dict[str, Any]:
    return json.loads(scenario.model_dump_json())


def _change(data: st.DataObject, row: dict[str, Any]) -> dict[str, Any]:
    """The row with one value changed (each a value a typed Parquet column can hold), or none."""
    observation = data.draw(st.sampled_from(row["observations"]))
    kind = data.draw(
        st.sampled_from(
            [
                "none",
                "none",
                "null field",
                "null observation",
                "no observations",
                "out of range",
                "unknown word",
                "unknown signal",
                "lengths",
                "response not raised",
                "twin",
                "near twin",
                "many observations",
                "text",
            ]
        ),
        label="change",
    )
    field = data.draw(st.sampled_from(FIELDS))
    if kind == "null field":
        if data.draw(st.booleans()):
            row[data.draw(st.sampled_from(["id", "setting", "sessions", "observations"]))] = None
        else:
            observation[data.draw(st.sampled_from(["signal", field, "months_after_ending"]))] = None
    elif kind == "null observation":
        row["observations"].append(None)
    elif kind == "no observations":
        row["observations"] = []
    elif kind == "out of range":
        value = data.draw(st.sampled_from([-1, 10001, 1201, 0, 1200, 10000, -(2**31)]))
        if data.draw(st.booleans()):
            row["sessions"] = value
        else:
            observation["months_after_ending"] = value
    elif kind == "unknown word":
        observation[data.draw(st.sampled_from(["frequency", "impact", "where", "response"]))] = "sometimes"
        if data.draw(st.booleans()):
            row["setting"] = data.draw(st.sampled_from(["solo", "", "Individual"]))
    elif kind == "unknown signal":
        observation["signal"] = data.draw(st.sampled_from(["", "no_such_signal", SIGNALS[0] + "x", "x" * 101]))
    elif kind == "lengths":
        choice = data.draw(st.sampled_from(["id0", "id200", "id201", "note2000", "note2001"]))
        if choice.startswith("id"):
            row["id"] = "i" * int(choice[2:])
        else:
            observation["note"] = "n" * int(choice[4:])
    elif kind == "response not raised":
        observation["response"] = "repaired"
        observation["raised"] = data.draw(st.sampled_from([False, True, None]))
    elif kind == "twin":
        row["observations"].append(dict(observation))
    elif kind == "near twin":
        twin = dict(observation)
        change = data.draw(st.sampled_from(["note", "raised", "months_after_ending"]))
        twin[change] = {"note": "other words", "raised": True, "months_after_ending": 5}[change]
        row["observations"].append(twin)
    elif kind == "many observations":
        size = data.draw(st.sampled_from([64, 65, 100, 101]))
        row["observations"] = [{"signal": SIGNALS[i % len(SIGNALS)], "months_after_ending": i} for i in range(size)]
    elif kind == "text":
        observation["note"] = data.draw(st.sampled_from(["caf\u00e9 \u2014 ok", "line\nbreak", "\x00", "\u202e"]))
    return row


# The scenario schema, and others a researcher's own tools write: int64 numbers, the id named
# scenario_id, observations with only some fields (in another order), dictionary-encoded text.
def _schema(kind: str) -> pa.Schema:
    if kind == "as written":
        return SCENARIO_SCHEMA
    observation = observation_type(pa.int64())
    if kind == "some fields":
        wanted = ["note", "signal", "raised", "response", "months_after_ending", "frequency"]
        observation = pa.struct([observation.field(name) for name in wanted])
    text = pa.dictionary(pa.int32(), pa.string()) if kind == "dictionary" else pa.string()
    ident = "scenario_id" if kind in ("scenario_id", "some fields") else "id"
    return pa.schema(
        [
            pa.field(ident, pa.string()),
            pa.field("setting", text),
            pa.field("sessions", pa.int64()),
            pa.field("observations", pa.list_(observation)),
        ]
    )


def _fit(row: dict[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """The row as that schema holds it (fields it has no column for left out)."""
    fitted = dict(row)
    if "scenario_id" in schema.names:
        fitted["scenario_id"] = fitted.pop("id", None)
    wanted = {f.name for f in schema.field("observations").type.value_type}
    observations = fitted.get("observations")
    if observations is not None:
        fitted["observations"] = [o if o is None else {k: v for k, v in o.items() if k in wanted} for o in observations]
    return fitted


def _file(tmp: Path, rows: list[dict[str, Any]], schema: pa.Schema, group: int) -> Path:
    path = tmp / f"scenarios-{len(list(tmp.iterdir()))}.parquet"
    pq.write_table(pa.Table.from_pylist([_fit(r, schema) for r in rows], schema=schema), path, row_group_size=group)
    return path


@st.composite
def files(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str, int]:
    data = draw(st.data())
    given = draw(st.lists(scenarios(max_observations=4), min_size=1, max_size=12))
    rows = [_change(data, _row(s)) for s in given]
    return (
        rows,
        draw(st.sampled_from(["as written", "int64", "scenario_id", "some fields", "dictionary"])),
        draw(st.integers(1, 7)),
    )


def _strict(path: Path) -> list[object]:
    return [explain_record(DURABLE, record, False) for record in read_scenario_records(path)]


@SETTINGS
@given(files(), st.integers(1, 13))
def test_a_table_chunk_gives_what_the_strict_path_gives(tmp_path: Path, file: Any, size: int) -> None:
    rows, kind, group = file
    path = _file(tmp_path, rows, _schema(kind), group)
    found = [
        item for chunk in chunks_of(path, size, 0, DEFAULT_INPUT_LIMITS) for item in explain_records(COLUMNAR, chunk)
    ]
    assert found == _strict(path)


@SETTINGS
@given(files(), st.integers(1, 5), st.integers(0, 14))
def test_chunks_hold_the_rows_the_records_hold_after_any_skip(tmp_path: Path, file: Any, size: int, skip: int) -> None:
    rows, kind, group = file
    path = _file(tmp_path, rows, _schema(kind), group)
    chunks = list(chunks_of(path, size, skip, DEFAULT_INPUT_LIMITS))
    assert all(isinstance(c, TableChunk) for c in chunks)
    assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1)
    assert [record for chunk in chunks for record in chunk] == list(
        itertools.islice(read_scenario_records(path), skip, None)
    )


@given(st.lists(scenarios(max_observations=6), min_size=1, max_size=30))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_valid_rows_all_take_the_fast_path(tmp_path: Path, given: list[Scenario]) -> None:
    # Not vacuous: on valid scenarios the columns are the path that runs.
    path = _file(tmp_path, [_row(s) for s in given], SCENARIO_SCHEMA, 5)
    (chunk,) = chunks_of(path, 100, 0, DEFAULT_INPUT_LIMITS)
    items = explain_records(COLUMNAR, chunk)
    assert isinstance(items, ColumnarItems)
    assert items.extra == [] and items.rejected == []


def _bad_rows() -> list[dict[str, Any]]:
    """One row for each boundary the Scenario model draws, on either side of it."""
    one = {"signal": "abuse_disclosed"}
    many = [{"signal": SIGNALS[i % len(SIGNALS)], "months_after_ending": i} for i in range(101)]
    return [
        *({"sessions": n, "observations": [one]} for n in (-1, 0, 10000, 10001)),
        *({"observations": [{**one, "months_after_ending": n}]} for n in (-1, 0, 1200, 1201)),
        *({"id": "i" * n, "observations": [one]} for n in (0, 1, 200, 201)),
        *({"observations": [{**one, "note": "n" * n}]} for n in (0, 2000, 2001)),
        *({"setting": word, "observations": [one]} for word in ("solo", "", "Individual", None, "group")),
        *({"observations": [{**one, word: "sometimes"}]} for word in ("frequency", "impact", "where", "response")),
        *({"observations": [{"signal": name}]} for name in ("", "no_such_signal", "x" * 101, None)),
        *({"observations": [{**one, "response": "repaired", "raised": r}]} for r in (False, True, None)),
        {"observations": [one, dict(one)]},
        {"observations": [one, {**one, "note": "other words"}]},
        {"observations": [one, {**one, "raised": False}]},
        *({"observations": many[:n]} for n in (0, 1, 64, 65, 100, 101)),
        {"observations": [one, None]},
        {"observations": None},
        {"id": None, "setting": None, "sessions": None, "observations": [one]},
        {"observations": [{**one, "note": "\x00 and \u202e"}]},
    ]


def test_each_boundary_gives_what_the_strict_path_gives(tmp_path: Path) -> None:
    for kind in ("as written", "int64", "some fields"):
        path = _file(tmp_path, _bad_rows(), _schema(kind), 4)
        chunks = list(chunks_of(path, 100, 0, DEFAULT_INPUT_LIMITS))
        assert all(isinstance(c, TableChunk) for c in chunks)
        found = [item for chunk in chunks for item in explain_records(COLUMNAR, chunk)]
        assert found == _strict(path), kind
        assert 0 < sum(item.ok for item in found) < len(found)


def _untyped(tmp: Path) -> list[tuple[Path, str]]:
    """Files whose columns are not the fields' types: each row goes the strict way."""
    good = {"id": "a", "observations": [{"signal": "abuse_disclosed"}]}
    made = []
    for name, table in {
        "observations as JSON text": pa.table({"id": ["a"], "observations": [json.dumps(good["observations"])]}),
        "sessions as text": pa.table({"sessions": ["7"], "observations": [good["observations"]]}),
        "sessions as a float": pa.table({"sessions": [7.0], "observations": [good["observations"]]}),
        "raised as a number": pa.table({"observations": [[{"signal": "abuse_disclosed", "raised": 1}]]}),
        "a field no observation has": pa.table({"observations": [[{"signal": "abuse_disclosed", "mood": "low"}]]}),
        "id and scenario_id": pa.table({"id": ["a"], "scenario_id": ["b"], "observations": [good["observations"]]}),
    }.items():
        path = tmp / f"{len(made)}.parquet"
        pq.write_table(table, path)
        made.append((path, name))
    return made


def test_a_file_of_other_types_goes_the_strict_way_with_the_same_items(tmp_path: Path) -> None:
    for path, name in _untyped(tmp_path):
        chunks = list(chunks_of(path, 10, 0, DEFAULT_INPUT_LIMITS))
        assert chunks and all(isinstance(c, list) for c in chunks), name
        assert [item for c in chunks for item in explain_records(COLUMNAR, c)] == _strict(path), name


def test_a_number_beyond_int64_sends_its_chunk_the_strict_way(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    table = pa.table(
        {"sessions": pa.array([2**63, 3], pa.uint64()), "observations": [[{"signal": "abuse_disclosed"}]] * 2}
    )
    pq.write_table(table, path)
    (chunk,) = chunks_of(path, 10, 0, DEFAULT_INPUT_LIMITS)
    assert isinstance(chunk, TableChunk) and chunk.columns() is None
    items = list(explain_records(COLUMNAR, chunk))
    assert items == _strict(path)
    assert not items[0].ok and items[1].ok


@pytest.mark.parametrize("workers", [1, 2])
def test_a_parquet_batch_writes_what_the_same_jsonl_batch_writes(tmp_path: Path, workers: int) -> None:
    rows = [_row(s) for s in _some_scenarios(300)]
    rows[7]["observations"][0]["signal"] = "no_such_signal"  # a rejected row among them
    parquet = _file(tmp_path, rows, SCENARIO_SCHEMA, 64)
    jsonl = tmp_path / "same.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for source, out in ((parquet, "from-parquet"), (jsonl, "from-jsonl")):
        done = run_batch(
            source, tmp_path / f"{out}.parquet", chunk_size=50, workers=workers, errors=tmp_path / f"{out}.err"
        )
        done.complete()
    assert (tmp_path / "from-parquet.parquet").read_bytes() == (tmp_path / "from-jsonl.parquet").read_bytes()
    # The errors file names the record by its number in both (the JSONL one by its line too).
    parquet_errors = [json.loads(line) for line in (tmp_path / "from-parquet.err").read_text().splitlines()]
    jsonl_errors = [json.loads(line) for line in (tmp_path / "from-jsonl.err").read_text().splitlines()]
    assert [e["record"] for e in parquet_errors] == [e["record"] for e in jsonl_errors] == [8]
    assert [e["problems"] for e in parquet_errors] == [e["problems"] for e in jsonl_errors]


def _some_scenarios(n: int) -> list[Scenario]:
    found: list[Scenario] = []

    @settings(max_examples=n, database=None, derandomize=True)
    @given(scenarios(max_observations=5))
    def collect(scenario: Scenario) -> None:
        found.append(scenario)

    collect()
    return found[:n]


def _not_utf8(texts: list[bytes]) -> pa.Array:
    return pa.array(texts, pa.binary()).cast(pa.string(), safe=False)  # pyarrow writes it unchecked


def test_text_that_is_not_utf8_refuses_its_row_alone_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "latin1.parquet"
    notes = pa.StructArray.from_arrays(
        [pa.array(["abuse_disclosed"] * 3), _not_utf8([b"ok", b"caf\xe9", b"fine"])], names=["signal", "note"]
    )
    table = pa.table(
        {
            "id": _not_utf8([b"\xff\xfe", b"b", b"c"]),
            "observations": pa.ListArray.from_arrays(pa.array([0, 1, 2, 3], pa.int32()), notes),
        }
    )
    pq.write_table(table, path)
    strict = _strict(path)
    assert [item.ok for item in strict] == [False, False, True]
    assert all(p.message.startswith("text that is not UTF-8") for item in strict[:2] for p in item.problems)
    assert strict[0].input == {"id": "\\xff\\xfe", "observations": [{"signal": "abuse_disclosed", "note": "ok"}]}
    found = [item for c in chunks_of(path, 2, 0, DEFAULT_INPUT_LIMITS) for item in explain_records(COLUMNAR, c)]
    assert found == strict
    # The command says which rows, exits 1 as for any rejected record, and shows no traceback.
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "therapy_signals", "batch", str(path), "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    assert [e["record"] for e in errors] == [1, 2]
    assert len(out.read_text().splitlines()) == 1
