"""Scenario designs: every generated scenario is valid, factorial counts are exact, seeds reproduce."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from therapy_signals import Category, Engine, RuleBook, Scenario
from therapy_signals.batch import DesignError, Factorial, RandomDesign, generate, parse_signals, parse_vary
from therapy_signals.batch._generate import VARIABLE_FIELDS
from therapy_signals.model import Response

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
# Small enough that a factorial design stays a few thousand scenarios.
FIELD_CHOICES = ["frequency", "raised", "response", "setting", "sessions", "months_after_ending", "where"]


@st.composite
def factorials(draw: st.DrawFn, book: RuleBook) -> Factorial:
    signals = draw(st.lists(st.sampled_from(sorted(book.signals)), min_size=1, max_size=4, unique=True))
    size = draw(st.integers(1, min(2, len(signals))))
    fields = draw(st.lists(st.sampled_from(FIELD_CHOICES), max_size=2, unique=True))
    specs = []
    for name in fields:
        if draw(st.booleans()):
            specs.append(name)
            continue
        spec = VARIABLE_FIELDS[name]
        words = list(spec.values) if spec.values else (["true", "false"] if spec.kind == "bool" else ["0", "6", "30"])
        if name != "setting":
            words.append("unknown")
        specs.append(f"{name}=" + ",".join(draw(st.lists(st.sampled_from(words), min_size=1, unique=True))))
    try:
        return Factorial(book, signals=signals, max_observations=size, vary=parse_vary(book, specs))
    except DesignError as error:  # raised=false with only responses: refused, as it should be
        assert "combine into no valid observation" in str(error)
        reject()


@settings(max_examples=40, suppress_health_check=FIXTURES, deadline=None)
@given(data=st.data())
def test_every_factorial_scenario_is_valid_and_counted(engine: Engine, book: RuleBook, data: st.DataObject) -> None:
    design = data.draw(factorials(book))
    made = list(design)
    assert len(made) == design.count()
    assert len({s.id for s in made}) == len(made)
    assert len({s.model_dump_json(exclude={"id"}) for s in made}) == len(made)  # no scenario twice
    for scenario in made:
        engine.validate(scenario)  # raises ScenarioError if not


@settings(max_examples=40, suppress_health_check=FIXTURES, deadline=None)
@given(
    n=st.integers(0, 40),
    seed=st.integers(0, 2**32),
    low=st.integers(1, 3),
    extra=st.integers(0, 4),
    given_share=st.floats(0, 1),
    categories=st.lists(st.sampled_from(list(Category)), min_size=1, unique=True),
)
def test_every_random_scenario_is_valid(
    engine: Engine,
    book: RuleBook,
    n: int,
    seed: int,
    low: int,
    extra: int,
    given_share: float,
    categories: list[Category],
) -> None:
    signals = parse_signals(book, [c.value for c in categories])
    if len(signals) < low:
        return
    design = RandomDesign(
        book, n=n, seed=seed, signals=signals, min_observations=low, max_observations=low + extra, given=given_share
    )
    made = list(design)
    assert len(made) == n
    assert len({s.id for s in made}) == n
    for scenario in made:
        engine.validate(scenario)
        assert low <= len(scenario.observations) <= low + extra
        assert {o.signal for o in scenario.observations} <= set(signals)
    assert made == list(design)  # the same seed gives the same scenarios


def test_weight_rare_evens_out_the_levels(engine: Engine, book: RuleBook) -> None:
    plain = Counter(engine.explain(s, render=False).level for s in RandomDesign(book, n=150, seed=5))
    weighted_design = RandomDesign(book, n=150, seed=5, weight_rare=True, engine=engine)
    weighted = Counter(engine.explain(s, render=False).level for s in weighted_design)
    assert min(weighted.values()) > min(plain.values())
    assert len(weighted) >= len(plain)
    recorded = weighted_design.describe()["levels"]  # what the manifest says it drew
    assert {level: count for level, count in recorded.items() if count} == {
        level.value: count for level, count in weighted.items()
    }


def test_factorial_count_matches_the_formula(book: RuleBook) -> None:
    boundaries = parse_signals(book, "boundaries")
    design = Factorial(book, signals="boundaries", max_observations=2, vary=parse_vary(book, ["frequency=once,often"]))
    n = len(boundaries)
    assert design.count() == n * 2 + math.comb(n, 2) * 2 * 2


def test_varying_raised_and_response_skips_the_impossible_pair(book: RuleBook) -> None:
    signal = sorted(book.signals)[0]
    design = Factorial(book, signals=[signal], max_observations=1, vary=parse_vary(book, ["raised", "response"]))
    made = list(design)
    # raised: unknown, true, false; response: unknown or a value; false with a response is impossible.
    assert len(made) == 3 * (1 + len(Response)) - len(Response)
    assert not any(o.raised is False and o.response is not None for s in made for o in s.observations)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("boundries", "'boundries' is neither a category"),
        ("", "no signals given"),
    ],
)
def test_unknown_signals_are_explained(book: RuleBook, spec: str, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        parse_signals(book, spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("colour", "cannot vary 'colour'; choose from frequency"),
        ("frequency=sometimes", "frequency: 'sometimes' is not allowed; use once, occasionally, often, constantly"),
        ("sessions=-3", "sessions: '-3' is not allowed; use a whole number from 0 to 10000"),
        ("setting=unknown", "setting cannot be unknown"),
        ("raised=yes", "raised: 'yes' is not allowed; use true, false or unknown"),
    ],
)
def test_bad_vary_specs_are_explained(book: RuleBook, spec: str, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        parse_vary(book, [spec])


def test_signals_mix_categories_and_ids(book: RuleBook) -> None:
    safety = parse_signals(book, "safety")
    one = sorted(set(book.signals) - set(safety))[0]
    mixed = parse_signals(book, f"safety, {one}")
    assert set(mixed) == {*safety, one}
    assert all(book.signals[s].category is Category.safety for s in safety)


def test_too_many_observations_for_the_signals_is_refused(book: RuleBook) -> None:
    signal = sorted(book.signals)[0]
    with pytest.raises(DesignError, match="--max-observations 2 is more than the 1 signals chosen"):
        Factorial(book, signals=[signal], max_observations=2)


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "csv"])
def test_same_seed_same_file(tmp_path: Path, book: RuleBook, suffix: str) -> None:
    first = tmp_path / f"a.{suffix}"
    second = tmp_path / f"b.{suffix}"
    manifest = generate(RandomDesign(book, n=300, seed=11), first)
    generate(RandomDesign(book, n=300, seed=11), second)
    assert first.read_bytes() == second.read_bytes()
    assert manifest["seed"] == 11 and manifest["output"]["scenarios"] == 300
    other = tmp_path / f"c.{suffix}"
    generate(RandomDesign(book, n=300, seed=12), other)
    assert other.read_bytes() != first.read_bytes()


def test_weight_rare_chooses_as_one_scenario_at_a_time_did(engine: Engine, book: RuleBook) -> None:
    # Candidates are drawn and evaluated a block at a time now; the choice must not change.
    design = RandomDesign(book, n=300, seed=9, weight_rare=True, candidates=4, engine=Engine(backend="columnar"))
    rng, seen, expected = random.Random(9), Counter[str](), []
    for number in range(1, 301):
        drawn = [Scenario.model_validate({"id": f"r{number:03d}", **design._draw(rng)}) for _ in range(4)]
        levels = [engine.explain(s, render=False).level.value for s in drawn]
        best = min(range(4), key=lambda i: (seen[levels[i]], i))
        seen[levels[best]] += 1
        expected.append(drawn[best])
    assert list(design) == expected
    assert list(RandomDesign(book, n=300, seed=9, weight_rare=True, candidates=4, engine=engine)) == expected
