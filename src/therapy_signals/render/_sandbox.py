"""The template sandbox: rule packs bring templates, and templates see plain data, do bounded work.

Jinja2's ImmutableSandboxedEnvironment already refuses private attributes and mutation of
lists and dicts. That is not enough for templates from people we do not control:

* any object with methods handed to a template is a door (Pydantic models have
  ``parse_raw(..., allow_pickle=True)``), so templates get plain data only, and a call
  is allowed only to a macro, to a few globals, or to a side-effect-free method of a
  string, list or dict (the ``_METHODS`` table);
* Jinja bounds ``range`` but not loops over anything else, ``"x" * 10**10``, nor
  ``9 ** 9 ** 9``; so each template is rewritten when it is compiled: every ``for`` loop
  iterates through ``_each``, every ``~``, list and dict literal goes through a size
  check, and every piece of output is counted, so each render runs on a budget of
  steps, seconds and characters (:class:`~therapy_signals.limits.TemplateLimits`);
* filters are an allow-list, each wrapped so that its integer arguments stay small and
  what it returns stays within the size bound.

A template that names something outside this language is refused when it is compiled,
with its line (:func:`policy_problems`).
"""

from __future__ import annotations

import functools
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, Macro, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Namespace, pass_context
from jinja2.visitor import NodeTransformer

from ..limits import DEFAULT_TEMPLATE_LIMITS, TemplateLimits

__all__ = ["BoundedEnvironment", "TemplateLimitError", "policy_problems", "render_bounded"]

# Filters whose output is at most a small multiple of their input; each is wrapped below.
_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "dictsort",
        "e",
        "escape",
        "first",
        "float",
        "forceescape",
        "groupby",
        "int",
        "items",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "replace",
        "reverse",
        "round",
        "select",
        "selectattr",
        "sort",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
        "wordwrap",
    }
)
# Methods a template may call on plain data: none changes anything, none grows its input.
_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        {
            "capitalize",
            "casefold",
            "count",
            "endswith",
            "find",
            "index",
            "isalnum",
            "isalpha",
            "isdigit",
            "islower",
            "isspace",
            "istitle",
            "isupper",
            "lower",
            "lstrip",
            "removeprefix",
            "removesuffix",
            "replace",
            "rfind",
            "rindex",
            "rsplit",
            "rstrip",
            "split",
            "splitlines",
            "startswith",
            "strip",
            "swapcase",
            "title",
            "upper",
        }
    ),
    dict: frozenset({"get", "items", "keys", "values"}),
    list: frozenset({"count", "index"}),
    tuple: frozenset({"count", "index"}),
}
_METHOD_NAMES = frozenset().union(*_METHODS.values())
_GLOBAL_NAMES = frozenset({"range", "namespace", "dict", "caller", "loop", "super", "self", "varargs", "kwargs"})
MAX_ARGUMENT = 10_000
"""The largest integer a filter or method takes (a width, a count): ``center(10**9)`` is refused."""
_MAX_BITS = 4096  # integers past this are refused: their arithmetic is no longer cheap
_CHARS_PER_STEP = 256
_MD_ESCAPE = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
# What a terminal or an editor would act on rather than show: C0 and C1 controls (an ESC
# starts a colour or a cursor move) and the bidirectional overrides that reorder a line.
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TemplateLimitError(SecurityError):
    """A render went past a bound of :class:`~therapy_signals.limits.TemplateLimits`."""


