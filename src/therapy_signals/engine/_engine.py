"""The Engine: validate a scenario, run the rules on durable_rules, resolve, render.

``explain()`` is the convenience function over a shared default ``Engine``, the way
``httpx.get`` sits over ``httpx.Client``. Build your own ``Engine`` for another rule base,
locale or set of resources.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .. import _yaml
from .._io import parse_json
from .._paths import is_shipped
from ..errors import EngineDisagreementError, Problem, RenderError, RuleBookError, ScenarioError
from ..limits import DEFAULT_INPUT_LIMITS, DEFAULT_TEMPLATE_LIMITS, InputLimits, TemplateLimits
from ..model import (
    Because,
    Finding,
    Guidance,
    Level,
    Observation,
    Reference,
    Resource,
    RuleBookInfo,
    Scenario,
    Superseded,
)
from ..rulebook import Rule, RuleBook, RulePack, _ResourceFile
from ._backends import BACKENDS, DurableFires, fires_for
from ._evaluate import Outcome, evaluate
from ._facts import EncodedScenario, encode
from ._floor import FloorOutcome, SafetyFloor
from ._trace import Trace, trace_tree
from ._verdicts import Verdict, verdicts
from .resolve import Resolution, resolve

if TYPE_CHECKING:
    from ..render import Renderer

__all__ = ["BUILTIN", "Engine", "explain", "trace"]

BUILTIN = "builtin"
"""Stands for the shipped rule base in ``Engine(rule_paths=[BUILTIN, "my_rules/"])``."""

ScenarioInput = Scenario | Mapping[str, Any] | str | bytes
PackSource = str | Path | Mapping[str, Any] | RulePack
"""A rule base or pack folder, or a pack given in code (a mapping, or a :class:`RulePack`)."""


@dataclass(frozen=True)
class _Rendering:
    """What rendering needs, built together: the renderer, the resources shown and each rule's
    references (their titles are the locale's)."""

    renderer: Renderer
    resources: list[Any]
    references: dict[str, list[Reference]]


class Engine:
    """Holds a rule base compiled onto its own durable_rules Host, plus a renderer.

    An Engine is safe to call from many threads at once: calls into durable_rules are
    serialised under a lock, and rendering needs none.

    Args:
        rules: a rule base folder, a loaded :class:`RuleBook`, or None for the shipped one.
        rule_paths: instead of ``rules``, the base (``BUILTIN`` or a folder) and then the packs
            to apply, in order: pack folders, or packs given in code as mappings or
            :class:`RulePack` (``[BUILTIN, "clinic/", {"name": "x", "version": "1.0.0", ...}]``).
        locale: which templates to render with (default: the rule base's default locale).
        resources: crisis lines and the like to show instead of the rule base's
            ``resources.yaml``: a list of dicts with ``id``, ``name``, ``contact``, optional
            ``url`` and ``levels`` (the overall levels that show it),
            or a path to a YAML file in the ``resources.yaml`` format.
        limits: bounds on a scenario given as JSON text or bytes (size, nesting, digits);
            see :class:`~therapy_signals.limits.InputLimits` and docs/security.md.
        template_limits: bounds on each render of a template (steps, seconds, characters);
            see :class:`~therapy_signals.limits.TemplateLimits`.
        backend: which evaluator decides the rules that fire: ``"durable"`` (durable_rules,
            the default) or ``"columnar"`` (NumPy, what batches run on; the ``batch`` extra).
            Both give the same guidance (docs/decisions/0023-two-backends.md).

    Raises:
        RuleBookError: the rules, or a template a pack brings, are invalid; each problem
            names its file and line. With a pack or a rule base of your own, every locale's
            strings, wording and templates are loaded and compiled here (not only this
            Engine's locale), and the pack's templates rendered once, so a bad one stops
            the Engine, and ``serve``, before it answers anything.
    """

    def __init__(
        self,
        rules: str | Path | RuleBook | None = None,
        *,
        rule_paths: Sequence[PackSource] | None = None,
        locale: str | None = None,
        resources: Sequence[Mapping[str, Any]] | str | Path | None = None,
        limits: InputLimits = DEFAULT_INPUT_LIMITS,
        template_limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS,
        backend: str = "durable",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
        self.limits = limits
        self.rulebook = self._book(rules, rule_paths)
        self._check_locales(template_limits)
        self.locale: str = self.rulebook.locale_or_default(locale)
        self._template_limits = template_limits
        self._given_resources = resources
        self._rendering: _Rendering | None = None
        self._rendering_lock = threading.Lock()
        # The shipped rule base alone is built into a renderer on first use (a batch on columns
        # renders nothing; its templates are checked by the package's tests). Anything else is
        # built now, so that a bad template or resources file stops the Engine here.
        if not self._shipped_alone() or resources is not None:
            self._rendered()
        self._fires = fires_for(backend, self.rulebook)
        self.backend: str = backend
        """Which evaluator decides the rules that fire: ``durable`` or ``columnar``."""
        durable = self._fires if isinstance(self._fires, DurableFires) else None
        self._backend = durable.backend if durable is not None else None
        self.ruleset: dict[str, Any] = durable.ruleset if durable is not None else {}
        """The durable_rules ruleset the rules compile to (empty with the columnar backend)."""
        self._info = RuleBookInfo(
            name=self.rulebook.name,
            version=self.rulebook.version,
            hash=self.rulebook.content_hash,
            packs=list(self.rulebook.pack_info),
        )
        self._categories = {name: s.category for name, s in self.rulebook.signals.items()}
        # With packs, the base runs beside them for scenarios with a safety signal (_floor.py).
        applied = bool(self.rulebook.pack_info)  # packs in folders or in code alike
        self._floor = SafetyFloor(self.rulebook.base, backend, self.rulebook.signals) if applied else None
        if self.rulebook.packs:
            self._probe_packs()

    @property
    def renderer(self) -> Renderer:
        """The templates and strings of this Engine's locale."""
        return self._rendered().renderer

    def _rendered(self) -> _Rendering:
        rendering = self._rendering
        if rendering is not None:
            return rendering
        from ..render import Renderer

        with self._rendering_lock:
            if self._rendering is None:
                renderer = Renderer(self.rulebook, self.locale, self._template_limits)
                resources = self._load_resources(renderer, self._given_resources)
                title = renderer.source_title
                references = {rule.id: self._cite(rule, title) for rule in self.rulebook.rules.values()}
                self._rendering = _Rendering(renderer, resources, references)
            return self._rendering

    def _shipped_alone(self) -> bool:
        book = self.rulebook
        return not book.pack_info and is_shipped(book.root)

    @property
    def rulebook_info(self) -> RuleBookInfo:
        """Which rule base, and which packs, this Engine's guidance names (``Guidance.rulebook``)."""
        return self._info

    def _check_locales(self, limits: TemplateLimits) -> None:
        """Every locale of a pack or a rule base of one's own loads and compiles, not just the one
        this Engine speaks: `rules validate`, ``Engine`` and ``serve`` refuse the same rules."""
        book = self.rulebook
        if self._shipped_alone():
            return  # the shipped rule base is checked by the package's own tests
        from ..render import check_locales

        problems = check_locales(book, limits)
        if problems:
            raise RuleBookError(problems, source=book.authors)

    def _cite(self, rule: Rule, title: Callable[[str], str] | None = None) -> list[Reference]:
        """The rule's references, titled in this locale (``title``: the renderer's, while it is built)."""
        sources = self.rulebook.sources
        title = title or self.renderer.source_title
        return [Reference(id=r, title=title(r), kind=sources[r].kind, url=sources[r].url) for r in rule.references]

    def _probe_packs(self) -> None:
        """Render what the packs brought once, on witness scenarios, so a template that breaks a
        bound on every input is refused now, not on a user's request."""
        from ..render._renderer import _LAYOUTS
        from ..witness import witness

        packs = [p.resolve() for p in self.rulebook.packs]

        def from_pack(template: str) -> bool:
            path = self.renderer.where(template).resolve()
            return any(path.is_relative_to(pack) for pack in packs)

        rules = list(self.rulebook.rules.values())
        chosen = [r for r in rules if from_pack(r.explain)]
        if not chosen and any(from_pack(f"_layout/{name}") for name in _LAYOUTS.values()):
            chosen = rules  # a layout from a pack: any scenario shows it, the first witness will do
        problems: list[Problem] = []
        for rule in chosen:
            scenario = witness(rule, self.rulebook)
            if scenario is None:
                continue  # `rules validate` reports a rule that cannot fire
            try:
                guidance = self.explain(scenario)
                guidance.to_text(), guidance.to_markdown(), guidance.to_html()
            except RenderError as error:
                problems.append(Problem("", str(error)))
            if chosen is rules:
                break
        if problems:
            raise RuleBookError(problems, source=self.rulebook.authors)

    @staticmethod
    def _book(rules: str | Path | RuleBook | None, rule_paths: Sequence[PackSource] | None) -> RuleBook:
        if rule_paths is None:
            return rules if isinstance(rules, RuleBook) else RuleBook.load(rules)
        if rules is not None:
            raise TypeError("give either rules or rule_paths, not both")
        if isinstance(rule_paths, str | Path | Mapping | RulePack):  # a str would be read a letter at a time
            raise TypeError(f"rule_paths is a list, the base first: [BUILTIN, ...], not {rule_paths!r} alone")
        given = list(rule_paths)
        if not given:
            raise TypeError("rule_paths needs at least one folder (use BUILTIN for the shipped rules)")
        first = given[0]
        if not isinstance(first, str | Path):
            raise TypeError("rule_paths starts with the base: BUILTIN or a rule base folder; packs follow it")
        base = None if str(first) == BUILTIN else first
        return RuleBook.load(base, packs=[p if isinstance(p, Mapping | RulePack) else str(p) for p in given[1:]])

    def _load_resources(self, renderer: Renderer, given: Sequence[Mapping[str, Any]] | str | Path | None) -> list[Any]:
        if given is None and renderer.resources is not None:
            given = [r.model_dump() for r in renderer.resources]
        if given is None:
            return list(self.rulebook.resources.values())
        if isinstance(given, str | Path):
            raw = _yaml.load(Path(given))
            source = str(given)
        else:
            raw = {"resources": list(given)}
            source = "resources"
        parsed = _yaml.validate(_ResourceFile, raw, source)
        named = {r for rule in self.rulebook.rules.values() for r in rule.resources}
        missing = sorted(named - {r.role for r in parsed.resources})
        if missing:
            raise RuleBookError([Problem(source, f"rules name resource roles you did not give: {', '.join(missing)}")])
        return list(parsed.resources)

    # -- input ---------------------------------------------------------------------------

    def validate(self, scenario: ScenarioInput) -> Scenario:
        """Parse and check a scenario; ScenarioError lists every problem with its field path."""
        if isinstance(scenario, str | bytes):
            scenario = parse_json(scenario, "scenario", self.limits)
        if isinstance(scenario, Scenario):
            parsed = scenario
        else:
            if not isinstance(scenario, Mapping):
                kind = type(scenario).__name__
                raise ScenarioError([Problem("(top)", f"expected an object with 'observations', got {kind}")])
            try:
                parsed = Scenario.model_validate(scenario)
            except ValidationError as error:
                # Every problem in one pass: an unknown signal is reported beside a field error.
                found = [_problem(e) for e in error.errors(include_url=False)]
                named = {p.where for p in found}
                unknown = [p for p in self._unknown_signals(scenario.get("observations")) if p.where not in named]
                raise ScenarioError(sorted([*found, *unknown], key=_order)) from None
        known = self.rulebook.signals
        if any(o.signal not in known for o in parsed.observations):  # a scenario at a time: the usual case first
            raise ScenarioError(list(self._unknown_signals([{"signal": o.signal} for o in parsed.observations])))
        return parsed

    def _unknown_signals(self, observations: object) -> Iterator[Problem]:
        """Each observation whose ``signal`` is a string that names no signal of the rule base."""
        if not isinstance(observations, Sequence) or isinstance(observations, str | bytes):
            return
        for i, item in enumerate(observations):
            signal = item.get("signal") if isinstance(item, Mapping) else None
            if isinstance(signal, str) and signal not in self.rulebook.signals:
                yield Problem(f"observations[{i}].signal", f"{signal!r} is not a known signal{self._hint(signal)}")

    def _hint(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.rulebook.signals), n=3, cutoff=0.5)
        if close:
            return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        return "; `therapy-signals signals` lists them all"

    # -- evaluation ----------------------------------------------------------------------

    def fired(self, scenario: ScenarioInput) -> frozenset[str]:
        """The ids of every rule the backend fired, before supersession."""
        return self._fires.fired(encode(self.validate(scenario), self._categories))

    def explain(self, scenario: ScenarioInput, *, render: bool = True) -> Guidance:
        """Answer "is this normal?" for one scenario.

        Args:
            scenario: a :class:`Scenario`, a dict in its shape, or JSON text.
            render: render each finding's explanation; turn off for batch speed
                (``Finding.explanation`` is then None).

        Raises:
            ScenarioError: the scenario is invalid; nothing was evaluated.
            InputError: JSON text or bytes that are not UTF-8, not JSON, or over a limit
                (``Engine(limits=...)``): a key given twice, too deep, a number too long.
        """
        parsed = self.validate(scenario)
        encoded = encode(parsed, self._categories)
        resolution = resolve(self.rulebook, encoded, self._fires.fired(encoded))
        floor = None
        if self._floor is not None and self._floor.applies(parsed):
            floor = self._floor.raise_to_floor(resolution, encoded)
            resolution = floor.resolution
        return self._guidance(parsed, encoded, resolution, render, floor)

    def trace(self, scenario: ScenarioInput, rule_id: str) -> Trace:
        """Why one rule did or did not fire for a scenario: each condition held or failed.

        The trace agrees with :meth:`explain`: a rule among its findings traces as fired and
        shown, one among its superseded as fired and given way, with the rule it gave way to;
        one the safety floor brought back is traced as the base wrote it, with ``floor`` set.

        Raises:
            UnknownRuleError: no rule has that id; the message suggests the closest ids.
            ScenarioError, InputError: as :meth:`explain`.
        """
        base = self.rulebook.base
        if rule_id not in self.rulebook.rules and (self._floor is None or rule_id not in base.rules):
            self.rulebook.rule(rule_id)  # raises: unknown, or turned off by a pack (it says which)
        parsed = self.validate(scenario)
        encoded = encode(parsed, self._categories)
        guidance = self.explain(parsed, render=False)
        by = next((s.by for s in guidance.superseded if s.rule_id == rule_id), None)
        shown = any(f.rule_id == rule_id for f in guidance.findings)
        fired = rule_id in self.rulebook.rules and rule_id in self._fires.fired(encoded)
        # A rule the guidance lists that the packs' rules did not fire came from the safety
        # floor: the base's own rule did, so that is the one to trace.
        floor = (shown or by is not None) and not fired
        if floor:
            rule = base.rule(rule_id)
            fired = evaluate(rule.when, encoded).ok
        else:
            rule = self.rulebook.rule(rule_id)
        if fired != evaluate(rule.when, encoded).ok:
            raise EngineDisagreementError(
                f"the backend {'fired' if fired else 'did not fire'} {rule.id} but its condition "
                f"{'does not hold' if fired else 'holds'} in Python; this is a bug in therapy-signals, "
                "please report it with the scenario"
            )
        return Trace(
            rule_id=rule.id,
            level=rule.level,
            category=rule.category,
            fired=fired,
            shown=shown,
            gave_way=by is not None,
            by=by,
            floor=floor,
            when=trace_tree(rule.when, encoded),
            rulebook=self._info,
        )

    def verdicts(self, scenarios: Sequence[ScenarioInput]) -> list[Verdict]:
        """The batch row of each scenario's guidance, all at once: level, finding and superseded
        rule ids (in the order guidance shows them) and categories, without the words.

        On the columnar backend the whole sequence is evaluated and resolved on arrays, which
        is what makes batches fast; on durable_rules the scenarios go one by one. Both equal
        what :meth:`explain` answers, safety floor included.

        Raises:
            ScenarioError: a scenario is invalid (the first one found); nothing was evaluated.
        """
        return verdicts(self, [self.validate(s) for s in scenarios])

    def explain_many(self, scenarios: Iterable[ScenarioInput], *, render: bool = True) -> Iterable[Guidance]:
        """Explain scenarios one by one, lazily, in order."""
        for scenario in scenarios:
            yield self.explain(scenario, render=render)

    # -- output --------------------------------------------------------------------------

    def _guidance(
        self,
        scenario: Scenario,
        encoded: EncodedScenario,
        resolution: Resolution,
        render: bool,
        floor: FloorOutcome | None = None,
    ) -> Guidance:
        strings = self.renderer.strings
        findings = [self._finding(m.rule, m.outcome, encoded, render) for m in resolution.findings]
        superseded = [
            Superseded(
                rule_id=g.matched.rule.id,
                level=g.matched.rule.level,
                by=g.by.id,
                reason=self.renderer.reason(g.implicit, g.by),
            )
            for g in resolution.superseded
        ]
        level = resolution.level
        top = [f for f in findings if f.level is level]
        resources = self._resources_for(level, [m.rule for m in resolution.findings])
        if floor is not None:  # every resource the base alone would show stays
            resources = self._resources_for(floor.base_level, floor.base_rules, also=resources)
        # A finding's own steps are written for what it found, and the level's general steps
        # can contradict them ("raise it directly with your therapist" for partner violence)
        # or say them again in other words; so the general steps come only when the findings
        # at the top level give none of their own.
        own = _without_echoes(s for f in top for s in f.steps)
        steps = own or list(strings.steps[level])
        guidance = Guidance(
            scenario_id=scenario.id,
            setting=scenario.setting,
            sessions=scenario.sessions,
            level=level,
            summary=_summary(f"{strings.levels[level].name}: {top[0].title}"),
            findings=findings,
            superseded=superseded,
            steps=steps,
            resources=resources,
            disclaimer=strings.disclaimer,
            locale=self.locale,
            rulebook=self._info,
            observations=list(scenario.observations),
        )
        guidance._renderer = self.renderer
        return guidance

    def _finding(self, rule: Rule, outcome: Outcome, encoded: EncodedScenario, render: bool) -> Finding:
        cited = sorted(outcome.cited)
        words = self.renderer.words(rule)
        own = self.rulebook.rules.get(rule.id) is rule
        references = self._rendered().references.get(rule.id) if own else None
        return Finding(
            rule_id=rule.id,
            title=words.title or rule.title,
            category=rule.category,
            level=rule.level,
            explanation=self.renderer.explanation(rule, encoded, cited) if render else None,
            normal_when=words.normal_when or rule.normal_when,
            say=list(words.say or ()),
            steps=list(words.steps or ()),
            references=references if references is not None else self._cite(rule),  # a rule of the floor
            because=Because(observations=cited, conditions=list(outcome.held)),
        )

    def _resources_for(self, level: Level, rules: Sequence[Rule], also: Sequence[Resource] = ()) -> list[Resource]:
        """The resources whose roles these rules name, first and in the rules' order (the
        domestic-violence line before the emergency default for partner violence), then those
        this level shows by default, then any in ``also``; each once."""
        roles = list(dict.fromkeys(role for rule in rules for role in rule.resources))
        known = self._rendered().resources
        chosen = [r for role in roles for r in known if r.role == role]
        chosen += [r for r in known if level in r.levels]
        chosen += [r for r in known if r.id in {a.id for a in also}]
        first: dict[str, Any] = {}
        for r in chosen:
            first.setdefault(r.id, r)
        return [Resource(id=r.id, role=r.role, name=r.name, contact=r.contact, url=r.url) for r in first.values()]


def _summary(text: str, limit: int = 140) -> str:
    """One line, short enough for a notification or a CDS Hooks card (under 140 characters)."""
    return text if len(text) < limit else text[: limit - 2].rstrip() + "…"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_LONG_WORD = re.compile(r"\w{4,}")


def _without_echoes(steps: Iterable[str]) -> list[str]:
    """The steps, each said once: two findings often both advise a second opinion or a report
    to the board, in their own words. A step echoes another when most (70%) of the words of
    four letters or more of the shorter are in the longer (a proxy for content words that
    holds in English and Spanish alike). The fullest steps are kept first, then shown in
    the order the findings gave them."""
    given = _unique(steps)
    words = [set(_LONG_WORD.findall(step.lower())) for step in given]

    def echo(i: int, j: int) -> bool:
        shared = len(words[i] & words[j])
        return bool(words[i] and words[j]) and shared >= 0.7 * min(len(words[i]), len(words[j]))

    kept: list[int] = []
    for i in sorted(range(len(given)), key=lambda i: -len(words[i])):
        if not any(echo(i, j) for j in kept):
            kept.append(i)
    return [given[i] for i in sorted(kept)]


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top)"


