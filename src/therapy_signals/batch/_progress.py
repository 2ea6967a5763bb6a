"""A Rich progress bar on standard error, with rate and time left; silent off a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["progress"]


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} scenarios/s", style="progress.data.speed")


@contextlib.contextmanager
def progress(enabled: bool, total: int | None, description: str, done: int = 0) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; draws only when ``enabled`` and standard error is a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda _n: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task = bar.add_task(description, total=total, completed=done)
    with bar:
        yield lambda n: bar.advance(task, n)
