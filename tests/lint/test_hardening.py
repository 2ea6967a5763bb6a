"""Hostile input: pathological Markdown lints in linear time and bounded memory, findings
around it stay right, the size limit holds for text, bytes, files and standard input, and
only regular files are read.

No assertion here is about time ("never put a timed assertion in the test suite"): each
shape below took seconds or minutes before, so a regression shows as a slow suite, and the
``timeout=`` of a subprocess is only a guard against a hang. The growth with size is shown
by ``benchmarks/bench_lint.py``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals.errors import DocumentError, LintConfigError
from therapy_signals.lint import CHECKS, LintConfig, Linter, LintFinding, load_config
from therapy_signals.lint._config import DEFAULT_MAX_BYTES

from .corpus import load_items

SCRIPT = Path(sys.executable).parent / "therapy-signals"
SIZE = 100_000
HEAD = "## Not red flags\n\n- Your therapist asks you for a loan\n"
TAIL = "## Red flags\n\n- Feeling challenged during sessions\n\nA patient.\n"
BAD = HEAD + "\n" + TAIL


def _repeat(piece: str, size: int = SIZE) -> str:
    return piece * (size // len(piece))


def _nested_list(size: int) -> str:
    lines, depth = [], 0
    while sum(map(len, lines)) < size:
        lines.append("  " * depth + "- item")
        depth += 1
    return "\n".join(lines)


def _table(columns: int, rows: int) -> str:
    return "\n".join(["|" + " h |" * columns, "|" + "---|" * columns] + ["|" + " x |" * columns] * rows)


def _short_cells(columns: int, rows: int) -> str:
    return "\n".join(["|" + "h|" * columns, "|" + "-|" * columns] + ["|" + "x|" * columns] * rows)


# Each shape at SIZE characters, and what it took before this was fixed where it was slow
# (old code on this machine; "25 KB:" where it was measured smaller because it was so slow).
SHAPES: dict[str, Callable[[], str]] = {
    "open brackets (61 s)": lambda: "Text " + _repeat("["),
    "nested brackets (17 s)": lambda: "Text " + "[" * (SIZE // 2) + "]" * (SIZE // 2),
    "empty links opened (9.9 s)": lambda: "Text " + _repeat("[]("),
    "links without a closing paren (4.7 s)": lambda: "Text " + _repeat("[a](b "),
    "images opened (25 KB: 6.5 s)": lambda: "Text " + _repeat("!["),
    "footnotes opened (25 KB: 4.4 s)": lambda: "Text " + _repeat("[^"),
    "less-than signs (39 s)": lambda: "Text " + _repeat("<"),
    "tags opened": lambda: "Text " + _repeat("<a "),
    "autolinks opened (25 KB: 1.0 s)": lambda: "Text " + _repeat("<http:"),
    "markup mixed (4.8 s)": lambda: "Text " + _repeat("<a [*_`&"),
    "one run of backticks": lambda: "Text " + _repeat("`"),
    "backtick runs of every length": lambda: "Text " + "".join("`" * k + "a" for k in range(440, 0, -1)),
    "asterisks": lambda: "Text " + _repeat("*"),
    "underscores": lambda: "Text " + _repeat("_"),
    "emphasis marks and words": lambda: "Text " + _repeat("*a _b "),
    "comments without an end": lambda: "Text " + _repeat("<!--"),
    "ampersands": lambda: "Text " + _repeat("&a"),
    "backslashes": lambda: "Text " + _repeat("\\"),
    "full stops (25 KB: 22 s)": lambda: "Text " + _repeat(".") + "x",
    "exclamation marks (25 KB: 27 s)": lambda: "Text " + _repeat("!") + "x",
    "suppression comments without an end (4.9 s)": lambda: "Text " + _repeat("<!-- therapy-signals-disable "),
    "a suppression comment then blanks (25 KB: 1.0 s)": lambda: "Text <!-- therapy-signals-disable" + " " * SIZE,
    "a resource word repeated (5.5 s)": lambda: "Text " + _repeat("licens"),
    "a URL scheme repeated (25 KB: 2.0 s)": lambda: "Text " + _repeat("http://"),
    "a very long line of words": lambda: "Text " + _repeat("your therapist asks you for a loan "),
    "a very long word": lambda: "Text " + "a" * SIZE,
    "a title after deep indentation (25 KB: 14 s)": lambda: "Text.\n" + " " * SIZE + "Big Title Here\nMore text.",
    "a heading with a run of blanks (25 KB: 3.5 s)": lambda: "# x" + " " * SIZE + "y",
    "a heading of many negations": lambda: "# " + _repeat("not okay "),
    "encoding damage on one line (25 KB: over 60 s)": lambda: _repeat("It\u00e2\u20ac\u2122s fine "),
    "a long word, then encoding damage (25 KB: over 60 s)": lambda: "a" * SIZE + " It\u00e2\u20ac\u2122s",
    "Thai damage on one line": lambda: _repeat("x\u0e42 "),
    "pipes": lambda: "Text " + _repeat("|"),
    "a table of 10,000 columns": lambda: _table(10_000, 3),
    "a table of many rows": lambda: _table(4, SIZE // 20),
    "tables after many comments (3.9 s)": lambda: (
        "Intro:\n\n" + "<!-- c -->\n" * (SIZE // 22) + "\n" + "\n\n".join([_table(1, 1)] * (SIZE // 40))
    ),
    "blockquotes nested deep": lambda: _repeat("> ") + "text",
    "many lines of deep blockquotes": lambda: "\n".join(["> " * 50 + "text"] * (SIZE // 105)),
    "lists nested deep": lambda: _nested_list(SIZE),
    "a sublist in every item (4.6 s)": lambda: "\n".join(["- a", "  - b"] * (SIZE // 10)),
    "list markers on one line": lambda: _repeat("- ") + "x",
    "many headings": lambda: "\n".join(["# Heading"] * (SIZE // 10)),
    "a long heading over many lists (1.7 s)": lambda: (
        "# " + _repeat("Not red flags ", SIZE // 2) + "\n\n" + "\n\n".join(["- a"] * (SIZE // 10))
    ),
    "many unknown suppressions": lambda: "\n".join(["<!-- therapy-signals-disable nonsense -->", "A patient."] * 2000),
}
# Front matter can only come first.
LEADING: dict[str, Callable[[], str]] = {
    "huge front matter": lambda: "---\n" + "key: value\n" * (SIZE // 11) + "---",
    "front matter that never ends": lambda: "---\n" + "key: value\n" * (SIZE // 11),
}


_LIMITED: dict[int, Linter] = {}


def _limited(linter: Linter, max_bytes: int) -> Linter:
    """A linter like ``linter`` with another size limit (the rule base is not loaded again)."""
    if max_bytes not in _LIMITED:
        _LIMITED[max_bytes] = Linter(LintConfig(max_bytes=max_bytes), linter.rulebook)
    return _LIMITED[max_bytes]


def _shifted(finding: LintFinding, lines: int) -> LintFinding:
    return replace(finding, line=finding.line + lines, end_line=finding.end_line + lines)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_pathological_block_lints_and_the_article_around_it_keeps_its_findings(linter: Linter, shape: str) -> None:
    block = SHAPES[shape]()
    head_lines = HEAD.count("\n") + 1  # the block starts after HEAD and a blank line
    block_lines = block.count("\n") + 1
    found = linter.lint_text(HEAD + "\n" + block + "\n\n" + TAIL)
    expected = [f if f.line <= head_lines else _shifted(f, block_lines + 1) for f in linter.lint_text(BAD)]
    outside = [f for f in found if not head_lines < f.line <= head_lines + block_lines + 1]
    assert outside == expected
    assert {f.check for f in expected} >= {"framing.concern-listed-as-normal", "framing.normal-listed-as-warning"}


@pytest.mark.parametrize("shape", sorted(LEADING))
def test_huge_front_matter_lints_and_the_article_after_it_keeps_its_findings(linter: Linter, shape: str) -> None:
    block = LEADING[shape]()
    block_lines = block.count("\n") + 1
    found = linter.lint_text(block + "\n\n" + BAD)
    assert [f for f in found if f.line > block_lines + 1] == [
        _shifted(f, block_lines + 1) for f in linter.lint_text(BAD)
    ]


def test_a_table_takes_memory_for_its_rows_not_its_cells(linter: Linter) -> None:
    # 100 KB of one-character cells: 1,950 rows of 25 cells. With three markdown-it tokens
    # a cell, 200 KB of them took 218 MB here; the bound is 40 bytes of Python objects a byte.
    table = _short_cells(25, 1_950)
    bigger = _limited(linter, 4 * 1024 * 1024)
    tracemalloc.start()
    try:
        assert bigger.lint_text(table) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(table) > 100_000 and peak < 40 * len(table), peak


def test_a_2_mb_table_lints_in_bounded_memory(tmp_path: Path) -> None:
    # The case: a 2 MB table took 1.4 GB. Empty cells cost markdown-it as many
    # tokens as full ones (200 KB of them took 285 MB here) and leave no prose to check, so
    # this measures the table alone. tracemalloc makes this ten times slower, so the child
    # reports how much its peak resident memory grew instead.
    table = _short_cells(50, 2_000_000 // 52).replace("x", "")
    assert len(table) > 2_000_000
    (tmp_path / "table.md").write_text(table)
    code = (
        "import resource\n"
        "from therapy_signals.lint import LintConfig, Linter\n"
        "linter = Linter(LintConfig(max_bytes=4 * 1024 * 1024))\n"
        "linter.lint_text('# Warm up\\n\\nA sentence.\\n')\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "assert linter.lint_file('table.md') == []\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    grown_mb = int(done.stdout) / 1024  # ru_maxrss counts KiB on Linux
    assert grown_mb < 100, grown_mb


# -- the size bound --------------------------------------------------------------------


def test_over_the_limit_is_refused_naming_the_size_the_limit_and_the_key(linter: Linter, tmp_path: Path) -> None:
    small = _limited(linter, 1000)
    path = tmp_path / "big.md"
    path.write_text("x" * 1500)
    with pytest.raises(DocumentError) as raised:
        small.lint_file(path)
    assert str(raised.value) == (
        f"{path}: 1,500 bytes, over the limit of 1,000 bytes for one article; if it really is one article, "
        "raise max-bytes in [tool.therapy-signals.lint] (or give --max-bytes, or LintConfig(max_bytes=...))"
    )
    with pytest.raises(DocumentError, match=r"^draft\.md: 2,000 bytes, over the limit of 1,000"):
        small.lint_text("\u00e9" * 1000, "draft.md")  # two bytes each in UTF-8
    with pytest.raises(DocumentError, match=r"^<bytes>: 1,001 bytes, over the limit of 1,000"):
        small.lint_bytes(b"x" * 1001)
    assert small.lint_text("x" * 1000) == []
    assert LintConfig().max_bytes == DEFAULT_MAX_BYTES == 1024 * 1024


def test_the_configuration_and_the_command_line_set_the_limit(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.therapy-signals.lint]\nmax-bytes = 100\n")
    assert load_config(tmp_path / "pyproject.toml").max_bytes == 100
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / ".therapy-signals.toml").write_text("[lint]\nmax-bytes = 4194304\n")
    assert load_config(tmp_path / "docs" / ".therapy-signals.toml").max_bytes == 4 * 1024 * 1024
    path = tmp_path / "article.md"
    path.write_text(BAD)  # 121 bytes
    line = _one_error_line(_lint(str(path), cwd=tmp_path))  # --max-bytes: the standard input test
    assert line.startswith(f"error: {path}: {len(BAD)} bytes, over the limit of 100 bytes")


@pytest.mark.parametrize("value", ['"1 MiB"', "0", "-5", "true", "1.5"])
def test_a_bad_limit_is_a_configuration_error_naming_the_key(tmp_path: Path, value: str) -> None:
    path = tmp_path / ".therapy-signals.toml"
    path.write_text(f"[lint]\nmax-bytes = {value}\n")
    with pytest.raises(LintConfigError, match=r"therapy-signals\.toml: max-bytes = .*whole number of bytes"):
        load_config(path)


def test_a_bad_limit_from_python_is_a_configuration_error() -> None:
    with pytest.raises(LintConfigError, match=r"LintConfig\(max_bytes=\.\.\.\) = 0"):
        LintConfig(max_bytes=0)


# -- only regular files, never blocking ------------------------------------------------


def _lint(*args: str, stdin: object = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # timeout= only guards against a hang (reading a FIFO used to block forever).
    return subprocess.run(
        [str(SCRIPT), "lint", *args], stdin=stdin, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    return line


_NOT_A_FILE = "not a regular file; the linter reads only files (pipe text to it with - instead)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(linter: Linter, tmp_path: Path) -> None:
    fifo = tmp_path / "x.md"
    os.mkfifo(fifo)
    assert _one_error_line(_lint(str(fifo))) == f"error: {fifo}: a named pipe (FIFO), {_NOT_A_FILE}"
    with pytest.raises(DocumentError, match="a named pipe"):
        linter.lint_file(fifo)


@pytest.mark.skipif(not (hasattr(os, "mkfifo") and Path("/dev/zero").exists()), reason="POSIX only")
def test_a_folder_is_walked_without_following_links_and_devices_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(BAD)
    os.mkfifo(folder / "x.md")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # followed, it never ends
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "b.md").write_text(BAD)
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(folder / "s.md"))
        done = _lint(str(folder), "/dev/zero")
    finally:
        listening.close()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"error: {folder / 's.md'}: a socket, {_NOT_A_FILE}",
        f"error: {folder / 'x.md'}: a named pipe (FIFO), {_NOT_A_FILE}",
        f"error: /dev/zero: a character device, {_NOT_A_FILE}",
        "1 errors, 2 warnings, 1 suggestions in 1 file",
    ]
    assert {line.split(":")[0] for line in done.stdout.splitlines()} == {str(folder / "a.md")}


def test_a_file_swapped_for_a_pipe_after_stat_is_caught_on_the_open_descriptor(tmp_path: Path) -> None:
    # The descriptor is what is read: stat saying "regular file" is not trusted on its own.
    fifo = tmp_path / "x.md"
    os.mkfifo(fifo)
    (tmp_path / "real.md").write_text("Text.\n")
    code = (
        "import os, pathlib\n"
        "from therapy_signals.lint import Linter\n"
        "from therapy_signals.errors import DocumentError\n"
        "linter, real = Linter(), os.stat('real.md')\n"
        "pathlib.Path.stat = lambda self, **kw: real\n"
        "try:\n"
        "    linter.lint_file('x.md')\n"
        "except DocumentError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.stdout.startswith("x.md: a named pipe (FIFO), not a regular file"), done.stderr


def test_standard_input_is_read_up_to_the_limit_and_no_further(linter: Linter) -> None:
    with pytest.raises(DocumentError, match=r"^draft\.md: more than 1,048,576 bytes, over the limit of 1,048,576"):
        linter.lint_stream(io.BytesIO(b"x" * (DEFAULT_MAX_BYTES + 10)), "draft.md")
    assert linter.lint_stream(io.BytesIO(BAD.encode()), "draft.md") == linter.lint_text(BAD, "draft.md")
    with Path("/dev/zero").open("rb") as endless:  # never ends: only limit + 1 bytes are read
        line = _one_error_line(_lint("-", "--max-bytes", "1000", stdin=endless))
    assert line == (
        "error: <stdin>: more than 1,000 bytes, over the limit of 1,000 bytes for one article; if it really is "
        "one article, raise max-bytes in [tool.therapy-signals.lint] (or give --max-bytes, or "
        "LintConfig(max_bytes=...))"
    )


# -- properties, on Markdown built from the hostile pieces ------------------------------

_PIECES = [
    "[", "]", "(", ")", "![", "[^", "<", ">", "<a ", "</b>", "<!--", "-->", "`", "``", "```", "|", "*", "**",
    "_", "__", "~~", "&", "&amp;", "\\", "#", "## ", "> ", "- ", "  - ", "1. ", ":", ".", "?", "!", " ", "\t",
    "\n", "\n\n", "---", "===", "http://x.org/", "<http://x>", "It\u00e2\u20ac\u2122s", "therapist\u0e42client",
    "<!-- therapy-signals-disable terms -->", "<!-- therapy-signals-disable-next-line -->",
]  # fmt: skip
_WORDS = [
    "therapist", "loan", "money", "kisses", "hug", "secret", "session", "patient", "patients", "normal", "fine",
    "okay", "Red flags", "Not red flags", "Healthy signs", "never", "not", "988", "licensing board", "Call",
]  # fmt: skip
_TEXTS = [entry.text for entry in load_items()][:80]
markdown = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.sampled_from(_WORDS), st.sampled_from(_TEXTS)), max_size=40
).map("".join)


def _inside(text: str, findings: list[LintFinding]) -> None:
    lines = text.split("\n")
    for finding in findings:
        assert isinstance(finding, LintFinding) and finding.check in CHECKS
        assert 1 <= finding.line <= len(lines), finding
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1, finding


@given(text=markdown)
@settings(max_examples=150, deadline=None)
def test_hostile_markdown_gives_findings_inside_it_the_same_each_time_and_for_crlf(linter: Linter, text: str) -> None:
    findings = linter.lint_text(text)
    _inside(text, findings)
    assert linter.lint_text(text) == findings
    assert linter.lint_text(text.replace("\n", "\r\n")) == findings


@given(text=markdown, limit=st.integers(1, 300))
@settings(max_examples=100, deadline=None)
def test_over_the_limit_is_a_document_error_and_nothing_else(linter: Linter, text: str, limit: int) -> None:
    linter = _limited(linter, limit)
    if len(text.encode("utf-8")) > limit:
        with pytest.raises(DocumentError, match=rf"over the limit of {limit:,} bytes"):
            linter.lint_text(text)
        with pytest.raises(DocumentError, match=rf"over the limit of {limit:,} bytes"):
            linter.lint_bytes(text.encode("utf-8"))
    else:
        _inside(text, linter.lint_text(text))


def test_a_file_with_a_flood_of_findings_lists_only_the_first_ones(tmp_path: Path) -> None:
    # One line of encoding damage repeated: 20,000 findings. Listing them all as SARIF once took
    # 2.7 GB for a megabyte of it; the listing stops at --max-findings, the counts do not.
    (tmp_path / "flood.md").write_text("xโ " * 20_000 + "\n", encoding="utf-8")
    done = _lint("flood.md", "--no-config", "--format", "sarif", "--max-findings", "50", cwd=tmp_path)
    assert done.returncode == 1
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert len(results) == 50
    assert "warning: flood.md: 20,000 findings; the first 50 are listed (--max-findings)" in done.stderr
    text = _lint("flood.md", "--no-config", "--max-findings", "50", cwd=tmp_path)
    assert len(text.stdout.splitlines()) == 50
    assert text.stderr.splitlines()[-1] == "20000 errors, 0 warnings, 0 suggestions in 1 file"
