"""Aimed mutation: a child made for one test the search reached but has seen go one way only.

Splices and random mutations change a blind place of the call. Here the search picks an *open*
test (a branch point whose first line some call ran, with one outcome never taken), a parent that
reached it (so the test runs again), and an argument the test reads (through local aliases, as
``Blame`` reads them; any argument when it names none, or names an omitted optional one, which is
then passed). That argument, or a value nested in it, becomes a value made for the test:

- one of the test's constants, folded (``(1 << 63) - 1``, ``sep * 2``) and following the local
  names it tests back to their bindings, or a neighbour of a numeric one (``n > 5``); the keys of a
  module table it looks in; nan and inf for ``isnan`` / ``isinf``; characters that have the
  ``unicodedata`` property value it compares (``category(c) == 'Cf'``); strings its regex matches; the
  values the running calls were seen comparing on its lines (``Frontier.observe``: what the test
  compares with is a value computed at import or another module's constant, which no literal in
  the code names);
- ``None`` where the test asks ``is None``, and one of the function's literals where an omitted
  argument must not be ``None``;
- a string that starts and ends as the test wants (``s.startswith('<') and s.endswith('>')``),
  or the old value with the constant before or after it, or at the index the test reads
  (``s[4] == '-'``), or a tuple display's items from where a slice starts (``t[:2] == ('~', 0)``);
- a value of a type the test's ``isinstance`` or ``type(x) is`` names;
- an object whose attribute the test compares, set to one of its constants
  (``getattr(node, 'kind', None) == 'leaf'``), in place of None, a class or an object.

Tests are tried in turn, the least tried first, so one that cannot be opened does not take every
aimed child. Read statically from the code, never run (the observed values come from the
sandbox's operand records).
"""

from __future__ import annotations

import ast
import builtins
import datetime
import decimal
import fractions
import functools
import math
import random
import types
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ... import literals
from ...sandbox.coverage import BranchPoint, CoverageMap
from ..reading.analysis import FunctionAnalysis
from ..reading.annotations import _dotted_tail
from ..reading import regexgen
from ..offline import Candidate
from .repair import Blame, converted
from .splice import _all, splice_constants
from .trees import nodes, replace_at
from ..reading.usage import _constant, constant_names, folded, named_collections
from ..values import named_values
from ...utils.syntax import parse_ast

#: Share of a search's draws that aim at an open test (when there is one).
TARGET_SHARE = 0.3
#: Share of aimed children that change two of the arguments a test reads, not one.
BOTH_SHARE = 0.3
_TYPES: dict[str, type] = {
    **{name: getattr(builtins, name) for name in ("int", "float", "str", "bytes", "list", "dict", "tuple", "bool",
                                                  "set", "frozenset", "bytearray", "complex")},
    # The grammar's constructors, and the abstract types a test names (a value that is one).
    "Decimal": decimal.Decimal, "Fraction": fractions.Fraction, "Integral": int, "Real": float, "Number": float,
    "Rational": fractions.Fraction, "Complex": complex, "Mapping": dict, "MutableMapping": dict,
    "Sequence": list, "MutableSequence": list, "Iterable": list, "Collection": list, "Set": set,
    "date": datetime.date, "datetime": datetime.datetime, "time": datetime.time, "timedelta": datetime.timedelta,
    "type": type, "partial": functools.partial, "classmethod": classmethod, "staticmethod": staticmethod,
    "GenericAlias": types.GenericAlias, "FunctionType": types.FunctionType,
}
#: ``math.isnan(x)``, ``x.is_infinite()``: the floats that make such a test true.
_SPECIAL_FLOATS = ("isnan", "isinf", "isfinite", "is_nan", "is_infinite", "is_finite", "is_snan", "is_qnan")


@dataclass
class _Test:
    """What one branch point's test reads and compares with."""

    params: set[str] = field(default_factory=set)
    constants: list[Any] = field(default_factory=list)
    prefixes: list[str | bytes] = field(default_factory=list)
    suffixes: list[str | bytes] = field(default_factory=list)
    types: list[type] = field(default_factory=list)
    none: bool = False
    placed: list[tuple[int, Any]] = field(default_factory=list)
    runs: list[tuple[int, tuple]] = field(default_factory=list)
    attrs: list[str] = field(default_factory=list)


