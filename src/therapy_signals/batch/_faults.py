"""Operating-system faults while writing, as one line a user can act on.

A full disk, a read-only folder or a file where a folder should be surface deep inside a
write, as an ``OSError`` whose text ("[Errno 28] No space left on device") names neither
the file we meant nor what to do. Every write of the batch commands goes through
:func:`writing`, which turns that into a :class:`BatchError` naming the path, the cause
and the remedy.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from ..errors import BatchError

__all__ = ["AGAIN", "RESUME", "output_error", "writing"]

RESUME = "then run the same command with --resume"
"""What to do once the cause of a fault in a batch run is gone."""

AGAIN = "then run it again"
"""What to do once the cause is gone, when nothing was written yet or nothing can resume."""

_CAUSES = {
    errno.ENOSPC: ("no space left on the device", "free some space"),
    errno.EDQUOT: ("over the disk quota", "free some space or raise the quota"),
    errno.EFBIG: (
        "the file grew past the largest file allowed (a file size limit, as ulimit -f sets)",
        "raise the limit or write elsewhere",
    ),
    errno.EACCES: ("permission denied", "choose a folder you can write to, or change its permissions"),
    errno.EPERM: ("operation not permitted", "choose a folder you can write to, or change its permissions"),
    errno.EROFS: ("the file system is read-only", "choose a folder on a writable one"),
}


def _file_in_the_way(path: Path) -> Path | None:
    """The path itself or its nearest ancestor that exists, if that is not a folder."""
    for parent in (path, *path.parents):
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _cause(path: Path, error: OSError) -> tuple[str, str]:
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = _file_in_the_way(path)
        if blocker is not None:
            return f"{blocker} is a file, not a folder", "choose another path"
    if error.errno == errno.EISDIR:
        return "it is a folder", "give a file name"
    return _CAUSES.get(error.errno or 0, (error.strerror or str(error), "fix that"))


def output_error(path: str | Path | None, error: OSError, then: str = RESUME) -> BatchError:
    """``<path>: cannot write: <cause>; <remedy>, <then>``, one line; ``None`` is standard output."""
    where = "standard output" if path is None or str(path) == "-" else str(path)
    cause, remedy = _cause(Path(where), error)
    return BatchError(f"{where}: cannot write: {cause}; {remedy}, {then}")


@contextlib.contextmanager
def writing(path: str | Path | None, then: str = RESUME) -> Iterator[None]:
    """Turn an OSError raised inside into :func:`output_error` for ``path``."""
    try:
        yield
    except OSError as error:
        raise output_error(path, error, then) from None
