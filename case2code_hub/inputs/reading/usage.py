"""Body-usage inference: how a function body uses each name votes on that name's type.

``_UsageCollector`` walks a parsed function and records votes, constants and dict keys per name;
``_resolve`` folds in aliases (``s = text``) and element bindings (``for c in s``). Besides the data
kinds, a name that is called votes ``callable`` (``key(item)``), one treated as a class votes
``type`` (``issubclass(cls, ..)``, ``cls.__bases__``), one an ``except`` clause catches votes
``exception``, and one whose non-builtin attributes are read votes ``namespace``, with those
attributes recorded (``e.errcode``, ``hasattr(x, 'n')``).
"""

from __future__ import annotations

import ast
import codecs
import math
import os
import string
import types
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .annotations import _NAME_KINDS, _dotted_tail


_STR_METHODS = frozenset(
    "split rsplit splitlines strip lstrip rstrip lower upper title capitalize casefold swapcase "
    "startswith endswith isdigit isalpha isalnum isspace isupper islower isnumeric isdecimal "
    "isidentifier istitle isprintable isascii replace join encode format zfill center ljust rjust "
    "partition rpartition expandtabs translate removeprefix removesuffix find rfind format_map".split()
)
# Methods mostly called on single characters: their receiver's container is probably a str.
_CHAR_METHODS = frozenset("isdigit isalpha isalnum isspace isupper islower isnumeric isdecimal".split())
_CHAR_NAMES = frozenset("c ch char letter digit symbol".split())
_LIST_METHODS = frozenset("append extend insert sort reverse remove".split())
_DICT_METHODS = frozenset("items keys values get setdefault popitem fromkeys".split())
_SET_METHODS = frozenset(
    "add discard union intersection difference symmetric_difference issubset issuperset isdisjoint "
    "intersection_update difference_update".split()
)
# Methods several kinds share: a weak vote each.
_SHARED_METHODS = {
    "count": {"str": 1.0, "list": 1.0},
    "index": {"str": 1.0, "list": 1.0},
    "pop": {"list": 1.0, "dict": 0.6},
    "update": {"dict": 1.0, "set": 0.6},
    "copy": {"list": 1.0, "dict": 0.8},
    "clear": {"list": 1.0, "dict": 0.8},
    "decode": {"bytes": 3.0},
    "hex": {"bytes": 1.0, "float": 0.5},
    "is_integer": {"float": 3.0},
    "bit_length": {"int": 3.0},
    "conjugate": {"complex": 1.0},
}
_CALL_VOTES = {
    "len": {"list": 1.0, "str": 0.8},
    "range": {"int": 3.0},
    "int": {"str": 0.8, "float": 0.8, "int": 0.4},
    "float": {"str": 0.8, "int": 0.8},
    "str": {"int": 0.6},
    "ord": {"str": 3.0, "char": 1.0},
    "chr": {"int": 3.0},
    "hex": {"int": 3.0},
    "bin": {"int": 3.0},
    "oct": {"int": 3.0},
    "abs": {"int": 1.0, "float": 0.8},
    "round": {"float": 2.0},
    "sorted": {"list": 1.5},
    "sum": {"list": 2.0},
    "enumerate": {"list": 1.5, "str": 0.5},
    "zip": {"list": 1.5},
    "reversed": {"list": 1.5, "str": 0.5},
    "set": {"list": 1.5},
    "list": {"list": 1.0, "str": 0.5},
    "tuple": {"list": 1.5},
    "dict": {"dict": 1.0},
    "any": {"list": 1.5},
    "all": {"list": 1.5},
    "divmod": {"int": 2.0},
    "pow": {"int": 2.0},
    "bool": {"int": 0.5, "str": 0.5},
}
_ELEMENT_CALLS = frozenset("sum max min sorted".split())
# Attributes a type has and data values do not: ``klass.__bases__``, ``obj.__qualname__``.
_TYPE_ATTRS = frozenset("__name__ __qualname__ __module__ __bases__ __mro__ __dict__ __abstractmethods__".split())
# The class attributes that are plain text, which a function or a ``types.SimpleNamespace`` carries too.
_NAME_ATTRS = frozenset(("__name__", "__qualname__", "__module__"))
# Attributes of the builtin data types: ``z.real`` or ``s.upper`` say nothing of an object.
_DATA_ATTRS = frozenset(
    name for kind in (str, bytes, bytearray, int, float, complex, list, tuple, dict, set, frozenset) for name in dir(kind)
)
# Dunder names an object of the grammar already answers (``__class__``, ``__eq__``): an attribute read of
# those says nothing about the value; other dunders (``__spec__``, ``__wrapped__``) are data a
# ``types.SimpleNamespace`` can carry.
_OBJECT_ATTRS = frozenset(dir(types.SimpleNamespace()))
_ISINSTANCE_KINDS = {k: v for k, v in _NAME_KINDS.items() if v not in ("any",)}


