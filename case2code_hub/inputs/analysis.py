"""What each parameter of a function probably is, read statically from its source.

Annotations, literal defaults, doctest calls, how the body uses each parameter, the literals in the
body and the parameter names all vote on a parameter's type. The code is parsed with ``ast`` only:
it is untrusted and never imported or run here.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import literals
from ..errors import LiteralSyntaxError
from ..schema import Function

ParamKind = Literal["positional_only", "positional", "var_positional", "keyword_only", "var_keyword"]


@dataclass(frozen=True)
class TypeSpec:
    """A type in the writer's small vocabulary: ``kind`` plus element types in ``args``.

    ``tuple[int, ...]`` is ``TypeSpec("tuple", (INT,), homogeneous=True)``; ``Literal['a', 1]``
    keeps its choices in ``values``; unions list their members in ``args``.
    """

    kind: str
    args: tuple["TypeSpec", ...] = ()
    homogeneous: bool = False
    values: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.kind == "literal":
            return f"Literal{list(self.values)}"
        if not self.args:
            return self.kind
        inner = ", ".join(str(a) for a in self.args) + (", ..." if self.homogeneous else "")
        return f"{self.kind}[{inner}]"


ANY = TypeSpec("any")

_NAME_KINDS = {
    "int": "int", "integral": "int", "supportsint": "int", "supportsindex": "int",
    "float": "float", "real": "float", "number": "float", "supportsfloat": "float",
    "complex": "complex", "bool": "bool",
    "str": "str", "text": "str", "anystr": "str", "pathlike": "str", "path": "str", "purepath": "str",
    "bytes": "bytes", "bytearray": "bytes", "memoryview": "bytes",
    "list": "list", "sequence": "list", "mutablesequence": "list", "iterable": "list", "iterator": "list",
    "collection": "list", "reversible": "list", "deque": "list",
    "tuple": "tuple",
    "dict": "dict", "mapping": "dict", "mutablemapping": "dict", "ordereddict": "dict",
    "defaultdict": "dict", "counter": "dict",
    "set": "set", "abstractset": "set", "mutableset": "set", "frozenset": "frozenset",
    "decimal": "decimal", "fraction": "fraction", "date": "date", "datetime": "datetime",
    "none": "none", "nonetype": "none", "any": "any", "object": "any",
}  # fmt: skip


def _dotted_tail(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def annotation_spec(node: ast.AST | None) -> TypeSpec | None:
    """The TypeSpec of an annotation node (``list[int]``, ``Optional[str]``, ``str | None``, ...).

    Returns None when there is no annotation; ``TypeSpec("object")`` for a type we cannot build.
    """
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return TypeSpec("none")
        if isinstance(node.value, str):  # a forward reference: "list[int]"
            try:
                return annotation_spec(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return TypeSpec("object")
        return TypeSpec("object")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([annotation_spec(node.left), annotation_spec(node.right)])
    if isinstance(node, ast.Subscript):
        base = (_dotted_tail(node.value) or "").lower()
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base == "optional":
            return _union([annotation_spec(items[0]), TypeSpec("none")])
        if base == "union":
            return _union([annotation_spec(i) for i in items])
        if base == "annotated":
            return annotation_spec(items[0])
        if base == "literal":
            values = []
            for item in items:
                try:
                    values.append(literals.evaluate(item))
                except LiteralSyntaxError:
                    pass
            return TypeSpec("literal", values=tuple(values)) if values else TypeSpec("object")
        kind = _NAME_KINDS.get(base)
        if kind is None or kind in ("any", "none"):
            return TypeSpec("object")
        if kind == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return TypeSpec("tuple", (annotation_spec(items[0]) or ANY,), homogeneous=True)
            return TypeSpec("tuple", tuple(annotation_spec(i) or ANY for i in items))
        if kind in ("list", "set", "frozenset"):
            return TypeSpec(kind, (annotation_spec(items[0]) or ANY,))
        if kind == "dict" and len(items) == 2:
            return TypeSpec("dict", (annotation_spec(items[0]) or ANY, annotation_spec(items[1]) or ANY))
        if kind == "dict" and base == "counter":
            return TypeSpec("dict", (annotation_spec(items[0]) or ANY, TypeSpec("int")))
        return TypeSpec(kind)
    name = _dotted_tail(node)
    if name is not None:
        return TypeSpec(_NAME_KINDS.get(name.lower(), "object"))
    return TypeSpec("object")


def _union(members: list[TypeSpec | None]) -> TypeSpec:
    flat: list[TypeSpec] = []
    for member in members:
        member = member or ANY
        for m in member.args if member.kind == "union" else (member,):
            if m not in flat:
                flat.append(m)
    return flat[0] if len(flat) == 1 else TypeSpec("union", tuple(flat))


# --- usage in the body ------------------------------------------------------------------------

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
_ISINSTANCE_KINDS = {k: v for k, v in _NAME_KINDS.items() if v not in ("any",)}


@dataclass
class _Usage:
    votes: Counter = field(default_factory=Counter)
    constants: list = field(default_factory=list)
    keys: list = field(default_factory=list)
    element_names: list = field(default_factory=list)  # names bound to its elements
    value_names: list = field(default_factory=list)  # names bound to a dict's values (.items())
    element: "_Usage | None" = None  # usage of ``x[i]`` itself

    def vote(self, kinds: dict[str, float]) -> None:
        for kind, weight in kinds.items():
            self.votes[kind] += weight

    def sub(self) -> "_Usage":
        if self.element is None:
            self.element = _Usage()
        return self.element


def _constant(node: ast.AST) -> Any:
    """A plain number or string constant (signs included), else a sentinel."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bytes)):
        return node.value
    return _NO_CONSTANT


