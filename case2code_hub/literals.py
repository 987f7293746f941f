"""The input grammar of the data contract, read by our own evaluator over ``ast`` (never ``eval``).

A case's ``input`` is the source of an argument list, ``3, b='x'``. Each argument is a Python
literal (numbers, strings, bytes, ``None``, ``True``, ``...``, tuples, lists, dicts, sets, with unary
signs and complex sums such as ``1-2j``), or a call of a whitelisted pure constructor
(``set()``, ``frozenset([1])``, ``float('inf')``, ``decimal.Decimal('1.5')``,
``datetime.date(2024, 1, 2)``, ``types.SimpleNamespace(errcode=-1)``, ``functools.partial(max, 0)``,
``classmethod(len)``, ...) whose own arguments follow the same grammar, or a bare name from
``NAMED_VALUES``: a type (``int``, ``object``), a pure builtin function (``len``, ``abs``,
``str.lower``), an exception class (``ValueError``), ``Ellipsis``, or one pure function written in
Python (``os.path.basename``); or a builtin container class subscripted with classes (``list[int]``,
``tuple[int, ...]``). A name stands for that fixed object and is never called by the evaluator, so
an input can pass a key function (``key=abs``), a type, or an object with attributes.

This module is imported inside the sandbox's zygote, so it imports only the standard library.
"""

from __future__ import annotations

import ast
import collections
import datetime
import decimal
import fractions
import functools
import json
import keyword
import math
import posixpath
import re
import types
from typing import Any, Callable

from .errors import LiteralSyntaxError
from .utils.syntax import parse_ast

MAX_NODES = 20_000
MAX_DEPTH = 60
MAX_ALLOC = 1 << 20  # bound on sizes a constructor may allocate from an int (bytes(n), ...)


def _bounded_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ALLOC:
        raise LiteralSyntaxError(f"size {value} is too large for a constructor argument")
    return value


def _sized(ctor: Callable) -> Callable:
    def build(*args, **kwargs):
        for arg in args:
            _bounded_int(arg)
        return ctor(*args, **kwargs)

    return build


def _namespace(*args, **kwargs) -> types.SimpleNamespace:
    if args:
        raise LiteralSyntaxError("types.SimpleNamespace takes keyword arguments only")
    return types.SimpleNamespace(**kwargs)


# Dotted name as written in the source -> the pure constructor it denotes.
CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "list": list,
    "dict": dict,
    "complex": complex,
    "float": float,
    "int": int,
    "str": str,
    "bool": bool,
    "bytes": _sized(bytes),
    "bytearray": _sized(bytearray),
    "range": range,
    "slice": slice,
    "decimal.Decimal": decimal.Decimal,
    "Decimal": decimal.Decimal,
    "fractions.Fraction": fractions.Fraction,
    "Fraction": fractions.Fraction,
    "datetime.date": datetime.date,
    "datetime.datetime": datetime.datetime,
    "datetime.time": datetime.time,
    "datetime.timedelta": datetime.timedelta,
    "collections.OrderedDict": collections.OrderedDict,
    "OrderedDict": collections.OrderedDict,
    "collections.deque": collections.deque,
    "deque": collections.deque,
    "collections.Counter": collections.Counter,
    "Counter": collections.Counter,
    "types.SimpleNamespace": _namespace,
    "SimpleNamespace": _namespace,
    # Wrappers of a callable: building one calls nothing (a partial checks only that func is callable).
    "functools.partial": functools.partial,
    "classmethod": classmethod,
    "staticmethod": staticmethod,
}

# Dotted name as written in the source -> the fixed builtin object it stands for (never called by the
# evaluator). Only pure, process-independent objects: no id, hash, open, eval, getattr, iter, ...
NAMED_VALUES: dict[str, object] = {
    **{t.__name__: t for t in (int, float, complex, bool, str, bytes, bytearray, list, tuple, dict, set,
                               frozenset, object, type, range, slice)},
    **{f.__name__: f for f in (len, abs, repr, ord, chr, min, max, sum, sorted, round, hex, bin, oct, callable)},
    "str.lower": str.lower,
    "str.upper": str.upper,
    "str.strip": str.strip,
    "str.split": str.split,
    **{e.__name__: e for e in (Exception, ValueError, TypeError, KeyError, IndexError, AttributeError,
                               ZeroDivisionError, RuntimeError, LookupError, ArithmeticError, OSError,
                               UnicodeError, NotImplementedError)},
    "Ellipsis": Ellipsis,
    # A function written in Python (``types.FunctionType``), pure: code that tells them from builtins.
    "os.path.basename": posixpath.basename,
    # The numeric classes the constructors build, as classes (``issubclass(T, Decimal)``).
    "decimal.Decimal": decimal.Decimal,
    "fractions.Fraction": fractions.Fraction,
}
def harness_imports() -> str:
    """The import lines under which every name the grammar allows means what it means here.

    For a harness of one's own that runs a case as ``entry_point(<input>)`` with Python's ``eval``
    (the card shows this): with these lines in its namespace, no input raises ``NameError``.
    """
    modules: set[str] = set()
    bare: dict[str, set[str]] = {}
    for name, value in {**CONSTRUCTORS, **NAMED_VALUES}.items():
        if "." in name:
            root = name.split(".", 1)[0]
            if root not in ("str",):  # str.lower and friends: attributes of a builtin
                modules.add(root)
        else:
            module = getattr(value, "__module__", "builtins")
            if value is _namespace:
                module = "types"
            if module not in ("builtins", None):
                bare.setdefault(module, set()).add(name)
    lines = [f"import {', '.join(sorted(modules))}"]
    lines += [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(bare.items())]
    return "\n".join(lines)



