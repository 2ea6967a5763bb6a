"""Rule files: their models, loading, and the cross-reference checks that keep them honest.

A rule base is a folder:

``rulebook.yaml``   name, version, default locale
``signals.yaml``    the observation vocabulary
``sources.yaml``    the guide's sections and the standards rules cite
``resources.yaml``  crisis lines and the like, shown first for serious and urgent guidance
``*.yaml``          any other file holds ``rules:``
``templates/<locale>/``  Jinja2 explanation templates and ``strings.yaml``

Loading validates every file with Pydantic, then checks what no single file can: that
every signal, source, template and superseded rule a rule names exists, and the
invariants the library promises (a safety signal is never called normal, every
observation is explained, adding a concern never lowers the level).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from . import _yaml
from ._fields import SCENARIO_FIELDS
from ._normal_form import TooComplexError, branch_count
from ._paths import default_rules_dir
from .conditions import Condition, Count, Match, walk
from .errors import LocaleError, Problem, RuleBookError, UnknownRuleError
from .limits import DEFAULT_RULE_FILE_LIMITS, RuleFileLimits
from .model import MAX_OBSERVATIONS, Category, Level, PackInfo, Role

_M = TypeVar("_M", bound=BaseModel)
_MetaT = TypeVar("_MetaT", "Meta", "PackMeta")
_Def = TypeVar("_Def", "SignalDef", "SourceDef", "ResourceDef")

__all__ = [
    "GuideBullet",
    "GuideMap",
    "GuideSection",
    "Meta",
    "PackMeta",
    "ResourceDef",
    "Rule",
    "RuleBook",
    "RulePack",
    "SignalDef",
    "SourceDef",
    "load_rulebook",
]

RESERVED_FILES = {
    "rulebook.yaml",
    "pack.yaml",
    "signals.yaml",
    "sources.yaml",
    "resources.yaml",
    "guide-map.yaml",
}
_STRICT = ConfigDict(extra="forbid", frozen=True)
MAX_FACT_PROPERTIES = 255  # durable_rules' limit per message
_ID = r"^[a-z][a-z0-9]*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$"
_SIGNAL_ID = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
URL_SCHEMES = ("http", "https", "mailto", "tel")
"""The only kinds of link a source or resource may carry: they reach HTML hrefs and card links."""


def _check_url(url: str) -> str:
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme not in URL_SCHEMES or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError(
            f"{url[:80]!r} is not a link a page may show; use an http, https, mailto or tel URL, with no spaces"
        )
    return url


Url = Annotated[str, Field(max_length=2000), AfterValidator(_check_url)]


class Meta(BaseModel):
    """``rulebook.yaml``: what this rule base is called and which version it is."""

    model_config = _STRICT

    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    default_locale: str = "en"
    description: str = ""


class PackMeta(BaseModel):
    """``pack.yaml``: a rule pack's name and version, and the built-in rules it turns off."""

    model_config = _STRICT

    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    description: str = ""
    disable: list[str] = Field(default_factory=list, description="Rule ids to turn off.")


class SignalDef(BaseModel):
    """One thing a client can observe, in the vocabulary of ``signals.yaml``."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=_SIGNAL_ID, max_length=100)]
    category: Category
    label: Annotated[str, Field(min_length=3, description="A short phrase used in explanations.")]
    description: str = ""
    phrasings: list[str] = Field(default_factory=list, description="Ways writers say it (linter).")
    sources: list[str] = Field(default_factory=list)


class SourceDef(BaseModel):
    """A citable source: a section of the guide, an ethics standard, a study."""

    model_config = _STRICT

    id: Annotated[str, Field(min_length=2)]
    title: Annotated[str, Field(min_length=2)]
    kind: Literal["guide", "ethics", "research", "consumer", "law"]
    url: Url | None = None


class ResourceDef(BaseModel):
    """Somewhere to turn; ``levels`` says which overall levels show it without a rule naming its role."""

    model_config = _STRICT

    id: Annotated[str, Field(min_length=2)]
    role: Role
    name: str
    contact: str
    url: Url | None = None
    levels: list[Level] = Field(default_factory=list)


class Rule(BaseModel):
    """One declarative rule: when it applies, how serious it is, and what to say."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=_ID, description="Stable: <category>.<slug>.")]
    title: Annotated[str, Field(min_length=5, max_length=140)]
    category: Category
    level: Level
    when: Condition
    normal_when: Annotated[str, Field(min_length=5, description="When the same thing is normal.")]
    # Each path segment starts with a letter, digit, _ or -: no "..", ".", leading "/" or "//",
    # which a file check on disk would pass and Jinja's loader refuse when guidance renders.
    explain: Annotated[
        str,
        Field(pattern=r"^[a-z0-9_-][a-z0-9_.-]*(?:/[a-z0-9_-][a-z0-9_.-]*)*\.j2$", description="Template path."),
    ]
    say: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    references: Annotated[list[str], Field(min_length=1)]
    supersedes: list[str] = Field(default_factory=list)
    resources: list[Role] = Field(default_factory=list, description="Roles of resources to show with this finding.")


