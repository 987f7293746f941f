"""Call sites: the literal argument lists a code corpus passes to its own functions.

A corpus often calls its functions with carefully chosen inputs: the standard library's test
suite has ``splithost('//www.example.org:80/foo')`` and ``getopt.do_shorts([], 'a1', 'a:', [])``;
a project's tests do the same for its code. Those are seeds a search would take long to find
(structured text, the one value a deep branch wants), so the input search starts from them, as it
does from doctests.

The index is read once for the whole corpus, before the ranks start (``generate``), and kept in
the work dir, so every rank sees the same seeds whatever the number of ranks (a resumed run reuses
it; a file that cannot be read while indexing is left out of it, with a warning). It is built by
one process per core, and kept in the user's cache under a digest of the files, the interpreter
and this package: the standard library is indexed once per interpreter, not once per build. Files are decoded
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
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .. import literals
from .._version import __version__
from ..errors import LiteralSyntaxError
from ..utils.files import atomic_open
from ..utils.logging import get_logger, progress

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


def collect(documents: Iterable[Any], *, workers: int = 1, advance: Callable[[], None] | None = None,
            ) -> dict[str, list[list[str]]]:
    """Index the calls with literal arguments in ``documents`` (``SourceDocument``s).

    Args:
        documents: the corpus's code files, in corpus order.
        workers: processes that parse and scan files at the same time (their results are merged
            in corpus order, so the index is the same for any number).
        advance: called once per document read.

    Returns:
        ``{called name: [[file stem, argument-list source], ...]}``: for ``a.b.f(1, x='y')`` the
        name is ``f``; at most ``MAX_PER_NAME`` distinct sources per name, in corpus order.
    """
    index: dict[str, list[list[str]]] = {}
    seen: set[tuple[str, str]] = set()
    for calls in _each_document(documents, workers):
        for name, stem, source in calls:
            if len(index.get(name, ())) < MAX_PER_NAME and (name, source) not in seen:
                seen.add((name, source))
                index.setdefault(name, []).append([stem, source])
        if advance is not None:
            advance()
    return index


def _each_document(documents: Iterable[Any], workers: int) -> Iterator[list[tuple[str, str, str]]]:
    if workers <= 1 or sys.platform != "linux":  # fork is what makes a pool cheap; elsewhere one process
        yield from map(_document_calls, documents)
        return
    # Forked before any progress bar's thread starts; the workers only parse and scan.
    with multiprocessing.get_context("fork").Pool(workers, initializer=_quiet) as pool:
        yield from pool.imap(_document_calls, documents, chunksize=4)


def _quiet() -> None:
    # A worker's debug lines (a file skipped) would be the harvest's again; the parent's log is enough.
    logging.disable(logging.CRITICAL)


def _document_calls(document: Any) -> list[tuple[str, str, str]]:
    """``(called name, file stem, argument-list source)`` of each literal call in one file, in source order."""
    from . import _parse

    parsed = _parse(document, Counter())
    if parsed is None:
        return []
    tree, text = parsed
    stem = Path(document.source.path).stem
    data = text.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    scopes = _call_scopes(tree)
    found = []
    for node in sorted(scopes, key=lambda n: (n.lineno, n.col_offset)):  # in source order
        if not (node.args or node.keywords):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name is None:
            continue
        source = _literal_arguments(data, starts, node, scopes[node])
        if source is not None:
            found.append((name, stem, source))
    return found


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
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _call_scopes(tree: ast.Module) -> dict[ast.Call, dict[str, ast.expr]]:
    """Every call in ``tree``, with the names bound once to a literal that its scope sees.

    A function's calls see its own bindings and those of the functions around it; a class body
    and a lambda see none (a class body's names are not its methods'; lambdas are rare). The
    nodes of a def (its decorators and defaults too) belong to the def's scope.
    """
    calls: dict[ast.Call, dict[str, ast.expr]] = {}
    _scan(tree, {}, calls)
    return calls


def _children(node: ast.AST, fields: dict = {}) -> list[ast.AST]:  # noqa: B006 (a cache of _fields per type)
    # ``ast.iter_child_nodes`` without its two generators: the index walks millions of nodes.
    kind = type(node)
    names = fields.get(kind)
    if names is None:
        names = fields[kind] = kind._fields
    out = []
    for name in names:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out += [item for item in value if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def _scan(scope: ast.AST, outer: dict[str, ast.expr], calls: dict[ast.Call, dict[str, ast.expr]]) -> None:
    """Walk ``scope``'s own nodes once: their bindings give the bound names, their calls get them;
    nested scopes are scanned after, with this scope's names (a def) or none (a class, a lambda)."""
    stores: Counter = Counter()
    literal: dict[str, ast.expr] = {}
    own_calls: list[ast.Call] = []
    nested: list[ast.AST] = []
    todo = _children(scope)
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:
                stores[node.id] += 1
            continue  # a name has no nodes of interest below it (its ctx)
        if kind is ast.Call:
            own_calls.append(node)
        elif isinstance(node, _SCOPES):
            nested.append(node)
            if kind is not ast.Lambda:
                stores[node.name] += 1
                todo += node.decorator_list
            continue
        elif kind is ast.arg:
            stores[node.arg] += 2  # a parameter: its value is the caller's
        elif kind is ast.alias:
            stores[(node.asname or node.name).partition(".")[0]] += 2
        elif kind is ast.Global or kind is ast.Nonlocal:
            stores.update({name: 2 for name in node.names})
        elif kind is ast.ExceptHandler and node.name:
            stores[node.name] += 2
        elif (kind is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name
                and _looks_literal(node.value)):
            literal[node.targets[0].id] = node.value
        todo += _children(node)
    if isinstance(scope, (ast.Module, *_FUNCTIONS)):
        bound = {name: value for name, value in outer.items() if not stores[name]}
        bound.update({name: value for name, value in literal.items() if stores[name] == 1})
    else:
        bound = {}
    for call in own_calls:
        calls[call] = bound
    for node in nested:
        _scan(node, bound if isinstance(node, _FUNCTIONS) else {}, calls)


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


