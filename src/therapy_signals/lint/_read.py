"""Reading an article: bytes to text, with a clear message for anything that is not UTF-8 text."""

from __future__ import annotations

from pathlib import Path

from ..errors import DocumentError

__all__ = ["decode", "read_document"]

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


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


def read_document(path: str | Path) -> str:
    """The text of a file; DocumentError names the file and what is wrong."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{file}: is a folder; give Markdown files, or the folder to the command line") from None
    except PermissionError:
        raise DocumentError(f"{file}: permission denied") from None
    except OSError as error:
        raise DocumentError(f"{file}: cannot read ({error.strerror})") from None
    return decode(data, str(file))
