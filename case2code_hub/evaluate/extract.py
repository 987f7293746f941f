"""Code from a model's completion, by ``ast`` only (the completion is never run here).

Where the code may be, in the order tried: fenced blocks (```` ```python ```` or bare ```` ``` ````),
the text after the official "The function is:" lead, then the whole completion. Text that does
not parse is cut back line by line from the end (models often add prose after bare code) and,
for the whole completion, started at its first ``def``/``import`` line.

Which function: the module-level ``def`` named like the entry point, else the only module-level
``def``. What comes with it: the imports, helpers and constants it reads, transitively, as the
harvester carries them (:class:`case2code_hub.harvest.functions.ModuleIndex`). When a name it
reads is bound nowhere, the definitions and imports of the block are all kept (no top-level
calls, prints or asserts), and the sandbox decides.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..harvest.functions import ModuleIndex
from ..utils.syntax import parse_ast

_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*)\Z", re.DOTALL | re.MULTILINE)
_LEAD = re.compile(r"the function is\s*:?", re.IGNORECASE)
_CODE_START = re.compile(r"^(?:@|def |async def |import |from \S+ import |class )", re.MULTILINE)
_PYTHON_TAGS = {"", "python", "py", "python3", "py3"}
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
MAX_TRIM_LINES = 40


@dataclass(frozen=True)
class Extracted:
    """Runnable code taken from a completion and the name to call in it."""

    code: str
    entry_point: str
    where: str  # "fenced", "lead", "bare": which part of the completion it came from


def _parse(text: str) -> tuple[ast.Module, str] | None:
    """Parse ``text``, cutting trailing lines until it does (at most :data:`MAX_TRIM_LINES`)."""
    lines = text.strip("\n").split("\n")
    for cut in range(0, min(len(lines), MAX_TRIM_LINES + 1)):
        candidate = "\n".join(lines[: len(lines) - cut]) + "\n"
        if not candidate.strip():
            return None
        try:
            return parse_ast(candidate), candidate
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _candidates(completion: str) -> list[tuple[str, str]]:
    """(where, text) pieces that may hold the code, most specific first."""
    pieces: list[tuple[str, str]] = []
    fenced = [(tag.lower(), body) for tag, body in _FENCE.findall(completion)]
    if not fenced:  # an unclosed fence: the model stopped before the closing backticks
        fenced = [(tag.lower(), body) for tag, body in _OPEN_FENCE.findall(completion)]
    pieces += [("fenced", body) for tag, body in fenced if tag in _PYTHON_TAGS]
    lead = _LEAD.search(completion)
    if lead:
        pieces.append(("lead", completion[lead.end():].lstrip()))
    pieces.append(("bare", completion))
    start = _CODE_START.search(completion)
    if start and start.start() > 0:
        pieces.append(("bare", completion[start.start():]))
    return pieces


def _choose(tree: ast.Module, entry_point: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    named = [node for node in defs if node.name == entry_point]
    if named:
        return named[-1]  # the last binding wins, as it would when the module runs
    return defs[0] if len({node.name for node in defs}) == 1 else None


def _definitions_only(tree: ast.Module) -> str:
    kept = [node for node in tree.body if isinstance(node, _KEPT) or _is_guarded_import(node)]
    return "\n\n".join(ast.unparse(node) for node in kept) + "\n"


def _is_guarded_import(node: ast.stmt) -> bool:
    # ``try: import numpy as np / except ImportError: ...``: a definition, not a test.
    return isinstance(node, ast.Try) and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)


def extract_code(completion: str, entry_point: str) -> Extracted | None:
    """The code to run for ``completion`` and the name to call, or ``None`` when there is none.

    Args:
        completion: the model's text.
        entry_point: the function the item asks for; a differently named function is taken only
            when it is the only one.

    Returns:
        An :class:`Extracted`, or ``None`` when no piece of the completion parses to a module with
        a suitable function.
    """
    if not isinstance(completion, str) or not completion.strip():
        return None
    for where, text in _candidates(completion):
        parsed = _parse(text)
        if parsed is None:
            continue
        tree, source = parsed
        node = _choose(tree, entry_point)
        if node is None:
            continue
        contained = ModuleIndex(tree, source).self_contained(node)
        code = contained.code if contained.reason is None else _definitions_only(tree)
        return Extracted(code=code, entry_point=node.name, where=where)
    return None
