"""therapy-signals: is this normal? Explained guidance about therapist-client relationships.

    >>> from therapy_signals import explain
    >>> g = explain({"observations": [{"signal": "feeling_challenged_in_session"}]})
    >>> g.level
    <Level.normal: 'normal'>

Rules are data (``rules/*.yaml``) compiled onto durable_rules; every guidance carries its
reasons, its sources, and a disclaimer. Nothing here diagnoses anyone.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .engine import BUILTIN, Engine, explain
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
    Reference,
    Resource,
    Response,
    RuleBookInfo,
    Scenario,
    Setting,
    Superseded,
    Where,
)
from .rulebook import Rule, RuleBook, load_rulebook

try:
    __version__ = version("therapy-signals")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0+unknown"

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
    "Observation",
    "Problem",
    "Reference",
    "RenderError",
    "Resource",
    "Response",
    "Rule",
    "RuleBook",
    "RuleBookError",
    "RuleBookInfo",
    "Scenario",
    "ScenarioError",
    "Setting",
    "Superseded",
    "TherapySignalsError",
    "UnknownRuleError",
    "Where",
    "__version__",
    "explain",
    "load_rulebook",
]
