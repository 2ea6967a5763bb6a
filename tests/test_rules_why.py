"""``therapy-signals rules why``: the "why not?" trace on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from therapy_signals import Trace

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
