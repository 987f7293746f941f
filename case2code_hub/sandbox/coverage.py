"""What can be covered in a function, read statically, and how much of it a set of cases covered.

The sandbox's child reports the lines and arcs each call executed (``CaseCoverage``); this module,
in our own process, reads the code with ``ast`` and ``compile`` (never runs it) to say which lines
and branches there are to cover: the statements of the entry point and of the module-level helpers
it reaches by name (functions, and the methods of classes it names that it calls or initialises).

A branch is a two-way statement (``if``/``elif``, ``while``, ``for``) whose test is not a constant
and whose body starts on a line of its own; its *true* side is taken when an arc leaves the
statement's header lines for the body's first line, its *false* side when one leaves them for
anywhere else (the ``else``, the next statement, the loop head, or the function's exit).
"""

from __future__ import annotations

import ast
import types
import warnings
from dataclasses import dataclass
from typing import Iterable

from ..schema import CaseCoverage
from ..utils.syntax import parse_ast

CODE_FILENAME = "<function>"
_INIT_METHODS = ("__init__", "__new__", "__post_init__", "__call__", "__iter__", "__next__", "__enter__", "__exit__")


@dataclass(frozen=True)
class BranchPoint:
    """A two-way statement: header lines ``first..last`` and the first line of its body."""

    first: int
    last: int
    body: int


@dataclass(frozen=True)
class CoverageMap:
    """The coverable lines and branch points of a function (and the helpers it reaches)."""

    lines: tuple[int, ...]
    branches: tuple[BranchPoint, ...]

    @property
    def n_branches(self) -> int:
        """Branch outcomes to cover: two per branch point."""
        return 2 * len(self.branches)

    def covered_lines(self, coverages: Iterable[CaseCoverage | None]) -> set[int]:
        """Coverable lines executed by any of ``coverages``."""
        executed: set[int] = set()
        for coverage in coverages:
            if coverage is not None:
                executed.update(coverage.lines)
        return executed.intersection(self.lines)

    def covered_branches(self, coverages: Iterable[CaseCoverage | None]) -> set[tuple[int, bool]]:
        """Branch outcomes ``(header line, taken?)`` reached by any of ``coverages``."""
        arcs: set[tuple[int, int]] = set()
        for coverage in coverages:
            if coverage is not None:
                arcs.update(tuple(arc) for arc in coverage.arcs)
        return self.branch_outcomes(arcs)

    def branch_outcomes(self, arcs: Iterable[tuple[int, int]]) -> set[tuple[int, bool]]:
        """Branch outcomes ``(header line, taken?)`` that ``arcs`` show."""
        by_source: dict[int, set[int]] = {}
        for source, target in arcs:
            by_source.setdefault(source, set()).add(target)
        outcomes: set[tuple[int, bool]] = set()
        for point in self.branches:
            for source in range(point.first, point.last + 1):
                for target in by_source.get(source, ()):
                    if target == point.body:
                        outcomes.add((point.first, True))
                    elif not point.first <= target <= point.last:
                        outcomes.add((point.first, False))
        return outcomes

    def one_way(self, covered: set) -> list[BranchPoint]:
        """The branch points whose header ``covered`` (a set of :meth:`units`) reached while it holds
        one outcome or none: the tests a search should try to turn the other way."""
        return [
            point for point in self.branches
            if ("l", point.first) in covered and not {("b", point.first, True), ("b", point.first, False)} <= covered
        ]  # fmt: skip

    def units(self, coverage: CaseCoverage | None) -> frozenset:
        """Everything one case covers, lines and branch outcomes, as hashable units."""
        if coverage is None:
            return frozenset()
        lines = self.covered_lines([coverage])
        return frozenset([("l", line) for line in lines] + [("b", *o) for o in self.covered_branches([coverage])])

    @property
    def n_units(self) -> int:
        """Lines plus branch outcomes to cover."""
        return len(self.lines) + self.n_branches

    def line_coverage(self, coverages: Iterable[CaseCoverage | None]) -> float:
        """Share of coverable lines executed by ``coverages`` (1.0 when there is none to cover)."""
        if not self.lines:
            return 1.0
        return len(self.covered_lines(coverages)) / len(self.lines)

    def branch_coverage(self, coverages: Iterable[CaseCoverage | None]) -> float:
        """Share of branch outcomes reached by ``coverages`` (1.0 when there is none to reach)."""
        if not self.branches:
            return 1.0
        return len(self.covered_branches(coverages)) / self.n_branches


