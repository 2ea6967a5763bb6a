"""Reading a docs page's code blocks and console sessions, for the tests that run them as written.

In a session's output, `…` stands for text left out, and a line that starts with a space
continues the line before (long output is wrapped for reading).
"""

from __future__ import annotations

import re
from pathlib import Path


def blocks(page: Path, kind: str) -> list[str]:
    """The bodies of every fenced block of a kind (``python``, ``console``) on the page."""
    return re.findall(rf"^```{kind}\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


def sessions(page: Path) -> list[tuple[str, list[str]]]:
    """Every `$ command` of the console blocks, with the output lines shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for block in blocks(page, "console"):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            command = lines[index][2:]
            while command.endswith("\\"):
                index += 1
                command = command[:-1] + lines[index].strip()
            index += 1
            output = []
            while index < len(lines) and not lines[index].startswith("$ "):
                output.append(lines[index])
                index += 1
            steps.append((command, output))
    return steps


def pattern(shown: list[str]) -> re.Pattern[str]:
    """`…` is anything; a wrapped line joins with any whitespace; other lines may have lines between."""
    text = ""
    while shown and not shown[-1].strip():
        shown = shown[:-1]
    for number, line in enumerate(shown):
        if number:
            text += "\x00" if line.startswith(" ") else "\x01"
        text += line.strip()
    parts = [re.escape(piece) for piece in text.split("…")]
    regex = ".*?".join(parts).replace("\x00", r"\s*").replace("\x01", r"\n(?:.*\n)*?")
    return re.compile(regex, flags=re.S)
