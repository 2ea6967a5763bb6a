"""JSONL straight into columns is a fast path, never a second judge: for any line, valid or
hostile, a columnar chunk gives the very item the strict path (strict JSON, then the Scenario
model, then durable_rules) gives for it alone: the same Result, or the same Rejected with the
same kind, place, problems and input. Lines are valid scenarios mutated one token at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Scenario
from therapy_signals.batch._blocks import ColumnarItems
from therapy_signals.batch._fast_input import parse_lines
from therapy_signals.batch._io import LineChunk, Record
from therapy_signals.batch._parallel import explain_record, explain_records
from therapy_signals.errors import Problem
from therapy_signals.limits import InputLimits
from therapy_signals.strategies import scenarios

ROOT = Path(__file__).resolve().parents[2]

DURABLE = Engine()
COLUMNAR = Engine(backend="columnar")
SIGNALS = sorted(DURABLE.rulebook.signals)


def _as_dict(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="json", exclude_none=True)


def _mutate(data: st.DataObject, given: dict[str, Any]) -> bytes:
    """The scenario's JSON with one thing changed, or none."""
    found = json.loads(json.dumps(given))
    observation = data.draw(st.sampled_from(found["observations"]))
    kind = data.draw(
        st.sampled_from(
            [
                "none",
                "none",
                "null field",
                "null setting",
                "null observation",
                "wrong type",
                "unknown field",
                "out of range",
                "unknown word",
                "unknown signal",
                "lengths",
                "response not raised",
                "twin",
                "near twin",
                "escape",
                "non-ascii",
                "key twice",
                "two objects",
                "spacing",
                "bom",
                "many observations",
                "numbers",
            ]
        ),
        label="mutation",
    )
    field = data.draw(
        st.sampled_from(["frequency", "duration", "impact", "initiated_by", "where", "response", "raised", "note"])
    )
    text: str | None = None
    if kind == "null field":
        target = data.draw(st.sampled_from(["scenario", "observation"]))
        if target == "scenario":
            found[data.draw(st.sampled_from(["id", "sessions", "observations"]))] = None
        else:
            observation[data.draw(st.sampled_from(["signal", field, "months_after_ending"]))] = None
    elif kind == "null setting":
        found["setting"] = None
    elif kind == "null observation":
        found["observations"].append(None)
    elif kind == "wrong type":
        value = data.draw(st.sampled_from(["7", 7.0, True, 1, [], {}, "yes"]))
        where = data.draw(st.sampled_from(["sessions", "id", "setting", "observations", "signal", field, "months"]))
        if where in ("sessions", "id", "setting", "observations"):
            found[where] = value
        else:
            observation["months_after_ending" if where == "months" else where] = value
    elif kind == "unknown field":
        (found if data.draw(st.booleans()) else observation)["extra"] = 1
    elif kind == "out of range":
        where = data.draw(st.sampled_from(["sessions", "months"]))
        value = data.draw(st.sampled_from([-1, 10001, 1201, 0, 1200, 10000]))
        if where == "sessions":
            found["sessions"] = value
        else:
            observation["months_after_ending"] = value
    elif kind == "unknown word":
        observation[data.draw(st.sampled_from(["frequency", "impact", "where", "response"]))] = "sometimes"
        if data.draw(st.booleans()):
            found["setting"] = "solo"
    elif kind == "unknown signal":
        observation["signal"] = data.draw(st.sampled_from(["", "no_such_signal", SIGNALS[0] + "x", "x" * 101]))
    elif kind == "lengths":
        choice = data.draw(st.sampled_from(["id0", "id200", "id201", "note2000", "note2001"]))
        if choice.startswith("id"):
            found["id"] = "i" * int(choice[2:])
        else:
            observation["note"] = "n" * int(choice[4:])
    elif kind == "response not raised":
        observation["response"] = "repaired"
        observation["raised"] = data.draw(st.sampled_from([False, True, None]))
    elif kind == "twin":
        found["observations"].append(json.loads(json.dumps(observation)))
    elif kind == "near twin":
        twin = json.loads(json.dumps(observation))
        change = data.draw(st.sampled_from(["note", "raised", "months_after_ending"]))
        twin[change] = {"note": "other words", "raised": True, "months_after_ending": 5}[change]
        found["observations"].append(twin)
    elif kind == "many observations":
        size = data.draw(st.sampled_from([64, 65, 100, 101]))
        found["observations"] = [{"signal": SIGNALS[i % len(SIGNALS)], "months_after_ending": i} for i in range(size)]
    text = json.dumps(found, ensure_ascii=data.draw(st.booleans()))
    if kind == "escape":
        text = text.replace('"signal":', '"sig\\u006eal":', 1) if data.draw(st.booleans()) else text
        observation_note = json.dumps({"note": data.draw(st.sampled_from(["caf\u00e9", "line\nbreak", "tab\there"]))})
        text = text.replace('"observations": [{', '"observations": [{' + observation_note[1:-1] + ", ", 1)
    elif kind == "non-ascii":
        text = text.replace('"observations": [{', '"observations": [{"note": "caf\u00e9 \u2014 ok", ', 1)
    elif kind == "key twice":
        if data.draw(st.booleans()):
            text = text.replace('{"', '{"id": "twice", "', 1).replace('"id": "twice", "id"', '"id": "a", "id"')
        else:
            text = text.replace('"signal":', '"raised": true, "raised": false, "signal":', 1)
    elif kind == "two objects":
        text = text + " " + text
    elif kind == "spacing":
        text = text.replace(": ", data.draw(st.sampled_from([":", " : ", ":\t"])))
    raw = text.encode()
    if kind == "non-ascii" and data.draw(st.booleans()):
        raw = raw.replace("é".encode(), b"\xe9", 1)  # Latin-1, not UTF-8
    if kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    if kind == "numbers":
        raw = raw.replace(
            b'"observations"',
            data.draw(
                st.sampled_from([b'"sessions": -0, ', b'"sessions": 1e2, ', b'"sessions": 012, ', b'"sessions": 5.0, '])
            )
            + b'"observations"',
            1,
        )
    return raw


