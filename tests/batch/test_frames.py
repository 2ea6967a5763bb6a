"""Results as data frames (issue 14): ``read_results(...).to_pandas()``, ``.to_polars()`` and
``.to_arrow()``, with ``level`` an ordered categorical, and the documented join of the
observations' context on ``scenario_id``."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import Engine, RuleBook, Scenario
from therapy_signals.batch import Batch, read_results, write_scenarios
from therapy_signals.strategies import scenarios

from .conftest import FORMATS, simple_scenarios

DOC = Path(__file__).parents[2] / "docs" / "researchers.md"
LEVELS = ["normal", "discuss", "concern", "serious", "urgent"]


def _results(tmp_path: Path, engine: Engine, items: list[Scenario], fmt: str) -> Path:
    source = tmp_path / "s.jsonl"
    write_scenarios(items, source)
    out = tmp_path / f"results.{fmt}"
    Batch(engine=engine, chunk_size=7).run(source, out).complete()
    return out


def _with_sessions(book: RuleBook) -> list[Scenario]:
    plain = simple_scenarios(book, 20)
    return [s.model_copy(update={"sessions": 10 + k}) if k % 2 else s for k, s in enumerate(plain)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_frames_with_level_in_level_order(
    tmp_path: Path, engine: Engine, book: RuleBook, fmt: str
) -> None:
    out = _results(tmp_path, engine, _with_sessions(book), fmt)
    results = read_results(out)
    rows = list(results)
    assert list(results) == rows  # iterable again: each iteration reads the file afresh

    frame = results.to_pandas()
    assert isinstance(frame.level.dtype, pd.CategoricalDtype)
    assert frame.level.cat.ordered and list(frame.level.cat.categories) == LEVELS  # even levels no row has
    assert frame.scenario_id.tolist() == [r.scenario_id for r in rows]
    assert frame.level.astype(str).tolist() == [r.level.value for r in rows]
    assert frame.findings.tolist() == [list(r.findings) for r in rows]
    assert str(frame.sessions.dtype) == "Int32" and frame.sessions.isna().sum() == 10
    top = max(r.level for r in rows)
    assert frame.level.max() == top.value  # by level, not by the alphabet ("urgent" < "serious"? no)
    assert sorted(frame[frame.level >= "concern"].scenario_id) == sorted(
        r.scenario_id for r in rows if r.level.value in LEVELS[2:]
    )

    polars = results.to_polars()
    assert polars.schema["level"] == pl.Enum(LEVELS)
    assert polars.sort("level")["level"].to_list() == [r.level.value for r in sorted(rows, key=lambda r: r.level)]
    assert polars["scenario_id"].to_list() == frame.scenario_id.tolist()

    table = results.to_arrow()
    assert pa.types.is_dictionary(table.schema.field("level").type) and table.schema.field("level").type.ordered
    assert table["level"].chunk(0).dictionary.to_pylist() == LEVELS


def _first_at(engine: Engine, book: RuleBook, level: str) -> Scenario:
    for signal in sorted(book.signals):
        scenario = Scenario.model_validate({"id": level, "observations": [{"signal": signal}]})
        if engine.explain(scenario, render=False).level.value == level:
            return scenario
    raise AssertionError(f"no signal alone is {level}")


def test_alphabetical_order_is_not_level_order(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    """The point of the categorical: alphabetically "urgent" > "serious" > "normal" > "discuss" > "concern"."""
    items = [_first_at(engine, book, level) for level in ("urgent", "normal", "concern", "discuss")]
    frame = read_results(_results(tmp_path, engine, items, "jsonl")).to_pandas()
    assert frame.sort_values("level").scenario_id.tolist() == ["normal", "discuss", "concern", "urgent"]
    assert frame.level.min() == "normal" and frame.level.max() == "urgent"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(scenarios(max_observations=3), min_size=1, max_size=12), fmt=st.sampled_from(FORMATS))
def test_frames_hold_exactly_the_rows(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine, batch: list[Scenario], fmt: str
) -> None:
    folder = tmp_path_factory.mktemp("frames")
    results = read_results(_results(folder, engine, batch, fmt))
    rows = [r.to_row() for r in results]
    frame = results.to_pandas()
    assert len(frame) == len(rows)
    for column in ("scenario_id", "setting", "observations", "signals", "findings", "superseded", "categories"):
        assert frame[column].tolist() == [row[column] for row in rows], column
    assert [None if pd.isna(v) else v for v in frame.sessions] == [row["sessions"] for row in rows]
    assert results.to_polars().to_dicts() == rows


def test_the_data_frame_examples_of_the_page_run(tmp_path: Path, engine: Engine, book: RuleBook) -> None:
    section = DOC.read_text(encoding="utf-8").split("### Results as data frames", 1)[1].split("\n### ", 1)[0]
    codes = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(codes) == 2
    items = [s.model_copy(update={"id": None}) if k % 3 == 0 else s for k, s in enumerate(_with_sessions(book))]
    write_scenarios(items, tmp_path / "s.jsonl")
    Batch(engine=engine).run(tmp_path / "s.jsonl", tmp_path / "results.parquet").complete()
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        for code in codes:
            namespace: dict[str, object] = {}
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                exec(compile(code, "researchers.md", "exec"), namespace)
            assert printed.getvalue()
    finally:
        os.chdir(here)
    joined = namespace["joined"]
    assert isinstance(joined, pd.DataFrame)
    observations = sum(len(s.observations) for s in items)
    assert len(joined) == observations  # every observation found its result, the unnamed ones as s<n> too
    assert set(joined.scenario_id) >= {"s1", "s4"}
    assert {"frequency", "initiated_by", "response", "level", "findings"} <= set(joined.columns)


def test_an_empty_file_gives_an_empty_frame_with_every_level(tmp_path: Path, engine: Engine) -> None:
    out = tmp_path / "empty.parquet"
    Batch(engine=engine).run([], out).complete()
    frame = read_results(out).to_pandas()
    assert len(frame) == 0 and list(frame.level.cat.categories) == LEVELS
    assert read_results(out).to_polars().schema["level"] == pl.Enum(LEVELS)


def test_a_level_that_is_no_level_is_refused_not_dropped(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from therapy_signals.batch._arrow import result_schema
    from therapy_signals.errors import InputError

    row = {"scenario_id": "x", "setting": "individual", "sessions": None, "observations": 1, "signals": ["a"]}
    row |= {"level": "catastrophic", "findings": [], "superseded": [], "categories": []}
    pq.write_table(pa.Table.from_pylist([row], result_schema(False)), tmp_path / "odd.parquet")
    with pytest.raises(InputError, match=r"odd.parquet: level 'catastrophic' is not one of normal, discuss, concern"):
        read_results(tmp_path / "odd.parquet").to_pandas()
