"""Every bullet of the guide maps to signals and rules that exist (issue: the knowledge base).

The guide is read from ../shared/guide/, as received (its curly quotes and dashes became
U+0E42); bullets are compared after folding that damage and punctuation away.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from therapy_signals import RuleBook

from .conftest import GUIDE


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u0e42", " ").lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def guide_bullets() -> list[tuple[str, str]]:
    """(heading, bullet) for every bullet line of the guide, with the heading above its list."""
    heading = ""
    found = []
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("- "):
            found.append((heading, line[2:].strip()))
        elif line.strip() and not lines[index - 1].startswith("- ") and index + 1 < len(lines):
            nxt = lines[index + 1]
            if not line.endswith((".", ":", "?", "!")) and not nxt.startswith("- "):
                heading = line.strip()
    return found


@pytest.fixture(scope="module")
def guide_map(book: RuleBook):  # type: ignore[no-untyped-def]
    if book.guide_map is None:
        pytest.fail("rules/guide-map.yaml is missing")
    return book.guide_map


def test_the_guide_is_there() -> None:
    assert GUIDE.is_file(), f"the guide is read from {GUIDE}"
    assert len(guide_bullets()) >= 50


def test_every_guide_bullet_is_mapped(guide_map) -> None:  # type: ignore[no-untyped-def]
    mapped = {fold(b.text) for s in guide_map.sections for b in s.bullets}
    missing = [bullet for _, bullet in guide_bullets() if fold(bullet) not in mapped]
    assert not missing, f"guide bullets with no entry in guide-map.yaml: {missing}"


def test_no_mapped_bullet_is_invented(guide_map) -> None:  # type: ignore[no-untyped-def]
    in_guide = {fold(b) for _, b in guide_bullets()}
    invented = [b.text for s in guide_map.sections for b in s.bullets if fold(b.text) not in in_guide]
    assert not invented


def test_sections_follow_the_guide_headings(guide_map) -> None:  # type: ignore[no-untyped-def]
    headings = {fold(h) for h, _ in guide_bullets()}
    for section in guide_map.sections:
        assert fold(section.heading) in headings, section.heading
        assert section.source.startswith("guide#")


def test_every_bullet_has_existing_rules_that_name_its_signals(book: RuleBook, guide_map) -> None:  # type: ignore[no-untyped-def]
    from therapy_signals.conditions import Match, walk

    for section in guide_map.sections:
        for bullet in section.bullets:
            reached: set[str] = set()
            for rule_id in bullet.rules:
                assert rule_id in book.rules, (bullet.text, rule_id)
                for node, _ in walk(book.rules[rule_id].when):
                    if isinstance(node, Match):
                        reached |= book.signals_reached(node)
            assert set(bullet.signals) & reached, (bullet.text, "no mapped rule names a mapped signal")


def test_quotes_from_the_guide_stay_short(book: RuleBook) -> None:
    """The project quotes no more of the guide than the short bullet phrases rules cite."""
    guide_text = fold(GUIDE.read_text(encoding="utf-8"))
    long_runs = []
    for path in book.root.rglob("*"):
        if path.suffix not in (".yaml", ".j2") or path.name == "guide-map.yaml":
            continue
        words = fold(path.read_text(encoding="utf-8")).split()
        for start in range(0, max(0, len(words) - 12)):
            if " ".join(words[start : start + 12]) in guide_text:
                long_runs.append((path.name, " ".join(words[start : start + 12])))
                break
    assert not long_runs, long_runs
