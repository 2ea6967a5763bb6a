"""The "why not?" trace in words, for ``therapy-signals rules why``.

The trace itself (``engine._trace``) carries no wording; here each node is described with the
rule language's own ``describe()``, walking the rule's condition tree beside the trace's.
"""

from __future__ import annotations

from .conditions import All, AnyOf, Condition, Count, Match, Not, children, describe
from .engine import Trace, TraceNode

__all__ = ["trace_text"]


def trace_text(trace: Trace, when: Condition) -> str:
    """The trace as indented lines, one a condition, each marked held or failed."""
    if trace.gave_way:
        verdict = f"fired, but gave way to {trace.by}"
    elif trace.shown:
        verdict = "fired, and is among the findings"
    elif trace.fired:
        verdict = "fired"
    else:
        verdict = "did not fire"
    lines = [f"{trace.rule_id} ({trace.level.value}, {trace.category.value}): {verdict}"]
    if trace.floor:
        lines.append("  (brought back by the safety floor: the rule as the base rule base writes it)")
    _lines(trace.when, when, 1, lines)
    return "\n".join(lines) + "\n"


def _lines(node: TraceNode, condition: Condition, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    mark = "held  " if node.held else "failed"
    if isinstance(condition, All | AnyOf | Not):
        head = "all of:" if isinstance(condition, All) else "any of:" if isinstance(condition, AnyOf) else "not:"
        out.append(f"{pad}{mark} {head}")
        for child_node, child in zip(node.children, children(condition), strict=True):
            _lines(child_node, child, depth + 1, out)
        return
    count = f" ({node.distinct} found)" if isinstance(condition, Count) else ""
    out.append(f"{pad}{mark} {describe(condition)}{count}{_resting(node)}")
    near = node.children[0].near if isinstance(condition, Count) else node.near
    if isinstance(condition, Match | Count):
        for miss in near:
            fields = ", ".join(miss.failed)
            out.append(f"{pad}         observation {miss.observation} matches but for its {fields}")


def _resting(node: TraceNode) -> str:
    if not node.observations:
        return ""
    label = "observation" if len(node.observations) == 1 else "observations"
    return f": {label} {', '.join(map(str, node.observations))}"
