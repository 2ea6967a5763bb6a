"""Render explanations and whole guidance with Jinja2, per locale, never with an undefined value.

Rule templates are plain prose; layouts in ``templates/<locale>/_layout/`` turn a Guidance
into text, Markdown or HTML. HTML layouts autoescape, so text a user supplied (an
observation's ``note``) cannot inject markup; Markdown layouts escape it with ``md``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import _yaml
from ._facts import EncodedScenario
from ._fields import OBSERVATION_FIELDS, SCENARIO_FIELDS
from .errors import LocaleError, Problem, RenderError, RuleBookError
from .model import Level
from .rulebook import Rule, RuleBook

if TYPE_CHECKING:
    from .model import Guidance

__all__ = ["Renderer", "Strings", "default_renderer"]

Format = Literal["text", "markdown", "html"]
_LAYOUTS: dict[str, str] = {
    "text": "guidance.txt.j2",
    "markdown": "guidance.md.j2",
    "html": "guidance.html.j2",
}
_SPACES = re.compile(r"[ \t]*\n[ \t]*|[ \t]{2,}")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


HEADINGS = ("findings", "why", "say", "steps", "sources", "resources", "superseded", "observations", "normal_when")


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


def _markdown_escape(value: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def _environment(folder: Path, autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # rule templates do not change under a running Engine
    )
    env.filters["md"] = _markdown_escape
    return env


class Renderer:
    """Templates and strings of one locale of one rule base. Safe to share between threads."""

    def __init__(self, book: RuleBook, locale: str | None = None) -> None:
        locale = locale or book.meta.default_locale
        if locale not in book.locales:
            raise LocaleError(f"no templates for locale {locale!r}; available: {', '.join(book.locales) or 'none'}")
        self.book = book
        self.locale = locale
        self.folder = book.root / "templates" / locale
        self.strings = self._strings()
        self._text = _environment(self.folder, autoescape=False)
        self._html = _environment(self.folder, autoescape=True)
        self._lock = threading.Lock()
        self._reasons = {name: self._text.from_string(text) for name, text in self.strings.reasons.items()}

    def _strings(self) -> Strings:
        path = self.folder / "strings.yaml"
        if not path.is_file():
            raise RuleBookError([Problem(str(path), "missing; each locale needs strings.yaml")])
        return _yaml.validate(Strings, _yaml.load(path), path)

    def _template(self, name: str, html: bool = False) -> jinja2.Template:
        env = self._html if html else self._text
        try:
            with self._lock:  # Jinja's template cache is not guarded for first loads
                return env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            raise RenderError(f"{self.folder / name}:{error.lineno}: {error.message}") from None
        except jinja2.TemplateNotFound:
            raise RenderError(f"{self.folder / name}: template not found") from None

    def explanation(self, rule: Rule, encoded: EncodedScenario, cited: Sequence[int]) -> str:
        """The rule's explanation for the observations it rests on, whitespace tidied."""
        context = {
            "rule": {
                "id": rule.id,
                "title": rule.title,
                "level": rule.level.value,
                "category": rule.category.value,
            },
            "observations": [self._observation(encoded.observations[i]) for i in cited],
            **{name: self._value(encoded.scenario[name], name, SCENARIO_FIELDS) for name in SCENARIO_FIELDS},
        }
        try:
            text = self._template(rule.explain).render(context)
        except jinja2.UndefinedError as error:
            raise RenderError(f"{self.folder / rule.explain} (rule {rule.id}): {error.message}") from None
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
        return {"signal": signal, "label": self.book.signals[signal].label, **words}

    def reason(self, implicit: bool, by: Rule) -> str:
        template = self._reasons["implicit" if implicit else "named"]
        return template.render(by={"id": by.id, "title": by.title, "level": by.level.value}).strip()

    def layout(self, guidance: Guidance, fmt: Format) -> str:
        """The whole guidance as text, Markdown or HTML."""
        if fmt not in _LAYOUTS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(_LAYOUTS)}")
        template = self._template(f"_layout/{_LAYOUTS[fmt]}", html=fmt == "html")
        try:
            out = template.render(g=guidance, s=self.strings, signals=self.book.signals)
        except jinja2.UndefinedError as error:
            raise RenderError(f"{self.folder / '_layout' / _LAYOUTS[fmt]}: {error.message}") from None
        return out.strip() + "\n"


@lru_cache(maxsize=8)
def default_renderer(locale: str) -> Renderer:
    """The renderer of the shipped rule base, for guidance that lost its own (e.g. parsed JSON)."""
    from .rulebook import load_rulebook

    return Renderer(load_rulebook(), locale)
