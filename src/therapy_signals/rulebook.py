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
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from . import _yaml
from ._fields import SCENARIO_FIELDS
from ._normal_form import TooComplexError, branch_count
from ._paths import default_rules_dir
from .conditions import Condition, Count, Match, walk
from .errors import Problem, RuleBookError, UnknownRuleError
from .limits import DEFAULT_RULE_FILE_LIMITS, RuleFileLimits
from .model import MAX_OBSERVATIONS, Category, Level, Role

_M = TypeVar("_M", bound=BaseModel)

__all__ = [
    "GuideBullet",
    "GuideMap",
    "GuideSection",
    "Meta",
    "PackMeta",
    "ResourceDef",
    "Rule",
    "RuleBook",
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
    explain: Annotated[str, Field(pattern=r"^[a-z0-9/_.-]+\.j2$", description="Template path.")]
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


@dataclass(frozen=True)
class _Located:
    where: str
    line: int


def _suggest(word: str, choices: Iterable[str]) -> str:
    # Compared in lower case: ids are lower case, and a name typed in capitals is still a near miss.
    by_lower = {c.lower(): c for c in choices}
    close = [by_lower[c] for c in difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.6)]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _validate(model: type[_M], data: Any, path: Path) -> _M:
    return _yaml.validate(model, data, path)


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
        signal_roots: dict[str, Path] | None = None,
    ) -> None:
        self.root = root
        self._signal_roots = signal_roots if signal_roots is not None else dict.fromkeys(signals, root)
        self.packs = packs
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
        packs: Sequence[str | Path] = (),
        *,
        limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS,
    ) -> RuleBook:
        """Load and check a rule base folder, then apply rule packs on top of it, in order.

        The default base is the one shipped with the library. A pack is a folder with a
        ``pack.yaml``; it may add signals, sources, resources, rules and templates,
        override a rule by id, and ``disable`` rules (see docs/rule-language.md). Every
        file is read within ``limits`` and no symbolic link is followed (docs/security.md).
        """
        root = _folder(Path(path) if path is not None else default_rules_dir())
        book = _Loader(root, limits).build()
        for pack in packs:
            book = _merge(book, _Loader(_folder(Path(pack)), limits).build_pack())
        problems = list(_Checker(book).problems())
        if problems:
            raise RuleBookError(problems, source=", ".join(str(r) for r in book.roots))
        return book

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
        return digest.hexdigest()

    @property
    def locales(self) -> list[str]:
        found = {p.name for root in self.roots if (root / "templates").is_dir() for p in (root / "templates").iterdir()}
        return sorted(name for name in found if not name.startswith((".", "_")))

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
            raise UnknownRuleError(f"no rule {rule_id!r}{_suggest(rule_id, self.rules)}") from None

    def where(self, rule_id: str) -> str:
        """file:line of a rule's definition."""
        located = self._located[rule_id]
        return f"{located.where}:{located.line}"

    def signals_reached(self, match: Match) -> frozenset[str]:
        """Every signal id an observation match could match."""
        names = match.signals if match.signals is not None else frozenset(self.signals)
        categories = match.categories
        return frozenset(
            s for s in names if s in self.signals and (categories is None or self.signals[s].category in categories)
        )

    def signal_file(self, name: str) -> str:
        """The signals.yaml that defines a signal: the base's, or the pack's that added it."""
        return str(self._signal_roots.get(name, self.root) / "signals.yaml")

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
    def __init__(self, root: Path, limits: RuleFileLimits) -> None:
        self.root = root
        self.limits = limits
        _scan(root, limits)

    def _file(self, name: str, required: bool = True) -> Path | None:
        path = self.root / name
        if not path.is_file():
            if required:
                raise RuleBookError([Problem(str(path), f"missing; a rule base needs {name}")])
            return None
        return path

    def build(self) -> RuleBook:
        meta_path = self._file("rulebook.yaml")
        assert meta_path is not None
        meta = _validate(Meta, _yaml.load(meta_path, self.limits), meta_path)
        signals = self._unique(_SignalFile, "signals.yaml", "signals")
        sources = self._unique(_SourceFile, "sources.yaml", "sources")
        resources = self._unique(_ResourceFile, "resources.yaml", "resources", required=False)
        rules, located = self._rules()
        guide_path = self._file("guide-map.yaml", required=False)
        guide_map = None if guide_path is None else _validate(GuideMap, _yaml.load(guide_path, self.limits), guide_path)
        return RuleBook(self.root, meta, signals, sources, resources, rules, located, guide_map, limits=self.limits)

    def build_pack(self) -> _Pack:
        meta_path = self._file("pack.yaml")
        assert meta_path is not None
        meta = _validate(PackMeta, _yaml.load(meta_path, self.limits), meta_path)
        signals = self._unique(_SignalFile, "signals.yaml", "signals", required=False)
        sources = self._unique(_SourceFile, "sources.yaml", "sources", required=False)
        resources = self._unique(_ResourceFile, "resources.yaml", "resources", required=False)
        rules, located = self._rules(required=False)
        return _Pack(self.root, meta, signals, sources, resources, rules, located)

    def _unique(self, model: type[BaseModel], name: str, key: str, required: bool = True) -> dict[str, Any]:
        path = self._file(name, required)
        if path is None:
            return {}
        raw = _yaml.load(path, self.limits)
        parsed = _validate(model, raw, path)
        found: dict[str, Any] = {}
        problems = []
        for index, item in enumerate(getattr(parsed, key)):
            if item.id in found:
                line = _yaml.line_of(raw, [key, index])
                problems.append(Problem(f"{path}:{line}", f"duplicate id {item.id!r}"))
            found[item.id] = item
        if problems:
            raise RuleBookError(problems)
        return found

    def _rules(self, required: bool = True) -> tuple[dict[str, Rule], dict[str, _Located]]:
        rules: dict[str, Rule] = {}
        located: dict[str, _Located] = {}
        problems: list[Problem] = []
        files = sorted(
            p for p in self.root.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.name not in RESERVED_FILES
        )
        if not files and required:
            raise RuleBookError([Problem(str(self.root), "no rule files (*.yaml with 'rules:')")])
        for path in files:
            raw = _yaml.load(path, self.limits)
            try:
                parsed = _validate(_RuleFile, raw, path)
            except RuleBookError as error:
                problems.extend(error.problems)
                continue
            for index, rule in enumerate(parsed.rules):
                line = _yaml.line_of(raw, ["rules", index])
                if rule.id in rules:
                    first = located[rule.id]
                    problems.append(
                        Problem(
                            f"{path}:{line}",
                            f"duplicate rule id {rule.id!r}, first at {first.where}:{first.line}",
                        )
                    )
                    continue
                rules[rule.id] = rule
                located[rule.id] = _Located(str(path), line)
        if problems:
            raise RuleBookError(problems)
        return dict(sorted(rules.items())), located


