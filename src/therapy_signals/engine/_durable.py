"""Run compiled rules on durable_rules: one private Host per Engine, one fresh sid per scenario.

Why a Host subclass: durable_rules' Host starts background timer threads that dispatch
pending actions on their own schedule. Our actions run synchronously after the assert,
so those threads could only race us; ``_run`` is overridden to start none.
durable_rules has no locks, so every call into it happens under one process-wide lock.

The Host compiles the ruleset and the Ruleset asserts the fact; the fired rules are then
read with the same four calls into durable_rules' C module that the Ruleset's own action
loop makes (start, update state, complete and start the next, abandon on error), without
building a Closure, a Promise and two JSON round trips per fired rule: our actions only
record which rule fired, and that loop was a fifth of a scenario's cost (decision 0008).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rulebook import RuleBook

from .._fields import presence_key
from ..errors import EngineUnavailableError
from ._compile import ALWAYS, compile_ruleset, fire_needs

_FIX = (
    "durable_rules (the rules engine) could not be imported: {error}.\n"
    "Install or rebuild it for this Python ({version}) with:\n"
    "  CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject "
    "{python} -m pip install --force-reinstall --no-cache-dir --no-binary durable-rules durable-rules==2.0.28\n"
    "(Python 3.13 removed PyEval_CallObject, which durable_rules 2.0.28 still calls; the flag maps it "
    "to PyObject_CallObject. `make install` does this for you.)"
)
_names = itertools.count()
# durable_rules keeps its handle table and rulesets in C globals shared by every Host in the
# process, so one lock for all Engines, not one each: nothing in it is guarded for threads.
_LOCK = threading.RLock()


def _ignore(_closure: Any) -> None:
    """Every rule's action: the backend reads which rules fired itself (``_collect``)."""


def _import_durable() -> tuple[type[Any], type[Exception], Any]:
    try:
        import durable_rules_engine
        from durable.engine import Host, MessageNotHandledException
    except ImportError as error:
        message = _FIX.format(error=error, version=sys.version.split()[0], python=sys.executable)
        raise EngineUnavailableError(message) from error
    return Host, MessageNotHandledException, durable_rules_engine


def _host_class(base: type[Any]) -> type[Any]:
    class QuietHost(base):  # type: ignore[misc]
        def _run(self) -> None:
            """Start no timer threads: the backend reads fired rules itself, right after the assert."""

        def get_action(self, action_name: str) -> Callable[[Any], None]:
            return _ignore  # never called: DurableBackend._collect reads the fired rules

    return QuietHost


MAX_FIRED = 60
"""The most durable rules one fact may fire on one Host: at 65, durable_rules 2.0.28 corrupts
its heap (``free(): invalid pointer`` in ``delete_state``; 64 rules matching 64 distinct
properties reproduce it), which a scenario of 59 observations reached. A fact that might
fire more is asserted on chunks of the ruleset instead (decision 0014)."""
_CHUNK = 40
PART_PATTERNS = 384
"""The most patterns (items of a rule's ``all``) one Host is given. durable_rules 2.0.28 keeps
a node's children in an open-addressed table of 512 slots, and looking up a new node in a
full table loops forever (``rete.c``, no wrap-around check): a pack of 375 rules over the
shipped 137 hung the Engine's constructor. Every pattern adds at most one child to any node,
so a Host given fewer than 512 can never fill one; a larger rule base is split into parts,
each on its own Host (decision 0015)."""


