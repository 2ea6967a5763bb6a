"""The shipped rule files are read by LibYAML (start-up time), everything else by the hardened
pure-Python loader; both must give the very same data, line numbers included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from therapy_signals import RuleBookError, _yaml
from therapy_signals._paths import shipped_rules_dir
from therapy_signals.limits import DEFAULT_RULE_FILE_LIMITS

from .conftest import RULES, copy_rulebook

SHIPPED = sorted(p for p in (shipped_rules_dir() or RULES).rglob("*.yaml"))


def _with_lines(value: Any) -> Any:
    """The value with every line number a LineDict or LineList carries, for comparison."""
    if isinstance(value, _yaml.LineDict):
        return ("dict", value.line, dict(value.key_lines), {k: _with_lines(v) for k, v in value.items()})
    if isinstance(value, _yaml.LineList):
        return ("list", value.line, list(value.item_lines), [_with_lines(v) for v in value])
    return value


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without LibYAML")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_both_loaders_read_a_shipped_file_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _yaml._load_shipped(text)
    # The hardened loader sizes the file too: the shipped loader skips that, so this holds it.
    hardened = _yaml._load_hardened(text, path, DEFAULT_RULE_FILE_LIMITS)
    assert _with_lines(fast) == _with_lines(hardened)


def test_only_the_shipped_files_take_libyaml(tmp_path: Path) -> None:
    assert len(SHIPPED) > 10
    assert all(_yaml._shipped(p) for p in SHIPPED) is yaml.__with_libyaml__
    copy = copy_rulebook(RULES, tmp_path / "copy")
    assert not any(_yaml._shipped(p) for p in copy.rglob("*.yaml"))  # a copy is anyone's


def test_a_pack_nested_too_deep_is_still_refused_by_the_hardened_loader(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(RuleBookError, match="nested deeper than 32 levels"):
        _yaml.load(deep)
