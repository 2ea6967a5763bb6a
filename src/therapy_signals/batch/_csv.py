"""The flat CSV layout: one row per observation, the scenario's columns repeated on each.

Scenario files::

    scenario_id,setting,sessions,signal,frequency,duration,initiated_by,where,raised,response,impact,months_after_ending,note
    s1,individual,12,contact_between_sessions,often,,therapist,,,,,,
    s1,individual,12,therapist_discourages_outside_support,occasionally,,,,,,,,

Consecutive rows with the same non-empty ``scenario_id`` are one scenario; a row with an
empty ``scenario_id`` is a scenario of its own. An empty cell means "not given". Only
``signal`` is a required column; the others may be left out. Results files have one row
per scenario, with list columns joined by ``;``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from ..errors import InputError, Problem
from ..model import Observation, Scenario
from ._io import Record
from ._results import LIST_COLUMNS, RESULT_COLUMNS, Result

__all__ = ["SCENARIO_COLUMNS", "encode_results", "read_records", "read_results", "results_header", "write_scenarios"]

OBSERVATION_COLUMNS = tuple(Observation.model_fields)
SCENARIO_KEYS = {"scenario_id": "id", "setting": "setting", "sessions": "sessions"}
SCENARIO_COLUMNS = (*SCENARIO_KEYS, *OBSERVATION_COLUMNS)
LIST_SEPARATOR = ";"


class _Group:
    """The rows of one scenario while they are being read."""

    def __init__(self, number: int, line: int, values: dict[str, str], problem: str | None, cells: list[str]) -> None:
        self.number = number
        self.line = line
        self.rows: list[list[str]] = []
        self.scenario: dict[str, Any] = {key: values.get(column, "").strip() for column, key in SCENARIO_KEYS.items()}
        self.observations: list[dict[str, str]] = []
        self.problems: list[str] = [problem] if problem else []
        self.add(values, line, None, cells)

    def add(self, values: dict[str, str], line: int, problem: str | None, cells: list[str]) -> None:
        self.rows.append(cells)
        if problem:
            self.problems.append(problem)
        for column, key in SCENARIO_KEYS.items():
            if values.get(column, "").strip() != self.scenario[key]:
                self.problems.append(
                    f"line {line}: {column} is {values.get(column, '').strip()!r} but {self.scenario[key]!r} "
                    f"on line {self.line}; every row of one scenario must repeat the same {column}"
                )
        observation: dict[str, Any] = {}
        for column in OBSERVATION_COLUMNS:
            value = values.get(column, "")
            if column != "note":
                value = value.strip()
            if value != "":
                observation[column] = _typed(column, value)
        self.observations.append(observation)

    def record(self) -> Record:
        payload: dict[str, Any] = {k: _typed(k, v) for k, v in self.scenario.items() if v != ""}
        payload["observations"] = self.observations
        problem = Problem("(rows)", "; ".join(self.problems)) if self.problems else None
        return Record(self.number, self.line, payload, problem, raw=self.rows)


# A CSV cell is text; the scenario model takes JSON's types, so the columns that are numbers
# or booleans are converted here. A cell that does not convert is passed on as text, and the
# model then says what it should be ("a whole number, not the string '7x'").
_INTEGERS = frozenset({"sessions", "months_after_ending"})
_BOOLEANS = {"true": True, "false": False}


def _typed(column: str, value: str) -> str | int | bool:
    if column in _INTEGERS and value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        return int(value)
    if column == "raised":
        return _BOOLEANS.get(value.lower(), value)
    return value


_MAX_DIGITS = 20  # as InputLimits.max_digits: a longer number is refused, not converted


def _header(row: Sequence[str], name: str) -> list[str]:
    columns = [c.strip() for c in row]
    unknown = [c for c in columns if c not in SCENARIO_COLUMNS]
    if unknown:
        raise InputError(
            f"{name}:1: unknown column {unknown[0]!r}; the flat layout's columns are {', '.join(SCENARIO_COLUMNS)}"
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise InputError(f"{name}:1: column {twice[0]!r} appears twice")
    if "signal" not in columns:
        raise InputError(f"{name}:1: no 'signal' column; every row is one observation and needs its signal")
    return columns


def read_records(stream: IO[bytes], name: str) -> Iterator[Record]:
    """One Record per scenario, streaming: only the rows of the current scenario are held."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        first = next(reader, None)
        if first is None:
            return
        columns = _header(first, name)
        group: _Group | None = None
        number = 0
        last = reader.line_num
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            problem = None
            if len(row) != len(columns):
                problem = f"line {line}: {len(row)} cells for {len(columns)} columns"
            values = dict(zip(columns, row, strict=False))
            key = values.get("scenario_id", "").strip()
            if group is not None and key and key == group.scenario["id"]:
                group.add(values, line, problem, row)
                continue
            if group is not None:
                yield group.record()
            number += 1
            group = _Group(number, line, values, problem, row)
        if group is not None:
            yield group.record()
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: not UTF-8 text after line {reader.line_num} ({error.reason}); save it as UTF-8"
        ) from None
    except csv.Error as error:
        raise InputError(f"{name}:{reader.line_num}: not valid CSV: {error}") from None
    finally:
        text.detach()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def write_scenarios(scenarios: Iterable[Scenario], stream: IO[bytes]) -> int:
    """Write the flat layout; a scenario without an id gets ``s<n>``, the id a batch would give it."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    # RFC 4180 line ends: the csv module quotes a cell holding any character of the line
    # terminator, so with "\r\n" a note holding a lone "\r" is quoted too.
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(SCENARIO_COLUMNS)
    count = 0
    previous = None
    try:
        for count, scenario in enumerate(scenarios, 1):
            key = scenario.id or f"s{count}"
            if key == previous:
                raise InputError(
                    f"scenarios {count - 1} and {count} are both {key!r}: CSV ties consecutive rows "
                    "with one scenario_id into one scenario; give them distinct ids"
                )
            previous = key
            head = [key, _cell(scenario.setting), _cell(scenario.sessions)]
            for observation in scenario.observations:
                writer.writerow(head + [_cell(getattr(observation, c)) for c in OBSERVATION_COLUMNS])
    finally:
        text.detach()
    return count


def results_header(with_text: bool) -> bytes:
    columns = [*RESULT_COLUMNS, "text"] if with_text else list(RESULT_COLUMNS)
    return (",".join(columns) + "\r\n").encode()


def encode_results(rows: Sequence[Result], with_text: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for result in rows:
        row = result.to_row(with_text)
        writer.writerow(
            [LIST_SEPARATOR.join(v) if k in LIST_COLUMNS else ("" if v is None else v) for k, v in row.items()]
        )
    return out.getvalue().encode()


def read_results(stream: IO[bytes], name: str) -> Iterator[Result]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    missing = [c for c in ("scenario_id", "level") if c not in (reader.fieldnames or ())]
    if missing:
        raise InputError(f"{name}:1: not a results file: no {missing[0]!r} column")
    for number, row in enumerate(reader, 1):
        values: dict[str, Any] = dict(row)
        for column in LIST_COLUMNS:
            cell = values.get(column) or ""
            values[column] = cell.split(LIST_SEPARATOR) if cell else []
        try:
            yield Result.from_row(values, number)
        except (ValueError, KeyError) as error:
            raise InputError(f"{name}:{reader.line_num}: not a results row ({error})") from None
    text.detach()
