"""Benchmark: explain and batch before and after the hardening (issue 10), in one run.

    .venv/bin/python benchmarks/bench_hardening.py           # print the figures
    .venv/bin/python benchmarks/bench_hardening.py --write   # ...and rewrite its section of docs/performance.md

The commit before the hardening (``--before``, default 8de937b) is checked out into a
temporary git worktree, and the same seeded scenarios are timed in fresh processes of each
tree in turn, ``--rounds`` times, alternating, so that drift of the machine falls on both
alike. Each process measures, per scenario, ``Engine.explain`` on a dict with rendering,
on JSON text (the strict parser's path), and without rendering, each the fastest of five
passes (as timeit reports: the machine only ever adds time); then a whole in-process
``run_batch`` of a JSONL file of the same scenarios to JSONL, the faster of two. The
figures are medians of the rounds. Both trees use this checkout's virtualenv, so only the library differs.

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _docs import replace_section

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Before and after hardening"
BEFORE = "8de937b"
SEED = 11

_FIELDS = {
    "frequency": ["once", "occasionally", "often", "constantly"],
    "duration": ["days", "weeks", "months", "years"],
    "impact": ["none", "mild", "moderate", "severe"],
    "initiated_by": ["client", "therapist", "mutual"],
    "where": ["in_session", "outside_session", "online"],
    "response": ["repaired", "adjusted", "dismissed", "defensive", "retaliated"],
}

# Runs inside each tree's process: argv is the scenarios file and a scratch folder.
_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
t0 = time.perf_counter()
from therapy_signals import Engine
from therapy_signals.batch import run_batch
engine = Engine()
start = time.perf_counter() - t0
source, scratch = Path(sys.argv[1]), Path(sys.argv[2])
lines = source.read_text().splitlines()
dicts = [json.loads(line) for line in lines]
def per(call, items):
    # The fastest of five passes, as timeit reports: the machine only ever adds time.
    passes = []
    for _ in range(5):
        t = time.perf_counter()
        for item in items:
            call(item)
        passes.append((time.perf_counter() - t) / len(items))
    return min(passes) * 1e6
for item in dicts[:200]:
    engine.explain(item)  # warm the template caches
sample = dicts[:1500]
out = {
    "start_s": start,
    "explain_us": per(engine.explain, sample),
    "explain_json_us": per(engine.explain, lines[:1500]),
    "no_render_us": per(lambda d: engine.explain(d, render=False), sample),
}
best = 0.0
for attempt in range(2):
    t = time.perf_counter()
    run = run_batch(str(source), str(scratch / f"out{attempt}.jsonl"), engine=engine)
    run.complete()
    best = max(best, len(lines) / (time.perf_counter() - t))
out["batch_per_s"] = best
print(json.dumps(out))
"""


def scenarios(count: int, signals: list[str]) -> list[dict[str, Any]]:
    """Seeded scenarios of five distinct signals, each context field given half the time."""
    rng = random.Random(SEED)
    found = []
    for number in range(count):
        observations = []
        for signal in rng.sample(signals, 5):
            item: dict[str, Any] = {"signal": signal}
            for name, values in _FIELDS.items():
                if rng.random() < 0.5:
                    item[name] = rng.choice(values)
            if rng.random() < 0.2:
                item["months_after_ending"] = rng.randint(0, 80)
            observations.append(item)
        found.append({"id": f"s{number}", "sessions": rng.randint(0, 40), "observations": observations})
    return found


def _tree_env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree / "src"), "THERAPY_SIGNALS_RULES": str(tree / "rules")}


def _measure(tree: Path, source: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(source), scratch],
            env=_tree_env(tree),
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from therapy_signals import load_rulebook

    signals = sorted(load_rulebook().signals)
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(before), args.before], cwd=ROOT, check=True)
        try:
            source = Path(scratch) / "scenarios.jsonl"
            source.write_text("".join(json.dumps(s) + "\n" for s in scenarios(args.scenarios, signals)))
            rounds: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for number in range(args.rounds):
                for name, tree in (("before", before), ("after", ROOT))[:: 1 if number % 2 == 0 else -1]:
                    rounds[name].append(_measure(tree, source))
                    if not args.quiet:
                        print(f"round {number + 1} {name}: {rounds[name][-1]}", file=sys.stderr)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=True)
    medians = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in rounds.items()}
    return {"medians": medians, "rounds": rounds, "args": vars(args)}


_ROWS = [
    ("explain_us", "`explain` with rendering, a dict", "µs", "{:,.0f}"),
    ("explain_json_us", "`explain` of JSON text (strict parser)", "µs", "{:,.0f}"),
    ("no_render_us", "`explain(render=False)`", "µs", "{:,.0f}"),
    ("batch_per_s", "`run_batch`, JSONL to JSONL, one process", "scenarios/s", "{:,.0f}"),
    ("start_s", "import and `Engine()`", "s", "{:.2f}"),
]


def report(results: dict[str, Any]) -> str:
    before, after = results["medians"]["before"], results["medians"]["after"]
    lines = ["| what | before | after | after / before |", "| --- | --- | --- | --- |"]
    for key, what, unit, fmt in _ROWS:
        ratio = after[key] / before[key]
        lines.append(f"| {what} | {fmt.format(before[key])} {unit} | {fmt.format(after[key])} {unit} | {ratio:.2f} |")
    spread = []
    for key, what, _, fmt in _ROWS[:4]:
        values = {name: [fmt.format(r[key]) for r in runs] for name, runs in results["rounds"].items()}
        spread.append(f"- {what}: before {', '.join(values['before'])}; after {', '.join(values['after'])}")
    return "\n".join(lines) + "\n\nEach round, in order:\n\n" + "\n".join(spread)


def section(results: dict[str, Any]) -> str:
    args = results["args"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"""{SECTION}

Written by `benchmarks/bench_hardening.py --write` on {datetime.date.today().isoformat()}: the commit before
the hardening of issue 10 (`{args["before"]}`) and this tree, each timed in fresh processes
on the same seeded five-observation scenarios, {args["rounds"]} rounds alternating between the
trees; the figures are the medians of the rounds. In each round, `explain` is the fastest of
five passes over 1,500 scenarios, and `run_batch` the faster of two runs over {args["scenarios"]:,}.
CPython {platform.python_version()}, load average before the run {load}. The hardening added
strict JSON, the template budget, the bound on rules fired per fact, and the safety
floor (which runs only with packs, so not here).

{report(results)}

The shared machine drifts between runs; a ratio within about ten percent of 1 is noise
here. To reproduce: `.venv/bin/python benchmarks/bench_hardening.py`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--scenarios", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--write", action="store_true", help=f"rewrite its section of {DOC.relative_to(ROOT)}")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    results = measure(args)
    print(report(results))
    if args.write:
        DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), SECTION, section(results)), encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
