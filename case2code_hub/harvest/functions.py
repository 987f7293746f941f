"""Self-contained functions from a module's ``ast``: a module-level ``def`` plus the imports, helpers
and constants it reads (transitively), in source order, so that its ``code`` runs on its own.

Choices:

- Candidates are module-level ``def``s (``async def`` too, so the filters can count them).
- Every module-level statement that binds a needed name is carried (all of them, in source order,
  so the last binding wins as it would after import; ``x = x.union(y)`` thus brings the earlier
  ``x = ...`` along). Compound statements (``if``/``try``/``for``/
  ``with``) are carried whole, which keeps ``try: import x / except ImportError: ...`` fallbacks.
- Imports are carried per name: ``import a, b`` becomes ``import a`` when only ``a`` is read;
  ``import a.b`` binds ``a``. A needed name bound by a relative import is ``relative_import``,
  unless the module's package is known to be importable where the code runs (the standard
  library), in which case the import is made absolute.
- Builtins are resolved (a fixed set, independent of ``site``). Module dunders (``__name__``,
  ``__file__``, ``__doc__``...) are not: the sandbox runs the code outside its module. Any other
  name that nothing binds is ``unresolved_name`` (a star import does not help: its names are unknown).
- ``from __future__`` imports are kept at the top (annotations then need no imports).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Iterator

from .scopes import statement_names

# Builtins a function may read. ``site`` adds exit/quit/help/...; they are listed explicitly so the
# set does not depend on how the interpreter was started (the filters then deny them by name).
BUILTIN_NAMES = frozenset(
    {n for n in dir(builtins) if not n.startswith("_")}
    | {"__import__", "__debug__", "__build_class__"}
    | {"exit", "quit", "help", "copyright", "credits", "license"}
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class SelfContained:
    """A function and everything it reads, or why that could not be made (``reason``)."""

    entry_point: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    code: str = ""
    reason: str | None = None
    # Free names of the carried code that resolve to builtins (for the side-effect filters).
    builtins_used: frozenset[str] = field(default_factory=frozenset)


class ModuleIndex:
    """Which module-level statement binds which name, and what each statement reads."""

    def __init__(self, tree: ast.Module, text: str, *, package: str | None = None):
        self.tree = tree
        self.package = package
        self._lines = [line.encode("utf-8") for line in _split_lines(text)]
        self.units: list[ast.stmt] = list(tree.body)
        self._position = {id(unit): index for index, unit in enumerate(self.units)}
        self.futures = [u for u in self.units if isinstance(u, ast.ImportFrom) and u.module == "__future__"]
        lazy = any(a.name == "annotations" for u in self.futures for a in u.names)
        # name -> [(unit index, alias index or None for the whole statement)]
        self._binders: dict[str, list[tuple[int, int | None]]] = {}
        self._free: list[set[str]] = []
        for index, unit in enumerate(self.units):
            bound, free = statement_names(unit, lazy_annotations=lazy)
            self._free.append(free)
            if any(unit is f for f in self.futures):
                continue
            if isinstance(unit, (ast.Import, ast.ImportFrom)):
                for alias_index, alias in enumerate(unit.names):
                    if alias.name != "*":
                        name = alias.asname or alias.name.partition(".")[0]
                        self._binders.setdefault(name, []).append((index, alias_index))
            else:
                for name in bound:
                    self._binders.setdefault(name, []).append((index, None))

    def functions(self) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        """Module-level ``def`` and ``async def`` statements, in source order."""
        for unit in self.units:
            if isinstance(unit, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield unit

    def self_contained(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> SelfContained:
        """Carry what ``node`` reads, transitively; ``reason`` is set when that is impossible."""
        entry = self._position[id(node)]
        carried: dict[int, set[int] | None] = {entry: None}
        used_builtins: set[str] = set()
        queue = deque(sorted(self._free[entry]))
        seen: set[str] = set()
        while queue:
            name = queue.popleft()
            if name in seen:
                continue
            seen.add(name)
            binders = self._binders.get(name)
            if not binders:
                if name in BUILTIN_NAMES:
                    used_builtins.add(name)
                    continue
                return SelfContained(node.name, node, reason="unresolved_name")
            for unit_index, alias_index in binders:
                unit = self.units[unit_index]
                if alias_index is not None:
                    if isinstance(unit, ast.ImportFrom) and unit.level and self._absolute(unit) is None:
                        return SelfContained(node.name, node, reason="relative_import")
                    aliases = carried.setdefault(unit_index, set())
                    if aliases is not None:
                        aliases.add(alias_index)
                elif unit_index not in carried:
                    carried[unit_index] = None
                    queue.extend(sorted(self._free[unit_index]))
        # A later carried statement that rebinds the entry name would hide the function.
        if any(i > entry and i in carried for i, _ in self._binders.get(node.name, [])):
            return SelfContained(node.name, node, reason="rebound_entry_point")
        code = self._render([self._position[id(f)] for f in self.futures], carried)
        return SelfContained(node.name, node, code=code, builtins_used=frozenset(used_builtins))

    def _render(self, futures: list[int], carried: dict[int, set[int] | None]) -> str:
        pieces: list[tuple[bool, str]] = [(False, self.segment(self.units[i])) for i in futures]
        for index in sorted(carried):
            unit, aliases = self.units[index], carried[index]
            if aliases is not None:
                names = [unit.names[i] for i in sorted(aliases)]
                if isinstance(unit, ast.Import):
                    text = ast.unparse(ast.Import(names=names))
                else:
                    text = ast.unparse(ast.ImportFrom(module=self._absolute(unit), names=names, level=0))
            else:
                text = self.segment(unit)
            pieces.append((_layout_kind(unit, text), text))
        out = []
        for position, (kind, text) in enumerate(pieces):
            if position:
                # PEP 8 look: two blank lines around blocks, one between imports and the rest.
                previous = pieces[position - 1][0]
                out.append("\n\n\n" if "block" in (kind, previous) else "\n" if kind == previous else "\n\n")
            out.append(text)
        return "".join(out) + "\n"

    def _absolute(self, node: ast.ImportFrom) -> str | None:
        """The absolute module of a ``from`` import, or ``None`` for a relative one without a package."""
        if not node.level:
            return node.module
        if self.package is None:
            return None
        parts = self.package.split(".")
        if node.level - 1 >= len(parts):
            return None
        base = parts[: len(parts) - (node.level - 1)]
        return ".".join([*base, node.module] if node.module else base)

    def segment(self, node: ast.stmt) -> str:
        """The exact source text of a statement, decorators included, with ``\\n`` line ends."""
        prefix = "".join(f"@{self._span(d)}\n" for d in getattr(node, "decorator_list", []))
        return prefix + self._span(node)

    def _span(self, node: ast.AST) -> str:
        # Offsets are UTF-8 byte columns (as ast.get_source_segment does it, without re-splitting
        # the whole file on every call).
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self._lines[first][node.col_offset : node.end_col_offset].decode("utf-8")
        parts = [self._lines[first][node.col_offset :]]
        parts.extend(self._lines[first + 1 : last])
        parts.append(self._lines[last][: node.end_col_offset])
        return "\n".join(p.decode("utf-8") for p in parts)


def _layout_kind(unit: ast.stmt, text: str) -> str:
    if isinstance(unit, _DEFS) or "\n" in text:
        return "block"
    return "import" if isinstance(unit, (ast.Import, ast.ImportFrom)) else "line"


def _split_lines(text: str) -> list[str]:
    # ast counts lines on \r\n, \r and \n only (str.splitlines would also split on \f, \x1c...).
    return _LINE_BREAK.split(text)


def parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Named parameters in signature order (positional-only, positional-or-keyword, keyword-only);
    ``*args`` / ``**kwargs`` are left out."""
    args = node.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