class Targets:
    """The open tests of one function and the children aimed at them.

    Args:
        code: the function's self-contained source.
        analysis: its static analysis (the parameters).
        cmap: its coverage map (the branch points).
        blame: the names each line reads, as parameters.
    """

    def __init__(self, code: str, analysis: FunctionAnalysis, cmap: CoverageMap, blame: Blame) -> None:
        self.params = analysis.params
        self.cmap = cmap
        # The function's own literals: what a test that wants "not None" (or reads nothing we know)
        # gets (``if altchars is not None: assert len(altchars) == 2`` wants base64's ``b'+/'``).
        self.fallback = _all(splice_constants(analysis))
        self.tests: dict[BranchPoint, _Test] = {}
        self.open: list[BranchPoint] = []
        self.tries: dict[BranchPoint, int] = {}
        try:
            tree = parse_ast(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        reader = _Reader(tree, blame)
        headers = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.If, ast.While)):
                headers[node.lineno] = node.test
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                headers[node.lineno] = node.iter
        for point in cmap.branches:
            expr = headers.get(point.first)
            if expr is None:
                continue
            test = _Test()
            for line in range(point.first, point.last + 1):
                test.params |= blame.names.get(line, set())
            reader.read(expr, test, 0)
            self.tests[point] = test

    def observe(self, values: list[tuple[int, Any]]) -> None:
        """Values seen compared on a test's lines (``Frontier.observe``'s news) join its constants:
        ``if xid in xids`` then puts the ``xid`` a call unpacked into ``xids``."""
        for line, value in values:
            for point, test in self.tests.items():
                if point.first <= line <= point.last and value not in test.constants:
                    test.constants.append(value)

    def update(self, covered: set) -> None:
        """Recompute the open tests from the coverage units reached so far."""
        self.open = [point for point in self.cmap.one_way(covered) if point in self.tests]

    def child(self, pool: list[Candidate], rng: random.Random) -> Candidate | None:
        """A child of a parent that reached an open test, changed for that test; None if none can be made."""
        if not self.open:
            return None
        least = min(self.tries.get(point, 0) for point in self.open)
        point = rng.choice([p for p in self.open if self.tries.get(p, 0) == least])
        self.tries[point] = least + 1
        parents = [c for c in pool if ("l", point.first) in c.reached]
        if not parents:
            return None
        parent = rng.choice(parents[-8:]) if rng.random() < 0.5 else rng.choice(parents)
        test = self.tests[point]
        args, kwargs = list(parent.args), dict(parent.kwargs)
        place = self._place(test, args, kwargs, rng)
        if place is None:
            return None
        self._aim(test, args, kwargs, place, rng)
        if len(test.params) > 1 and rng.random() < BOTH_SHARE:
            # ``issubclass(T, Fraction) and issubclass(S, float)``: one change alone flips nothing.
            other = self._place(test, args, kwargs, rng)
            if other is not None and other != place:
                self._aim(test, args, kwargs, other, rng)
        return Candidate(args, kwargs, origin="target")

    def _aim(self, test: _Test, args: list[Any], kwargs: dict[str, Any], place: int | str, rng: random.Random) -> None:
        old = args[place] if type(place) is int else kwargs.get(place)
        spots = [path for path, value in nodes(old) if type(value) in (str, bytes, int, float, type(None), list, dict)]
        path = rng.choice(spots) if spots and rng.random() < 0.4 else ()
        new = replace_at(old, path, lambda value: _value_for(test, value, rng, self.fallback))
        if type(place) is int:
            args[place] = new
        else:
            kwargs[place] = new

    def _place(self, test: _Test, args: list[Any], kwargs: dict[str, Any], rng: random.Random) -> int | str | None:
        """The argument to change: an index into ``args`` or a keyword (added when omitted)."""
        positional = [p for p in self.params if p.kind in ("positional_only", "positional")]
        places: list[int | str] = []
        for param in self.params:
            if param.name not in test.params:
                continue
            if param in positional and positional.index(param) < len(args):
                places.append(positional.index(param))
            elif param.kind in ("positional", "keyword_only"):
                places.append(param.name)
                kwargs.setdefault(param.name, param.default if param.default_is_literal else None)
            elif param.kind == "positional_only" and positional.index(param) == len(args):
                args.append(param.default if param.default_is_literal else None)
                places.append(len(args) - 1)
        if not places:
            places = [*range(len(args)), *kwargs]
        return rng.choice(places) if places else None


