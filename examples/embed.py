"""Embedding therapy-signals in an app back end: validate, explain, and answer in JSON.

Run it with ``python examples/embed.py`` after ``make demo`` (or ``pip install .``).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from therapy_signals import Engine, Level, ScenarioError

# One Engine per process: it compiles the rules once and is safe to share between threads.
# Resources are configuration: rules name roles, and here UK services fill them in place of
# the US defaults (one per role the rules name).
engine = Engine(
    resources=[
        {"id": "crisis", "role": "crisis-line", "name": "Samaritans", "contact": "Call 116 123"},
        {"id": "999", "role": "emergency", "name": "Emergency services", "contact": "Call 999", "levels": ["urgent"]},
        {
            "id": "register",
            "role": "licensing-board",
            "name": "Your therapist's professional body",
            "contact": "See its register",
            "levels": ["serious"],
        },
        {
            "id": "refuge",
            "role": "domestic-violence",
            "name": "National Domestic Abuse Helpline",
            "contact": "Call 0808 2000 247",
        },
        {"id": "rape-crisis", "role": "sexual-assault", "name": "Rape Crisis", "contact": "Call 0808 500 2222"},
    ]
)


def handle_request(body: str) -> tuple[int, str]:
    """What an HTTP handler would do with a JSON request body: 200 with guidance, or 422."""
    try:
        guidance = engine.explain(body)
    except ScenarioError as error:
        problems = [{"where": p.where, "message": p.message} for p in error.problems]
        return 422, json.dumps({"problems": problems})
    return 200, guidance.model_dump_json()


def main() -> None:
    status, body = handle_request(
        json.dumps(
            {
                "id": "user-42",
                "observations": [
                    {"signal": "temporary_misunderstanding", "raised": True, "response": "repaired"},
                    {"signal": "therapist_welcomes_feedback"},
                ],
            }
        )
    )
    answer = json.loads(body)
    print(status, answer["level"], "-", answer["summary"])

    status, body = handle_request('{"observations": [{"signal": "feeling_chalenged_in_session"}]}')
    print(status, json.loads(body)["problems"][0]["message"])

    # Many requests at once: the Engine serialises its calls into durable_rules.
    requests = [{"observations": [{"signal": "client_self_harm_risk"}]}] * 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        levels = {g.level for g in pool.map(engine.explain, requests)}
    assert levels == {Level.urgent}
    urgent = engine.explain(requests[0])
    print(urgent.level.value, "- show first:", ", ".join(r.name for r in urgent.resources))
    print(urgent.to_markdown().splitlines()[0])


if __name__ == "__main__":
    main()
