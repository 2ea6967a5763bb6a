"""Explaining chunks of records in this process, in local worker processes, or on Dask.

Every process builds its own Engine once and keeps it (durable_rules state lives in a Host
inside the process, so an Engine is never shipped between processes). Chunks go out in
order and come back in order, with at most a few in flight per worker, so results are the
same whatever the worker count and memory stays flat whatever the input size.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .._install import install_command
from ..engine import Engine
from ..engine._verdicts import Verdict, column_verdicts, columnar_of, resolve_columns
from ..errors import BatchError, InputError, Problem, ScenarioError
from ..limits import DEFAULT_INPUT_LIMITS, InputLimits
from ..model import Scenario
from ..rulebook import RuleBook
from ._io import LineChunk, LineFaultError, Record, parse_line
from ._results import Rejected, Result

__all__ = ["ChunkOutcome", "WorkerConfig", "executor", "explain_record", "process_chunk"]

_IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class PackData:
    """A pack given in code, as the canonical JSON of its data: it travels to a worker
    (picklable, hashable as a cache key) and rebuilds the same pack, with the same hash."""

    json: str


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to build its Engine: picklable, and the key of its cache."""

    rules: tuple[str | PackData, ...] | None  # a base folder and any packs on top; None: the shipped rules
    locale: str | None
    text: bool
    limits: InputLimits = DEFAULT_INPUT_LIMITS
    backend: str = "durable"

    @classmethod
    def of(cls, book: RuleBook, *, shipped: Path, **options: Any) -> WorkerConfig:
        """The config for a rule base: None for the shipped one alone, which remote workers
        load from their own install (the hash every chunk reports back proves it the same)."""
        packs = tuple(
            str(p.resolve()) if isinstance(p, Path) else PackData(json.dumps(p, sort_keys=True))
            for p in book.pack_sources
        )
        base = str(book.root.resolve())
        alone = not packs and base == str(shipped.resolve())
        return cls(None if alone else (base, *packs), **options)

    def rule_paths(self) -> list[str | dict[str, Any]] | None:
        """``Engine(rule_paths=...)`` for this config."""
        if self.rules is None:
            return None
        return [json.loads(r.json) if isinstance(r, PackData) else r for r in self.rules]


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """A chunk's items in input order, and which rule base and process produced them."""

    rulebook: str
    pid: int
    engines_built: int
    items: Sequence[Result | Rejected]


_engines: dict[tuple[tuple[str | PackData, ...] | None, str | None, InputLimits, str], Engine] = {}
_built = 0


def build_engine(make: Callable[[], Engine], attempts: int = 3) -> Engine:
    """``make()``, called again if durable_rules sporadically fails to parse its own ruleset.

    durable_rules 2.0.28 now and then rejects a valid ruleset while creating it ("Could not
    create ruleset, error code: 102", a parse error on the very JSON it accepts the next
    time; seen in a few process starts in a hundred, under some heap layouts). A long batch
    on many workers should not die of it: the next Host parses the same ruleset fine.
    """
    for attempt in range(attempts):
        try:
            return make()
        except Exception as error:
            if "Could not create ruleset" not in str(error) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def engine_for(config: WorkerConfig) -> Engine:
    """This process's Engine for the config, built on first use."""
    global _built
    key = (config.rules, config.locale, config.limits, config.backend)
    engine = _engines.get(key)
    if engine is None:
        paths = config.rule_paths()
        engine = _engines[key] = build_engine(
            lambda: Engine(rule_paths=paths, locale=config.locale, limits=config.limits, backend=config.backend)
        )
        _built += 1
    return engine


def prime(config: WorkerConfig, engine: Engine) -> None:
    """Use an Engine the caller already built (in-process runs), instead of building another."""
    _engines[(config.rules, config.locale, config.limits, config.backend)] = engine


def _shown(record: Record) -> Any:
    """The record as read, JSON-ready, for the errors file."""
    payload = record.payload
    if record.raw is not None:
        return record.raw
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    if isinstance(payload, Scenario):
        return payload.model_dump(mode="json", exclude_none=True)
    return payload


def _id_of(payload: Any) -> str | None:
    value = payload.get("id") if isinstance(payload, dict) else getattr(payload, "id", None)
    return value if isinstance(value, str) else None


