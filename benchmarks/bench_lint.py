"""Benchmark of the linter: precision and recall per check on the labelled corpus, and speed.

    .venv/bin/python benchmarks/bench_lint.py            # print the figures
    .venv/bin/python benchmarks/bench_lint.py --write    # ...and rewrite the "## Linter" section of docs/performance.md
    .venv/bin/python benchmarks/bench_lint.py --hostile  # pathological inputs instead (about 15 minutes)
    .venv/bin/python benchmarks/bench_lint.py --hostile --write   # ...and rewrite only "## Linter on hostile input"
    .venv/bin/python benchmarks/bench_lint.py --startup --before 0e2d9f6 --write   # "## Linter start-up"
    .venv/bin/python benchmarks/bench_lint.py --development --misses   # while tuning: development part only

The corpus is ``tests/lint/corpus``: ``items.yaml`` (the development set the phrasings were
grown on), ``holdout.yaml`` (written afterwards, never tuned on) and whole articles with
their expected findings. Speed: a 1 MB article built from the guide and the corpus articles,
linted with a ready ``Linter`` (best of three), and the whole command line on it.

Hostile input (``--hostile``): each pathological shape (brackets, "<", backticks, tables,
deep nesting, ...) is linted at n, 2n, 4n and 8n characters (25 KB to 200 KB) with a ready
``Linter`` and cold caches; time is the best of up to five runs, peak memory is what
tracemalloc sees in a separate run (tracing slows the linter several times over, so the two
are not measured together). Each doubling should double both: the ratios are printed. Then
the 2 MB tables of the issue, and the slowest shapes at the 1 MiB limit. The figures of the
code before the fix (commit 8de937b) were measured once on the same machine and are kept
below as constants: rerunning quadratic code at these sizes takes hours.

Start-up (``--startup``): ``therapy-signals lint`` on a three-line article, in a fresh
process each time, best and median of ``--runs``: as shipped (the prebuilt data of
``lint/_data/`` used), with ``THERAPY_SIGNALS_NO_PREBUILT=1`` (the rule base loaded and the
index and lemmas computed in the process, as before the data existed), and with ``--before
REV`` the code and rules of that commit too (from ``git archive``, in a temporary folder).
Every variant runs once first so that its bytecode is written, as pip does when it installs
a wheel (this checkout's environment sets ``PYTHONDONTWRITEBYTECODE``, which would otherwise
add the compiling of every module to every run).

Development only (``--development``): the figures of ``items.yaml``, the feature articles and
the development articles, and nothing read from ``holdout.yaml`` or ``holdout/``, so that
the held-out part stays unseen while the linter is tuned; ``--misses`` adds each missed
normalising line and each false finding, with its text. It cannot ``--write``: the section of
docs/performance.md reports both parts.

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _docs import replace_section  # noqa: E402
from tests.lint.corpus import (  # noqa: E402
    ARTICLES,
    HOLDOUT,
    Score,
    article_kind,
    articles,
    combined,
    feature_articles,
    load_items,
    score_articles,
    score_items,
    score_signals,
    score_targets,
    web_articles,
)

from therapy_signals.lint import LintConfig, Linter  # noqa: E402
from therapy_signals.lint._text import clear_caches  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
GUIDE = ROOT.parent / "shared" / "guide" / "therapist-relationship-issues.txt"
SECTION = "## Linter"


def big_article(size: int = 1_000_000) -> str:
    parts = [GUIDE.read_text(encoding="utf-8")] + [p.read_text(encoding="utf-8") for p in articles()]
    text = ""
    while len(text.encode()) < size:
        for part in parts:
            text += part + "\n\n"
    # Cut back to a paragraph end at ``size`` or less: past 1 MiB the linter refuses the article.
    cut = text.encode()[:size].decode(errors="ignore")
    return cut[: cut.rindex("\n\n") + 2]


def _row(name: str, score: Score) -> str:
    return f"| {name} | {score.tp} | {score.fp} | {score.fn} | {score.precision:.3f} | {score.recall:.3f} |"


def table(title: str, scores: dict[str, Score]) -> list[str]:
    lines = [
        f"**{title}**",
        "",
        "| check | true pos. | false pos. | missed | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [_row(f"`{check}`", scores[check]) for check in sorted(scores)]
    return [*lines, ""]


# -- hostile input -------------------------------------------------------------------

HOSTILE_SECTION = "## Linter on hostile input"
SIZES = (25_000, 50_000, 100_000, 200_000)
LIMIT = 1024 * 1024
VOCAB = "your therapist asks you for a loan money hug kiss session secret threaten "


def _nested_list(n: int) -> str:
    lines, depth = [], 0
    while sum(map(len, lines)) < n:
        lines.append("  " * depth + "- item")
        depth += 1
    return "\n".join(lines)


def _table(columns: int, rows: int, cell: str = " x ") -> str:
    head = "|" + f"{'h':^{len(cell)}}|" * columns + "\n|" + "-" * len(cell) + ("|" + "-" * len(cell)) * (columns - 1)
    return head + "|\n" + ("|" + f"{cell}|" * columns + "\n") * rows


def _wide(n: int) -> str:
    columns = max(n // 12, 1)
    return _table(columns, 1)


# name: (build at n characters, what the code before the fix took: seconds at 25 KB and at
# 100 KB, peak resident MB at 100 KB, None where not measured). The old code was run once
# per size with a ready Linter; ">60" was stopped after 60 s. Its peak resident memory
# includes about 90 MB for Python, the rule base and the libraries.
SHAPES: dict[str, tuple[Callable[[int], str], tuple[float | str | None, float | None, int | None]]] = {
    "`[` * n": (lambda n: "[" * n, (4.42, 61.0, 122)),
    "`[]` * n/2": (lambda n: "[]" * (n // 2), (0.058, 0.309, 97)),
    "`[` * n/2 + `]` * n/2": (lambda n: "[" * (n // 2) + "]" * (n // 2), (1.46, 17.4, 122)),
    "`[](` * n/3": (lambda n: "[](" * (n // 3), (0.812, 9.88, 122)),
    "`[a](b ` * n/6": (lambda n: "[a](b " * (n // 6), (0.414, 4.68, 120)),
    "`![` * n/2": (lambda n: "![" * (n // 2), (6.45, None, None)),
    "`[^` * n/2": (lambda n: "[^" * (n // 2), (4.44, None, None)),
    "`<` * n": (lambda n: "<" * n, (2.59, 39.3, 95)),
    "`<a ` * n/3": (lambda n: "<a " * (n // 3), (0.127, 0.531, 104)),
    "`<http:` * n/6": (lambda n: "<http:" * (n // 6), (0.984, None, None)),
    "`<!--` * n/4": (lambda n: "<!--" * (n // 4), (0.010, 0.036, 95)),
    "`<a [*_&` and a backtick, * n/8": (lambda n: "<a [*_`&" * (n // 8), (0.543, 4.84, 107)),
    "backticks: one run": (lambda n: "`" * n, (0.011, 0.058, 95)),
    "backticks: runs of 1-7": (lambda n: "".join("`" * (i % 7 + 1) + "a" for i in range(n // 5)), (0.086, 0.163, 97)),
    "backticks: runs of every length, longest first": (
        lambda n: "".join("`" * k + "a" for k in range(int((2 * n) ** 0.5), 0, -1)),
        (0.137, 1.57, 99),
    ),
    "`*` * n": (lambda n: "*" * n, (0.018, 0.047, 95)),
    "`*a ` * n/3": (lambda n: "*a " * (n // 3), (0.172, 0.620, 120)),
    "`_` * n": (lambda n: "_" * n, (0.011, 0.046, 95)),
    "`_a ` * n/3": (lambda n: "_a " * (n // 3), (0.292, 0.582, 121)),
    "`*_` * n/2": (lambda n: "*_" * (n // 2), (0.444, 1.52, 138)),
    "`&` * n": (lambda n: "&" * n, (0.056, 0.238, 95)),
    "`&a` * n/2": (lambda n: "&a" * (n // 2), (0.132, 0.433, 109)),
    "`\\` * n": (lambda n: "\\" * n, (0.110, 0.301, 112)),
    "`.` * n + `x`": (lambda n: "." * n + "x", (22.4, None, None)),
    "`!` * n + `x`": (lambda n: "!" * n + "x", (26.5, None, None)),
    "`#` * n": (lambda n: "#" * n, (0.073, 0.195, 96)),
    "vertical bars * n": (lambda n: "|" * n, (0.020, 0.065, 94)),
    "`>` * n": (lambda n: ">" * n, (0.015, 0.051, 107)),
    "one line of words": (lambda n: "therapist " * (n // 10), (0.079, 0.193, 98)),
    "one line of rule words": (lambda n: VOCAB * (n // len(VOCAB)), (0.083, 0.234, 98)),
    "a list item of rule words": (lambda n: "## Not red flags\n\n- " + VOCAB * (n // len(VOCAB)), (0.097, 0.319, 100)),
    "sentences of rule words": (lambda n: (VOCAB.strip() + ". ") * (n // len(VOCAB)), (0.086, 0.176, 95)),
    "one word of n letters": (lambda n: "a" * n, (0.012, 0.074, 92)),
    "words of 1,000 letters": (lambda n: ("a" * 1000 + " ") * (n // 1001), (0.012, 0.113, 92)),
    "a title after n blanks": (
        lambda n: "Intro line.\n" + " " * n + "Big Title Here\nMore text.\n",
        (13.6, None, None),
    ),
    "a heading with n blanks inside": (lambda n: "# x" + " " * n + "y\n", (3.54, None, None)),
    "unclosed suppression comments": (lambda n: "<!-- therapy-signals-disable " * (n // 29), (0.358, 4.93, 92)),
    "a suppression comment, then n blanks": (lambda n: "<!-- therapy-signals-disable" + " " * n, (0.961, None, None)),
    "unknown suppressions, each with a finding": (
        lambda n: "<!-- therapy-signals-disable nonsense -->\nA patient.\n" * (n // 52),
        (0.207, 1.09, 98),
    ),
    "`licens` * n/6": (lambda n: "licens" * (n // 6), (0.238, 5.52, 94)),
    "`http://` * n/7": (lambda n: "http://" * (n // 7), (2.02, None, None)),
    "damage `It\u00e2\u20ac\u2122s fine ` on one line": (
        lambda n: "It\u00e2\u20ac\u2122s fine " * (n // 13),
        (">60", None, None),
    ),
    "n letters, then damage": (lambda n: "a" * n + " It\u00e2\u20ac\u2122s", (">60", None, None)),
    "Thai damage `x\u0e42 ` on one line": (lambda n: "x\u0e42 " * (n // 3), (0.170, 1.08, 122)),
    "a table of short rows": (lambda n: _table(4, n // 18), (0.159, 0.881, 130)),
    "a table of n/12 columns": (_wide, (None, None, None)),
    "tables after many comments": (
        lambda n: "Intro:\n\n" + "<!-- c -->\n" * (n // 22) + "| a |\n|---|\n| b |\n\n" * (n // 40),
        (0.188, 3.86, 113),
    ),
    "`> ` * n/2 (one line)": (lambda n: "> " * (n // 2) + "text", (0.023, 0.105, 101)),
    "lines of 50 `> `": (lambda n: "> " * 50 + "x\n" + ("> " * 50 + "text\n") * (n // 105), (0.031, 0.193, 95)),
    "`- ` * n/2 (one line)": (lambda n: "- " * (n // 2) + "x", (0.192, 0.447, 108)),
    "a list nested one level a line": (_nested_list, (None, None, None)),
    "a sublist in every item": (lambda n: "## Not red flags\n\n" + "- a\n  - b\n" * (n // 10), (0.354, 4.64, 152)),
    "one-line list items": (lambda n: "- a\n" * (n // 4), (None, None, None)),
    "one-letter lines": (lambda n: "x\n" * (n // 2), (None, None, None)),
    "one-line paragraphs": (lambda n: "a\n\n" * (n // 3), (None, None, None)),
    "`# Heading` lines": (lambda n: "# Heading\n" * (n // 10), (0.171, 0.484, 117)),
    "a long heading over many lists": (
        lambda n: "# " + "Not red flags " * (n // 28) + "\n\n" + "- a\n\n" * (n // 10),
        (0.244, 1.69, 119),
    ),
    "front matter that never ends": (lambda n: "---\n" + "key: value\n" * (n // 11), (0.122, 0.529, 105)),
    "front matter, closed": (lambda n: "---\n" + "key: value\n" * (n // 11) + "---\nText.\n", (0.013, 0.071, 97)),
}

# The 2 MB tables, before: (seconds, peak resident MB), measured once like the above.
TABLES: dict[str, tuple[Callable[[], str], tuple[float, int]]] = {
    "2 MB, rows of 8 one-letter cells": (lambda: _table(8, 2_000_000 // 18, "x"), (39.4, 1363)),
    "2 MB, rows of 4 three-character cells": (lambda: _table(4, 2_000_000 // 18), (24.5, 799)),
    "2 MB, 10,000 columns": (lambda: _table(10_000, 2_000_000 // 20_002, "x"), (28.4, 1333)),
}
# The slowest shapes per byte are also timed at the limit: the worst an article can cost.
AT_LIMIT = 4


def _seconds(linter: Linter, text: str) -> float:
    best = float("inf")
    spent = 0.0
    for _ in range(5):  # a shared machine: the best run is the least disturbed one
        clear_caches()
        gc.collect()
        started = time.perf_counter()
        linter.lint_text(text, "hostile.md")
        took = time.perf_counter() - started
        best, spent = min(best, took), spent + took
        if spent > 1.0:
            break
    return best


def _peak_mb(linter: Linter, text: str) -> float:
    clear_caches()
    gc.collect()
    tracemalloc.start()
    try:
        linter.lint_text(text, "hostile.md")
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _ratios(values: list[float]) -> str:
    return " ".join(f"x{b / a:.1f}" if a > 0 else "x-" for a, b in itertools.pairwise(values))


def _before(figures: tuple[float | str | None, float | None, int | None]) -> str:
    small, large, rss = figures
    parts = []
    if small is not None:
        parts.append(f"25 KB: {small if isinstance(small, str) else f'{small:g}'} s")
    if large is not None:
        parts.append(f"100 KB: {large:g} s, {rss} MB")
    return "; ".join(parts) or "-"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _scaling(linter: Linter, sizes: tuple[int, ...]) -> tuple[list[str], dict[str, float]]:
    rows = [
        "| shape | seconds at " + " / ".join(f"{n // 1000} KB" for n in sizes) + " | ratios | peak MB "
        "| ratios | before the fix (time; peak RSS) |",
        "|---|---|---|---|---|---|",
    ]
    per_byte: dict[str, float] = {}
    for name, (build, before) in SHAPES.items():
        texts = [build(n) for n in sizes]
        seconds = [_seconds(linter, text) for text in texts]
        peaks = [_peak_mb(linter, text) for text in texts]
        per_byte[name] = seconds[-1] / max(len(texts[-1].encode()), 1)
        rows.append(
            f"| {name} | {' / '.join(f'{s:.3f}' for s in seconds)} | {_ratios(seconds)} "
            f"| {' / '.join(f'{p:.1f}' for p in peaks)} | {_ratios(peaks)} | {_before(before)} |"
        )
        _say(rows[-1])
    return rows, per_byte


def _tables(linter: Linter) -> list[str]:
    rows = [
        "| table | bytes | seconds | peak MB (tracemalloc) | before the fix: seconds, peak RSS |",
        "|---|---:|---:|---:|---|",
    ]
    for name, (build, (seconds_before, rss_before)) in TABLES.items():
        text = build()
        seconds, peak = _seconds(linter, text), _peak_mb(linter, text)
        rows.append(
            f"| {name} | {len(text):,} | {seconds:.2f} | {peak:.1f} | {seconds_before:g} s, {rss_before:,} MB |"
        )
        _say(rows[-1])
    return rows


def _at_limit(linter: Linter, per_byte: dict[str, float]) -> list[str]:
    rows = ["| shape at the 1 MiB limit | bytes | seconds | peak MB (tracemalloc) |", "|---|---:|---:|---:|"]
    for name in sorted(per_byte, key=per_byte.__getitem__, reverse=True)[:AT_LIMIT]:
        build = SHAPES[name][0]
        size = LIMIT
        text = build(size)
        while len(text.encode()) > LIMIT:  # a heading or multi-byte characters: a little less
            size -= len(text.encode()) - LIMIT
            text = build(size)
        seconds, peak = _seconds(linter, text), _peak_mb(linter, text)
        rows.append(f"| {name} | {len(text.encode()):,} | {seconds:.2f} | {peak:.1f} |")
        _say(rows[-1])
    return rows


def hostile(sizes: tuple[int, ...] = SIZES) -> str:
    """The "Linter on hostile input" section: every shape at each size, the tables, the limit."""
    linter = Linter(LintConfig(max_bytes=4 * LIMIT))
    linter.lint_text("# Warm up\n\nA sentence.\n")
    scaling, per_byte = _scaling(linter, sizes)
    lines = [
        HOSTILE_SECTION,
        "",
        "Written by `benchmarks/bench_lint.py --hostile` (run on " + datetime.date.today().isoformat() + "; "
        f"Python {platform.python_version()}, {platform.machine()}). Each shape is linted with a ready `Linter` "
        "and cold caches; seconds are the best of up to five runs, peak MB is what tracemalloc saw in a separate "
        "run. Linear growth shows as x2.0 for each doubling. The last column is the code before the fix "
        "(commit 8de937b), measured once on the same machine; its resident memory includes about 90 MB for "
        "Python, the rule base and the libraries.",
        "",
        *scaling,
        "",
        *_tables(linter),
        "",
        *_at_limit(linter, per_byte),
        "",
        "Refresh with `.venv/bin/python benchmarks/bench_lint.py --hostile --write`.",
        "",
    ]
    return "\n".join(lines)


STARTUP_SECTION = "## Linter start-up"
SMALL = "# A small article\n\nMy therapist listens to me and remembers what I said last week.\n"


def _timed(command: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float]:
    """Best and median wall time of ``command`` in a fresh process, after one run to write its bytecode."""
    subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def startup(runs: int, before: str | None) -> str:
    from therapy_signals.lint import _lemmas, _prebuilt

    fresh = _prebuilt.load_phrases(None) is not None and _lemmas.table_in_use()
    if not fresh:
        raise SystemExit(f"the prebuilt data is stale, so both figures would be the slow one: {_prebuilt.REGENERATE}")
    script = str(Path(sys.executable).parent / "therapy-signals")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", _prebuilt.ENV_VAR)}
    rows: list[tuple[str, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "small.md").write_text(SMALL, encoding="utf-8")
        lint = [script, "lint", "small.md"]
        variants: list[tuple[str, list[str], dict[str, str]]] = [
            ("`python -c pass`: the interpreter alone", [sys.executable, "-c", "pass"], env),
            ("`therapy-signals --help`: Typer (which imports pydantic) and the command tree", [script, "--help"], env),
            ("**`therapy-signals lint small.md`**, the prebuilt data used", lint, env),
            (
                f"the same with `{_prebuilt.ENV_VAR}=1`: rule base loaded, index and lemmas computed",
                lint,
                {
                    **env,
                    _prebuilt.ENV_VAR: "1",
                },
            ),
        ]
        if before:
            tree = here / "before"
            tree.mkdir()
            source = _checkout(before, tree)
            variants.append(
                (f"the same with the code and rules of commit {before}", lint, {**env, "PYTHONPATH": str(source)})
            )
        for label, command, variant_env in variants:
            rows.append((label, _timed(command, variant_env, here, runs)))
            _say(f"{label}: best {rows[-1][1][0]:.3f} s")
    if _prebuilt.load_phrases(None) is None:
        raise SystemExit(
            "the prebuilt data went stale while measuring (someone changed the code or rules): run it again"
        )
    fast = rows[2][1][0]
    slow = rows[3][1][0]
    note = next(ROOT.glob("docs/decisions/*-linter-start-up.md"), None)
    where = f"[{note.stem[:4]}](decisions/{note.name})" if note else "the decision on start-up"
    lines = [
        STARTUP_SECTION,
        "",
        "Written by `benchmarks/bench_lint.py --startup` (run on " + datetime.date.today().isoformat() + "; "
        f"Python {platform.python_version()}, {platform.machine()}, load average "
        f"{os.getloadavg()[0]:.2f} at the end). `therapy-signals lint` on a three-line article, each in a fresh "
        f"process, {runs} runs each after one that writes the bytecode (as pip does on install). Issue 12: "
        "0.3 s or less.",
        "",
        "| command | best (s) | median (s) |",
        "|---|---:|---:|",
        *(f"| {label} | {best:.3f} | {median:.3f} |" for label, (best, median) in rows),
        "",
        f"The prebuilt data (`src/therapy_signals/lint/_data/`, decision {where}) takes "
        f"{slow - fast:.2f} s off: the phrase index and the signals' rules, computed ahead of time, stand in for "
        "loading and checking the rule base and indexing its phrasings, and a table of lemminflect's answers for "
        "loading lemminflect (numpy and its word lists). What is left is mostly Typer, which imports pydantic to "
        "convert options, markdown-it, and the linter's own modules.",
        "",
        "Refresh with `.venv/bin/python benchmarks/bench_lint.py --startup --before 0e2d9f6 --write` "
        "(after `make lint-data` if the data is stale; the script refuses to measure stale data).",
        "",
    ]
    return "\n".join(lines)


# Run in a fresh interpreter, so that the code of another commit (on PYTHONPATH) can be
# scored by this checkout's corpus and scorer, exactly as the current code is.
_TARGETS = """
import json, sys
sys.path.insert(0, {root!r})
from tests.lint.corpus import score_targets, web_articles
from therapy_signals.lint import Linter
linter = Linter()
figures = {{}}
for name, held_out in (("development", False), ("held-out", True)):
    t = score_targets(linter, web_articles(held_out))
    figures[name] = [t.errors_right, t.errors, t.warnings_right, t.warnings, t.normalising_caught,
                     t.normalising, t.signal_right]
