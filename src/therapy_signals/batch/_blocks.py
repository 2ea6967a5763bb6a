"""A chunk's results as one Arrow table, made from the columnar backend's arrays without a
Python object per row; the rows are those :meth:`Result.to_row` gives, in the same types.

:class:`ColumnarItems` is what such a chunk hands back: it writes as a table, counts as
columns, and only becomes :class:`Result` and :class:`Rejected` objects when someone iterates
it (a Python caller of ``run_batch``, ``--fail-fast``, ``--verify``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from .._fields import SCENARIO_FIELDS
from ..engine._columnar import ColumnarBackend, Resolved
from ..model import Level
from ._arrow import decode_part, encode_part, result_schema
from ._fast_input import Parsed
from ._results import ItemBlock, Rejected, Result

__all__ = ["ColumnarItems", "result_table"]

Ints = npt.NDArray[np.int64]
_LEVELS = pa.array([level.value for level in sorted(Level, key=lambda level: level.rank)], pa.string())
_CATEGORY_CODES = 8


def _lists(rows: Ints, values: Any, size: int) -> Any:
    """A list<string> column: ``values[k]`` belongs to row ``rows[k]`` (rows ascending)."""
    offsets = np.searchsorted(rows, np.arange(size + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def _by_row(matrix: npt.NDArray[np.bool_]) -> tuple[Ints, Ints]:
    """The (row, column) of every true cell of a (columns, rows) matrix, row by row, as
    ``np.nonzero(matrix.T)`` gives them: the few true cells are found on the matrix as it
    lies in memory, then sorted, which beats walking a transposed copy cell by cell."""
    cols, rows = _true_cells(matrix)
    key = rows * matrix.shape[0] + cols
    key.sort()
    rows, cols = np.divmod(key, matrix.shape[0])
    return rows, cols


def _true_cells(matrix: npt.NDArray[np.bool_]) -> tuple[Ints, Ints]:
    """``np.nonzero`` of a C-contiguous 2-D matrix that is mostly false: eight cells are
    read as one 64-bit word, so only the words with a true cell are looked into."""
    flat = np.ascontiguousarray(matrix).reshape(-1)
    pad = -flat.size % 8
    if pad:
        flat = np.concatenate([flat, np.zeros(pad, dtype=bool)])
    hot = np.flatnonzero(flat.view(np.uint64))
    cells = (hot[:, None] * 8 + np.arange(8)).reshape(-1)
    cells = cells[flat[cells]]
    rows, cols = np.divmod(cells, matrix.shape[1])
    return rows, cols


def _ids(parsed: Parsed, numbers: Sequence[int]) -> Any:
    """The scenario_id column: the id given, else ``s`` and the record number."""
    ident = parsed.id_column
    if not ident.null_count:
        return ident
    given = ident.to_pylist()
    return pa.array([i if i is not None else f"s{n}" for i, n in zip(given, numbers, strict=True)], pa.string())


def result_table(columnar: ColumnarBackend, parsed: Parsed, resolved: Resolved, numbers: Sequence[int]) -> Any:
    """The results rows of the scenarios in ``parsed`` (record ``numbers``), as a table."""
    size = parsed.columns.size
    columns = parsed.columns
    # Each scenario's distinct signals, sorted: its distinct (scenario, signal) pairs.
    pairs = np.unique(columns.scenario * len(columnar.signals) + columns.signal)
    signal_rows, signal_codes = np.divmod(pairs, len(columnar.signals))
    names = pa.array(columnar.signals, pa.string())
    signals = _lists(signal_rows, names.take(pa.array(signal_codes)), size)
    ids_array = pa.array(columnar.ids, pa.string())
    kept_rows, kept_cols = _by_row(resolved.kept)
    gave_rows, gave_cols = _by_row(resolved.gave)
    ranks = np.array([level.rank for level in sorted(Level, key=lambda level: level.rank)])
    level_index = np.searchsorted(ranks, resolved.level)
    category_names = sorted({rule.category.value for rule in columnar.rules})
    code = np.array([category_names.index(rule.category.value) for rule in columnar.rules], dtype=np.int64)
    found = code[kept_cols]
    # The first finding of each category in a row, kept in the findings' order.
    _, first = np.unique(kept_rows * _CATEGORY_CODES + found, return_index=True)
    first.sort()
    categories = _lists(kept_rows[first], pa.array(category_names, pa.string()).take(pa.array(found[first])), size)
    settings = pa.array(SCENARIO_FIELDS["setting"].values, pa.string())
    arrays = [
        _ids(parsed, numbers),
        settings.take(pa.array(parsed.setting_codes)),
        parsed.sessions_column.cast(pa.int32()),
        pa.array(columns.counts, pa.int32()),
        signals,
        _LEVELS.take(pa.array(level_index)),
        _lists(kept_rows, ids_array.take(pa.array(kept_cols)), size),
        _lists(gave_rows, ids_array.take(pa.array(gave_cols)), size),
        categories,
    ]
    return pa.Table.from_arrays(arrays, schema=result_schema(False))


class ColumnarItems(ItemBlock):
    """A chunk's items in input order: the rows of ``table`` (records ``numbers``), any
    ``extra`` results made one by one, and the rejected records."""

    def __init__(
        self, table: Any, numbers: Sequence[int], extra: Sequence[Result], rejected: Sequence[Rejected]
    ) -> None:
        self._table = table
        self._numbers = list(numbers)
        self.extra = list(extra)
        self.rejected = list(rejected)
        self._items: list[Result | Rejected] | None = None
        self._encoded: bytes | None = None  # the table as its part file's bytes, once encoded

    # A chunk goes back from a worker as the part file it becomes: the worker encodes it (LZ4
    # and all), and the main process, which every worker waits on, writes those bytes as they
    # are and decodes them only to merge them.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = self.encode()
        state["_items"] = None
        return state

    def encode(self) -> bytes:
        """The table as its part file's bytes (encoded once)."""
        if self._encoded is None:
            self._encoded = encode_part(self._table)
        return self._encoded

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["_encoded"] = state["_table"]
        state["_table"] = decode_part(state["_table"])
        self.__dict__.update(state)

    def part(self) -> bytes | None:
        return self._encoded if not self.extra else None

    @property
    def result_count(self) -> int:
        return len(self._numbers) + len(self.extra)

    def levels(self) -> Counter[str]:
        # Counted in Arrow: the main process does this for every chunk, a Python string per row.
        counts = pc.value_counts(self._table.column("level")).to_pylist()
        counted: Counter[str] = Counter({entry["values"]: entry["counts"] for entry in counts})
        counted.update(r.level.value for r in self.extra)
        return counted

    def table(self) -> Any:
        """Every result of the chunk as one table, in input order."""
        if not self.extra:
            return self._table
        rows = pa.Table.from_pylist([r.to_row() for r in self.extra], result_schema(False))
        numbers = np.array(self._numbers + [r.record for r in self.extra])
        merged = pa.concat_tables([self._table, rows])
        return merged.take(pa.array(np.argsort(numbers, kind="stable"))).combine_chunks()

    def rows(self) -> list[dict[str, Any]]:
        """The result rows as :meth:`Result.to_row` gives them, in input order."""
        return self.table().to_pylist()  # type: ignore[no-any-return]

    def _all(self) -> list[Result | Rejected]:
        if self._items is None:
            numbers = sorted(self._numbers + [r.record for r in self.extra])
            results = [Result.from_row(row, number) for row, number in zip(self.rows(), numbers, strict=True)]
            merged: list[Result | Rejected] = [*results, *self.rejected]
            self._items = sorted(merged, key=lambda item: item.record)
        return self._items

    def __len__(self) -> int:
        return self.result_count + len(self.rejected)

    def __iter__(self) -> Iterator[Result | Rejected]:
        return iter(self._all())

    @overload
    def __getitem__(self, index: int) -> Result | Rejected: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result | Rejected]: ...

    def __getitem__(self, index: int | slice) -> Result | Rejected | list[Result | Rejected]:
        return self._all()[index]
