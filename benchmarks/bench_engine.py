"""Benchmark: raw durable_rules against ``Engine.explain`` on the same facts, in one run.

    .venv/bin/python benchmarks/bench_engine.py            # print the figures (make bench)
    .venv/bin/python benchmarks/bench_engine.py --write    # ...and rewrite docs/performance.md
    .venv/bin/python benchmarks/bench_engine.py --profile  # ...and print where explain spends

One Engine, a fixed seeded set of five-observation scenarios drawn from whatever signals the
rule base has, and the exact facts the engine asserts for them. The raw baseline asserts those
facts on a second durable_rules Host compiled from the same ruleset, so the ratio
explain/raw is the cost of everything therapy-signals adds around durable_rules. Methods are
interleaved round by round so that drift of the machine hits all of them alike.

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import datetime
import gc
import io
import itertools
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import durable.engine

import therapy_signals
from therapy_signals import Engine, Observation, Scenario, Setting
from therapy_signals.engine._compile import ALWAYS
from therapy_signals.engine._evaluate import count_distinct
from therapy_signals.engine._facts import encode, to_fact
from therapy_signals.model import Duration, Frequency, Impact, Initiator, Response, Where

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SEED = 7
PER_SCENARIO = 5

# The targets of issue 2 ("Speed").
TARGET_RATIO = 2.0  # explain(render=False) / raw durable_rules, medians
TARGET_RENDER_US = 1000.0  # explain(render=True) median, microseconds
TARGET_IMPORT_S = 0.3  # `import therapy_signals`
# RSS growth between the checkpoint after the first 10,000 explains and the last one that
# still counts as flat: a leaked durable_rules state per scenario would be kilobytes a call.
FLAT_BYTES = 2 * 1024 * 1024


# -- workload ---------------------------------------------------------------------------------


def _maybe(rng: random.Random, choices: Sequence[Any], given: float = 0.6) -> Any:
    return rng.choice(choices) if rng.random() < given else None


def make_scenarios(signals: Sequence[str], count: int, seed: int = SEED) -> list[Scenario]:
    """``count`` scenarios of five distinct signals each, with random context, reproducibly."""
    rng = random.Random(seed)
    pool = sorted(signals)
    scenarios = []
    for number in range(count):
        observations = []
        for signal in rng.sample(pool, min(PER_SCENARIO, len(pool))):
            raised = _maybe(rng, [True, False])
            response = _maybe(rng, list(Response), 0.5) if raised is not False else None
            observations.append(
                Observation(
                    signal=signal,
                    frequency=_maybe(rng, list(Frequency)),
                    duration=_maybe(rng, list(Duration)),
                    initiated_by=_maybe(rng, list(Initiator)),
                    where=_maybe(rng, list(Where)),
                    raised=raised,
                    response=response,
                    impact=_maybe(rng, list(Impact)),
                    months_after_ending=rng.randint(0, 36) if rng.random() < 0.1 else None,
                    note="It happened again <b>last week</b>." if rng.random() < 0.2 else None,
                )
            )
        scenarios.append(
            Scenario(
                id=f"bench-{number}",
                setting=rng.choice(list(Setting)),
                sessions=rng.randint(1, 80) if rng.random() < 0.7 else None,
                observations=observations,
            )
        )
    return scenarios


def precompute_facts(engine: Engine, scenarios: Sequence[Scenario]) -> list[dict[str, Any]]:
    """The facts exactly as the engine asserts them (its sid is set per call)."""
    facts = []
    matches = list(engine.rulebook.count_matches())
    for scenario in scenarios:
        encoded = encode(engine.validate(scenario), engine._categories)
        counts = {key: count_distinct(match, encoded) for key, match in matches}
        facts.append(to_fact(encoded, "", counts))
    return facts


# -- the raw durable_rules baseline -----------------------------------------------------------


class _RawHost(durable.engine.Host):
    """A plain Host: no timer threads, every action appends the rule name to a list."""

    def __init__(self, fired: list[str]) -> None:
        self.fired = fired
        super().__init__()

    def _run(self) -> None:
        pass

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        fired = self.fired

        def record(_closure: Any) -> None:
            fired.append(action_name)

        return record


_raw_names = itertools.count()


class RawEngine:
    """durable_rules alone, compiled from a copy of the Engine's own ruleset."""

    def __init__(self, ruleset: dict[str, Any]) -> None:
        self.name = f"bench_raw_{next(_raw_names)}"  # durable_rules wants unique names
        self.fired: list[str] = []
        self.host = _RawHost(self.fired)
        self.host.set_rulesets({self.name: copy.deepcopy(ruleset)})
        self._sids = itertools.count()
        self.last_sid = ""

    def run(self, fact: dict[str, Any]) -> None:
        """Assert one precomputed fact under a fresh sid, then delete that sid's state."""
        sid = str(next(self._sids))
        fact["sid"] = sid
        self.fired.clear()
        try:  # noqa: SIM105 - the same try/except as the Engine's backend, no context manager
            self.host.assert_fact(self.name, fact)
        except durable.engine.MessageNotHandledException:
            pass
        self.host.delete_state(self.name, sid)
        self.last_sid = sid

    def fired_for(self, fact: dict[str, Any]) -> frozenset[str]:
        """Rule ids fired, less the guard rule every fact fires (the Engine never reports it)."""
        self.run(fact)
        return frozenset(self.fired) - {ALWAYS}

    def facts_held(self, sid: str) -> int:
        try:
            return len(self.host.get_facts(self.name, sid))
        except Exception:
            return 0


