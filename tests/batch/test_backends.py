"""Batches on the columnar backend write exactly what durable_rules writes: the same bytes in
every output format, the same errors file, whatever the worker count; the manifest records
the backend, and --verify re-runs a sample on the other backend and fails on a difference."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from therapy_signals import RuleBook, Scenario
from therapy_signals.batch import run_batch
from therapy_signals.engine._columnar import ColumnarBackend, Resolved
from therapy_signals.errors import BatchError
from therapy_signals.strategies import scenarios

from .conftest import BAD_LINES, simple_scenarios


def _write(path: Path, given: list[Scenario], bad: list[str], seed: int) -> Path:
    lines = [s.model_dump_json(exclude_none=True) for s in given]
    rng = random.Random(seed)
    for line in bad:
        lines.insert(rng.randrange(len(lines) + 1), line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(source: Path, out: Path, backend: str, **options: object) -> dict[str, object]:
    run = run_batch(source, out, backend=backend, **options)  # type: ignore[arg-type]
    manifest = run.complete()
    assert manifest is not None
    return manifest


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_both_backends_write_the_same_bytes(tmp_path: Path, book: RuleBook, suffix: str) -> None:
    source = _write(tmp_path / "in.jsonl", simple_scenarios(book, 300), BAD_LINES, seed=1)
    outputs = {}
    for backend in ("durable", "columnar"):
        out = tmp_path / backend / f"out.{suffix}"
        manifest = _run(source, out, backend, chunk_size=64)
        assert manifest["options"]["backend"] == backend  # type: ignore[index]
        outputs[backend] = (out.read_bytes(), Path(f"{out}.errors.jsonl").read_bytes())
    assert outputs["columnar"] == outputs["durable"]
    assert outputs["columnar"][1].count(b"\n") == len(BAD_LINES)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    given=st.lists(scenarios(max_observations=6), min_size=1, max_size=60),
    bad=st.lists(st.sampled_from(BAD_LINES), max_size=4),
    seed=st.integers(0, 1000),
)
def test_generated_batches_agree(tmp_path: Path, given: list[Scenario], bad: list[str], seed: int) -> None:
    folder = tmp_path / f"g{seed}-{len(given)}-{len(bad)}"
    folder.mkdir(exist_ok=True)
    source = _write(folder / "in.jsonl", given, bad, seed)
    written = {}
    for backend in ("durable", "columnar"):
        out = folder / f"{backend}.jsonl"
        _run(source, out, backend, chunk_size=7)
        written[backend] = (out.read_bytes(), Path(f"{out}.errors.jsonl").read_bytes())
    assert written["columnar"] == written["durable"]


def test_two_workers_write_what_one_writes(tmp_path: Path, book: RuleBook) -> None:
    source = _write(tmp_path / "in.jsonl", simple_scenarios(book, 400), BAD_LINES, seed=2)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    _run(source, one, "columnar", chunk_size=50)
    _run(source, two, "columnar", chunk_size=50, workers=2)
    assert one.read_bytes() == two.read_bytes()


def test_verify_is_clean_and_recorded(tmp_path: Path, book: RuleBook) -> None:
    source = _write(tmp_path / "in.jsonl", simple_scenarios(book, 200), [], seed=3)
    manifest = run_batch(source, tmp_path / "out.jsonl", backend="columnar", verify=50, verify_seed=11).complete()
    assert manifest is not None
    assert manifest["verify"] == {"rows": 50, "backend": "durable", "seed": 11, "differences": 0}


def test_verify_fails_loudly_on_a_difference(tmp_path: Path, book: RuleBook, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection: the columnar backend drops every scenario's last finding.
    resolve = ColumnarBackend.resolve

    def broken(self: ColumnarBackend, evaluation: object, **options: bool) -> Resolved:
        found = resolve(self, evaluation, **options)  # type: ignore[arg-type]
        last = len(found.kept) - 1 - found.kept[::-1].argmax(axis=0)
        found.kept[last, range(found.kept.shape[1])] = False
        return found

    monkeypatch.setattr(ColumnarBackend, "resolve", broken)
    source = _write(tmp_path / "in.jsonl", simple_scenarios(book, 100), [], seed=4)
    out = tmp_path / "out.jsonl"
    with pytest.raises(BatchError, match=r"--verify: \d+ of 20 rows differ between the columnar and durable backends"):
        run_batch(source, out, backend="columnar", verify=20).complete()
    manifest = json.loads(Path(f"{out}.manifest.json").read_text())
    assert manifest["status"] == "failed"


def test_a_pack_batch_keeps_the_floor_on_both_backends(tmp_path: Path, book: RuleBook) -> None:
    # The pack narrows the self-harm rule away; beside a safety signal the base's answer
    # comes back, on columns as on durable_rules (the floor merges verdicts there).
    from ..test_packs import make_pack
    from ..test_safety_floor import _milder, _narrowed, _rule_yaml

    rules = [_narrowed(book, "safety.self-harm-risk"), _milder("client_self_harm_risk", "safety.talk-it-over")]
    pack = make_pack(tmp_path / "hostile", {"hostile.yaml": _rule_yaml(rules)})
    packed = RuleBook.load(None, packs=[pack])
    given = simple_scenarios(book, 120) + [
        Scenario.model_validate({"id": f"harm{i}", "observations": [{"signal": "client_self_harm_risk"}]})
        for i in range(3)
    ]
    source = _write(tmp_path / "in.jsonl", given, BAD_LINES[:2], seed=5)
    written = {}
    for backend in ("durable", "columnar"):
        out = tmp_path / f"{backend}.jsonl"
        _run(source, out, backend, rules=packed)
        written[backend] = out.read_bytes()
    assert written["columnar"] == written["durable"]
    harm = [json.loads(line) for line in written["columnar"].splitlines() if b'"harm' in line]
    assert [row["level"] for row in harm] == ["urgent"] * 3
