"""Pack files are untrusted: YAML is bounded after aliases expand, no link is followed, links in
the data are http, https, mailto or tel, and every limit holds for every operator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, RuleBook, RuleBookError
from therapy_signals.limits import RuleFileLimits

from .conftest import FEATURES
from .test_packs import NEW_RULE, NEW_SIGNAL, make_pack

LATE_TEMPLATE = "templates/en/everyday/therapist-late.j2"


def _pack(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {"signals.yaml": NEW_SIGNAL, "clinic.yaml": NEW_RULE, LATE_TEMPLATE: "Late."}
    return make_pack(tmp_path / "clinic", {**base, **files})


def _alias_bomb(levels: int) -> str:
    """A condition whose text is small and whose expansion has 8**levels branches."""
    lines = [
        "rules:",
        "  - id: everyday.bomb",
        "    title: An alias bomb in any",
        "    category: everyday",
        "    level: discuss",
        "    normal_when: Never.",
        "    explain: everyday/therapist-late.j2",
        "    references: [guide#everyday-challenges]",
        "    when:",
        "      any:",
    ]
    lines.append("        - &a0 {signal: therapist_late_often}")
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 8)
        lines.append(f"        - &a{level} {{any: [{refs}]}}")
    return "\n".join(lines) + "\n"


def test_aliases_that_expand_past_the_node_limit_are_refused_fast(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"bomb.yaml": _alias_bomb(8)})  # 8**8 = 16 million branches
    with pytest.raises(RuleBookError, match=r"bomb\.yaml:\d+: more than 50,000 YAML nodes once aliases are expanded"):
        RuleBook.load(None, packs=[pack])


def test_the_branch_limit_holds_for_any_as_well_as_all(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"bomb.yaml": _alias_bomb(2)})  # 1 + 8 + 64 alternatives, few nodes
    with pytest.raises(RuleBookError, match=r"rule everyday\.bomb: the condition expands to more than 64 alternatives"):
        RuleBook.load(None, packs=[pack])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: &r [*r]\n", "an alias to a node that contains it"),
        ("rules: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 32 levels"),
        ("rules:\n" + "- " * 50_000 + "x\n", "nested deeper than 32 levels"),
        ("rules: [1]\n" + "#" * (1024 * 1024) + "\n", "bytes; a rule file may have at most 1,048,576"),
        ("rules: {a: 1, a: 2}\n", "duplicate key 'a'"),
    ],
)
def test_hostile_yaml_is_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    pack = _pack(tmp_path, {"hostile.yaml": text})
    with pytest.raises(RuleBookError, match=r"hostile\.yaml") as caught:
        RuleBook.load(None, packs=[pack])
    assert message in str(caught.value)


def test_the_limits_can_be_raised(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {"bomb.yaml": _alias_bomb(4)})  # 4,096 alternatives, under 20,000 nodes expanded
    with pytest.raises(RuleBookError, match="more than 10,000 YAML nodes"):
        RuleBook.load(None, packs=[pack], limits=RuleFileLimits(max_nodes=10_000))
    with pytest.raises(RuleBookError, match="more than 64 alternatives"):  # within the node limit, the next one
        RuleBook.load(None, packs=[pack], limits=RuleFileLimits(max_nodes=20_000))
    with pytest.raises(ValueError, match=r"RuleFileLimits\.max_nodes must be a whole number of 1 or more"):
        RuleFileLimits(max_nodes=0)


def test_a_link_to_a_file_outside_the_pack_is_refused(tmp_path: Path) -> None:
    pack = _pack(tmp_path, {LATE_TEMPLATE: "Late. {% include 'everyday/secret.j2' %}"})
    (pack / "templates/en/everyday/secret.j2").symlink_to("/etc/passwd")
    with pytest.raises(
        RuleBookError, match=r"secret\.j2: a symbolic link; rule files are read without following links"
    ):
        Engine(rule_paths=[BUILTIN, pack])


@pytest.mark.parametrize("kind", ["folder", "yaml", "fifo"])
def test_links_and_special_files_anywhere_in_a_pack_are_refused(tmp_path: Path, kind: str) -> None:
    pack = _pack(tmp_path, {})
    if kind == "folder":
        (pack / "templates/en/shared").symlink_to("/etc", target_is_directory=True)
    elif kind == "yaml":
        (pack / "more.yaml").symlink_to(Path(__file__).parents[1] / "rules" / "safety.yaml")
    else:
        os.mkfifo(pack / "rules.yaml")  # reading it would block forever
    with pytest.raises(RuleBookError) as caught:
        RuleBook.load(None, packs=[pack])
    assert ("symbolic link" if kind != "fifo" else "not a regular file") in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https://ok.example/a b",
    ],
)
def test_only_http_https_mailto_and_tel_links_load(tmp_path: Path, url: str) -> None:
    resource = {
        "resources": [
            {"id": "clinic-line", "role": "crisis-line", "name": "Clinic", "contact": "Call", "url": url, "levels": []}
        ]
    }
    source = {"sources": [{"id": "clinic#page", "title": "Clinic page", "kind": "consumer", "url": url}]}
    for name, data in (("resources.yaml", resource), ("sources.yaml", source)):
        pack = _pack(tmp_path / name, {name: yaml.safe_dump(data)})
        with pytest.raises(RuleBookError, match=rf"{name}:\d+: .*url: .*use an http, https, mailto or tel URL"):
            RuleBook.load(None, packs=[pack])
    with pytest.raises(RuleBookError, match="use an http, https, mailto or tel URL"):
        Engine(resources=[{**resource["resources"][0], "id": "988-lifeline"}])


def test_safe_links_still_reach_html_and_cards(tmp_path: Path) -> None:
    extra = {
        "resources": [
            {
                "id": "clinic-line",
                "role": "crisis-line",
                "name": "Clinic",
                "contact": "Call",
                "url": "tel:+15550100",
                "levels": ["discuss"],
            }
        ]
    }
    pack = _pack(tmp_path, {"resources.yaml": yaml.safe_dump(extra)})
    guidance = Engine(rule_paths=[BUILTIN, pack]).explain({"observations": [{"signal": "therapist_late_often"}]})
    assert 'href="tel:+15550100"' in guidance.to_html()


# -- fuzzing: pack rule files, generated near-valid and then damaged -----------------------------

_HOSTILE_TEXT = [
    "[[[[[[[[[[",
    "{a: 1, a: 1}\n",
    "- *nope\n",
    "\t",
    ": : :\n",
    "!!python/object/apply:os.system [id]\n",
    "x: &r [*r]\n",
    "\x00",
    "\ufeff",
    "---\n",
    "... \n",
    "'\n",
    '"\\x"\n',
]


def _mostly(good: object, *bad: object) -> st.SearchStrategy[object]:
    """The good value most of the time, so most files get past parsing to the deeper checks."""
    return st.sampled_from([good] * (3 * len(bad)) + list(bad))


def _conditions(depth: int = 0) -> st.SearchStrategy[object]:
    match = st.fixed_dictionaries(
        {"signal": _mostly("therapist_late_often", "sig_a", "nope")},
        optional={
            "frequency": st.sampled_from(["once", "often", "never", {"at_least": "often"}, {"at_least": 5}]),
            "months_after_ending": st.sampled_from([0, 1200, 1201, -1, 10**30, {"at_most": 3}]),
            "category": st.sampled_from(["everyday", "safety", "nope"]),
        },
    )
    if depth >= 3:
        return match
    inner = st.lists(_conditions(depth + 1), min_size=0, max_size=4)
    return st.one_of(
        match,
        match,
        match,
        st.builds(lambda c: {"all": c}, inner),
        st.builds(lambda c: {"any": c}, inner),
        st.builds(lambda c: {"not": c}, _conditions(depth + 1)),
        st.builds(
            lambda n: {"count": {"category": "everyday"}, "at_least": n}, st.sampled_from([0, 1, 2, 101, 10**30])
        ),
        st.builds(lambda s: {"setting": s}, st.sampled_from(["couples", "nope", ["group"], []])),
    )


_RULES = st.fixed_dictionaries(
    {
        "id": _mostly("everyday.x", "everyday.y", "safety.x", "Everyday.X", "x"),
        "title": _mostly("A fuzzed rule here", "", "x" * 200),
        "category": _mostly("everyday", "safety", "boundaries", "nope"),
        "level": _mostly("discuss", "normal", "concern", "urgent", "nope", 10**30),
        "when": _conditions(),
        "normal_when": _mostly("Often fine.", ""),
        "explain": _mostly("everyday/therapist-late.j2", "../../etc/passwd.j2", "missing.j2"),
        "references": _mostly(["test#source"], [], ["nope"]),
    },
    optional={"supersedes": st.sampled_from([["everyday.y"], ["everyday.x"]]), "resources": st.just(["nope"])},
)


@st.composite
def _pack_text(draw: st.DrawFn) -> str:
    text = yaml.safe_dump({"rules": draw(st.lists(_RULES, min_size=1, max_size=3))}, sort_keys=False)
    for _ in range(draw(_mostly(0, 1, 2))):
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        text = "".join([*lines[:at], draw(st.sampled_from(_HOSTILE_TEXT)), *lines[at:]])
    return text


@settings(max_examples=200, deadline=None)
@given(_pack_text())
def test_fuzzed_pack_files_load_or_are_refused_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    files = {"signals.yaml": NEW_SIGNAL, LATE_TEMPLATE: "Late.", "fuzzed.yaml": text}
    pack = make_pack(tmp_path_factory.mktemp("fuzz") / "clinic", files)
    try:
        book = RuleBook.load(FEATURES, packs=[pack])  # a small base, so each example takes milliseconds
    except RuleBookError as error:
        assert error.problems and all(p.where for p in error.problems)
        assert any(str(pack) in p.where for p in error.problems), str(error)
        return
    assert book.rules.keys() >= {"everyday.x"} or book.rules.keys() >= {"everyday.y"} or "safety.x" in book.rules
