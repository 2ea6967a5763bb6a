"""How much of the guide the rules cover, and which rules no example exercises."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .engine import Engine
from .suite import load_suite


@dataclass(frozen=True)
class SectionCoverage:
    heading: str
    bullets: int
    covered: int
    missing: tuple[str, ...]


def guide_coverage(engine: Engine) -> list[SectionCoverage]:
    """Per guide section: bullets, bullets whose mapped rules all exist, and the rest."""
    guide = engine.rulebook.guide_map
    if guide is None:
        return []
    found = []
    for section in guide.sections:
        missing = tuple(
            b.text for b in section.bullets if not b.rules or any(r not in engine.rulebook.rules for r in b.rules)
        )
        found.append(
            SectionCoverage(section.heading, len(section.bullets), len(section.bullets) - len(missing), missing)
        )
    return found


def exercised(engine: Engine, paths: Iterable[Path]) -> tuple[int, set[str]]:
    """How many example scenarios there are, and every rule that fires on one of them."""
    scenarios: list[object] = []
    for path in paths:
        if path.is_dir():
            scenarios += [json.loads(p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.json"))]
            suites = sorted(p for p in path.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
            scenarios += [case.scenario for case in load_suite(suites)] if suites else []
        elif path.suffix == ".json":
            scenarios.append(json.loads(path.read_text(encoding="utf-8")))
        else:
            scenarios += [case.scenario for case in load_suite([path])]
    fired: set[str] = set()
    for scenario in scenarios:
        fired |= engine.fired(scenario)  # type: ignore[arg-type]
    return len(scenarios), fired