@dataclass
class _Usage:
    votes: Counter = field(default_factory=Counter)
    constants: list = field(default_factory=list)
    keys: list = field(default_factory=list)
    element_names: list = field(default_factory=list)  # names bound to its elements
    value_names: list = field(default_factory=list)  # names bound to a dict's values (.items())
    element: "_Usage | None" = None  # usage of ``x[i]`` itself
    attrs: list = field(default_factory=list)  # attributes read off it (``e.errcode``): an object's

    def vote(self, kinds: dict[str, float]) -> None:
        for kind, weight in kinds.items():
            self.votes[kind] += weight

    def sub(self) -> "_Usage":
        if self.element is None:
            self.element = _Usage()
        return self.element


def _constant(node: ast.AST) -> Any:
    """A plain number or string constant (signs included) or a standard-library module's
    (``codecs.BOM_UTF8``), else a sentinel."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bytes)):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in _CONSTANT_MODULES:
        value = getattr(_CONSTANT_MODULES[node.value.id], node.attr, None)
        if type(value) in (int, float, str, bytes):
            return value
    return _NO_CONSTANT


_NO_CONSTANT = object()
#: Standard-library modules whose constants a body compares with (``b.startswith(codecs.BOM_UTF8)``,
#: ``c in string.digits``, ``x == math.inf``): read from these modules, imported here whatever the
#: function imports, so the reading is the same in every process.
_CONSTANT_MODULES = {module.__name__: module for module in (codecs, string, math, os)}


def named_constants(tree: ast.AST) -> dict[str, Any]:
    """Names bound exactly once in ``tree``, by a plain assignment of a constant (``STAR = '*'``)."""
    values: dict[str, Any] = {}
    bound: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] += 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _constant(node.value)
            if value is not _NO_CONSTANT:
                values[node.targets[0].id] = value
    return {name: value for name, value in values.items() if bound[name] == 1}


def constant_names(tree: ast.AST) -> dict[str, list[Any]]:
    """Names every binding of which, in ``tree``, assigns a constant, with those constants: a local
    ``sep = '\\\\'`` here and ``sep = b'\\\\'`` there (``splitdrive``) stands for either."""
    values: dict[str, list[Any]] = {}
    plain: Counter = Counter()
    bound: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] += 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found = folded(node.value, {})
            if len(found) == 1:
                plain[node.targets[0].id] += 1
                if found[0] not in values.setdefault(node.targets[0].id, []):
                    values[node.targets[0].id].append(found[0])
    return {name: found for name, found in values.items() if bound[name] == plain[name]}


#: Bounds on folded constants: a test's ``(1 << 63) - 1`` is wanted, ``2 ** 10**9`` is not.
_FOLD_BITS = 256
_FOLD_LEN = 64


def folded(node: ast.AST, names: dict[str, list[Any]]) -> list[Any]:
    """The values an arithmetic expression over constants and constant names can have
    (``(1 << 63) - 1``, ``sep * 2`` for each of ``sep``'s values, ``-256 ** 3``), within small bounds;
    [] when it is not one. Computed on the values, never by evaluating code."""
    value = _constant(node)
    if value is not _NO_CONSTANT:
        return [value]
    if isinstance(node, ast.Name):
        return list(names.get(node.id, ()))[:4]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert)):
        kinds = (int, float) if isinstance(node.op, ast.USub) else (int,)
        return [-v if isinstance(node.op, ast.USub) else ~v for v in folded(node.operand, names) if type(v) in kinds]
    if not isinstance(node, ast.BinOp):
        return []
    out = []
    for left in folded(node.left, names):
        for right in folded(node.right, names):
            try:
                value = _binop(node.op, left, right)
            except (ArithmeticError, TypeError, ValueError):
                continue
            if value is not _NO_CONSTANT and value not in out:
                out.append(value)
    return out[:4]


def _binop(op: ast.operator, left: Any, right: Any) -> Any:
    numbers = (int, float)
    if type(left) in numbers and type(right) in numbers:
        if isinstance(op, (ast.LShift, ast.Pow)) and (type(right) is not int or not 0 <= right <= _FOLD_BITS):
            return _NO_CONSTANT
        result = {
            ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right,
            ast.FloorDiv: lambda: left // right, ast.Mod: lambda: left % right, ast.Div: lambda: left / right,
            ast.LShift: lambda: left << right, ast.RShift: lambda: left >> right, ast.Pow: lambda: left ** right,
            ast.BitOr: lambda: left | right, ast.BitAnd: lambda: left & right, ast.BitXor: lambda: left ^ right,
        }.get(type(op))  # fmt: skip
        if result is None:
            return _NO_CONSTANT
        value = result()
        return value if type(value) is float or abs(value).bit_length() <= _FOLD_BITS else _NO_CONSTANT
    if isinstance(op, ast.Add) and type(left) is type(right) and type(left) in (str, bytes):
        return left + right if len(left) + len(right) <= _FOLD_LEN else _NO_CONSTANT
    if isinstance(op, ast.Mult) and {type(left), type(right)} in ({str, int}, {bytes, int}):
        text, count = (left, right) if type(right) is int else (right, left)
        return text * count if 0 <= count and len(text) * count <= _FOLD_LEN else _NO_CONSTANT
    return _NO_CONSTANT


def named_collections(tree: ast.AST) -> dict[str, list[Any]]:
    """Names bound exactly once to a dict, list, tuple or set display, with its constant keys or
    elements (``_nameToLevel = {'CRITICAL': 50, ...}``: ``level in _nameToLevel`` wants those keys)."""
    found: dict[str, list[Any]] = {}
    bound: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] += 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            display = node.value
            items = display.keys if isinstance(display, ast.Dict) else getattr(display, "elts", None)
            if isinstance(display, (ast.Dict, ast.List, ast.Tuple, ast.Set)) and items:
                values = [_constant(item) for item in items if item is not None]
                found[node.targets[0].id] = [v for v in values if v is not _NO_CONSTANT][:16]
    return {name: values for name, values in found.items() if bound[name] == 1 and values}


def _kind_of_constant(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}.get(type(value), "any")


class _UsageCollector:
    """Votes on the kind of each name from the expressions it appears in."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef, module: ast.AST | None = None) -> None:
        self.usage: dict[str, _Usage] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(func):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        # Source order, so that constants and keys are listed as the reader meets them.
        nodes = sorted(
            (n for n in ast.walk(func) if isinstance(n, (ast.Name, ast.AugAssign))),
            key=lambda n: (n.lineno, n.col_offset),
        )
        # The module's names too: ``TICK = "'"`` at the top, then ``s.split(TICK)`` in the body.
        self.named = named_constants(module or func)
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self._classify(node, self._get(node.id))
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self._binop_partner(node.op, node.value, self._get(node.target.id))

    def _get(self, name: str) -> _Usage:
        if name not in self.usage:
            self.usage[name] = _Usage()
        return self.usage[name]

    def _classify(self, node: ast.expr, usage: _Usage, depth: int = 0) -> None:
        parent = self.parents.get(node)
        if parent is None:
            return
        if isinstance(parent, ast.Subscript) and parent.value is node:
            self._subscript(parent, usage, depth)
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            call = self.parents.get(parent)
            if isinstance(call, ast.Call) and call.func is parent:
                self._method(parent.attr, call, usage)
            else:
                self._attribute(parent.attr, usage)
        elif isinstance(parent, ast.Call) and parent.func is node:  # ``key(item)``
            usage.vote({"callable": 3.0})
        elif self._caught(parent, node):  # ``except exc as e``: an exception class
            usage.vote({"exception": 4.0})
        elif isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
            usage.vote({"list": 1.0, "str": 0.4})
            self._bind_elements(parent.target, usage)
        elif isinstance(parent, ast.Call) and node in parent.args:
            self._call_argument(parent, node, usage)
        elif isinstance(parent, ast.Compare):
            self._compare(parent, node, usage)
        elif isinstance(parent, ast.BinOp):
            partner = parent.right if parent.left is node else parent.left
            self._binop_partner(parent.op, partner, usage)
        elif isinstance(parent, ast.UnaryOp):
            usage.vote({"bool": 0.5} if isinstance(parent.op, ast.Not) else {"int": 1.0, "float": 0.5})
        elif isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
            usage.vote({"bool": 0.6})
        elif isinstance(parent, ast.BoolOp):
            usage.vote({"bool": 0.3})
        elif isinstance(parent, ast.Assign) and parent.value is node:
            for target in parent.targets:  # an alias: ``s = text`` (or ``v = x[i]``) shares its usage
                if isinstance(target, ast.Name):
                    usage.element_names.append(("alias", target.id))

    def _caught(self, parent: ast.AST, node: ast.expr) -> bool:
        """Whether ``node`` is the class of an ``except`` clause, alone or in its tuple."""
        if isinstance(parent, ast.Tuple):
            node, parent = parent, self.parents.get(parent)
        return isinstance(parent, ast.ExceptHandler) and parent.type is node

    def _subscript(self, sub: ast.Subscript, usage: _Usage, depth: int) -> None:
        index = sub.slice
        if isinstance(index, ast.Slice):
            usage.vote({"list": 1.0, "str": 1.0})
            return
        key = _constant(index)
        if isinstance(key, str):
            usage.vote({"dict": 3.0})
            if key not in usage.keys:
                usage.keys.append(key)
        elif isinstance(key, int):
            usage.vote({"list": 1.0, "str": 0.5, "tuple": 0.3})
        else:
            usage.vote({"list": 1.0, "str": 0.4, "dict": 0.3})
        if depth < 2 and isinstance(sub.ctx, ast.Load):
            self._classify(sub, usage.sub(), depth + 1)
        elif isinstance(sub.ctx, ast.Store):
            usage.vote({"list": 0.5, "dict": 0.5})

    def _method(self, name: str, call: ast.Call, usage: _Usage) -> None:
        if name in _STR_METHODS:
            usage.vote({"str": 3.0, "char": 1.0} if name in _CHAR_METHODS else {"str": 3.0})
            for arg in call.args[:1]:
                value = self._value(arg)
                if isinstance(value, str):
                    usage.constants.append(value)
        elif name in _LIST_METHODS:
            usage.vote({"list": 3.0})
        elif name in _DICT_METHODS:
            usage.vote({"dict": 3.0})
            if name == "get" and call.args and isinstance(_constant(call.args[0]), str):
                usage.keys.append(_constant(call.args[0]))
            if name == "items":
                holder = self.parents.get(call)
                if isinstance(holder, (ast.For, ast.comprehension)) and isinstance(holder.target, ast.Tuple):
                    elts = holder.target.elts
                    if len(elts) == 2 and isinstance(elts[1], ast.Name):
                        usage.value_names.append(elts[1].id)
        elif name in _SET_METHODS:
            usage.vote({"set": 3.0})
        elif name in _SHARED_METHODS:
            usage.vote(_SHARED_METHODS[name])

    @staticmethod
    def _attribute(name: str, usage: _Usage) -> None:
        """``klass.__bases__`` votes for a type; ``e.errcode`` for an object that has ``errcode``."""
        if name in _TYPE_ATTRS:
            usage.vote({"type": 2.0})
            if name not in _NAME_ATTRS:
                return
            usage.vote({"namespace": 0.5})  # also any object that carries one (a function, a typing alias)
        elif name in _DATA_ATTRS or name in _OBJECT_ATTRS:
            return
        else:
            usage.vote({"namespace": 2.0})
        if name not in usage.attrs:
            usage.attrs.append(name)

    def _bind_elements(self, target: ast.expr, usage: _Usage) -> None:
        if isinstance(target, ast.Name):
            usage.element_names.append(("element", target.id))
        elif isinstance(target, ast.Tuple):
            usage.sub().vote({"tuple": 2.0})

    def _call_argument(self, call: ast.Call, node: ast.expr, usage: _Usage) -> None:
        name = _dotted_tail(call.func)
        if name == "isinstance" and len(call.args) == 2 and call.args[0] is node:
            classes = call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]
            for cls in classes:
                kind = _ISINSTANCE_KINDS.get((_dotted_tail(cls) or "").lower())
                if kind:
                    usage.vote({kind: 4.0})
            return
        if name == "issubclass" and call.args[0] is node:
            usage.vote({"type": 4.0})
            return
        if name == "callable":
            usage.vote({"callable": 2.0})
            return
        if name in ("getattr", "hasattr") and len(call.args) >= 2 and call.args[0] is node:
            attribute = _constant(call.args[1])
            if isinstance(attribute, str) and attribute.isidentifier():
                self._attribute(attribute, usage)
            return
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            if call.func.value.id in ("math", "cmath"):
                usage.vote({"float": 1.5, "int": 1.0})
                return
        if isinstance(call.func, ast.Attribute) and isinstance(_constant(call.func.value), str):
            if call.func.attr == "join":  # ', '.join(x)
                usage.vote({"list": 2.0})
                usage.sub().vote({"str": 3.0})
                return
        if name in ("max", "min") and len(call.args) > 1:
            usage.vote({"int": 1.0, "float": 0.5})
            return
        if name in _CALL_VOTES:
            usage.vote(_CALL_VOTES[name])
        if name in _ELEMENT_CALLS:
            usage.sub().vote({"int": 1.0, "float": 0.3})

    def _compare(self, cmp: ast.Compare, node: ast.expr, usage: _Usage) -> None:
        operands = [cmp.left, *cmp.comparators]
        position = next(i for i, o in enumerate(operands) if o is node)
        for i, op in enumerate(cmp.ops):
            if position not in (i, i + 1):
                continue
            other = operands[i + 1] if position == i else operands[i]
            if isinstance(op, (ast.Is, ast.IsNot)):
                if isinstance(other, ast.Constant) and other.value is None:
                    usage.vote({"none": 0.5})
                continue
            if isinstance(op, (ast.In, ast.NotIn)):
                if position == i + 1:  # ``k in x``: x is a container
                    usage.vote({"list": 1.0, "str": 0.8, "dict": 0.6, "set": 0.6})
                    value = self._value(other)
                    if isinstance(value, str):
                        usage.vote({"str": 1.0})
                        usage.constants.append(value)
                elif isinstance(other, (ast.Tuple, ast.List, ast.Set)):  # ``x in ('a', 'b')``
                    for elt in other.elts:
                        value = self._value(elt)
                        if value is not _NO_CONSTANT:
                            usage.constants.append(value)
                            usage.vote({_kind_of_constant(value): 1.0})
                else:
                    value = self._value(other)
                    if isinstance(value, str):  # ``x in "aeiou"``
                        usage.vote({"str": 2.0})
                        usage.constants.extend(value[:8])
                continue
            value = self._value(other)
            if value is not _NO_CONSTANT:
                usage.constants.append(value)
                kind = _kind_of_constant(value)
                usage.vote({"int": 2.0, "float": 1.0} if kind == "int" else {kind: 2.0})
            elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                usage.vote({"int": 0.5, "float": 0.3})

    def _value(self, node: ast.expr) -> Any:
        # ``sep = "-"`` once, then ``s[4] == sep``: the comparison is with "-" all the same.
        value = _constant(node)
        if value is _NO_CONSTANT and isinstance(node, ast.Name):
            return self.named.get(node.id, _NO_CONSTANT)
        return value

    def _binop_partner(self, op: ast.operator, partner: ast.expr, usage: _Usage) -> None:
        value = _constant(partner)
        if isinstance(op, ast.Mod) and isinstance(value, int):
            usage.vote({"int": 2.0})
        elif isinstance(op, (ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor, ast.FloorDiv)):
            usage.vote({"int": 2.0})
        elif isinstance(value, str):
            usage.vote({"str": 3.0})
        elif isinstance(value, float):
            usage.vote({"float": 2.0, "int": 0.5})
        elif isinstance(value, int):
            if isinstance(op, ast.Mult):
                usage.vote({"int": 1.5, "str": 0.3, "list": 0.3})
            else:
                usage.vote({"int": 2.0, "float": 0.8})
        elif isinstance(partner, (ast.List, ast.ListComp)):
            usage.vote({"list": 2.0})
        elif isinstance(op, (ast.Sub, ast.Div, ast.Pow)):
            usage.vote({"int": 1.0, "float": 0.8})
        else:
            usage.vote({"int": 0.5, "float": 0.3, "str": 0.2})


