"""A pack given in code reaches every worker of a batch, processes and Dask alike.

Workers rebuild their Engine from the batch's config; a pack in code has no folder, so it
travels as its data, and the rule-base hash every chunk reports back proves each worker
applied the same packs in the same order (it used to refuse: "another rule base").
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from therapy_signals import Engine, RuleBook
from therapy_signals.batch import Batch, read_results
from therapy_signals.engine import BUILTIN

from ..test_data_packs import CONSTANT, pack, rule

RULE = "everyday.constant-challenge"


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "s.jsonl"
    lines = [{"id": f"s{i}", **CONSTANT} for i in range(24)]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return source


@pytest.mark.parametrize("run", [{"workers": 2}, {"workers": 2, "dask": "local"}], ids=["processes", "dask"])
def test_workers_apply_a_pack_given_in_code(tmp_path: Path, run: dict[str, Any]) -> None:
    engine = Engine(rule_paths=[BUILTIN, pack(rule())])
    source = _source(tmp_path)
    Batch(engine=engine, chunk_size=4).run(source, tmp_path / "one.jsonl").complete()
    Batch(engine=engine, chunk_size=4, **run).run(source, tmp_path / "many.jsonl").complete()
    assert (tmp_path / "many.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    rows = list(read_results(tmp_path / "many.jsonl"))
    assert len(rows) == 24 and all(row.findings == (RULE,) for row in rows)
    manifest = json.loads((tmp_path / "many.jsonl.manifest.json").read_text(encoding="utf-8"))
    (named,) = manifest["rulebook"]["packs_in_code"]
    assert (named["name"], named["version"]) == ("clinic-db", "1.2.0")
    assert manifest["rulebook"]["packs"] == [] and manifest["rulebook"]["hash"] == engine.rulebook.content_hash


def _folder_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "rare"
    folder.mkdir()
    (folder / "pack.yaml").write_text("name: rare\nversion: 1.0.0\n", encoding="utf-8")
    (folder / "rules.yaml").write_text(
        "rules:\n"
        f"  - id: {RULE}\n"
        "    title: Challenged in every session, by the folder\n"
        "    category: everyday\n"
        "    level: concern\n"
        "    when: {signal: feeling_challenged_in_session, frequency: constantly}\n"
        "    normal_when: Now and then, when the work is hard.\n"
        "    explain: everyday/feeling-challenged.j2\n"
        "    references: [guide#everyday-challenges]\n",
        encoding="utf-8",
    )
    return folder


def test_pack_sources_rebuild_the_same_rule_base_in_any_order(tmp_path: Path) -> None:
    """Folder and code packs interleaved: the sources rebuild each order with its own hash,
    and two orders (whose last override wins differently) never share a hash."""
    folder = _folder_pack(tmp_path)
    in_code = pack(rule())
    hashes = {}
    for order in itertools.permutations([folder, in_code]):
        book = RuleBook.load(None, list(order))
        again = RuleBook.load(book.root, book.pack_sources)
        assert again.content_hash == book.content_hash
        assert [isinstance(s, Path) for s in book.pack_sources] == [isinstance(p, Path) for p in order]
        hashes[book.rules[RULE].level] = book.content_hash
    assert len(hashes) == 2  # the last pack's level wins, and the hashes say so
