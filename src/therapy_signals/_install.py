"""The ``pip install`` line that adds an extra to this very installation.

therapy-signals is installed from a checkout or a built wheel, not from an index, so
``pip install 'therapy-signals[batch]'`` would fail or fetch someone else's package. pip
records where an installation came from (``direct_url.json``, PEP 610); the hint points
back there.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from importlib import metadata
from typing import Any
from urllib.parse import unquote, urlparse

__all__ = ["install_command"]

_DISTRIBUTION = "therapy-signals"


def install_command(extra: str) -> str:
    """``pip install`` with ``extra``, from wherever this installation came from."""
    return command_for(extra, _origin())


def command_for(extra: str, origin: Mapping[str, Any] | None) -> str:
    """The command for a PEP 610 record, or for an index when there is none (or it is unreadable)."""
    record = origin or {}
    url = record.get("url")
    if not isinstance(url, str):
        return f"pip install '{_DISTRIBUTION}[{extra}]'"
    parsed = urlparse(url)
    if parsed.scheme != "file" or "vcs_info" in record:
        return f"pip install {shlex.quote(f'{_DISTRIBUTION}[{extra}] @ {url}')}"
    target = shlex.quote(f"{unquote(parsed.path)}[{extra}]")
    directory = record.get("dir_info")
    editable = isinstance(directory, Mapping) and directory.get("editable") is True
    return f"pip install -e {target}" if editable else f"pip install {target}"


def _origin() -> Mapping[str, Any] | None:
    try:
        text = metadata.distribution(_DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:  # running from a source tree on sys.path
        return None
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
