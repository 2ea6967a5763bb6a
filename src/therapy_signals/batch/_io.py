"""Batch files in and out: JSONL (optionally gzip), CSV and Parquet, chosen by extension, or
standard input and output.

Readers stream: they yield one :class:`Record` per scenario and never hold the file.
Writers append a chunk at a time and report a position (bytes written, or Parquet parts)
that a resumed run truncates back to, so a run killed mid-write leaves nothing torn behind.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from .._json import JsonFaultError, decode, parse
from ..errors import InputError, Problem
from ..limits import DEFAULT_INPUT_LIMITS, InputLimits
from ..model import Scenario
from ._faults import AGAIN, RESUME, writing
from ._results import ItemBlock, Rejected, Result

if TYPE_CHECKING:
    from ._frames import Results

__all__ = [
    "FORMATS",
    "Record",
    "ScenarioSource",
    "Sink",
    "Target",
    "error_sink",
    "file_sha256",
    "open_scenarios",
    "read_errors",
    "read_results",
    "read_scenarios",
    "result_sink",
    "write_scenarios",
]

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_GZIP_MAGIC = b"\x1f\x8b"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Target:
    """A file, or standard input or output (``path`` None), in one format."""

    path: Path | None
    format: Format
    gzip: bool = False

    @classmethod
    def parse(cls, where: str | Path, given: str | None = None) -> Target:
        """``-`` is a standard stream (JSONL unless ``given``); a file's extension names its format."""
        if str(where) == "-":
            fmt = _format(given or "jsonl", "-")
            return cls(None, fmt)
        path = Path(where)
        compressed = path.suffix == ".gz"
        if given is not None:
            return cls(path, _format(given, str(path)), compressed)
        suffix = path.with_suffix("").suffix if compressed else path.suffix
        if suffix.lower() not in _SUFFIXES:
            raise InputError(
                f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
                "use .jsonl, .jsonl.gz, .csv, .csv.gz or .parquet, or name it with --input-format/--output-format"
            )
        fmt = _SUFFIXES[suffix.lower()]
        if fmt == "parquet" and compressed:
            raise InputError(f"{path}: Parquet compresses itself; drop the .gz")
        return cls(path, fmt, compressed)

    @property
    def name(self) -> str:
        return "-" if self.path is None else str(self.path)


