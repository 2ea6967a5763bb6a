"""The flat CSV layout: one row per observation, the scenario's columns repeated on each.

Scenario files::

    scenario_id,setting,sessions,signal,frequency,duration,initiated_by,where,raised,response,impact,months_after_ending,note
    s1,individual,12,contact_between_sessions,often,,therapist,,,,,,
    s1,individual,12,therapist_discourages_outside_support,occasionally,,,,,,,,

Consecutive rows with the same non-empty ``scenario_id`` are one scenario; a row with an
empty ``scenario_id`` is a scenario of its own. An empty cell means "not given". Only
``signal`` is a required column; the others may be left out. Results files have one row
per scenario, with list columns joined by ``;``.

Every cell written goes through :func:`neutral`, and every cell read through
:func:`restored` (docs/decisions/0010-batch-faults.md): a spreadsheet never sees a formula
in our files, and our own files read back exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..errors import InputError, Problem
from ..limits import DEFAULT_INPUT_LIMITS, InputLimits
from ..model import MAX_OBSERVATIONS, Observation, Scenario
from ._io import Record
from ._results import LIST_COLUMNS, RESULT_COLUMNS, Result

__all__ = [
    "SCENARIO_COLUMNS",
    "encode_results",
    "neutral",
    "read_records",
    "read_results",
    "restored",
    "results_header",
    "write_scenarios",
]

OBSERVATION_COLUMNS = tuple(Observation.model_fields)
SCENARIO_KEYS = {"scenario_id": "id", "setting": "setting", "sessions": "sessions"}
SCENARIO_COLUMNS = (*SCENARIO_KEYS, *OBSERVATION_COLUMNS)
LIST_SEPARATOR = ";"
_BLOCK = 1 << 16

# -- formulas ---------------------------------------------------------------------------------

# OWASP's list: a spreadsheet takes a cell starting with one of these for a formula (tab and
# carriage return because some strip them and then see what follows).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """The cell as written: a leading ``'`` when it could start a formula, also behind quotes.

    Quotes already in front count, so that :func:`restored` can tell ours from the text's:
    ``=1`` is written ``'=1``, and ``'=1`` is written ``''=1``.
    """
    return "'" + cell if cell.lstrip("'").startswith(_FORMULA_START) else cell


def restored(cell: str) -> str:
    """The cell as it was before :func:`neutral`: one ``'`` less in front of a formula start."""
    if cell[:1] != "'":
        return cell  # nearly every cell: a file of many rows reads this once per cell
    return cell[1:] if cell.lstrip("'").startswith(_FORMULA_START) else cell


# -- reading scenarios ------------------------------------------------------------------------