class _Reader:
    """Reads a test's constants, following the local names it tests back to their bindings once or
    twice (``m = _portprog.fullmatch(host)`` then ``if m:``; ``has_arg = s.endswith('=')`` then
    ``if has_arg:``; ``head, sep, tail = dn.partition('.')`` then ``if head != '*':``), and turning the
    regular expressions it applies into strings they match."""

    def __init__(self, tree: ast.Module, blame: Blame) -> None:
        self.blame = blame
        self.named = constant_names(tree)
        self.collections = named_collections(tree)
        self.bindings: dict[str, list[ast.expr]] = {}
        self.regexes: dict[str, list[tuple[Any, int]]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.bindings.setdefault(target.id, []).append(node.value)
                        pattern = self._compiled(node.value)
                        if pattern is not None:
                            self.regexes.setdefault(target.id, []).append(pattern)
                    elif isinstance(target, (ast.Tuple, ast.List)):  # ``head, sep, tail = dn.partition('.')``
                        for element in target.elts:
                            if isinstance(element, ast.Name):
                                self.bindings.setdefault(element.id, []).append(node.value)

    def read(self, expr: ast.expr, test: _Test, depth: int) -> None:
        if depth == 0:
            self._truth(expr, test)
        for node in ast.walk(expr):
            if isinstance(node, ast.Constant) and node.value is None:
                test.none = True
            if (isinstance(node, ast.Name) and node.id == "Ellipsis" or isinstance(node, ast.Constant)
                    and node.value is Ellipsis) and Ellipsis not in test.constants:
                test.constants.append(Ellipsis)  # ``obj is Ellipsis``
            for value in folded(node, self.named):
                if type(value) in (str, bytes, int, float) and value not in test.constants:
                    test.constants.append(value)
            if isinstance(node, ast.Compare):
                test.none |= any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops)
                # ``cls._member_type_ is object``, ``T is int``: the grammar's named object itself.
                for side in (node.left, *node.comparators):
                    _add_object(test, literals.NAMED_VALUES.get(literals.dotted_name(side) or ""))
                self._placed(node, test)
                self._attr_compared(node, test)
                self._type_compared(node, test)
                _property_compared(node, test, self.named)
            if isinstance(node, ast.Name) and node.id in self.collections:  # ``if name in _TABLE``
                test.constants.extend(v for v in self.collections[node.id] if v not in test.constants)
            if isinstance(node, ast.Call):
                self._call(node, test)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and depth < 2 and node.id not in self.named:
                for value in self.bindings.get(node.id, [])[:3]:
                    test.params |= self.blame.names.get(value.lineno, set())
                    self.read(value, test, depth + 1)

    @staticmethod
    def _attr_compared(node: ast.Compare, test: _Test) -> None:
        """``getattr(annotation, '__module__', None) == 'typing'``, ``prev.type == token.DOT``: the
        attributes an equality or identity test reads off a name (an object that has one, set to
        one of the test's constants, is what the test wants)."""
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
            return
        for side in (node.left, node.comparators[0]):
            name = None
            if isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name):
                name = side.attr
            elif (isinstance(side, ast.Call) and isinstance(side.func, ast.Name) and side.func.id == "getattr"
                  and len(side.args) >= 2 and isinstance(side.args[0], ast.Name)):
                name = _constant(side.args[1])
            if type(name) is str and name.isidentifier() and name not in test.attrs:
                test.attrs.append(name)

    @staticmethod
    def _type_compared(node: ast.Compare, test: _Test) -> None:
        """``type(x) is float``: the types on the other sides of a compare with a ``type()`` call."""
        sides = [node.left, *node.comparators]
        for side in sides:
            if isinstance(side, ast.Call) and isinstance(side.func, ast.Name) and side.func.id == "type":
                names = [_dotted_tail(other) for other in sides if other is not side]
                test.types.extend(_TYPES[name] for name in names if name in _TYPES)

    def _placed(self, node: ast.Compare, test: _Test) -> None:
        """``s[5] == 'W'``, ``p[1:2] == colon``: the constant at that index of the tested value."""
        sides = [node.left, *node.comparators]
        for left, right in zip(sides, sides[1:]):
            for subscript, other in ((left, right), (right, left)):
                if not isinstance(subscript, ast.Subscript):
                    continue
                index = subscript.slice.lower if isinstance(subscript.slice, ast.Slice) else subscript.slice
                positions = folded(index, self.named) if index is not None else [0]
                # ``name[:2] == ('~', 0)``: the display's items, from where the slice starts.
                run = self._sequence(other) if isinstance(subscript.slice, ast.Slice) else None
                for position in positions:
                    if type(position) is int and -64 <= position <= 64:
                        test.placed += [(position, v) for v in folded(other, self.named) if type(v) in (str, bytes, int)]
                        if run:
                            test.runs.append((position, run))

    def _sequence(self, node: ast.expr) -> tuple | None:
        """``('~', 0)``: a tuple or list display of up to 8 constants, as a tuple; else None."""
        if not isinstance(node, (ast.Tuple, ast.List)) or not 0 < len(node.elts) <= 8:
            return None
        items = [folded(element, self.named) for element in node.elts]
        return tuple(found[0] for found in items) if all(len(found) == 1 for found in items) else None

    def _truth(self, expr: ast.expr, test: _Test) -> None:
        """``if not b[0]:``, ``if b[1] or b[2]:``: a zero, or a one, at that index of the tested value
        (``json.detect_encoding`` tells UTF-16 from its zero bytes)."""
        parts = [expr]
        while parts:
            node = parts.pop()
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                parts.append(node.operand)
            elif isinstance(node, ast.BoolOp):
                parts.extend(node.values)
            elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
                for position in folded(node.slice, self.named):
                    if type(position) is int and -64 <= position <= 64:
                        test.placed += [(position, 0), (position, 1)]

    def _call(self, node: ast.Call, test: _Test) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("startswith", "endswith") and node.args:
            found = _constant(node.args[0])
            options = found if type(found) is tuple else (found,)
            side = test.prefixes if func.attr == "startswith" else test.suffixes
            side.extend(o for o in options if type(o) in (str, bytes) and o)
        elif isinstance(func, ast.Name) and func.id == "issubclass" and len(node.args) == 2:
            # ``issubclass(T, Fraction)``: T is that class (a class the grammar names).
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            for kind in kinds:
                _add_object(test, literals.NAMED_VALUES.get(literals.dotted_name(kind) or ""))
            for kind in kinds:
                _add_object(test, _TYPES.get(_dotted_tail(kind) or ""))
        elif isinstance(func, ast.Name) and func.id == "isinstance" and len(node.args) == 2:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            test.types.extend(_TYPES[name] for name in map(_dotted_tail, kinds) if name in _TYPES)
            if any(isinstance(k, ast.Constant) and k.value is None or isinstance(k, ast.Name) and k.id == "NoneType"
                   for k in kinds):
                test.none = True
        if isinstance(func, (ast.Attribute, ast.Name)) and _dotted_tail(func) in _SPECIAL_FLOATS:
            test.constants.extend(v for v in (math.nan, math.inf, -math.inf) if v not in test.constants)
        patterns = []
        if isinstance(func, ast.Attribute) and func.attr in regexgen.PATTERN_METHODS:
            if isinstance(func.value, ast.Name) and func.value.id in self.regexes:
                patterns = self.regexes[func.value.id]
            elif isinstance(func.value, ast.Name) and func.value.id == "re" and node.args:
                flags = regexgen.flags_named(node.args[2:] + [k.value for k in node.keywords if k.arg == "flags"])
                patterns = [(p, flags) for p in folded(node.args[0], self.named)]
        for pattern, flags in patterns[:3]:
            for example in regexgen.examples(pattern, random.Random(repr(pattern)), n=3, flags=flags):
                if example not in test.constants:
                    test.constants.append(example)

    def _compiled(self, value: ast.expr) -> tuple[Any, int] | None:
        """``re.compile(CONSTANT[, flags])``'s pattern and flags."""
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "compile"
                and isinstance(value.func.value, ast.Name) and value.func.value.id == "re" and value.args):
            found = folded(value.args[0], self.named)
            if len(found) == 1 and type(found[0]) in (str, bytes):
                flags = regexgen.flags_named(value.args[1:] + [k.value for k in value.keywords if k.arg == "flags"])
                return found[0], flags
        return None