class DurableBackend:
    """Asserts encoded scenario facts and reports which rule ids fired.

    ``needs`` (from ``_compile.fire_needs``) says, for each durable rule, the fact keys of
    which one must be present for it to fire; with it, a fact that might fire more than
    :data:`MAX_FIRED` rules is asserted on chunks of at most 40 rules, each on its own Host.
    """

    def __init__(self, ruleset: Mapping[str, Any], needs: Mapping[str, frozenset[str] | None] | None = None) -> None:
        self._spec = dict(ruleset)
        self._chunks: list[DurableBackend] | None = None
        self._anytime = frozenset(n for n, need in (needs or {}).items() if need is None)
        self._by_key: dict[str, set[str]] = {}
        for name, need in (needs or {}).items():
            for key in need or ():
                self._by_key.setdefault(key, set()).add(name)
        self._bounded = needs is not None
        host_base, self._not_handled, self._c = _import_durable()
        self.name = f"therapy_signals_{next(_names)}"
        self._lock = _LOCK
        self._sids = itertools.count()
        # A durable rule is one DNF branch ("<id>#<n>"); its action name is the rule id.
        self._rule_of = {name: str(spec["run"]) for name, spec in ruleset.items()}
        with self._lock:
            self._host = _host_class(host_base)()
            # durable_rules deletes 'run' from the definitions it is given: hand it a copy.
            self._host.set_rulesets({self.name: copy.deepcopy(dict(ruleset))})
            self._ruleset = self._host.get_ruleset(self.name)
            self._handle = self._ruleset._handle

    def fired(self, fact_without_sid: Mapping[str, Any]) -> frozenset[str]:
        """Assert the fact under a fresh sid, collect the rules that fired, delete the state."""
        if self._bounded and self._might_fire(fact_without_sid) > MAX_FIRED:
            return frozenset().union(*(chunk.fired(fact_without_sid) for chunk in self._chunked()))
        with self._lock:
            sid = str(next(self._sids))
            try:
                state = self._ruleset.assert_fact({**fact_without_sid, "sid": sid})
                return self._collect(state)
            except self._not_handled:
                return frozenset()  # no rule matched: a normal outcome, not an error
            finally:
                self._delete(sid)

    def _might_fire(self, fact: Mapping[str, Any]) -> int:
        possible = set(self._anytime)
        for key in fact:
            possible.update(self._by_key.get(key, ()))
        return len(possible)

    def _chunked(self) -> list[DurableBackend]:
        """The ruleset in chunks that can never fire more than :data:`MAX_FIRED` rules, built once."""
        with self._lock:
            if self._chunks is None:
                names = [n for n in self._spec if n != ALWAYS]
                groups = [names[i : i + _CHUNK] for i in range(0, len(names), _CHUNK)]
                self._chunks = [DurableBackend({n: self._spec[n] for n in (ALWAYS, *group)}) for group in groups]
            return self._chunks

    def _collect(self, state: int) -> frozenset[str]:
        """The rule ids of every action durable_rules queued for the state, each completed."""
        fired: set[str] = set()
        started = self._c.start_action_for_state(self._handle, state)
        while started:
            state_json, messages = started[0], started[1]
            try:
                fired.update(self._rule_of[name] for name in json.loads(messages))
                self._c.update_state(self._handle, state_json)
                following = self._c.complete_and_start_action(self._handle, state)
            except BaseException:
                self._c.abandon_action(self._handle, state)
                raise
            started = (state_json, following) if following else None
        fired.discard(ALWAYS)
        return frozenset(fired)

    def _delete(self, sid: str) -> None:
        with contextlib.suppress(Exception):
            self._host.delete_state(self.name, sid)

    def state_size(self, sid: str) -> int:
        """How many facts a sid still holds (0 once deleted); used by tests of cleanup."""
        with self._lock:
            try:
                return len(self._host.get_facts(self.name, sid))
            except Exception:
                return 0


class PartedBackend:
    """A rule base too large for one Host (:data:`PART_PATTERNS`): one DurableBackend per part,
    each fact asserted on every part, the rules fired the union."""

    def __init__(self, parts: list[DurableBackend]) -> None:
        self.parts = parts

    def fired(self, fact_without_sid: Mapping[str, Any]) -> frozenset[str]:
        return frozenset().union(*(part.fired(fact_without_sid) for part in self.parts))


def _patterns(spec: Mapping[str, Any]) -> int:
    return sum(len(spec.get(key, ())) for key in ("all", "any")) or 1


def _parts(ruleset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ruleset cut into parts of at most :data:`PART_PATTERNS` patterns each, or none if it fits."""
    if sum(_patterns(spec) for spec in ruleset.values()) <= PART_PATTERNS:
        return []
    always = {ALWAYS: ruleset[ALWAYS]} if ALWAYS in ruleset else {}
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    size = sum(_patterns(spec) for spec in always.values())
    for name, spec in ruleset.items():
        if name in always:
            continue
        if current and size + _patterns(spec) > PART_PATTERNS:
            parts.append(current)
            current, size = {}, sum(_patterns(s) for s in always.values())
        current[name] = spec
        size += _patterns(spec)
    parts.append(current)
    return [{**always, **part} for part in parts]


def _needs_of(
    part: Mapping[str, Any], needs: Mapping[str, frozenset[str] | None] | None
) -> dict[str, frozenset[str] | None] | None:
    return None if needs is None else {name: needs[name] for name in part if name in needs}


def durable_backend(book: RuleBook) -> tuple[DurableBackend | PartedBackend, dict[str, Any]]:
    """A rule book compiled onto its own Host, with the bound that keeps each fact's firings safe."""
    conditions = {i: r.when for i, r in book.rules.items()}
    ruleset = compile_ruleset(conditions, book.count_key)

    def reach(match: Any) -> frozenset[str]:
        return frozenset(presence_key(s) for s in book.signals_reached(match))

    needs = fire_needs(conditions, reach)
    parts = _parts(ruleset)
    if not parts:
        return DurableBackend(ruleset, needs), ruleset
    return PartedBackend([DurableBackend(part, _needs_of(part, needs)) for part in parts]), ruleset