class GuideBullet(BaseModel):
    """One bullet of the guide, and the signals and rules that encode it."""

    model_config = _STRICT

    text: Annotated[str, Field(min_length=2, description="The bullet, as a short phrase.")]
    signals: Annotated[list[str], Field(min_length=1)]
    rules: Annotated[list[str], Field(min_length=1)]


class GuideSection(BaseModel):
    """A list in the guide: its section (a guide source id), heading and bullets."""

    model_config = _STRICT

    source: str
    heading: str
    bullets: Annotated[list[GuideBullet], Field(min_length=1)]


class GuideMap(BaseModel):
    """``guide-map.yaml``: every bullet of every list of the guide, mapped to signals and rules."""

    model_config = _STRICT

    guide: str = Field(description="The guide's file name.")
    sections: Annotated[list[GuideSection], Field(min_length=1)]


class _RuleFile(BaseModel):
    model_config = _STRICT
    rules: Annotated[list[Rule], Field(min_length=1)]


class _SignalFile(BaseModel):
    model_config = _STRICT
    signals: Annotated[list[SignalDef], Field(min_length=1)]


class _SourceFile(BaseModel):
    model_config = _STRICT
    sources: Annotated[list[SourceDef], Field(min_length=1)]


class _ResourceFile(BaseModel):
    model_config = _STRICT
    resources: list[ResourceDef]


class _PackData(PackMeta):
    """A pack given in code: ``pack.yaml``'s keys and the lists its other files hold, in one mapping."""

    signals: list[SignalDef] = Field(default_factory=list)
    sources: list[SourceDef] = Field(default_factory=list)
    resources: list[ResourceDef] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True)
class _Applied:
    info: PackInfo
    origin: str
    memory: bool
    data: str | None = None  # a pack given in code: its data as canonical JSON, to rebuild it elsewhere


@dataclass(frozen=True)
class _Located:
    where: str
    line: int | None = None  # None: a pack given in code, whose ``where`` is already a field path

    def __str__(self) -> str:
        return self.where if self.line is None else f"{self.where}:{self.line}"


@dataclass(frozen=True)
class _Origin:
    """Where a part of a rule base was read from, so a problem names it: a file (``file:line``)
    or a pack given in code (``<memory>:rules[0].level``)."""

    name: str
    memory: bool = False

    def at(self, raw: Any, loc: Sequence[int | str]) -> _Located:
        if self.memory:
            path = _yaml.field_path(loc) if loc else ""
            return _Located(f"{self.name}:{path}" if path else self.name)
        return _Located(self.name, _yaml.line_of(raw, loc))

    def problems(self, error: ValidationError, raw: Any, prefix: Sequence[int | str] = ()) -> list[Problem]:
        found = []
        for detail in error.errors(include_url=False):
            loc = (*prefix, *detail["loc"])
            where = self.at(raw, loc)
            message = detail["msg"].removeprefix("Value error, ")  # Pydantic's wrapping of our own words
            text = message if self.memory else f"{_yaml.field_path(loc)}: {message}"
            found.append(Problem(str(where), text))
        return found


def _suggest(word: str, choices: Iterable[str]) -> str:
    # Compared in lower case: ids are lower case, and a name typed in capitals is still a near miss.
    by_lower = {c.lower(): c for c in choices}
    close = [by_lower[c] for c in difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.6)]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _raw_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    return value if isinstance(value, str) else None


