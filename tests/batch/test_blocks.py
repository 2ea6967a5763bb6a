"""The result table finds a chunk's true cells eight at a time (``_blocks._by_row``); for any
matrix, of any shape and however sparse, that is what NumPy's own nonzero gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from therapy_signals.batch._blocks import _by_row

shapes = st.tuples(st.integers(0, 40), st.integers(0, 70))


@given(shapes.flatmap(lambda shape: hnp.arrays(np.bool_, shape)))
def test_true_cells_row_by_row_are_numpys(matrix: np.ndarray) -> None:
    rows, cols = _by_row(matrix)
    expected_rows, expected_cols = np.nonzero(matrix.T)
    assert rows.tolist() == expected_rows.tolist()
    assert cols.tolist() == expected_cols.tolist()


@given(shapes.flatmap(lambda shape: hnp.arrays(np.bool_, (shape[0], shape[1] * 2))))
def test_a_view_with_a_stride_gives_the_same(matrix: np.ndarray) -> None:
    view = matrix[:, ::2]  # not contiguous
    rows, cols = _by_row(view)
    expected_rows, expected_cols = np.nonzero(view.T)
    assert (rows.tolist(), cols.tolist()) == (expected_rows.tolist(), expected_cols.tolist())
