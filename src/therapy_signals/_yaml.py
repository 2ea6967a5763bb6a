"""YAML loading that remembers line numbers, so a rule-file error can name file:line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem, RuleBookError, _ProblemsError

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
    pass


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


def load(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a RuleBookError naming file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RuleBookError([Problem(str(path), f"not UTF-8 text ({error.reason})")]) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RuleBookError([Problem(where, str(error.problem or error))]) from None


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
