"""Counterfactuals: the smallest changes to one scenario that move its overall level.

The search tries every single edit: remove one observation, set one context field of one
observation to each other value (or to "not given"), set the setting or the number of
sessions to each value where a rule draws a line, or add one observation of a signal not
yet present. A direction (up or down) that no single edit reaches is searched with pairs
of edits, up to ``max_changes``. Only the smallest size that works is reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS
from ..engine import Engine, ScenarioInput, Verdict
from ..model import Level, Scenario
from ..rulebook import RuleBook
from ._generate import VARIABLE_FIELDS, _all_values

__all__ = ["Counterfactual", "Counterfactuals", "Edit", "counterfactuals"]

EditKind = Literal["remove", "change", "setting", "add"]
_KIND_ORDER = {"change": 0, "setting": 1, "remove": 2, "add": 3}


def _word(value: Any) -> str:
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class Edit:
    """One change to a scenario; ``index`` is the observation's position in the original."""

    kind: EditKind
    index: int | None = None
    field: str | None = None
    before: Any = None
    after: Any = None
    signal: str | None = None

    def describe(self) -> str:
        if self.kind == "remove":
            return f"remove observation {self.index} ({self.signal})"
        if self.kind == "add":
            return f"add an observation of {self.signal}"
        if self.kind == "setting":
            return f"set {self.field} to {_word(self.after)} (was {_word(self.before)})"
        return (
            f"set {self.field} of observation {self.index} ({self.signal}) to {_word(self.after)} "
            f"(was {_word(self.before)})"
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "description": self.describe()}
        if self.index is not None:
            data["observation"] = self.index
        if self.signal is not None:
            data["signal"] = self.signal
        if self.field is not None:
            data.update({"field": self.field, "before": _plain(self.before), "after": _plain(self.after)})
        return data


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


@dataclass(frozen=True)
class Counterfactual:
    """A set of edits, the level they lead to, and which findings came and went."""

    edits: tuple[Edit, ...]
    level: Level
    added: tuple[str, ...]
    removed: tuple[str, ...]
    scenario: Scenario

    def describe(self) -> str:
        return "; ".join(edit.describe() for edit in self.edits)

    def to_dict(self, book: RuleBook | None = None) -> dict[str, Any]:
        def titled(ids: Iterable[str]) -> list[dict[str, str]]:
            return [
                {"rule": r, "title": book.rules[r].title if book is not None and r in book.rules else ""} for r in ids
            ]

        return {
            "edits": [edit.to_dict() for edit in self.edits],
            "description": self.describe(),
            "level": self.level.value,
            "now_applies": titled(self.added),
            "no_longer_applies": titled(self.removed),
            "scenario": self.scenario.model_dump(mode="json", exclude_none=True),
        }


@dataclass
class Counterfactuals:
    """The smallest edits that raise (``up``) or lower (``down``) a scenario's level."""

    scenario: Scenario
    level: Level
    findings: tuple[str, ...]
    up: list[Counterfactual] = field(default_factory=list)
    down: list[Counterfactual] = field(default_factory=list)
    tried: int = 0
    complete: bool = True

    def to_dict(self, book: RuleBook | None = None) -> dict[str, Any]:
        return {
            "scenario": self.scenario.model_dump(mode="json", exclude_none=True),
            "level": self.level.value,
            "findings": list(self.findings),
            "up": [c.to_dict(book) for c in self.up],
            "down": [c.to_dict(book) for c in self.down],
            "tried": self.tried,
            "complete": self.complete,
        }


def _single_edits(scenario: Scenario, book: RuleBook) -> list[Edit]:
    edits: list[Edit] = []
    observations = scenario.observations
    for index, observation in enumerate(observations):
        for name, spec in OBSERVATION_FIELDS.items():
            current = _plain(getattr(observation, name))
            for value in _all_values(book, spec):
                if value == current:
                    continue
                if name == "raised" and value is False and observation.response is not None:
                    continue  # a response implies it was raised
                if name == "response" and value is not None and observation.raised is False:
                    continue
                edits.append(Edit("change", index, name, current, value, observation.signal))
    for name, spec in SCENARIO_FIELDS.items():
        current = _plain(getattr(scenario, name))
        for value in _all_values(book, VARIABLE_FIELDS[spec.name]):
            if value != current:
                edits.append(Edit("setting", None, name, current, value))
    if len(observations) > 1:
        edits.extend(Edit("remove", i, signal=o.signal) for i, o in enumerate(observations))
    present = {o.signal for o in observations}
    edits.extend(Edit("add", signal=s) for s in book.signals if s not in present)
    return edits