def _problem(error: ErrorDetails) -> Problem:
    loc = error["loc"]
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = _unknown_field(loc)
    elif error["type"] == "missing":
        message = "required"
    elif error["type"] == "enum":
        message += _did_you_mean(error)
    elif error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif error["type"] in _STRICT_TYPES:
        message = f"{_STRICT_TYPES[error['type']]}, not {_kind_of(error.get('input'))}"
    return Problem(_path(loc), message)


def _order(problem: Problem) -> int:
    """Problems in the order of the scenario (a stable sort): its own fields, then each observation."""
    match = re.match(r"observations\[(\d+)\]", problem.where)
    return int(match.group(1)) + 1 if match else 0


def _unknown_field(loc: Sequence[int | str]) -> str:
    """An unknown field's message: a field of the other level says where it belongs, since a
    near spelling of this level ('response' for 'sessions') would send the writer astray."""
    on_observation = "observations" in loc[:1] and len(loc) > 2
    model, other = (Observation, Scenario) if on_observation else (Scenario, Observation)
    allowed = ", ".join(model.model_fields)
    name = str(loc[-1])
    if name in other.model_fields and name not in ("id", "signal"):
        place = "the scenario, beside 'observations'" if on_observation else "each observation in 'observations'"
        level = "a scenario" if on_observation else "an observation"
        return f"{name!r} is {level} field; put it on {place}; allowed here: {allowed}"
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown field{hint}; allowed: {allowed}"


