"""Every console session and every Python block on the docs pages is checked by some test.

Sessions of pages that have a test of their own are registered in ``ELSEWHERE`` (and that
test must name the page); install commands are run by ``test_the_install_commands_work``;
a session that could not run here would go in ``EXEMPT``, with its reason (none does). Every other session is
run here, as written, in a scratch folder holding what the pages refer to (``rules/``,
``examples/``, ``tests/scenarios/``, a broken ``my-rules/``), and compared with the output shown (read as
tests/doc_sessions.py says: ``…`` is text left out). Tables are kept whole, as in a pipe (decision 0026).

The Python blocks of the pages in ``PYTHON_PAGES`` run in one namespace per page, in order:
a block of ``>>>`` lines is a doctest (``...`` is text left out), any other block is run
as a script; a block of signatures such as ``explain(scenario, *, locale=None) -> Guidance``
(a bare ``*`` or a return type on every line) describes calls and is not run.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from .doc_sessions import blocks, pattern, sessions

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def _writers_tool_sections() -> set[str]:
    from .lint.test_tool import _my_sections

    page = _my_sections()
    found: set[str] = set()
    for block in re.findall(r"^```console\n(.*?)^```", page, flags=re.S | re.M):
        found.update(line[2:] for line in block.splitlines() if line.startswith("$ "))
    return found


def _is_install(command: str) -> bool:
    return bool(re.match(r"(python -m )?pip install |python -m build\b", command))


# page: (the test that runs its sessions, which of its commands that test runs)
ELSEWHERE: dict[str, tuple[str, Callable[[str], bool]]] = {
    "app-developers.md": ("tests/test_app_guide.py", lambda c: not _is_install(c)),
    "security.md": ("tests/test_security_doc.py", lambda c: True),
    "writers.md": ("tests/lint/test_tool.py", lambda c: c in _writers_tool_sections()),
    "cli.md": ("tests/test_cli_doc.py", lambda c: c.startswith("therapy-signals explain examples/")),
}

# (page, command): why it is not run by any test, as written. None today: keep it that way.
EXEMPT: dict[tuple[str, str], str] = {}

PYTHON_PAGES = ("getting-started.md", "python-api.md", "index.md")
# `name(arguments) -> Type  # comment`: a signature when it has a bare `*` or a return type, neither of
# which a call has; a block of such lines describes calls, any other block is run.
_SIGNATURE = re.compile(r"^[\w.]+\((?P<arguments>[^)]*)\)(?P<returns> -> [\w\[\], |]+?)?\s*(#.*)?$")


def _is_signature(block: str) -> bool:
    found = [_SIGNATURE.match(line) for line in block.splitlines()]
    return bool(found) and all(
        match and (match["returns"] or re.search(r"(^|, )\*(,|$)", match["arguments"])) for match in found
    )


def _all_sessions() -> list[tuple[str, str, list[str]]]:
    return [(page.name, command, shown) for page in PAGES for command, shown in sessions(page)]


def _runnable(page: str, command: str) -> str:
    """The command as a shell runs it; `echo $?` shows the exit code of the command before it."""
    if command != "echo $?":
        return command
    steps = [c for c, _ in sessions(DOCS / page)]
    before = steps[steps.index(command) - 1]
    return f"{before} >/dev/null 2>&1; echo $?"


def _runs_here(page: str, command: str) -> bool:
    if _is_install(command) or (page, command) in EXEMPT:
        return False
    elsewhere = ELSEWHERE.get(page)
    return elsewhere is None or not elsewhere[1](command)


HERE = [(page, command, shown) for page, command, shown in _all_sessions() if _runs_here(page, command)]


def test_every_session_on_every_page_is_checked_somewhere() -> None:
    all_sessions = _all_sessions()
    assert len(all_sessions) >= 40
    for page, (test, _) in ELSEWHERE.items():
        assert (DOCS / page).is_file(), f"ELSEWHERE names {page}, which is gone"
        assert page in (ROOT / test).read_text(encoding="utf-8"), f"{test} does not read {page}"
    listed = {(page, command) for page, command, _ in all_sessions}
    stale = set(EXEMPT) - listed
    assert not stale, f"EXEMPT lists sessions no page shows any more: {sorted(stale)}"
    # Each session has exactly one home: its page's own test, the install tests, EXEMPT, or here.
    for page, command, _ in all_sessions:
        homes = [
            _is_install(command),
            (page, command) in EXEMPT,
            page in ELSEWHERE and ELSEWHERE[page][1](command) and not _is_install(command),
            _runs_here(page, command),
        ]
        assert sum(homes) == 1, f"{page}: $ {command} is checked by {sum(homes)} tests, not one: {homes}"


def test_no_page_shows_a_session_outside_a_console_block() -> None:
    """A `$ command` in a text or bash block would be output no test reads."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for kind, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
            if kind != "console":
                shown = [line for line in body.splitlines() if line.startswith("$ ")]
                assert not shown, f"{page.name}: {shown[0]!r} is in a {kind or 'plain'} block; make it a console block"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with what the pages' sessions refer to, as a reader's checkout would have it.

    One folder for the module: a page's sessions run in the page's order, and a later one
    reads what an earlier one wrote (researchers.md's worked example), as for a reader.
    """
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "rules", work / "rules")  # researchers.md copies the shipped rules and edits the copy
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copytree(ROOT / "tests" / "scenarios", work / "tests" / "scenarios")
    broken = shutil.copytree(ROOT / "rules", work / "my-rules")
    # cli.md's `rules validate my-rules`: one signal misspelt in one rule
    rules = broken / "dependency.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "signal: therapist_discourages_ending\n" in text
    rules.write_text(
        text.replace("signal: therapist_discourages_ending\n", "signal: therapist_discourage_ending\n", 1),
        encoding="utf-8",
    )
    return work


def _environment() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}


def _run(command: str, cwd: Path) -> str:
    runnable = re.sub(r"(^|; |\| )therapy-signals ", rf"\1{shlex.quote(sys.executable)} -m therapy_signals ", command)
    done = subprocess.run(
        ["bash", "-c", runnable],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # interleaved, as a terminal shows it
        text=True,
        timeout=300,
        env=_environment(),
        check=False,
    )
    return done.stdout


@pytest.mark.parametrize(("page", "command", "shown"), HERE, ids=[f"{p}: {c[:60]}" for p, c, _ in HERE])
def test_the_session_gives_the_output_shown(workdir: Path, page: str, command: str, shown: list[str]) -> None:
    output = _run(_runnable(page, command), workdir)
    assert "Traceback" not in output, f"{page}\n$ {command}\n{output}"
    if not pattern(shown).search(output):  # the message is what refreshing the page needs
        pytest.fail(f"{page}\n$ {command}\n--- shown:\n" + "\n".join(shown) + f"\n--- got:\n{output}", pytrace=False)


def test_python_dash_m_runs_a_batch_on_worker_processes(tmp_path: Path) -> None:
    """getting-started.md offers `python -m therapy_signals` for `therapy-signals`, and the sessions here run it so:
    worker processes import ``__main__`` again, which must not start the command line once more."""
    (tmp_path / "s.jsonl").write_text(
        '{"id": "a", "observations": [{"signal": "gift_to_therapist"}]}\n{"observations": [{"signal": "feeling_challenged_in_session"}]}\n',
        encoding="utf-8",
    )
    output = _run("therapy-signals batch s.jsonl -o out.jsonl --workers 2", tmp_path)
    assert output.startswith("2 records: 2 results"), output
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def _python_blocks(page: str) -> list[str]:
    return [block for block in blocks(DOCS / page, "python") if not _is_signature(block)]


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_the_python_blocks_run_and_give_the_output_shown(
    workdir: Path, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    found = _python_blocks(page)
    assert found, f"{page} has no Python block"
    namespace: dict[str, object] = {"__name__": "__docs__"}
    parser, flags = doctest.DocTestParser(), doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for number, block in enumerate(found, 1):
        name = f"{page}, Python block {number}"
        if block.lstrip().startswith(">>>"):
            test = parser.get_doctest(block, namespace, name, str(DOCS / page), 0)
            runner = doctest.DocTestRunner(optionflags=flags)
            report: list[str] = []
            runner.run(test, out=report.append, clear_globs=False)
            if runner.failures:
                pytest.fail("".join(report), pytrace=False)
        else:
            exec(compile(block, name, "exec"), namespace)  # the page's own code, run as a reader would
            for key, value in list(namespace.items()):  # a block that defines tests: they must pass
                if key.startswith("test_") and callable(value):
                    value()
                    del namespace[key]


def _install_commands() -> list[tuple[str, str]]:
    """The install commands every page shows, in sessions and in bash blocks."""
    found = [(page, command) for page, command, _ in _all_sessions() if _is_install(command)]
    for page in PAGES:
        for block in blocks(page, "bash"):
            for line in block.splitlines():
                command = line.split("  #")[0].strip()
                if _is_install(command) or _is_install(re.sub(r"^(\w+=\S+ )+", "", command)):
                    found.append((page.name, command))
    return found


def test_every_install_command_names_something_that_exists() -> None:
    """No page tells a reader to install from an index the package is not on."""
    found = _install_commands()
    assert len(found) >= 3
    for page, command in found:
        if re.search(r"(^|\s)'?therapy-signals(\[|'|\s|$)", command):
            pytest.fail(
                f"{page}: `{command}` installs therapy-signals from an index, where it is not published;"
                " show the command for a checkout or a built wheel (docs/getting-started.md#installing-with-pip)",
                pytrace=False,
            )


def test_every_install_command_names_extras_that_exist() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    )
    for page, command in _install_commands():
        for named in re.findall(r"\[([\w,-]+)\]", command):
            unknown = set(named.split(",")) - extras
            assert not unknown, (
                f"{page}: `{command}` names extras {sorted(unknown)}; pyproject.toml has {sorted(extras)}"
            )


def _install_section() -> list[str]:
    """The bash blocks of getting-started.md's "Installing with pip", each a list of commands."""
    text = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    section = text[text.index("## Installing with pip") :]
    section = section[: section.index("\n## ")]
    return re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M)


