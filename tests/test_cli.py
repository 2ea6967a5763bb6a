"""The command line, through the installed ``therapy-signals`` entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from .conftest import EXAMPLES

SCRIPT = Path(sys.executable).parent / "therapy-signals"
EXAMPLE = EXAMPLES / "scenarios" / "repeated-misunderstanding.json"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_script_is_installed() -> None:
    assert SCRIPT.exists() or shutil.which("therapy-signals")


def test_explain_text() -> None:
    done = run("explain", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "Words you could use" in done.stdout
    assert "not a diagnosis" in done.stdout


def test_explain_json_from_stdin_matches_the_guidance_schema() -> None:
    done = run("explain", "-", "--format", "json", stdin=EXAMPLE.read_bytes())
    assert done.returncode == 0, done.stderr
    guidance = json.loads(done.stdout)
    schema = json.loads(run("schema", "guidance").stdout)
    jsonschema.validate(guidance, schema)
    assert guidance["scenario_id"] == json.loads(EXAMPLE.read_text())["id"]


@pytest.mark.parametrize("fmt, marker", [("markdown", "## "), ("html", "<section")])
def test_explain_other_formats(fmt: str, marker: str) -> None:
    done = run("explain", str(EXAMPLE), "-f", fmt)
    assert done.returncode == 0 and done.stdout.startswith(marker)


def test_scenario_schema_accepts_every_example() -> None:
    schema = json.loads(run("schema", "scenario").stdout)
    for path in (EXAMPLES / "scenarios").glob("*.json"):
        jsonschema.validate(json.loads(path.read_text()), schema)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b'{"observations": [{"signal": "feeling_chalenged_in_session"}]}',
            "did you mean 'feeling_challenged_in_session'",
        ),
        (b'{"observations": []}', "observations: List should have at least 1 item"),
        (
            b'{"observations": [{"signal": "business_or_loan", "frequency": 3}]}',
            "observations[0].frequency",
        ),
        (b'{"observations": [', ":1:"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    done = run("explain", str(path))
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_missing_file_and_bad_option() -> None:
    missing = run("explain", "no-such-file.json")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert run("explain", str(EXAMPLE), "--format", "pdf").returncode == 2


def test_rules_list_show_validate() -> None:
    listed = run("rules", "list", "--json")
    assert listed.returncode == 0
    ids = [json.loads(line)["id"] for line in listed.stdout.splitlines()]
    assert "everyday.feeling-challenged" in ids
    shown = run("rules", "show", "everyday.feeling-challenged")
    assert shown.returncode == 0 and "everyday.yaml:" in shown.stdout
    unknown = run("rules", "show", "everyday.feeling-challengd")
    assert unknown.returncode == 2 and "did you mean 'everyday.feeling-challenged'" in unknown.stderr
    valid = run("rules", "validate")
    assert valid.returncode == 0 and "every rule fires and renders" in valid.stdout


def test_rules_validate_reports_a_broken_rule_base(rules_copy: Path) -> None:
    text = (rules_copy / "everyday.yaml").read_text().replace("level: normal", "level: norml", 1)
    (rules_copy / "everyday.yaml").write_text(text)
    done = run("rules", "validate", str(rules_copy))
    assert done.returncode == 2
    assert "everyday.yaml:" in done.stderr and "'normal', 'discuss'" in done.stderr


def test_signals_and_version() -> None:
    signals = run("signals", "--category", "safety")
    assert signals.returncode == 0 and "sexual" in signals.stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("therapy-signals ")


def test_rules_test_runs_a_suite(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "cases:\n"
        "  - name: challenged is normal\n"
        "    scenario: {observations: [{signal: feeling_challenged_in_session}]}\n"
        "    level: normal\n"
        "    rules: [everyday.feeling-challenged]\n"
        "  - name: a wrong expectation\n"
        "    scenario: {observations: [{signal: feeling_challenged_in_session}]}\n"
        "    level: urgent\n"
    )
    done = run("rules", "test", str(suite))
    assert done.returncode == 1
    assert "1 passed, 1 failed" in done.stdout
    assert f"FAIL {suite}:6: a wrong expectation" in done.stderr
    assert "level is normal, expected urgent" in done.stderr
    suite.write_text("cases:\n  - name: typo\n    scenario: {}\n    levl: normal\n")
    bad = run("rules", "test", str(suite))
    assert bad.returncode == 2 and "levl" in bad.stderr


def test_rules_coverage_and_catalog(tmp_path: Path) -> None:
    example = tmp_path / "one.json"
    example.write_text('{"observations": [{"signal": "feeling_challenged_in_session"}]}')
    done = run("rules", "coverage", str(example))
    assert done.returncode == 0, done.stderr
    assert "rules exercised by 1 examples: 1/" in done.stdout
    assert "no example exercises safety." in done.stdout
    out = tmp_path / "catalog"
    made = run("rules", "catalog", "-o", str(out))
    assert made.returncode == 0 and sorted(p.name for p in out.iterdir())[0] == "boundaries.md"
