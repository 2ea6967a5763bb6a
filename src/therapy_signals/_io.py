"""Reading scenarios from files and streams, with errors that name the file, line and column."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import InputError


def parse_json(data: bytes | str, source: str) -> Any:
    """Decode UTF-8 and parse JSON; InputError says where and why it failed."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(
                f"{source}: not UTF-8 text (byte {error.start} is 0x{data[error.start]:02x}); save it as UTF-8"
            ) from None
    else:
        text = data
    if not text.strip():
        raise InputError(f"{source}: empty; expected a JSON object with 'observations'")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None


def read_json(path: str | Path) -> Any:
    """Read JSON from a path, or from standard input when the path is ``-``."""
    if str(path) == "-":
        return parse_json(sys.stdin.buffer.read(), "<stdin>")
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a folder; give a .json file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot read ({error.strerror})") from None
    return parse_json(data, str(file))