#: ``unicodedata.category(c) == 'Cf'``: the character properties whose values a test compares with.
_UNICODE_PROPERTIES = ("category", "bidirectional", "east_asian_width", "combining", "mirrored")


@functools.cache
def _chars_with(prop: str) -> dict[Any, list[str]]:
    """The first two characters of the Basic Multilingual Plane (after ASCII's controls) with each
    value of a ``unicodedata`` property: the Python build fixes the table, so the choice is fixed."""
    table: dict[Any, list[str]] = {}
    read = getattr(unicodedata, prop)
    for code in range(0x20, 0x10000):
        chars = table.setdefault(read(chr(code)), [])
        if len(chars) < 2:
            chars.append(chr(code))
    return table


def _property_compared(node: ast.Compare, test: _Test, named: dict[str, list[Any]]) -> None:
    """``unicodedata.bidirectional(c) == 'R'``, ``category(c) != CONTROL``: characters that have
    the compared value (a bidirectional class is not a character the code can show)."""
    sides = [node.left, *node.comparators]
    for side in sides:
        if not (isinstance(side, ast.Call) and _dotted_tail(side.func) in _UNICODE_PROPERTIES):
            continue
        table = _chars_with(_dotted_tail(side.func))
        for other in sides:
            for value in folded(other, named) if other is not side else ():
                if type(value) in (str, int):
                    test.constants.extend(c for c in table.get(value, ()) if c not in test.constants)


