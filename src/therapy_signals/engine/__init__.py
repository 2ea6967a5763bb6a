"""The engine: encode a scenario as a fact, run the rules on durable_rules, resolve.

Its layers, each a module here:

* ``_engine``: the :class:`Engine` facade and :func:`explain`, its convenience function;
* ``_facts``: a scenario encoded as the one fact durable_rules sees;
* ``_compile`` and ``_durable``: the rules compiled to durable_rules and run on a Host;
* ``_evaluate``: the same conditions evaluated in Python, for the *because* of a finding;
* ``resolve``: from the rules that fired to the level and ordered findings;
* ``_floor``: the safety floor that keeps packs from lowering a safety answer.
"""

from ._engine import BUILTIN, Engine, ScenarioInput, default_engine, explain

__all__ = ["BUILTIN", "Engine", "ScenarioInput", "default_engine", "explain"]
