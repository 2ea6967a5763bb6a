"""The ``serve`` and ``rules changelog`` commands, registered onto the main Typer app.

FastAPI and uvicorn are imported only when ``serve`` runs, so the rest of the command line
works, and starts fast, without the ``server`` extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import TherapySignalsError

__all__ = ["register"]


@contextlib.contextmanager
def _exit_on_error() -> Iterator[None]:
    """A library error becomes ``error: ...`` on standard error and exit code 2."""
    try:
        yield
    except TherapySignalsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app`` and ``changelog`` to its ``rules`` sub-app."""
    app.command("serve")(serve)
    for group in app.registered_groups:
        if group.name == "rules" and group.typer_instance is not None:
            group.typer_instance.command("changelog")(rules_changelog)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes it to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="A rule base folder (default: the shipped one).", show_default=False)
    ] = None,
    pack: Annotated[
        list[Path] | None,
        typer.Option(
            "--pack", help="A rule pack folder to apply on top (repeatable, applied in order).", show_default=False
        ),
    ] = None,
    locale: Annotated[str | None, typer.Option(help="Template locale (default: the rule base's).")] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(help="Largest request body accepted.", show_default=False)
    ] = None,
    max_batch: Annotated[
        int | None, typer.Option(help="Most scenarios in one batch request.", show_default=False)
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes, each with its own Engine (one per core helps).")
    ] = 1,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds a client has to send a request's headers; then a 408 and close (default 10).",
            show_default=False,
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds a client has to send a body once its headers are in; then a 408 and close (default 30).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (needs the server extra): POST /v1/explain, /v1/cards, /v1/explain/batch, GET /v1/rules ..."""
    from ._install import install_command

    try:
        import uvicorn

        from . import _workers, server
    except ImportError as error:
        typer.echo(
            f"error: the HTTP service needs the server extra ({error.name} is missing); "
            f"install it with: {install_command('server')}",
            err=True,
        )
        raise typer.Exit(2) from None
    from .engine import BUILTIN, Engine

    if workers > 1 and port == 0:
        typer.echo("error: --workers needs a fixed --port (with port 0 each worker would get its own)", err=True)
        raise typer.Exit(2)

    with _exit_on_error():
        paths = [str(rules) if rules is not None else BUILTIN, *(str(p) for p in pack or [])]
        engine = Engine(rule_paths=paths, locale=locale)
        if workers > 1 and _workers.supported():
            _workers.port_is_free(host, port)
    given: dict[str, Any] = {
        "max_body_bytes": max_body_bytes,
        "max_batch": max_batch,
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
    }
    limits = {k: v for k, v in given.items() if v is not None}
    book = engine.rulebook
    typer.echo(
        f"serving {book.name} {book.version} on http://{host}:{port}, {workers} worker(s); OpenAPI at /openapi.json",
        err=True,
    )
    # uvicorn's access log would print paths in its own format; the service logs each request as JSON.
    if workers == 1:
        server.configure_logging()
        app = server.create_app(engine, **limits)
        server.freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", http=server.SlowClientProtocol)
        return
    # Several processes need an import string: each worker rebuilds the Engine from this config
    # (checked once above, so a bad rule pack fails here and not in every worker).
    config = json.dumps({"rule_paths": paths, "locale": locale, "limits": limits})
    if _workers.supported():
        with _exit_on_error():
            _workers.run_workers(host, port, workers, config, server.SERVE_CONFIG_ENV)
        return
    os.environ[server.SERVE_CONFIG_ENV] = config
    uvicorn.run(
        "therapy_signals.server:app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        http=server.SlowClientProtocol,
    )


def rules_changelog(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of standard output.")
    ] = None,
    repo: Annotated[Path, typer.Option(help="The git checkout whose rules/ history to read.")] = Path(),
) -> None:
    """Write the rule CHANGELOG from the git history of rules/: rules added, removed, and levels changed."""
    from ._changelog import changelog

    with _exit_on_error():
        text = changelog(repo)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