def validate_record(engine: Engine, record: Record) -> Scenario | Rejected:
    """The record's scenario, or precisely why there is none; never raises for what the record holds."""
    if record.problem is not None:
        return Rejected(
            record.number, record.line, _id_of(record.payload), record.kind, (record.problem,), _shown(record)
        )
    payload = record.payload
    try:
        if isinstance(payload, bytes | str):
            payload = parse_line(payload, engine.limits)
        scenario = engine.validate(payload)
    except InputError as error:
        # A field path when the JSON parsed but breaks a rule (a key twice, too deep), else the line.
        where = error.where if isinstance(error, LineFaultError) and error.where else f"line {record.line}"
        problem = Problem(where, error.reason if isinstance(error, LineFaultError) else str(error))
        return Rejected(record.number, record.line, None, "invalid JSON", (problem,), _shown(record))
    except ScenarioError as error:
        return Rejected(
            record.number,
            record.line,
            _id_of(payload),
            "invalid scenario",
            tuple(error.problems),
            _shown(record),
        )
    return scenario


def explain_record(engine: Engine, record: Record, text: bool) -> Result | Rejected:
    """Explain one record, or say precisely why it cannot be; never raises for what the record holds."""
    scenario = validate_record(engine, record)
    if isinstance(scenario, Rejected):
        return scenario
    guidance = engine.explain(scenario, render=text)
    return Result.from_guidance(record.number, guidance, guidance.to_text() if text else None)


def explain_records(engine: Engine, records: Sequence[Record]) -> Sequence[Result | Rejected]:
    """Explain a chunk at once: the same items as :func:`explain_record` gives one by one.

    On the columnar backend, JSONL lines go straight into columns where they can
    (``_fast_input``) and come back as one table (``_blocks``); the other records go
    through the Scenario model, and every valid scenario is then evaluated together.
    """
    fast = _fast_lines(engine, records)
    if fast is None:
        return _one_by_one(engine, records, range(len(records)))
    import numpy as np  # the fast path ran, so the batch extra is installed

    from . import _blocks

    lines, parsed = fast
    at = np.asarray(lines, dtype=np.int64)[parsed.rows]  # the position of each parsed scenario
    left = np.ones(len(records), dtype=bool)
    left[at] = False
    others = _one_by_one(engine, records, np.flatnonzero(left).tolist())
    given = getattr(records, "numbers", None)  # a LineChunk's or a TableChunk's, else from each record
    numbers: list[int] = (
        np.asarray(given, dtype=np.int64)[at].tolist()
        if given is not None
        else [records[i].number for i in at.tolist()]
    )
    resolved = resolve_columns(engine, parsed.columns)
    if resolved is None:  # packs: the safety floor merges verdicts, one scenario at a time
        verdicts = column_verdicts(engine, parsed.columns, parsed.signals)
        results = [_result(parsed, k, n, v) for k, (n, v) in enumerate(zip(numbers, verdicts, strict=True))]
        return sorted([*results, *others], key=lambda item: item.record)
    table = _blocks.result_table(columnar_of(engine), parsed, resolved, numbers)
    extra = [item for item in others if isinstance(item, Result)]
    rejected = [item for item in others if isinstance(item, Rejected)]
    return _blocks.ColumnarItems(table, numbers, extra, rejected)


def _one_by_one(engine: Engine, records: Sequence[Record], positions: Sequence[int]) -> list[Result | Rejected]:
    """The records at ``positions`` through the Scenario model, the valid ones evaluated together."""
    items: list[Result | Rejected] = []
    valid: list[tuple[Record, Scenario]] = []
    for at in positions:
        record = records[at]
        checked = validate_record(engine, record)
        if isinstance(checked, Rejected):
            items.append(checked)
        else:
            valid.append((record, checked))
    verdicts = engine.verdicts([s for _, s in valid])
    items.extend(Result.from_verdict(r.number, s, v) for (r, s), v in zip(valid, verdicts, strict=True))
    return sorted(items, key=lambda item: item.record)


def _fast_lines(engine: Engine, records: Sequence[Record]) -> tuple[list[int], Any] | None:
    """The positions of the JSONL lines (or Parquet rows) and what ``_fast_input`` made of
    them, when it may run."""
    if engine.backend != "columnar":
        return None
    try:
        from . import _fast_input
        from ._arrow import TableChunk
    except ImportError:  # no pyarrow: every record goes through the Scenario model
        return None
    if isinstance(records, TableChunk):  # typed columns of a Parquet file, no JSON to parse
        table = records.columns()
        if table is None:
            return None
        return list(range(len(records))), _fast_input.parse_table(table, columnar_of(engine).signal_index)
    if not _fast_input.usable(engine.limits):
        return None
    if isinstance(records, LineChunk) and not records.special:
        lines = list(range(len(records)))
        payloads = records.payloads
    elif isinstance(records, LineChunk):
        lines = [i for i in range(len(records)) if i not in records.special]
        payloads = [records.payloads[i] for i in lines]
    else:
        lines, payloads = _as_lines(records)
    if not lines:
        return None
    return lines, _fast_input.parse_lines(payloads, columnar_of(engine).signal_index, engine.limits.max_bytes)


