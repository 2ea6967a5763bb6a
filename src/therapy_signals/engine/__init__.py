"""The engine: encode a scenario as a fact, run the rules on durable_rules, resolve.

Its layers, each a module here:

* ``_engine``: the :class:`Engine` facade and :func:`explain`, its convenience function;
* ``_facts``: a scenario encoded as the one fact durable_rules sees;
* ``_compile`` and ``_durable``: the rules compiled to durable_rules and run on a Host;
* ``_evaluate``: the same conditions evaluated in Python, for the *because* of a finding;
* ``_trace``: every condition of one rule evaluated for a scenario, for "why not?";
* ``resolve``: from the rules that fired to the level and ordered findings;
* ``_floor``: the safety floor that keeps packs from lowering a safety answer;
* ``_backends``: durable_rules or the columnar backend, which decide the rules that fire;
* ``_columns`` and ``_columnar``: scenarios as columns, and every rule evaluated over them;
* ``_verdicts``: the batch row of many scenarios at once.
"""

from ._backends import BACKENDS
from ._engine import BUILTIN, Engine, ScenarioInput, default_engine, explain, trace
from ._trace import NearMiss, Trace, TraceNode
from ._verdicts import Verdict

__all__ = [
    "BACKENDS",
    "BUILTIN",
    "Engine",
    "NearMiss",
    "ScenarioInput",
    "Trace",
    "TraceNode",
    "Verdict",
    "default_engine",
    "explain",
    "trace",
]
