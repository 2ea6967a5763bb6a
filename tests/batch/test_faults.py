"""Output faults, made real: a file size limit, a full tmpfs, /dev/full, a file in the way.

Issue 10, item 9. Each fault is the operating system's own (no mocks): ``RLIMIT_FSIZE``
makes a write past the size fail with EFBIG; a small tmpfs in a private mount namespace
fills up with ENOSPC; /dev/full refuses every write. Each must end the command with exit
code 2 and one line naming the path and the cause, leave the manifest at ``failed`` (when
it can be written) and no temporary file, and a ``--resume`` once the fault is gone must
give exactly the bytes of a run that was never stopped.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from therapy_signals import Engine
from therapy_signals.batch import Batch

from .conftest import BAD_LINES, SCRIPT

TIMEOUT = 300  # a guard against hanging, not a timing assertion


def _size_limit(size: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    return apply


def cli(
    *args: str | Path, limit: int | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=None if limit is None else _size_limit(limit),
    )


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single line a fault must end with: exit code 2, no traceback."""
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary and lock files that a stopped run must not leave behind."""
    return sorted(
        p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".merging", ".lock")) or p.name.startswith(".")
    )


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 scenarios with a few invalid lines among them."""
    path = tmp_path_factory.mktemp("faults") / "in.jsonl"
    done = cli("generate", "--design", "random", "--n", "250", "--seed", "11", "-o", path, "-q")
    assert done.returncode == 0, done.stderr.decode()
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:100] + BAD_LINES + lines[100:]) + "\n")
    return path


def _whole(engine: Engine, source: Path, out: Path, *, text: bool = False) -> None:
    """The run never stopped, in this process: the same bytes as the command line's."""
    Batch(engine=engine, text=text, chunk_size=25).run(source, out).complete()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "jsonl.gz", "parquet"])
