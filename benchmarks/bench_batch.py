"""Benchmark: scenario batches with 1 and 2 workers next to raw durable_rules, and a million streamed.

    .venv/bin/python benchmarks/bench_batch.py              # print the figures (make bench-batch)
    .venv/bin/python benchmarks/bench_batch.py --write      # ...and rewrite "## Batches" in docs/performance.md
    .venv/bin/python benchmarks/bench_batch.py --n 20000 --stream-n 0   # a quick look

Everything runs through the installed ``therapy-signals`` command, as a researcher runs it,
on a seeded random design (``generate --design random --seed 7``). The raw baseline asserts
the very facts the Engine asserts for the same scenarios (validate, encode, then
``_facts.to_fact``, computed outside the timed part) on a plain durable_rules Host in this
process, one fact per sid, deleting each sid's state after it, as the Engine does.

Memory is the peak resident set size of the whole process tree (the command and its
worker processes), summed over the tree and sampled every 50 ms with psutil, next to the
largest single process's peak (``getrusage(RUSAGE_CHILDREN)``).

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
from bench_engine import RawEngine

from therapy_signals import Engine
from therapy_signals.batch import read_scenarios
from therapy_signals.engine._facts import to_fact

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SCRIPT = Path(sys.executable).parent / "therapy-signals"
SEED = 7
HEADING = "## Batches"

# The targets of issue 4 ("Scenario batches for researchers").
TARGET_SPEEDUP = 1.7
TARGET_PEAK_MB = 300.0


@dataclass
class Run:
    label: str
    seconds: float
    peak_tree: int  # bytes: the largest sum of RSS over the process tree seen by the sampler
    peak_bound: int  # bytes: the sum of every process's own peak (VmHWM), an upper bound of the tree's peak
    peak_single: int  # bytes: the largest single process's peak, exactly (from wait4)
    manifest: dict[str, Any]

    def rate(self, n: int) -> float:
        return n / self.seconds


def _high_water(pid: int) -> int:
    """A process's peak resident set size so far (Linux VmHWM), in bytes; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def command(label: str, *args: str | Path, manifest: Path | None = None) -> Run:
    """Run ``therapy-signals`` with ``args``; wall time, and peak memory of its process tree."""
    start = time.perf_counter()
    child = subprocess.Popen([str(SCRIPT), *map(str, args), "-q"], stdout=subprocess.DEVNULL)
    watched = psutil.Process(child.pid)
    peak = 0
    marks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                members = [watched, *watched.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for member in members:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):  # it may end meanwhile
                    total += member.memory_info().rss
                    marks[member.pid] = max(marks.get(member.pid, 0), _high_water(member.pid))
            peak = max(peak, total)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"therapy-signals {' '.join(map(str, args))} failed with exit code {child.returncode}")
    single = usage.ru_maxrss * 1024  # kilobytes on Linux: the largest of the command and the workers it waited for
    data = json.loads(manifest.read_text()) if manifest is not None else {}
    return Run(label, seconds, peak, max(sum(marks.values()), peak), single, data)


def raw_durable(scenarios: Path, check: int = 2000, chunk: int = 1000) -> tuple[float, int, int]:
    """Seconds raw durable_rules spends asserting (and deleting) every scenario's fact.

    Facts are built a chunk at a time outside the timed loop, so memory stays flat. The
    first ``check`` scenarios are also run through the Engine: both must fire the same rules.
    """
    engine = Engine()
    raw = RawEngine(engine.ruleset)
    spent = 0.0
    count = 0
    agree = 0
    items = iter(read_scenarios(scenarios))
    while block := list(itertools.islice(items, chunk)):
        facts = []
        for scenario in block:
            encoded, counts = engine._encode(engine.validate(scenario))
            facts.append(to_fact(encoded, "", counts))
        if count < check:
            for scenario, fact in zip(block, facts, strict=True):
                agree += raw.fired_for(dict(fact)) == engine.fired(scenario)
        clock = time.perf_counter
        start = clock()
        for fact in facts:
            raw.run(fact)
        spent += clock() - start
        count += len(block)
    return spent, count, agree


def mb(value: int) -> float:
    return value / (1024 * 1024)