@dataclass(frozen=True)
class _Pack:
    root: Path
    meta: PackMeta
    signals: dict[str, SignalDef]
    sources: dict[str, SourceDef]
    resources: dict[str, ResourceDef]
    rules: dict[str, Rule]
    located: dict[str, _Located]


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


def _merge(book: RuleBook, pack: _Pack) -> RuleBook:
    """The rule base with one pack applied; RuleBookError names every conflict."""
    problems: list[Problem] = []
    signals, sources = dict(book.signals), dict(book.sources)
    problems += _merge_defs("signal", signals, pack.signals, str(pack.root / "signals.yaml"))
    problems += _merge_defs("source", sources, pack.sources, str(pack.root / "sources.yaml"))
    resources = dict(book.resources)  # crisis lines: a pack may add; only the application replaces them
    problems += _merge_defs("resource", resources, pack.resources, str(pack.root / "resources.yaml"))
    rules, located, changes = dict(book.rules), dict(book._located), list(book.changes)
    for rule_id, rule in pack.rules.items():
        where = f"{pack.located[rule_id].where}:{pack.located[rule_id].line}"
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
    meta_path = str(pack.root / "pack.yaml")
    for rule_id in pack.meta.disable:
        old = rules.get(rule_id)
        if old is None:
            problems.append(Problem(meta_path, f"disable: no rule {rule_id!r}{_suggest(rule_id, rules)}"))
        elif old.category is Category.safety:
            problems.append(Problem(meta_path, f"disable: {rule_id} is a safety rule; a pack may not turn it off"))
        else:
            del rules[rule_id]
            changes.append(f"{pack.meta.name} disables {rule_id}")
    if problems:
        raise RuleBookError(problems, source=str(pack.root))
    meta = book.meta.model_copy(update={"name": f"{book.meta.name}+{pack.meta.name}"})
    packs = (*book.packs, pack.root)
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
        signal_roots={**dict.fromkeys(pack.signals, pack.root), **book._signal_roots},
    )


class _Checker:
    """The checks across files; each yields a Problem at the rule's file:line."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book

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
            if ref not in book.sources:
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
                if name not in self.book.signals:
                    yield f"signal {name!r} is not in signals.yaml{self.book.suggest_signal(name)}"
            reached = self.book.signals_reached(node)
            if not reached and all(s in self.book.signals for s in node.signals or ()):
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
        for name, signal in self.book.signals.items():
            found = presence.get(name, [])
            path = self.book.signal_file(name)
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
                    if rule_id not in self.book.rules:
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
