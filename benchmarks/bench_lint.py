"""Benchmark of the linter: precision and recall per check on the labelled corpus, and speed.

    .venv/bin/python benchmarks/bench_lint.py            # print the figures
    .venv/bin/python benchmarks/bench_lint.py --write    # ...and rewrite the "## Linter" section of docs/performance.md

The corpus is ``tests/lint/corpus``: ``items.yaml`` (the development set the phrasings were
grown on), ``holdout.yaml`` (written afterwards, never tuned on) and whole articles with
their expected findings. Speed: a 1 MB article built from the guide and the corpus articles,
linted with a ready ``Linter`` (best of three), and the whole command line on it.

This is a benchmark, not a test: it reports figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lint.corpus import (  # noqa: E402
    HOLDOUT,
    Score,
    articles,
    combined,
    load_items,
    score_articles,
    score_items,
    score_signals,
)

from therapy_signals.lint import Linter  # noqa: E402
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
    return text


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the Linter section of docs/performance.md")
    args = parser.parse_args()

    started = time.perf_counter()
    linter = Linter()
    build = time.perf_counter() - started
    dev, hold = load_items(), load_items(HOLDOUT)
    dev_scores, hold_scores, article_scores = (
        score_items(linter, dev),
        score_items(linter, hold),
        score_articles(linter),
    )
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

    phrasings = sum(len(s.phrasings) for s in linter.rulebook.signals.values())
    megabytes = len(text.encode()) / 1e6
    lines = [
        SECTION,
        "",
        "Written by `benchmarks/bench_lint.py` (run on " + datetime.date.today().isoformat() + "; "
        f"Python {platform.python_version()}, {platform.machine()}). The corpus is `tests/lint/corpus`: "
        f"{len(dev)} list items and sentences in `items.yaml`, the development set the phrasings of "
        f"`rules/signals.yaml` were grown on; {len(hold)} in `holdout.yaml`, written afterwards and never "
        f"tuned on; and {len(articles())} whole articles with their expected findings. Each item is linted under "
        "a heading that calls it normal and under one that calls it a red flag; each sentence as a paragraph. "
        "A finding counts as right when its check, line and signal are the expected ones.",
        "",
        f"Target of issue 5, framing errors on the development set and the articles: precision "
        f"**{target.precision:.3f}** (target 0.95), recall **{target.recall:.3f}** (target 0.85). "
        f"With the held-out set included: precision {every.precision:.3f}, recall {every.recall:.3f}.",
        "",
        *table("Development set (items.yaml)", dev_scores),
        *table("Held-out set (holdout.yaml)", hold_scores),
        *table("Articles", article_scores),
        f"The best-matching signal is the labelled one (or among the two best) for {right_dev}/{total_dev} "
        f"development entries and {right_hold}/{total_hold} held-out ones. The held-out figures are the honest "
        "estimate for new text: recall there is lower, because writers say things in ways no phrasing covers "
        "yet; precision stays high by design (an undecided frame or a weak match reports nothing).",
        "",
        "| Speed | seconds |",
        "|---|---:|",
        f"| build a `Linter` (load and check the rule base, index {phrasings} phrasings) | {build:.2f} |",
        f"| lint a {megabytes:.2f} MB article with a ready `Linter` (best of 3, caches cleared; "
        f"{len(findings)} findings) | {min(timings):.2f} |",
        f"| `therapy-signals lint` on the same file, start to end | {command:.2f} |",
        "",
        "Refresh with `.venv/bin/python benchmarks/bench_lint.py --write`.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        # Replace only this section (appended at the end the first time); others own the rest.
        current = DOC.read_text(encoding="utf-8")
        head, found, rest = current.partition("\n" + SECTION + "\n")
        tail = ""
        if found and "\n## " in rest:
            tail = "\n" + rest[rest.index("\n## ") + 1 :]
        DOC.write_text(head.rstrip("\n") + "\n\n" + report + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
