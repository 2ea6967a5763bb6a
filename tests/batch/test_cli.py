"""The researcher's commands, through the installed ``therapy-signals`` script."""

from __future__ import annotations

import gzip
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from therapy_signals import explain
from therapy_signals.batch import read_results

from ..conftest import FEATURES, copy_rulebook
from .conftest import BAD_LINES, SCRIPT


def run(*args: str | Path, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], input=stdin, capture_output=True, timeout=300, cwd=cwd, check=False
    )


def ok(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    done = run(*args, stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    return done


def test_the_researchers_workflow(tmp_path: Path) -> None:
    """The commands of issue 4, one after the other, on real files."""
    factorial = tmp_path / "s.jsonl"
    ok("generate", "--design", "factorial", "--signals", "boundaries", "--max-observations", "2", "-o", factorial)
    count = int(ok("generate", "--design", "factorial", "--signals", "boundaries", "--count").stdout)
    assert len(factorial.read_text().splitlines()) == count > 0

    scenarios = tmp_path / "s.parquet"
    ok("generate", "--design", "random", "--n", "400", "--seed", "7", "-o", scenarios)
    generated = json.loads(Path(f"{scenarios}.manifest.json").read_text())
    assert generated["seed"] == 7 and generated["output"]["scenarios"] == 400

    results = tmp_path / "results.parquet"
    done = ok("batch", factorial, "-o", results, "--workers", "2")
    assert f"{count} records: {count} results" in done.stderr.decode()
    assert len(list(read_results(results))) == count

    serial = tmp_path / "serial.jsonl"
    ok("batch", scenarios, "-o", serial, "--chunk-size", "64")
    on_dask = tmp_path / "dask.jsonl"
    ok("batch", scenarios, "-o", on_dask, "--dask", "local", "--workers", "2", "--chunk-size", "64")
    assert on_dask.read_bytes() == serial.read_bytes()
    manifest = json.loads(Path(f"{on_dask}.manifest.json").read_text())
    assert manifest["parallel"]["dask"] == "local" and manifest["status"] == "complete"

    report = tmp_path / "report"
    done = ok("report", results, "-o", report)
    assert (report / "index.html").is_file() and len(list(report.glob("*.png"))) >= 3
    assert f"{count} scenarios" in done.stdout.decode()

    example = tmp_path / "scenario.json"
    first = json.loads(factorial.read_text().splitlines()[0])
    example.write_text(json.dumps(first))
    done = ok("counterfactual", example, "--max-changes", "1")
    text = done.stdout.decode()
    assert f"Scenario {first['id']}: level" in text and "To move it up" in text
    found = json.loads(ok("counterfactual", example, "--max-changes", "1", "--json").stdout)
    assert found["up"] and all(c["level"] for c in found["up"])


def test_diff_between_rule_versions(tmp_path: Path) -> None:
    old = copy_rulebook(FEATURES, tmp_path / "v1")
    new = copy_rulebook(FEATURES, tmp_path / "v2")
    rules = new / "rules.yaml"
    rules.write_text(rules.read_text().replace("{sessions: {at_least: 12}}", "{sessions: {at_least: 2}}"))
    scenarios = tmp_path / "s.csv"
    ok(
        *("generate", "--design", "factorial", "--signals", "dependency", "--vary", "sessions=1,5,20"),
        *("--rules", old, "-o", scenarios),
    )
    for version in (old, new):
        ok("batch", scenarios, "-o", tmp_path / f"results-{version.name}.parquet", "--rules", version)
    done = ok("diff", tmp_path / "results-v1.parquet", tmp_path / "results-v2.parquet")
    text = done.stdout.decode()
    assert "compared 3 scenarios: 1 changed level (1 up, 0 down)" in text  # 5 sessions; 1 and 20 keep theirs
    assert "dependency.c-many-sessions" in text
    data = json.loads(ok("diff", tmp_path / "results-v1.parquet", tmp_path / "results-v2.parquet", "--json").stdout)
    assert list(data["by_rule"]) == ["dependency.c-many-sessions"]
    assert [(c["scenario_id"], c["before"], c["after"]) for c in data["changes"]] == [("f2", "discuss", "concern")]


def test_standard_input_to_standard_output(tmp_path: Path) -> None:
    generated = ok("generate", "--design", "random", "--n", "30", "--seed", "1", "-q").stdout
    done = ok("batch", "-", "-q", stdin=gzip.compress(generated))  # gzip on stdin is recognised
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(rows) == 30 and rows[0]["scenario_id"] == "r01" and done.stderr == b""
    as_csv = ok("batch", "-", "-o", "-", "--output-format", "csv", "--text", "-q", stdin=generated).stdout.decode()
    assert as_csv.startswith(
        "scenario_id,setting,sessions,observations,signals,level,findings,superseded,categories,text"
    )


def test_bad_records_are_set_aside_unless_fail_fast(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    good = ok("generate", "--design", "random", "--n", "20", "--seed", "2", "-q").stdout.decode().splitlines()
    source.write_text("\n".join(good[:5] + BAD_LINES[:2] + good[5:]) + "\n")
    out = tmp_path / "out.csv"
    done = ok("batch", source, "-o", out, "--max-errors", "2")  # without it, exit code 1 (test_exit_codes)
    assert "22 records: 20 results" in done.stderr.decode() and "2 rejected, see" in done.stderr.decode()
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["error"]) for e in errors] == [(6, "invalid JSON"), (7, "invalid scenario")]
    assert errors[0]["input"] == BAD_LINES[0]

    done = run("batch", source, "-o", tmp_path / "strict.csv", "--fail-fast")
    assert done.returncode == 2
    assert "line 6: invalid JSON" in done.stderr.decode() and "--fail-fast" in done.stderr.decode()

    done = run("batch", tmp_path / "missing.jsonl", "-o", tmp_path / "x.jsonl")
    assert done.returncode == 2 and "no such file" in done.stderr.decode()
    done = run("generate", "--design", "factorial", "--signals", "boundries")
    assert done.returncode == 2 and "'boundries' is neither a category" in done.stderr.decode()


def test_quiet_off_a_terminal_and_a_progress_bar_on_one(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    ok("generate", "--design", "random", "--n", "300", "--seed", "3", "-o", source)
    done = ok("batch", source, "-o", tmp_path / "plain.jsonl")
    assert done.stderr.decode().startswith("300 records")  # a summary line, no bar

    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    process = subprocess.Popen(
        [str(SCRIPT), "batch", str(source), "-o", str(tmp_path / "tty.jsonl"), "--chunk-size", "50"],
        stdout=subprocess.DEVNULL,
        stderr=child,
        env=env,
    )
    os.close(child)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(main, 4096)
        except OSError:
            break  # the child side closed
        if not data:
            break
        seen += data
    process.wait(timeout=120)
    os.close(main)
    assert process.returncode == 0
    text = seen.decode(errors="replace")
    assert "scenarios/s" in text and "300/300" in text and "eta" in text


def _start_and_wait(source: Path, out: Path, done_at_least: int, *options: str) -> subprocess.Popen[bytes]:
    """Start a batch in its own process group and return once its manifest shows progress."""
    manifest = Path(f"{out}.manifest.json")
    process = subprocess.Popen(
        [str(SCRIPT), "batch", str(source), "-o", str(out), "--chunk-size", "50", *options],
        stderr=subprocess.PIPE,
        start_new_session=True,
        # A shell starts background jobs with Ctrl-C ignored; a terminal would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(manifest.read_text())["counts"]["records"] >= done_at_least:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    return process


def test_ctrl_c_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    ok("generate", "--design", "random", "--n", "1200", "--seed", "5", "-o", source)
    cut = tmp_path / "cut.jsonl"
    process = _start_and_wait(source, cut, 100, "--workers", "2")
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole process group
    _, err = process.communicate(timeout=120)
    manifest = json.loads(Path(f"{cut}.manifest.json").read_text())
    assert process.returncode == 130, err.decode()
    assert f"interrupted after {manifest['counts']['records']:,} records" in err.decode() and "--resume" in err.decode()
    assert manifest["status"] == "interrupted" and manifest["counts"]["records"] < 1200
    assert "Traceback" not in err.decode()  # the workers leave Ctrl-C to the main process
    ok("batch", source, "-o", cut, "--resume", "-q")
    whole = tmp_path / "whole.jsonl"
    ok("batch", source, "-o", whole, "--chunk-size", "50", "-q")
    assert cut.read_bytes() == whole.read_bytes()


def test_resume_after_the_process_is_killed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    ok("generate", "--design", "random", "--n", "1500", "--seed", "4", "-o", source)
    whole = tmp_path / "whole.parquet"
    ok("batch", source, "-o", whole, "--chunk-size", "50", "-q")

    cut = tmp_path / "cut.parquet"
    manifest = Path(f"{cut}.manifest.json")
    process = _start_and_wait(source, cut, 200, "-q")
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = json.loads(manifest.read_text())
    assert killed["status"] == "running" and 0 < killed["counts"]["records"] < 1500
    # A kill leaves the merge half written beside the parts: the resumed run starts it again.
    assert cut.with_name(f".{cut.name}.merging").exists() and not cut.exists()

    done = run("batch", source, "-o", cut, "--chunk-size", "50")
    assert done.returncode == 2 and "--resume" in done.stderr.decode()
    ok("batch", source, "-o", cut, "--resume", "-q")
    assert cut.read_bytes() == whole.read_bytes()
    final = json.loads(manifest.read_text())
    assert final["status"] == "complete" and final["counts"]["records"] == 1500
    assert final["counts"] == json.loads(Path(f"{whole}.manifest.json").read_text())["counts"]
    assert len(final["timing"]["resumed"]) == 1


def test_a_batch_on_columns_loads_no_templates_and_explain_still_renders(tmp_path: Path) -> None:
    # Start-up: a batch without --text renders nothing, so the shipped base's renderer (and
    # Jinja) wait for the first explain, which still gets every word and resource.
    source = tmp_path / "in.jsonl"
    ok("generate", "--design", "random", "--n", "50", "--seed", "3", "-o", source)
    code = (
        "import sys\n"
        "from therapy_signals import Engine\n"
        "from therapy_signals.batch import run_batch\n"
        "engine = Engine(backend='columnar')\n"
        f"run_batch({str(source)!r}, {str(tmp_path / 'out.parquet')!r}, engine=engine).complete()\n"
        "assert 'jinja2' not in sys.modules, 'a template engine was loaded'\n"
        "guidance = engine.explain({'observations': [{'signal': 'sexual_contact'}]})\n"
        "assert 'jinja2' in sys.modules and guidance.resources and guidance.findings[0].references\n"
        "print(guidance.to_text())\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == explain({"observations": [{"signal": "sexual_contact"}]}).to_text().strip()


def test_explain_needs_none_of_the_extras() -> None:
    code = (
        "import sys, therapy_signals, therapy_signals.cli\n"
        "heavy = [m for m in ('pyarrow', 'matplotlib', 'dask', 'distributed') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import therapy_signals.batch\n"
        "assert 'therapy_signals.batch._batch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", "import sys, therapy_signals; print('therapy_signals.batch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_the_commands_are_listed_and_explained() -> None:
    listed = ok("--help").stdout.decode()
    for command in ("generate", "batch", "report", "diff", "counterfactual"):
        assert command in listed
    assert "--resume" in ok("batch", "--help").stdout.decode()


def _clinic(root: Path) -> Path:
    """A pack with a signal and a rule the shipped rules lack: a worker without it rejects the records."""
    pack = root / "clinic"
    (pack / "templates" / "en" / "everyday").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\n")
    (pack / "signals.yaml").write_text(
        "signals:\n  - {id: therapist_late_often, category: everyday, label: your therapist running late}\n"
    )
    (pack / "clinic.yaml").write_text(
        "rules:\n  - id: everyday.therapist-late\n    title: Your therapist often runs late\n"
        "    category: everyday\n    level: discuss\n    when: {signal: therapist_late_often}\n"
        "    normal_when: Now and then, with an apology.\n    explain: everyday/therapist-late.j2\n"
        "    references: [guide#everyday-challenges]\n"
    )
    (pack / "templates" / "en" / "everyday" / "therapist-late.j2").write_text("Running late now and then happens.\n")
    return pack


def test_batch_workers_and_dask_apply_the_packs_and_the_manifest_names_them(tmp_path: Path) -> None:
    pack = _clinic(tmp_path)
    source = tmp_path / "late.jsonl"
    lines = [{"id": f"s{i}", "observations": [{"signal": "therapist_late_often"}]} for i in range(12)]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for extra in (["--workers", "2"], ["--dask", "local", "--workers", "2"], ["--engine", "durable"]):
        out = tmp_path / f"out{len(extra)}{extra[0]}.jsonl"
        ok("batch", source, "-o", out, "--pack", pack, "--chunk-size", "3", "--fail-fast", *extra)
        rows = list(read_results(out))
        assert len(rows) == 12 and {row.level for row in rows} == {"discuss"}, extra
        assert {tuple(row.findings) for row in rows} == {("everyday.therapist-late",)}
        manifest = json.loads(Path(f"{out}.manifest.json").read_text())
        assert manifest["rulebook"]["packs"] == [str(pack.resolve())]
        assert manifest["rulebook"]["name"] == "therapy-signals-core+clinic"


def test_generate_report_and_counterfactual_apply_the_packs(tmp_path: Path) -> None:
    pack = _clinic(tmp_path)
    scenarios = tmp_path / "s.jsonl"
    ok("generate", "--design", "factorial", "--signals", "therapist_late_often", "-o", scenarios, "--pack", pack)
    generated = [json.loads(line) for line in scenarios.read_text().splitlines()]
    assert generated and all(s["observations"][0]["signal"] == "therapist_late_often" for s in generated)
    assert json.loads(Path(f"{scenarios}.manifest.json").read_text())["rulebook"]["packs"] == [str(pack.resolve())]

    results = tmp_path / "r.jsonl"
    ok("batch", scenarios, "-o", results, "--pack", pack, "--fail-fast")
    ok("report", results, "-o", tmp_path / "report", "--pack", pack)

    scenario = tmp_path / "late.json"
    scenario.write_text(json.dumps({"id": "late", "observations": [{"signal": "therapist_late_often"}]}))
    found = json.loads(ok("counterfactual", scenario, "--pack", pack, "--max-changes", "1", "--json").stdout)
    assert found["level"] == "discuss"
    assert run("counterfactual", scenario, "--max-changes", "1").returncode == 2  # unknown without the pack


def test_brackets_in_paths_are_printed_as_given(tmp_path: Path) -> None:
    """Rich markup would read "[x]" as a tag and drop it: the messages would name a file that is not there."""
    scenarios = tmp_path / "s[x].jsonl"
    done = ok("generate", "--design", "random", "--n", "5", "-o", scenarios)
    assert f"wrote 5 scenarios to {scenarios} (manifest: {scenarios}.manifest.json)" in done.stderr.decode()
    with scenarios.open("a") as file:
        file.write("not json\n")
    results = tmp_path / "out[1].jsonl"
    done = ok("batch", scenarios, "-o", results, "--max-errors", "1")
    assert f"see {results}.errors.jsonl" in done.stderr.decode()
    done = ok("batch", scenarios, "-o", results, "--resume", "--max-errors", "1")
    assert f"nothing to resume: {results} is complete" in done.stderr.decode()
    done = ok("report", results, "-o", tmp_path / "report[2]")
    assert f"wrote {tmp_path / 'report[2]' / 'index.html'}" in done.stdout.decode()
    for name in ("in[draft].jsonl", "in\\[1].jsonl"):  # rich.markup.escape kept the first, not the backslash
        missing = run("batch", tmp_path / name, "-o", tmp_path / "o.jsonl")
        assert missing.returncode == 2 and missing.stderr.decode() == f"error: {tmp_path / name}: no such file\n"
