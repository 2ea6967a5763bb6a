"""The JSON Schemas of a scenario and of guidance, for a loaded rule base.

One function, so the command line's ``schema`` and the service's ``/v1/schema`` and
``/openapi.json`` describe the same thing: Pydantic's schema of the model, with the rule
base's signal ids (packs included) as the enum of an observation's ``signal``. An app that
validates scenarios against it refuses a signal the engine would refuse, before sending it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Literal

from .model import Guidance, Scenario
from .rulebook import RuleBook

__all__ = ["DIALECT", "json_schema", "with_signal_ids"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def with_signal_ids(definitions: MutableMapping[str, Any], ids: list[str]) -> None:
    """List ``ids`` as the enum of every Observation schema's ``signal`` in ``definitions``."""
    for name, definition in definitions.items():
        if name == "Observation" or name.startswith("Observation-"):
            definition["properties"]["signal"]["enum"] = ids


def json_schema(name: Literal["scenario", "guidance"], book: RuleBook) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a scenario (input) or of guidance (output) under ``book``."""
    if name == "scenario":
        body = Scenario.model_json_schema(mode="validation")
        with_signal_ids(body["$defs"], sorted(book.signals))
    else:
        body = Guidance.model_json_schema(mode="serialization")
    body["$schema"] = DIALECT
    return body
