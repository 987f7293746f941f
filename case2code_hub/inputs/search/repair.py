"""Error-guided repair: a raised call's exception says what its input lacked; mutate towards it.

``KeyError: 'pos'`` adds the key to the input's dicts; ``'int' object is not subscriptable`` or
``'list' object has no attribute 'keys'`` turns values of the named type into a type that has what
the body used (into a ``types.SimpleNamespace`` holding the value when no builtin type has the
attribute, ``item.weight``; a namespace that lacks one gains it); unpacking errors resize containers
to the expected length; index errors grow them; ``substring not found`` puts one of the body's
strings in.
Random mutation finds such structure only by luck, and a chain of them (a dict of lists of pairs)
practically never; each repair is one step, and the search keeps a step whose call raises a new
error or reaches new lines, so chains are walked one error at a time.

The message is read as text (the key by our own literal parser); values are built here, never run.
A change applies to one value or, as often, to every value at the same place in sibling elements
(``[{'a': 1}, {'a': 2}]`` gains the key in both dicts): rows of a table are usually alike.
"""

from __future__ import annotations

import ast
import decimal
import fractions
import math
import random
import re
import types
from typing import Any, Callable

from ... import literals
from ...errors import LiteralSyntaxError
from ...schema import CaseCoverage
from ...utils.syntax import parse_ast
from ..reading.analysis import FunctionAnalysis
from ..offline import Candidate
from .trees import alike, nodes, replace_at
from ..values import ATTRIBUTE_VALUES, _hashable

_TYPES: dict[str, type] = {
    "int": int, "float": float, "str": str, "list": list, "dict": dict, "tuple": tuple, "set": set,
    "NoneType": type(None), "bool": bool, "bytes": bytes, "frozenset": frozenset,
}  # fmt: skip
# Where a body used an attribute, the builtin types that have it, most likely first.
_ATTRIBUTE_TYPES = (str, list, dict, set, tuple, int, float)


