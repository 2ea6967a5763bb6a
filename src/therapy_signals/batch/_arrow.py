"""Parquet scenario and results files, through pyarrow (the ``batch`` extra).

Scenarios are one row each, with the observations as a list of structs::

    id: string, setting: string, sessions: int32,
    observations: list<struct<signal: string, frequency: string, ..., raised: bool,
                              months_after_ending: int32, note: string>>

Results are written as one part file per chunk while a run goes on (a part is renamed into
place only once complete, so a killed run never leaves a torn one), and merged into the
output in order, one row group per chunk. Parts are Arrow IPC files (LZ4), not Parquet: a
resumed run reads them back without decoding and encodes each row once, into the output.

The merge goes on beside the parts: each chunk is encoded into the output's temporary file
as it arrives, so the end of a run only writes the footer, and with worker processes the
encoding overlaps their work instead of following it. The parts are what a resumed run
starts from (the temporary file of an interrupted one is dropped); the bytes are the same
either way, one row group per part.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

from .._fields import OBSERVATION_FIELDS
from ..errors import InputError, Problem
from ..limits import DEFAULT_INPUT_LIMITS, InputLimits
from ..model import Observation, Scenario
from ._faults import writing
from ._io import Record, parse_line
from ._results import RESULT_COLUMNS, ItemBlock, Result

try:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
except ImportError:  # exercised only without the extra (tests/batch/test_extras.py)
    from ._extras import hint

    raise hint("pyarrow", "reading or writing a Parquet file", "JSONL and CSV work without it") from None

__all__ = [
    "ResultParts",
    "TableChunk",
    "read_results",
    "read_scenario_records",
    "row_count",
    "scenario_chunks",
    "write_scenarios",
]

COMPRESSION = "zstd"
ROW_GROUP = 5_000  # rows per row group of a scenario file: what a reader holds at once
_READ_BATCH = 1024
_PART_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4" if pa.Codec.is_available("lz4") else None)


def encode_part(table: Any, schema: Any = None) -> bytes:
    """A results table as the bytes of its part file (Arrow IPC, LZ4), in ``schema`` (its own)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema if schema is None else schema, options=_PART_OPTIONS) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def decode_part(data: bytes) -> Any:
    """The table of a part file's bytes."""
    with pa.ipc.open_file(pa.py_buffer(data)) as reader:
        return reader.read_all()


def observation_type(number: Any = None) -> Any:
    """An observation as an Arrow struct: strings, a bool for ``raised``, numbers as ``number``
    (int32 in files; the JSONL reader parses int64, so that a larger number is a range error)."""
    fields = []
    for name in Observation.model_fields:
        spec = OBSERVATION_FIELDS.get(name)
        if spec is not None and spec.kind == "bool":
            kind = pa.bool_()
        elif spec is not None and spec.kind == "number":
            kind = pa.int32() if number is None else number
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.struct(fields)


SCENARIO_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("setting", pa.string()),
        pa.field("sessions", pa.int32()),
        pa.field("observations", pa.list_(observation_type())),
    ]
)
_SCENARIO_COLUMNS = {"id", "scenario_id", "setting", "sessions", "observations"}


def result_schema(with_text: bool) -> Any:
    kinds = {"sessions": pa.int32(), "observations": pa.int32()}
    lists = {"signals", "findings", "superseded", "categories"}
    fields = [
        pa.field(name, pa.list_(pa.string()) if name in lists else kinds.get(name, pa.string()))
        for name in RESULT_COLUMNS
    ]
    if with_text:
        fields.append(pa.field("text", pa.string()))
    return pa.schema(fields)


def _parquet_file(path: Path) -> Any:
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{path}: not a readable Parquet file ({error})") from None


def row_count(path: Path) -> int:
    return int(_parquet_file(path).metadata.num_rows)