class _TooLongError(Exception):
    """A row over the byte limit, raised through csv.reader, which starts afresh after it."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _utf8_size(text: str) -> tuple[int, bool]:
    """Bytes the text took in the file, and whether they were all UTF-8 (see ``surrogateescape``)."""
    if text.isascii():
        return len(text), True
    try:
        return len(text.encode("utf-8")), True
    except UnicodeEncodeError:
        return len(text.encode("utf-8", "surrogateescape")), False


def _content(line: str) -> str:
    return line.rstrip("\r\n")


def _ends_line(piece: str, size: int) -> bool:
    """Whether a ``readline(size)`` piece ends its line: a line end, or the end of the file."""
    return len(piece) < size or piece.endswith(("\n", "\r"))


class _Lines:
    """Physical lines for csv.reader, none read past ``limit`` bytes, and a byte count per row.

    A line over the limit is skipped to its end in blocks and never held whole; so is a row
    whose lines (a quoted note may span several) add up to more, up to the line where its
    quoted cell closes, so that the next row starts where it really does. Either raises
    _TooLongError, through the csv reader, which starts a fresh row after it.
    """

    def __init__(self, text: IO[str], limit: int) -> None:
        self.text = text
        self.limit = limit
        self.number = 0  # the last physical line read
        self.row_start = 1
        self.row_bytes = 0
        self.quotes = 0  # quote characters in the row so far: an odd count is inside a quoted cell
        self.undecodable: int | None = None  # a line of this row with bytes that are not UTF-8
        self._cut_after_cr = False

    def start_row(self) -> None:
        self.row_start = self.number + 1
        self.row_bytes = 0
        self.quotes = 0
        self.undecodable = None

    def __iter__(self) -> _Lines:
        return self

    def _read(self, size: int) -> str:
        piece = self.text.readline(size)
        if self._cut_after_cr and piece == "\n":
            piece = self.text.readline(size)  # the rest of a "\r\n" that the size limit cut in two
        self._cut_after_cr = len(piece) == size and piece.endswith("\r")
        return piece

    def _line(self, size: int) -> str:
        """The next physical line, only its first ``size`` characters kept; "" at the end."""
        line = self._read(size)
        if not line:
            return line
        self.number += 1
        whole = _ends_line(line, size)
        self._count(line, whole)
        while not whole:
            piece = self._read(_BLOCK)
            whole = _ends_line(piece, _BLOCK)
            self._count(piece, whole)
        return line

    def _count(self, piece: str, whole: bool) -> None:
        length, decoded = _utf8_size(_content(piece) if whole else piece)
        self.row_bytes += length
        self.quotes += piece.count('"')
        if not decoded and self.undecodable is None:
            self.undecodable = self.number

    def __next__(self) -> str:
        line = self._line(self.limit + 2)  # the limit, and a line end
        if not line:
            raise StopIteration
        if self.row_bytes > self.limit:
            while self.quotes % 2 and self._line(_BLOCK):
                pass
            raise _TooLongError(self.row_start, self._too_long())
        return line

    def _too_long(self) -> str:
        lines = (
            f"line {self.number} takes"
            if self.row_start == self.number
            else f"lines {self.row_start} to {self.number} take"
        )
        return (
            f"{lines} {self.row_bytes:,} bytes, over the limit of {self.limit:,} for one scenario; "
            "raise it with --max-bytes if it is really one"
        )


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: list[str]
    size: int
    problem: str | None


@dataclass(frozen=True, slots=True)
class _Unreadable:
    line: int
    reason: str


def _printable(cells: list[str]) -> list[str]:
    """Cells with undecodable bytes shown as ``\\xff``, so they can go into the errors file."""
    return [c.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") for c in cells]


def _rows(reader: Iterator[list[str]], lines: _Lines) -> Iterator[_Row | _Unreadable]:
    """Each non-blank row, or why a row could not be read (and the reading goes on)."""
    while True:
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _TooLongError as refused:
            yield _Unreadable(refused.line, refused.reason)
            continue
        except csv.Error as error:
            yield _Unreadable(lines.row_start, f"line {lines.row_start}: not valid CSV: {error}")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        problem = None
        if lines.undecodable is not None:
            problem = f"line {lines.undecodable}: not UTF-8 text; save the file as UTF-8"
            cells = _printable(cells)
        yield _Row(lines.row_start, cells, lines.row_bytes, problem)


class _Group:
    """The rows of one scenario while they are being read, holding at most one scenario's worth."""

    def __init__(self, number: int, row: _Row, values: dict[str, str], limit: int) -> None:
        self.number = number
        self.line = row.line
        self.limit = limit
        self.rows: list[list[str]] = []
        self.count = 0
        self.size = 0
        self.scenario: dict[str, Any] = {key: values.get(column, "") for column, key in SCENARIO_KEYS.items()}
        self.observations: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def continues(self, values: dict[str, str]) -> bool:
        """Whether the row has this scenario's (non-empty) id."""
        return bool(self.scenario["id"]) and values.get("scenario_id", "") == self.scenario["id"]

    def add(self, row: _Row, values: dict[str, str], columns: int) -> None:
        self.count += 1
        self.size += row.size
        if self.count > MAX_OBSERVATIONS or self.size > self.limit:
            return  # counted, not held: the record is refused as too large
        self.rows.append(row.cells)
        if row.problem:
            self.problems.append(row.problem)
        if len(row.cells) != columns:
            self.problems.append(f"line {row.line}: {len(row.cells)} cells for {columns} columns")
        self._check_scenario_columns(values, row.line)
        self.observations.append(_observation(values))

    def _check_scenario_columns(self, values: dict[str, str], line: int) -> None:
        for column, key in SCENARIO_KEYS.items():
            if values.get(column, "") != self.scenario[key]:
                self.problems.append(
                    f"line {line}: {column} is {values.get(column, '')!r} but {self.scenario[key]!r} "
                    f"on line {self.line}; every row of one scenario must repeat the same {column}"
                )

    def _size_problem(self) -> str | None:
        if self.count > MAX_OBSERVATIONS:
            return (
                f"{self.count:,} rows from line {self.line}, more than the {MAX_OBSERVATIONS} observations "
                "one scenario may have"
            )
        if self.size > self.limit:
            return (
                f"the rows from line {self.line} take {self.size:,} bytes, over the limit of {self.limit:,} "
                "for one scenario; raise it with --max-bytes if it is really one"
            )
        return None

    def record(self) -> Record:
        payload: dict[str, Any] = {k: _typed(k, v) for k, v in self.scenario.items() if v != ""}
        payload["observations"] = self.observations
        too_large = self._size_problem()
        problems = [too_large] if too_large else self.problems
        problem = Problem("(rows)", "; ".join(problems)) if problems else None
        return Record(self.number, self.line, payload, problem, raw=self.rows)


def _observation(values: dict[str, str]) -> dict[str, Any]:
    # Every row of a file goes through here: the cells given, in column order, and only the
    # columns that are not text converted.
    observation: dict[str, Any] = {c: values[c] for c in OBSERVATION_COLUMNS if values.get(c)}
    for column in _CONVERTED:
        if column in observation:
            observation[column] = _typed(column, observation[column])
    return observation


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
_CONVERTED = tuple(c for c in OBSERVATION_COLUMNS if c in _INTEGERS or c == "raised")


