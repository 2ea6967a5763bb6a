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


def _chunk(lines: list[bytes]) -> object:
    from therapy_signals import Engine
    from therapy_signals.batch._io import Record
    from therapy_signals.batch._parallel import explain_records

    engine = Engine(backend="columnar")
    return explain_records(engine, [Record(i + 1, i + 1, line) for i, line in enumerate(lines)])


def test_a_chunk_travels_as_its_part_file_and_arrives_whole() -> None:
    import pickle

    from therapy_signals.batch._arrow import decode_part
    from therapy_signals.batch._blocks import ColumnarItems

    lines = [
        b'{"id": "a", "observations": [{"signal": "sexual_contact"}]}',
        b'{"observations": [{"signal": "collaboration_valued", "note": "fine"}]}',
        b'{"id": "bad", "observations": []}',  # rejected: it travels beside the table
    ]
    here = _chunk(lines)
    assert isinstance(here, ColumnarItems) and here.part() is None  # encoded only to travel
    there = pickle.loads(pickle.dumps(here))
    assert isinstance(there, ColumnarItems)
    assert there.table().equals(here.table()) and list(there) == list(here)
    encoded = there.part()
    assert encoded is not None and decode_part(encoded).equals(here.table())
    assert [r.record for r in there.rejected] == [3]


def test_a_chunk_with_rows_made_one_by_one_is_encoded_by_the_writer() -> None:
    import pickle

    from therapy_signals.batch._blocks import ColumnarItems

    # An escape sends a line the strict way: its result is one of the chunk's extra rows, so
    # the table the part holds is not the one the worker encoded.
    lines = [
        b'{"id": "a", "observations": [{"signal": "sexual_contact"}]}',
        b'{"id": "b\\u0021", "observations": [{"signal": "sexual_contact"}]}',
    ]
    there = pickle.loads(pickle.dumps(_chunk(lines)))
    assert isinstance(there, ColumnarItems) and there.extra and there.part() is None
    assert there.table().num_rows == 2
