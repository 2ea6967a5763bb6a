"""The public data model: what goes in (Observation, Scenario) and what comes out (Guidance).

Everything here is Pydantic v2 with ``extra="forbid"`` so a typo in a field name is an
error that names the field, never a silently ignored key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# The enums live apart, so that the linter can use them without pydantic (see _enums.py).
from ._enums import Category, Duration, Frequency, Impact, Initiator, Level, Response, Setting, Where

if TYPE_CHECKING:
    from .render import Renderer

__all__ = [
    "Because",
    "Category",
    "Duration",
    "Finding",
    "Frequency",
    "Guidance",
    "Impact",
    "Initiator",
    "Level",
    "Observation",
    "Reference",
    "Resource",
    "Response",
    "RuleBookInfo",
    "Scenario",
    "Setting",
    "Superseded",
    "Where",
]


_FORBID = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Observation(BaseModel):
    """One thing the client noticed, with the context that changes what it means.

    Only ``signal`` is required; every context field left out means "not given", and a
    rule that asks about that field does not match it.
    """

    model_config = _FORBID

    signal: Annotated[
        str, Field(min_length=1, max_length=100, strict=True, description="A signal id from rules/signals.yaml.")
    ]
    frequency: Frequency | None = Field(None, description="How often it happened.")
    duration: Duration | None = Field(None, description="For how long it has been going on.")
    initiated_by: Initiator | None = Field(None, description="Who started it.")
    where: Where | None = Field(None, description="In a session, outside sessions, or online.")
    raised: Annotated[bool, Field(strict=True)] | None = Field(
        None, description="Whether the client raised it with the therapist."
    )
    response: Response | None = Field(
        None, description="How the therapist responded when it was raised (implies raised)."
    )
    impact: Impact | None = Field(None, description="How much it affected the client.")
    months_after_ending: Annotated[int, Field(ge=0, le=1200, strict=True)] | None = Field(
        None, description="For things after therapy ended: how many months after."
    )
    note: Annotated[str, Field(max_length=2000, strict=True)] | None = Field(
        None, description="Free text from the client; shown back escaped, never interpreted."
    )

    @model_validator(mode="after")
    def _response_needs_raised(self) -> Observation:
        if self.response is not None and self.raised is False:
            raise ValueError(
                "response is given but raised is false: a therapist can only respond to "
                "something that was raised; drop 'response' or set 'raised' to true"
            )
        return self

    @property
    def was_raised(self) -> bool | None:
        """Whether it was raised; a recorded response implies it was."""
        return True if self.response is not None else self.raised


MAX_OBSERVATIONS = 100
"""The most observations one scenario may carry."""


class Scenario(BaseModel):
    """Observations about one therapeutic relationship, plus its setting."""

    model_config = _FORBID

    id: Annotated[str, Field(min_length=1, max_length=200, strict=True)] | None = Field(
        None, description="Your identifier for this scenario; echoed in the guidance."
    )
    setting: Setting = Field(Setting.individual, description="The format of therapy.")
    sessions: Annotated[int, Field(ge=0, le=10000, strict=True)] | None = Field(
        None, description="How many sessions so far."
    )
    observations: Annotated[list[Observation], Field(min_length=1, max_length=MAX_OBSERVATIONS)] = Field(
        ..., description="What the client noticed; at least one."
    )

    @field_validator("observations")
    @classmethod
    def _no_duplicates(cls, observations: list[Observation]) -> list[Observation]:
        seen: dict[Observation, int] = {}
        for index, observation in enumerate(observations):
            if observation in seen:
                raise ValueError(
                    f"observations {seen[observation]} and {index} are identical; "
                    "describe a repeated event once, with 'frequency'"
                )
            seen[observation] = index
        return observations


class Reference(BaseModel):
    """A source a finding rests on: a section of the guide, an ethics standard, a study."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    kind: str
    url: str | None = None


class Because(BaseModel):
    """Why a rule matched: the observations it rests on and the conditions that held."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    observations: list[int] = Field(description="Indexes into Scenario.observations.")
    conditions: list[str] = Field(description="The conditions that held, in words.")


class Finding(BaseModel):
    """One rule that applies to the scenario, with its explanation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    title: str
    category: Category
    level: Level
    explanation: str | None = Field(None, description="Rendered text; None when rendering was off.")
    normal_when: str = Field(description="When the same thing is normal.")
    say: list[str] = Field(default_factory=list, description="Words the client could use.")
    steps: list[str] = Field(default_factory=list, description="What to do next.")
    references: list[Reference] = Field(min_length=1)
    because: Because


class Superseded(BaseModel):
    """A rule that matched but gave way to a more specific or more serious one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    level: Level
    by: str = Field(description="The rule id that took its place.")
    reason: str


ROLES = ("emergency", "crisis-line", "domestic-violence", "sexual-assault", "licensing-board")
"""What a resource is for. Rules name roles, never a service: each locale or application maps
every role to its own (decision 0018). All but the licensing board are immediate support."""
Role = Literal["emergency", "crisis-line", "domestic-violence", "sexual-assault", "licensing-board"]


class Resource(BaseModel):
    """Somewhere to turn: a crisis line, a hotline, a licensing board."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    role: str = Field(description="What it is for: " + ", ".join(ROLES) + ".")
    name: str
    contact: str
    url: str | None = None


class PackInfo(BaseModel):
    """One rule pack applied on top of the rule base: which, which version, and its content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    hash: str = Field(description="sha256 over the pack's own files, or over its data for a pack given in code.")


class RuleBookInfo(BaseModel):
    """Which rule base produced a guidance, and every pack applied to it, for reproducibility."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The base's name, then '+' and each pack's name.")
    version: str = Field(description="The base's version; each pack's own is in 'packs'.")
    hash: str = Field(description="sha256 over every rule, signal, source and template file, packs included.")
    packs: list[PackInfo] = Field(default_factory=list, description="Each pack applied, in the order applied.")


class Guidance(BaseModel):
    """The answer to "is this normal?" for one scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal["1"] = Field("1", description="Bumped when this shape changes incompatibly.")
    scenario_id: str | None = None
    setting: Setting = Setting.individual
    sessions: int | None = None
    level: Level
    summary: str
    findings: list[Finding] = Field(min_length=1)
    superseded: list[Superseded] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list, description="Next steps for the overall level.")
    resources: list[Resource] = Field(default_factory=list, description="Shown first for serious and urgent guidance.")
    disclaimer: str
    locale: str
    rulebook: RuleBookInfo
    observations: list[Observation] = Field(description="The scenario's observations, as given.")

    _renderer: Renderer | None = PrivateAttr(default=None)

    def _layout(self) -> Renderer:
        if self._renderer is not None:
            return self._renderer
        from .render import default_renderer

        return default_renderer(self.locale)

    def to_text(self) -> str:
        """Plain text for a terminal or an e-mail."""
        return self._layout().layout(self, "text")

    def to_markdown(self) -> str:
        """Markdown for a chat message, a web page, or a card's detail."""
        return self._layout().layout(self, "markdown")

    def to_html(self) -> str:
        """An HTML fragment; any text the user supplied is escaped."""
        return self._layout().layout(self, "html")

    def __eq__(self, other: object) -> bool:
        # Equal when the data is; which renderer produced it does not matter.
        if not isinstance(other, Guidance):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as strings)."""
        return self.model_dump(mode="json")

    def to_cards(self) -> list[dict[str, Any]]:
        """HL7 CDS Hooks cards: one per finding, resources first when serious or urgent."""
        from .render.cards import to_cards

        return to_cards(self)