EMPTY = CoverageMap(lines=(), branches=())


def coverage_map(code: str, entry_point: str) -> CoverageMap:
    """The coverable lines and branch points of ``entry_point`` in ``code``, statically.

    Args:
        code: the self-contained function source (parsed and compiled, never run).
        entry_point: the function's name (``Class.method`` names a method).

    Returns:
        The map; ``EMPTY`` when the code does not parse or does not define the entry point.
    """
    try:
        with warnings.catch_warnings():  # the corpus' own SyntaxWarnings ('is not' with a literal) are not ours to print
            warnings.simplefilter("ignore")
            tree = parse_ast(code)
            compiled = compile(tree, CODE_FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return EMPTY
    functions = _reached_functions(tree, entry_point)
    if not functions:
        return EMPTY
    with_bytecode = _bytecode_lines(compiled)
    lines: set[int] = set()
    branches: list[BranchPoint] = []
    for func in functions:
        for node in _statements(func):
            if isinstance(node, (ast.Global, ast.Nonlocal, ast.Try, ast.TryStar)):
                continue  # no instruction of their own, so never a line event
            if node.lineno in with_bytecode:
                lines.add(node.lineno)
            point = _branch_point(node)
            if point is not None and point.body in with_bytecode:
                branches.append(point)
    unique = {point.first: point for point in branches}
    return CoverageMap(lines=tuple(sorted(lines)), branches=tuple(unique[key] for key in sorted(unique)))


def _bytecode_lines(code: types.CodeType) -> set[int]:
    lines: set[int] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        lines.update(line for _, _, line in current.co_lines() if line is not None)
        stack.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    return lines


def _statements(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterable[ast.stmt]:
    """Every statement inside ``func``'s body (nested functions and classes too), docstrings left out."""
    docstrings: set[int] = set()
    for node in ast.walk(func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if len(_body_without_docstring(body)) < len(body):
                docstrings.add(id(body[0]))
    for top in func.body:
        for node in ast.walk(top):
            if isinstance(node, ast.stmt) and id(node) not in docstrings:
                yield node


def _body_without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[1:]
    return list(body)


def _branch_point(node: ast.stmt) -> BranchPoint | None:
    if isinstance(node, (ast.If, ast.While)):
        if isinstance(node.test, ast.Constant):
            return None  # `while True:` / `if 0:` have one side only
        last = node.test.end_lineno or node.lineno
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        last = max(node.iter.end_lineno or node.lineno, node.target.end_lineno or node.lineno)
    else:
        return None
    body = _first_line(node.body[0])
    if body <= last:
        return None  # `if x: return 1` on one line: the line event cannot tell the sides apart
    return BranchPoint(first=node.lineno, last=last, body=body)


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno] + [d.lineno for d in decorators]) if decorators else node.lineno


def _reached_functions(tree: ast.Module, entry_point: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The entry point's definition and the module-level helpers it reaches by name, transitively."""
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    classes: dict[str, ast.ClassDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
    head, _, method = entry_point.partition(".")
    if method:
        cls = classes.get(head)
        start = _methods(cls).get(method) if cls is not None else None
    else:
        start = functions.get(head)
    if start is None:
        return []
    reached: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    seen: set[int] = set()
    names: set[str] = set()
    attributes: set[str] = set()
    todo = [start]
    while todo:
        func = todo.pop()
        if id(func) in seen:
            continue
        seen.add(id(func))
        reached.append(func)
        for node in ast.walk(func):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                attributes.add(node.attr)
        todo += [functions[name] for name in sorted(names) if name in functions]
        for name in sorted(names):
            if name in classes:
                methods = _methods(classes[name])
                todo += [m for key, m in sorted(methods.items()) if key in attributes or key in _INIT_METHODS]
        if method and head in classes:
            methods = _methods(classes[head])
            todo += [m for key, m in sorted(methods.items()) if key in attributes or key in _INIT_METHODS]
    return sorted(reached, key=lambda f: f.lineno)


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {node.name: node for node in cls.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
