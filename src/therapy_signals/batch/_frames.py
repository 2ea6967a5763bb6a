"""A results file as rows or as one data frame (pandas, polars or an Arrow table).

The frames have the columns of the file (docs/researchers.md, Results), lists as lists,
and ``level`` as an ordered categorical (``normal`` < ... < ``urgent``), so that sorting,
``max`` and comparisons follow the levels, not the alphabet. pandas and polars come from
the ``frames`` extra, pyarrow from ``batch``; each is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..model import Level
from ._extras import require
from ._results import LIST_COLUMNS, Result

if TYPE_CHECKING:
    from ._io import Target

__all__ = ["LEVEL_ORDER", "Results"]

LEVEL_ORDER = tuple(level.value for level in Level)
"""The levels, lowest first: the categories of every frame's ``level`` column."""


def _need(module: str) -> Any:
    return require(module, "a results data frame", "iterating read_results() for rows works without it")


class Results:
    """The rows of a results file: iterate for :class:`Result` rows, or take a data frame."""

    def __init__(self, target: Target, rows: Callable[[], Iterator[Result]]) -> None:
        self.target = target
        self._rows = rows

    def __iter__(self) -> Iterator[Result]:
        return self._rows()

    def __repr__(self) -> str:
        return f"Results({self.target.name!r})"

    def to_arrow(self) -> Any:
        """The whole file as a ``pyarrow.Table``; ``level`` a dictionary column in level order."""
        pa = _need("pyarrow")
        from . import _arrow

        if self.target.format == "parquet":
            assert self.target.path is not None
            table = _arrow.read_result_table(self.target.path)
        else:
            rows = [r.to_row(r.text is not None) for r in self]
            with_text = any("text" in row for row in rows)
            table = pa.Table.from_pylist(rows, _arrow.result_schema(with_text))
        levels = pa.array(LEVEL_ORDER, pa.string())
        codes = pa.compute.index_in(table["level"], value_set=levels).cast(pa.int8())
        if codes.null_count:  # a file from elsewhere: say so rather than let the row's level vanish
            unknown = pa.compute.filter(table["level"], pa.compute.is_null(codes)).to_pylist()[0]
            raise InputError(
                f"{self.target.name}: level {unknown!r} is not one of {', '.join(LEVEL_ORDER)}; not a results file"
            )
        level = pa.DictionaryArray.from_arrays(codes.combine_chunks(), levels, ordered=True)
        return table.set_column(table.schema.get_field_index("level"), pa.field("level", level.type), level)

    def to_pandas(self) -> Any:
        """The whole file as a ``pandas.DataFrame``: one row per scenario, ``level`` an ordered
        ``Categorical``, ``sessions`` and ``observations`` nullable ``Int32``, the list columns
        as Python lists."""
        pd = _need("pandas")
        pa = _need("pyarrow")
        # Int32 keeps "not given" sessions as <NA>; NumPy's int32 cannot, and pandas would make floats.
        frame = self.to_arrow().to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)
        frame["level"] = pd.Categorical(frame["level"].astype(object), categories=LEVEL_ORDER, ordered=True)
        for column in LIST_COLUMNS:
            frame[column] = [list(cell) for cell in frame[column]]
        return frame

    def to_polars(self) -> Any:
        """The whole file as a ``polars.DataFrame``, ``level`` a ``polars.Enum`` in level order."""
        pl = _need("polars")
        pa = _need("pyarrow")
        table = self.to_arrow()
        at = table.schema.get_field_index("level")
        table = table.set_column(at, "level", table["level"].cast(pa.string()))
        return pl.from_arrow(table).with_columns(pl.col("level").cast(pl.Enum(list(LEVEL_ORDER))))
