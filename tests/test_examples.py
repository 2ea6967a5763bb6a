"""Every example scenario gets the level its author expected, and the set covers every level."""

from __future__ import annotations

import json

import jsonschema
import pytest

from therapy_signals import Engine, Level, Scenario

from .conftest import EXAMPLES

EXPECTED: dict[str, str] = json.loads((EXAMPLES / "expected-levels.json").read_text())
FILES = sorted((EXAMPLES / "scenarios").glob("*.json"))


def test_expectations_cover_every_file_and_level() -> None:
    assert sorted(EXPECTED) == [f.name for f in FILES]
    assert len(FILES) >= 8
    assert {Level(v) for v in EXPECTED.values()} == set(Level)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_level(engine: Engine, path: object) -> None:
    guidance = engine.explain(json.loads(path.read_text()))  # type: ignore[attr-defined]
    assert guidance.level.value == EXPECTED[path.name]  # type: ignore[attr-defined]
    assert guidance.scenario_id


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_examples_and_guidance_match_their_schemas(engine: Engine, path: object) -> None:
    data = json.loads(path.read_text())  # type: ignore[attr-defined]
    jsonschema.validate(data, Scenario.model_json_schema())
    from therapy_signals import Guidance

    out = json.loads(engine.explain(data).model_dump_json())
    jsonschema.validate(out, Guidance.model_json_schema(mode="serialization"))


def test_serious_and_urgent_lead_with_resources(engine: Engine) -> None:
    for path in FILES:
        guidance = engine.explain(json.loads(path.read_text()))
        if guidance.level >= Level.serious:
            assert guidance.resources, path.name
            text = guidance.to_text()
            support = [r for r in guidance.resources if r.role != "licensing-board"]
            if support:  # immediate support first; the board comes after the steps (decision 0018)
                assert text.index(support[0].name) < text.index(guidance.findings[0].title)
            for board in (r for r in guidance.resources if r.role == "licensing-board"):
                assert text.index(board.name) > text.index("Next steps:")


def test_embed_example_runs() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(EXAMPLES / "embed.py")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("200 normal")
    assert lines[1].startswith("422 ") and "did you mean" in lines[1]
    assert lines[2] == "urgent - show first: Samaritans, Emergency services"
