"""``therapy-signals rules why``: the "why not?" trace on the command line."""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
from pathlib import Path

from therapy_signals import Trace

from .doc_sessions import sessions

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "therapy-signals"
SCENARIO = json.dumps(
    {
        "observations": [
            {"signal": "therapist_self_disclosure", "frequency": "once"},
            {"signal": "therapist_refocuses_on_client"},
        ]
    }
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], input=SCENARIO, capture_output=True, text=True, timeout=120)


def test_text_marks_each_condition_held_or_failed_and_names_the_near_miss() -> None:
    done = run("rules", "why", "-", "boundaries.self-disclosure-takes-over")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "boundaries.self-disclosure-takes-over (concern, boundaries): did not fire",
        "  failed all of:",
        "    failed some observation where signal is therapist_self_disclosure and frequency at least often and "
        "response is one of defensive, dismissed, retaliated, unknown",
        "             observation 0 matches but for its frequency",
        "    failed not:",
        "      held   some observation where signal is therapist_refocuses_on_client: observation 1",
    ]


def test_text_says_which_rule_a_superseded_rule_gave_way_to() -> None:
    done = run("rules", "why", "-", "boundaries.self-disclosure")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "boundaries.self-disclosure (normal, boundaries): fired, but gave way to boundaries.brief-self-disclosure"
    )


def test_json_is_the_trace_model() -> None:
    done = run("rules", "why", "-", "boundaries.self-disclosure", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = Trace.model_validate_json(done.stdout)
    assert result.gave_way and result.by == "boundaries.brief-self-disclosure"


def test_an_unknown_rule_is_a_usage_error_with_a_did_you_mean_and_no_traceback() -> None:
    done = run("rules", "why", "-", "boundaries.self-disclosur")
    assert done.returncode == 2
    assert "did you mean 'boundaries.self-disclosure'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_an_invalid_scenario_names_the_field() -> None:
    done = subprocess.run(
        [str(SCRIPT), "rules", "why", "-", "boundaries.self-disclosure"],
        input='{"observations": [{"signal": "therapist_self_disclosure", "frequency": "sometimes"}]}',
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "observations[0].frequency" in done.stderr and "Traceback" not in done.stderr


def test_the_cli_page_shows_what_rules_why_prints() -> None:
    steps = [(c, shown) for c, shown in sessions(ROOT / "docs" / "cli.md") if " rules why " in c]
    assert len(steps) == 2
    for command, shown in steps:
        runnable = command.replace("| therapy-signals ", f"| {sys.executable} -m therapy_signals ")
        done = subprocess.run(["bash", "-c", runnable], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == shown, done.stdout


def test_the_python_api_page_shows_what_trace_returns() -> None:
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    section = page.split("## `trace`", 1)[1].split("\n## ", 1)[0]
    code = "".join(re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M))
    test = doctest.DocTestParser().get_doctest(code, {}, "python-api.md#trace", None, 0)
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0
