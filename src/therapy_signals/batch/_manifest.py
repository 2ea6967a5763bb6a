"""The manifest beside every output: what made it, from what, and how it went.

``<output>.manifest.json`` records the library and rule base versions, the input's sha256,
the seed, the command line, counts by level, errors and timing. While a batch runs it also
holds the last checkpoint (records done, and where the output and errors files end), which
is what ``--resume`` continues from. It is replaced atomically, so it is never half written.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import BatchError, InputError
from ..rulebook import RuleBook
from ._faults import RESUME, writing

__all__ = ["MANIFEST_VERSION", "errors_path", "manifest_path", "now", "read_manifest", "stamp", "write_manifest"]

MANIFEST_VERSION = 1


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name + ".manifest.json")


def errors_path(output: Path) -> Path:
    return output.with_name(output.name + ".errors.jsonl")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def stamp(kind: str, book: RuleBook, command: Sequence[str] | None) -> dict[str, Any]:
    """The fields every manifest starts with."""
    argv = list(command) if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": kind,
        "status": "running",
        "library": {
            "name": "therapy-signals",
            "version": _version("therapy-signals") or "0+unknown",
            "durable_rules": _version("durable-rules"),
            "python": platform.python_version(),
        },
        # The packs applied on top of the base, in order: what to pass as --pack to rebuild this rule base.
        "rulebook": {
            "name": book.name,
            "version": book.version,
            "hash": book.content_hash,
            "packs": [str(pack.resolve()) for pack in book.packs],
            # Packs given in code have no folder to name: their name, version and hash say which they were.
            "packs_in_code": [
                info.model_dump(mode="json")
                for source, info in zip(book.pack_sources, book.pack_info, strict=True)
                if not isinstance(source, Path)
            ],
        },
        "command": shlex.join(argv),
    }


def write_manifest(path: Path, manifest: Mapping[str, Any], then: str = RESUME) -> None:
    """Replace the manifest atomically; BatchError names it if it cannot be written.

    Its temporary file never outlives a failed write: on a full disk it would hold the
    space, and a later listing would show a stray ``.tmp`` beside the output.
    """
    temporary = path.with_name("." + path.name + ".tmp")
    with writing(path, then):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("w", encoding="utf-8") as file:
                json.dump(manifest, file, indent=2, ensure_ascii=False)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            temporary.replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or None if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a file is in the way of its folder: no manifest, and writing will say why
    except OSError as error:
        raise BatchError(
            f"{path}: cannot read the manifest ({error.strerror}); fix that or choose another output"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a readable manifest (not UTF-8); delete it to start afresh") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InputError(f"{path}: not a readable manifest ({error}); delete it to start afresh") from None
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise InputError(f"{path}: not a therapy-signals manifest (version {MANIFEST_VERSION})")
    return data
