"""What the function's comparisons compared: the scalar operands, logged inside the sandbox's child.

``if xid in xids`` where ``xid`` comes out of ``struct.unpack``, ``elif module in IMPORT_MAPPING``
where the table is imported: no constant in the code says which value makes the test true, but
the running call knows both sides. The search asks for them (``ExecutionTask.operands``); the
child then compiles the code with both operands of each one-line, one-operator equality or
membership test (``==``, ``!=``, ``in``, ``not in``) passed through :data:`HOOK`, which returns
its argument unchanged and notes it if it is a plain scalar (``int``, ``float``, ``str``,
``bytes``, short), or, on the right of ``in``, a few scalar members of a builtin container (or of
the plain dict behind a ``mappingproxy``: ``name in cls.__dict__``). The
comparison itself stays the code's own (same operands, order, result or exception), and so do the
lines and arcs coverage reports: the compiler emits the same compare and jump, and every added
instruction sits on the comparison's own line (a comparison over several lines is left alone).
Fuzzers call this input-to-state correspondence (Redqueen); the search splices the values back in
where a test has gone one way only.

Only the child imports this module. Operand records are text (``repr`` of exact builtin scalar
types, which our own literal parser reads back); no user object's methods are called to make them.
"""

from __future__ import annotations

import ast
import builtins
import gc
import math
import types

from ..utils.syntax import parse_ast

HOOK = "__case2code_compare__"
# Per call: distinct (line, operand) records kept; longest str / bytes operand, and longest record
# text (its ``repr``: a character such as ``'\ue000'`` is written in six); members of one
# container looked at (a bigger set is skipped: which members come first would depend on hashing).
MAX_RECORDS = 48
MAX_TEXT = 40
MAX_SOURCE = 200
MAX_MEMBERS = 256
MEMBERS_KEPT = 6
# Records one case may report (``MAX_RECORDS`` is checked before a container adds its members);
# the zygote refuses a case that reports more, or longer ones.
MAX_REPORTED = 64
# Equality and membership: the tests that want one exact value (a bound, ``i < len(s)``, is an
# index a mutation finds; a key of a computed table is not).
_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
_IN = 2  # ``in`` and ``not in``: the right side is a container

# Saved before user code runs: it may rebind builtins.
_type = builtins.type
_repr = builtins.repr
_len = builtins.len
_abs = builtins.abs
_sorted = builtins.sorted
_isfinite = math.isfinite
_CONTAINERS = (dict, set, frozenset, list, tuple)
_PROXY = types.MappingProxyType
_referents = gc.get_referents


class _Rewrite(ast.NodeTransformer):
    """Wraps both operands of a one-line, one-operator comparison in a call of :data:`HOOK` that
    returns its argument: the ``Compare`` node stays, so the compiler emits the same compare and
    jump (at the same lines) as for the plain code, and every added instruction sits on the
    comparison's own line (no extra line event)."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if _len(node.ops) != 1 or _type(node.ops[0]) not in _OPS or node.lineno != node.end_lineno:
            return node
        op = _OPS.index(_type(node.ops[0]))
        node.left = self._noted(node.left, node.lineno, op, 0)
        node.comparators = [self._noted(node.comparators[0], node.lineno, op, 1)]
        return node

    @staticmethod
    def _noted(operand: ast.expr, line: int, op: int, side: int) -> ast.expr:
        call = ast.Call(func=ast.Name(id=HOOK, ctx=ast.Load()),
                        args=[operand, ast.Constant(line), ast.Constant(op), ast.Constant(side)], keywords=[])
        return ast.copy_location(call, operand)


def instrumented(code: str, filename: str):
    """``code`` compiled with its comparisons' operands going through :data:`HOOK` (positions kept)."""
    tree = _Rewrite().visit(parse_ast(code, filename))
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


class OperandLog:
    """The hook for one child: ``records`` holds one call's ``(line, source)`` pairs."""

    def __init__(self) -> None:
        self.records: set = set()

    def hook(self):
        records = self.records

        def note(line: int, value) -> None:
            kind = _type(value)
            if kind is int:
                if _abs(value) <= 10**12:
                    records.add((line, _repr(value)))
            elif kind is str or kind is bytes:
                if _len(value) <= MAX_TEXT:
                    text = _repr(value)
                    if _len(text) <= MAX_SOURCE:
                        records.add((line, text))
            elif kind is float and _isfinite(value):
                records.add((line, _repr(value)))

        def operand(value, line, op, side):
            if _len(records) < MAX_RECORDS:
                if side and op >= _IN:
                    container = value
                    if _type(value) is _PROXY:  # ``name in cls.__dict__``: the dict behind, if a plain one
                        behind = _referents(value)  # read without calling the proxy's mapping
                        container = behind[0] if _len(behind) == 1 and _type(behind[0]) is dict else None
                    if _type(container) in _CONTAINERS and _len(container) <= MAX_MEMBERS:
                        members = [m for m in container if _type(m) in (int, str, bytes)]
                        for member in _sorted(members, key=_repr)[:MEMBERS_KEPT]:
                            note(line, member)
                else:
                    note(line, value)
            return value

        return operand

    def take(self) -> list:
        """This call's records, sorted, and a fresh start for the next call."""
        out = [[line, source] for line, source in _sorted(self.records)]
        self.records.clear()
        return out
