"""Pack templates are untrusted: they see plain data, call nothing outside the allow-list, and
run on a budget. Each test is an attack a hostile pack author could try."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from therapy_signals import BUILTIN, Engine, RenderError, RuleBookError
from therapy_signals.limits import TemplateLimits
from therapy_signals.render import layout_data
from therapy_signals.render._sandbox import BoundedEnvironment, TemplateLimitError, render_bounded

from .test_packs import NEW_RULE, NEW_SIGNAL, make_pack

LATE = {"observations": [{"signal": "therapist_late_often"}]}


def pack_with(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "signals.yaml": NEW_SIGNAL,
        "clinic.yaml": NEW_RULE,
        "templates/en/everyday/therapist-late.j2": "Running late is worth a word.",
    }
    return make_pack(tmp_path / "clinic", {**base, **files})


class _Pwned:
    """Unpickling this runs a command: the payload of the attack that was reported."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self) -> Any:
        return (Path.touch, (self.canary,))


def _jinja_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Jinja string literal


@pytest.mark.parametrize(
    "layout",
    [
        "{{ g.parse_raw(payload, proto='pickle', allow_pickle=True) }}",
        "{% set f = g.parse_raw %}{{ f(payload, proto='pickle', allow_pickle=True) }}",
        "{{ s.model_validate_json(payload) }}",
        "{{ g['parse_raw'](payload) }}",
        "{{ (g|attr('parse_raw'))(payload) }}",
        "{{ g.__class__.parse_raw(payload) }}",
    ],
)
def test_the_pickle_exploit_is_refused_when_the_pack_loads(tmp_path: Path, layout: str) -> None:
    canary = tmp_path / "pwned"
    payload = pickle.dumps(_Pwned(canary), protocol=0).decode("latin-1")
    source = f"{{% set payload = {_jinja_string(payload)} %}}\n{layout}\n"
    pack = pack_with(tmp_path, {"templates/en/_layout/guidance.txt.j2": source})
    with pytest.raises(RuleBookError, match=r"guidance\.txt\.j2:2: "):
        Engine(rule_paths=[BUILTIN, pack])
    script = Path(sys.executable).parent / "therapy-signals"
    done = subprocess.run([str(script), "rules", "validate", str(pack)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout
    assert "guidance.txt.j2:2" in done.stderr and "Traceback" not in done.stderr
    assert not canary.exists()


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_layouts_see_plain_data_only(engine: Engine) -> None:
    guidance = engine.explain(
        {
            "observations": [
                {"signal": "client_self_harm_risk", "note": "x"},
                {"signal": "feeling_challenged_in_session"},
            ]
        }
    )
    data = layout_data(guidance)
    assert _plain(data)
    assert _plain(guidance._layout().strings.model_dump(mode="json"))
    assert data["level"] == "urgent" and data["observations"][0]["was_raised"] is None


class _Door:
    """Stands for any object with methods: calling one must never happen from a template."""

    called = False

    def open(self) -> str:
        _Door.called = True
        return "opened"


def test_a_method_smuggled_past_the_compile_check_is_refused_when_called() -> None:
    env = BoundedEnvironment(undefined=jinja2.StrictUndefined)
    # A macro named like the method passes the compile-time check; the call still goes through
    # the sandbox, which sees a bound method of an object that is not plain data.
    template = env.from_string("{% macro open() %}{% endmacro %}{% set open = door.open %}{{ open() }}")
    with pytest.raises(jinja2.exceptions.SecurityError, match="may not call open"):
        render_bounded(template, {"door": _Door()}, TemplateLimits())
    assert not _Door.called


HOSTILE = {
    "a loop of 10^10 iterations": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "loops over a list made once": "{% set r = range(5000)|list %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
    "a 4 GB string": "{{ 'x' * 4000000000 }}",
    "a string doubled in a loop": "{% set n = namespace(s='ab') %}{% for i in range(64) %}{% set n.s = n.s ~ n.s %}{% endfor %}",
    "nested list literals": "{% set a = ['"
    + "x" * 1000
    + "'] * 999 %}{% set b = [a, a, a] %}{% set c = [b, b, b] %}{{ c }}",
    "a huge power": "{{ 9 ** 999999 }}",
    "text formatting with a width": "{{ '%999999999d' % 1 }}",
    "a captured block of output": "{% set x %}{% for i in range(99999) %}{{ 'y' * 20 }}{% endfor %}{% endset %}",
    "macro recursion": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "division by zero": "{{ 1 // 0 }}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_template_that_breaks_a_bound_on_every_input_is_refused_at_load(tmp_path: Path, name: str) -> None:
    pack = pack_with(tmp_path, {"templates/en/everyday/therapist-late.j2": "Late.\n" + HOSTILE[name]})
    with pytest.raises(RuleBookError, match=r"therapist-late\.j2:2 \(rule everyday\.therapist-late\): ") as caught:
        Engine(rule_paths=[BUILTIN, pack], template_limits=TemplateLimits(max_steps=20_000))
    assert "Traceback" not in str(caught.value)


def test_a_bound_broken_only_by_some_input_fails_that_request_alone(tmp_path: Path) -> None:
    template = "{% if sessions and sessions > 5 %}{% for i in range(100000) %}{{ i }}{% endfor %}{% endif %}Late."
    pack = pack_with(tmp_path, {"templates/en/everyday/therapist-late.j2": template})
    engine = Engine(rule_paths=[BUILTIN, pack], template_limits=TemplateLimits(max_steps=20_000))
    with pytest.raises(
        RenderError, match=r"therapist-late\.j2:1 \(rule everyday\.therapist-late\): more than 20,000 steps"
    ):
        engine.explain({**LATE, "sessions": 6})
    assert engine.explain(LATE).findings[0].explanation == "Late."  # the Engine is unharmed


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ rule.__class__ }}", "the attribute '__class__' is private"),
        ("{{ rule['__init__'] }}", "the key '__init__' is private"),
        ("{{ 'x'|center(1000000000) }}", "no filter named 'center'"),
        ("{{ lipsum(10**9) }}", "may not call lipsum"),
        ("{% set l = [] %}{{ l.append(1) }}", "may not call .append()"),
        ("{{ '{:>999999}'.format(1) }}", "may not call .format()"),
        ("{% include rule.id %}", "need a template name written out"),
        ("{% include '../../../../../etc/passwd' %}", "does not exist here"),
    ],
)
def test_what_is_outside_the_language_is_refused_with_its_line(tmp_path: Path, template: str, message: str) -> None:
    pack = pack_with(tmp_path, {"templates/en/everyday/therapist-late.j2": "Late.\n\n" + template})
    with pytest.raises(RuleBookError, match=r"therapist-late\.j2:3: ") as caught:
        Engine(rule_paths=[BUILTIN, pack])
    assert message in str(caught.value)


