"""The columnar backend: every rule's condition evaluated over a whole batch at once, in NumPy.

It compiles the same condition trees the durable_rules compiler does (``conditions.py``)
into array operations (decision 0023):

* an observation match is a row mask over the observations, reduced per scenario into a
  64-bit word whose bit *j* says the scenario's observation *j* matched: the word is both
  "does it hold" (non-zero) and "which observations it rests on";
* ``all``, ``any`` and ``not`` are boolean algebra over scenarios, and the words of the
  children are ORed the way the Python evaluator unions their citations;
* ``count`` counts distinct (scenario, signal) pairs among the matching rows;
* a scenario test is a test of the scenario's columns.

Resolution (``resolve.py``) then runs on the same words: rules are columns in the order
findings are shown, so "the first higher rule" is the first column, and a finding list is
the scenario's row read left to right. Agreement with durable_rules and with the Python
evaluator is a tested property (tests/engine/test_columnar.py), not an assumption.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._fields import FieldSpec
from ..conditions import All, AnyOf, Condition, Count, Match, Not, ScenarioTest, Test
from ..model import Level
from ..rulebook import Rule, RuleBook, SignalDef
from ._columns import Columns, code_of, domain
from .resolve import rule_order

__all__ = ["ColumnarBackend", "Evaluation", "Resolved"]

Bools = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]

_SLICE = 16384
"""Scenarios evaluated at a time: bounds the (scenarios x signals) word table to a few MB."""
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_SPARSE = 4
"""A match tests only its signals' observations when they are at most a quarter of them."""


@dataclass(frozen=True)
class Evaluation:
    """Which rules hold on each scenario (``ok``), and the observations each rests on (``cited``)."""

    ok: Bools  # (rules, scenarios): rule-major, so a rule's row is contiguous
    cited: Words  # (rules, scenarios), bit j: observation j


@dataclass(frozen=True)
class Resolved:
    """Each scenario's resolution: its level's rank, the findings kept and those that gave way."""

    level: Ints  # (scenarios,) rank of Level
    kept: Bools  # (rules, scenarios)
    gave: Bools  # (rules, scenarios)
    cited: Words  # (rules, scenarios): what each finding kept rests on, after the normal pass


