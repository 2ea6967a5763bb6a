"""Batch lines built from hostile pieces: the run always completes, and every record is accounted for.

Each line is a valid scenario, or one of the things issue 10 found stopping or fooling a
batch: truncated JSON, a key given twice, deep nesting, a number of thousands of digits,
NaN, "7" for a number and "yes" for a boolean, bytes that are not UTF-8; with byte order
marks, blank lines and CRLF line ends among them. The properties:

- the run completes, and records = results + errors = the lines that are not blank;
- a rejected record's line is its physical line, and its kind is the one its piece earns;
- a valid scenario's result is what ``Engine.explain`` says of it;
- the errors file has exactly one JSON line per rejected record, with that line;
- a run stopped part way and resumed writes the very bytes of a run never stopped.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, RuleBook, Scenario
from therapy_signals.batch import Batch, Rejected, Result

from .conftest import simple_scenarios

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Piece:
    """One line's bytes (without its end), and what a batch must make of it."""

    data: bytes
    kind: str  # "valid", "invalid JSON", "invalid scenario" or "blank"
    scenario: Scenario | None = None


def _text(scenario: Scenario) -> str:
    return scenario.model_dump_json(exclude_none=True)


@st.composite
def pieces(draw: st.DrawFn, book: RuleBook) -> Piece:
    scenario = draw(st.sampled_from(simple_scenarios(book, 40)))
    text = _text(scenario)
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "bom",
                "truncated",
                "key twice",
                "deep",
                "long number",
                "nan",
                "string for integer",
                "string for boolean",
                "not utf-8",
                "blank",
            ]
        )
    )
    if kind == "valid":
        return Piece(text.encode(), "valid", scenario)
    if kind == "bom":
        return Piece(BOM + text.encode(), "valid", scenario)
    if kind == "truncated":
        return Piece(text[: draw(st.integers(1, len(text) - 1))].encode(), "invalid JSON")
    if kind == "key twice":
        return Piece(('{"observations": [], ' + text[1:]).encode(), "invalid JSON")
    if kind == "deep":
        depth = draw(st.integers(33, 20_000))
        return Piece(("[" * depth + "]" * draw(st.sampled_from([0, depth]))).encode(), "invalid JSON")
    if kind == "long number":
        digits = "9" * draw(st.integers(21, 6000))
        return Piece(('{"sessions": ' + digits + ", " + text[1:]).encode(), "invalid JSON")
    if kind == "nan":
        word = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        return Piece(('{"sessions": ' + word + ", " + text[1:]).encode(), "invalid JSON")
    if kind == "string for integer":
        return Piece(json.dumps({**json.loads(text), "sessions": "7"}).encode(), "invalid scenario")
    if kind == "string for boolean":
        data = json.loads(text)
        data["observations"][0]["raised"] = "yes"
        return Piece(json.dumps(data).encode(), "invalid scenario")
    if kind == "not utf-8":
        cut = draw(st.integers(0, len(text)))
        return Piece(
            text[:cut].encode() + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + text[cut:].encode(),
            "invalid JSON",
        )
    return Piece(draw(st.sampled_from([b"", b"   ", b"\t"])), "blank")


@st.composite
def files(draw: st.DrawFn, book: RuleBook) -> tuple[bytes, list[Piece]]:
    drawn = draw(st.lists(pieces(book), min_size=1, max_size=14))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(drawn), max_size=len(drawn)))
    body = b"".join(p.data + end for p, end in zip(drawn, ends, strict=True))
    if draw(st.booleans()):
        body = body.removesuffix(ends[-1])  # no line end after the last line
    return body, drawn


def _check_run(folder: Path, engine: Engine, chunk_size: int, body: bytes, drawn: list[Piece]) -> Path:
    source = folder / "in.jsonl"
    source.write_bytes(body)
    out = folder / "whole.jsonl"
    run = Batch(engine=engine, chunk_size=chunk_size).run(source, out)
    items = list(run)

    records = [(line, p) for line, p in enumerate(drawn, 1) if p.kind != "blank"]
    assert run.records == len(records) == run.results + run.errors == len(items)
    assert json.loads(Path(f"{out}.manifest.json").read_text())["status"] == "complete"
    for number, (item, (line, piece)) in enumerate(zip(items, records, strict=True), 1):
        assert item.record == number
        if piece.kind == "valid":
            assert piece.scenario is not None
            assert item == Result.from_guidance(number, engine.explain(piece.scenario, render=False))
        else:
            assert isinstance(item, Rejected), piece
            assert (item.line, item.error) == (line, piece.kind), item.message
            assert item.message.startswith(f"line {line}")
    logged = [json.loads(row) for row in Path(f"{out}.errors.jsonl").read_bytes().splitlines()]
    assert [(e["record"], e["line"]) for e in logged] == [(i.record, i.line) for i in items if isinstance(i, Rejected)]
    return source


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_hostile_lines_never_stop_a_batch(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine, book: RuleBook, data: st.DataObject
) -> None:
    body, drawn = data.draw(files(book), label="file")
    chunk_size = data.draw(st.integers(1, 5), label="chunk size")
    folder = tmp_path_factory.mktemp("fuzz")
    source = _check_run(folder, engine, chunk_size, body, drawn)

    records = sum(p.kind != "blank" for p in drawn)
    stop = data.draw(st.integers(1, max(records, 1)), label="stop after")
    batch = Batch(engine=engine, chunk_size=chunk_size)
    cut = folder / "cut.jsonl"
    first = batch.run(source, cut)
    list(itertools.islice(first, stop))
    first.close()
    if json.loads(Path(f"{cut}.manifest.json").read_text())["status"] != "complete":
        batch.run(source, cut, resume=True).complete()
    whole = folder / "whole.jsonl"
    assert cut.read_bytes() == whole.read_bytes()
    assert Path(f"{cut}.errors.jsonl").read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()


def test_hostile_lines_give_the_same_bytes_on_worker_processes(tmp_path: Path, book: RuleBook) -> None:
    scenarios = simple_scenarios(book, 30)
    hostile = [
        b"[" * 10_000,
        b'{"sessions": ' + b"9" * 5000 + b"}",
        b'{"a": 1, "a": 2}',
        b"\xff{}",
        b'{"sessions": NaN}',
    ]
    lines = [_text(s).encode() for s in scenarios]
    for index, bad in enumerate(hostile):
        lines.insert(5 * index + 2, bad)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\r\n".join(lines) + b"\r\n")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        Batch(workers=workers, chunk_size=4).run(source, out).complete()
        outputs.append((out.read_bytes(), Path(f"{out}.errors.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]
    assert len(outputs[1][1].splitlines()) == len(hostile)
