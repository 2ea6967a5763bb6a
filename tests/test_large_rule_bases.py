"""Packs with hundreds of rules: durable_rules 2.0.28 hangs for ever building a ruleset in
which one node has 512 children, which 375 pack rules over the shipped ones reached. A rule
base that large is split into parts, each on its own Host (decision 0015)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from therapy_signals import BUILTIN, Engine, RuleBook
from therapy_signals.engine._durable import PART_PATTERNS, DurableBackend, PartedBackend
from therapy_signals.engine._evaluate import evaluate
from therapy_signals.strategies import scenarios

from .conftest import encoded_with_counts

_FREQUENCY = ("once", "occasionally", "often")
_IMPACT = ("mild", "moderate", "severe")


def _pack(root: Path, count: int, signals: list[str]) -> Path:
    """``count`` rules, each on a signal with its own frequency and impact: all distinct patterns."""
    rules = [
        {
            "id": f"everyday.pack-{i}",
            "title": f"Pack rule {i}",
            "category": "everyday",
            "level": "discuss",
            "when": {
                "signal": signals[i % len(signals)],
                "frequency": _FREQUENCY[i % 3],
                "impact": _IMPACT[i // 3 % 3],
            },
            "normal_when": "Now and then.",
            "explain": "everyday/feeling-challenged.j2",
            "references": ["guide#everyday-challenges"],
        }
        for i in range(count)
    ]
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text("name: wide\nversion: 1.0.0\n")
    (root / "wide.yaml").write_text(yaml.safe_dump({"rules": rules}))
    return root


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Not on safety signals: a pack may not put a safety signal under a lower level.
    signals = sorted(i for i, s in RuleBook.load().signals.items() if s.category.value != "safety")
    return _pack(tmp_path_factory.mktemp("packs") / "wide", 600, signals)


def test_a_pack_of_600_rules_builds_in_a_process_of_its_own(wide: Path) -> None:
    # In a subprocess with a timeout: the failure this guards against is a loop in C that no
    # signal interrupts, which would hang the test run rather than fail it.
    script = (
        "import sys\n"
        "from therapy_signals import BUILTIN, Engine\n"
        "engine = Engine(rule_paths=[BUILTIN, sys.argv[1]])\n"
        "g = engine.explain({'observations': [{'signal': 'feeling_challenged_in_session', 'frequency': 'often', 'impact': 'severe'}]})\n"
        "print(len(engine.rulebook.rules), len(g.findings))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(wide)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rules, findings = map(int, done.stdout.split())
    assert rules == len(RuleBook.load().rules) + 600
    assert findings >= 1


@pytest.fixture(scope="module")
def wide_engine(wide: Path) -> Engine:
    return Engine(rule_paths=[BUILTIN, wide])


def test_a_wide_rule_base_is_split_into_parts_under_the_bound(wide_engine: Engine) -> None:
    backend = wide_engine._backend
    assert isinstance(backend, PartedBackend)
    assert len(backend.parts) >= 2
    for part in backend.parts:
        assert len(part._spec) <= PART_PATTERNS  # one pattern per durable rule here


def test_the_shipped_rule_base_fits_one_host(engine: Engine) -> None:
    assert isinstance(engine._backend, DurableBackend)


def _python_fired(engine: Engine, scenario: Any) -> frozenset[str]:
    encoded, _ = encoded_with_counts(engine, scenario)
    return frozenset(r for r, rule in engine.rulebook.rules.items() if evaluate(rule.when, encoded).ok)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(max_observations=40))
def test_the_parts_fire_what_the_python_evaluator_says(wide_engine: Engine, scenario: Any) -> None:
    assert wide_engine.fired(scenario) == _python_fired(wide_engine, scenario)


def test_guidance_with_the_wide_pack_is_explained_and_rendered(wide_engine: Engine) -> None:
    scenario = {
        "observations": [
            {"signal": s, "frequency": "often", "impact": "severe"}
            for s in ("feeling_challenged_in_session", "sexual_contact")
        ]
    }
    g = wide_engine.explain(scenario)
    assert {f.rule_id for f in g.findings} >= {"safety.sexual-contact-ongoing"}
    assert json.loads(g.model_dump_json())["level"] == "urgent"
    assert g.to_text()