def _value_for(test: _Test, old: Any, rng: random.Random, fallback: list[Any]) -> Any:
    makers = []
    if test.constants:
        makers.append(lambda: _constant_for(test.constants, old, rng))
    if test.none and old is not None:
        makers.append(lambda: None)
    elif test.none or not makers and not test.prefixes and not test.types:  # None wants to be something
        makers.append(lambda: rng.choice(fallback) if fallback and rng.random() < 0.7
                      else converted(old, rng.choice((str, int, bytes, list)), rng))
    if test.prefixes or test.suffixes:
        makers.append(lambda: _framed(test, old, rng))
    if test.placed and type(old) in (str, bytes, list):
        makers.append(lambda: _placed(old, *rng.choice(test.placed), rng))
    if test.types:
        makers.append(lambda: _as_type(old, rng.choice(test.types), rng))
    if test.runs:
        makers.append(lambda: _run_placed(old, *rng.choice(test.runs)))
    if test.attrs and test.constants and (old is None or type(old) is types.SimpleNamespace or isinstance(old, type)):
        makers.append(lambda: _with_attr(old, rng.choice(test.attrs), rng.choice(test.constants)))
    if not makers:
        return old
    return rng.choice(makers)()


def _with_attr(old: Any, name: str, value: Any) -> types.SimpleNamespace:
    """``old`` (an object, or None) with attribute ``name`` set to ``value``."""
    fields = dict(vars(old)) if type(old) is types.SimpleNamespace else {}
    fields[name] = value
    return types.SimpleNamespace(**fields)


def _add_object(test: _Test, value: Any) -> None:
    """``value`` (a class or named object, or None for none) among the test's constants, once by identity."""
    if value is not None and not any(value is c for c in test.constants):
        test.constants.append(value)


