"""A real uvicorn server on a free loopback port, in a thread of the test process, set up as ``serve`` sets it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the HTTP service needs the server extra: pip install 'therapy-signals[server]'")

import httpx
import uvicorn

from therapy_signals import Engine
from therapy_signals.server import SlowClientProtocol, create_app

CLINIC_RULE = """rules:
  - id: everyday.therapist-late
    title: Your therapist often runs late
    category: everyday
    level: discuss
    when: {signal: therapist_late_often}
    normal_when: Now and then, with an apology.
    explain: everyday/therapist-late.j2
    references: [guide#everyday-challenges]
"""


def write_clinic_pack(pack: Path) -> Path:
    """A small rule pack "clinic" in ``pack``: one new signal, its rule and its template."""
    (pack / "templates" / "en" / "everyday").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\n")
    (pack / "signals.yaml").write_text(
        "signals:\n  - {id: therapist_late_often, category: everyday, label: your therapist running late}\n"
    )
    (pack / "clinic.yaml").write_text(CLINIC_RULE)
    (pack / "templates" / "en" / "everyday" / "therapist-late.j2").write_text("Running late now and then happens.\n")
    return pack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", access_log=False, http=SlowClientProtocol
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Waiting for start-up is not a timed assertion: the loop ends as soon as it listens,
    # and only gives up after a minute so a broken start fails instead of hanging.
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="session")
def base_url(engine: Engine) -> Iterator[str]:
    with running(create_app(engine, max_body_bytes=64 * 1024, max_batch=20)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c
