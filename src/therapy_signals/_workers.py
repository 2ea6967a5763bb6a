"""``serve --workers N`` on Linux: N processes, each with its own SO_REUSEPORT listening socket.

uvicorn's own ``--workers`` shares one listening socket between its processes. Every idle
worker wakes on a new connection and the first to run accepts all that are pending, so a
client that opens its connections at once (a connection pool, a load balancer) often lands
all of them on one worker while the others idle: measured, 4 of 8 runs of 16 connections
went all to one of two workers, and those runs' p99 latency was 25 to 36 ms against 17 to
20 ms for the others. With SO_REUSEPORT each worker listens on a socket of its own and the
kernel spreads new connections across them by hash (decision 0008). Elsewhere than Linux,
``serve`` falls back to uvicorn's workers.

The parent only supervises: it starts the workers, restarts one that dies, and stops them
all on SIGINT or SIGTERM. The caller checks the port first (``port_is_free``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from .errors import ServeError

__all__ = ["port_is_free", "run_workers", "supported"]

_CRASH_LOOP = (5, 30.0)  # this many restarts within this many seconds: give up, something is wrong


def supported() -> bool:
    """Whether the kernel balances SO_REUSEPORT sockets (Linux does; macOS and Windows do not)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str, port: int) -> socket.AddressFamily:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]


def port_is_free(host: str, port: int) -> None:
    """Raise a clear error when another program already listens on host:port.

    The check binds without SO_REUSEPORT, so it also refuses to join a group of sockets
    that another server (say, a second ``serve``) opened with it.

    Raises:
        ServeError: the port is taken (or the address is not this machine's).
    """
    with socket.socket(_family(host, port), socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR so that connections of a server just stopped (TIME_WAIT) do not count;
        # on Linux it still fails on a port another socket listens on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ServeError(
                f"cannot listen on {host}:{port}: {error.strerror}; choose another --port or stop the program using it"
            ) from None


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host, port), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, config_json: str, env_name: str) -> None:
    """One worker process: its own socket, its own Engine, one uvicorn server."""
    import uvicorn

    from .server import SlowClientProtocol, app_from_env

    os.environ[env_name] = config_json
    sock = _listening_socket(host, port)
    config = uvicorn.Config(app_from_env(), access_log=False, log_level="warning", http=SlowClientProtocol)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int, config_json: str, env_name: str) -> None:
    """Serve with ``workers`` processes until SIGINT or SIGTERM; restart a worker that dies.

    Call ``port_is_free`` first: with SO_REUSEPORT a taken port would not fail the bind.
    """
    _Supervisor((host, port, config_json, env_name), workers).run()


class _Supervisor:
    def __init__(self, args: tuple[str, int, str, str], workers: int) -> None:
        self.args = args
        self.workers = workers
        self.context = multiprocessing.get_context("spawn")
        self.running: list[BaseProcess] = []
        self.stopping = False
        self.restarts: list[float] = []

    def run(self) -> None:
        self.running = [self._start() for _ in range(self.workers)]
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while self.running:
                wait([p.sentinel for p in self.running], timeout=1.0)
                self._reap()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self) -> BaseProcess:
        process = self.context.Process(target=_worker, args=self.args)
        process.start()
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for process in self.running:
            if process.is_alive():
                process.terminate()

    def _reap(self) -> None:
        """Drop workers that exited and start others, unless stopping or in a crash loop."""
        alive = []
        for process in self.running:
            if process.is_alive():
                alive.append(process)
                continue
            process.join()
            if self.stopping:
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < _CRASH_LOOP[1]] + [now]
            if len(self.restarts) >= _CRASH_LOOP[0]:
                self._stop(signal.SIGTERM, None)
                for other in self.running:
                    other.join(timeout=10)
                raise ServeError(
                    f"workers keep exiting ({len(self.restarts)} in {_CRASH_LOOP[1]:.0f} s, the last with "
                    f"{process.exitcode}); stopped. Their errors are above; run with --workers 1 to see one alone"
                )
            print(f"worker {process.pid} exited with {process.exitcode}; starting another", file=sys.stderr)
            alive.append(self._start())
        self.running = alive
