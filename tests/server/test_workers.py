"""`serve --workers 2` on Linux: each worker listens on its own SO_REUSEPORT socket.

These start the real command in a subprocess on a free loopback port and talk to it over
real TCP connections.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from therapy_signals import _workers

from .conftest import free_port

pytestmark = pytest.mark.skipif(not _workers.supported(), reason="SO_REUSEPORT balancing is Linux-only")

JSON = {"content-type": "application/json"}
SCENARIO = json.dumps({"observations": [{"signal": "temporary_misunderstanding"}]}).encode()


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return {c for c in found if "multiprocessing-fork" in Path(f"/proc/{c}/cmdline").read_text()}


def _listeners(port: int) -> int:
    """Sockets listening on the port (from /proc/net/tcp): a worker is ready once it listens."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def _wait(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60  # gives up on a broken start; asserts nothing about time
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@contextmanager
def serving(log: Path, workers: int = 2, *options: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The command running with its standard error (the request log) going to ``log``."""
    port = free_port()
    command = [sys.executable, "-m", "therapy_signals", "serve", "--port", str(port), "--workers", str(workers)]
    command += options
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink, text=True)
    try:

        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        _wait(up, "serve did not start")
        _wait(lambda: _listeners(port) == workers, "the workers did not all start listening")
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)


def _post_over(connections: list[socket.socket]) -> None:
    request = (
        b"POST /v1/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(SCENARIO)).encode() + b"\r\n\r\n" + SCENARIO
    )
    for connection in connections:
        connection.sendall(request)
    for connection in connections:
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")


def _explained_by(stderr: str) -> set[int]:
    """The pids in the request log of the POST /v1/explain requests."""
    entries = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return {e["pid"] for e in entries if e.get("path") == "/v1/explain"}


def test_connections_opened_at_once_spread_over_the_workers(tmp_path: Path) -> None:
    """16 connections opened together: with one shared socket, one worker often took all 16."""
    log = tmp_path / "serve.log"
    with serving(log) as (process, port):
        workers = children(process.pid)
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        try:
            _post_over(connections)
        finally:
            for connection in connections:
                connection.close()
    assert _explained_by(log.read_text()) == workers, "each worker answered some of the 16 connections"


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    with serving(tmp_path / "serve.log") as (process, _port):
        workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(log) as (process, port):
        first = children(process.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(children(process.pid) - {victim}) == 2, "no worker replaced the one killed")
        _wait(lambda: _listeners(port) == 2, "the new worker did not listen")
        for _ in range(8):  # new connections each, spread over both workers
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/explain", content=SCENARIO, headers=JSON, timeout=30)
            assert answer.status_code == 200, log.read_text()
    assert f"worker {victim} exited with -9; starting another" in log.read_text()


def test_a_port_in_use_is_refused_with_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "therapy_signals", "serve", "--port", str(port), "--workers", "2"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "choose another --port" in done.stderr


def test_workers_need_a_fixed_port() -> None:
    command = [sys.executable, "-m", "therapy_signals", "serve", "--port", "0", "--workers", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--workers needs a fixed --port" in done.stderr
