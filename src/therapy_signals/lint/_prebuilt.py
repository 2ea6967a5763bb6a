"""The linter's data computed ahead of time, so that ``therapy-signals lint`` starts fast.

Two files in ``lint/_data/``, written by ``scripts/build_lint_data.py`` (``make lint-data``):

``phrases.json``  what :class:`~therapy_signals.lint._phrases.PhraseIndex` computes from the
                  shipped rule base: the signals with the rule that fires on each alone, every
                  phrasing's lemmas, negations and weights, the anchors, the lemma index; and
                  the rule base's name and version.
``lemmas.tsv``    what ``_text._dictionary_form`` returns for every word lemminflect knows
                  (see :mod:`._lemmas`), one word a line.

Each file carries the fingerprint of what it was computed from, and is used only when that
fingerprint is the current one; otherwise the linter computes everything as before, in the
process, and ``tests/lint/test_prebuilt.py`` fails with the command that regenerates the
files. The fingerprint is cheap to check (no YAML is parsed, nothing heavy imported):

- :data:`ANALYSER_VERSION`, bumped by hand when the analysis changes in a way the sources
  below do not show;
- lemminflect's version, read from its ``__init__.py`` without importing it;
- sha256 of the source of the modules the data is computed by (``_text.py`` for the lemmas;
  also ``_phrases.py``, ``_roles.py``, ``_evaluate.py`` and ``_facts.py`` for the phrases:
  :data:`_PHRASE_SOURCES`, to extend when ``PhraseIndex`` comes to depend on another module);
- for the phrases, sha256 of the rule base's top-level YAML files (names and bytes): the
  files ``PhraseIndex`` reads. Templates are not part of it: the linter reads none.

``THERAPY_SIGNALS_NO_PREBUILT=1`` turns both files off (to measure, or to rule them out).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rulebook import RuleBook
    from ._phrases import PhraseIndex

__all__ = [
    "ANALYSER_VERSION",
    "ENV_VAR",
    "LEMMAS",
    "PHRASES",
    "REGENERATE",
    "RuleBaseId",
    "RuleFiles",
    "enabled",
    "lemma_key",
    "load_phrases",
    "phrase_key",
    "phrases_data",
    "read_data",
    "rule_files",
    "write_phrases",
]

ANALYSER_VERSION = 1
"""Bump when the analysis changes in a way the hashed sources do not show (a new input to it)."""
FORMAT = 1
ENV_VAR = "THERAPY_SIGNALS_NO_PREBUILT"
REGENERATE = ".venv/bin/python scripts/build_lint_data.py"
"""The command that rewrites both files (``make lint-data`` runs it)."""

_PACKAGE = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "_data"
PHRASES = DATA / "phrases.json"
LEMMAS = DATA / "lemmas.tsv"
_LEMMA_SOURCES = ("lint/_text.py",)
_PHRASE_SOURCES = ("lint/_text.py", "lint/_phrases.py", "lint/_roles.py", "engine/_evaluate.py", "engine/_facts.py")
_CONTENT = (".yaml", ".yml", ".j2")
_VERSION = re.compile(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)


def enabled() -> bool:
    """Whether the prebuilt files may be used (``THERAPY_SIGNALS_NO_PREBUILT`` unset or 0)."""
    return os.environ.get(ENV_VAR, "") in ("", "0")


@cache
def lemminflect_version() -> str | None:
    """lemminflect's ``__version__``, read from its source: importing it costs 0.06 s (numpy)."""
    from importlib.machinery import PathFinder  # not importlib.util.find_spec: importing that takes 3 ms

    try:
        spec = PathFinder.find_spec("lemminflect")
        if spec is None or spec.origin is None:
            return None
        found = _VERSION.search(Path(spec.origin).read_text(encoding="utf-8"))
    except (OSError, ImportError, ValueError, UnicodeDecodeError):
        return None
    return found.group(1) if found else None


def _source_key(sources: Iterable[str]) -> str | None:
    digest = hashlib.sha256(f"analyser {ANALYSER_VERSION}\0lemminflect {lemminflect_version()}\0".encode())
    for name in sources:
        try:
            data = (_PACKAGE / name).read_bytes()
        except OSError:  # installed without sources: never trust the data then
            return None
        digest.update(f"{name}\0".encode())
        digest.update(data)
        digest.update(b"\0")
    return digest.hexdigest()


@cache
def lemma_key() -> str | None:
    """The fingerprint of the lemma table: what ``_dictionary_form`` depends on."""
    return _source_key(_LEMMA_SOURCES)


@cache
def phrase_key() -> str | None:
    """The analyser part of the phrase index's fingerprint (the rule files are the other)."""
    return _source_key(_PHRASE_SOURCES)


@dataclass(frozen=True, slots=True)
class RuleBaseId:
    """Which rule base the linter checks against, as its output reports it."""

    name: str
    version: str
    content_hash: str  # RuleBook.content_hash: sha256 over every YAML and template file


@dataclass(frozen=True, slots=True)
class RuleFiles:
    """Fingerprints of a rule base folder, from its bytes alone."""

    content_hash: str  # the same as RuleBook.content_hash for the folder without packs
    index_key: str  # over the top-level YAML files: all that PhraseIndex depends on


def _listing(top: str, parts: tuple[str, ...], found: list[tuple[tuple[str, ...], str, int]]) -> bool:
    """Every regular file under ``top``; False at a link or anything not a file or folder."""
    with os.scandir(top) as entries:
        for entry in entries:
            if entry.is_symlink():
                return False
            if entry.is_dir(follow_symlinks=False):
                if not _listing(entry.path, (*parts, entry.name), found):
                    return False
            elif entry.is_file(follow_symlinks=False):
                found.append(((*parts, entry.name), entry.path, entry.stat(follow_symlinks=False).st_size))
            else:
                return False
    return True