def _as_type(old: Any, kind: type, rng: random.Random) -> Any:
    """A value of ``kind`` made from ``old`` (its number, text or items where it has them)."""
    if kind in (int, float, str, bytes, list, dict, tuple, bool, type(None)):
        return converted(old, kind, rng)
    number = old if type(old) in (int, float) and math.isfinite(old) else rng.choice((1, 3, -2))
    if kind is decimal.Decimal:
        return decimal.Decimal(str(number)) if rng.random() < 0.8 else decimal.Decimal(rng.choice(("1.5", "-0.25", "NaN")))
    if kind is fractions.Fraction:
        return fractions.Fraction(number).limit_denominator(1000) if rng.random() < 0.5 else fractions.Fraction(1, 3)
    if kind is complex:
        return complex(number, 1)
    if kind in (set, frozenset, bytearray):
        items = old if type(old) in (list, tuple, set, frozenset, bytes) else [number]
        try:
            return kind(items)
        except (TypeError, ValueError):
            return kind()
    if kind is datetime.date:
        return datetime.date(2024, 1, 2)
    if kind is datetime.datetime:
        return datetime.datetime(2024, 1, 2, 3, 4, 5)
    if kind is datetime.time:
        return datetime.time(3, 4, 5)
    if kind is datetime.timedelta:
        return datetime.timedelta(days=1, seconds=number if type(number) is int else 0)
    if kind is type:  # ``isinstance(obj, type)``: a class the grammar names
        return rng.choice(named_values(("int", "str", "list", "object", "ValueError")))
    if kind is types.GenericAlias:
        return rng.choice((list[int], dict[str, int], tuple[int, ...]))
    if kind is types.FunctionType:  # the grammar's one function written in Python
        return literals.NAMED_VALUES["os.path.basename"]
    if kind in (functools.partial, classmethod, staticmethod):  # a wrapper of one of the grammar's callables
        func = old if callable(old) and not isinstance(old, kind) else rng.choice(named_values(("len", "max", "abs")))
        return functools.partial(func, number) if kind is functools.partial else kind(func)
    return old


def _constant_for(constants: list[Any], old: Any, rng: random.Random) -> Any:
    same = [c for c in constants if type(c) is type(old)]
    constant = rng.choice(same if same and rng.random() < 0.7 else constants)
    if type(constant) in (int, float) and not isinstance(constant, bool) and rng.random() < 0.3:
        return constant + rng.choice((-1, 1))  # ``n > 5``: the other side of the bound
    if type(constant) is type(old) and type(old) in (str, bytes) and old and rng.random() < 0.4:
        return constant + old if rng.random() < 0.5 else old + constant  # ``s.endswith(x)``, ``x in s``
    return constant


def _placed(old: Any, position: int, value: Any, rng: random.Random) -> Any:
    """``old`` with ``value`` at ``position`` (padded to reach it): a one-character string or bytes
    goes in as one element, a longer one replaces as many; a list takes the value as one element."""
    if type(old) is list:
        items = list(old) + [0] * max(0, (position if position >= 0 else -position - 1) + 1 - len(old))
        items[position] = value
        return items
    if type(value) is int and type(old) is bytes:
        value = bytes([value % 256])
    if type(value) is not type(old):
        return old
    filler = type(old)("x" if type(old) is str else b"x")
    if position < 0:
        text = old if len(old) >= -position else filler * (-position - len(old)) + old
        start = len(text) + position
    else:
        text = old if len(old) >= position else old + filler * (position - len(old))
        start = position
    return text[:start] + value + text[start + len(value):]


def _run_placed(old: Any, position: int, run: tuple) -> Any:
    """``old`` (a list or tuple; anything else becomes the last item of one) with ``run``'s items
    from ``position`` on, padded with zeros to reach it."""
    kind = type(old) if type(old) in (list, tuple) else tuple
    items = list(old) if type(old) in (list, tuple) else [*run, old]
    start = position if position >= 0 else max(0, len(items) + position)
    items += [0] * max(0, start + len(run) - len(items))
    items[start:start + len(run)] = run
    return kind(items)


def _framed(test: _Test, old: Any, rng: random.Random) -> Any:
    kind = type((test.prefixes or test.suffixes)[0])
    middle = old if type(old) is kind and rng.random() < 0.5 else kind()
    prefix = rng.choice([p for p in test.prefixes if type(p) is kind] or [kind()])
    suffix = rng.choice([s for s in test.suffixes if type(s) is kind] or [kind()])
    if test.prefixes and test.suffixes and rng.random() < 0.25:  # one side alone
        return prefix + middle if rng.random() < 0.5 else middle + suffix
    return prefix + middle + suffix
