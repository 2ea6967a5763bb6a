"""Scenarios straight into columns: pyarrow parses a chunk's JSONL lines against the scenario
schema (or a Parquet chunk comes in it already), and the Scenario model's rules are checked
on the columns (decision 0023).

This is a fast path, never a second judge. A line is taken here only when everything the
strict path (``_json`` then Pydantic) would check holds on it:

* pyarrow refuses, for the whole block, a key given twice, a field the schema does not have,
  a value of another JSON type (``"7"`` or ``7.0`` for a whole number, ``1`` for true),
  ``NaN``, a control character in a string and text that is not UTF-8;
* the columns are then checked for what a type cannot say: known words and signals, ranges,
  lengths, 1 to 64 observations, ``response`` with ``raised: false``, two identical
  observations, and ``setting: null`` (which Pydantic refuses but a column cannot tell
  from a setting left out).

Everything else goes the strict way, record by record, and gets its exact message there: a
block pyarrow refuses is split in halves until the lines it refuses are alone, and a line
with an escape (a backslash) always goes the strict way, since its text decides what the
string is. tests/batch/test_fast_input.py fuzzes lines to hold the two paths to agreement.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.json as pj  # type: ignore[import-untyped]

from .._fields import NUMBER_UNKNOWN, OBSERVATION_FIELDS, SCENARIO_FIELDS
from ..engine._columns import MAX_CITED, Columns, assemble
from ..limits import InputLimits
from ..model import MAX_OBSERVATIONS
from ._arrow import observation_type

__all__ = ["SCHEMA", "Parsed", "parse_lines", "parse_table"]

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

_SCHEMA_DEPTH = 3  # an object, its observations array, an observation
_MOST_DIGITS = 5  # the longest number a valid scenario holds (sessions up to 10000)
_TEXT = ("id", "signal", "note")


SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("setting", pa.string()),
        pa.field("sessions", pa.int64()),
        pa.field("observations", pa.list_(observation_type(pa.int64()))),
    ]
)
_OPTIONS = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="error")
_READ = pj.ReadOptions(use_threads=False, block_size=1 << 26)


def usable(limits: InputLimits) -> bool:
    """Whether limits this tight could refuse a valid scenario, which only the strict path checks."""
    return limits.max_depth >= _SCHEMA_DEPTH and limits.max_digits >= _MOST_DIGITS


@dataclass
class Parsed:
    """The lines that passed, as columns, and the positions of those that go the strict way."""

    rows: Ints  # positions, among the lines given, of the scenarios in ``columns``
    columns: Columns
    id_column: Any  # an Arrow string array: each scenario's id, null when not given
    setting_codes: Ints  # index into SCENARIO_FIELDS["setting"].values
    sessions_column: Any  # an Arrow int64 array, null when not given
    names: Any  # the signal ids, by code
    strict: Ints  # positions of the lines for the strict path

    @cached_property
    def ids(self) -> list[str | None]:
        return self.id_column.to_pylist()  # type: ignore[no-any-return]

    @cached_property
    def settings(self) -> list[str]:
        values = SCENARIO_FIELDS["setting"].values
        return [values[code] for code in self.setting_codes.tolist()]

    @cached_property
    def sessions(self) -> list[int | None]:
        return self.sessions_column.to_pylist()  # type: ignore[no-any-return]

    @cached_property
    def signals(self) -> list[tuple[str, ...]]:
        """Each scenario's distinct signals, sorted (only the safety floor needs them one by one)."""
        columns = self.columns
        ends = columns.starts + columns.counts
        return [
            tuple(sorted(set(self.names[columns.signal[start:end]])))
            for start, end in zip(columns.starts.tolist(), ends.tolist(), strict=True)
        ]


def parse_lines(lines: Sequence[bytes], signals: dict[str, int], max_bytes: int) -> Parsed:
    """Parse and check ``lines`` (JSONL records without their line ends, of at most ``max_bytes``
    for the strict path to accept them)."""
    refused: list[int] = []
    joined = b"\n".join(lines)
    whole: bytes | None = None  # the lines pyarrow reads, when they are all of them
    if _all_simple(lines, joined, max_bytes):
        simple = np.arange(len(lines), dtype=np.int64)
        whole = joined
    else:
        picked = [i for i, line in enumerate(lines) if _simple(line, max_bytes)]
        taken = set(picked)
        refused.extend(i for i in range(len(lines)) if i not in taken)
        simple = np.asarray(picked, dtype=np.int64)
    tables: list[tuple[Ints, Any]] = []
    _parse(lines, simple, tables, refused, whole)
    if not tables:
        return _empty(np.asarray(sorted(refused), dtype=np.int64))
    rows = np.concatenate([r for r, _ in tables])
    table = pa.concat_tables([t for _, t in tables])
    return _kept(_Checked(table, lines, rows, signals), rows, refused)


