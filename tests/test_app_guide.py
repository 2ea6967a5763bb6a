"""docs/app-developers.md, run as written: its Python blocks, and its shell sessions against a
real `therapy-signals serve` on a free loopback port, compared with the output the guide shows.

The output is read as tests/doc_sessions.py says (`…` is text left out). Commands are run with bash
from a folder holding the `my_rules/` pack the guide refers to; `pip install` lines are
skipped, as the test environment already has the extras.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the guide's service needs the server extra")

import httpx

from therapy_signals import Level

from .doc_sessions import blocks, pattern, sessions
from .server.conftest import free_port, write_clinic_pack

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "app-developers.md"
GUIDE_PORT = "8080"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the guide's `my_rules/` pack, as the current directory."""
    write_clinic_pack(tmp_path / "my_rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _blocks(kind: str) -> list[str]:
    return blocks(GUIDE, kind)


def _sessions() -> list[tuple[str, list[str]]]:
    return sessions(GUIDE)


def _shell(command: str, port: int) -> str:
    command = command.replace(f"127.0.0.1:{GUIDE_PORT}", f"127.0.0.1:{port}")
    command = re.sub(r"^therapy-signals ", f"{sys.executable} -m therapy_signals ", command)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    return (done.stdout + done.stderr).replace("\r\n", "\n")  # curl -i shows headers with CRLF


def test_the_python_blocks_run_and_say_what_they_show(workdir: Path) -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 2
    for block in blocks:
        namespace: dict[str, object] = {}
        exec(compile(block, str(GUIDE), "exec"), namespace)  # the guide's own code, run as a reader would
        for expression, shown in re.findall(r"^(\S[^#\n]*?)\s+# (Level\.\w+)$", block, flags=re.M):
            assert eval(expression, namespace) == eval(shown, {"Level": Level}), expression


@pytest.mark.skipif(shutil.which("curl") is None, reason="the guide calls the service with curl")
def test_the_shell_sessions_give_the_output_shown(workdir: Path) -> None:
    steps = _sessions()
    serve = [(c, out) for c, out in steps if c.startswith("therapy-signals serve")]
    assert len(serve) == 1, "the guide starts the service once"
    port = free_port()
    log = workdir / "serve.log"
    command = serve[0][0].replace(f"--port {GUIDE_PORT}", f"--port {port}").split()
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, "-m", "therapy_signals", *command[1:]], stderr=sink)
    try:
        _wait_until_up(port, server, log)
        assert pattern(serve[0][1]).search(log.read_text().replace(str(port), GUIDE_PORT)), log.read_text()
        ran = 0
        for command, shown in steps:
            if command.startswith(("pip install", "therapy-signals serve")):
                continue
            output = _shell(command, port)
            assert pattern(shown).search(output), (
                f"$ {command}\n--- shown:\n" + "\n".join(shown) + f"\n--- got:\n{output}"
            )
            ran += 1
        assert ran >= 5
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60  # gives up on a broken start; asserts nothing about time
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            return
        except httpx.TransportError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)


def test_the_pattern_treats_ellipses_and_wrapping_as_the_guide_means() -> None:
    shown = pattern(['{"a":1,…,"c":3,', ' "d":4}', "tail"])
    assert shown.search('{"a":1,"b":2,"c":3,"d":4}\nheader: x\ntail')
    assert not shown.search('{"a":1,"b":2,"c":3,"d":5}\ntail')