print(json.dumps(figures))
"""


def targets(pythonpath: str | None = None) -> dict[str, list[int]]:
    """The issue-12 figures of the current code, or of the code on ``pythonpath``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", _TARGETS.format(root=str(ROOT))], env=env, capture_output=True, text=True, check=True
    )
    figures: dict[str, list[int]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


_SPEED = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from therapy_signals.lint import Linter
from therapy_signals.lint._text import clear_caches
text = Path({path!r}).read_text(encoding="utf-8")
linter = Linter()
best = None
for _ in range(3):
    clear_caches()
    started = time.perf_counter()
    linter.lint_text(text, "big.md")
    elapsed = time.perf_counter() - started
    best = elapsed if best is None else min(best, elapsed)
print(best)
"""


def _checkout(rev: str, folder: Path) -> Path:
    command = ["git", "-C", str(ROOT), "archive", rev, "src", "rules"]
    archive = subprocess.run(command, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder / "src"


def targets_before(rev: str) -> dict[str, list[int]]:
    with tempfile.TemporaryDirectory() as folder:
        return targets(str(_checkout(rev, Path(folder))))


def lint_seconds_before(rev: str, text: str) -> float:
    """Best of three of the code of ``rev`` on the same article, in its own interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        source = _checkout(rev, Path(folder))
        article = Path(folder) / "big.md"
        article.write_text(text, encoding="utf-8")
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONPATH": str(source)}
        script = _SPEED.format(root=str(ROOT), path=str(article))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1])