def parse_table(table: Any, signals: dict[str, int]) -> Parsed:
    """Check the rows of a Parquet chunk, already in the scenario schema (``SCENARIO_COLUMNS``):
    in a file, null is a field left out, as the strict path reads it (``_arrow._given``)."""
    rows = np.arange(table.num_rows, dtype=np.int64)
    try:
        table.validate(full=True)  # text that is not UTF-8 goes the strict way
    except pa.ArrowInvalid:
        return _empty(rows)
    return _kept(_Checked(table, None, rows, signals), rows, [])


def _kept(checked: _Checked, rows: Ints, refused: list[int]) -> Parsed:
    """The rows that passed the checks; the others, and those ``refused`` already, go strict."""
    good = checked.good
    if good.all():  # the usual chunk: nothing to take out
        return Parsed(
            rows,
            checked.columns,
            checked.ident,
            checked.setting_codes,
            checked.sessions,
            checked.names,
            np.asarray(sorted(refused), dtype=np.int64),
        )
    refused.extend(rows[~good].tolist())
    kept = np.flatnonzero(good)
    taken_rows = pa.array(kept)
    return Parsed(
        rows=rows[kept],
        columns=checked.columns.take(kept),
        id_column=checked.ident.take(taken_rows),
        setting_codes=checked.setting_codes[kept],
        sessions_column=checked.sessions.take(taken_rows),
        names=checked.names,
        strict=np.asarray(sorted(refused), dtype=np.int64),
    )


def _all_simple(lines: Sequence[bytes], joined: bytes, max_bytes: int) -> bool:
    """Whether every line is :func:`_simple`, shown for the whole chunk at once in C: no
    escape and no byte that is not ASCII anywhere, none too long, and every line begins with
    ``{`` (the least and the greatest line do, so all between them do) and ends with ``}``.
    False only sends the chunk through :func:`_simple` line by line."""
    if not lines or max(map(len, lines)) > max_bytes:
        return False
    if min(lines)[:1] != b"{" or max(lines)[:1] != b"{" or not all(map(bytes.endswith, lines, repeat(b"}"))):
        return False
    return b"\\" not in joined and joined.isascii()


def _simple(line: bytes, max_bytes: int) -> bool:
    """Whether pyarrow may read the line with the others of its block.

    pyarrow reads a block as one stream of JSON values, so a row count that matches the lines
    does not prove each row came from its own line: ``{...} {...}`` on one line and a blank
    one elsewhere would pair rows with the wrong lines. A line that is one ``{`` ... ``}`` has
    at least one value of its own and cannot run on into the next (which would have to begin
    with ``,``, ``}``, ``]`` or ``:``), so with the counts equal each line is exactly one row.
    It also keeps a top-level ``null`` away from pyarrow, which crashes on one that opens a
    block (apache/arrow#47409). A backslash is an escape, whose text decides the string; and
    pyarrow lets some bytes that are not UTF-8 through, so a line not ASCII is decoded first.
    """
    if len(line) > max_bytes or b"\\" in line:
        return False
    body = line.strip()
    if body[:1] != b"{" or body[-1:] != b"}":
        return False
    return line.isascii() or _is_utf8(line)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(
    lines: Sequence[bytes], rows: Ints, tables: list[tuple[Ints, Any]], refused: list[int], joined: bytes | None = None
) -> None:
    """pyarrow over the lines at ``rows`` (``joined``: those lines, joined, if already at hand);
    a block it refuses is split until the bad lines are alone."""
    if len(rows) == 0:
        return
    if joined is None:
        joined = b"\n".join(lines[i] for i in rows.tolist())
    try:
        table = pj.read_json(io.BytesIO(joined), read_options=_READ, parse_options=_OPTIONS)
    except Exception:
        table = None
    if table is not None and table.num_rows == len(rows):
        tables.append((rows, table))
        return
    if len(rows) == 1:  # refused, or two objects on one line: the strict path says what is wrong
        refused.append(int(rows[0]))
        return
    half = len(rows) // 2
    _parse(lines, rows[:half], tables, refused)
    _parse(lines, rows[half:], tables, refused)