def test_a_file_size_limit_fails_cleanly_and_resumes_to_the_same_bytes(
    tmp_path: Path, engine: Engine, scenarios: Path, fmt: str
) -> None:
    whole = tmp_path / f"whole.{fmt}"
    _whole(engine, scenarios, whole, text=True)
    cut = tmp_path / "cut" / f"cut.{fmt}"
    limit = whole.stat().st_size // 2  # the output cannot grow past half of itself
    done = cli("batch", scenarios, "-o", cut, "--chunk-size", "25", "-q", "--text", limit=limit)
    line = one_error_line(done)  # a Parquet run fails as it merges its parts into the output
    assert line == (
        f"error: {cut}: cannot write: the file grew past the largest file allowed (a file size limit, "
        "as ulimit -f sets); raise the limit or write elsewhere, then run the same command with --resume"
    )
    manifest = json.loads(Path(f"{cut}.manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert leftovers(cut.parent) == []

    # The fixture's five bad records are allowed: the exit code is about the fault, not them.
    again = cli("batch", scenarios, "-o", cut, "--chunk-size", "25", "-q", "--text", "--resume", "--max-errors", "5")
    assert again.returncode == 0, again.stderr.decode()
    assert cut.read_bytes() == whole.read_bytes()
    assert Path(f"{cut}.errors.jsonl").read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()
    final = json.loads(Path(f"{cut}.manifest.json").read_text())
    assert final["status"] == "complete"
    assert final["counts"] == json.loads(Path(f"{whole}.manifest.json").read_text())["counts"]
    assert leftovers(cut.parent) == [] and not Path(f"{cut}.parts").exists()


def test_a_fault_on_the_errors_file_names_it(tmp_path: Path, engine: Engine, scenarios: Path) -> None:
    source = tmp_path / "bad.jsonl"
    good = scenarios.read_text().splitlines()[:5]
    source.write_text("\n".join(good + BAD_LINES * 60) + "\n")  # the errors file is the big one
    whole = tmp_path / "whole.jsonl"
    _whole(engine, source, whole)
    cut = tmp_path / "cut.jsonl"
    errors = Path(f"{cut}.errors.jsonl")
    limit = Path(f"{whole}.errors.jsonl").stat().st_size // 3
    line = one_error_line(cli("batch", source, "-o", cut, "--chunk-size", "25", "-q", limit=limit))
    assert line.startswith(f"error: {errors}: cannot write: the file grew past the largest file allowed")
    assert json.loads(Path(f"{cut}.manifest.json").read_text())["status"] == "failed"
    assert (
        cli("batch", source, "-o", cut, "--chunk-size", "25", "-q", "--resume", "--max-errors", "300").returncode == 0
    )
    assert errors.read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()
    assert cut.read_bytes() == whole.read_bytes()


def test_a_manifest_that_cannot_be_written_leaves_no_temporary_file(
    tmp_path: Path, engine: Engine, scenarios: Path
) -> None:
    cut = tmp_path / "cut.jsonl"
    manifest = Path(f"{cut}.manifest.json")
    line = one_error_line(cli("batch", scenarios, "-o", cut, "-q", limit=600))  # a manifest is 1.5 kB
    assert line.startswith(f"error: {manifest}: cannot write: the file grew past the largest file allowed")
    assert line.endswith("then run it again")  # no manifest, so nothing to resume
    assert leftovers(tmp_path) == [] and not manifest.exists()
    whole = tmp_path / "whole.jsonl"
    _whole(engine, scenarios, whole)
    # Nothing recorded: it starts afresh (the fixture's five bad records allowed).
    again = cli("batch", scenarios, "-o", cut, "--chunk-size", "25", "-q", "--max-errors", "5")
    assert again.returncode == 0, again.stderr.decode()
    assert cut.read_bytes() == whole.read_bytes()


def _private_tmpfs_works(folder: Path) -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {folder}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return probe.returncode == 0


def test_a_full_disk_fails_cleanly_and_resumes_once_space_is_freed(
    tmp_path: Path, engine: Engine, scenarios: Path
) -> None:
    """A real ENOSPC: a small tmpfs, seen only by the commands in its private mount namespace."""
    if not _private_tmpfs_works(tmp_path):
        pytest.skip("needs unshare and mount (root, or a user namespace that allows them)")
    whole = tmp_path / "whole.jsonl"
    _whole(engine, scenarios, whole, text=True)
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    disk.mkdir()
    kept.mkdir()
    size = 2 * whole.stat().st_size + (64 << 10)
    fill = size - whole.stat().st_size // 2  # leave room for half the output
    script = f"""
        set -u
        mount -t tmpfs -o size={size} tmpfs {disk}
        head -c {fill} /dev/zero > {disk}/filler
        {SCRIPT} batch {scenarios} -o {disk}/cut.jsonl --chunk-size 25 -q --text 2> {kept}/first.err
        echo $? > {kept}/first.rc
        cp {disk}/cut.jsonl.manifest.json {kept}/failed.manifest.json 2>/dev/null
        ls -a {disk} > {kept}/listing
        rm {disk}/filler
        {SCRIPT} batch {scenarios} -o {disk}/cut.jsonl --chunk-size 25 -q --text --resume --max-errors 5 \
            2> {kept}/second.err
        echo $? > {kept}/second.rc
        cp {disk}/cut.jsonl {disk}/cut.jsonl.errors.jsonl {disk}/cut.jsonl.manifest.json {kept}/
    """
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], timeout=TIMEOUT, check=True)
    first = subprocess.CompletedProcess(
        [], int((kept / "first.rc").read_text()), b"", (kept / "first.err").read_bytes()
    )
    line = one_error_line(first)
    assert line.startswith(f"error: {disk}/cut.jsonl") and "no space left on the device; free some space" in line
    assert line.endswith("then run the same command with --resume")
    listing = set((kept / "listing").read_text().split()) - {".", ".."}
    assert listing == {"cut.jsonl", "cut.jsonl.errors.jsonl", "cut.jsonl.manifest.json", "filler"}
    failed = kept / "failed.manifest.json"
    if failed.exists():  # on a disk this full even the manifest may not fit; then it says 'running'
        assert json.loads(failed.read_text())["status"] in ("failed", "running")
    assert (kept / "second.rc").read_text().strip() == "0", (kept / "second.err").read_text()
    assert (kept / "cut.jsonl").read_bytes() == whole.read_bytes()
    assert (kept / "cut.jsonl.errors.jsonl").read_bytes() == Path(f"{whole}.errors.jsonl").read_bytes()
    assert json.loads((kept / "cut.jsonl.manifest.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_standard_output_on_a_full_device_is_one_line(scenarios: Path, output_format: str) -> None:
    with Path("/dev/full").open("wb") as full:
        done = cli("batch", scenarios, "-o", "-", "--output-format", output_format, "-q", stdout=full)
    assert one_error_line(done) == (
        "error: standard output: cannot write: no space left on the device; free some space, then run it again"
    )


def test_generate_to_a_full_device_is_one_line() -> None:
    with Path("/dev/full").open("wb") as full:
        done = cli("generate", "--design", "random", "--n", "3000", "--seed", "1", "-q", stdout=full)
    assert one_error_line(done).startswith("error: standard output: cannot write: no space left on the device")


@pytest.mark.parametrize(
    "command",
    [
        ("batch", "{scenarios}", "-o", "{blocker}/out.jsonl"),
        ("batch", "{scenarios}", "-o", "{blocker}/deeper/out.parquet"),
        ("batch", "{scenarios}", "-o", "{out}", "--manifest", "{blocker}/m.json"),
        ("batch", "{scenarios}", "-o", "{out}", "--errors", "{blocker}/e.jsonl"),
        ("generate", "--design", "random", "--n", "5", "-o", "{blocker}/s.csv"),
        ("report", "{results}", "-o", "{blocker}/report"),
    ],
)
def test_a_file_in_the_way_of_a_folder_is_named(tmp_path: Path, scenarios: Path, command: tuple[str, ...]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    results = tmp_path / "results.jsonl"
    results.write_text("")
    values = {"scenarios": scenarios, "blocker": blocker, "out": tmp_path / "out.jsonl", "results": results}
    line = one_error_line(cli(*(part.format(**values) for part in command)))
    assert f"cannot write: {blocker} is a file, not a folder; choose another path" in line
    assert leftovers(tmp_path) == []


def test_generate_under_a_size_limit_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    done = cli("generate", "--design", "random", "--n", "3000", "--seed", "1", "-o", out, "-q", limit=20_000)
    assert one_error_line(done).startswith(f"error: {out}: cannot write: the file grew past the largest file")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no partial scenario file, no manifest


def _as_an_ordinary_user(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    """The CLI bound by file permissions: root (as CI runs here) loses the capability to ignore them."""
    if os.geteuid() != 0:
        return cli(*args)
    command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", str(SCRIPT), *map(str, args)]
    return subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)


def test_a_read_only_folder_is_named(tmp_path: Path, scenarios: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = one_error_line(_as_an_ordinary_user("batch", scenarios, "-o", folder / "out.jsonl"))
    finally:
        folder.chmod(0o755)
    assert f"error: {folder / 'out.jsonl'}: cannot write: permission denied" in line
