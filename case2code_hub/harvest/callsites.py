"""Call sites: the literal argument lists a code corpus passes to its own functions.

A corpus often calls its functions with carefully chosen inputs: the standard library's test
suite has ``splithost('//www.example.org:80/foo')`` and ``getopt.do_shorts([], 'a1', 'a:', [])``;
a project's tests do the same for its code. Those are seeds a search would take long to find
(structured text, the one value a deep branch wants), so the input search starts from them, as it
does from doctests.

The index is read once for the whole corpus, before the ranks start (``generate``), and kept in
the work dir, so every rank sees the same seeds whatever the number of ranks (a resumed run reuses
it; a file that cannot be read while indexing is left out of it, with a warning). Files are decoded
and parsed as the harvest does (the same size bound and skips). Only code corpora are indexed (the
standard library, a folder of ``.py`` files, one file): data files (The Stack) are too large to
read twice. Calls are read with ``ast`` and their arguments checked by the data contract's literal
evaluator; nothing is run.

Tests often name an input before they pass it (``cmdline = ['-a', '1', '--beta']`` then
``getopt(cmdline, 'a:b', ['beta'])``), so an argument that is a bare name counts as literal when
its scope binds that name exactly once, to a literal (a name bound twice, or by a loop, an
import or a parameter, does not). An argument written over several lines is rewritten on one
(``ast.unparse``) rather than dropped.
"""

from __future__ import annotations

import ast
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .. import literals
from ..errors import LiteralSyntaxError
from ..utils.files import atomic_open
from ..utils.logging import get_logger

logger = get_logger(__name__)

#: Argument lists kept per called name, and the longest one (the offline writer's own bound).
MAX_PER_NAME = 200
MAX_SOURCE_CHARS = 400
FORMAT = 1


def is_code_corpus(corpus: str | os.PathLike) -> bool:
    """Whether ``corpus`` is code read from disk (stdlib, a folder of ``.py`` files, a ``.py`` file)."""
    if str(corpus) == "stdlib":
        return True
    path = Path(corpus)
    if path.is_file():
        return path.suffix == ".py"
    return path.is_dir() and next(path.rglob("*.py"), None) is not None


def collect(documents: Iterable[Any]) -> dict[str, list[list[str]]]:
    """Index the calls with literal arguments in ``documents`` (``SourceDocument``s).

    Returns:
        ``{called name: [[file stem, argument-list source], ...]}``: for ``a.b.f(1, x='y')`` the
        name is ``f``; at most ``MAX_PER_NAME`` distinct sources per name, in corpus order.
    """
    from . import _parse

    index: dict[str, list[list[str]]] = {}
    seen: set[tuple[str, str]] = set()
    skipped: Counter = Counter()
    for document in documents:
        parsed = _parse(document, skipped)
        if parsed is None:
            continue
        tree, text = parsed
        stem = Path(document.source.path).stem
        data = text.encode("utf-8")
        starts = [0]
        for line in data.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        scopes = _call_scopes(tree)
        calls = sorted(scopes, key=lambda n: (n.lineno, n.col_offset))
        for node in calls:  # in source order
            if not (node.args or node.keywords):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name is None or len(index.get(name, ())) >= MAX_PER_NAME:
                continue
            source = _literal_arguments(data, starts, node, scopes[node])
            if source is not None and (name, source) not in seen:
                seen.add((name, source))
                index.setdefault(name, []).append([stem, source])
    return index


def _literal_arguments(data: bytes, starts: list[int], call: ast.Call, bound: dict[str, ast.expr]) -> str | None:
    """The call's argument-list source when every argument is a literal of the data contract.

    ``bound`` maps the names in scope that are bound once to a literal; such a name stands for it.
    """
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    args = [_resolve(arg, bound) for arg in call.args]
    keywords = [(k.arg, _resolve(k.value, bound)) for k in call.keywords]
    if not all(value is not None and _looks_literal(value) for value in [*args, *(v for _, v in keywords)]):
        return None  # most calls pass names: skip them cheaply
    parts = [_source(data, starts, arg) for arg in args]
    parts += [f"{name}={_source(data, starts, value)}" for name, value in keywords]
    source = ", ".join(parts)  # one line: ``_source`` rewrote any argument written over several
    if len(source) > MAX_SOURCE_CHARS:
        return None
    try:
        literals.parse_arguments(source)
    except (LiteralSyntaxError, RecursionError, ValueError, TypeError, MemoryError, OverflowError, SyntaxError):
        return None
    return source


def _resolve(node: ast.expr, bound: dict[str, ast.expr]) -> ast.expr | None:
    if isinstance(node, ast.Name) and node.id not in _GRAMMAR_NAMES:
        return bound.get(node.id)
    return node


