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
        calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        for node in calls:  # in source order
            if not (node.args or node.keywords):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name is None or len(index.get(name, ())) >= MAX_PER_NAME:
                continue
            source = _literal_arguments(data, starts, node)
            if source is not None and (name, source) not in seen:
                seen.add((name, source))
                index.setdefault(name, []).append([stem, source])
    return index


def _literal_arguments(data: bytes, starts: list[int], call: ast.Call) -> str | None:
    """The call's argument-list source when every argument is a literal of the data contract."""
    values = [*call.args, *(k.value for k in call.keywords)]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    if not all(_looks_literal(value) for value in values):  # most calls pass names: skip them cheaply
        return None
    parts = [_segment(data, starts, arg) for arg in call.args]
    parts += [f"{k.arg}={_segment(data, starts, k.value)}" for k in call.keywords]
    source = ", ".join(parts)
    if len(source) > MAX_SOURCE_CHARS or "\n" in source:
        return None
    try:
        literals.parse_arguments(source)
    except (LiteralSyntaxError, RecursionError, ValueError, TypeError, MemoryError, OverflowError, SyntaxError):
        return None
    return source


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