# -- fuzzing: templates assembled from hostile pieces ------------------------------------------

_NAMES = ["rule", "rule.id", "observations", "observations[0]", "setting", "sessions", "door", "door.open", "x"]
_VALUES = ["1", "99999", "10**6", "'ab'", "'x' * 99", "range(300)", "[1, 2]", "{'a': 1}", "none", *_NAMES]
_OPS = ["*", "**", "~", "+", "%", "//", "-", " in "]
# Mostly what is allowed, so most templates compile and their bounds are what is tested.
_FILTERS = ["upper", "length", "list", "join", "string", "replace('a', 'bb')", "wordwrap(5)", "center(99)", "attr('x')"]
_METHODS = ["upper()", "split()", "replace('a', 'aa')", "get('a')", "strip()", "open()", "append(1)", "__class__"]


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 4 if depth < 3 else 0))
    if kind == 0:
        return draw(st.sampled_from(_VALUES))
    if kind == 1:
        return f"({draw(_expressions(depth + 1))} {draw(st.sampled_from(_OPS))} {draw(_expressions(depth + 1))})"
    if kind == 2:
        return f"{draw(_expressions(depth + 1))} | {draw(st.sampled_from(_FILTERS))}"
    if kind == 3:
        return f"({draw(_expressions(depth + 1))}).{draw(st.sampled_from(_METHODS))}"
    return f"[{draw(_expressions(depth + 1))}, {draw(_expressions(depth + 1))}]"


@st.composite
def _templates(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 5 if depth < 2 else 1))
        if kind == 0:
            parts.append(draw(st.sampled_from(["text ", "\n", "é", " ", "", "{{ ", "{%"])))
        elif kind == 1:
            parts.append("{{ " + draw(_expressions()) + " }}")
        elif kind == 2:
            parts.append("{% for i in " + draw(_expressions()) + " %}" + draw(_templates(depth + 1)) + "{% endfor %}")
        elif kind == 3:
            parts.append("{% set x = " + draw(_expressions()) + " %}")
        elif kind == 4:
            parts.append("{% macro m(n) %}" + draw(_templates(depth + 1)) + "{{ m(n) }}{% endmacro %}{{ m(1) }}")
        else:
            parts.append("{% set x %}" + draw(_templates(depth + 1)) + "{% endset %}{{ x }}")
    return "".join(parts)


SMALL = TemplateLimits(max_steps=5_000, max_chars=20_000, max_output=20_000)
CONTEXT = {
    "rule": {"id": "everyday.x", "title": "T"},
    "observations": [{"signal": "s"}],
    "setting": "individual",
    "sessions": 3,
}


@settings(max_examples=300, deadline=None)
@given(_templates())
def test_fuzzed_templates_are_refused_or_render_within_bounds(source: str) -> None:
    _Door.called = False
    env = BoundedEnvironment(undefined=jinja2.StrictUndefined, limits=SMALL)
    try:
        template = env.from_string(source)
    except (jinja2.TemplateSyntaxError, jinja2.TemplateError, ValueError, RecursionError):
        return  # refused when compiled: the Renderer reports it with the file and line
    context = {**CONTEXT, "door": _Door()}
    try:
        out = render_bounded(template, context, SMALL)
    except TemplateLimitError:
        return
    except Exception as error:  # the Renderer turns any of these into a RenderError naming the line
        assert not isinstance(error, KeyboardInterrupt | SystemExit)
        assert not _Door.called
        return
    assert not _Door.called
    assert len(out) <= SMALL.max_output
    assert render_bounded(template, context, SMALL) == out  # deterministic


@settings(max_examples=12, deadline=None)
@given(_templates())
def test_fuzzed_pack_templates_give_only_the_librarys_errors(
    tmp_path_factory: pytest.TempPathFactory, source: str
) -> None:
    pack = pack_with(tmp_path_factory.mktemp("fuzz"), {"templates/en/everyday/therapist-late.j2": source})
    try:
        engine = Engine(rule_paths=[BUILTIN, pack], template_limits=SMALL)
    except RuleBookError as error:
        assert "therapist-late.j2:" in str(error)
        return
    for scenario in (LATE, {**LATE, "sessions": 9, "setting": "couples"}):
        try:
            guidance = engine.explain(scenario)
        except RenderError as error:
            assert "therapist-late.j2:" in str(error)
            continue
        explanation = guidance.findings[0].explanation
        assert explanation is not None and len(explanation) <= SMALL.max_output