def _source(data: bytes, starts: list[int], node: ast.expr) -> str:
    text = _segment(data, starts, node)
    return ast.unparse(node) if "\n" in text else text


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _call_scopes(tree: ast.Module) -> dict[ast.Call, dict[str, ast.expr]]:
    """Every call in ``tree``, with the names bound once to a literal that its scope sees."""
    calls: dict[ast.Call, dict[str, ast.expr]] = {}

    def visit(node: ast.AST, bound: dict[str, ast.expr]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, _bindings(child, bound))
            elif isinstance(child, (ast.ClassDef, ast.Lambda)):
                visit(child, {})  # a class body's names are not its methods'; lambdas: rare, skip
            else:
                if isinstance(child, ast.Call):
                    calls[child] = bound
                visit(child, bound)

    visit(tree, _bindings(tree, {}))
    return calls


def _bindings(scope: ast.AST, outer: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """``outer`` less the names ``scope`` binds, plus those it binds exactly once, to a literal."""
    stores: Counter = Counter()
    literal: dict[str, ast.expr] = {}
    for node in _own_nodes(scope):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores[node.name] += 1
        elif isinstance(node, ast.arg):
            stores[node.arg] += 2  # a parameter: its value is the caller's
        elif isinstance(node, ast.alias):
            stores[(node.asname or node.name).partition(".")[0]] += 2
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            stores.update({name: 2 for name in node.names})
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stores[node.name] += 2
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and _looks_literal(node.value)):
            literal[node.targets[0].id] = node.value
    bound = {name: value for name, value in outer.items() if not stores[name]}
    bound.update({name: value for name, value in literal.items() if stores[name] == 1})
    return bound


def _own_nodes(scope: ast.AST):
    """The nodes of ``scope`` outside its nested scopes (a nested ``def`` itself is included)."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, _SCOPES):
            if not isinstance(node, ast.Lambda):
                todo.extend(node.decorator_list)
            continue
        todo.extend(ast.iter_child_nodes(node))


_LITERAL_NODES = (ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.UnaryOp, ast.BinOp, ast.Load,
                  ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.keyword)
# The grammar's names (constructors, named builtin values such as ``abs``) and their dotted heads
# (``decimal`` of ``decimal.Decimal``): ``ast.walk`` meets the head of a chain as a node of its own.
_GRAMMAR_NAMES = frozenset(
    ".".join(parts[:end])
    for parts in (name.split(".") for name in (*literals.CONSTRUCTORS, *literals.NAMED_VALUES))
    for end in range(1, len(parts) + 1)
)


def _looks_literal(node: ast.AST) -> bool:
    for part in ast.walk(node):
        if isinstance(part, _LITERAL_NODES):
            continue
        if isinstance(part, ast.Call) and literals.dotted_name(part.func) in literals.CONSTRUCTORS:
            continue
        if isinstance(part, (ast.Name, ast.Attribute)) and literals.dotted_name(part) in _GRAMMAR_NAMES:
            continue  # a constructor's name inside the call above, a named value, or the head of either
        return False
    return True


def _segment(data: bytes, starts: list[int], node: ast.AST) -> str:
    # ``ast`` offsets are UTF-8 byte columns; slicing the encoded text once per file keeps this linear
    # (``ast.get_source_segment`` splits the whole file again on every call).
    begin = starts[node.lineno - 1] + node.col_offset
    end = starts[node.end_lineno - 1] + node.end_col_offset
    return data[begin:end].decode("utf-8", errors="replace")


def write_index(corpus: str | os.PathLike, path: Path) -> int:
    """Index ``corpus``'s call sites into ``path`` (JSON, written atomically); returns the names indexed."""
    from .sources import iter_documents

    def unreadable(error: Exception) -> None:
        # Best effort: the index only seeds the search. A file that cannot be read is left out,
        # and the rank that reads it reports it as usual.
        logger.warning("call sites: %s; indexing without it", error)

    index = collect(iter_documents(corpus, stats=Counter(), on_unreadable=unreadable))
    with atomic_open(path) as handle:
        handle.write(json.dumps({"format": FORMAT, "calls": index}, sort_keys=True))
    logger.info("call sites: %d names, %d argument lists", len(index), sum(map(len, index.values())))
    return len(index)


def read_index(path: str | os.PathLike | None) -> dict[str, list[list[str]]]:
    """The index written by :func:`write_index`; empty when there is none (or it is unreadable)."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("call sites: %s is unreadable; searching without it", path)
        return {}
    return data.get("calls", {}) if data.get("format") == FORMAT else {}