def figures(n: int, stream_n: int, work: Path, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"n": n, "stream_n": stream_n, "rounds": rounds, "load_before": os.getloadavg()[0]}
    scenarios = work / "scenarios.jsonl"
    print(f"generating {n:,} scenarios ...", flush=True)
    generated = command(
        "generate",
        *("generate", "--design", "random", "--n", str(n), "--seed", str(SEED), "-o", scenarios),
        manifest=Path(f"{scenarios}.manifest.json"),
    )
    results["generate"] = generated
    runs: dict[int, list[Run]] = {1: [], 2: []}
    raws = []
    for round_number in range(1, rounds + 1):
        # Interleaved, so that a machine that speeds up or slows down meanwhile hits both alike.
        for workers in (1, 2):
            out = work / f"results-{workers}.parquet"
            print(f"round {round_number}: batch with {workers} worker(s) ...", flush=True)
            runs[workers].append(
                command(
                    f"`therapy-signals batch scenarios.jsonl -o results.parquet --workers {workers}`",
                    *("batch", scenarios, "-o", out, "--workers", str(workers)),
                    manifest=Path(f"{out}.manifest.json"),
                )
            )
        results["identical"] = (work / "results-1.parquet").read_bytes() == (work / "results-2.parquet").read_bytes()
        print(f"round {round_number}: raw durable_rules on the same facts ...", flush=True)
        raws.append(raw_durable(scenarios))
    results["raw"] = raws
    results["runs"] = runs
    results["levels"] = runs[1][0].manifest["counts"]["levels"]
    results["load_after_batches"] = os.getloadavg()[0]
    if stream_n:
        big = work / "million.parquet"
        print(f"generating {stream_n:,} scenarios to Parquet ...", flush=True)
        results["stream_generate"] = command(
            f"`therapy-signals generate --design random --n {stream_n:,} --seed 7 -o scenarios.parquet`",
            *("generate", "--design", "random", "--n", str(stream_n), "--seed", str(SEED), "-o", big),
            manifest=Path(f"{big}.manifest.json"),
        )
        out = work / "million-results.parquet"
        print(f"batch of {stream_n:,} with 2 workers ...", flush=True)
        results["stream_batch"] = command(
            "`therapy-signals batch scenarios.parquet -o results.parquet --workers 2`",
            *("batch", big, "-o", out, "--workers", "2"),
            manifest=Path(f"{out}.manifest.json"),
        )
        results["stream_sizes"] = (big.stat().st_size, out.stat().st_size)
    results["load_after"] = os.getloadavg()[0]
    return results