def _apply(scenario: Scenario, edits: Iterable[Edit]) -> Scenario | None:
    data = scenario.model_dump(exclude_none=True)
    observations: list[dict[str, Any] | None] = list(data.pop("observations"))
    added: list[dict[str, Any]] = []
    for edit in edits:
        if edit.kind == "setting":
            assert edit.field is not None
            if edit.after is None:
                data.pop(edit.field, None)
            else:
                data[edit.field] = edit.after
        elif edit.kind == "add":
            added.append({"signal": edit.signal})
        elif edit.kind == "remove":
            assert edit.index is not None
            observations[edit.index] = None
        else:
            assert edit.index is not None and edit.field is not None
            target = observations[edit.index]
            if target is None:
                return None
            target = dict(target)
            if edit.after is None:
                target.pop(edit.field, None)
            else:
                target[edit.field] = edit.after
            observations[edit.index] = target
    kept = [o for o in observations if o is not None] + added
    try:
        return Scenario.model_validate({**data, "observations": kept})
    except ValueError:
        return None  # e.g. two observations made identical


def _compatible(first: Edit, second: Edit) -> bool:
    """Two edits that do not undo or overwrite each other."""
    if first.kind == "add" or second.kind == "add":
        return first.signal != second.signal
    if first.kind == "setting" or second.kind == "setting":
        return first.field != second.field or first.kind != second.kind
    return first.index != second.index


_BLOCK = 512  # changed scenarios evaluated together


class _Search:
    def __init__(self, engine: Engine, scenario: Scenario, limit: int) -> None:
        self.engine = engine
        self.scenario = scenario
        self.limit = limit
        self.base = engine.explain(scenario, render=False)
        self.tried = 0

    def _changed(self, edits: tuple[Edit, ...], verdict: Verdict, changed: Scenario) -> Counterfactual | None:
        if verdict.level is self.base.level:
            return None
        before = [f.rule_id for f in self.base.findings]
        after = list(verdict.findings)
        return Counterfactual(
            edits,
            verdict.level,
            added=tuple(r for r in after if r not in before),
            removed=tuple(r for r in before if r not in after),
            scenario=changed,
        )

    def run(
        self, candidates: Iterator[tuple[Edit, ...]], wanted: set[str]
    ) -> tuple[dict[str, list[Counterfactual]], bool]:
        """Evaluate the candidates in order, up to ``limit`` changed scenarios in all; False when
        some were left. They go to the engine a block at a time (on the columnar backend, as
        arrays), which finds what one at a time would, in the same order."""
        found: dict[str, list[Counterfactual]] = {"up": [], "down": []}
        pending = iter(candidates)
        while True:
            if self.tried >= self.limit:
                return found, next(pending, None) is None
            block: list[tuple[tuple[Edit, ...], Scenario]] = []
            for edits in pending:
                changed = _apply(self.scenario, edits)
                if changed is not None:
                    block.append((edits, changed))
                if self.tried + len(block) >= self.limit or len(block) == _BLOCK:
                    break
            else:
                if not block:
                    return found, True
            self.tried += len(block)
            for (edits, changed), verdict in zip(block, self.engine.verdicts([c for _, c in block]), strict=True):
                result = self._changed(edits, verdict, changed)
                if result is None:
                    continue
                direction = "up" if result.level > self.base.level else "down"
                if direction in wanted:
                    found[direction].append(result)


def _ordered(found: list[Counterfactual], base: Level) -> list[Counterfactual]:
    return sorted(
        found,
        key=lambda c: (
            abs(c.level.rank - base.rank),
            [_KIND_ORDER[e.kind] for e in c.edits],
            c.describe(),
        ),
    )


def counterfactuals(
    scenario: ScenarioInput,
    engine: Engine | None = None,
    *,
    max_changes: int = 2,
    limit: int = 20_000,
) -> Counterfactuals:
    """The smallest edits that move a scenario's overall level up, and down.

    Args:
        scenario: a Scenario, a dict in its shape, or JSON text.
        engine: the Engine (rules) to ask; default, the shipped rules.
        max_changes: the most edits combined, 1 or 2.
        limit: stop after evaluating this many changed scenarios (``complete`` is then False).
    """
    if engine is None:
        from ._batch import default_backend

        engine = Engine(backend=default_backend())
    parsed = engine.validate(scenario)
    search = _Search(engine, parsed, limit)
    base = search.base.level
    wanted = {d for d, possible in (("up", base < Level.urgent), ("down", base > Level.normal)) if possible}
    singles = _single_edits(parsed, engine.rulebook)
    found, complete = search.run(((e,) for e in singles), wanted)
    missing = {d for d in wanted if not found[d]}
    if missing and max_changes >= 2 and complete:
        # Pairs only where single edits fall short. Adding a concern-category observation never
        # lowers a level (decision 0005), so those additions are left out of a search for "down".
        book = engine.rulebook
        pool = [
            e
            for e in singles
            if missing != {"down"} or e.kind != "add" or not book.signals[str(e.signal)].category.is_concern
        ]
        pairs = ((a, b) for a, b in itertools.combinations(pool, 2) if _compatible(a, b))
        more, complete = search.run(pairs, missing)
        for direction in missing:
            found[direction] = more[direction]
    return Counterfactuals(
        scenario=parsed,
        level=base,
        findings=tuple(f.rule_id for f in search.base.findings),
        up=_ordered(found["up"], base),
        down=_ordered(found["down"], base),
        tried=search.tried,
        complete=complete,
    )