def write_index(corpus: str | os.PathLike, path: Path, *, workers: int | None = None, cache: bool = True) -> int:
    """Index ``corpus``'s call sites into ``path`` (JSON, written atomically); returns the names indexed.

    The index depends only on the corpus's files, the interpreter (its ``ast``) and this package,
    so it is kept in the user's cache (``utils.cache``) under a digest of all three and copied
    from there when a later run asks for the same: the standard library is indexed once per
    interpreter. ``workers``: processes that build it (default: one per core).
    """
    from .sources import iter_documents

    def unreadable(error: Exception) -> None:
        # Best effort: the index only seeds the search. A file that cannot be read is left out,
        # and the rank that reads it reports it as usual.
        logger.warning("call sites: %s; indexing without it", error)

    documents = list(iter_documents(corpus, stats=Counter(), on_unreadable=unreadable))
    cached = _cache_file(documents) if cache else None
    if cached is not None and cached.is_file():
        try:
            shutil.copyfile(cached, path)
            names = len(json.loads(Path(path).read_text(encoding="utf-8"))["calls"])
            logger.info("call sites: %d names, read from the cache (%s)", names, cached)
            return names
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("call sites: cached index %s is unreadable (%s); indexing again", cached, exc)
    began = time.monotonic()
    workers = workers or _cores()
    with progress() as bar:
        task = bar.add_task("indexing call sites", total=len(documents))
        index = collect(documents, workers=workers, advance=lambda: bar.advance(task))
    text = json.dumps({"format": FORMAT, "calls": index}, sort_keys=True)
    with atomic_open(path) as handle:
        handle.write(text)
    logger.info("call sites: %d names, %d argument lists (%d files indexed in %.1f s)", len(index),
                sum(map(len, index.values())), len(documents), time.monotonic() - began)
    if cached is not None:
        try:
            with atomic_open(cached) as handle:
                handle.write(text)
        except OSError as exc:
            logger.warning("call sites: cannot keep the index in the cache %s (%s)", cached.parent, exc)
    return len(index)


def _cache_file(documents: list[Any]) -> Path | None:
    """Where the cache keeps the index of exactly these files, read by this interpreter and package."""
    from ..utils.cache import cache_dir

    root = cache_dir()
    if root is None:
        return None
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}\0{MAX_PER_NAME}\0{MAX_SOURCE_CHARS}".encode())
    for document in documents:
        content = document.raw if document.raw is not None else (document.text or "").encode("utf-8", "surrogatepass")
        digest.update(f"\0{document.source.path}\0{len(content)}\0".encode("utf-8", "surrogatepass"))
        digest.update(hashlib.sha256(content).digest())
    return root / "callsites" / f"{digest.hexdigest()[:32]}.json"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