class _Checked:
    """The Scenario model's checks on a table of parsed lines; ``good`` marks the rows that pass."""

    def __init__(self, table: Any, lines: Sequence[bytes] | None, rows: Ints, signals: dict[str, int]) -> None:
        self.size = table.num_rows
        self.good = np.ones(self.size, dtype=bool)
        observations = table.column("observations").combine_chunks()
        self._scenario_fields(table, lines, rows)
        counts = _filled(pc.list_value_length(observations), 0)
        self.good &= ~np.asarray(observations.is_null()) & (counts >= 1) & (counts <= min(MAX_OBSERVATIONS, MAX_CITED))
        flat = pc.list_flatten(observations)  # the observations of every row, in order
        owner = np.repeat(np.arange(self.size), counts)
        bad = self._observation_fields(flat, signals)
        bad |= np.asarray(flat.is_null())
        self.good[owner[bad]] = False
        self._no_twins(owner)
        self.counts = counts
        self.columns = assemble(counts, self._signal, self._codes, self._setting, self._sessions)

    def _scenario_fields(self, table: Any, lines: Sequence[bytes] | None, rows: Ints) -> None:
        """``lines[rows[k]]`` is the line of the table's row ``k`` (None: a Parquet chunk)."""
        ident = table.column("id").combine_chunks()
        length = _filled(pc.utf8_length(ident), 1)
        self.good &= (length >= 1) & (length <= 200)
        self.ident = ident
        setting = table.column("setting").combine_chunks()
        spec = SCENARIO_FIELDS["setting"]
        code = pc.index_in(setting, value_set=pa.array(spec.values))
        missing = np.asarray(setting.is_null())
        # null and left out are one in a column, but Pydantic refuses setting: null in JSON
        if lines is not None:
            for row in np.flatnonzero(missing).tolist():
                if b'"setting"' in lines[int(rows[row])]:
                    self.good[row] = False
        self.good &= missing | ~np.asarray(code.is_null())
        default = spec.values.index("individual")
        self.setting_codes = _filled(code, default)
        self._setting = self.setting_codes + 1
        sessions = table.column("sessions").combine_chunks()
        low, high = SCENARIO_FIELDS["sessions"].low, SCENARIO_FIELDS["sessions"].high
        values = _filled(sessions, NUMBER_UNKNOWN)
        given = ~np.asarray(sessions.is_null())
        self.good &= ~given | ((values >= low) & (values <= high))
        self._sessions = values
        self.sessions = sessions

    def _observation_fields(self, flat: Any, signals: dict[str, int]) -> Bools:
        bad = np.zeros(len(flat), dtype=bool)
        signal = pc.struct_field(flat, "signal")
        names = sorted(signals, key=signals.__getitem__)
        index = pc.index_in(signal, value_set=pa.array(names, pa.string()))
        bad |= np.asarray(index.is_null())  # unknown, empty, too long or not given
        self._signal = _filled(index, 0)
        self.names = np.array(names, dtype=object)
        self._codes: dict[str, Ints] = {}
        for name, spec in OBSERVATION_FIELDS.items():
            column = pc.struct_field(flat, name)
            given = ~np.asarray(column.is_null())
            if spec.kind == "bool":
                codes = np.where(given, np.where(_filled(column, False), 2, 1), 0)
            elif spec.kind == "number":
                codes = _filled(column, NUMBER_UNKNOWN)
                bad |= given & ((codes < spec.low) | (codes > spec.high))
            else:
                found = pc.index_in(column, value_set=pa.array(spec.values))
                bad |= given & np.asarray(found.is_null())
                codes = _filled(found, -1) + 1
            self._codes[name] = codes.astype(np.int64)
        note = pc.struct_field(flat, "note")
        bad |= _filled(pc.utf8_length(note), 0) > 2000
        self._note = _filled(pc.dictionary_encode(note).indices, -1) + 1
        raised, response = self._codes["raised"], self._codes["response"]
        bad |= (response != 0) & (raised == 1)  # a response to something not raised
        self._given_raised = raised.copy()
        # The evaluators read "raised" as was_raised: a recorded response implies it.
        self._codes["raised"] = np.where(response != 0, 2, raised)
        return bad

    def _no_twins(self, owner: Ints) -> None:
        """Two identical observations in one scenario (Pydantic's own equality: as given)."""
        if len(owner) == 0:
            return
        pairs = np.sort(owner * (int(self._signal.max()) + 1) + self._signal)
        if not (pairs[1:] == pairs[:-1]).any():  # no scenario names a signal twice: no twins
            return
        key = self._signal.astype(np.int64)
        for name, bits in (
            ("frequency", 3),
            ("duration", 3),
            ("impact", 3),
            ("initiated_by", 3),
            ("where", 3),
            ("response", 3),
        ):
            key = key << bits | self._codes[name]
        months = np.where(
            self._codes["months_after_ending"] == NUMBER_UNKNOWN, 1201, self._codes["months_after_ending"]
        )
        key = (key << 2 | self._given_raised) << 11 | months
        order = np.lexsort((self._note, key, owner))
        same = (
            (owner[order][1:] == owner[order][:-1])
            & (key[order][1:] == key[order][:-1])
            & (self._note[order][1:] == self._note[order][:-1])
        )
        self.good[owner[order][1:][same]] = False


def _filled(array: Any, value: Any) -> Any:
    return np.asarray(pc.fill_null(array, value).to_numpy(zero_copy_only=False))


def _empty(strict: Ints) -> Parsed:
    columns = assemble([], [], {name: [] for name in OBSERVATION_FIELDS}, [], [])
    nothing = np.zeros(0, dtype=np.int64)
    return Parsed(
        nothing,
        columns,
        pa.array([], pa.string()),
        nothing,
        pa.array([], pa.int64()),
        np.zeros(0, dtype=object),
        strict,
    )
