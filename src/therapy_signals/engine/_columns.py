"""Scenarios as columns: every observation a row of small integers, for the columnar backend.

The codes follow the fact encoding of ``_fields`` so both backends read the same values:
ordinals and numbers keep their encoded value ("not given" is 0 for ordinals and
``NUMBER_UNKNOWN`` for numbers); a nominal value is its 1-based position among the field's
values and a boolean is 1 for false and 2 for true, "not given" being 0 for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from .._fields import NUMBER_UNKNOWN, OBSERVATION_FIELDS, SCENARIO_FIELDS, Encoded, FieldSpec
from ..model import Scenario
from ._facts import EncodedScenario

__all__ = ["MAX_CITED", "Columns", "assemble", "code_of", "from_encoded", "from_scenarios"]

Ints = npt.NDArray[np.int64]

MAX_CITED = 64
"""Observations a scenario may have for the columnar backend to hold which it cites in one
64-bit word; a scenario with more goes through the Python evaluator instead."""


def code_of(spec: FieldSpec, value: Encoded) -> int:
    """The column code of a value in the fact encoding."""
    if spec.kind in ("ordinal", "number"):
        return int(value)
    if value == "":
        return 0
    if spec.kind == "bool":
        return 2 if value == "true" else 1
    return spec.values.index(str(value)) + 1


def domain(spec: FieldSpec) -> int:
    """How many codes a small field has (for lookup tables); 0 for numbers."""
    if spec.kind == "ordinal":
        return len(spec.values) + 1
    if spec.kind == "nominal":
        return len(spec.values) + 1
    if spec.kind == "bool":
        return 3
    return 0


@dataclass(frozen=True)
class Columns:
    """A batch of scenarios: ``n`` scenarios and their observations in scenario order.

    ``starts[i]`` is where scenario ``i``'s observations begin; every scenario has at least one.
    ``signal`` holds indexes into ``signals``, the rule base's signal ids in sorted order.
    """

    starts: Ints
    scenario: Ints
    local: Ints
    signal: Ints
    fields: Mapping[str, Ints]
    setting: Ints
    sessions: Ints

    @property
    def size(self) -> int:
        return len(self.starts)

    @cached_property
    def counts(self) -> Ints:
        """Observations per scenario."""
        ends = np.append(self.starts[1:], len(self.signal))
        return ends - self.starts

    def take(self, rows: Sequence[int] | Ints) -> Columns:
        """The columns of some scenarios only, in the order given."""
        chosen = np.asarray(rows, dtype=np.int64)
        counts = self.counts[chosen]
        starts = _starts(counts)
        index = np.repeat(self.starts[chosen] - starts, counts) + np.arange(counts.sum(), dtype=np.int64)
        return Columns(
            starts=starts,
            scenario=np.repeat(np.arange(len(chosen), dtype=np.int64), counts),
            local=self.local[index],
            signal=self.signal[index],
            fields={name: column[index] for name, column in self.fields.items()},
            setting=self.setting[chosen],
            sessions=self.sessions[chosen],
        )


def _starts(counts: Ints) -> Ints:
    """Where each scenario's observations begin, from how many each has (none for no scenario)."""
    starts: Ints = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def assemble(
    counts: Sequence[int] | Ints,
    signal: Sequence[int] | Ints,
    fields: Mapping[str, Sequence[int] | Ints],
    setting: Sequence[int] | Ints,
    sessions: Sequence[int] | Ints,
) -> Columns:
    """Columns from per-observation codes in scenario order and per-scenario counts."""
    sizes = np.asarray(counts, dtype=np.int64)
    starts = _starts(sizes)
    total = int(sizes.sum())
    scenario = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    local = np.arange(total, dtype=np.int64) - np.repeat(starts, sizes)
    return Columns(
        starts=starts,
        scenario=scenario,
        local=local,
        signal=np.asarray(signal, dtype=np.int64),
        fields={name: np.asarray(fields[name], dtype=np.int64) for name in OBSERVATION_FIELDS},
        setting=np.asarray(setting, dtype=np.int64),
        sessions=np.asarray(sessions, dtype=np.int64),
    )


def from_encoded(encoded: Sequence[EncodedScenario], signals: Mapping[str, int]) -> Columns:
    """Columns from scenarios already in the fact encoding (the single-scenario path, tests)."""
    counts = [len(e.observations) for e in encoded]
    signal = [signals[str(o["signal"])] for e in encoded for o in e.observations]
    fields: dict[str, list[int]] = {
        name: [code_of(spec, o[name]) for e in encoded for o in e.observations]
        for name, spec in OBSERVATION_FIELDS.items()
    }
    setting_spec, sessions_spec = SCENARIO_FIELDS["setting"], SCENARIO_FIELDS["sessions"]
    setting = [code_of(setting_spec, e.scenario["setting"]) for e in encoded]
    sessions = [code_of(sessions_spec, e.scenario["sessions"]) for e in encoded]
    return assemble(counts, signal, fields, setting, sessions)


def _codes(spec: FieldSpec) -> dict[object, int]:
    """A model value (enum member, bool, None) to its column code, for the fields with few values."""
    codes: dict[object, int] = {None: code_of(spec, spec.unknown)}
    if spec.kind == "bool":
        codes.update({False: 1, True: 2})
    else:
        codes.update({value: code_of(spec, spec.encode(value)) for value in spec.values})
    return codes


def from_scenarios(scenarios: Sequence[Scenario], signals: Mapping[str, int]) -> Columns:
    """Columns from validated scenarios, without building the fact encoding first."""
    small = {name: _codes(spec) for name, spec in OBSERVATION_FIELDS.items() if spec.kind != "number"}
    unknown_months = code_of(OBSERVATION_FIELDS["months_after_ending"], NUMBER_UNKNOWN)
    counts = [len(s.observations) for s in scenarios]
    observations = [o for s in scenarios for o in s.observations]
    fields: dict[str, list[int]] = {}
    for name, codes in small.items():
        if name == "raised":
            fields[name] = [codes[o.was_raised] for o in observations]
        else:
            fields[name] = [codes[None if (v := getattr(o, name)) is None else v.value] for o in observations]
    fields["months_after_ending"] = [
        unknown_months if o.months_after_ending is None else o.months_after_ending for o in observations
    ]
    setting = _codes(SCENARIO_FIELDS["setting"])
    return assemble(
        counts,
        [signals[o.signal] for o in observations],
        fields,
        [setting[s.setting.value] for s in scenarios],
        [NUMBER_UNKNOWN if s.sessions is None else s.sessions for s in scenarios],
    )
