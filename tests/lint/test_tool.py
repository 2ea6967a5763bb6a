"""The tool around the linter: the pre-commit hook, which files are read, configuration
errors, --fix, --list-checks and --explain, the summary line, and the writers' guide's
sessions about them. Everything goes through the installed ``therapy-signals`` script."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from therapy_signals.errors import LintConfigError
from therapy_signals.lint import CHECKS, load_config
from therapy_signals.lint._files import Exclude
from therapy_signals.lint._mdx import prepare

from ..conftest import ROOT
from ..doc_sessions import pattern, sessions

SCRIPT = Path(sys.executable).parent / "therapy-signals"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
GUIDE = ROOT / "docs" / "writers.md"
BAD = "## Everyday challenges that are not red flags\n\n- Your therapist asks you for a loan\n"
CLEAN = "# Therapy\n\nTherapy can help.\n"
CONCERN = "framing.concern-listed-as-normal"


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(SCRIPT), "lint", *args], input=stdin, capture_output=True, timeout=120, cwd=cwd or ROOT)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def linted(done: subprocess.CompletedProcess[str]) -> set[str]:
    """The files a text run reported findings for."""
    return {line.split(":")[0] for line in done.stdout.splitlines()}


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def one_line(text: str) -> str:
    """Output with rich's panel borders and wrapping taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


# -- the pre-commit hook ----------------------------------------------------------------


def _hook_repo(target: Path) -> str:
    """A git repository holding this checkout's package as it is now, committed; its HEAD."""
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, target / name)
    for folder in ("src", "rules"):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "the working tree")
    return _git(target, "rev-parse", "HEAD").strip()