def _merge(target: _Usage, source: _Usage, weight: float) -> None:
    for kind, votes in source.votes.items():
        target.votes[kind] += votes * weight
    target.constants.extend(source.constants)
    target.keys.extend(k for k in source.keys if k not in target.keys)
    target.attrs.extend(a for a in source.attrs if a not in target.attrs)


def _resolve(name: str, usage: dict[str, _Usage], seen: set[str]) -> _Usage:
    """A name's own usage plus its aliases' (``s = text``) and its elements' (``for c in s``)."""
    own = usage.get(name, _Usage())
    result = _Usage(Counter(own.votes), list(own.constants), list(own.keys), attrs=list(own.attrs))
    element = _Usage()
    if own.element is not None:
        _merge(element, own.element, 1.0)
        for _, other in own.element.element_names:  # ``v = x[i]``: v's usage is the element's
            if other not in seen:
                _merge(element, _resolve(other, usage, seen | {name}), 0.8)
    seen = seen | {name}
    for relation, other in own.element_names:
        if other in seen:
            continue
        resolved = _resolve(other, usage, seen)
        if relation == "alias":
            _merge(result, resolved, 0.8)
            if resolved.element is not None:
                _merge(element, resolved.element, 0.8)
        else:
            _merge(element, resolved, 1.0)
            if other in _CHAR_NAMES:
                element.votes["char"] += 1.0
    for other in own.value_names:
        if other not in seen:
            _merge(element, _resolve(other, usage, seen), 1.0)
    # Elements that are characters (``for c in s: c.isdigit()``) mean the container is a str.
    chars = element.votes.pop("char", 0)
    result.votes.pop("char", None)
    if chars:
        result.votes["str"] += 2.0 * chars
    if element.votes:
        result.element = element
    return result