@st.composite
def lines(draw: st.DrawFn) -> list[bytes]:
    data = draw(st.data())
    given = draw(st.lists(scenarios(max_observations=4), min_size=1, max_size=12))
    return [_mutate(data, _as_dict(s)) for s in given]


def _strict(records: list[Record]) -> list[object]:
    return [explain_record(DURABLE, record, False) for record in records]


@settings(max_examples=150)
@given(lines())
def test_a_columnar_chunk_gives_what_the_strict_path_gives(given: list[bytes]) -> None:
    records = [Record(i + 1, i + 3, line) for i, line in enumerate(given)]
    assert list(explain_records(COLUMNAR, records)) == _strict(records)


@settings(max_examples=50)
@given(lines())
def test_a_line_chunk_gives_the_same(given: list[bytes]) -> None:
    chunk = LineChunk()
    for i, line in enumerate(given):
        chunk.add(i + 1, i + 3, line)
    assert list(explain_records(COLUMNAR, chunk)) == _strict(list(chunk))


@given(st.lists(scenarios(max_observations=6), min_size=1, max_size=40))
def test_valid_lines_all_take_the_fast_path(given: list[Scenario]) -> None:
    # Not vacuous: the fast path is the one that runs on valid scenarios, notes and all.
    payloads = [s.model_dump_json(exclude_none=True).encode() for s in given]
    parsed = parse_lines(payloads, {name: i for i, name in enumerate(SIGNALS)}, 1 << 20)
    assert parsed.strict.tolist() == []
    assert parsed.rows.tolist() == list(range(len(given)))
    items = explain_records(COLUMNAR, [Record(i + 1, i + 1, p) for i, p in enumerate(payloads)])
    assert isinstance(items, ColumnarItems)
    assert items.extra == [] and items.rejected == []


A = b'{"id": "a", "observations": [{"signal": "abuse_disclosed"}]}'
B = b'{"id": "b", "observations": [{"signal": "asked_for_review_or_testimonial"}]}'


def _both(lines: list[bytes]) -> None:
    records = [Record(i + 1, i + 1, line) for i, line in enumerate(lines)]
    assert list(explain_records(COLUMNAR, records)) == _strict(records)


def test_rows_stay_with_their_own_lines() -> None:
    # pyarrow reads a block as one stream of values: equal counts do not pair rows with lines.
    _both([A[:-1], b"} " + B])  # one object across two lines
    for blank in (b"", b"   ", b"\t", b"\r", b"\xef\xbb\xbf"):
        _both([blank, A + b" " + B])  # two objects on one line, none on another
    _both([b'{"id": "a",', b'"observations": [{"signal": "abuse_disclosed"}]}', A + b" " + B])


