"""Hostile records in a batch: each is one rejected record naming its line, and the run goes on.

Issue 10, item 8: deep nesting and numbers of thousands of digits gave tracebacks that
stopped a batch for good (``--resume`` met the same line again); a key given twice was
resolved silently; a line of a gigabyte was read whole. Here each is one line of the
errors file, and lines, counts and resumed runs stay right.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from therapy_signals import Engine, InputError, RuleBook
from therapy_signals.batch import Batch, Rejected, ResumeError, read_scenarios, run_batch
from therapy_signals.batch._io import open_scenarios, read_errors
from therapy_signals.limits import InputLimits

from .conftest import simple_scenarios


def _good(book: RuleBook, number: int) -> str:
    return simple_scenarios(book, number + 1)[number].model_dump_json(exclude_none=True)


def _signal(book: RuleBook) -> str:
    return sorted(book.signals)[0]


def hostile_lines(book: RuleBook) -> dict[str, tuple[str, str, str]]:
    """A bad line, the error it gets, and the where of its problem."""
    signal = _signal(book)
    return {
        "deep": ("[" * 100_000, "invalid JSON", "(top)"),
        "deep object": ('{"a":' * 50_000 + "1" + "}" * 50_000, "invalid JSON", "(top)"),
        "long number": (
            '{"sessions": ' + "9" * 5000 + ', "observations": [{"signal": "' + signal + '"}]}',
            "invalid JSON",
            "sessions",
        ),
        "key twice": (
            '{"observations": [{"signal": "' + signal + '", "signal": "' + signal + '"}]}',
            "invalid JSON",
            "observations[0]",
        ),
        "NaN": ('{"sessions": NaN, "observations": [{"signal": "' + signal + '"}]}', "invalid JSON", "sessions"),
        "Infinity": (
            '{"observations": [{"signal": "' + signal + '", "months_after_ending": -Infinity}]}',
            "invalid JSON",
            "observations[0].months_after_ending",
        ),
        "string for integer": (
            '{"sessions": "7", "observations": [{"signal": "' + signal + '"}]}',
            "invalid scenario",
            "sessions",
        ),
        "string for boolean": (
            '{"observations": [{"signal": "' + signal + '", "raised": "yes"}]}',
            "invalid scenario",
            "observations[0].raised",
        ),
    }


CASES = [
    "deep",
    "deep object",
    "long number",
    "key twice",
    "NaN",
    "Infinity",
    "string for integer",
    "string for boolean",
]


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_line_is_one_rejected_record(tmp_path: Path, engine: Engine, book: RuleBook, case: str) -> None:
    line, kind, where = hostile_lines(book)[case]
    source = tmp_path / "in.jsonl"
    source.write_text(f"{_good(book, 0)}\n{line}\n\n{_good(book, 1)}\n", encoding="utf-8")
    run = Batch(engine=engine, chunk_size=1).run(source, tmp_path / "out.jsonl")
    items = list(run)
    assert [i.ok for i in items] == [True, False, True]
    rejected = items[1]
    assert isinstance(rejected, Rejected)
    assert (rejected.line, rejected.error) == (2, kind)
    assert rejected.problems[0].where == where
    assert rejected.message.startswith(f"line 2: {kind}: {where}: ")
    (logged,) = read_errors(tmp_path / "out.jsonl.errors.jsonl")
    assert logged == rejected and logged.input == line  # the record as read, nothing lost
    assert run.records == 3 == run.results + run.errors


def test_the_messages_say_what_is_wrong(engine: Engine, book: RuleBook) -> None:
    lines = hostile_lines(book)
    messages = {
        case: next(iter(Batch(engine=engine).run([lines[case][0]]))).message
        for case in ("deep", "long number", "key twice", "NaN")
    }
    assert "nested deeper than 32 levels" in messages["deep"]
    assert "a number of 5,000 characters; at most 20 are allowed" in messages["long number"]
    assert "the key 'signal' appears more than once" in messages["key twice"]
    assert "NaN is not a JSON number" in messages["NaN"]


def test_resume_goes_past_a_hostile_line(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    lines = hostile_lines(book)
    body = [_good(book, n) for n in range(6)]
    body[2:2] = [lines["deep"][0], lines["long number"][0]]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(body) + "\n", encoding="utf-8")
    batch = Batch(engine=engine, chunk_size=2)
    whole = tmp_path / "whole.jsonl"
    batch.run(source, whole).complete()
    cut = tmp_path / "cut.jsonl"
    first = batch.run(source, cut)
    assert next(first).ok and next(first).ok and not next(first).ok  # stopped just past the deep line
    first.close()
    batch.run(source, cut, resume=True).complete()
    assert cut.read_bytes() == whole.read_bytes()
    assert Path(f"{cut}.errors.jsonl").read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()
    assert [r.line for r in read_errors(Path(f"{cut}.errors.jsonl"))] == [3, 4]


def test_a_line_over_the_limit_is_rejected_without_being_read(tmp_path: Path, book: RuleBook) -> None:
    limit = 2_000
    source = tmp_path / "in.jsonl"
    with source.open("wb") as file:
        file.write(_good(book, 0).encode() + b"\n")
        file.write(b'{"observations": "' + b"x" * (64 << 20) + b'"}\n')  # 64 MiB on one line
        file.write(b"\n" + _good(book, 1).encode() + b"\r\n")
        file.write(b" " * (3 * limit) + b"\n")  # a blank line, however long, is layout
        file.write(_good(book, 2).encode())  # no line end at the end of the file
    batch = Batch(limits=InputLimits(max_bytes=limit), chunk_size=2)
    # A batch first on a small file, so that what is measured is the reading of the long line,
    # not the modules a batch imports the first time it runs in this process.
    warm = tmp_path / "warm.jsonl"
    warm.write_text(_good(book, 0) + "\n" + _good(book, 1) + "\n", encoding="utf-8")
    list(batch.run(warm, tmp_path / "warm-out.jsonl"))
    tracemalloc.start()
    try:
        source_records = open_scenarios(source, None, batch.limits)
        items = list(batch.run(source, tmp_path / "out.jsonl"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # blocks of the long line, never the line
    assert source_records.total == 4
    assert [(i.ok, i.record) for i in items] == [(True, 1), (False, 2), (True, 3), (True, 4)]
    rejected = items[1]
    assert isinstance(rejected, Rejected) and rejected.line == 2 and rejected.error == "invalid JSON"
    assert f"{(64 << 20) + 20:,} bytes, over the limit of {limit:,} for one scenario" in rejected.message
    assert "--max-bytes" in rejected.message
    assert rejected.input == '{"observations": "' + "x" * 238  # its first 256 bytes
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert manifest["options"]["limits"] == {"max_bytes": limit, "max_depth": 32, "max_digits": 20}
    assert manifest["input"]["records"] == manifest["counts"]["records"] == 4


def test_the_limit_is_the_line_without_its_end(tmp_path: Path, book: RuleBook) -> None:
    good = _good(book, 0).encode()
    source = tmp_path / "in.jsonl.gz"
    padded = good[:-1] + b" " * 10 + b"}"  # the same scenario, longer
    source.write_bytes(gzip.compress(good + b"\r\n" + padded + b"\n" + good))
    fits = Batch(limits=InputLimits(max_bytes=len(good)))
    assert [i.ok for i in fits.run(source)] == [True, False, True]  # exactly at the limit is in


def test_workers_use_the_limits_of_the_batch(tmp_path: Path, book: RuleBook) -> None:
    # Depth 4 breaks max_depth=3 (a scenario needs 3), which only the parser can tell:
    # the worker processes must parse with the limits of the Batch, not their defaults.
    signal = _signal(book)
    line = json.dumps({"observations": [{"signal": signal, "note": ["nested"]}]})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([_good(book, 0), line] * 10) + "\n", encoding="utf-8")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        Batch(limits=InputLimits(max_depth=3), workers=workers, chunk_size=3).run(source, out).complete()
        outputs.append(Path(f"{out}.errors.jsonl").read_bytes())
        errors = list(read_errors(Path(f"{out}.errors.jsonl")))
        assert {e.error for e in errors} == {"invalid JSON"} and len(errors) == 10
        assert "nested deeper than 3 levels" in errors[0].message
    assert outputs[0] == outputs[1]
    default = [e.error for e in run_batch(source) if not e.ok]
    assert set(default) == {"invalid scenario"}  # the same line, within the default limits


def test_resume_refuses_other_limits(tmp_path: Path, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_good(book, n) for n in range(10)) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = Batch(chunk_size=3).run(source, out)
    next(run)
    run.close()
    with pytest.raises(ResumeError, match="the input limits were max_bytes 1,048,576, max_depth 32, max_digits 20"):
        Batch(limits=InputLimits(max_bytes=5000)).run(source, out, resume=True)
    assert Batch().run(source, out, resume=True).complete() is not None


def test_an_engine_and_limits_are_not_both_given(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not both"):
        Batch(engine=engine, limits=InputLimits())
    assert Batch(engine=Engine(limits=InputLimits(max_bytes=99))).limits.max_bytes == 99
    line = '{"observations": [{"signal": "' + sorted(engine.rulebook.signals)[0] + '"}]}'
    assert [i.ok for i in run_batch([line], limits=InputLimits(max_bytes=len(line) - 1))] == [False]
    assert [i.ok for i in run_batch([line], limits=InputLimits(max_bytes=len(line)))] == [True]


def test_read_scenarios_is_as_strict_as_a_batch(tmp_path: Path, book: RuleBook) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(_good(book, 0) + "\n" + hostile_lines(book)["key twice"][0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: not a valid scenario: observations\[0\]: the key 'signal'"):
        list(read_scenarios(source))


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_records_past_the_limits_are_rejected_and_the_reading_goes_on(tmp_path: Path, book: RuleBook) -> None:
    signal = _signal(book)
    rows = ["scenario_id,signal,note", f"a,{signal},fine"]
    rows.append(f"b,{signal}," + "x" * 5000)  # line 3: one line over the limit
    rows.append(f'c,{signal},"' + ("y" * 300 + "\n") * 5 + '"')  # lines 4 to 9: a quoted note over it
    rows.append(f"d,{signal},after")  # line 10
    rows += [f"e,{signal},{n}" for n in range(101)]  # lines 11 to 111: more rows than observations
    rows.append(f"f,{signal}," + "z" * 200_000)  # line 112
    rows.append(f"g,{signal},last")  # line 113
    source = tmp_path / "in.csv"
    source.write_bytes("\r\n".join(rows).encode() + b"\r\nh," + signal.encode() + b",bad \xff byte\r\n")
    tracemalloc.start()
    try:
        items = list(Batch(limits=InputLimits(max_bytes=1000)).run(source, tmp_path / "out.jsonl"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [i.scenario_id for i in items if i.ok] == ["a", "d", "g"]
    assert [r.line for r in rejected] == [3, 4, 11, 112, 114]
    assert [r.record for r in rejected] == [2, 3, 5, 6, 8]
    messages = [r.message for r in rejected]
    assert f"line 3 takes {len(rows[2]):,} bytes, over the limit of 1,000 for one scenario" in messages[0]
    assert "lines 4 to 9 take" in messages[1]
    assert "101 rows from line 11, more than the 100 observations one scenario may have" in messages[2]
    assert "line 112 takes 200," in messages[3]
    assert "line 114: not UTF-8 text" in messages[4]
    assert rejected[4].input == [["h", signal, "bad \\xff byte"]]


def test_a_csv_cell_past_the_csv_modules_own_limit_is_one_record(tmp_path: Path, book: RuleBook) -> None:
    signal = _signal(book)
    source = tmp_path / "in.csv"
    source.write_text(f'signal,note\n{signal},"{"z" * 200_000}"\n{signal},after\n', encoding="utf-8")
    first, second = run_batch(source)
    assert isinstance(first, Rejected) and first.line == 2
    assert "not valid CSV: field larger than field limit" in first.message
    assert second.ok


def test_parquet_rows_are_as_strict(tmp_path: Path, book: RuleBook) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    signal = _signal(book)
    path = tmp_path / "s.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "sessions": ["7", None, None],  # a string column: "7" is not a number
            "observations": [
                json.dumps([{"signal": signal}]),
                '[{"signal": "' + signal + '", "signal": "x"}]',
                json.dumps([{"signal": signal, "raised": True}]),
            ],
        }
    )
    pq.write_table(table, path)
    items = list(run_batch(path))
    assert [i.ok for i in items] == [False, False, True]
    assert "sessions: a whole number" in items[0].message
    assert "the key 'signal' appears more than once" in items[1].message


def test_the_command_line_takes_max_bytes_and_records_it(tmp_path: Path, book: RuleBook) -> None:
    import subprocess

    from .conftest import SCRIPT

    signal = _signal(book)
    long_one = json.dumps({"observations": [{"signal": signal, "note": "n" * 500}]})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([_good(book, 0), long_one, _good(book, 1)] * 20) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"

    def batch(*options: str) -> subprocess.CompletedProcess[str]:
        command = [str(SCRIPT), "batch", str(source), "-o", str(out), "--chunk-size", "10", *options]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    done = batch("--max-bytes", "400", "--max-errors", "20")
    assert done.returncode == 0, done.stderr
    assert "60 records: 40 results" in done.stderr and "20 rejected" in done.stderr
    errors = list(read_errors(Path(f"{out}.errors.jsonl")))
    assert [e.line for e in errors] == list(range(2, 61, 3))
    assert all("over the limit of 400 for one scenario" in e.message for e in errors)
    manifest = json.loads(Path(f"{out}.manifest.json").read_text())
    assert manifest["options"]["limits"]["max_bytes"] == 400

    manifest["status"] = "interrupted"  # as if stopped: a resume must not change the limit under it
    Path(f"{out}.manifest.json").write_text(json.dumps(manifest))
    refused = batch("--resume")
    assert refused.returncode == 2
    assert "cannot resume: the input limits were max_bytes 400, max_depth 32, max_digits 20" in refused.stderr
    plain = batch()  # nor start afresh over it without being told
    assert plain.returncode == 2 and "add --resume" in plain.stderr
