"""Hypothesis strategies for scenarios, for property tests of the rules and of your own code.

    from hypothesis import given
    from therapy_signals import explain
    from therapy_signals.strategies import scenarios

    @given(scenarios())
    def test_never_crashes(scenario):
        explain(scenario)

Needs the ``strategies`` extra (docs/getting-started.md, "Installing with pip").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the extra
    from ._install import install_command

    raise ImportError(f"therapy_signals.strategies needs hypothesis: {install_command('strategies')}") from error

from .model import (
    Category,
    Duration,
    Frequency,
    Impact,
    Initiator,
    Observation,
    Response,
    Scenario,
    Setting,
    Where,
)
from .rulebook import RuleBook, load_rulebook

__all__ = ["observations", "scenarios", "signal_ids"]


@lru_cache(maxsize=1)
def _shipped() -> RuleBook:
    return load_rulebook()


def signal_ids(
    book: RuleBook | None = None, categories: Iterable[Category | str] | None = None
) -> st.SearchStrategy[str]:
    """Signal ids of the rule base, optionally only of some categories."""
    book = book or _shipped()
    wanted = None if categories is None else {Category(c) for c in categories}
    names = sorted(s.id for s in book.signals.values() if wanted is None or s.category in wanted)
    if not names:
        raise ValueError(f"no signals in categories {sorted(c.value for c in wanted or ())}")
    return st.sampled_from(names)


def _maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | values


@st.composite
def _observation(draw: st.DrawFn, signals: st.SearchStrategy[str]) -> Observation:
    response = draw(_maybe(st.sampled_from(Response)))
    raised = True if response is not None else draw(_maybe(st.booleans()))
    return Observation(
        signal=draw(signals),
        frequency=draw(_maybe(st.sampled_from(Frequency))),
        duration=draw(_maybe(st.sampled_from(Duration))),
        initiated_by=draw(_maybe(st.sampled_from(Initiator))),
        where=draw(_maybe(st.sampled_from(Where))),
        raised=raised,
        response=response,
        impact=draw(_maybe(st.sampled_from(Impact))),
        months_after_ending=draw(_maybe(st.integers(0, 120))),
    )


def observations(
    book: RuleBook | None = None, categories: Iterable[Category | str] | None = None
) -> st.SearchStrategy[Observation]:
    """Valid observations with any mix of context fields given or left out."""
    return _observation(signal_ids(book, categories))


def scenarios(
    book: RuleBook | None = None,
    *,
    categories: Iterable[Category | str] | None = None,
    min_observations: int = 1,
    max_observations: int = 6,
    settings: Iterable[Setting | str] | None = None,
) -> st.SearchStrategy[Scenario]:
    """Valid scenarios: distinct observations, any setting, sessions given or not."""
    chosen = sorted(Setting(s) for s in settings) if settings is not None else list(Setting)
    return st.builds(
        Scenario,
        setting=st.sampled_from(chosen),
        sessions=st.none() | st.integers(0, 200),
        observations=st.lists(
            observations(book, categories),
            min_size=min_observations,
            max_size=max_observations,
            unique=True,
        ),
    )
