"""Run compiled rules on durable_rules: one private Host per Engine, one fresh sid per scenario.

Why a Host subclass: durable_rules' Host starts background timer threads that dispatch
pending actions on their own schedule. Our actions run synchronously inside
``assert_fact``, so those threads could only race us; ``_run`` is overridden to start none.
durable_rules has no locks, so every call into the Host happens under this backend's lock.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ._compile import ALWAYS
from .errors import EngineUnavailableError

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
# process, so one lock for all Engines, not one each: create_ruleset racing an assert in
# another Engine left the process unable to create rulesets (error 102) in a CI run.
_LOCK = threading.RLock()


def _ignore(_closure: Any) -> None:
    """The action of the always-firing rule: nothing to record."""


def _import_durable() -> tuple[type[Any], type[Exception]]:
    try:
        from durable.engine import Host, MessageNotHandledException
    except ImportError as error:
        message = _FIX.format(error=error, version=sys.version.split()[0], python=sys.executable)
        raise EngineUnavailableError(message) from error
    return Host, MessageNotHandledException


def _host_class(base: type[Any]) -> type[Any]:
    class QuietHost(base):  # type: ignore[misc]
        def __init__(self, action: Callable[[str], Callable[[Any], None]]) -> None:
            self._make_action = action
            super().__init__()

        def _run(self) -> None:
            """Start no timer threads: actions already run inside assert_fact."""

        def get_action(self, action_name: str) -> Callable[[Any], None]:
            return self._make_action(action_name)

    return QuietHost


class DurableBackend:
    """Asserts encoded scenario facts and reports which rule ids fired."""

    def __init__(self, ruleset: Mapping[str, Any]) -> None:
        host_base, self._not_handled = _import_durable()
        self.name = f"therapy_signals_{next(_names)}"
        self._lock = _LOCK
        self._fired: list[str] = []
        self._sids = itertools.count()
        with self._lock:
            self._host = _host_class(host_base)(self._action)
            # durable_rules deletes 'run' from the definitions it is given: hand it a copy.
            self._host.set_rulesets({self.name: copy.deepcopy(dict(ruleset))})

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        if rule_id == ALWAYS:
            return _ignore

        def record(_closure: Any) -> None:
            self._fired.append(rule_id)

        return record

    def fired(self, fact_without_sid: Mapping[str, Any]) -> frozenset[str]:
        """Assert the fact under a fresh sid, collect the rules that fired, delete the state."""
        with self._lock:
            sid = str(next(self._sids))
            fact = {**fact_without_sid, "sid": sid}
            self._fired.clear()
            try:
                self._host.assert_fact(self.name, fact)
            except self._not_handled:
                pass  # no rule matched: a normal outcome, not an error
            finally:
                self._delete(sid)
            return frozenset(self._fired)

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
