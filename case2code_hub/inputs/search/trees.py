"""Paths into argument values: every nested value with its place, and copies with one place changed.

A path's first step is the argument's index; below it, an ``int`` step is a list or tuple index,
``("key", k)`` a dict's key and ``("attr", name)`` an attribute of a ``types.SimpleNamespace``. Sets
are leaves (their order is not a place).
"""

from __future__ import annotations

import types
from typing import Any, Callable, Iterator

# A wildcard in a value's place pattern: any index of a list or tuple.
_ANY = object()
Path = tuple[Any, ...]


def nodes(value: Any, path: Path = (), depth: int = 0) -> Iterator[tuple[Path, Any]]:
    """Every value inside ``value`` (itself first) with its path: list / tuple indices, dict keys."""
    yield path, value
    if depth >= 6:
        return
    if type(value) in (list, tuple):
        for index, item in enumerate(value):
            yield from nodes(item, path + (index,), depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            yield from nodes(item, path + (("key", key),), depth + 1)
    elif type(value) is types.SimpleNamespace:
        for name, item in vars(value).items():
            yield from nodes(item, path + (("attr", name),), depth + 1)


def _pattern(path: Path) -> Path:
    # The first step picks the argument; below it, list and tuple indices are rows of a table.
    return path[:1] + tuple(_ANY if type(step) is int else step for step in path[1:])


def alike(path: Path, targets: list[Path]) -> list[Path]:
    """The paths among ``targets`` at the same place as ``path`` in sibling rows (``path`` too)."""
    pattern = _pattern(path)
    return [t for t in targets if len(t) == len(path) and _pattern(t) == pattern]


def replace_at(value: Any, path: Path, transform: Callable[[Any], Any]) -> Any:
    """A copy of ``value`` whose value at ``path`` is ``transform`` of it (containers copied on the way)."""
    if not path:
        return transform(value)
    step, rest = path[0], path[1:]
    if type(value) in (list, tuple) and type(step) is int and step < len(value):
        items = list(value)
        items[step] = replace_at(items[step], rest, transform)
        return type(value)(items)
    if type(value) is dict and type(step) is tuple and step[0] == "key" and step[1] in value:
        copy = dict(value)
        copy[step[1]] = replace_at(copy[step[1]], rest, transform)
        return copy
    if type(value) is types.SimpleNamespace and type(step) is tuple and step[0] == "attr" and step[1] in vars(value):
        fields = dict(vars(value))
        fields[step[1]] = replace_at(fields[step[1]], rest, transform)
        return types.SimpleNamespace(**fields)
    return value
