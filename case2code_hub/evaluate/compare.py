"""Whether a candidate's case matches the expected one.

- ``returned``: the canonical reprs are equal (an *exact* match), or both parse as Python
  expressions (``ast`` only, never evaluated) with the same structure and every float (and
  complex part) within :data:`FLOAT_REL_TOL` relative (or :data:`FLOAT_ABS_TOL` absolute)
  tolerance, so ``0.30000000000000004`` matches ``0.3`` but ``1`` never matches ``1.0``.
  Sets are printed sorted by the sandbox, so their order never differs.
- ``raised``: the exception types are equal; messages are not compared (they vary between
  Python versions and say nothing about the function's behaviour).
- anything else (timeout, crash, memory, unserializable, nondeterministic) never matches.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Mapping

from .. import literals
from ..schema import KEPT_OUTCOMES, exception_type
from ..errors import LiteralSyntaxError
from ..utils.syntax import parse_ast

FLOAT_REL_TOL = 1e-6
FLOAT_ABS_TOL = 1e-9
_NAN_INF = {"nan", "inf"}


def _exception_name(output: str) -> str:
    """The exception's class name, without a module path: ``mod.Error: x`` (an official output)
    grades as ``Error: x`` (ours: the sandbox reports ``type(exc).__name__``)."""
    return exception_type(output).rsplit(".", 1)[-1]


def _floats_close(a: float | complex, b: float | complex) -> bool:
    if isinstance(a, complex) or isinstance(b, complex):
        a, b = complex(a), complex(b)
        return _floats_close(a.real, b.real) and _floats_close(a.imag, b.imag)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)


def _same(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, ast.Constant):
        a, b = left.value, right.value
        if type(a) is not type(b):
            return False
        if isinstance(a, (float, complex)):
            return _floats_close(a, b)
        return a == b
    if isinstance(left, ast.BinOp):
        # A complex repr, ``(1+2j)``: its real part prints like an int when whole.
        pair = _complex(left), _complex(right)
        if pair[0] is not None and pair[1] is not None:
            return _floats_close(*pair)
    if isinstance(left, ast.AST):
        return all(_same(getattr(left, f, None), getattr(right, f, None)) for f in left._fields if f != "ctx")
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    return left == right


def _complex(node: ast.AST) -> complex | None:
    try:
        value = literals.evaluate(node)
    except LiteralSyntaxError:
        return None
    return value if isinstance(value, complex) else None


def _parse(text: str) -> ast.AST | None:
    try:
        return parse_ast(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def values_close(expected: str, got: str) -> bool:
    """Whether two canonical reprs are equal up to float tolerance (see the module docstring)."""
    if expected == got:
        return True
    left, right = _parse(expected), _parse(got)
    if left is None or right is None:
        return False
    try:
        return _same(left, right)
    except RecursionError:
        return False


def case_matches(expected: Mapping[str, str], got: Mapping[str, str], *, tolerant: bool = True) -> bool:
    """Whether ``got`` (a candidate's case) matches ``expected``.

    Args:
        expected: the item's case, ``{"output", "outcome"}``.
        got: the candidate's case on the same input.
        tolerant: compare floats with tolerance and exceptions by type; ``False`` asks for the
            exact text (the official scorer's rule), messages included.

    Returns:
        ``True`` on a match.
    """
    outcome = expected["outcome"]
    if got["outcome"] != outcome:
        return False
    if not tolerant:
        return outcome in KEPT_OUTCOMES and got["output"] == expected["output"]
    if outcome == "returned":
        return values_close(expected["output"], got["output"])
    if outcome == "raised":
        return _exception_name(got["output"]) == _exception_name(expected["output"])
    return False