class _Parsed:
    """Problems found so far, and the ids of items left out for them: a later check that misses
    such an id says nothing, since the problem that left it out is already reported."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.broken: set[str] = set()

    def salvage(self, model: type[_M], raw: Any, key: str) -> list[tuple[int, _M]]:
        """The items under ``key`` that are valid on their own, once their file failed as a whole."""
        given = raw.get(key) if isinstance(raw, Mapping) else None
        if not isinstance(given, list):
            return []
        kept = []
        for index, item in enumerate(given):
            try:
                kept.append((index, model.model_validate(item)))
            except ValidationError:
                if (name := _raw_id(item)) is not None:
                    self.broken.add(name)
        return kept


class RuleBook:
    """A loaded, validated rule base. Use :func:`load_rulebook` or ``RuleBook.load``."""

    def __init__(
        self,
        root: Path,
        meta: Meta,
        signals: dict[str, SignalDef],
        sources: dict[str, SourceDef],
        resources: dict[str, ResourceDef],
        rules: dict[str, Rule],
        located: dict[str, _Located],
        guide_map: GuideMap | None = None,
        packs: tuple[Path, ...] = (),
        changes: tuple[str, ...] = (),
        base: RuleBook | None = None,
        limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS,
        signal_files: dict[str, str] | None = None,
        applied: tuple[_Applied, ...] = (),
        disabled: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self._signal_files = signal_files if signal_files is not None else {}
        self._applied = applied
        self._disabled = disabled if disabled is not None else {}
        """Each rule a pack turned off, and the pack.yaml (or ``<memory>``) that did."""
        self.packs = packs
        """The folder of each pack applied (a pack given in code has none), in order."""
        self.changes = changes
        self.limits = limits
        self.base: RuleBook = base if base is not None else self
        """The rule base before any pack: the safety floor a pack can never go below."""
        self.meta = meta
        self.signals = signals
        self.sources = sources
        self.resources = resources
        self.rules = rules
        self.guide_map = guide_map
        self._located = located
        self._count_keys: dict[str, str] = {}
        for rule in rules.values():
            for node, _ in walk(rule.when):
                if isinstance(node, Count):
                    text = node.count.describe()
                    self._count_keys.setdefault(text, f"n{len(self._count_keys)}")

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        packs: Sequence[str | Path | Mapping[str, Any] | RulePack] = (),
        *,
        limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS,
    ) -> RuleBook:
        """Load and check a rule base folder, then apply rule packs on top of it, in order.

        The default base is the one shipped with the library. A pack is a folder with a
        ``pack.yaml``, a mapping in the same shape (see :meth:`RulePack.from_data`), or a
        :class:`RulePack`; it may add signals, sources, resources, rules and templates (a
        folder only), override a rule by id, and ``disable`` rules (see
        docs/rule-language.md). Every file is read within ``limits`` and no symbolic link is
        followed (docs/security.md). RuleBookError lists every problem found, each at its
        file and line (or ``<memory>`` and field path), in one pass.
        """
        root = _folder(Path(path) if path is not None else default_rules_dir())
        parsed = _Parsed()
        book = _Loader(root, limits, parsed).build()
        for pack in packs:
            given = pack if isinstance(pack, RulePack) else RulePack._read(pack, limits, parsed)
            book = _merge(book, given._pack, parsed)
        parsed.problems += _Checker(book, parsed.broken).problems()
        if parsed.problems:
            raise RuleBookError(parsed.problems, source=", ".join(book.origins))
        return book

    @classmethod
    def from_data(
        cls,
        packs: Sequence[Mapping[str, Any] | RulePack],
        *,
        base: str | Path | None = None,
        limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS,
    ) -> RuleBook:
        """The rule base (default: the shipped one) with packs given in code applied, in order:
        ``RuleBook.from_data([{"name": "clinic", "version": "1.0.0", "rules": [...]}])``.

        The same checks run as for folders, the safety floor included. See :meth:`RulePack.from_data`.
        """
        return cls.load(base, packs, limits=limits)

    @property
    def origins(self) -> tuple[str, ...]:
        """Where the base and each pack came from: folders, and ``<memory>`` for a pack given in code."""
        return (str(self.root), *(info.origin for info in self._applied))

    @property
    def authors(self) -> str:
        """What a template or locale problem is laid at: the packs, or the base when there are none."""
        return ", ".join(self.origins[1:] or self.origins)

    @property
    def pack_sources(self) -> tuple[Path | dict[str, Any], ...]:
        """Each pack as applied, in order: its folder, or the data of a pack given in code.

        ``RuleBook.load(book.root, book.pack_sources)`` rebuilds the same rule base, with the
        same hash, in another process: what batch workers do.
        """
        folders = iter(self.packs)
        return tuple(json.loads(applied.data or "{}") if applied.memory else next(folders) for applied in self._applied)

    @property
    def pack_info(self) -> tuple[PackInfo, ...]:
        """Name, version and hash of each pack applied, in order: what guidance cites."""
        return tuple(applied.info for applied in self._applied)

    @property
    def roots(self) -> tuple[Path, ...]:
        """The base folder, then each pack folder, in the order they apply."""
        return (self.root, *self.packs)

    def template_dirs(self, locale: str) -> list[Path]:
        """Where a locale's templates are looked up: the last pack first, the base last,
        then the same for the default locale, which every missing template falls back to."""
        chain = [locale] if locale == self.meta.default_locale else [locale, self.meta.default_locale]
        folders = [root / "templates" / name for name in chain for root in reversed(self.roots)]
        return [f for f in folders if f.is_dir()]

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def version(self) -> str:
        return self.meta.version

    @cached_property
    def content_hash(self) -> str:
        """sha256 over every YAML and template file, so any wording change shows."""
        digest = hashlib.sha256()
        for index, root in enumerate(self.roots):
            for file in sorted(_content_files(root)):
                digest.update(f"{index}/{file.relative_to(root).as_posix()}".encode())
                digest.update(b"\0")
                digest.update(file.read_bytes())
                digest.update(b"\0")
        for position, applied in enumerate(self._applied):  # a pack given in code has no files: its data counts
            if applied.memory:  # with its place among the packs, as order decides which override wins
                digest.update(f"data/{position}/{applied.info.hash}".encode())
        return digest.hexdigest()

    @property
    def locales(self) -> list[str]:
        found = {p.name for root in self.roots if (root / "templates").is_dir() for p in (root / "templates").iterdir()}
        return sorted(name for name in found if not name.startswith((".", "_")))

    def locale_or_default(self, locale: str | None) -> str:
        """``locale``, or the rule base's default when None; LocaleError if it has no templates."""
        chosen = locale or self.meta.default_locale
        if chosen not in self.locales:
            raise LocaleError(f"no templates for locale {chosen!r}; available: {', '.join(self.locales) or 'none'}")
        return chosen

    def category_of(self, signal: str) -> Category:
        return self.signals[signal].category

    def count_key(self, match: Match) -> str:
        """The fact property a Count condition compares (computed before asserting)."""
        return self._count_keys[match.describe()]

    def count_matches(self) -> Iterator[tuple[str, Match]]:
        seen: set[str] = set()
        for rule in self.rules.values():
            for node, _ in walk(rule.when):
                if isinstance(node, Count) and (key := self.count_key(node.count)) not in seen:
                    seen.add(key)
                    yield key, node.count

    def rule(self, rule_id: str) -> Rule:
        """The rule with that id; UnknownRuleError suggests near ids."""
        try:
            return self.rules[rule_id]
        except KeyError:
            if rule_id in self._disabled:  # the answer to "why did it not fire?" is the pack
                raise UnknownRuleError(
                    f"rule {rule_id!r} is turned off by {self._disabled[rule_id]} (its disable: list), "
                    "so no scenario fires it"
                ) from None
            raise UnknownRuleError(f"no rule {rule_id!r}{_suggest(rule_id, self.rules)}") from None

    def where(self, rule_id: str) -> str:
        """file:line of a rule's definition (``<memory>:rules[0]`` for a pack given in code)."""
        return str(self._located[rule_id])

    def signals_reached(self, match: Match) -> frozenset[str]:
        """Every signal id an observation match could match."""
        names = match.signals if match.signals is not None else frozenset(self.signals)
        categories = match.categories
        return frozenset(
            s for s in names if s in self.signals and (categories is None or self.signals[s].category in categories)
        )

    def signal_file(self, name: str) -> str:
        """The signals.yaml that defines a signal: the base's, or the pack's that added it."""
        return self._signal_files.get(name, str(self.root / "signals.yaml"))

    def suggest_signal(self, name: str) -> str:
        return _suggest(name, self.signals)


