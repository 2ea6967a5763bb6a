"""Benchmark: scenario batches on the columnar backend and on durable_rules, one core and two.

    .venv/bin/python benchmarks/bench_batch.py              # print the figures (make bench-batch)
    .venv/bin/python benchmarks/bench_batch.py --write      # ...and rewrite "## Batches" in docs/performance.md
    .venv/bin/python benchmarks/bench_batch.py --n 20000 --stream-n 0   # a quick look

Everything runs through the installed ``therapy-signals`` command, as a researcher runs it,
on a seeded random design (``generate --design random --seed 7``), JSONL in and Parquet out,
start-up included. One-core runs are pinned with ``taskset -c 0``. In the same run:

- the columnar backend and durable_rules on the same input, and their outputs compared byte
  for byte (and the two-worker output with them);
- the same scenarios read from Parquet and from CSV, on one core, and their outputs compared
  with the JSONL one;
- raw durable_rules asserting the very facts the Engine asserts (``_facts.encode`` and
  ``to_fact``, computed outside the timed part) on a plain Host, for the engine's own cost;
- ``--verify`` on a sample;
- a million scenarios streamed on one core, then the same million on durable_rules (two
  workers) and the outputs compared: the shipped base's agreement on a million scenarios.

The commands run with their bytecode written, as pip writes it when it installs a wheel
(this checkout's environment sets ``PYTHONDONTWRITEBYTECODE``, which would add the compiling
of every module to every run): a small batch runs once first, and its start-up, best of five
on one core, is reported as the fixed cost inside every figure.

Memory is the peak resident set size of the whole process tree (the command and its
worker processes), sampled every 50 ms with psutil, next to the sum of every process's own
peak (``VmHWM``, an upper bound) and the largest single process's own peak.

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
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
from _docs import replace_section
from bench_engine import RawEngine, precompute_facts

from therapy_signals import Engine
from therapy_signals.batch import read_scenarios

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SCRIPT = Path(sys.executable).parent / "therapy-signals"
SEED = 7
HEADING = "## Batches"

# The targets of issue 13 ("Batches at column speed").
TARGET_RATE = 100_000.0  # scenarios/s on one core, whole command
TARGET_MILLION_SECONDS = 15.0
TARGET_PEAK_MB = 300.0
TARGET_SPEEDUP = 1.8
PIN = shutil.which("taskset")
# As installed from a wheel: bytecode is written once and read from then on.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
STARTUP_N = 100


@dataclass
class Run:
    label: str
    seconds: float
    peak_tree: int  # bytes: the largest sum of RSS over the process tree seen by the sampler
    peak_bound: int  # bytes: the sum of every process's own peak (VmHWM), an upper bound of the tree's peak
    peak_single: int  # bytes: the largest single process's own peak (VmHWM, as last sampled)
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


def command(label: str, *args: str | Path, manifest: Path | None = None, pin: bool = False) -> Run:
    """Run ``therapy-signals`` with ``args`` (on core 0 alone with ``pin``); wall time, and peak
    memory of its process tree."""
    prefix = [PIN, "-c", "0"] if pin and PIN else []
    start = time.perf_counter()
    child = subprocess.Popen([*prefix, str(SCRIPT), *map(str, args), "-q"], stdout=subprocess.DEVNULL, env=ENV)
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
    # Not wait4's ru_maxrss: Linux carries the forking process's own high-water mark through
    # exec into the child's, so it reported this benchmark's size, not the command's.
    del usage
    single = max(marks.values(), default=0)
    data = json.loads(manifest.read_text()) if manifest is not None else {}
    return Run(label, seconds, peak, max(sum(marks.values()), peak), single, data)


def raw_durable(scenarios: Path, n: int) -> tuple[float, int, int]:
    """Seconds raw durable_rules spends asserting (and deleting) the first ``n`` scenarios' facts,
    computed outside the timed loop; and how many fired the same rules as the Engine."""
    engine = Engine()
    raw = RawEngine(engine.ruleset)
    given = []
    for scenario in read_scenarios(scenarios):
        given.append(scenario)
        if len(given) == n:
            break
    facts = precompute_facts(engine, given)
    agree = sum(raw.fired_for(dict(fact)) == engine.fired(s) for s, fact in zip(given[:2000], facts, strict=False))
    start = time.perf_counter()
    for fact in facts:
        raw.run(fact)
    return time.perf_counter() - start, len(facts), agree


def mb(value: int) -> float:
    return value / (1024 * 1024)


def _batch(label: str, source: Path, out: Path, *options: str, pin: bool = False) -> Run:
    return command(label, "batch", source, "-o", out, *options, manifest=Path(f"{out}.manifest.json"), pin=pin)


def _same(*files: Path) -> bool:
    first = files[0].read_bytes()
    return all(f.read_bytes() == first for f in files[1:])


def figures(n: int, stream_n: int, work: Path, rounds: int, raw_n: int) -> dict[str, Any]:
    results: dict[str, Any] = {"n": n, "stream_n": stream_n, "rounds": rounds, "load_before": os.getloadavg()[0]}
    scenarios = work / "scenarios.jsonl"
    print(f"generating {n:,} scenarios ...", flush=True)
    results["generate"] = command(
        "generate",
        *("generate", "--design", "random", "--n", str(n), "--seed", str(SEED), "-o", scenarios),
        manifest=Path(f"{scenarios}.manifest.json"),
    )
    small = work / "small.jsonl"
    with scenarios.open("rb") as source:
        small.write_bytes(b"".join(line for _, line in zip(range(STARTUP_N), source, strict=False)))
    _batch("bytecode", small, work / "small.parquet")  # writes the bytecode, as pip does
    print(f"start-up: {STARTUP_N} scenarios on one core, five times ...", flush=True)
    results["startup"] = [_batch("start-up", small, work / "small.parquet", pin=True) for _ in range(5)]
    runs: dict[str, list[Run]] = {"columnar": [], "columnar-2": [], "durable": []}
    for round_number in range(1, rounds + 1):
        # Interleaved, so that a machine that speeds up or slows down meanwhile hits both alike.
        print(f"round {round_number}: columnar on one core, then two workers ...", flush=True)
        runs["columnar"].append(
            _batch("columnar, one core", scenarios, work / "columnar.parquet", "--engine", "columnar", pin=True)
        )
        runs["columnar-2"].append(
            _batch(
                "columnar, 2 workers", scenarios, work / "columnar-2.parquet", "--engine", "columnar", "--workers", "2"
            )
        )
    print("the same scenarios as Parquet and as CSV, on one core ...", flush=True)
    results["formats"] = {}
    for suffix in ("parquet", "csv"):
        source = work / f"scenarios.{suffix}"
        command(
            f"convert to {suffix}", "generate", "--design", "random", "--n", str(n), "--seed", str(SEED), "-o", source
        )
        results["formats"][suffix] = _batch(
            f"columnar, one core, {suffix.upper() if suffix == 'csv' else 'Parquet'} in",
            source,
            work / f"from-{suffix}.parquet",
            pin=True,
        )
    print("durable_rules on one core ...", flush=True)
    runs["durable"].append(
        _batch("durable_rules, one core", scenarios, work / "durable.parquet", "--engine", "durable", pin=True)
    )
    results["runs"] = runs
    results["identical"] = _same(work / "columnar.parquet", work / "durable.parquet", work / "columnar-2.parquet")
    results["formats_identical"] = _same(
        work / "columnar.parquet", *(work / f"from-{s}.parquet" for s in ("parquet", "csv"))
    )
    print("--verify 2,000 ...", flush=True)
    verified = _batch("verify", scenarios, work / "verified.parquet", "--verify", "2000", pin=True)
    results["verify"] = verified.manifest.get("verify")
    results["verify_run"] = verified
    print(f"raw durable_rules on {raw_n:,} of the same facts ...", flush=True)
    results["raw"] = raw_durable(scenarios, raw_n)
    results["levels"] = runs["columnar"][0].manifest["counts"]["levels"]
    results["load_after_batches"] = os.getloadavg()[0]
    if stream_n:
        big = work / "million.jsonl"
        print(f"generating {stream_n:,} scenarios ...", flush=True)
        results["stream_generate"] = command(
            f"`therapy-signals generate --design random --n {stream_n:,} --seed 7 -o million.jsonl`",
            *("generate", "--design", "random", "--n", str(stream_n), "--seed", str(SEED), "-o", big),
            manifest=Path(f"{big}.manifest.json"),
        )
        print(f"batch of {stream_n:,} on one core ...", flush=True)
        out = work / "million-columnar.parquet"
        results["stream_batch"] = _batch(
            "`taskset -c 0 therapy-signals batch million.jsonl -o results.parquet`", big, out, pin=True
        )
        print(f"the same {stream_n:,} on two workers ...", flush=True)
        results["stream_two"] = _batch(
            "`therapy-signals batch million.jsonl -o results.parquet --workers 2`",
            big,
            work / "million-columnar-2.parquet",
            "--workers",
            "2",
        )
        print(f"the same {stream_n:,} on durable_rules, two workers, to compare ...", flush=True)
        other = work / "million-durable.parquet"
        results["stream_durable"] = _batch(
            "`therapy-signals batch million.jsonl -o results.parquet --engine durable --workers 2`",
            big,
            other,
            "--engine",
            "durable",
            "--workers",
            "2",
        )
        results["stream_identical"] = _same(out, other, work / "million-columnar-2.parquet")
        results["stream_sizes"] = (big.stat().st_size, out.stat().st_size)
    results["load_after"] = os.getloadavg()[0]
    return results


def section(results: dict[str, Any]) -> str:
    n = results["n"]
    rounds = results["rounds"]
    runs: dict[str, list[Run]] = results["runs"]
    raw_seconds, raw_count, agree = results["raw"]
    raw_rate = raw_count / raw_seconds
    best = {name: min(r.seconds for r in found) for name, found in runs.items()}
    rate = {name: n / seconds for name, seconds in best.items()}
    speedup = best["columnar"] / best["columnar-2"]
    first = runs["columnar"][0].manifest
    levels = ", ".join(f"{level} {count:,}" for level, count in results["levels"].items())
    verify = results["verify"] or {}
    lines = [
        HEADING,
        "",
        "Measured by `benchmarks/bench_batch.py` (`make bench-batch`; `--write` rewrites this section "
        "only). Everything runs through the installed `therapy-signals` command, as a researcher runs "
        "it, on a random design (`generate --design random --seed 7`: one to five distinct signals per "
        "scenario from the whole vocabulary, each context field given with probability 0.5), JSONL in "
        "and Parquet out, in chunks of the default size. Times are wall-clock for the whole command, "
        "start-up included; one-core runs are pinned to one core with `taskset -c 0`. The raw baseline "
        "asserts the very facts the Engine asserts for the same scenarios on a plain durable_rules "
        "Host, in one process, with the facts computed outside the timed part: what durable_rules "
        "alone costs, without reading, validating, resolving or writing anything. This machine's "
        "speed drifts from minute to minute (others work on it), so the columnar runs take turns, "
        f"{rounds} rounds, and the best of each is shown.",
        "",
        f"Rule base {first['rulebook']['name']} {first['rulebook']['version']} "
        f"({first['rulebook']['hash'][:12]}). {n:,} scenarios; overall levels: {levels}. "
        f"Raw durable_rules fired the same rules as the Engine for {agree:,}/{min(2000, raw_count):,} "
        "scenarios checked. Outputs of the columnar backend (one core and two workers) and of "
        f"durable_rules byte-identical: **{'yes' if results['identical'] else 'NO'}**. "
        f"`--verify 2000`: {verify.get('rows', 0):,} rows re-run on {verify.get('backend', '?')}, "
        f"{verify.get('differences', '?')} differences.",
        "",
        "| Machine | |",
        "|---|---|",
        f"| Python | {platform.python_implementation()} {platform.python_version()} |",
        f"| CPU | os.cpu_count() = {os.cpu_count()} |",
        f"| Packages | therapy-signals {version('therapy-signals')}, durable-rules {version('durable-rules')}, "
        f"numpy {version('numpy')}, pyarrow {version('pyarrow')}, dask {version('dask')} |",
        f"| Load average (1 min) before / after the batches | {results['load_before']:.2f} / "
        f"{results['load_after_batches']:.2f} |",
        "",
        f"| {n:,} scenarios | "
        + " | ".join(f"round {i} (s)" for i in range(1, rounds + 1))
        + " | scenarios/s (best) | x raw durable_rules | peak RSS, whole tree |",
        "|---|" + "---:|" * (rounds + 3),
        f"| raw durable_rules: assert fact + delete state ({raw_count:,} facts, one process) | "
        + " | ".join("-" for _ in range(rounds))
        + f" | {raw_rate:,.0f} | 1.00 | - |",
    ]
    for name in ("durable", "columnar", "columnar-2"):
        found = runs[name]
        times = [f"{r.seconds:,.1f}" for r in found] + ["-"] * (rounds - len(found))
        peak = max(r.peak_bound for r in found)
        lines.append(
            f"| {found[0].label} | "
            + " | ".join(times)
            + f" | {rate[name]:,.0f} | {rate[name] / raw_rate:.2f} | {mb(peak):,.0f} MiB |"
        )
    for run in results["formats"].values():
        lines.append(
            f"| {run.label} | {run.seconds:,.1f} |" + " - |" * (rounds - 1) + f" {run.rate(n):,.0f} | "
            f"{run.rate(n) / raw_rate:.2f} | {mb(run.peak_bound):,.0f} MiB |"
        )
    startup = min(r.seconds for r in results["startup"])
    after = n / (best["columnar"] - startup)
    lines += [
        "",
        f"The columnar backend on one core: **{rate['columnar'] / rate['durable']:.1f}x** durable_rules "
        f"on one core. Two workers: **{speedup:.2f}x** one (best rounds; the machine has two cores, "
        "which the workers share with the main process: reading, writing, checkpointing). Generating "
        f"the set took {results['generate'].seconds:,.1f} s. The same scenarios read from Parquet (its "
        "rows go straight into columns) and from CSV (rows grouped into scenarios in Python, then into columns) give "
        f"byte-identical results: **{'yes' if results['formats_identical'] else 'NO'}**.",
        "",
        f"Start-up is in every figure: the same command on {STARTUP_N} scenarios takes "
        f"**{startup:.2f} s** on one core (best of five: imports, the rule base loaded and checked, the "
        "Engine built, the input hashed and counted, the output merged). Without it, one core runs the "
        f"{n:,} scenarios at {after:,.0f}/s. Two workers share the start-up, which is why their "
        "speed-up grows with the batch (the million below).",
        "",
    ]
    targets = [
        (
            f"{n:,} scenarios, JSONL to Parquet, one core: at least 100,000/s",
            f"{rate['columnar']:,.0f}/s",
            rate["columnar"] >= TARGET_RATE,
        ),
        ("2 workers at least 1.8x one", f"{speedup:.2f}x", speedup >= TARGET_SPEEDUP),
        (
            "byte-identical outputs between backends and worker counts",
            "yes" if results["identical"] else "no",
            bool(results["identical"]),
        ),
        ("`--verify` clean", f"{verify.get('differences', '?')} differences", verify.get("differences") == 0),
    ]
    if "stream_batch" in results:
        stream_n = results["stream_n"]
        gen_big, batch_big, durable_big = results["stream_generate"], results["stream_batch"], results["stream_durable"]
        two_big = results["stream_two"]
        sizes = results["stream_sizes"]
        lines += [
            f"| {stream_n:,} scenarios, streamed | seconds | scenarios/s | whole tree, sampled | "
            "whole tree, upper bound | largest process |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for run in (gen_big, batch_big, two_big, durable_big):
            lines.append(
                f"| {run.label} | {run.seconds:,.1f} | {run.rate(stream_n):,.0f} | {mb(run.peak_tree):,.0f} MiB | "
                f"{mb(run.peak_bound):,.0f} MiB | {mb(run.peak_single):,.0f} MiB |"
            )
        lines += [
            "",
            f"The scenario file is {sizes[0] / 1e6:,.0f} MB and the results {sizes[1] / 1e6:,.0f} MB "
            "(Parquet, zstd). The million results of the columnar backend (one core and two workers) and "
            f"of durable_rules are byte-identical: **{'yes' if results['stream_identical'] else 'NO'}**. "
            f"On the million, two workers are **{batch_big.seconds / two_big.seconds:.2f}x** one core "
            "(one run each; not a target row, which is the 200,000 above). Memory stays flat because "
            "nothing holds more than a few chunks: the reader yields one chunk of lines at a time, at most "
            "two chunks per worker are in flight, results go to one part file per chunk, and the parts are "
            "merged one at a time at the end.",
            "",
        ]
        targets += [
            (
                f"{stream_n:,} scenarios on one core in under 15 s",
                f"{batch_big.seconds:,.1f} s",
                batch_big.seconds < TARGET_MILLION_SECONDS,
            ),
            (
                f"{stream_n:,} scenarios streamed with peak memory under 300 MB (upper bound)",
                f"{batch_big.peak_bound / 1e6:,.0f} MB",
                batch_big.peak_bound < TARGET_PEAK_MB * 1e6,
            ),
            (
                f"{stream_n:,} scenarios byte-identical on both backends",
                "yes" if results["stream_identical"] else "no",
                bool(results["stream_identical"]),
            ),
        ]
    lines += ["| Target | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in targets]
    lines += [
        "",
        f"Measured {datetime.date.today().isoformat()}. No test asserts a timing; the test suite checks "
        "instead that both backends write the same bytes, whatever the worker count, and that streaming "
        "works on an endless input.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="scenarios for the throughput runs")
    parser.add_argument("--stream-n", type=int, default=1_000_000, help="scenarios streamed (0: skip)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the columnar runs")
    parser.add_argument("--raw-n", type=int, default=50_000, help="facts for the raw durable_rules baseline")
    parser.add_argument("--write", action="store_true", help=f"rewrite the Batches section of {DOC.name}")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = figures(args.n, args.stream_n, args.keep, args.rounds, args.raw_n)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
            results = figures(args.n, args.stream_n, Path(folder), args.rounds, args.raw_n)
    text = section(results)
    print()
    print(text)
    if args.write:
        DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), HEADING, text), encoding="utf-8")
        print(f"wrote the Batches section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
