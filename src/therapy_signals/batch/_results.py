"""What a batch produces for each input record: a Result row, or a Rejected record.

Both are small frozen dataclasses of plain values (no Pydantic models) so that they pickle
cheaply between processes and write to any file format without conversion.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..engine import Verdict
from ..errors import Problem
from ..model import Guidance, Level, Scenario

__all__ = ["LIST_COLUMNS", "RESULT_COLUMNS", "ItemBlock", "Rejected", "Result"]

RESULT_COLUMNS = (
    "scenario_id",
    "setting",
    "sessions",
    "observations",
    "signals",
    "level",
    "findings",
    "superseded",
    "categories",
)
"""The columns of every results file, in order; ``text`` follows when it was asked for."""

LIST_COLUMNS = frozenset({"signals", "findings", "superseded", "categories"})


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one scenario, as one row of a results file.

    ``record`` is the scenario's 1-based position in the input; it orders the rows and is
    not written to files (``scenario_id`` is, and defaults to ``s<record>``).
    """

    record: int
    scenario_id: str
    setting: str
    sessions: int | None
    observations: int
    signals: tuple[str, ...]
    level: Level
    findings: tuple[str, ...]
    superseded: tuple[str, ...]
    categories: tuple[str, ...]
    text: str | None = None
    ok: Literal[True] = field(default=True, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        record: int,
        scenario_id: str | None,
        setting: str,
        sessions: int | None,
        signals: Sequence[str],
        verdict: Verdict,
        text: str | None = None,
    ) -> Result:
        """The row of a scenario with these signals (one per observation) and this verdict."""
        return cls(
            record=record,
            scenario_id=scenario_id or f"s{record}",
            setting=setting,
            sessions=sessions,
            observations=len(signals),
            signals=tuple(sorted(set(signals))),
            level=verdict.level,
            findings=verdict.findings,
            superseded=verdict.superseded,
            categories=verdict.categories,
            text=text,
        )

    @classmethod
    def from_guidance(cls, record: int, guidance: Guidance, text: str | None = None) -> Result:
        verdict = Verdict(
            guidance.level,
            tuple(f.rule_id for f in guidance.findings),
            tuple(s.rule_id for s in guidance.superseded),
            # Findings are ordered by level, then category: the first category is the most pressing.
            tuple(dict.fromkeys(f.category.value for f in guidance.findings)),
        )
        signals = [o.signal for o in guidance.observations]
        return cls.of(record, guidance.scenario_id, guidance.setting.value, guidance.sessions, signals, verdict, text)

    @classmethod
    def from_verdict(cls, record: int, scenario: Scenario, verdict: Verdict) -> Result:
        """The row of a scenario from its verdict: the same row as :meth:`from_guidance` gives."""
        signals = [o.signal for o in scenario.observations]
        return cls.of(record, scenario.id, scenario.setting.value, scenario.sessions, signals, verdict)

    def to_row(self, with_text: bool = False) -> dict[str, Any]:
        """The row as written: lists for the list columns, ``text`` only when asked for."""
        row: dict[str, Any] = {
            "scenario_id": self.scenario_id,
            "setting": self.setting,
            "sessions": self.sessions,
            "observations": self.observations,
            "signals": list(self.signals),
            "level": self.level.value,
            "findings": list(self.findings),
            "superseded": list(self.superseded),
            "categories": list(self.categories),
        }
        if with_text:
            row["text"] = self.text
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any], record: int) -> Result:
        """Read a row back from a results file (any format); ``record`` is its position."""
        sessions = row.get("sessions")
        return cls(
            record=record,
            scenario_id=str(row["scenario_id"]),
            setting=str(row.get("setting") or "individual"),
            sessions=None if sessions in (None, "") else int(sessions),
            observations=int(row.get("observations") or 0),
            signals=tuple(row.get("signals") or ()),
            level=Level(row["level"]),
            findings=tuple(row.get("findings") or ()),
            superseded=tuple(row.get("superseded") or ()),
            categories=tuple(row.get("categories") or ()),
            text=row.get("text") or None,
        )


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input record that could not be explained, with where it was and why.

    ``line`` is the physical line of a JSONL or CSV file (the first row of a CSV scenario)
    or the 1-based row of a Parquet file; ``input`` is the record as read, so nothing is lost.
    """

    record: int
    line: int
    scenario_id: str | None
    error: str
    problems: tuple[Problem, ...]
    input: Any = None
    ok: Literal[False] = field(default=False, repr=False, compare=False)

    @property
    def message(self) -> str:
        where = f"line {self.line}" + (f" (scenario {self.scenario_id})" if self.scenario_id else "")
        return f"{where}: {self.error}: " + "; ".join(str(p) for p in self.problems)

    def to_row(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "line": self.line,
            "scenario_id": self.scenario_id,
            "error": self.error,
            "problems": [{"where": p.where, "message": p.message} for p in self.problems],
            "input": self.input,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Rejected:
        problems: Sequence[Mapping[str, str]] = row.get("problems") or ()
        return cls(
            record=int(row["record"]),
            line=int(row["line"]),
            scenario_id=row.get("scenario_id"),
            error=str(row["error"]),
            problems=tuple(Problem(p["where"], p["message"]) for p in problems),
            input=row.get("input"),
        )


class ItemBlock(Sequence[Result | Rejected], ABC):
    """A chunk's items kept as columns (see ``_blocks.ColumnarItems``): written and counted
    without a Result object per row; iterating it makes them."""

    rejected: list[Rejected]

    @property
    @abstractmethod
    def result_count(self) -> int: ...

    @abstractmethod
    def levels(self) -> Counter[str]: ...

    @abstractmethod
    def table(self) -> Any:
        """The results as one pyarrow Table, in input order."""

    def part(self) -> bytes | None:
        """:meth:`table` as a part file's bytes, when a worker encoded it already, else None."""
        return None

    @abstractmethod
    def rows(self) -> list[dict[str, Any]]:
        """The results as :meth:`Result.to_row` gives them, in input order."""

    def results(self) -> list[Result]:
        return [item for item in self if isinstance(item, Result)]
