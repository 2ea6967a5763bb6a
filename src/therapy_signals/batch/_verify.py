"""``--verify N``: re-run N random rows of a batch on the other backend and fail on any difference.

The sample is uniform over the run's results (reservoir sampling, so the input's length need
not be known), drawn with a seed the manifest records. Each sampled record is explained
again, from the record as read, by an Engine on the other backend: durable_rules for a
columnar run, the columnar backend for a durable one. The rows must be equal, field by field.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from ..engine import Engine
from ..errors import BatchError
from ._io import Record
from ._parallel import WorkerConfig, build_engine, explain_record, explain_records
from ._results import Rejected, Result

__all__ = ["Verifier"]

_SHOWN = 3  # differences spelled out in the message; the count says how many in all


class Verifier:
    """A uniform sample of ``rows`` results with their records, checked on :meth:`check`."""

    def __init__(self, rows: int, config: WorkerConfig, seed: int | None = None) -> None:
        if rows < 0:
            raise ValueError(f"verify must be 0 or more rows, not {rows}")
        self.rows = rows
        self.config = config
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else seed
        self.other = "durable" if config.backend == "columnar" else "columnar"
        self._random = random.Random(self.seed)
        self._seen = 0
        self._sample: list[tuple[Record, Result]] = []

    def offer(self, records: Sequence[Record], items: Sequence[Result | Rejected]) -> None:
        by_number = {record.number: record for record in records}
        for item in items:
            if not isinstance(item, Result):
                continue
            self._seen += 1
            if len(self._sample) < self.rows:
                self._sample.append((by_number[item.record], item))
            else:
                slot = self._random.randrange(self._seen)
                if slot < self.rows:
                    self._sample[slot] = (by_number[item.record], item)

    def check(self) -> dict[str, Any]:
        """Re-run the sample on the other backend; BatchError names the rows that differ."""
        config = self.config
        paths = config.rule_paths()
        engine = build_engine(
            lambda: Engine(rule_paths=paths, locale=config.locale, limits=config.limits, backend=self.other)
        )
        sample = sorted(self._sample, key=lambda pair: pair[1].record)
        records = [record for record, _ in sample]
        if config.text:
            again = [explain_record(engine, record, True) for record in records]
        else:
            again = list(explain_records(engine, records))  # in record order, as the sample now is
        differing = [
            (mine, theirs)
            for (_, mine), theirs in zip(sample, again, strict=True)
            if not isinstance(theirs, Result) or dataclasses.astuple(theirs) != dataclasses.astuple(mine)
        ]
        summary = {"rows": len(self._sample), "backend": self.other, "seed": self.seed, "differences": len(differing)}
        if differing:
            shown = "; ".join(_difference(mine, theirs) for mine, theirs in differing[:_SHOWN])
            raise BatchError(
                f"--verify: {len(differing)} of {len(self._sample)} rows differ between the {config.backend} "
                f"and {self.other} backends ({shown}); this is a bug in therapy-signals, please report it "
                f"with the input and the verify seed {self.seed}"
            )
        return summary


def _difference(mine: Result, theirs: Result | Rejected) -> str:
    if not isinstance(theirs, Result):
        return f"record {mine.record}: rejected on the other backend ({theirs.error})"
    fields = [
        f"{f.name} {getattr(mine, f.name)!r} against {getattr(theirs, f.name)!r}"
        for f in dataclasses.fields(mine)
        if getattr(mine, f.name) != getattr(theirs, f.name)
    ]
    return f"record {mine.record} ({mine.scenario_id}): " + ", ".join(fields)
