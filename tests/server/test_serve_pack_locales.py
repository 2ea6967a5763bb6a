"""`serve --locale` over a pack that disables a rule: it starts and answers in that locale."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from therapy_signals import Engine

from .conftest import free_port

LOCALES = Engine().rulebook.locales


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_serve_in_another_locale_over_a_pack_that_disables_a_rule(tmp_path: Path, locale: str) -> None:
    pack = tmp_path / "clinic"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: clinic\nversion: 1.0.0\ndisable: [boundaries.frequent-gifts]\n")
    port = free_port()
    command = [sys.executable, "-m", "therapy_signals", "serve", "--port", str(port), "--pack", str(pack)]
    process = subprocess.Popen(
        [*command, "--locale", locale], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60  # gives up on a broken start; asserts nothing about time
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        scenario = {"observations": [{"signal": "feeling_challenged_in_session"}]}
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/explain", json=scenario)
        assert answer.status_code == 200
        body = answer.json()
        assert body["locale"] == locale
        assert [(p["name"], p["version"]) for p in body["rulebook"]["packs"]] == [("clinic", "1.0.0")]
    finally:
        process.terminate()
        process.communicate(timeout=30)
