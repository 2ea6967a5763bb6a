"""Strict JSON for untrusted scenarios: bounded size, depth and digits, and no duplicate keys.

Python's ``json`` accepts what a scenario must not be: a key given twice (the last one
silently wins), ``NaN`` and ``Infinity``, numbers of any length (converting 5,000 digits
raises deep inside, and a million take seconds) and nesting until the interpreter's
recursion limit. Here the parser's hooks mark such values instead of failing without a
place, and one walk over the result names the field path of the first problem.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InputError
from .limits import DEFAULT_INPUT_LIMITS, InputLimits

__all__ = ["JsonFaultError", "decode", "decode_text", "loads", "parse"]


class _Twice(dict[str, Any]):
    """An object whose text gave some key more than once."""

    twice: list[str]


class _Refused:
    """A value the text held that a scenario may not: a number too long, NaN, Infinity."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _twice(pairs: list[tuple[str, Any]], result: dict[str, Any]) -> _Twice:
    marked = _Twice(result)
    seen: set[str] = set()
    marked.twice = []
    for key, _ in pairs:
        if key in seen:
            marked.twice.append(key)
        seen.add(key)
    return marked


class _Hooks:
    """The parser's hooks for one text; ``marked`` says whether any value needs the walk."""

    def __init__(self, limits: InputLimits) -> None:
        self.limit = limits.max_digits
        self.marked = False

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        self.marked = True
        return _twice(pairs, result)

    def integer(self, text: str) -> Any:
        return int(text) if len(text) <= self.limit else self._long(text)

    def fraction(self, text: str) -> Any:
        return float(text) if len(text) <= self.limit else self._long(text)

    def _long(self, text: str) -> _Refused:
        self.marked = True
        return _Refused(f"a number of {len(text):,} characters; at most {self.limit} are allowed")

    def constant(self, text: str) -> _Refused:
        self.marked = True
        return _Refused(f"{text} is not a JSON number; give a number or leave the field out")


def _step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_SHAPE_DEPTH = 4  # a scenario's own nesting (object, observations, observation, value): paths name that far


def _check(value: Any, limits: InputLimits) -> tuple[str, str] | None:
    """The field path and reason of the first value that breaks a limit, depth first.

    A value nested too deep is named by the field of the scenario that holds it
    (``observations[0].note``), not by its thirty-odd steps further down.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, _Refused):
            return path or "(top)", item.reason
        if not isinstance(item, dict | list):
            continue
        if depth > limits.max_depth:
            return path or "(top)", f"nested deeper than {limits.max_depth} levels; a scenario needs 3"
        if isinstance(item, _Twice):
            return path or "(top)", f"the key {item.twice[0]!r} appears more than once; give each key once"
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in reversed(list(children)):
            stack.append((child, _step(path, key) if depth < _SHAPE_DEPTH else path, depth + 1))
    return None


def decode_text(data: bytes | str, source: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> str:
    """UTF-8 text of at most ``limits.max_bytes``; InputError names the source and what is wrong."""
    try:
        return decode(data, limits)
    except JsonFaultError as fault:
        raise InputError(f"{source}: {fault.reason}") from None


def decode(data: bytes | str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> str:
    """UTF-8 text of at most ``limits.max_bytes``; JsonFaultError (with no place) says why not."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise JsonFaultError(
            "",
            f"{size:,} bytes, over the limit of {limits.max_bytes:,} for one scenario; "
            "raise it with --max-bytes (or InputLimits(max_bytes=...)) if this is really one scenario",
        )
    if isinstance(data, str):
        return data.removeprefix("\ufeff")  # a byte order mark is accepted, as in bytes
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = f"byte {error.start} is 0x{data[error.start]:02x}"
        raise JsonFaultError("", f"not UTF-8 text ({byte}); save it as UTF-8") from None


class JsonFaultError(ValueError):
    """Why a text is not a scenario's JSON, and where: ``line:column``, or a field path."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def parse(text: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Any:
    """Parse strict JSON; JsonFaultError says where and why not (a batch words it per line)."""
    hooks = _Hooks(limits)
    try:
        value = json.loads(
            text,
            object_pairs_hook=hooks.pairs,
            parse_int=hooks.integer,
            parse_float=hooks.fraction,
            parse_constant=hooks.constant,
        )
    except json.JSONDecodeError as error:
        raise JsonFaultError(f"{error.lineno}:{error.colno}", f"not valid JSON: {error.msg}") from None
    except RecursionError:
        raise JsonFaultError("(top)", f"nested deeper than {limits.max_depth} levels; a scenario needs 3") from None
    # Nesting needs an opening bracket per level: with few of them, nothing can be too deep.
    if hooks.marked or text.count("[") + text.count("{") > limits.max_depth:
        found = _check(value, limits)
        if found is not None:
            raise JsonFaultError(*found)
    return value


def loads(text: str, source: str, limits: InputLimits = DEFAULT_INPUT_LIMITS) -> Any:
    """Parse strict JSON; InputError names the source, then the line and column or the field path."""
    try:
        return parse(text, limits)
    except JsonFaultError as fault:
        if fault.where == "(top)":
            raise InputError(f"{source}: {fault.reason}") from None
        where = f"{source}:{fault.where}" if fault.where[:1].isdigit() else f"{source}: {fault.where}"
        raise InputError(f"{where}: {fault.reason}") from None