@dataclass
class _Budget:
    limits: TemplateLimits
    deadline: float
    steps: int = 0
    output: int = 0

    def charge(self, steps: int) -> None:
        before = self.steps
        self.steps += steps
        if self.steps > self.limits.max_steps:
            raise TemplateLimitError(
                f"more than {self.limits.max_steps:,} steps (loop iterations, calls and filters) in one render"
            )
        # The clock is a backstop for work between steps; reading it every 256 steps is enough.
        if before >> 8 != self.steps >> 8 and time.monotonic() > self.deadline:
            raise TemplateLimitError(f"the render took more than {self.limits.max_seconds} s")

    def emit(self, chars: int) -> None:
        self.output += chars
        if self.output > self.limits.max_output:
            raise TemplateLimitError(f"more than {self.limits.max_output:,} characters of output in one render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("therapy_signals_template_budget", default=None)


def _charge(steps: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(steps)


def weight(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` would take, counted only until past ``limit``.

    Lists can hold one big string many times, and nest: the count follows references,
    so ``[s, s, s]`` weighs three times ``s``, but it stops as soon as the limit is passed,
    so weighing costs at most about ``limit`` steps whatever the value.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | range):
            total += 2 + 2 * len(item)
            if total <= limit and not isinstance(item, range):
                stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, Namespace):
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        elif isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > _MAX_BITS:
                return limit + 1
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > limit:
            return total
    return total


def _limits(env: Any) -> TemplateLimits:
    return getattr(env, "limits", DEFAULT_TEMPLATE_LIMITS)


def _sized(value: Any, limits: TemplateLimits, what: str) -> Any:
    size = weight(value, limits.max_chars)
    if size > limits.max_chars:
        raise TemplateLimitError(f"{what} would be larger than {limits.max_chars:,} characters")
    _charge(1 + size // _CHARS_PER_STEP)
    return value


def _small_arguments(args: Iterable[Any], what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_ARGUMENT:
            raise TemplateLimitError(f"{what}: {arg} is larger than {MAX_ARGUMENT:,}, the largest argument allowed")


def _replace_growth(text: Any, old: Any, new: Any) -> int:
    """A bound, before it runs, on what replacing ``old`` by ``new`` adds to ``text``."""
    text, old, new = str(text), str(old), str(new)
    return (len(text) + 1) * len(new) if not old else text.count(old) * len(new)


def _join_growth(items: Any, separator: Any = "") -> int:
    return len(items) * len(str(separator)) if isinstance(items, list | tuple) else 0


_NOT_DATA = (jinja2.runtime.Context, jinja2.nodes.EvalContext, jinja2.Environment)


def _bounded_filter(func: Callable[..., Any], name: str, limits: TemplateLimits) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps jinja's pass_context marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        lead = [a for a in args if isinstance(a, _NOT_DATA)]
        data = list(args[len(lead) :])
        _small_arguments([*data[1:], *kwargs.values()], f"the filter {name!r}")
        if name == "join" and data and not isinstance(data[0], list | tuple | str):
            data[0] = list(data[0])  # a generator (from map) must be weighed before it is joined
        for value in [*data, *kwargs.values()]:
            _sized(value, limits, f"the input of the filter {name!r}")
        growth = 0
        if name == "replace" and len(data) >= 3:
            growth = _replace_growth(*data[:3])
        elif name == "join" and data:
            growth = _join_growth(*data[:2])
        if growth > limits.max_chars:
            raise TemplateLimitError(f"the filter {name!r} would build more than {limits.max_chars:,} characters")
        result = func(*lead, *data, **kwargs)
        if isinstance(result, str | list | tuple | dict):
            _sized(result, limits, f"the result of the filter {name!r}")
        return result

    return bounded


def _markdown_escape(value: object) -> str:
    return _MD_ESCAPE.sub(r"\\\1", str(value))


def _plain_escape(value: object) -> str:
    """A client's text for plain-text output: one line, with nothing a terminal would act on."""
    return _UNSHOWABLE.sub("\ufffd", _LINE_BREAKS.sub(" ", str(value)))


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, plus plain-data calls, allow-listed filters, and budgets."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS, **options: Any) -> None:
        super().__init__(optimized=False, **options)  # no template code runs at compile time
        self.limits = limits
        defaults = self.filters
        self.filters = {name: _bounded_filter(defaults[name], name, limits) for name in _FILTERS}
        self.filters["md"] = _bounded_filter(_markdown_escape, "md", limits)
        self.filters["plain"] = _bounded_filter(_plain_escape, "plain", limits)
        self.filters.update(_each=_each, _sized=_sized_filter, _concat=_concat, _out=_out)
        self.globals = {"range": _range, "namespace": Namespace, "dict": dict}
        self._allowed_calls = {_range, Namespace, dict}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        problems = policy_problems(tree, self)
        if problems:
            line = problems[0][0]
            message = "; ".join(f"line {n}: {m}" if n != line else m for n, m in problems[:5])
            raise jinja2.TemplateSyntaxError(message, line, name, filename)
        rewritten: nodes.Template = _Rewrite().visit(tree)
        rewritten.set_environment(self)
        return rewritten

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        _charge()
        limit = self.limits.max_chars
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formats text, which templates may not do; join text with '~'")
        if operator == "+" and not _numbers(left, right):
            _sized([left, right], self.limits, "the result of '+'")
        if operator == "*":
            _check_repeat(left, right, limit)
        if operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _charge()
        if not __self._may_call(__obj):
            raise SecurityError(
                f"templates may not call {_name(__obj)}; they may call macros and the plain-data methods"
            )
        if isinstance(__obj, types.BuiltinMethodType):
            what = f"the call to {_name(__obj)}"
            _small_arguments([*args, *kwargs.values()], what)
            growth = _replace_growth(__obj.__self__, *args[:2]) if __obj.__name__ == "replace" and len(args) >= 2 else 0
            if growth > __self.limits.max_chars:
                raise TemplateLimitError(f"{what} would build more than {__self.limits.max_chars:,} characters")
        result = super().call(__context, __obj, *args, **kwargs)
        return _sized(result, __self.limits, f"the result of {_name(__obj)}")

    def _may_call(self, obj: Any) -> bool:
        if isinstance(obj, Macro | LoopContext | jinja2.runtime.BlockReference):
            return True
        if isinstance(obj, types.BuiltinMethodType | types.MethodType):
            owner = getattr(obj, "__self__", None)
            if isinstance(owner, LoopContext):
                return obj.__name__ in ("cycle", "changed")
            return any(isinstance(owner, kind) and obj.__name__ in names for kind, names in _METHODS.items())
        try:
            return obj in self._allowed_calls
        except TypeError:  # unhashable
            return False


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _check_repeat(left: Any, right: Any, limit: int) -> None:
    if _numbers(left, right):
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _MAX_BITS:
            raise TemplateLimitError(f"'*' would make a number of more than {_MAX_BITS} bits")
        return
    times = right if isinstance(right, int) else left if isinstance(left, int) else 1
    value = left if isinstance(right, int) else right
    if isinstance(times, int) and weight(value, limit) * max(times, 0) > limit:
        raise TemplateLimitError(f"'*' would build more than {limit:,} characters")


def _check_power(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and max(left.bit_length(), 1) * right > _MAX_BITS:
        raise TemplateLimitError(f"'**' would make a number of more than {_MAX_BITS} bits")


def _name(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    return f"{name}()" if isinstance(name, str) else f"a {type(obj).__name__}"


def _range(*args: int) -> range:
    numbers = safe_range(*args)
    _charge(1 + len(numbers) // _CHARS_PER_STEP)
    return numbers


# -- the rewritten template's hooks (pass_context keeps Jinja from running them at compile time)


@pass_context
def _each(context: jinja2.runtime.Context, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _charge()
        yield item


@pass_context
def _sized_filter(context: jinja2.runtime.Context, value: Any) -> Any:
    return _sized(value, _limits(context.environment), "a literal")


@pass_context
def _concat(context: jinja2.runtime.Context, parts: list[Any]) -> str:
    _sized(parts, _limits(context.environment), "the result of '~'")
    return markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)


@pass_context
def _out(context: jinja2.runtime.Context, value: Any) -> Any:
    limits = _limits(context.environment)
    size = weight(value, limits.max_output)
    budget = _BUDGET.get()
    if budget is not None:
        budget.emit(size)
    elif size > limits.max_output:
        raise TemplateLimitError(f"more than {limits.max_output:,} characters of output")
    return value


def _hook(name: str, node: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Rewrite(NodeTransformer):
    """Routes loops, literals, joins and output through the hooks above (visit_<Node> is Jinja's API)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.iter = _hook("_each", node.iter)  # type: ignore[arg-type]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return _hook("_concat", nodes.List(node.nodes, lineno=node.lineno))

    def _literal(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        return _hook("_sized", node) if getattr(node, "ctx", "load") == "load" else node

    def visit_List(self, node: nodes.List) -> nodes.Node:  # noqa: N802
        return self._literal(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:  # noqa: N802
        return self._literal(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:  # noqa: N802
        return self._literal(node)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        # TemplateData stays itself inside the hook, so HTML layouts keep it as markup.
        node.nodes = [_hook("_out", child) for child in node.nodes]
        return node


# -- the policy, checked when a template is compiled ------------------------------------------


@dataclass
class _Policy:
    env: jinja2.Environment
    problems: list[tuple[int, str]] = field(default_factory=list)
    callable_names: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)

    def check(self, tree: nodes.Template) -> None:
        self.callable_names = {m.name for m in tree.find_all(nodes.Macro)} | set(_GLOBAL_NAMES)
        for imported in tree.find_all(nodes.FromImport):
            self.callable_names |= {n if isinstance(n, str) else n[1] for n in imported.names}
        self.modules = {n.target for n in tree.find_all(nodes.Import)}
        for node in tree.find_all(nodes.Node):
            self._node(node)

    def _refuse(self, node: nodes.Node, message: str) -> None:
        self.problems.append((node.lineno or 1, message))

    def _node(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            self._refuse(node, f"the attribute {node.attr!r} is private; templates see plain data only")
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
                self._refuse(node, f"the key {node.arg.value!r} is private; templates see plain data only")
        elif isinstance(node, nodes.Filter | nodes.Test):
            self._filter(node)
        elif isinstance(node, nodes.Call):
            self._call(node)
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            self._template(node)

    def _template(self, node: nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends) -> None:
        name = node.template.value if isinstance(node.template, nodes.Const) else None
        if not isinstance(name, str):
            self._refuse(node, "include, import and extends need a template name written out, not computed")
            return
        if self.env.loader is None or getattr(node, "ignore_missing", False):
            return
        try:
            self.env.loader.get_source(self.env, name)
        except jinja2.TemplateNotFound:
            self._refuse(node, f"the template {name!r} does not exist here")

    def _filter(self, node: nodes.Filter | nodes.Test) -> None:
        kind, known = ("filter", self.env.filters) if isinstance(node, nodes.Filter) else ("test", self.env.tests)
        if node.name not in known or node.name.startswith("_"):
            allowed = ", ".join(sorted(n for n in known if not n.startswith("_")))
            self._refuse(node, f"no {kind} named {node.name!r}; the {kind}s templates may use are: {allowed}")

    def _call(self, node: nodes.Call) -> None:
        target = node.node
        if isinstance(target, nodes.Name) and target.name in self.callable_names:
            return
        if isinstance(target, nodes.Getattr):
            owner = target.node
            if isinstance(owner, nodes.Name) and owner.name in self.modules | {"loop", "self"}:
                return
            if target.attr in _METHOD_NAMES:
                return
            self._refuse(node, f"templates may not call .{target.attr}(); they may call macros and {_methods()}")
            return
        what = target.name if isinstance(target, nodes.Name) else "a computed value"
        self._refuse(node, f"templates may not call {what}; they may call their macros, range, namespace and dict")


def _methods() -> str:
    return "the methods " + ", ".join(sorted(_METHOD_NAMES))


def policy_problems(tree: nodes.Template, env: jinja2.Environment) -> list[tuple[int, str]]:
    """(line, message) for everything in a parsed template that the sandbox's language leaves out."""
    policy = _Policy(env)
    policy.check(tree)
    return sorted(policy.problems)


def render_bounded(template: jinja2.Template, context: dict[str, Any], limits: TemplateLimits) -> str:
    """Render on a fresh budget; TemplateLimitError (a SecurityError) when a bound is passed."""
    token = _BUDGET.set(_Budget(limits, time.monotonic() + limits.max_seconds))
    try:
        return template.render(context)
    finally:
        _BUDGET.reset(token)