def test_a_null_line_is_rejected_not_a_crash() -> None:
    # pyarrow 26 crashes on a block that opens with null (apache/arrow#47409): in a child
    # process, so that a regression fails this test instead of killing the run.
    script = (
        "from tests.batch.test_fast_input import _both, A\n"
        "for lines in ([b'null'], [b' null'], [b'null '], [A, b'x', b'null', A], [A, b'null', A]):\n"
        "    _both(lines)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-2000:]


def test_a_line_over_max_bytes_is_refused_on_the_fast_path_too() -> None:
    small = Engine(backend="columnar", limits=InputLimits(max_bytes=200))
    strict = Engine(limits=InputLimits(max_bytes=200))
    records = [Record(1, 1, A + b" " * 300), Record(2, 2, A)]
    assert list(explain_records(small, records)) == [explain_record(strict, r, False) for r in records]
    first = next(iter(explain_records(small, records)))
    assert not first.ok


@settings(max_examples=60)
@given(
    st.lists(
        st.sampled_from([A, B, b"", b" ", b"null", b"x", A[:-1], b"} " + B, A + b" " + B, A[:30], A[30:]]), max_size=10
    )
)
def test_any_cut_of_lines_gives_what_the_strict_path_gives(lines: list[bytes]) -> None:
    _both([line for line in lines if line != b"null"] or [A])


# Mappings (a CSV scenario's, or scenarios given in code) take the fast path as the JSON line
# they make. JSON does not carry every Python value as it is, so the mutations here are the
# ones it would change: a float for a whole number, a key that is not text, a tuple, an enum
# member, NaN, a number beyond int64, a letter beyond ASCII.
def _mutate_mapping(data: st.DataObject, given: dict[str, Any]) -> dict[Any, Any]:
    found: dict[Any, Any] = json.loads(json.dumps(given))
    observation = data.draw(st.sampled_from(found["observations"]))
    kind = data.draw(
        st.sampled_from(
            ["none", "float", "key", "tuple", "enum", "nan", "huge", "letters", "bool", "negative zero", "nested"]
        ),
        label="mapping mutation",
    )
    if kind == "float":
        found["sessions"] = data.draw(st.sampled_from([7.0, 7.5, 1e2]))
    elif kind == "key":
        observation[1] = "x"
    elif kind == "tuple":
        found["observations"] = tuple(found["observations"])
    elif kind == "enum":
        from therapy_signals.model import Setting

        found["setting"] = data.draw(st.sampled_from(list(Setting)))
    elif kind == "nan":
        observation["months_after_ending"] = float("nan")
    elif kind == "huge":
        found["sessions"] = data.draw(st.sampled_from([2**63, 10**20, -(2**64)]))
    elif kind == "letters":
        observation["note"] = data.draw(st.sampled_from(["caf\u00e9", "a\u2014b", "\udcff"]))
    elif kind == "bool":
        found["sessions"] = True
    elif kind == "negative zero":
        observation["months_after_ending"] = -0.0
    elif kind == "nested":
        observation["note"] = {"text": "x"}
    return found


@settings(max_examples=150)
@given(st.data(), st.lists(scenarios(max_observations=4), min_size=1, max_size=12))
def test_mappings_give_what_the_strict_path_gives(data: st.DataObject, given: list[Scenario]) -> None:
    mappings: list[Any] = []
    for scenario in given:
        line = _mutate(data, _as_dict(scenario))
        try:
            parsed = json.loads(line)  # the mutations of a JSON line that still make a mapping
        except ValueError:
            parsed = None
        mappings.append(
            _mutate_mapping(data, _as_dict(scenario))
            if not isinstance(parsed, dict) or data.draw(st.booleans())
            else parsed
        )
    # A CSV scenario whose rows disagree comes with its problem already known: refused as it is.
    known = [
        Problem("(rows)", "line 3: setting is 'couples' but '' on line 2") if data.draw(st.booleans()) else None
        for _ in mappings
    ]
    records = [Record(i + 1, i + 2, m, known[i]) for i, m in enumerate(mappings)]
    assert list(explain_records(COLUMNAR, records)) == _strict(records)


def test_csv_scenarios_take_the_fast_path() -> None:
    # Not vacuous: the mappings a CSV file makes go into columns, not one by one.
    given = [
        {"id": "a", "setting": "couples", "sessions": 3, "observations": [{"signal": SIGNALS[0], "raised": True}]},
        {"observations": [{"signal": SIGNALS[1], "months_after_ending": 4, "note": "plain words"}]},
    ]
    items = explain_records(COLUMNAR, [Record(i + 1, i + 2, m) for i, m in enumerate(given)])
    assert isinstance(items, ColumnarItems)
    assert items.extra == [] and items.rejected == [] and items.result_count == 2
