"""Scenario designs: factorial over chosen signals and context values, or seeded random.

Nothing here names a signal: designs draw on whatever vocabulary the rule base has. Every
scenario a design yields is valid (distinct observations, no ``response`` with
``raised: false``, values in range), which the test suite checks as a property.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS, UNKNOWN, FieldSpec
from ..conditions import Match, ScenarioTest, walk
from ..errors import DesignError
from ..model import Category, Level, Observation, Scenario, Setting
from ..rulebook import RuleBook
from ._faults import AGAIN
from ._io import Target, file_sha256, write_scenarios
from ._manifest import manifest_path, now, stamp, write_manifest
from ._progress import progress

__all__ = ["Design", "Factorial", "RandomDesign", "generate", "landmarks", "parse_signals", "parse_vary"]

# Context a design may vary; a note is free text, which no rule reads.
VARIABLE_FIELDS: dict[str, FieldSpec] = {**OBSERVATION_FIELDS, **SCENARIO_FIELDS}
Value = Any  # a context value as the model takes it: an enum word, a bool, an int, or None


def parse_signals(book: RuleBook, spec: str | Iterable[str] | None) -> list[str]:
    """Signal ids from a mix of category names and signal ids (``"boundaries,sexual_comments"``).

    None means every signal. Order follows the rule base's signal order; repeats drop out.
    """
    if spec is None:
        return list(book.signals)
    words = [w.strip() for w in (spec.split(",") if isinstance(spec, str) else spec) if w.strip()]
    if not words:
        raise DesignError("no signals given; name categories or signal ids, separated by commas")
    chosen: set[str] = set()
    categories = {c.value for c in Category}
    for word in words:
        if word in categories:
            chosen.update(s for s, d in book.signals.items() if d.category.value == word)
        elif word in book.signals:
            chosen.add(word)
        else:
            raise DesignError(
                f"{word!r} is neither a category ({', '.join(sorted(categories))}) nor a signal"
                f"{book.suggest_signal(word) or '; `therapy-signals signals` lists them'}"
            )
    return [s for s in book.signals if s in chosen]


def landmarks(book: RuleBook, name: str) -> list[int]:
    """The values of a numeric field where some rule's answer can change, in order.

    For every range a rule tests on the field, the values just inside and just outside it.
    """
    spec = VARIABLE_FIELDS[name]
    found: set[int] = set()
    for rule in book.rules.values():
        for node, _ in walk(rule.when):
            tests = node.tests if isinstance(node, Match | ScenarioTest) else ()
            for test in tests:
                if test.field.name != name:
                    continue
                bounds = [test.low, test.high] if test.equals is None else list(test.equals)
                for bound in bounds:
                    if isinstance(bound, int) and bound != spec.unknown:
                        found.update((bound - 1, bound, bound + 1))
    return sorted(v for v in found if spec.low <= v <= spec.high)


def _all_values(book: RuleBook, spec: FieldSpec) -> list[Value]:
    if spec.name == "setting":
        return list(spec.values)  # a setting is never "not given": it defaults to individual
    if spec.kind in ("ordinal", "nominal"):
        return [None, *spec.values]
    if spec.kind == "bool":
        return [None, True, False]
    return [None, *(landmarks(book, spec.name) or [spec.low])]


def _value(spec: FieldSpec, word: str) -> Value:
    if word == UNKNOWN:
        if spec.name == "setting":
            raise DesignError("setting cannot be unknown: a scenario's setting defaults to individual")
        return None
    if spec.kind in ("ordinal", "nominal"):
        if word not in spec.values:
            raise DesignError(f"{spec.name}: {word!r} is not allowed; use {spec.allowed()} or {UNKNOWN}")
        return word
    if spec.kind == "bool":
        if word not in ("true", "false"):
            raise DesignError(f"{spec.name}: {word!r} is not allowed; use true, false or {UNKNOWN}")
        return word == "true"
    try:
        number = int(word)
    except ValueError:
        number = spec.low - 1
    if not spec.low <= number <= spec.high:
        raise DesignError(f"{spec.name}: {word!r} is not allowed; use {spec.allowed()} or {UNKNOWN}")
    return number


def parse_vary(book: RuleBook, specs: Iterable[str]) -> dict[str, list[Value]]:
    """``["frequency", "response=repaired,dismissed", "sessions=0,12"]`` to values per field.

    A bare field name means every value and "not given" (for numbers: where rules draw lines);
    ``unknown`` in a list means "not given".
    """
    vary: dict[str, list[Value]] = {}
    for spec_text in specs:
        name, _, listed = spec_text.partition("=")
        name = name.strip()
        if name not in VARIABLE_FIELDS:
            raise DesignError(f"cannot vary {name!r}; choose from {', '.join(VARIABLE_FIELDS)}")
        spec = VARIABLE_FIELDS[name]
        words = [w.strip() for w in listed.split(",") if w.strip()]
        values = [_value(spec, w) for w in words] if listed else _all_values(book, spec)
        if not values:
            raise DesignError(f"{name}: no values after '='; list some, or give the name alone for all")
        vary[name] = list(dict.fromkeys(values))
    return vary


def _contexts(vary: Mapping[str, Sequence[Value]], names: Sequence[str]) -> list[dict[str, Value]]:
    """Every combination of the varied fields among ``names`` that makes a valid observation."""
    chosen = [n for n in names if n in vary]
    combos = []
    for values in itertools.product(*(vary[n] for n in chosen)):
        context = dict(zip(chosen, values, strict=True))
        if context.get("raised") is False and context.get("response") is not None:
            continue  # a therapist can only respond to something that was raised
        combos.append(context)
    return combos


@dataclass
class Factorial:
    """Every combination of the chosen signals, from ``min_observations`` to ``max_observations``
    at a time, crossed with every combination of the varied context values.

    Each observation takes its context independently, so two observations varying
    ``frequency`` over four values give 16 scenarios per pair of signals.
    """

    book: RuleBook
    signals: Sequence[str] | str | None = None
    max_observations: int | None = None  # None: 2, or fewer if fewer signals are chosen
    min_observations: int = 1
    vary: Mapping[str, Sequence[Value]] = field(default_factory=dict)
    prefix: str = "f"

    def __post_init__(self) -> None:
        self.chosen = parse_signals(self.book, self.signals)
        if self.max_observations is None:
            self.max_observations = min(2, len(self.chosen))
        if not 1 <= self.min_observations <= self.max_observations:
            raise DesignError(f"observations: need 1 <= min ({self.min_observations}) <= max ({self.max_observations})")
        if self.max_observations > len(self.chosen):
            raise DesignError(
                f"--max-observations {self.max_observations} is more than the {len(self.chosen)} signals chosen"
            )
        unknown = sorted(set(self.vary) - set(VARIABLE_FIELDS))
        if unknown:
            raise DesignError(f"cannot vary {unknown[0]!r}; choose from {', '.join(VARIABLE_FIELDS)}")
        self._observation_contexts = _contexts(self.vary, list(OBSERVATION_FIELDS))
        self._scenario_contexts = _contexts(self.vary, list(SCENARIO_FIELDS))
        if not self._observation_contexts:
            raise DesignError("the varied values combine into no valid observation (raised false with a response)")

    @property
    def _most(self) -> int:
        assert self.max_observations is not None  # set in __post_init__
        return self.max_observations

    def count(self) -> int:
        """How many scenarios the design yields, without making them."""
        per = len(self._observation_contexts)
        n = len(self.chosen)
        sizes = range(self.min_observations, self._most + 1)
        total: int = sum(math.comb(n, k) * per**k for k in sizes)
        return total * len(self._scenario_contexts)

    def __iter__(self) -> Iterator[Scenario]:
        width = len(str(self.count()))
        number = 0
        for size in range(self.min_observations, self._most + 1):
            for signals in itertools.combinations(self.chosen, size):
                for contexts in itertools.product(self._observation_contexts, repeat=size):
                    observations = [
                        Observation.model_validate({"signal": s, **c}) for s, c in zip(signals, contexts, strict=True)
                    ]
                    for scenario_context in self._scenario_contexts:
                        number += 1
                        yield Scenario.model_validate(
                            {"id": f"{self.prefix}{number:0{width}d}", **scenario_context, "observations": observations}
                        )

    def describe(self) -> dict[str, Any]:
        return {
            "design": "factorial",
            "signals": list(self.chosen),
            "min_observations": self.min_observations,
            "max_observations": self.max_observations,
            "vary": {k: list(values) for k, values in self.vary.items()},
            "count": self.count(),
        }


_BLOCK = 256  # scenarios whose candidates are evaluated together by --weight-rare


@dataclass
class RandomDesign:
    """``n`` scenarios drawn with ``random.Random(seed)``: the same seed gives the same scenarios.

    Each scenario has ``min_observations`` to ``max_observations`` distinct signals; each
    context field is given with probability ``given``. With ``weight_rare``, each scenario
    is the one of ``candidates`` draws whose overall level is so far the rarest in the
    output, which pulls the mix toward rare levels at ``candidates`` times the cost.
    """

    book: RuleBook
    n: int
    seed: int = 0
    signals: Sequence[str] | str | None = None
    min_observations: int = 1
    max_observations: int = 5
    settings: Sequence[str] | None = None
    given: float = 0.5
    weight_rare: bool = False
    candidates: int = 8
    engine: Any = None  # the Engine that levels candidates for weight_rare; built from ``book`` when None
    prefix: str = "r"
    levels: Counter[str] = field(default_factory=Counter, init=False)

    def __post_init__(self) -> None:
        self.pool = sorted(parse_signals(self.book, self.signals))
        if self.n < 0:
            raise DesignError(f"--n must be 0 or more, not {self.n}")
        if not 1 <= self.min_observations <= self.max_observations:
            raise DesignError(f"observations: need 1 <= min ({self.min_observations}) <= max ({self.max_observations})")
        if self.min_observations > len(self.pool):
            raise DesignError(f"--min-observations {self.min_observations} is more than the {len(self.pool)} signals")
        if not 0.0 <= self.given <= 1.0:
            raise DesignError(f"given must be a probability from 0 to 1, not {self.given}")
        if self.candidates < 1:
            raise DesignError(f"candidates must be 1 or more, not {self.candidates}")
        try:
            self.setting_pool = sorted(Setting(s).value for s in (self.settings or list(Setting)))
        except ValueError:
            raise DesignError(f"settings: use {', '.join(s.value for s in Setting)}") from None

    def _maybe(self, rng: random.Random, values: Sequence[Value]) -> Value:
        return rng.choice(values) if rng.random() < self.given else None

    def _observation(self, rng: random.Random, signal: str) -> dict[str, Value]:
        drawn: dict[str, Value] = {"signal": signal}
        for name, spec in OBSERVATION_FIELDS.items():
            if spec.kind == "bool":
                drawn[name] = self._maybe(rng, [True, False])
            elif spec.kind == "number":
                # Rare on purpose: most observations are not about the time after therapy ended.
                drawn[name] = rng.randint(spec.low, 36) if rng.random() < self.given / 4 else None
            else:
                drawn[name] = self._maybe(rng, spec.values)
        if drawn.get("response") is not None and drawn.get("raised") is False:
            drawn["raised"] = True
        return {k: v for k, v in drawn.items() if v is not None}

    def _draw(self, rng: random.Random) -> dict[str, Any]:
        size = rng.randint(self.min_observations, min(self.max_observations, len(self.pool)))
        signals = rng.sample(self.pool, size)
        scenario: dict[str, Any] = {
            "setting": rng.choice(self.setting_pool),
            "observations": [self._observation(rng, s) for s in signals],
        }
        if rng.random() < self.given:
            scenario["sessions"] = rng.randint(0, 80)
        return scenario

    def __iter__(self) -> Iterator[Scenario]:
        rng = random.Random(self.seed)
        width = len(str(self.n))
        self.levels.clear()
        if not self.weight_rare:
            for number in range(1, self.n + 1):
                yield Scenario.model_validate({"id": f"{self.prefix}{number:0{width}d}", **self._draw(rng)})
            return
        from ..engine import Engine
        from ._batch import default_backend
        from ._parallel import build_engine

        engine = self.engine
        if engine is None:
            engine = build_engine(lambda: Engine(self.book, backend=default_backend()))
        # The draws do not depend on the levels, so a block of scenarios' candidates is drawn
        # first, in the same order, and evaluated at once; the choice then goes one by one.
        for first in range(1, self.n + 1, _BLOCK):
            numbers = range(first, min(first + _BLOCK, self.n + 1))
            drawn = [
                Scenario.model_validate({"id": f"{self.prefix}{number:0{width}d}", **self._draw(rng)})
                for number in numbers
                for _ in range(self.candidates)
            ]
            levels = [v.level for v in engine.verdicts(drawn)]
            for at in range(0, len(drawn), self.candidates):
                yield self._rarest(drawn[at : at + self.candidates], levels[at : at + self.candidates])

    def _rarest(self, candidates: list[Scenario], levels: list[Level]) -> Scenario:
        """The first candidate whose level is so far the rarest in the output."""
        best: tuple[int, Scenario, Level] | None = None
        for candidate, level in zip(candidates, levels, strict=True):
            seen = self.levels[level.value]
            if best is None or seen < best[0]:
                best = (seen, candidate, level)
        assert best is not None
        self.levels[best[2].value] += 1
        return best[1]

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "design": "random",
            "n": self.n,
            "seed": self.seed,
            "signals": list(self.pool),
            "min_observations": self.min_observations,
            "max_observations": self.max_observations,
            "settings": list(self.setting_pool),
            "given": self.given,
            "weight_rare": self.weight_rare,
        }
        if self.weight_rare:
            described["candidates"] = self.candidates
            described["levels"] = {level.value: self.levels.get(level.value, 0) for level in Level}
        return described


Design = Factorial | RandomDesign


def _counted(scenarios: Iterable[Scenario], advance: Any, every: int = 1000) -> Iterator[Scenario]:
    pending = 0
    for scenario in scenarios:
        yield scenario
        pending += 1
        if pending == every:
            advance(pending)
            pending = 0
    advance(pending)


def generate(
    design: Design,
    output: str | Path,
    *,
    output_format: str | None = None,
    progress_bar: bool = False,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write a design's scenarios to a file (or ``-``), streaming, and a manifest beside it.

    Returns the manifest (also written to ``<output>.manifest.json`` for a file).
    """
    target = Target.parse(output, output_format)
    started, clock = now(), time.perf_counter()
    total = design.count() if isinstance(design, Factorial) else design.n
    with progress(progress_bar, total, "scenarios") as advance:
        count = write_scenarios(_counted(design, advance), target)
    seconds = time.perf_counter() - clock
    manifest = stamp("generate", design.book, command)
    manifest.update(
        {
            "status": "complete",
            "design": design.describe(),
            "seed": design.seed if isinstance(design, RandomDesign) else None,
            "output": {
                "path": target.name,
                "format": target.format,
                "scenarios": count,
                "sha256": None if target.path is None else file_sha256(target.path),
            },
            "timing": {"started": started, "finished": now(), "seconds": round(seconds, 3)},
        }
    )
    if target.path is not None:
        write_manifest(manifest_path(target.path), manifest, AGAIN)
    return manifest