def section(results: dict[str, Any]) -> str:
    n = results["n"]
    rounds = results["rounds"]
    runs: dict[int, list[Run]] = results["runs"]
    raws: list[tuple[float, int, int]] = results["raw"]
    best = {workers: min(r.seconds for r in runs[workers]) for workers in (1, 2)}
    raw_best = min(seconds for seconds, _, _ in raws)
    raw_rate = n / raw_best
    speedup = best[1] / best[2]
    per_round = [one.seconds / two.seconds for one, two in zip(runs[1], runs[2], strict=True)]
    agree = raws[0][2]
    first = runs[1][0].manifest
    levels = ", ".join(f"{level} {count:,}" for level, count in results["levels"].items())
    round_heads = " | ".join(f"round {i} (s)" for i in range(1, rounds + 1))
    lines = [
        HEADING,
        "",
        "Measured by `benchmarks/bench_batch.py` (`make bench-batch`; `--write` rewrites this section "
        "only). Everything runs through the installed `therapy-signals` command, as a researcher runs "
        "it, on a random design (`generate --design random --seed 7`: one to five distinct signals per "
        "scenario from the whole vocabulary, each context field given with probability 0.5). The input is "
        "JSONL, the output Parquet; a chunk is 1,000 scenarios. Times are wall-clock for the whole "
        "command, start-up included. The raw baseline asserts the very facts the Engine asserts for "
        "the same scenarios on a plain durable_rules Host, in one process, with the facts computed "
        "outside the timed part: what durable_rules alone costs, without reading, validating, "
        f"resolving or writing anything. The three take turns, {rounds} rounds, because this machine's "
        "speed drifts by tens of percent from minute to minute (others work on it); the best round of "
        "each is compared.",
        "",
        f"Rule base {first['rulebook']['name']} {first['rulebook']['version']} "
        f"({first['rulebook']['hash'][:12]}). {n:,} scenarios; overall levels: {levels}. "
        f"durable_rules alone fired the same rules as the Engine for {agree:,}/{min(2000, n):,} "
        f"scenarios checked. Outputs of 1 and 2 workers byte-identical: "
        f"{'yes' if results['identical'] else 'NO'}.",
        "",
        "| Machine | |",
        "|---|---|",
        f"| Python | {platform.python_implementation()} {platform.python_version()} |",
        f"| CPU | os.cpu_count() = {os.cpu_count()} |",
        f"| Packages | therapy-signals {version('therapy-signals')}, durable-rules {version('durable-rules')}, "
        f"pyarrow {version('pyarrow')}, dask {version('dask')} |",
        f"| Load average (1 min) before / after the batches | {results['load_before']:.2f} / "
        f"{results['load_after_batches']:.2f} |",
        "",
        f"| {n:,} scenarios | {round_heads} | scenarios/s (best) | x raw durable_rules | peak RSS, whole tree |",
        "|---|" + "---:|" * (rounds + 3),
        "| raw durable_rules: assert fact + delete state (one process) | "
        + " | ".join(f"{seconds:,.1f}" for seconds, _, _ in raws)
        + f" | {raw_rate:,.0f} | 1.00 | - |",
    ]
    for workers in (1, 2):
        rate = n / best[workers]
        peak = max(r.peak_bound for r in runs[workers])
        lines.append(
            f"| {runs[workers][0].label} | "
            + " | ".join(f"{r.seconds:,.1f}" for r in runs[workers])
            + f" | {rate:,.0f} | {rate / raw_rate:.2f} | {mb(peak):,.0f} MiB |"
        )
    gen = results["generate"]
    lines += [
        "",
        f"Two workers: **{speedup:.2f}x** one worker (best rounds; round by round: "
        + ", ".join(f"{x:.2f}x" for x in per_round)
        + "). The machine has two cores, which the two workers share with the main process "
        "(reading, writing, checkpointing: about 3% of a core). Generating the set took "
        f"{gen.seconds:,.1f} s.",
        "",
    ]
    targets = [
        ("2 workers at least 1.7x one worker", f"{speedup:.2f}x", speedup >= TARGET_SPEEDUP),
    ]
    if "stream_batch" in results:
        stream_n = results["stream_n"]
        gen_big, batch_big = results["stream_generate"], results["stream_batch"]
        sizes = results["stream_sizes"]
        lines += [
            f"| {stream_n:,} scenarios, streamed | seconds | scenarios/s | whole tree, sampled | "
            "whole tree, upper bound | largest process |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for run in (gen_big, batch_big):
            lines.append(
                f"| {run.label} | {run.seconds:,.0f} | {run.rate(stream_n):,.0f} | {mb(run.peak_tree):,.0f} MiB | "
                f"{mb(run.peak_bound):,.0f} MiB | {mb(run.peak_single):,.0f} MiB |"
            )
        bound = max(batch_big.peak_bound, gen_big.peak_bound)
        lines += [
            "",
            "Peak memory, three ways: the largest sum of resident memory over the command and its worker "
            "processes that a sampler saw every 50 ms; the sum of each process's own peak (Linux `VmHWM`), "
            "which no moment can exceed even between samples; and the largest single process's peak "
            f"(from `wait4`). The scenario file is {sizes[0] / 1e6:,.0f} MB and the results "
            f"{sizes[1] / 1e6:,.0f} MB (Parquet, zstd). Memory stays flat because nothing holds more than a "
            "few chunks: the reader yields one Parquet batch at a time, at most two chunks per worker are "
            "in flight, results go to one part file per chunk, and the parts are merged one at a time at "
            "the end. Most of it is fixed: each worker holds Python, Pydantic and its Engine (about 50 MiB), "
            "and the main process also pyarrow.",
            "",
        ]
        targets.append(
            (
                f"{stream_n:,} scenarios stream with peak memory under 300 MB (upper bound)",
                f"{bound / 1e6:,.0f} MB",
                bound < TARGET_PEAK_MB * 1e6,
            )
        )
    lines += ["| Target | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in targets]
    lines += [
        "",
        f"Measured {datetime.date.today().isoformat()}. No test asserts a timing; the test suite checks "
        "instead that results are identical whatever the worker count and that streaming works on an "
        "endless input.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace the Batches section of docs/performance.md (or append it), leaving the rest alone."""
    page = DOC.read_text(encoding="utf-8")
    start = page.find("\n" + HEADING + "\n")
    if start < 0:
        page = page.rstrip("\n") + "\n\n" + text
    else:
        end = page.find("\n## ", start + 1)
        rest = page[end:] if end >= 0 else ""
        page = page[: start + 1] + text + rest
    DOC.write_text(page, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="scenarios for the throughput runs")
    parser.add_argument("--stream-n", type=int, default=1_000_000, help="scenarios streamed (0: skip)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the throughput runs")
    parser.add_argument("--write", action="store_true", help=f"rewrite the Batches section of {DOC.name}")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = figures(args.n, args.stream_n, args.keep, args.rounds)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
            results = figures(args.n, args.stream_n, Path(folder), args.rounds)
    text = section(results)
    print()
    print(text)
    if args.write:
        write_section(text)
        print(f"wrote the Batches section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
