"""One Engine shared by many threads, and by an asyncio server under concurrent HTTP clients,
gives exactly the answers serial calls give."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings

from therapy_signals import Engine
from therapy_signals.strategies import scenarios


def corpus(engine: Engine, count: int) -> list[dict[str, Any]]:
    """Generated scenarios, as JSON-ready dicts; serial and concurrent calls see the same ones."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(scenario=scenarios())
    def collect(scenario: Any) -> None:
        drawn.append(scenario.model_dump(mode="json", exclude_none=True))

    collect()
    return drawn[:count]


def test_many_threads_agree_with_serial_calls(engine: Engine) -> None:
    items = corpus(engine, 120)
    serial = [engine.explain(s).to_dict() for s in items]
    with ThreadPoolExecutor(max_workers=16) as pool:
        threaded = list(pool.map(lambda s: engine.explain(s).to_dict(), items * 3))
    assert threaded == serial * 3


def test_concurrent_http_clients_agree_with_serial_calls(base_url: str, engine: Engine) -> None:
    items = corpus(engine, 120)
    serial = [json.loads(engine.explain(s).model_dump_json()) for s in items]

    async def fire() -> list[Any]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
            gate = asyncio.Semaphore(32)

            async def one(scenario: dict[str, Any]) -> Any:
                async with gate:
                    response = await client.post("/v1/explain", json=scenario)
                    assert response.status_code == 200, response.text
                    return response.json()

            return list(await asyncio.gather(*(one(s) for s in items * 2)))

    assert asyncio.run(fire()) == serial * 2
