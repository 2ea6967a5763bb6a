"""Schemathesis against the service's own OpenAPI document: no generated input gets a 500.

Both positive (valid by the schema) and negative (invalid) inputs are generated, at most 50
of each per operation, so the whole run stays well under a minute.
The operations are driven from Hypothesis directly rather than through schemathesis'
pytest plugin, whose fixture support does not run on pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from therapy_signals.server import create_app

from .conftest import running

PATHS = create_app().openapi()["paths"]
OPERATIONS = [(method.upper(), path) for path, methods in PATHS.items() for method in methods]
# Negative inputs need an input to break: operations without parameters or body have none.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in schemathesis.GenerationMode
    if mode is schemathesis.GenerationMode.POSITIVE or {"parameters", "requestBody"} & set(PATHS[path][method.lower()])
]


@pytest.fixture(scope="module")
def api_schema() -> Iterator[Any]:
    # A server of its own, with the default limits a deployment has.
    with running(create_app()) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_every_operation_is_covered(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_no_input_gets_a_server_error(
    api_schema: Any, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        case.validate_response(response, checks=[checks.not_a_server_error, checks.content_type_conformance])
        assert "x-rulebook" in response.headers
        assert "Traceback" not in response.text

    run()
