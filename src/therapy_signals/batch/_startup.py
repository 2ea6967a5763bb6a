"""What a batch process does once at its start to start sooner.

pyarrow looks for pandas on its first ``pa.array`` (to recognise pandas objects among what
it is given) and its C++ side imports pandas again on the first Python sequence it converts
(for ``pd.NA``). With pandas installed, that import is the largest part of a batch's start-up:
0.3 to 0.5 s in every process, the main one and each worker, for objects a batch never has.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["settle_pyarrow_without_pandas"]


class _NoPandas:
    """A finder that refuses pandas, for the moment pyarrow first looks for it."""

    def find_spec(self, name: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if name == "pandas":
            raise ImportError("pandas is not looked for by a batch process")
        return None


def settle_pyarrow_without_pandas() -> None:
    """Have pyarrow settle, in this process, that it has no pandas objects to handle.

    Only for processes that never hand pyarrow a pandas object: the ``batch`` command and the
    worker processes it starts (not a Python caller of ``run_batch``, whose own code may). A
    later ``import pandas`` still works, and so does ``Table.to_pandas()``. Nothing to do
    when pandas is imported already, or pyarrow is not installed.
    """
    if "pandas" in sys.modules:
        return
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
    except ImportError:
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([], pa.int8())  # the Cython side's one look
        pa.array([None, ""])  # the C++ side's, on the first Python sequence converted
    finally:
        sys.meta_path.remove(finder)
