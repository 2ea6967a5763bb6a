"""The "why not?" trace: for one scenario and one rule, which conditions held and which failed.

Every node of the rule's condition tree is evaluated here, not only until the first failure
as ``_evaluate`` does for a finding's *because*: a trace is read by someone asking why a rule
did not fire, and the second failing condition matters as much as the first. The outcome of
every node is the outcome ``_evaluate.evaluate`` gives it, and whether the rule fired comes
from the backend (durable_rules by default), checked against the Python evaluator.

The data carries no wording: each leaf carries its condition in the rule language, and the
faces (the CLI, the HTTP service) describe it (decision 0025).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..conditions import All, AnyOf, Condition, Count, Match, ScenarioTest, children
from ..model import Category, Level, RuleBookInfo
from ._evaluate import count_distinct, evaluate, observation_matches
from ._facts import EncodedScenario

__all__ = ["NearMiss", "Trace", "TraceNode", "trace_tree"]

NodeKind = Literal["all", "any", "not", "count", "scenario", "match"]


class NearMiss(BaseModel):
    """An observation with the signal (or category) a match asks for, failing a context test."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    observation: int = Field(description="Index into Scenario.observations.")
    failed: list[str] = Field(description="The context fields whose test it failed (frequency, impact, ...).")


class TraceNode(BaseModel):
    """One node of a rule's condition tree, with whether it held for the scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NodeKind = Field(description="all, any, not, count, scenario (a test of the setting or sessions) or match.")
    held: bool = Field(description="Whether this condition held for the scenario.")
    observations: list[int] = Field(
        default_factory=list,
        description="Indexes of the observations this node rested on: those a match or count matched, "
        "and for all/any/not the union of their children's.",
    )
    condition: dict[str, Any] | None = Field(
        None, description="A match or scenario test as written in the rule language; None for all/any/not/count."
    )
    near: list[NearMiss] = Field(
        default_factory=list, description="For a match: observations with its signal that failed a context test."
    )
    distinct: int | None = Field(None, description="For a count: how many distinct signals matched.")
    at_least: int | None = Field(None, description="For a count: how many it needs.")
    children: list[TraceNode] = Field(default_factory=list, description="The nodes under all, any, not and count.")


class Trace(BaseModel):
    """Why a rule did or did not fire for a scenario, and whether it gave way to another."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal["1"] = Field("1", description="Bumped when this shape changes incompatibly.")
    rule_id: str
    level: Level
    category: Category
    fired: bool = Field(description="Whether the rule's condition held, so the engine fired it.")
    shown: bool = Field(description="Whether the rule is among the guidance's findings.")
    gave_way: bool = Field(description="Whether it fired but gave way (superseded) to another rule.")
    by: str | None = Field(None, description="The rule id it gave way to.")
    floor: bool = Field(
        False,
        description="Whether the safety floor brought the rule back: the packs' version did not fire (or a pack "
        "turned it off), the base's did, and the guidance shows it; the tree is then the base's rule.",
    )
    when: TraceNode = Field(description="The rule's condition tree, each node with its outcome.")
    rulebook: RuleBookInfo


def trace_tree(condition: Condition, encoded: EncodedScenario) -> TraceNode:
    """The whole condition tree with each node's outcome, as ``evaluate`` decides it."""
    if isinstance(condition, Match):
        return _match(condition, encoded)
    if isinstance(condition, ScenarioTest):
        held = evaluate(condition, encoded).ok
        return TraceNode(kind="scenario", held=held, condition=_written(condition))
    if isinstance(condition, Count):
        inner = _match(condition.count, encoded)
        return TraceNode(
            kind="count",
            held=evaluate(condition, encoded).ok,
            observations=inner.observations,
            distinct=count_distinct(condition.count, encoded),
            at_least=condition.at_least,
            children=[inner],
        )
    nodes = [trace_tree(c, encoded) for c in children(condition)]
    kind: NodeKind = "all" if isinstance(condition, All) else "any" if isinstance(condition, AnyOf) else "not"
    rested = sorted({i for node in nodes for i in node.observations})
    return TraceNode(kind=kind, held=evaluate(condition, encoded).ok, observations=rested, children=nodes)


def _match(match: Match, encoded: EncodedScenario) -> TraceNode:
    matched: list[int] = []
    near: list[NearMiss] = []
    for index, observation in enumerate(encoded.observations):
        if observation_matches(match, observation):
            matched.append(index)
            continue
        if match.signals is not None and observation["signal"] not in match.signals:
            continue
        if match.category_values is not None and observation["category"] not in match.category_values:
            continue
        failed = [t.field.name for t in match.tests if not t.passes(observation[t.field.name])]
        near.append(NearMiss(observation=index, failed=failed))
    return TraceNode(kind="match", held=bool(matched), observations=matched, condition=_written(match), near=near)


def _written(condition: Match | ScenarioTest) -> dict[str, Any]:
    """The condition as a rule's YAML gives it."""
    return condition.model_dump(mode="json", by_alias=True, exclude_none=True)
