"""Render explanations and whole guidance with Jinja2, per locale, never with an undefined value.

Rule templates are plain prose; layouts in ``templates/<locale>/_layout/`` turn a Guidance
into text, Markdown or HTML. HTML layouts autoescape, so text a user supplied (an
observation's ``note``) cannot inject markup; Markdown layouts escape it with ``md``.

Templates may come from rule packs, so they run in the bounded sandbox of ``_sandbox``
and see plain data only (dicts, lists, strings, numbers): a layout gets the guidance as
its JSON, never the Guidance object, whose methods would be callable (docs/security.md).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import jinja2
from jinja2.loaders import split_template_path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import _yaml
from .._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS
from .._paths import is_shipped
from ..engine._facts import EncodedScenario
from ..errors import Problem, RenderError, RuleBookError
from ..limits import DEFAULT_TEMPLATE_LIMITS, MAX_TEMPLATE_BYTES, TemplateLimits
from ..model import Level
from ..rulebook import ResourceDef, Rule, RuleBook, _ResourceFile
from ._sandbox import BoundedEnvironment, render_bounded

if TYPE_CHECKING:
    from ..model import Guidance

__all__ = ["Renderer", "Strings", "check_locales", "default_renderer", "layout_data", "translation_gaps"]

Format = Literal["text", "markdown", "html"]
_LAYOUTS: dict[str, str] = {
    "text": "guidance.txt.j2",
    "markdown": "guidance.md.j2",
    "html": "guidance.html.j2",
}
_SPACES = re.compile(r"[ \t]*\n[ \t]*|[ \t]{2,}")


HEADINGS = (
    "findings",
    "why",
    "say",
    "steps",
    "sources",
    "resources",
    "complaint",
    "superseded",
    "observations",
    "normal_when",
)


class LevelWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    summary: str


class Strings(BaseModel):
    """``templates/<locale>/strings.yaml``: wording not tied to one rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: dict[Level, LevelWords]
    steps: dict[Level, list[str]]
    headings: dict[str, str]
    reasons: dict[Literal["implicit", "named"], str]
    disclaimer: Annotated[str, Field(min_length=10)]

    @model_validator(mode="after")
    def _complete(self) -> Strings:
        for name in ("levels", "steps"):
            missing = [level.value for level in Level if level not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} needs every level; missing: {', '.join(missing)}")
        missing_headings = sorted(set(HEADINGS) - set(self.headings))
        if missing_headings:
            raise ValueError(f"headings is missing: {', '.join(missing_headings)}")
        if set(self.reasons) != {"implicit", "named"}:
            raise ValueError("reasons needs both 'implicit' and 'named'")
        return self


class RuleWords(BaseModel):
    """A rule's wording in one locale; what is left out falls back to the rule file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    normal_when: str | None = None
    say: list[str] | None = None
    steps: list[str] | None = None


class Wording(BaseModel):
    """``templates/<locale>/wording.yaml``: signal labels and rule wording for a locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signals: dict[str, str] = Field(default_factory=dict, description="Signal id to label.")
    rules: dict[str, RuleWords] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict, description="Source id to its title in this locale.")


