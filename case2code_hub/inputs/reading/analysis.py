"""What each parameter of a function probably is, read statically from its source.

Annotations, literal defaults, doctest calls, how the body uses each parameter, the literals in the
body and the parameter names all vote on a parameter's type. The code is parsed with ``ast`` only:
it is untrusted and never imported or run here.

The parts live in submodules: ``annotations`` (TypeSpec, annotation parsing), ``usage`` (body-usage
votes), ``names`` (name heuristics) and ``doctests`` (docstring calls); this module assembles the
per-function analysis and ranks each parameter's likely types, and re-exports the parts' names.
"""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from ... import literals
from ...errors import LiteralSyntaxError
from ...schema import Function
from . import regexgen
from .annotations import _NAME_KINDS, ANY, TypeSpec, _dotted_tail, _union, annotation_spec  # noqa: F401
from .doctests import MAX_DOCTESTS, _doctests, _literal_call  # noqa: F401
from .names import _NAME_PATTERNS, _NAME_RULES, name_kind  # noqa: F401
from .usage import _NO_CONSTANT, _constant, _kind_of_constant, _merge, _resolve, _Usage, _UsageCollector  # noqa: F401
from ...utils.syntax import parse_ast

ParamKind = Literal["positional_only", "positional", "var_positional", "keyword_only", "var_keyword"]


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
    attrs: tuple[str, ...] = ()  # attributes the body reads off it (``e.errcode``)
    element_attrs: tuple[str, ...] = ()  # ... off its elements (``for e in errors: e.errcode``)
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
    # Spliced only (no seed is made of them): ``s.find(b"\0")``, ``s[:1] == b'='``.
    bytes_constants: tuple[bytes, ...] = ()
    # Literals of the module's other functions (helpers the entry point calls): their tests decide
    # lines of the entry's coverage too, and ``fnmatch`` itself has no literal at all.
    helper_constants: tuple[Any, ...] = ()
    # Strings the module's regular expressions match (``'&#x3e;'`` for html's ``_charref``), spliced
    # only: a pattern applied to an argument decides branches in the helpers it hands matches to.
    pattern_examples: tuple[str | bytes, ...] = ()
    parse_error: bool = False

    def param(self, name: str) -> ParamInfo | None:
        return next((p for p in self.params if p.name == name), None)


MAX_CONSTANTS = 16
MAX_ATTRS = 8


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
        tree = parse_ast(function.code)
    except (SyntaxError, ValueError):
        return FunctionAnalysis(function.entry_point, [], parse_error=True)
    func = find_function(tree, function.entry_point)
    if func is None:
        return FunctionAnalysis(function.entry_point, [], parse_error=True)
    collector = _UsageCollector(func, tree)
    params = _parameters(func.args)
    for param in params:
        usage = _resolve(param.name, collector.usage, set())
        param.votes = _rounded(usage.votes)
        if usage.element is not None:
            param.element_votes = _rounded(usage.element.votes)
            param.element_constants = tuple(_dedupe(usage.element.constants)[:MAX_CONSTANTS])
            param.element_attrs = tuple(usage.element.attrs[:MAX_ATTRS])
        param.constants = tuple(_dedupe(usage.constants)[:MAX_CONSTANTS])
        param.keys = tuple(_dedupe(usage.keys)[:MAX_CONSTANTS])
        param.attrs = tuple(usage.attrs[:MAX_ATTRS])
        param.name_hint = name_kind(param.name)
    ints, floats, strs = _body_constants(func)
    return FunctionAnalysis(
        entry_point=function.entry_point,
        params=params,
        doctests=_doctests(func, function.entry_point),
        int_constants=ints,
        float_constants=floats,
        str_constants=strs,
        bytes_constants=_body_bytes(func),
        helper_constants=_helper_constants(tree, func),
        pattern_examples=_pattern_examples(tree),
    )


def _helper_constants(tree: ast.Module, entry: ast.AST) -> tuple[Any, ...]:
    found: list[Any] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not entry:
            ints, floats, strs = _body_constants(node)
            found += [*strs, *ints, *floats, *_body_bytes(node)]
    return tuple(_dedupe(found)[:4 * MAX_CONSTANTS])


_REGEX_FUNCTIONS = frozenset({"compile", *regexgen.PATTERN_METHODS})


def _pattern_examples(tree: ast.Module) -> tuple[str | bytes, ...]:
    """Examples of the constant patterns the module hands to ``re`` (``re.compile(r'=[0-9A-F]{2}')``,
    ``_re.sub(...)`` under ``import re as _re``), a few per pattern, the same for every run."""
    aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.name == "re"}
    found: list[str | bytes] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and node.func.attr in _REGEX_FUNCTIONS and isinstance(node.func.value, ast.Name)
                and node.func.value.id in aliases):
            continue
        pattern = _constant(node.args[0])
        if type(pattern) not in (str, bytes):
            continue
        flag_nodes = [k.value for k in node.keywords if k.arg == "flags"] + (node.args[1:2] if node.func.attr == "compile" else [])
        flags = regexgen.flags_named(flag_nodes, aliases)
        found += regexgen.examples(pattern, random.Random(repr(pattern)), n=3, flags=flags)
    return tuple(_dedupe(found)[:MAX_CONSTANTS])


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


def _body_bytes(func: ast.AST) -> tuple[bytes, ...]:
    found = [value for value in map(_constant, ast.walk(func)) if type(value) is bytes and len(value) <= 40]
    return tuple(_dedupe(found)[:MAX_CONSTANTS])


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
        kind = _top(param.element_votes, "int")
        return TypeSpec(kind, values=param.element_attrs) if kind == "namespace" else TypeSpec(kind)
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
    if kind == "namespace":  # an object with the attributes the body reads
        return TypeSpec("namespace", values=param.attrs)
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