def _checkout_copy(into: Path) -> Path:
    """The checkout's files as git knows them, with their contents on disk: what a reader has."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    for name in listed.stdout.decode().split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


@pytest.mark.slow
@pytest.mark.parametrize("block", range(2), ids=["in a checkout", "from a wheel"])
def test_the_install_commands_work(tmp_path: Path, block: int) -> None:
    """getting-started.md's install commands, as written, each block in a clean venv and a fresh checkout."""
    found = _install_section()
    assert len(found) == 2, "getting-started.md shows two ways to install: a checkout and a wheel"
    checkout = _checkout_copy(tmp_path / "checkout")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    environment = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    environment.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["bash", "-e", "-c", found[block]],
        cwd=checkout,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"getting-started.md:\n{found[block]}\n--- got:\n{done.stdout}"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    check = (
        "import fastapi, therapy_signals.rulebook as r; print(r.load_rulebook().root)"  # the [server] extra came too
    )
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", check], cwd=outside, env=environment, capture_output=True, text=True
    )
    assert where.returncode == 0, where.stderr
    shipped = Path(where.stdout.strip()).resolve()
    # Editable: the rules are the checkout's; a wheel: the copy inside the venv.
    assert shipped.is_relative_to((checkout if block == 0 else venv).resolve()), shipped
    validated = subprocess.run(
        [str(venv / "bin" / "therapy-signals"), "rules", "validate"], cwd=outside, capture_output=True, text=True
    )
    assert validated.returncode == 0 and validated.stdout.startswith("ok: "), validated.stdout + validated.stderr
    # A missing extra's hint points back where this installation came from (not to an index).
    hint = "from therapy_signals._install import install_command as c; print(c('batch'))"
    said = subprocess.run([str(venv / "bin" / "python"), "-c", hint], cwd=outside, capture_output=True, text=True)
    wheel = next((checkout / "dist").glob("*.whl"), None) if block == 1 else None
    expected = (
        ["pip", "install", "-e", f"{checkout.resolve()}[batch]"]
        if block == 0
        else ["pip", "install", f"{wheel.resolve() if wheel else None}[batch]"]
    )
    assert shlex.split(said.stdout) == expected, said.stdout + said.stderr