# Scenario fields take JSON's own types: "7" is not a number and "yes" is not true.
_STRICT_TYPES = {
    "int_type": "a whole number (written without quotes)",
    "bool_type": "true or false (written without quotes)",
    "string_type": "a string",
}


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, float):
        return f"the fraction {value!r}" if not value.is_integer() else f"the decimal {value!r}"
    if isinstance(value, int):
        return "a number"
    return {dict: "an object", list: "an array", type(None): "null"}.get(type(value), type(value).__name__)


def _did_you_mean(error: ErrorDetails) -> str:
    choices = re.findall(r"'([^']+)'", str(error.get("ctx", {}).get("expected", "")))
    close = difflib.get_close_matches(str(error.get("input")), choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_default: dict[str | None, Engine] = {}
_default_lock = threading.Lock()


def default_engine(locale: str | None = None) -> Engine:
    """The shared Engine over the shipped rule base, built on first use."""
    with _default_lock:
        engine = _default.get(locale)
        if engine is None:
            engine = _default[locale] = Engine(locale=locale)
        return engine


def trace(scenario: ScenarioInput, rule_id: str) -> Trace:
    """Why a rule of the shipped rules did or did not fire: ``trace(scenario, "safety.threats")``.

    A convenience over a shared :class:`Engine`; see :meth:`Engine.trace`.
    """
    return default_engine().trace(scenario, rule_id)


def explain(scenario: ScenarioInput, *, locale: str | None = None, render: bool = True) -> Guidance:
    """Answer "is this normal?" with the shipped rules: ``explain({"observations": [...]})``.

    A convenience over a shared :class:`Engine`; see :meth:`Engine.explain`.
    """
    return default_engine(locale).explain(scenario, render=render)
