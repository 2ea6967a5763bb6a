"""Which rules fire on a scenario, by durable_rules or by the columnar backend (decision 0023).

Both answer the same question from the same encoded scenario, and the Python evaluator
answers it too: tests/engine/test_columnar.py holds the three to agreement. durable_rules is
the engine the library is built on and the default of :class:`~therapy_signals.Engine`; the
columnar backend is what batches run on, because it evaluates a whole batch at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from ..errors import EngineUnavailableError
from ._durable import durable_backend
from ._evaluate import count_distinct, evaluate
from ._facts import EncodedScenario, to_fact

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..rulebook import RuleBook, SignalDef
    from ._columnar import ColumnarBackend

__all__ = ["BACKENDS", "BackendName", "Fires", "columnar_for", "fires_for"]

BackendName = Literal["durable", "columnar"]
BACKENDS: tuple[BackendName, ...] = ("durable", "columnar")


class Fires(Protocol):
    """What the Engine asks of a backend: the ids of the rules that fire on one scenario."""

    name: BackendName

    def fired(self, encoded: EncodedScenario) -> frozenset[str]: ...


class DurableFires:
    """durable_rules: the rule base compiled onto a private Host, one fact per scenario."""

    name: BackendName = "durable"

    def __init__(self, book: RuleBook) -> None:
        self.backend, self.ruleset = durable_backend(book)
        self._counts = list(book.count_matches())

    def fired(self, encoded: EncodedScenario) -> frozenset[str]:
        counts = {key: count_distinct(match, encoded) for key, match in self._counts}
        return self.backend.fired(to_fact(encoded, "", counts))


class ColumnarFires:
    """The columnar backend on a batch of one (a scenario of more than 64 observations goes
    through the Python evaluator, which the columnar backend is proven to agree with)."""

    name: BackendName = "columnar"

    def __init__(self, book: RuleBook, signals: Mapping[str, SignalDef] | None = None) -> None:
        self.book = book
        self.columnar = columnar_for(book, signals)

    def fired(self, encoded: EncodedScenario) -> frozenset[str]:
        from ._columns import MAX_CITED, from_encoded

        if len(encoded.observations) > MAX_CITED:
            return frozenset(r.id for r in self.book.rules.values() if evaluate(r.when, encoded).ok)
        return self.columnar.fired(from_encoded([encoded], self.columnar.signal_index))[0]


def columnar_for(book: RuleBook, signals: Mapping[str, SignalDef] | None = None) -> ColumnarBackend:
    """The columnar backend over a rule base; it needs NumPy (the ``batch`` extra)."""
    try:
        from ._columnar import ColumnarBackend
    except ImportError as error:
        from .._install import install_command

        raise EngineUnavailableError(
            f"the columnar backend needs NumPy ({error}): {install_command('batch')}, "
            "or use the durable backend (--engine durable)"
        ) from None
    return ColumnarBackend(book, signals)


def fires_for(
    name: str, book: RuleBook, signals: Mapping[str, SignalDef] | None = None
) -> DurableFires | ColumnarFires:
    """The backend called ``name``, for scenarios of ``signals`` (default: the book's own);
    ValueError names the choices."""
    if name == "durable":
        return DurableFires(book)
    if name == "columnar":
        return ColumnarFires(book, signals)
    raise ValueError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