_NO_CONSTANT = object()


def _kind_of_constant(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}.get(type(value), "any")


class _UsageCollector:
    """Votes on the kind of each name from the expressions it appears in."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
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
                value = _constant(arg)
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
                    value = _constant(other)
                    if isinstance(value, str):
                        usage.vote({"str": 1.0})
                        usage.constants.append(value)
                elif isinstance(other, (ast.Tuple, ast.List, ast.Set)):  # ``x in ('a', 'b')``
                    for elt in other.elts:
                        value = _constant(elt)
                        if value is not _NO_CONSTANT:
                            usage.constants.append(value)
                            usage.vote({_kind_of_constant(value): 1.0})
                else:
                    value = _constant(other)
                    if isinstance(value, str):  # ``x in "aeiou"``
                        usage.vote({"str": 2.0})
                        usage.constants.extend(value[:8])
                continue
            value = _constant(other)
            if value is not _NO_CONSTANT:
                usage.constants.append(value)
                kind = _kind_of_constant(value)
                usage.vote({"int": 2.0, "float": 1.0} if kind == "int" else {kind: 2.0})
            elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                usage.vote({"int": 0.5, "float": 0.3})

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


def _resolve(name: str, usage: dict[str, _Usage], seen: set[str]) -> _Usage:
    """A name's own usage plus its aliases' (``s = text``) and its elements' (``for c in s``)."""
    own = usage.get(name, _Usage())
    result = _Usage(Counter(own.votes), list(own.constants), list(own.keys))
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


# --- names ------------------------------------------------------------------------------------

_NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"^(is|has|should|use|allow|enable|can)_|^(flag|verbose|strict|reverse|recursive|inplace|debug)$", "bool"),
    (r"^(n|m|k|i|j|num|count|size|length|len|width|height|depth|idx|index|pos|start|end|stop|step|"
     r"offset|limit|level|times|base|digits|year|month|day|hour|minute|second|port)$|^(n|num)_|_(count|size|"
     r"len|index|idx|num)$", "int"),
    (r"^(x|y|z|a|b|c|value|val|number|amount|total|rate|ratio|factor|weight|score|"
     r"temperature|temp|angle|radius|price|t)$", "number"),
    (r"^(s|st|string|text|txt|name|word|words_str|line|sentence|path|filename|fname|file_name|prefix|"
     r"suffix|sep|delimiter|char|ch|pattern|pat|url|email|key|title|message|msg|label|tag|code|"
     r"password|username|host|encoding|mode|fmt|format|template|version|hex_str|dna|sequence_str)$|"
     r"_(str|string|name|text|path|char)$|^(str|string)_", "str"),
    (r"^(items|lst|list|arr|array|nums|numbers|values|vals|seq|sequence|elements|xs|data|l|li|"
     r"collection|iterable|vec|vector|matrix|grid|rows|points|words|strings|names|lines|args|"
     r"stack|queue|heap|coords|scores|prices|weights)$|_(list|lst|arr|array|items|seq)$|s$", "list"),
    (r"^(d|dct|dic|dict|mapping|map|kwargs|config|cfg|options|opts|params|attrs|headers|table|"
     r"counts|freq|graph|env|record|row|obj|data_dict)$|_(dict|map|mapping)$", "dict"),
    (r"^(b|buf|buffer|data_bytes|raw|payload)$|_bytes$", "bytes"),
)  # fmt: skip
_NAME_PATTERNS = tuple((re.compile(pattern), kind) for pattern, kind in _NAME_RULES)


def name_kind(name: str) -> str | None:
    """The kind a parameter's name suggests (``n`` -> int, ``text`` -> str), or None."""
    lowered = name.lower().lstrip("_")
    for pattern, kind in _NAME_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None


# --- the result -------------------------------------------------------------------------------


@dataclass
class ParamInfo:
    """What is known about one parameter. ``votes`` and ``element_votes`` map kinds to scores."""

    name: str
    kind: ParamKind
    annotation: TypeSpec | None = None
    has_default: bool = False
    default_is_literal: bool = False
    default: Any = None
    votes: dict[str, float] = field(default_factory=dict)
    element_votes: dict[str, float] = field(default_factory=dict)
    constants: tuple[Any, ...] = ()
    element_constants: tuple[Any, ...] = ()
    keys: tuple[str, ...] = ()
    name_hint: str | None = None

    @property
    def required(self) -> bool:
        return not self.has_default and self.kind not in ("var_positional", "var_keyword")


@dataclass
class FunctionAnalysis:
    """Everything the writer needs about a function, all from static reading."""

    entry_point: str
    params: list[ParamInfo]
    doctests: list[tuple[list[Any], dict[str, Any]]] = field(default_factory=list)
    int_constants: tuple[int, ...] = ()
    float_constants: tuple[float, ...] = ()
    str_constants: tuple[str, ...] = ()
    parse_error: bool = False

    def param(self, name: str) -> ParamInfo | None:
        return next((p for p in self.params if p.name == name), None)


MAX_DOCTESTS = 8
MAX_CONSTANTS = 16


