"""The enums of the data model, apart from it: the linter needs Level and Category, and
importing them from ``model`` would import pydantic and build every model (0.1 s of the
linter's start-up). ``therapy_signals.model`` re-exports them all; import them from there.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

__all__ = [
    "Category",
    "Duration",
    "Frequency",
    "Impact",
    "Initiator",
    "Level",
    "Response",
    "Setting",
    "Where",
]


@cache
def _rank(member: _Ordered) -> int:
    # Levels are compared on every finding of every scenario: look the position up once.
    return list(type(member)).index(member) + 1


class _Ordered(StrEnum):
    """A string enum whose members compare by declaration order."""

    @property
    def rank(self) -> int:
        """1-based position in declaration order (0 is reserved for "not given")."""
        return _rank(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank >= other.rank


class Level(_Ordered):
    """How much attention something needs, from ordinary therapy to an emergency."""

    normal = "normal"
    discuss = "discuss"
    concern = "concern"
    serious = "serious"
    urgent = "urgent"


class Category(StrEnum):
    """The area of the therapeutic relationship a signal or rule belongs to."""

    everyday = "everyday"
    healthy = "healthy"
    dependency = "dependency"
    boundaries = "boundaries"
    safety = "safety"

    @property
    def is_concern(self) -> bool:
        """True for the categories whose signals can only raise a level."""
        return self in (Category.dependency, Category.boundaries, Category.safety)


class Frequency(_Ordered):
    """How often it happened."""

    once = "once"
    occasionally = "occasionally"
    often = "often"
    constantly = "constantly"


class Duration(_Ordered):
    """For how long it has been going on."""

    days = "days"
    weeks = "weeks"
    months = "months"
    years = "years"


class Impact(_Ordered):
    """How much it affected the client."""

    none = "none"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"


class Initiator(StrEnum):
    """Who started it."""

    client = "client"
    therapist = "therapist"
    mutual = "mutual"


class Where(StrEnum):
    """Where it happened."""

    in_session = "in_session"
    outside_session = "outside_session"
    online = "online"


class Response(StrEnum):
    """How the therapist responded when the client raised it."""

    repaired = "repaired"
    adjusted = "adjusted"
    dismissed = "dismissed"
    defensive = "defensive"
    retaliated = "retaliated"


class Setting(StrEnum):
    """The format of therapy."""

    individual = "individual"
    couples = "couples"
    family = "family"
    group = "group"