def _suffix(name: str) -> str:
    """``Path(name).suffix``, without making a Path."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def rule_files(root: Path) -> RuleFiles | None:
    """The fingerprints of the rule base in ``root``; None where RuleBook.load could refuse
    the folder for what no YAML file shows (a link, a pipe, more files or bytes than the
    limits), or when it cannot be read: the rule base is then loaded, and checked, as usual."""
    from ..limits import DEFAULT_RULE_FILE_LIMITS

    found: list[tuple[tuple[str, ...], str, int]] = []
    try:
        if not _listing(str(root), (), found):
            return None
    except OSError:
        return None
    limits = DEFAULT_RULE_FILE_LIMITS
    if len(found) > limits.max_files or sum(size for _, _, size in found) > limits.max_folder_bytes:
        return None
    content = hashlib.sha256()
    index = hashlib.sha256()
    # Sorted by path components, as RuleBook.content_hash sorts its Path objects.
    for parts, path, _ in sorted(f for f in found if _suffix(f[0][-1]) in _CONTENT):
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        name = "/".join(parts)
        content.update(f"0/{name}".encode())
        content.update(b"\0")
        content.update(data)
        content.update(b"\0")
        if len(parts) == 1 and parts[0].endswith((".yaml", ".yml")):
            index.update(f"{name}\0".encode())
            index.update(data)
            index.update(b"\0")
    return RuleFiles(content.hexdigest(), index.hexdigest())


def read_data(path: Path) -> dict[str, Any] | None:
    """A prebuilt file's content, or None when it is missing, unreadable or of another format."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def load_phrases(rules: str | Path | None) -> tuple[PhraseIndex, RuleBaseId] | None:
    """The prebuilt index and the rule base's identity, when the data fits the rule base in
    ``rules`` (None: the default one) and the current analyser; else None."""
    if not enabled():
        return None
    key = phrase_key()
    if key is None:
        return None
    data = read_data(PHRASES)
    if data is None or data.get("analyser") != key:
        return None
    from ..errors import RuleBookError

    try:
        from .._paths import default_rules_dir

        root = Path(rules) if rules is not None else default_rules_dir()
    except RuleBookError:
        return None
    files = rule_files(root)
    if files is None or data.get("rules") != files.index_key:
        return None
    return _index(data), RuleBaseId(data["rulebook"]["name"], data["rulebook"]["version"], files.content_hash)


# SignalInfo and _Phrasing are stored as rows of their fields, named in the file: a field
# added to either is carried without a change here, as long as JSON holds it (a string, a
# number, a bool, None, a tuple of those, or one of the enums below). Anything else makes
# the test of freshness fail, not the linter.
def _enum_fields() -> dict[str, Any]:
    from .._enums import Category, Level

    return {"category": Category, "level": Level}


def _row(item: Any) -> list[Any]:
    from enum import Enum

    row = []
    for field in fields(item):
        value = getattr(item, field.name)
        row.append(value.value if isinstance(value, Enum) else list(value) if isinstance(value, tuple) else value)
    return row


def _item(kind: Any, names: list[str], row: list[Any], enums: dict[str, Any]) -> Any:
    values = {}
    for name, value in zip(names, row, strict=True):
        values[name] = enums[name](value) if name in enums else tuple(value) if isinstance(value, list) else value
    return kind(**values)


def _index(data: dict[str, Any]) -> PhraseIndex:
    from ._phrases import PhraseIndex, SignalInfo, _Phrasing

    enums = _enum_fields()
    names = data["fields"]
    signals = {row[0]: _item(SignalInfo, names["signals"], row, enums) for row in data["signals"]}
    phrasings = [_item(_Phrasing, names["phrasings"], row, {}) for row in data["phrasings"]]
    return PhraseIndex.prebuilt(signals, data["weights"], frozenset(data["anchors"]), phrasings, data["by_lemma"])


def phrases_data(book: RuleBook) -> dict[str, Any]:
    """What ``phrases.json`` holds for a rule base loaded from a folder without packs."""
    from ._phrases import PhraseIndex

    if book.pack_info:  # packs in folders or given in code
        raise ValueError("prebuilt data is for a rule base without packs")
    files = rule_files(book.root)
    if files is None:
        raise ValueError(f"{book.root}: the rule files cannot be fingerprinted (a link, a pipe, or over the limits)")
    from ._phrases import SignalInfo, _Phrasing

    index = PhraseIndex(book)
    return {
        "format": FORMAT,
        "analyser": phrase_key(),
        "rules": files.index_key,
        "rulebook": {"name": book.name, "version": book.version},
        "fields": {
            "signals": [field.name for field in fields(SignalInfo)],
            "phrasings": [field.name for field in fields(_Phrasing)],
        },
        "anchors": sorted(index._anchor),
        "signals": [_row(signal) for signal in index.signals.values()],
        "weights": dict(sorted(index._weight.items())),  # sorted: a rebuild diffs only where it changed
        "phrasings": [_row(phrasing) for phrasing in index._phrasings],
        "by_lemma": dict(index._by_lemma),
    }


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_phrases(data: dict[str, Any], path: Path = PHRASES) -> None:
    """Write ``phrases.json``: JSON with one entry a line, so that a change reads as a small diff."""
    parts = []
    for key, value in data.items():
        if isinstance(value, list):
            value = "[\n" + ",\n".join(_dump(item) for item in value) + "\n]"
        elif isinstance(value, dict):
            value = "{\n" + ",\n".join(f"{_dump(k)}:{_dump(v)}" for k, v in value.items()) + "\n}"
        else:
            value = _dump(value)
        parts.append(f"{_dump(key)}:{value}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{" + ",\n".join(parts) + "}\n", encoding="utf-8")
