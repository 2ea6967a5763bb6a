"""Shared fixtures: the shipped rule base and engine, a feature rule base, paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from therapy_signals import Engine, RuleBook, load_rulebook
from therapy_signals.engine._evaluate import count_distinct
from therapy_signals.engine._facts import EncodedScenario, encode

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EXAMPLES = ROOT / "examples"
FEATURES = Path(__file__).parent / "data" / "features"
GUIDE = ROOT.parent / "shared" / "guide" / "therapist-relationship-issues.txt"

settings.register_profile("default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


@pytest.fixture(scope="session")
def book() -> RuleBook:
    return load_rulebook()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


def copy_rulebook(source: Path, target: Path) -> Path:
    """A writable copy of a rule base, with the shipped locale strings and layouts."""
    shutil.copytree(source, target)
    shipped = RULES / "templates" / "en"
    locale = target / "templates" / "en"
    locale.mkdir(parents=True, exist_ok=True)
    if not (locale / "strings.yaml").exists():
        shutil.copy(shipped / "strings.yaml", locale / "strings.yaml")
    if not (locale / "_layout").exists():
        shutil.copytree(shipped / "_layout", locale / "_layout")
    return target


@pytest.fixture(scope="session")
def features_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_rulebook(FEATURES, tmp_path_factory.mktemp("features") / "rules")


@pytest.fixture(scope="session")
def features_engine(features_dir: Path) -> Engine:
    return Engine(features_dir)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped rule base, to break in a test."""
    return copy_rulebook(RULES, tmp_path / "rules")


def encoded_with_counts(engine: Engine, scenario: object) -> tuple[EncodedScenario, dict[str, int]]:
    """A scenario as the Engine encodes it for durable_rules, with the counts its fact carries."""
    encoded = encode(engine.validate(scenario), engine._categories)  # type: ignore[arg-type]
    return encoded, {key: count_distinct(match, encoded) for key, match in engine.rulebook.count_matches()}
