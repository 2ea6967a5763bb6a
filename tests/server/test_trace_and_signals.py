"""Issue 14 over real HTTP: the trace, the signals with their labels, the signal ids in the
schemas, and a batch whose invalid items get their own errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, Trace
from therapy_signals.server import BatchItemError, create_app
from therapy_signals.strategies import scenarios

from .conftest import running, write_clinic_pack

CHALLENGED = {"observations": [{"signal": "feeling_challenged_in_session"}]}
DISCLOSED_ONCE = {"observations": [{"signal": "therapist_self_disclosure", "frequency": "once"}]}


def _problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {p["where"]: p["message"] for p in response.json()["problems"]}


# --- POST /v1/trace ----------------------------------------------------------------------


def test_trace_is_the_engines_trace(client: httpx.Client, engine: Engine) -> None:
    for rule_id in ("boundaries.self-disclosure", "boundaries.self-disclosure-takes-over"):
        response = client.post("/v1/trace", json={"scenario": DISCLOSED_ONCE, "rule_id": rule_id})
        assert response.status_code == 200, response.text
        assert response.headers["x-rulebook"]
        assert Trace.model_validate(response.json()) == engine.trace(DISCLOSED_ONCE, rule_id)
    gave = client.post("/v1/trace", json={"scenario": DISCLOSED_ONCE, "rule_id": "boundaries.self-disclosure"}).json()
    assert (gave["fired"], gave["gave_way"], gave["by"]) == (True, True, "boundaries.brief-self-disclosure")


def test_trace_of_an_unknown_rule_is_a_422_at_rule_id_with_a_did_you_mean(client: httpx.Client) -> None:
    found = _problems(client.post("/v1/trace", json={"scenario": CHALLENGED, "rule_id": "BOUNDARIES.self-disclosur"}))
    assert list(found) == ["rule_id"]
    assert "did you mean 'boundaries.self-disclosure'" in found["rule_id"]


def test_trace_names_scenario_problems_by_their_path_in_the_body(client: httpx.Client) -> None:
    typo = {"observations": [{"signal": "therapist_self_disclosure", "frequncy": "once"}]}
    found = _problems(client.post("/v1/trace", json={"scenario": typo, "rule_id": "boundaries.self-disclosure"}))
    assert "did you mean 'frequency'" in found["scenario.observations[0].frequncy"]
    unknown = {"observations": [{"signal": "nope"}]}
    found = _problems(client.post("/v1/trace", json={"scenario": unknown, "rule_id": "boundaries.self-disclosure"}))
    assert "not a known signal" in found["scenario.observations[0].signal"]
    assert "rule_id" in _problems(client.post("/v1/trace", json={"scenario": CHALLENGED}))


@pytest.mark.parametrize("path", ["/v1/trace", "/v1/explain/batch"])
def test_a_body_without_content_type_is_a_415_naming_the_header(client: httpx.Client, path: str) -> None:
    body = {"scenario": CHALLENGED, "rule_id": "everyday.feeling-challenged"} if path == "/v1/trace" else {}
    response = client.post(path, content=json.dumps(body or {"scenarios": [CHALLENGED]}))
    assert response.status_code == 415, response.text
    assert "no Content-Type" in response.json()["detail"]
    assert "Content-Type: application/json" in response.json()["detail"]


# --- POST /v1/explain/batch: per-item results ----------------------------------------------


def test_each_batch_item_gets_its_guidance_or_its_own_error(client: httpx.Client, engine: Engine) -> None:
    items: list[Any] = [
        CHALLENGED,
        {"observations": [{"signal": "nope"}]},
        json.dumps(CHALLENGED),  # JSON text in a string is not a scenario
        {"observations": [{"sigal": "x"}]},
        None,
        DISCLOSED_ONCE,
    ]
    response = client.post("/v1/explain/batch", json={"scenarios": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(items)
    assert results[0] == engine.explain(CHALLENGED).to_dict()
    assert results[5] == engine.explain(DISCLOSED_ONCE).to_dict()
    errors = {i: BatchItemError.model_validate(results[i]) for i in (1, 2, 3, 4)}
    assert all(e.status == 422 and e.error == "invalid scenario" for e in errors.values())
    where = {i: {p.where: p.message for p in e.problems} for i, e in errors.items()}
    assert "not a known signal" in where[1]["scenarios[1].observations[0].signal"]
    assert where[2] == {"scenarios[2]": "expected an object with 'observations', got a string"}
    assert "did you mean 'signal'" in where[3]["scenarios[3].observations[0].sigal"]
    assert where[4] == {"scenarios[4]": "expected an object with 'observations', got null"}


def test_batch_items_keep_their_errors_with_cards(client: httpx.Client, engine: Engine) -> None:
    body = {"scenarios": [{"observations": [{"signal": "nope"}]}, CHALLENGED]}
    results = client.post("/v1/explain/batch?format=cards", json=body).json()["results"]
    assert results[0]["error"] == "invalid scenario"
    assert results[1]["cards"] == engine.explain(CHALLENGED).to_cards()


def test_a_batch_that_is_not_a_list_of_scenarios_is_still_one_422(client: httpx.Client) -> None:
    assert "scenarios" in _problems(client.post("/v1/explain/batch", json={"scenarios": []}))
    assert "scenarios" in _problems(client.post("/v1/explain/batch", json={"scenarios": CHALLENGED}))
    assert _problems(client.post("/v1/explain/batch", json={"scenarios": [CHALLENGED], "extra": 1}))


def test_the_batch_answer_is_documented(client: httpx.Client) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/explain/batch"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchAnswer"
    }
    assert "BatchItemError" in operation["responses"]["200"]["description"]


# --- GET /v1/signals, and the signal ids in the schemas -------------------------------------


def test_signals_are_listed_with_their_labels(client: httpx.Client, engine: Engine) -> None:
    body = client.get("/v1/signals").json()
    assert body["locale"] == "en"
    assert [s["id"] for s in body["signals"]] == list(engine.rulebook.signals)
    assert {s["id"]: s["label"] for s in body["signals"]} == {i: s.label for i, s in engine.rulebook.signals.items()}
    safety = client.get("/v1/signals", params={"category": "safety"}).json()["signals"]
    assert safety and {s["category"] for s in safety} == {"safety"}
    assert "query.category" in _problems(client.get("/v1/signals", params={"category": "nope"}))


def test_signals_are_labelled_in_the_engines_locale() -> None:
    spanish = Engine(locale="es")
    with running(create_app(spanish)) as url, httpx.Client(base_url=url) as http:
        body = http.get("/v1/signals").json()
    assert body["locale"] == "es"
    labels = {s["id"]: s["label"] for s in body["signals"]}
    assert labels["feeling_challenged_in_session"] == "sentir que tu terapeuta te plantea desafíos en una sesión"
    assert labels == {i: spanish.renderer.label(i) for i in spanish.rulebook.signals}
    english = {i: s.label for i, s in spanish.rulebook.signals.items()}
    assert all(labels[i] != english[i] for i in labels), "every shipped signal has a Spanish label"


def _signal_enum(schema: dict[str, Any], definitions: str) -> list[str]:
    found: list[str] = schema[definitions]["Observation"]["properties"]["signal"]["enum"]
    return found


def test_the_scenario_schemas_list_the_loaded_signal_ids_packs_included(tmp_path: Path) -> None:
    pack = write_clinic_pack(tmp_path / "clinic")
    engine = Engine(rule_paths=[BUILTIN, str(pack)])
    with running(create_app(engine)) as url, httpx.Client(base_url=url) as http:
        schema = http.get("/v1/schema/scenario").json()
        openapi = http.get("/openapi.json").json()
    ids = sorted(engine.rulebook.signals)
    assert "therapist_late_often" in ids
    assert _signal_enum(schema, "$defs") == ids
    assert _signal_enum(openapi["components"], "schemas") == ids
    late = {"observations": [{"signal": "therapist_late_often"}]}
    jsonschema.validate(late, schema)
    with pytest.raises(jsonschema.ValidationError, match="is not one of"):
        jsonschema.validate({"observations": [{"signal": "nope"}]}, schema)


def test_the_shipped_schema_lists_the_shipped_signal_ids(client: httpx.Client, engine: Engine) -> None:
    assert _signal_enum(client.get("/v1/schema/scenario").json(), "$defs") == sorted(engine.rulebook.signals)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_batch_answers_every_item_as_explain_would_alone(
    client: httpx.Client, engine: Engine, data: st.DataObject
) -> None:
    """Any mix of valid scenarios and broken items: each valid one gets exactly its guidance,
    each broken one an error whose every path is under its own index."""
    valid = scenarios(engine.rulebook, max_observations=3).map(lambda s: s.model_dump(mode="json", exclude_none=True))
    broken = st.one_of(
        st.none(),
        # Past 20 characters a number makes the whole body a 400, by the JSON limits (test_hardening).
        st.integers(min_value=-(10**18), max_value=10**18),
        st.text(max_size=20),
        st.just({"observations": []}),
        st.just({"observations": [{"signal": "not_a_signal"}]}),
        st.just({"observations": [{"signal": "feeling_judged", "frequency": "always-ish"}]}),
    )
    items = data.draw(st.lists(st.tuples(st.booleans(), valid, broken), min_size=1, max_size=6))
    body = [good if ok else bad for ok, good, bad in items]
    response = client.post("/v1/explain/batch", json={"scenarios": body})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(body)
    for index, ((ok, good, _), result) in enumerate(zip(items, results, strict=True)):
        if ok:
            assert result == engine.explain(good).to_dict()
        else:
            error = BatchItemError.model_validate(result)
            assert error.problems and all(p.where.startswith(f"scenarios[{index}]") for p in error.problems)