def _as_lines(records: Sequence[Record]) -> tuple[list[int], list[bytes]]:
    """The positions and JSON lines of the records the fast path may take: JSONL lines as read,
    and a plain mapping (a CSV scenario's, or one given in code) as the JSON line it makes.

    The fast path takes a line only where parsing it and validating the result would accept
    it, and a mapping that JSON carries exactly (text, whole numbers, booleans) validates as
    its JSON line does; anything else JSON would change (a float, a key that is not text, a
    letter beyond ASCII, which it escapes) is refused there or here, and goes the strict way
    as the mapping it is, to get the very message it gets today.
    """
    lines: list[int] = []
    payloads: list[bytes] = []
    for at, record in enumerate(records):
        payload = record.payload
        if record.problem is not None:
            continue
        if type(payload) is dict:
            try:
                payload = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
            except (TypeError, ValueError):  # not JSON as it is: the strict path says what is wrong
                continue
        if isinstance(payload, bytes):
            lines.append(at)
            payloads.append(payload)
    return lines, payloads


def _number(records: Sequence[Record], at: int) -> int:
    return records.numbers[at] if isinstance(records, LineChunk) else records[at].number


def _result(parsed: Any, k: int, number: int, verdict: Verdict) -> Result:
    start = int(parsed.columns.starts[k])
    signals = list(parsed.names[parsed.columns.signal[start : start + int(parsed.columns.counts[k])]])
    return Result.of(number, parsed.ids[k], parsed.settings[k], parsed.sessions[k], signals, verdict)


def process_chunk(config: WorkerConfig, records: Sequence[Record]) -> ChunkOutcome:
    """The task every worker runs: explain a chunk of records in order."""
    engine = engine_for(config)
    items: Sequence[Result | Rejected]
    if config.text:  # the words need the whole guidance, one scenario at a time
        items = [explain_record(engine, record, config.text) for record in records]
    else:
        items = explain_records(engine, records)
        if _in_worker:
            _ready_to_travel(items)
    return ChunkOutcome(engine.rulebook.content_hash, os.getpid(), _built, items)


_in_worker = False  # a local worker process (set by _warm)


def _ready_to_travel(items: Sequence[Result | Rejected]) -> None:
    """Encode a chunk of columns now, as the part it travels as, and give Arrow's freed memory
    back: a worker's allocator would otherwise keep what every chunk's encoding took."""
    from ._blocks import ColumnarItems

    if isinstance(items, ColumnarItems):
        import pyarrow as pa  # type: ignore[import-untyped]

        items.encode()
        pa.default_memory_pool().release_unused()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies, however the parent dies.

    A worker holds both ends of the pool's pipes, so it never sees the end of its input: a
    parent killed with SIGKILL (or by the OOM killer) would leave it waiting forever. On
    Linux ``PR_SET_PDEATHSIG`` is the kernel's answer; if the parent died before this call,
    the worker has already been handed to another parent, and leaves on its own.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _forks(config: WorkerConfig) -> bool:
    """Whether workers may be forked from this process rather than started fresh.

    A fresh worker imports the package and builds its Engine again, which on a batch of a
    few hundred thousand scenarios costs as much as a good part of the work. Forking is safe
    here only on Linux (macOS forbids it with some system libraries), with no other thread
    running (a fork copies one thread, and any lock another one holds stays held), and on
    the columnar backend: an Engine on durable_rules holds a Host whose state is the
    process's own, which a worker should build for itself.
    """
    return sys.platform == "linux" and config.backend == "columnar" and threading.active_count() == 1


def _warm(config: WorkerConfig, parent: int) -> None:
    global _in_worker
    _in_worker = True
    _die_with(parent)
    from ._startup import settle_pyarrow_without_pandas

    settle_pyarrow_without_pandas()  # a local worker only ever runs process_chunk
    # Ctrl-C reaches the whole process group: let the main process alone handle it, so it can
    # record the checkpoint and stop the pool, instead of every worker dying with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A failure here would break the pool with no message; the first chunk reports it instead.
    with contextlib.suppress(Exception):
        engine_for(config)


# -- executors --------------------------------------------------------------------------------


class Executor(Protocol):
    workers: int

    def map(self, chunks: Iterable[Sequence[Record]]) -> Iterator[ChunkOutcome]: ...

    def close(self) -> None: ...


