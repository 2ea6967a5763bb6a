"""Refuse, at once, to start worker processes from a script's unguarded top level.

Worker processes start fresh (spawn) and import the script that started them again, as
``__mp_main__``: code at its top level runs once more in every worker. A batch started
there starts again inside each worker, which dies on the output's lock, and the run fails
with a broken pool whose cause scrolls past. Python's own answer is the
``if __name__ == "__main__":`` guard; this module tells whether the batch was started
outside one, so the run can say what to add before it writes anything.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import FrameType

from ..errors import BatchError

__all__ = ["check_main_guarded"]


def _main_compare(test: ast.expr) -> type[ast.cmpop] | None:
    """``ast.Eq`` or ``ast.NotEq`` when the test compares ``__name__`` with ``"__main__"``
    anywhere in it (``if __name__ == "__main__" and not quiet:`` counts too)."""
    for node in ast.walk(test):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in (ast.Eq, ast.NotEq)):
            continue
        sides = [node.left, node.comparators[0]]
        named = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
        if named and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides):
            return type(node.ops[0])
    return None


def _within(body: list[ast.stmt], line: int) -> bool:
    return bool(body) and body[0].lineno <= line <= (body[-1].end_lineno or body[-1].lineno)


def _guarded(source: str, line: int) -> bool:
    """Whether ``line`` of the script lies in the branch of an ``if`` that runs only as ``__main__``.

    Lenient by design: a refusal of a good script is worse than a run that fails later.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # cannot tell: let the run go ahead rather than refuse a good script
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        op = _main_compare(node.test)
        if op is ast.Eq and _within(node.body, line):
            return True
        if op is ast.NotEq and _within(node.orelse, line):
            return True
    return False


def _top_level_frame(main_globals: dict[str, object], frame: FrameType | None) -> FrameType | None:
    """The frame running the script's top level, when the call came from it."""
    while frame is not None:
        if frame.f_globals is main_globals and frame.f_code.co_name == "<module>":
            return frame
        frame = frame.f_back
    return None


def check_main_guarded(what: str, frame: FrameType | None = None) -> None:
    """Raise when ``what`` (which starts worker processes) runs from a script's unguarded top level.

    Raises:
        BatchError: naming the script and line, and the guard to add.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str):
        return  # an interactive session or a notebook: workers do not import it again
    start = frame if frame is not None else sys._getframe(1)
    top = _top_level_frame(vars(main), start)
    if top is None:
        return  # not called from the script's own code (a thread, another entry point)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if not _guarded(source, top.f_lineno):
        raise BatchError(
            f"{path}, line {top.f_lineno}: {what} starts worker processes, which import this script again "
            'and would run it once more each; put the code that runs the batch under `if __name__ == "__main__":` '
            "(see docs/researchers.md, From Python), or run with one worker"
        )