def _header(row: Sequence[str], name: str) -> list[str]:
    columns = [c.strip() for c in row]
    unknown = [c for c in columns if c not in SCENARIO_COLUMNS]
    if unknown:
        raise InputError(
            f"{name}:1: unknown column {unknown[0][:80]!r}; the flat layout's columns are {', '.join(SCENARIO_COLUMNS)}"
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise InputError(f"{name}:1: column {twice[0]!r} appears twice")
    if "signal" not in columns:
        raise InputError(f"{name}:1: no 'signal' column; every row is one observation and needs its signal")
    return columns


def _first_row(reader: Iterator[list[str]], name: str) -> list[str] | None:
    try:
        return next(reader, None)
    except _TooLongError as refused:
        raise InputError(f"{name}: the header {refused.reason}") from None
    except csv.Error as error:
        raise InputError(f"{name}:1: not valid CSV: {error}") from None


def _values(columns: list[str], note: int, row: _Row) -> dict[str, str]:
    # Stripped before restored: a neutralised cell keeps the tab or the CR behind its quote.
    # Every row of a file goes through here, so the cells are stripped and restored in C
    # where that says the same: the note keeps its spaces, and without a quote mark in the
    # row no cell has one to take off.
    cells = row.cells
    kept = list(map(str.strip, cells))
    if 0 <= note < len(cells):
        kept[note] = cells[note]
    if "'" in "".join(cells):
        kept = list(map(restored, kept))
    return dict(zip(columns, kept, strict=False))


def _grouped(rows: Iterator[_Row | _Unreadable], columns: list[str], limit: int) -> Iterator[Record]:
    group: _Group | None = None
    number = 0
    note = columns.index("note") if "note" in columns else -1  # the one cell kept as written
    for row in rows:
        values = _values(columns, note, row) if isinstance(row, _Row) else {}
        if isinstance(row, _Row) and group is not None and group.continues(values):
            group.add(row, values, len(columns))
            continue
        if group is not None:
            yield group.record()
            group = None
        number += 1
        if isinstance(row, _Unreadable):
            yield Record(number, row.line, {}, Problem("(rows)", row.reason))
        else:
            group = _Group(number, row, values, limit)
            group.add(row, values, len(columns))
    if group is not None:
        yield group.record()


def read_records(stream: IO[bytes], name: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Iterator[Record]:
    """One Record per scenario, streaming: only the rows of the current scenario are held.

    A row that cannot be read (over ``limits.max_bytes``, bytes that are not UTF-8, a cell
    past the csv module's own limit) is one rejected record, and the reading goes on.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _Lines(text, limits.max_bytes)
    reader = csv.reader(lines)
    try:
        first = _first_row(reader, name)
        if first is None:
            return
        if lines.undecodable is not None:
            raise InputError(f"{name}:1: the header is not UTF-8 text; save the file as UTF-8")
        yield from _grouped(_rows(reader, lines), _header(first, name), limits.max_bytes)
    finally:
        text.detach()


# -- writing ----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutral(str(getattr(value, "value", value)))


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
            head = [_cell(key), _cell(scenario.setting), _cell(scenario.sessions)]
            for observation in scenario.observations:
                writer.writerow(head + [_cell(getattr(observation, c)) for c in OBSERVATION_COLUMNS])
    finally:
        text.detach()
    return count


def results_header(with_text: bool) -> bytes:
    columns = [*RESULT_COLUMNS, "text"] if with_text else list(RESULT_COLUMNS)
    return (",".join(columns) + "\r\n").encode()


def _result_cell(column: str, value: Any) -> str:
    if column in LIST_COLUMNS:
        return neutral(LIST_SEPARATOR.join(value))
    return _cell(value)


def encode_results(rows: Sequence[Result], with_text: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for result in rows:
        writer.writerow([_result_cell(k, v) for k, v in result.to_row(with_text).items()])
    return out.getvalue().encode()


def read_results(stream: IO[bytes], name: str) -> Iterator[Result]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    missing = [c for c in ("scenario_id", "level") if c not in (reader.fieldnames or ())]
    if missing:
        raise InputError(f"{name}:1: not a results file: no {missing[0]!r} column")
    for number, row in enumerate(reader, 1):
        values: dict[str, Any] = {k: restored(v) if isinstance(v, str) else v for k, v in row.items()}
        for column in LIST_COLUMNS:
            cell = values.get(column) or ""
            values[column] = cell.split(LIST_SEPARATOR) if cell else []
        try:
            yield Result.from_row(values, number)
        except (ValueError, KeyError) as error:
            raise InputError(f"{name}:{reader.line_num}: not a results row ({error})") from None
    text.detach()
