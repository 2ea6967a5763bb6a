"""Reading scenarios from files and streams, with errors that name the file, line and column."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from ._json import decode_text, loads
from .errors import InputError
from .limits import DEFAULT_INPUT_LIMITS, InputLimits

__all__ = ["parse_json", "read_bounded", "read_json"]


def parse_json(data: bytes | str, source: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Any:
    """Decode UTF-8 and parse strict JSON (see ``_json``); InputError says where and why it failed."""
    text = decode_text(data, source, limits)
    if not text.strip():
        raise InputError(f"{source}: empty; expected a JSON object with 'observations'")
    return loads(text, source, limits)


def read_bounded(stream: IO[bytes], source: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> bytes:
    """At most one byte more than the limit, so an endless stream (/dev/zero) is refused, not read."""
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise InputError(
            f"{source}: more than {limits.max_bytes:,} bytes, over the limit for one scenario; "
            "raise it with --max-bytes (or InputLimits(max_bytes=...)) if this is really one scenario"
        )
    return data


def read_json(path: str | Path, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Any:
    """Read JSON from a path, or from standard input when the path is ``-``."""
    if str(path) == "-":
        return parse_json(read_bounded(sys.stdin.buffer, "<stdin>", limits), "<stdin>", limits)
    file = Path(path)
    try:
        with file.open("rb") as stream:
            data = read_bounded(stream, str(file), limits)
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a folder; give a .json file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot read ({error.strerror})") from None
    return parse_json(data, str(file), limits)
