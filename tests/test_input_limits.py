"""Scenario JSON is untrusted: bounded in size, depth and digits, no key twice, JSON's own types.
Every refusal is an InputError or ScenarioError naming the field or line, and exit 2 in the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Guidance, InputError, ScenarioError, explain
from therapy_signals.limits import InputLimits

OK = '{"observations": [{"signal": "feeling_challenged_in_session"}]}'
CLI = Path(sys.executable).parent / "therapy-signals"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "scenario: nested deeper than 32 levels"),
        (
            '{"observations": [{"signal": "x", "note": ' + "[" * 40 + "]" * 40 + "}]}",
            "observations[0].note: nested deeper",
        ),
        ('{"sessions": 1' + "0" * 5000 + ', "observations": []}', "scenario: sessions: a number of 5,001 characters"),
        (
            '{"observations": [{"signal": "a", "signal": "b"}]}',
            "observations[0]: the key 'signal' appears more than once",
        ),
        ('{"observations": [], "observations": []}', "scenario: the key 'observations' appears more than once"),
        (
            '{"observations": [{"signal": "x", "months_after_ending": NaN}]}',
            "months_after_ending: NaN is not a JSON number",
        ),
        ('{"observations": [{"signal": "x", "months_after_ending": -Infinity}]}', "-Infinity is not a JSON number"),
        ('{"observations": [', "scenario:1:19: not valid JSON"),
        ("", "scenario: empty"),
    ],
)
def test_json_that_is_not_a_scenario_is_refused_with_where(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        explain(text)
    assert message in str(caught.value)
    with pytest.raises(InputError):
        explain(text.encode())


def test_size_is_bounded_and_configurable(tmp_path: Path) -> None:
    padded = OK[:-1] + ', "id": "' + "x" * 100 + '"}'
    with pytest.raises(InputError, match=r"scenario: 1\d\d bytes, over the limit of 100 for one scenario"):
        Engine(limits=InputLimits(max_bytes=100)).explain(padded)
    with pytest.raises(ScenarioError, match="id: String should have at most 200 characters"):
        explain(OK[:-1] + ', "id": "' + "x" * 300 + '"}')
    with pytest.raises(ValueError, match=r"InputLimits\.max_depth must be a whole number of 1 or more"):
        InputLimits(max_depth=0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sessions", '"7"', "sessions: a whole number (written without quotes), not the string '7'"),
        ("sessions", "7.0", "sessions: a whole number (written without quotes), not the decimal 7.0"),
        ("sessions", "true", "sessions: a whole number (written without quotes), not the boolean true"),
        ("raised", '"yes"', "observations[0].raised: true or false (written without quotes), not the string 'yes'"),
        ("raised", "1", "observations[0].raised: true or false (written without quotes), not a number"),
        ("note", "5", "observations[0].note: a string, not a number"),
    ],
)
def test_json_types_are_strict(field: str, value: str, message: str) -> None:
    if field == "sessions":
        text = f'{{"sessions": {value}, "observations": [{{"signal": "feeling_challenged_in_session"}}]}}'
    else:
        text = f'{{"observations": [{{"signal": "feeling_challenged_in_session", "{field}": {value}}}]}}'
    with pytest.raises(ScenarioError) as caught:
        explain(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/dev/zero", "/dev/zero: more than 1,048,576 bytes, over the limit for one scenario"),
        ("deep.json", "deep.json: nested deeper than 32 levels"),
        ("twice.json", "twice.json: observations[0]: the key 'signal' appears more than once"),
    ],
)
def test_the_cli_refuses_with_one_line_and_exit_2(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "twice.json").write_text('{"observations": [{"signal": "a", "signal": "b"}]}')
    done = subprocess.run([str(CLI), "explain", source], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith(f"error: {message}") and "\n" not in line, done.stderr


def test_the_cli_size_bound_applies_to_standard_input_and_can_be_raised(tmp_path: Path) -> None:
    big = OK[:-1] + ', "id": "' + "x" * 250 + '"}'
    done = subprocess.run(
        [str(CLI), "explain", "-", "--max-bytes", "100"], input=big, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "<stdin>: more than 100 bytes" in done.stderr
    done = subprocess.run(
        [str(CLI), "explain", "-", "--max-bytes", "1000", "-f", "json"],
        input=big,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "id: String should have at most 200 characters" in done.stderr
    done = subprocess.run(
        [str(CLI), "explain", "-", "-f", "json"], input=OK, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and json.loads(done.stdout)["level"] == "normal"


# -- fuzzing: scenario JSON assembled from valid scenarios and hostile pieces ---------------------

_GOOD = [
    {"observations": [{"signal": "feeling_challenged_in_session", "frequency": "often"}]},
    {"setting": "couples", "sessions": 4, "observations": [{"signal": "client_self_harm_risk"}]},
    {"id": "s", "observations": [{"signal": "sexual_contact", "raised": True, "response": "defensive"}]},
]
_PIECES = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"signal"',
    '"observations"',
    "NaN",
    "1" * 30,
    "-0",
    "1e999",
    '"\\ud800"',
    "\ufeff",
    "\x00",
    "null",
    "true",
    '"raised": "yes"',
    '"sessions": "7"',
    " ",
    "\n",
    '"',
    "\\",
    "é",
]


@st.composite
def _texts(draw: st.DrawFn) -> str:
    text = json.dumps(draw(st.sampled_from(_GOOD)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.sampled_from(_PIECES)) + text[at + cut :]
    return text


@settings(max_examples=400, deadline=None)
@given(_texts())
def test_fuzzed_json_gives_guidance_or_the_librarys_errors(engine: Engine, text: str) -> None:
    for given_as in (text, text.encode("utf-8", "surrogatepass")):
        try:
            guidance = engine.explain(given_as)
        except InputError as error:
            assert str(error).startswith("scenario"), str(error)
            continue
        except ScenarioError as error:
            assert error.problems and all(p.where for p in error.problems)
            continue
        assert isinstance(guidance, Guidance)
        assert guidance == engine.explain(json.loads(text.removeprefix("\ufeff")))  # exactly that JSON
