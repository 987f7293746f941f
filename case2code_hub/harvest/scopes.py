"""Free names by a scope-aware walk over ``ast``: what a module-level statement reads from the module
or builtins, following Python's scoping rules (the code is never compiled into a symbol table or run).

Handled: parameters, locals bound anywhere in a function (assignment, augmented assignment,
``for``/``with``/``except ... as``, imports, ``del``, walrus, match captures, nested ``def``/``class``
names), ``global``/``nonlocal``, comprehension scopes (their first iterable is read by the enclosing
scope, a walrus inside binds in the enclosing one), class bodies (invisible to their methods), and
decorators / defaults / annotations (read by the enclosing scope; annotations skipped when the
module has ``from __future__ import annotations``, and always for local variable annotations, which
Python never evaluates). Where unsure it over-approximates: a name wrongly called free can only
cost a function (rejected or a needless helper carried), never let a ``NameError`` through.
"""

from __future__ import annotations

import ast
from typing import Literal

ScopeKind = Literal["module", "class", "function", "comprehension"]
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


class _Block:
    def __init__(self, kind: ScopeKind):
        self.kind = kind
        self.bound: set[str] = set()
        self.loads: set[str] = set()
        self.declared_global: set[str] = set()
        self.declared_nonlocal: set[str] = set()
        self.child_free: set[str] = set()
        self.walrus: set[str] = set()  # comprehension only: names bound in the enclosing scope


class _Collector(ast.NodeVisitor):
    """Fills one ``_Block`` with what its scope binds and reads; nested scopes are analysed apart."""

    def __init__(self, block: _Block, lazy_annotations: bool):
        self.block = block
        self.lazy = lazy_annotations

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.block.loads.add(node.id)
        elif isinstance(node.ctx, ast.Store) or self.block.kind == "function":
            # ``del x`` makes x local in a function, but binds nothing in a module or class body.
            self.block.bound.add(node.id)
        else:
            self.block.loads.add(node.id)

    def visit_Global(self, node: ast.Global) -> None:
        self.block.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.block.declared_nonlocal.update(node.names)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.block.bound.add(alias.asname or alias.name.partition(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.block.bound.add(alias.asname or alias.name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.block.bound.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_arguments(node.args)
        if node.returns is not None and not self.lazy:
            self.visit(node.returns)
        self.block.child_free |= _function_free(node, self.lazy)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_arguments(node.args)
        self.block.child_free |= _function_free(node, self.lazy)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.block.bound.add(node.name)
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        block = _Block("class")
        collector = _Collector(block, self.lazy)
        for stmt in node.body:
            collector.visit(stmt)
        local = block.bound - block.declared_global - block.declared_nonlocal
        # Methods do not see the class body's names, so their free names pass through unfiltered.
        self.block.child_free |= {n for n in block.loads if n not in local} | block.child_free

    def _visit_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        self.visit(node.generators[0].iter)
        block = _Block("comprehension")
        collector = _Collector(block, self.lazy)
        for index, generator in enumerate(node.generators):
            collector.visit(generator.target)
            if index:
                collector.visit(generator.iter)
            for condition in generator.ifs:
                collector.visit(condition)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            collector.visit(part)
        self.block.child_free |= {n for n in block.loads | block.child_free if n not in block.bound}
        if self.block.kind == "comprehension":
            self.block.walrus |= block.walrus
        else:
            self.block.bound |= block.walrus

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        if self.block.kind == "comprehension":
            self.block.walrus.add(node.target.id)
            self.block.loads.add(node.target.id)  # resolved by the enclosing scope, which binds it
        else:
            self.block.bound.add(node.target.id)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        evaluated = self.block.kind != "function" and not self.lazy
        if evaluated:
            self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
        # A bare ``x: int`` makes ``x`` local in a function but binds nothing in a module or class.
        if node.value is not None or self.block.kind == "function" or not isinstance(node.target, ast.Name):
            self.visit(node.target)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.block.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.block.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.block.bound.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.block.bound.add(node.rest)
        self.generic_visit(node)

    def _visit_arguments(self, args: ast.arguments) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)
        if not self.lazy:
            for arg in _all_args(args):
                if arg.annotation is not None:
                    self.visit(arg.annotation)


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _function_free(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, lazy: bool) -> set[str]:
    block = _Block("function")
    collector = _Collector(block, lazy)
    for stmt in node.body if isinstance(node.body, list) else [node.body]:
        collector.visit(stmt)
    params = {a.arg for a in _all_args(node.args)}
    local = (block.bound | params) - block.declared_global - block.declared_nonlocal
    return {n for n in block.loads | block.child_free if n not in local}


def statement_names(stmt: ast.stmt, *, lazy_annotations: bool = False) -> tuple[set[str], set[str]]:
    """What a module-level statement binds and what it reads from the module or builtins.

    Args:
        stmt: a statement of a module's body (``def``, ``class``, import, assignment, ``if``, ...).
        lazy_annotations: the module has ``from __future__ import annotations``.

    Returns:
        ``(bound, free)``: names the statement binds at module level, and names it reads from
        module or builtins scope, including names read by any function or class it defines.
        A name can be in both (``x = x + 1``, a recursive ``def``): the reader decides whether
        the statement's own binding is enough.
    """
    block = _Block("module")
    _Collector(block, lazy_annotations).visit(stmt)
    return block.bound, block.loads | block.child_free


def function_locals(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Every identifier bound somewhere inside a function (params, locals, nested scopes' names)."""
    names = {a.arg for sub in ast.walk(node) if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for a in _all_args(sub.args)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
            names.add(sub.name)
        elif isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name:
            names.add(sub.name)
        elif isinstance(sub, ast.NamedExpr):
            names.add(sub.target.id)
    return names