def _ratio(right: int, total: int) -> str:
    return f"{right / total:.3f} ({right}/{total})" if total else "1.000 (0/0)"


def targets_table(now: dict[str, list[int]], before: dict[str, list[int]] | None, rev: str | None) -> list[str]:
    lines = [
        "| articles | code | error precision (target 0.95) | warning precision (target 0.80) "
        "| recall on normalising lines (target 0.85) | right errors naming a labelled signal |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for part in ("held-out", "development"):
        for label, figures in (("this code", now), (f"before ({rev})", before)):
            if figures is None:
                continue
            e, et, w, wt, r, rt, sig = figures[part]
            lines.append(
                f"| {part} | {label} | {_ratio(e, et)} | {_ratio(w, wt)} | {_ratio(r, rt)} | {_ratio(sig, e)} |"
            )
    return lines


def _line_text(where: str) -> str:
    """The text of the development article line a miss or false finding names ("NN-x.md:12 ...")."""
    name, _, rest = where.partition(":")
    number = rest.split(" ", 1)[0]
    if not number.isdigit():
        return ""
    lines = (ARTICLES / name).read_text(encoding="utf-8").splitlines()
    return lines[int(number) - 1].strip() if int(number) <= len(lines) else ""


def development(misses: bool) -> str:
    """The figures of the development part alone; nothing under holdout is opened."""
    linter = Linter()
    items = score_items(linter, load_items())
    features = score_articles(linter, feature_articles())
    scored = score_targets(linter, web_articles())
    lines = [
        "Development articles: error precision "
        f"{_ratio(scored.errors_right, scored.errors)}, warning precision "
        f"{_ratio(scored.warnings_right, scored.warnings)}, recall on normalising lines "
        f"{_ratio(scored.normalising_caught, scored.normalising)}, right errors naming a labelled signal "
        f"{_ratio(scored.signal_right, scored.errors_right)}",
        "",
        *table("Development set (items.yaml)", items),
        *table("Feature articles (01-10, exact findings)", features),
    ]
    if misses:
        lines += ["False findings:", *(f"  {w}  | {_line_text(w)}" for w in scored.false_alarms), ""]
        lines += ["Missed:", *(f"  {w}  | {_line_text(w)}" for w in scored.misses), ""]
        for check, score in sorted(items.items()):
            lines += [f"items, {check}: missed", *(f"  {m}" for m in score.misses)]
            lines += [f"items, {check}: false", *(f"  {m}" for m in score.false_alarms)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the Linter section of docs/performance.md")
    parser.add_argument("--hostile", action="store_true", help="pathological inputs instead of the corpus")
    parser.add_argument("--startup", action="store_true", help="start-up of the command instead of the corpus")
    parser.add_argument("--runs", type=int, default=10, help="runs of each command for --startup")
    parser.add_argument(
        "--before", metavar="REV", help="also measure the code of this commit (start-up, and accuracy on the articles)"
    )
    parser.add_argument(
        "--development",
        action="store_true",
        help="score the development part only (nothing held out is read): for tuning; cannot --write",
    )
    parser.add_argument("--misses", action="store_true", help="with --development: list misses and false findings")
    args = parser.parse_args()
    if args.development:
        if args.write:
            parser.error("--development cannot --write: docs/performance.md reports the held-out part too")
        print(development(args.misses))
        return
    if args.startup:
        report = startup(args.runs, args.before)
        print(report)
        if args.write:
            DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), STARTUP_SECTION, report), encoding="utf-8")
        return
    if args.hostile:
        report = hostile()
        print(report)
        if args.write:
            DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), HOSTILE_SECTION, report), encoding="utf-8")
        return

    started = time.perf_counter()
    linter = Linter()
    build = time.perf_counter() - started
    dev, hold = load_items(), load_items(HOLDOUT)
    dev_scores, hold_scores, article_scores = (
        score_items(linter, dev),
        score_items(linter, hold),
        score_articles(linter, feature_articles()),
    )
    now = targets()
    before = targets_before(args.before) if args.before else None
    kinds = Counter(article_kind(a) for a in web_articles() + web_articles(held_out=True))
    framing = "framing.concern-listed-as-normal"
    target = combined(dev_scores, article_scores)[framing]
    every = combined(dev_scores, hold_scores, article_scores)[framing]
    right_dev, total_dev, _ = score_signals(linter, dev)
    right_hold, total_hold, _ = score_signals(linter, hold)

    text = big_article()
    timings = []
    for _ in range(3):
        clear_caches()  # a cold start each time: no sentence seen before
        started = time.perf_counter()
        findings = linter.lint_text(text, "big.md")
        timings.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.md"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "therapy-signals"), "lint", str(path)], capture_output=True)
        command = time.perf_counter() - started

    slower = lint_seconds_before(args.before, text) if args.before else None
    phrasings = sum(len(s.phrasings) for s in linter.rulebook.signals.values())
    megabytes = len(text.encode()) / 1e6
    lines = [
        SECTION,
        "",
        "Written by `benchmarks/bench_lint.py` (run on " + datetime.date.today().isoformat() + "; "
        f"Python {platform.python_version()}, {platform.machine()}). The corpus is `tests/lint/corpus`: "
        f"{len(dev)} list items and sentences in `items.yaml`, the development set the phrasings of "
        f"`rules/signals.yaml` were grown on; {len(hold)} in `holdout.yaml`, written afterwards and never "
        f"tuned on; and {len(articles()) + len(web_articles(held_out=True))} whole articles with labelled lines. "
        "Each item is linted under a heading that calls it normal and under one that calls it a red flag; each "
        "sentence as a paragraph.",
        "",
        "### Articles (issue 12)",
        "",
        f"{len(web_articles())} development articles (`articles/11-*` on) and {len(web_articles(held_out=True))} "
        "held-out ones (`holdout/`, never looked at or tuned on: only these figures are read from them), of "
        f"four kinds: {kinds['modelled']} modelled on the structure and tone of real public pages, "
        f"{kinds['adversarial']} written to normalise red flags subtly, {kinds['clean']} clean and "
        f"{kinds['mixed']} mixed (tests/lint/corpus/README.md). Error precision: error findings on lines labelled "
        "as calling a concern normal, over all error findings. Warning precision: warnings on a line labelled with "
        "that warning (`safety.no-next-steps`, one per article: in an article labelled with it), over all warnings. "
        "Recall: labelled normalising lines that got an error, over all of them."
        + (
            f" The code before this work (commit {args.before}) is scored by the same scorer on the same articles."
            if args.before
            else ""
        ),
        "",
        *targets_table(now, before, args.before),
        "",
        f"Target of issue 5, framing errors on the development set and the articles: precision "
        f"**{target.precision:.3f}** (target 0.95), recall **{target.recall:.3f}** (target 0.85). "
        f"With the held-out set included: precision {every.precision:.3f}, recall {every.recall:.3f}.",
        "",
        *table("Development set (items.yaml)", dev_scores),
        *table("Held-out set (holdout.yaml)", hold_scores),
        *table("Feature articles (01-10, exact findings)", article_scores),
        f"The best-matching signal is the labelled one (or among the two best) for {right_dev}/{total_dev} "
        f"development entries and {right_hold}/{total_hold} held-out ones. On single items the held-out figures "
        "stay close to the development ones; on whole held-out articles they do not (the table above): writers "
        "who normalise a red flag describe it in words no phrasing covers yet, and the readings that work on the "
        "development articles misfire on some new ones.",
        "",
        "| Speed | seconds |",
        "|---|---:|",
        f"| build a `Linter` (from the prebuilt index of {phrasings} phrasings, decision 0020) | {build:.2f} |",
        f"| lint a {megabytes:.2f} MB article with a ready `Linter` (best of 3, caches cleared; "
        f"{len(findings)} findings) | {min(timings):.2f} |",
        f"| `therapy-signals lint` on the same file, start to end | {command:.2f} |",
        *(
            [f"| the same article with a ready `Linter` of commit {args.before} (best of 3) | {slower:.2f} |"]
            if slower is not None
            else []
        ),
        "",
        "Refresh with `.venv/bin/python benchmarks/bench_lint.py --before 0e2d9f6 --write`.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), SECTION, report), encoding="utf-8")


if __name__ == "__main__":
    main()