def _format(word: str, where: str) -> Format:
    for fmt in FORMATS:
        if word == fmt:
            return fmt
    raise InputError(f"{where}: unknown format {word!r}; use one of {', '.join(FORMATS)}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _open_input(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give a scenario file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def _maybe_gunzip(stream: IO[bytes], compressed: bool) -> IO[bytes]:
    if compressed:
        return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    return stream


# -- reading scenarios ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One scenario as read: its position, its line, and what to validate.

    ``payload`` is the raw bytes of a JSONL line (parsed by the worker, so parsing runs in
    parallel too), a mapping, or a :class:`Scenario`. ``problem`` is set when the reader
    already knows the record is malformed (the rows of one CSV scenario disagree, a line is
    over the size limit), and ``kind`` is then the error it is rejected with; ``raw``, when
    set, is the record as read (a CSV scenario's rows of cells), for the errors file.
    """

    number: int
    line: int
    payload: Any
    problem: Problem | None = None
    raw: Any = None
    kind: str = "invalid scenario"


class _Hashing(io.RawIOBase):
    """A read-only stream that hashes what passes through, for inputs read only once."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


class ScenarioSource:
    """Records from a file, standard input or a Python iterable, with a hash and a count.

    For a file, ``sha256`` (of its bytes) and, for JSONL and Parquet, ``total`` are known
    before the first record; for a stream or an iterable, ``sha256`` is known once it is
    exhausted (of the bytes read, or of each item's canonical JSON line) and ``total`` is None.
    """

    def __init__(
        self,
        source: str | Path | Iterable[Any],
        given: str | None = None,
        limits: InputLimits = DEFAULT_INPUT_LIMITS,
    ) -> None:
        self.limits = limits
        self._items: Iterable[Any] | None = None
        self._digest: Any = None
        self.sha256: str | None = None
        self.total: int | None = None
        if isinstance(source, str | Path):
            self.target = Target.parse(source, given)
            if self.target.path is not None:
                self._prepare_file(self.target.path)
        else:
            self.target = Target(None, "jsonl")
            self._items = source
        self.name = self.target.name if self._items is None else "(python objects)"

    @property
    def is_file(self) -> bool:
        return self._items is None and self.target.path is not None

    def _prepare_file(self, path: Path) -> None:
        digest = hashlib.sha256()
        # Plain JSONL is hashed and counted in one read; gzip is counted as it is read.
        counter = _RecordCounter() if self.target.format == "jsonl" and not self.target.gzip else None
        with _open_input(path) as raw:
            while block := raw.read(_BLOCK):
                digest.update(block)
                if counter is not None:
                    counter.feed(block)
        self.sha256 = digest.hexdigest()
        if counter is not None:
            self.total = counter.total()
        elif self.target.format == "jsonl":
            with _maybe_gunzip(_open_input(path), self.target.gzip) as stream:
                try:
                    self.total = count_records(stream)
                except (OSError, EOFError) as error:
                    raise InputError(f"{path}: not a readable gzip file ({error})") from None
        elif self.target.format == "parquet":
            from . import _arrow

            self.total = _arrow.row_count(path)

    def __iter__(self) -> Iterator[Record]:
        if self._items is not None:
            yield from self._objects(self._items)
            return
        if self.target.path is not None:
            with _open_input(self.target.path) as raw:
                yield from self._records(raw, self.target.gzip)
            return
        stdin = sys.stdin.buffer
        compressed = isinstance(stdin, io.BufferedReader) and stdin.peek(2)[:2] == _GZIP_MAGIC
        hashing = _Hashing(stdin)
        yield from self._records(io.BufferedReader(hashing, _BLOCK), compressed)
        self.sha256 = hashing.digest.hexdigest()

    def chunks(self, size: int, skip: int = 0) -> Iterator[Sequence[Record]]:
        """The records ``size`` at a time, after the first ``skip`` (done before an interruption).

        JSONL comes as :class:`LineChunk`, lines a worker parses together; Parquet as
        ``_arrow.TableChunk``, rows a worker checks together; other sources as lists of records.
        """
        if self._items is None and self.target.format == "parquet":
            from . import _arrow

            assert self.target.path is not None  # Target.parse refuses Parquet on a stream
            yield from _arrow.scenario_chunks(self.target.path, size, skip, self.limits)
            return
        if self._items is not None or self.target.format != "jsonl":
            records = itertools.islice(iter(self), skip, None)
            while chunk := list(itertools.islice(records, size)):
                yield chunk
            return
        if self.target.path is not None:
            with _open_input(self.target.path) as raw:
                yield from self._line_chunks(raw, self.target.gzip, size, skip)
            return
        stdin = sys.stdin.buffer
        compressed = isinstance(stdin, io.BufferedReader) and stdin.peek(2)[:2] == _GZIP_MAGIC
        hashing = _Hashing(stdin)
        yield from self._line_chunks(io.BufferedReader(hashing, _BLOCK), compressed, size, skip)
        self.sha256 = hashing.digest.hexdigest()

    def _line_chunks(self, raw: IO[bytes], compressed: bool, size: int, skip: int) -> Iterator[LineChunk]:
        stream = _maybe_gunzip(raw, compressed)
        try:
            yield from _jsonl_chunks(stream, self.limits.max_bytes, size, skip)
        except (gzip.BadGzipFile, EOFError) as error:
            raise InputError(f"{self.name}: not a readable gzip file ({error})") from None

    def _records(self, raw: IO[bytes], compressed: bool) -> Iterator[Record]:
        fmt = self.target.format
        if fmt == "parquet":
            from . import _arrow

            assert self.target.path is not None  # Target.parse refuses Parquet on a stream
            yield from _arrow.read_scenario_records(self.target.path, self.limits)
            return
        stream = _maybe_gunzip(raw, compressed)
        try:
            if fmt == "csv":
                from . import _csv

                yield from _csv.read_records(stream, self.name, self.limits)
            else:
                yield from _jsonl_records(stream, self.limits.max_bytes)
        except (gzip.BadGzipFile, EOFError) as error:
            raise InputError(f"{self.name}: not a readable gzip file ({error})") from None

    def _objects(self, items: Iterable[Any]) -> Iterator[Record]:
        digest = hashlib.sha256()
        for number, item in enumerate(items, 1):
            digest.update(_canonical(item) + b"\n")
            yield Record(number, number, item)
        self.sha256 = digest.hexdigest()


@dataclass(frozen=True, slots=True)
class _Overlong:
    """A line over the size limit: how many bytes it took and its first few, never all of it."""

    size: int
    head: bytes
    blank: bool


_HEAD = 256  # bytes of an over-long line kept for the errors file


def _skip_line(stream: IO[bytes], start: bytes) -> _Overlong:
    size, blank = len(start), not start.strip()
    piece = start
    ending = _ending(piece, 0)
    while piece and not piece.endswith(b"\n"):
        piece = stream.readline(_BLOCK)
        size += len(piece)
        blank = blank and not piece.strip()
        ending = _ending(piece, ending)
    return _Overlong(size - ending, start[:_HEAD], blank)


def _ending(piece: bytes, before: int) -> int:
    """The line end's bytes (``\r`` and ``\n``) at the end of what is read so far, ``before``
    of them at the end of the pieces before this one: a ``\r\n`` may straddle two pieces."""
    run = len(piece) - len(piece.rstrip(b"\r\n"))
    return before + run if run == len(piece) else run


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[bytes | _Overlong]:
    """Every physical line, or for one over ``limit`` bytes (its line end aside), an _Overlong.

    ``readline`` with a bound, and the rest of a long line skipped in blocks: one line of a
    gigabyte costs a few blocks of memory, and the lines after it keep their numbers.
    """
    bound = limit + 2  # the limit and a line end
    while line := stream.readline(bound):
        if not line.endswith(b"\n") and len(line) == bound:
            yield _skip_line(stream, line)
        elif len(line.rstrip(b"\r\n")) > limit:
            yield _Overlong(len(line.rstrip(b"\r\n")), line[:_HEAD], not line.strip())
        else:
            yield line


def count_records(stream: IO[bytes], block: int = _BLOCK) -> int:
    """How many records :func:`_jsonl_records` yields from the stream (its lines that are not
    blank), counted a block at a time: a line of any length costs no memory here."""
    counter = _RecordCounter()
    while data := stream.read(block):
        counter.feed(data)
    return counter.total()


class _RecordCounter:
    """:func:`count_records` fed one block at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.pending = False  # whether the line not yet ended has a byte that is not whitespace

    def feed(self, data: bytes) -> None:
        first = data.find(b"\n")
        if first < 0:
            self.pending = self.pending or bool(data.strip())
            return
        last = data.rfind(b"\n")
        self.count += self.pending or bool(data[:first].strip())
        middle = data.count(b"\n") - 1  # the lines that begin and end in this block
        # No line end followed by a byte at or below a space (whitespace, or a line end):
        # then no middle line is blank, shown in C without splitting the block into lines.
        if middle and _MAY_BE_BLANK.search(data, first, last + 1) is not None:
            middle = sum(1 for part in data[first + 1 : last].split(b"\n") if part.strip())
        self.count += middle
        self.pending = bool(data[last + 1 :].strip())

    def total(self) -> int:
        return self.count + self.pending


_MAY_BE_BLANK = re.compile(rb"\n[\x00-\x20]")


def _none_blank(parts: list[bytes]) -> bool:
    """Whether no part is blank, proven in C: a blank part is empty or begins with whitespace,
    every byte of which sorts at or below a space, so the least part would show it. False
    also for a part that only begins with whitespace: that only sends it the slow way."""
    return not parts or min(parts)[:1] > b" "


def _is_record(line: bytes | _Overlong) -> bool:
    """Blank lines are layout, not records."""
    return not line.blank if isinstance(line, _Overlong) else bool(line.strip())


def _overlong(number: int, line: int, seen: _Overlong, limit: int) -> Record:
    reason = (
        f"{seen.size:,} bytes, over the limit of {limit:,} for one scenario (the errors file keeps the first "
        f"{_HEAD}); raise it with --max-bytes if this is really one scenario"
    )
    head = seen.head.decode("utf-8", errors="backslashreplace")
    return Record(number, line, None, Problem(f"line {line}", reason), raw=head, kind="invalid JSON")


def _jsonl_records(stream: IO[bytes], limit: int) -> Iterator[Record]:
    number = 0
    for line_number, line in enumerate(_bounded_lines(stream, limit), 1):
        if not _is_record(line):
            continue
        number += 1
        if isinstance(line, _Overlong):
            yield _overlong(number, line_number, line, limit)
        else:
            yield Record(number, line_number, line.rstrip(b"\r\n"))  # the limit is on the line, not its end


class LineChunk(Sequence[Record]):
    """A chunk of JSONL records kept as their lines: a worker parses them together
    (``_fast_input``) and makes a :class:`Record` only of a line it must look at alone."""

    __slots__ = ("lines", "numbers", "payloads", "special")

    def __init__(self) -> None:
        self.numbers: list[int] = []  # record numbers, 1-based
        self.lines: list[int] = []  # physical line numbers
        self.payloads: list[bytes] = []  # each line without its end (empty for a special one)
        self.special: dict[int, Record] = {}  # position -> a record already known bad (over-long)

    def add(self, number: int, line: int, payload: bytes) -> None:
        self.numbers.append(number)
        self.lines.append(line)
        self.payloads.append(payload)

    def extend(self, number: int, line: int, payloads: list[bytes]) -> None:
        """Records ``number``, ``number + 1``, ... on consecutive lines from ``line`` on."""
        self.numbers.extend(range(number, number + len(payloads)))
        self.lines.extend(range(line, line + len(payloads)))
        self.payloads.extend(payloads)

    def add_record(self, record: Record) -> None:
        self.special[len(self.numbers)] = record
        self.add(record.number, record.line, b"")

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        special = self.special.get(index)
        if special is not None:
            return special
        return Record(self.numbers[index], self.lines[index], self.payloads[index])


def _line_blocks(stream: IO[bytes], limit: int, block: int = _BLOCK) -> Iterator[bytes | _Overlong]:
    """The stream as blocks of whole lines (each ending in a line end, bar the last one of
    the stream), or for a line over ``limit`` bytes that no block holds whole, an _Overlong.

    A block is read at a time, not a line: the lines of a block are cut apart in C
    (``bytes.split``), and a line longer than the limit and a block costs only its head
    (:func:`_skip_line`), as with :func:`_bounded_lines`.
    """
    bound = limit + 2  # the limit and a line end
    rest = b""
    while data := stream.read(block):
        buffer = rest + data if rest else data
        cut = buffer.rfind(b"\n") + 1
        if cut:
            yield buffer[:cut]
            rest = buffer[cut:]
        else:
            rest = buffer
        if len(rest) >= bound:  # no line end within the limit: skip the rest of that line
            seen = _skip_line(stream, rest)
            # The head _bounded_lines keeps: what one bounded readline gave of the line.
            yield _Overlong(seen.size, rest[: min(bound, _HEAD)], seen.blank)
            rest = b""
    if rest:
        yield rest


def _clean(lines: list[bytes], block: bytes, limit: int) -> bool:
    """Whether every line of the block is a record within the limit: no blank line, none too
    long (a block that is not clean goes line by line, as :func:`_jsonl_records` does)."""
    return _none_blank(lines) and (len(block) <= limit or max(map(len, lines)) <= limit)


def _jsonl_chunks(stream: IO[bytes], limit: int, size: int, skip: int, block: int = _BLOCK) -> Iterator[LineChunk]:
    """The records of :func:`_jsonl_records`, ``size`` at a time, after the first ``skip``."""
    chunker = _Chunker(limit, size, skip)
    for piece in _line_blocks(stream, limit, block):
        if isinstance(piece, _Overlong):
            yield from chunker.overlong(piece)
            continue
        raw = piece.split(b"\n")
        ended = piece.endswith(b"\n")
        if ended:
            raw.pop()  # what follows the last line end is not a line
        lines = [line.rstrip(b"\r") for line in raw] if b"\r" in piece else raw  # the limit is on the line, not its end
        if _clean(lines, piece, limit):
            yield from chunker.records(lines)
        else:
            # As _bounded_lines read them, with their line ends: an over-long line's head keeps it.
            yield from chunker.lines([line + b"\n" for line in raw[:-1]] + [raw[-1] + b"\n" if ended else raw[-1]])
    if len(chunker.chunk):
        yield chunker.chunk


class _Chunker:
    """Records into chunks of ``size``, numbered as they come, the first ``skip`` left out.

    This runs in the main process for every line of the input, so lines known to be records
    (:meth:`records`) go into the chunk as slices of lists, without a Python step per line.
    """

    def __init__(self, limit: int, size: int, skip: int) -> None:
        self.limit, self.size, self.skip = limit, size, skip
        self.number = 0  # records so far
        self.line = 0  # physical lines so far
        self.chunk = LineChunk()

    def _full(self) -> Iterator[LineChunk]:
        if len(self.chunk) == self.size:
            yield self.chunk
            self.chunk = LineChunk()

    def overlong(self, seen: _Overlong) -> Iterator[LineChunk]:
        self.line += 1
        if seen.blank:
            return
        self.number += 1
        if self.number > self.skip:
            self.chunk.add_record(_overlong(self.number, self.line, seen, self.limit))
            yield from self._full()

    def records(self, lines: list[bytes]) -> Iterator[LineChunk]:
        """Lines that are all records within the limit (:func:`_clean`)."""
        at = max(0, min(len(lines), self.skip - self.number))  # those before ``skip`` are left out
        while at < len(lines):
            take = min(len(lines) - at, self.size - len(self.chunk))
            self.chunk.extend(self.number + at + 1, self.line + at + 1, lines[at : at + take])
            at += take
            yield from self._full()
        self.number += len(lines)
        self.line += len(lines)

    def lines(self, lines: list[bytes]) -> Iterator[LineChunk]:
        """Any lines (with their line ends), one at a time, as :func:`_jsonl_records` reads them:
        blank ones skipped, one over the limit kept as its head."""
        bound = self.limit + 2
        for line in lines:
            payload = line.rstrip(b"\r\n")
            if len(payload) > self.limit:
                yield from self.overlong(_Overlong(len(payload), line[: min(bound, _HEAD)], not line.strip()))
                continue
            self.line += 1
            if not payload.strip():
                continue  # blank lines are layout, not records
            self.number += 1
            if self.number > self.skip:
                self.chunk.add(self.number, self.line, payload)
                yield from self._full()


def _canonical(item: Any) -> bytes:
    if isinstance(item, Scenario):
        return item.model_dump_json(exclude_none=True).encode()
    if isinstance(item, bytes):
        return item.strip()
    if isinstance(item, str):
        return item.strip().encode()
    return json.dumps(item, sort_keys=True, default=str, separators=(",", ":")).encode()


def open_scenarios(
    source: str | Path | Iterable[Any], given: str | None = None, limits: InputLimits = DEFAULT_INPUT_LIMITS
) -> ScenarioSource:
    """Open scenarios for a batch: a path (``-`` for standard input) or an iterable."""
    if isinstance(source, str | Path):
        target = Target.parse(source, given)
        if target.format == "parquet" and target.path is None:
            raise InputError("-: Parquet cannot be read from standard input; give the file's path")
    return ScenarioSource(source, given, limits)


class LineFaultError(InputError):
    """Why a line is not a scenario's strict JSON; ``where`` is the field path, if there is one."""

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.where = where


def parse_line(line: bytes | str, limits: InputLimits) -> Any:
    """A JSONL line as strict JSON (see ``_json``); LineFaultError says why not, fit to follow 'line N:'."""
    try:
        return parse(decode(line, limits), limits)
    except JsonFaultError as fault:
        if not fault.where[:1].isdigit():
            raise LineFaultError(fault.reason, fault.where or None) from None
        raise LineFaultError(_syntax(fault)) from None


def _syntax(fault: JsonFaultError) -> str:
    row, _, column = fault.where.partition(":")
    where = f"column {column}" if row == "1" else f"line {row} of the text, column {column}"
    return f"not valid JSON at {where}: {fault.reason.removeprefix('not valid JSON: ')}"


def read_scenarios(
    source: str | Path, given: str | None = None, limits: InputLimits = DEFAULT_INPUT_LIMITS
) -> Iterator[Scenario]:
    """Every scenario of a file, checked against the Scenario model (signals are not looked up).

    Raises InputError naming the line of the first record that is not a valid scenario; a
    batch, by contrast, sets such records aside and goes on.
    """
    from pydantic import ValidationError

    for record in open_scenarios(source, given, limits):
        if record.problem is not None:
            raise InputError(f"{source}: line {record.line}: {record.problem}")
        payload = record.payload
        try:
            if isinstance(payload, bytes | str):
                payload = parse_line(payload, limits)
            yield payload if isinstance(payload, Scenario) else Scenario.model_validate(payload)
        except (ValidationError, ValueError) as error:
            raise InputError(f"{source}: line {record.line}: not a valid scenario: {error}") from None


# -- writing scenarios ------------------------------------------------------------------------


def _open_output(target: Target, stack: contextlib.ExitStack) -> IO[bytes]:
    if target.path is None:
        stack.callback(sys.stdout.buffer.flush)
        return sys.stdout.buffer
    target.path.parent.mkdir(parents=True, exist_ok=True)
    raw = stack.enter_context(target.path.open("wb"))
    if target.gzip:
        # mtime=0 and no file name in the header: the same scenarios give the same bytes.
        return cast(IO[bytes], stack.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)))
    return raw


