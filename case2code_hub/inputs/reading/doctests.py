"""Doctest extraction: argument values of ``>>> entry_point(...)`` calls in a function's docstring."""

from __future__ import annotations

import ast
from typing import Any

from ... import literals
from ...errors import LiteralSyntaxError
from ...utils.syntax import parse_ast
from .annotations import _dotted_tail

MAX_DOCTESTS = 8


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
            tree = parse_ast(source)
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
