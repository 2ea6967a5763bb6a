"""The command line, through the installed ``therapy-signals`` entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals.rulebook import RuleBook

from .conftest import EXAMPLES, ROOT

SCRIPT = Path(sys.executable).parent / "therapy-signals"
EXAMPLE = EXAMPLES / "scenarios" / "repeated-misunderstanding.json"
ROOT_SUITES = ROOT / "tests" / "scenarios" / "everyday.yaml"


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


# -- packs on every command that reads rules (issue 14) ------------------------------------

CLINIC_RULE = """rules:
  - id: everyday.therapist-late
    title: Your therapist often runs late
    category: everyday
    level: discuss
    when: {signal: therapist_late_often}
    normal_when: Now and then, with an apology.
    explain: everyday/therapist-late.j2
    references: [guide#everyday-challenges]
"""
LATE = {"id": "late", "observations": [{"signal": "therapist_late_often"}]}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack with one new signal, its rule and its template: only a command that applies it knows them."""
    pack = tmp_path_factory.mktemp("packs") / "clinic"
    (pack / "templates" / "en" / "everyday").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\n")
    (pack / "signals.yaml").write_text(
        "signals:\n  - {id: therapist_late_often, category: everyday, label: your therapist running late}\n"
    )
    (pack / "clinic.yaml").write_text(CLINIC_RULE)
    (pack / "templates" / "en" / "everyday" / "therapist-late.j2").write_text("Running late now and then happens.\n")
    return pack


def test_explain_applies_packs(clinic: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "late.json"
    scenario.write_text(json.dumps(LATE))
    assert run("explain", str(scenario)).returncode == 2  # the shipped rules do not know the signal
    done = run("explain", str(scenario), "--pack", str(clinic), "-f", "json")
    assert done.returncode == 0, done.stderr
    guidance = json.loads(done.stdout)
    assert [f["rule_id"] for f in guidance["findings"]] == ["everyday.therapist-late"]
    assert guidance["rulebook"]["name"] == "therapy-signals-core+clinic"


def test_packs_apply_in_order(clinic: Path, tmp_path: Path) -> None:
    """A second pack overrides the first one's rule: the order on the command line is the order applied."""
    second = tmp_path / "second"
    (second / "templates" / "en" / "everyday").mkdir(parents=True)
    (second / "pack.yaml").write_text("name: second\nversion: 1.0.0\n")
    (second / "r.yaml").write_text(CLINIC_RULE.replace("level: discuss", "level: concern"))
    (second / "templates" / "en" / "everyday" / "therapist-late.j2").write_text("Late again.\n")
    done = run("rules", "list", "--pack", str(clinic), "--pack", str(second), "--json")
    assert done.returncode == 0, done.stderr
    late = [json.loads(line) for line in done.stdout.splitlines() if 'therapist-late"' in line]
    assert [row["level"] for row in late] == ["concern"]


def test_the_rules_commands_and_signals_apply_packs(clinic: Path, tmp_path: Path) -> None:
    pack = str(clinic)
    listed = run("signals", "--pack", pack, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "therapist_late_often" in [s["id"] for s in json.loads(listed.stdout)["signals"]]
    packs = json.loads(listed.stdout)["rulebook"]["packs"]
    assert [(p["name"], p["version"]) for p in packs] == [("clinic", "1.0.0")] and len(packs[0]["hash"]) == 64

    shown = run("rules", "show", "everyday.therapist-late", "--pack", pack)
    assert shown.returncode == 0, shown.stderr
    assert f"{clinic / 'clinic.yaml'}:2" in shown.stdout

    suite = tmp_path / "late.yaml"
    suite.write_text(
        "cases:\n  - name: late\n    scenario:\n      observations: [{signal: therapist_late_often}]\n"
        "    level: discuss\n    rules: [everyday.therapist-late]\n"
    )
    tested = run("rules", "test", str(suite), "--pack", pack)
    assert tested.returncode == 0 and "1 passed, 0 failed" in tested.stdout, tested.stderr

    coverage = run("rules", "coverage", str(suite), "--pack", pack, "--format", "json")
    assert coverage.returncode == 0, coverage.stderr
    assert "everyday.therapist-late" not in json.loads(coverage.stdout)["rules"]["not_exercised"]

    pages = tmp_path / "catalog"
    written = run("rules", "catalog", "-o", str(pages), "--pack", pack)
    assert written.returncode == 0, written.stderr
    assert "everyday.therapist-late" in (pages / "everyday.md").read_text()

    validated = run("rules", "validate", "--pack", pack)
    assert validated.returncode == 0 and "therapy-signals-core+clinic" in validated.stdout, validated.stderr

    scenario = tmp_path / "late.json"
    scenario.write_text('{"observations": [{"signal": "therapist_late_often"}]}')
    traced = run("rules", "why", str(scenario), "everyday.therapist-late", "--pack", pack, "--format", "json")
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout)["fired"] is True


def test_the_scenario_schema_lists_the_loaded_signal_ids(clinic: Path) -> None:
    """An app validating against the printed schema refuses what the engine refuses: a signal it does not know."""
    shipped = json.loads(run("schema", "scenario").stdout)
    ids = shipped["$defs"]["Observation"]["properties"]["signal"]["enum"]
    assert ids == sorted(RuleBook.load().signals)
    typo = {"observations": [{"signal": "feeling_chalenged_in_session"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, shipped)
    late = {"observations": [{"signal": "therapist_late_often"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(late, shipped)
    packed = json.loads(run("schema", "scenario", "--pack", str(clinic)).stdout)
    jsonschema.validate(late, packed)


@pytest.mark.parametrize(
    "command",
    [
        ["explain", "EXAMPLE"],
        ["signals"],
        ["rules", "list"],
        ["rules", "show", "everyday.feeling-challenged"],
        ["rules", "test", "SUITE"],
        ["rules", "coverage", "EXAMPLE"],
        ["rules", "why", "EXAMPLE", "everyday.feeling-challenged"],
        ["rules", "catalog", "-o", "OUT"],
        ["lint", "EXAMPLE"],
        ["batch", "EXAMPLE"],
        ["counterfactual", "EXAMPLE"],
        ["generate", "--design", "factorial", "--count"],
    ],
)
def test_rules_naming_a_pack_says_to_use_pack(command: list[str], clinic: Path, tmp_path: Path) -> None:
    names = {"EXAMPLE": str(EXAMPLE), "SUITE": str(ROOT_SUITES), "OUT": str(tmp_path / "out")}
    done = run(*[names.get(word, word) for word in command], "--rules", str(clinic))
    assert done.returncode == 2
    assert "this is a rule pack" in done.stderr and f"use --pack {clinic}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


# -- what a user or a path says is printed as it is, never read as Rich markup ---------------


def test_brackets_in_paths_and_messages_are_printed(rules_copy: Path, tmp_path: Path) -> None:
    missing = run("explain", str(tmp_path / "notes[draft].json"))
    assert missing.returncode == 2 and "notes[draft].json: no such file" in missing.stderr

    base = tmp_path / "rules[x]"
    rules_copy.rename(base)
    shown = run("rules", "show", "dependency.abandonment", "--rules", str(base))
    assert shown.returncode == 0, shown.stderr
    assert f"({base / 'dependency.yaml'}:" in shown.stdout

    suite = tmp_path / "suite[b].yaml"
    suite.write_text(
        "cases:\n  - name: a [bold]wrong[/] level\n    scenario:\n"
        "      observations: [{signal: feeling_challenged_in_session}]\n    level: urgent\n"
    )
    failed = run("rules", "test", str(suite))
    assert failed.returncode == 1
    assert f"FAIL {suite}:2: a [bold]wrong[/] level" in failed.stderr

    out = tmp_path / "pages[1]"
    written = run("rules", "catalog", "-o", str(out))
    assert written.returncode == 0 and f"to {out}" in written.stdout


# -- lists: whole when piped, and JSON throughout ------------------------------------------


def test_rules_list_piped_keeps_every_id_and_title_whole() -> None:
    from therapy_signals import RuleBook

    book = RuleBook.load()
    # COLUMNS=80 as a terminal of 80 would say: a pipe is no terminal, so it must not narrow the table.
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([str(SCRIPT), "rules", "list"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    for rule in book.rules.values():
        assert any(f"│ {rule.id} " in row and f"│ {rule.title} " in row for row in rows), rule.id
    assert "…" not in done.stdout


def test_signals_lists_as_json_and_json_lines() -> None:
    from therapy_signals import RuleBook

    book = RuleBook.load()
    document = run("signals", "--category", "safety", "--format", "json")
    assert document.returncode == 0, document.stderr
    data = json.loads(document.stdout)
    assert data["rulebook"]["hash"] == book.content_hash
    expected = [s for s in book.signals.values() if s.category.value == "safety"]
    assert data["signals"] == [{"id": s.id, "category": "safety", "label": s.label} for s in expected]
    lines = run("signals", "--category", "safety", "--json")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == data["signals"]
    assert run("signals", "--json", "--format", "json").returncode == 2


def test_rules_list_format_json_and_the_json_alias() -> None:
    document = run("rules", "list", "--level", "urgent", "--format", "json")
    assert document.returncode == 0, document.stderr
    rules = json.loads(document.stdout)["rules"]
    assert rules and {r["level"] for r in rules} == {"urgent"}
    alias = run("rules", "list", "--level", "urgent", "--json")
    assert [json.loads(line) for line in alias.stdout.splitlines()] == rules
    assert run("rules", "list", "--level", "urgent", "-f", "jsonl").stdout == alias.stdout


def test_rules_coverage_as_json() -> None:
    done = run("rules", "coverage", str(EXAMPLES / "scenarios"), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["guide"]["covered"] == sum(s["covered"] for s in data["guide"]["sections"])
    assert data["rules"]["examples"] == len(list((EXAMPLES / "scenarios").glob("*.json")))
    assert data["rules"]["exercised"] + len(data["rules"]["not_exercised"]) == data["rules"]["total"]


DOC_SESSIONS = (
    """echo '{"observations": [{"signal": "gift_to_therapist", "note": "a mug I painted"}]}' | therapy-signals explain -""",
    "therapy-signals rules list --level urgent --format json",
    "therapy-signals signals --category healthy --json",
)


def test_the_cli_pages_sessions_about_packs_formats_and_notes_give_the_output_shown(tmp_path: Path) -> None:
    from .doc_sessions import pattern, sessions

    page = ROOT / "docs" / "cli.md"
    steps = [(command, shown) for command, shown in sessions(page) if command in DOC_SESSIONS]
    assert sorted(command for command, _ in steps) == sorted(DOC_SESSIONS)
    for command, shown in steps:
        runnable = command.replace("therapy-signals ", f"{SCRIPT} ")
        done = subprocess.run(["bash", "-c", runnable], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert pattern(shown).search(done.stdout), f"$ {command}\n--- got:\n{done.stdout}"
    # The hint the page quotes for a pack given as --rules, word for word.
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\n")
    done = subprocess.run(
        [str(SCRIPT), "rules", "list", "--rules", "clinic"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    quoted = " ".join(page.read_text(encoding="utf-8").split()).split("refused with a hint: `")[1].split("`")[0]
    assert " ".join(done.stderr.split()) == quoted


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet="[]\\=#/ boldredlink:", min_size=1, max_size=40).filter(lambda n: "/" not in n))
def test_any_folder_name_is_printed_as_given(tmp_path: Path, name: str) -> None:
    """Whatever brackets, backslashes or tag-like words a name holds, the error names that very folder."""
    from typer.testing import CliRunner

    from therapy_signals.cli import app

    path = tmp_path / name
    done = CliRunner().invoke(app, ["rules", "list", "--rules", str(path)])
    assert done.exit_code == 2
    assert done.stderr.startswith("error: invalid rule base (1 problem):\n")
    assert f"\n  {path}: not a folder;" in done.stderr


def test_a_backslash_before_a_bracket_is_kept(tmp_path: Path) -> None:
    """rich.markup.escape leaves "\\[" for markup to read as an escaped bracket: the backslash went."""
    path = tmp_path / "notes\\[1].json"
    done = run("explain", str(path))
    assert done.returncode == 2 and done.stderr == f"error: {path}: no such file\n"


def test_rules_test_lists_every_case_as_json_and_keeps_its_exit_code(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "cases:\n  - name: challenged is normal\n    scenario:\n"
        "      observations: [{signal: feeling_challenged_in_session}]\n    level: normal\n"
        "  - name: challenged is not urgent\n    scenario:\n"
        "      observations: [{signal: feeling_challenged_in_session}]\n    level: urgent\n"
    )
    done = run("rules", "test", str(suite), "--format", "json")
    assert done.returncode == 1 and done.stderr == ""
    cases = json.loads(done.stdout)["cases"]
    assert [(c["where"], c["passed"]) for c in cases] == [(f"{suite}:2", True), (f"{suite}:6", False)]
    assert cases[1]["problems"] == ["level is normal, expected urgent"]
    lines = run("rules", "test", str(suite), "-f", "jsonl")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == cases and lines.returncode == 1
    assert run("rules", "test", str(ROOT_SUITES), "-f", "json").returncode == 0


@pytest.mark.parametrize(
    "command", [["explain", "EXAMPLE"], ["rules", "validate"], ["lint", "EXAMPLE"], ["batch", "EXAMPLE"]]
)
def test_pack_naming_a_rule_base_says_to_use_rules(command: list[str]) -> None:
    done = run(*[str(EXAMPLE) if word == "EXAMPLE" else word for word in command], "--pack", str(ROOT / "rules"))
    assert done.returncode == 2 and done.stdout == ""
    assert "this is a rule base" in done.stderr and f"use --rules {ROOT / 'rules'}" in done.stderr, done.stderr