def _folder(path: Path) -> Path:
    if not path.is_dir():
        raise RuleBookError([Problem(str(path), "not a folder; pass the folder holding rulebook.yaml or pack.yaml")])
    return path


def _scan(root: Path, limits: RuleFileLimits) -> None:
    """Refuse a folder that holds a link, a device or a pipe, or more than the limits allow.

    Nothing in a rule base or pack is read through a symbolic link: a link in a pack's
    templates once put /etc/passwd into an explanation through ``{% include %}``.
    """
    problems: list[Problem] = []
    count = size = 0
    for top, folders, files in os.walk(root):  # followlinks=False: linked folders are listed, not entered
        for name in [*folders, *files]:
            path = Path(top) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(
                    Problem(
                        str(path), "a symbolic link; rule files are read without following links, so copy the file in"
                    )
                )
            elif not stat.S_ISDIR(info.st_mode) and not stat.S_ISREG(info.st_mode):
                problems.append(Problem(str(path), "not a regular file (a pipe, socket or device)"))
            elif stat.S_ISREG(info.st_mode):
                count += 1
                size += info.st_size
    if count > limits.max_files:
        problems.append(
            Problem(str(root), f"{count:,} files; a rule base or pack may hold at most {limits.max_files:,}")
        )
    if size > limits.max_folder_bytes:
        problems.append(
            Problem(str(root), f"{size:,} bytes; a rule base or pack may hold at most {limits.max_folder_bytes:,}")
        )
    if problems:
        raise RuleBookError(problems, source=str(root))


def _content_files(root: Path) -> Iterator[Path]:
    for file in root.rglob("*"):
        if file.is_file() and file.suffix in (".yaml", ".yml", ".j2"):
            yield file


