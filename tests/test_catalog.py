"""docs/rules/ is generated from the rules; it fails here when it is stale."""

from __future__ import annotations

from therapy_signals import RuleBook
from therapy_signals._catalog import render_catalog

from .conftest import ROOT

CATALOG = ROOT / "docs" / "rules"


def test_catalog_is_up_to_date(book: RuleBook) -> None:
    pages = render_catalog(book)
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in CATALOG.glob("*.md")}
    stale = sorted(name for name in pages if on_disk.get(name) != pages[name])
    extra = sorted(set(on_disk) - set(pages))
    fix = "run: therapy-signals rules catalog -o docs/rules"
    assert not stale, f"stale pages {stale}; {fix}"
    assert not extra, f"pages no category produces {extra}; delete them"


def test_catalog_names_every_rule_with_its_references(book: RuleBook) -> None:
    text = "\n".join(render_catalog(book).values())
    for rule in book.rules.values():
        assert f"`{rule.id}`" in text
        for ref in rule.references:
            assert book.sources[ref].title in text