#: The classes an input may subscript (``list[int]``): a ``types.GenericAlias`` of builtin classes.
_GENERIC_ORIGINS = (list, dict, tuple, set, frozenset, type)
# id of each named object -> its first name, for to_source (the objects live as long as the table).
_NAME_OF = {id(value): name for name, value in reversed(NAMED_VALUES.items())}


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes (how a constructor is written), else None."""
    parts = []
    while isinstance(node, ast.Attribute):  # a loop: a long chain must not exhaust the stack
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Evaluator:
    def __init__(self) -> None:
        self.nodes = 0

    def __call__(self, node: ast.AST, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LiteralSyntaxError(f"more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise LiteralSyntaxError(f"nested deeper than {MAX_DEPTH}")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted_name(node)
            if name not in NAMED_VALUES:
                what = "an attribute of an expression" if name is None else (
                    f"name {name}" if len(name) <= 80 else f"name {name[:77]}...")
                raise LiteralSyntaxError(f"{what} is not in the input grammar")
            return NAMED_VALUES[name]
        if isinstance(node, ast.Tuple):
            return tuple(self._items(node.elts, d))
        if isinstance(node, ast.List):
            return list(self._items(node.elts, d))
        if isinstance(node, ast.Set):
            try:
                return set(self._items(node.elts, d))
            except TypeError as exc:  # an unhashable element (a list, a namespace): a bad literal, not a crash
                raise LiteralSyntaxError(f"set element: {exc}") from None
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise LiteralSyntaxError("dict unpacking (**) is not a literal")
            try:
                return {self(k, d): self(v, d) for k, v in zip(node.keys, node.values)}
            except TypeError as exc:
                raise LiteralSyntaxError(f"dict key: {exc}") from None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self(node.operand, d)
            if isinstance(operand, (int, float, complex)) and not isinstance(operand, bool):
                return -operand if isinstance(node.op, ast.USub) else +operand
            raise LiteralSyntaxError("unary sign on a non-number")
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            # Only the complex-literal form ``a + bj`` / ``a - bj``, as ast.literal_eval allows.
            left, right = self(node.left, d), self(node.right, d)
            if isinstance(left, (int, float)) and not isinstance(left, bool) and isinstance(right, complex):
                return left + right if isinstance(node.op, ast.Add) else left - right
            raise LiteralSyntaxError("arithmetic is not a literal (only complex a+bj)")
        if isinstance(node, ast.Subscript):
            return self._alias(node, d)
        if isinstance(node, ast.Call):
            name = dotted_name(node.func)
            ctor = CONSTRUCTORS.get(name or "")
            if ctor is None:
                raise LiteralSyntaxError(f"call of {name or 'an expression'!s} is not a whitelisted constructor")
            args = self._items(node.args, d)
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise LiteralSyntaxError("** in a constructor call")
                kwargs[kw.arg] = self(kw.value, d)
            try:
                return ctor(*args, **kwargs)
            except LiteralSyntaxError:
                raise
            except Exception as exc:  # a bad constructor argument is a bad literal, not a crash
                raise LiteralSyntaxError(f"{name}(...) failed: {type(exc).__name__}: {exc}") from None
        raise LiteralSyntaxError(f"{type(node).__name__} is not allowed in an input")

    def _alias(self, node: ast.Subscript, depth: int) -> types.GenericAlias:
        """``list[int]``, ``dict[str, list[int]]``, ``tuple[int, ...]``: a builtin class subscripted
        with classes (or ``...``), as annotations write them."""
        origin = NAMED_VALUES.get(dotted_name(node.value) or "")
        if origin not in _GENERIC_ORIGINS:
            raise LiteralSyntaxError("only a builtin container class can be subscripted (list[int])")
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = self._items(elements, depth)
        if not all(isinstance(a, (type, types.GenericAlias)) or a is Ellipsis for a in args):
            raise LiteralSyntaxError("a subscript holds classes only (list[int])")
        return types.GenericAlias(origin, tuple(args) if isinstance(node.slice, ast.Tuple) else args[0])

    def _items(self, elts: list[ast.expr], depth: int) -> list[Any]:
        out = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                raise LiteralSyntaxError("* unpacking is not a literal")
            out.append(self(elt, depth))
        return out


def evaluate(node: ast.AST) -> Any:
    """Value of one expression node in the input grammar; raises LiteralSyntaxError otherwise."""
    return _Evaluator()(node)


def parse_value(source: str) -> Any:
    """Value of one expression source in the input grammar."""
    try:
        tree = parse_ast(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise LiteralSyntaxError(f"not an expression: {exc.msg}") from None
    return evaluate(tree.body)


def parse_call(source: str) -> ast.Call:
    """The ``ast.Call`` of ``f(<source>)``: checks the argument list's syntax only."""
    try:
        tree = parse_ast(f"f({source}\n)", mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise LiteralSyntaxError(f"not an argument list: {getattr(exc, 'msg', exc)}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id != "f":
        raise LiteralSyntaxError("not an argument list")
    return call


# The JSON fast path of ``parse_arguments``. Outside string literals: digits, signs, separators,
# brackets and the three words; strings: single-quoted, without a backslash or a double quote.
_JSON_OUTSIDE_BYTES = b"0123456789 \n,:.eE+-[]{}"
_JSON_WORDS = re.compile(r"\b(True|False|None)\b")
_JSON_WORD_OF = {"True": "true", "False": "false", "None": "null"}
_NOT_BRACKETS = bytes(c for c in range(128) if chr(c) not in "[]{}")
_JSON_MAX_DEPTH = MAX_DEPTH - 5  # a unary minus adds one level in the evaluator; keep well inside


def _no_json_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are JSON's extensions, not Python literals


# One decoder for every parse: ``json.loads`` with an argument builds a new one per call (1.2 us,
# half of the parse of a short input).
_JSON_DECODER = json.JSONDecoder(parse_constant=_no_json_constant)


def _json_word(match: re.Match) -> str:
    return _JSON_WORD_OF[match.group(1)]


def _json_arguments(source: str) -> list[Any] | None:
    """The positional arguments of ``source`` read as JSON, when that is sure to give exactly what
    the ast evaluator gives; ``None`` when it cannot tell (the caller then takes the slow path).

    ``ast.parse`` builds a Python object per node: about 250 us for a list of 150 ints, where
    ``json.loads`` takes 15. The subset read here (ASCII; ints, floats, lists, dicts with string keys,
    ``True``/``False``/``None``, single-quoted strings without escapes) means the same in both
    languages, and every other text fails ``json.loads`` or the checks and goes the slow way. The
    checks run in C: ``bytes.translate`` deletes the allowed characters and must leave nothing.
    """
    if len(source) > MAX_NODES or not source.isascii() or '"' in source or "\\" in source:
        return None  # each evaluator node takes at least one character: a short text is within MAX_NODES
    parts = source.split("'")
    if len(parts) % 2 == 0:
        return None  # an unclosed quote
    outside = parts[0::2]
    joined = "".join(outside)
    words = "T" in joined or "F" in joined or "N" in joined
    checked = _JSON_WORDS.sub("", joined) if words else joined
    if checked.encode("ascii").translate(None, _JSON_OUTSIDE_BYTES):
        return None  # a name, a call, a tuple, a set, a keyword argument, a comment, ...
    brackets = joined.encode("ascii").translate(None, _NOT_BRACKETS)
    if len(brackets) > 2 * _JSON_MAX_DEPTH:
        depth = 0
        while brackets:  # peel the innermost pairs, a level per pass (each pass in C)
            peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
            if peeled == brackets:
                return None
            brackets, depth = peeled, depth + 1
            if depth > _JSON_MAX_DEPTH:
                return None
    if words:
        parts[0::2] = [_JSON_WORDS.sub(_json_word, text) for text in outside]
    try:
        value = _JSON_DECODER.decode("[" + '"'.join(parts) + "\n]")
    except (ValueError, RecursionError):
        return None
    return value


def parse_arguments(source: str) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword argument values of an argument-list source such as ``3, b='x'``."""
    fast = _json_arguments(source)
    if fast is not None:
        return fast, {}
    return parse_arguments_ast(source)


def parse_arguments_ast(source: str) -> tuple[list[Any], dict[str, Any]]:
    """``parse_arguments`` by the ast evaluator alone (what the JSON fast path must agree with)."""
    call = parse_call(source)
    evaluator = _Evaluator()
    args = evaluator._items(call.args, 0)
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise LiteralSyntaxError("** unpacking is not a literal")
        kwargs[kw.arg] = evaluator(kw.value)
    return args, kwargs


# ---------------------------------------------------------------------------------------------
# Values back to source: the inverse of parse_value, used by the input writers.


def _float_source(value: float) -> str:
    if math.isnan(value):
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "float('-inf')"
    return repr(value)


def to_source(value: Any, _depth: int = 0) -> str:
    """Source text in the input grammar that evaluates back to ``value``.

    Raises:
        LiteralSyntaxError: the value has no representation in the grammar (an object, a function
            or type not in ``NAMED_VALUES``).
    """
    if _depth > MAX_DEPTH:
        raise LiteralSyntaxError("value nested too deeply")
    d = _depth + 1
    kind = type(value)
    if value is None or value is Ellipsis or kind in (bool, int, str, bytes):
        return repr(value)
    if kind is float:
        return _float_source(value)
    if kind is complex:
        if any(math.isnan(p) or math.isinf(p) for p in (value.real, value.imag)):
            return f"complex({_float_source(value.real)}, {_float_source(value.imag)})"
        return repr(value)
    if kind is tuple:
        inner = ", ".join(to_source(v, d) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is list:
        return "[" + ", ".join(to_source(v, d) for v in value) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{to_source(k, d)}: {to_source(v, d)}" for k, v in value.items()) + "}"
    if kind in (set, frozenset):
        items = sorted((to_source(v, d) for v in value))
        if kind is frozenset:
            return f"frozenset({{{', '.join(items)}}})" if items else "frozenset()"
        return "{" + ", ".join(items) + "}" if items else "set()"
    if kind is bytearray:
        return f"bytearray({bytes(value)!r})"
    if kind is range:
        return repr(value)
    if kind is decimal.Decimal:
        return f"decimal.Decimal({str(value)!r})"
    if kind is fractions.Fraction:
        return f"fractions.Fraction({value.numerator}, {value.denominator})"
    if kind in (datetime.date, datetime.datetime, datetime.time, datetime.timedelta):
        if getattr(value, "tzinfo", None) is not None:
            raise LiteralSyntaxError("timezone-aware datetimes are not in the input grammar")
        return f"datetime.{repr(value).split('datetime.', 1)[-1]}"
    if kind is collections.OrderedDict:
        return f"collections.OrderedDict({to_source(list(value.items()), d)})"
    if kind is collections.deque:
        return f"collections.deque({to_source(list(value), d)})"
    if kind is collections.Counter:
        return f"collections.Counter({to_source(dict(value), d)})"
    if kind is types.SimpleNamespace:
        return f"types.SimpleNamespace({_keyword_sources(vars(value), d)})"
    if kind is functools.partial:
        arguments = [to_source(value.func, d), *(to_source(v, d) for v in value.args)]
        if value.keywords:
            arguments.append(_keyword_sources(value.keywords, d))
        return f"functools.partial({', '.join(arguments)})"
    if kind is types.GenericAlias and value.__origin__ in _GENERIC_ORIGINS:
        inner = ", ".join("..." if a is Ellipsis else to_source(a, d) for a in value.__args__)
        return f"{to_source(value.__origin__, d)}[{inner or '()'}]"
    if kind in (classmethod, staticmethod):
        return f"{kind.__name__}({to_source(value.__func__, d)})"
    name = _NAME_OF.get(id(value))
    if name is not None and NAMED_VALUES[name] is value:
        return name
    raise LiteralSyntaxError(f"a {kind.__name__} has no source in the input grammar")


def _keyword_sources(values: dict[str, Any], depth: int) -> str:
    for key in values:
        if type(key) is not str or not key.isidentifier() or keyword.iskeyword(key):
            raise LiteralSyntaxError(f"attribute {key!r} is not a keyword argument name")
    return ", ".join(f"{k}={to_source(v, depth)}" for k, v in values.items())


def format_arguments(args: list[Any] | tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> str:
    """Argument-list source for ``args`` and ``kwargs``: ``format_arguments([3], {'b': 'x'}) == "3, b='x'"``."""
    parts = [to_source(a) for a in args]
    parts += [f"{k}={to_source(v)}" for k, v in (kwargs or {}).items()]
    return ", ".join(parts)