def write_scenarios(scenarios: Iterable[Scenario], where: str | Path | Target, given: str | None = None) -> int:
    """Write scenarios to a file (or ``-``) in the format its extension names; returns how many.

    A file is complete or not there: if the writing stops (a full disk, an invalid scenario,
    Ctrl-C), the part written is removed, and a full disk or a folder that cannot be written
    is a BatchError naming the file.
    """
    target = where if isinstance(where, Target) else Target.parse(where, given)
    if target.format == "parquet" and target.path is None:
        raise InputError("-: Parquet cannot go to standard output; give a file name ending in .parquet")
    try:
        with writing(target.path, AGAIN):
            return _write_scenarios(scenarios, target)
    except BaseException:
        if target.path is not None:
            with contextlib.suppress(OSError):
                target.path.unlink(missing_ok=True)
        raise


def _write_scenarios(scenarios: Iterable[Scenario], target: Target) -> int:
    if target.format == "parquet":
        from . import _arrow

        assert target.path is not None
        return _arrow.write_scenarios(scenarios, target.path)
    with contextlib.ExitStack() as stack:
        stream = _open_output(target, stack)
        if target.format == "csv":
            from . import _csv

            return _csv.write_scenarios(scenarios, stream)
        count = 0
        for scenario in scenarios:
            stream.write(scenario.model_dump_json(exclude_none=True).encode() + b"\n")
            count += 1
        return count