def write_scenarios(scenarios: Iterable[Scenario], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    rows: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, SCENARIO_SCHEMA, compression=COMPRESSION) as writer:
        for scenario in scenarios:
            rows.append(scenario.model_dump(mode="json"))
            count += 1
            if len(rows) == ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, SCENARIO_SCHEMA))
                rows.clear()
        if rows or count == 0:
            writer.write_table(pa.Table.from_pylist(rows, SCENARIO_SCHEMA))
    return count


def _given(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def _scenario_payload(row: Mapping[str, Any], limits: InputLimits) -> tuple[dict[str, Any], Problem | None]:
    payload = _given(row)
    if "scenario_id" in payload:
        payload["id"] = payload.pop("scenario_id")
    observations = payload.get("observations")
    if isinstance(observations, str):
        # The same strict JSON as a JSONL line: no key twice, no NaN, bounded size and depth.
        try:
            observations = parse_line(observations, limits)
        except InputError as error:
            return payload, Problem("observations", f"not valid JSON text: {error}")
    if isinstance(observations, list):
        payload["observations"] = [_given(o) if isinstance(o, Mapping) else o for o in observations]
    return payload, None


def _scenario_file(path: Path) -> Any:
    file = _parquet_file(path)
    names = set(file.schema_arrow.names)
    unknown = sorted(names - _SCENARIO_COLUMNS)
    if unknown or "observations" not in names:
        what = f"unknown column {unknown[0]!r}" if unknown else "no 'observations' column"
        raise InputError(f"{path}: {what}; a scenario file has id, setting, sessions and observations")
    return file


def read_scenario_records(path: Path, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Iterator[Record]:
    file = _scenario_file(path)
    number = 0
    for batch in file.iter_batches(batch_size=_READ_BATCH):
        try:
            rows = batch.to_pylist()
        except UnicodeDecodeError:  # some row's text is not UTF-8: that row alone is refused
            for at in range(batch.num_rows):
                yield _row_record(batch.slice(at, 1), number + at + 1, limits)
            number += batch.num_rows
            continue
        for row in rows:
            number += 1
            payload, problem = _scenario_payload(row, limits)
            yield Record(number, number, payload, problem)


def _row_record(one: Any, number: int, limits: InputLimits) -> Record:
    """The record of a file's row (a table or batch of one row), as the reader makes it."""
    try:
        (row,) = one.to_pylist()
    except UnicodeDecodeError:
        # Shown with its bytes escaped (\xff), so that the errors file can hold the row.
        shown = one.cast(pa.schema([f.with_type(_as_binary(f.type)) for f in one.schema])).to_pylist()[0]
        return Record(number, number, _printable(shown), _NOT_UTF8)
    payload, problem = _scenario_payload(row, limits)
    return Record(number, number, payload, problem)


_NOT_UTF8 = Problem("(row)", "text that is not UTF-8; write the file's text columns as UTF-8")


def _as_binary(kind: Any) -> Any:
    """The type with every text in it as bytes."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.binary()
    if pa.types.is_dictionary(kind):
        return _as_binary(kind.value_type)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_as_binary(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(_as_binary(f.type)) for f in kind])
    return kind


def _printable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items() if v is not None}
    return value


def scenario_chunks(path: Path, size: int, skip: int, limits: InputLimits) -> Iterator[Sequence[Record]]:
    """The scenarios of a Parquet file ``size`` at a time, after the first ``skip``: as
    :class:`TableChunk` when its columns have the types a scenario's fields have, else as
    records, each row on its own (text where a list belongs, a number as text, ...)."""
    file = _scenario_file(path)
    if not _typed(file.schema_arrow):
        records = itertools.islice(read_scenario_records(path, limits), skip, None)
        while chunk := list(itertools.islice(records, size)):
            yield chunk
        return
    first = skip + 1
    pending: list[Any] = []
    held = 0
    seen = 0
    for batch in file.iter_batches(batch_size=size):
        start = min(max(skip - seen, 0), batch.num_rows)
        seen += batch.num_rows
        if start < batch.num_rows:
            pending.append(batch.slice(start))
            held += batch.num_rows - start
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield TableChunk(table.slice(0, size), first)
            first += size
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield TableChunk(pa.Table.from_batches(pending), first)


def _typed(schema: Any) -> bool:
    """Whether every column and observation field has the Arrow type of its field (so that
    :class:`TableChunk` can cast it without changing a value), with nothing besides them."""
    names = schema.names
    if "id" in names and "scenario_id" in names:
        return False  # which one wins is the strict path's to say
    kinds = {"id": "text", "scenario_id": "text", "setting": "text", "sessions": "number"}
    if not all(_kind(schema.field(name).type) == kinds[name] for name in names if name != "observations"):
        return False
    listed = schema.field("observations").type
    if not (pa.types.is_list(listed) or pa.types.is_large_list(listed)) or not pa.types.is_struct(listed.value_type):
        return False
    fields = {f.name: f.type for f in listed.value_type}
    expected = {f.name: f.type for f in observation_type()}
    if len(fields) != listed.value_type.num_fields or not fields.keys() <= expected.keys():
        return False
    return all(_kind(kind) == _kind(expected[name]) for name, kind in fields.items())


def _kind(kind: Any) -> str:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type):
        return "text"
    if pa.types.is_integer(kind):
        return "number"
    return "flag" if pa.types.is_boolean(kind) else "other"


class TableChunk(Sequence[Record]):
    """Rows of a Parquet scenario file kept as an Arrow table: a worker checks them as columns
    (``_fast_input.parse_table``) and makes a :class:`Record` only of a row it must look at
    alone, the very record :func:`read_scenario_records` makes of it."""

    __slots__ = ("first", "table")

    def __init__(self, table: Any, first: int) -> None:
        self.table = table
        self.first = first  # the record number of the first row

    @property
    def numbers(self) -> range:
        return range(self.first, self.first + self.table.num_rows)

    def columns(self) -> Any | None:
        """The rows in the scenario schema of the JSONL reader (numbers as int64, every field
        of an observation present, null where left out); None if a value will not cast."""
        from ._fast_input import SCHEMA

        table = self.table.rename_columns(["id" if n == "scenario_id" else n for n in self.table.column_names])
        try:
            arrays = [
                table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
                for f in SCHEMA
            ]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # an int64 beyond range, say
            return None
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        # No JSON text to parse in a typed file: the limits do not come into it.
        return _row_record(self.table.slice(index, 1), self.first + index, DEFAULT_INPUT_LIMITS)


class ResultParts:
    """Results as numbered part files, merged into the output by :meth:`close`."""

    def __init__(self, path: Path, with_text: bool, resume_from: Mapping[str, int] | None = None) -> None:
        self.path = path
        self.schema = result_schema(with_text)
        self.parts = path.with_name(path.name + ".parts")
        self._merging = path.with_name("." + path.name + ".merging")
        self._merge: Any = None  # the ParquetWriter of the merge, open while the run goes on
        self._merged = 0  # parts in the merge so far
        with writing(path):
            if resume_from is None:
                shutil.rmtree(self.parts, ignore_errors=True)
                path.unlink(missing_ok=True)  # an old complete output must not pass for this run's
                self.count = 0
            else:
                self.count = int(resume_from["parts"])
                self._drop_stale()
            self.parts.mkdir(parents=True, exist_ok=True)

    def _drop_stale(self) -> None:
        missing = [i for i in range(self.count) if self._written(i) is None]
        if missing:
            raise InputError(f"{self._part(missing[0])}: missing; the interrupted run cannot be resumed")
        for stale in self.parts.glob("*"):
            if stale.name.startswith(".") or int(stale.stem.split("-")[1]) >= self.count:
                stale.unlink()  # written after the last checkpoint

    def _part(self, index: int) -> Path:
        return self.parts / f"part-{index:06d}.arrow"

    def _written(self, index: int) -> Path | None:
        """The part as written, by this version or (resumed) by one that wrote Parquet parts."""
        for part in (self._part(index), self._part(index).with_suffix(".parquet")):
            if part.exists():
                return part
        return None

    def _read(self, index: int) -> Any:
        part = self._written(index)
        assert part is not None  # _drop_stale checked every part is there
        if part.suffix == ".parquet":
            return pq.read_table(part, schema=self.schema)
        with pa.OSFile(str(part), "rb") as source:  # read into memory: the table outlives the file
            return pa.ipc.open_file(source).read_all()

    def write(self, items: Sequence[Result] | ItemBlock) -> None:
        encoded = None
        if isinstance(items, ItemBlock):
            table = items.table()
            encoded = items.part()
        else:
            table = pa.Table.from_pylist([r.to_row("text" in self.schema.names) for r in items], self.schema)
        if encoded is None or not table.schema.equals(self.schema):
            encoded = encode_part(table, self.schema)
        part = self._part(self.count)
        temporary = part.with_name("." + part.name)
        with writing(part), _removed_on_failure(temporary):
            temporary.write_bytes(encoded)
            temporary.replace(part)
        with writing(self.path):
            self._catch_up()  # the parts of an interrupted run, on the first chunk after it
            self._merge.write_table(table)
        self.count += 1
        self._merged = self.count
        # Arrow's allocator keeps freed blocks for reuse; a long run holds only a chunk at a time,
        # so hand them back rather than let resident memory creep up to the largest chunk seen.
        pa.default_memory_pool().release_unused()

    def position(self) -> dict[str, int]:
        return {"parts": self.count}

    def _catch_up(self) -> None:
        """Open the merge if need be, and bring into it the parts it lacks (a resumed run's)."""
        if self._merge is None:
            # Statistics on the flat columns only: a reader can skip row groups by id, level or
            # setting, while the least and greatest item of a list (signals, findings) tells
            # nobody anything, and working them out took a quarter of the encoding.
            flat = [f.name for f in self.schema if not pa.types.is_list(f.type)]
            self._merge = pq.ParquetWriter(self._merging, self.schema, compression=COMPRESSION, write_statistics=flat)
        while self._merged < self.count:
            self._merge.write_table(self._read(self._merged))
            self._merged += 1

    def close(self) -> None:
        """Finish the merge into the output; the parts stay until :meth:`cleanup`, for a resumed run."""
        with writing(self.path), _removed_on_failure(self._merging):
            self._catch_up()
            if self.count == 0:
                self._merge.write_table(self.schema.empty_table())
            merge, self._merge = self._merge, None
            merge.close()
            self._merging.replace(self.path)

    def cleanup(self) -> None:
        shutil.rmtree(self.parts, ignore_errors=True)

    def abandon(self) -> None:
        """The parts stay where they are for a resumed run to continue; the merge begun is
        dropped (the resumed run merges from the parts)."""
        merge, self._merge = self._merge, None
        if merge is not None:
            with contextlib.suppress(Exception):  # a full disk: the file goes all the same
                merge.close()
        with contextlib.suppress(OSError):
            self._merging.unlink(missing_ok=True)


@contextlib.contextmanager
def _removed_on_failure(temporary: Path) -> Iterator[None]:
    """A temporary file that a failed write leaves is removed: on a full disk it holds the space."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def read_results(path: Path) -> Iterator[Result]:
    file = _parquet_file(path)
    if not {"scenario_id", "level"} <= set(file.schema_arrow.names):
        raise InputError(f"{path}: not a results file (no scenario_id and level columns)")
    number = 0
    for batch in file.iter_batches(batch_size=_READ_BATCH):
        for row in batch.to_pylist():
            number += 1
            yield Result.from_row(row, number)


def read_result_table(path: Path) -> Any:
    """The whole results file as one Table, for data frames."""
    file = _parquet_file(path)
    if not {"scenario_id", "level"} <= set(file.schema_arrow.names):
        raise InputError(f"{path}: not a results file (no scenario_id and level columns)")
    return file.read()
