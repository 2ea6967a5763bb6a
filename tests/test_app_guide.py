"""docs/app-developers.md, run as written: its Python blocks, and its shell sessions against a
real `therapy-signals serve` on a free loopback port, compared with the output the guide shows.

In the guide's output, `…` stands for text left out, and a line that starts with a space
continues the line before (long JSON is wrapped for reading). Commands are run with bash
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
    return re.findall(rf"^```{kind}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)


def _sessions() -> list[tuple[str, list[str]]]:
    """Every `$ command` of the console blocks, with the output lines shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for block in _blocks("console"):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            command = lines[index][2:]
            while command.endswith("\\"):
                index += 1
                command = command[:-1] + lines[index].strip()
            index += 1
            output = []
            while index < len(lines) and not lines[index].startswith("$ "):
                output.append(lines[index])
                index += 1
            steps.append((command, output))
    return steps


def _pattern(shown: list[str]) -> re.Pattern[str]:
    """`…` is anything; a wrapped line joins with any whitespace; other lines may have lines between."""
    text = ""
    while shown and not shown[-1].strip():
        shown = shown[:-1]
    for number, line in enumerate(shown):
        if number:
            text += "\x00" if line.startswith(" ") else "\x01"
        text += line.strip()
    parts = [re.escape(piece) for piece in text.split("…")]
    regex = ".*?".join(parts).replace("\x00", r"\s*").replace("\x01", r"\n(?:.*\n)*?")
    return re.compile(regex, flags=re.S)


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
        assert _pattern(serve[0][1]).search(log.read_text().replace(str(port), GUIDE_PORT)), log.read_text()
        ran = 0
        for command, shown in steps:
            if command.startswith(("pip install", "therapy-signals serve")):
                continue
            output = _shell(command, port)
            assert _pattern(shown).search(output), (
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
    pattern = _pattern(['{"a":1,…,"c":3,', ' "d":4}', "tail"])
    assert pattern.search('{"a":1,"b":2,"c":3,"d":4}\nheader: x\ntail')
    assert not pattern.search('{"a":1,"b":2,"c":3,"d":5}\ntail')
