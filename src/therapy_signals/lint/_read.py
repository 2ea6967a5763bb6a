"""Reading an article: bytes to text, with a clear message for anything that is not UTF-8 text.

Articles may come from anyone (a pull request, an upload), so reading is bounded: at most
``max_bytes`` (one more, to tell that there is more) is read from a file or a stream, and
only regular files are read at all. A named pipe, a socket or a device such as /dev/zero
has no end that can be trusted, and opening a pipe for reading waits for a writer: the
file is checked with stat before it is opened, opened without blocking, and checked again
on the open descriptor (fstat), so it cannot be swapped in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import DocumentError
from ._config import DEFAULT_MAX_BYTES

__all__ = ["check_size", "decode", "read_document", "read_stream"]

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
# O_NONBLOCK: opening a FIFO for reading would wait for a writer. O_NOCTTY: a terminal
# opened by name must not become the process's controlling terminal.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def decode(data: bytes, source: str) -> str:
    """UTF-8 text from bytes; DocumentError for binary data and for other encodings."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise DocumentError(f"{source}: {name} text; save it as UTF-8 to lint it")
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{source}: a binary file (it contains NUL bytes), not Markdown or text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise DocumentError(
            f"{source}:{line}:{column}: not UTF-8 (byte 0x{data[error.start]:02x}); "
            "save the file as UTF-8 (an editor's 'Save with encoding', or iconv -f cp1252 -t utf-8)"
        ) from None
    if "\x00" in text:
        raise DocumentError(f"{source}: a binary file (it contains NUL bytes), not Markdown or text")
    return text


def _too_big(source: str, size: str, max_bytes: int) -> DocumentError:
    return DocumentError(
        f"{source}: {size} bytes, over the limit of {max_bytes:,} bytes for one article; if it really is "
        "one article, raise max-bytes in [tool.therapy-signals.lint] (or give --max-bytes, or "
        "LintConfig(max_bytes=...))"
    )


def check_size(data: str | bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """DocumentError when ``data`` takes more than ``max_bytes`` bytes (text: as UTF-8)."""
    if isinstance(data, bytes):
        size = len(data)
    elif len(data) * 4 <= max_bytes:
        return  # no character takes more than four bytes
    else:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise _too_big(source, f"{size:,}", max_bytes)


def read_stream(stream: BinaryIO, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of a stream (standard input), reading at most ``max_bytes`` and one byte more."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big(source, f"more than {max_bytes:,}", max_bytes)
    return decode(data, source)


def _not_regular(file: Path, mode: int) -> DocumentError:
    if stat.S_ISDIR(mode):
        return DocumentError(f"{file}: is a folder; give Markdown files, or the folder to the command line")
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return DocumentError(
        f"{file}: {kind}, not a regular file; the linter reads only files (pipe text to it with - instead)"
    )


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(descriptor, min(limit + 1 - total, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_bytes(file: Path, max_bytes: int) -> bytes:
    # stat first, so a device is never opened; fstat after, so it cannot be swapped in.
    mode = file.stat().st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(file, mode)
    descriptor = os.open(file, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(file, info.st_mode)
        if info.st_size > max_bytes:
            raise _too_big(str(file), f"{info.st_size:,}", max_bytes)
        data = _read_at_most(descriptor, max_bytes)
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:  # it grew after fstat
        raise _too_big(str(file), f"more than {max_bytes:,}", max_bytes)
    return data


def read_document(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of a regular file of at most ``max_bytes``; DocumentError names the file and what is wrong."""
    file = Path(path)
    try:
        data = _read_bytes(file, max_bytes)
    except FileNotFoundError:
        raise DocumentError(f"{file}: no such file") from None
    except PermissionError:
        raise DocumentError(f"{file}: permission denied") from None
    except OSError as error:
        raise DocumentError(f"{file}: cannot read ({error.strerror})") from None
    return decode(data, str(file))