class _Loader:
    def __init__(self, root: Path, limits: RuleFileLimits, parsed: _Parsed) -> None:
        self.root = root
        self.limits = limits
        self.parsed = parsed
        _scan(root, limits)

    def _file(self, name: str, required: bool = True) -> Path | None:
        path = self.root / name
        if not path.is_file():
            if required:
                raise RuleBookError([Problem(str(path), f"missing; a rule base needs {name}")])
            return None
        return path

    def _load(self, path: Path) -> tuple[bool, Any]:
        """Whether a file parsed, and its data; a file that does not parse has its problem noted."""
        try:
            return True, _yaml.load(path, self.limits)
        except RuleBookError as error:
            self.parsed.problems += error.problems
            return False, None

    def _model(self, model: type[_M], path: Path) -> _M | None:
        ok, raw = self._load(path)
        if not ok:
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            self.parsed.problems += _Origin(str(path)).problems(error, raw)
            return None

    def _meta(self, model: type[_MetaT], name: str) -> _MetaT:
        path = self._file(name)
        assert path is not None
        meta = self._model(model, path)
        # Go on with a stand-in, so the other files' problems come in the same report.
        return meta if meta is not None else model.model_construct(name=self.root.name, version="0.0.0")

    def build(self) -> RuleBook:
        meta = self._meta(Meta, "rulebook.yaml")
        signals = self._unique(_SignalFile, SignalDef, "signals.yaml", "signals")
        sources = self._unique(_SourceFile, SourceDef, "sources.yaml", "sources")
        resources = self._unique(_ResourceFile, ResourceDef, "resources.yaml", "resources", required=False)
        rules, located = self._rules()
        guide_path = self._file("guide-map.yaml", required=False)
        guide_map = None if guide_path is None else self._model(GuideMap, guide_path)
        return RuleBook(self.root, meta, signals, sources, resources, rules, located, guide_map, limits=self.limits)

    def build_pack(self) -> _Pack:
        meta = self._meta(PackMeta, "pack.yaml")
        signals = self._unique(_SignalFile, SignalDef, "signals.yaml", "signals", required=False)
        sources = self._unique(_SourceFile, SourceDef, "sources.yaml", "sources", required=False)
        resources = self._unique(_ResourceFile, ResourceDef, "resources.yaml", "resources", required=False)
        rules, located = self._rules(required=False)
        where = {name: str(self.root / f"{name}.yaml") for name in ("pack", "signals", "sources", "resources")}
        info = PackInfo(name=meta.name, version=meta.version, hash=_folder_hash(self.root))
        return _Pack(self.root, str(self.root), meta, info, signals, sources, resources, rules, located, where)

    def _items(self, model: type[BaseModel], item: type[_M], path: Path, key: str) -> list[tuple[int, Any, _M]]:
        ok, raw = self._load(path)
        if not ok:
            return []
        try:
            parsed = model.model_validate(raw)
        except ValidationError as error:
            self.parsed.problems += _Origin(str(path)).problems(error, raw)
            return [(i, raw, found) for i, found in self.parsed.salvage(item, raw, key)]
        return [(i, raw, found) for i, found in enumerate(getattr(parsed, key))]

    def _unique(
        self, model: type[BaseModel], item: type[_Def], name: str, key: str, required: bool = True
    ) -> dict[str, _Def]:
        path = self._file(name, required)
        if path is None:
            return {}
        found: dict[str, _Def] = {}
        for index, raw, parsed in self._items(model, item, path, key):
            if parsed.id in found:
                line = _yaml.line_of(raw, [key, index])
                self.parsed.problems.append(Problem(f"{path}:{line}", f"duplicate id {parsed.id!r}"))
            found[parsed.id] = parsed
        return found

    def _rules(self, required: bool = True) -> tuple[dict[str, Rule], dict[str, _Located]]:
        rules: dict[str, Rule] = {}
        located: dict[str, _Located] = {}
        files = sorted(
            p for p in self.root.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.name not in RESERVED_FILES
        )
        if not files and required:
            raise RuleBookError([Problem(str(self.root), "no rule files (*.yaml with 'rules:')")])
        for path in files:
            for index, raw, rule in self._items(_RuleFile, Rule, path, "rules"):
                where = _Located(str(path), _yaml.line_of(raw, ["rules", index]))
                _add_rule(rules, located, rule, where, self.parsed)
        return dict(sorted(rules.items())), located


def _add_rule(
    rules: dict[str, Rule], located: dict[str, _Located], rule: Rule, where: _Located, parsed: _Parsed
) -> None:
    if rule.id in rules:
        parsed.problems.append(Problem(str(where), f"duplicate rule id {rule.id!r}, first at {located[rule.id]}"))
        return
    rules[rule.id] = rule
    located[rule.id] = where


def _folder_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(_content_files(root)):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


_LISTS: dict[str, type[BaseModel]] = {
    "signals": SignalDef,
    "sources": SourceDef,
    "resources": ResourceDef,
    "rules": Rule,
}


