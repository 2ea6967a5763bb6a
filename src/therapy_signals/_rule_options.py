"""``--rules`` and ``--pack``: the options of every command that reads rules, and what they load.

One place, so ``explain``, ``rules ...``, ``signals``, ``batch``, ``counterfactual`` and
``lint`` build the same rule base from the same flags, the way ``serve`` does. Only Typer
and the standard library are imported here: every command imports this module at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .engine import Engine
    from .rulebook import RuleBook

__all__ = ["PacksOption", "RulesOption", "check_base", "load_book", "make_engine", "rule_paths"]

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="A rule base folder (default: the shipped one).", show_default=False),
]
PacksOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pack", help="A rule pack folder to apply on top (repeatable, applied in order).", show_default=False
    ),
]


def check_base(rules: Path) -> None:
    """RuleBookError when ``rules``, given as a base, is a pack.

    Loaded as a base, a pack fails with "rulebook.yaml: missing", which does not say what to
    do; this says it is a pack, and which option takes one."""
    from .errors import Problem, RuleBookError

    if (rules / "pack.yaml").is_file() and not (rules / "rulebook.yaml").is_file():
        raise RuleBookError(
            [
                Problem(
                    str(rules),
                    "this is a rule pack (it has pack.yaml, not rulebook.yaml); use --pack "
                    f"{rules} to apply it on top of the shipped rules (or --rules BASE --pack {rules})",
                )
            ]
        )


def _check_packs(packs: Sequence[Path]) -> None:
    """The other way round: a base given as ``--pack`` would fail with "pack.yaml: missing"."""
    from .errors import Problem, RuleBookError

    for pack in packs:
        if (pack / "rulebook.yaml").is_file() and not (pack / "pack.yaml").is_file():
            raise RuleBookError(
                [
                    Problem(
                        str(pack),
                        "this is a rule base (it has rulebook.yaml, not pack.yaml); use --rules "
                        f"{pack} to run on it instead of the shipped rules",
                    )
                ]
            )


def _check(rules: Path | None, packs: Sequence[Path]) -> None:
    if rules is not None:
        check_base(rules)
    _check_packs(packs)


def rule_paths(rules: Path | None, packs: Sequence[Path] | None) -> list[str]:
    """The ``Engine(rule_paths=...)`` the flags name: the base (or the shipped one), then each pack."""
    from .engine import BUILTIN

    _check(rules, packs or ())
    return [str(rules) if rules is not None else BUILTIN, *(str(p) for p in packs or ())]


def load_book(rules: Path | None, packs: Sequence[Path] | None) -> RuleBook:
    """The rule base the flags name, loaded and checked."""
    from .rulebook import RuleBook

    _check(rules, packs or ())
    return RuleBook.load(rules, packs=list(packs or ()))


def make_engine(rules: Path | None, packs: Sequence[Path] | None, **options: Any) -> Engine:
    """An Engine on the rule base the flags name; ``options`` go to :class:`Engine`."""
    from .engine import Engine

    return Engine(rule_paths=rule_paths(rules, packs), **options)