class Blame:
    """Which arguments a raised call's failing line names: the repair changes those first.

    The sandbox's coverage of a call ends, in each frame, with an arc from the line the frame
    left by (for a raised call, the line that raised) to the frame's exit; the parameters named on
    those lines are the likely culprits. ``droite_normale(d, p)`` failing on ``x, y = p`` blames
    ``p``, not ``d``. Read statically from the code, never run.
    """

    def __init__(self, code: str, analysis: FunctionAnalysis) -> None:
        self.params = {p.name for p in analysis.params}
        self.positional = [p.name for p in analysis.params if p.kind in ("positional_only", "positional")]
        self.varargs = next((p.name for p in analysis.params if p.kind == "var_positional"), None)
        self.names: dict[int, set[str]] = {}
        try:
            tree = parse_ast(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        origins = _aliases(tree, self.params)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in origins:
                self.names.setdefault(node.lineno, set()).update(origins[node.id])

    def places(self, candidate: Candidate, coverage: CaseCoverage | None) -> tuple[int, ...]:
        """Indices into ``[*args, *kwargs.values()]`` of the blamed arguments (empty: no idea)."""
        if coverage is None:
            return ()
        named: set[str] = set()
        for source, target in coverage.arcs:
            if target < 0 < source:
                named |= self.names.get(source, set())
        if not named:
            return ()
        args = [self.positional[i] if i < len(self.positional) else self.varargs for i in range(len(candidate.args))]
        return tuple(i for i, name in enumerate([*args, *candidate.kwargs]) if name in named)


_TYPE_NAME = re.compile(r"""(['"])(?:int|float|str|bool|NoneType|list|dict|tuple|set|frozenset|bytes|complex)\1""")


def error_shape(output: str) -> str:
    """An error with the builtin type names it mentions blanked: ``'int' object is not iterable``
    and ``'bool' object is not iterable`` are the same news (a type switch that raised one is no
    step forward); ``KeyError: 'pos'`` and ``KeyError: 'name'`` stay apart."""
    return _TYPE_NAME.sub("'T'", output)


def _aliases(tree: ast.AST, params: set[str]) -> dict[str, set[str]]:
    """For each name, the parameters its value comes from: a parameter itself, or a name bound
    from an expression naming one (``for c in columns``, ``row = table[i]``), transitively."""
    origins = {name: {name} for name in params}
    bindings: list[tuple[ast.AST, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bindings.append((node.target, node.iter))
        elif isinstance(node, ast.Assign):
            bindings += [(target, node.value) for target in node.targets]
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            bindings.append((node.target, node.value))
    for _ in range(3):  # a chain of three bindings is deep enough for a small function
        for target, value in bindings:
            sources = set().union(*(origins.get(n.id, set()) for n in ast.walk(value) if isinstance(n, ast.Name)))
            for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                if name not in params and sources:
                    origins.setdefault(name, set()).update(sources)
    return origins


def repaired(parent: Candidate, error: str, rng: random.Random, strs: tuple[str, ...] = ()) -> Candidate | None:
    """A copy of ``parent`` changed as ``error`` (the ``Type: message`` it raised) suggests.

    Args:
        parent: the call that raised; its ``blamed`` arguments, if any, are the ones changed.
        error: its output, such as ``"KeyError: 'pos'"``.
        rng: the function's seeded random source.
        strs: the body's string literals, for new strings and keys.

    Returns:
        The repaired candidate, or None when the error says nothing usable (or nothing fits it).
    """
    kind, _, message = error.partition(":")
    message = message.strip()
    values = [*parent.args, *parent.kwargs.values()]
    change = _plan(kind.strip(), message, values, rng, strs)
    if change is None:
        return None
    select, transform = change
    targets = [path for path, value in nodes(values) if path and select(value)]
    blamed = [path for path in targets if path[0] in parent.blamed]
    # Now and then any argument: the blamed line may only pass on a value that is wrong elsewhere.
    targets = blamed if blamed and rng.random() < 0.85 else targets
    if not targets:
        return None
    path = rng.choice(targets)
    # Half the time the change reaches every value in the same place of sibling rows.
    chosen = alike(path, targets) if rng.random() < 0.5 else [path]
    for target in sorted(chosen, key=len, reverse=True):
        values = replace_at(values, target, transform)
    n = len(parent.args)
    return Candidate(values[:n], dict(zip(parent.kwargs, values[n:])), origin="repair")


def _plan(kind: str, message: str, values: list[Any], rng: random.Random, strs: tuple[str, ...]):
    """``(which values to change, how)`` for one exception, or None."""
    if kind == "KeyError":
        try:
            key = literals.parse_value(message)
            hash(key)
        except (LiteralSyntaxError, TypeError, ValueError, RecursionError):
            return None
        has_dict = any(type(v) is dict for _, v in nodes(values))
        if has_dict:
            return (lambda v: type(v) is dict), lambda v: _with_key(v, key, rng)
        return (lambda v: True), lambda v: {key: v}
    if kind == "AttributeError":
        found = re.match(r"'([\w.]+)' object has no attribute '(\w+)'", message)
        if not found:
            return None
        owner, name = found.groups()
        if owner == "types.SimpleNamespace":  # the object lacks one more attribute the body reads
            return (lambda v: type(v) is types.SimpleNamespace and not hasattr(v, name)), (
                lambda v: types.SimpleNamespace(**vars(v), **{name: rng.choice(ATTRIBUTE_VALUES)}))
        if owner not in _TYPES:
            return None
        wanted = [t for t in _ATTRIBUTE_TYPES if hasattr(t, name)]
        if not wanted:  # no builtin type has it (``e.errcode``): an object that has it, holding the value
            return (lambda v: type(v) is _TYPES[owner]), lambda v: types.SimpleNamespace(**{name: v})
        return _switch(_TYPES[owner], rng.choice(wanted[:2]) if rng.random() < 0.8 else rng.choice(wanted), rng, strs)
    if kind == "IndexError":
        found = re.match(r"(list|string|tuple) index out of range", message)
        if not found:
            return None
        kind_type = {"list": list, "string": str, "tuple": tuple}[found.group(1)]
        return (lambda v: type(v) is kind_type), lambda v: _grown(v, rng, strs)
    if kind == "ValueError":
        return _value_error(message, rng, strs)
    if kind == "TypeError":
        return _type_error(message, rng, strs)
    if kind == "ZeroDivisionError":
        return (lambda v: type(v) in (int, float) and v == 0), lambda v: type(v)(rng.choice((1, 2, -1, 3)))
    return None


def _value_error(message: str, rng: random.Random, strs: tuple[str, ...]):
    unpack = re.search(r"values to unpack \(expected (\d+)(?:, got (\d+))?\)", message)
    if unpack:
        expected = int(unpack.group(1))
        got = int(unpack.group(2)) if unpack.group(2) else None
        sized = (list, tuple, str, dict, set)

        def wrong(v: Any) -> bool:
            return type(v) in sized and (len(v) == got if got is not None else len(v) > expected)

        return wrong, lambda v: _resized(v, expected, rng)
    number = re.match(r"(invalid literal for int\(\) with base \d+|could not convert string to float): (.*)", message)
    if number:
        return (lambda v: type(v) is str), lambda v: _digits(v, rng)
    if "math domain error" in message:
        return (lambda v: type(v) in (int, float) and v <= 0), lambda v: type(v)(abs(v) + rng.choice((1, 2, 10)))
    if message in ("substring not found", "subsection not found") and strs:
        # ``s.index('(')`` found none: one of the body's strings (the one it looked for, often) goes in.
        kind = str if message == "substring not found" else bytes

        def with_literal(v: Any) -> Any:
            word = rng.choice(strs)
            piece = word if kind is str else word.encode("utf-8")
            # At the end half the time: the text before it got this far, and keeps its prefix.
            at = len(v) if rng.random() < 0.5 else rng.randint(0, len(v))
            return v[:at] + piece + v[at:]

        return (lambda v: type(v) is kind), with_literal
    return None


def _type_error(message: str, rng: random.Random, strs: tuple[str, ...]):
    found = re.match(r"'(\w+)' object is not (subscriptable|iterable)", message)
    if found and found.group(1) in _TYPES:
        options = (list, dict, str, tuple) if found.group(2) == "subscriptable" else (list, str, tuple)
        return _switch(_TYPES[found.group(1)], rng.choice(options), rng, strs)
    found = re.match(r"cannot unpack non-iterable (\w+) object", message)
    if found and found.group(1) in _TYPES:
        return _switch(_TYPES[found.group(1)], tuple, rng, strs)
    found = re.match(r"object of type '(\w+)' has no len\(\)", message)
    if found and found.group(1) in _TYPES:
        return _switch(_TYPES[found.group(1)], rng.choice((list, str)), rng, strs)
    found = re.match(r"unhashable type: '(\w+)'", message)
    if found and found.group(1) in _TYPES:
        return _switch(_TYPES[found.group(1)], rng.choice((str, int, tuple)), rng, strs)
    found = re.match(r"'(\w+)' object cannot be interpreted as an integer", message)
    if found and found.group(1) in _TYPES:
        return _switch(_TYPES[found.group(1)], int, rng, strs)
    found = re.match(r"(string|list|tuple) indices must be integers", message)
    if found:  # used as a mapping: ``row['name']`` on a str or a list
        return _switch({"string": str, "list": list, "tuple": tuple}[found.group(1)], dict, rng, strs)
    # "must be str, not int", "can only concatenate str (not "int") to str", "... requires string
    # as left operand, not int", "bad operand type for unary -: 'str'": the named type is wrong.
    wrong = re.search(r"""(?:not|type for unary .:) ["']?(\w+)["']?""", message)
    if wrong and wrong.group(1) in _TYPES:
        wanted = [_TYPES[name] for name in re.findall(r"\b(str|int|float|list|tuple|dict|bytes)\b", message)
                  if name != wrong.group(1)]
        if "string" in message:
            wanted.append(str)
        target = rng.choice(wanted) if wanted else rng.choice((int, str, list))
        return _switch(_TYPES[wrong.group(1)], target, rng, strs)
    # "unsupported operand type(s) for +: 'int' and 'str'", "'<' not supported between instances
    # of 'list' and 'int'": either side may be the wrong one.
    pair = re.search(r"'(\w+)' and '(\w+)'", message)
    if pair and pair.group(1) in _TYPES and pair.group(2) in _TYPES and pair.group(1) != pair.group(2):
        old, new = pair.groups() if rng.random() < 0.5 else pair.groups()[::-1]
        return _switch(_TYPES[old], _TYPES[new], rng, strs)
    return None


def _switch(old: type, new: type, rng: random.Random, strs: tuple[str, ...]) -> tuple[Callable, Callable]:
    def select(value: Any) -> bool:
        # Iterating or unpacking a dict yields its keys: a dict keyed by ``old`` is wrong as well.
        return type(value) is old or type(value) is dict and bool(value) and all(type(k) is old for k in value)

    def transform(value: Any) -> Any:
        if type(value) is dict and old is not dict:
            if new is dict:  # iterated where its rows were meant: ``for c in columns: c['name']``
                return [value]
            return tuple(converted(key, new, rng, strs) for key in value)
        made = converted(value, new, rng, strs)
        # A str iterated as rows of records wants a list of dicts, not one dict.
        return [made] if new is dict and type(value) is str and rng.random() < 0.4 else made

    return select, transform


def converted(value: Any, new: type, rng: random.Random, strs: tuple[str, ...] = ()) -> Any:
    """A value of type ``new`` made from ``value``: its items, its text, or its size."""
    items = _items(value)
    if new is type(None):
        return None
    if new is str:
        if type(value) in (int, float):
            return str(value)
        if type(value) is bytes:
            return value.decode("latin-1")
        if items and all(type(i) is str for i in items) and rng.random() < 0.5:
            return " ".join(items)
        return rng.choice([s for s in strs if s] or ["abc", "hello world", "x"]) if rng.random() < 0.5 else "a b c"
    if new is int:
        if type(value) is str and value.strip().lstrip("-").isdecimal():
            return int(value)
        if type(value) is float and math.isfinite(value):
            return int(value)
        return len(items) if items else rng.choice((1, 2, 3, 5))
    if new is bytes:  # str and bytes often share a function (``if isinstance(s, bytes)``)
        if type(value) is str:
            return value.encode("utf-8", "surrogatepass")  # a lone surrogate too: it has its three bytes
        return bytes(i % 256 for i in items if type(i) is int) if items else b"abc"
    if new is bool:
        return not value if type(value) is bool else bool(items or value)
    if new is float:
        if type(value) in (int, bool):  # ``2 ** 1024`` is past every float: it becomes the infinity
            return float(value) + 0.5 if abs(value) < 2**1023 else (math.inf if value > 0 else -math.inf)
        return rng.choice((1.5, 0.5, 2.0))
    if new is decimal.Decimal:
        return decimal.Decimal(str(value)) if type(value) in (int, float) else decimal.Decimal("1.5")
    if new is fractions.Fraction:
        if type(value) is float and math.isfinite(value):
            return fractions.Fraction(value).limit_denominator(1000)
        return fractions.Fraction(value) if type(value) is int else fractions.Fraction(1, 3)
    if new in (list, tuple, set):
        if not items or type(value) is str and rng.random() < 0.5:
            items = [value, _sibling(value, rng)] if value is not None else [1, 2]
        if new is set:
            return {i for i in items if _hashable(i)}
        return new(items)
    if new is dict:
        keys = [s for s in strs if s] or ["a", "b", "c"]
        if type(value) is list and value:
            return {keys[i % len(keys)] if i < len(keys) else f"k{i}": item for i, item in enumerate(value)}
        return {rng.choice(keys): value if value is not None else 1}
    return value


def _items(value: Any) -> list[Any]:
    if type(value) in (list, tuple):
        return list(value)
    if type(value) in (set, frozenset):
        return sorted(value, key=repr)
    if type(value) is dict:
        return list(value.values())
    return []


def _sibling(value: Any, rng: random.Random) -> Any:
    """A value like ``value`` but different, for padding a new container."""
    if type(value) is int:
        return value + rng.choice((1, 2, -1, 5))
    if type(value) is float:
        return value + 0.5
    if type(value) is str:
        return value + "x" if value else "a"
    if type(value) in (list, tuple):
        return type(value)(_sibling(i, rng) for i in value)
    if type(value) is dict:
        return {k: _sibling(v, rng) for k, v in value.items()}
    return value


def _with_key(value: dict, key: Any, rng: random.Random) -> dict:
    copy = dict(value)
    if copy:
        copy[key] = _sibling(rng.choice(list(copy.values())), rng)
    else:
        copy[key] = rng.choice((1, "a", [1, 2], 0))
    return copy


def _grown(value: Any, rng: random.Random, strs: tuple[str, ...]) -> Any:
    # The same IndexError again is no news the search keeps: grow by enough in one step.
    extra = rng.choice((1, 2, 3, 5, 8))
    if type(value) is str:
        return value + "".join(rng.choice("abc 12,") for _ in range(extra)) if rng.random() < 0.7 else value * 2 or "ab"
    items = list(value)
    for _ in range(extra):
        items.append(_sibling(items[-1], rng) if items else rng.choice((1, "a", 0)))
    return type(value)(items)


def _resized(value: Any, size: int, rng: random.Random) -> Any:
    items = list(value) if type(value) is not dict else list(value.values())
    if type(value) is str:
        items = list(value) or ["a"]
    while len(items) < size:
        items.append(_sibling(items[-1], rng) if items else rng.choice((1, 2, 3)))
    items = items[:size]
    if type(value) is str:
        return "".join(items) if rng.random() < 0.3 else tuple(items)
    return tuple(items) if type(value) in (tuple, dict, set) or rng.random() < 0.5 else items


def _digits(value: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice("0123456789") for _ in range(max(1, min(len(value), 6))))
    return str(rng.randint(0, 100))
