"""Reading a writer model's answer into argument lists, with ``ast`` only (never exec or eval).

The answer may be JSON (``{"inputs": [...]}`` under a grammar), fenced code, numbered lines with
prose around them, or cut off mid-entry. Each entry found is turned into an argument-list source
of the data contract (``3, b='x'``) if it is made of literals and binds to the function's
signature, built statically from its ``def``; everything else is dropped and counted by reason.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

from ... import literals
from ...errors import LiteralSyntaxError
from ...schema import Function
from ...utils.syntax import parse_ast

# Why an entry of the answer was dropped: the keys of ``ParsedAnswer.dropped``.
DROP_SYNTAX = "syntax"  # looked like an entry but is not Python (often a truncated last line)
DROP_NOT_LITERAL = "not_literal"  # names, arithmetic, calls outside the constructor whitelist
DROP_NOT_BINDABLE = "not_bindable"  # does not fit the signature (missing / unknown arguments)
DROP_DUPLICATE = "duplicate"
DROP_TOO_LONG = "too_long"

MAX_ANSWER_CHARS = 200_000
MAX_INPUT_CHARS = 2_000
_DEFAULT = object()  # stands for every default value: binding only needs to know one exists

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
# Where an entry may start inside a line of prose: ``dict(``, ``{``, ``[``, ``(`` or ``name(``.
_ENTRY_START = re.compile(r"dict\s*\(|\{|\[|\(|\b[A-Za-z_][A-Za-z0-9_.]*\s*\(")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+|\d+[.):]\s+|(?:input|example|case)\s*\d*\s*[:=]\s*)", re.IGNORECASE)


@dataclass
class ParsedAnswer:
    """Argument-list sources read from one answer, in answer order, and the drops by reason."""

    inputs: list[str] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)


def function_def(function: Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The top-level ``def`` of ``function.entry_point`` in its code (the last one wins, as in Python)."""
    try:
        tree = parse_ast(function.code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function.entry_point:
            found = node
    return found


def static_signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> inspect.Signature:
    """An ``inspect.Signature`` with the parameters of ``node``, built without importing anything.

    Defaults are a placeholder and annotations are left out: binding only needs names, kinds and
    whether a default exists.
    """
    spec = node.args
    params: list[inspect.Parameter] = []
    positional = spec.posonlyargs + spec.args
    first_default = len(positional) - len(spec.defaults)
    for index, arg in enumerate(positional):
        kind = inspect.Parameter.POSITIONAL_ONLY if index < len(spec.posonlyargs) else inspect.Parameter.POSITIONAL_OR_KEYWORD
        default = _DEFAULT if index >= first_default else inspect.Parameter.empty
        params.append(inspect.Parameter(arg.arg, kind, default=default))
    if spec.vararg is not None:
        params.append(inspect.Parameter(spec.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults):
        params.append(
            inspect.Parameter(
                arg.arg, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULT if default is not None else inspect.Parameter.empty
            )
        )
    if spec.kwarg is not None:
        params.append(inspect.Parameter(spec.kwarg.arg, inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def parse_answer(text: str, function: Function, *, signature: inspect.Signature | None = None) -> ParsedAnswer:
    """Argument lists for ``function`` read from a writer model's ``text``.

    Args:
        text: the model's answer, as returned by the server.
        function: the function the inputs are for; its code is parsed, never run.
        signature: the function's static signature, when the caller has it already.

    Returns:
        A ParsedAnswer: distinct sources that each round-trip through
        ``literals.parse_arguments``, and the count of dropped entries by reason. Empty when the
        code does not define the entry point.
    """
    result = ParsedAnswer()
    if signature is None:
        node = function_def(function)
        if node is None:
            return result
        signature = static_signature(node)
    seen: set[str] = set()
    for entry in _entries(text[:MAX_ANSWER_CHARS], result.dropped, function.entry_point):
        source, reason = _to_arguments(entry, signature, function.entry_point)
        if source is None:
            result.dropped[reason] += 1
        elif source in seen:
            result.dropped[DROP_DUPLICATE] += 1
        else:
            seen.add(source)
            result.inputs.append(source)
    return result


# ---------------------------------------------------------------------------------------------
# Finding entries in the text


def _entries(text: str, dropped: Counter, entry_point: str) -> list[ast.expr]:
    """Expression nodes that each stand for one call, in the order they appear."""
    from_json = _json_entries(text, dropped)
    if from_json is not None:
        return from_json
    blocks = [m.group(2) for m in _FENCE.finditer(text)] or [text]
    out: list[ast.expr] = []
    for block in blocks:
        out.extend(_block_entries(block, dropped, entry_point))
    return out


def _json_entries(text: str, dropped: Counter) -> list[ast.expr] | None:
    """Entries of a structured answer, ``{"inputs": [{"a": "1"}, ...]}`` (argument name to the
    source of its value) or ``{"inputs": ["dict(a=1)", ...]}``; None if the text is not such JSON."""
    stripped = text.strip()
    if not stripped.startswith("{") or '"inputs"' not in stripped:
        return None
    try:
        # strict=False: a grammar may let raw newlines into a string, which strict JSON refuses.
        data = json.loads(stripped, strict=False)
    except (ValueError, RecursionError):
        return None  # a truncated JSON answer: its complete lines are still read as code
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
        return None
    out: list[ast.expr] = []
    for item in data["inputs"]:
        if isinstance(item, dict):
            item = _keywords_source(item)
        node = _parse_expression(item) if isinstance(item, str) else None
        if node is None:
            dropped[DROP_SYNTAX] += 1
        else:
            out.append(node)
    return out


def _keywords_source(item: dict) -> str | None:
    """``dict(a=<value of "a">, ...)`` for one structured input; None when a key is no name.

    A value is the source of a Python literal; a JSON number, boolean, null or list where a
    string was asked for (an unconstrained model) is taken as the value it denotes.
    """
    parts = []
    for name, value in item.items():
        if not (isinstance(name, str) and name.isidentifier()):
            return None
        if not isinstance(value, str):
            try:
                value = literals.to_source(value)
            except Exception:  # noqa: BLE001 - a JSON object where a value was expected: no input
                return None
        parts.append(f"{name}={value}")
    return f"dict({', '.join(parts)})"


def _quiet_parse(source: str, mode: str = "exec") -> ast.AST:
    # The model's strings may hold invalid escapes ('\=') whose warnings would reach the user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_ast(source, mode=mode)


def _parse_expression(source: str) -> ast.expr | None:
    if len(source) > MAX_INPUT_CHARS:
        return None
    try:
        return _quiet_parse(source.strip(), "eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _block_entries(block: str, dropped: Counter, entry_point: str) -> list[ast.expr]:
    """Entries of one code block: parsed whole when it is Python, else line by line."""
    try:
        module = _quiet_parse(_dedent(block))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    if module is not None:
        out: list[ast.expr] = []
        for statement in module.body:
            out.extend(_statement_entries(statement))
        return out
    return _line_entries(block, dropped, entry_point)


def _dedent(block: str) -> str:
    lines = block.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


def _statement_entries(statement: ast.stmt) -> list[ast.expr]:
    """``dict(a=1)`` as a statement, ``inputs = [dict(...), ...]``, ``print(f(1))``, ``assert f(1) == 2``."""
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
            return list(value.args[:1])
        return [value]
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        value = statement.value
        # A list of entries assigned to a name (``inputs = [...]``): each element is one entry.
        if isinstance(value, (ast.List, ast.Tuple)) and value.elts and all(_looks_like_call(e) for e in value.elts):
            return list(value.elts)
        return [value]
    if isinstance(statement, ast.Assert) and isinstance(statement.test, ast.Compare):
        return [statement.test.left]
    return []


def _looks_like_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Dict) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name))


def _line_entries(block: str, dropped: Counter, entry_point: str) -> list[ast.expr]:
    """Entries found line by line in prose or in a block cut off mid-entry.

    An entry starts a line (after a list marker such as ``1.`` or ``Input 2:``); inside a sentence
    only ``dict(...)`` and ``entry_point(...)`` count, so that ``such as [1, 2]`` in the model's
    analysis is not taken for an input.
    """
    out: list[ast.expr] = []
    for raw in block.splitlines():
        line = _LIST_MARKER.sub("", raw.strip()).lstrip("`").strip()
        if not line:
            continue
        node = _entry_in_line(line, entry_point)
        if node is not None:
            out.append(node)
        elif line.startswith(("dict(", "{", "[", "(", f"{entry_point}(")):
            dropped[DROP_SYNTAX] += 1
    return out


def _entry_in_line(line: str, entry_point: str) -> ast.expr | None:
    """The entry at the start of ``line``, or the first ``dict(``/``entry_point(`` call inside it."""
    if len(line) > MAX_INPUT_CHARS:
        return None
    for match in _ENTRY_START.finditer(line):
        head = match.group(0).rstrip("( \t")
        if match.start() > 0 and head not in ("dict", entry_point):
            continue
        rest = line[match.start() :]
        # Trailing prose or punctuation (``dict(a=1),`` or ``f(1)  # edge case``): try shorter cuts.
        for end in _closing_positions(rest):
            node = _parse_expression(rest[: end + 1])
            if node is not None:
                return node
    return None


def _closing_positions(text: str) -> list[int]:
    """Positions of closing brackets that balance the first opening one, last first."""
    depth = 0
    ends = []
    quote = None
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                ends.append(i)
            if depth < 0:
                break
    return ends[::-1]


# ---------------------------------------------------------------------------------------------
# From an entry to an argument list


def _to_arguments(node: ast.expr, signature: inspect.Signature, entry_point: str) -> tuple[str | None, str]:
    """The argument-list source of one entry, or None and the reason it was dropped."""
    try:
        args, keywords = _split_entry(node, signature, entry_point)
    except _NotBindable:
        return None, DROP_NOT_BINDABLE
    except LiteralSyntaxError:
        return None, DROP_NOT_LITERAL
    try:
        values = [literals.evaluate(a) for a in args]
        kw_values = {k: literals.evaluate(v) for k, v in keywords.items()}
    except (LiteralSyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        return None, DROP_NOT_LITERAL
    args, keywords, values, kw_values = _positional_only_to_args(signature, args, keywords, values, kw_values)
    try:
        signature.bind(*values, **kw_values)
    except TypeError:
        return None, DROP_NOT_BINDABLE
    try:
        source = literals.format_arguments(values, kw_values)
    except (LiteralSyntaxError, RecursionError):
        # A value without canonical source (rare): keep the model's own spelling.
        source = ", ".join([ast.unparse(a) for a in args] + [f"{k}={ast.unparse(v)}" for k, v in keywords.items()])
    if len(source) > MAX_INPUT_CHARS:
        return None, DROP_TOO_LONG
    try:
        literals.parse_arguments(source)
    except (LiteralSyntaxError, RecursionError, MemoryError, ValueError):
        return None, DROP_NOT_LITERAL
    return source, ""


class _NotBindable(Exception):
    pass


def _split_entry(node: ast.expr, signature: inspect.Signature, entry_point: str) -> tuple[list[ast.expr], dict[str, ast.expr]]:
    """Positional and keyword argument nodes that an entry stands for.

    ``dict(a=1)`` and ``{'a': 1}`` name the arguments; ``f(1, b=2)`` is the call itself; a list or
    tuple is the positional arguments; any other single value is the only argument.
    """
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return [], _keywords(node.keywords)
    if isinstance(node, ast.Dict) and _is_kwargs_dict(node, signature):
        return [], {key.value: value for key, value in zip(node.keys, node.values)}  # type: ignore[union-attr]
    if isinstance(node, ast.Call):
        name = literals.dotted_name(node.func)
        if name is None:
            raise LiteralSyntaxError("call of an expression")
        if name == entry_point or name.rsplit(".", 1)[-1] == entry_point or name not in literals.CONSTRUCTORS:
            if any(isinstance(a, ast.Starred) for a in node.args):
                raise LiteralSyntaxError("* unpacking")
            return list(node.args), _keywords(node.keywords)
        return [node], {}  # a whitelisted constructor is one value: ``set([1, 2])``
    if isinstance(node, (ast.List, ast.Tuple)) and _positional_count_fits(len(node.elts), signature):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise LiteralSyntaxError("* unpacking")
        return list(node.elts), {}
    return [node], {}


def _keywords(keywords: list[ast.keyword]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for kw in keywords:
        if kw.arg is None:
            raise LiteralSyntaxError("** unpacking")
        if kw.arg in out:
            raise _NotBindable()
        out[kw.arg] = kw.value
    return out


def _is_kwargs_dict(node: ast.Dict, signature: inspect.Signature) -> bool:
    """A dict whose keys are parameter names (or any names, with ``**kwargs``) names the arguments."""
    keys = node.keys
    if not keys or not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in keys):
        return False
    names = {p.name for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if all(k.value in names for k in keys):  # type: ignore[union-attr]
        return True
    # A single-parameter function fed a dict value: the dict is the argument, not the names.
    return False


def _positional_count_fits(count: int, signature: inspect.Signature) -> bool:
    """Whether a list of ``count`` items can be the positional arguments (else it is one value)."""
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    if len(positional) == 1 and not has_varargs:
        return False  # ``f(xs)`` given ``[1, 2, 3]``: the list is the one argument
    return len(required) <= count and (has_varargs or count <= len(positional))


def _positional_only_to_args(signature, args, keywords, values, kw_values):
    """Moves keyword entries for positional-only parameters (``dict(x=1)`` for ``def f(x, /)``) to
    positions, when the earlier positions are all given."""
    params = list(signature.parameters.values())
    pos_only = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    if not pos_only or not any(name in kw_values for name in pos_only):
        return args, keywords, values, kw_values
    args, keywords, values, kw_values = list(args), dict(keywords), list(values), dict(kw_values)
    for index, name in enumerate(pos_only):
        if name not in kw_values or index != len(values):
            break
        values.append(kw_values.pop(name))
        args.append(keywords.pop(name))
    return args, keywords, values, kw_values