def _ordered(
    submit: Callable[[Sequence[Record]], Any], chunks: Iterable[Sequence[Record]], window: int
) -> Iterator[ChunkOutcome]:
    """Submit chunks with at most ``window`` in flight; yield their outcomes in input order."""
    pending: deque[Any] = deque()
    try:
        for chunk in chunks:
            pending.append(submit(chunk))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _portable(chunk: Sequence[Record]) -> Sequence[Record]:
    """The chunk as it travels to a worker: a LineChunk as it is, else a list."""
    return chunk if isinstance(chunk, LineChunk) else list(chunk)


class Serial:
    """Everything in this process: no start-up cost, one core."""

    workers = 1

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config

    def map(self, chunks: Iterable[Sequence[Record]]) -> Iterator[ChunkOutcome]:
        for chunk in chunks:
            yield process_chunk(self.config, chunk)

    def close(self) -> None:
        pass


class Processes:
    """Local worker processes, each with its Engine: forked from this process, Engine and all,
    where that is safe (:func:`_forks`), else started fresh (spawn) and warming their own."""

    def __init__(self, config: WorkerConfig, workers: int, engine: Engine | None = None) -> None:
        self.config = config
        self.workers = workers
        forked = engine is not None and _forks(config)
        if forked:
            assert engine is not None
            prime(config, engine)  # what every forked worker finds built
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork" if forked else "spawn"),
            initializer=_warm,
            initargs=(config, os.getpid()),
        )
        if forked:
            # A forking pool starts all its workers at the first task: now, while this process
            # has no other thread (a progress bar's comes later), not in the middle of the run.
            self._pool.submit(int)

    def _submit(self, chunk: Sequence[Record]) -> Future[ChunkOutcome]:
        return self._pool.submit(process_chunk, self.config, _portable(chunk))

    def map(self, chunks: Iterable[Sequence[Record]]) -> Iterator[ChunkOutcome]:
        try:
            yield from _ordered(self._submit, chunks, self.workers * _IN_FLIGHT_PER_WORKER)
        except BrokenProcessPool as error:
            raise BatchError(
                f"a worker process stopped unexpectedly ({error}); its standard error above says why "
                "(out of memory, a crash in durable_rules, a script that starts the batch outside "
                '`if __name__ == "__main__":`, or a script read from standard input, which worker '
                "processes cannot import again)"
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Dask:
    """dask.distributed workers: a LocalCluster for ``local``, else a scheduler's address."""

    def __init__(
        self, config: WorkerConfig, address: str, workers: int, notify: Callable[[str], None] | None = None
    ) -> None:
        from ._extras import require

        require("distributed", "--dask (running on dask.distributed)")
        from distributed import Client, LocalCluster

        self.config = config
        self._cluster: Any = None
        if address == "local":
            # The dashboard only without anything to serve it: bokeh comes with the dask extra.
            dashboard = importlib.util.find_spec("bokeh") is not None
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                # This machine only, on a free port: a dashboard shows what runs, to whoever reaches it.
                dashboard_address="127.0.0.1:0" if dashboard else None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
            if notify is not None:
                notify(
                    f"Dask dashboard: {self._cluster.dashboard_link}"
                    if dashboard
                    else f"Dask dashboard: none, bokeh is not installed ({install_command('dask')})"
                )
        else:
            try:
                self._client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError, ValueError) as error:
                raise BatchError(
                    f"cannot reach the Dask scheduler at {address} ({error}); start one with "
                    "`dask scheduler` and workers with `dask worker ADDRESS`, or use --dask local"
                ) from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def _submit(self, chunk: Sequence[Record]) -> Any:
        return self._client.submit(process_chunk, self.config, _portable(chunk), pure=False)

    def map(self, chunks: Iterable[Sequence[Record]]) -> Iterator[ChunkOutcome]:
        yield from _ordered(self._submit, chunks, self.workers * _IN_FLIGHT_PER_WORKER)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()


def executor(
    config: WorkerConfig,
    workers: int,
    dask: str | None,
    engine: Engine | None = None,
    notify: Callable[[str], None] | None = None,
) -> Executor:
    """The executor the options ask for; in-process when there is one worker and no Dask.

    ``notify`` hears what the person running the batch should know as it starts (the address
    of a local Dask cluster's dashboard).
    """
    if dask:
        return Dask(config, dask, workers, notify)
    if workers > 1:
        return Processes(config, workers, engine)
    if engine is not None:
        prime(config, engine)
    return Serial(config)