def find_function(tree: ast.Module, entry_point: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level definition of ``entry_point`` (a later def wins, as at run time)."""
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            found = node
    return found


def analyse(function: Function) -> FunctionAnalysis:
    """Read ``function.code`` statically and describe the parameters of ``function.entry_point``.

    Args:
        function: the harvested function; its code is parsed, never run.

    Returns:
        A FunctionAnalysis; ``parse_error`` is set (and ``params`` empty) when the code does not
        parse or does not define the entry point.
    """
    try:
        tree = ast.parse(function.code)
    except (SyntaxError, ValueError):
        return FunctionAnalysis(function.entry_point, [], parse_error=True)
    func = find_function(tree, function.entry_point)
    if func is None:
        return FunctionAnalysis(function.entry_point, [], parse_error=True)
    collector = _UsageCollector(func)
    params = _parameters(func.args)
    for param in params:
        usage = _resolve(param.name, collector.usage, set())
        param.votes = _rounded(usage.votes)
        if usage.element is not None:
            param.element_votes = _rounded(usage.element.votes)
            param.element_constants = tuple(_dedupe(usage.element.constants)[:MAX_CONSTANTS])
        param.constants = tuple(_dedupe(usage.constants)[:MAX_CONSTANTS])
        param.keys = tuple(_dedupe(usage.keys)[:MAX_CONSTANTS])
        param.name_hint = name_kind(param.name)
    ints, floats, strs = _body_constants(func)
    return FunctionAnalysis(
        entry_point=function.entry_point,
        params=params,
        doctests=_doctests(func, function.entry_point),
        int_constants=ints,
        float_constants=floats,
        str_constants=strs,
    )


def _rounded(votes: Counter) -> dict[str, float]:
    # Sorted by score then name so that iteration order never depends on insertion accidents.
    return {k: round(v, 3) for k, v in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0}


def _dedupe(values: list[Any]) -> list[Any]:
    seen: set[tuple[type, Any]] = set()
    out = []
    for value in values:
        key = (type(value), value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _parameters(args: ast.arguments) -> list[ParamInfo]:
    params: list[ParamInfo] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for i, arg in enumerate(positional):
        kind: ParamKind = "positional_only" if i < len(args.posonlyargs) else "positional"
        default = args.defaults[i - first_default] if i >= first_default else None
        params.append(_param(arg, kind, default, has_default=i >= first_default))
    if args.vararg is not None:
        params.append(_param(args.vararg, "var_positional", None, has_default=False))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(_param(arg, "keyword_only", default, has_default=default is not None))
    if args.kwarg is not None:
        params.append(_param(args.kwarg, "var_keyword", None, has_default=False))
    return params


def _param(arg: ast.arg, kind: ParamKind, default: ast.expr | None, *, has_default: bool) -> ParamInfo:
    info = ParamInfo(name=arg.arg, kind=kind, annotation=annotation_spec(arg.annotation), has_default=has_default)
    if default is not None:
        try:
            info.default = literals.evaluate(default)
            info.default_is_literal = True
        except LiteralSyntaxError:
            pass
    return info


def _body_constants(func: ast.AST) -> tuple[tuple[int, ...], tuple[float, ...], tuple[str, ...]]:
    docstring = ast.get_docstring(func, clean=False) if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    ints: list[int] = []
    floats: list[float] = []
    strs: list[str] = []
    for node in ast.walk(func):
        value = _constant(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value == docstring:
            continue
        if isinstance(value, bool) or value is _NO_CONSTANT:
            continue
        if isinstance(value, int) and abs(value) <= 10**6:
            ints.append(value)
        elif isinstance(value, float) and abs(value) <= 1e9:
            floats.append(value)
        elif isinstance(value, str) and len(value) <= 40:
            strs.append(value)
    return (
        tuple(_dedupe(ints)[:MAX_CONSTANTS]),
        tuple(_dedupe(floats)[:MAX_CONSTANTS]),
        tuple(_dedupe(strs)[:MAX_CONSTANTS]),
    )


def _doctests(func: ast.FunctionDef | ast.AsyncFunctionDef, entry_point: str) -> list[tuple[list[Any], dict[str, Any]]]:
    """Argument values of ``>>> entry_point(...)`` calls in the docstring, read by the literal grammar."""
    doc = ast.get_docstring(func)
    if not doc or ">>>" not in doc:
        return []
    sources: list[str] = []
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            sources.append(stripped[3:].strip())
        elif stripped.startswith("...") and sources:
            sources[-1] += "\n" + stripped[3:].strip()
    calls: list[tuple[list[Any], dict[str, Any]]] = []
    # Deduplicate by source text: comparing values can raise (Decimal('sNaN') == x does).
    seen: set[str] = set()
    for source in sources:
        if entry_point not in source:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted_tail(node.func) == entry_point:
                key = ast.unparse(node)
                call = _literal_call(node) if key not in seen else None
                if call is not None:
                    seen.add(key)
                    calls.append(call)
        if len(calls) >= MAX_DOCTESTS:
            break
    return calls[:MAX_DOCTESTS]


def _literal_call(node: ast.Call) -> tuple[list[Any], dict[str, Any]] | None:
    try:
        # The argument source goes through the contract's own reader: one grammar for everything.
        source = ", ".join(ast.unparse(a) for a in node.args)
        source += ", " if node.args and node.keywords else ""
        source += ", ".join(ast.unparse(k) for k in node.keywords)
        return literals.parse_arguments(source)
    except (LiteralSyntaxError, RecursionError):
        return None


# --- ranking ----------------------------------------------------------------------------------

_LIST_OF_STR_NAMES = re.compile(r"^(words|strings|names|lines|tokens|keys|labels|tags|parts|strs|paths|files)$")
_FALLBACK = (("int", 1.0), ("str", 0.6), ("list", 0.4))


def _kind_of_value(value: Any) -> str:
    kind = {bool: "bool", int: "int", float: "float", complex: "complex", str: "str", bytes: "bytes",
            list: "list", tuple: "tuple", dict: "dict", set: "set", frozenset: "frozenset"}.get(type(value))  # fmt: skip
    return kind or ("none" if value is None else "any")


def _top(votes: dict[str, float], default: str) -> str:
    kinds = [k for k in votes if k not in ("none", "any")]
    return kinds[0] if kinds else default


def _element_spec(param: ParamInfo) -> TypeSpec:
    if param.element_votes:
        return TypeSpec(_top(param.element_votes, "int"))
    if _LIST_OF_STR_NAMES.match(param.name.lower()):
        return TypeSpec("str")
    return TypeSpec("int")


def spec_for_kind(kind: str, param: ParamInfo) -> TypeSpec:
    """A TypeSpec for a voted kind, with element types filled from the parameter's element usage."""
    element = _element_spec(param)
    if kind in ("list", "set", "frozenset"):
        return TypeSpec(kind, (element,))
    if kind == "tuple":
        return TypeSpec("tuple", (element,), homogeneous=True)
    if kind == "dict":
        return TypeSpec("dict", (TypeSpec("str"), element))
    return TypeSpec(kind)


def ranked_types(param: ParamInfo, examples: list[Any] = ()) -> tuple[list[tuple[TypeSpec, float]], bool]:
    """The likely types of a parameter, best first, with relative weights, and whether None fits.

    Args:
        param: the parameter's analysis.
        examples: values seen for it in doctest calls.

    Returns:
        ``([(spec, weight), ...], nullable)``; weights are relative to the best (1.0).
    """
    annotation = param.annotation
    nullable = "none" in param.votes or (param.has_default and param.default_is_literal and param.default is None)
    if annotation is not None and annotation.kind not in ("any", "object"):
        members = annotation.args if annotation.kind == "union" else (annotation,)
        buildable = [m for m in members if m.kind not in ("any", "object", "none")]
        nullable = nullable or any(m.kind == "none" for m in members)
        if buildable:
            filled = [_fill_bare(m, param) for m in buildable]
            return [(m, 1.0 if i == 0 else 0.7) for i, m in enumerate(filled)], nullable
    scores: Counter = Counter()
    for kind, votes in param.votes.items():
        scores[kind] += votes
    if param.has_default and param.default_is_literal and param.default is not None:
        scores[_kind_of_value(param.default)] += 2.5
    for value in examples:
        scores[_kind_of_value(value)] += 3.0
    if param.name_hint == "number":
        scores["int"] += 1.0
        scores["float"] += 0.5
    elif param.name_hint:
        scores[param.name_hint] += 1.0
    for kind in ("none", "any"):
        nullable = nullable or (kind == "none" and scores[kind] > 0)
        scores.pop(kind, None)
    ranked = sorted(((k, v) for k, v in scores.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        ranked = list(_FALLBACK)
    best = ranked[0][1]
    kept = [(k, round(v / best, 3)) for k, v in ranked if v >= 0.25 * best][:3]
    return [(spec_for_kind(k, param), w) for k, w in kept], nullable


def _fill_bare(spec: TypeSpec, param: ParamInfo) -> TypeSpec:
    """``list`` without element type: take the element type from usage (``list[?]``)."""
    if spec.kind in ("list", "set", "frozenset", "dict", "tuple") and not spec.args:
        return spec_for_kind(spec.kind, param)
    if spec.args and any(a.kind in ("any", "object") for a in spec.args) and not spec.homogeneous:
        fallback = _element_spec(param)
        return TypeSpec(spec.kind, tuple(fallback if a.kind in ("any", "object") else a for a in spec.args))
    if spec.homogeneous and spec.args and spec.args[0].kind in ("any", "object"):
        return TypeSpec(spec.kind, (_element_spec(param),), homogeneous=True)
    return spec
