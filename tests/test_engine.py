"""The Engine on durable_rules: its own Host, clean state, thread safety, resources."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, Level, explain
from therapy_signals.strategies import scenarios


def test_explain_convenience_matches_engine(engine: Engine) -> None:
    data = {"observations": [{"signal": "feeling_challenged_in_session"}]}
    g = explain(data)
    assert g.level is Level.normal
    assert g.model_dump() == engine.explain(data).model_dump()
    assert "normal" in g.to_text().lower()


def test_each_engine_owns_a_host(features_dir: object) -> None:
    import durable.lang

    first, second = Engine(features_dir), Engine(features_dir)  # type: ignore[arg-type]
    assert first._backend._host is not second._backend._host
    assert first._backend.name != second._backend.name
    assert not durable.lang._main_host  # the global host of durable.lang was never created


def test_state_is_deleted_after_each_scenario(engine: Engine) -> None:
    engine.explain({"observations": [{"signal": "business_or_loan"}]})
    last = str(next(engine._backend._sids) - 1)
    assert engine._backend.state_size(last) == 0


def test_render_off_leaves_explanations_empty(engine: Engine) -> None:
    g = engine.explain({"observations": [{"signal": "business_or_loan"}]}, render=False)
    assert all(f.explanation is None for f in g.findings)
    assert g.to_text()  # the layout copes without explanations


@settings(max_examples=5)
@given(st.lists(scenarios(max_observations=4), min_size=40, max_size=40))
def test_threads_give_the_serial_answers(engine: Engine, batch: list[object]) -> None:
    serial = [engine.explain(s).model_dump_json() for s in batch]  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda s: engine.explain(s).model_dump_json(), batch))
    assert threaded == serial


def test_resources_can_be_overridden(engine: Engine) -> None:
    custom = Engine(
        engine.rulebook,
        resources=[
            {"id": "dv-line", "role": "domestic-violence", "name": "Local DV line", "contact": "call 0800"},
            {"id": "sa-line", "role": "sexual-assault", "name": "Rape Crisis", "contact": "call 0808"},
            {
                "id": "regulator",
                "role": "licensing-board",
                "name": "Regulator",
                "contact": "hcpc",
                "levels": ["serious"],
            },
            {"id": "crisis", "role": "crisis-line", "name": "Samaritans", "contact": "call 116 123"},
            {"id": "999", "role": "emergency", "name": "Emergency", "contact": "call 999", "levels": ["urgent"]},
        ],
    )
    g = custom.explain({"observations": [{"signal": "client_self_harm_risk"}]})
    assert g.level is Level.urgent
    assert [r.name for r in g.resources] == ["Samaritans", "Emergency"]
    assert g.to_text().index("Samaritans") < g.to_text().index(g.findings[0].title)


def test_a_broken_durable_install_says_how_to_fix_it() -> None:
    code = (
        "import sys; sys.modules['durable.engine'] = None\n"
        "from therapy_signals import explain, EngineUnavailableError\n"
        "try:\n    explain({'observations': [{'signal': 'feeling_challenged_in_session'}]})\n"
        "except EngineUnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "durable_rules (the rules engine) could not be imported" in out
    assert "CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject" in out
    assert "durable-rules==2.0.28" in out


def test_locale_errors_list_what_exists(engine: Engine) -> None:
    from therapy_signals import LocaleError

    try:
        Engine(engine.rulebook, locale="xx")
    except LocaleError as error:
        assert "available: en" in str(error)
    else:
        raise AssertionError("expected LocaleError")


def test_every_fact_fires_the_guard_rule_which_is_never_reported(engine: Engine) -> None:
    """durable_rules frees uninitialised memory when a fact fires no rule: none may."""
    from therapy_signals.engine._compile import ALWAYS

    assert engine.ruleset[ALWAYS]["all"] == [{"m": {"$gte": {"sessions": 0}}}]
    fired = engine.fired({"observations": [{"signal": "feeling_challenged_in_session"}]})
    assert ALWAYS not in fired and fired
