"""The HTTP service over real HTTP on loopback: answers, errors, limits, headers and logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from therapy_signals import BUILTIN, Engine
from therapy_signals.server import JsonLogFormatter, create_app

from .conftest import running

ROOT = Path(__file__).resolve().parents[2]
CHALLENGED = {"observations": [{"signal": "feeling_challenged_in_session"}]}


def rulebook_header(engine: Engine) -> str:
    book = engine.rulebook
    return f"{book.name} {book.version} {book.content_hash}"


def problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {p["where"]: p["message"] for p in response.json()["problems"]}


def test_explain_matches_the_engine(client: httpx.Client, engine: Engine) -> None:
    for path in sorted((ROOT / "examples" / "scenarios").glob("*.json")):
        scenario = json.loads(path.read_text())
        response = client.post("/v1/explain", json=scenario)
        assert response.status_code == 200, response.text
        assert response.json() == engine.explain(scenario).to_dict()
        assert response.headers["x-rulebook"] == rulebook_header(engine)


def test_every_response_names_the_rule_base(client: httpx.Client, engine: Engine) -> None:
    info = {
        "name": engine.rulebook.name,
        "version": engine.rulebook.version,
        "hash": engine.rulebook.content_hash,
        "packs": [],  # the shipped rules alone
    }
    responses = [
        client.post("/v1/explain", json=CHALLENGED),
        client.post("/v1/explain", json={"observations": []}),
        client.post("/v1/explain/batch", json={"scenarios": [CHALLENGED]}),
        client.get("/v1/rules"),
        client.get("/v1/rules/everyday.feeling-challenged"),
        client.get("/v1/rules/nope"),
        client.get("/healthz"),
        client.get("/no/such/path"),
        client.delete("/v1/rules"),
    ]
    for response in responses:
        assert response.headers["x-rulebook"] == rulebook_header(engine), response.request.url
        assert response.json()["rulebook"] == info, response.request.url
    assert client.get("/v1/schema/scenario").json()["x-rulebook"] == info
    assert client.get("/openapi.json").headers["x-rulebook"] == rulebook_header(engine)


def test_bad_input_is_a_422_naming_each_field(client: httpx.Client) -> None:
    found = problems(
        client.post(
            "/v1/explain",
            json={
                "setting": "couple",
                "observations": [{"signal": "feeling_challenged_in_session", "frequncy": "often"}],
            },
        )
    )
    assert "did you mean 'couples'" in found["setting"]
    assert "did you mean 'frequency'" in found["observations[0].frequncy"]
    found = problems(client.post("/v1/explain", json={"observations": [{"signal": "feeling_challenged"}]}))
    assert "did you mean 'feeling_challenged_in_session'" in found["observations[0].signal"]
    assert problems(client.post("/v1/explain", json={})) == {"observations": "required"}
    assert "at least 1" in problems(client.post("/v1/explain", json={"observations": []}))["observations"]
    assert "format" in " ".join(problems(client.post("/v1/explain?format=pdf", json=CHALLENGED)))


def test_broken_json_and_wrong_types(client: httpx.Client) -> None:
    broken = client.post("/v1/explain", content=b'{"observations": [', headers={"content-type": "application/json"})
    assert broken.status_code == 400, broken.text
    assert broken.json()["problems"] == [{"where": "1:19", "message": "not valid JSON: Expecting value"}]
    assert problems(client.post("/v1/explain", json=[1, 2]))
    assert problems(client.post("/v1/explain", json="text"))
    assert problems(client.post("/v1/explain"))


def test_batch(client: httpx.Client, engine: Engine) -> None:
    urgent = json.loads((ROOT / "examples/scenarios/self-harm-risk.json").read_text())
    response = client.post("/v1/explain/batch", json={"scenarios": [CHALLENGED, urgent]})
    assert response.status_code == 200
    assert response.json()["results"] == [engine.explain(CHALLENGED).to_dict(), engine.explain(urgent).to_dict()]
    cards = client.post("/v1/explain/batch?format=cards", json={"scenarios": [urgent]}).json()["results"]
    assert cards[0]["cards"] == engine.explain(urgent).to_cards()
    assert problems(client.post("/v1/explain/batch", json={"scenarios": []})) == {
        "scenarios": "List should have at least 1 item after validation, not 0"
    }


def test_batch_size_is_bounded(client: httpx.Client) -> None:
    response = client.post("/v1/explain/batch", json={"scenarios": [CHALLENGED] * 21})
    assert response.status_code == 413
    assert "at most 20" in response.json()["detail"]


def test_body_size_is_bounded(client: httpx.Client) -> None:
    big = {
        "observations": [
            {"signal": "feeling_challenged_in_session", "note": "x" * 2000, "sessions": i} for i in range(40)
        ]
    }
    response = client.post("/v1/explain", json=big)
    assert response.status_code == 413
    assert "65536 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b'{"observations": ['
        for _ in range(100):
            yield b'{"signal": "feeling_challenged_in_session", "note": "' + b"y" * 1000 + b'"},'
        yield b"]}"

    response = client.post("/v1/explain", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_rules(client: httpx.Client, engine: Engine) -> None:
    listed = client.get("/v1/rules").json()["rules"]
    assert [r["id"] for r in listed] == list(engine.rulebook.rules)
    safety = client.get("/v1/rules", params={"category": "safety", "level": "urgent"}).json()["rules"]
    assert safety and all(r["category"] == "safety" and r["level"] == "urgent" for r in safety)
    rule = client.get("/v1/rules/safety.sexual-contact").json()["rule"]
    assert rule["level"] == "serious" and rule["condition"] and rule["references"]
    missing = client.get("/v1/rules/safety.sexual-contct")
    assert missing.status_code == 404
    assert "did you mean 'safety.sexual-contact'" in missing.json()["detail"]


def test_schemas_describe_the_answers(client: httpx.Client) -> None:
    scenario_schema = client.get("/v1/schema/scenario").json()
    guidance_schema = client.get("/v1/schema/guidance").json()
    jsonschema.validate(CHALLENGED, scenario_schema)
    jsonschema.validate(client.post("/v1/explain", json=CHALLENGED).json(), guidance_schema)
    assert client.get("/v1/schema/other").status_code == 422
    openapi = client.get("/openapi.json").json()
    assert {"/v1/explain", "/v1/explain/batch", "/v1/cards", "/v1/rules", "/v1/rules/{rule_id}", "/healthz"} <= set(
        openapi["paths"]
    )


def test_healthz(client: httpx.Client, engine: Engine) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["rules"] == len(engine.rulebook.rules)


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("therapy_signals.server")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_failure_is_a_generic_500_logged_by_type_only(tmp_path: Path, service_log: io.StringIO) -> None:
    # A real failure, not a mock: a rule pack whose template divides by zero when a scenario
    # gives its sessions. The Engine renders a pack's templates once at start-up on a witness
    # scenario, which gives none, so the pack loads and fails only on the request.
    pack = tmp_path / "broken"
    (pack / "templates" / "en" / "everyday").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: broken\nversion: 1.0.0\n")
    (pack / "templates" / "en" / "everyday" / "feeling-challenged.j2").write_text("{{ 1 // (0 if sessions else 1) }}\n")
    engine = Engine(rule_paths=[BUILTIN, str(pack)])
    secret = {"sessions": 3, "observations": [{"signal": "feeling_challenged_in_session", "note": "PRIVATE-NOTE-7"}]}
    with running(create_app(engine)) as url, httpx.Client(base_url=url) as client:
        response = client.post("/v1/explain", json=secret)
        ok = client.post("/v1/explain", json={"observations": [{"signal": "sexual_contact", "note": "PRIVATE-NOTE-8"}]})
    assert response.status_code == 500
    assert response.json()["error"] == "internal error"
    assert "Traceback" not in response.text and "ZeroDivision" not in response.text and "division" not in response.text
    assert response.headers["x-rulebook"].startswith("therapy-signals-core+broken ")
    assert ok.status_code == 200
    lines = [json.loads(line) for line in service_log.getvalue().splitlines()]
    unhandled = [line for line in lines if line["event"] == "unhandled"]
    assert len(unhandled) == 1, lines
    # The renderer reports any template failure as a RenderError (render.py), which no handler takes.
    assert {"error": "RenderError", "path": "/v1/explain"}.items() <= unhandled[0].items()
    assert [line["status"] for line in lines if line["event"] == "request"] == [500, 200]
    assert "PRIVATE-NOTE" not in service_log.getvalue()
    assert "Traceback" not in service_log.getvalue()


def test_logs_never_hold_observations(client: httpx.Client, service_log: io.StringIO) -> None:
    client.post("/v1/explain", json={"observations": [{"signal": "sexual_contact", "note": "PRIVATE-NOTE-9"}]})
    client.post("/v1/explain", json={"observations": [{"signal": "PRIVATE-SIGNAL-9", "note": "PRIVATE-NOTE-10"}]})
    text = service_log.getvalue()
    assert "PRIVATE" not in text and "sexual_contact" not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert [(e["path"], e["status"]) for e in entries] == [("/v1/explain", 200), ("/v1/explain", 422)]
