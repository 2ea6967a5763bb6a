"""Importing a package of an optional extra, or saying which extra brings it.

A bare ``No module named 'matplotlib'`` leaves a researcher to guess what to install, and
the package names are not the extras' names: pyarrow and matplotlib come with ``batch``,
dask.distributed and bokeh with ``dask``, pandas and polars with ``frames``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .._install import install_command
from ..errors import MissingExtraError

__all__ = ["EXTRA_OF", "require"]

EXTRA_OF = {
    "pyarrow": "batch",
    "matplotlib": "batch",
    "numpy": "batch",
    "distributed": "dask",
    "dask": "dask",
    "bokeh": "dask",
    "pandas": "frames",
    "polars": "frames",
}
"""The extra that installs each optional package (pyproject.toml's optional-dependencies)."""


def hint(module: str, what: str, note: str = "") -> MissingExtraError:
    """The error for ``what`` (a feature, as the user asked for it) without ``module``."""
    package = module.partition(".")[0]
    extra = EXTRA_OF[package]
    return MissingExtraError(
        f"{what} needs {package}, which comes with the {extra} extra: {install_command(extra)}"
        + (f"; {note}" if note else ""),
        extra=extra,
        module=package,
    )


def require(module: str, what: str, note: str = "") -> ModuleType:
    """``import module``, or a :class:`MissingExtraError` naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise hint(module, what, note) from None