# -- writing results, resumably ---------------------------------------------------------------


class Sink(Protocol):
    """Where rows go, a chunk at a time; ``position`` is what a resumed run truncates back to."""

    def write(self, items: Sequence[Any]) -> None: ...

    def position(self) -> dict[str, int]: ...

    def close(self) -> None:
        """Finish the file: every record is in."""

    def cleanup(self) -> None:
        """Remove what only a resumed run would need: the manifest now says complete."""

    def abandon(self) -> None:
        """Let go of the file as it is, resumable: the run stopped early."""


class _ByteSink:
    """Appends encoded chunks to a file or stream; for gzip each chunk is one gzip member.

    A file of concatenated gzip members is still one valid gzip file (zcat and Python's
    gzip read it whole), and it lets a resumed run cut the file at any chunk boundary.
    """

    def __init__(
        self,
        path: Path | None,
        encode: Callable[[Sequence[Any]], bytes],
        *,
        header: bytes = b"",
        compressed: bool = False,
        resume_from: Mapping[str, int] | None = None,
        stream: IO[bytes] | None = None,
    ) -> None:
        self._encode = encode
        self._compressed = compressed
        self._path = path
        # A stream cannot be resumed: after a fault there, the command runs again from the start.
        self._then = RESUME if path is not None else AGAIN
        self._name: str | None = str(path) if path is not None else ("standard error" if stream else None)
        self._offset = 0
        self._synced: int | None = None  # the offset on disk for sure (None: not yet synced)
        with writing(self._name, self._then):
            self._file = self._open(path, stream, resume_from)
            if resume_from is None:
                self._write(header)

    @staticmethod
    def _open(path: Path | None, stream: IO[bytes] | None, resume_from: Mapping[str, int] | None) -> IO[bytes]:
        if path is None:
            return stream if stream is not None else sys.stdout.buffer
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume_from is None:
            return path.open("wb")
        offset = int(resume_from["bytes"])
        if not path.exists() or path.stat().st_size < offset:
            raise InputError(f"{path}: shorter than the interrupted run recorded; it was changed, so start afresh")
        file = path.open("r+b")
        file.truncate(offset)  # drop whatever was written after the last checkpoint
        file.seek(offset)
        return file

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self._compressed:
            data = gzip.compress(data, mtime=0)
        with writing(self._name, self._then):
            self._file.write(data)
            self._file.flush()
        self._offset += len(data)

    def write(self, items: Sequence[Any]) -> None:
        self._write(self._encode(items))

    def position(self) -> dict[str, int]:
        # On disk before the manifest points past it, so even a machine crash resumes cleanly;
        # a checkpoint with nothing written since the last (most, for an errors file) needs none.
        if self._path is not None and not self._file.closed and self._synced != self._offset:
            with writing(self._name, self._then):
                _fsync(self._file.fileno())
            self._synced = self._offset
        return {"bytes": self._offset}

    def close(self) -> None:
        with writing(self._name, self._then):
            if self._path is None:
                self._file.flush()
            else:
                self._file.close()

    def cleanup(self) -> None:
        pass

    def abandon(self) -> None:
        # What a failed write left in the buffer may fail again here; the checkpoint already
        # says where the file ends, and the fault that stopped the run is the one to report.
        with contextlib.suppress(OSError):
            self._file.flush()
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._file.close()  # closes the descriptor even when its last flush fails


