"""A batch run: read scenarios, explain them in chunks (here, in processes or on Dask), and
write results, rejected records and a manifest, resumably.

:func:`run_batch` is the convenience function over :class:`Batch`, which holds the
configuration (rules, locale, workers, Dask, chunk size) and can run many inputs.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._paths import default_rules_dir
from ..engine import Engine
from ..errors import BatchError, InputError, ResumeError
from ..model import Level
from ..rulebook import RuleBook
from ._io import Record, ScenarioSource, Sink, Target, error_sink, file_sha256, open_scenarios, result_sink
from ._manifest import errors_path, manifest_path, now, read_manifest, stamp, write_manifest
from ._parallel import Executor, WorkerConfig, build_engine, executor
from ._progress import progress
from ._results import Rejected, Result

__all__ = ["Batch", "BatchRun", "run_batch"]

Item = Result | Rejected
_UNFINISHED = ("running", "interrupted")


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(itertools.islice(records, size)):
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
            from its rule folders).
    """

    def __init__(
        self,
        rules: str | Path | RuleBook | None = None,
        *,
        locale: str | None = None,
        text: bool = False,
        workers: int = 1,
        dask: str | None = None,
        chunk_size: int = 1000,
        fail_fast: bool = False,
        engine: Engine | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be 1 or more, not {chunk_size}")
        if engine is not None and (rules is not None or locale is not None):
            raise ValueError("give an engine, or rules and locale, not both")
        # Building the Engine here checks the rules and the locale before any work starts.
        self.engine = engine if engine is not None else build_engine(lambda: Engine(rules, locale=locale))
        self.rulebook = self.engine.rulebook
        self.text = text
        self.workers = workers
        self.dask = dask
        self.chunk_size = chunk_size
        self.fail_fast = fail_fast
        # Workers rebuild the Engine from this: None lets remote workers use their own shipped
        # rules, and the hash every chunk reports back proves they are the same.
        roots = tuple(str(r.resolve()) for r in self.rulebook.roots)
        shipped = roots == (str(default_rules_dir().resolve()),)
        self.config = WorkerConfig(None if shipped else roots, self.engine.locale if engine else locale, text)

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

        Raises:
            InputError: the input cannot be read or a format is unknown.
            ResumeError: ``resume`` was asked but there is nothing to resume, or the input,
                rules or options differ from the interrupted run's.
        """
        scenarios = open_scenarios(source, input_format)
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
            raise BatchError(
                f"{manifest_file}: an unfinished run ({previous['counts']['records']} records done) is recorded "
                f"for this output; add --resume to continue it, or delete the manifest to start again"
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
        self._progress = progress
        self._command = command
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
        write_manifest(self.manifest_file, manifest)

    def _sinks(self) -> tuple[Sink | None, Sink | None]:
        checkpoint = self._previous["checkpoint"] if self._previous is not None else None
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
        lock = _lock(self.manifest_file)  # before the sinks, which truncate files
        try:
            yield from self._run_locked()
        finally:
            _unlock(lock)

    def _run_locked(self) -> Generator[Item, None, None]:
        batch = self.batch
        clock = time.perf_counter()
        spent = float(self._previous["timing"]["seconds"]) if self._previous is not None else 0.0
        out, err = self._sinks()
        if self.manifest_file is not None:
            self.manifest = self._start_manifest()
            self._update("running", spent, out, err)
        pool: Executor | None = None
        status = "interrupted"
        try:
            pool = executor(batch.config, batch.workers, batch.dask, batch.engine)
            records: Iterator[Record] = iter(self.source)
            if self.records:
                records = itertools.islice(records, self.records, None)  # done before the interruption
            with progress(self._progress, self.source.total, "scenarios", self.records) as advance:
                for outcome in pool.map(_chunks(records, self.chunk_size)):
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
                    self._update("running", spent + time.perf_counter() - clock, out, err)
                    advance(len(items))
                    yield from items
                    if stop is not None:
                        rejected = items[-1]
                        assert isinstance(rejected, Rejected)
                        where = f"; it is in {self.errors_file}" if self.errors_file else ""
                        raise BatchError(f"{self.source.name}: {rejected.message} (--fail-fast){where}")
            self._finish()
            if out is not None:
                out.close()
            if err is not None:
                err.close()
            self._finalize(spent + time.perf_counter() - clock)
            status = "complete"
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
        results = [i for i in items if isinstance(i, Result)]
        rejected = [i for i in items if isinstance(i, Rejected)]
        if out is not None and results:
            out.write(results)
        if err is not None and rejected:
            err.write(rejected)
        self.records += len(items)
        self.results += len(results)
        self.errors += len(rejected)
        self.levels.update(r.level.value for r in results)

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
        # Positions first (they flush), then the manifest, then let go of the files unmerged.
        try:
            if self.manifest is not None and self.manifest_file is not None:
                self._update(status, seconds, out, err)
        finally:
            for sink in (out, err):
                if sink is not None:
                    sink.abandon()


def _lock(manifest: Path | None) -> Any:
    """Hold ``<manifest>.lock`` for the run, so two runs never write one output at once."""
    if manifest is None:
        return None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks here, run one at a time
        return None
    manifest.parent.mkdir(parents=True, exist_ok=True)
    path = manifest.with_name(manifest.name + ".lock")
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BatchError(
            f"{manifest}: another run is writing this output right now; wait for it, or stop it and add --resume"
        ) from None
    return (handle, path)


def _unlock(lock: Any) -> None:
    if lock is not None:
        handle, path = lock
        path.unlink(missing_ok=True)
        handle.close()


def run_batch(
    source: str | Path | Iterable[Any],
    output: str | Path | None = None,
    *,
    rules: str | Path | RuleBook | None = None,
    locale: str | None = None,
    text: bool = False,
    workers: int = 1,
    dask: str | None = None,
    chunk_size: int = 1000,
    fail_fast: bool = False,
    engine: Engine | None = None,
    errors: str | Path | None = None,
    resume: bool = False,
    input_format: str | None = None,
    output_format: str | None = None,
    progress: bool = False,
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
    )
    return batch.run(
        source,
        output,
        errors=errors,
        resume=resume,
        input_format=input_format,
        output_format=output_format,
        progress=progress,
    )
