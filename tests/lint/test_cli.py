"""``therapy-signals lint`` through the installed script: formats, exit codes, config, stdin, the hook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from ..conftest import GUIDE, ROOT

SCRIPT = Path(sys.executable).parent / "therapy-signals"
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
ARTICLES = Path(__file__).parent / "corpus" / "articles"
BAD = "## Not red flags\n\n- Your therapist asks you for a loan\n\nA patient.\n"
CLEAN = "# Therapy\n\nTherapy can help.\n"


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(SCRIPT), "lint", *args], input=stdin, capture_output=True, timeout=120, cwd=cwd or ROOT)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.md"
    path.write_text(BAD)
    return path


def test_text_output_and_exit_1(article: Path) -> None:
    done = run(str(article))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{article}:3:3: error framing.concern-listed-as-normal ")
    assert any(" suggestion terms.preferred " in line for line in lines)
    assert "1 errors, 1 warnings, 1 suggestions in 1 file" in done.stderr
    assert "Traceback" not in done.stderr


def test_clean_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "clean.md"
    path.write_text(CLEAN)
    done = run(str(path))
    assert (done.returncode, done.stdout) == (0, "")


def test_fail_on(article: Path) -> None:
    assert run(str(article), "--fail-on", "none").returncode == 0
    assert run(str(article), "--disable", "framing", "--disable", "safety").returncode == 0
    assert run(str(article), "--disable", "framing", "--disable", "safety", "--fail-on", "suggestion").returncode == 1


def test_stdin_and_json(article: Path) -> None:
    done = run("-", "--format", "json", "--stdin-filename", "draft.md", stdin=article.read_bytes())
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["files"] == ["draft.md"]
    first = data["findings"][0]
    assert (first["path"], first["line"], first["column"], first["check"]) == (
        "draft.md",
        3,
        3,
        "framing.concern-listed-as-normal",
    )
    assert first["signal"] == "business_or_loan" and first["rule_level"] == "serious"
    assert data["summary"]["error"] == 1


def test_sarif_validates_against_the_official_schema() -> None:
    files = [str(p) for p in sorted(ARTICLES.glob("*.md"))] + [str(GUIDE)]
    done = run(*files, "--format", "sarif")
    assert done.returncode == 1, done.stderr
    log = json.loads(done.stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run_ = log["runs"][0]
    ids = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert "framing.concern-listed-as-normal" in ids and "encoding.mojibake" in ids
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in run_["results"])
    assert any("fixes" in r for r in run_["results"])


def test_github_annotations(article: Path) -> None:
    done = run(str(article), "--format", "github")
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"::error file={article},line=3,col=3,")
    assert "title=framing.concern-listed-as-normal::" in first


@pytest.mark.parametrize(
    "data, message",
    [(b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"), (b"caf\xe9\n", "not UTF-8")],
)
def test_input_errors_exit_2_with_a_message(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(data)
    done = run(str(path))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_missing_file_and_usage_errors_exit_2(article: Path) -> None:
    done = run(str(article), "missing.md")
    assert done.returncode == 2 and "missing.md: no such file" in done.stderr
    assert "framing.concern-listed-as-normal" in done.stdout  # the other file was still linted
    assert run().returncode == 2
    assert run(str(article), "--format", "xml").returncode == 2
    assert run(str(article), "--disable", "nonsense").returncode == 2


def test_empty_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.md").write_text(BAD)
    done = run(str(tmp_path))
    assert done.returncode == 1
    assert "bad.md:3:3" in done.stdout and "empty.md" not in done.stdout


def test_configuration_is_found_from_the_working_folder(tmp_path: Path, article: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.therapy-signals.lint]\ndisable = ["framing", "safety"]\n')
    assert run(str(article), cwd=tmp_path).returncode == 0
    (tmp_path / ".therapy-signals.toml").write_text('[lint]\nfail-on = "suggestion"\n')
    assert run(str(article), cwd=tmp_path).returncode == 1
    assert run(str(article), "--no-config", cwd=tmp_path).returncode == 1
    (tmp_path / ".therapy-signals.toml").write_text("[lint]\nfail-on = 3\n")
    done = run(str(article), cwd=tmp_path)
    assert done.returncode == 2 and "fail-on" in done.stderr


def test_suppression_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("<!-- therapy-signals-disable -->\n" + BAD)
    assert run(str(path)).returncode == 0


def test_pre_commit_hook_runs_the_linter(article: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "therapy-signals-lint" and hook["types"] == ["markdown"]
    assert hook["entry"] == "therapy-signals lint"
    done = subprocess.run(
        [str(SCRIPT), *hook["entry"].split()[1:], str(article)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "framing.concern-listed-as-normal" in done.stdout


def test_explain_does_not_import_the_linter_dependencies() -> None:
    code = "import sys, therapy_signals.cli; print(sorted(m for m in ('markdown_it', 'ftfy', 'lemminflect') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"