# -- timing -----------------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    samples: list[int] = field(default_factory=list)  # nanoseconds per call

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples) / 1000

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000

    @property
    def mean_us(self) -> float:
        return statistics.fmean(self.samples) / 1000


def time_calls(fn: Callable[[Any], Any], items: Sequence[Any], into: Timing) -> None:
    clock = time.perf_counter_ns
    samples = into.samples
    for item in items:
        start = clock()
        fn(item)
        samples.append(clock() - start)


def engine_state_left(engine: Engine) -> int | None:
    """Facts durable_rules still holds under the Engine's most recent sid (None: can't tell)."""
    backend = getattr(engine, "_backend", None)
    sids = getattr(backend, "_sids", None)
    if backend is None or sids is None or not hasattr(backend, "state_size"):
        return None
    return int(backend.state_size(str(next(sids) - 1)))  # the counter's last handed-out sid


def rss_bytes() -> int:
    """Resident set size now (Linux); elsewhere the peak, which can only over-report growth."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, check=True)


def import_seconds(repeats: int = 7) -> tuple[float, float, float]:
    """Median wall time of `import therapy_signals` in a fresh interpreter, minus startup."""
    run_python("import therapy_signals")  # warm the bytecode cache
    bare: list[float] = []
    full: list[float] = []
    for _ in range(repeats):
        for code, into in (("pass", bare), ("import therapy_signals", full)):
            start = time.perf_counter()
            run_python(code)
            into.append(time.perf_counter() - start)
    return (
        statistics.median(full) - statistics.median(bare),
        statistics.median(full),
        statistics.median(bare),
    )


def import_breakdown(top: int = 6) -> list[tuple[str, float]]:
    """`-X importtime` self time summed by top-level package, largest first (seconds)."""
    lines = run_python("import therapy_signals", "-X", "importtime").stderr.splitlines()
    by_package: Counter[str] = Counter()
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, _, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
        by_package[name.split(".")[0]] += int(self_us)
    return [(name, us / 1e6) for name, us in by_package.most_common(top)]


def engine_build_seconds(rules: str | None, repeats: int = 3) -> tuple[float, float]:
    """(first Engine in a fresh interpreter, median of later builds in that interpreter)."""
    code = (
        "import sys, time, therapy_signals\n"
        "rules = sys.argv[1] or None\n"
        "times = []\n"
        f"for _ in range({1 + repeats}):\n"
        "    start = time.perf_counter(); therapy_signals.Engine(rules)\n"
        "    times.append(time.perf_counter() - start)\n"
        "print(' '.join(map(str, times)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, rules or ""], capture_output=True, text=True, check=True
    ).stdout.split()
    times = [float(t) for t in out]
    return times[0], statistics.median(times[1:])


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    timings: dict[str, Timing]
    scenarios: int
    rounds: int
    rules: int
    signals: int
    fired_mean: float
    findings_mean: float
    superseded_mean: float
    levels: Counter[str]
    agree: int
    import_s: float
    import_full_s: float
    python_s: float
    import_top: list[tuple[str, float]]
    build_first_s: float
    build_again_s: float
    rss_checkpoints: list[tuple[int, int]]
    traced_peak: int
    traced_growth: int
    traced_calls: int
    engine_state_left: int | None
    raw_state_left: int
    raw_state_before_delete: int
    rulebook: str
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after timing

    @property
    def ratio(self) -> float:
        return self.timings["explain"].median_us / self.timings["raw"].median_us

    @property
    def rss_growth(self) -> int:
        return self.rss_checkpoints[-1][1] - self.rss_checkpoints[1][1]


def measure(args: argparse.Namespace) -> Results:
    began = time.perf_counter()

    def say(text: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - began:5.1f} s] {text}")

    say("import time (subprocesses)...")
    import_s, import_full_s, python_s = import_seconds()
    import_top = import_breakdown()
    build_first_s, build_again_s = engine_build_seconds(args.rules)

    say("building the Engine, the scenarios and their facts...")
    engine = Engine(args.rules)
    book = engine.rulebook
    scenarios = make_scenarios(list(book.signals), args.scenarios)
    facts = precompute_facts(engine, scenarios)
    raw = RawEngine(engine.ruleset)
    # durable_rules 2.0.28 leaves a new state node's context uninitialised, and delete_state
    # frees it: if the very first fact a ruleset sees fires nothing, that free can crash the
    # process. So the raw Host's first fact is one the Engine says fires a rule.
    primer = next((f for f, s in zip(facts, scenarios, strict=True) if engine.fired(s)), None)
    if primer is not None:
        raw.run(primer)
    load_before = _load()

    # Same facts, same rules: durable_rules alone must fire what the Engine fires.
    say("checking that durable_rules alone fires what the Engine fires...")
    fired = [engine.fired(s) for s in scenarios]
    agree = sum(raw.fired_for(f) == e for f, e in zip(facts, fired, strict=True))
    fired_mean = statistics.fmean(len(e) for e in fired)

    guidances = [engine.explain(s) for s in scenarios]
    findings_mean = statistics.fmean(len(g.findings) for g in guidances)
    superseded_mean = statistics.fmean(len(g.superseded) for g in guidances)
    levels = Counter(g.level.value for g in guidances)

    methods: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]] = {
        "raw": (raw.run, facts),
        "fired": (engine.fired, scenarios),
        "explain": (lambda s: engine.explain(s, render=False), scenarios),
        "explain_render": (engine.explain, scenarios),
        "to_text": (lambda g: g.to_text(), guidances),
    }
    timings = {name: Timing(name) for name in methods}
    warm = max(1, len(scenarios) // 10)
    for fn, items in methods.values():
        for item in items[:warm]:
            fn(item)
    for round_number in range(args.rounds):
        say(f"timing round {round_number + 1}/{args.rounds}...")
        for name, (fn, items) in methods.items():
            gc.collect()
            time_calls(fn, items, timings[name])

    say(f"memory: {args.memory_calls:,} explains (render=False)...")
    gc.collect()
    checkpoints = [(0, rss_bytes())]
    step = max(1, args.memory_calls // 5)
    cycle = itertools.cycle(scenarios)
    for done in range(1, args.memory_calls + 1):
        engine.explain(next(cycle), render=False)
        if done % step == 0:
            gc.collect()
            checkpoints.append((done, rss_bytes()))

    say(f"tracemalloc: {args.traced_calls:,} explains (render=False)...")
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in range(args.traced_calls):
        engine.explain(next(cycle), render=False)
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # The most recent sid of each backend holds nothing; a sid left undeleted would.
    engine.explain(scenarios[0], render=False)
    engine_left = engine_state_left(engine)
    raw.run(facts[0])
    raw_left = raw.facts_held(raw.last_sid)
    probe = dict(facts[0], sid="undeleted-probe")
    with contextlib.suppress(durable.engine.MessageNotHandledException):
        raw.host.assert_fact(raw.name, probe)
    before_delete = raw.facts_held("undeleted-probe")
    raw.host.delete_state(raw.name, "undeleted-probe")

    return Results(
        timings=timings,
        scenarios=len(scenarios),
        rounds=args.rounds,
        rules=len(book.rules),
        signals=len(book.signals),
        fired_mean=fired_mean,
        findings_mean=findings_mean,
        superseded_mean=superseded_mean,
        levels=levels,
        agree=agree,
        import_s=import_s,
        import_full_s=import_full_s,
        python_s=python_s,
        import_top=import_top,
        build_first_s=build_first_s,
        build_again_s=build_again_s,
        rss_checkpoints=checkpoints,
        traced_peak=peak - base,
        traced_growth=current - base,
        traced_calls=args.traced_calls,
        engine_state_left=engine_left,
        raw_state_left=raw_left,
        raw_state_before_delete=before_delete,
        rulebook=f"{book.name} {book.version} ({book.content_hash[:12]})",
        seconds=time.perf_counter() - began,
        load=(load_before, _load()),
    )


def profile(args: argparse.Namespace, top: int = 25) -> str:
    """cProfile of explain(render=True) over the scenarios: the top functions by own time."""
    engine = Engine(args.rules)
    scenarios = make_scenarios(list(engine.rulebook.signals), args.scenarios)
    for scenario in scenarios[:100]:
        engine.explain(scenario)
    profiler = cProfile.Profile()
    profiler.enable()
    for scenario in scenarios:
        engine.explain(scenario)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- reporting --------------------------------------------------------------------------------


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Platform", platform.platform()),
        ("CPU", f"{cpu}; os.cpu_count() = {os.cpu_count()}"),
        (
            "Packages",
            f"therapy-signals {therapy_signals.__version__}, "
            f"durable-rules {_pkg('durable-rules')}, pydantic {_pkg('pydantic')}, "
            f"jinja2 {_pkg('jinja2')}",
        ),
    ]


def _left(n: int | None) -> str:
    return "n/a" if n is None else str(n)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:+.2f} MiB" if n else "+0.00 MiB"


LABELS = {
    "raw": "raw durable_rules: assert fact + delete state",
    "fired": "`Engine.fired(scenario)`",
    "explain": "`Engine.explain(scenario, render=False)`",
    "explain_render": "`Engine.explain(scenario)` (render=True)",
    "to_text": "`guidance.to_text()`",
}


def tables(r: Results) -> str:
    t = r.timings
    raw = t["raw"].median_us
    lines = [
        "| Per five-observation scenario | median (µs) | p99 (µs) | mean (µs) | x raw (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in LABELS.items():
        x = t[name]
        lines.append(f"| {label} | {x.median_us:,.1f} | {x.p99_us:,.1f} | {x.mean_us:,.1f} | {x.median_us / raw:.2f} |")
    lines += [
        "",
        "| Once per process | seconds |",
        "|---|---:|",
        f"| `import therapy_signals` (fresh interpreter, minus `python -c pass`) | {r.import_s:.3f} |",
        "| first `Engine()` in a fresh interpreter, after the import (load and check the rules, "
        f"compile, register with durable_rules) | {r.build_first_s:.3f} |",
        f"| a later `Engine()` in the same process | {r.build_again_s:.3f} |",
        "",
        "| Memory | value |",
        "|---|---:|",
    ]
    first, *rest = r.rss_checkpoints
    lines.append(f"| RSS before the explain loop | {first[1] / 1024 / 1024:.1f} MiB |")
    lines += [f"| RSS after {n:,} explains | {rss / 1024 / 1024:.1f} MiB ({_mib(rss - first[1])}) |" for n, rss in rest]
    lines += [
        f"| tracemalloc peak over {r.traced_calls:,} explains | {r.traced_peak / 1024:,.0f} KiB |",
        f"| tracemalloc still held after them | {r.traced_growth / 1024:,.1f} KiB |",
        "| facts durable_rules holds under the Engine's last sid / the raw Host's last sid | "
        f"{_left(r.engine_state_left)} / {r.raw_state_left} |",
        "| the same under a sid asserted and not yet deleted (control: the check sees facts) | "
        f"{r.raw_state_before_delete} |",
    ]
    return "\n".join(lines)


def verdicts(r: Results) -> list[tuple[str, str, bool]]:
    render = r.timings["explain_render"].median_us
    checkpoint = r.rss_checkpoints[1][0]
    last = r.rss_checkpoints[-1][0]
    return [
        (
            f"explain without rendering within {TARGET_RATIO:g}x raw durable_rules (medians)",
            f"{r.ratio:.2f}x",
            r.ratio <= TARGET_RATIO,
        ),
        (
            f"explain with rendering under {TARGET_RENDER_US / 1000:g} ms median",
            f"{render / 1000:.3f} ms",
            render < TARGET_RENDER_US,
        ),
        (
            f"`import therapy_signals` under {TARGET_IMPORT_S:g} s",
            f"{r.import_s:.3f} s",
            r.import_s < TARGET_IMPORT_S,
        ),
        (
            f"memory flat: RSS growth from {checkpoint:,} to {last:,} explains under "
            f"{FLAT_BYTES // 1024 // 1024} MiB, no durable_rules state left",
            f"{_mib(r.rss_growth)}; {_left(r.engine_state_left)} facts left",
            r.rss_growth < FLAT_BYTES and not r.engine_state_left,
        ),
    ]


def verdict_table(r: Results) -> str:
    lines = ["| Target | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {what} | {got} | {'yes' if ok else '**no**'} |" for what, got, ok in verdicts(r)]
    return "\n".join(lines)


def breakdown(r: Results) -> str:
    t = {name: x.median_us for name, x in r.timings.items()}
    rows = [
        ("durable_rules: assert and delete (raw)", t["raw"]),
        (
            "validate, encode, counts, lock, fresh sid, less what the leaner action loop saves (fired - raw)",
            t["fired"] - t["raw"],
        ),
        (
            "resolve (Python re-evaluation, supersession) and build Guidance (explain - fired)",
            t["explain"] - t["fired"],
        ),
        (
            "render each finding's explanation (explain render=True - render=False)",
            t["explain_render"] - t["explain"],
        ),
    ]
    lines = ["| Step (difference of medians) | µs | share |", "|---|---:|---:|"]
    total = t["explain_render"]
    lines += [f"| {label} | {us:,.1f} | {us / total:.0%} |" for label, us in rows]
    lines.append(f"| **explain(render=True)** | **{total:,.1f}** | 100% |")
    lines += ["", "`import therapy_signals`, self time by top-level package (`-X importtime`):", ""]
    lines += [f"- {name}: {s * 1000:.0f} ms" for name, s in r.import_top]
    return "\n".join(lines)


def workload(r: Results) -> str:
    levels = ", ".join(f"{name} {n}" for name, n in sorted(r.levels.items(), key=lambda kv: -kv[1]))
    return (
        f"Rule base {r.rulebook}: {r.rules} rules over {r.signals} signals. "
        f"{r.scenarios:,} scenarios of {PER_SCENARIO} distinct random signals each "
        f"(seed {SEED}), each timed {r.rounds} times per method. "
        f"On average {r.fired_mean:.1f} rules fire per scenario, leaving "
        f"{r.findings_mean:.1f} findings and {r.superseded_mean:.1f} superseded. "
        f"Overall levels: {levels}. "
        f"durable_rules alone fired the same rules as the Engine for {r.agree:,}/{r.scenarios:,} "
        "scenarios."
    )


def machine_table(r: Results) -> str:
    rows = [
        *machine(),
        ("Load average (1 min) before / after", f"{r.load[0]:.2f} / {r.load[1]:.2f}"),
    ]
    return "\n".join(["| Machine | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def report(r: Results) -> str:
    return "\n\n".join(
        [
            machine_table(r),
            workload(r),
            tables(r),
            verdict_table(r),
            breakdown(r),
            f"(whole run: {r.seconds:.0f} s)",
        ]
    )


def document(r: Results) -> str:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    return f"""# Performance

