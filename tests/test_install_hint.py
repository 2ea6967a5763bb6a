"""The hint for a missing extra names a `pip install` that adds it to this installation.

therapy-signals is not on an index, so `pip install 'therapy-signals[batch]'` would find
nothing (or someone else's package); the hint points where pip says the package came from.
The wheel case is checked where a wheel is really installed: tests/test_docs_sessions.py's
install test.
"""

from __future__ import annotations

import json
import re
import shlex
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from therapy_signals._install import command_for, install_command

ROOT = Path(__file__).resolve().parent.parent


def test_this_checkouts_installation_is_pointed_back_to() -> None:
    origin = json.loads(metadata.distribution("therapy-signals").read_text("direct_url.json") or "null")
    if not (origin and origin.get("dir_info", {}).get("editable")):
        pytest.skip("not an editable install of a checkout")
    command = install_command("batch")
    assert shlex.split(command) == ["pip", "install", "-e", f"{ROOT}[batch]"]


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (None, ["pip", "install", "therapy-signals[dask]"]),
        ({}, ["pip", "install", "therapy-signals[dask]"]),
        ({"url": 7}, ["pip", "install", "therapy-signals[dask]"]),
        (
            {"url": "file:///home/a%20b/ts", "dir_info": {"editable": True}},
            ["pip", "install", "-e", "/home/a b/ts[dask]"],
        ),
        ({"url": "file:///home/ts", "dir_info": {}}, ["pip", "install", "/home/ts[dask]"]),
        ({"url": "file:///home/ts", "dir_info": {"editable": "yes"}}, ["pip", "install", "/home/ts[dask]"]),
        (
            {"url": "file:///d/dist/therapy_signals-0.1.0-py3-none-any.whl", "archive_info": {}},
            ["pip", "install", "/d/dist/therapy_signals-0.1.0-py3-none-any.whl[dask]"],
        ),
        (
            {"url": "https://example.invalid/therapy_signals-0.1.0.tar.gz", "archive_info": {}},
            ["pip", "install", "therapy-signals[dask] @ https://example.invalid/therapy_signals-0.1.0.tar.gz"],
        ),
        (
            {"url": "file:///src/ts", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
            ["pip", "install", "therapy-signals[dask] @ file:///src/ts"],
        ),
    ],
)
def test_each_kind_of_origin(origin: dict[str, Any] | None, expected: list[str]) -> None:
    assert shlex.split(command_for("dask", origin)) == expected


def test_a_path_a_shell_would_split_is_quoted() -> None:
    command = command_for("batch", {"url": "file:///tmp/it's%20here;rm", "dir_info": {"editable": True}})
    assert shlex.split(command) == ["pip", "install", "-e", "/tmp/it's here;rm[batch]"]


def test_no_message_in_the_library_names_an_index_install() -> None:
    """Every hint goes through install_command: a literal would tell users to fetch from an index."""
    literal = re.compile(r"pip install '?therapy-signals\[")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "therapy_signals").rglob("*.py"))
        if path.name != "_install.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert not found, found
