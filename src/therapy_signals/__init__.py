"""therapy-signals: is this normal? Explained guidance about therapist-client relationships.

    >>> from therapy_signals import explain
    >>> g = explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    >>> g.level
    <Level.normal: 'normal'>

Rules are data (``rules/*.yaml``) compiled onto durable_rules; every guidance carries its
reasons, its sources, and a disclaimer. Nothing here diagnoses anyone.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import BUILTIN, Engine, NearMiss, Trace, TraceNode, explain, trace
    from .errors import (
        EngineDisagreementError,
        EngineUnavailableError,
        InputError,
        LocaleError,
        Problem,
        RenderError,
        RuleBookError,
        ScenarioError,
        TherapySignalsError,
        UnknownRuleError,
    )
    from .model import (
        Because,
        Category,
        Duration,
        Finding,
        Frequency,
        Guidance,
        Impact,
        Initiator,
        Level,
        Observation,
        PackInfo,
        Reference,
        Resource,
        Response,
        RuleBookInfo,
        Scenario,
        Setting,
        Superseded,
        Where,
    )
    from .rulebook import Rule, RuleBook, RulePack, load_rulebook

    __version__: str

__all__ = [
    "BUILTIN",
    "Because",
    "Category",
    "Duration",
    "Engine",
    "EngineDisagreementError",
    "EngineUnavailableError",
    "Finding",
    "Frequency",
    "Guidance",
    "Impact",
    "Initiator",
    "InputError",
    "Level",
    "LocaleError",
    "NearMiss",
    "Observation",
    "PackInfo",
    "Problem",
    "Reference",
    "RenderError",
    "Resource",
    "Response",
    "Rule",
    "RuleBook",
    "RuleBookError",
    "RuleBookInfo",
    "RulePack",
    "Scenario",
    "ScenarioError",
    "Setting",
    "Superseded",
    "TherapySignalsError",
    "Trace",
    "TraceNode",
    "UnknownRuleError",
    "Where",
    "__version__",
    "explain",
    "load_rulebook",
    "trace",
]

# The names load on first use (PEP 562): ``therapy-signals lint`` imports this package and
# must not pay for the engine and durable_rules, nor ``import therapy_signals.errors`` for
# pydantic. Each name maps to the module that defines it.
_WHERE = {
    **dict.fromkeys(("BUILTIN", "Engine", "NearMiss", "Trace", "TraceNode", "explain", "trace"), ".engine"),
    **dict.fromkeys(
        (
            "EngineDisagreementError",
            "EngineUnavailableError",
            "InputError",
            "LocaleError",
            "Problem",
            "RenderError",
            "RuleBookError",
            "ScenarioError",
            "TherapySignalsError",
            "UnknownRuleError",
        ),
        ".errors",
    ),
    **dict.fromkeys(
        (
            "Because",
            "Category",
            "Duration",
            "Finding",
            "Frequency",
            "Guidance",
            "Impact",
            "Initiator",
            "Level",
            "Observation",
            "PackInfo",
            "Reference",
            "Resource",
            "Response",
            "RuleBookInfo",
            "Scenario",
            "Setting",
            "Superseded",
            "Where",
        ),
        ".model",
    ),
    **dict.fromkeys(("Rule", "RuleBook", "RulePack", "load_rulebook"), ".rulebook"),
}


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("therapy-signals")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _package_version()
    elif name in _WHERE:
        value = getattr(import_module(_WHERE[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