How fast therapy-signals answers, what that costs on top of the rules engine underneath, and
whether memory stays flat over many calls. These figures are written by the benchmark script
`benchmarks/bench_engine.py` (run on {today}); rerun it to refresh them (see the end).

## What is measured

- **raw durable_rules**: a plain durable_rules `Host` of its own, compiled from a copy of the
  very ruleset the Engine compiled, asserting each scenario's fact under a fresh sid through
  its documented Python API (`Host.assert_fact`, each fired rule's action recording its id)
  and then deleting that sid's state: the rules engine as its users call it, with nothing of
  ours around it.
- **`Engine.fired(scenario)`**: validation, encoding and counts, then the same assert on the
  Engine's own Host under its lock, the fired rules read with durable_rules' C action calls
  rather than its Python action loop ([decision 0008](decisions/0008-serving-latency.md)),
  and the same delete. So `fired` can beat the raw baseline: it does the engine's own
  work with less around it.
- **`Engine.explain(scenario, render=False)`**: all of the above, plus re-evaluating the
  rules that fired in Python (to know *because* of which observations), supersession, and
  building the `Guidance` model.
- **`Engine.explain(scenario)`**: the same with each finding's explanation rendered by Jinja2.
- **`guidance.to_text()`**: laying out an already explained guidance as plain text.
- **Once per process**: `import therapy_signals` in a fresh interpreter, and building an
  `Engine` (loading and checking the rule base, compiling it, registering it with
  durable_rules).
- **Memory**: resident set size across many explains, the Python allocations tracemalloc
  sees, and whether any durable_rules state is left behind.

## How

Everything is measured in one run of one process, on the same inputs. The script builds one
`Engine` over the rule base as it is, and draws a fixed set of scenarios with
`random.Random({SEED})`: five distinct signals taken from the rule base's own vocabulary,
each with random context (frequency, duration, who initiated, where, raised, the
therapist's response, impact, sometimes months after ending and a note) and a random setting
and number of sessions. The facts for the raw baseline are computed exactly as the Engine
computes them before asserting (`_facts.encode(engine.validate(s))` with its counts, then
`_facts.to_fact`), so both sides assert identical facts, and the script checks that both fire
the same rules for every scenario. The Engine is handed ready `Scenario` objects; passing a
dict or JSON text adds Pydantic parsing on top of the figures below.

Each method is warmed up on a tenth of the scenarios, then timed call by call with
`time.perf_counter_ns`; the methods take turns, round by round, so that any drift of the
machine affects them alike. The garbage collector stays on, as it is for a user, so p99
includes its pauses. Memory: RSS from `/proc/self/status` at checkpoints through a long loop
of `explain(render=False)` (a leak of one durable_rules state per scenario would grow it by
kilobytes per call), each after a `gc.collect()`; tracemalloc over a shorter loop (what it
still holds afterwards includes warm caches, not only leaks; durable_rules' own C memory shows
in RSS only); and the number of facts durable_rules still holds under the most recent sid,
which is 0 once the state is deleted, with a control sid left undeleted on purpose.

The machine is not otherwise idle when others work on it: the table gives the load average,
to which this benchmark itself adds about 1.

{workload(r)}

## Results

{machine_table(r)}

{tables(r)}

## Targets

{verdict_table(r)}

## Where the time goes

{breakdown(r)}

For a function-level view, `benchmarks/bench_engine.py --profile` prints a cProfile of
`explain` sorted by own and cumulative time.

## Reproduce

```
make bench                                           # prints the figures
.venv/bin/python benchmarks/bench_engine.py --write  # and rewrites this page
.venv/bin/python benchmarks/bench_engine.py --help   # sizes, --rules, --profile
```

Timings depend on the machine and on the rule base: more rules cost more in durable_rules and
in resolution alike. No test asserts a timing; this page is the record.
"""


OTHER_SECTIONS = (
    "## Batches",
    "## HTTP service",
    "## Linter",
    "## Linter on hostile input",
    "## Before and after hardening",
)
"""Sections other benchmarks write into the same page; this one must not drop them."""


def keep_other_sections(mine: str, current: str) -> str:
    """This benchmark's page, followed by the sections the other benchmarks wrote."""
    starts = [current.find(f"\n{heading}\n") for heading in OTHER_SECTIONS]
    found = [s for s in starts if s != -1]
    if not found:
        return mine
    return mine.rstrip("\n") + "\n" + current[min(found) :]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of explain")
    parser.add_argument("--rules", help="a rule base folder (default: the shipped one)")
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="timed passes per method")
    parser.add_argument("--memory-calls", type=int, default=50_000)
    parser.add_argument("--traced-calls", type=int, default=5_000)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)

    results = measure(args)
    print()
    print(report(results))
    if args.profile:
        print()
        print(profile(args))
    if args.write:
        DOC.write_text(keep_other_sections(document(results), DOC.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