@dataclass
class _Batch:
    """One slice of columns, with what every node of every rule reads from it."""

    columns: Columns
    bit: Words  # (observations,): 1 << the observation's position in its scenario
    by_signal: Words  # (signals, scenarios): the observations of each signal, as words
    order: Ints  # the observations sorted by signal: ``order[bounds[c]:bounds[c + 1]]`` are signal c's
    bounds: Ints

    def word_of(self, rows: Ints) -> Words:
        """Per scenario, the word of the observations at ``rows``."""
        words = np.zeros(self.columns.size, dtype=np.uint64)
        # Distinct observations of a scenario have distinct bits, so adding them is ORing them.
        np.add.at(words, self.columns.scenario[rows], self.bit[rows])
        return words

    def rows_of(self, lut: Bools) -> Ints | None:
        """The observations of the signals ``lut`` marks, when they are few enough that
        testing them alone beats testing every observation (a signal is a few in a hundred)."""
        codes = np.flatnonzero(lut)
        if int((self.bounds[codes + 1] - self.bounds[codes]).sum()) * _SPARSE > len(self.order):
            return None
        parts = [self.order[self.bounds[c] : self.bounds[c + 1]] for c in codes.tolist()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class ColumnarBackend:
    """A rule base compiled for evaluation over columns; build once, evaluate many batches."""

    def __init__(self, book: RuleBook, signals: Mapping[str, SignalDef] | None = None) -> None:
        # The safety floor runs the base's rules on scenarios of the packs' signals: ``signals``.
        known = book.signals if signals is None else signals
        self.book = book
        self.signals = sorted(known)
        self.signal_index = {name: i for i, name in enumerate(self.signals)}
        self._category = np.array([known[s].category.value for s in self.signals], dtype=object)
        self.rules: tuple[Rule, ...] = tuple(sorted(book.rules.values(), key=rule_order))
        self.ids = tuple(rule.id for rule in self.rules)
        self.column = {rule_id: i for i, rule_id in enumerate(self.ids)}
        self._levels = np.array([rule.level.rank for rule in self.rules], dtype=np.int64)
        self._split = int(np.count_nonzero(self._levels > Level.normal.rank))
        # A normal rule that is one observation match holds on each observation alone (resolve.py).
        self._single = np.array([isinstance(r.when, Match) for r in self.rules[self._split :]], dtype=bool)
        self._named = [
            (self.column[target], [self.column[r.id] for r in self.rules if target in r.supersedes])
            for target in self.ids
            if any(target in r.supersedes for r in self.rules)
        ]
        self._luts: dict[tuple[object, ...], Bools] = {}

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(self, columns: Columns) -> Evaluation:
        """Every rule on every scenario of the batch (scenarios of at most 64 observations)."""
        if columns.size and int(columns.counts.max()) > 64:
            raise ValueError("the columnar backend holds at most 64 observations a scenario")
        ok = np.zeros((len(self.rules), columns.size), dtype=bool)
        cited = np.zeros((len(self.rules), columns.size), dtype=np.uint64)
        for start, part in self._slices(columns):
            batch = self._batch(part)
            cache: dict[int, tuple[Bools, Words]] = {}
            for index, rule in enumerate(self.rules):
                holds, words = self._node(rule.when, batch, cache)
                ok[index, start : start + part.size] = holds
                cited[index, start : start + part.size] = words
        return Evaluation(ok, cited)

    def fired(self, columns: Columns) -> list[frozenset[str]]:
        """The ids of the rules that hold, per scenario: what durable_rules would fire."""
        ok = self.evaluate(columns).ok.T
        return [frozenset(self.ids[i] for i in np.flatnonzero(row)) for row in ok]

    def _slices(self, columns: Columns) -> Iterator[tuple[int, Columns]]:
        if columns.size <= _SLICE:
            yield 0, columns
            return
        for start in range(0, columns.size, _SLICE):
            yield start, columns.take(np.arange(start, min(start + _SLICE, columns.size)))

    def _batch(self, columns: Columns) -> _Batch:
        bit = np.left_shift(_ONE, columns.local.astype(np.uint64))
        by_signal = np.zeros(len(self.signals) * columns.size, dtype=np.uint64)
        # Distinct observations of a scenario have distinct bits, so adding them is ORing them.
        np.add.at(by_signal, columns.signal * columns.size + columns.scenario, bit)
        order = np.argsort(columns.signal, kind="stable")
        bounds = np.searchsorted(columns.signal[order], np.arange(len(self.signals) + 1))
        return _Batch(columns, bit, by_signal.reshape(len(self.signals), columns.size), order, bounds)

    def _node(self, node: Condition, batch: _Batch, cache: dict[int, tuple[Bools, Words]]) -> tuple[Bools, Words]:
        key = id(node)
        found = cache.get(key)
        if found is None:
            found = cache[key] = self._compute(node, batch, cache)
        return found

    def _compute(self, node: Condition, batch: _Batch, cache: dict[int, tuple[Bools, Words]]) -> tuple[Bools, Words]:
        size = batch.columns.size
        if isinstance(node, Match):
            words = self._match(node, batch)
            return words != 0, words
        if isinstance(node, All | AnyOf):
            children = [self._node(c, batch, cache) for c in (node.all if isinstance(node, All) else node.any)]
            holds = np.logical_and.reduce([c[0] for c in children]) if isinstance(node, All) else None
            if holds is None:
                holds = np.logical_or.reduce([c[0] for c in children])
            words = np.bitwise_or.reduce([c[1] for c in children])
            return holds, np.where(holds, words, _ZERO)
        if isinstance(node, Not):
            inner, _ = self._node(node.not_, batch, cache)
            return ~inner, np.zeros(size, dtype=np.uint64)
        if isinstance(node, Count):
            return self._count(node, batch)
        assert isinstance(node, ScenarioTest)
        holds = np.ones(size, dtype=bool)
        for test in node.tests:
            column = batch.columns.setting if test.field.name == "setting" else batch.columns.sessions
            holds &= self._passes(test, column)
        return holds, np.zeros(size, dtype=np.uint64)

    def _match_rows(self, match: Match, batch: _Batch) -> Ints:
        """The observations that match, in no particular order."""
        lut = self._signal_lut(match)
        rows = batch.rows_of(lut)
        if rows is None:
            mask = lut[batch.columns.signal]
            for test in match.tests:
                mask &= self._passes(test, batch.columns.fields[test.field.name])
            return np.flatnonzero(mask)
        for test in match.tests:
            rows = rows[self._passes(test, batch.columns.fields[test.field.name][rows])]
        return rows

    def _match(self, match: Match, batch: _Batch) -> Words:
        if match.tests:
            return batch.word_of(self._match_rows(match, batch))
        codes = np.flatnonzero(self._signal_lut(match))
        if len(codes) == 0:
            return np.zeros(batch.columns.size, dtype=np.uint64)
        words: Words = (
            batch.by_signal[codes[0]] if len(codes) == 1 else np.bitwise_or.reduce(batch.by_signal[codes], axis=0)
        )
        return words

    def _count(self, node: Count, batch: _Batch) -> tuple[Bools, Words]:
        rows = self._match_rows(node.count, batch)
        columns = batch.columns
        pairs = np.unique(columns.scenario[rows] * len(self.signals) + columns.signal[rows])
        distinct = np.bincount(pairs // len(self.signals), minlength=columns.size)
        holds = distinct >= node.at_least
        return holds, np.where(holds, batch.word_of(rows), _ZERO)

    def _signal_lut(self, match: Match) -> Bools:
        key = ("signal", match.signals, match.category_values)
        lut = self._luts.get(key)
        if lut is None:
            lut = np.ones(len(self.signals), dtype=bool)
            if match.signals is not None:
                lut &= np.array([s in match.signals for s in self.signals], dtype=bool)
            if match.category_values is not None:
                lut &= np.isin(self._category, sorted(match.category_values))
            self._luts[key] = lut
        return lut

    def _passes(self, test: Test, column: Ints) -> Bools:
        spec = test.field
        size = domain(spec)
        if size == 0:  # a number: compare, never through a table
            if test.equals is not None:
                member: Bools = np.isin(column, [code_of(spec, v) for v in test.equals])
                return member
            assert test.low is not None and test.high is not None
            within: Bools = (column >= test.low) & (column <= test.high) & (column != code_of(spec, spec.unknown))
            return within
        passed: Bools = self._field_lut(test, spec, size)[column]
        return passed

    def _field_lut(self, test: Test, spec: FieldSpec, size: int) -> Bools:
        key = ("field", test)
        lut = self._luts.get(key)
        if lut is None:
            lut = np.zeros(size, dtype=bool)
            if test.equals is not None:
                lut[[code_of(spec, v) for v in test.equals]] = True
            else:
                assert test.low is not None and test.high is not None
                lut[max(test.low, 0) : min(test.high, size - 1) + 1] = True
                lut[code_of(spec, spec.unknown)] = False  # a range never holds "not given"
            self._luts[key] = lut
        return lut

    # -- resolution ----------------------------------------------------------------------------

    def resolve(self, evaluation: Evaluation, *, reuse: bool = False) -> Resolved:
        """Supersession on the words, exactly as ``resolve.resolve`` does it on sets.

        ``reuse``: resolve in the evaluation's own arrays, which it then no longer holds (a
        batch evaluates, resolves and drops it: copying a chunk's words took as long as
        resolving them)."""
        ok = evaluation.ok if reuse else evaluation.ok.copy()
        cited = evaluation.cited if reuse else evaluation.cited.copy()
        gave = np.zeros_like(ok)
        self._normal_pass(ok, cited, gave)
        named = self._named_pass(ok, cited)
        gave |= named
        ok &= ~named
        first = np.argmax(ok, axis=0)  # rules run from the highest level down
        level = np.where(ok.any(axis=0), self._levels[first], Level.normal.rank)
        return Resolved(level, ok, gave, cited)

    def _normal_pass(self, ok: Bools, cited: Words, gave: Bools) -> None:
        # Rules are in order of level, so the higher ones are the rows before the normal ones.
        split = self._split
        if split in (0, len(self.rules)):
            return
        covered = np.bitwise_or.reduce(cited[:split], axis=0)
        mine = cited[split:]
        shared = mine & covered
        rest = mine & ~covered
        gives = ok[split:] & (shared != 0)
        partly = gives & self._single[:, None] & (rest != 0)
        np.copyto(mine, rest, where=partly)
        gives &= ~partly
        gave[split:] = gives
        ok[split:] &= ~gives

    def _named_pass(self, ok: Bools, cited: Words) -> Bools:
        # Every rule decides on the list the pass started with, as in resolve._named_pass.
        named = np.zeros_like(ok)
        for target, by in self._named:
            inside = np.zeros(ok.shape[1], dtype=bool)
            for other in by:
                inside |= ok[other] & ((cited[target] & ~cited[other]) == 0)
            named[target] = ok[target] & inside
        return named

    # -- reading the result --------------------------------------------------------------------

    def findings(self, resolved: Resolved, row: int) -> tuple[str, ...]:
        return tuple(self.ids[i] for i in np.flatnonzero(resolved.kept[:, row]))

    def superseded(self, resolved: Resolved, row: int) -> tuple[str, ...]:
        return tuple(self.ids[i] for i in np.flatnonzero(resolved.gave[:, row]))

    def cited(self, words: Words | int) -> tuple[int, ...]:
        """The observation positions a word holds, in order."""
        value = int(words)
        return tuple(j for j in range(64) if value >> j & 1)
