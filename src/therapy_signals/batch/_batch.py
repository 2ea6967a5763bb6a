"""A batch run: read scenarios, explain them in chunks (here, in processes or on Dask), and
write results, rejected records and a manifest, resumably.

:func:`run_batch` is the convenience function over :class:`Batch`, which holds the
configuration (rules, locale, workers, Dask, chunk size) and can run many inputs.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .._paths import default_rules_dir
from ..engine import Engine
from ..errors import BatchError, InputError, ResumeError
from ..limits import DEFAULT_INPUT_LIMITS, InputLimits
from ..model import Level
from ..rulebook import RuleBook
from ._faults import AGAIN, RESUME, writing
from ._io import Record, ScenarioSource, Sink, Target, error_sink, file_sha256, open_scenarios, result_sink
from ._main_guard import check_main_guarded
from ._manifest import errors_path, manifest_path, now, read_manifest, stamp, write_manifest
from ._parallel import Executor, WorkerConfig, build_engine, executor
from ._progress import progress
from ._results import ItemBlock, Rejected, Result
from ._verify import Verifier

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks there, so run one at a time
    fcntl = None  # type: ignore[assignment]

__all__ = ["Batch", "BatchRun", "run_batch"]

Item = Result | Rejected
_UNFINISHED = ("running", "interrupted")


def _remembered(chunks: Iterator[Sequence[Record]], sent: deque[Sequence[Record]]) -> Iterator[Sequence[Record]]:
    """The chunks, each also kept in ``sent`` until its outcome comes back (in order)."""
    for chunk in chunks:
        sent.append(chunk)
        yield chunk


class Batch:
    """The configuration of batch runs over one rule base.

    Args:
        rules: a rule base folder, a loaded :class:`RuleBook`, or None for the shipped one.
            Workers load it themselves, so with ``dask`` the folder must exist on them.
        locale: the template locale for ``text``.
        text: also render each guidance as plain text into a ``text`` column.
        workers: local worker processes (1: everything in this process), or with ``dask``
            the number of LocalCluster workers.
        dask: ``"local"`` for a LocalCluster, or a scheduler address (``tcp://host:8786``).
        chunk_size: scenarios per task; the unit of parallel work and of checkpoints.
        fail_fast: stop at the first rejected record instead of setting it aside.
        engine: an Engine you already have, used for work in this process instead of
            building one from ``rules`` and ``locale`` (worker processes build their own
            from its rule folders, with its limits).
        limits: bounds on each record (bytes, nesting, digits); a record past them is
            rejected like any invalid one. Default: the Engine's, else
            :data:`~therapy_signals.limits.DEFAULT_INPUT_LIMITS`.
        backend: ``"columnar"`` (NumPy: a whole chunk evaluated as arrays) or ``"durable"``
            (durable_rules, one scenario at a time); both write the same rows. Default:
            columnar when NumPy is installed (the ``batch`` extra), else durable. With
            ``engine``, that Engine's backend.
    """

    def __init__(
        self,
        rules: str | Path | RuleBook | None = None,
        *,
        locale: str | None = None,
        text: bool = False,
        workers: int = 1,
        dask: str | None = None,
        chunk_size: int = 5000,
        fail_fast: bool = False,
        engine: Engine | None = None,
        limits: InputLimits | None = None,
        backend: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be 1 or more, not {chunk_size}")
        if engine is not None and (
            rules is not None or locale is not None or limits is not None or backend is not None
        ):
            raise ValueError("give an engine, or rules, locale, limits and backend, not both")
        chosen = DEFAULT_INPUT_LIMITS if limits is None else limits
        way = default_backend() if backend is None else backend
        # Building the Engine here checks the rules, the locale and the backend before any work starts.
        self.engine = (
            engine
            if engine is not None
            else build_engine(lambda: Engine(rules, locale=locale, limits=chosen, backend=way))
        )
        self.backend = self.engine.backend
        self.limits = self.engine.limits
        self.rulebook = self.engine.rulebook
        self.text = text
        self.workers = workers
        self.dask = dask
        self.chunk_size = chunk_size
        self.fail_fast = fail_fast
        # Workers rebuild the Engine from this, packs given in code included.
        self.config = WorkerConfig.of(
            self.rulebook,
            shipped=default_rules_dir(),
            locale=self.engine.locale if engine else locale,
            text=text,
            limits=self.limits,
            backend=self.backend,
        )

    def run(
        self,
        source: str | Path | Iterable[Any],
        output: str | Path | None = None,
        *,
        errors: str | Path | None = None,
        manifest: str | Path | None = None,
        resume: bool = False,
        input_format: str | None = None,
        output_format: str | None = None,
        progress: bool = False,
        command: Sequence[str] | None = None,
        verify: int = 0,
        verify_seed: int | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> BatchRun:
        """Start a run; iterate the returned :class:`BatchRun` for its items, lazily.

        Args:
            source: a scenario file (``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.parquet``), ``"-"``
                for standard input, or an iterable of Scenarios, dicts or JSON texts.
            output: a results file (its extension names the format), ``"-"`` for standard
                output, or None to write nothing and only yield.
            errors: where rejected records go (default ``<output>.errors.jsonl``; for
                standard output, standard error).
            manifest: where the manifest goes (default ``<output>.manifest.json``; none for
                standard output or no output unless given).
            resume: continue the unfinished run recorded in the manifest.
            progress: draw a progress bar on standard error when it is a terminal.
            command: the command line to record (default ``sys.argv``).
            verify: re-run this many random rows on the other backend when the run ends
                (durable_rules for a columnar run), and fail on any difference; the
                manifest records the sample's size, seed and differences.
            verify_seed: the seed of that sample (default: a fresh one, recorded).
            notify: called with a line for the person running the batch as it starts: with
                ``dask="local"``, the address of the cluster's dashboard.

        Raises:
            InputError: the input cannot be read or a format is unknown.
            ResumeError: ``resume`` was asked but there is nothing to resume, or the input,
                rules or options differ from the interrupted run's.
        """
        if (self.workers > 1 and not self.dask) or self.dask == "local":
            check_main_guarded(f"a batch with {self.workers} workers" if not self.dask else "a local Dask cluster")
        scenarios = open_scenarios(source, input_format, self.limits)
        target = None if output is None else Target.parse(output, output_format)
        if target is not None and target.path is not None and scenarios.is_file:
            assert scenarios.target.path is not None
            if target.path.resolve() == scenarios.target.path.resolve():
                raise InputError(f"{target.path}: the output would overwrite the input; choose another name")
        manifest_file = Path(manifest) if manifest is not None else None
        if manifest_file is None and target is not None and target.path is not None:
            manifest_file = manifest_path(target.path)
        previous = read_manifest(manifest_file) if manifest_file is not None else None
        errors_file = Path(errors) if errors is not None else None
        if errors_file is None and resume and previous is not None and previous["errors"].get("path"):
            errors_file = Path(previous["errors"]["path"])  # where the interrupted run put them
        if errors_file is None and target is not None and target.path is not None:
            errors_file = errors_path(target.path)
        if resume:
            self._check_resume(scenarios, target, manifest_file, previous)
        elif previous is not None and previous.get("status") in _UNFINISHED:
            # A run that is still going looks unfinished too; say so rather than suggest --resume.
            _OutputLock(target, manifest_file, errors_file).acquire().release()
            # One that stopped before its first record (a script's workers that could not start,
            # Ctrl-C during start-up) left nothing to resume: this run simply starts again.
            if previous["counts"].get("records", 0):
                raise BatchError(
                    f"{manifest_file}: an unfinished run ({previous['counts']['records']} records done) is "
                    f"recorded for this output; add --resume to continue it, or delete the manifest to start again"
                )
        return BatchRun(
            self,
            scenarios,
            target,
            errors_file,
            manifest_file,
            previous if resume else None,
            progress=progress,
            command=command,
            seen=previous,
            verifier=Verifier(verify, self.config, verify_seed) if verify else None,
            notify=notify,
        )

    def _check_resume(
        self,
        scenarios: ScenarioSource,
        target: Target | None,
        manifest_file: Path | None,
        previous: dict[str, Any] | None,
    ) -> None:
        if target is None or target.path is None or manifest_file is None:
            raise ResumeError("--resume needs an output file: a stream cannot be appended to safely")
        if previous is None:
            raise ResumeError(f"{manifest_file}: no manifest, so no run to resume; run without --resume")
        if previous.get("kind") != "batch":
            raise ResumeError(f"{manifest_file}: not the manifest of a batch run")
        if previous["status"] == "complete":
            return
        if not scenarios.is_file:
            raise ResumeError("--resume needs an input file: standard input or objects cannot be read again")
        changes = []
        if previous["input"]["sha256"] != scenarios.sha256:
            changes.append(f"the input {scenarios.name} is not the same file (sha256 differs)")
        if previous["rulebook"]["hash"] != self.rulebook.content_hash:
            changes.append(f"the rule base differs (hash {previous['rulebook']['hash'][:12]} before)")
        if previous["options"]["text"] != self.text:
            changes.append(f"--text was {'on' if previous['options']['text'] else 'off'}")
        if previous["output"]["format"] != target.format:
            changes.append(f"the output format was {previous['output']['format']}")
        before = previous["options"].get("limits", dataclasses.asdict(DEFAULT_INPUT_LIMITS))
        if before != dataclasses.asdict(self.limits):
            changes.append(f"the input limits were {_limits_text(before)}")
        if changes:
            raise ResumeError(
                f"{manifest_file}: cannot resume: " + "; ".join(changes) + "; delete the manifest to start again"
            )


class BatchRun:
    """One run in progress: iterate it for Results and Rejected records, in input order.

    Output files, the errors file and the manifest are written a chunk at a time as the
    iteration goes. Stopping early (``break``, an exception) leaves the run resumable.
    After the iteration, ``records``, ``results``, ``errors``, ``levels`` and ``manifest``
    hold the totals.
    """

    def __init__(
        self,
        batch: Batch,
        source: ScenarioSource,
        output: Target | None,
        errors_file: Path | None,
        manifest_file: Path | None,
        previous: dict[str, Any] | None,
        *,
        progress: bool,
        command: Sequence[str] | None,
        seen: dict[str, Any] | None = None,
        verifier: Verifier | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.batch = batch
        self.source = source
        self.output = output
        self.errors_file = errors_file
        self.manifest_file = manifest_file
        self.already_complete = previous is not None and previous["status"] == "complete"
        self.chunk_size = batch.chunk_size if previous is None else int(previous["options"]["chunk_size"])
        counts = previous["counts"] if previous is not None else {}
        self.records: int = counts.get("records", 0)
        self.results: int = counts.get("results", 0)
        self.errors: int = counts.get("errors", 0)
        self.levels: Counter[str] = Counter(counts.get("levels", {}))
        self.manifest: dict[str, Any] | None = previous
        self._previous = previous
        self._seen = seen
        # The last manifest on disk: what a run that fails records, since its checkpoint is the
        # last one whose output, errors and counts were all written.
        self._saved: dict[str, Any] | None = copy.deepcopy(previous)
        self._progress = progress
        self._command = command
        self._verifier = verifier
        self._notify = notify
        self._discard = False
        self._pids: set[int] = set()
        self._stopped = False
        self._items: Generator[Item, None, None] = self._run()

    def __iter__(self) -> Iterator[Item]:
        return self

    def __next__(self) -> Item:
        return next(self._items)

    def close(self) -> None:
        """Stop here; the run stays resumable from its last complete chunk."""
        self._items.close()

    def complete(self) -> dict[str, Any] | None:
        """Run to the end without keeping the items; returns the manifest (None without output)."""
        self._discard = True  # nobody looks at them: chunks of columns stay columns
        for _ in self:
            pass
        return self.manifest

    # -- the run ----------------------------------------------------------------------------

    def _start_manifest(self) -> dict[str, Any]:
        batch = self.batch
        manifest = stamp("batch", batch.rulebook, self._command)
        manifest.update(
            {
                "input": {
                    "path": self.source.name,
                    "format": self.source.target.format if self.source.is_file or self.source.name == "-" else None,
                    "sha256": self.source.sha256,
                    "records": self.source.total,
                },
                "output": {
                    "path": None if self.output is None else self.output.name,
                    "format": None if self.output is None else self.output.format,
                    "rows": 0,
                    "sha256": None,
                },
                "errors": {"path": None if self.errors_file is None else str(self.errors_file), "count": 0},
                "counts": {},
                "options": {
                    "text": batch.text,
                    "locale": batch.engine.locale,
                    "chunk_size": self.chunk_size,
                    "fail_fast": batch.fail_fast,
                    "limits": dataclasses.asdict(batch.limits),
                    "backend": batch.backend,
                },
                "parallel": {"workers": batch.workers, "dask": batch.dask, "processes_used": 0},
                "timing": {"started": now(), "finished": None, "seconds": 0.0, "scenarios_per_second": None},
                "checkpoint": {},
            }
        )
        if self._previous is not None:
            manifest["timing"]["started"] = self._previous["timing"]["started"]
            manifest["timing"]["resumed"] = [*self._previous["timing"].get("resumed", []), now()]
        return manifest

    def _update(self, status: str, seconds: float, out: Sink | None, err: Sink | None) -> None:
        if self.manifest is None or self.manifest_file is None:
            return
        manifest = self.manifest
        manifest["status"] = status
        manifest["counts"] = {
            "records": self.records,
            "results": self.results,
            "errors": self.errors,
            "levels": {level.value: self.levels.get(level.value, 0) for level in Level},
        }
        manifest["output"]["rows"] = self.results
        manifest["errors"]["count"] = self.errors
        manifest["parallel"]["processes_used"] = max(manifest["parallel"]["processes_used"], len(self._pids))
        timing = manifest["timing"]
        timing["seconds"] = round(seconds, 3)
        timing["scenarios_per_second"] = round(self.records / seconds, 1) if seconds > 0 else None
        if out is not None and err is not None:
            manifest["checkpoint"] = {"output": out.position(), "errors_file": err.position()}
        # Until one manifest is on disk there is nothing to resume: the command runs again.
        write_manifest(self.manifest_file, manifest, RESUME if self._saved is not None else AGAIN)
        self._saved = copy.deepcopy(manifest)

    def _sinks(self) -> tuple[Sink | None, Sink | None]:
        checkpoint = (self._previous.get("checkpoint") or None) if self._previous is not None else None
        out = None
        if self.output is not None:
            out = result_sink(self.output, self.batch.text, checkpoint["output"] if checkpoint else None)
        err = None
        if self.errors_file is not None or (self.output is not None and self.output.path is None):
            err = error_sink(self.errors_file, checkpoint["errors_file"] if checkpoint else None)
        return out, err

    def _run(self) -> Generator[Item, None, None]:
        if self.already_complete:
            return
        lock = _OutputLock(self.output, self.manifest_file, self.errors_file).acquire()  # before any truncation
        try:
            self._check_unchanged()
            yield from self._run_locked()
        finally:
            lock.release()

    def _check_unchanged(self) -> None:
        """The manifest is still the one the run was set up from (no other run came in between)."""
        if self.manifest_file is not None and read_manifest(self.manifest_file) != self._seen:
            raise BatchError(
                f"{self.manifest_file}: another run wrote this output after this one was set up; run the command again"
            )

    def _run_locked(self) -> Generator[Item, None, None]:
        batch = self.batch
        clock = time.perf_counter()
        spent = float(self._previous["timing"]["seconds"]) if self._previous is not None else 0.0
        out: Sink | None = None
        err: Sink | None = None
        if self.manifest_file is not None:
            self.manifest = self._start_manifest()
        pool: Executor | None = None
        status = "interrupted"
        try:
            out, err = self._sinks()
            self._update("running", spent, out, err)
            pool = executor(batch.config, batch.workers, batch.dask, batch.engine, self._notify)
            chunks = self.source.chunks(self.chunk_size, self.records)  # after those done before an interruption
            sent: deque[Sequence[Record]] = deque()  # the chunks in flight, for --verify
            with progress(self._progress, self.source.total, "scenarios", self.records) as advance:
                for outcome in pool.map(_remembered(chunks, sent)):
                    chunk = sent.popleft()
                    if outcome.rulebook != batch.rulebook.content_hash:
                        raise BatchError(
                            f"a worker (process {outcome.pid}) has another rule base (hash {outcome.rulebook[:12]}, "
                            f"here {batch.rulebook.content_hash[:12]}); install the same package and rules there"
                        )
                    self._pids.add(outcome.pid)
                    items = outcome.items
                    stop = next((i for i, item in enumerate(items) if not item.ok), None) if batch.fail_fast else None
                    if stop is not None:
                        items = items[: stop + 1]
                    self._write(items, out, err)
                    if self._verifier is not None:
                        self._verifier.offer(chunk, items)
                    self._update("running", spent + time.perf_counter() - clock, out, err)
                    advance(len(items))
                    if not self._discard:
                        yield from items
                    if stop is not None:
                        rejected = items[-1]
                        assert isinstance(rejected, Rejected)
                        where = f"; it is in {self.errors_file}" if self.errors_file else ""
                        raise BatchError(f"{self.source.name}: {rejected.message} (--fail-fast){where}")
            self._finish()
            if self._verifier is not None and self.manifest is not None:
                self.manifest["verify"] = self._verifier.check()
            elif self._verifier is not None:
                self._verifier.check()
            for sink in (out, err):
                if sink is not None:
                    sink.close()
            self._finalize(spent + time.perf_counter() - clock)
            status = "complete"
            for sink in (out, err):
                if sink is not None:
                    sink.cleanup()
        except (GeneratorExit, KeyboardInterrupt):
            status = "interrupted"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if pool is not None:
                pool.close()
            if status != "complete":
                self._abandon(status, spent + time.perf_counter() - clock, out, err)

    def _write(self, items: Sequence[Item], out: Sink | None, err: Sink | None) -> None:
        if isinstance(items, ItemBlock):  # columns: written and counted without a Result per row
            results: Sequence[Result] | ItemBlock = items
            rejected = items.rejected
            count, levels = items.result_count, items.levels()
        else:
            results = [i for i in items if isinstance(i, Result)]
            rejected = [i for i in items if isinstance(i, Rejected)]
            count, levels = len(results), Counter(r.level.value for r in results)
        if out is not None and count:
            out.write(results)
        if err is not None and rejected:
            err.write(rejected)
        self.records += len(items)
        self.results += count
        self.errors += len(rejected)
        self.levels.update(levels)

    def _finish(self) -> None:
        """Check that every input record came out exactly once."""
        if self.records != self.results + self.errors:
            raise BatchError(
                f"{self.records} records in but {self.results} results and {self.errors} errors out; "
                "this is a bug in therapy-signals, please report it"
            )
        if self.source.total is not None and self.records != self.source.total:
            raise BatchError(
                f"{self.source.name} holds {self.source.total} records but {self.records} were processed; "
                "did the file change during the run?"
            )

    def _finalize(self, seconds: float) -> None:
        if self.manifest is None or self.manifest_file is None:
            return
        self.manifest["input"]["sha256"] = self.source.sha256
        if self.output is not None and self.output.path is not None:
            self.manifest["output"]["sha256"] = file_sha256(self.output.path)
        self.manifest["timing"]["finished"] = now()
        self.manifest["checkpoint"] = {}
        self._update("complete", seconds, None, None)

    def _abandon(self, status: str, seconds: float, out: Sink | None, err: Sink | None) -> None:
        """Record how the run stopped, at its last checkpoint, and let go of the files unmerged.

        Whatever was written after that checkpoint (a chunk half written when the disk filled
        up, or when Ctrl-C came) is cut by the resumed run. If even the manifest cannot be
        written, it keeps its last checkpoint, which resumes as well.
        """
        try:
            last = self._saved if self._saved is not None else self.manifest
            if last is not None and self.manifest_file is not None:
                final = copy.deepcopy(last)
                final["status"] = status
                final["timing"]["seconds"] = round(seconds, 3)
                with contextlib.suppress(BatchError):
                    write_manifest(self.manifest_file, final)
                self.manifest = final
                self._recount(final.get("counts") or {})
        finally:
            for sink in (out, err):
                if sink is not None:
                    sink.abandon()

    def _recount(self, counts: dict[str, Any]) -> None:
        self.records = counts.get("records", 0)
        self.results = counts.get("results", 0)
        self.errors = counts.get("errors", 0)
        self.levels = Counter(counts.get("levels", {}))


def default_backend() -> str:
    """The columnar backend when NumPy is there to run it, else durable_rules."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "durable"
    return "columnar"


def _limits_text(limits: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:,}" for name, value in limits.items())


def _lock_owner(path: Path) -> Path:
    """The output a manifest or errors file belongs to by its name, else the file itself.

    So that a run writing ``b.jsonl`` with ``--manifest a.jsonl.manifest.json`` and a run
    writing ``a.jsonl`` meet at the same lock, ``a.jsonl.lock``.
    """
    for suffix in (".manifest.json", ".errors.jsonl"):
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.with_name(path.name.removesuffix(suffix))
    return path


class _OutputLock:
    """An exclusive ``flock`` on ``<output>.lock`` (and on the lock of any other file the run
    writes, named after the output it belongs to) for the whole run.

    The lock is on the output, not on the manifest: two runs writing one output with
    different ``--manifest`` paths would otherwise both go ahead, each truncating the
    other's lines. The lock file holds the holder's process id, for the message.
    """

    def __init__(self, output: Target | None, manifest: Path | None, errors: Path | None) -> None:
        files = [output.path] if output is not None and output.path is not None else []
        files += [f for f in (manifest, errors) if f is not None]
        owners: dict[Path, Path] = {}
        for file in files:
            owner = _lock_owner(file)
            owners.setdefault(owner.with_name(owner.name + ".lock").absolute(), owner)
        self._wanted = sorted(owners.items())
        self._held: list[tuple[Path, IO[str]]] = []

    def acquire(self) -> _OutputLock:
        if fcntl is None:  # pragma: no cover - Windows
            return self
        try:
            for lock, owner in self._wanted:
                self._held.append((lock, _take(lock, owner)))
        except BaseException:
            self.release()
            raise
        return self

    def release(self) -> None:
        # Removed while still held: a run that opened it meanwhile sees another inode and retries.
        for lock, handle in reversed(self._held):
            with contextlib.suppress(OSError):
                lock.unlink(missing_ok=True)
            handle.close()
        self._held.clear()


def _take(lock: Path, owner: Path) -> IO[str]:
    while True:
        with writing(owner, AGAIN):
            lock.parent.mkdir(parents=True, exist_ok=True)
            handle = lock.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(32).strip()
            handle.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise BatchError(
                f"{owner}: another run is writing this output right now{who}; wait for it, or stop it and add --resume"
            ) from None
        if _same_file(lock, handle):
            with contextlib.suppress(OSError):  # only for the message of a run that meets it
                handle.truncate(0)
                handle.write(f"{os.getpid()}\n")
                handle.flush()
            return handle
        handle.close()  # its holder removed it between our open and our lock: take the new one


def _same_file(path: Path, handle: IO[str]) -> bool:
    try:
        return path.stat().st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def run_batch(
    source: str | Path | Iterable[Any],
    output: str | Path | None = None,
    *,
    rules: str | Path | RuleBook | None = None,
    locale: str | None = None,
    text: bool = False,
    workers: int = 1,
    dask: str | None = None,
    chunk_size: int = 5000,
    fail_fast: bool = False,
    engine: Engine | None = None,
    limits: InputLimits | None = None,
    backend: str | None = None,
    errors: str | Path | None = None,
    resume: bool = False,
    input_format: str | None = None,
    output_format: str | None = None,
    progress: bool = False,
    verify: int = 0,
    verify_seed: int | None = None,
    notify: Callable[[str], None] | None = None,
) -> BatchRun:
    """Explain every scenario of a file or an iterable, lazily, in input order.

        for item in run_batch("scenarios.jsonl", "results.parquet", workers=2):
            if item.ok:
                print(item.scenario_id, item.level)

    Yields a :class:`Result` per valid scenario and a :class:`Rejected` per invalid record;
    with ``output``, also writes them (and a manifest) as it goes. A convenience over
    :class:`Batch`; see :meth:`Batch.run` for the arguments.
    """
    batch = Batch(
        rules,
        locale=locale,
        text=text,
        workers=workers,
        dask=dask,
        chunk_size=chunk_size,
        fail_fast=fail_fast,
        engine=engine,
        limits=limits,
        backend=backend,
    )
    return batch.run(
        source,
        output,
        errors=errors,
        resume=resume,
        input_format=input_format,
        output_format=output_format,
        progress=progress,
        verify=verify,
        verify_seed=verify_seed,
        notify=notify,
    )