def _git(cwd: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=60
    ).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_the_pre_commit_hook_installs_and_blocks_a_bad_article(tmp_path: Path) -> None:
    """pre-commit builds the hook's environment the way a user's machine does: a clone of
    the repository, ``pip install . .[lint]`` into a new virtualenv (about 11 s in all here, from
    the pip caches and indexes the machine has), then runs the hook on the staged files."""
    hook_repo, work = tmp_path / "hook", tmp_path / "work"
    hook_repo.mkdir()
    work.mkdir()
    rev = _hook_repo(hook_repo)
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: therapy-signals-lint\n"
    )
    tree(work, {"clean.md": CLEAN, "bad.md": BAD, ".therapy-signals.toml": '[lint]\nexclude = ["drafts/**"]\n'})
    tree(work, {"drafts/bad.md": BAD})
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "VIRTUAL_ENV"))}
    env |= {
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_PROGRESS_BAR": "off",
        "PRE_COMMIT_COLOR": "never",
    }

    def pre_commit(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), "run", "--files", *files],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    clean = pre_commit("clean.md")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
    bad = pre_commit("clean.md", "bad.md")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"bad.md:3:3: error {CONCERN}" in bad.stdout
    # pre-commit names each staged file; --force-exclude (the hook's args) keeps the
    # configuration's exclude in force for them.
    excluded = pre_commit("drafts/bad.md")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr
    # The guide's widening for MDX and the rest, in a second configuration (the same
    # environment serves it: same repository, rev and dependencies).
    (widened,) = [b for b in re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M) if "types: [text]" in b]
    (work / "widened.yaml").write_text(f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n{widened}")
    (work / "page.mdx").write_text(
        "import Patient from './patient'\n\n<Note>\n  " + BAD.replace("\n", "\n  ") + "</Note>\n"
    )
    _git(work, "add", "-A")
    mdx = subprocess.run(
        [str(PRE_COMMIT), "run", "-c", "widened.yaml", "--files", "page.mdx", "clean.md"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert mdx.returncode == 1 and f"page.mdx:6:5: error {CONCERN}" in mdx.stdout, mdx.stdout + mdx.stderr
    assert "terms.preferred" not in mdx.stdout


def test_the_hook_manifest_gets_the_lint_extra_and_every_markdown_name() -> None:
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["additional_dependencies"] == [".[lint]"]
    assert hook["args"] == ["--force-exclude"]


# -- which files are read ----------------------------------------------------------------


def test_exclude_globs_from_the_configuration_are_relative_to_its_folder(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "article.md": BAD,
            "drafts/a.md": BAD,
            "drafts/deep/b.md": BAD,
            "notes/c.draft.md": BAD,
            "sub/drafts/d.md": BAD,
            "old/e.md": BAD,
            ".therapy-signals.toml": '[lint]\nexclude = ["drafts/**", "*.draft.md"]\n',
        },
    )
    # "drafts/**" is anchored at the configuration's folder: sub/drafts is not excluded.
    assert linted(run(".", cwd=tmp_path)) == {"article.md", "sub/drafts/d.md", "old/e.md"}
    # From a subfolder, the globs are still the configuration file's.
    assert linted(run(".", cwd=tmp_path / "sub")) == {"drafts/d.md"}
    # --exclude is relative to the current folder and repeatable; a name glob matches any depth.
    assert linted(run(".", "--exclude", "old", "--exclude", "sub/**", cwd=tmp_path)) == {"article.md"}
    assert linted(run(".", "--exclude", "**/drafts/", cwd=tmp_path)) == {"article.md", "old/e.md"}
    outside = run(".", "--exclude", "../x/**", cwd=tmp_path)
    assert outside.returncode == 2 and "error: --exclude: '../x/**' climbs out of its folder" in outside.stderr


def test_a_named_file_is_linted_even_if_excluded_unless_force_exclude(tmp_path: Path) -> None:
    tree(tmp_path, {"drafts/a.md": BAD, "pyproject.toml": '[tool.therapy-signals.lint]\nexclude = ["drafts/"]\n'})
    assert run("drafts/a.md", cwd=tmp_path).returncode == 1
    # What a folder holds follows the globs, even when the folder is named: only a file
    # named is linted whatever the globs say.
    walked = run("drafts", cwd=tmp_path)
    assert (walked.returncode, walked.stdout) == (0, "")
    assert walked.stderr == "nothing to lint: 1 path excluded by the exclude globs (name a file to lint it anyway)\n"
    done = run("drafts/a.md", "--force-exclude", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert (
        done.stderr
        == "nothing to lint: 1 path excluded by the exclude globs (--force-exclude applies them to named files)\n"
    )


def test_vendored_and_hidden_folders_are_not_walked_but_can_be_named(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "docs/article.md": BAD,
            "node_modules/pkg/README.md": BAD,
            "docs/node_modules/x/README.md": BAD,
            "venv/lib/NOTES.md": BAD,
            "__pycache__/x.md": BAD,
            "vendor/lib/README.md": BAD,
            ".github/ISSUE_TEMPLATE/bug.md": BAD,
            ".hidden.md": BAD,
            "docs/.draft.md": BAD,
        },
    )
    assert linted(run(".", cwd=tmp_path)) == {"docs/article.md"}
    assert linted(run("node_modules/pkg", cwd=tmp_path)) == {"node_modules/pkg/README.md"}
    assert linted(run(".github", cwd=tmp_path)) == {".github/ISSUE_TEMPLATE/bug.md"}


def test_every_markdown_name_is_found_in_a_folder(tmp_path: Path) -> None:
    names = ["a.md", "b.markdown", "c.mdown", "d.mkd", "e.mkdn", "f.mdwn", "g.mdx", "h.qmd", "i.Rmd", "J.MD"]
    tree(tmp_path, {name: BAD for name in [*names, "k.txt", "l.html"]})
    assert linted(run(".", cwd=tmp_path)) == set(names)


def test_glob_semantics() -> None:
    base = Path("/project")

    def excluded(pattern: str, path: str, folder: bool = False) -> bool:
        return Exclude(pattern, base).matches(str(base / path), folder)

    assert excluded("drafts/**", "drafts/a/b/c.md") and not excluded("drafts/**", "x/drafts/a.md")
    assert excluded("**/drafts/**", "x/y/drafts/a.md") and excluded("drafts", "x/drafts/a.md")
    assert excluded("*.draft.md", "a/b/c.draft.md") and not excluded("*.draft.md", "a/draft.md")
    assert excluded("docs/*.md", "docs/a.md") and not excluded("docs/*.md", "docs/sub/a.md")
    assert excluded("docs/[ab].md", "docs/a.md") and not excluded("docs/[!ab].md", "docs/a.md")
    assert excluded("build/", "build/a.md") and not excluded("build/", "build")  # folders only
    assert excluded("build/", "build", folder=True)
    assert not excluded("drafts/**", "/elsewhere/drafts/a.md")  # outside the base


# -- MDX, Quarto, R Markdown -------------------------------------------------------------

MDX = """\
import { Callout } from "./callout"
import Patient from "./patient"

export const meta = { title: "It's fine if your therapist asks you for a loan" }

# Loans {meta.title}

<Callout type="warning" title="It's fine if your therapist asks you for a loan">
    ## Everyday challenges that are not red flags

    - Your therapist asks you for a loan
</Callout>

{/* therapy-signals-disable-next-line terms */}
A patient deserves better. <Badge label="a patient" />

```jsx
<Callout>{loan}</Callout>
```
"""


def test_mdx_jsx_and_esm_are_not_prose_but_the_prose_inside_components_is(tmp_path: Path) -> None:
    (tmp_path / "page.mdx").write_text(MDX)
    done = run("page.mdx", "--format", "json", cwd=tmp_path)
    found = [(f["line"], f["column"], f["check"]) for f in json.loads(done.stdout)["findings"]]
    # The list inside the component, at its column in the file (the item's indent kept):
    # no finding from the import of Patient, the export's or the attributes' sentence, nor
    # the suppressed line.
    assert found == [(11, 7, CONCERN), (11, 22, "safety.no-next-steps")]
    assert MDX.splitlines()[10][6:].startswith("Your therapist")
    # The same text read as Markdown: the component's list is an indented code block, and the
    # import and the export are sentences. That is what MDX handling is for.
    (tmp_path / "page.md").write_text(MDX)
    as_markdown = {
        (f["line"], f["check"]) for f in json.loads(run("page.md", "-f", "json", cwd=tmp_path).stdout)["findings"]
    }
    assert (11, CONCERN) not in as_markdown and (2, "terms.preferred") in as_markdown


def test_the_python_api_reads_mdx_by_its_name_as_the_command_does(tmp_path: Path) -> None:
    from therapy_signals.lint import Linter

    (tmp_path / "page.mdx").write_text(MDX)
    linter = Linter()
    from_file = [(f.line, f.column, f.check) for f in linter.lint_file(tmp_path / "page.mdx")]
    from_text = [(f.line, f.column, f.check) for f in linter.lint_text(MDX, "page.mdx")]
    assert from_file == from_text == [(11, 7, CONCERN), (11, 22, "safety.no-next-steps")]
    assert (2, "terms.preferred") in {(f.line, f.check) for f in linter.lint_text(MDX, "page.md")}


def test_mdx_on_standard_input_takes_its_dialect_from_the_stdin_filename() -> None:
    done = run("-", "--stdin-filename", "page.mdx", "-f", "json", stdin=MDX.encode())
    first = json.loads(done.stdout)["findings"][0]
    assert (first["line"], first["column"], first["check"]) == (11, 7, CONCERN)


def test_quarto_divs_and_chunks_are_not_prose(tmp_path: Path) -> None:
    text = "::: {.callout-note title='A patient'}\n" + BAD + ":::\n\n```{r}\npatient <- 1\n```\n"
    (tmp_path / "a.qmd").write_text(text)
    found = [(f["line"], f["check"]) for f in json.loads(run("a.qmd", "-f", "json", cwd=tmp_path).stdout)["findings"]]
    assert found == [(4, CONCERN), (4, "safety.no-next-steps")]


@pytest.mark.parametrize(
    "piece", ["<", "{", "<a ", '<a b="', "{/* therapy-signals-x ", "`", "<A>\n  x\n", "import x\n"]
)
def test_mdx_masking_is_linear_on_hostile_text(piece: str) -> None:
    """200 KB of each shape: quadratic work would take minutes (no timed assertion)."""
    text = piece * (200_000 // len(piece))
    masked = prepare(text, "mdx")
    assert len(masked.text.split("\n")) == len(text.split("\n")) == len(masked.shifts)


# -- configuration errors and "did you mean" -----------------------------------------------

BROKEN = """\
[lint]
fail_on = "error"
disable = ["framing.concern", "terms"]
fail-on = "warn"
max-bytes = 0
exclude = ["../elsewhere/**", ""]
rules = 3

[lint.levels]
"safety.no-next-step" = "error"
"terms" = "loud"

[lint.terms]
"" = "x"
"""


def test_every_configuration_error_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / ".therapy-signals.toml"
    path.write_text(BROKEN)
    with pytest.raises(LintConfigError) as raised:
        load_config(path)
    head, *lines = str(raised.value).splitlines()
    assert head == f"{path}: 10 problems in the configuration:"
    expected = [
        ("unknown key 'fail_on'; did you mean 'fail-on'?", 2),
        ("disable: 'framing.concern' is no check; did you mean framing.concern-listed-as-normal", 3),
        ("fail-on = 'warn'; did you mean 'warning'? use one of suggestion, warning, error or none", 4),
        ("max-bytes = 0; use a whole number of bytes", 5),
        ("exclude: '../elsewhere/**' climbs out of its folder", 6),
        ("exclude: '' matches nothing", 6),
        ("rules = 3; rules must be a folder path", 7),
        ("levels: 'safety.no-next-step' is no check; did you mean safety.no-next-steps?", 10),
        ("levels.terms = 'loud'; use one of suggestion, warning, error or off", 11),
        ("terms: '' = 'x'; terms must be a table", 14),
    ]
    assert len(lines) == len(expected)
    for line, (message, number) in zip(lines, expected, strict=True):
        assert line.startswith(f"  {path}: {message}") and line.endswith(f"(line {number})"), line
    done = run("x.md", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count(str(path)) == 11 and "Traceback" not in done.stderr


def test_one_problem_is_one_line_and_pyproject_lines_count_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.therapy-signals.lint]\ndisable = ["terms.prefered"]\n')
    with pytest.raises(LintConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: disable: 'terms.prefered' is no check; did you mean terms.preferred? (line 5)"


def test_did_you_mean_on_a_check_name_everywhere(tmp_path: Path) -> None:
    article = tree(tmp_path, {"a.md": CLEAN})
    (tmp_path / "levels.toml").write_text('[lint.levels]\n"statement.normalises" = "off"\n')
    (tmp_path / ".therapy-signals.toml").write_text('[lint]\ndisable = ["safety.no-next-step"]\n')
    config = run("a.md", cwd=article)
    assert config.returncode == 2 and "did you mean safety.no-next-steps?" in config.stderr
    levels = run("a.md", "--config", "levels.toml", cwd=article)
    assert levels.returncode == 2 and "did you mean statement.normalises-concern" in levels.stderr
    option = run("a.md", "--no-config", "--disable", "terms.prefered", cwd=article)
    assert option.returncode == 2 and "did you mean terms.preferred?" in one_line(option.stderr)
    explain = run("--explain", "encoding.mojibak")
    assert (
        explain.returncode == 2 and "'encoding.mojibak' is no check; did you mean encoding.mojibake?" in explain.stderr
    )
    (tmp_path / "b.md").write_text("<!-- therapy-signals-disable terms.prefered -->\nA patient.\n")
    comment = run("b.md", "--no-config", cwd=tmp_path)
    assert "lint.unknown-check" in comment.stdout and "did you mean terms.preferred?" in comment.stdout
    group = run("a.md", "--no-config", "--disable", "framng", cwd=article)
    assert group.returncode == 2 and "did you mean framing?" in one_line(group.stderr)


# -- --fix --------------------------------------------------------------------------------

# UTF-8 read as Windows-1252 (ftfy restores it exactly), twice over, and the Thai code
# page's U+0E42 (the fix is read from the context); a term whose fix is only a suggestion.
DAMAGED = "It\u00e2\u20ac\u2122s about the therapist\u0e42client bond.\r\nA patient, caf\u00c3\u00a9 and \u00c3\u00a2\u00e2\u201a\u00ac\u00e2\u201e\u00a2.\r\nLast line"
REPAIRED = "It\u2019s about the therapist\u2013client bond.\r\nA patient, caf\u00e9 and \u2019.\r\nLast line"


def test_fix_repairs_encoding_damage_byte_exact_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf" + DAMAGED.encode())  # a byte order mark and CRLF, kept
    path.chmod(0o640)
    done = run("--fix", "a.md", cwd=tmp_path)
    assert path.read_bytes() == b"\xef\xbb\xbf" + REPAIRED.encode()
    assert "fixed 4 issues in a.md" in done.stderr
    # What is left is reported: the preferred term is a suggestion, never applied.
    assert done.returncode == 0 and done.stdout.splitlines() == [
        'a.md:2:3: suggestion terms.preferred prefer "client" to "patient" (the preferred term for "patient" is "client")'
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]  # no temporary file left
    before = path.stat().st_mtime_ns
    again = run("--fix", "a.md", cwd=tmp_path)
    assert "fixed" not in again.stderr and path.stat().st_mtime_ns == before


def test_fix_leaves_a_file_without_fixes_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text(BAD + "A patient.\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    done = run("--fix", "bad.md", cwd=tmp_path)
    assert done.returncode == 1 and CONCERN in done.stdout and "fixed" not in done.stderr
    assert path.read_text() == BAD + "A patient.\n" and path.stat().st_mtime_ns == 1_000_000_000


def test_fix_follows_a_link_and_works_in_mdx_components(tmp_path: Path) -> None:
    text = '<Note title="x">\n    It\u00e2\u20ac\u2122s <Badge /> caf\u00c3\u00a9.\n</Note>\n'
    (tmp_path / "real.mdx").write_text(text)
    (tmp_path / "link.mdx").symlink_to("real.mdx")
    done = run("--fix", "link.mdx", cwd=tmp_path)
    assert "fixed 2 issues in link.mdx" in done.stderr and done.returncode == 0
    assert (tmp_path / "link.mdx").is_symlink()
    assert (tmp_path / "real.mdx").read_text() == text.replace("\u00e2\u20ac\u2122", "\u2019").replace(
        "\u00c3\u00a9", "\u00e9"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_fix_leaves_a_read_only_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(DAMAGED)
    path.chmod(0o444)
    done = run("--fix", "a.md", cwd=tmp_path)
    assert done.returncode == 2 and "a.md: read-only; not fixed" in done.stderr
    assert path.read_text() == DAMAGED


def test_fix_refuses_standard_input(tmp_path: Path) -> None:
    done = run("--fix", "-", stdin=DAMAGED.encode(), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert "--fix rewrites files in place and cannot fix standard input" in done.stderr


# -- --list-checks, --explain, the summary, usage ------------------------------------------


def test_list_checks() -> None:
    done = run("--list-checks")
    assert done.returncode == 0
    rows = [line.split(None, 2) for line in done.stdout.splitlines()]
    assert rows == [[c.id, c.level.value, c.title] for c in CHECKS.values()]
    data = json.loads(run("--list-checks", "--format", "json").stdout)
    assert [(c["id"], c["level"], c["title"]) for c in data["checks"]] == [
        (c.id, c.level, c.title) for c in CHECKS.values()
    ]
    assert data["checks"][0]["help_uri"].startswith("https://")
    assert run("--list-checks", "--format", "sarif").returncode == 2
    assert run("--list-checks", "README.md").returncode == 2


def test_explain_a_check_and_a_group() -> None:
    check = CHECKS["safety.no-next-steps"]
    done = run("--explain", check.id)
    assert done.returncode == 0
    assert done.stdout == f"{check.id} ({check.level.value})\n{check.title}.\n\n{check.description}\n{check.help_uri}\n"
    group = run("--explain", "framing").stdout
    ids = [line.split()[0] for line in group.splitlines() if re.match(r"\w+\.[\w-]+ \(", line)]
    assert ids == ["framing.concern-listed-as-normal", "framing.normal-listed-as-warning"]


def test_the_summary_line_and_usage_errors(tmp_path: Path) -> None:
    tree(tmp_path, {"a.md": CLEAN, "b.md": CLEAN})
    done = run("a.md", "b.md", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "no findings in 2 files\n")
    assert run("a.md", "-f", "json", cwd=tmp_path).stderr == ""
    nothing = run(cwd=tmp_path)
    assert nothing.returncode == 2 and "no files to lint" in nothing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no Markdown files found" in run("empty", cwd=tmp_path).stderr


# -- the guide's sessions -----------------------------------------------------------------


def _my_sections() -> str:
    """The guide's sections about running the linter, configuring it, CI and pre-commit."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = re.split(r"^(?=## )", text, flags=re.M)
    keep = ("## Running it", "## Configuration", "## In CI and pre-commit")
    return "".join(part for part in parts if part.startswith(keep))


def test_the_guide_sessions_about_the_tool_give_the_output_shown(tmp_path: Path) -> None:
    page = tmp_path / "sections.md"
    page.write_text(_my_sections(), encoding="utf-8")
    steps = sessions(page)
    assert len(steps) >= 4
    work = tmp_path / "work"
    work.mkdir()
    for command, shown in steps:
        runnable = re.sub(r"(^|; |\| )therapy-signals ", rf"\1{SCRIPT} ", command)
        done = subprocess.run(
            ["bash", "-c", runnable], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120
        )
        assert "Traceback" not in done.stdout
        assert pattern(shown).search(done.stdout), (
            f"$ {command}\n--- shown:\n" + "\n".join(shown) + f"\n--- got:\n{done.stdout}"
        )


def test_the_guide_lists_every_option() -> None:
    sections = _my_sections()
    for option in ("--exclude", "--force-exclude", "--fix", "--list-checks", "--explain", "exclude ="):
        assert option in sections


def test_lint_applies_packs_and_says_when_rules_names_one(tmp_path: Path) -> None:
    """A pack's phrasing is only known with --pack; a pack given as --rules gets a hint, not "rulebook.yaml: missing"."""
    pack = tree(
        tmp_path / "clinic",
        {
            "pack.yaml": "name: clinic\nversion: 1.0.0\n",
            "signals.yaml": "signals:\n  - id: therapist_sells_crystals\n    category: boundaries\n"
            "    label: your therapist selling you healing crystals\n"
            "    phrasings: [your therapist sells you healing crystals]\n",
            "clinic.yaml": "rules:\n  - id: boundaries.crystals\n    title: Your therapist sells you crystals\n"
            "    category: boundaries\n    level: concern\n    when: {signal: therapist_sells_crystals}\n"
            "    normal_when: Never in sessions.\n    explain: boundaries/crystals.j2\n"
            "    references: [guide#everyday-challenges]\n",
            "templates/en/boundaries/crystals.j2": "Selling to clients mixes roles.\n",
        },
    )
    article = tree(
        tmp_path,
        {"a.md": "## Everyday challenges that are not red flags\n\n- Your therapist sells you healing crystals\n"},
    )
    path = str(article / "a.md")
    assert CONCERN not in run(path, "--no-config").stdout
    done = run(path, "--no-config", "--pack", str(pack), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert CONCERN in {f["check"] for f in report["findings"]}
    assert report["rulebook"]["name"] == "therapy-signals-core+clinic"
    hinted = run(path, "--no-config", "--rules", str(pack))
    assert hinted.returncode == 2 and "this is a rule pack" in hinted.stderr and "use --pack" in hinted.stderr


def test_brackets_in_names_are_printed_as_given(tmp_path: Path) -> None:
    article = tree(tmp_path, {"notes[draft].md": BAD})
    done = run(str(article / "notes[draft].md"), "--no-config")
    assert done.returncode == 1 and f"{article / 'notes[draft].md'}:" in done.stdout
    missing = run(str(tmp_path / "gone[x].md"), "--no-config")
    assert missing.returncode == 2 and "gone[x].md" in missing.stderr
