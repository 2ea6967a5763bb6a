"""Without an extra, the message names the extra that brings the missing package (issue 14):
pyarrow and matplotlib come with ``batch``, dask.distributed with ``dask``, pandas and polars
with ``frames``. Each case runs the real command in a fresh process in which the package
cannot be imported (``sys.modules[name] = None``, as if it were not installed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from therapy_signals import RuleBook
from therapy_signals._install import install_command
from therapy_signals.batch import Batch, write_scenarios

from .conftest import simple_scenarios

_RUN = "import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n{body}\n"
_CLI = "from therapy_signals.cli import main\nsys.argv = ['therapy-signals', *{args!r}]\nmain()"


def _without(blocked: list[str], body: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = _RUN.format(blocked=blocked, body=body)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def folder(tmp_path: Path, book: RuleBook) -> Path:
    write_scenarios(simple_scenarios(book, 6), tmp_path / "s.jsonl")
    Batch(backend="durable").run(tmp_path / "s.jsonl", tmp_path / "r.jsonl").complete()
    Batch(backend="durable").run(tmp_path / "s.jsonl", tmp_path / "r.parquet").complete()
    return tmp_path


BATCH = f"which comes with the batch extra: {install_command('batch')}"


@pytest.mark.parametrize(
    ("blocked", "args", "message"),
    [
        (
            ["matplotlib"],
            ["report", "r.jsonl", "-o", "report"],
            f"error: drawing the report's charts needs matplotlib, {BATCH}; summarize() counts without it",
        ),
        (
            ["pyarrow"],
            ["batch", "s.jsonl", "-o", "out.parquet", "--engine", "durable"],
            f"error: reading or writing a Parquet file needs pyarrow, {BATCH}; JSONL and CSV work without it",
        ),
        (
            ["pyarrow"],
            ["generate", "--design", "random", "--n", "3", "-o", "g.parquet"],
            f"error: reading or writing a Parquet file needs pyarrow, {BATCH}",
        ),
        (
            ["pyarrow"],
            ["diff", "r.parquet", "r.parquet"],
            f"error: reading or writing a Parquet file needs pyarrow, {BATCH}",
        ),
        (
            ["distributed"],
            ["batch", "s.jsonl", "-o", "out.jsonl", "--dask", "local"],
            "error: --dask (running on dask.distributed) needs distributed, which comes with the dask extra: "
            + install_command("dask"),
        ),
    ],
)
def test_the_command_names_the_extra(folder: Path, blocked: list[str], args: list[str], message: str) -> None:
    done = _without(blocked, _CLI.format(args=args), folder)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (folder / "report").exists()  # the report stops before it reads or writes anything


@pytest.mark.parametrize(("blocked", "call"), [(["pandas"], "to_pandas"), (["polars"], "to_polars")])
def test_a_data_frame_names_the_frames_extra(folder: Path, blocked: list[str], call: str) -> None:
    body = (
        "from therapy_signals.batch import read_results\n"
        "from therapy_signals.errors import MissingExtraError\n"
        "results = read_results('r.jsonl')\n"
        "assert len(list(results)) == 6  # rows need no extra\n"
        "try:\n"
        f"    results.{call}()\n"
        "except MissingExtraError as error:\n"
        "    print(json.dumps([str(error), error.extra, error.name, isinstance(error, ImportError)]))\n"
    )
    done = _without(blocked, "import json\n" + body, folder)
    assert done.returncode == 0, done.stderr
    message, extra, name, is_import_error = json.loads(done.stdout)
    assert message == (
        f"a results data frame needs {blocked[0]}, which comes with the frames extra: "
        f"{install_command('frames')}; iterating read_results() for rows works without it"
    )
    assert (extra, name, is_import_error) == ("frames", blocked[0], True)
