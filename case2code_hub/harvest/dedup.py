"""Exact and near-duplicate removal.

Exact: the same ``function_id`` (normalised self-contained source). Near: the same ``fingerprint``,
a hash of the entry function's AST with its docstrings, comments, formatting and annotations gone
and its own name, parameters and locals renamed canonically (``v0, v1, ...`` by first occurrence).
Names it reads from outside (helpers, modules, builtins), attribute names and constant values are
kept: two functions that differ in those can behave differently, and keeping both is the cheaper
mistake. Helpers are not part of the fingerprint.
"""

from __future__ import annotations

import ast
import copy
import hashlib

from ..schema import Function
from .scopes import function_locals, statement_names


def fingerprint(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Near-duplicate key of a module-level function: 16 hex digits, stable across runs and machines."""
    _, free = statement_names(node)
    renamable = function_locals(node) - free
    tree = copy.deepcopy(node)
    mapping: dict[str, str] = {node.name: "_f"}

    def canonical(name: str) -> str:
        if name not in renamable and name != node.name:
            return name
        if name not in mapping:
            mapping[name] = f"v{len(mapping) - 1}"
        return mapping[name]

    tree.decorator_list = []
    for sub in ast.walk(tree):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _drop_docstring(sub)
            sub.name = canonical(sub.name)
            if not isinstance(sub, ast.ClassDef):
                sub.returns = None
        elif isinstance(sub, ast.arg):
            sub.arg = canonical(sub.arg)
            sub.annotation = None
        elif isinstance(sub, ast.Name):
            sub.id = canonical(sub.id)
        elif isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name:
            sub.name = canonical(sub.name)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            sub.names = [canonical(n) for n in sub.names]
    dump = ast.dump(tree, annotate_fields=False, include_attributes=False)
    return hashlib.sha256(dump.encode("utf-8")).hexdigest()[:16]


def _drop_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        node.body = body[1:] or [ast.Pass()]


class Deduplicator:
    """Remembers the functions it has let through (8-byte hashes only) and names repeats."""

    def __init__(self) -> None:
        self._ids: set[bytes] = set()
        self._fingerprints: set[bytes] = set()

    def check(self, function: Function) -> str | None:
        """Return ``"duplicate_exact"`` / ``"duplicate_near"`` for a repeat, else remember it and return ``None``."""
        key = _short(function.id)
        if key in self._ids:
            return "duplicate_exact"
        near = _short(function.fingerprint) if function.fingerprint else None
        if near is not None and near in self._fingerprints:
            return "duplicate_near"
        self._ids.add(key)
        if near is not None:
            self._fingerprints.add(near)
        return None

    def __len__(self) -> int:
        return len(self._ids)


def _short(key: str) -> bytes:
    try:
        return bytes.fromhex(key)[:8]
    except ValueError:
        return hashlib.sha256(key.encode("utf-8")).digest()[:8]