def _data_pack(data: Mapping[str, Any], origin: str, parsed: _Parsed) -> _Pack:
    """A pack given in code; its problems name ``origin`` and a field path, as it has no lines."""
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise RuleBookError(
            [Problem(origin, f"a pack given in code is a mapping (name, version, rules ...), not {kind}")]
        )
    at = _Origin(origin, memory=True)
    try:
        given = _PackData.model_validate(data)
        lists: dict[str, list[tuple[int, Any]]] = {key: list(enumerate(getattr(given, key))) for key in _LISTS}
        meta = PackMeta.model_validate(given.model_dump(include={"name", "version", "description", "disable"}))
        canonical = json.dumps(given.model_dump(mode="json"), sort_keys=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
    except ValidationError as error:
        parsed.problems += at.problems(error, data)
        lists = {key: list(parsed.salvage(model, data, key)) for key, model in _LISTS.items()}
        meta = _salvage_meta(data, origin)
        canonical = digest = ""
    defs: dict[str, dict[str, Any]] = {}
    for key in ("signals", "sources", "resources"):
        found = defs[key] = {}
        for index, item in lists[key]:
            if item.id in found:
                parsed.problems.append(Problem(str(at.at(data, [key, index])), f"duplicate id {item.id!r}"))
            found[item.id] = item
    rules: dict[str, Rule] = {}
    located: dict[str, _Located] = {}
    for index, rule in lists["rules"]:
        _add_rule(rules, located, rule, at.at(data, ["rules", index]), parsed)
    where = {"pack": origin, **{key: f"{origin}:{key}" for key in ("signals", "sources", "resources")}}
    info = PackInfo(name=meta.name, version=meta.version, hash=digest)
    return _Pack(
        None,
        origin,
        meta,
        info,
        defs["signals"],
        defs["sources"],
        defs["resources"],
        dict(sorted(rules.items())),
        located,
        where,
        canonical,
    )


def _salvage_meta(data: Mapping[str, Any], origin: str) -> PackMeta:
    """The pack's name and list of rules to disable, as far as they are valid, to go on checking."""
    keys = {k: data[k] for k in ("name", "version", "description", "disable") if k in data}
    try:
        return PackMeta.model_validate(keys)
    except ValidationError:
        disable = data.get("disable")
        names = [d for d in disable if isinstance(d, str)] if isinstance(disable, list) else []
        name = data.get("name")
        return PackMeta.model_construct(
            name=name if isinstance(name, str) and name else origin, version="0.0.0", description="", disable=names
        )


@dataclass(frozen=True)
class _Pack:
    root: Path | None  # None: given in code, so it brings no templates
    origin: str
    meta: PackMeta
    info: PackInfo
    signals: dict[str, SignalDef]
    sources: dict[str, SourceDef]
    resources: dict[str, ResourceDef]
    rules: dict[str, Rule]
    located: dict[str, _Located]
    where: dict[str, str]  # pack, signals, sources, resources: what a problem with each names
    data: str = ""  # given in code: canonical JSON of the data, which rebuilds the same pack


class RulePack:
    """A rule pack to apply on top of a rule base: a folder, or data given in code.

    ``Engine(rule_paths=[BUILTIN, "clinic/"])`` and ``Engine(rule_paths=[BUILTIN, {...}])``
    build one for you; build one yourself to check a pack's own shape early, or to give the
    same pack to several engines. Checks across the rule base (unknown signals, the safety
    floor, templates) run when it is applied, in ``RuleBook.load``.
    """

    def __init__(self, pack: _Pack) -> None:
        self._pack = pack

    @classmethod
    def load(cls, folder: str | Path, *, limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS) -> RulePack:
        """A pack folder (``pack.yaml``, rule files, ``templates/``); RuleBookError names file:line."""
        return cls._checked(lambda parsed: _Loader(_folder(Path(folder)), limits, parsed).build_pack())

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, origin: str = "<memory>") -> RulePack:
        """A pack given in code, for tests and for rules kept in a database.

        ``data`` holds ``pack.yaml``'s keys (``name``, ``version``, ``description``,
        ``disable``) and the lists a pack's files hold (``signals``, ``sources``,
        ``resources``, ``rules``), each item a dict or the model itself (:class:`Rule`,
        :class:`SignalDef` ...). It brings no templates: its rules' ``explain`` name templates
        the base or a pack folder has. A problem names ``origin`` and the field path, e.g.
        ``<memory>:rules[0].level``.
        """
        return cls._checked(lambda parsed: _data_pack(data, origin, parsed))

    @classmethod
    def _checked(cls, build: Callable[[_Parsed], _Pack]) -> RulePack:
        parsed = _Parsed()
        pack = build(parsed)
        if parsed.problems:
            raise RuleBookError(parsed.problems, source=pack.origin)
        return cls(pack)

    @classmethod
    def _read(cls, given: str | Path | Mapping[str, Any], limits: RuleFileLimits, parsed: _Parsed) -> RulePack:
        """A pack whose problems join the rest of a RuleBook.load report."""
        if isinstance(given, str | Path):
            return cls(_Loader(_folder(Path(given)), limits, parsed).build_pack())
        return cls(_data_pack(given, "<memory>", parsed))

    @property
    def name(self) -> str:
        return self._pack.meta.name

    @property
    def version(self) -> str:
        return self._pack.meta.version

    @property
    def info(self) -> PackInfo:
        """Name, version and hash (sha256 over its files, or over its data)."""
        return self._pack.info

    @property
    def folder(self) -> Path | None:
        """The pack's folder, or None for a pack given in code."""
        return self._pack.root


def _merge_defs(kind: str, mine: dict[str, Any], theirs: dict[str, Any], where: str) -> Iterator[Problem]:
    for key, value in theirs.items():
        if key in mine and mine[key] != value:
            hint = "; an application sets its own with Engine(resources=...)" if kind == "resource" else ""
            yield Problem(
                where, f"{kind} {key!r} is already defined differently; a pack may add {kind}s, not redefine them{hint}"
            )
        mine[key] = value


def _lowers_safety(old: Rule | None, new: Rule) -> bool:
    if old is None or old.category is not Category.safety:
        return False
    return new.level < old.level or new.category is not old.category


