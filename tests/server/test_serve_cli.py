"""`therapy-signals serve` end to end: a subprocess on a free loopback port, with a rule pack."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, write_clinic_pack


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_a_pack(tmp_path: Path, workers: int) -> None:
    """With --workers 2 each uvicorn worker process rebuilds the Engine, pack included."""
    pack = write_clinic_pack(tmp_path / "clinic")
    port = free_port()
    command = [sys.executable, "-m", "therapy_signals", "serve", "--port", str(port), "--pack", str(pack)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # gives up on a broken start; asserts nothing about time
        while True:
            try:
                health = httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert health.json()["rulebook"]["name"] == "therapy-signals-core+clinic"
        scenario = {"observations": [{"signal": "therapist_late_often", "note": "PRIVATE-NOTE-3"}]}
        for _ in range(4 * workers):
            answer = httpx.post(f"{url}/v1/explain", json=scenario).json()
            assert [f["rule_id"] for f in answer["findings"]] == ["everyday.therapist-late"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "serving therapy-signals-core+clinic" in stderr
    assert '"path": "/v1/explain", "status": 200' in stderr
    assert "PRIVATE-NOTE-3" not in stderr