def _fsync(descriptor: int) -> None:
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno != errno.EINVAL:  # a pipe or a device, which has nothing to sync
            raise


def _json_line(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _result_rows(items: Sequence[Result] | ItemBlock, with_text: bool) -> Iterable[Mapping[str, Any]]:
    return items.rows() if isinstance(items, ItemBlock) else (r.to_row(with_text) for r in items)


def result_sink(target: Target, with_text: bool, resume_from: Mapping[str, int] | None = None) -> Sink:
    """A sink for Result rows in the target's format."""
    if target.format == "parquet":
        if target.path is None:
            raise InputError("-: Parquet cannot go to standard output; give a file name ending in .parquet")
        from . import _arrow

        return _arrow.ResultParts(target.path, with_text, resume_from)
    if target.format == "csv":
        from . import _csv

        return _ByteSink(
            target.path,
            lambda rows: _csv.encode_results(rows.results() if isinstance(rows, ItemBlock) else rows, with_text),
            header=_csv.results_header(with_text),
            compressed=target.gzip,
            resume_from=resume_from,
        )
    return _ByteSink(
        target.path,
        lambda rows: b"".join(_json_line(r) for r in _result_rows(rows, with_text)),
        compressed=target.gzip,
        resume_from=resume_from,
    )


def error_sink(path: Path | None, resume_from: Mapping[str, int] | None = None) -> Sink:
    """JSON lines of Rejected records, to a file, or to standard error when ``path`` is None."""
    stream = sys.stderr.buffer if path is None else None
    return _ByteSink(
        path,
        lambda rows: b"".join(_json_line(r.to_row()) for r in rows),
        resume_from=resume_from,
        stream=stream,
    )


# -- reading results --------------------------------------------------------------------------


def read_results(source: str | Path, given: str | None = None) -> Results:
    """Every row of a results file written by ``therapy-signals batch``, in order.

    Iterate it for :class:`Result` rows (read lazily, each time afresh), or take it whole as
    a data frame: ``.to_pandas()``, ``.to_polars()`` (the ``frames`` extra) or ``.to_arrow()``.
    """
    from ._frames import Results

    target = Target.parse(source, given)
    if target.path is None:
        raise InputError("-: read results from a file")
    return Results(target, lambda: _read_result_rows(target))


def _read_result_rows(target: Target) -> Iterator[Result]:
    assert target.path is not None
    if target.format == "parquet":
        from . import _arrow

        yield from _arrow.read_results(target.path)
        return
    with _maybe_gunzip(_open_input(target.path), target.gzip) as stream:
        if target.format == "csv":
            from . import _csv

            yield from _csv.read_results(stream, target.name)
            return
        number = 0
        for line_number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            number += 1
            try:
                yield Result.from_row(json.loads(line), number)
            except (ValueError, KeyError, TypeError) as error:
                raise InputError(f"{target.path}:{line_number}: not a results row ({error})") from None


def read_errors(path: Path) -> Iterator[Rejected]:
    """The Rejected records of an errors file."""
    with _open_input(path) as stream:
        for line in stream:
            if line.strip():
                yield Rejected.from_row(json.loads(line))