def _merge(book: RuleBook, pack: _Pack, parsed: _Parsed) -> RuleBook:
    """The rule base with one pack applied; each conflict is noted in ``parsed``."""
    problems: list[Problem] = []
    signals, sources = dict(book.signals), dict(book.sources)
    problems += _merge_defs("signal", signals, pack.signals, pack.where["signals"])
    problems += _merge_defs("source", sources, pack.sources, pack.where["sources"])
    resources = dict(book.resources)  # crisis lines: a pack may add; only the application replaces them
    problems += _merge_defs("resource", resources, pack.resources, pack.where["resources"])
    rules, located, changes = dict(book.rules), dict(book._located), list(book.changes)
    for rule_id, rule in pack.rules.items():
        where = str(pack.located[rule_id])
        old = book.rules.get(rule_id)
        if _lowers_safety(old, rule):
            assert old is not None
            problems.append(
                Problem(where, f"rule {rule_id}: a pack may not lower a built-in safety rule ({old.level.value})")
            )
            continue
        if old is not None:
            changes.append(f"{pack.meta.name} overrides {rule_id} ({book.where(rule_id)})")
        rules[rule_id] = rule
        located[rule_id] = pack.located[rule_id]
    disabled = dict(book._disabled)
    meta_path = pack.where["pack"]
    for rule_id in pack.meta.disable:
        old = rules.get(rule_id)
        if old is None:
            if rule_id not in parsed.broken:
                problems.append(Problem(meta_path, f"disable: no rule {rule_id!r}{_suggest(rule_id, rules)}"))
        elif old.category is Category.safety:
            problems.append(Problem(meta_path, f"disable: {rule_id} is a safety rule; a pack may not turn it off"))
        else:
            del rules[rule_id]
            disabled[rule_id] = meta_path
            changes.append(f"{pack.meta.name} disables {rule_id}")
    parsed.problems += problems
    meta = book.meta.model_copy(update={"name": f"{book.meta.name}+{pack.meta.name}"})
    packs = book.packs if pack.root is None else (*book.packs, pack.root)
    ordered = dict(sorted(rules.items()))
    return RuleBook(
        book.root,
        meta,
        signals,
        sources,
        resources,
        ordered,
        located,
        book.guide_map,
        packs,
        tuple(changes),
        base=book.base,
        limits=book.limits,
        signal_files={**dict.fromkeys(pack.signals, pack.where["signals"]), **book._signal_files},
        applied=(*book._applied, _Applied(pack.info, pack.origin, pack.root is None, pack.data or None)),
        disabled=disabled,
    )


