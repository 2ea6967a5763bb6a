"""Exit codes a pipeline can rely on (issue 14): ``batch`` fails when records were rejected
(unless ``--max-errors`` allows them), and ``diff --exit-code`` fails when anything changed,
listing the scenarios whose findings changed at the same level too."""

from __future__ import annotations

import json
from pathlib import Path

from therapy_signals.batch import diff_results
from therapy_signals.batch._io import Target, result_sink
from therapy_signals.batch._results import Result
from therapy_signals.model import Level

from .conftest import BAD_LINES
from .test_cli import ok, run


def test_batch_exits_1_when_records_were_rejected_unless_max_errors_allows_them(tmp_path: Path) -> None:
    good = ok("generate", "--design", "random", "--n", "12", "--seed", "3", "-q").stdout.decode().splitlines()
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(good[:4] + BAD_LINES[:3] + good[4:]) + "\n")

    done = run("batch", source, "-o", tmp_path / "strict.jsonl")
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "15 records: 12 results" in err
    assert (
        f"error: 3 records rejected, more than --max-errors 0 allows; {tmp_path / 'strict.jsonl'}.errors.jsonl lists them"
        in err
    )
    assert len((tmp_path / "strict.jsonl").read_text().splitlines()) == 12  # the results are all there
    manifest = json.loads(Path(f"{tmp_path / 'strict.jsonl'}.manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["errors"] == 3

    quiet = run("batch", source, "-o", tmp_path / "quiet.jsonl", "-q")
    assert quiet.returncode == 1 and "3 records rejected" in quiet.stderr.decode()  # said even with --quiet

    assert run("batch", source, "-o", tmp_path / "two.jsonl", "--max-errors", "2").returncode == 1
    assert run("batch", source, "-o", tmp_path / "three.jsonl", "--max-errors", "3").returncode == 0
    again = run("batch", source, "-o", tmp_path / "strict.jsonl", "--resume")  # a finished run says the same
    assert again.returncode == 1 and "nothing to resume" in again.stderr.decode()
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(good) + "\n")
    assert run("batch", clean, "-o", tmp_path / "clean-out.jsonl").returncode == 0
    assert run("batch", source, "-o", tmp_path / "x.jsonl", "--max-errors", "-1").returncode == 2
    odd = tmp_path / "out\\[draft].jsonl"  # markup would eat "[draft]", escape() the backslash
    said = run("batch", source, "-o", odd).stderr.decode()
    assert f"error: 3 records rejected, more than --max-errors 0 allows; {odd}.errors.jsonl lists them" in said


def _write(path: Path, rows: list[tuple[str, Level, tuple[str, ...]]]) -> Path:
    sink = result_sink(Target.parse(path), False)
    sink.write(
        [Result(n, sid, "individual", None, 1, ("x",), level, f, (), ()) for n, (sid, level, f) in enumerate(rows, 1)]
    )
    sink.close()
    return path


def test_diff_lists_findings_changed_at_the_same_level_and_exit_code_says_whether_anything_changed(
    tmp_path: Path,
) -> None:
    base = [("a", Level.discuss, ("r.one",)), ("b", Level.concern, ("r.two",)), ("c", Level.normal, ())]
    before = _write(tmp_path / "before.jsonl", base)
    same = _write(tmp_path / "same.parquet", base)
    findings_only = _write(
        tmp_path / "findings.jsonl",
        [("a", Level.discuss, ("r.one",)), ("b", Level.concern, ("r.three", "r.two")), ("c", Level.normal, ())],
    )
    level = _write(
        tmp_path / "level.jsonl",
        [("a", Level.concern, ("r.one",)), ("b", Level.concern, ("r.two",)), ("c", Level.normal, ())],
    )
    fewer = _write(tmp_path / "fewer.jsonl", base[:2])

    assert run("diff", before, same, "--exit-code").returncode == 0
    assert run("diff", before, findings_only).returncode == 0  # without --exit-code, 0 as before
    done = run("diff", before, findings_only, "--exit-code")
    assert done.returncode == 1
    assert done.stdout.decode().splitlines()[2:] == [
        "Findings changed, level the same, by rule (a scenario is under every rule that appeared or disappeared in it):",
        "  r.three: 1 scenario (fires in 1, no longer in 0), e.g. b",
    ]
    assert run("diff", before, level, "--exit-code").returncode == 1
    assert run("diff", before, fewer, "--exit-code").returncode == 1  # a scenario only in one file
    as_json = run("diff", before, findings_only, "--json", "--exit-code")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["same_level_changes"] == [
        {
            "scenario_id": "b",
            "before": "concern",
            "after": "concern",
            "direction": "same",
            "added": ["r.three"],
            "removed": [],
        }
    ]
    assert list(data["same_level_by_rule"]) == ["r.three"] and data["changes"] == []
    assert (
        run("diff", before, tmp_path / "missing.jsonl", "--exit-code").returncode == 2
    )  # an error is not a difference

    diff = diff_results(before, findings_only)
    assert diff.changed and diff.findings_changed == 1 and [c.scenario_id for c in diff.same_level_changes] == ["b"]
    assert not diff_results(before, same).changed
