"""The bounds that keep untrusted input from exhausting time or memory (docs/security.md).

Scenarios, articles and rule packs come from people the embedding application does not
control. Each limit here has a default that no honest input comes near, is checked before
the expensive work it guards, and is refused with an error that names the limit and how
to change it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "DEFAULT_INPUT_LIMITS",
    "DEFAULT_RULE_FILE_LIMITS",
    "DEFAULT_TEMPLATE_LIMITS",
    "MAX_TEMPLATE_BYTES",
    "InputLimits",
    "RuleFileLimits",
    "TemplateLimits",
]


def _check_positive(owner: object) -> None:
    for spec in fields(owner):  # type: ignore[arg-type]
        value = getattr(owner, spec.name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(owner).__name__}.{spec.name} must be a whole number of 1 or more, not {value!r}")


@dataclass(frozen=True)
class InputLimits:
    """Bounds on one scenario given as JSON text, checked before it is validated.

    The defaults are far above any real scenario (at most 100 observations, each note at
    most 2,000 characters: about 250 KB even with every character escaped), and far below
    what would hurt: Python's own JSON parser recurses once per nesting level and converts
    a number's digits in quadratic time.

    Attributes:
        max_bytes: the most bytes of JSON one scenario may take (1 MiB).
        max_depth: the deepest nesting of objects and arrays (a scenario needs 3).
        max_digits: the most characters in one number (a scenario's largest is 5 digits).
    """

    max_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_digits: int = 20

    def __post_init__(self) -> None:
        _check_positive(self)


DEFAULT_INPUT_LIMITS = InputLimits()
"""The limits ``explain``, ``Engine``, the command line and batches use unless told otherwise."""


@dataclass(frozen=True)
class TemplateLimits:
    """Bounds on one render of one template, so a rule pack's template cannot hang or flood.

    Every loop iteration, call and filter costs a step (large values cost one more step
    per 256 characters); every string, list or mapping a template builds, and everything
    it outputs, counts characters. A render past a bound stops with a RenderError naming
    the template and line. The shipped templates use under 200 steps and 5,000 characters.

    Attributes:
        max_steps: loop iterations, calls and filters in one render.
        max_seconds: wall-clock time of one render (a backstop: steps bound the work).
        max_chars: the size of any one value a template builds.
        max_output: the characters one render may produce, captured blocks included.
    """

    max_steps: int = 100_000
    max_seconds: int = 2
    max_chars: int = 1_000_000
    max_output: int = 1_000_000

    def __post_init__(self) -> None:
        _check_positive(self)


DEFAULT_TEMPLATE_LIMITS = TemplateLimits()
"""The limits every Renderer uses unless an Engine is given others."""

MAX_TEMPLATE_BYTES = 256 * 1024
"""The largest template file a rule base or pack may hold (the shipped ones are under 3 KB)."""


@dataclass(frozen=True)
class RuleFileLimits:
    """Bounds on the files of a rule base or pack, checked as it loads, before any is parsed.

    A YAML alias repeats a node without repeating its text, so a few hundred bytes can stand
    for millions of nodes: nodes are counted with every alias expanded. The shipped rule
    base's largest file has 1,909 nodes, nests 10 deep, and takes 61 KB; the folder 400 KB.

    Attributes:
        max_file_bytes: the largest YAML file.
        max_folder_bytes: all the files of one rule base or pack folder together.
        max_files: files in one folder, templates included.
        max_nodes: YAML nodes in one file, every alias expanded.
        max_depth: how deep one YAML file nests.
    """

    max_file_bytes: int = 1024 * 1024
    max_folder_bytes: int = 16 * 1024 * 1024
    max_files: int = 5_000
    max_nodes: int = 50_000
    max_depth: int = 32

    def __post_init__(self) -> None:
        _check_positive(self)


DEFAULT_RULE_FILE_LIMITS = RuleFileLimits()
"""The limits ``RuleBook.load`` uses unless given others."""