class _Checker:
    """The checks across files; each yields a Problem at the rule's file:line."""

    def __init__(self, book: RuleBook, broken: Iterable[str] = ()) -> None:
        self.book = book
        self.broken = frozenset(broken)
        """Ids of items left out for a problem already reported: a reference to one is not another."""

    def problems(self) -> Iterator[Problem]:
        yield from self._locales()
        for rule_id, rule in self.book.rules.items():
            where = self.book.where(rule_id)
            for message in self._rule(rule):
                yield Problem(where, f"rule {rule_id}: {message}")
        yield from self._coverage()
        yield from self._signal_sources()
        yield from self._cycles()
        yield from self._guide_map()
        # sid, observations, the scenario fields, the counts, and one p_<signal> per distinct signal
        presence = min(MAX_OBSERVATIONS, len(self.book.signals))
        properties = len(self.book._count_keys) + 2 + len(SCENARIO_FIELDS) + presence
        if properties > MAX_FACT_PROPERTIES:
            yield Problem(
                str(self.book.root),
                f"{properties} fact properties; durable_rules allows {MAX_FACT_PROPERTIES}: use fewer distinct counts",
            )

    def _locales(self) -> Iterator[Problem]:
        if self.book.meta.default_locale not in self.book.locales:
            yield Problem(
                str(self.book.root / "templates"),
                f"no templates for the default locale {self.book.meta.default_locale!r}",
            )

    def _rule(self, rule: Rule) -> Iterator[str]:
        book = self.book
        if not rule.id.startswith(f"{rule.category.value}."):
            yield f"id must start with its category, '{rule.category.value}.'"
        for ref in rule.references:
            if ref not in book.sources and ref not in self.broken:
                yield f"reference {ref!r} is not in sources.yaml{_suggest(ref, book.sources)}"
        given = {r.role for r in book.resources.values()}
        for role in rule.resources:
            if role not in given:
                yield f"no resource in resources.yaml has the role {role!r} that the rule names"
        default = book.meta.default_locale
        if not any((folder / rule.explain).is_file() for folder in book.template_dirs(default)):
            yield f"template {rule.explain!r} is missing for locale {default!r}"
        yield from self._signals(rule)
        yield from self._supersedes(rule)
        yield from self._complexity(rule)
        yield from self._safety(rule)

    def _signals(self, rule: Rule) -> Iterator[str]:
        for node, negated in walk(rule.when):
            if isinstance(node, Count) and negated:
                yield "a count may not sit under 'not' (adding an observation could then lower the level)"
            if not isinstance(node, Match):
                continue
            for name in sorted(node.signals or ()):
                if name not in self.book.signals and name not in self.broken:
                    yield f"signal {name!r} is not in signals.yaml{self.book.suggest_signal(name)}"
            reached = self.book.signals_reached(node)
            if not reached and all(s in self.book.signals for s in node.signals or ()) and not self.broken:
                yield f"the match '{node.describe()}' can never match any signal"
            concern = sorted(s for s in reached if self.book.signals[s].category.is_concern)
            if negated and concern:
                yield (
                    f"'not' may only name everyday or healthy signals, but reaches {', '.join(concern)}: "
                    "otherwise adding a concern could lower the level"
                )

    def _complexity(self, rule: Rule) -> Iterator[str]:
        try:
            branch_count(rule.when)
        except TooComplexError as error:
            yield f"the condition {error}"

    def _supersedes(self, rule: Rule) -> Iterator[str]:
        for target_id in rule.supersedes:
            target = self.book.rules.get(target_id)
            if target is None and target_id in self.broken:
                continue
            if target is None:
                yield f"supersedes {target_id!r}, which does not exist{_suggest(target_id, self.book.rules)}"
            elif target_id == rule.id:
                yield "supersedes itself"
            elif target.level > rule.level:
                yield (
                    f"supersedes {target_id} ({target.level.value}) at a lower level ({rule.level.value}); "
                    "supersession may never lower a level: express the milder case in the general rule's condition"
                )

    def _safety(self, rule: Rule) -> Iterator[str]:
        if rule.category is Category.safety and rule.level < Level.concern:
            yield f"a safety rule must be at least 'concern', not {rule.level.value!r}"
        if rule.level >= Level.concern:
            return
        for node, negated in walk(rule.when):
            if isinstance(node, Match) and not negated:
                unsafe = sorted(
                    s for s in self.book.signals_reached(node) if self.book.category_of(s) is Category.safety
                )
                if unsafe:
                    yield (
                        f"a {rule.level.value!r} rule may not match safety signals ({', '.join(unsafe)}): "
                        "a safety concern is never called normal"
                    )

    def _coverage(self) -> Iterator[Problem]:
        presence: dict[str, list[Rule]] = {}
        for rule in self.book.rules.values():
            if isinstance(rule.when, Match) and rule.when.is_presence:
                for name in rule.when.signals or ():
                    presence.setdefault(name, []).append(rule)
        if self.broken:
            return  # a rule left out for its own problem may be the one that explains a signal
        for name, signal in self.book.signals.items():
            found = presence.get(name, [])
            path = self._lost_by(name) or self.book.signal_file(name)
            if not found:
                yield Problem(
                    path,
                    f"signal {name!r} has no rule that fires on it alone ('when: {{signal: {name}}}'); "
                    "every observation must be explained",
                )
            elif signal.category is Category.safety and all(r.level < Level.concern for r in found):
                yield Problem(
                    path,
                    f"safety signal {name!r} needs a rule at 'concern' or above that fires on it alone",
                )

    def _lost_by(self, signal: str) -> str | None:
        """Where a pack took away a base rule that explained this signal alone: the pack.yaml
        that disabled it, or the pack's rule that overrode it. The problem is the pack's to fix."""
        base = self.book.base
        for rule_id, rule in base.rules.items():
            if not (isinstance(rule.when, Match) and rule.when.is_presence and signal in (rule.when.signals or ())):
                continue
            if rule_id in self.book._disabled:
                return self.book._disabled[rule_id]
            if self.book.rules.get(rule_id) is not rule and rule_id in self.book.rules:
                return self.book.where(rule_id)
        return None

    def _cycles(self) -> Iterator[Problem]:
        """Supersession must be acyclic, or two rules could each hide the other."""
        rules = self.book.rules
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(rule_id: str, path: list[str]) -> Iterator[Problem]:
            state[rule_id] = 1
            for target in rules[rule_id].supersedes:
                if target not in rules:
                    continue
                if state.get(target) == 1:
                    cycle = " -> ".join([*path[path.index(target) :], target])
                    yield Problem(self.book.where(rule_id), f"supersession goes round in a circle: {cycle}")
                elif target not in state:
                    yield from visit(target, [*path, target])
            state[rule_id] = 2

        for rule_id in rules:
            if rule_id not in state:
                yield from visit(rule_id, [rule_id])

    def _guide_map(self) -> Iterator[Problem]:
        guide = self.book.guide_map
        if guide is None:
            return
        path = str(self.book.root / "guide-map.yaml")
        for section in guide.sections:
            if section.source not in self.book.sources:
                yield Problem(path, f"section {section.heading!r}: source {section.source!r} is not in sources.yaml")
            for bullet in section.bullets:
                for name in bullet.signals:
                    if name not in self.book.signals:
                        yield Problem(
                            path,
                            f"bullet {bullet.text!r}: signal {name!r} does not exist{self.book.suggest_signal(name)}",
                        )
                for rule_id in bullet.rules:
                    # A rule a pack turned off leaves its bullet uncovered (`rules coverage` says so), no more.
                    if rule_id not in self.book.rules and rule_id not in self.book._disabled:
                        yield Problem(
                            path,
                            f"bullet {bullet.text!r}: rule {rule_id!r} does not exist"
                            + _suggest(rule_id, self.book.rules),
                        )

    def _signal_sources(self) -> Iterator[Problem]:
        for name, signal in self.book.signals.items():
            for ref in signal.sources:
                if ref not in self.book.sources:
                    yield Problem(
                        self.book.signal_file(name),
                        f"signal {name!r}: source {ref!r} is not in sources.yaml{_suggest(ref, self.book.sources)}",
                    )


def load_rulebook(path: str | Path | None = None) -> RuleBook:
    """Load and validate a rule base folder (default: the one shipped with the library)."""
    return RuleBook.load(path)
