"""YAML loading that remembers line numbers, so a rule-file error can name file:line."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ._paths import is_shipped
from .errors import Problem, RuleBookError, _ProblemsError
from .limits import DEFAULT_RULE_FILE_LIMITS, RuleFileLimits

M = TypeVar("M", bound=BaseModel)
# Pydantic puts union tags and type names into error locations; readers want field paths.
_TAGS = {"all", "any", "not", "count", "scenario", "match", "Bounds", "list[union[str,int,bool]]"}


class LineDict(dict[str, Any]):
    """A mapping that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that knows the line of each of its items (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting as it scans: PyYAML's scanner is quadratic in the
    nesting of ``[`` and ``{``, and its composer recurses once per level."""

    max_depth = DEFAULT_RULE_FILE_LIMITS.max_depth

    def _too_deep(self) -> yaml.scanner.ScannerError:
        message = f"nested deeper than {self.max_depth} levels"
        return yaml.scanner.ScannerError(None, None, message, self.get_mark())

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 (PyYAML's name)
        if self.flow_level >= self.max_depth:
            raise self._too_deep()
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= self.max_depth:
            raise self._too_deep()
        return bool(super().add_indent(column))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class _ShippedLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """LibYAML, for the rule files shipped with the package only: about ten times faster than
    the pure-Python scanner, and it has no nesting guard, which those files do not need."""


_ShippedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_ShippedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _shipped(path: Path) -> bool:
    # The package's own rule base (never ``$THERAPY_SIGNALS_RULES``, which may be anyone's).
    return bool(yaml.__with_libyaml__) and is_shipped(path)


def _load_shipped(text: str) -> Any:
    # Not sized either (_check_size): the package's own files hold no alias bomb, and walking
    # every node of them took a third of loading the rule base, which every command does.
    loader = _ShippedLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def load(path: Path, limits: RuleFileLimits = DEFAULT_RULE_FILE_LIMITS) -> Any:
    """Parse a YAML file within the limits; any problem becomes a RuleBookError naming file:line.

    The package's own rule files go through LibYAML when it is there (start-up time: the
    rule base is read by every command); everything else, and any shipped file LibYAML
    refuses, through the pure-Python loader that refuses deep nesting as it scans.
    """
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise RuleBookError(
            [Problem(str(path), f"{size:,} bytes; a rule file may have at most {limits.max_file_bytes:,}")]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RuleBookError([Problem(str(path), f"not UTF-8 text ({error.reason})")]) from None
    if _shipped(path):
        with contextlib.suppress(yaml.YAMLError, RuleBookError):  # the hardened loader words it
            return _load_shipped(text)
    return _load_hardened(text, path, limits)


def _load_hardened(text: str, path: Path, limits: RuleFileLimits) -> Any:
    loader = None
    try:
        loader = _Loader(text)  # its reader already refuses characters YAML does not allow
        loader.max_depth = limits.max_depth
        node = loader.get_single_node()
        if node is not None:
            _check_size(node, path, limits)
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RuleBookError([Problem(where, str(error.problem or error))]) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, such as NUL
        line = text.count("\n", 0, error.position) + 1
        raise RuleBookError(
            [Problem(f"{path}:{line}", f"character #x{error.character:04x} is not allowed in YAML")]
        ) from None
    except yaml.YAMLError as error:
        raise RuleBookError([Problem(str(path), f"not valid YAML: {error}")]) from None
    except RecursionError:
        raise RuleBookError([Problem(str(path), f"nested deeper than {limits.max_depth} levels")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_size(root: yaml.Node, path: Path, limits: RuleFileLimits) -> None:
    """Nodes counted with every alias expanded (a shared node once per use), and the depth.

    Children are sized before their parents, each node once (aliases share the node object),
    so the count is linear in the file even when the expansion it stands for is not.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    open_: set[int] = set()  # on the current path: meeting one again is an alias to an ancestor
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not ready:
            if id(node) in open_:
                where = f"{path}:{node.start_mark.line + 1}"
                raise RuleBookError([Problem(where, "an alias to a node that contains it (an endless structure)")])
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
        depths[id(node)] = 1 + max((depths[id(c)] for c in children), default=0)
        if sizes[id(node)] > limits.max_nodes:
            raise RuleBookError(
                [
                    Problem(
                        f"{path}:{node.start_mark.line + 1}",
                        f"more than {limits.max_nodes:,} YAML nodes once aliases are expanded",
                    )
                ]
            )
        if depths[id(node)] > limits.max_depth:
            raise RuleBookError(
                [Problem(f"{path}:{node.start_mark.line + 1}", f"nested deeper than {limits.max_depth} levels")]
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def line_of(data: Any, loc: Sequence[int | str]) -> int:
    """The line of the deepest node along a Pydantic error location that has one."""
    line = getattr(data, "line", 0)
    node = data
    for step in loc:
        if isinstance(node, LineDict) and isinstance(step, str) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            # Pydantic inserts union tags (e.g. 'match') into locations; skip them.
            continue
    return line


def field_path(loc: Sequence[int | str]) -> str:
    """``rules[3].when.signal`` from a Pydantic error location."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step not in _TAGS and not step.startswith(("str", "int", "bool", "function-")):
            out += f".{step}" if out else step
    return out or "(top)"


def validate(model: type[M], data: Any, source: str | Path, error: type[_ProblemsError] = RuleBookError) -> M:
    """Validate parsed YAML; every problem names source:line and the field path."""
    try:
        return model.model_validate(data)
    except ValidationError as caught:
        problems = [
            Problem(f"{source}:{line_of(data, e['loc'])}", f"{field_path(e['loc'])}: {e['msg']}")
            for e in caught.errors(include_url=False)
        ]
        raise error(problems) from None