class _Loader(jinja2.BaseLoader):
    """Templates from the locale folders, highest priority first, each read as a bounded UTF-8 file.

    Rule bases are refused when they hold symbolic links (rulebook._refuse_links); this
    checks again where a file is opened, so no template is ever read from outside its folder.
    """

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = [(folder, folder.resolve()) for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses '..'
        for folder, real in self.folders:
            path = folder.joinpath(*pieces)
            if path.is_file():
                return _read_template(path, real), str(path), lambda: True
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for folder, _ in self.folders:
            found.update(_template_names(folder))
        return sorted(found)


def _template_names(folder: Path) -> Iterator[str]:
    for top, _, files in os.walk(folder):  # never into linked folders
        for name in files:
            if name.endswith(".j2"):
                yield (Path(top) / name).relative_to(folder).as_posix()


def _read_template(path: Path, folder: Path) -> str:
    real = path.resolve()
    if path.is_symlink() or not real.is_relative_to(folder):
        raise jinja2.TemplateError(f"{path}: a symbolic link; templates are read without following links")
    size = real.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise jinja2.TemplateError(f"{path}: {size:,} bytes; a template may have at most {MAX_TEMPLATE_BYTES:,}")
    try:
        return real.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise jinja2.TemplateError(f"{path}: not UTF-8 text ({error.reason})") from None


def _environment(folders: Sequence[Path], autoescape: bool, limits: TemplateLimits) -> jinja2.Environment:
    return BoundedEnvironment(
        limits=limits,
        loader=_Loader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # rule templates do not change under a running Engine
    )


def _line_of(error: BaseException, filename: str | None) -> int | None:
    """The template line an error was raised on: Jinja rewrites tracebacks to template lines."""
    line = getattr(error, "lineno", None)
    tb = error.__traceback__
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line if isinstance(line, int) else None


def _message(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(error, RecursionError):
        return "macros or includes call themselves without end"
    if not isinstance(error, jinja2.TemplateError):
        return f"{type(error).__name__}: {text}"
    return str(text)


class Renderer:
    """Templates and strings of one locale of one rule base. Safe to share between threads."""

    def __init__(
        self, book: RuleBook, locale: str | None = None, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS
    ) -> None:
        locale = book.locale_or_default(locale)
        self.book = book
        self.locale = locale
        self.folders = book.template_dirs(locale)
        self.folder = self.folders[0]
        self.strings = self._strings()
        self.wording = self._wording()
        self.resources = self._resources()
        self.limits = limits
        self._text = _environment(self.folders, autoescape=False, limits=limits)
        self._html = _environment(self.folders, autoescape=True, limits=limits)
        self._lock = threading.Lock()
        self._words: dict[str, RuleWords] = {}  # a rule's wording never changes once loaded
        self._reasons = {
            name: self._string(text, f"strings.yaml reasons.{name}") for name, text in self.strings.reasons.items()
        }
        self._check_pack_templates()

    def _string(self, text: str, where: str) -> jinja2.Template:
        try:
            return self._text.from_string(text)
        except Exception as error:  # a pack's text: any failure is its author's to fix
            raise RuleBookError([Problem(where, f"not a valid template: {_message(error)}")]) from None

    def _check_pack_templates(self) -> None:
        """Compile every template a pack or a rule base of one's own brings, so a bad one stops the
        Engine before it serves; each name once, as the file it resolves to in this locale."""
        problems = []
        names = sorted({name for folder in self.folders for name in _template_names(folder)})
        for name in names:
            where = self.where(name)
            if is_shipped(where):
                continue  # the shipped templates are checked by the package's own test suite
            env = self._html if name.endswith(".html.j2") else self._text
            try:
                env.get_template(name)
            except Exception as error:
                line = _line_of(error, str(where))
                problems.append(Problem(f"{where}:{line}" if line else str(where), _message(error)))
        if problems:
            raise RuleBookError(problems, source=self.book.authors)

    def _own(self, name: str) -> list[Path]:
        """This locale's own files of that name (not the default locale's), highest priority first."""
        own = [f for f in self.folders if f.name == self.locale]
        return [f / name for f in own if (f / name).is_file()]

    def _from_pack(self, path: Path) -> bool:
        real = path.resolve()
        return any(real.is_relative_to(pack.resolve()) for pack in self.book.packs)

    def _strings(self) -> Strings:
        found = self._own("strings.yaml")
        if not found:
            path = self.book.root / "templates" / self.locale / "strings.yaml"
            raise RuleBookError([Problem(str(path), "missing; each locale needs strings.yaml")])
        strings = _yaml.validate(Strings, _yaml.load(found[0], self.book.limits), found[0])
        base = [f for f in found if not self._from_pack(f)]
        if base and base[0] != found[0]:
            own = _yaml.validate(Strings, _yaml.load(base[0], self.book.limits), base[0])
            if strings.levels != own.levels:
                raise RuleBookError(
                    [
                        Problem(
                            str(found[0]),
                            f"levels: a pack may not rename levels or reword their summaries in {self.locale!r}, "
                            f"which the rule base words itself ({base[0]}); leave 'levels' as it is there",
                        )
                    ]
                )
        problems = _level_name_problems(strings, self._base_level_names())
        if problems:
            raise RuleBookError([Problem(str(found[0]), p) for p in problems])
        return strings

    def _base_level_names(self) -> dict[Level, set[str]]:
        """Every name each level goes by in the base's default locale, and its id."""
        names = {level: {_fold(level.value)} for level in Level}
        path = self.book.base.root / "templates" / self.book.meta.default_locale / "strings.yaml"
        if path.is_file():
            base = _yaml.validate(Strings, _yaml.load(path, self.book.limits), path)
            for level, words in base.levels.items():
                names[level].add(_fold(words.name))
        return names

    def _wording(self) -> Wording:
        signals: dict[str, str] = {}
        rules: dict[str, RuleWords] = {}
        sources: dict[str, str] = {}
        for path in reversed(self._own("wording.yaml")):  # packs override the base
            wording = _yaml.validate(Wording, _yaml.load(path, self.book.limits), path)
            unknown = [f"signal {s!r}" for s in wording.signals if s not in self.book.signals]
            # A rule a pack disables keeps its words in the base's files: only a rule nobody defines is a slip.
            defined = self.book.rules.keys() | self.book.base.rules.keys()
            unknown += [f"rule {r!r}" for r in wording.rules if r not in defined]
            unknown += [f"source {s!r}" for s in wording.sources if s not in self.book.sources]
            if unknown:
                raise RuleBookError(
                    [Problem(str(path), f"wording for {name}, which does not exist") for name in unknown]
                )
            signals.update(wording.signals)
            rules.update(wording.rules)
            sources.update(wording.sources)
        return Wording(signals=signals, rules=rules, sources=sources)

    def _resources(self) -> list[ResourceDef] | None:
        """Resources configured for this locale (crisis lines differ by country), if any.

        A pack's file adds to what the base shows in this locale and may not change it: only
        the application replaces crisis lines, with ``Engine(resources=...)``.
        """
        found = self._own("resources.yaml")
        if not found:
            return None
        base = [f for f in found if not self._from_pack(f)]
        start = self._resource_file(base[0]) if base else list(self.book.resources.values())
        merged = {r.id: r for r in start}
        for resource in self.book.resources.values():  # what packs added at their top level
            if resource.id not in self.book.base.resources:
                merged.setdefault(resource.id, resource)
        known = {**self.book.base.resources, **merged}  # an id the base uses anywhere keeps its meaning
        problems = []
        for path in reversed([f for f in found if self._from_pack(f)]):
            for resource in self._resource_file(path):
                if known.get(resource.id, resource) != resource:
                    problems.append(
                        Problem(
                            str(path),
                            f"resource {resource.id!r} is already defined differently; a pack may add resources, "
                            "not redefine them; an application sets its own with Engine(resources=...)",
                        )
                    )
                merged[resource.id] = known[resource.id] = resource
        if problems:
            raise RuleBookError(problems)
        return list(merged.values())

    def _resource_file(self, path: Path) -> list[ResourceDef]:
        return list(_yaml.validate(_ResourceFile, _yaml.load(path, self.book.limits), path).resources)

    def label(self, signal: str) -> str:
        """The signal's label in this locale."""
        return self.wording.signals.get(signal) or self.book.signals[signal].label

    def source_title(self, source: str) -> str:
        """The source's title in this locale (a code's name and number stay as they are)."""
        return self.wording.sources.get(source) or self.book.sources[source].title

    def words(self, rule: Rule) -> RuleWords:
        """Title, normal_when, say and steps of a rule in this locale."""
        if self.book.rules.get(rule.id) is not rule:  # a rule from elsewhere: nothing to cache
            return self._merge_words(rule)
        found = self._words.get(rule.id)
        if found is None:
            found = self._words[rule.id] = self._merge_words(rule)
        return found

    def _merge_words(self, rule: Rule) -> RuleWords:
        own = self.wording.rules.get(rule.id, RuleWords())
        return RuleWords(
            title=own.title or rule.title,
            normal_when=own.normal_when or rule.normal_when,
            say=own.say if own.say is not None else list(rule.say),
            steps=own.steps if own.steps is not None else list(rule.steps),
        )

    def where(self, name: str) -> Path:
        """The file a template name resolves to, for messages."""
        return next((f / name for f in self.folders if (f / name).is_file()), self.folder / name)

    def _template(self, name: str, html: bool = False) -> jinja2.Template:
        env = self._html if html else self._text
        try:
            with self._lock:  # Jinja's template cache is not guarded for first loads
                return env.get_template(name)
        except jinja2.TemplateNotFound:
            raise RenderError(
                f"{self.folder / name}: template not found in {', '.join(map(str, self.folders))}"
            ) from None
        except Exception as error:
            where = self.where(name)
            line = _line_of(error, str(where))
            raise RenderError(f"{where}:{line or 1}: {_message(error)}") from None

    def _render(self, name: str, context: dict[str, Any], html: bool = False, rule: str | None = None) -> str:
        """Render on a fresh budget; any failure is a RenderError naming the template and line."""
        template = self._template(name, html)
        try:
            return render_bounded(template, context, self.limits)
        except Exception as error:  # templates may come from packs: no error of theirs escapes as a traceback
            line = _line_of(error, template.filename)
            about = f" (rule {rule})" if rule else ""
            raise RenderError(f"{template.filename}:{line or 1}{about}: {_message(error)}") from None

    def explanation(self, rule: Rule, encoded: EncodedScenario, cited: Sequence[int]) -> str:
        """The rule's explanation for the observations it rests on, whitespace tidied."""
        context = {
            "rule": {
                "id": rule.id,
                "title": self.words(rule).title,
                "level": rule.level.value,
                "category": rule.category.value,
            },
            "observations": [self._observation(encoded.observations[i]) for i in cited],
            **{name: self._value(encoded.scenario[name], name, SCENARIO_FIELDS) for name in SCENARIO_FIELDS},
        }
        text = self._render(rule.explain, context, rule=rule.id)
        return _SPACES.sub(" ", text).strip()

    @staticmethod
    def _value(encoded: Any, name: str, fields: Mapping[str, Any]) -> Any:
        spec = fields[name]
        if encoded == spec.unknown:
            return None
        if spec.kind == "bool":
            return encoded == "true"
        return int(encoded) if spec.kind == "number" else spec.decode(encoded)

    def _observation(self, item: Mapping[str, Any]) -> dict[str, Any]:
        signal = str(item["signal"])
        words = {name: self._value(item[name], name, OBSERVATION_FIELDS) for name in OBSERVATION_FIELDS}
        return {"signal": signal, "label": self.label(signal), **words}

    def reason(self, implicit: bool, by: Rule) -> str:
        template = self._reasons["implicit" if implicit else "named"]
        context = {"by": {"id": by.id, "title": self.words(by).title, "level": by.level.value}}
        try:
            return render_bounded(template, context, self.limits).strip()
        except Exception as error:
            raise RenderError(f"strings.yaml reasons: {_message(error)}") from None

    def layout(self, guidance: Guidance, fmt: Format) -> str:
        """The whole guidance as text, Markdown or HTML."""
        if fmt not in _LAYOUTS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(_LAYOUTS)}")
        context = {
            "g": layout_data(guidance),
            "s": self.strings.model_dump(mode="json"),
            "labels": {o.signal: self.label(o.signal) for o in guidance.observations},
        }
        return self._render(f"_layout/{_LAYOUTS[fmt]}", context, html=fmt == "html").strip() + "\n"


def check_locales(book: RuleBook, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS) -> list[Problem]:
    """Every problem a Renderer of each locale of the rule base meets on loading: its strings,
    its wording, and every template not shipped with the package, so no locale is left to fail
    on a user's request. Each problem once, in locale order."""
    found: dict[Problem, None] = {}
    for locale in book.locales:
        try:
            Renderer(book, locale, limits)
        except RuleBookError as error:
            found.update(dict.fromkeys(error.problems))
    return list(found)


def translation_gaps(book: RuleBook, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS) -> list[Problem]:
    """Warnings, not errors: each rule a pack adds or overrides that a locale the base speaks
    would show in the default locale's words, for want of a template or of a title in that
    locale's wording.yaml. Without them, English text comes out inside Spanish guidance."""
    base = book.base
    changed = [rule for rule_id, rule in book.rules.items() if base.rules.get(rule_id) is not rule]
    added = [name for name in book.signals if name not in base.signals]
    gaps: list[Problem] = []
    for locale in base.locales:
        if locale == book.meta.default_locale or not (changed or added):
            continue
        renderer = Renderer(book, locale, limits)
        for name in added:
            if name not in renderer.wording.signals:
                gaps.append(
                    Problem(
                        book.signal_file(name),
                        f"signal {name!r}: no label in wording.yaml in locale {locale!r}, which the rule base "
                        f"speaks; guidance in {locale!r} would show it in {book.meta.default_locale!r}",
                    )
                )
        own = [folder for folder in renderer.folders if folder.name == locale]
        for rule in changed:
            missing = []
            if not any((folder / rule.explain).is_file() for folder in own):
                missing.append(f"no template {rule.explain!r}")
            if not renderer.wording.rules.get(rule.id, RuleWords()).title:
                missing.append("no title in wording.yaml")
            if missing:
                gaps.append(
                    Problem(
                        book.where(rule.id),
                        f"rule {rule.id}: {' and '.join(missing)} in locale {locale!r}, which the rule base "
                        f"speaks; guidance in {locale!r} would show it in {book.meta.default_locale!r}",
                    )
                )
    return gaps


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def _level_name_problems(strings: Strings, base: Mapping[Level, set[str]]) -> list[str]:
    """A level's displayed name may not be another level's name (in this locale or the base's) or id."""
    problems = []
    for level, words in strings.levels.items():
        name = _fold(words.name)
        for other in Level:
            if other is level:
                continue
            if name in base[other] or name == _fold(strings.levels[other].name):
                problems.append(
                    f"levels.{level.value}.name: {words.name!r} is what the level {other.value!r} is called; "
                    "each level needs a name of its own, so a serious finding can never read as a normal one"
                )
    return problems


def layout_data(guidance: Guidance) -> dict[str, Any]:
    """What a layout sees: the guidance as JSON data, plus whether each observation was raised."""
    data = guidance.model_dump(mode="json")
    for item, observation in zip(data["observations"], guidance.observations, strict=True):
        item["was_raised"] = observation.was_raised
    return data


@lru_cache(maxsize=8)
def default_renderer(locale: str) -> Renderer:
    """The renderer of the shipped rule base, for guidance that lost its own (e.g. parsed JSON)."""
    from ..rulebook import load_rulebook

    return Renderer(load_rulebook(), locale)
