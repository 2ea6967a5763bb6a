"""The safety floor: with rule packs, a scenario with a safety signal is never answered lower
than the rule base alone would answer it, and loses none of the resources the base shows.

A pack may add rules, reword them, override them and turn some off, and each of those can
be used to lower an answer: an override that keeps a safety rule's id and level but narrows
its condition, a new milder rule on the same signal, a disabled rule that was the highest one
that fired. Checking pack rules one by one cannot rule all of that out, so the floor is a
property of outcomes instead (decision 0013): when a scenario holds a signal the base calls
safety, the base's own rules run beside the packs, and whatever the base would have said at
a higher level than the packs' answer is added to it, together with every resource the base
would have shown. The base is compiled once, on its own durable_rules Host (or columnar backend, as the
Engine's), and runs only for scenarios with a safety signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..model import Category, Level, Scenario
from ..rulebook import Rule, RuleBook, SignalDef
from ._backends import fires_for
from ._facts import EncodedScenario
from .resolve import Resolution, ordered, resolve

__all__ = ["FloorOutcome", "SafetyFloor"]


@dataclass(frozen=True)
class FloorOutcome:
    """The packs' resolution raised to the floor, and the base rules whose resources must show."""

    resolution: Resolution
    base_level: Level
    base_rules: tuple[Rule, ...]


class SafetyFloor:
    """The base rule base of a rule book with packs, ready to answer beside them."""

    def __init__(
        self, base: RuleBook, backend: str = "durable", signals: Mapping[str, SignalDef] | None = None
    ) -> None:
        self.book = base
        self.safety = frozenset(name for name, s in base.signals.items() if s.category is Category.safety)
        # The scenarios are the packs' (``signals``): a pack's own signal keeps its category here.
        self._fires = fires_for(backend, base, signals)

    def applies(self, scenario: Scenario) -> bool:
        return any(o.signal in self.safety for o in scenario.observations)

    def base_resolution(self, encoded: EncodedScenario) -> Resolution:
        return resolve(self.book, encoded, self._fires.fired(encoded))

    def raise_to_floor(self, resolution: Resolution, encoded: EncodedScenario) -> FloorOutcome:
        """The packs' answer, with what the base says above it added in its place."""
        base = self.base_resolution(encoded)
        rules = tuple(m.rule for m in base.findings)
        if base.level <= resolution.level:
            return FloorOutcome(resolution, base.level, rules)
        above = [m for m in base.findings if m.rule.level > resolution.level]
        replaced = {m.rule.id for m in above}  # a pack's milder version of the same rule gives way
        kept = [m for m in resolution.findings if m.rule.id not in replaced]
        raised = Resolution(base.level, ordered([*above, *kept]), resolution.superseded)
        return FloorOutcome(raised, base.level, rules)
