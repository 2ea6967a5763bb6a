"""Writing a benchmark's figures into docs/performance.md, one ``## `` section per benchmark."""

from __future__ import annotations


def replace_section(document: str, heading: str, section: str) -> str:
    """The document with its ``heading`` section replaced (or appended), the others kept."""
    start = document.find(heading + "\n")
    if start == -1:
        return document.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    end = document.find("\n## ", start + 1)
    rest = document[end + 1 :] if end != -1 else ""
    return document[:start] + section.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
