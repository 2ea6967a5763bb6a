"""Each check through the Python API: framing, statements, next steps, encoding, terms, suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from therapy_signals.errors import DocumentError, LintConfigError
from therapy_signals.lint import CHECKS, LintConfig, Linter, LintLevel, lint_file, lint_text, load_config
from therapy_signals.lint._framing import Frame, frame_of


def checks(linter: Linter, text: str) -> list[tuple[int, str]]:
    return [(f.line, f.check) for f in linter.lint_text(text)]


@pytest.mark.parametrize(
    "heading, frame",
    [
        ("Everyday Challenges That Are Not Red Flags", Frame.normal),
        ("Healthy signs", Frame.normal),
        ("Perfectly normal:", Frame.normal),
        ("Red flags", Frame.warning),
        ("Warning signs to watch for", Frame.warning),
        ("What is not okay", Frame.warning),
        ("What healthy therapists never do", Frame.warning),
        ("Red flags you shouldn't ignore", Frame.warning),
        ("Normal challenges versus red flags", Frame.undecided),
        ("Is it normal for a therapist to hug you?", Frame.undecided),
        ("What's normal and what's not", Frame.undecided),
        ("Independence, Not Dependency", Frame.none),
        ("Examples include:", Frame.none),
    ],
)
def test_frames(heading: str, frame: Frame) -> None:
    assert frame_of(heading) is frame


def test_concern_under_a_normal_heading_names_signal_rule_and_level(linter: Linter) -> None:
    (finding,) = [
        f
        for f in linter.lint_text(
            "## Not red flags\n\n- Your therapist borrows money from you\n\nSee another therapist.\n"
        )
        if f.check == "framing.concern-listed-as-normal"
    ]
    assert (finding.line, finding.column, finding.level) == (3, 3, LintLevel.error)
    assert finding.signal == "business_or_loan" and finding.rule == "boundaries.business-or-loan"
    assert "business_or_loan" in finding.message and "boundaries.business-or-loan" in finding.message
    assert "serious" in finding.message


def test_negated_items_and_normal_items_are_not_findings(linter: Linter) -> None:
    text = "## Healthy signs\n\n- Your therapist never asks you for money\n- Feeling challenged during sessions\n"
    assert checks(linter, text) == []


def test_normal_item_under_warning_heading_is_a_warning(linter: Linter) -> None:
    text = "## Red flags\n\n- Feeling challenged during sessions\n- Feeling judged every single session\n"
    assert checks(linter, text) == [(3, "framing.normal-listed-as-warning")]


def test_nested_list_takes_its_lead_in(linter: Linter) -> None:
    text = "## Therapy\n\n- Normal, even if uncomfortable:\n  - Your therapist kisses you\n\nCall 988 in a crisis.\n"
    assert checks(linter, text) == [(4, "framing.concern-listed-as-normal")]


@pytest.mark.parametrize(
    "sentence, found",
    [
        ("It's fine if your therapist asks you for a loan.", True),
        ("It is never okay for your therapist to ask you for a loan.", False),
        ("Is it normal for a therapist to ask a client for a loan?", False),
        ("Some people think it's fine to lend a therapist money, but it isn't.", False),
        ("It's fine to say no if your therapist asks you for a loan.", False),
        ("Texting your therapist every day is completely normal.", True),
        ("Feeling challenged in sessions is completely normal.", False),
    ],
)
def test_normalising_statements(linter: Linter, sentence: str, found: bool) -> None:
    text = sentence + "\n\nIf in doubt, ask another therapist for a second opinion.\n"
    assert (("statement.normalises-concern") in {f.check for f in linter.lint_text(text)}) is found


def test_safety_without_next_steps(linter: Linter) -> None:
    text = "# Crossing the line\n\nA therapist who kisses a client breaks the most basic rule.\n"
    assert checks(linter, text) == [(3, "safety.no-next-steps")]
    assert checks(linter, text + "\nYou can report it to your state licensing board.\n") == []


def test_cp1252_mojibake_is_fixed_by_ftfy(linter: Linter) -> None:
    (finding,) = linter.lint_text("It\u00e2\u20ac\u2122s fine.\n")
    assert finding.check == "encoding.mojibake" and finding.fix is not None
    assert finding.fix.replacement == "\u2019"
    assert (finding.line, finding.column) == (1, 3)


def test_thai_text_is_not_damage(linter: Linter) -> None:
    assert checks(linter, "\u0e42\u0e23\u0e07\u0e40\u0e23\u0e35\u0e22\u0e19 means school.\n") == []


def test_terms_keep_plural_and_capital_and_skip_the_adjective(linter: Linter) -> None:
    findings = linter.lint_text("Patients matter. Be patient with yourself. A patient listener helps.\n")
    assert [(f.column, f.fix.replacement if f.fix else None) for f in findings] == [(1, "Clients")]


def test_terms_are_configurable(tmp_path: Path) -> None:
    config = LintConfig(terms={"shrink": "therapist"})
    findings = Linter(config).lint_text("My shrink and my patients.\n")
    assert [f.message for f in findings] == [
        'prefer "therapist" to "shrink" (the preferred term for "shrink" is "therapist")'
    ]


def test_suppression_comments(linter: Linter) -> None:
    text = (
        "<!-- therapy-signals-disable terms -->\nA patient.\n<!-- therapy-signals-enable terms -->\nA patient.\n"
        "<!-- therapy-signals-disable-next-line terms.preferred -->\nA patient.\nA patient.\n"
    )
    assert [f.line for f in linter.lint_text(text)] == [4, 7]


def test_code_blocks_are_not_prose(linter: Linter) -> None:
    text = "```\n## Not red flags\n- Your therapist kisses you\nA patient. It\u00e2\u20ac\u2122s\n```\n"
    assert checks(linter, text) == []


def test_config_from_pyproject_and_dedicated_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.therapy-signals.lint]\nfail-on = "warning"\ndisable = ["terms"]\n'
        '[tool.therapy-signals.lint.levels]\n"safety.no-next-steps" = "error"\n'
    )
    config = load_config(tmp_path / "pyproject.toml")
    assert config.fail_on is LintLevel.warning and "terms.preferred" in config.disable
    assert config.levels["safety.no-next-steps"] is LintLevel.error
    (tmp_path / ".therapy-signals.toml").write_text('[lint]\nfail-on = "none"\n')
    assert load_config(tmp_path / ".therapy-signals.toml").fail_on is None


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[lint]\nfail_on = "error"\n', "unknown key 'fail_on'; did you mean 'fail-on'?"),
        ('[lint]\ndisable = ["framing.concern"]\n', "is no check"),
        ('[lint]\nfail-on = "fatal"\n', "use one of suggestion, warning, error"),
        ("[lint\n", "not valid TOML"),
    ],
)
def test_config_errors_are_actionable(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / ".therapy-signals.toml"
    path.write_text(toml)
    with pytest.raises(LintConfigError, match=r"therapy-signals\.toml") as raised:
        load_config(path)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x01\x02binary", "binary file"),
        (b"caf\xe9 au lait\n", ":1:4: not UTF-8 (byte 0xe9)"),
        ("text".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(data)
    with pytest.raises(DocumentError) as raised:
        lint_file(path)
    assert message in str(raised.value)


def test_missing_file_and_empty_text() -> None:
    with pytest.raises(DocumentError, match="no such file"):
        lint_file("/nonexistent/article.md")
    assert lint_text("") == [] and lint_text("\n\n   \n") == []


def test_deep_nesting_front_matter_and_html(linter: Linter) -> None:
    deep = "## Not red flags\n\n" + "".join("  " * depth + "- level\n" for depth in range(300))
    deep += "  " * 300 + "- Your therapist kisses you\n"
    findings = linter.lint_text(deep)
    assert any(f.check == "framing.concern-listed-as-normal" and f.line == 303 for f in findings)
    front = "---\ntitle: Red flags\n---\n\n<div>\n\nA patient.\n\n</div>\n"
    assert checks(linter, front) == [(7, "terms.preferred")]


def test_every_check_is_documented() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "writers.md").read_text()
    for check in CHECKS:
        assert f"`{check}`" in guide
